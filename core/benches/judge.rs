//! The trust path's costs per report: judging, signature verification, signing (what the
//! extension pays in wasm, natively here) and a consensus evaluation over a large held set.
//!
//! Run: `cargo bench -p pricewatch-core --bench judge` (`-- --quick` for a fast pass).

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use pricewatch_core::judge::{judge, AcceptedPoint, HeldReport, JudgeConfig, ProductState};
use pricewatch_core::report::{Nonce, PriceReport, ReportRules, ReporterKey};
use pricewatch_core::reputation::Reputation;
use pricewatch_core::{Asin, Availability, Currency, Marketplace, Money, Span, Timestamp};

const NOW: Timestamp = Timestamp::from_millis(1_735_689_600_000);
/// Reports judged per iteration of `judge_report`: a mix of changes, watchers and reporters.
const BATCH: usize = 1_000;

fn report(i: usize, minor: i64) -> PriceReport {
    let mut nonce = [1_u8; 16];
    nonce[..8].copy_from_slice(&(i as u64).to_be_bytes());
    PriceReport {
        marketplace: Marketplace::Us,
        asin: Asin::parse("B08N5WRWNW").unwrap_or_else(|e| panic!("{e}")),
        price: Some(Money::new(minor, Currency::Usd)),
        currency: Currency::Usd,
        availability: Availability::InStock,
        observed_at: NOW,
        client_version: "1.4.2".to_owned(),
        nonce: Nonce::from_bytes(nonce),
    }
}

fn history(minor: i64) -> Vec<AcceptedPoint> {
    (0..10)
        .map(|i| AcceptedPoint {
            price: Some(Money::new(minor + i * 50, Currency::Usd)),
            availability: Availability::InStock,
            at: NOW - Span::hours(10 - i),
        })
        .collect()
}

fn bench_trust(c: &mut Criterion) {
    let config = JudgeConfig::default();
    let product_history = history(99_900);
    let reputations = [
        Reputation::new(NOW),
        Reputation {
            confirmed: 200,
            ..Reputation::new(NOW - Span::days(365))
        },
        Reputation {
            confirmed: 30,
            refuted: 2,
            ..Reputation::new(NOW - Span::days(90))
        },
    ];
    let cases: Vec<(PriceReport, u32, Reputation)> = (0..BATCH)
        .map(|i| {
            let change = [1.0, 0.95, 0.7, 0.3, 0.001, 1.5][i % 6];
            let minor = ((99_900.0 * change) as i64).max(1);
            (report(i, minor), [0, 10, 5_000][i % 3], reputations[i % 3])
        })
        .collect();

    let mut group = c.benchmark_group("judge");

    group.throughput(Throughput::Elements(BATCH as u64));
    group.bench_function("judge_report", |b| {
        b.iter(|| {
            for (report, subscribers, reporter) in &cases {
                let product = ProductState {
                    history: &product_history,
                    subscribers: *subscribers,
                };
                black_box(judge(report, &product, reporter, &config, NOW));
            }
        })
    });

    let seed = [42_u8; 32];
    let signed = report(0, 94_900).sign(&seed);
    let rules = ReportRules::default();
    group.throughput(Throughput::Elements(1));
    group.bench_function("verify_signature", |b| {
        b.iter(|| black_box(black_box(&signed).verify(&rules, NOW)))
    });
    group.bench_function("sign_report", |b| {
        b.iter(|| black_box(report(0, 94_900).sign(black_box(&seed))))
    });

    // A held flood: 200 keys, two competing prices, evaluated after each new report.
    let held: Vec<HeldReport> = (0..200_u64)
        .map(|i| {
            let mut key = [0_u8; 32];
            key[..8].copy_from_slice(&i.to_be_bytes());
            HeldReport {
                key: ReporterKey::from_bytes(key),
                price: Some(Money::new(
                    if i % 2 == 0 { 1 } else { 49_900 },
                    Currency::Usd,
                )),
                availability: Availability::InStock,
                observed_at: NOW - Span::minutes((i % 60) as i64),
                reporter_score: 0.2,
            }
        })
        .collect();
    let reference = config.reference_price(&product_history, Currency::Usd);
    group.bench_function("consensus_evaluate_200_held", |b| {
        b.iter(|| black_box(config.consensus.evaluate(reference, black_box(&held), NOW)))
    });

    group.finish();
}

criterion_group!(benches, bench_trust);
criterion_main!(benches);
