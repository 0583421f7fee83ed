//! History queries over HTTP against a release `pricewatch serve`: products with 50,000 price
//! points each in a 10,000,000-point table, on SQLite and on PostgreSQL. Reports p50/p99 of
//! a one-year daily chart, a 365-day raw chart and the product page (all-time stats), cache
//! cold (the first request per product version: the points are read and aggregated; the
//! server's connections are opened first, on products left out of the figures) and warm
//! (the answer cached per ETag), plus how long the table took to build and how many bytes a
//! stored point takes on each engine. The points are written straight into `price_points` and
//! then packed into `price_runs` as migration 0009's data step does (timed too).
//!
//! The points of all products are interleaved in time, as live ingest writes them, so a
//! product's points are spread over the table rather than packed together.
//!
//! Run: `cargo xtask bench-server`, or `cargo bench -p pricewatch-server --bench history`
//! (JSON into `target/server-bench/history.json`). `PW_BENCH_PRODUCTS` (default 200)
//! scales the table; `PW_BENCH_ENGINES` picks `sqlite` or `postgres`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../tests/process/mod.rs"]
mod process;

use std::time::{Duration, Instant};

use process::{now, PgDatabase, ServerProcess};
use serde_json::{json, Value};
use sqlx::AnyPool;

const POINTS_PER_PRODUCT: i64 = 50_000;
/// The points span two years: a one-year chart reads about half of them.
const SPAN_DAYS: i64 = 730;
/// Rows per bulk statement (and transaction) while building the table.
const BUILD_CHUNK: i64 = 1_000_000;
/// Repeats of one chart once cached: the cache key holds the minute, so the first request
/// each minute recomputes, which a few hundred requests in a row keep under 1%.
const WARM_REQUESTS: usize = 300;
/// Products asked for before the timed requests, to open the server's database connections
/// (as many as its PostgreSQL pool holds), and left out of the figures.
const WARM_UP_PRODUCTS: i64 = 16;

fn products() -> i64 {
    std::env::var("PW_BENCH_PRODUCTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200)
        .max(WARM_UP_PRODUCTS + 1)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Engine {
    Sqlite,
    Postgres,
}

fn asin(p: i64) -> String {
    format!("B0{p:08}")
}

async fn scalar(pool: &AnyPool, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(pool).await.unwrap()
}

async fn exec(pool: &AnyPool, sql: &str) {
    sqlx::query(sql)
        .execute(pool)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

/// Build `products × 50,000` points, interleaved in time, with multi-row `INSERT ... SELECT`
/// over a generated series in big transactions; the index is built once at the end.
async fn build(engine: Engine, pool: &AnyPool, n_products: i64, end_ms: i64) -> f64 {
    let started = Instant::now();
    let step_ms = SPAN_DAYS * 86_400_000 / POINTS_PER_PRODUCT;
    let start_ms = end_ms - SPAN_DAYS * 86_400_000;
    let values: Vec<String> = (1..=n_products)
        .map(|p| format!("({p}, 'us', '{}', 'USD', {end_ms}, {end_ms}, 1)", asin(p)))
        .collect();
    exec(
        pool,
        &format!(
            "INSERT INTO products (id, marketplace, asin, currency, created_at, updated_at, version) VALUES {}",
            values.join(", ")
        ),
    )
    .await;
    exec(pool, "DROP INDEX price_points_by_product_time").await;
    let total = n_products * POINTS_PER_PRODUCT;
    // Row i is point i / products of product 1 + i % products: time-major, as ingest writes.
    let select = |series: &str| {
        format!(
            "INSERT INTO price_points (product_id, price, availability, first_seen_at, last_seen_at, status) \
             SELECT 1 + i % {n_products}, \
               CASE WHEN (i / {n_products}) % 97 = 0 THEN NULL ELSE 5000 + ((i / {n_products}) * 7919 + (i % {n_products}) * 104729) % 3000 END, \
               CASE WHEN (i / {n_products}) % 97 = 0 THEN 'out_of_stock' ELSE 'in_stock' END, \
               {start_ms} + (i / {n_products}) * {step_ms}, \
               {start_ms} + (i / {n_products}) * {step_ms} + {step_ms} - 60000, \
               'published' \
             FROM {series}"
        )
    };
    let mut lo = 0;
    while lo < total {
        let hi = (lo + BUILD_CHUNK).min(total) - 1;
        let sql = match engine {
            Engine::Postgres => select(&format!("generate_series({lo}::bigint, {hi}::bigint) AS s(i)")),
            Engine::Sqlite => format!(
                "WITH RECURSIVE s(i) AS (SELECT {lo} UNION ALL SELECT i + 1 FROM s WHERE i < {hi}) {}",
                select("s")
            ),
        };
        exec(pool, &sql).await;
        lo = hi + 1;
        eprint!("\r   {lo} / {total} points");
    }
    eprintln!();
    exec(
        pool,
        "CREATE INDEX price_points_by_product_time ON price_points (product_id, first_seen_at)",
    )
    .await;
    exec(pool, "UPDATE products SET current_point_id = (SELECT MAX(id) FROM price_points WHERE product_id = products.id)").await;
    exec(pool, "UPDATE products SET current_price = (SELECT price FROM price_points WHERE id = products.current_point_id), availability = (SELECT availability FROM price_points WHERE id = products.current_point_id)").await;
    exec(pool, "ANALYZE").await;
    started.elapsed().as_secs_f64()
}

/// Bytes per stored point: (table, its indexes), from the engine's own accounting.
async fn bytes_per_point(engine: Engine, pool: &AnyPool, rows: i64) -> (f64, f64) {
    match engine {
        Engine::Postgres => {
            let heap = scalar(pool, "SELECT pg_table_size('price_points')").await;
            let index = scalar(pool, "SELECT pg_indexes_size('price_points')").await;
            (heap as f64 / rows as f64, index as f64 / rows as f64)
        }
        Engine::Sqlite => {
            // dbstat is compiled into the bundled SQLite; pages per b-tree.
            let heap = sqlx::query_scalar::<_, i64>(
                "SELECT SUM(pgsize) FROM dbstat WHERE name = 'price_points'",
            )
            .fetch_one(pool)
            .await;
            let index = sqlx::query_scalar::<_, i64>(
                "SELECT SUM(pgsize) FROM dbstat WHERE name = 'price_points_by_product_time'",
            )
            .fetch_one(pool)
            .await;
            match (heap, index) {
                (Ok(h), Ok(i)) => (h as f64 / rows as f64, i as f64 / rows as f64),
                _ => {
                    let size = scalar(
                        pool,
                        "SELECT page_count * page_size FROM pragma_page_count, pragma_page_size",
                    )
                    .await;
                    (size as f64 / rows as f64, 0.0)
                }
            }
        }
    }
}

/// Bytes the packed days take, table and indexes.
async fn packed_bytes(engine: Engine, pool: &AnyPool) -> i64 {
    match engine {
        Engine::Postgres => scalar(pool, "SELECT pg_total_relation_size('price_runs')").await,
        Engine::Sqlite => {
            sqlx::query_scalar::<_, i64>("SELECT SUM(pgsize) FROM dbstat WHERE name = 'price_runs'")
                .fetch_one(pool)
                .await
                .unwrap_or(0)
        }
    }
}

fn summary(mut lat: Vec<Duration>) -> Value {
    lat.sort_unstable();
    let pct = |p: f64| {
        let rank = ((p / 100.0) * lat.len() as f64).ceil() as usize;
        lat[rank.clamp(1, lat.len()) - 1].as_secs_f64() * 1e3
    };
    json!({
        "n": lat.len(),
        "p50_ms": pct(50.0),
        "p99_ms": pct(99.0),
        "max_ms": lat.last().map_or(0.0, |d| d.as_secs_f64() * 1e3),
    })
}

async fn timed_get(client: &reqwest::Client, url: &str) -> Duration {
    let t = Instant::now();
    let res = client.get(url).send().await.unwrap();
    let status = res.status();
    let body = res.bytes().await.unwrap();
    let took = t.elapsed();
    assert_eq!(status, 200, "{url}: {}", String::from_utf8_lossy(&body));
    assert!(
        body.len() > 100,
        "{url}: {}",
        String::from_utf8_lossy(&body)
    );
    took
}

async fn run(engine: Engine) -> Value {
    let name = match engine {
        Engine::Sqlite => "SQLite",
        Engine::Postgres => "PostgreSQL",
    };
    eprintln!("== history on {name}");
    let n_products = products();
    let dir = tempfile::tempdir().unwrap();
    let pg = match engine {
        Engine::Postgres => Some(PgDatabase::create("pw_bench_history").await),
        Engine::Sqlite => None,
    };
    let url = match &pg {
        Some(pg) => pg.url.clone(),
        None => format!("sqlite://{}", dir.path().join("history.db").display()),
    };
    let db = pricewatch_server::db::Db::connect(&url).await.unwrap();
    db.migrate(&url).await.unwrap();
    let end = now();
    let build_seconds = build(engine, &db.write, n_products, end.as_millis()).await;
    let rows = scalar(&db.read, "SELECT COUNT(*) FROM price_points").await;
    eprintln!("   built {rows} points in {build_seconds:.1}s");
    let (heap, index) = bytes_per_point(engine, &db.read, rows).await;
    // The points went straight into price_points, as on a database upgraded from before
    // price_runs: pack them as the migration's data step (and the server's packer) does.
    let started = Instant::now();
    let packed = pricewatch_server::store::price_runs::pack_pass(&db.write, db.backend)
        .await
        .unwrap();
    let pack_seconds = started.elapsed().as_secs_f64();
    match engine {
        // What autovacuum does soon after on a live database: visibility bits for the new
        // runs and the products' updated rows, so reads need not check every tuple's
        // transaction, and fresh statistics.
        Engine::Postgres => exec(&db.write, "VACUUM (ANALYZE)").await,
        Engine::Sqlite => exec(&db.write, "ANALYZE").await,
    }
    let packed_bytes = packed_bytes(engine, &db.read).await;
    eprintln!(
        "   packed {packed} points into runs in {pack_seconds:.1}s, {:.1} bytes/point",
        packed_bytes as f64 / packed.max(1) as f64
    );

    // The 1-, 5- and 15-minute load averages as the queries start: other work shares the cores.
    let load = std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default();
    let server = ServerProcess::spawn(&url, &[("RUST_LOG", "warn")]);
    let client = reqwest::Client::new();
    let kinds = [
        ("1y daily chart", "/history?period=1y&granularity=daily"),
        ("365-day raw chart", "/history?period=1y&granularity=raw"),
        ("product page (all-time stats)", ""),
    ];
    // A server that has just started opens its database connections, and prepares its
    // statements on each, as the first requests come: up to 28 ms each on PostgreSQL, the
    // slowest of the cold figures before this warm-up was added. A server in service has done
    // that long ago, so the last few products are asked for first, as many at once as the
    // pool holds, and are not measured; every measured request is still the first for its
    // product.
    let measured = n_products - WARM_UP_PRODUCTS;
    for (_, suffix) in &kinds {
        let mut warm_ups = tokio::task::JoinSet::new();
        for p in measured + 1..=n_products {
            let url = server.url(&format!("/api/products/us/{}{suffix}", asin(p)));
            let client = client.clone();
            warm_ups.spawn(async move { timed_get(&client, &url).await });
        }
        warm_ups.join_all().await;
    }
    let mut cold: Vec<Vec<Duration>> = vec![Vec::new(); kinds.len()];
    let mut warm: Vec<Vec<Duration>> = vec![Vec::new(); kinds.len()];
    // Cold: the first request for every measured product.
    for p in 1..=measured {
        for (k, (_, suffix)) in kinds.iter().enumerate() {
            let url = server.url(&format!("/api/products/us/{}{suffix}", asin(p)));
            cold[k].push(timed_get(&client, &url).await);
        }
    }
    // Warm: one product's chart asked again and again.
    for (k, (_, suffix)) in kinds.iter().enumerate() {
        let url = server.url(&format!("/api/products/us/{}{suffix}", asin(1)));
        for _ in 0..WARM_REQUESTS {
            warm[k].push(timed_get(&client, &url).await);
        }
    }
    drop(server);
    let queries: Vec<Value> = kinds
        .iter()
        .zip(cold.into_iter().zip(warm))
        .map(|((label, _), (c, w))| json!({ "query": label, "cold": summary(c), "warm": summary(w) }))
        .collect();
    for q in &queries {
        eprintln!("   {q}");
    }
    json!({
        "engine": name,
        "products": n_products,
        "warm_up_products": WARM_UP_PRODUCTS,
        "points_per_product": POINTS_PER_PRODUCT,
        "span_days": SPAN_DAYS,
        "rows": rows,
        "build_seconds": build_seconds,
        "bytes_per_point_table": heap,
        "bytes_per_point_index": index,
        "load_average_before": load,
        "packed_points": packed,
        "pack_seconds": pack_seconds,
        "bytes_per_point_packed": packed_bytes as f64 / packed.max(1) as f64,
        "queries": queries,
    })
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let engines = match std::env::var("PW_BENCH_ENGINES").as_deref() {
        Ok("sqlite") => vec![Engine::Sqlite],
        Ok("postgres") => vec![Engine::Postgres],
        _ => vec![Engine::Sqlite, Engine::Postgres],
    };
    let results: Vec<Value> = engines.into_iter().map(|e| rt.block_on(run(e))).collect();
    let out = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/server-bench");
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(
        out.join("history.json"),
        serde_json::to_string_pretty(&results).unwrap(),
    )
    .unwrap();
    println!("{}", serde_json::to_string_pretty(&results).unwrap());
}
