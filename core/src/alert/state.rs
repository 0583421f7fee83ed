//! The per-subscription alert state the server keeps in a row between events, and the
//! price events that move it.

use serde::{Deserialize, Serialize};

use crate::history::PricePointId;
use crate::money::Money;
use crate::observation::Availability;
use crate::time::Timestamp;

/// A newly accepted price point of the subscribed product (the "price changed" event).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PriceEvent {
    /// The stored point; an alert on it is deduplicated by (subscription, point).
    pub point: PricePointId,
    /// The public price, `None` when the page showed none.
    pub price: Option<Money>,
    /// Out of stock makes the price unbuyable; needed for back-in-stock.
    pub availability: Availability,
    /// When the price was first seen (the point's `first_seen_at`); orders events.
    pub at: Timestamp,
}

impl PriceEvent {
    /// The price a shopper can buy at: present and not out of stock. Only such prices cross
    /// thresholds; an out-of-stock price is not a deal.
    pub fn buyable_price(&self) -> Option<Money> {
        self.price
            .filter(|_| self.availability != Availability::OutOfStock)
    }
}

/// Why an alert fires; several can hold at once and are sent as one alert.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Reasons {
    /// An armed target saw the price reach the threshold.
    pub crossed: bool,
    /// After an alert, the price fell further, by at least the hysteresis margin below what
    /// the user was last told.
    pub further_drop: bool,
    /// The product became buyable again after being out of stock or priceless.
    pub back_in_stock: bool,
}

impl Reasons {
    /// Whether any reason holds.
    pub fn any(self) -> bool {
        self.crossed || self.further_drop || self.back_in_stock
    }

    /// Whether a price reason holds (the alert is about the price, not only stock).
    pub fn price(self) -> bool {
        self.crossed || self.further_drop
    }

    pub(crate) fn union(self, other: Reasons) -> Reasons {
        Reasons {
            crossed: self.crossed || other.crossed,
            further_drop: self.further_drop || other.further_drop,
            back_in_stock: self.back_in_stock || other.back_in_stock,
        }
    }
}

/// The last alert sent, which the cooldown and "dropped further" count from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SentAlert {
    /// The point the alert was about (its dedupe key's second half).
    pub point: PricePointId,
    /// The price the user was told.
    pub price: Money,
    /// The `now` the alert was decided at; the cooldown runs from here.
    pub sent_at: Timestamp,
}

/// Qualifying events held back (cooldown or settling) to be sent as one alert.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Pending {
    /// The point with the lowest qualifying price so far: the alert's headline.
    pub point: PricePointId,
    /// The lowest qualifying price so far.
    pub price: Money,
    /// When that lowest price was first seen.
    pub at: Timestamp,
    /// Every reason seen while held.
    pub reasons: Reasons,
    /// How many qualifying events were merged, for "the price changed 37 times".
    pub merged_events: u32,
    /// The `now` at which the first of them was held; settling counts from here.
    pub since: Timestamp,
}

/// One subscription's alert state. The server stores it (as JSON) next to the subscription
/// and replaces it with the state each evaluation returns.
///
/// ```json
/// {"armed":false,
///  "latest":{"point":42,"price":{"amount_minor":9499,"currency":"USD"},"availability":"in_stock","at":1700000000000},
///  "last_alert":{"point":41,"price":{"amount_minor":9599,"currency":"USD"},"sent_at":1699990000000},
///  "pending":{"point":42,"price":{"amount_minor":9499,"currency":"USD"},"at":1700000000000,
///             "reasons":{"crossed":false,"further_drop":true,"back_in_stock":false},
///             "merged_events":1,"since":1700000000500}}
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(default)]
pub struct AlertState {
    /// The price target fires on its next crossing. Cleared by a price alert, set again only
    /// when the price rises above the threshold plus the hysteresis margin.
    pub armed: bool,
    /// The newest event seen; orders events, tells "back in stock" from "in stock", and is
    /// what a held alert is checked against before it is sent.
    pub latest: Option<PriceEvent>,
    /// The previous alert: the cooldown runs from it and further drops compare with it.
    pub last_alert: Option<SentAlert>,
    /// Qualifying events held back to be sent as one alert.
    pub pending: Option<Pending>,
}

impl AlertState {
    /// The state of a new subscription, given the product's current point if known (without
    /// it, the first in-stock event cannot count as "back" in stock). A new subscription is
    /// armed: if the price is already at or below the target, the next accepted price alerts.
    pub fn new(current: Option<PriceEvent>) -> Self {
        AlertState {
            armed: true,
            latest: current,
            last_alert: None,
            pending: None,
        }
    }
}

impl Default for AlertState {
    fn default() -> Self {
        AlertState::new(None)
    }
}
