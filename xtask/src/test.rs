//! `cargo xtask test`: the one command that runs every check, locally and in CI.

use crate::sh::{self, Result};

pub fn run() -> Result<()> {
    sh::cargo(&["fmt", "--all", "--", "--check"])?;
    sh::cargo(&[
        "clippy",
        "--workspace",
        "--all-targets",
        "--",
        "-D",
        "warnings",
    ])?;
    // core must stay wasm-clean: the extension and the website run the same rules.
    sh::cargo(&[
        "build",
        "-p",
        "pricewatch-core",
        "--target",
        "wasm32-unknown-unknown",
        "--no-default-features",
    ])?;
    // The wasm crate: lints for its target, browser tests in headless Chromium, and the
    // release package built and run there as the extension runs it.
    crate::wasm::test()?;
    // Not PRICEWATCH_*: the server reads every such variable as a setting.
    let seconds = std::env::var("FUZZ_SECONDS").unwrap_or_else(|_| "30".into());
    crate::fuzz::run(Some(&seconds))?;
    // Tests last, so the run closes on the test runner's summary.
    if sh::has("cargo", &["nextest", "--version"]) {
        sh::cargo(&["test", "--workspace", "--doc"])?;
        sh::cargo(&["nextest", "run", "--workspace", "--no-fail-fast"])?;
    } else {
        sh::cargo(&["test", "--workspace", "--no-fail-fast"])?;
    }
    // After the Rust suites: the whole system in headless Chromium (server, shop, SMTP sink,
    // the built extension on https Amazon host names).
    crate::e2e::run()
}
