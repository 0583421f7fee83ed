//! `POST /api/channels/test`: "send a test notification" to every channel of the signed-in
//! user (email, and the webhook if set), through the real delivery queue.

use axum::extract::State;
use axum::http::StatusCode;
use serde::Serialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::CurrentUser;
use crate::error::{ApiError, AppJson};
use crate::state::AppState;
use crate::store::notifications::{self, channel, kind, status, NewNotification};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(test))
}

/// The queued test notifications.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TestQueued {
    /// The channels a test went to: `email`, `webhook`.
    pub channels: Vec<String>,
}

/// Queue a test notification on every channel; see `GET /api/notifications` for how it went.
#[utoipa::path(
    post,
    path = "/api/channels/test",
    tag = "notifications",
    responses(
        (status = 202, description = "queued", body = TestQueued),
        (status = 401, description = "not signed in"),
        (status = 429, description = "too many tests"),
    )
)]
async fn test(
    State(state): State<AppState>,
    me: CurrentUser,
) -> Result<(StatusCode, AppJson<TestQueued>), ApiError> {
    let now = state.clock.now();
    state
        .limits
        .check(&format!("channel-test:{}", me.user.id), 1, 5, now)
        .map_err(|retry_after_secs| ApiError::RateLimited { retry_after_secs })?;
    let mut channels = vec![channel::EMAIL];
    if me.user.webhook_url.is_some() {
        channels.push(channel::WEBHOOK);
    }
    let content = serde_json::json!({"test": true, "requested_at": now.as_millis()}).to_string();
    let rows: Vec<NewNotification> = channels
        .iter()
        .map(|ch| NewNotification {
            user_id: me.user.id,
            subscription_id: None,
            product_id: None,
            price_point_id: None,
            kind: kind::TEST,
            channel: ch,
            content: content.clone(),
            status: status::PENDING,
        })
        .collect();
    let mut conn = state.db.write.acquire().await?;
    notifications::insert_many(&mut conn, &rows, now).await?;
    drop(conn);
    state.wakeup.queued();
    Ok((
        StatusCode::ACCEPTED,
        AppJson(TestQueued {
            channels: channels.iter().map(|c| (*c).to_owned()).collect(),
        }),
    ))
}
