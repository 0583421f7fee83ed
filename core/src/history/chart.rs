//! A product's validated price history and the chart the API and the website draw from it.

use serde::{Deserialize, Serialize};

use super::aggregate::{self, Bucket, Bucketing};
use super::point::PricePoint;
use super::query::{Granularity, Period};
use super::stats::{self, Stats};
use super::timeline::timeline;
use crate::money::{Currency, Money};
use crate::time::{Span, Timestamp};

/// How history is read into charts; the server and the wasm chart pass the same values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryConfig {
    /// How long after `last_seen_at` a price still counts as known. Must exceed the crawler's
    /// longest re-check interval (7 days by default), or every stable product would show gaps.
    pub staleness: Span,
    /// Above this many stretches a raw chart is down-sampled to this many columns: about the
    /// chart's width in pixels.
    pub max_raw_points: usize,
    /// Calendar charts with more buckets than this are refused (hourly over years would be
    /// megabytes of JSON); the caller should ask for a coarser granularity.
    pub max_buckets: usize,
}

impl Default for HistoryConfig {
    fn default() -> Self {
        HistoryConfig {
            staleness: Span::days(8),
            max_raw_points: 1_000,
            max_buckets: 10_000,
        }
    }
}

/// Why stored points do not form a history.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HistoryError {
    /// Points must come oldest first, one per instant.
    #[error("price point {index} does not start after the point before it")]
    OutOfOrder {
        /// The offending point's position.
        index: usize,
    },
    /// A point's `last_seen_at` precedes its `first_seen_at`.
    #[error("price point {index} was last seen before it was first seen")]
    SeenBackwards {
        /// The offending point's position.
        index: usize,
    },
    /// A product has one currency; mixing would compare prices without an exchange rate.
    #[error("price point {index} is priced in {found}, the history in {expected}")]
    MixedCurrency {
        /// The offending point's position.
        index: usize,
        /// The marketplace's currency.
        expected: Currency,
        /// The point's currency.
        found: Currency,
    },
}

/// Why a chart cannot be drawn as asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChartError {
    /// The chart would be too large to send; the API answers 400 naming both values.
    #[error("{granularity} buckets over {period} would be about {buckets}, more than the limit of {max}; ask for a coarser granularity")]
    TooManyBuckets {
        /// The period asked for.
        period: Period,
        /// The granularity asked for.
        granularity: Granularity,
        /// About how many buckets that would be.
        buckets: i64,
        /// The configured limit.
        max: usize,
    },
}

/// What a chart shows: how far back and in what buckets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChartQuery {
    /// How far back.
    pub period: Period,
    /// Bucket size.
    pub granularity: Granularity,
}

/// A drawn-ready chart: the JSON body of `GET /api/products/{mkt}/{asin}/history`.
///
/// Every amount is minor units of `currency`, given once here.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Chart {
    /// The currency of every amount below.
    pub currency: Currency,
    /// The period asked for, echoed for the client.
    pub period: Period,
    /// The granularity asked for (raw stays raw when down-sampled; see `downsampled`).
    pub granularity: Granularity,
    /// The range the buckets cover exactly, `[start, end)`; `end` is the caller's `now`.
    pub start: Timestamp,
    /// The caller's `now`.
    pub end: Timestamp,
    /// True when a raw range had too many points to draw and was down-sampled to columns
    /// (see the `aggregate` module docs: M4, every column's min and max kept).
    pub downsampled: bool,
    /// Ordered, non-overlapping and back to back from `start` to `end`.
    pub buckets: Vec<Bucket>,
    /// `None` when no moment of the period had a buyable price.
    pub stats: Option<Stats>,
}

/// One product's stored points, checked to be drawable: one currency, ordered in time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PriceHistory {
    currency: Currency,
    points: Vec<PricePoint>,
}

impl PriceHistory {
    /// Check `points` (as read from storage, oldest first) and take them as a history in
    /// `currency`, the product marketplace's currency.
    pub fn new(currency: Currency, points: Vec<PricePoint>) -> Result<Self, HistoryError> {
        for (index, point) in points.iter().enumerate() {
            if point.last_seen_at < point.first_seen_at {
                return Err(HistoryError::SeenBackwards { index });
            }
            if let Some(price) = point.price.filter(|p| p.currency != currency) {
                return Err(HistoryError::MixedCurrency {
                    index,
                    expected: currency,
                    found: price.currency,
                });
            }
            if index > 0 && points[index - 1].first_seen_at >= point.first_seen_at {
                return Err(HistoryError::OutOfOrder { index });
            }
        }
        Ok(PriceHistory { currency, points })
    }

    /// The currency every price of the history is in.
    pub fn currency(&self) -> Currency {
        self.currency
    }

    /// The points, oldest first.
    pub fn points(&self) -> &[PricePoint] {
        &self.points
    }

    fn range(&self, period: Period, now: Timestamp) -> (Timestamp, Timestamp) {
        let first = self.points.first().map(|p| p.first_seen_at);
        (period.start(now, first), now)
    }

    /// The chart of `query.period` up to `now` in `query.granularity` buckets, with the
    /// period's statistics.
    pub fn chart(
        &self,
        query: ChartQuery,
        config: &HistoryConfig,
        now: Timestamp,
    ) -> Result<Chart, ChartError> {
        let (start, end) = self.range(query.period, now);
        if let Some(shortest) = query.granularity.shortest_bucket() {
            // +2: the clipped first and last buckets.
            let buckets = (end - start).as_millis().max(0) / shortest.as_millis() + 2;
            if buckets > i64::try_from(config.max_buckets).unwrap_or(i64::MAX) {
                return Err(ChartError::TooManyBuckets {
                    period: query.period,
                    granularity: query.granularity,
                    buckets,
                    max: config.max_buckets,
                });
            }
        }
        let stretches = timeline(&self.points, config.staleness, start, end);
        let daily = aggregate::aggregate(
            &stretches,
            start,
            end,
            Bucketing::Calendar(Granularity::Daily),
        );
        let mut downsampled = false;
        let buckets = match query.granularity {
            Granularity::Raw if stretches.len() > config.max_raw_points => {
                downsampled = true;
                aggregate::downsample(&stretches, start, end, config.max_raw_points)
            }
            Granularity::Raw => aggregate::raw(&stretches),
            Granularity::Daily => daily.clone(),
            calendar => aggregate::aggregate(&stretches, start, end, Bucketing::Calendar(calendar)),
        };
        Ok(Chart {
            currency: self.currency,
            period: query.period,
            granularity: query.granularity,
            start,
            end,
            downsampled,
            buckets,
            stats: stats::stats(&stretches, &daily),
        })
    }

    /// The period's statistics alone (the product page's summary box).
    pub fn stats(&self, period: Period, config: &HistoryConfig, now: Timestamp) -> Option<Stats> {
        let (start, end) = self.range(period, now);
        let stretches = timeline(&self.points, config.staleness, start, end);
        let daily = aggregate::aggregate(
            &stretches,
            start,
            end,
            Bucketing::Calendar(Granularity::Daily),
        );
        stats::stats(&stretches, &daily)
    }

    /// The price the daily low reached on at least `percent` % of the period's priced days
    /// (nearest rank): what the website offers as a threshold that will realistically fire.
    pub fn low_reached_on_percent_of_days(
        &self,
        period: Period,
        percent: u8,
        config: &HistoryConfig,
        now: Timestamp,
    ) -> Option<Money> {
        let (start, end) = self.range(period, now);
        let stretches = timeline(&self.points, config.staleness, start, end);
        let daily = aggregate::aggregate(
            &stretches,
            start,
            end,
            Bucketing::Calendar(Granularity::Daily),
        );
        stats::low_reached_on_percent_of_days(&daily, percent)
            .map(|minor| Money::new(minor, self.currency))
    }
}
