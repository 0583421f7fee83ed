//! Alert rules driven through whole event sequences the way the server's worker drives them:
//! every accepted price goes to `on_price`, every `Hold { until }` becomes a timer that calls
//! `on_wake` at `until`, and every `Fire` is one notification.

use pricewatch_core::alert::{
    on_price, on_wake, AlertConfig, AlertContent, AlertState, Channel, Decision, PriceEvent,
    PriceTarget, Reasons, Subscription, SubscriptionId,
};
use pricewatch_core::history::PricePointId;
use pricewatch_core::{Availability, Currency, Money, Span, Timestamp};
use proptest::prelude::*;
use std::collections::HashSet;

const T0: Timestamp = Timestamp(1_700_000_000_000);
const THRESHOLD: i64 = 10_000; // $100.00; the default margin is 2 % = $2.00

fn usd(minor: i64) -> Money {
    Money::new(minor, Currency::Usd)
}

fn subscription(target: Option<PriceTarget>, back_in_stock: bool) -> Subscription {
    Subscription {
        id: SubscriptionId(7),
        target,
        back_in_stock,
        channel: Channel::Email,
        paused: false,
    }
}

fn at_or_below(minor: i64) -> Option<PriceTarget> {
    Some(PriceTarget::AtOrBelow {
        threshold: usd(minor),
    })
}

/// The alert worker in miniature: one subscription, its stored state, its timer and outbox.
struct Worker {
    subscription: Subscription,
    config: AlertConfig,
    state: AlertState,
    timer: Option<Timestamp>,
    sent: Vec<(Timestamp, AlertContent)>,
    next_point: i64,
}

impl Worker {
    fn new(subscription: Subscription, config: AlertConfig) -> Self {
        Worker {
            subscription,
            config,
            state: AlertState::new(None),
            timer: None,
            sent: Vec::new(),
            next_point: 1,
        }
    }

    fn apply(&mut self, decision: Decision, now: Timestamp) {
        self.timer = None;
        match decision {
            Decision::Fire(content) => self.sent.push((now, content)),
            Decision::Hold { until } => {
                assert!(until > now, "a hold must point to the future");
                self.timer = Some(until);
            }
            Decision::Nothing => {}
        }
    }

    /// Let time pass to `now`, running a due timer at its own time.
    fn advance_to(&mut self, now: Timestamp) {
        if let Some(due) = self.timer.filter(|due| *due <= now) {
            let step = on_wake(&self.subscription, &self.config, &self.state, due);
            self.state = step.state;
            self.apply(step.decision, due);
        }
    }

    fn event(
        &mut self,
        at: Timestamp,
        price: Option<Money>,
        availability: Availability,
    ) -> PriceEvent {
        self.advance_to(at);
        let event = PriceEvent {
            point: PricePointId(self.next_point),
            price,
            availability,
            at,
        };
        self.next_point += 1;
        let step = on_price(&self.subscription, &self.config, &self.state, &event, at);
        self.state = step.state;
        self.apply(step.decision, at);
        event
    }

    fn price(&mut self, at: Timestamp, minor: i64) {
        self.event(at, Some(usd(minor)), Availability::InStock);
    }

    #[track_caller]
    fn only_alert(&self) -> AlertContent {
        match self.sent.as_slice() {
            [(_, content)] => *content,
            other => panic!(
                "expected exactly one alert, got {}: {other:#?}",
                other.len()
            ),
        }
    }

    fn prices_sent(&self) -> Vec<i64> {
        self.sent
            .iter()
            .map(|(_, c)| c.price.amount_minor)
            .collect()
    }
}

fn default_worker() -> Worker {
    Worker::new(
        subscription(at_or_below(THRESHOLD), false),
        AlertConfig::default(),
    )
}

#[test]
fn a_price_wiggling_around_the_threshold_alerts_once() {
    let mut w = default_worker();

    for i in 0..100 {
        let at = T0 + Span::seconds(36 * i);
        w.price(at, if i % 2 == 0 { 10_050 } else { 9_950 });
    }
    w.advance_to(T0 + Span::days(2));

    let alert = w.only_alert();
    assert_eq!(alert.price, usd(9_950), "the lowest price of the wiggle");
    assert!(alert.reasons.crossed);
}

#[test]
fn a_wiggle_wider_than_the_hysteresis_still_alerts_once() {
    let mut w = default_worker();

    for i in 0..100 {
        let at = T0 + Span::seconds(36 * i);
        w.price(at, if i % 2 == 0 { 10_500 } else { 9_500 });
    }
    w.advance_to(T0 + Span::days(2));

    assert_eq!(w.prices_sent(), vec![9_500]);
    assert!(!w.state.armed, "the held re-crossings count as told");
}

#[test]
fn with_settling_a_burst_of_changes_alerts_once_with_its_lowest_price() {
    let config = AlertConfig {
        settle: Span::hours(1),
        ..AlertConfig::default()
    };
    let mut w = Worker::new(subscription(at_or_below(THRESHOLD), false), config);
    let lows = [9_990, 9_900, 9_700, 9_850, 9_640, 9_990, 9_800];

    for i in 0..100 {
        let at = T0 + Span::seconds(35 * i);
        let price = if i % 2 == 0 {
            10_150
        } else {
            lows[(i as usize / 2) % lows.len()]
        };
        w.price(at, price);
    }
    w.advance_to(T0 + Span::days(2));

    let alert = w.only_alert();
    assert_eq!(alert.price, usd(9_640));
    assert_eq!(alert.latest, usd(9_990), "the wiggle ended on its last low");
    assert_eq!(
        w.sent.first().map(|(at, _)| *at),
        Some(T0 + Span::seconds(35) + Span::hours(1))
    );
}

#[test]
fn several_drops_within_the_cooldown_yield_one_consolidated_alert_after_it() {
    let mut w = default_worker();
    w.price(T0, 9_900);

    w.price(T0 + Span::hours(1), 9_600);
    w.price(T0 + Span::hours(2), 9_400);
    w.price(T0 + Span::hours(3), 9_100);
    w.price(T0 + Span::hours(4), 9_300);
    w.advance_to(T0 + Span::days(1));

    assert_eq!(w.prices_sent(), vec![9_900, 9_100]);
    let (sent_at, second) = w.sent[1];
    assert_eq!(sent_at, T0 + Span::hours(6), "sent when the cooldown ends");
    assert_eq!(second.latest, usd(9_300));
    assert_eq!(second.previous, Some(usd(9_900)));
    assert_eq!(second.merged_events, 4);
    assert!(second.reasons.further_drop);
}

#[test]
fn a_held_alert_whose_deal_ended_before_the_cooldown_is_not_sent() {
    let mut w = default_worker();
    w.price(T0, 9_900);
    w.price(T0 + Span::hours(1), 9_000);

    w.price(T0 + Span::hours(2), 12_000);
    w.advance_to(T0 + Span::days(1));

    assert_eq!(w.prices_sent(), vec![9_900]);
    assert!(w.state.armed, "the rise re-armed it for the next crossing");
    assert_eq!(w.state.pending, None);
}

#[test]
fn the_target_re_arms_only_above_the_threshold_plus_the_hysteresis_margin() {
    let mut w = default_worker();
    w.price(T0, 9_900);

    w.price(T0 + Span::hours(7), THRESHOLD + 200);
    w.price(T0 + Span::hours(8), 9_900);
    assert_eq!(
        w.sent.len(),
        1,
        "exactly at threshold + margin does not re-arm"
    );

    w.price(T0 + Span::hours(9), THRESHOLD + 201);
    w.price(T0 + Span::hours(10), 9_950);
    assert_eq!(
        w.prices_sent(),
        vec![9_900, 9_950],
        "one minor unit above re-arms"
    );
}

#[test]
fn the_margin_has_a_floor_in_minor_units_for_cheap_products() {
    let mut w = Worker::new(
        subscription(at_or_below(100), false),
        AlertConfig::default(),
    );
    w.price(T0, 99);

    w.price(T0 + Span::hours(7), 105); // 2 % of $1.00 is 2 ¢, but the floor is 5 ¢
    w.price(T0 + Span::hours(8), 99);
    w.price(T0 + Span::hours(9), 106);
    w.price(T0 + Span::hours(10), 98);

    assert_eq!(w.prices_sent(), vec![99, 98]);
}

#[test]
fn a_paused_subscription_never_fires_and_resuming_alerts_on_the_next_price_below() {
    let mut paused = subscription(at_or_below(THRESHOLD), true);
    paused.paused = true;
    let mut w = Worker::new(paused, AlertConfig::default());
    w.event(T0, None, Availability::OutOfStock);
    w.price(T0 + Span::hours(1), 9_000);
    w.price(T0 + Span::hours(2), 8_000);
    w.advance_to(T0 + Span::days(1));
    assert!(w.sent.is_empty());

    w.subscription.paused = false;
    w.price(T0 + Span::days(1), 8_500);

    let alert = w.only_alert();
    assert_eq!(alert.price, usd(8_500));
    assert!(alert.reasons.crossed && !alert.reasons.back_in_stock);
}

#[test]
fn a_subscription_made_below_its_threshold_alerts_on_the_next_accepted_price() {
    let mut w = default_worker();
    w.state = AlertState::new(Some(PriceEvent {
        point: PricePointId(99),
        price: Some(usd(9_000)),
        availability: Availability::InStock,
        at: T0 - Span::hours(1),
    }));

    w.price(T0, 9_100);

    assert_eq!(w.only_alert().price, usd(9_100));
}

#[test]
fn a_percentage_drop_fires_at_the_floor_of_the_reduced_price() {
    let target = Some(PriceTarget::DropFrom {
        reference: usd(4_999),
        drop_bp: 2_000,
    });
    let mut w = Worker::new(subscription(target, false), AlertConfig::default());

    w.price(T0, 4_000); // 19.98 % off: 3999.2 is the limit, so 4000 is not enough
    w.price(T0 + Span::hours(1), 3_999);

    let alert = w.only_alert();
    assert_eq!(
        (alert.price, alert.threshold),
        (usd(3_999), Some(usd(3_999)))
    );
}

#[test]
fn back_in_stock_fires_when_a_price_returns_and_not_on_the_first_sighting() {
    let mut w = Worker::new(subscription(None, true), AlertConfig::default());
    w.price(T0, 12_000);
    w.event(
        T0 + Span::hours(1),
        Some(usd(12_000)),
        Availability::OutOfStock,
    );

    w.event(
        T0 + Span::hours(2),
        Some(usd(12_500)),
        Availability::Unknown,
    );

    let alert = w.only_alert();
    assert_eq!(
        alert.reasons,
        Reasons {
            crossed: false,
            further_drop: false,
            back_in_stock: true
        }
    );
    assert_eq!((alert.price, alert.threshold), (usd(12_500), None));
}

#[test]
fn back_in_stock_below_the_threshold_is_one_alert_with_both_reasons() {
    let mut w = Worker::new(
        subscription(at_or_below(THRESHOLD), true),
        AlertConfig::default(),
    );
    w.event(T0, None, Availability::OutOfStock);

    w.price(T0 + Span::hours(1), 9_000);

    let alert = w.only_alert();
    assert!(alert.reasons.crossed && alert.reasons.back_in_stock);
}

#[test]
fn an_out_of_stock_price_below_the_threshold_is_not_a_deal() {
    let mut w = default_worker();

    w.event(T0, Some(usd(5_000)), Availability::OutOfStock);
    w.event(T0 + Span::hours(1), None, Availability::InStock);

    assert!(w.sent.is_empty());
}

#[test]
fn a_redelivered_event_changes_nothing() {
    let w = default_worker();
    let event = PriceEvent {
        point: PricePointId(1),
        price: Some(usd(9_000)),
        availability: Availability::InStock,
        at: T0,
    };
    let first = on_price(&w.subscription, &w.config, &w.state, &event, T0);
    assert!(matches!(first.decision, Decision::Fire(_)));

    let again = on_price(
        &w.subscription,
        &w.config,
        &first.state,
        &event,
        T0 + Span::seconds(5),
    );

    assert_eq!(again.decision, Decision::Nothing);
    assert_eq!(again.state, first.state);
}

#[test]
fn a_hold_names_the_end_of_the_cooldown_and_waking_early_sends_nothing() {
    let w = default_worker();
    let s = &w.subscription;
    let c = &w.config;
    let ev = |point, minor, at| PriceEvent {
        point: PricePointId(point),
        price: Some(usd(minor)),
        availability: Availability::InStock,
        at,
    };
    let fired = on_price(s, c, &w.state, &ev(1, 9_900, T0), T0);
    let held = on_price(
        s,
        c,
        &fired.state,
        &ev(2, 9_000, T0 + Span::hours(1)),
        T0 + Span::hours(1),
    );
    assert_eq!(
        held.decision,
        Decision::Hold {
            until: T0 + Span::hours(6)
        }
    );

    let early = on_wake(s, c, &held.state, T0 + Span::hours(5));
    let on_time = on_wake(s, c, &early.state, T0 + Span::hours(6));

    assert_eq!(
        early.decision,
        Decision::Hold {
            until: T0 + Span::hours(6)
        }
    );
    assert!(matches!(on_time.decision, Decision::Fire(a) if a.price == usd(9_000)));
}

#[test]
fn the_alert_state_is_stored_as_plain_json() {
    let mut w = default_worker();
    w.price(T0, 9_900);
    w.price(T0 + Span::hours(1), 9_500);

    let json = match serde_json::to_value(w.state) {
        Ok(json) => json,
        Err(e) => panic!("state must serialize: {e}"),
    };

    let expected = serde_json::json!({
        "armed": false,
        "latest": {"point": 2, "price": {"amount_minor": 9500, "currency": "USD"}, "availability": "in_stock", "at": 1_700_003_600_000_i64},
        "last_alert": {"point": 1, "price": {"amount_minor": 9900, "currency": "USD"}, "sent_at": 1_700_000_000_000_i64},
        "pending": {
            "point": 2, "price": {"amount_minor": 9500, "currency": "USD"}, "at": 1_700_003_600_000_i64,
            "reasons": {"crossed": false, "further_drop": true, "back_in_stock": false},
            "merged_events": 1, "since": 1_700_003_600_000_i64
        }
    });
    assert_eq!(json, expected);
    let back: Result<AlertState, _> = serde_json::from_value(json);
    assert_eq!(back.ok(), Some(w.state));
    let empty: Result<AlertState, _> = serde_json::from_str("{}");
    assert_eq!(
        empty.ok(),
        Some(AlertState::default()),
        "missing fields read as a fresh state"
    );
}

/// One step of a random sequence: minutes to wait, then a price (or none) and stock.
fn arb_steps() -> impl Strategy<Value = Vec<(i64, Option<i64>, Availability, bool)>> {
    let step = (
        0_i64..600,
        prop_oneof![9 => (9_000_i64..11_000).prop_map(Some), 1 => Just(None)],
        prop_oneof![8 => Just(Availability::InStock), 1 => Just(Availability::OutOfStock), 1 => Just(Availability::Unknown)],
        prop::bool::weighted(0.05),
    );
    proptest::collection::vec(step, 1..150)
}

fn run(
    subscription: Subscription,
    config: AlertConfig,
    steps: &[(i64, Option<i64>, Availability, bool)],
    currency: Currency,
) -> (Worker, Vec<PriceEvent>) {
    let mut w = Worker::new(subscription, config);
    let mut events = Vec::new();
    let mut at = T0;
    for (minutes, price, availability, _) in steps {
        at = at + Span::minutes(*minutes + 1);
        events.push(w.event(at, price.map(|p| Money::new(p, currency)), *availability));
    }
    w.advance_to(at + Span::days(30));
    (w, events)
}

proptest! {
    #[test]
    fn paused_subscriptions_never_fire(steps in arb_steps()) {
        let mut sub = subscription(at_or_below(THRESHOLD), true);
        sub.paused = true;
        let (w, _) = run(sub, AlertConfig::default(), &steps, Currency::Usd);
        prop_assert!(w.sent.is_empty());
        prop_assert_eq!(w.state.pending, None);
    }

    #[test]
    fn prices_in_another_currency_never_fire(steps in arb_steps()) {
        let (w, _) = run(subscription(at_or_below(THRESHOLD), true), AlertConfig::default(), &steps, Currency::Cad);
        prop_assert!(w.sent.is_empty());
    }

    #[test]
    fn alerts_respect_the_cooldown_and_are_never_sent_twice(steps in arb_steps(), settle in 0_i64..120) {
        let config = AlertConfig { settle: Span::minutes(settle), ..AlertConfig::default() };
        let (w, _) = run(subscription(at_or_below(THRESHOLD), true), config, &steps, Currency::Usd);
        for pair in w.sent.windows(2) {
            prop_assert!(pair[1].0 - pair[0].0 >= config.cooldown, "{:?}", pair);
        }
        let keys: HashSet<_> = w.sent.iter().map(|(_, c)| c.key).collect();
        prop_assert_eq!(keys.len(), w.sent.len());
    }

    #[test]
    fn a_price_alert_tells_a_price_at_or_below_the_threshold_and_no_higher_than_the_latest(steps in arb_steps()) {
        let (w, events) = run(subscription(at_or_below(THRESHOLD), true), AlertConfig::default(), &steps, Currency::Usd);
        for (_, alert) in &w.sent {
            prop_assert!(alert.reasons.any());
            if alert.reasons.price() {
                prop_assert!(alert.price.amount_minor <= THRESHOLD);
                prop_assert!(alert.price.amount_minor <= alert.latest.amount_minor);
            }
            // The headline point is a real event that carried that price.
            let source = events.iter().find(|e| e.point == alert.key.point);
            prop_assert_eq!(source.and_then(|e| e.buyable_price()), Some(alert.price));
        }
    }

    #[test]
    fn no_crossing_alert_fires_again_before_the_price_rises_above_threshold_plus_margin(steps in arb_steps()) {
        let config = AlertConfig { cooldown: Span(0), ..AlertConfig::default() };
        let (w, events) = run(subscription(at_or_below(THRESHOLD), false), config, &steps, Currency::Usd);
        let rearm_above = THRESHOLD + config.margin(THRESHOLD);
        for pair in w.sent.windows(2) {
            let (first, second) = (pair[0].1, pair[1].1);
            if first.reasons.price() && second.reasons.crossed {
                let rose = events.iter().any(|e| {
                    e.point > first.key.point
                        && e.point <= second.key.point
                        && e.buyable_price().is_some_and(|p| p.amount_minor > rearm_above)
                });
                prop_assert!(rose, "{first:?} then {second:?}");
            }
        }
    }
}
