//! The fixture shop: a small local HTTP server that looks enough like Amazon for PriceWatch's
//! crawler, demos, benchmarks and extension tests, and that misbehaves on request.
//!
//! It serves product pages for every marketplace from one template in the markup of
//! `core/tests/pages/` (so the same extraction rules read them), with prices that change on a
//! script or through its admin API, an out-of-stock state, robot-check pages (the corpus's
//! own), slow answers, 503s and a `robots.txt`. It binds 127.0.0.1 only.
//!
//! # URLs
//! - `GET /dp/{asin}`: the product on the shop's default marketplace;
//!   `GET /{marketplace}/dp/{asin}`: on another one (`/de/dp/B0...`). So a crawler's
//!   per-marketplace base URL is `http://127.0.0.1:PORT` or `http://127.0.0.1:PORT/de`.
//! - `GET /robots.txt`.
//! - Admin (never logged): `GET /_shop/products`, `PUT /_shop/products/{marketplace}/{asin}`
//!   (a [`ProductState`]), `GET|PUT /_shop/mode` (a [`ModeUpdate`]), `GET /_shop/requests`,
//!   `DELETE /_shop/requests`.
//!
//! # Layout
//! - [`catalog`]: products, the script, failure modes, the request log.
//! - `render`: the page templates.
//! - `server`: the routes.

pub mod catalog;
mod render;
mod server;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use pricewatch_core::Marketplace;
use tokio::net::TcpListener;

pub use catalog::{Mode, ModeUpdate, ProductSpec, ProductState, RequestRecord, ScriptStep, Served};

/// The default `robots.txt`: everything but the admin API may be crawled.
pub const DEFAULT_ROBOTS: &str = "User-agent: *\nDisallow: /_shop/\n";

/// How to start a shop.
#[derive(Debug, Clone)]
pub struct ShopConfig {
    /// Port on 127.0.0.1; 0 picks a free one.
    pub port: u16,
    /// The marketplace served at `/dp/{asin}` (others are under `/{code}/dp/{asin}`).
    pub default_marketplace: Marketplace,
    pub products: Vec<ProductSpec>,
    pub script: Vec<ScriptStep>,
    /// Invent a product for any ASIN asked for (stable price per ASIN), for demos and
    /// benchmarks over many products.
    pub auto_catalog: bool,
    pub robots_txt: String,
    /// Requests kept in the log; the oldest go first.
    pub max_log: usize,
}

impl Default for ShopConfig {
    fn default() -> Self {
        ShopConfig {
            port: 0,
            default_marketplace: Marketplace::Us,
            products: Vec::new(),
            script: Vec::new(),
            auto_catalog: false,
            robots_txt: DEFAULT_ROBOTS.to_owned(),
            max_log: 100_000,
        }
    }
}

/// Why the shop could not start.
#[derive(Debug, thiserror::Error)]
pub enum ShopError {
    #[error("cannot listen on 127.0.0.1:{port}: {source}")]
    Bind { port: u16, source: std::io::Error },
}

/// State shared by the routes and the handle.
#[derive(Debug)]
pub(crate) struct Shared {
    pub started: Instant,
    pub default_marketplace: Marketplace,
    pub robots_txt: Mutex<String>,
    pub catalog: Mutex<catalog::Catalog>,
}

impl Shared {
    pub(crate) fn catalog(&self) -> MutexGuard<'_, catalog::Catalog> {
        // A panicking handler cannot leave the catalog half-written (every change is one
        // assignment), so a poisoned lock is still good to use.
        self.catalog.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// A running shop. Dropping it stops the server.
pub struct ShopHandle {
    addr: SocketAddr,
    shared: Arc<Shared>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

/// Start a shop on 127.0.0.1 in the current tokio runtime.
pub async fn spawn(config: ShopConfig) -> Result<ShopHandle, ShopError> {
    let listener = TcpListener::bind(("127.0.0.1", config.port))
        .await
        .map_err(|source| ShopError::Bind {
            port: config.port,
            source,
        })?;
    let addr = listener.local_addr().map_err(|source| ShopError::Bind {
        port: config.port,
        source,
    })?;
    let shared = Arc::new(Shared {
        started: Instant::now(),
        default_marketplace: config.default_marketplace,
        robots_txt: Mutex::new(config.robots_txt),
        catalog: Mutex::new(catalog::Catalog::new(
            config.products,
            config.script,
            config.auto_catalog,
            config.max_log.max(1),
        )),
    });
    let app = server::router(shared.clone());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let serve = axum::serve(listener, app).with_graceful_shutdown(async move {
            let _ = stopped.await;
        });
        if let Err(e) = serve.await {
            tracing::warn!(error = %e, "fixture shop stopped");
        }
    });
    Ok(ShopHandle {
        addr,
        shared,
        stop: Some(stop),
        task: Some(task),
    })
}

impl ShopHandle {
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`: the default marketplace's base URL and the host of all.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The base URL a crawler should use for `m`'s product pages.
    pub fn marketplace_url(&self, m: Marketplace) -> String {
        if m == self.shared.default_marketplace {
            self.base_url()
        } else {
            format!("{}/{}", self.base_url(), m.code())
        }
    }

    /// Every marketplace's base URL, as `crawler.base_urls` takes them.
    pub fn base_urls(&self) -> Vec<(Marketplace, String)> {
        Marketplace::ALL
            .into_iter()
            .map(|m| (m, self.marketplace_url(m)))
            .collect()
    }

    /// The page URL of a product.
    pub fn product_url(&self, m: Marketplace, asin: &str) -> String {
        format!("{}/dp/{asin}", self.marketplace_url(m))
    }

    /// Create or replace a product.
    pub fn set_product(&self, m: Marketplace, asin: &str, state: ProductState) {
        self.shared
            .catalog()
            .products
            .insert((m, asin.to_ascii_uppercase()), state);
    }

    /// Change a product's price (it is back in stock); an unknown product is created.
    pub fn set_price(&self, m: Marketplace, asin: &str, price_minor: i64) {
        let mut c = self.shared.catalog();
        let p = c
            .products
            .entry((m, asin.to_ascii_uppercase()))
            .or_insert_with(|| ProductState {
                title: format!("Fixture product {asin}"),
                price_minor: None,
                in_stock: true,
            });
        p.price_minor = Some(price_minor);
        p.in_stock = true;
    }

    /// Show the product as out of stock (no price).
    pub fn set_out_of_stock(&self, m: Marketplace, asin: &str) {
        if let Some(p) = self
            .shared
            .catalog()
            .products
            .get_mut(&(m, asin.to_ascii_uppercase()))
        {
            p.in_stock = false;
        }
    }

    /// The product as the shop would serve it now.
    pub fn product(&self, m: Marketplace, asin: &str) -> Option<ProductState> {
        self.shared
            .catalog()
            .products
            .get(&(m, asin.to_ascii_uppercase()))
            .cloned()
    }

    /// Change how product pages are answered; returns the mode now in force.
    pub fn set_mode(&self, update: &ModeUpdate) -> Mode {
        let mut c = self.shared.catalog();
        c.mode.apply(update);
        c.mode.clone()
    }

    pub fn mode(&self) -> Mode {
        self.shared.catalog().mode.clone()
    }

    /// Every logged request, oldest first.
    pub fn requests(&self) -> Vec<RequestRecord> {
        self.shared.catalog().log.iter().cloned().collect()
    }

    pub fn clear_requests(&self) {
        self.shared.catalog().log.clear();
    }

    pub fn set_robots_txt(&self, text: &str) {
        *self
            .shared
            .robots_txt
            .lock()
            .unwrap_or_else(|p| p.into_inner()) = text.to_owned();
    }

    /// Stop serving and wait for the server to finish.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for ShopHandle {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}
