//! One event's alerts: find the subscriptions the new price can change, run core's rules on
//! each, and write states, notifications and "event done" in one transaction.

use pricewatch_core::alert::{self, AlertConfig, AlertContent, Decision, PriceEvent, Step};
use pricewatch_core::history::PricePointId;
use pricewatch_core::{Availability, Money, Timestamp};
use sqlx::AnyConnection;

use super::worker::{ClaimedEvent, PriceChanged, PriceRefuted, PRICE_REFUTED};
use crate::db::Backend;
use crate::state::AppState;
use crate::store::notifications::{self, channel, kind, status, NewNotification};
use crate::store::subscriptions::{self, Candidate, StateUpdate};

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

/// The notifications an alert becomes: email (held for the digest when the user wants one)
/// and, when the user has one, the webhook.
pub fn alert_notifications(
    candidate: &Candidate,
    product_id: i64,
    content: &AlertContent,
) -> Result<Vec<NewNotification>, serde_json::Error> {
    let json = serde_json::to_string(content)?;
    let base = NewNotification {
        user_id: candidate.row.user_id,
        subscription_id: Some(candidate.row.id),
        product_id: Some(product_id),
        price_point_id: Some(content.key.point.0),
        kind: kind::ALERT,
        channel: channel::EMAIL,
        content: json,
        status: if candidate.digest {
            status::AWAITING_DIGEST
        } else {
            status::PENDING
        },
    };
    let mut out = Vec::with_capacity(2);
    if candidate.has_webhook {
        out.push(NewNotification {
            channel: channel::WEBHOOK,
            status: status::PENDING,
            ..base.clone()
        });
    }
    out.push(base);
    Ok(out)
}

/// What evaluations produced: the states to write and the notifications to queue.
#[derive(Debug, Default)]
pub struct Outcome {
    pub updates: Vec<StateUpdate>,
    pub notifications: Vec<NewNotification>,
}

/// Fold one evaluation into the outcome. States that did not change are not rewritten.
pub fn record(
    outcome: &mut Outcome,
    candidate: &Candidate,
    product_id: i64,
    step: Step,
) -> Result<(), serde_json::Error> {
    let wake_at = match step.decision {
        Decision::Hold { until } => Some(until.as_millis()),
        Decision::Fire(_) | Decision::Nothing => None,
    };
    if let Decision::Fire(content) = &step.decision {
        outcome
            .notifications
            .extend(alert_notifications(candidate, product_id, content)?);
    }
    if step.state != candidate.row.state || wake_at != candidate.row.wake_at {
        outcome.updates.push(StateUpdate {
            id: candidate.row.id,
            state: step.state,
            wake_at,
        });
    }
    Ok(())
}

/// Evaluate `event` for every candidate.
pub fn evaluate(
    candidates: &[Candidate],
    product_id: i64,
    event: &PriceEvent,
    rules: &AlertConfig,
    now: Timestamp,
) -> Result<Outcome, serde_json::Error> {
    let mut outcome = Outcome::default();
    for c in candidates {
        let step = alert::on_price(&c.row.rules_view(), rules, &c.row.state, event, now);
        record(&mut outcome, c, product_id, step)?;
    }
    Ok(outcome)
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

/// Match, evaluate and queue for one product event, inside `conn`'s transaction. Returns
/// how many notifications were queued. Used by the worker and the benchmark.
pub async fn match_and_enqueue(
    conn: &mut AnyConnection,
    product_id: i64,
    payload: &PriceChanged,
    rules: &AlertConfig,
    now: Timestamp,
) -> anyhow::Result<u64> {
    let event = price_event(payload);
    let buyable = event.buyable_price().map(|p| p.amount_minor);
    let candidates =
        subscriptions::candidates(conn, product_id, buyable, stock_changed(payload)).await?;
    let outcome = evaluate(&candidates, product_id, &event, rules, now)?;
    subscriptions::write_states(conn, &outcome.updates, now).await?;
    let queued = notifications::insert_many(conn, &outcome.notifications, now).await?;
    tracing::debug!(
        candidates = candidates.len(),
        updated = outcome.updates.len(),
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
