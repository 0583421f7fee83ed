//! The multi-row statements that write what a batch decided: reports, points, outbox
//! events, point extensions, verification jobs, product and reporter updates.

use std::collections::{BTreeMap, HashMap};

use pricewatch_core::history::PricePoint;
use pricewatch_core::judge::Verdict;
use pricewatch_core::Timestamp;
use sqlx::any::AnyQueryResult;
use sqlx::{AnyConnection, Row};

use super::batch::PendingReport;
use super::sql::{list, lock_for_update, param, placeholders, rows_per_statement};
use super::verify::Checked;
use crate::db::Backend;
use crate::store::products::Product;
use crate::store::reporters::{Reporter, LAST_REPORT_RESOLUTION_MS};
use crate::store::{crawl_jobs, outbox};

fn decision_str(v: &Verdict) -> String {
    serde_json::to_value(v.decision)
        .ok()
        .and_then(|d| d.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// Insert report rows; returns (reporter id, nonce) → id.
///
/// A replay (a key and nonce already stored) fails the statement with a unique violation,
/// and with it the batch, which ingest then answers with 409 ([`super::load::first_replay`]
/// names the report). Replays are rare, and without `ON CONFLICT` PostgreSQL inserts each
/// row once instead of speculatively (a pre-check of the unique index and a second WAL
/// record per report).
pub(super) async fn insert_reports(
    conn: &mut AnyConnection,
    backend: Backend,
    rows: &[PendingReport],
    checked: &[Checked],
    now: Timestamp,
) -> Result<HashMap<(i64, String), i64>, sqlx::Error> {
    const COLS: usize = 14;
    let mut out = HashMap::with_capacity(rows.len());
    for chunk in rows.chunks(rows_per_statement(COLS)) {
        let sql = format!(
            "INSERT INTO reports (reporter_id, product_id, nonce, price, currency, availability, \
             observed_at, received_at, decision, status, suspicion, reasons, client_version, \
             signature) VALUES {}{}",
            placeholders(backend, chunk.len(), COLS),
            returning(backend, " RETURNING id, reporter_id, nonce")
        );
        let mut q = sqlx::query(&sql);
        for r in chunk {
            let c = &checked[r.at];
            let report = c.report.report();
            let reasons = serde_json::to_string(&r.verdict.reasons).unwrap_or_else(|_| "[]".into());
            q = q
                .bind(r.reporter_id)
                .bind(r.product_id)
                .bind(c.nonce_hex.as_str())
                .bind(report.price.map(|p| p.amount_minor))
                .bind(report.currency.code())
                .bind(report.availability.as_str())
                .bind(report.observed_at.as_millis())
                .bind(now.as_millis())
                .bind(decision_str(&r.verdict))
                .bind(r.status)
                .bind(r.verdict.suspicion)
                .bind(reasons)
                .bind(report.client_version.as_str())
                .bind(c.signature.as_str());
        }
        match backend {
            Backend::Postgres => {
                for row in q.fetch_all(&mut *conn).await? {
                    out.insert(
                        (row.try_get("reporter_id")?, row.try_get("nonce")?),
                        row.try_get("id")?,
                    );
                }
            }
            Backend::Sqlite => {
                let done = q.execute(&mut *conn).await?;
                for (r, id) in chunk.iter().zip(written_ids(&mut *conn, &done).await?) {
                    out.insert((r.reporter_id, checked[r.at].nonce_hex.clone()), id);
                }
            }
        }
    }
    Ok(out)
}

/// `RETURNING ...` on PostgreSQL. On SQLite the ids are worked out instead (see
/// [`written_ids`]): the sqlx SQLite driver hands each returned row from its own thread to
/// the waiting task one at a time, a thread wake-up per row.
fn returning(backend: Backend, clause: &'static str) -> &'static str {
    match backend {
        Backend::Postgres => clause,
        Backend::Sqlite => "",
    }
}

/// The ids of the rows a multi-row SQLite `INSERT` just wrote, in `VALUES` order. SQLite
/// inserts the rows one after another, each taking the next id of the table
/// (`AUTOINCREMENT`, one writer), so they are the `rows_affected` ids ending with the
/// connection's last inserted one. (sqlx's `Any` driver does not pass that id on, so it is
/// asked for: one row instead of one per inserted row.)
async fn written_ids(
    conn: &mut AnyConnection,
    done: &AnyQueryResult,
) -> Result<std::ops::Range<i64>, sqlx::Error> {
    let n = i64::try_from(done.rows_affected()).unwrap_or(0);
    if n == 0 {
        return Ok(0..0);
    }
    let last: i64 = sqlx::query_scalar("SELECT last_insert_rowid()")
        .fetch_one(&mut *conn)
        .await?;
    Ok(last - n + 1..last + 1)
}

/// Insert new points; returns report id → point id (each new point comes from one report).
pub(super) async fn insert_points(
    conn: &mut AnyConnection,
    backend: Backend,
    rows: &[(i64, &PricePoint, i64)],
) -> Result<HashMap<i64, i64>, sqlx::Error> {
    const COLS: usize = 6;
    let mut out = HashMap::with_capacity(rows.len());
    for chunk in rows.chunks(rows_per_statement(COLS)) {
        let sql = format!(
            "INSERT INTO price_points (product_id, price, availability, first_seen_at, \
             last_seen_at, report_id) VALUES {}{}",
            placeholders(backend, chunk.len(), COLS),
            returning(backend, " RETURNING id, report_id")
        );
        let mut q = sqlx::query(&sql);
        for (product_id, point, report_id) in chunk {
            q = q
                .bind(*product_id)
                .bind(point.price.map(|p| p.amount_minor))
                .bind(point.availability.as_str())
                .bind(point.first_seen_at.as_millis())
                .bind(point.last_seen_at.as_millis())
                .bind(*report_id);
        }
        match backend {
            Backend::Postgres => {
                for row in q.fetch_all(&mut *conn).await? {
                    out.insert(row.try_get("report_id")?, row.try_get("id")?);
                }
            }
            Backend::Sqlite => {
                let done = q.execute(&mut *conn).await?;
                // Nothing can skip a point row: every one of them was written.
                for ((_, _, report_id), id) in
                    chunk.iter().zip(written_ids(&mut *conn, &done).await?)
                {
                    out.insert(*report_id, id);
                }
            }
        }
    }
    Ok(out)
}

pub(super) async fn insert_events(
    conn: &mut AnyConnection,
    backend: Backend,
    rows: &[(i64, i64, String)],
    now: Timestamp,
) -> Result<(), sqlx::Error> {
    const COLS: usize = 5;
    for chunk in rows.chunks(rows_per_statement(COLS)) {
        let sql = format!(
            "INSERT INTO outbox_events (kind, product_id, price_point_id, payload, created_at) \
             VALUES {}",
            placeholders(backend, chunk.len(), COLS)
        );
        let mut q = sqlx::query(&sql);
        for (product_id, point_id, payload) in chunk {
            q = q
                .bind(outbox::PRICE_CHANGED)
                .bind(*product_id)
                .bind(*point_id)
                .bind(payload.as_str())
                .bind(now.as_millis());
        }
        q.execute(&mut *conn).await?;
    }
    Ok(())
}

/// Move `last_seen_at` forward on points written before this batch, in one statement.
pub(super) async fn extend_points(
    conn: &mut AnyConnection,
    backend: Backend,
    extends: &BTreeMap<i64, i64>,
) -> Result<(), sqlx::Error> {
    let rows: Vec<(&i64, &i64)> = extends.iter().collect();
    for chunk in rows.chunks(rows_per_statement(2)) {
        // VALUES columns are `column1`, `column2`... on both engines.
        let sql = format!(
            "UPDATE price_points SET last_seen_at = v.column2 FROM (VALUES {}) AS v \
             WHERE price_points.id = v.column1 AND price_points.last_seen_at < v.column2",
            placeholders(backend, chunk.len(), 2)
        );
        let mut q = sqlx::query(&sql);
        for (id, at) in chunk {
            q = q.bind(**id).bind(**at);
        }
        q.execute(&mut *conn).await?;
    }
    Ok(())
}

pub(super) async fn insert_verifications(
    conn: &mut AnyConnection,
    backend: Backend,
    rows: &[(i64, i64, f64)],
    now: Timestamp,
) -> Result<(), sqlx::Error> {
    const COLS: usize = 6;
    for chunk in rows.chunks(rows_per_statement(COLS)) {
        let sql = format!(
            "INSERT INTO crawl_jobs (product_id, kind, report_id, priority, due_at, created_at) \
             VALUES {}",
            placeholders(backend, chunk.len(), COLS)
        );
        let mut q = sqlx::query(&sql);
        for (product_id, report_id, priority) in chunk {
            q = q
                .bind(*product_id)
                .bind(crawl_jobs::VERIFY)
                .bind(*report_id)
                .bind(*priority)
                .bind(now.as_millis())
                .bind(now.as_millis());
        }
        q.execute(&mut *conn).await?;
    }
    Ok(())
}

/// Write the products' new state back. The rows are locked (PostgreSQL) or the writer is
/// alone (SQLite), so the values computed in memory are the truth.
pub(super) async fn update_products(
    conn: &mut AnyConnection,
    backend: Backend,
    rows: &[Product],
) -> Result<(), sqlx::Error> {
    const COLS: usize = 7;
    for chunk in rows.chunks(rows_per_statement(COLS)) {
        let sql = format!(
            "UPDATE products SET title = v.column2, current_price = v.column3, \
             availability = v.column4, current_point_id = v.column5, version = v.column6, \
             updated_at = v.column7 FROM (VALUES {}) AS v WHERE products.id = v.column1",
            placeholders(backend, chunk.len(), COLS)
        );
        let mut q = sqlx::query(&sql);
        for p in chunk {
            q = q
                .bind(p.id)
                .bind(p.title.as_deref())
                .bind(p.current_price.map(|m| m.amount_minor))
                .bind(p.availability.as_str())
                .bind(p.current_point_id)
                .bind(p.version)
                .bind(p.updated_at);
        }
        q.execute(&mut *conn).await?;
    }
    Ok(())
}

/// `last_report_at` for the batch's reporters whose value is older than
/// [`LAST_REPORT_RESOLUTION_MS`]. On PostgreSQL the rows are locked in id order first: an
/// `UPDATE ... IN (...)` alone locks in scan order, and two batches sharing reporters could
/// then wait on each other.
///
/// The lock is `FOR NO KEY UPDATE`, what an `UPDATE` of non-key columns takes anyway: unlike
/// `FOR UPDATE` it does not conflict with the key-share locks other transactions hold on a
/// row while they insert rows that reference it (a report naming this reporter).
pub(super) async fn touch_reporters(
    conn: &mut AnyConnection,
    backend: Backend,
    reporters: &HashMap<String, Reporter>,
    now: Timestamp,
) -> Result<(), sqlx::Error> {
    let stale = now.as_millis() - LAST_REPORT_RESOLUTION_MS;
    let mut ids: Vec<i64> = reporters
        .values()
        .filter(|r| r.last_report_at.is_none_or(|at| at <= stale))
        .map(|r| r.id)
        .collect();
    ids.sort_unstable();
    for chunk in ids.chunks(rows_per_statement(1)) {
        if backend == Backend::Postgres && chunk.len() > 1 {
            let sql = format!(
                "SELECT id FROM reporters WHERE id IN ({}) ORDER BY id{}",
                list(backend, 1, chunk.len()),
                lock_for_update(backend)
            );
            let mut q = sqlx::query(&sql);
            for id in chunk {
                q = q.bind(*id);
            }
            q.execute(&mut *conn).await?;
        }
        let sql = format!(
            "UPDATE reporters SET last_report_at = {} WHERE id IN ({})",
            param(backend, 1),
            list(backend, 2, chunk.len())
        );
        let mut q = sqlx::query(&sql).bind(now.as_millis());
        for id in chunk {
            q = q.bind(*id);
        }
        q.execute(&mut *conn).await?;
    }
    Ok(())
}
