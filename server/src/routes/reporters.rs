//! `POST /api/reporters`: register the public key a browser signs its reports with.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, State};
use axum::http::StatusCode;
use pricewatch_core::report::ReporterKey;
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::{ApiError, AppJson};
use crate::state::AppState;
use crate::store::reporters::{self, Reporter};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(register))
}

/// A key to register.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct RegisterReporter {
    /// The Ed25519 public key, 64 hex digits.
    pub public_key: String,
}

/// Register a reporter key. Anonymous: the key is the identity. Registering a known key again
/// returns it unchanged (200), so an extension can retry safely.
#[utoipa::path(
    post,
    path = "/api/reporters",
    tag = "reporters",
    request_body = RegisterReporter,
    responses(
        (status = 201, description = "registered", body = Reporter),
        (status = 200, description = "already registered", body = Reporter),
        (status = 400, description = "malformed key"),
        (status = 429, description = "too many registrations from this address"),
    )
)]
async fn register(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    AppJson(body): AppJson<RegisterReporter>,
) -> Result<(StatusCode, AppJson<Reporter>), ApiError> {
    let now = state.clock.now();
    state
        .limits
        .check(
            &format!("register:{}", peer.ip()),
            1,
            state.settings.ingest.per_ip_per_minute,
            now,
        )
        .map_err(|retry_after_secs| ApiError::RateLimited { retry_after_secs })?;
    let key = ReporterKey::parse(&body.public_key)
        .map_err(|e| ApiError::field("public_key", e.to_string()))?;
    let (reporter, created) = reporters::register(&state.db.write, &key, "extension", now).await?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, AppJson(reporter)))
}
