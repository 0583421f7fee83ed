//! `POST/GET /api/subscriptions`, `GET/PATCH/DELETE /api/subscriptions/{id}`: a user's
//! price alerts. Another user's subscription answers 404, as if it did not exist.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Serialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::CurrentUser;
use crate::error::{ApiError, AppJson};
use crate::state::AppState;
use crate::subscriptions::{self, ChangeSubscription, CreateSubscription, SubscriptionView};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create, list))
        .routes(routes!(get_one, change, delete))
}

/// Subscribe to a product's price. An unknown product is created and its first crawl
/// queued.
#[utoipa::path(
    post,
    path = "/api/subscriptions",
    tag = "subscriptions",
    request_body = CreateSubscription,
    responses(
        (status = 201, description = "subscribed", body = SubscriptionView),
        (status = 400, description = "a field is invalid"),
        (status = 401, description = "not signed in"),
        (status = 409, description = "already subscribed to this product, or the per-user limit is reached"),
    )
)]
async fn create(
    State(state): State<AppState>,
    me: CurrentUser,
    AppJson(body): AppJson<CreateSubscription>,
) -> Result<(StatusCode, AppJson<SubscriptionView>), ApiError> {
    let view = subscriptions::create(&state, me.user.id, &body).await?;
    Ok((StatusCode::CREATED, AppJson(view)))
}

/// The signed-in user's subscriptions.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SubscriptionList {
    pub subscriptions: Vec<SubscriptionView>,
}

/// The signed-in user's subscriptions, oldest first.
#[utoipa::path(
    get,
    path = "/api/subscriptions",
    tag = "subscriptions",
    responses(
        (status = 200, description = "the subscriptions", body = SubscriptionList),
        (status = 401, description = "not signed in"),
    )
)]
async fn list(
    State(state): State<AppState>,
    me: CurrentUser,
) -> Result<AppJson<SubscriptionList>, ApiError> {
    Ok(AppJson(SubscriptionList {
        subscriptions: subscriptions::list(&state, me.user.id).await?,
    }))
}

/// One subscription.
#[utoipa::path(
    get,
    path = "/api/subscriptions/{id}",
    tag = "subscriptions",
    params(("id" = i64, Path, description = "subscription id")),
    responses(
        (status = 200, description = "the subscription", body = SubscriptionView),
        (status = 401, description = "not signed in"),
        (status = 404, description = "no such subscription of yours"),
    )
)]
async fn get_one(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(id): Path<i64>,
) -> Result<AppJson<SubscriptionView>, ApiError> {
    Ok(AppJson(subscriptions::get(&state, me.user.id, id).await?))
}

/// Change the threshold or percentage, back-in-stock, or pause / resume.
#[utoipa::path(
    patch,
    path = "/api/subscriptions/{id}",
    tag = "subscriptions",
    params(("id" = i64, Path, description = "subscription id")),
    request_body = ChangeSubscription,
    responses(
        (status = 200, description = "the subscription after the change", body = SubscriptionView),
        (status = 400, description = "a field is invalid"),
        (status = 401, description = "not signed in"),
        (status = 404, description = "no such subscription of yours"),
    )
)]
async fn change(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(id): Path<i64>,
    AppJson(body): AppJson<ChangeSubscription>,
) -> Result<AppJson<SubscriptionView>, ApiError> {
    Ok(AppJson(
        subscriptions::change(&state, me.user.id, id, &body).await?,
    ))
}

/// Delete a subscription.
#[utoipa::path(
    delete,
    path = "/api/subscriptions/{id}",
    tag = "subscriptions",
    params(("id" = i64, Path, description = "subscription id")),
    responses(
        (status = 204, description = "deleted"),
        (status = 401, description = "not signed in"),
        (status = 404, description = "no such subscription of yours"),
    )
)]
async fn delete(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(id): Path<i64>,
) -> Result<StatusCode, ApiError> {
    subscriptions::delete(&state, me.user.id, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
