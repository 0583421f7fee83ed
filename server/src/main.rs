//! The `pricewatch` command: a thin shell over the `pricewatch_server` library.

use std::process::ExitCode;

use clap::Parser;

/// See the note on `mimalloc` in Cargo.toml.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    without_transparent_huge_pages();
    let cli = pricewatch_server::cli::Cli::parse();
    pricewatch_server::cli::run(cli)
}

/// mimalloc asks the kernel for transparent huge pages on its memory (`madvise`), and on the
/// benchmark machine (a 2-core VM) the first touch of a fresh huge page now and then took
/// 5–20 ms. Cold history requests allocate a few MB (a 50,000-point history), so about one
/// in thirty took 8–20 ms instead of ~2.5 ms: with huge pages off for the process, the
/// all-time product page's cold p99 fell from 10–15 ms to 4.7–5.9 ms on PostgreSQL
/// (`cargo bench -p pricewatch-server --bench history`), and ingest did not slow down.
/// Turning them off is the usual advice for latency-bound servers (Redis, PostgreSQL,
/// MongoDB). The flag covers the whole process, memory faulted from now on.
#[cfg(target_os = "linux")]
fn without_transparent_huge_pages() {
    if let Err(e) = nix::sys::prctl::set_thp_disable(true) {
        eprintln!("warning: could not turn transparent huge pages off: {e}");
    }
}

#[cfg(not(target_os = "linux"))]
fn without_transparent_huge_pages() {}
