//! The persistent crawl queue: verification jobs for suspicious reports, refreshes for stale
//! products. Ingest enqueues verifications; the crawler claims jobs under a lease, records
//! each crawl's result on its job and schedules the product's next refresh.
//!
//! Claims are made inside a transaction: the candidates are read with
//! `FOR UPDATE OF j SKIP LOCKED` on PostgreSQL (so replicas never block on, nor take, each
//! other's rows), one is chosen, and its lease (`claimed_by`, `claimed_until`) is written
//! before commit. A replica that dies holding a job loses it when the lease ends. On SQLite
//! the single writer connection already serializes claims.

use pricewatch_core::{Asin, Currency, Marketplace, ProductKey, Timestamp};
use serde::Serialize;
use sqlx::{AnyConnection, AnyPool, Row};

use crate::db::Backend;

pub const VERIFY: &str = "verify";
pub const REFRESH: &str = "refresh";

/// Queue a verification crawl of the product a report is about.
pub async fn enqueue_verification(
    conn: &mut AnyConnection,
    product_id: i64,
    report_id: i64,
    priority: f64,
    now: Timestamp,
) -> Result<(), sqlx::Error> {
    enqueue_verification_returning(conn, product_id, report_id, priority, now).await?;
    Ok(())
}

/// As [`enqueue_verification`], returning the new job's id.
pub async fn enqueue_verification_returning(
    conn: &mut AnyConnection,
    product_id: i64,
    report_id: i64,
    priority: f64,
    now: Timestamp,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO crawl_jobs (product_id, kind, report_id, priority, due_at, created_at) \
         VALUES ($1, $2, $3, $4, $5, $5) RETURNING id",
    )
    .bind(product_id)
    .bind(VERIFY)
    .bind(report_id)
    .bind(priority)
    .bind(now.as_millis())
    .fetch_one(conn)
    .await
}

/// Schedule the product's next refresh at `due_at`, replacing the pending one (a product has
/// at most one: a unique partial index says so).
pub async fn schedule_refresh(
    conn: &mut AnyConnection,
    product_id: i64,
    due_at: Timestamp,
    interval_ms: i64,
    priority: f64,
    now: Timestamp,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO crawl_jobs (product_id, kind, priority, due_at, created_at, interval_ms) \
         VALUES ($1, 'refresh', $2, $3, $4, $5) \
         ON CONFLICT (product_id) WHERE kind = 'refresh' AND done_at IS NULL \
         DO UPDATE SET due_at = excluded.due_at, priority = excluded.priority, \
         interval_ms = excluded.interval_ms, created_at = excluded.created_at",
    )
    .bind(product_id)
    .bind(priority)
    .bind(due_at.as_millis())
    .bind(now.as_millis())
    .bind(interval_ms)
    .execute(conn)
    .await?;
    Ok(())
}

/// Give every product without a pending refresh one due now (products first seen through
/// reports, or whose last refresh gave up). Returns how many were queued.
pub async fn seed_refreshes(
    conn: &mut AnyConnection,
    now: Timestamp,
    limit: i64,
) -> Result<u64, sqlx::Error> {
    let done = sqlx::query(
        "INSERT INTO crawl_jobs (product_id, kind, priority, due_at, created_at) \
         SELECT p.id, 'refresh', 0, $1, $1 FROM products p \
         WHERE NOT EXISTS (SELECT 1 FROM crawl_jobs j WHERE j.product_id = p.id \
         AND j.kind = 'refresh' AND j.done_at IS NULL) \
         ORDER BY p.id LIMIT $2 \
         ON CONFLICT DO NOTHING",
    )
    .bind(now.as_millis())
    .bind(limit)
    .execute(conn)
    .await?;
    Ok(done.rows_affected())
}

/// A product whose history changed after its pending refresh was scheduled.
#[derive(Debug, Clone)]
pub struct Changed {
    pub product_id: i64,
    pub currency: Currency,
    pub subscribers: i64,
    pub last_crawled_at: Option<i64>,
}

/// Products whose pending refresh predates their last change (any report since moves
/// `products.updated_at`): their volatility may have changed, so their refresh is
/// rescheduled. `created_at` of a rescheduled job is set anew, so each change is seen once.
pub async fn changed_since_scheduled(
    conn: &mut AnyConnection,
    limit: i64,
) -> Result<Vec<Changed>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT p.id, p.currency, p.subscribers, p.last_crawled_at \
         FROM crawl_jobs j JOIN products p ON p.id = j.product_id \
         WHERE j.kind = 'refresh' AND j.done_at IS NULL AND j.claimed_by IS NULL \
         AND p.updated_at > j.created_at ORDER BY p.id LIMIT $1",
    )
    .bind(limit)
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|r| {
            let currency: String = r.try_get("currency")?;
            Ok(Changed {
                product_id: r.try_get("id")?,
                currency: currency.parse().map_err(
                    |e: pricewatch_core::money::UnknownCurrency| sqlx::Error::ColumnDecode {
                        index: "currency".into(),
                        source: e.to_string().into(),
                    },
                )?,
                subscribers: r.try_get("subscribers")?,
                last_crawled_at: r.try_get("last_crawled_at")?,
            })
        })
        .collect()
}

/// A due, unclaimed job with what choosing and crawling it needs.
#[derive(Debug, Clone)]
pub struct Candidate {
    pub id: i64,
    pub product_id: i64,
    pub kind: String,
    pub report_id: Option<i64>,
    pub priority: f64,
    pub attempts: i64,
    /// How many attempts in a row, up to the last, the page answered with an error (see
    /// [`ERRORS_IN_ROW`]); an attempt that ends otherwise (a robot check, an outage) starts
    /// the count again.
    pub errors_in_row: i64,
    /// For a refresh: the adaptive interval it was scheduled with.
    pub interval_ms: Option<i64>,
    pub due_at: i64,
    pub key: ProductKey,
    pub subscribers: i64,
    pub last_crawled_at: Option<i64>,
}

/// The field of a job's last `result` that counts its page errors in a row: the retry delay
/// doubles with it, not with every attempt (a product behind robot checks for an hour has
/// many attempts, and one error after them is not worth a day's wait).
pub const ERRORS_IN_ROW: &str = "errors_in_row";

fn candidate(row: &sqlx::any::AnyRow) -> Result<Candidate, sqlx::Error> {
    let decode = |col: &str, e: String| sqlx::Error::ColumnDecode {
        index: col.to_owned(),
        source: e.into(),
    };
    let marketplace: String = row.try_get("marketplace")?;
    let asin: String = row.try_get("asin")?;
    Ok(Candidate {
        id: row.try_get("id")?,
        product_id: row.try_get("product_id")?,
        kind: row.try_get("kind")?,
        report_id: row.try_get("report_id")?,
        priority: row.try_get("priority")?,
        attempts: row.try_get("attempts")?,
        errors_in_row: row
            .try_get::<Option<String>, _>("result")?
            .and_then(|r| serde_json::from_str::<serde_json::Value>(&r).ok())
            .and_then(|r| r.get(ERRORS_IN_ROW).and_then(serde_json::Value::as_i64))
            .unwrap_or(0),
        interval_ms: row.try_get("interval_ms")?,
        due_at: row.try_get("due_at")?,
        key: ProductKey {
            marketplace: marketplace
                .parse::<Marketplace>()
                .map_err(|e| decode("marketplace", e.to_string()))?,
            asin: Asin::parse(&asin).map_err(|e| decode("asin", e.to_string()))?,
        },
        subscribers: row.try_get("subscribers")?,
        last_crawled_at: row.try_get("last_crawled_at")?,
    })
}

/// Due, unclaimed jobs of `kind`, locked for this transaction (skipping rows other replicas
/// hold), on marketplaces not in `skip` (hosts backing off). Verifications come by priority,
/// refreshes by how long they have been due.
pub async fn due(
    conn: &mut AnyConnection,
    backend: Backend,
    kind: &str,
    now: Timestamp,
    skip: &[Marketplace],
    limit: i64,
) -> Result<Vec<Candidate>, sqlx::Error> {
    let mut sql = String::from(
        "SELECT j.id, j.product_id, j.kind, j.report_id, j.priority, j.attempts, j.interval_ms, \
         j.result, j.due_at, p.marketplace, p.asin, p.subscribers, p.last_crawled_at \
         FROM crawl_jobs j JOIN products p ON p.id = j.product_id \
         WHERE j.kind = $1 AND j.done_at IS NULL AND j.due_at <= $2 \
         AND (j.claimed_until IS NULL OR j.claimed_until < $2)",
    );
    if !skip.is_empty() {
        sql.push_str(&format!(
            " AND p.marketplace NOT IN ({})",
            super::numbered_params(4, skip.len())
        ));
    }
    sql.push_str(if kind == VERIFY {
        " ORDER BY j.priority DESC, j.id"
    } else {
        " ORDER BY j.due_at, j.id"
    });
    sql.push_str(" LIMIT $3");
    if backend == Backend::Postgres {
        sql.push_str(" FOR UPDATE OF j SKIP LOCKED");
    }
    let mut q = sqlx::query(&sql)
        .bind(kind)
        .bind(now.as_millis())
        .bind(limit);
    for m in skip {
        q = q.bind(m.code());
    }
    let rows = q.fetch_all(conn).await?;
    rows.iter().map(candidate).collect()
}

/// Take the lease on a job chosen from [`due`] in the same transaction.
pub async fn claim(
    conn: &mut AnyConnection,
    id: i64,
    worker: &str,
    until: Timestamp,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE crawl_jobs SET claimed_by = $1, claimed_until = $2 WHERE id = $3")
        .bind(worker)
        .bind(until.as_millis())
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Give a claimed job back to the queue, due at `due_at`, with the attempt's result kept for
/// the admin view. `counted` says whether the attempt counts towards the job's limit (a host
/// backing off before the job was even tried does not).
pub async fn release(
    conn: &mut AnyConnection,
    id: i64,
    worker: &str,
    due_at: Timestamp,
    counted: bool,
    result: Option<&serde_json::Value>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE crawl_jobs SET claimed_by = NULL, claimed_until = NULL, due_at = $1, \
         attempts = attempts + $2, result = COALESCE($3, result) \
         WHERE id = $4 AND claimed_by = $5",
    )
    .bind(due_at.as_millis())
    .bind(i64::from(counted))
    .bind(result.map(serde_json::Value::to_string))
    .bind(id)
    .bind(worker)
    .execute(conn)
    .await?;
    Ok(())
}

/// Finish a job with its result. Returns false when the lease was lost meanwhile (another
/// replica took the job over), in which case nothing is written.
pub async fn complete(
    conn: &mut AnyConnection,
    id: i64,
    worker: &str,
    result: &serde_json::Value,
    now: Timestamp,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE crawl_jobs SET done_at = $1, result = $2, claimed_by = NULL, \
         claimed_until = NULL, attempts = attempts + 1 \
         WHERE id = $3 AND claimed_by = $4 AND done_at IS NULL",
    )
    .bind(now.as_millis())
    .bind(result.to_string())
    .bind(id)
    .bind(worker)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Remember when a product was last crawled: refresh staleness is measured from it.
pub async fn set_last_crawled(
    conn: &mut AnyConnection,
    product_id: i64,
    now: Timestamp,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE products SET last_crawled_at = $1 WHERE id = $2")
        .bind(now.as_millis())
        .bind(product_id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Depth and age of one kind of job, for `/metrics`.
#[derive(Debug, Clone, PartialEq)]
pub struct QueueStats {
    pub kind: String,
    /// Not done.
    pub pending: i64,
    /// Not done and due now.
    pub due: i64,
    /// How long the longest-waiting due job has been due, in ms (0 when none is).
    pub oldest_due_ms: i64,
}

pub async fn queue_stats(pool: &AnyPool, now: Timestamp) -> Result<Vec<QueueStats>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT kind, COUNT(*) AS pending, \
         COALESCE(SUM(CASE WHEN due_at <= $1 THEN 1 ELSE 0 END), 0) AS due, \
         MIN(CASE WHEN due_at <= $1 THEN due_at END) AS oldest \
         FROM crawl_jobs WHERE done_at IS NULL GROUP BY kind ORDER BY kind",
    )
    .bind(now.as_millis())
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|r| {
            let oldest: Option<i64> = r.try_get("oldest")?;
            Ok(QueueStats {
                kind: r.try_get("kind")?,
                pending: r.try_get("pending")?,
                due: r.try_get("due")?,
                oldest_due_ms: oldest.map_or(0, |o| (now.as_millis() - o).max(0)),
            })
        })
        .collect()
}

/// One job as the admin review queue shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct JobView {
    pub id: i64,
    pub kind: String,
    pub product_id: i64,
    pub marketplace: String,
    pub asin: String,
    pub report_id: Option<i64>,
    pub priority: f64,
    /// ms since the epoch.
    pub due_at: i64,
    pub created_at: i64,
    pub claimed_by: Option<String>,
    pub claimed_until: Option<i64>,
    pub attempts: i64,
    pub done_at: Option<i64>,
    /// What the last crawl saw and decided (see the crawler's docs for the fields).
    #[schema(value_type = Option<Object>)]
    pub result: Option<serde_json::Value>,
}

/// Which jobs to list.
#[derive(Debug, Clone, Default)]
pub struct JobFilter {
    /// `verify` or `refresh`.
    pub kind: Option<String>,
    /// `Some(true)`: finished only; `Some(false)`: pending only.
    pub done: Option<bool>,
    pub report_id: Option<i64>,
    pub limit: i64,
}

/// Jobs, newest first.
pub async fn list(pool: &AnyPool, filter: &JobFilter) -> Result<Vec<JobView>, sqlx::Error> {
    let mut sql = String::from(
        "SELECT j.id, j.kind, j.product_id, p.marketplace, p.asin, j.report_id, j.priority, \
         j.due_at, j.created_at, j.claimed_by, j.claimed_until, j.attempts, j.done_at, j.result \
         FROM crawl_jobs j JOIN products p ON p.id = j.product_id WHERE 1 = 1",
    );
    let mut n = 1;
    if filter.kind.is_some() {
        sql.push_str(&format!(" AND j.kind = ${n}"));
        n += 1;
    }
    match filter.done {
        Some(true) => sql.push_str(" AND j.done_at IS NOT NULL"),
        Some(false) => sql.push_str(" AND j.done_at IS NULL"),
        None => {}
    }
    if filter.report_id.is_some() {
        sql.push_str(&format!(" AND j.report_id = ${n}"));
        n += 1;
    }
    sql.push_str(&format!(" ORDER BY j.id DESC LIMIT ${n}"));
    let mut q = sqlx::query(&sql);
    if let Some(kind) = &filter.kind {
        q = q.bind(kind.clone());
    }
    if let Some(r) = filter.report_id {
        q = q.bind(r);
    }
    let rows = q.bind(filter.limit.clamp(1, 1_000)).fetch_all(pool).await?;
    rows.iter()
        .map(|r| {
            let result: Option<String> = r.try_get("result")?;
            Ok(JobView {
                id: r.try_get("id")?,
                kind: r.try_get("kind")?,
                product_id: r.try_get("product_id")?,
                marketplace: r.try_get("marketplace")?,
                asin: r.try_get("asin")?,
                report_id: r.try_get("report_id")?,
                priority: r.try_get("priority")?,
                due_at: r.try_get("due_at")?,
                created_at: r.try_get("created_at")?,
                claimed_by: r.try_get("claimed_by")?,
                claimed_until: r.try_get("claimed_until")?,
                attempts: r.try_get("attempts")?,
                done_at: r.try_get("done_at")?,
                result: result.and_then(|t| serde_json::from_str(&t).ok()),
            })
        })
        .collect()
}
