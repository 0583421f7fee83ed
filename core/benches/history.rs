//! History charts and alert evaluation on realistic volumes.
//!
//! 100,000 change-only points is a very busy product: a change every 15 minutes for almost
//! three years (repricers do that). Charting it must be fast enough to do on request, both
//! on the server and in the wasm chart, and alert evaluation runs once per subscription for
//! every accepted price change, so it must cost next to nothing per event.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use pricewatch_core::alert::{
    on_price, AlertConfig, AlertState, Channel, PriceEvent, PriceTarget, Subscription,
    SubscriptionId,
};
use pricewatch_core::history::{
    ChartQuery, Granularity, HistoryConfig, Period, PriceHistory, PricePoint, PricePointId,
};
use pricewatch_core::{Availability, Currency, Money, Span, Timestamp};
use std::hint::black_box;

const POINTS: usize = 100_000;
const START: Timestamp = Timestamp(1_600_000_000_000);

/// A deterministic xorshift, so every run measures the same series.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// A random walk around $100 with a change every 5–25 minutes and an occasional
/// out-of-stock spell, as the change-only rule would store it.
fn busy_product(n: usize) -> Vec<PricePoint> {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut price: i64 = 10_000;
    let mut t = START;
    let mut points = Vec::with_capacity(n);
    for _ in 0..n {
        let step = (rng.next() % 401) as i64 - 200;
        price = (price + step).clamp(2_000, 30_000);
        let availability = if rng.next() % 50 == 0 {
            Availability::OutOfStock
        } else {
            Availability::InStock
        };
        let lasted = Span::minutes(5 + (rng.next() % 20) as i64);
        points.push(PricePoint {
            price: Some(Money::new(price, Currency::Usd)),
            availability,
            first_seen_at: t,
            last_seen_at: t + lasted - Span::minutes(1),
        });
        t = t + lasted;
    }
    points
}

fn bench_history(c: &mut Criterion) {
    let points = busy_product(POINTS);
    let now = points.last().map_or(START, |p| p.last_seen_at) + Span::hours(1);
    let history = match PriceHistory::new(Currency::Usd, points) {
        Ok(h) => h,
        Err(e) => panic!("benchmark history is invalid: {e}"),
    };
    let config = HistoryConfig::default();
    let daily = ChartQuery {
        period: Period::All,
        granularity: Granularity::Daily,
    };
    let raw = ChartQuery {
        period: Period::All,
        granularity: Granularity::Raw,
    };

    let mut group = c.benchmark_group("history");
    group.throughput(Throughput::Elements(POINTS as u64));
    group.bench_function("aggregate_100k_daily", |b| {
        b.iter(|| black_box(history.chart(black_box(daily), &config, now)))
    });
    group.bench_function("downsample_100k_raw_to_1000", |b| {
        b.iter(|| black_box(history.chart(black_box(raw), &config, now)))
    });

    // Alert evaluation: the same walk as price events for one subscription whose threshold
    // the walk crosses many times, each event fed the state the previous one returned.
    let events: Vec<PriceEvent> = history
        .points()
        .iter()
        .enumerate()
        .take(10_000)
        .map(|(i, p)| PriceEvent {
            point: PricePointId(i as i64),
            price: p.price,
            availability: p.availability,
            at: p.first_seen_at,
        })
        .collect();
    let subscription = Subscription {
        id: SubscriptionId(1),
        target: Some(PriceTarget::AtOrBelow {
            threshold: Money::new(9_500, Currency::Usd),
        }),
        back_in_stock: true,
        channel: Channel::Email,
        paused: false,
    };
    let alert_config = AlertConfig::default();
    group.throughput(Throughput::Elements(events.len() as u64));
    group.bench_function("alert_evaluate_per_event", |b| {
        b.iter(|| {
            let mut state = AlertState::default();
            for event in &events {
                state = on_price(
                    &subscription,
                    &alert_config,
                    &state,
                    black_box(event),
                    event.at,
                )
                .state;
            }
            black_box(state)
        })
    });
    group.finish();
}

criterion_group!(benches, bench_history);
criterion_main!(benches);
