//! The signed-in user's account: `GET /api/me`, `PATCH /api/account` (digest mode,
//! webhook), `GET /api/account/export`, `DELETE /api/account`.

use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::accounts::{self, AccountExport, ChangeAccount};
use crate::auth::session::clear_cookie;
use crate::auth::CurrentUser;
use crate::error::{ApiError, AppJson};
use crate::state::AppState;
use crate::store::users::User;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(me))
        .routes(routes!(change, delete))
        .routes(routes!(export))
}

/// Who is signed in.
#[utoipa::path(
    get,
    path = "/api/me",
    tag = "account",
    responses(
        (status = 200, description = "the user", body = User),
        (status = 401, description = "not signed in"),
    )
)]
async fn me(me: CurrentUser) -> AppJson<User> {
    AppJson(me.user)
}

/// Change the account's settings: `digest` (one email a day) and `webhook_url` (a new URL
/// gets a new `webhook_secret`; `null` removes it).
#[utoipa::path(
    patch,
    path = "/api/account",
    tag = "account",
    request_body = ChangeAccount,
    responses(
        (status = 200, description = "the account after the change", body = User),
        (status = 400, description = "a field is invalid"),
        (status = 401, description = "not signed in"),
    )
)]
async fn change(
    State(state): State<AppState>,
    me: CurrentUser,
    AppJson(body): AppJson<ChangeAccount>,
) -> Result<AppJson<User>, ApiError> {
    Ok(AppJson(accounts::change(&state, &me.user, &body).await?))
}

/// Everything stored about the signed-in user, as JSON.
#[utoipa::path(
    get,
    path = "/api/account/export",
    tag = "account",
    responses(
        (status = 200, description = "the export", body = AccountExport),
        (status = 401, description = "not signed in"),
    )
)]
async fn export(State(state): State<AppState>, me: CurrentUser) -> Result<Response, ApiError> {
    let data = accounts::export(&state, &me.user).await?;
    Ok((
        [(
            header::CONTENT_DISPOSITION,
            HeaderValue::from_static("attachment; filename=\"pricewatch-account.json\""),
        )],
        AppJson(data),
    )
        .into_response())
}

/// Delete the account and all its data; the session ends with it.
#[utoipa::path(
    delete,
    path = "/api/account",
    tag = "account",
    responses(
        (status = 204, description = "deleted"),
        (status = 401, description = "not signed in"),
    )
)]
async fn delete(State(state): State<AppState>, me: CurrentUser) -> Result<Response, ApiError> {
    accounts::delete(&state, &me.user).await?;
    let cookie = HeaderValue::from_str(&clear_cookie(super::auth::secure_cookies(&state)))
        .map_err(|e| ApiError::Internal(e.into()))?;
    Ok((StatusCode::NO_CONTENT, [(header::SET_COOKIE, cookie)]).into_response())
}
