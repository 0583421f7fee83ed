//! Products: identity (marketplace, ASIN), current price, counters.

use pricewatch_core::{Asin, Availability, Currency, Marketplace, Money, ProductKey, Timestamp};
use sqlx::{AnyConnection, Row};

use crate::db::Backend;

/// A product row.
#[derive(Debug, Clone)]
pub struct Product {
    pub id: i64,
    pub key: ProductKey,
    pub title: Option<String>,
    pub currency: Currency,
    pub current_price: Option<Money>,
    pub availability: Availability,
    pub current_point_id: Option<i64>,
    pub subscribers: i64,
    pub views: i64,
    /// Bumped on every change; with the id it makes the HTTP ETag.
    pub version: i64,
    pub updated_at: i64,
}

const COLUMNS: &str = "id, marketplace, asin, title, currency, current_price, availability, \
                       current_point_id, subscribers, views, version, updated_at";

pub(crate) fn availability_from(text: &str) -> Availability {
    match text {
        "in_stock" => Availability::InStock,
        "out_of_stock" => Availability::OutOfStock,
        _ => Availability::Unknown,
    }
}

fn from_row(row: &sqlx::any::AnyRow) -> Result<Product, sqlx::Error> {
    let decode = |col: &str, e: String| sqlx::Error::ColumnDecode {
        index: col.to_owned(),
        source: e.into(),
    };
    let marketplace: String = row.try_get("marketplace")?;
    let asin: String = row.try_get("asin")?;
    let currency: String = row.try_get("currency")?;
    let currency: Currency = currency
        .parse()
        .map_err(|e: pricewatch_core::money::UnknownCurrency| decode("currency", e.to_string()))?;
    let price: Option<i64> = row.try_get("current_price")?;
    let availability: String = row.try_get("availability")?;
    Ok(Product {
        id: row.try_get("id")?,
        key: ProductKey {
            marketplace: marketplace
                .parse::<Marketplace>()
                .map_err(|e| decode("marketplace", e.to_string()))?,
            asin: Asin::parse(&asin).map_err(|e| decode("asin", e.to_string()))?,
        },
        title: row.try_get("title")?,
        currency,
        current_price: price.map(|p| Money::new(p, currency)),
        availability: availability_from(&availability),
        current_point_id: row.try_get("current_point_id")?,
        subscribers: row.try_get("subscribers")?,
        views: row.try_get("views")?,
        version: row.try_get("version")?,
        updated_at: row.try_get("updated_at")?,
    })
}

/// The product, if known.
pub async fn find(
    conn: &mut AnyConnection,
    key: &ProductKey,
) -> Result<Option<Product>, sqlx::Error> {
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM products WHERE marketplace = $1 AND asin = $2"
    ))
    .bind(key.marketplace.code())
    .bind(key.asin.as_str())
    .fetch_optional(conn)
    .await?;
    row.as_ref().map(from_row).transpose()
}

/// The product, created if new, locked for the rest of the transaction on PostgreSQL so that
/// concurrent writers to one product take turns (no lost update, no doubled event).
pub async fn get_or_create_locked(
    conn: &mut AnyConnection,
    backend: Backend,
    key: &ProductKey,
    now: Timestamp,
) -> Result<Product, sqlx::Error> {
    sqlx::query(
        "INSERT INTO products (marketplace, asin, currency, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $4) ON CONFLICT (marketplace, asin) DO NOTHING",
    )
    .bind(key.marketplace.code())
    .bind(key.asin.as_str())
    .bind(key.marketplace.currency().code())
    .bind(now.as_millis())
    .execute(&mut *conn)
    .await?;
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM products WHERE marketplace = $1 AND asin = $2{}",
        super::for_update(backend)
    ))
    .bind(key.marketplace.code())
    .bind(key.asin.as_str())
    .fetch_one(conn)
    .await?;
    from_row(&row)
}

/// Lock a product's row for the rest of the transaction (PostgreSQL; SQLite has one writer).
/// `NO KEY UPDATE`, what ingest takes: writers of one product take their turns, and rows
/// inserted meanwhile that name the product (their foreign-key checks) are not held up.
/// Whoever also writes the product's crawl jobs or alerts takes this first, so that every
/// such transaction locks in one order: product, then the rest.
pub async fn lock(
    conn: &mut AnyConnection,
    backend: Backend,
    product_id: i64,
) -> Result<(), sqlx::Error> {
    if backend == Backend::Postgres {
        sqlx::query("SELECT id FROM products WHERE id = $1 FOR NO KEY UPDATE")
            .bind(product_id)
            .fetch_optional(conn)
            .await?;
    }
    Ok(())
}

/// Record a new current point and bump the version that feeds ETags.
pub async fn set_current(
    conn: &mut AnyConnection,
    product_id: i64,
    price: Option<Money>,
    availability: Availability,
    point_id: i64,
    now: Timestamp,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE products SET current_price = $1, availability = $2, current_point_id = $3, \
         version = version + 1, updated_at = $4 WHERE id = $5",
    )
    .bind(price.map(|p| p.amount_minor))
    .bind(availability.as_str())
    .bind(point_id)
    .bind(now.as_millis())
    .bind(product_id)
    .execute(conn)
    .await?;
    Ok(())
}

/// Bump the version (a point was extended: `last_seen_at` is part of what readers see).
pub async fn touch(
    conn: &mut AnyConnection,
    product_id: i64,
    now: Timestamp,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE products SET version = version + 1, updated_at = $1 WHERE id = $2")
        .bind(now.as_millis())
        .bind(product_id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Set the title if the product has none yet (titles in reports are unsigned, so the first
/// one wins and later ones cannot vandalise it; the crawler overwrites with `force`).
pub async fn set_title(
    conn: &mut AnyConnection,
    product_id: i64,
    title: &str,
    force: bool,
) -> Result<(), sqlx::Error> {
    let sql = if force {
        "UPDATE products SET title = $1, version = version + 1 WHERE id = $2 AND (title IS NULL OR title <> $1)"
    } else {
        "UPDATE products SET title = $1, version = version + 1 WHERE id = $2 AND title IS NULL"
    };
    sqlx::query(sql)
        .bind(title)
        .bind(product_id)
        .execute(conn)
        .await?;
    Ok(())
}

/// A product in a list (home page: recent drops, most watched).
#[derive(Debug, Clone)]
pub struct Listed {
    pub product: Product,
    /// The price before the current one, for drops.
    pub previous_price: Option<Money>,
    /// When the current price was first seen.
    pub since: i64,
}

/// Products whose current price is lower than the one before it, newest change first.
pub async fn recent_drops(
    conn: &mut AnyConnection,
    limit: i64,
) -> Result<Vec<Listed>, sqlx::Error> {
    // Scan the newest changes and keep the drops: the candidate set is bounded, and the
    // "previous price" subquery uses the (product_id, first_seen_at) index.
    let rows = sqlx::query(&format!(
        "SELECT {cols}, cur.first_seen_at AS since, \
           (SELECT q.price FROM price_points q WHERE q.product_id = p.id AND q.status = 'published' \
              AND q.first_seen_at < cur.first_seen_at AND q.price IS NOT NULL \
              ORDER BY q.first_seen_at DESC LIMIT 1) AS previous_price \
         FROM products p JOIN price_points cur ON cur.id = p.current_point_id \
         WHERE p.current_price IS NOT NULL AND p.availability <> 'out_of_stock' \
         ORDER BY cur.first_seen_at DESC LIMIT $1",
        cols = COLUMNS
            .split(", ")
            .map(|c| format!("p.{}", c.trim()))
            .collect::<Vec<_>>()
            .join(", ")
    ))
    .bind(limit.saturating_mul(10).min(2_000))
    .fetch_all(conn)
    .await?;
    let mut out = Vec::new();
    for row in &rows {
        let product = from_row(row)?;
        let previous: Option<i64> = row.try_get("previous_price")?;
        let previous_price = previous.map(|p| Money::new(p, product.currency));
        let dropped = matches!((previous_price, product.current_price), (Some(a), Some(b)) if b.amount_minor < a.amount_minor);
        if dropped {
            out.push(Listed {
                since: row.try_get("since")?,
                previous_price,
                product,
            });
        }
        if out.len() as i64 >= limit {
            break;
        }
    }
    Ok(out)
}

/// The products most people watch.
pub async fn most_watched(
    conn: &mut AnyConnection,
    limit: i64,
) -> Result<Vec<Listed>, sqlx::Error> {
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM products WHERE subscribers > 0 ORDER BY subscribers DESC, id LIMIT $1"
    ))
    .bind(limit)
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|row| {
            Ok(Listed {
                product: from_row(row)?,
                previous_price: None,
                since: row.try_get("updated_at")?,
            })
        })
        .collect()
}
