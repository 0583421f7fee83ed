//! The website: static pages from `www/` and the wasm chart module from `dist/pkg`, served by
//! the same process as the API, with the security headers every page gets.
//!
//! Product pages have shareable paths (`/p/{marketplace}/{asin}`): the server answers them with
//! the product page, whose script reads the path.

use axum::http::{header, HeaderValue};
use axum::Router;
use tower_http::services::{ServeDir, ServeFile};
use tower_http::set_header::SetResponseHeaderLayer;

use crate::config::WebSettings;
use crate::state::AppState;

/// Scripts only from us (plus compiling our own wasm), no framing, no inline code: product
/// titles are untrusted text and must never become markup or script.
const CSP: &str = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; \
                   style-src 'self'; img-src 'self' data: https://m.media-amazon.com; \
                   connect-src 'self'; object-src 'none'; base-uri 'none'; \
                   form-action 'self'; frame-ancestors 'none'";

/// The website's page of a product, as links in emails name it (the route below).
pub fn product_path(marketplace: &str, asin: &str) -> String {
    format!("/p/{marketplace}/{asin}")
}

/// Routes for the website's files.
pub fn router(web: &WebSettings) -> Router<AppState> {
    let page = |name: &str| ServeFile::new(web.root.join(name));
    Router::new()
        .route_service("/", page("index.html"))
        .route_service("/p/{marketplace}/{asin}", page("product.html"))
        .route_service("/alerts", page("alerts.html"))
        .route_service("/signin", page("signin.html"))
        .route_service("/account", page("account.html"))
        .route_service("/admin", page("admin.html"))
        .route_service("/admin/crawl", page("crawl.html"))
        // Browsers ask for it on pages that name no icon; a 404 there is console noise.
        .route_service("/favicon.ico", page("favicon.svg"))
        // `cargo xtask build-wasm` writes `.gz` copies: the wasm module goes out compressed.
        .nest_service("/pkg", ServeDir::new(&web.pkg).precompressed_gzip())
        .fallback_service(ServeDir::new(&web.root))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CSP),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::REFERRER_POLICY,
            HeaderValue::from_static("strict-origin-when-cross-origin"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
}
