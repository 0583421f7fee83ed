//! Chart buckets: per-bucket open/close/min/max and time-weighted average over a timeline,
//! for calendar buckets and for the equal-width columns that down-sample raw ranges.
//!
//! # Down-sampling
//! A raw range with more stretches than the chart can draw is cut into equal-width columns
//! (one per pixel column the caller allows) and each column keeps its first, last, lowest and
//! highest price: M4 (Jugel et al., "M4: A Visualization-Oriented Time Series Data
//! Aggregation", VLDB 2014) in bucket form. A line through open → min/max → close per column
//! lights the same pixels as the full series at that width, and the promise tested is exact:
//! every column's minimum and maximum are the minimum and maximum of the raw prices inside
//! it, so the global extremes and every local extreme survive (a column holding several local
//! extremes keeps its lowest and highest). A column with no priced time is a gap.

use serde::{Deserialize, Serialize};

use super::query::Granularity;
use super::timeline::{GapReason, Level, Stretch};
use crate::time::{Span, Timestamp};

/// Prices of one bucket, in minor units of the chart's currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ohlc {
    /// The first price in the bucket.
    pub open: i64,
    /// The last price in the bucket.
    pub close: i64,
    /// The lowest price in the bucket.
    pub min: i64,
    /// The highest price in the bucket.
    pub max: i64,
    /// Average weighted by how long each price held inside the bucket, gaps excluded,
    /// rounded half away from zero to whole minor units.
    pub avg: i64,
}

/// A bucket's content: prices, or a gap the chart must leave empty.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum BucketValue {
    /// Some moment of the bucket had a buyable price.
    Prices(Ohlc),
    /// No buyable price at any moment of the bucket; `gap` is the reason covering most of it.
    Gap {
        /// Why the bucket is empty.
        gap: GapReason,
    },
}

/// One bucket `[start, end)` of a chart. In JSON the value is flattened into the bucket:
/// `{"start":…,"end":…,"open":…,"close":…,"min":…,"max":…,"avg":…}` or
/// `{"start":…,"end":…,"gap":"out_of_stock"}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bucket {
    /// Inclusive; a calendar boundary except where the range clips it.
    pub start: Timestamp,
    /// Exclusive; the next bucket's `start`.
    pub end: Timestamp,
    /// Prices or a gap.
    #[serde(flatten)]
    pub value: BucketValue,
}

impl Bucket {
    /// The bucket's prices, `None` for a gap.
    pub fn prices(&self) -> Option<&Ohlc> {
        match &self.value {
            BucketValue::Prices(ohlc) => Some(ohlc),
            BucketValue::Gap { .. } => None,
        }
    }
}

/// How a range is cut into buckets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Bucketing {
    /// UTC calendar buckets (never `Raw`).
    Calendar(Granularity),
    /// Equal-width columns starting at `origin` (down-sampling).
    Columns { origin: Timestamp, width: Span },
}

impl Bucketing {
    fn next_boundary(self, t: Timestamp) -> Timestamp {
        match self {
            // Raw never reaches here; a one-millisecond step keeps the loop finite regardless.
            Bucketing::Calendar(g) => g.next_boundary(t).unwrap_or(t + Span(1)),
            Bucketing::Columns { origin, width } => {
                let width = width.as_millis().max(1);
                let k = (t - origin).as_millis().div_euclid(width);
                origin + Span(k.saturating_add(1).saturating_mul(width))
            }
        }
    }
}

/// `num / den` rounded half away from zero; `den` must be positive.
pub(crate) fn div_round(num: i128, den: i128) -> i128 {
    let (q, r) = (num / den, num % den);
    if 2 * r.abs() >= den {
        q + num.signum()
    } else {
        q
    }
}

/// Running totals of one bucket.
#[derive(Debug, Default)]
struct Accumulator {
    first: Option<i64>,
    last: i64,
    min: i64,
    max: i64,
    /// Σ price × milliseconds; i128 because 10^15 minor units × 10^12 ms would overflow i64.
    weighted: i128,
    priced_ms: i64,
    gap_ms: [i64; 3],
}

impl Accumulator {
    fn add(&mut self, level: Level, ms: i64) {
        match level {
            Level::Price(p) => {
                if self.first.is_none() {
                    self.first = Some(p);
                    self.min = p;
                    self.max = p;
                }
                self.last = p;
                self.min = self.min.min(p);
                self.max = self.max.max(p);
                self.weighted += i128::from(p) * i128::from(ms);
                self.priced_ms += ms;
            }
            Level::Gap(reason) => self.gap_ms[reason.index()] += ms,
        }
    }

    fn finish(&self, start: Timestamp, end: Timestamp) -> Bucket {
        let value = match self.first {
            Some(open) if self.priced_ms > 0 => {
                let avg = div_round(self.weighted, i128::from(self.priced_ms));
                BucketValue::Prices(Ohlc {
                    open,
                    close: self.last,
                    min: self.min,
                    max: self.max,
                    // The average of prices lies between their min and max, so it fits.
                    avg: i64::try_from(avg).unwrap_or(self.max),
                })
            }
            _ => {
                // Ties go to the earlier reason in `GapReason::ALL`, so the choice is stable.
                let mut gap = GapReason::NotObserved;
                let mut longest = -1;
                for reason in GapReason::ALL {
                    if self.gap_ms[reason.index()] > longest {
                        longest = self.gap_ms[reason.index()];
                        gap = reason;
                    }
                }
                BucketValue::Gap { gap }
            }
        };
        Bucket { start, end, value }
    }
}

/// Buckets covering `[start, end)` exactly, in order; the first and last are clipped to the
/// range, so a 30-day daily chart starts at `now − 30 d`, not at the midnight before.
pub(crate) fn aggregate(
    stretches: &[Stretch],
    start: Timestamp,
    end: Timestamp,
    bucketing: Bucketing,
) -> Vec<Bucket> {
    let mut buckets = Vec::new();
    let mut idx = 0;
    let mut bucket_start = start;
    while bucket_start < end {
        let bucket_end = bucketing.next_boundary(bucket_start).min(end);
        let mut acc = Accumulator::default();
        while let Some(s) = stretches.get(idx) {
            if s.start >= bucket_end {
                break;
            }
            let overlap = (s.end.min(bucket_end) - s.start.max(bucket_start)).as_millis();
            if overlap > 0 {
                acc.add(s.level, overlap);
            }
            if s.end > bucket_end {
                break; // the stretch goes on into the next bucket
            }
            idx += 1;
        }
        buckets.push(acc.finish(bucket_start, bucket_end));
        bucket_start = bucket_end;
    }
    buckets
}

/// One bucket per stretch: the raw points as the chart draws them.
pub(crate) fn raw(stretches: &[Stretch]) -> Vec<Bucket> {
    stretches
        .iter()
        .map(|s| Bucket {
            start: s.start,
            end: s.end,
            value: match s.level {
                Level::Price(p) => BucketValue::Prices(Ohlc {
                    open: p,
                    close: p,
                    min: p,
                    max: p,
                    avg: p,
                }),
                Level::Gap(gap) => BucketValue::Gap { gap },
            },
        })
        .collect()
}

/// M4 down-sampling of a raw range to at most `columns` equal-width columns (see the module
/// docs for what it keeps).
pub(crate) fn downsample(
    stretches: &[Stretch],
    start: Timestamp,
    end: Timestamp,
    columns: usize,
) -> Vec<Bucket> {
    let len = (end - start).as_millis().max(0);
    let columns = i64::try_from(columns.max(1)).unwrap_or(i64::MAX);
    // Ceiling division: `columns` columns of this width reach past `end`, so there are never more.
    let width = Span(((len + columns - 1) / columns).max(1));
    aggregate(
        stretches,
        start,
        end,
        Bucketing::Columns {
            origin: start,
            width,
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stretch(start: i64, end: i64, level: Level) -> Stretch {
        Stretch {
            start: Timestamp(start),
            end: Timestamp(end),
            level,
        }
    }

    #[test]
    fn rounding_is_half_away_from_zero() {
        assert_eq!(div_round(5, 2), 3);
        assert_eq!(div_round(-5, 2), -3);
        assert_eq!(div_round(4, 3), 1);
        assert_eq!(div_round(5, 3), 2);
        assert_eq!(div_round(0, 7), 0);
    }

    #[test]
    fn a_bucket_weighs_each_price_by_how_long_it_held() {
        let stretches = [
            stretch(0, 30, Level::Price(100)),
            stretch(30, 40, Level::Price(200)),
            stretch(40, 60, Level::Gap(GapReason::OutOfStock)),
        ];
        let got = aggregate(
            &stretches,
            Timestamp(0),
            Timestamp(60),
            Bucketing::Columns {
                origin: Timestamp(0),
                width: Span(60),
            },
        );
        let expected = Bucket {
            start: Timestamp(0),
            end: Timestamp(60),
            value: BucketValue::Prices(Ohlc {
                open: 100,
                close: 200,
                min: 100,
                max: 200,
                // (100 × 30 + 200 × 10) / 40: the out-of-stock third does not count as zero.
                avg: 125,
            }),
        };
        assert_eq!(got, vec![expected]);
    }

    #[test]
    fn a_bucket_without_prices_is_a_gap_named_by_its_longest_reason() {
        let stretches = [
            stretch(0, 10, Level::Gap(GapReason::NotObserved)),
            stretch(10, 40, Level::Gap(GapReason::OutOfStock)),
            stretch(40, 50, Level::Price(7)),
        ];
        let got = aggregate(
            &stretches,
            Timestamp(0),
            Timestamp(50),
            Bucketing::Columns {
                origin: Timestamp(0),
                width: Span(25),
            },
        );
        assert_eq!(got.len(), 2);
        assert_eq!(
            got[0].value,
            BucketValue::Gap {
                gap: GapReason::OutOfStock
            }
        );
        assert_eq!(got[1].prices().map(|o| o.avg), Some(7));
    }

    #[test]
    fn buckets_serialize_flat_with_prices_or_a_gap_reason() {
        let priced = Bucket {
            start: Timestamp(0),
            end: Timestamp(10),
            value: BucketValue::Prices(Ohlc {
                open: 5,
                close: 4,
                min: 3,
                max: 6,
                avg: 5,
            }),
        };
        let gap = Bucket {
            start: Timestamp(10),
            end: Timestamp(20),
            value: BucketValue::Gap {
                gap: GapReason::NotObserved,
            },
        };
        let json = serde_json::to_string(&[priced, gap]).unwrap();
        assert_eq!(
            json,
            r#"[{"start":0,"end":10,"open":5,"close":4,"min":3,"max":6,"avg":5},{"start":10,"end":20,"gap":"not_observed"}]"#
        );
        let back: Vec<Bucket> = serde_json::from_str(&json).unwrap();
        assert_eq!(back, vec![priced, gap]);
    }

    #[test]
    fn down_sampling_never_makes_more_columns_than_asked() {
        let stretches: Vec<Stretch> = (0..1000)
            .map(|i| stretch(i, i + 1, Level::Price(i % 17)))
            .collect();
        for columns in [1, 3, 7, 100, 999, 1000, 5000] {
            let got = downsample(&stretches, Timestamp(0), Timestamp(1000), columns);
            assert!(got.len() <= columns, "{columns} columns gave {}", got.len());
            assert_eq!(got.first().map(|b| b.start), Some(Timestamp(0)));
            assert_eq!(got.last().map(|b| b.end), Some(Timestamp(1000)));
        }
    }
}
