//! The transactional outbox: events written in the same transaction as the change they
//! announce, so a change is never published without its event nor an event without its change.

use pricewatch_core::Timestamp;
use sqlx::AnyConnection;

/// Event kinds.
pub const PRICE_CHANGED: &str = "price_changed";

pub async fn insert(
    conn: &mut AnyConnection,
    kind: &str,
    product_id: i64,
    price_point_id: Option<i64>,
    payload: &serde_json::Value,
    now: Timestamp,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO outbox_events (kind, product_id, price_point_id, payload, created_at) \
         VALUES ($1, $2, $3, $4, $5) RETURNING id",
    )
    .bind(kind)
    .bind(product_id)
    .bind(price_point_id)
    .bind(payload.to_string())
    .bind(now.as_millis())
    .fetch_one(conn)
    .await
}
