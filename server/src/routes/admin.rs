//! Admin-only routes: the review queue (`GET /api/admin/reports`) with each report's reasons,
//! reporter record and latest crawl; approving and rejecting reports; reporter keys with
//! their reputation, banning and unbanning them; the audit log of every admin action; and
//! the crawl queue's depth for the crawler's admin page.

use axum::extract::{Path, Query, State};
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::AdminUser;
use crate::crawler::verdict::Review;
use crate::error::{ApiError, AppJson};
use crate::review::{self, ReporterView, ReviewItem};
use crate::state::AppState;
use crate::store::audit::{self, Entry};
use crate::store::crawl_jobs;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(reports))
        .routes(routes!(approve))
        .routes(routes!(reject))
        .routes(routes!(reporters))
        .routes(routes!(ban))
        .routes(routes!(unban))
        .routes(routes!(audit_log))
        .routes(routes!(crawl_queue))
}

/// Which reports to list.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct ReviewQuery {
    /// `held` (default), `rejected`, `published`, `stale` or `refuted`.
    pub status: Option<String>,
    /// At most this many, newest first (default 100, at most 500).
    pub limit: Option<i64>,
}

/// The review queue.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ReviewList {
    pub reports: Vec<ReviewItem>,
}

/// Reports by status with the judge's reasons, the reporter's record and the latest
/// verification crawl (admins only).
#[utoipa::path(
    get,
    path = "/api/admin/reports",
    tag = "admin",
    params(ReviewQuery),
    responses(
        (status = 200, description = "the reports", body = ReviewList),
        (status = 400, description = "unknown status"),
        (status = 401, description = "not signed in"),
        (status = 403, description = "not an admin"),
    )
)]
async fn reports(
    State(state): State<AppState>,
    _admin: AdminUser,
    Query(q): Query<ReviewQuery>,
) -> Result<AppJson<ReviewList>, ApiError> {
    let status = q.status.as_deref().unwrap_or("held");
    let reports = review::queue(&state, status, q.limit.unwrap_or(100)).await?;
    Ok(AppJson(ReviewList { reports }))
}

/// Approve a held or rejected report: its price is published as an accepted report's
/// would be (alerts follow) and its reporter's confirmed count goes up (admins only).
#[utoipa::path(
    post,
    path = "/api/admin/reports/{id}/approve",
    tag = "admin",
    params(("id" = i64, Path, description = "the report")),
    responses(
        (status = 200, description = "the report as the queue now shows it", body = ReviewItem),
        (status = 401, description = "not signed in"),
        (status = 403, description = "not an admin"),
        (status = 404, description = "no such report"),
        (status = 409, description = "the report is published or refuted already"),
    )
)]
async fn approve(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    Path(id): Path<i64>,
) -> Result<AppJson<ReviewItem>, ApiError> {
    Ok(AppJson(
        review::review(&state, &admin.user, id, Review::Approved).await?,
    ))
}

/// Reject a held, published or stale report: a published price is reverted as a refuting
/// crawl reverts it (alerts sent on it are corrected) and its reporter's refuted count goes
/// up (admins only).
#[utoipa::path(
    post,
    path = "/api/admin/reports/{id}/reject",
    tag = "admin",
    params(("id" = i64, Path, description = "the report")),
    responses(
        (status = 200, description = "the report as the queue now shows it", body = ReviewItem),
        (status = 401, description = "not signed in"),
        (status = 403, description = "not an admin"),
        (status = 404, description = "no such report"),
        (status = 409, description = "the report is rejected or refuted already"),
    )
)]
async fn reject(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    Path(id): Path<i64>,
) -> Result<AppJson<ReviewItem>, ApiError> {
    Ok(AppJson(
        review::review(&state, &admin.user, id, Review::Rejected).await?,
    ))
}

/// Which reporters to list.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct ReportersQuery {
    /// `recent` (newest keys, the default), `reports` (most reports), `refuted` (most
    /// refutations) or `last_report` (most recently reporting).
    pub sort: Option<String>,
    /// At most this many (default 100, at most 1,000).
    pub limit: Option<i64>,
}

/// Reporter keys.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ReporterList {
    pub reporters: Vec<ReporterView>,
}

/// Reporter keys with their record and reputation score (admins only).
#[utoipa::path(
    get,
    path = "/api/admin/reporters",
    tag = "admin",
    params(ReportersQuery),
    responses(
        (status = 200, description = "the keys", body = ReporterList),
        (status = 400, description = "unknown sort"),
        (status = 401, description = "not signed in"),
        (status = 403, description = "not an admin"),
    )
)]
async fn reporters(
    State(state): State<AppState>,
    _admin: AdminUser,
    Query(q): Query<ReportersQuery>,
) -> Result<AppJson<ReporterList>, ApiError> {
    let sort = q.sort.as_deref().unwrap_or("recent");
    Ok(AppJson(ReporterList {
        reporters: review::reporters(&state, sort, q.limit.unwrap_or(100)).await?,
    }))
}

/// Ban a reporter key: the judge rejects its reports from now on (admins only).
#[utoipa::path(
    post,
    path = "/api/admin/reporters/{public_key}/ban",
    tag = "admin",
    params(("public_key" = String, Path, description = "the key, 64 hex digits")),
    responses(
        (status = 200, description = "the key", body = ReporterView),
        (status = 400, description = "not a reporter key"),
        (status = 401, description = "not signed in"),
        (status = 403, description = "not an admin"),
        (status = 404, description = "no such key"),
    )
)]
async fn ban(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    Path(public_key): Path<String>,
) -> Result<AppJson<ReporterView>, ApiError> {
    Ok(AppJson(
        review::set_banned(&state, &admin.user, &public_key, true).await?,
    ))
}

/// Lift a reporter key's ban (admins only).
#[utoipa::path(
    post,
    path = "/api/admin/reporters/{public_key}/unban",
    tag = "admin",
    params(("public_key" = String, Path, description = "the key, 64 hex digits")),
    responses(
        (status = 200, description = "the key", body = ReporterView),
        (status = 400, description = "not a reporter key"),
        (status = 401, description = "not signed in"),
        (status = 403, description = "not an admin"),
        (status = 404, description = "no such key"),
    )
)]
async fn unban(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    Path(public_key): Path<String>,
) -> Result<AppJson<ReporterView>, ApiError> {
    Ok(AppJson(
        review::set_banned(&state, &admin.user, &public_key, false).await?,
    ))
}

/// How much of the audit log.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct AuditQuery {
    /// At most this many, newest first (default 100, at most 1,000).
    pub limit: Option<i64>,
}

/// The audit log.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AuditLog {
    pub entries: Vec<Entry>,
}

/// Every admin action with who and when, newest first (admins only).
#[utoipa::path(
    get,
    path = "/api/admin/audit",
    tag = "admin",
    params(AuditQuery),
    responses(
        (status = 200, description = "the log", body = AuditLog),
        (status = 401, description = "not signed in"),
        (status = 403, description = "not an admin"),
    )
)]
async fn audit_log(
    State(state): State<AppState>,
    _admin: AdminUser,
    Query(q): Query<AuditQuery>,
) -> Result<AppJson<AuditLog>, ApiError> {
    let limit = q.limit.unwrap_or(100).clamp(1, 1_000);
    Ok(AppJson(AuditLog {
        entries: audit::latest(&state.db.read, limit).await?,
    }))
}

/// One kind of crawl job in the queue.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct QueueDepth {
    /// `verify` or `refresh`.
    pub kind: String,
    /// Jobs not done.
    pub pending: i64,
    /// Jobs not done and due now.
    pub due: i64,
    /// How long the longest-waiting due job has waited, in ms (0 when none is due).
    pub oldest_due_ms: i64,
}

/// The crawl queue.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CrawlQueue {
    pub queues: Vec<QueueDepth>,
    /// When these figures were taken (ms since the epoch).
    pub at: i64,
}

/// The crawl queue's depth and age by kind of job (admins only).
#[utoipa::path(
    get,
    path = "/api/admin/crawl-queue",
    tag = "admin",
    responses(
        (status = 200, description = "the queue", body = CrawlQueue),
        (status = 401, description = "not signed in"),
        (status = 403, description = "not an admin"),
    )
)]
async fn crawl_queue(
    State(state): State<AppState>,
    _admin: AdminUser,
) -> Result<AppJson<CrawlQueue>, ApiError> {
    let now = state.clock.now();
    let queues = crawl_jobs::queue_stats(&state.db.read, now)
        .await?
        .into_iter()
        .map(|q| QueueDepth {
            kind: q.kind,
            pending: q.pending,
            due: q.due,
            oldest_due_ms: q.oldest_due_ms,
        })
        .collect();
    Ok(AppJson(CrawlQueue {
        queues,
        at: now.as_millis(),
    }))
}
