//! The `/api` routes and the OpenAPI document generated from the same registrations.

use axum::routing::get;
use axum::{Json, Router};
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;

use crate::state::AppState;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "PriceWatch API",
        description = "Signed price reports in; price history, products and alerts out."
    ),
    tags(
        (name = "reporters", description = "Reporter keys that sign price reports"),
        (name = "reports", description = "Signed price reports from browsers and the crawler"),
        (name = "products", description = "Products, current prices and price history"),
        (name = "auth", description = "Sign-in by emailed code or link; sessions"),
        (name = "account", description = "The signed-in user: settings, export, deletion"),
        (name = "subscriptions", description = "Price alerts and unsubscribe links"),
        (name = "notifications", description = "Alerts sent, their delivery, test messages"),
        (name = "admin", description = "The review queue and the crawler's jobs and hosts (admins only)"),
    )
)]
struct ApiDoc;

/// The API routes, plus `/api/openapi.json` describing exactly them.
pub fn router() -> Router<AppState> {
    let (router, doc) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(super::reporters::router())
        .merge(super::reports::router())
        .merge(super::products::router())
        .merge(super::auth::router())
        .merge(super::account::router())
        .merge(super::subscriptions::router())
        .merge(super::notifications::router())
        .merge(super::unsubscribe::router())
        .merge(super::channels::router())
        .merge(super::admin::router())
        .merge(crate::crawler::routes::router())
        .split_for_parts();
    let doc = std::sync::Arc::new(doc);
    router.route(
        "/api/openapi.json",
        get(move || {
            let doc = doc.clone();
            async move { Json((*doc).clone()) }
        }),
    )
}
