use proptest::prelude::*;

use super::*;
use crate::asin::Asin;
use crate::marketplace::Marketplace;
use crate::money::Currency;
use crate::report::{Nonce, ReporterKey};
use crate::time::Span;

const NOW: Timestamp = Timestamp::from_millis(1_735_689_600_000);
const IPHONE: i64 = 99_900;

fn fresh() -> Reputation {
    Reputation::new(NOW)
}

fn with_record(age_days: i64, confirmed: u32, refuted: u32) -> Reputation {
    Reputation {
        confirmed,
        refuted,
        ..Reputation::new(NOW - Span::days(age_days))
    }
}

/// A year of confirmed reports: score ≈ 0.98.
fn trusted() -> Reputation {
    with_record(365, 200, 0)
}

fn terrible() -> Reputation {
    with_record(200, 2, 20)
}

fn usd(minor: i64) -> Money {
    Money::new(minor, Currency::Usd)
}

fn report(price: Option<i64>) -> PriceReport {
    PriceReport {
        marketplace: Marketplace::Us,
        asin: Asin::parse("B0DHJH2GZL").unwrap(),
        price: price.map(usd),
        currency: Currency::Usd,
        availability: if price.is_some() {
            Availability::InStock
        } else {
            Availability::OutOfStock
        },
        observed_at: NOW,
        client_version: "1.4.2".to_owned(),
        nonce: Nonce::from_bytes([7; 16]),
    }
}

/// `n` accepted points at one price, an hour apart, the latest an hour ago.
fn steady(minor: i64, n: i64) -> Vec<AcceptedPoint> {
    (0..n)
        .map(|i| AcceptedPoint {
            price: Some(usd(minor)),
            availability: Availability::InStock,
            at: NOW - Span::hours(n - i),
        })
        .collect()
}

#[track_caller]
fn judged(
    report: &PriceReport,
    history: &[AcceptedPoint],
    subscribers: u32,
    reporter: &Reputation,
) -> Verdict {
    let product = ProductState {
        history,
        subscribers,
    };
    judge(report, &product, reporter, &JudgeConfig::default(), NOW)
}

#[track_caller]
fn assert_has(verdict: &Verdict, reason: Reason) {
    assert!(
        verdict.reasons.contains(&reason),
        "{reason:?} missing from {verdict:?}"
    );
}

#[test]
fn a_fresh_key_cannot_move_a_watched_price() {
    let history = steady(IPHONE, 5);

    let verdict = judged(&report(Some(1)), &history, 5_000, &fresh());

    assert!(
        matches!(verdict.decision, Decision::Hold | Decision::Reject),
        "{verdict:?}"
    );
    assert_has(&verdict, Reason::LargeDrop);
    assert_has(&verdict, Reason::UntrustedReporter);
    assert_has(&verdict, Reason::WatchedProduct);
    assert!(
        verdict.required_reporters.is_some_and(|k| k > 50),
        "{verdict:?}"
    );
}

#[test]
fn a_fresh_key_cannot_publish_a_one_cent_iphone_even_unwatched() {
    let verdict = judged(&report(Some(1)), &steady(IPHONE, 5), 0, &fresh());

    assert!(!verdict.decision.publishes_now(), "{verdict:?}");
}

#[test]
fn a_trusted_key_moves_a_price_five_percent_at_once() {
    let verdict = judged(&report(Some(94_905)), &steady(IPHONE, 5), 5_000, &trusted());

    assert_eq!(verdict.decision, Decision::Accept, "{verdict:?}");
    assert_has(&verdict, Reason::TrustedReporter);
    assert_has(&verdict, Reason::SmallChange);
    assert_eq!(verdict.reference, Some(usd(IPHONE)));
    assert!(
        verdict.change.is_some_and(|c| (c + 0.05).abs() < 1e-9),
        "{verdict:?}"
    );
}

#[test]
fn a_first_report_for_an_unseen_product_is_accepted_and_verified() {
    let verdict = judged(&report(Some(2499)), &[], 0, &fresh());

    assert_eq!(verdict.decision, Decision::AcceptAndVerify);
    assert_eq!(verdict.reasons, vec![Reason::FirstReport]);
}

#[test]
fn an_absurd_first_price_is_held() {
    for minor in [1, 5_000_000] {
        let verdict = judged(&report(Some(minor)), &[], 0, &fresh());

        assert_eq!(verdict.decision, Decision::Hold, "{minor}");
        assert_eq!(
            verdict.reasons,
            vec![Reason::FirstReport, Reason::ImplausibleFirstPrice]
        );
        assert_eq!(verdict.required_reporters, Some(5));
    }
}

#[test]
fn a_first_report_without_a_price_is_accepted_and_verified() {
    let verdict = judged(&report(None), &[], 10, &fresh());

    assert_eq!(verdict.decision, Decision::AcceptAndVerify);
    assert_eq!(verdict.reasons, vec![Reason::FirstReport]);
}

#[test]
fn a_reporter_with_a_terrible_record_is_rejected() {
    let verdict = judged(&report(Some(IPHONE)), &steady(IPHONE, 5), 0, &terrible());

    assert_eq!(verdict.decision, Decision::Reject);
    assert_eq!(verdict.reasons, vec![Reason::PoorReputation]);
}

#[test]
fn a_banned_key_is_rejected_whatever_its_record() {
    let mut reporter = trusted();
    reporter.ban();

    let verdict = judged(&report(Some(IPHONE)), &steady(IPHONE, 5), 0, &reporter);

    assert_eq!(verdict.decision, Decision::Reject);
    assert_eq!(verdict.reasons, vec![Reason::BannedReporter]);
}

#[test]
fn currency_and_marketplace_mismatches_are_rejected_even_from_the_crawler() {
    let mut wrong_currency = report(Some(IPHONE));
    wrong_currency.currency = Currency::Eur;
    let mut wrong_price_currency = report(Some(IPHONE));
    wrong_price_currency.price = Some(Money::new(IPHONE, Currency::Cad));
    let mut wrong_marketplace = report(Some(IPHONE));
    wrong_marketplace.marketplace = Marketplace::De;

    for bad in [wrong_currency, wrong_price_currency, wrong_marketplace] {
        for reporter in [fresh(), trusted(), Reputation::crawler()] {
            let verdict = judged(&bad, &steady(IPHONE, 5), 10, &reporter);

            assert_eq!(verdict.decision, Decision::Reject);
            assert_eq!(verdict.reasons, vec![Reason::CurrencyMismatch]);
        }
    }
}

#[test]
fn impossible_prices_are_rejected() {
    let cases = [
        (0, Reason::NonPositivePrice),
        (-1, Reason::NonPositivePrice),
        (10_000_001, Reason::PriceAboveCeiling),
    ];
    for (minor, reason) in cases {
        let verdict = judged(&report(Some(minor)), &steady(IPHONE, 5), 0, &trusted());

        assert_eq!(verdict.decision, Decision::Reject, "{minor}");
        assert_eq!(verdict.reasons, vec![reason]);
    }
}

#[test]
fn the_crawler_is_always_accepted() {
    let history = steady(IPHONE, 5);
    let cases = [Some(1), Some(IPHONE * 20), None, Some(IPHONE)];
    for price in cases {
        for subscribers in [0, 1_000_000] {
            let verdict = judged(
                &report(price),
                &history,
                subscribers,
                &Reputation::crawler(),
            );

            assert_eq!(verdict.decision, Decision::Accept, "{price:?}");
            assert_eq!(verdict.reasons, vec![Reason::CrawlerObservation]);
            assert_eq!(verdict.suspicion, 0.0);
        }
    }
    let absurd_first = judged(&report(Some(1)), &[], 0, &Reputation::crawler());
    assert_eq!(absurd_first.decision, Decision::Accept);
}

/// The calibrated behaviour, one row per (reporter, change, subscribers).
#[test]
fn decisions_follow_the_calibrated_table() {
    use Decision::*;
    let old = 10_000;
    let middling = with_record(365, 30, 2); // ≈ 0.72
    let rows: [(&str, &Reputation, i64, u32, Decision); 17] = [
        ("fresh, unchanged, watched", &fresh(), old, 5_000, Accept),
        ("fresh, -2%, watched", &fresh(), 9800, 5_000, Accept),
        ("fresh, -10%, unwatched", &fresh(), 9000, 0, AcceptAndVerify),
        ("fresh, -20%, 10 watchers", &fresh(), 8000, 10, Hold),
        ("fresh, -50%, unwatched", &fresh(), 5000, 0, Hold),
        (
            "fresh, +10%, watched",
            &fresh(),
            11_000,
            5_000,
            AcceptAndVerify,
        ),
        ("middling, -10%, watched", &middling, 9000, 5_000, Accept),
        (
            "middling, -30%, watched",
            &middling,
            7000,
            5_000,
            AcceptAndVerify,
        ),
        ("middling, -60%, watched", &middling, 4000, 5_000, Hold),
        ("trusted, -5%, watched", &trusted(), 9500, 5_000, Accept),
        ("trusted, -25%, watched", &trusted(), 7500, 5_000, Accept),
        (
            "trusted, -40%, watched",
            &trusted(),
            6000,
            5_000,
            AcceptAndVerify,
        ),
        (
            "trusted, -60%, watched",
            &trusted(),
            4000,
            5_000,
            AcceptAndVerify,
        ),
        (
            "trusted, -75%, watched",
            &trusted(),
            2500,
            5_000,
            AcceptAndVerify,
        ),
        ("trusted, -99.9%, watched", &trusted(), 10, 5_000, Hold),
        (
            "trusted, -99.9%, unwatched",
            &trusted(),
            10,
            0,
            AcceptAndVerify,
        ),
        (
            "trusted, x10, watched",
            &trusted(),
            100_000,
            5_000,
            AcceptAndVerify,
        ),
    ];
    for (name, reporter, price, subscribers, expected) in rows {
        let verdict = judged(&report(Some(price)), &steady(old, 5), subscribers, reporter);

        assert_eq!(verdict.decision, expected, "{name}: {verdict:?}");
    }
}

#[test]
fn a_large_drop_is_verified_even_from_the_most_trusted_key() {
    let veteran = with_record(2_000, 5_000, 0);

    let verdict = judged(&report(Some(6_900)), &steady(10_000, 5), 0, &veteran);

    assert!(
        verdict.suspicion < JudgeConfig::default().accept_below,
        "{verdict:?}"
    );
    assert_eq!(verdict.decision, Decision::AcceptAndVerify);
    assert_has(&verdict, Reason::LargeDrop);
}

#[test]
fn a_vanished_price_from_a_fresh_key_on_a_watched_product_is_held() {
    let history = steady(IPHONE, 5);

    let from_fresh = judged(&report(None), &history, 5_000, &fresh());
    let from_trusted = judged(&report(None), &history, 5_000, &trusted());

    assert_eq!(from_fresh.decision, Decision::Hold);
    assert_has(&from_fresh, Reason::PriceVanished);
    assert_has(&from_fresh, Reason::AvailabilityFlip);
    assert_eq!(from_fresh.required_reporters, Some(3));
    assert_eq!(from_trusted.decision, Decision::Accept);
}

#[test]
fn an_availability_flip_adds_suspicion() {
    let history = steady(IPHONE, 5);
    let same = report(Some(IPHONE));
    let mut flipped = same.clone();
    flipped.availability = Availability::OutOfStock;

    let calm = judged(&same, &history, 100, &fresh());
    let flip = judged(&flipped, &history, 100, &fresh());

    assert_eq!(calm.suspicion, 0.0);
    assert_eq!(
        calm.reasons,
        vec![
            Reason::PriceUnchanged,
            Reason::UntrustedReporter,
            Reason::WatchedProduct
        ]
    );
    assert!(flip.suspicion > 0.0);
    assert_has(&flip, Reason::AvailabilityFlip);
}

#[test]
fn one_wrongly_accepted_point_does_not_launder_the_next_fake() {
    let mut history = steady(IPHONE, 4);
    history.push(AcceptedPoint {
        price: Some(usd(1)),
        availability: Availability::InStock,
        at: NOW - Span::minutes(1),
    });

    let verdict = judged(&report(Some(1)), &history, 5_000, &fresh());

    assert_eq!(verdict.reference, Some(usd(IPHONE)));
    assert_eq!(verdict.decision, Decision::Hold);
}

#[test]
fn the_verdict_json_is_what_the_admin_view_reads() {
    let verdict = judged(&report(Some(2499)), &[], 0, &fresh());

    let json = serde_json::to_value(&verdict).unwrap();

    assert_eq!(json["decision"], "accept_and_verify");
    assert_eq!(json["reasons"], serde_json::json!(["first_report"]));
    assert_eq!(json["reference"], serde_json::Value::Null);
    assert_eq!(json["required_reporters"], serde_json::Value::Null);
    let back: Verdict = serde_json::from_value(json).unwrap();
    assert_eq!(back, verdict);
}

#[test]
fn decisions_say_whether_they_publish_and_verify() {
    let table = [
        (Decision::Accept, true, false),
        (Decision::AcceptAndVerify, true, true),
        (Decision::Hold, false, true),
        (Decision::Reject, false, false),
    ];
    for (decision, publishes, verifies) in table {
        assert_eq!(decision.publishes_now(), publishes, "{decision:?}");
        assert_eq!(decision.needs_verification(), verifies, "{decision:?}");
    }
    assert_eq!(
        serde_json::to_string(&Decision::AcceptAndVerify).unwrap(),
        "\"accept_and_verify\""
    );
}

#[test]
fn held_verdicts_need_more_reporters_for_bigger_changes() {
    let drops = [9500, 7000, 4000, 1000, 1];
    let ks: Vec<u32> = drops
        .iter()
        .map(|p| judged(&report(Some(*p)), &steady(10_000, 5), 5_000, &fresh()))
        .map(|v| v.required_reporters.unwrap_or(0))
        .collect();

    assert!(ks.windows(2).all(|w| w[0] <= w[1]), "{ks:?}");
    assert_eq!(ks.last(), Some(&60));
}

fn reputation_with_score_rank(rank: u32) -> Reputation {
    with_record(365, rank * 10, 0)
}

proptest! {
    #[test]
    fn suspicion_stays_in_the_unit_interval(price in 1_i64..10_000_000, subs in any::<u32>(), c in 0_u32..1_000, r in 0_u32..5) {
        let v = judged(&report(Some(price)), &steady(IPHONE, 5), subs, &with_record(100, c, r));
        prop_assert!((0.0..=1.0).contains(&v.suspicion));
        prop_assert!(!v.reasons.is_empty());
    }

    #[test]
    fn more_watchers_never_lower_suspicion(price in 1_i64..10_000_000, subs in 0_u32..100_000, more in 0_u32..100_000) {
        let history = steady(IPHONE, 5);
        let few = judged(&report(Some(price)), &history, subs, &fresh());
        let many = judged(&report(Some(price)), &history, subs + more, &fresh());
        prop_assert!(many.suspicion >= few.suspicion);
    }

    #[test]
    fn a_deeper_drop_never_lowers_suspicion(price in 1_i64..IPHONE, deeper in 0_i64..IPHONE, subs in 0_u32..10_000) {
        let history = steady(IPHONE, 5);
        let lower = (price - deeper).max(1);
        let shallow = judged(&report(Some(price)), &history, subs, &fresh());
        let deep = judged(&report(Some(lower)), &history, subs, &fresh());
        prop_assert!(deep.suspicion >= shallow.suspicion);
    }

    #[test]
    fn a_better_record_never_raises_suspicion(price in 1_i64..10_000_000, rank in 0_u32..50, better in 0_u32..50) {
        let history = steady(IPHONE, 5);
        let worse = judged(&report(Some(price)), &history, 500, &reputation_with_score_rank(rank));
        let best = judged(&report(Some(price)), &history, 500, &reputation_with_score_rank(rank + better));
        prop_assert!(best.suspicion <= worse.suspicion);
    }

    #[test]
    fn decisions_order_with_suspicion(price in 1_i64..10_000_000, subs in 0_u32..10_000, c in 0_u32..300) {
        let v = judged(&report(Some(price)), &steady(IPHONE, 5), subs, &with_record(365, c, 0));
        let config = JudgeConfig::default();
        let expected = if v.suspicion < config.accept_below {
            Decision::Accept
        } else if v.suspicion < config.verify_below {
            Decision::AcceptAndVerify
        } else {
            Decision::Hold
        };
        // A large drop is never merely accepted, however trusted the key: it is what fires
        // alerts, so it is at least verified.
        let expected = if expected == Decision::Accept && v.reasons.contains(&Reason::LargeDrop) {
            Decision::AcceptAndVerify
        } else {
            expected
        };
        prop_assert_eq!(v.decision, expected);
    }
}

mod consensus_rules {
    use super::*;

    fn key(i: u32) -> ReporterKey {
        let mut bytes = [0u8; 32];
        bytes[..4].copy_from_slice(&i.to_be_bytes());
        ReporterKey::from_bytes(bytes)
    }

    fn held(i: u32, price: Option<i64>, minutes_ago: i64, score: f64) -> HeldReport {
        HeldReport {
            key: key(i),
            price: price.map(usd),
            availability: if price.is_some() {
                Availability::InStock
            } else {
                Availability::OutOfStock
            },
            observed_at: NOW - Span::minutes(minutes_ago),
            reporter_score: score,
        }
    }

    #[track_caller]
    fn outcome(reference: i64, held: &[HeldReport]) -> ConsensusOutcome {
        ConsensusRules::default().evaluate(Some(usd(reference)), held, NOW)
    }

    #[test]
    fn the_k_for_a_huge_drop_exceeds_a_plausible_sybil_group() {
        let rules = ConsensusRules::default();

        assert!(rules.required_reporters(Some(usd(IPHONE)), Some(usd(1))) > 50);
        assert_eq!(
            rules.required_reporters(Some(usd(10_000)), Some(usd(9900))),
            2
        );
        assert_eq!(
            rules.required_reporters(Some(usd(10_000)), Some(usd(9000))),
            3
        );
        assert_eq!(
            rules.required_reporters(Some(usd(10_000)), Some(usd(5000))),
            10
        );
        assert_eq!(
            rules.required_reporters(Some(usd(10_000)), Some(usd(40_000))),
            10
        );
        assert_eq!(
            rules.required_reporters(Some(usd(10_000)), Some(usd(60_000))),
            25
        );
        assert_eq!(rules.required_reporters(None, Some(usd(1))), 5);
        assert_eq!(rules.required_reporters(Some(usd(1)), None), 3);
    }

    #[test]
    fn fresh_keys_do_not_vote_however_many_agree() {
        let flood: Vec<HeldReport> = (0..200).map(|i| held(i, Some(1), 5, 0.2)).collect();

        let outcome = outcome(IPHONE, &flood);

        assert!(
            matches!(outcome, ConsensusOutcome::Pending { support: 0, .. }),
            "{outcome:?}"
        );
    }

    #[test]
    fn keys_with_a_record_cannot_confirm_a_huge_drop_below_k() {
        let flood: Vec<HeldReport> = (0..59).map(|i| held(i, Some(1), 5, 0.35)).collect();

        let below = outcome(IPHONE, &flood);

        assert_eq!(
            below,
            ConsensusOutcome::Pending {
                support: 59,
                required: 60
            }
        );
    }

    #[test]
    fn k_agreeing_keys_confirm_a_held_price() {
        let flood: Vec<HeldReport> = (0..60).map(|i| held(i, Some(1), 5, 0.35)).collect();

        let at_k = outcome(IPHONE, &flood);

        assert!(
            matches!(at_k, ConsensusOutcome::Confirmed { price: Some(p), required: 60, ref supporters, .. } if p == usd(1) && supporters.len() == 60)
        );
    }

    #[test]
    fn a_sybil_flood_is_held_below_k_while_an_honest_report_passes() {
        let config = JudgeConfig::default();
        let history = steady(IPHONE, 5);
        let product = ProductState {
            history: &history,
            subscribers: 5_000,
        };
        let mut flood = Vec::new();

        for i in 0..59 {
            let verdict = judge(&report(Some(1)), &product, &fresh(), &config, NOW);
            assert_eq!(verdict.decision, Decision::Hold, "sybil {i}");
            flood.push(HeldReport {
                reporter_score: verdict.reporter_score,
                ..held(i, Some(1), 0, 0.0)
            });
        }
        let honest = judge(&report(Some(IPHONE)), &product, &trusted(), &config, NOW);
        let outcome =
            config
                .consensus
                .evaluate(config.reference_price(&history, Currency::Usd), &flood, NOW);

        assert_eq!(honest.decision, Decision::Accept);
        assert!(
            matches!(outcome, ConsensusOutcome::Pending { support: 0, .. }),
            "fresh sybils have no vote: {outcome:?}"
        );
    }

    #[test]
    fn one_key_counts_once_however_often_it_reports() {
        let spam: Vec<HeldReport> = (0..100).map(|i| held(7, Some(9000), i % 60, 0.9)).collect();

        assert_eq!(
            outcome(10_000, &spam),
            ConsensusOutcome::Pending {
                support: 1,
                required: 3
            }
        );
    }

    #[test]
    fn agreement_means_within_one_percent_of_the_anchor() {
        let within = [
            held(1, Some(9000), 1, 0.9),
            held(2, Some(9090), 1, 0.9),
            held(3, Some(8910), 1, 0.9),
        ];
        let beyond = [
            held(1, Some(9000), 1, 0.9),
            held(2, Some(9091), 1, 0.9),
            held(3, Some(8909), 1, 0.9),
        ];

        assert!(
            matches!(outcome(10_000, &within), ConsensusOutcome::Confirmed { price: Some(p), .. } if p == usd(9000))
        );
        assert_eq!(
            outcome(10_000, &beyond),
            ConsensusOutcome::Pending {
                support: 1,
                required: 3
            }
        );
    }

    #[test]
    fn old_reports_refuted_keys_and_other_availabilities_do_not_count() {
        let rules = ConsensusRules::default();
        let window = rules.window.as_millis() / 60_000;
        let reports = [
            held(1, Some(9000), 1, 0.9),
            held(2, Some(9000), window + 1, 0.9),
            held(3, Some(9000), 1, 0.1),
            HeldReport {
                availability: Availability::OutOfStock,
                ..held(4, Some(9000), 1, 0.9)
            },
            held(5, Some(9000), -1, 0.9),
        ];

        assert_eq!(
            outcome(10_000, &reports),
            ConsensusOutcome::Pending {
                support: 1,
                required: 3
            }
        );
    }

    #[test]
    fn a_key_that_changed_its_mind_counts_with_its_latest_report() {
        let reports = [
            held(1, Some(5000), 30, 0.9),
            held(1, Some(9000), 10, 0.9),
            held(2, Some(9000), 5, 0.9),
            held(3, Some(9000), 5, 0.9),
        ];

        assert!(
            matches!(outcome(10_000, &reports), ConsensusOutcome::Confirmed { ref supporters, .. } if supporters.len() == 3)
        );
    }

    #[test]
    fn the_confirmed_price_is_the_lower_median_of_the_supporters() {
        let reports = [
            held(1, Some(9000), 1, 0.9),
            held(2, Some(9050), 1, 0.9),
            held(3, Some(9080), 1, 0.9),
            held(4, Some(8995), 1, 0.9),
        ];

        let result = outcome(10_000, &reports);

        assert!(
            matches!(result, ConsensusOutcome::Confirmed { price: Some(p), .. } if p == usd(9000)),
            "{result:?}"
        );
    }

    #[test]
    fn a_vanished_price_is_confirmed_by_agreeing_out_of_stock_reports() {
        let reports = [
            held(1, None, 1, 0.5),
            held(2, None, 2, 0.5),
            held(3, None, 3, 0.5),
        ];

        let result = outcome(10_000, &reports);

        assert!(
            matches!(
                result,
                ConsensusOutcome::Confirmed {
                    price: None,
                    availability: Availability::OutOfStock,
                    required: 3,
                    ..
                }
            ),
            "{result:?}"
        );
    }

    #[test]
    fn a_met_group_wins_over_a_larger_unmet_one() {
        // Twelve sybils claim -99.9% (K = 60); three reporters agree on -10% (K = 3).
        let mut reports: Vec<HeldReport> = (100..112).map(|i| held(i, Some(10), 1, 0.2)).collect();
        reports.extend((1..4).map(|i| held(i, Some(9000), 1, 0.8)));

        let result = outcome(10_000, &reports);

        assert!(
            matches!(result, ConsensusOutcome::Confirmed { price: Some(p), .. } if p == usd(9000)),
            "{result:?}"
        );
    }

    #[test]
    fn nothing_held_is_pending() {
        assert_eq!(
            outcome(10_000, &[]),
            ConsensusOutcome::Pending {
                support: 0,
                required: 3
            }
        );
    }

    proptest! {
        #[test]
        fn confirmation_always_has_k_distinct_voters(
            prices in proptest::collection::vec((0_u32..20, 1_i64..20_000, 0_i64..400), 0..40),
        ) {
            let reports: Vec<HeldReport> = prices.iter().map(|(k, p, ago)| held(*k, Some(*p), *ago, 0.5)).collect();
            if let ConsensusOutcome::Confirmed { supporters, required, .. } = outcome(10_000, &reports) {
                let mut distinct = supporters.clone();
                distinct.dedup();
                prop_assert_eq!(distinct.len(), supporters.len());
                prop_assert!(supporters.len() >= required as usize);
            }
        }

        #[test]
        fn the_order_of_held_reports_does_not_matter(
            prices in proptest::collection::vec((0_u32..20, 8_000_i64..10_000, 0_i64..400), 0..30),
        ) {
            let reports: Vec<HeldReport> = prices.iter().map(|(k, p, ago)| held(*k, Some(*p), *ago, 0.5)).collect();
            let mut reversed = reports.clone();
            reversed.reverse();
            prop_assert_eq!(outcome(10_000, &reports), outcome(10_000, &reversed));
        }
    }
}
