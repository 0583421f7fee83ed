//! `pricewatch serve` and `pricewatch migrate`.

use std::process::ExitCode;

use tracing_subscriber::EnvFilter;

use crate::app::{shutdown_signal, Application};
use crate::config::Settings;
use crate::db::{redact, Db};

fn init_tracing(settings: &Settings) {
    let filter = EnvFilter::try_from_env("RUST_LOG")
        .unwrap_or_else(|_| EnvFilter::new(&settings.log.filter));
    let _ = tracing_subscriber::fmt().with_env_filter(filter).try_init();
}

fn runtime() -> Result<tokio::runtime::Runtime, ExitCode> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| {
            eprintln!("error: cannot start the async runtime: {e}");
            ExitCode::FAILURE
        })
}

pub fn run(settings: Settings) -> ExitCode {
    init_tracing(&settings);
    let rt = match runtime() {
        Ok(rt) => rt,
        Err(code) => return code,
    };
    rt.block_on(async move {
        let db_shown = redact(&settings.database_url);
        let app = match Application::build(settings).await {
            Ok(app) => app,
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::FAILURE;
            }
        };
        tracing::info!(addr = %app.local_addr(), database = %db_shown, "PriceWatch listening");
        println!("PriceWatch listening on http://{}", app.local_addr());
        match app.run_until(shutdown_signal()).await {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("error: server failed: {e}");
                ExitCode::FAILURE
            }
        }
    })
}

pub fn migrate(settings: Settings) -> ExitCode {
    init_tracing(&settings);
    let rt = match runtime() {
        Ok(rt) => rt,
        Err(code) => return code,
    };
    rt.block_on(async move {
        let url = settings.database_url.clone();
        let result = async {
            let db = Db::connect(&url).await?;
            db.migrate(&url).await?;
            // The data half of migrations 0006 and 0009: pack the history already stored.
            crate::store::price_runs::pack_pass(&db.write, db.backend)
                .await
                .map_err(|e| anyhow::anyhow!("packing price history: {e}"))
        }
        .await;
        match result {
            Ok(packed) => {
                if packed > 0 {
                    println!("packed {packed} price points into runs");
                }
                println!("database {} is up to date", redact(&url));
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::FAILURE
            }
        }
    })
}
