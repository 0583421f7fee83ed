//! The alert state machine as two pure functions: [`on_price`] for each accepted price
//! point, [`on_wake`] when a held alert's time has come. Each returns a [`Decision`] and the
//! state to store.

use serde::{Deserialize, Serialize};

use super::state::{AlertState, Pending, PriceEvent, Reasons, SentAlert};
use super::subscription::{AlertConfig, Channel, Subscription, SubscriptionId};
use crate::history::PricePointId;
use crate::money::Money;
use crate::time::Timestamp;

/// The server stores this under a UNIQUE constraint with each notification, so a retried
/// or replayed evaluation can never send the same alert twice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct DedupeKey {
    /// The subscription alerted.
    pub subscription: SubscriptionId,
    /// The price point the alert is about (its headline price).
    pub point: PricePointId,
}

/// What an alert says; the notification row and the message are built from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct AlertContent {
    /// Stored under a UNIQUE constraint with the notification.
    pub key: DedupeKey,
    /// Where to deliver it, from the subscription.
    pub channel: Channel,
    /// Why it fires; only reasons still true of the latest price are kept.
    pub reasons: Reasons,
    /// The headline: the lowest qualifying price since the alert was held (for a
    /// back-in-stock-only alert, the latest price).
    pub price: Money,
    /// When that price was first seen.
    pub price_seen_at: Timestamp,
    /// The latest buyable price when the alert was decided; equal to `price` unless several
    /// changes were consolidated.
    pub latest: Money,
    /// The subscription's threshold, `None` for back-in-stock only.
    pub threshold: Option<Money>,
    /// The price the previous alert told, for "dropped further from …".
    pub previous: Option<Money>,
    /// How many qualifying price events this one alert stands for.
    pub merged_events: u32,
}

/// What the alert worker does after an evaluation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "decision", rename_all = "snake_case")]
pub enum Decision {
    /// Send this alert now (insert the notification under its dedupe key).
    Fire(AlertContent),
    /// An alert is being held: call [`on_wake`] at `until` (or on the next event).
    Hold {
        /// When the held alert is due: the cooldown's end or the settling time.
        until: Timestamp,
    },
    /// Nothing to send or schedule.
    Nothing,
}

/// An evaluation's outcome: the decision and the state to store in place of the old one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Step {
    /// What to do now.
    pub decision: Decision,
    /// What to store for the next evaluation.
    pub state: AlertState,
}

/// Evaluate a newly accepted price point for one subscription at `now`.
///
/// Events not newer than the last one seen (redelivered outbox events) and events priced in
/// another currency than the target (which cannot be compared without an exchange rate)
/// change nothing; they are treated like a wake-up.
pub fn on_price(
    subscription: &Subscription,
    config: &AlertConfig,
    state: &AlertState,
    event: &PriceEvent,
    now: Timestamp,
) -> Step {
    let threshold = subscription.target.map(|t| t.threshold());
    let replayed = state.latest.is_some_and(|l| event.at <= l.at);
    let foreign =
        matches!((threshold, event.price), (Some(t), Some(p)) if t.currency != p.currency);
    if replayed || foreign {
        return on_wake(subscription, config, state, now);
    }

    let mut next = *state;
    let was_buyable = state.latest.map(|l| l.buyable_price().is_some());
    next.latest = Some(*event);
    let price = event.buyable_price();

    let mut reasons = Reasons::default();
    if let (Some(t), Some(p)) = (threshold, price) {
        let (t, p) = (t.amount_minor, p.amount_minor);
        let margin = config.margin(t);
        if p > t.saturating_add(margin) {
            next.armed = true;
        }
        if p <= t {
            if next.armed {
                reasons.crossed = true;
            } else if let Some(told) = state.last_alert {
                reasons.further_drop = p <= told.price.amount_minor.saturating_sub(margin);
            }
        }
    }
    reasons.back_in_stock =
        subscription.back_in_stock && was_buyable == Some(false) && price.is_some();

    if subscription.paused {
        next.pending = None;
        return Step {
            decision: Decision::Nothing,
            state: next,
        };
    }
    if let (true, Some(price)) = (reasons.any(), price) {
        next.pending = Some(merge(next.pending, event, price, reasons, now));
    }
    settle(subscription, config, next, now)
}

/// Re-evaluate a held alert at `now` (the worker's timer for a [`Decision::Hold`]).
pub fn on_wake(
    subscription: &Subscription,
    config: &AlertConfig,
    state: &AlertState,
    now: Timestamp,
) -> Step {
    let mut next = *state;
    if subscription.paused {
        next.pending = None;
        return Step {
            decision: Decision::Nothing,
            state: next,
        };
    }
    settle(subscription, config, next, now)
}

/// Fold a qualifying event into the held alert, keeping the lowest price as the headline.
fn merge(
    pending: Option<Pending>,
    event: &PriceEvent,
    price: Money,
    reasons: Reasons,
    now: Timestamp,
) -> Pending {
    let Some(mut held) = pending else {
        return Pending {
            point: event.point,
            price,
            at: event.at,
            reasons,
            merged_events: 1,
            since: now,
        };
    };
    // A price reason takes the headline from a stock-only one, and a lower price from a
    // higher one; a stock-only event never displaces a price headline.
    let headline =
        reasons.price() && (!held.reasons.price() || price.amount_minor < held.price.amount_minor);
    if headline {
        held.point = event.point;
        held.price = price;
        held.at = event.at;
    }
    held.reasons = held.reasons.union(reasons);
    held.merged_events = held.merged_events.saturating_add(1);
    held
}

/// Hold the pending alert until its time, then send whatever is still true of it.
fn settle(
    subscription: &Subscription,
    config: &AlertConfig,
    mut state: AlertState,
    now: Timestamp,
) -> Step {
    let Some(held) = state.pending else {
        return Step {
            decision: Decision::Nothing,
            state,
        };
    };
    let cooldown_end = state.last_alert.map(|a| a.sent_at + config.cooldown);
    let settled = held.since + config.settle;
    let due = cooldown_end.map_or(settled, |end| end.max(settled));
    if now < due {
        return Step {
            decision: Decision::Hold { until: due },
            state,
        };
    }
    state.pending = None;

    let threshold = subscription.target.map(|t| t.threshold());
    let latest = state.latest.and_then(|l| l.buyable_price().map(|p| (l, p)));
    let told = state.last_alert;
    // Held in a cooldown means the user heard from us recently: repeating a price they were
    // already told (or a higher one) is noise, not news.
    let held_in_cooldown = cooldown_end.is_some_and(|end| held.since < end);
    let beats_told = told.is_none_or(|t| held.price.amount_minor < t.price.amount_minor);
    let mut valid = Reasons::default();
    if let (Some(t), Some((_, p))) = (threshold, latest) {
        let (t, p) = (t.amount_minor, p.amount_minor);
        // Still in the deal zone: at or below the threshold, or above it by less than the
        // hysteresis margin (a wiggle that has not really left).
        let in_zone = p <= t.saturating_add(config.margin(t));
        valid.crossed = held.reasons.crossed && in_zone && (!held_in_cooldown || beats_told);
        valid.further_drop = held.reasons.further_drop
            && in_zone
            && told.is_some_and(|told| p < told.price.amount_minor);
        if held.reasons.crossed && in_zone && !valid.crossed {
            // The user already knows a price this low: count the crossing as told.
            state.armed = false;
        }
    }
    valid.back_in_stock = held.reasons.back_in_stock && latest.is_some();

    let Some((latest_event, latest_price)) = latest.filter(|_| valid.any()) else {
        return Step {
            decision: Decision::Nothing,
            state,
        };
    };
    let (point, price, price_seen_at) = if valid.price() {
        (held.point, held.price, held.at)
    } else {
        (latest_event.point, latest_price, latest_event.at)
    };
    if valid.price() {
        state.armed = false;
    }
    state.last_alert = Some(SentAlert {
        point,
        price,
        sent_at: now,
    });
    let content = AlertContent {
        key: DedupeKey {
            subscription: subscription.id,
            point,
        },
        channel: subscription.channel,
        reasons: valid,
        price,
        price_seen_at,
        latest: latest_price,
        threshold,
        previous: told.map(|t| t.price),
        merged_events: held.merged_events,
    };
    Step {
        decision: Decision::Fire(content),
        state,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decisions_serialize_with_a_decision_tag() {
        let hold = Decision::Hold {
            until: Timestamp(5),
        };
        assert_eq!(
            serde_json::to_string(&hold).unwrap(),
            r#"{"decision":"hold","until":5}"#
        );
        assert_eq!(
            serde_json::to_string(&Decision::Nothing).unwrap(),
            r#"{"decision":"nothing"}"#
        );
    }
}
