//! The `pricewatch` command: a thin shell over the `pricewatch_server` library.

use std::process::ExitCode;

use clap::Parser;

/// See the note on `mimalloc` in Cargo.toml.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = pricewatch_server::cli::Cli::parse();
    pricewatch_server::cli::run(cli)
}
