//! The wasm crate's chores: `cargo xtask build-wasm` (the `dist/pkg/` the extension and the
//! website load), its part of `cargo xtask test`, and `cargo xtask bench-wasm`.
//!
//! - `pkg`: release build, wasm-bindgen (the `wasm-bindgen-cli-support` crate, no CLI),
//!   wasm-opt, sizes.
//! - `node`: the npm tools under `tools/` and a run of the built package in headless Chromium.
//! - `bench`: the 1 MB page, the figures, and their section of `BENCHMARKS.md`.

mod bench;
mod node;
mod pkg;

use std::path::PathBuf;

use pricewatch_core::report::{ReportRules, SignedReport};
use pricewatch_core::Timestamp;
use serde_json::Value;

use crate::sh::{self, Result};

pub use bench::run as bench;

/// The wasm target the crate is built and tested for.
pub(crate) const TARGET: &str = "wasm32-unknown-unknown";

/// `cargo xtask build-wasm`: build `dist/pkg/` and print its sizes.
pub fn build() -> Result<()> {
    let built = pkg::build()?;
    println!("{}", built.sizes.table());
    println!("{}", built.optimizer_note());
    Ok(())
}

/// The wasm part of `cargo xtask test`: lints for the wasm target, the browser tests in
/// headless Chromium, then the release package built and run there as the extension runs it.
pub fn test() -> Result<()> {
    sh::cargo(&[
        "clippy",
        "-p",
        "pricewatch-wasm",
        "--target",
        TARGET,
        "--all-targets",
        "--all-features",
        "--",
        "-D",
        "warnings",
    ])?;
    let chromedriver = chromedriver()?;
    pkg::check_test_runner()?;
    sh::run_in(
        &sh::root(),
        "cargo",
        &["test", "-p", "pricewatch-wasm", "--target", TARGET],
        &[
            ("CHROMEDRIVER", &chromedriver),
            // The corpus tests read every fixture page twice in a debug build.
            ("WASM_BINDGEN_TEST_TIMEOUT", "300"),
        ],
    )?;
    let built = pkg::build()?;
    println!("{}", built.sizes.table());
    if !node::available() {
        eprintln!("note: node is not installed: the built package was not run in Chromium");
        return Ok(());
    }
    smoke(&built)
}

/// Where chromedriver is: `CHROMEDRIVER`, or Debian's package.
fn chromedriver() -> Result<String> {
    let path = std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "/usr/bin/chromedriver".into());
    if PathBuf::from(&path).is_file() {
        Ok(path)
    } else {
        Err(format!(
            "no chromedriver at {path}: `apt-get install -y chromium chromium-driver` \
             (as .ci/run does) or set CHROMEDRIVER"
        ))
    }
}

/// Run the release package on a corpus page at its Amazon URL: it must load (a broken
/// wasm-opt output fails only at load time), read the page as the side file says, and sign a
/// report that core's native verification accepts.
fn smoke(built: &pkg::Package) -> Result<()> {
    const PAGE: &str = "de-core-price-deal";
    let pages = sh::root().join("core/tests/pages");
    let side: Value = node::read_json(&pages.join(format!("{PAGE}.json")))?;
    let url = side["url"].as_str().ok_or("the side file has no url")?;
    let out = node::run_in_chromium(built, &pages.join(format!("{PAGE}.html")), url, 3, true)?;

    let reading = &out["reading"];
    for field in ["marketplace", "asin", "price", "availability"] {
        if reading[field] != side["expect"][field] {
            return Err(format!(
                "dist/pkg read {PAGE} wrongly: {field} is {}, expected {}",
                reading[field], side["expect"][field]
            ));
        }
    }
    let signed: SignedReport = serde_json::from_value(out["signed"].clone())
        .map_err(|e| format!("dist/pkg signed no report: {e}; got {}", out["signed"]))?;
    let now = out["observed_at"]
        .as_i64()
        .map(Timestamp::from_millis)
        .ok_or("the run did not say when it signed")?;
    signed
        .verify(&ReportRules::default(), now)
        .map_err(|e| format!("a report signed by dist/pkg does not verify natively: {e}"))?;
    println!(
        "==> dist/pkg in Chromium {}: read {PAGE} ({}), signed a report that verifies natively",
        out["browser"].as_str().unwrap_or("(version unknown)"),
        reading["price"]
    );
    Ok(())
}
