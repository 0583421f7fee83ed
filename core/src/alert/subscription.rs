//! What a user asked to be told about: a [`Subscription`] with its price target and options,
//! and the operator's [`AlertConfig`] (cooldown, hysteresis, settling).

use serde::{Deserialize, Serialize};

use crate::money::Money;
use crate::time::Span;

/// The database id of a subscription; half of every alert's dedupe key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SubscriptionId(pub i64);

/// Where an alert is delivered; carried into the alert so the sender can route it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    /// A message through the mailer.
    Email,
    /// A notification shown by the browser extension.
    WebPush,
}

/// The price at which a subscription fires.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum PriceTarget {
    /// At or below a fixed price ("tell me when it is €49.99 or less").
    AtOrBelow {
        /// The highest price that fires.
        threshold: Money,
    },
    /// At least `drop_bp` basis points (1/100 of a percent) below `reference`, usually the
    /// price when the user subscribed ("tell me when it is 20 % off": `drop_bp` 2000).
    DropFrom {
        /// The price the drop is measured from.
        reference: Money,
        /// The drop, in basis points of `reference`.
        drop_bp: u16,
    },
}

impl PriceTarget {
    /// The fixed price the target amounts to. For a percentage drop it is rounded down, which
    /// is exact: an integer price is at least `drop_bp` below the reference exactly when it
    /// is at or below this floor. A non-positive threshold (e.g. a drop of 100 % or more)
    /// simply never fires, since prices are positive.
    pub fn threshold(&self) -> Money {
        match *self {
            PriceTarget::AtOrBelow { threshold } => threshold,
            PriceTarget::DropFrom { reference, drop_bp } => {
                let keep = 10_000 - i128::from(drop_bp.min(10_000));
                let floor = (i128::from(reference.amount_minor) * keep).div_euclid(10_000);
                // |floor| <= |reference|, so it fits back into i64.
                Money::new(
                    i64::try_from(floor).unwrap_or(reference.amount_minor),
                    reference.currency,
                )
            }
        }
    }
}

/// A user's standing request to hear about one product.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Subscription {
    /// Half of every alert's dedupe key.
    pub id: SubscriptionId,
    /// The price alert; `None` for a back-in-stock-only subscription.
    pub target: Option<PriceTarget>,
    /// Also alert when the product comes back in stock.
    pub back_in_stock: bool,
    /// Where its alerts go.
    pub channel: Channel,
    /// Paused by the user: never fires, but keeps tracking the price so that resuming
    /// starts from the truth.
    pub paused: bool,
}

/// How eager alerts are; one value for the whole service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertConfig {
    /// At most one alert per subscription within this span after the previous one; what
    /// happens meanwhile is consolidated into one alert sent when it ends.
    pub cooldown: Span,
    /// Re-arm only once the price is above the threshold by this many basis points of the
    /// threshold (or `hysteresis_min_minor`, whichever is larger): a price wiggling around
    /// the threshold must not alert on every dip.
    pub hysteresis_bp: u16,
    /// The smallest hysteresis margin in minor units, for cheap products where a percentage
    /// is less than a cent.
    pub hysteresis_min_minor: i64,
    /// How long a first alert waits to gather a burst of changes and send its lowest price.
    /// Zero (the default) alerts at once: lightning deals sell out in minutes, and the
    /// hysteresis and cooldown already keep a wiggle to one alert.
    pub settle: Span,
}

impl Default for AlertConfig {
    fn default() -> Self {
        AlertConfig {
            cooldown: Span::hours(6),
            hysteresis_bp: 200,
            hysteresis_min_minor: 5,
            settle: Span(0),
        }
    }
}

impl AlertConfig {
    /// The hysteresis margin in minor units for a threshold.
    pub fn margin(&self, threshold_minor: i64) -> i64 {
        let pct =
            i128::from(threshold_minor.unsigned_abs()) * i128::from(self.hysteresis_bp) / 10_000;
        i64::try_from(pct)
            .unwrap_or(i64::MAX)
            .max(self.hysteresis_min_minor)
            .max(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::money::Currency;

    fn usd(minor: i64) -> Money {
        Money::new(minor, Currency::Usd)
    }

    #[test]
    fn a_percentage_drop_becomes_the_exact_floor_price() {
        let cases = [
            (10_000, 2_000, 8_000),
            (999, 1_000, 899), // 899.1 → 899: 899 is 10.01 % off, 900 only 9.9 %
            (999, 0, 999),
            (999, 10_000, 0),
            (999, u16::MAX, 0),
        ];
        for (reference, drop_bp, expected) in cases {
            let target = PriceTarget::DropFrom {
                reference: usd(reference),
                drop_bp,
            };
            assert_eq!(
                target.threshold(),
                usd(expected),
                "{reference} - {drop_bp} bp"
            );
        }
    }

    #[test]
    fn the_margin_is_a_percentage_with_a_floor() {
        let config = AlertConfig::default();
        assert_eq!(config.margin(10_000), 200);
        assert_eq!(config.margin(100), 5);
        assert_eq!(config.margin(-100), 5);
        assert_eq!(config.margin(i64::MAX), i64::MAX / 50);
        let negative_floor = AlertConfig {
            hysteresis_bp: 0,
            hysteresis_min_minor: -3,
            ..config
        };
        assert_eq!(negative_floor.margin(1_000), 0);
    }

    #[test]
    fn targets_serialize_with_their_kind() {
        let target = PriceTarget::DropFrom {
            reference: usd(5000),
            drop_bp: 1500,
        };
        let json = serde_json::to_string(&target).unwrap();
        assert_eq!(
            json,
            r#"{"kind":"drop_from","reference":{"amount_minor":5000,"currency":"USD"},"drop_bp":1500}"#
        );
        assert_eq!(serde_json::from_str::<PriceTarget>(&json).unwrap(), target);
    }
}
