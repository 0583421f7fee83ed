//! Liveness, readiness and metrics for operators and load balancers.

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;

use crate::error::ApiError;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
}

/// The process is up.
async fn healthz() -> &'static str {
    "ok"
}

/// The process can serve: its database answers.
async fn readyz(State(state): State<AppState>) -> Result<&'static str, ApiError> {
    if state.db.ping().await {
        Ok("ready")
    } else {
        Err(ApiError::Unavailable("database unreachable".into()))
    }
}

/// Prometheus text exposition.
async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    crate::metrics::refresh_gauges(&state).await;
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.metrics.render(),
    )
}
