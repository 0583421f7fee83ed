//! Summary statistics of a price history over a period: current, lowest, highest,
//! time-weighted average, distance from the low, and the daily-low percentile the website
//! suggests thresholds from.

use serde::{Deserialize, Serialize};

use super::aggregate::{div_round, Bucket};
use super::timeline::{Level, Stretch};
use crate::time::Timestamp;

/// A price and when it held, in minor units of the chart's currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PriceAt {
    /// Minor units.
    pub price: i64,
    /// The start of the most recent stretch at this price, so the website can say "the
    /// lowest since …" with the latest date rather than one years ago.
    pub at: Timestamp,
}

/// How a period's prices sum up. Amounts are minor units of the chart's currency.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Stats {
    /// The buyable price right now; `None` when the product is out of stock, shows no price,
    /// or was not observed within the staleness limit.
    pub current: Option<i64>,
    /// The period's low (for the `all` period: the all-time low) and its date.
    pub lowest: PriceAt,
    /// The period's high and its (latest) date.
    pub highest: PriceAt,
    /// Average weighted by how long each price held, gaps excluded, rounded half away from
    /// zero.
    pub avg: i64,
    /// `current − lowest`: how much dearer than the low the product is now.
    pub above_lowest: Option<i64>,
    /// `above_lowest` as a percentage of the low (a ratio, so a float); `None` without a
    /// current price.
    pub above_lowest_percent: Option<f64>,
    /// The price the daily low reached on at least 10 % of the days with a price: a
    /// threshold that realistically fires (see [`low_reached_on_percent_of_days`]).
    pub low_on_10pct_of_days: i64,
}

/// The lowest price `p` such that on at least `percent` % of the days that had a buyable
/// price, the price went down to `p` or below (nearest-rank percentile of the daily lows).
/// `percent` 0 reads as the lowest day and anything above 100 as the highest. `None` when no
/// day had a price. `daily` are daily buckets.
pub(crate) fn low_reached_on_percent_of_days(daily: &[Bucket], percent: u8) -> Option<i64> {
    let mut lows: Vec<i64> = daily
        .iter()
        .filter_map(|b| b.prices().map(|o| o.min))
        .collect();
    if lows.is_empty() {
        return None;
    }
    lows.sort_unstable();
    let n = lows.len();
    let percent = usize::from(percent.min(100));
    let rank = (percent * n).div_ceil(100).clamp(1, n);
    lows.get(rank - 1).copied()
}

/// The statistics of a timeline ending now; `None` when no moment of it had a price.
pub(crate) fn stats(stretches: &[Stretch], daily: &[Bucket]) -> Option<Stats> {
    let mut lowest: Option<PriceAt> = None;
    let mut highest: Option<PriceAt> = None;
    let mut weighted: i128 = 0;
    let mut priced_ms: i64 = 0;
    for s in stretches {
        let Level::Price(price) = s.level else {
            continue;
        };
        // `<=` / `>=`: a later stretch at the same extreme moves the date to the latest one.
        let here = PriceAt { price, at: s.start };
        if lowest.is_none_or(|l| price <= l.price) {
            lowest = Some(here);
        }
        if highest.is_none_or(|h| price >= h.price) {
            highest = Some(here);
        }
        let ms = (s.end - s.start).as_millis();
        weighted += i128::from(price) * i128::from(ms);
        priced_ms += ms;
    }
    let (lowest, highest) = (lowest?, highest?);
    let avg = if priced_ms > 0 {
        i64::try_from(div_round(weighted, i128::from(priced_ms))).unwrap_or(highest.price)
    } else {
        lowest.price
    };
    let current = match stretches.last().map(|s| s.level) {
        Some(Level::Price(p)) => Some(p),
        _ => None,
    };
    let above_lowest = current.map(|c| c - lowest.price);
    let above_lowest_percent = above_lowest
        .filter(|_| lowest.price > 0)
        .map(|d| d as f64 * 100.0 / lowest.price as f64);
    Some(Stats {
        current,
        lowest,
        highest,
        avg,
        above_lowest,
        above_lowest_percent,
        low_on_10pct_of_days: low_reached_on_percent_of_days(daily, 10).unwrap_or(lowest.price),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::aggregate::{BucketValue, Ohlc};
    use crate::history::timeline::GapReason;

    fn day_with_low(i: i64, low: i64) -> Bucket {
        Bucket {
            start: Timestamp(i),
            end: Timestamp(i + 1),
            value: BucketValue::Prices(Ohlc {
                open: low,
                close: low,
                min: low,
                max: low,
                avg: low,
            }),
        }
    }

    fn gap_day(i: i64) -> Bucket {
        Bucket {
            start: Timestamp(i),
            end: Timestamp(i + 1),
            value: BucketValue::Gap {
                gap: GapReason::OutOfStock,
            },
        }
    }

    #[test]
    fn the_percentile_is_the_nearest_rank_of_the_daily_lows_ignoring_gap_days() {
        // Lows 1..=20 in shuffled order, with gap days that must not count as days.
        let mut days: Vec<Bucket> = (0..20).map(|i| day_with_low(i, (i * 7) % 20 + 1)).collect();
        days.push(gap_day(20));
        days.push(gap_day(21));
        assert_eq!(low_reached_on_percent_of_days(&days, 10), Some(2));
        assert_eq!(low_reached_on_percent_of_days(&days, 11), Some(3));
        assert_eq!(low_reached_on_percent_of_days(&days, 0), Some(1));
        assert_eq!(low_reached_on_percent_of_days(&days, 50), Some(10));
        assert_eq!(low_reached_on_percent_of_days(&days, 100), Some(20));
        assert_eq!(low_reached_on_percent_of_days(&days, 255), Some(20));
        assert_eq!(low_reached_on_percent_of_days(&[gap_day(0)], 10), None);
    }

    #[test]
    fn stats_date_the_low_by_its_latest_stretch_and_measure_the_distance_from_it() {
        let stretches = [
            Stretch {
                start: Timestamp(0),
                end: Timestamp(10),
                level: Level::Price(80),
            },
            Stretch {
                start: Timestamp(10),
                end: Timestamp(20),
                level: Level::Price(120),
            },
            Stretch {
                start: Timestamp(20),
                end: Timestamp(30),
                level: Level::Price(80),
            },
            Stretch {
                start: Timestamp(30),
                end: Timestamp(40),
                level: Level::Price(100),
            },
        ];
        let got = stats(&stretches, &[day_with_low(0, 80)]);
        let expected = Stats {
            current: Some(100),
            lowest: PriceAt {
                price: 80,
                at: Timestamp(20),
            },
            highest: PriceAt {
                price: 120,
                at: Timestamp(10),
            },
            avg: 95,
            above_lowest: Some(20),
            above_lowest_percent: Some(25.0),
            low_on_10pct_of_days: 80,
        };
        assert_eq!(got, Some(expected));
    }

    #[test]
    fn a_period_ending_in_a_gap_has_no_current_price() {
        let stretches = [
            Stretch {
                start: Timestamp(0),
                end: Timestamp(10),
                level: Level::Price(80),
            },
            Stretch {
                start: Timestamp(10),
                end: Timestamp(20),
                level: Level::Gap(GapReason::NotObserved),
            },
        ];
        let got = stats(&stretches, &[]);
        assert_eq!(got.map(|s| (s.current, s.above_lowest)), Some((None, None)));
        let only_gaps = [stretches[1]];
        assert_eq!(stats(&only_gaps, &[]), None);
    }
}
