//! `POST /api/reports`: a batch of signed price reports from an extension (or the crawler).

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, State};
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::{ApiError, AppJson};
use crate::ingest::{self, BatchItem, ReportResult};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(post_reports))
}

/// A batch of signed reports.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct ReportBatch {
    /// At most `ingest.max_batch` (default 100) reports.
    pub reports: Vec<BatchItem>,
}

/// The judge's answer, one entry per report in batch order.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct BatchResult {
    pub results: Vec<ReportResult>,
}

/// Submit signed price reports. The batch is refused whole (4xx naming `reports[i].field`,
/// nothing stored) when a report is malformed, badly signed, replayed, outside the clock-skew
/// window, in the wrong currency, or from an unregistered key; otherwise each report gets the
/// judge's decision.
#[utoipa::path(
    post,
    path = "/api/reports",
    tag = "reports",
    request_body = ReportBatch,
    responses(
        (status = 200, description = "per-report decisions", body = BatchResult),
        (status = 400, description = "a report is malformed, badly signed, out of the skew window or in the wrong currency"),
        (status = 403, description = "a report's key is not registered"),
        (status = 409, description = "a report's nonce was already used by its key (replay)"),
        (status = 413, description = "more reports than the batch limit"),
        (status = 429, description = "rate limited; see Retry-After"),
    )
)]
async fn post_reports(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    AppJson(batch): AppJson<ReportBatch>,
) -> Result<AppJson<BatchResult>, ApiError> {
    let results = ingest::ingest(&state, batch.reports, &peer.ip().to_string()).await?;
    Ok(AppJson(BatchResult { results }))
}
