//! What a batch reads before judging, one query per kind: its reporters, its products
//! (created when new, and locked in one order), and their recent points.

use std::collections::{HashMap, HashSet};

use pricewatch_core::{Currency, ProductKey, Timestamp};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use super::sql::{list, param, placeholders, rows_per_statement};
use super::verify::Checked;
use super::RECENT_POINTS;
use crate::db::Backend;
use crate::store::points::StoredPoint;
use crate::store::products::{availability_from, Product};
use crate::store::reporters::{self, Reporter};

pub(super) async fn load_reporters(
    conn: &mut AnyConnection,
    backend: Backend,
    keys: &[&str],
) -> Result<HashMap<String, Reporter>, sqlx::Error> {
    let mut out = HashMap::with_capacity(keys.len());
    for chunk in keys.chunks(rows_per_statement(1)) {
        let sql = format!(
            "SELECT {} FROM reporters WHERE public_key IN ({})",
            reporters::COLUMNS,
            list(backend, 1, chunk.len())
        );
        let mut q = sqlx::query(&sql);
        for k in chunk {
            q = q.bind(*k);
        }
        for row in q.fetch_all(&mut *conn).await? {
            let r = reporters::from_row(&row)?;
            out.insert(r.public_key.clone(), r);
        }
    }
    Ok(out)
}

/// The earliest report (by batch position) whose (reporter, nonce) is already stored.
pub(super) async fn first_replay(
    conn: &mut AnyConnection,
    backend: Backend,
    reporters: &HashMap<String, Reporter>,
    before: &[&Checked],
) -> Result<Option<usize>, sqlx::Error> {
    let known: Vec<(i64, &Checked)> = before
        .iter()
        .filter_map(|c| reporters.get(&c.key_hex).map(|r| (r.id, *c)))
        .collect();
    let mut first = None;
    for chunk in known.chunks(rows_per_statement(2)) {
        let sql = format!(
            "SELECT r.reporter_id, r.nonce FROM (VALUES {}) AS v JOIN reports r \
             ON r.reporter_id = v.column1 AND r.nonce = v.column2",
            placeholders(backend, chunk.len(), 2)
        );
        let mut q = sqlx::query(&sql);
        for (id, c) in chunk {
            q = q.bind(*id).bind(c.nonce_hex.as_str());
        }
        let stored: HashSet<(i64, String)> = q
            .fetch_all(&mut *conn)
            .await?
            .iter()
            .map(|r| Ok((r.try_get("reporter_id")?, r.try_get("nonce")?)))
            .collect::<Result<_, sqlx::Error>>()?;
        if let Some((_, c)) = chunk
            .iter()
            .find(|(id, c)| stored.contains(&(*id, c.nonce_hex.clone())))
        {
            first = first.or(Some(c.index));
        }
    }
    Ok(first)
}

const PRODUCT_COLUMNS: &str = "id, marketplace, asin, title, currency, current_price, \
                               availability, current_point_id, subscribers, views, version, \
                               updated_at";

/// Lock the batch's products, creating those that are new. The products that exist are
/// locked first, in one statement and in (marketplace, ASIN) order: in the steady state that
/// is every product of a batch, and it is all there is to do. Only then are the missing ones
/// inserted and locked, again in key order.
///
/// Two batches that lock only existing products wait on each other in one order, never in a
/// circle. Two that create the same new products at the same moment can: one may already
/// hold an existing product the other wants while it waits for the other's insert. PostgreSQL
/// detects that and fails one of them, and ingest runs that batch again
/// ([`is_deadlock`]).
pub(super) async fn lock_products(
    conn: &mut AnyConnection,
    backend: Backend,
    keys: &[ProductKey],
    now: Timestamp,
) -> Result<Vec<Product>, sqlx::Error> {
    let mut out = Vec::with_capacity(keys.len());
    for chunk in keys.chunks(rows_per_statement(5)) {
        let found = lock_existing(conn, backend, chunk).await?;
        if found.len() < chunk.len() {
            let have: HashSet<&ProductKey> = found.iter().map(|p| &p.key).collect();
            let missing: Vec<ProductKey> = chunk
                .iter()
                .filter(|k| !have.contains(k))
                .copied()
                .collect();
            insert_missing(conn, backend, &missing, now).await?;
            out.extend(lock_existing(conn, backend, &missing).await?);
        }
        out.extend(found);
    }
    Ok(out)
}

/// Whether a batch failed only because PostgreSQL broke a deadlock by failing it (see
/// [`lock_products`]): nothing of it was written, and it can run again.
pub(super) fn is_deadlock(e: &sqlx::Error) -> bool {
    e.as_database_error()
        .and_then(|d| d.code())
        .is_some_and(|code| code == "40P01")
}

/// Whether a statement failed on a unique index: in a batch, only a report whose key and
/// nonce are already stored (a replay) can do that.
pub(super) fn is_unique_violation(e: &sqlx::Error) -> bool {
    e.as_database_error()
        .is_some_and(|d| d.is_unique_violation())
}

/// Insert products that were not found; one that another batch inserted meanwhile is left
/// as it is.
async fn insert_missing(
    conn: &mut AnyConnection,
    backend: Backend,
    keys: &[ProductKey],
    now: Timestamp,
) -> Result<(), sqlx::Error> {
    let sql = format!(
        "INSERT INTO products (marketplace, asin, currency, created_at, updated_at) \
         VALUES {} ON CONFLICT (marketplace, asin) DO NOTHING",
        placeholders(backend, keys.len(), 5)
    );
    let mut q = sqlx::query(&sql);
    for k in keys {
        q = q
            .bind(k.marketplace.code())
            .bind(k.asin.as_str())
            .bind(k.marketplace.currency().code())
            .bind(now.as_millis())
            .bind(now.as_millis());
    }
    q.execute(&mut *conn).await?;
    Ok(())
}

/// The products of `keys` that exist, locked (PostgreSQL) in (marketplace, ASIN) order.
async fn lock_existing(
    conn: &mut AnyConnection,
    backend: Backend,
    keys: &[ProductKey],
) -> Result<Vec<Product>, sqlx::Error> {
    // A join on the VALUES list, not `(marketplace, asin) IN (...)`: SQLite scans the
    // whole index for the latter, and looks each key up for the former.
    let sql = format!(
        "SELECT {} FROM (VALUES {}) AS v JOIN products p \
         ON p.marketplace = v.column1 AND p.asin = v.column2 \
         ORDER BY p.marketplace, p.asin{}",
        PRODUCT_COLUMNS
            .split(", ")
            .map(|c| format!("p.{}", c.trim()))
            .collect::<Vec<_>>()
            .join(", "),
        placeholders(backend, keys.len(), 2),
        match backend {
            Backend::Postgres => " FOR NO KEY UPDATE OF p",
            Backend::Sqlite => "",
        }
    );
    let sql = match backend {
        Backend::Postgres => sql,
        // One row, not one per product: see [`one_row`].
        Backend::Sqlite => {
            format!("SELECT json_group_array(json_array({PRODUCT_COLUMNS})) FROM ({sql})")
        }
    };
    let mut q = sqlx::query(&sql);
    for k in keys {
        q = q.bind(k.marketplace.code()).bind(k.asin.as_str());
    }
    match backend {
        Backend::Postgres => q
            .fetch_all(&mut *conn)
            .await?
            .iter()
            .map(product_from_row)
            .collect(),
        Backend::Sqlite => one_row::<ProductColumns>(q.fetch_one(&mut *conn).await?)?
            .into_iter()
            .map(product_from_columns)
            .collect(),
    }
}

/// The rows of a SQLite query that folded them into one JSON array.
///
/// The sqlx SQLite driver runs statements on its own thread and hands every result row to
/// the waiting task separately (a thread wake-up and a copy of each value per row): for a
/// batch's hundred products and their several hundred recent points that hand-off cost more
/// than the queries. Folded into one text value, they cross once and are parsed here.
fn one_row<T: serde::de::DeserializeOwned>(row: AnyRow) -> Result<Vec<T>, sqlx::Error> {
    let text: Option<String> = row.try_get(0)?;
    match text {
        None => Ok(Vec::new()),
        Some(text) => serde_json::from_str(&text).map_err(|e| sqlx::Error::Decode(Box::new(e))),
    }
}

/// A product row in [`PRODUCT_COLUMNS`] order.
type ProductColumns = (
    i64,
    String,
    String,
    Option<String>,
    String,
    Option<i64>,
    String,
    Option<i64>,
    i64,
    i64,
    i64,
    i64,
);

fn product_from_row(row: &AnyRow) -> Result<Product, sqlx::Error> {
    product_from_columns((
        row.try_get("id")?,
        row.try_get("marketplace")?,
        row.try_get("asin")?,
        row.try_get("title")?,
        row.try_get("currency")?,
        row.try_get("current_price")?,
        row.try_get("availability")?,
        row.try_get("current_point_id")?,
        row.try_get("subscribers")?,
        row.try_get("views")?,
        row.try_get("version")?,
        row.try_get("updated_at")?,
    ))
}

fn product_from_columns(raw: ProductColumns) -> Result<Product, sqlx::Error> {
    let (
        id,
        marketplace,
        asin,
        title,
        currency,
        price,
        availability,
        current_point_id,
        subscribers,
        views,
        version,
        updated_at,
    ) = raw;
    let decode = |col: &str, e: String| sqlx::Error::ColumnDecode {
        index: col.to_owned(),
        source: e.into(),
    };
    let currency: Currency = currency
        .parse()
        .map_err(|e: pricewatch_core::money::UnknownCurrency| decode("currency", e.to_string()))?;
    Ok(Product {
        id,
        key: ProductKey {
            marketplace: marketplace.parse().map_err(
                |e: pricewatch_core::marketplace::MarketplaceError| {
                    decode("marketplace", e.to_string())
                },
            )?,
            asin: pricewatch_core::Asin::parse(&asin).map_err(|e| decode("asin", e.to_string()))?,
        },
        title,
        currency,
        current_price: price.map(|p| pricewatch_core::Money::new(p, currency)),
        availability: availability_from(&availability),
        current_point_id,
        subscribers,
        views,
        version,
        updated_at,
    })
}

/// The products of `ids` that anyone subscribes to (paused subscriptions too: matching still
/// moves their state), in one statement that stops at each product's first subscription.
///
/// Read after the products are locked, so it cannot miss a subscription: every writer of a
/// product's subscriptions locks the product first. One committed before the lock was
/// granted is seen by this later statement; one still to come waits for the batch and
/// starts from the price it leaves.
pub(super) async fn watched_products(
    conn: &mut AnyConnection,
    backend: Backend,
    ids: &[i64],
) -> Result<HashSet<i64>, sqlx::Error> {
    let mut out = HashSet::new();
    for chunk in ids.chunks(rows_per_statement(1)) {
        let sql = format!(
            "SELECT v.column1 FROM (VALUES {}) AS v \
             WHERE EXISTS (SELECT 1 FROM subscriptions s WHERE s.product_id = v.column1)",
            placeholders(backend, chunk.len(), 1)
        );
        let sql = match backend {
            Backend::Postgres => sql,
            // One row, not one per product: see [`one_row`].
            Backend::Sqlite => format!("SELECT json_group_array(column1) FROM ({sql})"),
        };
        let mut q = sqlx::query(&sql);
        for id in chunk {
            q = q.bind(*id);
        }
        match backend {
            Backend::Postgres => {
                for row in q.fetch_all(&mut *conn).await? {
                    out.insert(row.try_get::<i64, _>(0)?);
                }
            }
            Backend::Sqlite => out.extend(one_row::<i64>(q.fetch_one(&mut *conn).await?)?),
        }
    }
    Ok(out)
}

/// The latest published points of every product, newest first, in one query.
pub(super) async fn recent_points(
    conn: &mut AnyConnection,
    backend: Backend,
    products: &[Product],
    history_len: usize,
) -> Result<HashMap<i64, Vec<StoredPoint>>, sqlx::Error> {
    let ids: Vec<i64> = products.iter().map(|p| p.id).collect();
    // The judge weighs the latest point and the latest `history_len` priced points among the
    // recent ones. Reading one more point than that is enough whenever the extra is not
    // needed (enough of them are priced, or the product has no more): far fewer rows than
    // the whole window. The rest are read again in full.
    let short = (history_len + 1).min(RECENT_POINTS);
    let mut out = points_newest_first(conn, backend, products, &ids, short).await?;
    let incomplete: Vec<i64> = out
        .iter()
        .filter(|(_, pts)| {
            pts.len() == short
                && pts.iter().filter(|p| p.point.price.is_some()).count() < history_len
        })
        .map(|(id, _)| *id)
        .collect();
    if !incomplete.is_empty() && short < RECENT_POINTS {
        let full = points_newest_first(conn, backend, products, &incomplete, RECENT_POINTS).await?;
        out.extend(full);
    }
    Ok(out)
}

/// Up to `limit` latest published points of each product in `ids`, newest first.
async fn points_newest_first(
    conn: &mut AnyConnection,
    backend: Backend,
    products: &[Product],
    ids: &[i64],
    limit: usize,
) -> Result<HashMap<i64, Vec<StoredPoint>>, sqlx::Error> {
    let mut out: HashMap<i64, Vec<StoredPoint>> = HashMap::with_capacity(ids.len());
    let currency: HashMap<i64, Currency> = products.iter().map(|p| (p.id, p.currency)).collect();
    const COLS: &str = "id, product_id, price, availability, first_seen_at, last_seen_at";
    let per_product = format!(
        "SELECT {COLS} FROM price_points WHERE product_id = {{}} AND status = 'published' \
         ORDER BY first_seen_at DESC, id DESC LIMIT {limit}"
    );
    for chunk in ids.chunks(500) {
        let sql = match backend {
            // One index range scan per product.
            Backend::Postgres => format!(
                "SELECT r.* FROM (VALUES {}) AS v (pid) CROSS JOIN LATERAL ({}) AS r",
                placeholders(backend, chunk.len(), 1),
                per_product.replace("{}", "v.pid")
            ),
            // SQLite has no LATERAL; a compound of limited subqueries does the same.
            Backend::Sqlite => (1..=chunk.len())
                .map(|i| {
                    format!(
                        "SELECT * FROM ({})",
                        per_product.replace("{}", &param(backend, i))
                    )
                })
                .collect::<Vec<_>>()
                .join(" UNION ALL "),
        };
        let sql = match backend {
            Backend::Postgres => sql,
            // One row, not one per point: see [`one_row`].
            Backend::Sqlite => format!("SELECT json_group_array(json_array({COLS})) FROM ({sql})"),
        };
        let mut q = sqlx::query(&sql);
        for id in chunk {
            q = q.bind(*id);
        }
        let rows: Vec<PointColumns> = match backend {
            Backend::Postgres => q
                .fetch_all(&mut *conn)
                .await?
                .iter()
                .map(|row| {
                    Ok((
                        row.try_get("id")?,
                        row.try_get("product_id")?,
                        row.try_get("price")?,
                        row.try_get("availability")?,
                        row.try_get("first_seen_at")?,
                        row.try_get("last_seen_at")?,
                    ))
                })
                .collect::<Result<_, sqlx::Error>>()?,
            Backend::Sqlite => one_row(q.fetch_one(&mut *conn).await?)?,
        };
        for (id, product_id, price, availability, first_seen_at, last_seen_at) in rows {
            let Some(currency) = currency.get(&product_id).copied() else {
                continue;
            };
            out.entry(product_id)
                .or_default()
                .push(StoredPoint::from_columns(
                    id,
                    price,
                    &availability,
                    first_seen_at,
                    last_seen_at,
                    currency,
                ));
        }
    }
    for points in out.values_mut() {
        points.sort_by_key(|p| std::cmp::Reverse((p.point.first_seen_at, p.id)));
    }
    Ok(out)
}

/// A point row in `points_newest_first`'s column order.
type PointColumns = (i64, i64, Option<i64>, String, i64, i64);
