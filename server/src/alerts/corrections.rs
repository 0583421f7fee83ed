//! Corrections: when a verification refutes a published price that alerted people, each of
//! them is told (by the channels the alert reached), alerts not yet sent are withdrawn, and
//! every affected subscription's state is restored by core's rules so the real drop alerts.
//! An alert a delivery task holds may already be with the mail server: it is told about too,
//! and its correction waits until the holder records the send.
//!
//! The crawler records a refutation with a `price_refuted` outbox event; the alert worker
//! takes it in the product's event order and calls [`send_for_refuted_point`] in the
//! transaction that marks it done, so corrections are queued exactly once. Callers that
//! refute a price some other way can call it inside their own transaction.

use std::collections::BTreeMap;

use pricewatch_core::alert::{AlertContent, PriceEvent};
use pricewatch_core::correction::{self, Refutation};
use pricewatch_core::history::PricePointId;
use pricewatch_core::Timestamp;
use sqlx::{AnyConnection, Row};

use super::matching::lock_product;
use super::AlertSettings;
use crate::db::Backend;
use crate::store::notifications::{self, channel, kind, status, NewNotification};
use crate::store::subscriptions;

/// What [`send_for_refuted_point`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CorrectionSummary {
    /// Correction messages queued (one per channel the alert reached).
    pub queued: u64,
    /// Alerts on the refuted price that had not gone out yet and never will.
    pub withdrawn: u64,
    /// Subscriptions whose alert state was restored.
    pub restored: u64,
}

/// One alert on the refuted point, across its channels.
#[derive(Default)]
struct Sent {
    content: Option<AlertContent>,
    user_id: i64,
    product_id: Option<i64>,
    /// Channels that delivered it (or will, inside an already built digest).
    reached: Vec<&'static str>,
    /// Rows not sent yet.
    unsent: Vec<i64>,
    /// Rows a delivery task holds right now: they may reach the user any moment.
    in_flight: Vec<i64>,
}

/// Correct every alert sent on the refuted point `refuted`, given the real observation
/// `real` (already stored as the product's new point). Runs inside the caller's transaction.
#[tracing::instrument(skip(conn, settings, real), fields(point = refuted.0))]
pub async fn send_for_refuted_point(
    conn: &mut AnyConnection,
    backend: Backend,
    settings: &AlertSettings,
    product_id: i64,
    refuted: PricePointId,
    real: PriceEvent,
    now: Timestamp,
) -> Result<CorrectionSummary, sqlx::Error> {
    lock_product(conn, backend, product_id).await?;
    // Through the product's subscriptions and the dedupe key (subscription, point, kind):
    // alert rows keep no index of their own on the point (migration 0005).
    let rows = sqlx::query(&format!(
        "SELECT n.id, n.user_id, n.subscription_id, n.product_id, n.channel, n.status, \
         n.claimed_until, {} AS content FROM subscriptions s JOIN notifications n ON n.subscription_id = s.id {} \
         WHERE s.product_id = $3 AND n.price_point_id = $1 AND n.kind = $2 \
         AND n.product_id = $3 ORDER BY n.id",
        notifications::CONTENT_SQL,
        notifications::CONTENT_JOIN
    ))
    .bind(refuted.0)
    .bind(kind::ALERT)
    .bind(product_id)
    .fetch_all(&mut *conn)
    .await?;
    let mut by_subscription: BTreeMap<i64, Sent> = BTreeMap::new();
    for r in &rows {
        let Some(subscription_id) = r.try_get::<Option<i64>, _>("subscription_id")? else {
            continue;
        };
        let entry = by_subscription.entry(subscription_id).or_default();
        entry.user_id = r.try_get("user_id")?;
        entry.product_id = r.try_get("product_id")?;
        let content: String = r.try_get("content")?;
        match serde_json::from_str::<AlertContent>(&content) {
            Ok(c) => entry.content = Some(c),
            Err(e) => {
                tracing::error!(subscription_id, error = %e, "unreadable alert; not corrected");
                continue;
            }
        }
        let row_status: String = r.try_get("status")?;
        let row_channel = if r.try_get::<String, _>("channel")? == channel::WEBHOOK {
            channel::WEBHOOK
        } else {
            channel::EMAIL
        };
        let claimed_until: Option<i64> = r.try_get("claimed_until")?;
        let held = claimed_until.is_some_and(|until| until >= now.as_millis());
        match row_status.as_str() {
            status::SENT | status::IN_DIGEST => entry.reached.push(row_channel),
            // Claimed by a delivery task that may have handed it to the mail server already
            // and not yet marked it sent: it counts as reached, so its user is corrected.
            status::PENDING if held => {
                entry.reached.push(row_channel);
                entry.in_flight.push(r.try_get("id")?);
            }
            status::PENDING | status::AWAITING_DIGEST => entry.unsent.push(r.try_get("id")?),
            _ => {}
        }
    }

    let refutation = Refutation {
        point: refuted,
        real,
    };
    let rules = settings.rules();
    let mut summary = CorrectionSummary::default();
    let mut queue = Vec::new();
    for (subscription_id, sent) in by_subscription {
        let Some(content) = sent.content else {
            continue;
        };
        let Some(c) = correction::corrections(&refutation, &[content])
            .into_iter()
            .next()
        else {
            continue; // the user was told the real price after all
        };
        for id in &sent.unsent {
            sqlx::query("UPDATE notifications SET status = $1, claimed_by = NULL WHERE id = $2 AND status IN ($3, $4)")
                .bind(status::CANCELLED)
                .bind(id)
                .bind(status::PENDING)
                .bind(status::AWAITING_DIGEST)
                .execute(&mut *conn)
                .await?;
            summary.withdrawn += 1;
        }
        // Cancelled with its claim kept: the holder's `mark_sent` still records the send (as
        // sent), while a failed attempt leaves it cancelled instead of queueing a retry. The
        // delivery claim holds the correction back until this claim is settled or expires
        // (`notifications::claim_due`), so the correction never arrives first.
        for id in &sent.in_flight {
            sqlx::query("UPDATE notifications SET status = $1 WHERE id = $2 AND status = $3")
                .bind(status::CANCELLED)
                .bind(id)
                .bind(status::PENDING)
                .execute(&mut *conn)
                .await?;
        }
        if let Some(mut row) = subscriptions::get_locked(conn, backend, subscription_id).await? {
            row.state = correction::restore_state(&row.state, &refutation, &c);
            if row.state.pending.is_none() {
                row.wake_at = None;
            }
            subscriptions::update(conn, &row, &rules, now).await?;
            summary.restored += 1;
        }
        let json = serde_json::to_string(&c).map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
        for ch in sent.reached {
            queue.push(NewNotification {
                user_id: sent.user_id,
                subscription_id: Some(subscription_id),
                product_id: sent.product_id,
                price_point_id: Some(refuted.0),
                kind: kind::CORRECTION,
                channel: ch,
                content: json.clone(),
                // A correction never waits for a digest: the user may be about to buy.
                status: status::PENDING,
            });
        }
    }
    summary.queued = notifications::insert_many(conn, &queue, now).await?;
    tracing::info!(
        queued = summary.queued,
        withdrawn = summary.withdrawn,
        restored = summary.restored,
        "corrections for a refuted price"
    );
    Ok(summary)
}
