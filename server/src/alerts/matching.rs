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
use crate::store::subscriptions::{self, CandidateGroup, GroupFilter, Who};

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
/// and corrections of one product never interleave across replicas (see
/// [`products::lock`](crate::store::products::lock)).
pub async fn lock_product(
    conn: &mut AnyConnection,
    backend: Backend,
    product_id: i64,
) -> Result<(), sqlx::Error> {
    crate::store::products::lock(conn, backend, product_id).await
}

/// A new state and wake-up, and whether the wake-up changes (only then is it written).
type NewState = (AlertState, Option<i64>, bool);

/// Subscriptions one write applies to: some named by id, and whole candidate groups
/// (indexes into [`Fanout::groups`]) named by the predicate that read them.
#[derive(Debug, Default)]
struct Targets {
    ids: Vec<i64>,
    groups: Vec<usize>,
}

/// Evaluations of one event for many subscriptions, grouped so that each distinct outcome is
/// written once for all the subscriptions that share it: a product's subscribers mostly see
/// an event from the same state and end in the same state with the same alert (only the
/// subscription id in its dedupe key differs). Core's rules still decide every subscription
/// on its own; only the writing is shared. When every member of a candidate group comes out
/// the same, the write names the group by its predicate (one pass over the product's index
/// range) rather than listing its ids (a primary-key look-up per subscriber).
#[derive(Debug, Default)]
pub struct Fanout {
    /// The candidate groups read (empty when subscriptions were added one by one).
    groups: Vec<GroupFilter>,
    /// Their first ids, to write in a stable order.
    group_first: Vec<i64>,
    states: HashMap<NewState, Targets>,
    /// Alert (with its subscription id zeroed) → the subscriptions it fires for.
    alerts: HashMap<AlertContent, Targets>,
    evaluated: usize,
    updated: usize,
    alerted: usize,
}

/// What core's rules made of one subscription, in the shape the writes are grouped by.
fn outcome(
    old: &AlertState,
    old_wake: Option<i64>,
    step: Step,
) -> (Option<NewState>, Option<AlertContent>) {
    let wake_at = match step.decision {
        Decision::Hold { until } => Some(until.as_millis()),
        Decision::Fire(_) | Decision::Nothing => None,
    };
    let alert = match step.decision {
        Decision::Fire(mut content) => {
            content.key.subscription = SubscriptionId(0);
            Some(content)
        }
        Decision::Hold { .. } | Decision::Nothing => None,
    };
    let state = (step.state != *old || wake_at != old_wake).then_some((
        step.state,
        wake_at,
        wake_at != old_wake,
    ));
    (state, alert)
}

impl Fanout {
    /// Record one subscription's evaluation. States that did not change are not rewritten.
    pub fn add(&mut self, id: i64, old: &AlertState, old_wake: Option<i64>, step: Step) {
        self.evaluated += 1;
        let (state, alert) = outcome(old, old_wake, step);
        if let Some(content) = alert {
            self.alerted += 1;
            self.alerts.entry(content).or_default().ids.push(id);
        }
        if let Some(key) = state {
            self.updated += 1;
            self.states.entry(key).or_default().ids.push(id);
        }
    }

    /// Evaluate every member of a candidate group with core's rules (each on its own), and
    /// record the outcomes: as the whole group when all members agree, else one by one.
    pub fn add_group(
        &mut self,
        group: &CandidateGroup,
        rules: &AlertConfig,
        event: &PriceEvent,
        now: Timestamp,
    ) {
        let steps: Vec<(i64, Step)> = group
            .ids
            .iter()
            .map(|&id| {
                let s = group.subscription(id);
                (id, alert::on_price(&s, rules, &group.state, event, now))
            })
            .collect();
        let outcomes: Vec<_> = steps
            .iter()
            .map(|(_, step)| outcome(&group.state, group.wake_at, *step))
            .collect();
        let uniform = outcomes.windows(2).all(|w| w[0] == w[1]);
        match (uniform, outcomes.first(), group.ids.first()) {
            (true, Some((state, alert)), Some(&first)) => {
                let index = self.groups.len();
                self.groups.push(group.filter.clone());
                self.group_first.push(first);
                let n = group.ids.len();
                self.evaluated += n;
                if let Some(content) = alert {
                    self.alerted += n;
                    self.alerts.entry(*content).or_default().groups.push(index);
                }
                if let Some(key) = state {
                    self.updated += n;
                    self.states.entry(*key).or_default().groups.push(index);
                }
            }
            _ => {
                for (id, step) in steps {
                    self.add(id, &group.state, group.wake_at, step);
                }
            }
        }
    }

    /// Subscriptions whose state changes.
    pub fn updates(&self) -> usize {
        self.updated
    }

    /// Subscriptions alerted.
    pub fn alerts(&self) -> usize {
        self.alerted
    }

    /// The writes of one outcome: its id list (if any), then its whole groups.
    fn writes<'a>(&'a self, t: &'a Targets) -> impl Iterator<Item = Who<'a>> + 'a {
        let ids = (!t.ids.is_empty()).then_some(Who::Ids(&t.ids));
        ids.into_iter()
            .chain(t.groups.iter().map(|&g| Who::Group(&self.groups[g])))
    }

    /// The smallest subscription id an outcome applies to, for a stable write order.
    fn first_id(&self, t: &Targets) -> Option<i64> {
        t.ids
            .first()
            .copied()
            .into_iter()
            .chain(t.groups.iter().map(|&g| self.group_first[g]))
            .min()
    }

    /// Write the new states: one statement per distinct new state and candidate group.
    ///
    /// Call after [`Fanout::queue_alerts`]: a group's predicate names the group by the state
    /// it was read with, which this changes.
    pub async fn write_states(
        &self,
        conn: &mut AnyConnection,
        backend: Backend,
        now: Timestamp,
    ) -> Result<(), sqlx::Error> {
        let mut outcomes: Vec<_> = self.states.iter().collect();
        outcomes.sort_by_key(|(_, t)| self.first_id(t));
        for ((state, wake_at, set_wake), targets) in outcomes {
            for who in self.writes(targets) {
                subscriptions::write_state_group(
                    conn, backend, state, *wake_at, *set_wake, who, now,
                )
                .await?;
            }
        }
        Ok(())
    }

    /// Queue the alerts: the text once per distinct alert, then two statements (email,
    /// webhook) per distinct alert and target. Returns how many notifications were queued.
    pub async fn queue_alerts(
        &self,
        conn: &mut AnyConnection,
        backend: Backend,
        product_id: i64,
        now: Timestamp,
    ) -> anyhow::Result<u64> {
        let mut outcomes: Vec<_> = self.alerts.iter().collect();
        outcomes.sort_by_key(|(_, t)| self.first_id(t));
        // Asked before this fan-out stores any content: its own decisions never share a
        // subscription, so they cannot collide with each other.
        let mut fresh: HashMap<i64, bool> = HashMap::new();
        for (content, _) in &outcomes {
            let point = content.key.point.0;
            if let std::collections::hash_map::Entry::Vacant(slot) = fresh.entry(point) {
                slot.insert(notifications::point_is_fresh(conn, product_id, point).await?);
            }
        }
        let mut queued = 0;
        for (content, targets) in outcomes {
            let template = ContentTemplate::of(content)?;
            let point = content.key.point.0;
            let fresh_point = fresh.get(&point).copied().unwrap_or(false);
            let rows = notifications::AlertRows {
                product_id,
                price_point_id: point,
                content_id: notifications::insert_content(conn, product_id, point, &template, now)
                    .await?,
                fresh_point,
            };
            for who in self.writes(targets) {
                queued +=
                    notifications::insert_alert_fanout(conn, backend, &rows, who, now).await?;
            }
        }
        Ok(queued)
    }

    /// Queue the alerts, then write the states (in that order: see
    /// [`Fanout::write_states`]). Returns how many notifications were queued.
    pub async fn write(
        &self,
        conn: &mut AnyConnection,
        backend: Backend,
        product_id: i64,
        now: Timestamp,
    ) -> anyhow::Result<u64> {
        let queued = self.queue_alerts(conn, backend, product_id, now).await?;
        self.write_states(conn, backend, now).await?;
        Ok(queued)
    }
}

/// Read the candidates of one product event and run core's rules on each (no writes).
pub async fn plan(
    conn: &mut AnyConnection,
    backend: Backend,
    product_id: i64,
    payload: &PriceChanged,
    rules: &AlertConfig,
    now: Timestamp,
) -> Result<Fanout, sqlx::Error> {
    let event = price_event(payload);
    let buyable = event.buyable_price().map(|p| p.amount_minor);
    let groups = subscriptions::rule_candidate_groups(
        conn,
        backend,
        product_id,
        buyable,
        stock_changed(payload),
    )
    .await?;
    let mut fanout = Fanout::default();
    for g in &groups {
        fanout.add_group(g, rules, &event, now);
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
    let fanout = plan(conn, backend, product_id, payload, rules, now).await?;
    let queued = fanout.write(conn, backend, product_id, now).await?;
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

/// Mark done, in one statement, the claimed price changes of products that nobody
/// subscribes to, and return their ids. Matching one of them would read no subscription and
/// write nothing but "done", in a transaction (and a commit) of its own: most products have
/// no watcher, and at ingest rates those transactions were most of the worker's time, which
/// let events pile up. A subscription that is not committed yet is not seen, as it would not
/// be by matching either. Refutations always go one by one: they correct emails already sent.
pub async fn done_unwatched(
    state: &AppState,
    worker: &str,
    events: &[ClaimedEvent],
) -> Result<std::collections::HashSet<i64>, sqlx::Error> {
    let ids: Vec<i64> = events
        .iter()
        .filter(|e| e.kind == crate::store::outbox::PRICE_CHANGED)
        .map(|e| e.id)
        .collect();
    if ids.is_empty() {
        return Ok(std::collections::HashSet::new());
    }
    let list = crate::store::numbered_params(4, ids.len());
    let sql = format!(
        "UPDATE outbox_events SET done_at = $1, claimed_by = NULL, claimed_until = NULL \
         WHERE id IN ({list}) AND claimed_by = $2 AND kind = $3 AND done_at IS NULL \
         AND NOT EXISTS (SELECT 1 FROM subscriptions s WHERE s.product_id = outbox_events.product_id) \
         RETURNING id"
    );
    let mut q = sqlx::query_scalar(&sql)
        .bind(state.clock.now().as_millis())
        .bind(worker)
        .bind(crate::store::outbox::PRICE_CHANGED);
    for id in &ids {
        q = q.bind(*id);
    }
    Ok(q.fetch_all(&state.db.write).await?.into_iter().collect())
}

/// Mark done, in one statement and without claiming them, up to `limit` of the oldest price
/// changes no worker holds whose products nobody subscribes to; returns how many.
///
/// [`done_unwatched`] spares such events a transaction each, but only once they are claimed,
/// and the claim (an update, and a look for an older undone event of the product) cost
/// twice what marking them done does: in the ingest benchmark, with a price change for one
/// report in seven, claims were about a tenth of the database's time. They can be done
/// out of their product's order: with no subscription there is nothing to send, whatever
/// the order (a subscription not committed yet is not seen, as it would not be by matching).
pub async fn done_unwatched_unclaimed(
    state: &AppState,
    now: Timestamp,
    limit: i64,
) -> Result<u64, sqlx::Error> {
    let backend = state.db.backend;
    let skip_locked = crate::store::skip_locked(backend);
    let mut conn = state.db.write.acquire().await?;
    let mut tx = crate::db::begin_with(&mut conn, backend, super::worker::CLAIM_PLAN).await?;
    let done = sqlx::query(&format!(
        "UPDATE outbox_events SET done_at = $1 \
         WHERE id IN (SELECT e.id FROM outbox_events e \
            WHERE e.done_at IS NULL AND e.kind = $2 \
            AND (e.claimed_until IS NULL OR e.claimed_until < $1) \
            AND NOT EXISTS (SELECT 1 FROM subscriptions s WHERE s.product_id = e.product_id) \
            ORDER BY e.id LIMIT $3{skip_locked})"
    ))
    .bind(now.as_millis())
    .bind(crate::store::outbox::PRICE_CHANGED)
    .bind(limit)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    tx.commit().await?;
    Ok(done)
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
