//! `spawn_app`: a real server on port 0 with a fresh database per test.
//!
//! SQLite tests get a temporary file; PostgreSQL tests create a database named for the test
//! on the local server (`PRICEWATCH_TEST_PG`, default `postgres://postgres@127.0.0.1:5432`)
//! and drop it when the test ends, pass or fail.

use std::sync::Arc;

use pricewatch_core::Timestamp;
use pricewatch_server::app::Application;
use pricewatch_server::clock::ManualClock;
use pricewatch_server::config::Settings;
use sqlx::Connection;

/// Which database a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

/// 2025-01-01T00:00:00Z: tests run on a fixed clock.
pub const T0: Timestamp = Timestamp::from_millis(1_735_689_600_000);

pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    pub clock: ManualClock,
    pub database_url: String,
    /// The running server's state, for tests that drive services (the crawler) by hand.
    pub state: pricewatch_server::state::AppState,
    _guard: DbGuard,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub async fn post_json(&self, path: &str, body: &serde_json::Value) -> reqwest::Response {
        self.client
            .post(self.url(path))
            .json(body)
            .send()
            .await
            .expect("request reaches the server")
    }

    pub fn clock_now(&self) -> Timestamp {
        use pricewatch_server::clock::Clock;
        self.clock.now()
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .send()
            .await
            .expect("request reaches the server")
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// Drops the test's PostgreSQL database (or removes its SQLite folder) when the test ends.
pub struct DbGuard {
    pg_name: Option<String>,
    _dir: Option<tempfile::TempDir>,
}

impl Drop for DbGuard {
    fn drop(&mut self) {
        if let Some(name) = self.pg_name.take() {
            // Drop runs outside any runtime guarantee; a thread with its own runtime is safe.
            let admin = pg_admin_url();
            let _ = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("runtime");
                rt.block_on(async move {
                    if let Ok(mut conn) = sqlx::PgConnection::connect(&admin).await {
                        let _ = sqlx::query(&format!(
                            "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
                        ))
                        .execute(&mut conn)
                        .await;
                    }
                });
            })
            .join();
        }
    }
}

pub fn pg_admin_url() -> String {
    std::env::var("PRICEWATCH_TEST_PG")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into())
}

/// A unique database name per test process and call.
fn unique_name() -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    format!(
        "pw_test_{}_{}_{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos())
    )
}

/// A fresh database URL for `engine`, and the guard that removes it.
pub async fn fresh_database(engine: Engine) -> (String, DbGuard) {
    match engine {
        Engine::Sqlite => {
            let dir = tempfile::tempdir().expect("temp dir");
            let url = format!("sqlite://{}", dir.path().join("pw.db").display());
            (
                url,
                DbGuard {
                    pg_name: None,
                    _dir: Some(dir),
                },
            )
        }
        Engine::Postgres => {
            let name = unique_name();
            let admin = pg_admin_url();
            let mut conn = sqlx::PgConnection::connect(&admin)
                .await
                .unwrap_or_else(|e| panic!("PostgreSQL at {admin} is needed for these tests: {e}"));
            sqlx::query(&format!("CREATE DATABASE \"{name}\""))
                .execute(&mut conn)
                .await
                .expect("create test database");
            (
                format!("{admin}/{name}"),
                DbGuard {
                    pg_name: Some(name),
                    _dir: None,
                },
            )
        }
    }
}

/// Start a server on `engine` with `tweak` applied to its settings.
pub async fn spawn_app_with(engine: Engine, tweak: impl FnOnce(&mut Settings)) -> TestApp {
    let (database_url, guard) = fresh_database(engine).await;
    spawn_on(database_url, guard, tweak).await
}

/// A second server on `first`'s database, as another replica would be: its own state and
/// clock, the same rows. The database lives as long as `first`.
pub async fn spawn_replica(first: &TestApp, tweak: impl FnOnce(&mut Settings)) -> TestApp {
    let guard = DbGuard {
        pg_name: None,
        _dir: None,
    };
    spawn_on(first.database_url.clone(), guard, tweak).await
}

async fn spawn_on(
    database_url: String,
    guard: DbGuard,
    tweak: impl FnOnce(&mut Settings),
) -> TestApp {
    let mut settings = Settings {
        bind: "127.0.0.1:0".parse().expect("addr"),
        database_url: database_url.clone(),
        ..Settings::default()
    };
    // The website's files, wherever the tests run from.
    settings.web.root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../www");
    // Tests never crawl the real Amazon: crawler tests turn it on and point it at the
    // fixture shop.
    settings.crawler.enabled = false;
    tweak(&mut settings);
    let clock = ManualClock::new(T0);
    let app = Application::build_with_clock(settings, Arc::new(clock.clone()))
        .await
        .expect("application builds");
    let base = format!("http://{}", app.local_addr());
    let state = app.state().clone();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(app.run_until(async move {
        let _ = rx.await;
    }));
    TestApp {
        base,
        client: website_client(),
        clock,
        database_url,
        state,
        _guard: guard,
        shutdown: Some(tx),
    }
}

/// A client that sends what the website's `api()` sends on every request: the CSRF header
/// that cookie-authenticated unsafe requests need. Tests of the CSRF check itself use a
/// bare `reqwest::Client`.
pub fn website_client() -> reqwest::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(
        "x-pricewatch-csrf",
        reqwest::header::HeaderValue::from_static("1"),
    );
    reqwest::Client::builder()
        .default_headers(headers)
        .build()
        .expect("a client")
}

pub async fn spawn_app(engine: Engine) -> TestApp {
    spawn_app_with(engine, |_| {}).await
}

/// `both_engines!(name, body)`: the test `name` run once on SQLite and once on PostgreSQL.
#[macro_export]
macro_rules! both_engines {
    ($name:ident, $body:expr) => {
        mod $name {
            use super::*;
            #[tokio::test]
            async fn sqlite() {
                ($body)($crate::support::Engine::Sqlite).await
            }
            #[tokio::test]
            async fn postgres() {
                ($body)($crate::support::Engine::Postgres).await
            }
        }
    };
}

/// A reporter that signs reports with a fixed seed, as the extension does.
pub struct Signer {
    pub seed: [u8; 32],
    next_nonce: std::cell::Cell<u128>,
}

impl Signer {
    pub fn new(n: u8) -> Signer {
        Signer {
            seed: [n; 32],
            next_nonce: std::cell::Cell::new(u128::from(n) << 64 | 1),
        }
    }

    pub fn public_key(&self) -> String {
        pricewatch_core::report::ReporterKey::from_seed(&self.seed).to_string()
    }

    /// A signed report as the API takes it.
    pub fn report(
        &self,
        marketplace: &str,
        asin: &str,
        price_minor: Option<i64>,
        observed_at: Timestamp,
    ) -> serde_json::Value {
        use pricewatch_core::report::{Nonce, PriceReport};
        use pricewatch_core::{Asin, Availability, Marketplace, Money};
        let marketplace: Marketplace = marketplace.parse().expect("marketplace");
        let currency = marketplace.currency();
        let n = self.next_nonce.get();
        self.next_nonce.set(n + 1);
        let report = PriceReport {
            marketplace,
            asin: Asin::parse(asin).expect("asin"),
            price: price_minor.map(|m| Money::new(m, currency)),
            currency,
            availability: if price_minor.is_some() {
                Availability::InStock
            } else {
                Availability::OutOfStock
            },
            observed_at,
            client_version: "test-1.0".into(),
            nonce: Nonce::from_bytes(n.to_be_bytes()),
        };
        serde_json::to_value(report.sign(&self.seed)).expect("serializable")
    }
}

impl TestApp {
    /// Register the signer's key through the API.
    pub async fn register(&self, signer: &Signer) {
        let res = self
            .post_json(
                "/api/reporters",
                &serde_json::json!({"public_key": signer.public_key()}),
            )
            .await;
        assert!(res.status().is_success(), "register: {}", res.status());
    }

    /// Give the signer a long, clean record (as months of confirmed reports would).
    pub async fn make_trusted(&self, signer: &Signer) {
        self.register(signer).await;
        self.sql(&format!(
            "UPDATE reporters SET confirmed = 200, created_at = {} WHERE public_key = '{}'",
            (T0.as_millis() - 365 * 86_400_000),
            signer.public_key()
        ))
        .await;
    }

    /// Make the signer the crawler's identity.
    pub async fn make_crawler(&self, signer: &Signer) {
        self.register(signer).await;
        self.sql(&format!(
            "UPDATE reporters SET kind = 'crawler' WHERE public_key = '{}'",
            signer.public_key()
        ))
        .await;
    }

    /// Subscribe a new user to the product, through the same code as `POST
    /// /api/subscriptions`, with a threshold no price reaches: ingest writes "price changed"
    /// events only for products someone watches. Returns the subscription id.
    pub async fn watch(&self, marketplace: &str, asin: &str) -> i64 {
        let email = format!("watcher-{marketplace}-{asin}@example.org").to_lowercase();
        self.sql(&format!(
            "INSERT INTO users (email, created_at, updated_at) VALUES ('{email}', 0, 0)"
        ))
        .await;
        let user_id = self
            .count(&format!("SELECT id FROM users WHERE email = '{email}'"))
            .await;
        let body = pricewatch_server::subscriptions::CreateSubscription {
            marketplace: marketplace.into(),
            asin: asin.into(),
            threshold_minor: Some(1),
            drop_percent: None,
            back_in_stock: false,
        };
        pricewatch_server::subscriptions::create(&self.state, user_id, &body)
            .await
            .expect("subscribed")
            .id
    }

    pub async fn post_reports(&self, reports: Vec<serde_json::Value>) -> reqwest::Response {
        self.post_json("/api/reports", &serde_json::json!({ "reports": reports }))
            .await
    }

    /// Run a statement on the test's database (set-up only; assertions go through the API
    /// where the API can tell).
    pub async fn sql(&self, statement: &str) {
        let db = pricewatch_server::db::Db::connect(&self.database_url)
            .await
            .expect("db");
        sqlx::query(statement)
            .execute(&db.write)
            .await
            .expect(statement);
    }

    /// One number from the test's database.
    pub async fn count(&self, query: &str) -> i64 {
        let db = pricewatch_server::db::Db::connect(&self.database_url)
            .await
            .expect("db");
        sqlx::query_scalar(query)
            .fetch_one(&db.read)
            .await
            .expect(query)
    }
}
