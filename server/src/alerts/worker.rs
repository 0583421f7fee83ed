//! The worker tasks each replica runs: one turns events into notifications (and wakes held
//! alerts, and builds digests), one delivers notifications. Both poll on a short interval
//! and are woken at once when there is news (ingest accepted a price change; the worker
//! queued notifications).

use std::sync::Arc;
use std::time::Duration;

use pricewatch_core::{Span, Timestamp};
use serde::Deserialize;
use sqlx::{AnyConnection, Row};
use tokio::sync::{watch, Notify};
use tokio::task::JoinHandle;

use super::{delivery, digest, matching, wake};
use crate::db::Backend;
use crate::state::AppState;
use crate::store::outbox;

/// Wake-ups for the worker tasks of this process.
#[derive(Debug, Default)]
pub struct Wakeup {
    pub(crate) events: Notify,
    pub(crate) delivery: Notify,
}

impl Wakeup {
    /// A price change was accepted: look for events now rather than at the next poll.
    pub fn price_changed(&self) {
        self.events.notify_one();
    }

    /// Notifications were queued: deliver now.
    pub fn queued(&self) {
        self.delivery.notify_one();
    }
}

/// The running worker tasks; [`Workers::stop`] ends them.
pub struct Workers {
    handles: Vec<JoinHandle<()>>,
    stop: watch::Sender<bool>,
}

impl Workers {
    /// Ask the tasks to stop after their current round, and wait for them (at most 10 s:
    /// whatever they hold then is released by its lease).
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        for handle in self.handles {
            let abort = handle.abort_handle();
            if tokio::time::timeout(Duration::from_secs(10), handle)
                .await
                .is_err()
            {
                abort.abort();
            }
        }
    }
}

/// A name for this process's claims: host, process id and a random suffix, so two
/// processes never share one.
fn worker_name() -> String {
    let host = hostname_or_default();
    let suffix = crate::auth::tokens::random_bytes::<4>().map_or(0, u32::from_le_bytes);
    format!("{host}:{}:{suffix:08x}", std::process::id())
}

fn hostname_or_default() -> String {
    std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "pricewatch".into())
}

/// Middleware: a successful `POST /api/reports` may have accepted price changes, so the
/// worker looks at once instead of at its next poll (other replicas still poll).
pub async fn wake_on_ingest(
    axum::extract::State(state): axum::extract::State<AppState>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let is_ingest = req.method() == axum::http::Method::POST && req.uri().path() == "/api/reports";
    let response = next.run(req).await;
    if is_ingest && response.status().is_success() {
        state.wakeup.price_changed();
    }
    response
}

/// Start the worker tasks (unless `alerts.worker_enabled` is off).
pub fn spawn(state: AppState) -> Workers {
    let (stop, stopped) = watch::channel(false);
    let mut handles = Vec::new();
    if state.settings.alerts.worker_enabled {
        let name: Arc<str> = worker_name().into();
        tracing::info!(worker = %name, "alert worker starting");
        handles.push(tokio::spawn(events_loop(
            state.clone(),
            name.clone(),
            stopped.clone(),
        )));
        handles.push(tokio::spawn(delivery::run(state, name, stopped)));
    }
    Workers { handles, stop }
}

async fn events_loop(state: AppState, worker: Arc<str>, mut stop: watch::Receiver<bool>) {
    let interval = state.settings.alerts.poll_interval();
    loop {
        if *stop.borrow() {
            return;
        }
        if let Err(e) = round(&state, &worker, &stop).await {
            tracing::error!(error = format!("{e:#}"), "alert worker round failed");
        }
        tokio::select! {
            _ = stop.changed() => return,
            () = state.wakeup.events.notified() => {
                // Woken by ingest: let the events of the batches arriving meanwhile gather,
                // so that one round takes them all. Every round has a fixed cost (a claim
                // that finds the queue empty, the wake and digest checks, transactions and
                // commits), and under load ingest wakes the worker once per batch, a few
                // hundred times a second. A price drop waits `GATHER` longer for its email.
                tokio::select! {
                    _ = stop.changed() => return,
                    () = tokio::time::sleep(GATHER) => {}
                }
            }
            () = tokio::time::sleep(interval) => {}
        }
    }
}

/// How long a woken worker waits for more events before its round.
const GATHER: Duration = Duration::from_millis(50);

/// Drain the events, then wake held alerts and build due digests.
async fn round(state: &AppState, worker: &str, stop: &watch::Receiver<bool>) -> anyhow::Result<()> {
    while !*stop.borrow() {
        if process_events(state, worker).await? == 0 {
            break;
        }
    }
    wake::run(state).await?;
    digest::build(state).await?;
    Ok(())
}

/// The outbox event kinds the alert worker consumes, in one per-product order: price changes
/// (from ingest and the crawler) and refutations of published prices (from the crawler).
pub const EVENT_KINDS: [&str; 2] = [outbox::PRICE_CHANGED, PRICE_REFUTED];

/// The crawler's event for a published price it refuted (see `crawler::verdict`).
pub const PRICE_REFUTED: &str = "price_refuted";

/// A claimed event.
#[derive(Debug, Clone)]
pub struct ClaimedEvent {
    pub id: i64,
    /// `price_changed` or `price_refuted`.
    pub kind: String,
    pub product_id: i64,
    pub payload: String,
    pub attempts: i64,
}

/// The payload ingest writes (see `ingest::batch::event_payload` and `ingest::consensus::apply`).
#[derive(Debug, Clone, Deserialize)]
pub struct PriceChanged {
    pub product_id: i64,
    pub price_point_id: i64,
    pub currency: pricewatch_core::Currency,
    pub old_price: Option<i64>,
    pub new_price: Option<i64>,
    pub old_availability: Option<pricewatch_core::Availability>,
    pub availability: pricewatch_core::Availability,
    pub observed_at: Timestamp,
}

/// The payload of a `price_refuted` event: the refuted point and what the crawl saw.
#[derive(Debug, Clone, Deserialize)]
pub struct PriceRefuted {
    pub product_id: i64,
    /// The refuted (now reverted) point: the one alerts were sent on.
    pub price_point_id: i64,
    pub currency: pricewatch_core::Currency,
    pub real_price: Option<i64>,
    pub availability: pricewatch_core::Availability,
    /// The point that now holds the crawled truth, if one was stored.
    pub real_point_id: Option<i64>,
    pub observed_at: Timestamp,
}

/// Events retried this often without success are set aside (logged), so one bad event
/// cannot stall its product's alerts forever.
const MAX_EVENT_ATTEMPTS: i64 = 10;

/// How claims read undone events: in id order from their partial index (migration 0010),
/// stopping after the limit. Without statistics on the table (a new database, or autovacuum
/// off) PostgreSQL guesses one undone row, and then prefers to gather them all and sort: a
/// claim costs the whole backlog, more when the worker is already behind. For a claim's
/// transaction only, that plan is ruled out.
pub(crate) const CLAIM_PLAN: &[(&str, &str)] =
    &[("enable_sort", "off"), ("enable_bitmapscan", "off")];

/// Claim the oldest undone event of each product (at most `event_batch`), so a product's
/// events are handled in order, one at a time, across every replica.
pub async fn claim_events(
    conn: &mut AnyConnection,
    backend: Backend,
    worker: &str,
    now: Timestamp,
    lease: Span,
    limit: i64,
) -> Result<Vec<ClaimedEvent>, sqlx::Error> {
    let skip_locked = crate::store::skip_locked(backend);
    let mut tx = crate::db::begin_with(conn, backend, CLAIM_PLAN).await?;
    let rows = sqlx::query(&format!(
        "UPDATE outbox_events SET claimed_by = $1, claimed_until = $2, attempts = attempts + 1 \
         WHERE id IN (SELECT e.id FROM outbox_events e \
            WHERE e.done_at IS NULL AND e.kind IN ($3, $6) \
            AND (e.claimed_until IS NULL OR e.claimed_until < $4) \
            AND NOT EXISTS (SELECT 1 FROM outbox_events o WHERE o.product_id = e.product_id \
                AND o.kind IN ($3, $6) AND o.done_at IS NULL AND o.id < e.id) \
            ORDER BY e.id LIMIT $5{skip_locked}) \
         RETURNING id, kind, product_id, payload, attempts"
    ))
    .bind(worker)
    .bind((now + lease).as_millis())
    .bind(EVENT_KINDS[0])
    .bind(now.as_millis())
    .bind(limit)
    .bind(EVENT_KINDS[1])
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    let mut events: Vec<ClaimedEvent> = rows
        .iter()
        .map(|r| {
            Ok(ClaimedEvent {
                id: r.try_get("id")?,
                kind: r.try_get("kind")?,
                product_id: r.try_get("product_id")?,
                payload: r.try_get("payload")?,
                attempts: r.try_get("attempts")?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()?;
    events.sort_by_key(|e| e.id);
    Ok(events)
}

/// Mark a batch of unwatched price changes done, then claim a batch of events and turn each
/// into notifications. Returns how many events were done or claimed (0: nothing is waiting).
async fn process_events(state: &AppState, worker: &str) -> anyhow::Result<usize> {
    let settings = &state.settings.alerts;
    let now = state.clock.now();
    let unclaimed_done =
        matching::done_unwatched_unclaimed(state, now, settings.event_batch.max(1)).await?;
    let unclaimed_done = usize::try_from(unclaimed_done).unwrap_or(usize::MAX);
    let claimed = {
        let mut conn = state.db.write.acquire().await?;
        claim_events(
            &mut conn,
            state.db.backend,
            worker,
            now,
            settings.lease(),
            settings.event_batch.max(1),
        )
        .await?
    };
    if claimed.is_empty() {
        return Ok(unclaimed_done);
    }
    if settings.test_pause_after_claim_ms > 0 {
        tracing::warn!(
            events = claimed.len(),
            "test hook: pausing after claiming events"
        );
        tokio::time::sleep(Duration::from_millis(settings.test_pause_after_claim_ms)).await;
    }
    let unwatched = matching::done_unwatched(state, worker, &claimed).await?;
    let mut queued = 0;
    for event in claimed.iter().filter(|e| !unwatched.contains(&e.id)) {
        match matching::process(state, worker, event).await {
            Ok(n) => queued += n,
            Err(e) if event.attempts >= MAX_EVENT_ATTEMPTS => {
                tracing::error!(
                    event_id = event.id,
                    error = format!("{e:#}"),
                    "giving up on an event after {MAX_EVENT_ATTEMPTS} attempts"
                );
                matching::set_aside(state, worker, event.id).await?;
            }
            Err(e) => tracing::error!(
                event_id = event.id,
                product_id = event.product_id,
                error = format!("{e:#}"),
                "event failed; it will be retried when its lease ends"
            ),
        }
    }
    if queued > 0 {
        state.wakeup.queued();
    }
    Ok(unclaimed_done + claimed.len())
}
