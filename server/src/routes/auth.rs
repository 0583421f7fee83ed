//! Sign-in without passwords: `POST /api/auth/email` (send a code and link),
//! `POST /api/auth/verify` (code or link → session), `POST /api/auth/signout`.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::session::{clear_cookie, session_cookie};
use crate::auth::signin::{self, ClientKind, Proof};
use crate::auth::CurrentUser;
use crate::error::{ApiError, AppJson};
use crate::state::AppState;
use crate::store::sessions;
use crate::store::users::User;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(request_code))
        .routes(routes!(verify))
        .routes(routes!(sign_out))
}

/// Whether cookies must be `Secure` (the site is served over https).
pub(crate) fn secure_cookies(state: &AppState) -> bool {
    state.settings.public_url.starts_with("https://")
}

/// Ask for a sign-in code.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EmailRequest {
    pub email: String,
}

/// Email a one-time code and a magic link (valid `auth.code_ttl_secs`, once). The answer is
/// the same whether or not the address has an account.
#[utoipa::path(
    post,
    path = "/api/auth/email",
    tag = "auth",
    request_body = EmailRequest,
    responses(
        (status = 202, description = "the email is on its way"),
        (status = 400, description = "not an email address"),
        (status = 429, description = "too many sign-in emails for this address or client"),
        (status = 503, description = "the mail server cannot be reached; try again"),
    )
)]
async fn request_code(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    AppJson(body): AppJson<EmailRequest>,
) -> Result<StatusCode, ApiError> {
    signin::request(&state, &body.email, &peer.ip().to_string()).await?;
    Ok(StatusCode::ACCEPTED)
}

/// A code (with its email) or a link's token, and the client signing in.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VerifyRequest {
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub code: Option<String>,
    /// The `token` of the magic link.
    #[serde(default)]
    pub token: Option<String>,
    /// `web` (default): a session cookie; `extension`: a bearer token in the answer.
    #[serde(default)]
    pub client: ClientKind,
}

/// A new session.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SignedIn {
    pub user: User,
    /// The bearer token, for the extension only (the website gets an HttpOnly cookie).
    pub token: Option<String>,
    pub expires_at: i64,
}

/// Check a code or link (each works once) and open a session: a `pw_session` cookie
/// (HttpOnly, SameSite=Lax) for the website, a bearer token for the extension.
#[utoipa::path(
    post,
    path = "/api/auth/verify",
    tag = "auth",
    request_body = VerifyRequest,
    responses(
        (status = 200, description = "signed in", body = SignedIn),
        (status = 400, description = "wrong, expired or used code or link"),
    )
)]
async fn verify(
    State(state): State<AppState>,
    AppJson(body): AppJson<VerifyRequest>,
) -> Result<Response, ApiError> {
    let proof = match (body.token, body.email, body.code) {
        (Some(token), _, _) => Proof::Link { token },
        (None, Some(email), Some(code)) => Proof::Code { email, code },
        (None, None, _) => return Err(ApiError::field("email", "give email and code, or token")),
        (None, Some(_), None) => return Err(ApiError::field("code", "the code is missing")),
    };
    let verified = signin::verify(&state, proof, body.client).await?;
    let secure = secure_cookies(&state);
    let max_age = (verified.expires_at - state.clock.now()).as_millis() / 1_000;
    let (token, cookie) = match body.client {
        ClientKind::Web => (None, Some(session_cookie(&verified.token, max_age, secure))),
        ClientKind::Extension => (Some(verified.token), None),
    };
    let mut response = AppJson(SignedIn {
        user: verified.user,
        token,
        expires_at: verified.expires_at.as_millis(),
    })
    .into_response();
    if let Some(c) = cookie {
        let value = HeaderValue::from_str(&c).map_err(|e| ApiError::Internal(e.into()))?;
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

/// Revoke the session the request came with (and clear the cookie).
#[utoipa::path(
    post,
    path = "/api/auth/signout",
    tag = "auth",
    responses(
        (status = 204, description = "signed out"),
        (status = 401, description = "not signed in"),
    )
)]
async fn sign_out(State(state): State<AppState>, me: CurrentUser) -> Result<Response, ApiError> {
    let mut conn = state.db.write.acquire().await?;
    sessions::revoke(&mut conn, me.session_id).await?;
    let cookie = HeaderValue::from_str(&clear_cookie(secure_cookies(&state)))
        .map_err(|e| ApiError::Internal(e.into()))?;
    Ok((StatusCode::NO_CONTENT, [(header::SET_COOKIE, cookie)]).into_response())
}
