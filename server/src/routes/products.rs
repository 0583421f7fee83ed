//! Products and their price history:
//! `GET /api/products/{marketplace}/{asin}` and `.../history?period=&granularity=`.
//!
//! Both carry an ETag made of the product's version (bumped in the same transaction as every
//! change, and at most once a minute for confirmations) and the minute, so a price change is
//! visible to every reader at once while unchanged answers are `304 Not Modified`. Charts
//! are cached per replica under the same key.

use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use pricewatch_core::history::{
    Chart, ChartQuery, Granularity, HistoryConfig, Period, PriceHistory, Stats,
};
use pricewatch_core::{Asin, Marketplace, Money, ProductKey, Span, Timestamp};
use serde::{Deserialize, Serialize};
use sqlx::AnyConnection;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::chart_cache::ETAG_MINUTE_MS;
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::{points, products};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(resolve))
        .routes(routes!(list_products))
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

/// The product's history from the start of `period`, on the connection the product was
/// read on: a cold chart costs one pool checkout, not two.
async fn history_of(
    conn: &mut AnyConnection,
    product: &products::Product,
    period: Period,
    now: Timestamp,
) -> Result<PriceHistory, ApiError> {
    let stored = points::since(conn, product.id, product.currency, fetch_from(period, now)).await?;
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
        now.as_millis().div_euclid(ETAG_MINUTE_MS)
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
    let tag = etag(&product, now, "");
    let cache_key = (product.id, tag.clone());
    if let Some(hit) = state.charts.get(&cache_key) {
        return cached_response(&headers, &tag, || Ok(hit));
    }
    let history = history_of(&mut conn, &product, Period::All, now).await?;
    drop(conn);
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
    /// `json` (default) or `csv` (a download: one row per bucket, gaps included).
    pub format: Option<String>,
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
    let csv = match params.format.as_deref().unwrap_or("json") {
        "json" => false,
        "csv" => true,
        other => {
            return Err(ApiError::field(
                "format",
                format!("unknown format {other:?}: expected json or csv"),
            ))
        }
    };
    let now = state.clock.now();
    let mut conn = state.db.read.acquire().await?;
    let product = products::find(&mut conn, &key)
        .await?
        .ok_or_else(|| not_found(&key))?;
    let variant = format!("-{period}-{granularity}{}", if csv { "-csv" } else { "" });
    let tag = etag(&product, now, &variant);
    if csv {
        let history = history_of(&mut conn, &product, period, now).await?;
        drop(conn);
        return csv_download(history, &key, period, granularity, now, &headers, &tag);
    }
    let cache_key = (product.id, tag.clone());
    if let Some(hit) = state.charts.get(&cache_key) {
        return cached_response(&headers, &tag, || Ok(hit));
    }
    let history = history_of(&mut conn, &product, period, now).await?;
    drop(conn);
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

/// Which list of products.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct ListParams {
    /// `drops` (recently dropped prices, default) or `watched` (most watched).
    pub sort: Option<String>,
    /// How many, 1–50 (default 12).
    pub limit: Option<i64>,
}

/// One product in a list.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ListedProduct {
    pub marketplace: String,
    pub asin: String,
    pub title: Option<String>,
    #[schema(value_type = Option<Object>)]
    pub current_price: Option<Money>,
    /// The price before the drop (for `sort=drops`).
    #[schema(value_type = Option<Object>)]
    pub previous_price: Option<Money>,
    /// How much cheaper than before, in percent (for `sort=drops`).
    pub drop_percent: Option<f64>,
    pub subscribers: i64,
    /// When the current price appeared (ms since the epoch).
    pub since: i64,
}

/// Recently dropped prices, or the most watched products, for the home page.
#[utoipa::path(
    get,
    path = "/api/products",
    tag = "products",
    params(ListParams),
    responses(
        (status = 200, description = "the list", body = Vec<ListedProduct>),
        (status = 400, description = "bad sort or limit"),
    )
)]
async fn list_products(
    State(state): State<AppState>,
    Query(params): Query<ListParams>,
) -> Result<crate::error::AppJson<Vec<ListedProduct>>, ApiError> {
    let limit = params.limit.unwrap_or(12);
    if !(1..=50).contains(&limit) {
        return Err(ApiError::field("limit", "limit must be between 1 and 50"));
    }
    let mut conn = state.db.read.acquire().await?;
    let listed = match params.sort.as_deref().unwrap_or("drops") {
        "drops" => products::recent_drops(&mut conn, limit).await?,
        "watched" => products::most_watched(&mut conn, limit).await?,
        other => {
            return Err(ApiError::field(
                "sort",
                format!("unknown sort {other:?}: expected drops or watched"),
            ))
        }
    };
    Ok(crate::error::AppJson(
        listed
            .into_iter()
            .map(|l| {
                let drop_percent = match (l.previous_price, l.product.current_price) {
                    (Some(before), Some(now)) if before.amount_minor > 0 => Some(
                        ((before.amount_minor - now.amount_minor) as f64 * 1000.0
                            / before.amount_minor as f64)
                            .round()
                            / 10.0,
                    ),
                    _ => None,
                };
                ListedProduct {
                    marketplace: l.product.key.marketplace.code().to_owned(),
                    asin: l.product.key.asin.to_string(),
                    title: l.product.title,
                    current_price: l.product.current_price,
                    previous_price: l.previous_price,
                    drop_percent,
                    subscribers: l.product.subscribers,
                    since: l.since,
                }
            })
            .collect(),
    ))
}

/// The history as a CSV attachment.
fn csv_download(
    history: PriceHistory,
    key: &ProductKey,
    period: Period,
    granularity: Granularity,
    now: Timestamp,
    headers: &HeaderMap,
    tag: &str,
) -> Result<Response, ApiError> {
    let chart = history
        .chart(
            ChartQuery {
                period,
                granularity,
            },
            &HistoryConfig::default(),
            now,
        )
        .map_err(|e| ApiError::field("granularity", e.to_string()))?;
    let body = Bytes::from(chart_csv(&chart));
    let mut response = cached_response(headers, tag, || Ok(body))?;
    let name = format!(
        "attachment; filename=\"pricewatch-{}-{}-{period}-{granularity}.csv\"",
        key.marketplace, key.asin
    );
    let out = response.headers_mut();
    out.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    if let Ok(v) = HeaderValue::from_str(&name) {
        out.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(response)
}

/// One CSV row per bucket: times in RFC 3339 UTC, prices as decimals of the currency, the gap
/// reason where there was no price.
fn chart_csv(chart: &Chart) -> String {
    let mut out = String::from("start,end,currency,open,close,min,max,avg,gap\n");
    let money = |minor: i64| Money::new(minor, chart.currency).decimal_string();
    for b in &chart.buckets {
        let (start, end) = (b.start.to_rfc3339(), b.end.to_rfc3339());
        match b.prices() {
            Some(p) => out.push_str(&format!(
                "{start},{end},{},{},{},{},{},{},\n",
                chart.currency,
                money(p.open),
                money(p.close),
                money(p.min),
                money(p.max),
                money(p.avg)
            )),
            None => {
                let gap = serde_json::to_value(b)
                    .ok()
                    .and_then(|v| v.get("gap").and_then(|g| g.as_str().map(str::to_owned)))
                    .unwrap_or_default();
                out.push_str(&format!("{start},{end},{},,,,,,{gap}\n", chart.currency));
            }
        }
    }
    out
}

/// What the "paste a URL or ASIN" box holds.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct ResolveParams {
    /// An Amazon product URL of any shape and marketplace, or a bare ASIN.
    pub q: String,
    /// The marketplace for a bare ASIN (default `us`).
    pub marketplace: Option<String>,
}

/// The product a pasted text names.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Resolved {
    pub marketplace: String,
    pub asin: String,
    /// The website's page for it.
    pub path: String,
}

/// Turn a pasted Amazon URL (any marketplace, any URL shape) or ASIN into a product, with
/// the same rules the extension and the crawler use.
#[utoipa::path(
    get,
    path = "/api/resolve",
    tag = "products",
    params(ResolveParams),
    responses(
        (status = 200, description = "the product", body = Resolved),
        (status = 400, description = "not an Amazon product URL or ASIN"),
    )
)]
async fn resolve(
    Query(params): Query<ResolveParams>,
) -> Result<crate::error::AppJson<Resolved>, ApiError> {
    let text = params.q.trim();
    let (marketplace, asin) = if let Ok(asin) = Asin::parse(text) {
        let marketplace = params
            .marketplace
            .as_deref()
            .unwrap_or("us")
            .parse::<Marketplace>()
            .map_err(|e| ApiError::field("marketplace", e.to_string()))?;
        (marketplace, asin)
    } else {
        let marketplace = Marketplace::from_url(text).map_err(|e| {
            ApiError::field("q", format!("not an Amazon product link or ASIN: {e}"))
        })?;
        let asin = Asin::from_url(text).map_err(|_| {
            ApiError::field("q", "this Amazon link names no product (no ASIN in it)")
        })?;
        (marketplace, asin)
    };
    Ok(crate::error::AppJson(Resolved {
        marketplace: marketplace.code().to_owned(),
        asin: asin.to_string(),
        path: format!("/p/{}/{}", marketplace.code(), asin),
    }))
}
