//! Corrections: when a verification crawl refutes a published price, who was alerted on it,
//! what each of them is told, and how their alert state is put back.
//!
//! An alert is only about its headline point (its dedupe key's point), so the alerts to
//! correct are exactly those whose key names the refuted point. For each, the real price
//! decides the tone: if the user's alert still holds at the real price (the threshold is
//! still met, the product is still buyable) the correction is a note with the right price;
//! otherwise the alert should not have fired, the message apologises, and the subscription
//! is restored as if the alert had never been sent, so the true drop, when it comes, alerts.

use serde::{Deserialize, Serialize};

use crate::alert::{AlertContent, AlertState, Channel, DedupeKey, PriceEvent, Reasons, SentAlert};
use crate::history::PricePointId;
use crate::money::Money;

/// A verification that found a published point wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Refutation {
    /// The published point that was wrong.
    pub point: PricePointId,
    /// What the verification crawl saw, stored as the product's new point.
    pub real: PriceEvent,
}

/// Whether the corrected alert was right in substance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Every reason of the alert holds at the real price: a note with the right price, no
    /// apology.
    StillMet,
    /// The alert should not have fired: apologise.
    Wrong,
}

/// What to do to the subscription's stored state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Restore {
    /// Leave it disarmed; only the price the user was told is set to the real one.
    Keep,
    /// Undo the alert: arm the target again (if it was a price alert), refund the cooldown
    /// and forget the refuted point, so the real drop or return to stock alerts.
    Rearm,
}

/// One correction message and the state change that goes with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Correction {
    /// The corrected alert's key; the server stores corrections under the same UNIQUE
    /// (subscription, point) so a correction is sent at most once too.
    pub key: DedupeKey,
    /// Corrections go where the alert went.
    pub channel: Channel,
    /// The refuted price the alert told.
    pub told: Money,
    /// The real buyable price now; `None` when the product is out of stock or shows none.
    pub real: Option<Money>,
    /// The user's threshold when the alert was sent, for "still below your €X".
    pub threshold: Option<Money>,
    /// The corrected alert's reasons, for the wording.
    pub reasons: Reasons,
    /// A note, or an apology.
    pub verdict: Verdict,
    /// Apply with [`restore_state`].
    pub restore: Restore,
}

/// The corrections owed for `refutation`, given the alerts sent (any list: those not about
/// the refuted point are skipped). One per subscription, ordered by subscription id.
pub fn corrections(refutation: &Refutation, sent: &[AlertContent]) -> Vec<Correction> {
    let mut out: Vec<Correction> = sent
        .iter()
        .filter(|alert| alert.key.point == refutation.point)
        .filter_map(|alert| correction_for(refutation, alert))
        .collect();
    out.sort_by_key(|c| c.key);
    out.dedup_by_key(|c| c.key);
    out
}

fn correction_for(refutation: &Refutation, alert: &AlertContent) -> Option<Correction> {
    // A real price in another currency cannot be compared with what the user was told.
    let real = refutation
        .real
        .buyable_price()
        .filter(|p| p.currency == alert.price.currency);
    if real == Some(alert.price) {
        return None; // the user was told the truth after all
    }
    let threshold_met = match (real, alert.threshold) {
        (Some(r), Some(t)) => r.cmp_same_currency(&t).is_some_and(|o| o.is_le()),
        _ => false,
    };
    let still_met = (!alert.reasons.price() || threshold_met)
        && (!alert.reasons.back_in_stock || real.is_some());
    let (verdict, restore) = if still_met {
        (Verdict::StillMet, Restore::Keep)
    } else {
        (Verdict::Wrong, Restore::Rearm)
    };
    Some(Correction {
        key: alert.key,
        channel: alert.channel,
        told: alert.price,
        real,
        threshold: alert.threshold,
        reasons: alert.reasons,
        verdict,
        restore,
    })
}

/// The subscription's state after `correction` for `refutation`. Only what the refuted point
/// caused is undone: a later alert or a later price the state has moved on to stays.
pub fn restore_state(
    state: &AlertState,
    refutation: &Refutation,
    correction: &Correction,
) -> AlertState {
    let mut next = *state;
    // A held alert built on the refuted price would send it later; later events rebuild it.
    if next.pending.is_some_and(|p| p.point == refutation.point) {
        next.pending = None;
    }
    if next.latest.is_some_and(|l| l.point == refutation.point) {
        next.latest = Some(refutation.real);
    }
    if let Some(last) = next.last_alert.filter(|a| a.point == refutation.point) {
        match correction.restore {
            Restore::Rearm => {
                next.armed = next.armed || correction.reasons.price();
                next.last_alert = None;
            }
            Restore::Keep => {
                let told = correction.real.unwrap_or(last.price);
                next.last_alert = Some(SentAlert {
                    price: told,
                    ..last
                });
            }
        }
    }
    next
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alert::{
        on_price, AlertConfig, Decision, PriceTarget, Subscription, SubscriptionId,
    };

    use crate::money::Currency;
    use crate::observation::Availability;
    use crate::time::{Span, Timestamp};

    const T0: Timestamp = Timestamp(1_700_000_000_000);

    fn usd(minor: i64) -> Money {
        Money::new(minor, Currency::Usd)
    }

    fn event(
        point: i64,
        price: Option<i64>,
        availability: Availability,
        at: Timestamp,
    ) -> PriceEvent {
        PriceEvent {
            point: PricePointId(point),
            price: price.map(usd),
            availability,
            at,
        }
    }

    fn alert(
        subscription: i64,
        told: i64,
        threshold: Option<i64>,
        reasons: Reasons,
    ) -> AlertContent {
        AlertContent {
            key: DedupeKey {
                subscription: SubscriptionId(subscription),
                point: PricePointId(10),
            },
            channel: Channel::Email,
            reasons,
            price: usd(told),
            price_seen_at: T0,
            latest: usd(told),
            threshold: threshold.map(usd),
            previous: None,
            merged_events: 1,
        }
    }

    const CROSSED: Reasons = Reasons {
        crossed: true,
        further_drop: false,
        back_in_stock: false,
    };
    const STOCK: Reasons = Reasons {
        crossed: false,
        further_drop: false,
        back_in_stock: true,
    };

    fn refuted_by(real: PriceEvent) -> Refutation {
        Refutation {
            point: PricePointId(10),
            real,
        }
    }

    #[test]
    fn each_alerted_user_is_told_whether_their_alert_still_holds() {
        let in_stock_at = |p| event(11, Some(p), Availability::InStock, T0 + Span::hours(1));
        let out_of_stock = event(
            11,
            Some(4_000),
            Availability::OutOfStock,
            T0 + Span::hours(1),
        );
        let cases = [
            (
                "real price still under the threshold",
                alert(1, 4_000, Some(5_000), CROSSED),
                in_stock_at(4_800),
                Verdict::StillMet,
            ),
            (
                "real price exactly at the threshold",
                alert(1, 4_000, Some(5_000), CROSSED),
                in_stock_at(5_000),
                Verdict::StillMet,
            ),
            (
                "real price above the threshold",
                alert(1, 4_000, Some(5_000), CROSSED),
                in_stock_at(5_001),
                Verdict::Wrong,
            ),
            (
                "actually out of stock",
                alert(1, 4_000, Some(5_000), CROSSED),
                out_of_stock,
                Verdict::Wrong,
            ),
            (
                "back in stock, and it is, at another price",
                alert(1, 4_000, None, STOCK),
                in_stock_at(6_000),
                Verdict::StillMet,
            ),
            (
                "back in stock, but it is not",
                alert(1, 4_000, None, STOCK),
                out_of_stock,
                Verdict::Wrong,
            ),
        ];
        for (why, sent, real, verdict) in cases {
            let got = corrections(&refuted_by(real), &[sent]);
            assert_eq!(
                got.iter().map(|c| c.verdict).collect::<Vec<_>>(),
                vec![verdict],
                "{why}"
            );
            let restore = if verdict == Verdict::Wrong {
                Restore::Rearm
            } else {
                Restore::Keep
            };
            assert_eq!(
                got.first().map(|c| (c.restore, c.told)),
                Some((restore, usd(4_000))),
                "{why}"
            );
        }
    }

    #[test]
    fn only_alerts_on_the_refuted_point_are_corrected_once_each_in_subscription_order() {
        let mut other_point = alert(1, 4_000, Some(5_000), CROSSED);
        other_point.key.point = PricePointId(9);
        let sent = [
            alert(3, 4_000, Some(4_500), CROSSED),
            other_point,
            alert(2, 4_000, Some(6_000), CROSSED),
            alert(3, 4_000, Some(4_500), CROSSED),
        ];
        let real = event(11, Some(5_000), Availability::InStock, T0 + Span::hours(1));

        let got = corrections(&refuted_by(real), &sent);

        let summary: Vec<(i64, Verdict)> = got
            .iter()
            .map(|c| (c.key.subscription.0, c.verdict))
            .collect();
        assert_eq!(summary, vec![(2, Verdict::StillMet), (3, Verdict::Wrong)]);
        assert!(got.iter().all(|c| c.real == Some(usd(5_000))));
    }

    #[test]
    fn nobody_is_corrected_when_the_real_price_is_what_they_were_told() {
        let real = event(11, Some(4_000), Availability::InStock, T0 + Span::hours(1));
        let got = corrections(&refuted_by(real), &[alert(1, 4_000, Some(5_000), CROSSED)]);
        assert!(got.is_empty());
    }

    #[test]
    fn a_wrong_alert_is_undone_so_the_real_drop_alerts_later() {
        let sub = Subscription {
            id: SubscriptionId(1),
            target: Some(PriceTarget::AtOrBelow {
                threshold: usd(5_000),
            }),
            back_in_stock: false,
            channel: Channel::Email,
            paused: false,
        };
        let config = AlertConfig::default();
        let fake = event(10, Some(1_000), Availability::InStock, T0);
        let fired = on_price(&sub, &config, &AlertState::default(), &fake, T0);
        let Decision::Fire(sent) = fired.decision else {
            panic!("the fake price should have alerted: {fired:?}");
        };
        let real = event(
            11,
            Some(6_000),
            Availability::InStock,
            T0 + Span::minutes(30),
        );
        let refutation = refuted_by(real);
        let correction = corrections(&refutation, &[sent]);
        assert_eq!(correction.len(), 1);

        let restored = restore_state(&fired.state, &refutation, &correction[0]);
        let later = event(12, Some(4_900), Availability::InStock, T0 + Span::hours(1));
        let next = on_price(&sub, &config, &restored, &later, T0 + Span::hours(1));

        assert!(restored.armed);
        assert_eq!((restored.last_alert, restored.latest), (None, Some(real)));
        assert!(
            matches!(next.decision, Decision::Fire(a) if a.price == usd(4_900)),
            "{next:?}"
        );
    }

    #[test]
    fn a_right_alert_at_the_wrong_price_stays_disarmed_and_remembers_the_real_price() {
        let sub = Subscription {
            id: SubscriptionId(1),
            target: Some(PriceTarget::AtOrBelow {
                threshold: usd(5_000),
            }),
            back_in_stock: false,
            channel: Channel::Email,
            paused: false,
        };
        let config = AlertConfig::default();
        let fired = on_price(
            &sub,
            &config,
            &AlertState::default(),
            &event(10, Some(4_000), Availability::InStock, T0),
            T0,
        );
        let Decision::Fire(sent) = fired.decision else {
            panic!("should have alerted: {fired:?}");
        };
        let refutation = refuted_by(event(
            11,
            Some(4_500),
            Availability::InStock,
            T0 + Span::minutes(5),
        ));
        let correction = corrections(&refutation, &[sent]);

        let restored = restore_state(&fired.state, &refutation, &correction[0]);

        assert!(!restored.armed);
        assert_eq!(
            restored.last_alert.map(|a| (a.point, a.price)),
            Some((PricePointId(10), usd(4_500)))
        );
    }

    #[test]
    fn restoring_leaves_a_state_that_has_moved_on_alone() {
        let refutation = refuted_by(event(11, Some(6_000), Availability::InStock, T0));
        let correction = Correction {
            key: DedupeKey {
                subscription: SubscriptionId(1),
                point: PricePointId(10),
            },
            channel: Channel::Email,
            told: usd(1_000),
            real: Some(usd(6_000)),
            threshold: Some(usd(5_000)),
            reasons: CROSSED,
            verdict: Verdict::Wrong,
            restore: Restore::Rearm,
        };
        let later = AlertState {
            armed: false,
            latest: Some(event(12, Some(4_000), Availability::InStock, T0)),
            last_alert: Some(SentAlert {
                point: PricePointId(12),
                price: usd(4_000),
                sent_at: T0,
            }),
            pending: None,
        };

        assert_eq!(restore_state(&later, &refutation, &correction), later);
    }
}
