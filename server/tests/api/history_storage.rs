//! Packed history (`price_runs`, migration 0009): whatever mix of new points, extensions,
//! packing (in runs of any size) and corrections a product goes through, the points read for
//! charts are exactly those `price_points` holds, and the HTTP answers are what core computes
//! from them.

use pricewatch_core::history::{
    store, AcceptedObservation, ChartQuery, Granularity, HistoryConfig, Period, PriceHistory,
    StoreDecision,
};
use pricewatch_core::{Asin, Availability, Marketplace, Money, ProductKey, Span, Timestamp};
use pricewatch_server::crawler::verdict::{on_point_refuted, Truth};
use pricewatch_server::store::points::{self, StoredPoint};
use pricewatch_server::store::{price_runs, products};
use serde_json::Value;

use crate::both_engines;
use crate::support::{spawn_app, Engine, TestApp, T0};

const ASIN: &str = "B0PACKED01";

/// A small xorshift generator: a long, varied but repeatable history.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

fn key() -> ProductKey {
    ProductKey {
        marketplace: Marketplace::Us,
        asin: Asin::parse(ASIN).unwrap(),
    }
}

async fn product(app: &TestApp) -> products::Product {
    let mut conn = app.state.db.read.acquire().await.unwrap();
    products::find(&mut conn, &key()).await.unwrap().unwrap()
}

fn same(a: &[StoredPoint], b: &[StoredPoint]) -> bool {
    a.len() == b.len()
        && a.iter()
            .zip(b)
            .all(|(x, y)| x.id == y.id && x.point == y.point)
}

/// Packed reads equal `price_points` reads from several starting points.
async fn assert_reads_match(app: &TestApp, now: Timestamp, why: &str) {
    let p = product(app).await;
    let mut conn = app.state.db.read.acquire().await.unwrap();
    // The starts the HTTP charts fetch from too (30 days + 1, a year + 2).
    let mut starts = vec![
        Timestamp::from_millis(i64::MIN),
        T0,
        now - Span::days(1),
        now - Span::days(31),
        now - Span::days(367),
    ];
    for d in [3, 10, 17, 30] {
        starts.push(T0 + Span::days(d) + Span::hours(d));
    }
    for since in starts {
        let packed = points::since(&mut conn, p.id, p.currency, since)
            .await
            .unwrap();
        let raw = points::since_unpacked(&mut conn, p.id, p.currency, since)
            .await
            .unwrap();
        assert!(
            same(&packed, &raw),
            "{why}: since {since:?}: packed read {} points, price_points {}",
            packed.len(),
            raw.len()
        );
    }
}

/// Pack with runs of at most `run_bytes` (tiny ones put run boundaries everywhere).
async fn pack(app: &TestApp, run_bytes: usize) -> usize {
    let id = product(app).await.id;
    let mut tx = app.state.db.write.begin().await.unwrap();
    let n = price_runs::pack_with(&mut tx, app.state.db.backend, id, run_bytes)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    n
}

async fn packed_runs(app: &TestApp) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM price_runs")
        .fetch_one(&app.state.db.read)
        .await
        .unwrap()
}

async fn points_in_runs(app: &TestApp) -> usize {
    let runs: Vec<Vec<u8>> = sqlx::query_scalar("SELECT points FROM price_runs")
        .fetch_all(&app.state.db.read)
        .await
        .unwrap();
    let mut points = Vec::new();
    for bytes in runs {
        price_runs::decode_runs(
            0,
            &bytes,
            i64::MIN,
            pricewatch_core::Currency::Usd,
            &mut points,
        )
        .unwrap();
    }
    points.len()
}

/// Store one observation by core's change-only rule, as ingest does.
async fn observe(app: &TestApp, price: Option<i64>, availability: Availability, at: Timestamp) {
    let mut tx = app.state.db.write.begin().await.unwrap();
    let p = products::get_or_create_locked(&mut tx, app.state.db.backend, &key(), at)
        .await
        .unwrap();
    let last = points::recent(&mut tx, p.id, p.currency, 1)
        .await
        .unwrap()
        .into_iter()
        .next();
    let observation = AcceptedObservation {
        price: price.map(|m| Money::new(m, p.currency)),
        availability,
        observed_at: at,
    };
    match store(last.as_ref().map(|l| &l.point), &observation) {
        StoreDecision::NewPoint(point) => {
            let id = points::insert(&mut tx, p.id, &point, None).await.unwrap();
            products::set_current(&mut tx, p.id, point.price, point.availability, id, at)
                .await
                .unwrap();
        }
        StoreDecision::Extend { last_seen_at } => {
            points::extend(&mut tx, last.unwrap().id, last_seen_at)
                .await
                .unwrap();
            products::touch(&mut tx, p.id, at).await.unwrap();
        }
        StoreDecision::Stale => {}
    }
    tx.commit().await.unwrap();
}

/// A published point is refuted: by the crawler, which stores the crawled truth, or by an
/// admin's reject (no truth: the point before stands).
async fn refute(app: &TestApp, point_id: i64, truth: Option<Truth>, now: Timestamp) {
    let p = product(app).await;
    let mut tx = app.state.db.write.begin().await.unwrap();
    on_point_refuted(&mut tx, &p, point_id, 0, truth.as_ref(), now)
        .await
        .unwrap();
    tx.commit().await.unwrap();
}

/// A run size for one packing: often tiny (a point or a few per run), sometimes the real one.
fn run_bytes(rng: &mut Rng) -> usize {
    match rng.below(4) {
        0 => price_runs::RUN_BYTES,
        1 => 1 + rng.below(12) as usize,
        _ => 12 + rng.below(100) as usize,
    }
}

both_engines!(
    packed_history_reads_equal_the_raw_points_through_inserts_extensions_packing_and_reverts,
    |engine: Engine| async move {
        let app = spawn_app(engine).await;
        let mut rng = Rng(0x2545_f491_4f6c_dd1d);
        let mut t = T0;
        let (mut packs, mut reverts) = (0, 0);
        for step in 0..400 {
            t = t + Span(rng.below(6 * 3_600_000) as i64 + 1);
            let price = match rng.below(10) {
                0 => None,
                1..=5 => Some(1_999),
                _ => Some(1_500 + 100 * rng.below(5) as i64),
            };
            let availability = if rng.below(12) == 0 {
                Availability::OutOfStock
            } else {
                Availability::InStock
            };
            observe(&app, price, availability, t).await;
            if step % 23 == 22 {
                packs += pack(&app, run_bytes(&mut rng)).await;
                assert_reads_match(&app, t, &format!("after packing at step {step}")).await;
            }
            if step % 61 == 60 {
                // A published point of the last ten days (often a packed one) is refuted.
                let p = product(&app).await;
                let mut conn = app.state.db.read.acquire().await.unwrap();
                let candidates =
                    points::since_unpacked(&mut conn, p.id, p.currency, t - Span::days(10))
                        .await
                        .unwrap();
                drop(conn);
                let victim = candidates[rng.below(candidates.len() as u64) as usize].id;
                t = t + Span::minutes(5);
                let truth = Truth {
                    price: Some(Money::new(1_234 + step, p.currency)),
                    availability: Availability::InStock,
                    observed_at: t,
                };
                refute(&app, victim, (reverts % 2 == 0).then_some(truth), t).await;
                reverts += 1;
                assert_reads_match(&app, t, &format!("after reverting at step {step}")).await;
                packs += pack(&app, run_bytes(&mut rng)).await;
                assert_reads_match(&app, t, &format!("after re-packing at step {step}")).await;
            }
        }
        packs += pack(&app, price_runs::RUN_BYTES).await;
        assert!(
            packs > 0 && packed_runs(&app).await > 5,
            "the history was packed"
        );
        assert!(reverts >= 6);
        assert_reads_match(&app, t, "at the end").await;

        // Over HTTP: the answers are core's charts and stats of the raw points.
        app.clock.set(t);
        let p = product(&app).await;
        let mut conn = app.state.db.read.acquire().await.unwrap();
        let raw = points::since_unpacked(
            &mut conn,
            p.id,
            p.currency,
            Timestamp::from_millis(i64::MIN),
        )
        .await
        .unwrap();
        drop(conn);
        let history =
            PriceHistory::new(p.currency, raw.into_iter().map(|s| s.point).collect()).unwrap();
        let config = HistoryConfig::default();
        for (period, granularity) in [
            (Period::All, Granularity::Daily),
            (Period::All, Granularity::Raw),
            (Period::Days30, Granularity::Hourly),
            (Period::Year, Granularity::Weekly),
        ] {
            // Through JSON text, as the answer comes: serde_json's float parsing does not
            // always give back the f64 it printed, so both sides take the same trip.
            let expected: Value = serde_json::from_slice(
                &serde_json::to_vec(
                    &history
                        .chart(
                            ChartQuery {
                                period,
                                granularity,
                            },
                            &config,
                            t,
                        )
                        .unwrap(),
                )
                .unwrap(),
            )
            .unwrap();
            let got: Value = app
                .get(&format!(
                    "/api/products/us/{ASIN}/history?period={period}&granularity={granularity}"
                ))
                .await
                .json()
                .await
                .unwrap();
            assert_eq!(got, expected, "{period} {granularity}");
        }
        let page: Value = app
            .get(&format!("/api/products/us/{ASIN}"))
            .await
            .json()
            .await
            .unwrap();
        let expected: Value = serde_json::from_slice(
            &serde_json::to_vec(&history.stats(Period::All, &config, t)).unwrap(),
        )
        .unwrap();
        assert_eq!(page["stats"], expected);
    }
);

both_engines!(
    the_packer_packs_every_point_but_the_latest_and_appends_to_the_last_run,
    |engine: Engine| async move {
        let app = spawn_app(engine).await;
        // Three days of hourly changes.
        for h in 0..(3 * 24 + 2) {
            let at = T0 + Span::hours(h) + Span::minutes(7);
            observe(&app, Some(1_000 + h % 3), Availability::InStock, at).await;
        }
        price_runs::pack_pass(&app.state.db.write, app.state.db.backend)
            .await
            .unwrap();
        // Counted from the runs: the app's own packer may have run a pass meanwhile.
        assert_eq!(
            points_in_runs(&app).await,
            3 * 24 + 1,
            "every point but the latest"
        );
        assert_eq!(packed_runs(&app).await, 1, "73 points fit one run");
        let p = product(&app).await;
        let packed_until = || async {
            sqlx::query_scalar::<_, i64>("SELECT packed_until FROM products WHERE id = $1")
                .bind(p.id)
                .fetch_one(&app.state.db.read)
                .await
                .unwrap()
        };
        let latest = T0 + Span::hours(3 * 24 + 1) + Span::minutes(7);
        assert_eq!(packed_until().await, latest.as_millis());
        // Nothing more to do while the latest point is only extended.
        observe(
            &app,
            Some(1_000 + 73 % 3),
            Availability::InStock,
            latest + Span::minutes(30),
        )
        .await;
        let again = price_runs::pack_pass(&app.state.db.write, app.state.db.backend)
            .await
            .unwrap();
        assert_eq!(again, 0);
        // A new point makes the one before packable: it joins the last run.
        let newest = latest + Span::hours(1);
        observe(&app, Some(555), Availability::InStock, newest).await;
        price_runs::pack_pass(&app.state.db.write, app.state.db.backend)
            .await
            .unwrap();
        assert_eq!(points_in_runs(&app).await, 3 * 24 + 2);
        assert_eq!(packed_runs(&app).await, 1, "appended, not a run of its own");
        assert_eq!(packed_until().await, newest.as_millis());
        assert_reads_match(&app, newest + Span::hours(2), "after the passes").await;
    }
);
