//! `cargo bench -p pricewatch-server --bench crawler`: the crawler's figures, written into
//! BENCHMARKS.md between `<!-- crawler:start -->` and `<!-- crawler:end -->`.
//!
//! 1. Reading a page: `HtmlPage::parse` + core's `extract` on a fixture-shop product page,
//!    CPU time per page.
//! 2. Crawl throughput with the per-host rate limit lifted: refresh jobs for N products
//!    claimed, fetched from the fixture shop, read, ingested as the crawler's reports and
//!    rescheduled, on SQLite and (when reachable) PostgreSQL; pages per second of wall time
//!    and process CPU per page (shop, server and embedded database together).
//! 3. Verification latency with the default politeness (1 request/s per host, 1 s poll):
//!    from posting a report the judge holds to the verdict being recorded, over 20 reports.
//!
//! Not a criterion benchmark: each figure needs servers and a database set up once, and is
//! wall time as an operator sees it.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use pricewatch_core::html::HtmlPage;
use pricewatch_core::report::{Nonce, PriceReport, ReporterKey};
use pricewatch_core::{extract, Asin, Availability, Marketplace, Money, PageContext};
use pricewatch_fixture_shop::{spawn, ShopConfig, ShopHandle};
use pricewatch_server::app::Application;
use pricewatch_server::clock::{Clock, SystemClock};
use pricewatch_server::config::Settings;
use pricewatch_server::ingest::{self, BatchItem};
use pricewatch_server::state::AppState;
use pricewatch_server::store::{crawl_jobs, reporters};

#[path = "common/machine.rs"]
mod machine;
use machine::machine_line;

const START: &str = "<!-- crawler:start -->";
const END: &str = "<!-- crawler:end -->";
const PAGES: usize = 400;
const VERIFICATIONS: usize = 20;

struct Row {
    what: String,
    figure: String,
    target: &'static str,
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let rows = rt.block_on(async {
        let mut rows = Vec::new();
        rows.push(read_row().await);
        let dir = tempfile::tempdir().expect("temp dir");
        let sqlite = format!("sqlite://{}", dir.path().join("crawl.db").display());
        rows.push(throughput_row("SQLite", &sqlite).await);
        if let Some(pg) = pg_database().await {
            rows.push(throughput_row("PostgreSQL", &pg).await);
        }
        let sqlite = format!("sqlite://{}", dir.path().join("verify.db").display());
        rows.push(latency_row(&sqlite).await);
        rows
    });
    let section = render(&rows);
    print!("{section}");
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../BENCHMARKS.md");
    write_section(&path, &section);
}

fn asin(i: usize) -> Asin {
    Asin::parse(&format!("B0BENCH{i:03}")).expect("asin")
}

/// Process CPU time (user + system) so far, from /proc.
fn cpu_time() -> Duration {
    let ticks_per_s: f64 = std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
        .unwrap_or(100.0);
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name (which may hold spaces) start at ") ".
    let rest = stat.rsplit_once(") ").map_or("", |(_, r)| r);
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name.
    Duration::from_secs_f64((ticks(11) + ticks(12)) / ticks_per_s)
}

async fn shop() -> ShopHandle {
    spawn(ShopConfig {
        auto_catalog: true,
        ..ShopConfig::default()
    })
    .await
    .expect("shop")
}

async fn read_row() -> Row {
    let shop = shop().await;
    let url = shop.product_url(Marketplace::Us, asin(1).as_str());
    let body = reqwest::get(&url).await.unwrap().text().await.unwrap();
    let ctx = PageContext::from_url("https://www.amazon.com/dp/B0BENCH001");
    let n = 500;
    let started = Instant::now();
    for _ in 0..n {
        let page = HtmlPage::parse(&body);
        let obs = extract(&page, &ctx).expect("the shop's page reads");
        std::hint::black_box(obs);
    }
    let per_page = started.elapsed() / n;
    Row {
        what: format!(
            "read one fixture-shop page ({} KB): parse + extract",
            body.len() / 1024
        ),
        figure: format!("{:.0} µs CPU", per_page.as_secs_f64() * 1e6),
        target: "a small share of a crawl's cost",
    }
}

fn settings(database_url: &str, shop: &ShopHandle) -> Settings {
    let mut s = Settings {
        bind: "127.0.0.1:0".parse().expect("addr"),
        database_url: database_url.to_owned(),
        ..Settings::default()
    };
    s.crawler.base_urls = shop.base_urls().into_iter().collect();
    s.crawler.seed_interval_secs = 3_600;
    s
}

/// Start the server; the returned sender stops it.
async fn start(settings: Settings) -> (AppState, tokio::sync::oneshot::Sender<()>) {
    let app = Application::build(settings).await.expect("server builds");
    let state = app.state().clone();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(app.run_until(async move {
        let _ = rx.await;
    }));
    (state, tx)
}

/// A registered reporter key of `kind` with seed `[n; 32]`.
async fn reporter(state: &AppState, n: u8, kind: &str) -> [u8; 32] {
    let seed = [n; 32];
    let key = ReporterKey::from_seed(&seed);
    reporters::register(&state.db.write, &key, kind, SystemClock.now())
        .await
        .expect("register");
    sqlx::query("UPDATE reporters SET kind = $1 WHERE public_key = $2")
        .bind(kind)
        .bind(key.to_string())
        .execute(&state.db.write)
        .await
        .expect("kind");
    seed
}

fn signed(seed: &[u8; 32], nonce: u128, i: usize, price: i64, ago: Duration) -> BatchItem {
    let at = SystemClock.now() - pricewatch_core::Span::millis(ago.as_millis() as i64);
    let report = PriceReport {
        marketplace: Marketplace::Us,
        asin: asin(i),
        price: Some(Money::new(price, Marketplace::Us.currency())),
        currency: Marketplace::Us.currency(),
        availability: Availability::InStock,
        observed_at: at,
        client_version: "bench-1".into(),
        nonce: Nonce::from_bytes(nonce.to_be_bytes()),
    };
    BatchItem {
        signed: report.sign(seed),
        title: None,
    }
}

async fn count(state: &AppState, query: &str) -> i64 {
    sqlx::query_scalar(query)
        .fetch_one(&state.db.read)
        .await
        .expect(query)
}

async fn throughput_row(engine: &str, database_url: &str) -> Row {
    let shop = shop().await;
    let mut s = settings(database_url, &shop);
    s.crawler.per_host_rps = 0.0;
    s.crawler.concurrency = 4;
    s.crawler.poll_interval_ms = 5;
    // The crawler's reports go through ingest's per-key limit like anyone's.
    s.ingest.per_key_per_minute = 1_000_000;
    s.ingest.per_ip_per_minute = 1_000_000;
    let (state, stop) = start(s).await;
    let bot = reporter(&state, 90, "crawler").await;
    for chunk in (0..PAGES).collect::<Vec<_>>().chunks(100) {
        let items = chunk
            .iter()
            .map(|i| signed(&bot, *i as u128 + 1, *i, 1_999, Duration::from_secs(3_600)))
            .collect();
        ingest::ingest(&state, items, "bench")
            .await
            .expect("history");
    }

    let cpu = cpu_time();
    let started = Instant::now();
    {
        let mut conn = state.db.write.acquire().await.expect("conn");
        crawl_jobs::seed_refreshes(&mut conn, SystemClock.now(), PAGES as i64)
            .await
            .expect("seed");
    }
    let done = "SELECT COUNT(*) FROM crawl_jobs WHERE kind = 'refresh' AND done_at IS NOT NULL";
    while count(&state, done).await < PAGES as i64 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let wall = started.elapsed();
    let cpu = cpu_time().saturating_sub(cpu);
    let _ = stop.send(());
    let pages_seen = shop
        .requests()
        .iter()
        .filter(|r| r.path.starts_with("/dp/"))
        .count();
    assert_eq!(pages_seen, PAGES, "every product crawled once");
    Row {
        what: format!(
            "crawl {PAGES} products, rate limit lifted, 4 in flight ({engine}): fetch, read, ingest, reschedule"
        ),
        figure: format!(
            "{:.0} pages/s; {:.1} ms CPU per page",
            PAGES as f64 / wall.as_secs_f64(),
            cpu.as_secs_f64() * 1e3 / PAGES as f64
        ),
        target: "≫ the politeness limit (19 hosts × 1/s)",
    }
}

async fn latency_row(database_url: &str) -> Row {
    let shop = shop().await;
    // Defaults: 1 request/s per host, 1 s poll, 4 in flight.
    let s = settings(database_url, &shop);
    let (state, stop) = start(s).await;
    let bot = reporter(&state, 91, "crawler").await;
    // The shop sells at the history's price: a refresh crawl of a new product must find what
    // the history says, or the drop below is judged against the shop's made-up price.
    for i in 0..VERIFICATIONS {
        shop.set_price(Marketplace::Us, asin(i).as_str(), 99_900);
    }
    let items = (0..VERIFICATIONS)
        .map(|i| signed(&bot, i as u128 + 1, i, 99_900, Duration::from_secs(3_600)))
        .collect();
    ingest::ingest(&state, items, "bench")
        .await
        .expect("history");
    sqlx::query("UPDATE products SET subscribers = 50")
        .execute(&state.db.write)
        .await
        .expect("watchers");
    let mut latencies = Vec::with_capacity(VERIFICATIONS);
    for i in 0..VERIFICATIONS {
        let fresh = reporter(&state, 100 + i as u8, "extension").await;
        let started = Instant::now();
        let results = ingest::ingest(
            &state,
            vec![signed(&fresh, 1, i, 49_900, Duration::ZERO)],
            "bench",
        )
        .await
        .expect("report");
        // The shop shows the drop, so each held report is confirmed. Only now: a refresh
        // crawl that saw the drop before the report came would publish it first, and the
        // report would merely agree.
        shop.set_price(Marketplace::Us, asin(i).as_str(), 49_900);
        assert_eq!(results[0].status, "held", "{:?}", results[0]);
        let done = format!(
            "SELECT COUNT(*) FROM crawl_jobs WHERE report_id = {} AND done_at IS NOT NULL",
            results[0].report_id
        );
        while count(&state, &done).await == 0 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        latencies.push(started.elapsed());
    }
    let _ = stop.send(());
    latencies.sort();
    let at = |q: f64| latencies[((latencies.len() - 1) as f64 * q).round() as usize];
    Row {
        what: format!(
            "held report → verdict, default politeness (1 req/s per host, 1 s poll), {VERIFICATIONS} reports"
        ),
        figure: format!(
            "p50 {:.2} s, p95 {:.2} s, max {:.2} s",
            at(0.5).as_secs_f64(),
            at(0.95).as_secs_f64(),
            at(1.0).as_secs_f64()
        ),
        target: "within seconds",
    }
}

/// A fresh PostgreSQL database for the run, if the local server answers.
async fn pg_database() -> Option<String> {
    use sqlx::Connection;
    let admin = std::env::var("PRICEWATCH_TEST_PG")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into());
    let mut conn = sqlx::PgConnection::connect(&admin).await.ok()?;
    let name = format!("pw_bench_crawler_{}", std::process::id());
    sqlx::query(&format!("DROP DATABASE IF EXISTS \"{name}\""))
        .execute(&mut conn)
        .await
        .ok()?;
    sqlx::query(&format!("CREATE DATABASE \"{name}\""))
        .execute(&mut conn)
        .await
        .ok()?;
    Some(format!("{admin}/{name}"))
}

fn render(rows: &[Row]) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{START}");
    let _ = writeln!(
        out,
        "### crawler (`cargo bench -p pricewatch-server --bench crawler`)\n"
    );
    let load = std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| l.split_whitespace().next().map(str::to_owned))
        .unwrap_or_else(|| "unknown".into());
    let _ = writeln!(
        out,
        "Measured {}, release build, load average {load} at the end (other work on the \
         machine slows every figure here).\n",
        machine_line()
    );
    let _ = writeln!(out, "| what | measured | target |");
    let _ = writeln!(out, "|---|---:|---|");
    for r in rows {
        let _ = writeln!(out, "| {} | {} | {} |", r.what, r.figure, r.target);
    }
    let _ = writeln!(out, "{END}");
    out
}

/// Replace the text between the markers, or append the section.
fn write_section(path: &std::path::Path, section: &str) {
    let old = std::fs::read_to_string(path).unwrap_or_else(|_| "# Benchmarks\n\n".into());
    let new = match (old.find(START), old.find(END)) {
        (Some(s), Some(e)) if s < e => format!(
            "{}{}{}",
            &old[..s],
            section.trim_end(),
            &old[e + END.len()..]
        ),
        _ => format!("{}\n\n{}", old.trim_end(), section),
    };
    if let Err(e) = std::fs::write(path, new) {
        eprintln!("cannot write {}: {e}", path.display());
    }
}
