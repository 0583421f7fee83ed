//! The `pricewatch` command line: subcommands and how their outcomes become exit codes.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::commands;

/// PriceWatch: a self-hostable Amazon price tracker.
#[derive(Debug, Parser)]
#[command(name = "pricewatch", version, about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Read a saved Amazon product page and print what PriceWatch sees in it, as JSON.
    ///
    /// Exit status: 0 when the page was read (even with no price, or a robot-check page,
    /// shown as "blocked": true); 1 when the file cannot be read; 3 when the page is not a
    /// readable product page (not a product, unknown marketplace, no ASIN).
    Extract {
        /// The URL the page was fetched from; it names the marketplace and the ASIN when the
        /// page itself does not.
        #[arg(long)]
        url: Option<String>,
        /// The saved HTML file.
        file: PathBuf,
    },
}

/// Run a parsed command line, printing errors to stderr.
pub fn run(cli: Cli) -> ExitCode {
    match cli.command {
        Command::Extract { url, file } => commands::extract::run(url.as_deref(), &file),
    }
}
