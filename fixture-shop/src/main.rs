//! `fixture-shop`: run the fixture shop for demos, benchmarks and extension tests.
//!
//! ```text
//! fixture-shop [--port N] [--default us] [--marketplaces us,de,jp] [--products N]
//!              [--auto-catalog] [--script steps.json] [--walk-every SECONDS]
//! ```
//! `--products N` stocks N products per marketplace with ASINs `B0FX000001`...; `--script`
//! takes a JSON array of `{"at_ms", "marketplace", "asin", "price_minor", "in_stock"}`;
//! `--walk-every` moves one product's price by a few percent every so often, so a demo's
//! history has changes to show. The admin API (see the library docs) changes the rest.

use std::process::ExitCode;
use std::time::Duration;

use pricewatch_core::Marketplace;
use pricewatch_fixture_shop::{spawn, ProductSpec, ProductState, ScriptStep, ShopConfig};

struct Args {
    config: ShopConfig,
    walk_every: Option<u64>,
}

fn parse_args(mut args: impl Iterator<Item = String>) -> Result<Args, String> {
    let mut config = ShopConfig::default();
    let mut marketplaces = vec![Marketplace::Us];
    let mut products = 0_u32;
    let mut walk_every = None;
    while let Some(arg) = args.next() {
        let mut value = |name: &str| args.next().ok_or(format!("{name} needs a value"));
        match arg.as_str() {
            "--port" => {
                config.port = value("--port")?
                    .parse()
                    .map_err(|e| format!("--port: {e}"))?;
            }
            "--default" => {
                config.default_marketplace = value("--default")?
                    .parse()
                    .map_err(|e| format!("--default: {e}"))?;
            }
            "--marketplaces" => {
                marketplaces = value("--marketplaces")?
                    .split(',')
                    .map(|m| m.trim().parse::<Marketplace>())
                    .collect::<Result<_, _>>()
                    .map_err(|e| format!("--marketplaces: {e}"))?;
            }
            "--products" => {
                products = value("--products")?
                    .parse()
                    .map_err(|e| format!("--products: {e}"))?;
            }
            "--auto-catalog" => config.auto_catalog = true,
            "--script" => {
                let path = value("--script")?;
                let text = std::fs::read_to_string(&path).map_err(|e| format!("{path}: {e}"))?;
                config.script = serde_json::from_str::<Vec<ScriptStep>>(&text)
                    .map_err(|e| format!("{path}: {e}"))?;
            }
            "--walk-every" => {
                walk_every = Some(
                    value("--walk-every")?
                        .parse()
                        .map_err(|e| format!("--walk-every: {e}"))?,
                );
            }
            "-h" | "--help" => return Err(String::new()),
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    for m in &marketplaces {
        for i in 1..=products {
            let per_major = m.currency().minor_per_major();
            config.products.push(ProductSpec {
                marketplace: *m,
                asin: asin(i),
                state: ProductState {
                    title: format!("Fixture product {i} ({})", m.code()),
                    price_minor: Some(i64::from(10 + i % 490) * per_major),
                    in_stock: true,
                },
            });
        }
    }
    Ok(Args { config, walk_every })
}

fn asin(i: u32) -> String {
    format!("B0FX{i:06}")
}

fn main() -> ExitCode {
    let args = match parse_args(std::env::args().skip(1)) {
        Ok(a) => a,
        Err(e) => {
            if !e.is_empty() {
                eprintln!("error: {e}");
            }
            eprintln!("usage: fixture-shop [--port N] [--default us] [--marketplaces us,de] [--products N] [--auto-catalog] [--script FILE.json] [--walk-every SECONDS]");
            return ExitCode::from(2);
        }
    };
    let rt = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    rt.block_on(async move {
        let stocked: Vec<(Marketplace, String, i64)> = args
            .config
            .products
            .iter()
            .filter_map(|p| Some((p.marketplace, p.asin.clone(), p.state.price_minor?)))
            .collect();
        let shop = match spawn(args.config).await {
            Ok(s) => s,
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::FAILURE;
            }
        };
        println!("fixture shop listening on {}", shop.base_url());
        if let (Some(secs), false) = (args.walk_every, stocked.is_empty()) {
            let mut tick = tokio::time::interval(Duration::from_secs(secs.max(1)));
            let mut n: u64 = 0;
            loop {
                tokio::select! {
                    _ = tick.tick() => {}
                    _ = tokio::signal::ctrl_c() => break,
                }
                n += 1;
                // A fixed walk: the same run gives the same history.
                let idx = usize::try_from(n.wrapping_mul(2_654_435_761) % stocked.len() as u64)
                    .unwrap_or(0);
                let (m, asin, base) = &stocked[idx];
                let pct = 90 + i64::try_from(n % 21).unwrap_or(0);
                shop.set_price(*m, asin, (base * pct / 100).max(1));
            }
        } else {
            let _ = tokio::signal::ctrl_c().await;
        }
        shop.shutdown().await;
        ExitCode::SUCCESS
    })
}
