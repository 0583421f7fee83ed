//! Admin-only routes: `GET /api/admin/reports?status=held|rejected`, the review queue of
//! reports the judge did not publish, with its reasons.

use axum::extract::{Query, State};
use serde::{Deserialize, Serialize};
use sqlx::Row;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::AdminUser;
use crate::error::{ApiError, AppJson};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(reports))
}

/// Which reports to list.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct ReviewQuery {
    /// `held` (default) or `rejected`.
    pub status: Option<String>,
    /// At most this many, newest first (default 100, at most 500).
    pub limit: Option<i64>,
}

/// A report in the review queue.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ReviewItem {
    pub report_id: i64,
    pub marketplace: String,
    pub asin: String,
    pub title: Option<String>,
    /// Minor units; null for "no price".
    pub price_minor: Option<i64>,
    pub currency: String,
    pub availability: String,
    pub observed_at: i64,
    pub received_at: i64,
    /// `accept`, `accept_and_verify`, `hold` or `reject`.
    pub decision: String,
    pub status: String,
    pub suspicion: f64,
    /// The judge's reasons (snake_case codes), most decisive first.
    pub reasons: Vec<String>,
    /// The reporter's public key.
    pub reporter: String,
}

/// The review queue.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ReviewList {
    pub reports: Vec<ReviewItem>,
}

/// Held or rejected reports with the judge's reasons (admins only).
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
    if !matches!(status, "held" | "rejected") {
        return Err(ApiError::field("status", "status is held or rejected"));
    }
    let limit = q.limit.unwrap_or(100).clamp(1, 500);
    let rows = sqlx::query(
        "SELECT r.id, p.marketplace, p.asin, p.title, r.price, r.currency, r.availability, \
         r.observed_at, r.received_at, r.decision, r.status, r.suspicion, r.reasons, k.public_key \
         FROM reports r JOIN products p ON p.id = r.product_id JOIN reporters k ON k.id = r.reporter_id \
         WHERE r.status = $1 ORDER BY r.id DESC LIMIT $2",
    )
    .bind(status)
    .bind(limit)
    .fetch_all(&state.db.read)
    .await?;
    let reports = rows
        .iter()
        .map(|r| {
            let reasons: String = r.try_get("reasons")?;
            Ok(ReviewItem {
                report_id: r.try_get("id")?,
                marketplace: r.try_get("marketplace")?,
                asin: r.try_get("asin")?,
                title: r.try_get("title")?,
                price_minor: r.try_get("price")?,
                currency: r.try_get("currency")?,
                availability: r.try_get("availability")?,
                observed_at: r.try_get("observed_at")?,
                received_at: r.try_get("received_at")?,
                decision: r.try_get("decision")?,
                status: r.try_get("status")?,
                suspicion: r.try_get("suspicion")?,
                reasons: serde_json::from_str(&reasons).map_err(|e| sqlx::Error::ColumnDecode {
                    index: "reasons".into(),
                    source: Box::new(e),
                })?,
                reporter: r.try_get("public_key")?,
            })
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()?;
    Ok(AppJson(ReviewList { reports }))
}
