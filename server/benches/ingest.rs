//! Ingest over HTTP: batches of 100 pre-signed reports from many connections against a
//! release `pricewatch serve`, on SQLite and on PostgreSQL, beside the raw multi-row insert
//! rate of the very rows that ingest wrote, into a fresh database of the same engine in the
//! same run (the ceiling no ingest path can beat).
//!
//! Run: `cargo xtask bench-server` (writes `BENCHMARKS.md`), or
//! `cargo bench -p pricewatch-server --bench ingest` (JSON into
//! `target/server-bench/ingest.json`). `PW_BENCH_REPORTS` sets the timed reports
//! (default 100,000); `PW_BENCH_ENGINES` `sqlite`, `postgres` or both;
//! `PW_BENCH_CONNECTIONS` the client connections (default 8; the ceiling's writers follow);
//! `PW_BENCH_ROUNDS` how many times each engine runs, taking turns (default 3): the JSON
//! holds each engine's run with the median rate, and every run's rates under `rounds`.
//!
//! One product in [`WATCHED_EVERY`] has a subscriber, with a threshold no price reaches:
//! ingest writes "price changed" events for those products only, and the server's alert
//! worker matches them as in production (no mail is sent). The run also reports how many
//! events were still waiting when the last batch was answered and how long the worker took
//! to finish them.
//!
//! The workload: 10,000 products already priced, 200 established reporter keys; each batch
//! comes from one key and names 100 random products; 85% of reports confirm the current
//! price, 10% move it a few percent, 4% are drops of 15-30%, 1% out of stock.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../tests/process/mod.rs"]
mod process;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use pricewatch_core::report::{Nonce, PriceReport, ReporterKey};
use pricewatch_core::{Asin, Availability, Marketplace, Money, Span, Timestamp};
use process::{now, PgDatabase, ServerProcess};
use rayon::prelude::*;
use serde_json::{json, Value};
use sqlx::{AnyPool, Row};

const PRODUCTS: usize = 10_000;
const KEYS: usize = 200;
const BATCH: usize = 100;
/// One product in this many has a subscriber: DESIGN's 10M subscriptions over 500M products
/// are 2% of products at most.
const WATCHED_EVERY: usize = 50;
static CONNECTIONS: std::sync::LazyLock<usize> =
    std::sync::LazyLock::new(|| env_count("PW_BENCH_CONNECTIONS", 8));

fn timed_reports() -> usize {
    env_count("PW_BENCH_REPORTS", 100_000)
}

/// A count from the environment, or `default` when unset or not a number.
fn env_count(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A tiny deterministic generator (SplitMix64): the workload is the same every run.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

fn seed(k: usize) -> [u8; 32] {
    let mut s = [7u8; 32];
    s[..8].copy_from_slice(&(k as u64 + 1).to_le_bytes());
    s
}

/// `B0` and eight digits: a valid ASIN per product.
fn asin_of(p: usize) -> String {
    format!("B0{p:08}")
}

/// One report to sign: (key, product, price or out of stock, observed at, nonce).
struct Planned {
    key: usize,
    product: usize,
    price: Option<i64>,
    at: Timestamp,
    nonce: u128,
}

fn sign(p: &Planned) -> Value {
    let m = Marketplace::Us;
    let report = PriceReport {
        marketplace: m,
        asin: Asin::parse(&asin_of(p.product)).unwrap(),
        price: p.price.map(|v| Money::new(v, m.currency())),
        currency: m.currency(),
        availability: if p.price.is_some() {
            Availability::InStock
        } else {
            Availability::OutOfStock
        },
        observed_at: p.at,
        client_version: "bench-1.0".into(),
        nonce: Nonce::from_bytes(p.nonce.to_be_bytes()),
    };
    serde_json::to_value(report.sign(&seed(p.key))).unwrap()
}

/// Sign every planned report (in parallel: signing is the clients' cost, not the server's)
/// and serialize the batches.
fn bodies(plan: &[Planned]) -> Vec<Bytes> {
    let signed: Vec<Value> = plan.par_iter().map(sign).collect();
    signed
        .chunks(BATCH)
        .map(|c| Bytes::from(serde_json::to_vec(&json!({ "reports": c })).unwrap()))
        .collect()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Engine {
    Sqlite,
    Postgres,
}

impl Engine {
    fn name(self) -> &'static str {
        match self {
            Engine::Sqlite => "SQLite",
            Engine::Postgres => "PostgreSQL",
        }
    }
}

/// A database for one engine, removed afterwards.
struct Database {
    url: String,
    _pg: Option<PgDatabase>,
    _dir: Option<tempfile::TempDir>,
}

async fn database(engine: Engine, name: &str) -> Database {
    match engine {
        Engine::Sqlite => {
            let dir = tempfile::tempdir().unwrap();
            Database {
                url: format!(
                    "sqlite://{}",
                    dir.path().join(format!("{name}.db")).display()
                ),
                _pg: None,
                _dir: Some(dir),
            }
        }
        Engine::Postgres => {
            let pg = PgDatabase::create(name).await;
            Database {
                url: pg.url.clone(),
                _pg: Some(pg),
                _dir: None,
            }
        }
    }
}

/// Post every body over `CONNECTIONS` connections; returns (wall time, latencies, errors).
async fn post_all(base: &str, bodies: Vec<Bytes>) -> (Duration, Vec<Duration>, usize) {
    let bodies = Arc::new(bodies);
    let next = Arc::new(AtomicUsize::new(0));
    let latencies = Arc::new(Mutex::new(Vec::with_capacity(bodies.len())));
    let errors = Arc::new(AtomicUsize::new(0));
    let url = format!("{base}/api/reports");
    let started = Instant::now();
    let workers: Vec<_> = (0..*CONNECTIONS)
        .map(|_| {
            let (bodies, next, latencies, errors, url) = (
                bodies.clone(),
                next.clone(),
                latencies.clone(),
                errors.clone(),
                url.clone(),
            );
            tokio::spawn(async move {
                let client = reqwest::Client::new();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(body) = bodies.get(i) else { break };
                    let t = Instant::now();
                    let res = client
                        .post(&url)
                        .header("content-type", "application/json")
                        .body(body.clone())
                        .send()
                        .await;
                    match res {
                        Ok(r) if r.status() == 200 => {
                            let _ = r.bytes().await;
                        }
                        Ok(r) => {
                            if errors.fetch_add(1, Ordering::Relaxed) < 3 {
                                eprintln!(
                                    "batch {i}: {} {}",
                                    r.status(),
                                    r.text().await.unwrap_or_default()
                                );
                            }
                        }
                        Err(e) => {
                            errors.fetch_add(1, Ordering::Relaxed);
                            eprintln!("batch {i}: {e}");
                        }
                    }
                    latencies.lock().unwrap().push(t.elapsed());
                }
            })
        })
        .collect();
    for w in workers {
        w.await.unwrap();
    }
    let wall = started.elapsed();
    let lat = std::mem::take(&mut *latencies.lock().unwrap());
    (wall, lat, errors.load(Ordering::Relaxed))
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1].as_secs_f64() * 1e3
}

/// CPU seconds (user + system) a process has used, from `/proc/PID/stat`. Ticks are 1/100 s
/// on Linux (`CLK_TCK`).
fn cpu_seconds(pid: u32) -> f64 {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return 0.0;
    };
    // Fields after the command name, which ends with the last ')'.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    (ticks(11) + ticks(12)) / 100.0
}

/// CPU seconds of the PostgreSQL backends serving `url`'s database (a backend's process
/// title names its database), so other users of the server do not count. SQLite runs
/// inside the server process: nothing to add.
fn database_cpu_seconds(url: &str) -> f64 {
    if !url.starts_with("postgres") {
        return 0.0;
    }
    let name = url.rsplit('/').next().unwrap_or_default().to_owned();
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return 0.0;
    };
    dir.flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline"))
                .is_ok_and(|c| String::from_utf8_lossy(&c).contains(&format!(" {name} ")))
        })
        .map(cpu_seconds)
        .sum()
}

/// The CPU seconds of (server, database, load generator) so far.
fn cpu_now(server: u32, url: &str) -> [f64; 3] {
    [
        cpu_seconds(server),
        database_cpu_seconds(url),
        cpu_seconds(std::process::id()),
    ]
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

/// A table's bytes (rows and indexes) per row, by the engine's own accounting.
async fn bytes_per_row(engine: Engine, pool: &AnyPool, table: &str) -> f64 {
    let rows = count(pool, &format!("SELECT COUNT(*) FROM {table}"))
        .await
        .max(1) as f64;
    let bytes: Result<i64, _> = match engine {
        Engine::Postgres => {
            sqlx::query_scalar(&format!("SELECT pg_total_relation_size('{table}')"))
                .fetch_one(pool)
                .await
        }
        // dbstat names each b-tree; a table's indexes are named after it here.
        Engine::Sqlite => {
            sqlx::query_scalar(&format!(
                "SELECT SUM(pgsize) FROM dbstat WHERE name = '{table}' OR name IN \
             (SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = '{table}')"
            ))
            .fetch_one(pool)
            .await
        }
    };
    bytes.map_or(0.0, |b| b as f64 / rows)
}

async fn count(pool: &AnyPool, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(pool).await.unwrap()
}

/// How long the bench waits for the alert worker to finish the run's events.
const DRAIN_LIMIT: Duration = Duration::from_secs(30);

/// The outbox events not done yet, and how long until none were (`None`: not within
/// [`DRAIN_LIMIT`]).
async fn drain_events(pool: &AnyPool) -> (i64, Option<f64>) {
    const UNDONE: &str = "SELECT COUNT(*) FROM outbox_events WHERE done_at IS NULL";
    let pending = count(pool, UNDONE).await;
    let started = Instant::now();
    let mut left = pending;
    while left > 0 && started.elapsed() < DRAIN_LIMIT {
        tokio::time::sleep(Duration::from_millis(50)).await;
        left = count(pool, UNDONE).await;
    }
    (
        pending,
        (left == 0).then(|| started.elapsed().as_secs_f64()),
    )
}

async fn run(engine: Engine, reports: usize) -> Value {
    eprintln!("== ingest on {}", engine.name());
    let db = database(engine, "pw_bench_ingest").await;
    let server = ServerProcess::spawn(&db.url, &[("RUST_LOG", "warn")]);
    let pool = pricewatch_server::db::Db::connect(&db.url)
        .await
        .unwrap()
        .write;

    // Established reporter keys.
    let client = reqwest::Client::new();
    for k in 0..KEYS {
        let key = ReporterKey::from_seed(&seed(k)).to_string();
        let res = client
            .post(server.url("/api/reporters"))
            .json(&json!({ "public_key": key }))
            .send()
            .await
            .unwrap();
        assert!(res.status().is_success());
    }
    let start = now();
    sqlx::query("UPDATE reporters SET confirmed = 200, created_at = $1")
        .bind((start - Span::days(365)).as_millis())
        .execute(&pool)
        .await
        .unwrap();

    // Every product gets its first price (not timed).
    let mut rng = Rng(42);
    let mut nonce = 1_u128;
    let mut prices: Vec<i64> = (0..PRODUCTS)
        .map(|_| 1_000 + rng.below(99_000) as i64)
        .collect();
    let warm: Vec<Planned> = (0..PRODUCTS)
        .map(|p| {
            nonce += 1;
            Planned {
                key: (p / BATCH) % KEYS,
                product: p,
                price: Some(prices[p]),
                at: start - Span::minutes(30),
                nonce,
            }
        })
        .collect();
    let (_, _, warm_errors) = post_all(&server.base, bodies(&warm)).await;
    assert_eq!(warm_errors, 0, "warm-up failed");
    let watched: Vec<String> = (0..PRODUCTS).step_by(WATCHED_EVERY).map(asin_of).collect();
    process::watch(&db.url, Marketplace::Us, &watched).await;
    let first_timed_report = count(&pool, "SELECT COALESCE(MAX(id), 0) FROM reports").await;

    // The timed workload, signed ahead.
    let base = start - Span::minutes(20);
    let plan: Vec<Planned> = (0..reports)
        .map(|i| {
            let product = rng.below(PRODUCTS);
            let roll = rng.below(100);
            let price = match roll {
                0..=84 => Some(prices[product]),
                85..=94 => {
                    let pct = 2 + rng.below(4) as i64;
                    let up = rng.below(2) == 0;
                    let p = prices[product] * if up { 100 + pct } else { 100 - pct } / 100;
                    prices[product] = p.max(100);
                    Some(prices[product])
                }
                95..=98 => {
                    let p = prices[product] * (70 + rng.below(16) as i64) / 100;
                    prices[product] = p.max(100);
                    Some(prices[product])
                }
                _ => None,
            };
            nonce += 1;
            Planned {
                key: (i / BATCH) % KEYS,
                product,
                price,
                at: base + Span::millis(i as i64 * 5),
                nonce,
            }
        })
        .collect();
    let t = Instant::now();
    let bodies = bodies(&plan);
    eprintln!(
        "   signed {reports} reports in {:.1}s",
        t.elapsed().as_secs_f64()
    );

    let load = load_average();
    let before = cpu_now(server.pid(), &db.url);
    let (wall, mut lat, errors) = post_all(&server.base, bodies).await;
    let after = cpu_now(server.pid(), &db.url);
    let cpu: Vec<f64> = after.iter().zip(before).map(|(a, b)| a - b).collect();
    let cpu_total: f64 = cpu.iter().sum();
    lat.sort_unstable();
    let rate = reports as f64 / wall.as_secs_f64();
    eprintln!(
        "   {reports} reports in {:.2}s: {rate:.0} reports/s, {errors} errors",
        wall.as_secs_f64()
    );
    let statuses: Vec<(String, i64)> = sqlx::query(
        "SELECT status, COUNT(*) AS n FROM reports WHERE id > $1 GROUP BY status ORDER BY status",
    )
    .bind(first_timed_report)
    .fetch_all(&pool)
    .await
    .unwrap()
    .iter()
    .map(|r| (r.get("status"), r.get("n")))
    .collect();
    let new_points = count(
        &pool,
        &format!("SELECT COUNT(*) FROM price_points WHERE report_id > {first_timed_report}"),
    )
    .await;
    let (events_pending, events_drained_s) = drain_events(&pool).await;
    eprintln!(
        "   alert events waiting at the end: {events_pending}, drained in {}",
        events_drained_s.map_or(format!("more than {DRAIN_LIMIT:?}"), |s| format!("{s:.1}s"))
    );
    drop(server);
    let bytes_per_report = bytes_per_row(engine, &pool, "reports").await;

    let (raw_wall, raw_rows, raw_cpu) = raw_ceiling(engine, &pool, first_timed_report).await;
    let raw_rate = reports as f64 / raw_wall.as_secs_f64();
    eprintln!(
        "   raw multi-row inserts of the same rows: {raw_rate:.0} reports/s ({raw_rows} rows)"
    );
    json!({
        "engine": engine.name(),
        "reports": reports,
        "batch": BATCH,
        "connections": *CONNECTIONS,
        "seconds": wall.as_secs_f64(),
        "reports_per_sec": rate,
        "p50_ms": percentile(&lat, 50.0),
        "p99_ms": percentile(&lat, 99.0),
        "errors": errors,
        "statuses": statuses.iter().map(|(s, n)| json!({"status": s, "n": n})).collect::<Vec<_>>(),
        "new_points": new_points,
        "events_pending_at_end": events_pending,
        "events_drained_s": events_drained_s,
        "raw_seconds": raw_wall.as_secs_f64(),
        "raw_reports_per_sec": raw_rate,
        "raw_rows": raw_rows,
        "load_average_before": load,
        "bytes_per_report_row": bytes_per_report,
        "cpu_server_s": cpu[0],
        "cpu_database_s": cpu[1],
        "cpu_client_s": cpu[2],
        "cpu_us_per_report": cpu_total / reports as f64 * 1e6,
        "server_cpu_us_per_report": (cpu[0] + cpu[1]) / reports as f64 * 1e6,
        "raw_cpu_us_per_report": raw_cpu / reports as f64 * 1e6,
    })
}

/// Insert the rows ingest wrote for the timed reports (reports, their points and events,
/// and one product update per product and batch) into a fresh database of the same engine,
/// with multi-row statements, one transaction per 100 reports, on as many connections as
/// the engine's write pool has. Returns the wall time, the rows written and the CPU seconds
/// (database and writer) it took.
async fn raw_ceiling(engine: Engine, source: &AnyPool, first: i64) -> (Duration, usize, f64) {
    let fresh = database(engine, "pw_bench_raw").await;
    let target = pricewatch_server::db::Db::connect(&fresh.url)
        .await
        .unwrap();
    target.migrate(&fresh.url).await.unwrap();
    // The reporters and products the rows name, with their ids.
    let reporters = sqlx::query("SELECT id, public_key, created_at FROM reporters")
        .fetch_all(source)
        .await
        .unwrap();
    for chunk in reporters.chunks(500) {
        let sql = format!(
            "INSERT INTO reporters (id, public_key, created_at) VALUES {}",
            values(engine, chunk.len(), 3)
        );
        let mut q = sqlx::query(&sql);
        for r in chunk {
            q = q
                .bind(r.get::<i64, _>("id"))
                .bind(r.get::<String, _>("public_key"))
                .bind(r.get::<i64, _>("created_at"));
        }
        q.execute(&target.write).await.unwrap();
    }
    let products = sqlx::query("SELECT id, marketplace, asin, currency, created_at FROM products")
        .fetch_all(source)
        .await
        .unwrap();
    for chunk in products.chunks(1_000) {
        let sql = format!(
            "INSERT INTO products (id, marketplace, asin, currency, created_at, updated_at) VALUES {}",
            values(engine, chunk.len(), 6)
        );
        let mut q = sqlx::query(&sql);
        for r in chunk {
            q = q
                .bind(r.get::<i64, _>("id"))
                .bind(r.get::<String, _>("marketplace"))
                .bind(r.get::<String, _>("asin"))
                .bind(r.get::<String, _>("currency"))
                .bind(r.get::<i64, _>("created_at"))
                .bind(r.get::<i64, _>("created_at"));
        }
        q.execute(&target.write).await.unwrap();
    }

    let reports = sqlx::query(
        "SELECT id, reporter_id, product_id, nonce, price, currency, availability, observed_at, \
         received_at, decision, status, suspicion, reasons, client_version, signature \
         FROM reports WHERE id > $1 ORDER BY id",
    )
    .bind(first)
    .fetch_all(source)
    .await
    .unwrap();
    let points = sqlx::query(
        "SELECT id, product_id, price, availability, first_seen_at, last_seen_at, report_id \
         FROM price_points WHERE report_id > $1",
    )
    .bind(first)
    .fetch_all(source)
    .await
    .unwrap();
    let events = sqlx::query(
        "SELECT e.kind, e.product_id, e.price_point_id, e.payload, e.created_at, p.report_id \
         FROM outbox_events e JOIN price_points p ON p.id = e.price_point_id \
         WHERE p.report_id > $1",
    )
    .bind(first)
    .fetch_all(source)
    .await
    .unwrap();
    let mut points_by_report: std::collections::HashMap<i64, Vec<&sqlx::any::AnyRow>> =
        std::collections::HashMap::new();
    for p in &points {
        points_by_report
            .entry(p.get("report_id"))
            .or_default()
            .push(p);
    }
    let mut events_by_report: std::collections::HashMap<i64, Vec<&sqlx::any::AnyRow>> =
        std::collections::HashMap::new();
    for e in &events {
        events_by_report
            .entry(e.get("report_id"))
            .or_default()
            .push(e);
    }
    let batches: Vec<Vec<&sqlx::any::AnyRow>> =
        reports.chunks(BATCH).map(|c| c.iter().collect()).collect();
    let rows = reports.len() + points.len() + events.len();

    let next = AtomicUsize::new(0);
    let cpu_before = database_cpu_seconds(&fresh.url) + cpu_seconds(std::process::id());
    let started = Instant::now();
    let write = |pool: AnyPool| {
        let (batches, next, points_by_report, events_by_report) =
            (&batches, &next, &points_by_report, &events_by_report);
        async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(batch) = batches.get(i) else { break };
                let mut tx = pool.begin().await.unwrap();
                // Every product a batch names gets its version bumped, as ingest does.
                let mut touched: Vec<i64> = batch.iter().map(|r| r.get("product_id")).collect();
                touched.sort_unstable();
                touched.dedup();
                // Locked first and in id order, as ingest does, so concurrent writers cannot
                // deadlock.
                if engine == Engine::Postgres {
                    let sql = format!(
                        "SELECT id FROM products WHERE id IN ({}) ORDER BY id FOR NO KEY UPDATE",
                        (1..=touched.len())
                            .map(|i| param(engine, i))
                            .collect::<Vec<_>>()
                            .join(", ")
                    );
                    let mut q = sqlx::query(&sql);
                    for id in &touched {
                        q = q.bind(*id);
                    }
                    q.execute(&mut *tx).await.unwrap();
                }
                let sql = format!(
                    "INSERT INTO reports (id, reporter_id, product_id, nonce, price, currency, \
                     availability, observed_at, received_at, decision, status, suspicion, reasons, \
                     client_version, signature) VALUES {}",
                    values(engine, batch.len(), 15)
                );
                let mut q = sqlx::query(&sql);
                for r in batch {
                    q = q
                        .bind(r.get::<i64, _>("id"))
                        .bind(r.get::<i64, _>("reporter_id"))
                        .bind(r.get::<i64, _>("product_id"))
                        .bind(r.get::<String, _>("nonce"))
                        .bind(r.get::<Option<i64>, _>("price"))
                        .bind(r.get::<String, _>("currency"))
                        .bind(r.get::<String, _>("availability"))
                        .bind(r.get::<i64, _>("observed_at"))
                        .bind(r.get::<i64, _>("received_at"))
                        .bind(r.get::<String, _>("decision"))
                        .bind(r.get::<String, _>("status"))
                        .bind(r.get::<f64, _>("suspicion"))
                        .bind(r.get::<String, _>("reasons"))
                        .bind(r.get::<String, _>("client_version"))
                        .bind(r.get::<String, _>("signature"));
                }
                q.execute(&mut *tx).await.unwrap();
                let ids: Vec<i64> = batch.iter().map(|r| r.get("id")).collect();
                let pts: Vec<&&sqlx::any::AnyRow> = ids
                    .iter()
                    .filter_map(|id| points_by_report.get(id))
                    .flatten()
                    .collect();
                if !pts.is_empty() {
                    let sql = format!(
                        "INSERT INTO price_points (id, product_id, price, availability, \
                         first_seen_at, last_seen_at, report_id) VALUES {}",
                        values(engine, pts.len(), 7)
                    );
                    let mut q = sqlx::query(&sql);
                    for p in &pts {
                        q = q
                            .bind(p.get::<i64, _>("id"))
                            .bind(p.get::<i64, _>("product_id"))
                            .bind(p.get::<Option<i64>, _>("price"))
                            .bind(p.get::<String, _>("availability"))
                            .bind(p.get::<i64, _>("first_seen_at"))
                            .bind(p.get::<i64, _>("last_seen_at"))
                            .bind(p.get::<i64, _>("report_id"));
                    }
                    q.execute(&mut *tx).await.unwrap();
                }
                let evs: Vec<&&sqlx::any::AnyRow> = ids
                    .iter()
                    .filter_map(|id| events_by_report.get(id))
                    .flatten()
                    .collect();
                if !evs.is_empty() {
                    let sql = format!(
                        "INSERT INTO outbox_events (kind, product_id, price_point_id, payload, \
                         created_at) VALUES {}",
                        values(engine, evs.len(), 5)
                    );
                    let mut q = sqlx::query(&sql);
                    for e in &evs {
                        q = q
                            .bind(e.get::<String, _>("kind"))
                            .bind(e.get::<i64, _>("product_id"))
                            .bind(e.get::<i64, _>("price_point_id"))
                            .bind(e.get::<String, _>("payload"))
                            .bind(e.get::<i64, _>("created_at"));
                    }
                    q.execute(&mut *tx).await.unwrap();
                }
                let sql = format!(
                    "UPDATE products SET version = version + 1 WHERE id IN ({})",
                    (1..=touched.len())
                        .map(|i| param(engine, i))
                        .collect::<Vec<_>>()
                        .join(", ")
                );
                let mut q = sqlx::query(&sql);
                for id in &touched {
                    q = q.bind(*id);
                }
                q.execute(&mut *tx).await.unwrap();
                tx.commit().await.unwrap();
            }
        }
    };
    let writers = match engine {
        Engine::Sqlite => 1,
        Engine::Postgres => *CONNECTIONS,
    };
    futures_join_all((0..writers).map(|_| write(target.write.clone()))).await;
    let wall = started.elapsed();
    let cpu = database_cpu_seconds(&fresh.url) + cpu_seconds(std::process::id()) - cpu_before;
    (wall, rows, cpu)
}

/// Run futures concurrently on this task (they borrow from the caller).
async fn futures_join_all<F: std::future::Future<Output = ()>>(futures: impl Iterator<Item = F>) {
    let mut set: Vec<std::pin::Pin<Box<F>>> = futures.map(Box::pin).collect();
    std::future::poll_fn(move |cx| {
        set.retain_mut(|f| f.as_mut().poll(cx).is_pending());
        if set.is_empty() {
            std::task::Poll::Ready(())
        } else {
            std::task::Poll::Pending
        }
    })
    .await
}

/// The `i`th bind parameter. SQLite gets a bare positional `?`, as ingest does: sqlx binds a
/// named `$N` on SQLite by scanning the statement's parameter names, which is quadratic in a
/// multi-row statement and would make the ceiling a measure of that.
fn param(engine: Engine, i: usize) -> String {
    match engine {
        Engine::Sqlite => "?".to_owned(),
        Engine::Postgres => format!("${i}"),
    }
}

fn values(engine: Engine, rows: usize, cols: usize) -> String {
    (0..rows)
        .map(|r| {
            format!(
                "({})",
                (1..=cols)
                    .map(|c| param(engine, r * cols + c))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// How many times each engine runs (`PW_BENCH_ROUNDS`, default 3).
fn rounds() -> usize {
    env_count("PW_BENCH_ROUNDS", 3).max(1)
}

/// The run with the median ingest rate, carrying every run's rates under `rounds`: the
/// table shows one run whole (its ceiling and CPU measured beside it) and the spread.
fn median_run(mut runs: Vec<Value>) -> Option<Value> {
    let rate = |r: &Value| r["reports_per_sec"].as_f64().unwrap_or(0.0);
    let rounds: Vec<Value> = runs
        .iter()
        .map(|r| {
            json!({
                "reports_per_sec": r["reports_per_sec"],
                "raw_reports_per_sec": r["raw_reports_per_sec"],
                "load_average_before": r["load_average_before"],
            })
        })
        .collect();
    runs.sort_by(|a, b| rate(a).total_cmp(&rate(b)));
    let mut median = runs.get(runs.len().saturating_sub(1) / 2)?.clone();
    median["rounds"] = Value::Array(rounds);
    Some(median)
}

fn engines() -> Vec<Engine> {
    match std::env::var("PW_BENCH_ENGINES").as_deref() {
        Ok("sqlite") => vec![Engine::Sqlite],
        Ok("postgres") => vec![Engine::Postgres],
        _ => vec![Engine::Sqlite, Engine::Postgres],
    }
}

fn main() {
    // `cargo bench` passes `--bench`; there is nothing to filter.
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let reports = timed_reports();
    let engines = engines();
    // The engines take turns, round by round, so a drift of the machine's speed (common on
    // shared VMs: the ceilings moved by a third within an hour) falls on both alike.
    let mut runs: Vec<Vec<Value>> = vec![Vec::new(); engines.len()];
    for _ in 0..rounds() {
        for (engine, runs) in engines.iter().zip(&mut runs) {
            runs.push(rt.block_on(run(*engine, reports)));
        }
    }
    let results: Vec<Value> = runs.into_iter().filter_map(median_run).collect();
    let out = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/server-bench");
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(
        out.join("ingest.json"),
        serde_json::to_string_pretty(&results).unwrap(),
    )
    .unwrap();
    println!("{}", serde_json::to_string_pretty(&results).unwrap());
}
