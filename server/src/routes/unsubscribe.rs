//! `GET` and `POST /api/unsubscribe/{token}`: the signed link in every alert email, working
//! without sign-in.
//!
//! `POST` unsubscribes: it is what mail clients send for RFC 8058 one-click unsubscribe
//! (`List-Unsubscribe=One-Click` in a form body). `GET` only shows a page with the button,
//! because mail scanners open links in emails and must not unsubscribe anyone by doing so.

use axum::extract::{Path, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::alerts::matching::lock_product;
use crate::auth::UnsubscribeToken;
use crate::error::ApiError;
use crate::mail::templates::escape_html;
use crate::state::AppState;
use crate::store::subscriptions;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(confirm_page, unsubscribe))
}

fn html(status: StatusCode, body: &str) -> Response {
    (
        status,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/html; charset=utf-8"),
        )],
        format!(
            "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>PriceWatch</title>\
             <meta name=\"viewport\" content=\"width=device-width\"></head>\
             <body style=\"font-family:sans-serif;max-width:480px;margin:40px auto\">{body}</body></html>"
        ),
    )
        .into_response()
}

fn verify(state: &AppState, token: &str) -> Result<UnsubscribeToken, ApiError> {
    state
        .secrets
        .verify_unsubscribe(token)
        .ok_or_else(|| ApiError::NotFound("this unsubscribe link is not valid".into()))
}

/// A page with the unsubscribe button (does not change anything).
#[utoipa::path(
    get,
    path = "/api/unsubscribe/{token}",
    tag = "subscriptions",
    params(("token" = String, Path, description = "the signed token from the email")),
    responses(
        (status = 200, description = "an HTML page with a confirm button", content_type = "text/html"),
        (status = 404, description = "not a valid link"),
    )
)]
async fn confirm_page(
    State(state): State<AppState>,
    Path(token): Path<String>,
) -> Result<Response, ApiError> {
    let what = verify(&state, &token)?;
    let action = match what {
        UnsubscribeToken::Subscription(_) => "Stop alerts for this product",
        UnsubscribeToken::AllOf(_) => "Pause all my alerts",
    };
    Ok(html(
        StatusCode::OK,
        &format!(
            "<form method=\"post\" action=\"/api/unsubscribe/{}\">\
             <input type=\"hidden\" name=\"List-Unsubscribe\" value=\"One-Click\">\
             <button type=\"submit\" style=\"font-size:18px;padding:8px 16px\">{action}</button></form>",
            escape_html(&token)
        ),
    ))
}

/// Unsubscribe: a product link deletes that subscription; a digest's link pauses all of the
/// user's subscriptions. Doing it twice is fine.
#[utoipa::path(
    post,
    path = "/api/unsubscribe/{token}",
    tag = "subscriptions",
    params(("token" = String, Path, description = "the signed token from the email")),
    responses(
        (status = 200, description = "unsubscribed (or already)", content_type = "text/html"),
        (status = 404, description = "not a valid link"),
    )
)]
async fn unsubscribe(
    State(state): State<AppState>,
    Path(token): Path<String>,
) -> Result<Response, ApiError> {
    let what = verify(&state, &token)?;
    let backend = state.db.backend;
    let mut tx = state.db.write.begin().await?;
    let message = match what {
        UnsubscribeToken::Subscription(id) => {
            let product: Option<i64> =
                sqlx::query_scalar("SELECT product_id FROM subscriptions WHERE id = $1")
                    .bind(id)
                    .fetch_optional(&mut *tx)
                    .await?;
            if let Some(product_id) = product {
                lock_product(&mut tx, backend, product_id).await?;
                if let Some(row) = subscriptions::get_locked(&mut tx, backend, id).await? {
                    crate::subscriptions::delete_row(&mut tx, &row).await?;
                    tracing::info!(subscription_id = id, "unsubscribed by link");
                }
            }
            "You will get no more alerts for this product."
        }
        UnsubscribeToken::AllOf(user_id) => {
            sqlx::query(
                "UPDATE products SET subscribers = CASE WHEN subscribers > 0 THEN subscribers - 1 ELSE 0 END \
                 WHERE id IN (SELECT product_id FROM subscriptions WHERE user_id = $1 AND paused = 0)",
            )
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
            sqlx::query("UPDATE subscriptions SET paused = 1, wake_at = NULL WHERE user_id = $1")
                .bind(user_id)
                .execute(&mut *tx)
                .await?;
            tracing::info!(user_id, "all alerts paused by link");
            "All your alerts are paused. Resume them from your account."
        }
    };
    tx.commit().await?;
    Ok(html(StatusCode::OK, &format!("<p>{message}</p>")))
}
