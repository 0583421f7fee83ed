//! The shop's routes: product pages and `robots.txt` (logged), and the admin API (not logged).

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, put};
use axum::{Json, Router};
use pricewatch_core::Marketplace;
use serde_json::json;

use crate::catalog::{ModeUpdate, ProductState, RequestRecord, Served};
use crate::render;
use crate::Shared;

type AppState = Arc<Shared>;

pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/robots.txt", get(robots))
        .route("/dp/{asin}", get(default_product))
        .route("/{marketplace}/dp/{asin}", get(product))
        .route("/_shop/products", get(list_products))
        .route("/_shop/products/{marketplace}/{asin}", put(put_product))
        .route("/_shop/mode", get(get_mode).put(put_mode))
        .route("/_shop/requests", get(list_requests).delete(clear_requests))
        .with_state(shared)
}

fn record(shared: &Shared, path: String, status: StatusCode, served: Served, headers: &HeaderMap) {
    let at_unix_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
    let since_start_us = u64::try_from(shared.started.elapsed().as_micros()).unwrap_or(u64::MAX);
    let user_agent = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    shared.catalog().record(RequestRecord {
        path,
        status: status.as_u16(),
        served,
        at_unix_ms,
        since_start_us,
        user_agent,
    });
}

fn html(status: StatusCode, body: String) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        body,
    )
        .into_response()
}

async fn robots(State(shared): State<AppState>, headers: HeaderMap) -> Response {
    let text = shared
        .robots_txt
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .clone();
    record(
        &shared,
        "/robots.txt".into(),
        StatusCode::OK,
        Served::Robots,
        &headers,
    );
    ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], text).into_response()
}

async fn default_product(
    State(shared): State<AppState>,
    Path(asin): Path<String>,
    headers: HeaderMap,
) -> Response {
    let m = shared.default_marketplace;
    serve_product(shared, m, asin.clone(), format!("/dp/{asin}"), headers).await
}

async fn product(
    State(shared): State<AppState>,
    Path((marketplace, asin)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let path = format!("/{marketplace}/dp/{asin}");
    match marketplace.parse::<Marketplace>() {
        Ok(m) => serve_product(shared, m, asin, path, headers).await,
        Err(_) => {
            let m = shared.default_marketplace;
            record(
                &shared,
                path,
                StatusCode::NOT_FOUND,
                Served::NotFound,
                &headers,
            );
            html(StatusCode::NOT_FOUND, render::not_found(m))
        }
    }
}

/// What a product request gets, decided under the lock; rendering happens outside it.
enum Answer {
    RobotCheck,
    Unavailable,
    ServerError,
    NotFound,
    Page(ProductState),
}

async fn serve_product(
    shared: AppState,
    m: Marketplace,
    asin: String,
    path: String,
    headers: HeaderMap,
) -> Response {
    let elapsed_ms = u64::try_from(shared.started.elapsed().as_millis()).unwrap_or(u64::MAX);
    let (answer, delay_ms) = {
        let mut c = shared.catalog();
        c.run_script(elapsed_ms);
        let delay = c.mode.delay_ms;
        let answer = if c.mode.unavailable || c.mode.unavailable_next > 0 {
            c.mode.unavailable_next = c.mode.unavailable_next.saturating_sub(1);
            Answer::Unavailable
        } else if c.mode.robot_check || c.mode.robot_check_next > 0 {
            c.mode.robot_check_next = c.mode.robot_check_next.saturating_sub(1);
            Answer::RobotCheck
        } else if c.mode.error_next > 0 {
            c.mode.error_next -= 1;
            Answer::ServerError
        } else {
            match c.product(m, &asin) {
                Some(p) => Answer::Page(p),
                None => Answer::NotFound,
            }
        };
        (answer, delay)
    };
    let (status, served) = match &answer {
        Answer::RobotCheck => (StatusCode::OK, Served::RobotCheck),
        Answer::Unavailable => (StatusCode::SERVICE_UNAVAILABLE, Served::Unavailable),
        Answer::ServerError => (StatusCode::INTERNAL_SERVER_ERROR, Served::ServerError),
        Answer::NotFound => (StatusCode::NOT_FOUND, Served::NotFound),
        Answer::Page(_) => (StatusCode::OK, Served::Product),
    };
    // Logged on arrival, so the log shows when the crawler asked, not when a slow answer left.
    record(&shared, path, status, served, &headers);
    if delay_ms > 0 {
        tokio::time::sleep(Duration::from_millis(delay_ms)).await;
    }
    match answer {
        Answer::RobotCheck => html(status, render::robot_check(m).to_owned()),
        Answer::Unavailable => (
            status,
            [(header::RETRY_AFTER, "5")],
            "503 Service Unavailable",
        )
            .into_response(),
        Answer::ServerError => (status, "500 Internal Server Error").into_response(),
        Answer::NotFound => html(status, render::not_found(m)),
        Answer::Page(p) => html(
            status,
            render::product_page(m, &asin.to_ascii_uppercase(), &p),
        ),
    }
}

fn bad_request(message: String) -> Response {
    (
        StatusCode::BAD_REQUEST,
        Json(json!({"error": "bad_request", "message": message})),
    )
        .into_response()
}

async fn list_products(State(shared): State<AppState>) -> Response {
    let c = shared.catalog();
    let mut all: Vec<_> = c
        .products
        .iter()
        .map(|((m, asin), p)| json!({"marketplace": m, "asin": asin, "title": p.title, "price_minor": p.price_minor, "in_stock": p.in_stock}))
        .collect();
    all.sort_by_key(|v| v.to_string());
    Json(all).into_response()
}

async fn put_product(
    State(shared): State<AppState>,
    Path((marketplace, asin)): Path<(String, String)>,
    body: Result<Json<ProductState>, axum::extract::rejection::JsonRejection>,
) -> Response {
    let m = match marketplace.parse::<Marketplace>() {
        Ok(m) => m,
        Err(e) => return bad_request(e.to_string()),
    };
    if pricewatch_core::Asin::parse(&asin).is_err() {
        return bad_request(format!("{asin:?} is not an ASIN"));
    }
    let Json(state) = match body {
        Ok(b) => b,
        Err(e) => return bad_request(e.body_text()),
    };
    shared
        .catalog()
        .products
        .insert((m, asin.to_ascii_uppercase()), state.clone());
    Json(state).into_response()
}

async fn get_mode(State(shared): State<AppState>) -> Response {
    Json(shared.catalog().mode.clone()).into_response()
}

async fn put_mode(
    State(shared): State<AppState>,
    body: Result<Json<ModeUpdate>, axum::extract::rejection::JsonRejection>,
) -> Response {
    let Json(update) = match body {
        Ok(b) => b,
        Err(e) => return bad_request(e.body_text()),
    };
    let mut c = shared.catalog();
    c.mode.apply(&update);
    Json(c.mode.clone()).into_response()
}

async fn list_requests(State(shared): State<AppState>) -> Response {
    let log: Vec<RequestRecord> = shared.catalog().log.iter().cloned().collect();
    Json(log).into_response()
}

async fn clear_requests(State(shared): State<AppState>) -> StatusCode {
    shared.catalog().log.clear();
    StatusCode::NO_CONTENT
}
