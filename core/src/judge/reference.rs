//! A product's recent accepted history, and the reference price a report is measured against.

use serde::{Deserialize, Serialize};

use crate::money::{Currency, Money};
use crate::observation::Availability;
use crate::time::Timestamp;

/// One accepted observation of a product: what the history says it cost, and when.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct AcceptedPoint {
    /// The accepted price; `None` when the accepted observation showed none.
    pub price: Option<Money>,
    /// The accepted availability, against which flips are measured.
    pub availability: Availability,
    /// When it was observed.
    pub at: Timestamp,
}

/// The median of the last `n` accepted prices in `currency` (by time), lower median for an
/// even count so the reference is always a price that was really seen. `None` without any.
///
/// A median rather than the latest point, so that one wrongly accepted price (reverted
/// later) does not make the next fake look like "no change".
pub(crate) fn reference_price(
    history: &[AcceptedPoint],
    currency: Currency,
    n: usize,
) -> Option<Money> {
    let mut priced: Vec<(Timestamp, i64)> = history
        .iter()
        .filter_map(|p| {
            p.price
                .filter(|m| m.currency == currency)
                .map(|m| (p.at, m.amount_minor))
        })
        .collect();
    priced.sort_by_key(|(at, _)| *at);
    let start = priced.len().saturating_sub(n.max(1));
    let mut recent: Vec<i64> = priced[start..].iter().map(|(_, minor)| *minor).collect();
    recent.sort_unstable();
    let middle = recent.len().checked_sub(1)? / 2;
    recent.get(middle).map(|minor| Money::new(*minor, currency))
}

/// The latest accepted point by time, for availability flips.
pub(crate) fn latest(history: &[AcceptedPoint]) -> Option<&AcceptedPoint> {
    history.iter().max_by_key(|p| p.at)
}

/// How big a change from `from` to `to` is, in `[0, 1)`: `1 - min / max`. Symmetric, so a
/// 50% drop and a doubling are the same size, and bounded, so tables over it are simple.
pub(crate) fn change_size(from: Money, to: Money) -> f64 {
    let (a, b) = (from.amount_minor as f64, to.amount_minor as f64);
    let (low, high) = if a <= b { (a, b) } else { (b, a) };
    if high <= 0.0 {
        0.0
    } else {
        (1.0 - low / high).clamp(0.0, 1.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(minute: i64, minor: i64) -> AcceptedPoint {
        AcceptedPoint {
            price: Some(Money::new(minor, Currency::Usd)),
            availability: Availability::InStock,
            at: Timestamp::from_millis(minute * 60_000),
        }
    }

    #[test]
    fn the_reference_is_the_median_of_the_latest_points() {
        // Out of order on purpose; the two oldest (1 and 2) fall outside the last five.
        let history = [
            at(7, 500),
            at(1, 1),
            at(3, 900),
            at(5, 1000),
            at(2, 1),
            at(6, 950),
            at(4, 990),
        ];

        assert_eq!(
            reference_price(&history, Currency::Usd, 5),
            Some(Money::new(950, Currency::Usd))
        );
    }

    #[test]
    fn one_bad_point_does_not_move_the_reference() {
        let history = [at(1, 1000), at(2, 1000), at(3, 1)];

        assert_eq!(
            reference_price(&history, Currency::Usd, 5),
            Some(Money::new(1000, Currency::Usd))
        );
    }

    #[test]
    fn an_even_count_takes_the_lower_median() {
        let history = [at(1, 100), at(2, 300)];

        assert_eq!(
            reference_price(&history, Currency::Usd, 5),
            Some(Money::new(100, Currency::Usd))
        );
    }

    #[test]
    fn points_without_a_price_or_in_another_currency_are_skipped() {
        let mut none = at(9, 0);
        none.price = None;
        let other = AcceptedPoint {
            price: Some(Money::new(5, Currency::Cad)),
            ..at(8, 0)
        };

        assert_eq!(reference_price(&[none, other], Currency::Usd, 5), None);
        assert_eq!(
            reference_price(&[none, other, at(1, 7)], Currency::Usd, 5),
            Some(Money::new(7, Currency::Usd))
        );
        assert_eq!(latest(&[at(1, 7), none]).map(|p| p.at), Some(none.at));
    }

    #[test]
    fn change_size_is_symmetric_and_bounded() {
        let usd = |m| Money::new(m, Currency::Usd);
        assert_eq!(change_size(usd(100), usd(50)), 0.5);
        assert_eq!(change_size(usd(50), usd(100)), 0.5);
        assert_eq!(change_size(usd(100), usd(100)), 0.0);
        assert!(change_size(usd(99_900), usd(1)) > 0.9999);
    }
}
