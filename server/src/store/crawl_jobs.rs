//! The persistent crawl queue: verification jobs for suspicious reports, refreshes for stale
//! products. The crawler (a later part) claims them; ingest only enqueues.

use pricewatch_core::Timestamp;
use sqlx::AnyConnection;

pub const VERIFY: &str = "verify";

/// Queue a verification crawl of the product a report is about.
pub async fn enqueue_verification(
    conn: &mut AnyConnection,
    product_id: i64,
    report_id: i64,
    priority: f64,
    now: Timestamp,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO crawl_jobs (product_id, kind, report_id, priority, due_at, created_at) \
         VALUES ($1, $2, $3, $4, $5, $5)",
    )
    .bind(product_id)
    .bind(VERIFY)
    .bind(report_id)
    .bind(priority)
    .bind(now.as_millis())
    .execute(conn)
    .await?;
    Ok(())
}
