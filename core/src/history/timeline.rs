//! The timeline a history draws: stored points turned into back-to-back stretches of one
//! price or one kind of gap, covering a time range exactly.
//!
//! A point vouches for its price from `first_seen_at` until the next point starts, but never
//! longer than the staleness limit after `last_seen_at`: a price nobody re-checked for weeks
//! is not known, so the chart shows a gap instead of a confident flat line.

use serde::{Deserialize, Serialize};

use super::point::PricePoint;
use crate::observation::Availability;
use crate::time::{Span, Timestamp};

/// Why a stretch of the chart has no price. Gaps are never drawn as zero or interpolated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GapReason {
    /// The product was out of stock (whatever price the page still showed).
    OutOfStock,
    /// The page showed no price (e.g. "See price in cart", no buy box).
    NoPrice,
    /// Nobody observed the product: before its first point, or longer than the staleness
    /// limit after a point was last seen.
    NotObserved,
}

impl GapReason {
    /// Every reason, in the order ties between them are broken.
    pub(crate) const ALL: [GapReason; 3] = [
        GapReason::OutOfStock,
        GapReason::NoPrice,
        GapReason::NotObserved,
    ];

    pub(crate) const fn index(self) -> usize {
        match self {
            GapReason::OutOfStock => 0,
            GapReason::NoPrice => 1,
            GapReason::NotObserved => 2,
        }
    }
}

/// What holds during a stretch: a buyable price in minor units, or a gap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Level {
    Price(i64),
    Gap(GapReason),
}

/// `[start, end)` with one level; a timeline's stretches are ordered, non-empty and touch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Stretch {
    pub(crate) start: Timestamp,
    pub(crate) end: Timestamp,
    pub(crate) level: Level,
}

fn level_of(point: &PricePoint) -> Level {
    match point.price {
        _ if point.availability == Availability::OutOfStock => Level::Gap(GapReason::OutOfStock),
        Some(price) => Level::Price(price.amount_minor),
        None => Level::Gap(GapReason::NoPrice),
    }
}

/// Collects stretches clipped to `[start, end)`, merging touching gaps of the same reason.
struct Builder {
    start: Timestamp,
    end: Timestamp,
    out: Vec<Stretch>,
}

impl Builder {
    fn push(&mut self, from: Timestamp, to: Timestamp, level: Level) {
        let (from, to) = (from.max(self.start), to.min(self.end));
        if from >= to {
            return;
        }
        if let (Some(last), Level::Gap(_)) = (self.out.last_mut(), level) {
            if last.level == level && last.end == from {
                last.end = to;
                return;
            }
        }
        self.out.push(Stretch {
            start: from,
            end: to,
            level,
        });
    }
}

/// The stretches covering exactly `[start, end)` (empty when `start >= end`).
///
/// `points` must be sorted by strictly increasing `first_seen_at` and share one currency
/// (`PriceHistory::new` checks both). A point whose `last_seen_at` runs past the next point's
/// start is cut there: the newer observation wins.
pub(crate) fn timeline(
    points: &[PricePoint],
    staleness: Span,
    start: Timestamp,
    end: Timestamp,
) -> Vec<Stretch> {
    if start >= end {
        return Vec::new();
    }
    // Skip straight to the point in effect at `start`: charts of a recent period over a long
    // history should not walk years of points.
    let first = points
        .partition_point(|p| p.first_seen_at <= start)
        .saturating_sub(1);
    // About one stretch per point (plus the gaps between them): sized once, a year of 25,000
    // points is not copied through a dozen doublings.
    let mut builder = Builder {
        start,
        end,
        out: Vec::with_capacity(points.len() - first + 2),
    };
    let mut covered = start;
    for (i, point) in points.iter().enumerate().skip(first) {
        if point.first_seen_at >= end {
            break;
        }
        let vouched_until = point.last_seen_at + staleness;
        let until = match points.get(i + 1) {
            Some(next) => vouched_until.min(next.first_seen_at),
            None => vouched_until,
        };
        if point.first_seen_at > covered {
            builder.push(
                covered,
                point.first_seen_at,
                Level::Gap(GapReason::NotObserved),
            );
        }
        builder.push(point.first_seen_at, until, level_of(point));
        covered = covered.max(until).max(point.first_seen_at);
    }
    if covered < end {
        builder.push(covered, end, Level::Gap(GapReason::NotObserved));
    }
    builder.out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::money::{Currency, Money};

    fn point(price: Option<i64>, availability: Availability, first: i64, last: i64) -> PricePoint {
        PricePoint {
            price: price.map(|p| Money::new(p, Currency::Usd)),
            availability,
            first_seen_at: Timestamp(first),
            last_seen_at: Timestamp(last),
        }
    }

    fn stretch(start: i64, end: i64, level: Level) -> Stretch {
        Stretch {
            start: Timestamp(start),
            end: Timestamp(end),
            level,
        }
    }

    const IN: Availability = Availability::InStock;

    #[test]
    fn a_price_holds_until_the_next_point_when_it_was_seen_recently_enough() {
        let points = [point(Some(500), IN, 10, 20), point(Some(400), IN, 30, 40)];
        let got = timeline(&points, Span(15), Timestamp(0), Timestamp(100));
        assert_eq!(
            got,
            vec![
                stretch(0, 10, Level::Gap(GapReason::NotObserved)),
                stretch(10, 30, Level::Price(500)),
                stretch(30, 55, Level::Price(400)),
                stretch(55, 100, Level::Gap(GapReason::NotObserved)),
            ]
        );
    }

    #[test]
    fn a_point_not_seen_for_longer_than_the_staleness_limit_becomes_a_gap() {
        let points = [point(Some(500), IN, 10, 20), point(Some(400), IN, 80, 90)];
        let got = timeline(&points, Span(15), Timestamp(10), Timestamp(90));
        assert_eq!(
            got,
            vec![
                stretch(10, 35, Level::Price(500)),
                stretch(35, 80, Level::Gap(GapReason::NotObserved)),
                stretch(80, 90, Level::Price(400)),
            ]
        );
    }

    #[test]
    fn out_of_stock_and_priceless_points_are_gaps_and_touching_gaps_merge() {
        let points = [
            point(Some(500), IN, 0, 5),
            point(Some(450), Availability::OutOfStock, 10, 15),
            point(None, Availability::OutOfStock, 20, 25),
            point(None, Availability::Unknown, 30, 35),
            point(Some(300), Availability::Unknown, 40, 45),
        ];
        let got = timeline(&points, Span::days(1), Timestamp(0), Timestamp(50));
        assert_eq!(
            got,
            vec![
                stretch(0, 10, Level::Price(500)),
                stretch(10, 30, Level::Gap(GapReason::OutOfStock)),
                stretch(30, 40, Level::Gap(GapReason::NoPrice)),
                stretch(40, 50, Level::Price(300)),
            ]
        );
    }

    #[test]
    fn stretches_are_clipped_to_the_range_and_start_with_the_point_in_effect() {
        let points = [
            point(Some(1), IN, 0, 10),
            point(Some(2), IN, 10, 20),
            point(Some(3), IN, 20, 30),
        ];
        let got = timeline(&points, Span(100), Timestamp(15), Timestamp(25));
        assert_eq!(
            got,
            vec![
                stretch(15, 20, Level::Price(2)),
                stretch(20, 25, Level::Price(3))
            ]
        );
        assert!(timeline(&points, Span(100), Timestamp(25), Timestamp(25)).is_empty());
    }

    #[test]
    fn a_point_overlapping_the_next_one_yields_to_it() {
        let points = [point(Some(1), IN, 0, 50), point(Some(2), IN, 10, 20)];
        let got = timeline(&points, Span(5), Timestamp(0), Timestamp(30));
        assert_eq!(
            got,
            vec![
                stretch(0, 10, Level::Price(1)),
                stretch(10, 25, Level::Price(2)),
                stretch(25, 30, Level::Gap(GapReason::NotObserved)),
            ]
        );
    }
}
