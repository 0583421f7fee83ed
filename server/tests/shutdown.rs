//! Graceful shutdown of the real `pricewatch serve` process: SIGTERM while a slow request is
//! in flight lets that request finish (200, its data committed) and the process exit 0.

#![allow(clippy::unwrap_used)]

mod process;

use std::time::Duration;

use pricewatch_core::{Marketplace, Span};
use process::{now, register_crawler, signed_report, ServerProcess};
use serde_json::{json, Value};

const CRAWLER: [u8; 32] = [78; 32];
/// Enough reports (each on a new product) that the request takes a good while to verify
/// and store.
const REPORTS: usize = 1_500;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_lets_a_slow_batch_finish_and_exits_zero() {
    // Arrange: a server that takes big batches, and a big batch signed ahead of time.
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("pw.db").display());
    let mut server = ServerProcess::spawn(
        &url,
        &[
            ("PRICEWATCH_INGEST__MAX_BATCH", "5000"),
            ("PRICEWATCH_INGEST__MAX_BODY_BYTES", "16777216"),
            // The request's start and end are logged by the HTTP trace layer.
            ("RUST_LOG", "info,tower_http=debug"),
        ],
    );
    register_crawler(&server, &url, &CRAWLER).await;
    let at = now() - Span::minutes(1);
    let reports: Vec<Value> = (0..REPORTS)
        .map(|i| {
            let asin = format!("B0SHUT{i:04}");
            signed_report(
                &CRAWLER,
                i as u128 + 1,
                Marketplace::De,
                &asin,
                Some(1_999),
                at,
            )
        })
        .collect();
    let body = json!({ "reports": reports });

    // Act: start the request, and once the server is working on it, SIGTERM the process.
    let request = tokio::spawn({
        let url = server.url("/api/reports");
        async move {
            reqwest::Client::new()
                .post(url)
                .json(&body)
                .send()
                .await
                .unwrap()
        }
    });
    server
        .wait_for_log(
            &["uri=/api/reports", "started processing request"],
            Duration::from_secs(30),
        )
        .await;
    server.terminate();
    let response = request.await.unwrap();
    let status = response.status();
    let answer: Value = response.json().await.unwrap();
    let exit = server.wait_exit(Duration::from_secs(60)).await;

    // Assert: the request finished whole, after the shutdown began, and the exit was clean.
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["results"].as_array().unwrap().len(), REPORTS);
    assert!(exit.success(), "exit status {exit:?}");
    let log = server.log();
    let position = |needles: &[&str]| {
        log.iter()
            .position(|l| needles.iter().all(|n| l.contains(n)))
            .unwrap_or_else(|| panic!("no {needles:?} in the log:\n{}", log.join("\n")))
    };
    assert!(
        position(&["shutting down"])
            < position(&["uri=/api/reports", "finished processing request"]),
        "the request was still in flight when the signal came:\n{}",
        log.join("\n")
    );
    let db = pricewatch_server::db::Db::connect(&url).await.unwrap();
    let stored: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM reports")
        .fetch_one(&db.read)
        .await
        .unwrap();
    assert_eq!(stored, REPORTS as i64, "the batch was committed");
}
