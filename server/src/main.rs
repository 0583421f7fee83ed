//! The `pricewatch` command: a thin shell over the `pricewatch_server` library.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = pricewatch_server::cli::Cli::parse();
    pricewatch_server::cli::run(cli)
}
