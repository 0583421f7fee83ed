//! Whole-history tests: charts built from stored points, checked against brute-force
//! recomputation and the invariants the chart code relies on.

use proptest::prelude::*;

use super::calendar::{self, Date};
use super::*;
use crate::money::{Currency, Money};
use crate::observation::Availability;
use crate::time::{Span, Timestamp};

fn at(year: i64, month: u32, day: u32) -> Timestamp {
    calendar::midnight(Date { year, month, day })
}

fn usd_point(
    price: Option<i64>,
    availability: Availability,
    first: Timestamp,
    last: Timestamp,
) -> PricePoint {
    PricePoint {
        price: price.map(|p| Money::new(p, Currency::Usd)),
        availability,
        first_seen_at: first,
        last_seen_at: last,
    }
}

#[track_caller]
fn history(points: Vec<PricePoint>) -> PriceHistory {
    match PriceHistory::new(Currency::Usd, points) {
        Ok(h) => h,
        Err(e) => panic!("test history is invalid: {e}"),
    }
}

#[track_caller]
fn chart(
    h: &PriceHistory,
    period: Period,
    granularity: Granularity,
    config: &HistoryConfig,
    now: Timestamp,
) -> Chart {
    match h.chart(
        ChartQuery {
            period,
            granularity,
        },
        config,
        now,
    ) {
        Ok(c) => c,
        Err(e) => panic!("chart failed: {e}"),
    }
}

/// Buckets are ordered, non-empty, back to back and cover `[start, end)` exactly; prices obey
/// min ≤ open, close, avg ≤ max.
#[track_caller]
fn assert_well_formed(c: &Chart) {
    let mut cursor = c.start;
    for b in &c.buckets {
        assert_eq!(b.start, cursor, "buckets must touch: {b:?}");
        assert!(b.start < b.end, "buckets must be non-empty: {b:?}");
        cursor = b.end;
        if let Some(o) = b.prices() {
            assert!(o.min <= o.open && o.open <= o.max, "{o:?}");
            assert!(o.min <= o.close && o.close <= o.max, "{o:?}");
            assert!(o.min <= o.avg && o.avg <= o.max, "{o:?}");
        }
    }
    if !c.buckets.is_empty() {
        assert_eq!(cursor, c.end, "buckets must reach the end");
    }
}

/// OHLC recomputed the slow way from raw buckets overlapping `[start, end)`.
fn recompute(raw: &[Bucket], start: Timestamp, end: Timestamp) -> Option<Ohlc> {
    let mut priced: Vec<(i64, i64)> = Vec::new(); // (price, overlapping ms)
    for b in raw {
        let overlap = (b.end.min(end) - b.start.max(start)).as_millis();
        if overlap > 0 {
            if let Some(o) = b.prices() {
                priced.push((o.open, overlap));
            }
        }
    }
    let (first, last) = (priced.first()?, priced.last()?);
    let total: i64 = priced.iter().map(|(_, ms)| ms).sum();
    let weighted: i128 = priced
        .iter()
        .map(|(p, ms)| i128::from(*p) * i128::from(*ms))
        .sum();
    let avg = super::aggregate::div_round(weighted, i128::from(total));
    Some(Ohlc {
        open: first.0,
        close: last.0,
        min: priced.iter().map(|(p, _)| *p).min()?,
        max: priced.iter().map(|(p, _)| *p).max()?,
        avg: i64::try_from(avg).ok()?,
    })
}

/// Points with random prices, stock, durations and silences, starting at `origin`.
fn arb_points(origin: Timestamp) -> impl Strategy<Value = Vec<PricePoint>> {
    let step = (
        0_i64..3 * 86_400_000, // silence before the point
        0_i64..4 * 86_400_000, // how long it was seen
        prop_oneof![8 => (1_i64..100_000).prop_map(Some), 1 => Just(None)],
        prop_oneof![6 => Just(Availability::InStock), 1 => Just(Availability::OutOfStock), 1 => Just(Availability::Unknown)],
    );
    proptest::collection::vec(step, 0..60).prop_map(move |steps| {
        let mut t = origin;
        let mut points = Vec::with_capacity(steps.len());
        for (silence, seen, price, availability) in steps {
            let first = t + Span(silence + 1);
            let last = first + Span(seen);
            points.push(usd_point(price, availability, first, last));
            t = last;
        }
        points
    })
}

const ORIGIN_MS: i64 = 1_704_067_200_000; // 2024-01-01T00:00:00Z, a leap year

fn roomy() -> HistoryConfig {
    HistoryConfig {
        staleness: Span::days(2),
        max_raw_points: usize::MAX,
        max_buckets: 1_000_000,
    }
}

#[test]
fn the_origin_constant_is_new_year_2024() {
    assert_eq!(at(2024, 1, 1), Timestamp(ORIGIN_MS));
}

#[test]
fn an_out_of_stock_stretch_stays_a_gap_in_a_daily_chart() {
    let h = history(vec![
        usd_point(
            Some(2000),
            Availability::InStock,
            at(2024, 3, 1),
            at(2024, 3, 3),
        ),
        usd_point(
            Some(1500),
            Availability::OutOfStock,
            at(2024, 3, 3),
            at(2024, 3, 6),
        ),
        usd_point(
            Some(1800),
            Availability::InStock,
            at(2024, 3, 6),
            at(2024, 3, 8),
        ),
    ]);
    let c = chart(
        &h,
        Period::All,
        Granularity::Daily,
        &HistoryConfig::default(),
        at(2024, 3, 8),
    );
    let values: Vec<BucketValue> = c.buckets.iter().map(|b| b.value).collect();
    let gap = BucketValue::Gap {
        gap: GapReason::OutOfStock,
    };
    let flat = |p| {
        BucketValue::Prices(Ohlc {
            open: p,
            close: p,
            min: p,
            max: p,
            avg: p,
        })
    };
    assert_eq!(
        values,
        vec![
            flat(2000),
            flat(2000),
            gap,
            gap,
            gap,
            flat(1800),
            flat(1800)
        ]
    );
    let stats = c.stats.map(|s| (s.lowest.price, s.current));
    assert_eq!(
        stats,
        Some((1800, Some(1800))),
        "the out-of-stock 1500 is not a price anyone could pay"
    );
}

#[test]
fn a_price_nobody_rechecked_within_the_staleness_limit_turns_into_a_gap() {
    let config = HistoryConfig {
        staleness: Span::days(2),
        ..HistoryConfig::default()
    };
    let h = history(vec![usd_point(
        Some(999),
        Availability::InStock,
        at(2024, 5, 1),
        at(2024, 5, 2),
    )]);
    let c = chart(
        &h,
        Period::All,
        Granularity::Daily,
        &config,
        at(2024, 5, 10),
    );
    let priced_days = c.buckets.iter().filter(|b| b.prices().is_some()).count();
    assert_eq!(
        priced_days, 3,
        "seen on May 1 and 2, vouched for until May 4"
    );
    assert_eq!(
        c.buckets.get(3).map(|b| b.value),
        Some(BucketValue::Gap {
            gap: GapReason::NotObserved
        })
    );
    assert_eq!(c.stats.map(|s| s.current), Some(None));
}

#[test]
fn monthly_buckets_follow_the_calendar_through_a_leap_february() {
    let h = history(vec![usd_point(
        Some(100),
        Availability::InStock,
        at(2024, 1, 15),
        at(2024, 4, 10),
    )]);
    let c = chart(
        &h,
        Period::All,
        Granularity::Monthly,
        &HistoryConfig::default(),
        at(2024, 4, 10) + Span::hours(5),
    );
    let bounds: Vec<(Timestamp, Timestamp)> = c.buckets.iter().map(|b| (b.start, b.end)).collect();
    assert_eq!(
        bounds,
        vec![
            (at(2024, 1, 15), at(2024, 2, 1)),
            (at(2024, 2, 1), at(2024, 3, 1)),
            (at(2024, 3, 1), at(2024, 4, 1)),
            (at(2024, 4, 1), at(2024, 4, 10) + Span::hours(5)),
        ]
    );
    assert_eq!(at(2024, 3, 1) - at(2024, 2, 1), Span::days(29));
}

#[test]
fn weekly_buckets_start_on_monday_and_one_week_spans_new_year() {
    // Wednesday 2020-12-23 to Wednesday 2021-01-13.
    let h = history(vec![usd_point(
        Some(100),
        Availability::InStock,
        at(2020, 12, 23),
        at(2021, 1, 13),
    )]);
    let c = chart(
        &h,
        Period::All,
        Granularity::Weekly,
        &HistoryConfig::default(),
        at(2021, 1, 13),
    );
    let starts: Vec<Timestamp> = c.buckets.iter().map(|b| b.start).collect();
    assert_eq!(
        starts,
        vec![
            at(2020, 12, 23),
            at(2020, 12, 28),
            at(2021, 1, 4),
            at(2021, 1, 11)
        ]
    );
    assert_eq!(
        c.buckets.get(1).map(|b| b.end),
        Some(at(2021, 1, 4)),
        "ISO 2020-W53 runs into January"
    );
}

#[test]
fn a_thirty_day_chart_starts_thirty_days_before_now_not_at_midnight() {
    let now = at(2024, 6, 30) + Span::hours(15);
    let h = history(vec![usd_point(
        Some(100),
        Availability::InStock,
        at(2024, 1, 1),
        now,
    )]);
    let c = chart(
        &h,
        Period::Days30,
        Granularity::Daily,
        &HistoryConfig::default(),
        now,
    );
    assert_eq!((c.start, c.end), (now - Span::days(30), now));
    assert_eq!(c.buckets.len(), 31, "two clipped days and 29 whole ones");
    assert_well_formed(&c);
}

#[test]
fn too_fine_a_granularity_for_the_period_is_refused_with_both_named() {
    let h = history(vec![usd_point(
        Some(100),
        Availability::InStock,
        at(2015, 1, 1),
        at(2024, 1, 1),
    )]);
    let got = h.chart(
        ChartQuery {
            period: Period::All,
            granularity: Granularity::Hourly,
        },
        &HistoryConfig::default(),
        at(2024, 1, 1),
    );
    let message = got.map(|c| c.buckets.len()).map_err(|e| e.to_string());
    assert!(
        message
            .as_ref()
            .is_err_and(|m| m.starts_with("hourly buckets over all would be about ")),
        "{message:?}"
    );
}

#[test]
fn a_history_refuses_points_out_of_order_seen_backwards_or_in_another_currency() {
    let t = at(2024, 1, 1);
    let ok = usd_point(Some(1), Availability::InStock, t, t + Span(5));
    let same_start = usd_point(Some(2), Availability::InStock, t, t + Span(5));
    let backwards = usd_point(Some(2), Availability::InStock, t + Span(9), t + Span(8));
    let mut euro = usd_point(Some(2), Availability::InStock, t + Span(9), t + Span(9));
    euro.price = Some(Money::new(2, Currency::Eur));
    let cases = [
        (vec![ok, same_start], HistoryError::OutOfOrder { index: 1 }),
        (
            vec![ok, backwards],
            HistoryError::SeenBackwards { index: 1 },
        ),
        (
            vec![ok, euro],
            HistoryError::MixedCurrency {
                index: 1,
                expected: Currency::Usd,
                found: Currency::Eur,
            },
        ),
    ];
    for (points, expected) in cases {
        assert_eq!(
            PriceHistory::new(Currency::Usd, points),
            Err(expected.clone()),
            "{expected}"
        );
    }
}

#[test]
fn an_empty_history_draws_one_gap_and_has_no_stats() {
    let h = history(Vec::new());
    let now = at(2024, 1, 1);
    let all = chart(
        &h,
        Period::All,
        Granularity::Daily,
        &HistoryConfig::default(),
        now,
    );
    assert_eq!((all.buckets.len(), all.stats), (0, None));
    let month = chart(
        &h,
        Period::Days30,
        Granularity::Monthly,
        &HistoryConfig::default(),
        now,
    );
    assert!(month.buckets.iter().all(|b| b.value
        == BucketValue::Gap {
            gap: GapReason::NotObserved
        }));
    assert_eq!(month.stats, None);
}

#[test]
fn the_chart_json_names_its_fields_plainly_with_the_currency_once() {
    let h = history(vec![
        usd_point(
            Some(1999),
            Availability::InStock,
            at(2024, 3, 1),
            at(2024, 3, 1) + Span::hours(10),
        ),
        usd_point(
            Some(1799),
            Availability::InStock,
            at(2024, 3, 1) + Span::hours(12),
            at(2024, 3, 2),
        ),
    ]);
    let c = chart(
        &h,
        Period::All,
        Granularity::Daily,
        &HistoryConfig::default(),
        at(2024, 3, 2),
    );
    let json = serde_json::to_value(&c).unwrap();
    let expected = serde_json::json!({
        "currency": "USD",
        "period": "all",
        "granularity": "daily",
        "start": at(2024, 3, 1).0,
        "end": at(2024, 3, 2).0,
        "downsampled": false,
        "buckets": [
            {"start": at(2024, 3, 1).0, "end": at(2024, 3, 2).0, "open": 1999, "close": 1799, "min": 1799, "max": 1999, "avg": 1899}
        ],
        "stats": {
            "current": 1799,
            "lowest": {"price": 1799, "at": (at(2024, 3, 1) + Span::hours(12)).0},
            "highest": {"price": 1999, "at": at(2024, 3, 1).0},
            "avg": 1899,
            "above_lowest": 0,
            "above_lowest_percent": 0.0,
            "low_on_10pct_of_days": 1799
        }
    });
    assert_eq!(json, expected);
    let back: Chart = serde_json::from_value(json).unwrap();
    assert_eq!(back, c);
}

#[test]
fn the_threshold_suggestion_reads_the_daily_lows() {
    // 20 days at 1000 + day index, then today back at 2000.
    let points: Vec<PricePoint> = (0..20)
        .map(|d| {
            let day = at(2024, 1, 1) + Span::days(d);
            usd_point(
                Some(1000 + d),
                Availability::InStock,
                day,
                day + Span::hours(23),
            )
        })
        .collect();
    let h = history(points);
    let now = at(2024, 1, 21);
    let got = h.low_reached_on_percent_of_days(Period::All, 10, &HistoryConfig::default(), now);
    assert_eq!(
        got,
        Some(Money::new(1001, Currency::Usd)),
        "2 of 20 days went to 10.01 or lower"
    );
    let stats = h.stats(Period::All, &HistoryConfig::default(), now);
    assert_eq!(stats.map(|s| s.low_on_10pct_of_days), Some(1001));
}

proptest! {
    #[test]
    fn calendar_charts_are_well_formed_and_equal_a_recomputation_from_raw(
        points in arb_points(Timestamp(ORIGIN_MS)),
        extra_ms in 0_i64..20 * 86_400_000,
        g in 1..5_usize,
    ) {
        let config = roomy();
        let h = history(points);
        let last = h.points().last().map_or(Timestamp(ORIGIN_MS), |p| p.last_seen_at);
        let now = last + Span(extra_ms + 1);
        let raw = chart(&h, Period::All, Granularity::Raw, &config, now);
        let agg = chart(&h, Period::All, Granularity::ALL[g], &config, now);
        assert_well_formed(&raw);
        assert_well_formed(&agg);
        prop_assert!(!raw.downsampled);
        for b in &agg.buckets {
            prop_assert_eq!(b.prices().copied(), recompute(&raw.buckets, b.start, b.end), "bucket {:?}", b);
        }
    }

    #[test]
    fn calendar_buckets_never_straddle_a_calendar_boundary(
        points in arb_points(Timestamp(ORIGIN_MS - 40 * 86_400_000)),
        g in 1..5_usize,
    ) {
        let granularity = Granularity::ALL[g];
        let h = history(points);
        let now = Timestamp(ORIGIN_MS + 400 * 86_400_000);
        let c = chart(&h, Period::Year, granularity, &roomy(), now);
        for b in c.buckets.iter().skip(1) {
            let aligned = match granularity {
                Granularity::Hourly => calendar::start_of_hour(b.start),
                Granularity::Daily => calendar::start_of_day(b.start),
                Granularity::Weekly => calendar::start_of_iso_week(b.start),
                _ => calendar::start_of_month(b.start),
            };
            prop_assert_eq!(aligned, b.start);
            prop_assert_eq!(granularity.next_boundary(b.start).map(|n| n.min(c.end)), Some(b.end));
        }
    }

    #[test]
    fn down_sampling_keeps_every_columns_extremes_and_so_the_global_ones(
        points in arb_points(Timestamp(ORIGIN_MS)),
        columns in 1_usize..40,
    ) {
        let h = history(points);
        let last = h.points().last().map_or(Timestamp(ORIGIN_MS), |p| p.last_seen_at);
        let now = last + Span::hours(1);
        let raw = chart(&h, Period::All, Granularity::Raw, &roomy(), now);
        let config = HistoryConfig { max_raw_points: columns, ..roomy() };
        let small = chart(&h, Period::All, Granularity::Raw, &config, now);
        assert_well_formed(&small);
        prop_assert_eq!(small.downsampled, raw.buckets.len() > columns);
        prop_assert!(small.buckets.len() <= columns.max(raw.buckets.len()));
        if small.downsampled {
            for col in &small.buckets {
                let expected = recompute(&raw.buckets, col.start, col.end);
                prop_assert_eq!(col.prices().map(|o| (o.min, o.max)), expected.map(|o| (o.min, o.max)));
            }
        }
        let global = |c: &Chart| {
            let mins = c.buckets.iter().filter_map(|b| b.prices().map(|o| o.min)).min();
            let maxs = c.buckets.iter().filter_map(|b| b.prices().map(|o| o.max)).max();
            (mins, maxs)
        };
        prop_assert_eq!(global(&small), global(&raw));
        prop_assert_eq!(small.stats, raw.stats);
    }

    #[test]
    fn gaps_are_never_filled(points in arb_points(Timestamp(ORIGIN_MS)), g in 0..5_usize) {
        let config = roomy();
        let h = history(points);
        let last = h.points().last().map_or(Timestamp(ORIGIN_MS), |p| p.last_seen_at);
        let now = last + Span::days(5);
        let raw = chart(&h, Period::All, Granularity::Raw, &config, now);
        let c = chart(&h, Period::All, Granularity::ALL[g], &config, now);
        for b in &c.buckets {
            let priced_inside = raw.buckets.iter().any(|r| {
                r.prices().is_some() && r.start.max(b.start) < r.end.min(b.end)
            });
            prop_assert_eq!(b.prices().is_some(), priced_inside, "bucket {:?}", b);
        }
    }

    #[test]
    fn stats_agree_with_the_raw_buckets(points in arb_points(Timestamp(ORIGIN_MS)), extra_ms in 1_i64..10 * 86_400_000) {
        let config = roomy();
        let h = history(points);
        let last = h.points().last().map_or(Timestamp(ORIGIN_MS), |p| p.last_seen_at);
        let now = last + Span(extra_ms);
        let raw = chart(&h, Period::All, Granularity::Raw, &config, now);
        let whole = recompute(&raw.buckets, raw.start, raw.end);
        let stats = raw.stats;
        prop_assert_eq!(stats.map(|s| (s.lowest.price, s.highest.price, s.avg)), whole.map(|o| (o.min, o.max, o.avg)));
        if let Some(s) = stats {
            prop_assert!(s.lowest.price <= s.low_on_10pct_of_days && s.low_on_10pct_of_days <= s.highest.price);
            let current = raw.buckets.last().and_then(|b| b.prices().map(|o| o.close));
            prop_assert_eq!(s.current, current);
        }
    }
}
