//! The verification crawler against the fixture shop: verdicts on held and published
//! reports, politeness per host, back-off, and adaptive refresh scheduling.

use std::time::{Duration, Instant};

use pricewatch_core::{Marketplace, Span};
use pricewatch_fixture_shop::{
    spawn, ModeUpdate, ProductSpec, ProductState, Served, ShopConfig, ShopHandle,
};
use pricewatch_server::crawler::{admin, CrawlerSettings};
use pricewatch_server::store::crawl_jobs::JobFilter;
use serde_json::Value;

use crate::both_engines;
use crate::support::{spawn_app_with, spawn_replica, Engine, Signer, TestApp, T0};

const ASIN: &str = "B0FX000001";
const LIST: i64 = 99_900;
const DROP: i64 = 49_900;

fn product(asin: &str, price: i64) -> ProductSpec {
    ProductSpec {
        marketplace: Marketplace::Us,
        asin: asin.into(),
        state: ProductState {
            title: format!("Voltrix Creator 16 Laptop {asin}"),
            price_minor: Some(price),
            in_stock: true,
        },
    }
}

async fn shop_selling(products: Vec<ProductSpec>) -> ShopHandle {
    spawn(ShopConfig {
        products,
        ..ShopConfig::default()
    })
    .await
    .unwrap()
}

/// A server whose crawler runs and reads the fixture shop, with the rate limit lifted and
/// short back-offs unless `tweak` says otherwise. Refreshes are planned only at start (before
/// any product exists), so only the jobs a test makes run.
async fn crawling_app(
    engine: Engine,
    shop: &ShopHandle,
    tweak: impl FnOnce(&mut CrawlerSettings),
) -> TestApp {
    let urls = shop.base_urls();
    spawn_app_with(engine, move |s| {
        let c = &mut s.crawler;
        c.enabled = true;
        c.base_urls = urls.into_iter().collect();
        c.poll_interval_ms = 20;
        c.per_host_rps = 0.0;
        c.backoff_base_ms = 100;
        c.seed_interval_secs = 3_600;
        tweak(c);
    })
    .await
}

async fn scalar(app: &TestApp, query: &str) -> i64 {
    sqlx::query_scalar(query)
        .fetch_one(&app.state.db.read)
        .await
        .expect(query)
}

async fn text(app: &TestApp, query: &str) -> String {
    sqlx::query_scalar(query)
        .fetch_one(&app.state.db.read)
        .await
        .expect(query)
}

/// Wait until `query` counts at least one row, or fail after `limit`.
async fn wait_for(app: &TestApp, query: &str, limit: Duration) -> Duration {
    let started = Instant::now();
    loop {
        if scalar(app, query).await > 0 {
            return started.elapsed();
        }
        assert!(
            started.elapsed() < limit,
            "still waiting after {limit:?} for: {query}"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// The product's history at $999 from a crawler-kind key an hour ago, then a subscriber
/// (so that changes from here on get their "price changed" event; the first price has none)
/// and 50 watchers as the judge counts them; then `reporter` reports `price`. Returns the
/// report's result.
async fn history_then_report(app: &TestApp, reporter: &Signer, price: i64) -> Value {
    let bot = Signer::new(31);
    app.make_crawler(&bot).await;
    let res = app
        .post_reports(vec![bot.report(
            "us",
            ASIN,
            Some(LIST),
            T0 - Span::hours(1),
        )])
        .await;
    assert_eq!(res.status(), 200);
    app.watch("us", ASIN).await;
    app.sql("UPDATE products SET subscribers = 50").await;
    let res = app
        .post_reports(vec![reporter.report("us", ASIN, Some(price), T0)])
        .await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    body["results"][0].clone()
}

/// Counts the finished crawl job of report `id`.
fn job_done(id: i64) -> String {
    format!("SELECT COUNT(*) FROM crawl_jobs WHERE report_id = {id} AND done_at IS NOT NULL")
}

async fn job_of(app: &TestApp, report_id: i64) -> Value {
    let jobs = admin::list_jobs(
        &app.state,
        &JobFilter {
            report_id: Some(report_id),
            limit: 10,
            ..JobFilter::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(jobs.len(), 1, "{jobs:?}");
    serde_json::to_value(&jobs[0]).unwrap()
}

both_engines!(
    a_fake_drop_from_a_fresh_key_is_held_then_refuted_and_nothing_changes,
    |engine: Engine| async move {
        let shop = shop_selling(vec![product(ASIN, LIST)]).await;
        let app = crawling_app(engine, &shop, |_| {}).await;
        let mallory = Signer::new(32);
        app.register(&mallory).await;

        let result = history_then_report(&app, &mallory, DROP).await;
        assert_eq!(result["status"], "held", "{result}");
        let id = result["report_id"].as_i64().unwrap();
        wait_for(&app, &job_done(id), Duration::from_secs(15)).await;

        assert_eq!(
            text(&app, &format!("SELECT status FROM reports WHERE id = {id}")).await,
            "refuted"
        );
        let key = mallory.public_key();
        let record = format!("FROM reporters WHERE public_key = '{key}'");
        assert_eq!(scalar(&app, &format!("SELECT refuted {record}")).await, 1);
        assert_eq!(scalar(&app, &format!("SELECT confirmed {record}")).await, 0);
        assert_eq!(
            scalar(&app, "SELECT current_price FROM products").await,
            LIST
        );
        assert_eq!(scalar(&app, "SELECT COUNT(*) FROM price_points").await, 1);
        assert_eq!(
            scalar(
                &app,
                "SELECT COUNT(*) FROM outbox_events WHERE kind = 'price_changed'"
            )
            .await,
            0,
            "no price change was announced"
        );
        let job = job_of(&app, id).await;
        assert!(job["done_at"].is_i64(), "{job}");
        assert_eq!(job["result"]["verdict"], "refuted", "{job}");
        assert_eq!(
            job["result"]["observation"]["price"]["amount_minor"], LIST,
            "{job}"
        );
        assert_eq!(
            job["result"]["crawler_report"]["status"], "accepted",
            "{job}"
        );
        let pages: Vec<_> = shop
            .requests()
            .into_iter()
            .filter(|r| r.served == Served::Product)
            .collect();
        assert_eq!(pages.len(), 1);
        assert!(pages[0]
            .user_agent
            .as_deref()
            .is_some_and(|ua| ua.starts_with("PriceWatchBot/") && ua.contains("(+http")));
    }
);

both_engines!(
    a_genuine_drop_from_a_fresh_key_is_confirmed_within_seconds_and_published,
    |engine: Engine| async move {
        let shop = shop_selling(vec![product(ASIN, DROP)]).await;
        let app = crawling_app(engine, &shop, |_| {}).await;
        let alice = Signer::new(33);
        app.register(&alice).await;

        let result = history_then_report(&app, &alice, DROP).await;
        assert_eq!(result["status"], "held", "{result}");
        let id = result["report_id"].as_i64().unwrap();
        let took = wait_for(&app, &job_done(id), Duration::from_secs(10)).await;

        assert!(took < Duration::from_secs(5), "confirmed after {took:?}");
        let key = alice.public_key();
        assert_eq!(
            scalar(
                &app,
                &format!("SELECT confirmed FROM reporters WHERE public_key = '{key}'")
            )
            .await,
            1
        );
        assert_eq!(
            scalar(&app, "SELECT current_price FROM products").await,
            DROP
        );
        assert_eq!(
            scalar(
                &app,
                "SELECT COUNT(*) FROM outbox_events WHERE kind = 'price_changed' \
                 AND payload LIKE '%\"new_price\":49900%'"
            )
            .await,
            1,
            "the drop is announced for the alert worker"
        );
        let view: Value = app
            .get(&format!("/api/products/us/{ASIN}"))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(view["current_price"]["amount_minor"], DROP, "{view}");
        assert_eq!(job_of(&app, id).await["result"]["verdict"], "confirmed");
    }
);

both_engines!(
    a_published_price_the_crawl_refutes_is_reverted_and_announced_for_corrections,
    |engine: Engine| async move {
        let shop = shop_selling(vec![product(ASIN, LIST)]).await;
        let app = crawling_app(engine, &shop, |_| {}).await;
        let trusted = Signer::new(34);
        app.make_trusted(&trusted).await;

        // A trusted key's 40 % drop is published at once and verified.
        let result = history_then_report(&app, &trusted, 59_900).await;
        assert_eq!(result["decision"], "accept_and_verify", "{result}");
        assert_eq!(result["status"], "accepted", "{result}");
        let id = result["report_id"].as_i64().unwrap();
        wait_for(&app, &job_done(id), Duration::from_secs(15)).await;

        assert_eq!(
            text(&app, &format!("SELECT status FROM reports WHERE id = {id}")).await,
            "refuted"
        );
        assert_eq!(
            text(
                &app,
                &format!("SELECT status FROM price_points WHERE report_id = {id}")
            )
            .await,
            "reverted"
        );
        assert_eq!(
            scalar(&app, "SELECT current_price FROM products").await,
            LIST
        );
        let key = trusted.public_key();
        assert_eq!(
            scalar(
                &app,
                &format!("SELECT refuted FROM reporters WHERE public_key = '{key}'")
            )
            .await,
            1
        );
        let event: String = text(
            &app,
            "SELECT payload FROM outbox_events WHERE kind = 'price_refuted'",
        )
        .await;
        let event: Value = serde_json::from_str(&event).unwrap();
        assert_eq!(event["refuted_price"], 59_900, "{event}");
        assert_eq!(event["real_price"], LIST, "{event}");
        assert_eq!(event["report_id"], id, "{event}");
        assert_eq!(
            scalar(
                &app,
                "SELECT COUNT(*) FROM outbox_events WHERE kind = 'price_changed'"
            )
            .await,
            1,
            "the crawl extends the restored point: no new change to announce"
        );
        let view: Value = app
            .get(&format!("/api/products/us/{ASIN}"))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(view["current_price"]["amount_minor"], LIST, "{view}");
        assert_eq!(
            view["stats"]["lowest"]["price"], LIST,
            "the refuted point left the history: {view}"
        );
    }
);

/// Each gap is at least the back-off's floor: `base × 2^i` less the 20 % jitter.
#[track_caller]
fn assert_doubling(gaps: &[u64], base_us: u64) {
    for (i, g) in gaps.iter().enumerate() {
        let floor = base_us * (1 << i) * 8 / 10;
        assert!(
            *g >= floor,
            "gap {i} is {g} µs, under the back-off's {floor}: {gaps:?}"
        );
    }
}

/// Gaps between consecutive requests, in µs.
fn gaps(times: &[u64]) -> Vec<u64> {
    times.windows(2).map(|w| w[1] - w[0]).collect()
}

// Several threads, so the shop logs arrivals promptly while the server works.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_crawler_never_exceeds_the_per_host_rate() {
    let asins: Vec<String> = (10..22).map(|i| format!("B0FX0000{i}")).collect();
    let shop = shop_selling(asins.iter().map(|a| product(a, 1_999)).collect()).await;
    let app = crawling_app(Engine::Sqlite, &shop, |c| {
        c.per_host_rps = 4.0;
        c.per_host_burst = 1;
        c.concurrency = 4;
        c.seed_interval_secs = 1;
    })
    .await;
    let bot = Signer::new(35);
    app.make_crawler(&bot).await;
    let reports = asins
        .iter()
        .map(|a| bot.report("us", a, Some(1_999), T0))
        .collect();
    assert_eq!(app.post_reports(reports).await.status(), 200);

    wait_for(
        &app,
        "SELECT CASE WHEN COUNT(*) >= 12 THEN 1 ELSE 0 END FROM crawl_jobs \
         WHERE kind = 'refresh' AND done_at IS NOT NULL",
        Duration::from_secs(20),
    )
    .await;

    let log = shop.requests();
    assert_eq!(
        log.iter().filter(|r| r.served == Served::Product).count(),
        12
    );
    let times: Vec<u64> = log.iter().map(|r| r.since_start_us).collect();
    // 4 per second: 250 ms apart. The shop logs arrivals, which a busy machine delays by
    // up to a few tens of ms; JITTER allows for that and nothing more.
    const JITTER: u64 = 50_000;
    let shortest = gaps(&times).into_iter().min().unwrap();
    assert!(
        shortest >= 250_000 - JITTER,
        "two requests {shortest} µs apart"
    );
    // Any second holds at most 4 (the window shortened by the same allowance).
    let most_in_a_second = times
        .iter()
        .map(|t| {
            times
                .iter()
                .filter(|u| **u >= *t && **u < t + 1_000_000 - JITTER)
                .count()
        })
        .max()
        .unwrap();
    assert!(
        most_in_a_second <= 4,
        "{most_in_a_second} requests within one second"
    );
    let span_s = (times[times.len() - 1] - times[0]) as f64 / 1e6;
    let rate = (times.len() - 1) as f64 / span_s;
    assert!(
        rate <= 4.04,
        "{rate:.3} requests per second on average (1 % for timing)"
    );
    assert_eq!(log[0].served, Served::Robots, "robots.txt is read first");
    assert_eq!(
        log.iter().filter(|r| r.served == Served::Robots).count(),
        1,
        "four workers, one robots.txt fetch"
    );
}

// Several threads, so the shop logs arrivals promptly while the servers work.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn replicas_keep_to_one_rate_per_host_between_them() {
    let asins: Vec<String> = (30..46).map(|i| format!("B0FX0000{i}")).collect();
    let shop = shop_selling(asins.iter().map(|a| product(a, 1_999)).collect()).await;
    let polite = |c: &mut CrawlerSettings| {
        c.per_host_rps = 4.0;
        c.per_host_burst = 1;
        c.concurrency = 4;
        c.seed_interval_secs = 1;
    };
    let app = crawling_app(Engine::Postgres, &shop, polite).await;
    let urls = shop.base_urls();
    let replica = spawn_replica(&app, move |s| {
        let c = &mut s.crawler;
        c.enabled = true;
        c.base_urls = urls.into_iter().collect();
        c.poll_interval_ms = 20;
        c.backoff_base_ms = 100;
        polite(c);
    })
    .await;
    let bot = Signer::new(37);
    app.make_crawler(&bot).await;
    let reports = asins
        .iter()
        .map(|a| bot.report("us", a, Some(1_999), T0))
        .collect();
    assert_eq!(app.post_reports(reports).await.status(), 200);

    wait_for(
        &app,
        "SELECT CASE WHEN COUNT(*) >= 16 THEN 1 ELSE 0 END FROM crawl_jobs \
         WHERE kind = 'refresh' AND done_at IS NOT NULL",
        Duration::from_secs(30),
    )
    .await;
    let log = shop.requests();
    assert_eq!(
        log.iter().filter(|r| r.served == Served::Robots).count(),
        2,
        "each replica read robots.txt once: both were crawling"
    );

    let times: Vec<u64> = log.iter().map(|r| r.since_start_us).collect();
    const JITTER: u64 = 50_000;
    let shortest = gaps(&times).into_iter().min().unwrap();
    assert!(
        shortest >= 250_000 - JITTER,
        "two requests {shortest} µs apart"
    );
    let span_s = (times[times.len() - 1] - times[0]) as f64 / 1e6;
    let rate = (times.len() - 1) as f64 / span_s;
    assert!(rate <= 4.04, "{rate:.3} requests per second together");
    let hosts = admin::host_health(&replica.state).await.unwrap();
    assert_eq!(
        hosts[0].requests as usize,
        times.len(),
        "either replica's view counts both replicas' requests"
    );
}

// Several threads, so the shop logs arrivals promptly while the server works.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn robot_checks_back_the_host_off_exponentially_until_it_recovers() {
    let shop = shop_selling(vec![product(ASIN, LIST)]).await;
    shop.set_mode(&ModeUpdate {
        robot_check: Some(true),
        ..ModeUpdate::default()
    });
    let app = crawling_app(Engine::Sqlite, &shop, |c| {
        c.backoff_base_ms = 200;
        c.backoff_max_ms = 10_000;
    })
    .await;
    let mallory = Signer::new(36);
    app.register(&mallory).await;
    let id = history_then_report(&app, &mallory, DROP).await["report_id"]
        .as_i64()
        .unwrap();

    // Nominally at 0, 0.2, 0.6, 1.4 and 3.0 s: the rate limit alone would allow hundreds. A
    // busy machine can only make them later, never sooner, so the test waits for the host's
    // fifth recorded check instead of for a time, then looks within its 3.2 s pause.
    let started = Instant::now();
    let host = loop {
        let hosts = admin::host_health(&app.state).await.unwrap();
        if let Some(host) = hosts.into_iter().find(|h| h.robot_checks >= 5) {
            break host;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "{:?}",
            shop.requests()
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    };
    let checks: Vec<u64> = shop
        .requests()
        .into_iter()
        .filter(|r| r.served == Served::RobotCheck)
        .map(|r| r.since_start_us)
        .collect();
    assert_eq!(checks.len(), 5, "{checks:?}");
    assert_doubling(&gaps(&checks), 200_000);
    assert_eq!(host.robot_checks, 5, "{host:?}");
    assert!(host.backing_off, "{host:?}");
    assert!(host.robot_check_rate > 0.5, "{host:?}");
    assert_eq!(
        text(&app, &format!("SELECT status FROM reports WHERE id = {id}")).await,
        "held"
    );

    shop.set_mode(&ModeUpdate {
        robot_check: Some(false),
        ..ModeUpdate::default()
    });
    wait_for(&app, &job_done(id), Duration::from_secs(15)).await;
    assert_eq!(
        text(&app, &format!("SELECT status FROM reports WHERE id = {id}")).await,
        "refuted"
    );
    let host = &admin::host_health(&app.state).await.unwrap()[0];
    assert!(!host.backing_off && host.failures_in_row == 0, "{host:?}");
    let checks = shop
        .requests()
        .iter()
        .filter(|r| r.served == Served::RobotCheck)
        .count();
    let job = job_of(&app, id).await;
    assert_eq!(job["attempts"], checks as i64 + 1, "{job}");
}

// Several threads, so the shop logs arrivals promptly while the server works.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn service_unavailable_answers_back_the_host_off_too() {
    let shop = shop_selling(vec![product(ASIN, DROP)]).await;
    shop.set_mode(&ModeUpdate {
        unavailable_next: Some(3),
        ..ModeUpdate::default()
    });
    let app = crawling_app(Engine::Sqlite, &shop, |c| {
        c.backoff_base_ms = 200;
    })
    .await;
    let alice = Signer::new(37);
    app.register(&alice).await;
    let id = history_then_report(&app, &alice, DROP).await["report_id"]
        .as_i64()
        .unwrap();

    wait_for(&app, &job_done(id), Duration::from_secs(10)).await;
    assert_eq!(
        text(&app, &format!("SELECT status FROM reports WHERE id = {id}")).await,
        "published"
    );

    let pages: Vec<_> = shop
        .requests()
        .into_iter()
        .filter(|r| r.served != Served::Robots)
        .collect();
    let served: Vec<Served> = pages.iter().map(|r| r.served).collect();
    assert_eq!(
        served,
        [
            Served::Unavailable,
            Served::Unavailable,
            Served::Unavailable,
            Served::Product
        ]
    );
    assert_doubling(
        &gaps(&pages.iter().map(|r| r.since_start_us).collect::<Vec<_>>()),
        200_000,
    );
    assert_eq!(
        admin::host_health(&app.state).await.unwrap()[0].unavailable,
        3
    );
}

// Several threads, so the shop logs arrivals promptly while the server works.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_page_error_after_many_robot_checks_is_retried_soon_not_in_a_day() {
    // Twelve robot checks are twelve attempts; the 500 after them is the page's first error.
    // The retry waits retry_base × 2^0 (with jitter, under 1.5 s), not retry_base × 2^12.
    let shop = shop_selling(vec![product(ASIN, DROP)]).await;
    shop.set_mode(&ModeUpdate {
        robot_check_next: Some(12),
        error_next: Some(1),
        ..ModeUpdate::default()
    });
    let app = crawling_app(Engine::Sqlite, &shop, |c| {
        c.backoff_base_ms = 10;
        c.backoff_max_ms = 20;
        c.retry_base_secs = 1;
        c.max_attempts = 100;
    })
    .await;
    let alice = Signer::new(39);
    app.register(&alice).await;
    let id = history_then_report(&app, &alice, DROP).await["report_id"]
        .as_i64()
        .unwrap();

    // The retry is due on the application's clock, which the test moves: once the error is
    // recorded, two seconds on.
    wait_for(
        &app,
        &format!(
            "SELECT COUNT(*) FROM crawl_jobs WHERE report_id = {id} AND result LIKE '%http_error%' \
             AND claimed_by IS NULL"
        ),
        Duration::from_secs(15),
    )
    .await;
    app.clock.advance(Span::seconds(2));
    wait_for(&app, &job_done(id), Duration::from_secs(15)).await;
    let served: Vec<Served> = shop
        .requests()
        .into_iter()
        .filter(|r| r.served != Served::Robots)
        .map(|r| r.served)
        .collect();
    let mut expected = vec![Served::RobotCheck; 12];
    expected.extend([Served::ServerError, Served::Product]);
    assert_eq!(served, expected);
    assert_eq!(
        text(&app, &format!("SELECT status FROM reports WHERE id = {id}")).await,
        "published"
    );
    let job = job_of(&app, id).await;
    assert_eq!(job["attempts"], 14, "{job}");
}

#[tokio::test]
async fn pages_robots_txt_forbids_are_not_fetched() {
    let shop = shop_selling(vec![product(ASIN, DROP)]).await;
    shop.set_robots_txt("User-agent: PriceWatchBot\nDisallow: /dp/\n\nUser-agent: *\nAllow: /\n");
    let app = crawling_app(Engine::Sqlite, &shop, |_| {}).await;
    let alice = Signer::new(38);
    app.register(&alice).await;
    let id = history_then_report(&app, &alice, DROP).await["report_id"]
        .as_i64()
        .unwrap();

    wait_for(&app, &job_done(id), Duration::from_secs(10)).await;

    assert_eq!(
        job_of(&app, id).await["result"]["outcome"],
        "disallowed_by_robots"
    );
    assert!(shop.requests().iter().all(|r| r.served == Served::Robots));
    assert_eq!(
        text(&app, &format!("SELECT status FROM reports WHERE id = {id}")).await,
        "held"
    );
}

both_engines!(
    an_admin_recrawl_queues_a_verification_ahead_of_the_rest,
    |engine: Engine| async move {
        let shop = shop_selling(vec![product(ASIN, LIST)]).await;
        let app = crawling_app(engine, &shop, |c| c.enabled = false).await;
        let mallory = Signer::new(39);
        app.register(&mallory).await;
        let id = history_then_report(&app, &mallory, DROP).await["report_id"]
            .as_i64()
            .unwrap();

        let queued = admin::recrawl_report(&app.state, id, 0).await.unwrap();

        assert_eq!(queued.report_id, id);
        let pending = admin::list_jobs(
            &app.state,
            &JobFilter {
                kind: Some("verify".into()),
                done: Some(false),
                limit: 10,
                ..JobFilter::default()
            },
        )
        .await
        .unwrap();
        assert_eq!(pending.len(), 2, "the judge's job and the admin's");
        assert_eq!(pending[0].id, queued.job_id);
        assert!(pending[0].priority > pending[1].priority);
        assert!(admin::recrawl_report(&app.state, id + 1_000, 0)
            .await
            .is_err());
        assert!(admin::list_jobs(
            &app.state,
            &JobFilter {
                kind: Some("other".into()),
                limit: 10,
                ..JobFilter::default()
            }
        )
        .await
        .is_err());
        let metrics = app.get("/metrics").await.text().await.unwrap();
        assert!(
            metrics
                .lines()
                .any(|l| l.starts_with("queue_depth{queue=\"crawl_verify\"}") && l.ends_with(" 2")),
            "{metrics}"
        );
        assert!(
            metrics.contains("crawl_queue_oldest_due_seconds"),
            "{metrics}"
        );
    }
);

both_engines!(
    volatile_products_are_refreshed_more_often_than_stable_ones_over_a_simulated_week,
    |engine: Engine| async move {
        const VOLATILE: &str = "B0FXVOLAT1";
        const STABLE: &str = "B0FXSTABL1";
        let shop = shop_selling(vec![product(VOLATILE, 10_000), product(STABLE, 10_000)]).await;
        let app = crawling_app(engine, &shop, |c| c.enabled = false).await;
        let crawler = pricewatch_server::crawler::Crawler::new(app.state.clone())
            .await
            .unwrap();
        let shopper = Signer::new(40);
        app.make_trusted(&shopper).await;
        let shop_price = |asin: &str| shop.product(Marketplace::Us, asin).unwrap().price_minor;

        // A week in half-hour steps. The volatile product's price moves every 3 hours; a
        // shopper looks at both products twice a day; the crawler runs whatever is due.
        let step = Span::minutes(30);
        for i in 0..7 * 48 {
            if i % 6 == 0 {
                let moves = [10_000, 9_400, 9_900, 10_500, 9_800, 10_300];
                shop.set_price(Marketplace::Us, VOLATILE, moves[(i / 6) % moves.len()]);
            }
            if i % 24 == 0 {
                let now = app.clock_now();
                let seen = vec![
                    shopper.report("us", VOLATILE, shop_price(VOLATILE), now),
                    shopper.report("us", STABLE, shop_price(STABLE), now),
                ];
                assert_eq!(app.post_reports(seen).await.status(), 200);
            }
            crawler.run_due(1_000).await.unwrap();
            app.clock.advance(step);
        }

        // Crawls per product, as the shop saw them (verifications and refreshes alike).
        let crawls = |asin: &str| {
            let path = format!("/dp/{asin}");
            shop.requests().iter().filter(|r| r.path == path).count()
        };
        let (volatile, stable) = (crawls(VOLATILE), crawls(STABLE));
        eprintln!("crawls over the week: volatile {volatile}, stable {stable}");
        assert!(
            (1..=2).contains(&stable),
            "a calm product waits the longest interval: {stable}"
        );
        assert!(
            volatile >= 20 && volatile >= 10 * stable,
            "volatile {volatile}, stable {stable}"
        );
        let interval = |asin: &str| {
            format!(
                "SELECT j.interval_ms FROM crawl_jobs j JOIN products p ON p.id = j.product_id \
                 WHERE p.asin = '{asin}' AND j.kind = 'refresh' AND j.done_at IS NULL"
            )
        };
        assert_eq!(
            scalar(&app, &interval(STABLE)).await,
            Span::days(7).as_millis()
        );
        let volatile_interval = scalar(&app, &interval(VOLATILE)).await;
        assert!(
            volatile_interval <= Span::hours(4).as_millis(),
            "{volatile_interval} ms"
        );
        // Every change the crawler saw is history: the volatile product has many points.
        assert!(
            scalar(&app, "SELECT COUNT(*) FROM price_points p JOIN products q ON q.id = p.product_id WHERE q.asin = 'B0FXVOLAT1'").await >= 20
        );
    }
);

both_engines!(
    the_crawler_keeps_one_identity_across_restarts,
    |engine: Engine| async move {
        let shop = shop_selling(vec![]).await;
        let app = crawling_app(engine, &shop, |c| c.enabled = false).await;

        let first = pricewatch_server::crawler::Crawler::new(app.state.clone())
            .await
            .unwrap();
        let again = pricewatch_server::crawler::Crawler::new(app.state.clone())
            .await
            .unwrap();

        assert_eq!(first.reporter_id(), again.reporter_id());
        assert_eq!(
            scalar(
                &app,
                "SELECT COUNT(*) FROM reporters WHERE kind = 'crawler'"
            )
            .await,
            1
        );
        assert_eq!(
            scalar(&app, "SELECT COUNT(*) FROM crawler_identity").await,
            1
        );
    }
);

both_engines!(
    a_refuted_price_gives_way_to_the_price_the_crawl_saw,
    |engine: Engine| async move {
        // The page shows neither the old price nor the reported one.
        let shop = shop_selling(vec![product(ASIN, 89_900)]).await;
        let app = crawling_app(engine, &shop, |_| {}).await;
        let trusted = Signer::new(41);
        app.make_trusted(&trusted).await;

        let result = history_then_report(&app, &trusted, 59_900).await;
        assert_eq!(result["decision"], "accept_and_verify", "{result}");
        let id = result["report_id"].as_i64().unwrap();
        wait_for(&app, &job_done(id), Duration::from_secs(15)).await;

        assert_eq!(
            scalar(&app, "SELECT current_price FROM products").await,
            89_900
        );
        let published = "FROM price_points WHERE status = 'published'";
        assert_eq!(
            scalar(&app, &format!("SELECT COUNT(*) {published}")).await,
            2
        );
        let real_point = scalar(&app, &format!("SELECT MAX(id) {published}")).await;
        assert_eq!(
            scalar(&app, "SELECT current_point_id FROM products").await,
            real_point
        );
        let event: Value = serde_json::from_str(
            &text(
                &app,
                "SELECT payload FROM outbox_events WHERE kind = 'price_refuted'",
            )
            .await,
        )
        .unwrap();
        assert_eq!(event["real_point_id"], real_point, "{event}");
        assert_eq!(event["real_price"], 89_900, "{event}");
        let changed: Value = serde_json::from_str(
            &text(
                &app,
                &format!(
                    "SELECT payload FROM outbox_events WHERE kind = 'price_changed' \
                     AND price_point_id = {real_point}"
                ),
            )
            .await,
        )
        .unwrap();
        assert_eq!(
            changed["old_price"], LIST,
            "measured from the restored point: {changed}"
        );
        assert_eq!(changed["new_price"], 89_900, "{changed}");
        assert_eq!(
            scalar(
                &app,
                "SELECT COUNT(*) FROM outbox_events WHERE kind = 'price_changed'"
            )
            .await,
            2,
            "the crawler's own report extends the new point"
        );
    }
);

both_engines!(
    the_admin_routes_show_crawl_results_and_hosts_and_queue_recrawls_for_admins_only,
    |engine: Engine| async move {
        use crate::auth::{app_with_sink_and, sign_in, AsUser};
        let shop = shop_selling(vec![product(ASIN, LIST)]).await;
        let urls = shop.base_urls();
        let (app, sink) = app_with_sink_and(engine, move |s| {
            s.auth.admin_emails = vec!["root@example.org".into()];
            let c = &mut s.crawler;
            c.enabled = true;
            c.base_urls = urls.into_iter().collect();
            c.poll_interval_ms = 20;
            c.per_host_rps = 0.0;
            c.seed_interval_secs = 3_600;
        })
        .await;
        let admin = sign_in(&app, &sink, "root@example.org").await;
        let user = sign_in(&app, &sink, "shopper@example.org").await;
        let mallory = Signer::new(42);
        app.register(&mallory).await;
        let id = history_then_report(&app, &mallory, DROP).await["report_id"]
            .as_i64()
            .unwrap();
        wait_for(&app, &job_done(id), Duration::from_secs(15)).await;

        let jobs: Value = app
            .get_as(
                &admin,
                &format!("/api/admin/crawl-jobs?report_id={id}&state=done"),
            )
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(jobs["jobs"][0]["result"]["verdict"], "refuted", "{jobs}");
        let hosts: Value = app
            .get_as(&admin, "/api/admin/hosts")
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(hosts["hosts"][0]["host"], shop.base_url(), "{hosts}");
        assert!(
            hosts["hosts"][0]["requests"].as_u64().unwrap() >= 2,
            "{hosts}"
        );

        let path = format!("/api/admin/reports/{id}/recrawl");
        let queued = app.post_as(&admin, &path, &Value::Null).await;
        assert_eq!(queued.status(), 202);
        let queued: Value = queued.json().await.unwrap();
        assert_eq!(queued["report_id"], id);
        assert_eq!(app.post_as(&user, &path, &Value::Null).await.status(), 403);
        assert_eq!(app.post_json(&path, &Value::Null).await.status(), 401);
        let missing = app
            .post_as(&admin, "/api/admin/reports/999999/recrawl", &Value::Null)
            .await;
        assert_eq!(missing.status(), 404);
        let bad = app.get_as(&admin, "/api/admin/crawl-jobs?state=soon").await;
        assert_eq!(bad.status(), 400);
        let bad: Value = bad.json().await.unwrap();
        assert_eq!(bad["field"], "state");
        let doc: Value = app.get("/api/openapi.json").await.json().await.unwrap();
        for route in [
            "/api/admin/crawl-jobs",
            "/api/admin/hosts",
            "/api/admin/reports/{id}/recrawl",
        ] {
            assert!(doc["paths"][route].is_object(), "{route} is documented");
        }
    }
);

both_engines!(
    an_alert_sent_on_a_price_the_crawl_refutes_is_corrected_by_email,
    |engine: Engine| async move {
        use crate::auth::{app_with_sink_and, sign_in, AsUser, MAIL_WAIT};
        let shop = shop_selling(vec![product(ASIN, 10_000)]).await;
        // The shop answers robot checks until the alert is out, so the crawl comes after it.
        shop.set_mode(&ModeUpdate {
            robot_check: Some(true),
            ..ModeUpdate::default()
        });
        let urls = shop.base_urls();
        let (app, sink) = app_with_sink_and(engine, move |s| {
            let c = &mut s.crawler;
            c.enabled = true;
            c.base_urls = urls.into_iter().collect();
            c.poll_interval_ms = 20;
            c.per_host_rps = 0.0;
            c.seed_interval_secs = 3_600;
            c.backoff_base_ms = 50;
            c.backoff_max_ms = 300;
            c.max_attempts = 1_000;
        })
        .await;
        let email = "misled@example.org";
        let token = sign_in(&app, &sink, email).await;
        let body = serde_json::json!({"marketplace": "us", "asin": ASIN, "threshold_minor": 9_000});
        assert_eq!(
            app.post_as(&token, "/api/subscriptions", &body)
                .await
                .status(),
            201
        );
        let alerts = || {
            sink.to(email)
                .into_iter()
                .filter(|m| !m.subject().contains("sign-in code"))
                .collect::<Vec<_>>()
        };
        let wait_mails = |n: usize| {
            let alerts = &alerts;
            async move {
                let deadline = Instant::now() + MAIL_WAIT;
                loop {
                    let got = alerts();
                    if got.len() >= n {
                        return got;
                    }
                    assert!(Instant::now() < deadline, "{} of {n} mails", got.len());
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            }
        };

        // A trusted key's 40 % drop is published at once (and queued for verification): the
        // subscriber is alerted.
        let trusted = Signer::new(43);
        app.make_trusted(&trusted).await;
        let bot = Signer::new(44);
        app.make_crawler(&bot).await;
        app.post_reports(vec![bot.report(
            "us",
            ASIN,
            Some(10_000),
            T0 - Span::hours(1),
        )])
        .await;
        let res = app
            .post_reports(vec![trusted.report("us", ASIN, Some(6_000), T0)])
            .await;
        let res: Value = res.json().await.unwrap();
        assert_eq!(res["results"][0]["decision"], "accept_and_verify", "{res}");
        let id = res["results"][0]["report_id"].as_i64().unwrap();
        let first = wait_mails(1).await;
        assert!(first[0].text().contains("$60.00"), "{}", first[0].text());

        // The crawl sees $100.00: the price is refuted and the subscriber told.
        shop.set_mode(&ModeUpdate {
            robot_check: Some(false),
            ..ModeUpdate::default()
        });
        wait_for(&app, &job_done(id), Duration::from_secs(15)).await;
        let got = wait_mails(2).await;
        assert!(
            got[1].subject().starts_with("Sorry"),
            "{}",
            got[1].subject()
        );
        assert!(got[1].text().contains("$100.00"), "{}", got[1].text());
    }
);

/// Finishing a job takes its product's lock before it writes anything else: a verification
/// and a refresh of one product finishing at once otherwise locked the product and the
/// pending refresh in opposite orders, and PostgreSQL failed one as a deadlock. Here the test
/// holds the product while a refresh gives up (robot checks, one attempt allowed): the job
/// must wait for the product, not be completed under it.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn finishing_a_job_waits_for_its_product_before_writing_anything() {
    let shop = shop_selling(vec![product(ASIN, LIST)]).await;
    shop.set_mode(&ModeUpdate {
        robot_check: Some(true),
        ..ModeUpdate::default()
    });
    let app = crawling_app(Engine::Postgres, &shop, |c| c.max_attempts = 1).await;
    let bot = Signer::new(38);
    app.make_crawler(&bot).await;
    let res = app
        .post_reports(vec![bot.report("us", ASIN, Some(LIST), T0)])
        .await;
    assert_eq!(res.status(), 200);
    let product_id = scalar(
        &app,
        &format!("SELECT id FROM products WHERE asin = '{ASIN}'"),
    )
    .await;

    let mut holder = app.state.db.write.begin().await.unwrap();
    sqlx::query("SELECT id FROM products WHERE id = $1 FOR NO KEY UPDATE")
        .bind(product_id)
        .fetch_one(&mut *holder)
        .await
        .unwrap();
    // Queued behind the held product (a foreign-key check does not wait for that lock).
    sqlx::query(
        "INSERT INTO crawl_jobs (product_id, kind, priority, due_at, created_at) \
         VALUES ($1, 'refresh', 1, 0, 0)",
    )
    .bind(product_id)
    .execute(&app.state.db.write)
    .await
    .unwrap();

    wait_for(
        &app,
        "SELECT COUNT(*) FROM pg_stat_activity \
         WHERE datname = current_database() AND wait_event_type = 'Lock'",
        Duration::from_secs(15),
    )
    .await;
    assert_eq!(
        scalar(
            &app,
            "SELECT COUNT(*) FROM crawl_jobs WHERE done_at IS NOT NULL"
        )
        .await,
        0,
        "the job was completed while its product was held"
    );

    holder.rollback().await.unwrap();
    wait_for(
        &app,
        "SELECT COUNT(*) FROM crawl_jobs WHERE done_at IS NOT NULL",
        Duration::from_secs(15),
    )
    .await;
}
