//! Service functions behind the crawler's admin routes: the crawl jobs with their results
//! (what the review queue shows beside each flagged report), per-host health, and a
//! re-crawl of a report on request.

use serde::Serialize;

use crate::error::ApiError;
use crate::state::AppState;
use crate::store::audit::{self, action, target, NewEntry};
use crate::store::crawl_jobs::{self, JobFilter, JobView};

use super::hosts::HostHealth;

/// An admin's re-crawl goes ahead of every automatic verification.
pub const RECRAWL_PRIORITY: f64 = 1e12;

/// Crawl jobs, newest first.
#[tracing::instrument(skip(state))]
pub async fn list_jobs(state: &AppState, filter: &JobFilter) -> Result<Vec<JobView>, ApiError> {
    if let Some(kind) = &filter.kind {
        if kind != crawl_jobs::VERIFY && kind != crawl_jobs::REFRESH {
            return Err(ApiError::field("kind", "kind is verify or refresh"));
        }
    }
    Ok(crawl_jobs::list(&state.db.read, filter).await?)
}

/// Every host the crawler has talked to, with its success and robot-check rates and
/// back-off state, as every replica together saw them.
pub async fn host_health(state: &AppState) -> Result<Vec<HostHealth>, ApiError> {
    Ok(state.crawl_hosts.health().await?)
}

/// A queued re-crawl.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Recrawl {
    pub job_id: i64,
    pub report_id: i64,
}

/// Queue a verification crawl of report `report_id`'s product, ahead of the queue, as the
/// admin `admin_user_id` asked (recorded in the audit log in the same transaction). A report
/// already judged keeps its verdict; the new crawl's result is recorded on the new job.
#[tracing::instrument(skip(state))]
pub async fn recrawl_report(
    state: &AppState,
    report_id: i64,
    admin_user_id: i64,
) -> Result<Recrawl, ApiError> {
    let now = state.clock.now();
    let mut tx = state.db.write.begin().await?;
    let product_id: Option<i64> =
        sqlx::query_scalar("SELECT product_id FROM reports WHERE id = $1")
            .bind(report_id)
            .fetch_optional(&mut *tx)
            .await?;
    let product_id =
        product_id.ok_or_else(|| ApiError::NotFound(format!("no report {report_id}")))?;
    let job_id = crawl_jobs::enqueue_verification_returning(
        &mut tx,
        product_id,
        report_id,
        RECRAWL_PRIORITY,
        now,
    )
    .await?;
    audit::insert(
        &mut tx,
        &NewEntry {
            admin_user_id,
            action: action::RECRAWL,
            target_kind: target::REPORT,
            target: &report_id.to_string(),
            detail: &serde_json::json!({ "job_id": job_id }),
        },
        now,
    )
    .await?;
    tx.commit().await?;
    tracing::info!(job_id, "re-crawl queued by an admin");
    Ok(Recrawl { job_id, report_id })
}
