//! The crawler's admin routes (admins only): the crawl jobs with their results (what the
//! review queue shows beside each flagged report), per-host health, and a re-crawl of a
//! report on request.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::AdminUser;
use crate::error::{ApiError, AppJson};
use crate::state::AppState;
use crate::store::crawl_jobs::{JobFilter, JobView};

use super::admin::{self, Recrawl};
use super::hosts::HostHealth;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(crawl_jobs))
        .routes(routes!(hosts))
        .routes(routes!(recrawl))
}

/// Which crawl jobs to list.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct JobsQuery {
    /// `verify` or `refresh`; both when absent.
    pub kind: Option<String>,
    /// `pending` or `done`; both when absent.
    pub state: Option<String>,
    /// Only the jobs that verify this report.
    pub report_id: Option<i64>,
    /// At most this many, newest first (default 100, at most 1,000).
    pub limit: Option<i64>,
}

/// Crawl jobs.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct JobList {
    pub jobs: Vec<JobView>,
}

/// Crawl jobs, newest first, each with its last crawl's result: outcome, HTTP status,
/// what the page showed, and for verifications the verdict (admins only).
#[utoipa::path(
    get,
    path = "/api/admin/crawl-jobs",
    tag = "admin",
    params(JobsQuery),
    responses(
        (status = 200, description = "the jobs", body = JobList),
        (status = 400, description = "unknown kind or state"),
        (status = 401, description = "not signed in"),
        (status = 403, description = "not an admin"),
    )
)]
async fn crawl_jobs(
    State(state): State<AppState>,
    _admin: AdminUser,
    Query(q): Query<JobsQuery>,
) -> Result<AppJson<JobList>, ApiError> {
    let done = match q.state.as_deref() {
        None => None,
        Some("pending") => Some(false),
        Some("done") => Some(true),
        Some(_) => return Err(ApiError::field("state", "state is pending or done")),
    };
    let filter = JobFilter {
        kind: q.kind,
        done,
        report_id: q.report_id,
        limit: q.limit.unwrap_or(100),
    };
    Ok(AppJson(JobList {
        jobs: admin::list_jobs(&state, &filter).await?,
    }))
}

/// Hosts the crawler has fetched from.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct HostList {
    pub hosts: Vec<HostHealth>,
}

/// Per-host health as this replica sees it: success and robot-check rates, 503s, and
/// whether the host is backing off and for how long (admins only).
#[utoipa::path(
    get,
    path = "/api/admin/hosts",
    tag = "admin",
    responses(
        (status = 200, description = "the hosts", body = HostList),
        (status = 401, description = "not signed in"),
        (status = 403, description = "not an admin"),
    )
)]
async fn hosts(
    State(state): State<AppState>,
    _admin: AdminUser,
) -> Result<AppJson<HostList>, ApiError> {
    Ok(AppJson(HostList {
        hosts: admin::host_health(&state).await?,
    }))
}

/// Crawl a report's product again, ahead of every automatic verification (admins only).
/// A report already judged keeps its verdict; the crawl's result lands on the new job.
#[utoipa::path(
    post,
    path = "/api/admin/reports/{id}/recrawl",
    tag = "admin",
    params(("id" = i64, Path, description = "the report")),
    responses(
        (status = 202, description = "queued", body = Recrawl),
        (status = 401, description = "not signed in"),
        (status = 403, description = "not an admin"),
        (status = 404, description = "no such report"),
    )
)]
async fn recrawl(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    Path(id): Path<i64>,
) -> Result<(StatusCode, AppJson<Recrawl>), ApiError> {
    let queued = admin::recrawl_report(&state, id, admin.user.id).await?;
    Ok((StatusCode::ACCEPTED, AppJson(queued)))
}
