//! `GET /api/notifications`: what was sent to the signed-in user, and what failed and why.

use axum::extract::{Query, State};
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::CurrentUser;
use crate::error::{ApiError, AppJson};
use crate::state::AppState;
use crate::store::notifications::{self, NotificationView};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list))
}

/// Paging.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct Page {
    /// Only notifications with a smaller id (the last id of the previous page).
    pub before: Option<i64>,
    /// At most this many (default 50, at most 200).
    pub limit: Option<i64>,
}

/// A page of notifications, newest first.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct NotificationList {
    pub notifications: Vec<NotificationView>,
}

/// The signed-in user's notifications, newest first: alerts, corrections, tests and
/// digests, with their delivery status (`failed` ones say why).
#[utoipa::path(
    get,
    path = "/api/notifications",
    tag = "notifications",
    params(Page),
    responses(
        (status = 200, description = "a page of notifications", body = NotificationList),
        (status = 401, description = "not signed in"),
    )
)]
async fn list(
    State(state): State<AppState>,
    me: CurrentUser,
    Query(page): Query<Page>,
) -> Result<AppJson<NotificationList>, ApiError> {
    let limit = page.limit.unwrap_or(50).clamp(1, 200);
    let mut conn = state.db.read.acquire().await?;
    let notifications = notifications::of_user(&mut conn, me.user.id, page.before, limit).await?;
    Ok(AppJson(NotificationList { notifications }))
}
