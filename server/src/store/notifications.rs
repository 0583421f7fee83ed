//! `notifications`: every alert, correction, test message and digest, and the delivery queue.
//!
//! A row is unique per (subscription, price point, kind, channel), the dedupe key: inserting
//! an alert twice is a no-op, so a retried or replayed evaluation cannot queue a resend.
//! Delivery claims due rows under a lease (`claimed_by`, `claimed_until`): on PostgreSQL with
//! `FOR UPDATE SKIP LOCKED` so replicas share the queue without waiting on each other.

use std::collections::HashMap;

use pricewatch_core::alert::{AlertContent, SubscriptionId};
use pricewatch_core::{Span, Timestamp};
use serde::Serialize;
use sqlx::{AnyConnection, Row};

use crate::db::Backend;
use crate::store::subscriptions::{Who, GROUP_PARAMS};

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

/// An alert's JSON content with the subscription id left out: `prefix || id || suffix` is
/// exactly `serde_json::to_string` of the content for that subscription, so SQL can write one
/// alert decision to many subscribers without a bound value per row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContentTemplate {
    pub prefix: String,
    pub suffix: String,
}

/// Why an alert's content cannot become a template.
#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    #[error(transparent)]
    Json(#[from] serde_json::Error),
    #[error("the subscription id does not appear exactly once in the alert's JSON")]
    NoSlot,
}

impl ContentTemplate {
    /// The template of `content`, whose own subscription id is ignored.
    pub fn of(content: &AlertContent) -> Result<ContentTemplate, TemplateError> {
        // A sentinel no real subscription has, and a JSON key only the dedupe key has.
        const SENTINEL: i64 = i64::MIN;
        let mut c = *content;
        c.key.subscription = SubscriptionId(SENTINEL);
        let json = serde_json::to_string(&c)?;
        let slot = format!("\"subscription\":{SENTINEL}");
        let mut found = json.match_indices(&slot);
        let (Some((at, _)), None) = (found.next(), found.next()) else {
            return Err(TemplateError::NoSlot);
        };
        let cut = at + "\"subscription\":".len();
        Ok(ContentTemplate {
            prefix: json[..cut].to_owned(),
            suffix: json[at + slot.len()..].to_owned(),
        })
    }

    /// The content for one subscription (what the SQL writes).
    pub fn render(&self, subscription_id: i64) -> String {
        format!("{}{subscription_id}{}", self.prefix, self.suffix)
    }
}

/// The text of a notification row `n` (with `notification_contents c` left-joined on
/// `c.id = n.content_id`): its own `content`, or its alert decision's shared text with its
/// subscription id put back (migration 0008).
pub const CONTENT_SQL: &str =
    "COALESCE(n.content, c.prefix || CAST(n.subscription_id AS TEXT) || c.suffix)";

/// The join [`CONTENT_SQL`] reads through.
pub const CONTENT_JOIN: &str = "LEFT JOIN notification_contents c ON c.id = n.content_id";

/// Store one alert decision's text once; its notification rows point to it
/// ([`insert_alert_fanout`]). Returns its id.
pub async fn insert_content(
    conn: &mut AnyConnection,
    product_id: i64,
    price_point_id: i64,
    content: &ContentTemplate,
    now: Timestamp,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO notification_contents (product_id, price_point_id, kind, prefix, suffix, \
         created_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
    )
    .bind(product_id)
    .bind(price_point_id)
    .bind(kind::ALERT)
    .bind(content.prefix.as_str())
    .bind(content.suffix.as_str())
    .bind(now.as_millis())
    .fetch_one(conn)
    .await
}

/// Whether no alert has been queued on `price_point_id` yet: every alert row's point has
/// its decision's row in `notification_contents` (rows from before migration 0008 have a
/// marker row there), so one look-up on that small table answers for all the product's
/// subscribers. Sound only while nobody else can queue alerts on the product: the caller
/// holds the product's lock (PostgreSQL) or the one writer connection (SQLite), as every
/// writer of alert rows does.
pub async fn point_is_fresh(
    conn: &mut AnyConnection,
    product_id: i64,
    price_point_id: i64,
) -> Result<bool, sqlx::Error> {
    let found: Option<i64> = sqlx::query_scalar(
        "SELECT id FROM notification_contents WHERE product_id = $1 AND price_point_id = $2 \
         AND kind = $3 LIMIT 1",
    )
    .bind(product_id)
    .bind(price_point_id)
    .bind(kind::ALERT)
    .fetch_optional(conn)
    .await?;
    Ok(found.is_none())
}

/// One alert decision's rows, as [`insert_alert_fanout`] writes them.
#[derive(Debug, Clone, Copy)]
pub struct AlertRows {
    pub product_id: i64,
    pub price_point_id: i64,
    /// Its `notification_contents` row.
    pub content_id: i64,
    /// [`point_is_fresh`], asked before this fan-out stored anything.
    pub fresh_point: bool,
}

/// Queue one alert decision (stored by [`insert_content`]) for many subscriptions of a
/// product in two statements: an email row per subscription (waiting for the digest when
/// its owner wants one) and a webhook row per owner who has a webhook. Each row carries the
/// content's id, not the text. Existing dedupe keys are skipped. Returns how many rows were
/// new.
///
/// `fresh_point` ([`point_is_fresh`] said so): no alert row exists yet on this point, so
/// none can be skipped and the rows are inserted plainly. `ON CONFLICT DO NOTHING` makes
/// PostgreSQL insert every row speculatively and confirm it with a second WAL record, a
/// fifth of the fan-out's insert time; a new price's first fan-out never needs it. The
/// unique index still refuses a duplicate either way.
pub async fn insert_alert_fanout(
    conn: &mut AnyConnection,
    backend: Backend,
    alert: &AlertRows,
    who: Who<'_>,
    now: Timestamp,
) -> Result<u64, sqlx::Error> {
    let AlertRows {
        product_id,
        price_point_id,
        content_id,
        fresh_point,
    } = *alert;
    // The statement's own parameters follow the group's (or the id list's).
    let first = match who {
        Who::Ids(_) => 2,
        Who::Group(_) => GROUP_PARAMS + 1,
    };
    let selected = match who {
        Who::Ids(_) => format!(
            "s.id IN {}",
            crate::store::subscriptions::ids_in_json(backend, 1)
        ),
        Who::Group(g) => g.predicate(),
    };
    let ids = match who {
        Who::Ids(list) => crate::store::subscriptions::json_ids(list),
        Who::Group(_) => String::new(),
    };
    let mut inserted = 0;
    // Email alerts of digest users wait for the digest; webhooks go at once, to owners who
    // have one.
    let email_status = format!(
        "CASE WHEN u.digest <> 0 THEN '{}' ELSE '{}' END",
        status::AWAITING_DIGEST,
        status::PENDING
    );
    let webhook_status = format!("'{}'", status::PENDING);
    // Webhook rows first, as the per-row path queues them (a user's list shows the email on
    // top).
    let per_channel = [
        (
            channel::WEBHOOK,
            webhook_status.as_str(),
            " AND u.webhook_url IS NOT NULL",
        ),
        (channel::EMAIL, email_status.as_str(), ""),
    ];
    for (ch, status_sql, filter) in per_channel {
        let sql = format!(
            "INSERT INTO notifications (user_id, subscription_id, product_id, price_point_id, \
             kind, channel, content_id, status, next_attempt_at, created_at) \
             SELECT s.user_id, s.id, ${p}, ${q}, ${k}, ${c}, ${cid}, {status_sql}, ${t}, ${t} \
             FROM subscriptions s JOIN users u ON u.id = s.user_id \
             WHERE {selected}{filter}{skip_existing}",
            p = first,
            q = first + 1,
            k = first + 2,
            c = first + 3,
            cid = first + 4,
            t = first + 5,
            skip_existing = if fresh_point {
                ""
            } else {
                " ON CONFLICT DO NOTHING"
            },
        );
        let q = match who {
            Who::Ids(_) => sqlx::query(&sql).bind(ids.as_str()),
            Who::Group(g) => g.bind(sqlx::query(&sql)),
        };
        inserted += q
            .bind(product_id)
            .bind(price_point_id)
            .bind(kind::ALERT)
            .bind(ch)
            .bind(content_id)
            .bind(now.as_millis())
            .execute(&mut *conn)
            .await?
            .rows_affected();
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
    let skip_locked = crate::store::skip_locked(backend);
    // A correction waits while a delivery task still holds the alert it corrects (see
    // `alerts::corrections`): sent at once, it could reach the user before the alert. The
    // look goes through the dedupe key, and only for corrections.
    let rows = sqlx::query(&format!(
        "UPDATE notifications SET claimed_by = $1, claimed_until = $2, attempts = attempts + 1 \
         WHERE id IN (SELECT n.id FROM notifications n WHERE n.status = 'pending' \
            AND n.next_attempt_at <= $3 AND (n.claimed_until IS NULL OR n.claimed_until < $3) \
            AND (n.kind <> $5 OR NOT EXISTS (SELECT 1 FROM notifications a \
                WHERE a.subscription_id = n.subscription_id \
                AND a.price_point_id = n.price_point_id AND a.kind = $6 \
                AND a.claimed_until >= $3)) \
            ORDER BY n.next_attempt_at, n.id LIMIT $4{skip_locked}) \
         RETURNING id, user_id, subscription_id, product_id, price_point_id, kind, channel, \
            content, content_id, attempts"
    ))
    .bind(worker)
    .bind((now + lease).as_millis())
    .bind(now.as_millis())
    .bind(limit)
    .bind(kind::CORRECTION)
    .bind(kind::ALERT)
    .fetch_all(&mut *conn)
    .await?;
    // A batch holds a few alert decisions' rows at most: each shared text is read once.
    let mut templates: HashMap<i64, Option<ContentTemplate>> = HashMap::new();
    let mut claimed = Vec::with_capacity(rows.len());
    for r in &rows {
        let subscription_id: Option<i64> = r.try_get("subscription_id")?;
        let own: Option<String> = r.try_get("content")?;
        let content = match (own, r.try_get::<Option<i64>, _>("content_id")?) {
            (Some(text), _) => text,
            (None, Some(content_id)) => {
                if let std::collections::hash_map::Entry::Vacant(slot) = templates.entry(content_id)
                {
                    slot.insert(template(&mut *conn, content_id).await?);
                }
                match (
                    templates.get(&content_id).and_then(Option::as_ref),
                    subscription_id,
                ) {
                    (Some(t), Some(sid)) => t.render(sid),
                    // Unreadable: composing it fails and marks it failed, with the reason.
                    _ => String::new(),
                }
            }
            (None, None) => String::new(),
        };
        claimed.push(Claimed {
            id: r.try_get("id")?,
            user_id: r.try_get("user_id")?,
            subscription_id,
            product_id: r.try_get("product_id")?,
            price_point_id: r.try_get("price_point_id")?,
            kind: r.try_get("kind")?,
            channel: r.try_get("channel")?,
            content,
            attempts: r.try_get("attempts")?,
        });
    }
    Ok(claimed)
}

/// One alert decision's shared text.
async fn template(
    conn: &mut AnyConnection,
    content_id: i64,
) -> Result<Option<ContentTemplate>, sqlx::Error> {
    let row = sqlx::query("SELECT prefix, suffix FROM notification_contents WHERE id = $1")
        .bind(content_id)
        .fetch_optional(conn)
        .await?;
    row.map(|r| {
        Ok(ContentTemplate {
            prefix: r.try_get("prefix")?,
            suffix: r.try_get("suffix")?,
        })
    })
    .transpose()
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
    // Alert and correction rows through the user's subscriptions (the dedupe key leads with
    // the subscription); rows without one (tests, digests) through their own index. Alert
    // rows have no per-user index since migration 0008: one index write less per subscriber.
    let columns = format!(
        "n.id, n.kind, n.channel, n.status, n.subscription_id, n.price_point_id, n.attempts, \
         n.last_error, n.created_at, n.sent_at, {CONTENT_SQL} AS content"
    );
    let rows = sqlx::query(&format!(
        "SELECT * FROM ( \
            SELECT {columns} FROM subscriptions s \
            JOIN notifications n ON n.subscription_id = s.id {CONTENT_JOIN} \
            WHERE s.user_id = $1 AND n.id < $2 \
            UNION ALL \
            SELECT {columns} FROM notifications n {CONTENT_JOIN} \
            WHERE n.user_id = $1 AND n.subscription_id IS NULL AND n.id < $2) mine \
         ORDER BY id DESC LIMIT $3"
    ))
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

#[cfg(test)]
mod tests {
    use pricewatch_core::alert::{Channel, DedupeKey, Reasons};
    use pricewatch_core::history::PricePointId;
    use pricewatch_core::{Currency, Money};

    use super::*;

    fn content(subscription: i64) -> AlertContent {
        let usd = |m| Money::new(m, Currency::Usd);
        AlertContent {
            key: DedupeKey {
                subscription: SubscriptionId(subscription),
                point: PricePointId(-9_223_372_036_854_775_807),
            },
            channel: Channel::Email,
            reasons: Reasons {
                crossed: true,
                ..Reasons::default()
            },
            price: usd(i64::MIN),
            price_seen_at: Timestamp::from_millis(5),
            latest: usd(8_000),
            threshold: Some(usd(9_000)),
            previous: None,
            merged_events: 2,
        }
    }

    #[test]
    fn a_template_renders_exactly_what_serde_writes_for_each_subscription() {
        // Prices and points that look like the sentinel must not confuse the slot.
        let template = ContentTemplate::of(&content(7)).unwrap();
        for id in [1, 42, 123_456_789, i64::MAX] {
            assert_eq!(
                template.render(id),
                serde_json::to_string(&content(id)).unwrap()
            );
        }
    }
}
