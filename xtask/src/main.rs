//! `cargo xtask <chore>`: the project's chores, so that the README's commands need only cargo.
//!
//! - `run`: build everything and serve it on SQLite with demo data (the README's run command).
//! - `test`: everything CI checks, in the order that fails fastest (format, lints, wasm
//!   build, fuzzing for a bounded time, then every test suite).
//! - `bench`: run the benchmarks and write their figures into `BENCHMARKS.md`.
//! - `fuzz [SECONDS]`: run each fuzz target for a bounded time.
//! - `build-wasm`: the wasm package the extension and the website load, into `dist/pkg/`.
//! - `bench-wasm`: its size and page-reading time in Chromium, into `BENCHMARKS.md`.
//! - `build-extension`: the Chrome extension, unpacked in `dist/extension/` and zipped as
//!   `dist/pricewatch-extension.zip`.
//! - `e2e`: the end-to-end tests in `e2e/` (headless Chromium, server, shop, SMTP sink).
//! - `bench-extension`: the extension's size and speed budgets, into `BENCHMARKS.md`.
//! - `bench-server [render]`: ingest and history load benchmarks of the release server,
//!   into `BENCHMARKS.md`.
//! - `bench-website`: the product page's transfer size and time to chart in Chromium, into
//!   `BENCHMARKS.md`.

mod bench;
mod bench_server;
mod bench_website;
mod e2e;
mod extension;
mod fuzz;
mod run;
mod sh;
mod test;
mod wasm;

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("run") => run::run(),
        Some("test") => test::run(),
        Some("bench") => bench::run(&args[1..]),
        Some("bench-server") => bench_server::run(&args[1..]),
        Some("fuzz") => fuzz::run(args.get(1).map(String::as_str)),
        Some("build-wasm") => wasm::build(),
        Some("bench-wasm") => wasm::bench(),
        Some("build-extension") => extension::build(),
        Some("e2e") => e2e::run(),
        Some("bench-extension") => extension::bench(),
        Some("bench-website") => bench_website::run(),
        _ => {
            eprintln!("usage: cargo xtask <run | test | bench [FILTER] | fuzz [SECONDS] | build-wasm | bench-wasm | build-extension | e2e | bench-extension | bench-website>");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e}");
            ExitCode::FAILURE
        }
    }
}
