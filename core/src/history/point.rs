//! Stored price points and the change-only storage rule: a new observation either extends the
//! last point (same price, same availability) or starts a new one.
//!
//! Storing changes rather than every crawl keeps a product that never changes at one row, and
//! `last_seen_at` still says how fresh that row is, which the charts use to tell a stable
//! price from one nobody has looked at for weeks.

use serde::{Deserialize, Serialize};

use crate::money::Money;
use crate::observation::Availability;
use crate::time::Timestamp;

/// The database id of a stored price point. Alerts are deduplicated on
/// (subscription, price point) and corrections find the alerts sent on a point by it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PricePointId(pub i64);

/// One stretch of unchanged price and availability, as stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PricePoint {
    /// The public price; `None` when the page showed none (unavailable, price in cart).
    pub price: Option<Money>,
    /// Out of stock turns the stretch into a chart gap.
    pub availability: Availability,
    /// The first accepted observation of this price and availability.
    pub first_seen_at: Timestamp,
    /// The latest accepted observation that still showed them; moves forward on every
    /// identical observation, so it says how fresh the point is.
    pub last_seen_at: Timestamp,
}

impl PricePoint {
    /// Whether a shopper could buy at this point's price: it has one and is not out of stock.
    /// Only such points draw a line on the chart and count for alerts; the rest are gaps.
    pub fn is_buyable(&self) -> bool {
        self.price.is_some() && self.availability != Availability::OutOfStock
    }
}

/// An observation the judge accepted, reduced to what history stores.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct AcceptedObservation {
    /// The public price, `None` when the page showed none.
    pub price: Option<Money>,
    /// Whether it could be bought.
    pub availability: Availability,
    /// When the page was read (the report's or crawl's time, not the time it arrived).
    pub observed_at: Timestamp,
}

/// What to write for an accepted observation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum StoreDecision {
    /// Same price and availability as the last point: move its `last_seen_at` forward.
    Extend {
        /// The observation's time, the point's new `last_seen_at`.
        last_seen_at: Timestamp,
    },
    /// A change: insert this point (and emit the "price changed" event in the same
    /// transaction).
    NewPoint(PricePoint),
    /// The observation is not newer than the last point's `last_seen_at`: it arrived late
    /// (a delayed report) and newer data already covers that moment, so nothing is written.
    /// Writing it would move `last_seen_at` backwards or insert a point out of order.
    Stale,
}

/// The change-only storage rule: given the product's last stored point (if any) and a newly
/// accepted observation, decide whether to extend that point or insert a new one.
pub fn store(last: Option<&PricePoint>, observation: &AcceptedObservation) -> StoreDecision {
    let new_point = || {
        StoreDecision::NewPoint(PricePoint {
            price: observation.price,
            availability: observation.availability,
            first_seen_at: observation.observed_at,
            last_seen_at: observation.observed_at,
        })
    };
    let Some(last) = last else {
        return new_point();
    };
    if observation.observed_at <= last.last_seen_at {
        return StoreDecision::Stale;
    }
    if last.price == observation.price && last.availability == observation.availability {
        StoreDecision::Extend {
            last_seen_at: observation.observed_at,
        }
    } else {
        new_point()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::money::Currency;
    use proptest::prelude::*;

    fn usd(minor: i64) -> Option<Money> {
        Some(Money::new(minor, Currency::Usd))
    }

    fn point(
        price: Option<Money>,
        availability: Availability,
        first: i64,
        last: i64,
    ) -> PricePoint {
        PricePoint {
            price,
            availability,
            first_seen_at: Timestamp(first),
            last_seen_at: Timestamp(last),
        }
    }

    fn seen(price: Option<Money>, availability: Availability, at: i64) -> AcceptedObservation {
        AcceptedObservation {
            price,
            availability,
            observed_at: Timestamp(at),
        }
    }

    #[test]
    fn storage_follows_the_change_only_rule() {
        let last = point(usd(1999), Availability::InStock, 100, 200);
        let cases = [
            (
                "the first observation starts the history",
                None,
                seen(usd(1999), Availability::InStock, 300),
                StoreDecision::NewPoint(point(usd(1999), Availability::InStock, 300, 300)),
            ),
            (
                "the same price and availability extends the point",
                Some(last),
                seen(usd(1999), Availability::InStock, 300),
                StoreDecision::Extend {
                    last_seen_at: Timestamp(300),
                },
            ),
            (
                "a new price is a new point",
                Some(last),
                seen(usd(1899), Availability::InStock, 300),
                StoreDecision::NewPoint(point(usd(1899), Availability::InStock, 300, 300)),
            ),
            (
                "the same price out of stock is a new point",
                Some(last),
                seen(usd(1999), Availability::OutOfStock, 300),
                StoreDecision::NewPoint(point(usd(1999), Availability::OutOfStock, 300, 300)),
            ),
            (
                "losing the price is a new point",
                Some(last),
                seen(None, Availability::InStock, 300),
                StoreDecision::NewPoint(point(None, Availability::InStock, 300, 300)),
            ),
            (
                "the same amount in another currency is a new point",
                Some(last),
                seen(
                    Some(Money::new(1999, Currency::Cad)),
                    Availability::InStock,
                    300,
                ),
                StoreDecision::NewPoint(point(
                    Some(Money::new(1999, Currency::Cad)),
                    Availability::InStock,
                    300,
                    300,
                )),
            ),
            (
                "an observation at the last-seen instant is stale",
                Some(last),
                seen(usd(1), Availability::InStock, 200),
                StoreDecision::Stale,
            ),
            (
                "a late observation of the same price is stale",
                Some(last),
                seen(usd(1999), Availability::InStock, 150),
                StoreDecision::Stale,
            ),
        ];
        for (why, last, observation, expected) in cases {
            assert_eq!(store(last.as_ref(), &observation), expected, "{why}");
        }
    }

    #[test]
    fn only_priced_points_in_or_of_unknown_stock_are_buyable() {
        assert!(point(usd(1), Availability::InStock, 0, 0).is_buyable());
        assert!(point(usd(1), Availability::Unknown, 0, 0).is_buyable());
        assert!(!point(usd(1), Availability::OutOfStock, 0, 0).is_buyable());
        assert!(!point(None, Availability::InStock, 0, 0).is_buyable());
    }

    proptest! {
        #[test]
        fn applying_the_rule_keeps_points_ordered_and_adjacent_points_different(
            steps in proptest::collection::vec((0_i64..5, 0_usize..3, -10_i64..100), 1..200)
        ) {
            let avail = [Availability::InStock, Availability::OutOfStock, Availability::Unknown];
            let mut points: Vec<PricePoint> = Vec::new();
            let mut clock = 0_i64;
            for (price, a, dt) in steps {
                clock += dt;
                let obs = seen((price > 0).then(|| Money::new(price, Currency::Usd)), avail[a], clock);
                match store(points.last(), &obs) {
                    StoreDecision::NewPoint(p) => points.push(p),
                    StoreDecision::Extend { last_seen_at } => {
                        if let Some(last) = points.last_mut() {
                            prop_assert!(last_seen_at > last.last_seen_at);
                            last.last_seen_at = last_seen_at;
                        }
                    }
                    StoreDecision::Stale => {
                        prop_assert!(points.last().is_some_and(|l| obs.observed_at <= l.last_seen_at));
                    }
                }
            }
            for pair in points.windows(2) {
                prop_assert!(pair[0].last_seen_at < pair[1].first_seen_at);
                prop_assert!(pair[0].price != pair[1].price || pair[0].availability != pair[1].availability);
            }
            for p in &points {
                prop_assert!(p.first_seen_at <= p.last_seen_at);
            }
        }
    }
}
