//! One event's alerts: find the subscriptions the new price can change, run core's rules on
//! each, and write states, notifications and "event done" in one transaction.

use std::collections::HashMap;

use pricewatch_core::alert::{
    self, AlertConfig, AlertContent, AlertState, Decision, PriceEvent, Step, SubscriptionId,
};
use pricewatch_core::history::PricePointId;
use pricewatch_core::{Availability, Money, Timestamp};
use sqlx::AnyConnection;

use super::worker::{ClaimedEvent, PriceChanged, PriceRefuted, PRICE_REFUTED};
use crate::db::Backend;
use crate::state::AppState;
use crate::store::notifications::{self, ContentTemplate};
use crate::store::subscriptions;

/// The price event core's rules take, from the outbox payload.
pub fn price_event(p: &PriceChanged) -> PriceEvent {
    PriceEvent {
        point: PricePointId(p.price_point_id),
        price: p.new_price.map(|m| Money::new(m, p.currency)),
        availability: p.availability,
        at: p.observed_at,
    }
}

/// Whether the product became buyable or stopped being buyable with this change.
fn stock_changed(p: &PriceChanged) -> bool {
    let buyable = |price: Option<i64>, availability: Option<Availability>| {
        price.is_some() && availability != Some(Availability::OutOfStock)
    };
    match p.old_availability {
        None => false,
        Some(old) => buyable(p.old_price, Some(old)) != buyable(p.new_price, Some(p.availability)),
    }
}

/// Lock the product for the rest of the transaction (PostgreSQL), so that events, wake-ups
/// and corrections of one product never interleave across replicas.
pub async fn lock_product(
    conn: &mut AnyConnection,
    backend: Backend,
    product_id: i64,
) -> Result<(), sqlx::Error> {
    if backend == Backend::Postgres {
        sqlx::query("SELECT id FROM products WHERE id = $1 FOR UPDATE")
            .bind(product_id)
            .fetch_optional(conn)
            .await?;
    }
    Ok(())
}

/// Evaluations of one event for many subscriptions, grouped so that each distinct outcome is
/// written once for all the subscriptions that share it: a product's subscribers mostly see
/// an event from the same state and end in the same state with the same alert (only the
/// subscription id in its dedupe key differs). Core's rules still decide every subscription
/// on its own; only the writing is shared.
#[derive(Debug, Default)]
pub struct Fanout {
    /// New (state, wake-up) → the subscriptions that move to it.
    states: HashMap<(AlertState, Option<i64>), Vec<i64>>,
    /// Alert (with its subscription id zeroed) → the subscriptions it fires for.
    alerts: HashMap<AlertContent, Vec<i64>>,
    evaluated: usize,
}

impl Fanout {
    /// Record one subscription's evaluation. States that did not change are not rewritten.
    pub fn add(&mut self, id: i64, old: &AlertState, old_wake: Option<i64>, step: Step) {
        self.evaluated += 1;
        let wake_at = match step.decision {
            Decision::Hold { until } => Some(until.as_millis()),
            Decision::Fire(_) | Decision::Nothing => None,
        };
        if let Decision::Fire(mut content) = step.decision {
            content.key.subscription = SubscriptionId(0);
            self.alerts.entry(content).or_default().push(id);
        }
        if step.state != *old || wake_at != old_wake {
            self.states
                .entry((step.state, wake_at))
                .or_default()
                .push(id);
        }
    }

    /// Subscriptions whose state changes.
    pub fn updates(&self) -> usize {
        self.states.values().map(Vec::len).sum()
    }

    /// Subscriptions alerted.
    pub fn alerts(&self) -> usize {
        self.alerts.values().map(Vec::len).sum()
    }

    /// Write the new states: one statement per distinct new state.
    pub async fn write_states(
        &self,
        conn: &mut AnyConnection,
        backend: Backend,
        now: Timestamp,
    ) -> Result<(), sqlx::Error> {
        let mut groups: Vec<_> = self.states.iter().collect();
        groups.sort_by_key(|(_, ids)| ids.first().copied());
        for ((state, wake_at), ids) in groups {
            subscriptions::write_state_group(conn, backend, state, *wake_at, ids, now).await?;
        }
        Ok(())
    }

    /// Queue the alerts: two statements (email, webhook) per distinct alert. Returns how many
    /// notifications were queued.
    pub async fn queue_alerts(
        &self,
        conn: &mut AnyConnection,
        backend: Backend,
        product_id: i64,
        now: Timestamp,
    ) -> anyhow::Result<u64> {
        let mut groups: Vec<_> = self.alerts.iter().collect();
        groups.sort_by_key(|(_, ids)| ids.first().copied());
        let mut queued = 0;
        for (content, ids) in groups {
            let template = ContentTemplate::of(content)?;
            queued += notifications::insert_alert_fanout(
                conn,
                backend,
                product_id,
                content.key.point.0,
                &template,
                ids,
                now,
            )
            .await?;
        }
        Ok(queued)
    }
}

/// Read the candidates of one product event and run core's rules on each (no writes).
pub async fn plan(
    conn: &mut AnyConnection,
    product_id: i64,
    payload: &PriceChanged,
    rules: &AlertConfig,
    now: Timestamp,
) -> Result<Fanout, sqlx::Error> {
    let event = price_event(payload);
    let buyable = event.buyable_price().map(|p| p.amount_minor);
    let candidates =
        subscriptions::rule_candidates(conn, product_id, buyable, stock_changed(payload)).await?;
    let mut fanout = Fanout::default();
    for c in &candidates {
        let step = alert::on_price(&c.subscription, rules, &c.state, &event, now);
        fanout.add(c.subscription.id.0, &c.state, c.wake_at, step);
    }
    Ok(fanout)
}

/// Match, evaluate and queue for one product event, inside `conn`'s transaction. Returns
/// how many notifications were queued. Used by the worker and the benchmark.
pub async fn match_and_enqueue(
    conn: &mut AnyConnection,
    backend: Backend,
    product_id: i64,
    payload: &PriceChanged,
    rules: &AlertConfig,
    now: Timestamp,
) -> anyhow::Result<u64> {
    let fanout = plan(conn, product_id, payload, rules, now).await?;
    fanout.write_states(conn, backend, now).await?;
    let queued = fanout.queue_alerts(conn, backend, product_id, now).await?;
    tracing::debug!(
        candidates = fanout.evaluated,
        updated = fanout.updates(),
        queued,
        "event evaluated"
    );
    Ok(queued)
}

/// Handle one claimed event. Nothing is written when the claim was lost meanwhile (the
/// lease ran out and another replica took the event).
#[tracing::instrument(skip(state, worker, event), fields(event_id = event.id, product_id = event.product_id))]
pub async fn process(state: &AppState, worker: &str, event: &ClaimedEvent) -> anyhow::Result<u64> {
    let now = state.clock.now();
    let mut tx = state.db.write.begin().await?;
    lock_product(&mut tx, state.db.backend, event.product_id).await?;
    let still_ours: Option<i64> = sqlx::query_scalar(&format!(
        "SELECT id FROM outbox_events WHERE id = $1 AND claimed_by = $2 AND done_at IS NULL{}",
        crate::store::for_update(state.db.backend)
    ))
    .bind(event.id)
    .bind(worker)
    .fetch_optional(&mut *tx)
    .await?;
    if still_ours.is_none() {
        tracing::warn!("claim lost before processing; another worker has the event");
        return Ok(0);
    }
    let queued = if event.kind == PRICE_REFUTED {
        let refuted: PriceRefuted = serde_json::from_str(&event.payload)?;
        let real = PriceEvent {
            point: PricePointId(refuted.real_point_id.unwrap_or(refuted.price_point_id)),
            price: refuted.real_price.map(|m| Money::new(m, refuted.currency)),
            availability: refuted.availability,
            at: refuted.observed_at,
        };
        super::corrections::send_for_refuted_point(
            &mut tx,
            state.db.backend,
            &state.settings.alerts,
            event.product_id,
            PricePointId(refuted.price_point_id),
            real,
            now,
        )
        .await?
        .queued
    } else {
        let payload: PriceChanged = serde_json::from_str(&event.payload)?;
        match_and_enqueue(
            &mut tx,
            state.db.backend,
            event.product_id,
            &payload,
            &state.settings.alerts.rules(),
            now,
        )
        .await?
    };
    sqlx::query(
        "UPDATE outbox_events SET done_at = $1, claimed_by = NULL, claimed_until = NULL WHERE id = $2",
    )
    .bind(now.as_millis())
    .bind(event.id)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(queued)
}

/// Mark an event that keeps failing as done, so its product's later events can go on.
pub async fn set_aside(state: &AppState, worker: &str, event_id: i64) -> anyhow::Result<()> {
    sqlx::query(
        "UPDATE outbox_events SET done_at = $1, claimed_by = NULL WHERE id = $2 AND claimed_by = $3",
    )
    .bind(state.clock.now().as_millis())
    .bind(event_id)
    .bind(worker)
    .execute(&state.db.write)
    .await?;
    Ok(())
}
