//! Price alerts: subscriptions, the per-subscription state the server stores, and the pure
//! state machine the alert worker runs on every accepted price change.
//!
//! - [`subscription`]: what the user asked for ([`Subscription`], [`PriceTarget`]) and the
//!   service-wide [`AlertConfig`].
//! - [`state`]: [`AlertState`] (serde, one row per subscription) and the [`PriceEvent`]s that
//!   move it.
//! - [`evaluate`]: [`on_price`] and [`on_wake`], returning a [`Decision`]
//!   (`Fire` / `Hold { until }` / `Nothing`) with the new state.
//!
//! # The rules
//! 1. Only a *buyable* price counts (present, not out of stock), and only in the target's
//!    currency: an event in another currency is ignored, so it can never fire.
//! 2. **Crossing**: an armed target fires when the price is at or below its threshold.
//!    Firing disarms it; it re-arms only when the price rises above the threshold by the
//!    hysteresis margin (`hysteresis_bp` of the threshold, at least `hysteresis_min_minor`).
//! 3. **Further drop**: after an alert, a price at least one margin below what the user was
//!    last told is news too ("now even lower").
//! 4. **Back in stock** (opt-in): buyable after the previous event was not.
//! 5. **Cooldown**: at most one alert per `cooldown` after the previous one. Qualifying
//!    events meanwhile are held as one pending alert keeping the lowest price; the worker
//!    gets `Hold { until }` and calls [`on_wake`] then.
//! 6. A held alert is sent only if it is still true of the latest price: the price is still
//!    in the deal zone (at most threshold + margin) and, after a cooldown, lower than what the
//!    user was last told; back in stock needs the product still buyable. The alert carries
//!    the lowest price and the latest one.
//! 7. The first alert goes out at once (`settle` zero), because the best deals sell out in
//!    minutes; rules 2, 3 and 5 already turn a wiggling price into one alert. An operator
//!    who prefers one alert per burst carrying its lowest price sets `settle`.
//! 8. Paused subscriptions never fire; they keep tracking arming and the latest price.
//! 9. Every alert has a [`DedupeKey`] (subscription, price point) that the server stores
//!    under a UNIQUE constraint, and redelivered events are ignored, so nothing is sent twice.

pub mod evaluate;
pub mod state;
pub mod subscription;

pub use evaluate::{on_price, on_wake, AlertContent, Decision, DedupeKey, Step};
pub use state::{AlertState, Pending, PriceEvent, Reasons, SentAlert};
pub use subscription::{AlertConfig, Channel, PriceTarget, Subscription, SubscriptionId};
