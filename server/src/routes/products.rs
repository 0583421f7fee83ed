//! Products and their price history:
//! `GET /api/products/{marketplace}/{asin}` and `.../history?period=&granularity=`.
//!
//! Both carry an ETag made of the product's version (bumped in the same transaction as every
//! change) and the minute, so a price change is visible to every reader at once while
//! unchanged answers are `304 Not Modified`. Charts are cached per replica under the same key.

use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use pricewatch_core::history::{
    Chart, ChartQuery, Granularity, HistoryConfig, Period, PriceHistory, Stats,
};
use pricewatch_core::{Asin, Marketplace, Money, ProductKey, Span, Timestamp};
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::ApiError;
use crate::state::AppState;
use crate::store::{points, products};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_product))
        .routes(routes!(get_history))
}

/// How long clients and proxies may reuse an answer without asking again.
const MAX_AGE_SECS: u32 = 30;

/// A product page's data.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ProductView {
    pub marketplace: String,
    pub asin: String,
    pub title: Option<String>,
    /// The product on Amazon.
    pub url: String,
    pub currency: String,
    /// Minor units of `currency`; null when no price is shown (out of stock).
    #[schema(value_type = Option<Object>)]
    pub current_price: Option<Money>,
    pub availability: String,
    /// People with an alert on this product.
    pub subscribers: i64,
    /// When the history last changed or was confirmed (ms since the epoch).
    pub updated_at: i64,
    /// Lowest, highest, average, all-time low and its date, over all history.
    #[schema(value_type = Option<Object>)]
    pub stats: Option<Stats>,
}

/// Parsed path parameters, with errors that name the field.
fn product_key(marketplace: &str, asin: &str) -> Result<ProductKey, ApiError> {
    Ok(ProductKey {
        marketplace: marketplace
            .parse::<Marketplace>()
            .map_err(|e| ApiError::field("marketplace", e.to_string()))?,
        asin: Asin::parse(asin).map_err(|e| ApiError::field("asin", e.to_string()))?,
    })
}

fn not_found(key: &ProductKey) -> ApiError {
    ApiError::NotFound(format!(
        "no history for {} on {} yet",
        key.asin, key.marketplace
    ))
}

/// The earliest time a period can need, so the query fetches a superset and core clips it.
fn fetch_from(period: Period, now: Timestamp) -> Timestamp {
    match period {
        Period::Days30 => now - Span::days(31),
        Period::Days90 => now - Span::days(91),
        Period::Year => now - Span::days(367),
        Period::All => Timestamp::from_millis(i64::MIN),
    }
}

async fn history_of(
    state: &AppState,
    product: &products::Product,
    period: Period,
    now: Timestamp,
) -> Result<PriceHistory, ApiError> {
    let mut conn = state.db.read.acquire().await?;
    let stored = points::since(
        &mut conn,
        product.id,
        product.currency,
        fetch_from(period, now),
    )
    .await?;
    PriceHistory::new(
        product.currency,
        stored.into_iter().map(|p| p.point).collect(),
    )
    .map_err(|e| {
        ApiError::Internal(anyhow::anyhow!(
            "stored history of product {}: {e}",
            product.id
        ))
    })
}

/// `W/"<product id>-<version>-<minute>[-<variant>]"`.
fn etag(product: &products::Product, now: Timestamp, variant: &str) -> String {
    format!(
        "W/\"{}-{}-{}{variant}\"",
        product.id,
        product.version,
        now.as_millis().div_euclid(60_000)
    )
}

/// `304` when the client already has this version, else the body with caching headers.
fn cached_response(
    headers: &HeaderMap,
    tag: &str,
    body: impl FnOnce() -> Result<Bytes, ApiError>,
) -> Result<Response, ApiError> {
    let tag_value = HeaderValue::from_str(tag).map_err(|e| ApiError::Internal(e.into()))?;
    let cache_control = HeaderValue::from_str(&format!("public, max-age={MAX_AGE_SECS}"))
        .map_err(|e| ApiError::Internal(e.into()))?;
    let matches = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == tag || t.trim() == "*"));
    if matches {
        return Ok((
            StatusCode::NOT_MODIFIED,
            [
                (header::ETAG, tag_value),
                (header::CACHE_CONTROL, cache_control),
            ],
        )
            .into_response());
    }
    let bytes = body()?;
    Ok((
        [
            (header::ETAG, tag_value),
            (header::CACHE_CONTROL, cache_control),
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            ),
        ],
        Body::from(bytes),
    )
        .into_response())
}

/// A product's current price, availability and all-time statistics.
#[utoipa::path(
    get,
    path = "/api/products/{marketplace}/{asin}",
    tag = "products",
    params(
        ("marketplace" = String, Path, description = "us, ca, mx, br, uk, de, fr, it, es, nl, se, pl, tr, ae, sa, in, jp, au, sg"),
        ("asin" = String, Path, description = "10-character ASIN"),
    ),
    responses(
        (status = 200, description = "the product", body = ProductView),
        (status = 304, description = "unchanged since the ETag in If-None-Match"),
        (status = 400, description = "bad marketplace or ASIN"),
        (status = 404, description = "never seen"),
    )
)]
async fn get_product(
    State(state): State<AppState>,
    Path((marketplace, asin)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let key = product_key(&marketplace, &asin)?;
    let now = state.clock.now();
    let mut conn = state.db.read.acquire().await?;
    let product = products::find(&mut conn, &key)
        .await?
        .ok_or_else(|| not_found(&key))?;
    drop(conn);
    let tag = etag(&product, now, "");
    let cache_key = (product.id, tag.clone());
    if let Some(hit) = state.charts.get(&cache_key) {
        return cached_response(&headers, &tag, || Ok(hit));
    }
    let history = history_of(&state, &product, Period::All, now).await?;
    let view = ProductView {
        marketplace: key.marketplace.code().to_owned(),
        asin: key.asin.to_string(),
        title: product.title.clone(),
        url: key.marketplace.product_url(&key.asin),
        currency: product.currency.code().to_owned(),
        current_price: product.current_price,
        availability: product.availability.as_str().to_owned(),
        subscribers: product.subscribers,
        updated_at: product.updated_at,
        stats: history.stats(Period::All, &HistoryConfig::default(), now),
    };
    let bytes = Bytes::from(serde_json::to_vec(&view).map_err(|e| ApiError::Internal(e.into()))?);
    state.charts.put(cache_key, bytes.clone());
    cached_response(&headers, &tag, || Ok(bytes))
}

/// The chart query string.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct HistoryParams {
    /// `30d`, `90d`, `1y` (default) or `all`.
    pub period: Option<String>,
    /// `raw`, `hourly`, `daily` (default), `weekly` or `monthly`.
    pub granularity: Option<String>,
}

/// Price history for a chart: per-bucket open/close/min/max/average with gaps kept as gaps.
#[utoipa::path(
    get,
    path = "/api/products/{marketplace}/{asin}/history",
    tag = "products",
    params(
        ("marketplace" = String, Path, description = "marketplace code"),
        ("asin" = String, Path, description = "10-character ASIN"),
        HistoryParams,
    ),
    responses(
        (status = 200, description = "the chart data", body = Object),
        (status = 304, description = "unchanged since the ETag in If-None-Match"),
        (status = 400, description = "bad marketplace, ASIN, period or granularity, or too many buckets"),
        (status = 404, description = "never seen"),
    )
)]
async fn get_history(
    State(state): State<AppState>,
    Path((marketplace, asin)): Path<(String, String)>,
    Query(params): Query<HistoryParams>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let key = product_key(&marketplace, &asin)?;
    let period: Period = params.period.as_deref().unwrap_or("1y").parse().map_err(
        |e: pricewatch_core::history::UnknownPeriod| ApiError::field("period", e.to_string()),
    )?;
    let granularity: Granularity = params
        .granularity
        .as_deref()
        .unwrap_or("daily")
        .parse()
        .map_err(|e: pricewatch_core::history::UnknownGranularity| {
            ApiError::field("granularity", e.to_string())
        })?;
    let now = state.clock.now();
    let mut conn = state.db.read.acquire().await?;
    let product = products::find(&mut conn, &key)
        .await?
        .ok_or_else(|| not_found(&key))?;
    drop(conn);
    let tag = etag(&product, now, &format!("-{period}-{granularity}"));
    let cache_key = (product.id, tag.clone());
    if let Some(hit) = state.charts.get(&cache_key) {
        return cached_response(&headers, &tag, || Ok(hit));
    }
    let history = history_of(&state, &product, period, now).await?;
    let chart: Chart = history
        .chart(
            ChartQuery {
                period,
                granularity,
            },
            &HistoryConfig::default(),
            now,
        )
        .map_err(|e| ApiError::field("granularity", e.to_string()))?;
    let bytes = Bytes::from(serde_json::to_vec(&chart).map_err(|e| ApiError::Internal(e.into()))?);
    state.charts.put(cache_key, bytes.clone());
    cached_response(&headers, &tag, || Ok(bytes))
}
