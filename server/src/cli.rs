//! The `pricewatch` command line: subcommands and how their outcomes become exit codes.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::commands;
use crate::config::Settings;

/// PriceWatch: a self-hostable Amazon price tracker.
#[derive(Debug, Parser)]
#[command(name = "pricewatch", version, about)]
pub struct Cli {
    /// A TOML settings file (see pricewatch.example.toml).
    #[arg(long, global = true, env = "PRICEWATCH_CONFIG")]
    pub config: Option<PathBuf>,
    /// The database: sqlite://FILE (default: pricewatch.db here) or postgres://...
    #[arg(long, global = true, env = "DATABASE_URL")]
    pub database: Option<String>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP server (API and website) until SIGTERM or Ctrl-C.
    Serve {
        /// Address to listen on (default 127.0.0.1:8080).
        #[arg(long, env = "PRICEWATCH_BIND")]
        bind: Option<SocketAddr>,
    },
    /// Create or update the database schema, then exit.
    Migrate,
    /// Fill the database with demo products and a year of price history, so charts show at
    /// once. Does nothing when the database already has products, unless `--force`.
    Demo {
        /// How many products, spread over every marketplace.
        #[arg(long, default_value_t = 300)]
        products: usize,
        /// Days of history before today.
        #[arg(long, default_value_t = 400)]
        days: u32,
        /// The generator's seed: the same seed gives the same catalogue.
        #[arg(long, default_value_t = 42)]
        seed: u64,
        /// Add the demo products even when the database already has products (demo
        /// products already there are left as they are).
        #[arg(long)]
        force: bool,
    },
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
    let settings = || -> Result<Settings, ExitCode> {
        let mut s = Settings::load(cli.config.as_deref()).map_err(|e| {
            eprintln!("error: {e}");
            ExitCode::from(2)
        })?;
        if let Some(db) = &cli.database {
            s.database_url = db.clone();
        }
        Ok(s)
    };
    match &cli.command {
        Command::Extract { url, file } => commands::extract::run(url.as_deref(), file),
        Command::Serve { bind } => match settings() {
            Ok(mut s) => {
                if let Some(b) = bind {
                    s.bind = *b;
                }
                commands::serve::run(s)
            }
            Err(code) => code,
        },
        Command::Migrate => match settings() {
            Ok(s) => commands::serve::migrate(s),
            Err(code) => code,
        },
        Command::Demo {
            products,
            days,
            seed,
            force,
        } => match settings() {
            Ok(s) => commands::demo::run(
                s,
                commands::demo::DemoOptions {
                    products: *products,
                    days: *days,
                    seed: *seed,
                    force: *force,
                },
            ),
            Err(code) => code,
        },
    }
}
