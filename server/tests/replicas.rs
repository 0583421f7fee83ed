//! Two real `pricewatch serve` processes on one PostgreSQL database, as two API replicas
//! behind a load balancer: concurrent reports for the same products never lose an update,
//! never double an outbox event, and never deadlock.

#![allow(clippy::unwrap_used)]

mod process;

use std::sync::Arc;

use pricewatch_core::{Marketplace, Span};
use process::{now, register_crawler, signed_report, watch, PgDatabase, ServerProcess};
use serde_json::{json, Value};
use sqlx::Row;

/// Two crawler identities: every batch names both, in one order or the other, so batches
/// also lock reporter rows in both orders.
const CRAWLERS: [[u8; 32]; 2] = [[77; 32], [79; 32]];
const ASINS: [&str; 2] = ["B0REPLICA1", "B0REPLICA2"];
/// Reports per product; with batches of `BATCH` they make 150 requests.
const REPORTS: usize = 300;
const BATCH: usize = 4;
const CONCURRENCY: usize = 12;

/// The price the `i`-th observation of a product shows: runs of equal prices, changes and
/// out-of-stock moments, so both "extend" and "new point" race.
fn price(i: usize) -> Option<i64> {
    if i % 11 == 5 {
        None
    } else {
        Some([10_000, 9_000, 9_000, 11_000, 11_000, 11_000][i % 6])
    }
}

/// Post one batch of reports; the status and the body.
async fn post_batch(
    client: &reqwest::Client,
    server: &ServerProcess,
    batch: Vec<Value>,
) -> (reqwest::StatusCode, String) {
    let res = client
        .post(server.url("/api/reports"))
        .json(&json!({ "reports": batch }))
        .send()
        .await
        .unwrap();
    let status = res.status();
    (status, res.text().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_never_lose_an_update_nor_double_an_event() {
    // Arrange: one database, two server processes migrating it at the same time.
    let db = PgDatabase::create("pw_replicas").await;
    let (a, b) = (db.url.clone(), db.url.clone());
    let (a, b) = tokio::join!(
        tokio::task::spawn_blocking(move || ServerProcess::spawn(&a, &[])),
        tokio::task::spawn_blocking(move || ServerProcess::spawn(&b, &[])),
    );
    let servers = Arc::new([a.unwrap(), b.unwrap()]);
    for seed in &CRAWLERS {
        register_crawler(&servers[0], &db.url, seed).await;
    }
    // Watched, so that every new point gets its event.
    watch(&db.url, Marketplace::Us, &ASINS.map(String::from)).await;

    // Every observation of both products, one second apart, in the last ten minutes. A batch
    // names both products, in one order or the other, so batches lock them in both orders.
    let start = now() - Span::minutes(10);
    let mut nonce = 1_u128;
    let mut batches: Vec<Vec<Value>> = Vec::new();
    for chunk in (0..REPORTS).collect::<Vec<_>>().chunks(BATCH / 2) {
        let mut batch = Vec::new();
        for &i in chunk {
            for (a, asin) in ASINS.iter().enumerate() {
                let at = start + Span::seconds(i as i64);
                batch.push(signed_report(
                    &CRAWLERS[(i + a) % 2],
                    nonce,
                    Marketplace::Us,
                    asin,
                    price(i),
                    at,
                ));
                nonce += 1;
            }
        }
        if batches.len() % 2 == 1 {
            batch.reverse();
        }
        batches.push(batch);
    }
    // Neighbours in time go to different replicas and different workers, so they race.
    let queue = Arc::new(std::sync::Mutex::new(batches.into_iter().enumerate()));

    // Act: post every batch concurrently to both replicas.
    let client = reqwest::Client::new();
    let workers: Vec<_> = (0..CONCURRENCY)
        .map(|_| {
            let (queue, servers, client) = (queue.clone(), servers.clone(), client.clone());
            tokio::spawn(async move {
                loop {
                    let next = queue.lock().unwrap().next();
                    let Some((n, batch)) = next else { break };
                    let server = &servers[n % 2];
                    let (status, body) = post_batch(&client, server, batch).await;
                    assert_eq!(
                        status,
                        200,
                        "batch {n} on replica {}: {body}\n{}",
                        n % 2,
                        server.log().join("\n")
                    );
                }
            })
        })
        .collect();
    for w in workers {
        w.await.unwrap();
    }

    // Assert, per product, from what is stored.
    let pool = pricewatch_server::db::Db::connect(&db.url)
        .await
        .unwrap()
        .read;
    for asin in ASINS {
        let product =
            sqlx::query("SELECT id, current_price, current_point_id FROM products WHERE asin = $1")
                .bind(asin)
                .fetch_one(&pool)
                .await
                .unwrap();
        let id: i64 = product.get("id");
        let statuses: Vec<(String, i64)> = sqlx::query(
            "SELECT status, COUNT(*) AS n FROM reports WHERE product_id = $1 GROUP BY status",
        )
        .bind(id)
        .fetch_all(&pool)
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get("status"), r.get("n")))
        .collect();
        let stored: i64 = statuses.iter().map(|(_, n)| n).sum();
        assert_eq!(
            stored, REPORTS as i64,
            "every report is stored once: {statuses:?}"
        );
        assert!(
            statuses
                .iter()
                .all(|(s, _)| s == "published" || s == "stale"),
            "{statuses:?}"
        );

        // The published reports, in observation order, collapse into runs of equal prices:
        // exactly one point per run, spanning it.
        let published: Vec<(Option<i64>, String, i64)> = sqlx::query(
            "SELECT price, availability, observed_at FROM reports \
             WHERE product_id = $1 AND status = 'published' ORDER BY observed_at",
        )
        .bind(id)
        .fetch_all(&pool)
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get("price"), r.get("availability"), r.get("observed_at")))
        .collect();
        let mut runs: Vec<(Option<i64>, String, i64, i64)> = Vec::new();
        for (p, av, at) in published {
            match runs.last_mut() {
                Some(run) if run.0 == p && run.1 == av => run.3 = at,
                _ => runs.push((p, av, at, at)),
            }
        }
        let points: Vec<(i64, Option<i64>, String, i64, i64)> = sqlx::query(
            "SELECT id, price, availability, first_seen_at, last_seen_at FROM price_points \
             WHERE product_id = $1 ORDER BY first_seen_at",
        )
        .bind(id)
        .fetch_all(&pool)
        .await
        .unwrap()
        .iter()
        .map(|r| {
            (
                r.get("id"),
                r.get("price"),
                r.get("availability"),
                r.get("first_seen_at"),
                r.get("last_seen_at"),
            )
        })
        .collect();
        let as_runs: Vec<_> = points
            .iter()
            .map(|(_, p, av, first, last)| (*p, av.clone(), *first, *last))
            .collect();
        assert_eq!(as_runs, runs, "{asin}: no lost update");
        assert!(
            runs.len() > 10,
            "{asin}: the history moved ({} points)",
            runs.len()
        );

        // One outbox event per new point, never two.
        let events: Vec<i64> = sqlx::query_scalar(
            "SELECT price_point_id FROM outbox_events WHERE product_id = $1 ORDER BY price_point_id",
        )
        .bind(id)
        .fetch_all(&pool)
        .await
        .unwrap();
        let mut point_ids: Vec<i64> = points.iter().map(|p| p.0).collect();
        point_ids.sort_unstable();
        assert_eq!(events, point_ids, "{asin}: exactly one event per point");

        // The product shows the newest point.
        let newest = points.last().unwrap();
        assert_eq!(product.get::<Option<i64>, _>("current_price"), newest.1);
        assert_eq!(
            product.get::<Option<i64>, _>("current_point_id"),
            Some(newest.0)
        );
    }
}

/// Batches on both replicas that first report the same new products at once, each beside
/// products that exist, in varying orders: every batch is answered 200 (a batch PostgreSQL
/// fails to break a deadlock between such creations runs again), and each product exists
/// once with every report stored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batches_creating_the_same_new_products_at_once_all_succeed() {
    const ROUNDS: usize = 6;
    const NEW_PER_ROUND: usize = 8;
    const EXISTING: usize = 6;
    const BATCHES_PER_ROUND: usize = 12;
    let db = PgDatabase::create("pw_creations").await;
    let (a, b) = (db.url.clone(), db.url.clone());
    let (a, b) = tokio::join!(
        tokio::task::spawn_blocking(move || ServerProcess::spawn(&a, &[])),
        tokio::task::spawn_blocking(move || ServerProcess::spawn(&b, &[])),
    );
    let servers = Arc::new([a.unwrap(), b.unwrap()]);
    let seed = [83; 32];
    register_crawler(&servers[0], &db.url, &seed).await;
    let client = reqwest::Client::new();
    let mut nonce = 1_u128;
    let at = now() - Span::minutes(1);
    let existing: Vec<String> = (0..EXISTING).map(|i| format!("B0EXIST{i:03}")).collect();
    let first: Vec<Value> = existing
        .iter()
        .map(|asin| {
            nonce += 1;
            signed_report(&seed, nonce, Marketplace::Us, asin, Some(5_000), at)
        })
        .collect();
    let (status, body) = post_batch(&client, &servers[0], first).await;
    assert_eq!(status, 200, "{body}");

    let mut posted = 0_i64;
    for round in 0..ROUNDS {
        let fresh: Vec<String> = (0..NEW_PER_ROUND)
            .map(|i| format!("B0NEW{round:02}{i:03}"))
            .collect();
        let mut requests = Vec::new();
        for n in 0..BATCHES_PER_ROUND {
            // The new products and the existing ones interleaved, rotated and sometimes
            // reversed, so batches take them in different orders.
            let mut asins: Vec<&String> = fresh.iter().chain(existing.iter()).collect();
            let len = asins.len();
            asins.rotate_left(n % len);
            if n % 2 == 1 {
                asins.reverse();
            }
            let batch: Vec<Value> = asins
                .into_iter()
                .map(|asin| {
                    nonce += 1;
                    signed_report(&seed, nonce, Marketplace::Us, asin, Some(5_000), at)
                })
                .collect();
            posted += batch.len() as i64;
            let (client, servers) = (client.clone(), servers.clone());
            requests.push(tokio::spawn(async move {
                let (status, body) = post_batch(&client, &servers[n % 2], batch).await;
                assert_eq!(status, 200, "round {round} batch {n}: {body}");
            }));
        }
        for r in requests {
            r.await.unwrap();
        }
    }

    let pool = pricewatch_server::db::Db::connect(&db.url)
        .await
        .unwrap()
        .read;
    let products: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM products")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(products, (EXISTING + ROUNDS * NEW_PER_ROUND) as i64);
    let reports: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM reports")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(reports, EXISTING as i64 + posted);
}
