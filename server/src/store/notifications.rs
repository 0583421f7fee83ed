//! `notifications`: every alert, correction, test message and digest, and the delivery queue.
//!
//! A row is unique per (subscription, price point, kind, channel), the dedupe key: inserting
//! an alert twice is a no-op, so a retried or replayed evaluation cannot queue a resend.
//! Delivery claims due rows under a lease (`claimed_by`, `claimed_until`): on PostgreSQL with
//! `FOR UPDATE SKIP LOCKED` so replicas share the queue without waiting on each other.

use pricewatch_core::{Span, Timestamp};
use serde::Serialize;
use sqlx::{AnyConnection, Row};

use crate::db::Backend;

/// What a notification is.
pub mod kind {
    pub const ALERT: &str = "alert";
    pub const CORRECTION: &str = "correction";
    pub const TEST: &str = "test";
    pub const DIGEST: &str = "digest";
}

/// Where it goes.
pub mod channel {
    pub const EMAIL: &str = "email";
    pub const WEBHOOK: &str = "webhook";
}

/// Where it stands.
pub mod status {
    /// In the delivery queue (possibly waiting for a retry).
    pub const PENDING: &str = "pending";
    pub const SENT: &str = "sent";
    /// Refused for good (a permanent SMTP 5xx, a webhook 4xx) or out of attempts.
    pub const FAILED: &str = "failed";
    /// An email alert of a digest user, waiting for the day's digest.
    pub const AWAITING_DIGEST: &str = "awaiting_digest";
    /// Bundled into a digest (the digest row carries the delivery).
    pub const IN_DIGEST: &str = "in_digest";
    /// Withdrawn before it was sent (its price was refuted).
    pub const CANCELLED: &str = "cancelled";
}

/// A row to queue.
#[derive(Debug, Clone)]
pub struct NewNotification {
    pub user_id: i64,
    pub subscription_id: Option<i64>,
    pub product_id: Option<i64>,
    pub price_point_id: Option<i64>,
    pub kind: &'static str,
    pub channel: &'static str,
    /// JSON: core's `AlertContent` or `Correction`, or a test message.
    pub content: String,
    pub status: &'static str,
}

/// Rows per multi-row insert (8 parameters each). Measured on SQLite, which resolves `$N`
/// parameters by name: 1,000-row statements took four times as long as 50-row ones, and
/// 50 rows already cut the round trips fiftyfold.
const CHUNK: usize = 50;

/// Queue notifications; those whose dedupe key exists already are skipped. Returns how many
/// were new.
pub async fn insert_many(
    conn: &mut AnyConnection,
    rows: &[NewNotification],
    now: Timestamp,
) -> Result<u64, sqlx::Error> {
    let mut inserted = 0;
    for chunk in rows.chunks(CHUNK) {
        let mut sql = String::from(
            "INSERT INTO notifications (user_id, subscription_id, product_id, price_point_id, \
             kind, channel, content, status, next_attempt_at, created_at) VALUES ",
        );
        for i in 0..chunk.len() {
            if i > 0 {
                sql.push_str(", ");
            }
            let b = i * 8;
            sql.push_str(&format!(
                "(${}, ${}, ${}, ${}, ${}, ${}, ${}, ${}, $1, $1)",
                b + 2,
                b + 3,
                b + 4,
                b + 5,
                b + 6,
                b + 7,
                b + 8,
                b + 9
            ));
        }
        sql.push_str(" ON CONFLICT DO NOTHING");
        let mut q = sqlx::query(&sql).bind(now.as_millis());
        for r in chunk {
            q = q
                .bind(r.user_id)
                .bind(r.subscription_id)
                .bind(r.product_id)
                .bind(r.price_point_id)
                .bind(r.kind)
                .bind(r.channel)
                .bind(r.content.clone())
                .bind(r.status);
        }
        inserted += q.execute(&mut *conn).await?.rows_affected();
    }
    Ok(inserted)
}

/// A notification claimed for delivery.
#[derive(Debug, Clone)]
pub struct Claimed {
    pub id: i64,
    pub user_id: i64,
    pub subscription_id: Option<i64>,
    pub product_id: Option<i64>,
    pub price_point_id: Option<i64>,
    pub kind: String,
    pub channel: String,
    pub content: String,
    /// Including this one.
    pub attempts: i64,
}

/// Claim up to `limit` due notifications for `worker` until `now + lease`.
pub async fn claim_due(
    conn: &mut AnyConnection,
    backend: Backend,
    worker: &str,
    now: Timestamp,
    lease: Span,
    limit: i64,
) -> Result<Vec<Claimed>, sqlx::Error> {
    let skip_locked = match backend {
        Backend::Postgres => " FOR UPDATE SKIP LOCKED",
        Backend::Sqlite => "",
    };
    let rows = sqlx::query(&format!(
        "UPDATE notifications SET claimed_by = $1, claimed_until = $2, attempts = attempts + 1 \
         WHERE id IN (SELECT id FROM notifications WHERE status = 'pending' \
            AND next_attempt_at <= $3 AND (claimed_until IS NULL OR claimed_until < $3) \
            ORDER BY next_attempt_at, id LIMIT $4{skip_locked}) \
         RETURNING id, user_id, subscription_id, product_id, price_point_id, kind, channel, \
            content, attempts"
    ))
    .bind(worker)
    .bind((now + lease).as_millis())
    .bind(now.as_millis())
    .bind(limit)
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(Claimed {
                id: r.try_get("id")?,
                user_id: r.try_get("user_id")?,
                subscription_id: r.try_get("subscription_id")?,
                product_id: r.try_get("product_id")?,
                price_point_id: r.try_get("price_point_id")?,
                kind: r.try_get("kind")?,
                channel: r.try_get("channel")?,
                content: r.try_get("content")?,
                attempts: r.try_get("attempts")?,
            })
        })
        .collect()
}

/// Delivered. Only the claim holder may settle a row: a replica whose lease ran out must not
/// overwrite what the next holder did.
pub async fn mark_sent(
    conn: &mut AnyConnection,
    id: i64,
    worker: &str,
    now: Timestamp,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE notifications SET status = 'sent', sent_at = $1, claimed_by = NULL, \
         claimed_until = NULL, last_error = NULL WHERE id = $2 AND claimed_by = $3",
    )
    .bind(now.as_millis())
    .bind(id)
    .bind(worker)
    .execute(conn)
    .await?;
    Ok(())
}

/// Try again at `next`.
pub async fn mark_retry(
    conn: &mut AnyConnection,
    id: i64,
    worker: &str,
    next: Timestamp,
    error: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE notifications SET next_attempt_at = $1, last_error = $2, claimed_by = NULL, \
         claimed_until = NULL WHERE id = $3 AND claimed_by = $4",
    )
    .bind(next.as_millis())
    .bind(error)
    .bind(id)
    .bind(worker)
    .execute(conn)
    .await?;
    Ok(())
}

/// Give up: the user sees it failed, and why.
pub async fn mark_failed(
    conn: &mut AnyConnection,
    id: i64,
    worker: &str,
    error: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE notifications SET status = 'failed', last_error = $1, claimed_by = NULL, \
         claimed_until = NULL WHERE id = $2 AND claimed_by = $3",
    )
    .bind(error)
    .bind(id)
    .bind(worker)
    .execute(conn)
    .await?;
    Ok(())
}

/// A notification as its owner sees it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct NotificationView {
    pub id: i64,
    /// `alert`, `correction`, `test` or `digest`.
    pub kind: String,
    /// `email` or `webhook`.
    pub channel: String,
    /// `pending`, `sent`, `failed`, `awaiting_digest`, `in_digest` or `cancelled`.
    pub status: String,
    pub subscription_id: Option<i64>,
    pub price_point_id: Option<i64>,
    /// Delivery attempts so far.
    pub attempts: i64,
    /// Why the last attempt failed, in words fit for the user.
    pub last_error: Option<String>,
    pub created_at: i64,
    pub sent_at: Option<i64>,
    /// What the notification says (prices, reasons), as JSON.
    #[schema(value_type = Object)]
    pub content: serde_json::Value,
}

/// A user's notifications, newest first, at most `limit`, before id `before` if given.
pub async fn of_user(
    conn: &mut AnyConnection,
    user_id: i64,
    before: Option<i64>,
    limit: i64,
) -> Result<Vec<NotificationView>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT id, kind, channel, status, subscription_id, price_point_id, attempts, last_error, \
         created_at, sent_at, content FROM notifications \
         WHERE user_id = $1 AND id < $2 ORDER BY id DESC LIMIT $3",
    )
    .bind(user_id)
    .bind(before.unwrap_or(i64::MAX))
    .bind(limit)
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|r| {
            let content: String = r.try_get("content")?;
            Ok(NotificationView {
                id: r.try_get("id")?,
                kind: r.try_get("kind")?,
                channel: r.try_get("channel")?,
                status: r.try_get("status")?,
                subscription_id: r.try_get("subscription_id")?,
                price_point_id: r.try_get("price_point_id")?,
                attempts: r.try_get("attempts")?,
                last_error: r.try_get("last_error")?,
                created_at: r.try_get("created_at")?,
                sent_at: r.try_get("sent_at")?,
                content: serde_json::from_str(&content).map_err(|e| sqlx::Error::ColumnDecode {
                    index: "content".into(),
                    source: Box::new(e),
                })?,
            })
        })
        .collect()
}
