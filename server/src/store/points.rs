//! `price_points`: the change-only history. One row per stretch of unchanged price and
//! availability; `last_seen_at` moves while nothing changes.
//!
//! Only the product's latest published point is ever extended, and new points only come
//! after it: [`super::price_runs`] relies on that to pack earlier points.

use pricewatch_core::history::PricePoint;
use pricewatch_core::{Currency, Money, Timestamp};
use sqlx::{AnyConnection, Row};

use super::products::availability_from;

/// A stored point with its id.
#[derive(Debug, Clone, Copy)]
pub struct StoredPoint {
    pub id: i64,
    pub point: PricePoint,
}

impl StoredPoint {
    /// A point from its stored columns (`price_points`' `id`, `price`, `availability`,
    /// `first_seen_at`, `last_seen_at`), in the product's currency.
    pub(crate) fn from_columns(
        id: i64,
        price: Option<i64>,
        availability: &str,
        first_seen_at: i64,
        last_seen_at: i64,
        currency: Currency,
    ) -> StoredPoint {
        StoredPoint {
            id,
            point: PricePoint {
                price: price.map(|p| Money::new(p, currency)),
                availability: availability_from(availability),
                first_seen_at: Timestamp::from_millis(first_seen_at),
                last_seen_at: Timestamp::from_millis(last_seen_at),
            },
        }
    }
}

/// A point from a row that has `price_points`' columns under their own names.
pub(crate) fn from_row(
    row: &sqlx::any::AnyRow,
    currency: Currency,
) -> Result<StoredPoint, sqlx::Error> {
    let availability: String = row.try_get("availability")?;
    Ok(StoredPoint::from_columns(
        row.try_get("id")?,
        row.try_get("price")?,
        &availability,
        row.try_get("first_seen_at")?,
        row.try_get("last_seen_at")?,
        currency,
    ))
}

/// The latest `n` published points, newest first.
pub async fn recent(
    conn: &mut AnyConnection,
    product_id: i64,
    currency: Currency,
    n: i64,
) -> Result<Vec<StoredPoint>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT id, price, availability, first_seen_at, last_seen_at FROM price_points \
         WHERE product_id = $1 AND status = 'published' ORDER BY first_seen_at DESC, id DESC LIMIT $2",
    )
    .bind(product_id)
    .bind(n)
    .fetch_all(conn)
    .await?;
    rows.iter().map(|r| from_row(r, currency)).collect()
}

/// Published points that overlap `[since, ∞)`, oldest first: what a chart needs. The point
/// in force at `since` is included so the chart starts with a price, not a gap. Read from the
/// packed runs and the unpacked tail (see [`super::price_runs`]).
pub async fn since(
    conn: &mut AnyConnection,
    product_id: i64,
    currency: Currency,
    since: Timestamp,
) -> Result<Vec<StoredPoint>, sqlx::Error> {
    super::price_runs::points_since(conn, product_id, currency, since).await
}

/// [`since`] straight from `price_points`, ignoring the packed runs: the reference the
/// packed reads are checked against.
pub async fn since_unpacked(
    conn: &mut AnyConnection,
    product_id: i64,
    currency: Currency,
    since: Timestamp,
) -> Result<Vec<StoredPoint>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT id, price, availability, first_seen_at, last_seen_at FROM price_points \
         WHERE product_id = $1 AND status = 'published' AND last_seen_at >= $2 \
         ORDER BY first_seen_at, id",
    )
    .bind(product_id)
    .bind(since.as_millis())
    .fetch_all(conn)
    .await?;
    rows.iter().map(|r| from_row(r, currency)).collect()
}

pub async fn insert(
    conn: &mut AnyConnection,
    product_id: i64,
    point: &PricePoint,
    report_id: Option<i64>,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO price_points (product_id, price, availability, first_seen_at, last_seen_at, report_id) \
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
    )
    .bind(product_id)
    .bind(point.price.map(|p| p.amount_minor))
    .bind(point.availability.as_str())
    .bind(point.first_seen_at.as_millis())
    .bind(point.last_seen_at.as_millis())
    .bind(report_id)
    .fetch_one(conn)
    .await
}

pub async fn extend(
    conn: &mut AnyConnection,
    point_id: i64,
    last_seen_at: Timestamp,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE price_points SET last_seen_at = $1 WHERE id = $2 AND last_seen_at < $1")
        .bind(last_seen_at.as_millis())
        .bind(point_id)
        .execute(conn)
        .await?;
    Ok(())
}
