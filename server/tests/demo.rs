//! `pricewatch demo` on a temporary SQLite file: the catalogue, its history, the charts a
//! newcomer sees, and the crawler identity that later reports are judged with.

#![allow(clippy::unwrap_used)]

use std::process::Command;

use pricewatch_core::report::{Nonce, PriceReport};
use pricewatch_core::{Asin, Availability, Marketplace, Money, Timestamp};
use pricewatch_server::app::Application;
use pricewatch_server::commands::demo::crawler_seed;
use pricewatch_server::config::Settings;
use serde_json::{json, Value};
use sqlx::Row;

const PRODUCTS: i64 = 120;

fn demo(url: &str, extra: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_pricewatch"))
        .args([
            "demo",
            "--database",
            url,
            "--products",
            &PRODUCTS.to_string(),
        ])
        .args(extra)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "demo failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

async fn scalar(pool: &sqlx::AnyPool, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(pool).await.unwrap()
}

#[tokio::test]
async fn the_demo_fills_every_marketplace_with_a_year_of_charts_once() {
    // Arrange: an empty SQLite file.
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("demo.db").display());

    // Act: seed it, then ask again, then force.
    let first = demo(&url, &[]);
    let again = demo(&url, &[]);
    let forced = demo(&url, &["--force"]);

    // Assert: the catalogue and its history.
    assert!(
        first.contains(&format!("added {PRODUCTS} demo products")),
        "{first}"
    );
    assert!(again.contains("nothing added"), "{again}");
    assert!(forced.contains("added 0 demo products"), "{forced}");
    let db = pricewatch_server::db::Db::connect(&url).await.unwrap();
    assert_eq!(
        scalar(&db.read, "SELECT COUNT(*) FROM products").await,
        PRODUCTS
    );
    assert_eq!(
        scalar(&db.read, "SELECT COUNT(DISTINCT marketplace) FROM products").await,
        Marketplace::ALL.len() as i64
    );
    let per_product: Vec<i64> = sqlx::query_scalar(
        "SELECT COUNT(*) FROM price_points GROUP BY product_id ORDER BY product_id",
    )
    .fetch_all(&db.read)
    .await
    .unwrap();
    assert_eq!(
        per_product.len() as i64,
        PRODUCTS,
        "every product has history"
    );
    let total: i64 = per_product.iter().sum();
    assert!(per_product.iter().all(|n| *n >= 2), "{per_product:?}");
    assert!(total / PRODUCTS >= 10, "a year of moves: {total} points");
    assert!(
        per_product.iter().any(|n| *n > 200),
        "a few third-party products move daily"
    );
    assert_eq!(
        scalar(
            &db.read,
            "SELECT COUNT(*) FROM products WHERE title IS NULL OR current_point_id IS NULL"
        )
        .await,
        0
    );
    assert_eq!(
        scalar(&db.read, "SELECT COUNT(*) FROM outbox_events").await,
        0,
        "a backfill is not news"
    );

    // Assert: the charts a newcomer sees, over HTTP.
    let settings = Settings {
        bind: "127.0.0.1:0".parse().unwrap(),
        database_url: url.clone(),
        ..Settings::default()
    };
    let app = Application::build(settings).await.unwrap();
    let base = format!("http://{}", app.local_addr());
    tokio::spawn(app.run_until(std::future::pending()));
    let client = reqwest::Client::new();
    let rows = sqlx::query("SELECT id, marketplace, asin FROM products ORDER BY id")
        .fetch_all(&db.read)
        .await
        .unwrap();
    for row in &rows {
        let (m, a): (String, String) = (row.get("marketplace"), row.get("asin"));
        let chart: Value = client
            .get(format!(
                "{base}/api/products/{m}/{a}/history?period=1y&granularity=daily"
            ))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let buckets = chart["buckets"].as_array().unwrap();
        assert!(buckets.len() >= 365, "{m}/{a}: {}", buckets.len());
        assert!(
            buckets.iter().filter(|b| b.get("min").is_some()).count() > 200,
            "{m}/{a} shows prices most days"
        );
    }

    // Assert: a known product's statistics agree with its stored history.
    let first = &rows[0];
    let (id, m, a): (i64, String, String) =
        (first.get("id"), first.get("marketplace"), first.get("asin"));
    let product: Value = client
        .get(format!("{base}/api/products/{m}/{a}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let stats = &product["stats"];
    let (low, high, avg) = (
        stats["lowest"]["price"].as_i64().unwrap(),
        stats["highest"]["price"].as_i64().unwrap(),
        stats["avg"].as_i64().unwrap(),
    );
    let stored_low = scalar(
        &db.read,
        &format!(
            "SELECT MIN(price) FROM price_points WHERE product_id = {id} AND availability <> 'out_of_stock'"
        ),
    )
    .await;
    let stored_high = scalar(
        &db.read,
        &format!(
            "SELECT MAX(price) FROM price_points WHERE product_id = {id} AND availability <> 'out_of_stock'"
        ),
    )
    .await;
    assert_eq!((low, high), (stored_low, stored_high), "{product}");
    assert!(low < avg && avg < high, "{product}");
    assert!(
        (high - low) * 100 / high >= 10,
        "a year has at least one 10% sale: {product}"
    );

    // Assert: the demo crawler's reports are judged against this history.
    let current = product["current_price"]["amount_minor"].as_i64();
    let marketplace: Marketplace = m.parse().unwrap();
    let report = PriceReport {
        marketplace,
        asin: Asin::parse(&a).unwrap(),
        price: current.map(|p| Money::new(p, marketplace.currency())),
        currency: marketplace.currency(),
        availability: if current.is_some() {
            Availability::InStock
        } else {
            Availability::OutOfStock
        },
        observed_at: Timestamp::from_millis(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_millis() as i64,
        ),
        client_version: "demo-test".into(),
        nonce: Nonce::from_bytes([9; 16]),
    };
    let points_before = scalar(
        &db.read,
        &format!("SELECT COUNT(*) FROM price_points WHERE product_id = {id}"),
    )
    .await;
    let res: Value = client
        .post(format!("{base}/api/reports"))
        .json(&json!({ "reports": [report.sign(&crawler_seed(42))] }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(res["results"][0]["status"], "accepted", "{res}");
    assert_eq!(
        res["results"][0]["reasons"][0], "crawler_observation",
        "{res}"
    );
    assert_eq!(
        scalar(
            &db.read,
            &format!("SELECT COUNT(*) FROM price_points WHERE product_id = {id}")
        )
        .await,
        points_before,
        "an unchanged price extends the demo's last point"
    );
}
