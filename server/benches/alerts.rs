//! `cargo bench -p pricewatch-server --bench alerts`: the alert pipeline's figures, written
//! into BENCHMARKS.md between `<!-- alerts:start -->` and `<!-- alerts:end -->`.
//!
//! 1. Match and enqueue: one price drop on a product with 100,000 armed subscribers, on
//!    SQLite and (when reachable) PostgreSQL: the candidate range query, core's rules for
//!    each, the state writes and the notification inserts, in one transaction.
//! 2. Mail throughput: complete alert emails (HTML, text, inline chart PNG) through the
//!    pooled mailer to the local SMTP sink.
//! 3. Latency at idle: from posting an accepted report to the server until the alert is in
//!    the sink, p50 and p99 over 100 drops.
//!
//! Not a criterion benchmark: each figure needs a database or sockets set up once, and is
//! measured as wall time, the way a user experiences it.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../tests/api/smtp_sink.rs"]
mod smtp_sink;

use std::fmt::Write as _;
use std::sync::Arc;
use std::time::{Duration, Instant};

use pricewatch_core::alert::{AlertContent, Channel, DedupeKey, Reasons, SubscriptionId};
use pricewatch_core::history::PricePointId;
use pricewatch_core::report::{Nonce, PriceReport};
use pricewatch_core::{Asin, Availability, Currency, Marketplace, Money, Timestamp};
use pricewatch_server::alerts::matching::match_and_enqueue;
use pricewatch_server::alerts::worker::PriceChanged;
use pricewatch_server::alerts::AlertSettings;
use pricewatch_server::app::Application;
use pricewatch_server::clock::{Clock, SystemClock};
use pricewatch_server::config::Settings;
use pricewatch_server::db::Db;
use pricewatch_server::mail::chart::{self, Stretch};
use pricewatch_server::mail::mailer::Outgoing;
use pricewatch_server::mail::templates::{self, AlertMail, Links, ProductInfo};
use pricewatch_server::mail::{MailSettings, Mailer};
use serde_json::{json, Value};
use smtp_sink::SmtpSink;

#[path = "common/machine.rs"]
mod machine;
use machine::machine_line;

const SUBSCRIBERS: i64 = 100_000;
const START: &str = "<!-- alerts:start -->";
const END: &str = "<!-- alerts:end -->";
/// What the figures mean, written under the table.
const NOTE: &str = "\nMail connections are opened with TCP_NODELAY (`server/src/mail/smtp.rs`): lettre writes the end-of-data marker as its own small write, which with Nagle's algorithm waited for the sink's delayed ACK, about 45 ms per message (22 messages/s per connection before). Match and enqueue runs core's rules for every subscriber and shares the writes per distinct outcome (migration 0008): the candidates are read grouped by what the rules read (a few rows, ids joined into text), a group whose members all come out the same is updated and queued by its predicate over the product's index range (no id list), the alert text is stored once per decision in `notification_contents` and each row points to it, alert rows have no per-user index, and a new point's first fan-out inserts without ON CONFLICT (no speculative insertion on PostgreSQL). The subscription update is HOT on PostgreSQL (`armed` left the match index; fillfactor 50). Phases are printed on stderr; where the rest goes is in docs/SCALING.md, section 7.";

fn main() {
    // `cargo bench` passes `--bench`. A filter argument (`match`, `mail`, `latency`) runs only
    // the rows it names and prints them without touching BENCHMARKS.md.
    let filter = std::env::args()
        .skip(1)
        .find(|a| !a.starts_with('-'))
        .unwrap_or_default();
    let wanted = |name: &str| filter.is_empty() || name.contains(filter.as_str());
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let mut rows = Vec::new();
    rt.block_on(async {
        let dir = tempfile::tempdir().expect("temp dir");
        if wanted("match") {
            let sqlite = format!("sqlite://{}", dir.path().join("bench.db").display());
            rows.push(match_row("SQLite", &sqlite).await);
            let pg_admin = std::env::var("PRICEWATCH_TEST_PG")
                .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into());
            match pg_database(&pg_admin).await {
                Some(url) => {
                    rows.push(match_row("PostgreSQL", &url).await);
                    drop_pg(&pg_admin).await;
                }
                None => eprintln!("PostgreSQL not reachable at {pg_admin}: skipping its row"),
            }
        }
        if wanted("mail") {
            for pool in [8, 16] {
                rows.push(mail_row(pool, 4_000).await);
            }
        }
        if wanted("latency") {
            rows.push(latency_row(dir.path()).await);
        }
    });
    let section = render(&rows);
    print!("{section}");
    if !filter.is_empty() {
        return;
    }
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../BENCHMARKS.md");
    write_section(&path, &section);
}

struct Row {
    what: String,
    figure: String,
    target: &'static str,
}

async fn pg_database(admin: &str) -> Option<String> {
    use sqlx::Connection;
    let mut conn = sqlx::PgConnection::connect(admin).await.ok()?;
    let _ = sqlx::query("DROP DATABASE IF EXISTS pw_bench_alerts WITH (FORCE)")
        .execute(&mut conn)
        .await;
    sqlx::query("CREATE DATABASE pw_bench_alerts")
        .execute(&mut conn)
        .await
        .ok()?;
    Some(format!("{admin}/pw_bench_alerts"))
}

async fn drop_pg(admin: &str) {
    use sqlx::Connection;
    if let Ok(mut conn) = sqlx::PgConnection::connect(admin).await {
        let _ = sqlx::query("DROP DATABASE IF EXISTS pw_bench_alerts WITH (FORCE)")
            .execute(&mut conn)
            .await;
    }
}

/// A subscription's state before it has seen a price, as the API stores it.
fn initial_state() -> String {
    serde_json::to_string(&pricewatch_core::alert::AlertState::new(None)).expect("serializable")
}

/// 100,000 users with an armed subscription at $90.00 on one product priced $100.00; then
/// one drop to $80.00 matched and enqueued, three times (state reset in between), median.
async fn match_row(engine: &str, url: &str) -> Row {
    let fresh = initial_state();
    let db = Db::connect(url).await.expect("db");
    db.migrate(url).await.expect("migrate");
    let exec = |sql: String| {
        let pool = db.write.clone();
        async move {
            sqlx::query(&sql).execute(&pool).await.expect(&sql);
        }
    };
    exec("INSERT INTO products (marketplace, asin, currency, current_price, created_at, updated_at) \
          VALUES ('us', 'B0BENCH000', 'USD', 10000, 0, 0)"
        .into())
    .await;
    exec(format!(
        "WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < {SUBSCRIBERS}) \
         INSERT INTO users (email, role, created_at, updated_at) \
         SELECT 'user' || n || '@example.org', 'user', 0, 0 FROM g"
    ))
    .await;
    exec(format!(
        "INSERT INTO subscriptions (user_id, product_id, target_kind, threshold, currency, \
         back_in_stock, paused, armed, rearm_above, state, created_at, updated_at) \
         SELECT u.id, p.id, 'at_or_below', 9000, 'USD', 0, 0, 1, 9180, '{fresh}', 0, 0 \
         FROM users u CROSS JOIN products p"
    ))
    .await;
    if engine == "PostgreSQL" {
        // What autovacuum does after a bulk load: without statistics the planner takes the
        // 100,000-row match for a one-row lookup.
        exec("ANALYZE".into()).await;
    }
    let product_id: i64 = sqlx::query_scalar("SELECT id FROM products")
        .fetch_one(&db.read)
        .await
        .unwrap();
    let rules = AlertSettings::default().rules();
    let mut times = Vec::new();
    let mut queued = 0;
    for run in 0..3 {
        exec("DELETE FROM notifications".into()).await;
        exec(format!(
            "UPDATE subscriptions SET state = '{fresh}', armed = 1, wake_at = NULL"
        ))
        .await;
        if engine == "PostgreSQL" {
            // The reset above rewrote every row; autovacuum would have cleaned up since.
            exec("VACUUM ANALYZE subscriptions, notifications".into()).await;
        }
        let payload = PriceChanged {
            product_id,
            price_point_id: 1_000 + run,
            currency: Currency::Usd,
            old_price: Some(10_000),
            new_price: Some(8_000),
            old_availability: Some(Availability::InStock),
            availability: Availability::InStock,
            observed_at: Timestamp::from_millis(1_700_000_000_000 + run),
        };
        let started = Instant::now();
        let mut tx = db.write.begin().await.unwrap();
        queued = match_and_enqueue(
            &mut tx,
            db.backend,
            product_id,
            &payload,
            &rules,
            Timestamp::from_millis(1_700_000_000_000 + run),
        )
        .await
        .expect("match and enqueue");
        tx.commit().await.unwrap();
        times.push(started.elapsed());
    }
    times.sort();
    let median = times[1];
    eprintln!("{engine}: match and enqueue {queued} notifications: {times:?}");
    phases(&db, product_id, &rules).await;
    Row {
        what: format!(
            "match and enqueue, 1 drop × {} subscribers ({engine}, one transaction)",
            fmt_count(SUBSCRIBERS)
        ),
        figure: format!(
            "{:.0} ms ({} notifications, {:.0} k/s)",
            median.as_secs_f64() * 1e3,
            fmt_count(i64::try_from(queued).unwrap_or(i64::MAX)),
            queued as f64 / median.as_secs_f64() / 1e3
        ),
        target: "< 1 s",
    }
}

/// Where one match-and-enqueue spends its time (stderr only: the table shows the whole).
async fn phases(db: &Db, product_id: i64, rules: &pricewatch_core::alert::AlertConfig) {
    let fresh = initial_state();
    use pricewatch_server::alerts::matching::plan;
    sqlx::query("DELETE FROM notifications")
        .execute(&db.write)
        .await
        .unwrap();
    sqlx::query(&format!(
        "UPDATE subscriptions SET state = '{fresh}', armed = 1, wake_at = NULL"
    ))
    .execute(&db.write)
    .await
    .unwrap();
    let now = Timestamp::from_millis(1_700_000_000_100);
    let payload = PriceChanged {
        product_id,
        price_point_id: 2_000,
        currency: Currency::Usd,
        old_price: Some(10_000),
        new_price: Some(8_000),
        old_availability: Some(Availability::InStock),
        availability: Availability::InStock,
        observed_at: now,
    };
    let mut tx = db.write.begin().await.unwrap();
    let t = Instant::now();
    let fanout = plan(&mut tx, db.backend, product_id, &payload, rules, now)
        .await
        .unwrap();
    let read_and_rules = t.elapsed();
    // Alerts before states: a whole group's writes name it by the state it was read with.
    let t = Instant::now();
    fanout
        .queue_alerts(&mut tx, db.backend, product_id, now)
        .await
        .unwrap();
    let inserts = t.elapsed();
    let t = Instant::now();
    fanout.write_states(&mut tx, db.backend, now).await.unwrap();
    let states = t.elapsed();
    let t = Instant::now();
    tx.commit().await.unwrap();
    eprintln!(
        "  phases: read and rules {read_and_rules:?}, inserts {inserts:?}, states {states:?}, commit {:?}",
        t.elapsed()
    );
}

/// A realistic alert email: HTML, text and a 90-day chart.
fn alert_mail(i: usize) -> Outgoing {
    let usd = |m| Money::new(m, Currency::Usd);
    let content = AlertContent {
        key: DedupeKey {
            subscription: SubscriptionId(i as i64),
            point: PricePointId(7),
        },
        channel: Channel::Email,
        reasons: Reasons {
            crossed: true,
            ..Reasons::default()
        },
        price: usd(8_000),
        price_seen_at: Timestamp::from_millis(0),
        latest: usd(8_000),
        threshold: Some(usd(9_000)),
        previous: None,
        merged_events: 1,
    };
    let day = 86_400_000;
    let history: Vec<Stretch> = (0..90)
        .map(|d| Stretch {
            from: d * day,
            to: (d + 1) * day,
            price: Some(10_000 - (d % 7) * 150),
        })
        .collect();
    let png = chart::render(&history, Some(9_000)).expect("chart");
    let rendered = templates::alert(&AlertMail {
        product: ProductInfo {
            title: Some("Noise-cancelling headphones, black"),
            marketplace: Marketplace::Us,
            asin: "B0BENCH000",
            amazon_url: "https://www.amazon.com/dp/B0BENCH000".into(),
            chart_url: "https://pricewatch.test/product/us/B0BENCH000".into(),
        },
        alert: &content,
        old_price: Some(usd(10_000)),
        all_time_low: Some(usd(7_999)),
        chart_cid: Some("chart"),
        links: Links {
            unsubscribe: "https://pricewatch.test/api/unsubscribe/s1.abc".into(),
            manage: "https://pricewatch.test/account".into(),
        },
    });
    Outgoing {
        to: format!("user{i}@example.org"),
        subject: rendered.subject,
        text: rendered.text,
        html: rendered.html,
        inline_png: Some(("chart".into(), png)),
        unsubscribe_url: Some("https://pricewatch.test/api/unsubscribe/s1.abc".into()),
        message_id: Some(format!("<notification-{i}@pricewatch.test>")),
    }
}

async fn mail_row(pool: u32, messages: usize) -> Row {
    let sink = SmtpSink::start().await;
    let mailer = Mailer::new(&MailSettings {
        smtp_port: sink.port(),
        pool_size: pool,
        ..MailSettings::default()
    })
    .expect("mailer");
    let mails: Vec<Arc<Outgoing>> = (0..messages).map(|i| Arc::new(alert_mail(i))).collect();
    let bytes = mails[0].html.len()
        + mails[0].text.len()
        + mails[0].inline_png.as_ref().map_or(0, |p| p.1.len());
    // Warm the pool.
    mailer.send(&mails[0]).await.expect("send");
    let started = Instant::now();
    let mut set = tokio::task::JoinSet::new();
    for m in &mails[1..] {
        let m = Arc::clone(m);
        let mailer = mailer.clone();
        set.spawn(async move { mailer.send(&m).await });
    }
    while let Some(r) = set.join_next().await {
        r.expect("task").expect("sent");
    }
    let elapsed = started.elapsed();
    sink.wait_for_count(messages, Duration::from_secs(5)).await;
    let rate = (messages - 1) as f64 / elapsed.as_secs_f64();
    Row {
        what: format!(
            "mail throughput, pool of {pool} connections to the local SMTP sink ({} KB alert with chart)",
            bytes / 1024
        ),
        figure: format!("{rate:.0} messages/s"),
        target: ">= 500 messages/s",
    }
}

/// One server on SQLite with the system clock; a user subscribed at $90.00; the price goes
/// $100 → $80 → $100 → ... (cooldown off), and every drop is timed from the POST to the
/// message in the sink.
async fn latency_row(dir: &std::path::Path) -> Row {
    const DROPS: usize = 100;
    let sink = SmtpSink::start().await;
    let url = format!("sqlite://{}", dir.join("latency.db").display());
    let mut settings = Settings {
        bind: "127.0.0.1:0".parse().unwrap(),
        database_url: url.clone(),
        ..Settings::default()
    };
    settings.mail.smtp_port = sink.port();
    settings.alerts.cooldown_secs = 0;
    settings.crawler.enabled = false;
    let app = Application::build(settings).await.expect("app");
    let base = format!("http://{}", app.local_addr());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(app.run_until(async move {
        let _ = stopped.await;
    }));
    let client = reqwest::Client::new();
    let post = |path: &str, body: Value| client.post(format!("{base}{path}")).json(&body).send();

    let seed = [7u8; 32];
    let key = pricewatch_core::report::ReporterKey::from_seed(&seed).to_string();
    post("/api/reporters", json!({"public_key": key}))
        .await
        .unwrap();
    let db = Db::connect(&url).await.unwrap();
    sqlx::query("UPDATE reporters SET kind = 'crawler'")
        .execute(&db.write)
        .await
        .unwrap();
    post("/api/auth/email", json!({"email": "bench@example.org"}))
        .await
        .unwrap();
    let mail = sink.wait_for(1, Duration::from_secs(10)).await.remove(0);
    let code = mail.subject().rsplit(' ').next().unwrap().to_owned();
    let signed: Value = post(
        "/api/auth/verify",
        json!({"email": "bench@example.org", "code": code, "client": "extension"}),
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    let token = signed["token"].as_str().unwrap().to_owned();
    client
        .post(format!("{base}/api/subscriptions"))
        .bearer_auth(&token)
        .json(&json!({"marketplace": "us", "asin": "B0BENCH000", "threshold_minor": 9_000}))
        .send()
        .await
        .unwrap();

    let mut nonce = 1u128;
    let mut report = |price: i64| {
        nonce += 1;
        let r = PriceReport {
            marketplace: Marketplace::Us,
            asin: Asin::parse("B0BENCH000").unwrap(),
            price: Some(Money::new(price, Currency::Usd)),
            currency: Currency::Usd,
            availability: Availability::InStock,
            observed_at: SystemClock.now(),
            client_version: "bench".into(),
            nonce: Nonce::from_bytes(nonce.to_be_bytes()),
        };
        json!({"reports": [serde_json::to_value(r.sign(&seed)).unwrap()]})
    };
    let mut samples = Vec::with_capacity(DROPS);
    for _ in 0..DROPS {
        post("/api/reports", report(10_000)).await.unwrap();
        tokio::time::sleep(Duration::from_millis(5)).await;
        let before = sink.count();
        let started = Instant::now();
        let res = post("/api/reports", report(8_000)).await.unwrap();
        assert!(res.status().is_success());
        sink.wait_for_count(before + 1, Duration::from_secs(10))
            .await;
        let arrived = sink.messages()[before].at;
        samples.push(arrived.duration_since(started));
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let _ = stop.send(());
    samples.sort();
    let p =
        |q: f64| samples[((samples.len() as f64 * q).ceil() as usize).clamp(1, samples.len()) - 1];
    Row {
        what: format!(
            "latency, accepted report → alert in the inbox, at idle ({DROPS} drops, SQLite)"
        ),
        figure: format!(
            "p50 {:.0} ms, p99 {:.0} ms",
            p(0.50).as_secs_f64() * 1e3,
            p(0.99).as_secs_f64() * 1e3
        ),
        target: "p99 < 2 s",
    }
}

fn fmt_count(n: i64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn render(rows: &[Row]) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{START}");
    let _ = writeln!(
        out,
        "### alerts (`cargo bench -p pricewatch-server --bench alerts`)\n"
    );
    let load = std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| l.split_whitespace().next().map(str::to_owned))
        .unwrap_or_else(|| "?".into());
    let _ = writeln!(
        out,
        "Measured {}, release build, load average {load} when done (other builds and tests \
         share the machine; figures are lower bounds).\n",
        machine_line()
    );
    let _ = writeln!(out, "| what | measured | target |");
    let _ = writeln!(out, "|---|---:|---|");
    for r in rows {
        let _ = writeln!(out, "| {} | {} | {} |", r.what, r.figure, r.target);
    }
    let _ = writeln!(out, "{NOTE}");
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
