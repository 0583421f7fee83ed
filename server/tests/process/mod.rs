//! Helpers for tests that run the real `pricewatch serve` binary as a child process: start it
//! on port 0 and read the address it prints, keep what it logs, signal it, wait for its exit;
//! fresh PostgreSQL databases; reports signed as the crawler.

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

use pricewatch_core::report::{Nonce, PriceReport};
use pricewatch_core::{Asin, Availability, Marketplace, Money, Timestamp};
use sqlx::Connection;

/// A running `pricewatch serve`.
pub struct ServerProcess {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    /// Everything it printed so far (stdout and stderr), line by line.
    log: Arc<Mutex<Vec<String>>>,
}

/// Settings every test server gets: no rate limits in the way of a load, plain log lines, no
/// crawler.
const QUIET_ENV: &[(&str, &str)] = &[
    ("PRICEWATCH_INGEST__PER_KEY_PER_MINUTE", "100000000"),
    ("PRICEWATCH_INGEST__PER_IP_PER_MINUTE", "100000000"),
    ("NO_COLOR", "1"),
    // The crawler would fetch from the real marketplaces.
    ("PRICEWATCH_CRAWLER__ENABLED", "false"),
];

impl ServerProcess {
    /// Start `pricewatch serve` on `database_url` with extra environment, and wait until it
    /// listens.
    pub fn spawn(database_url: &str, env: &[(&str, &str)]) -> ServerProcess {
        let mut command = Command::new(env!("CARGO_BIN_EXE_pricewatch"));
        // The server reads every PRICEWATCH_* variable as a setting: the test's own (such as
        // PRICEWATCH_TEST_PG) must not reach it.
        for (var, _) in std::env::vars() {
            if var.starts_with("PRICEWATCH_") || var == "DATABASE_URL" {
                command.env_remove(var);
            }
        }
        let mut child = command
            .args(["serve", "--bind", "127.0.0.1:0", "--database", database_url])
            .env("RUST_LOG", "info")
            .envs(QUIET_ENV.iter().copied())
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("pricewatch starts");
        let log = Arc::new(Mutex::new(Vec::new()));
        let stderr = child.stderr.take().expect("piped stderr");
        let sink = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                sink.lock().unwrap_or_else(|p| p.into_inner()).push(line);
            }
        });
        // Logs go to stdout (tracing's default), beside the line that names the address.
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, rx) = mpsc::channel();
        let sink = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(addr) = line.strip_prefix("PriceWatch listening on ") {
                    let _ = tx.send(addr.trim().to_owned());
                }
                sink.lock().unwrap_or_else(|p| p.into_inner()).push(line);
            }
        });
        let base = match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(base) => base,
            Err(_) => {
                let _ = child.kill();
                let log = log.lock().unwrap_or_else(|p| p.into_inner()).join("\n");
                panic!("pricewatch serve did not start listening:\n{log}");
            }
        };
        ServerProcess { child, base, log }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// What the server logged so far.
    pub fn log(&self) -> Vec<String> {
        self.log.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Wait until a logged line contains every one of `needles`.
    pub async fn wait_for_log(&self, needles: &[&str], timeout: Duration) {
        let until = Instant::now() + timeout;
        while !self
            .log()
            .iter()
            .any(|l| needles.iter().all(|n| l.contains(n)))
        {
            assert!(
                Instant::now() < until,
                "no log line with {needles:?}:\n{}",
                self.log().join("\n")
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    /// Send SIGTERM, as an orchestrator does to stop a replica.
    pub fn terminate(&self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.pid().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success(), "kill -TERM {}", self.pid());
    }

    /// Wait for the process to exit, at most `timeout`.
    pub async fn wait_exit(&mut self, timeout: Duration) -> ExitStatus {
        let until = Instant::now() + timeout;
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                return status;
            }
            assert!(
                Instant::now() < until,
                "pricewatch did not exit within {timeout:?}:\n{}",
                self.log().join("\n")
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// The local PostgreSQL server (`PRICEWATCH_TEST_PG`, default trust auth on 127.0.0.1).
pub fn pg_admin_url() -> String {
    std::env::var("PRICEWATCH_TEST_PG")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into())
}

/// A fresh PostgreSQL database, dropped (with its connections) when this is dropped.
pub struct PgDatabase {
    pub url: String,
    name: String,
}

impl PgDatabase {
    pub async fn create(prefix: &str) -> PgDatabase {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let name = format!("{prefix}_{}_{nanos}", std::process::id());
        let admin = pg_admin_url();
        let mut conn = sqlx::PgConnection::connect(&admin)
            .await
            .unwrap_or_else(|e| panic!("PostgreSQL at {admin} is needed for this test: {e}"));
        sqlx::query(&format!("CREATE DATABASE \"{name}\""))
            .execute(&mut conn)
            .await
            .expect("create database");
        PgDatabase {
            url: format!("{admin}/{name}"),
            name,
        }
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        let (admin, name) = (pg_admin_url(), self.name.clone());
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async move {
                if let Ok(mut conn) = sqlx::PgConnection::connect(&admin).await {
                    let _ =
                        sqlx::query(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                            .execute(&mut conn)
                            .await;
                }
            });
        })
        .join();
    }
}

/// Now, by the system clock the server processes also read.
pub fn now() -> Timestamp {
    Timestamp::from_millis(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as i64),
    )
}

/// A signed report as the API takes it; `price_minor` `None` is "out of stock".
pub fn signed_report(
    seed: &[u8; 32],
    nonce: u128,
    marketplace: Marketplace,
    asin: &str,
    price_minor: Option<i64>,
    observed_at: Timestamp,
) -> serde_json::Value {
    let currency = marketplace.currency();
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
        nonce: Nonce::from_bytes(nonce.to_be_bytes()),
    };
    serde_json::to_value(report.sign(seed)).expect("serializable")
}

/// Register `seed`'s key through `server` and make it the crawler's identity.
pub async fn register_crawler(server: &ServerProcess, database_url: &str, seed: &[u8; 32]) {
    let key = pricewatch_core::report::ReporterKey::from_seed(seed).to_string();
    let res = reqwest::Client::new()
        .post(server.url("/api/reporters"))
        .json(&serde_json::json!({ "public_key": key }))
        .send()
        .await
        .expect("register");
    assert!(res.status().is_success(), "register: {}", res.status());
    let db = pricewatch_server::db::Db::connect(database_url)
        .await
        .expect("db");
    sqlx::query("UPDATE reporters SET kind = 'crawler' WHERE public_key = $1")
        .bind(&key)
        .execute(&db.write)
        .await
        .expect("make crawler");
}

/// Give each product (created if unknown) a subscriber of its own, with a threshold no price
/// reaches, as `POST /api/subscriptions` would store it: ingest writes "price changed"
/// events only for products someone watches, and the alert worker matches them.
pub async fn watch(database_url: &str, marketplace: Marketplace, asins: &[String]) {
    let db = pricewatch_server::db::Db::connect(database_url)
        .await
        .expect("db");
    let mut tx = db.write.begin().await.expect("begin");
    let currency = marketplace.currency().code();
    // A subscription's state before it has seen a price, as the API stores it.
    let fresh_state = serde_json::to_string(&pricewatch_core::alert::AlertState::new(None))
        .expect("serializable");
    for asin in asins {
        let email = format!("watcher-{}-{asin}@example.org", marketplace.code()).to_lowercase();
        for (statement, binds) in [
            (
                "INSERT INTO products (marketplace, asin, currency, created_at, updated_at) \
                 VALUES ($1, $2, $3, 0, 0) ON CONFLICT (marketplace, asin) DO NOTHING",
                vec![marketplace.code(), asin.as_str(), currency],
            ),
            (
                "INSERT INTO users (email, created_at, updated_at) VALUES ($1, 0, 0)",
                vec![email.as_str()],
            ),
            (
                "INSERT INTO subscriptions (user_id, product_id, target_kind, threshold, \
                 currency, rearm_above, state, created_at, updated_at) \
                 SELECT u.id, p.id, 'at_or_below', 1, p.currency, 1, $1, 0, 0 \
                 FROM users u, products p \
                 WHERE u.email = $2 AND p.marketplace = $3 AND p.asin = $4",
                vec![
                    fresh_state.as_str(),
                    email.as_str(),
                    marketplace.code(),
                    asin.as_str(),
                ],
            ),
            (
                "UPDATE products SET subscribers = subscribers + 1 \
                 WHERE marketplace = $1 AND asin = $2",
                vec![marketplace.code(), asin.as_str()],
            ),
        ] {
            let mut q = sqlx::query(statement);
            for b in binds {
                q = q.bind(b);
            }
            q.execute(&mut *tx).await.expect(statement);
        }
    }
    tx.commit().await.expect("commit");
}
