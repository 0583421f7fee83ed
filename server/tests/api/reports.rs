//! `POST /api/reports`: verification, judgement, change-only storage, outbox.

use pricewatch_core::Span;
use serde_json::{json, Value};

use crate::both_engines;
use crate::support::{spawn_app, spawn_app_with, Engine, Signer, T0};

const ASIN: &str = "B08N5WRWNW";

both_engines!(
    a_first_report_is_published_and_verified,
    |engine: Engine| async move {
        let app = spawn_app(engine).await;
        let alice = Signer::new(1);
        app.register(&alice).await;
        app.watch("us", ASIN).await;

        let res = app
            .post_reports(vec![alice.report("us", ASIN, Some(99_900), T0)])
            .await;

        assert_eq!(res.status(), 200);
        let body: Value = res.json().await.unwrap();
        let r = &body["results"][0];
        assert_eq!(r["index"], 0);
        assert_eq!(r["status"], "accepted");
        assert_eq!(r["decision"], "accept_and_verify");
        assert_eq!(app.count("SELECT COUNT(*) FROM price_points").await, 1);
        assert_eq!(app.count("SELECT COUNT(*) FROM outbox_events").await, 1);
        assert_eq!(
            app.count("SELECT COUNT(*) FROM crawl_jobs WHERE kind = 'verify'")
                .await,
            1
        );
        assert_eq!(
            app.count("SELECT current_price FROM products").await,
            99_900
        );
    }
);

both_engines!(
    an_unchanged_price_extends_the_point_without_an_event,
    |engine: Engine| async move {
        let app = spawn_app(engine).await;
        let bot = Signer::new(2);
        app.make_crawler(&bot).await;
        app.watch("de", ASIN).await;
        let first = app
            .post_reports(vec![bot.report("de", ASIN, Some(1_999), T0)])
            .await;
        assert_eq!(first.status(), 200);
        app.clock.advance(Span::hours(1));

        let again = app
            .post_reports(vec![bot.report(
                "de",
                ASIN,
                Some(1_999),
                T0 + Span::hours(1),
            )])
            .await;

        assert_eq!(again.status(), 200);
        assert_eq!(app.count("SELECT COUNT(*) FROM price_points").await, 1);
        assert_eq!(app.count("SELECT COUNT(*) FROM outbox_events").await, 1);
        assert_eq!(
            app.count("SELECT last_seen_at FROM price_points").await,
            (T0 + Span::hours(1)).as_millis()
        );
    }
);

both_engines!(
    only_products_someone_watches_get_price_changed_events,
    |engine: Engine| async move {
        // Three products: one watched, one watched by a paused subscription (matching still
        // moves its state), one nobody watches until its second price.
        let app = spawn_app(engine).await;
        let bot = Signer::new(7);
        app.make_crawler(&bot).await;
        let [watched, paused, later] = ["B0WATCHED1", "B0WATCHED2", "B0WATCHED3"];
        app.watch("us", watched).await;
        let id = app.watch("us", paused).await;
        // Paused as `PATCH /api/subscriptions` pauses: the judge's count leaves it.
        app.sql(&format!(
            "UPDATE subscriptions SET paused = 1 WHERE id = {id}"
        ))
        .await;
        app.sql(&format!(
            "UPDATE products SET subscribers = 0 WHERE asin = '{paused}'"
        ))
        .await;
        let events = |asin: &'static str| {
            let query = format!(
                "SELECT COUNT(*) FROM outbox_events e JOIN products p ON p.id = e.product_id \
                 WHERE p.asin = '{asin}' AND e.kind = 'price_changed'"
            );
            let app = &app;
            async move { app.count(&query).await }
        };
        let first: Vec<Value> = [watched, paused, later]
            .iter()
            .map(|a| bot.report("us", a, Some(1_000), T0))
            .collect();
        assert_eq!(app.post_reports(first).await.status(), 200);
        assert_eq!(
            (
                events(watched).await,
                events(paused).await,
                events(later).await
            ),
            (1, 1, 0)
        );

        // Act: `later` gets a subscriber; then every price changes.
        app.watch("us", later).await;
        app.clock.advance(Span::hours(1));
        let second: Vec<Value> = [watched, paused, later]
            .iter()
            .map(|a| bot.report("us", a, Some(900), T0 + Span::hours(1)))
            .collect();
        assert_eq!(app.post_reports(second).await.status(), 200);

        // Assert: one event per new point of a watched product.
        assert_eq!(app.count("SELECT COUNT(*) FROM price_points").await, 6);
        assert_eq!(
            (
                events(watched).await,
                events(paused).await,
                events(later).await
            ),
            (2, 2, 1)
        );
        let payload: String = sqlx::query_scalar(&format!(
            "SELECT e.payload FROM outbox_events e JOIN products p ON p.id = e.product_id \
             WHERE p.asin = '{later}'"
        ))
        .fetch_one(&app.state.db.read)
        .await
        .unwrap();
        let payload: Value = serde_json::from_str(&payload).unwrap();
        assert_eq!(payload["old_price"], 1_000, "{payload}");
        assert_eq!(payload["new_price"], 900, "{payload}");
    }
);

both_engines!(
    a_confirmation_moves_the_point_and_the_version_only_once_a_minute,
    |engine: Engine| async move {
        let app = spawn_app(engine).await;
        let bot = Signer::new(20);
        app.make_crawler(&bot).await;
        let post = |at| app.post_reports(vec![bot.report("de", ASIN, Some(1_999), at)]);
        assert_eq!(post(T0).await.status(), 200);
        let version = || app.count("SELECT version FROM products");
        let last_seen = || app.count("SELECT last_seen_at FROM price_points");
        let (v0, etag0) = (version().await, etag(&app).await);

        // 30 s later: the point says so at once, the product row is left alone, and the
        // answers cached for this minute stay valid.
        app.clock.advance(Span::seconds(30));
        assert_eq!(post(T0 + Span::seconds(30)).await.status(), 200);
        assert_eq!(last_seen().await, (T0 + Span::seconds(30)).as_millis());
        assert_eq!(version().await, v0);
        assert_eq!(etag(&app).await, etag0);

        // A minute after the product was last written, the version moves too.
        app.clock.advance(Span::seconds(30));
        assert_eq!(post(T0 + Span::minutes(1)).await.status(), 200);
        assert_eq!(last_seen().await, (T0 + Span::minutes(1)).as_millis());
        assert_eq!(version().await, v0 + 1);

        // A change moves it at once, whatever the minute.
        app.clock.advance(Span::seconds(1));
        let res = app
            .post_reports(vec![bot.report(
                "de",
                ASIN,
                Some(1_899),
                T0 + Span::seconds(61),
            )])
            .await;
        assert_eq!(res.status(), 200);
        assert_eq!(version().await, v0 + 2);
        assert_eq!(app.count("SELECT COUNT(*) FROM price_points").await, 2);
    }
);

/// The ETag of the product's history.
async fn etag(app: &crate::support::TestApp) -> String {
    let res = app
        .get(&format!("/api/products/de/{ASIN}/history?period=30d"))
        .await;
    assert_eq!(res.status(), 200);
    res.headers()["etag"].to_str().unwrap().to_owned()
}

both_engines!(
    a_trusted_five_percent_drop_is_accepted_at_once,
    |engine: Engine| async move {
        let app = spawn_app(engine).await;
        let bot = Signer::new(3);
        let trusted = Signer::new(4);
        app.make_crawler(&bot).await;
        app.make_trusted(&trusted).await;
        app.watch("us", ASIN).await;
        app.post_reports(vec![bot.report(
            "us",
            ASIN,
            Some(10_000),
            T0 - Span::hours(2),
        )])
        .await;

        let res = app
            .post_reports(vec![trusted.report("us", ASIN, Some(9_500), T0)])
            .await;

        let body: Value = res.json().await.unwrap();
        assert_eq!(body["results"][0]["decision"], "accept", "{body}");
        assert_eq!(app.count("SELECT current_price FROM products").await, 9_500);
        assert_eq!(app.count("SELECT COUNT(*) FROM outbox_events").await, 2);
    }
);

both_engines!(
    a_fresh_key_cannot_publish_a_one_cent_iphone,
    |engine: Engine| async move {
        let app = spawn_app(engine).await;
        let bot = Signer::new(5);
        let mallory = Signer::new(6);
        app.make_crawler(&bot).await;
        app.register(&mallory).await;
        app.watch("us", ASIN).await;
        app.post_reports(vec![bot.report(
            "us",
            ASIN,
            Some(99_900),
            T0 - Span::hours(1),
        )])
        .await;
        app.sql("UPDATE products SET subscribers = 5000").await;

        let res = app
            .post_reports(vec![mallory.report("us", ASIN, Some(1), T0)])
            .await;

        let body: Value = res.json().await.unwrap();
        let status = body["results"][0]["status"].as_str().unwrap().to_owned();
        assert!(status == "held" || status == "rejected", "{body}");
        assert_eq!(
            app.count("SELECT current_price FROM products").await,
            99_900
        );
        assert_eq!(app.count("SELECT COUNT(*) FROM outbox_events").await, 1);
    }
);

/// The batch is refused whole and nothing is stored.
async fn assert_refused(
    app: &crate::support::TestApp,
    res: reqwest::Response,
    status: u16,
    code: &str,
    field: &str,
) {
    assert_eq!(res.status(), status);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"], code, "{body}");
    assert_eq!(body["field"], field, "{body}");
    assert_eq!(app.count("SELECT COUNT(*) FROM reports").await, 0);
    assert_eq!(app.count("SELECT COUNT(*) FROM price_points").await, 0);
}

both_engines!(
    a_bad_signature_refuses_the_batch_and_stores_nothing,
    |engine: Engine| async move {
        let app = spawn_app(engine).await;
        let alice = Signer::new(7);
        app.register(&alice).await;
        let good = alice.report("us", ASIN, Some(1_000), T0);
        let mut forged = alice.report("us", ASIN, Some(1_000), T0);
        forged["report"]["price"]["amount_minor"] = json!(1);

        let res = app.post_reports(vec![good, forged]).await;

        assert_refused(&app, res, 400, "bad_signature", "reports[1].signature").await;
    }
);

both_engines!(
    a_replayed_report_is_a_conflict,
    |engine: Engine| async move {
        let app = spawn_app(engine).await;
        let alice = Signer::new(8);
        app.register(&alice).await;
        let report = alice.report("us", ASIN, Some(1_000), T0);
        assert_eq!(app.post_reports(vec![report.clone()]).await.status(), 200);

        let res = app.post_reports(vec![report.clone()]).await;
        assert_eq!(res.status(), 409);
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["error"], "replay");
        assert_eq!(body["field"], "reports[0].report.nonce");
        assert_eq!(app.count("SELECT COUNT(*) FROM reports").await, 1);

        let other = alice.report("us", ASIN, Some(1_000), T0);
        let twice = app.post_reports(vec![other.clone(), other]).await;
        assert_eq!(twice.status(), 409);
        assert_eq!(app.count("SELECT COUNT(*) FROM reports").await, 1);
    }
);

both_engines!(
    report_ids_name_the_stored_rows_and_a_replay_mid_batch_writes_nothing,
    |engine: Engine| async move {
        let app = spawn_app(engine).await;
        let alice = Signer::new(16);
        app.register(&alice).await;
        let old = alice.report("us", ASIN, Some(1_000), T0);
        assert_eq!(app.post_reports(vec![old.clone()]).await.status(), 200);

        // The replay sits between two new reports: it is the one named, and neither of the
        // others is kept.
        let batch = vec![
            alice.report("us", ASIN, Some(1_000), T0),
            old,
            alice.report("us", "B000000002", Some(2_000), T0),
        ];
        let res = app.post_reports(batch).await;
        assert_eq!(res.status(), 409);
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["field"], "reports[1].report.nonce");
        assert_eq!(app.count("SELECT COUNT(*) FROM reports").await, 1);

        // Each answer's report_id is the row holding that report's nonce.
        let batch: Vec<Value> = (0..5)
            .map(|i| alice.report("us", ASIN, Some(1_000 + i), T0))
            .collect();
        let nonces: Vec<String> = batch
            .iter()
            .map(|r| r["report"]["nonce"].as_str().unwrap().to_owned())
            .collect();
        let res = app.post_reports(batch).await;
        assert_eq!(res.status(), 200);
        let body: Value = res.json().await.unwrap();
        for (i, nonce) in nonces.iter().enumerate() {
            let id = body["results"][i]["report_id"].as_i64().unwrap();
            let stored = app
                .count(&format!(
                    "SELECT COUNT(*) FROM reports WHERE id = {id} AND nonce = '{nonce}'"
                ))
                .await;
            assert_eq!(stored, 1, "report {i} is row {id}");
        }
    }
);

both_engines!(
    a_replay_after_a_held_report_rolls_back_what_the_batch_wrote_before_it,
    |engine: Engine| async move {
        let app = spawn_app(engine).await;
        let alice = Signer::new(17);
        app.register(&alice).await;
        let old = alice.report("us", ASIN, Some(1_000), T0);
        assert_eq!(app.post_reports(vec![old.clone()]).await.status(), 200);
        let held_before = app
            .count("SELECT COUNT(*) FROM reports WHERE status = 'held'")
            .await;

        // A new key's 90% drop is held, which writes the batch so far before the replay's
        // statement runs; the replay must still undo all of it.
        let mallory = Signer::new(18);
        app.register(&mallory).await;
        let res = app
            .post_reports(vec![
                mallory.report("us", ASIN, Some(100), T0 + Span::seconds(1)),
                old,
            ])
            .await;
        assert_eq!(res.status(), 409);
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["field"], "reports[1].report.nonce");
        assert_eq!(app.count("SELECT COUNT(*) FROM reports").await, 1);
        assert_eq!(held_before, 0);

        // Without the replay the same drop is held: the first report did take that path.
        let res = app
            .post_reports(vec![mallory.report(
                "us",
                ASIN,
                Some(100),
                T0 + Span::seconds(2),
            )])
            .await;
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["results"][0]["status"], "held", "{body}");
    }
);

both_engines!(
    a_keys_last_report_time_is_kept_to_the_minute,
    |engine: Engine| async move {
        let app = spawn_app(engine).await;
        let alice = Signer::new(19);
        app.register(&alice).await;
        let last = || app.count("SELECT COALESCE(last_report_at, 0) FROM reporters");
        assert_eq!(last().await, 0);

        let post = |at| app.post_reports(vec![alice.report("us", ASIN, Some(1_000), at)]);
        assert_eq!(post(T0).await.status(), 200);
        assert_eq!(last().await, T0.as_millis());

        // Within the minute the row is not written again...
        app.clock.advance(Span::seconds(59));
        assert_eq!(post(T0 + Span::seconds(59)).await.status(), 200);
        assert_eq!(last().await, T0.as_millis());

        // ...and once it is a minute old, it is.
        app.clock.advance(Span::seconds(1));
        assert_eq!(post(T0 + Span::seconds(60)).await.status(), 200);
        assert_eq!(last().await, T0.as_millis() + 60_000);
    }
);

both_engines!(
    a_report_in_the_wrong_currency_is_refused,
    |engine: Engine| async move {
        let app = spawn_app(engine).await;
        let alice = Signer::new(9);
        app.register(&alice).await;
        let mut report = alice.report("de", ASIN, Some(1_000), T0);
        report["report"]["currency"] = json!("USD");
        report["report"]["price"]["currency"] = json!("USD");
        // Re-sign: the currency rule, not the signature, must be what refuses it.
        let parsed: pricewatch_core::report::SignedReport = serde_json::from_value(report).unwrap();
        let resigned = serde_json::to_value(parsed.report.sign(&alice.seed)).unwrap();

        let res = app.post_reports(vec![resigned]).await;

        assert_refused(
            &app,
            res,
            400,
            "currency_mismatch",
            "reports[0].report.currency",
        )
        .await;
    }
);

both_engines!(
    reports_outside_the_skew_window_are_refused,
    |engine: Engine| async move {
        let app = spawn_app(engine).await;
        let alice = Signer::new(10);
        app.register(&alice).await;
        let future = alice.report("us", ASIN, Some(1_000), T0 + Span::hours(1));
        let res = app.post_reports(vec![future]).await;
        assert_refused(
            &app,
            res,
            400,
            "clock_skew",
            "reports[0].report.observed_at",
        )
        .await;
        let old = alice.report("us", ASIN, Some(1_000), T0 - Span::days(3));
        let res = app.post_reports(vec![old]).await;
        assert_refused(
            &app,
            res,
            400,
            "clock_skew",
            "reports[0].report.observed_at",
        )
        .await;
    }
);

both_engines!(
    an_unregistered_key_is_forbidden,
    |engine: Engine| async move {
        let app = spawn_app(engine).await;
        let stranger = Signer::new(11);
        let res = app
            .post_reports(vec![stranger.report("us", ASIN, Some(1_000), T0)])
            .await;
        assert_eq!(res.status(), 403);
        assert_eq!(app.count("SELECT COUNT(*) FROM reports").await, 0);
    }
);

both_engines!(an_oversized_batch_is_refused, |engine: Engine| async move {
    let app = spawn_app_with(engine, |s| s.ingest.max_batch = 3).await;
    let alice = Signer::new(12);
    app.register(&alice).await;
    let reports = (0..4)
        .map(|i| alice.report("us", ASIN, Some(1_000 + i), T0))
        .collect();
    let res = app.post_reports(reports).await;
    assert_refused(&app, res, 413, "too_large", "reports").await;
});

both_engines!(
    malformed_report_json_names_the_field,
    |engine: Engine| async move {
        let app = spawn_app(engine).await;
        let res = app
            .post_json(
                "/api/reports",
                &json!({"reports": [{"report": {"marketplace": "us"}}]}),
            )
            .await;
        assert_eq!(res.status(), 400);
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["error"], "invalid_json");
        assert!(
            body["field"]
                .as_str()
                .unwrap_or_default()
                .starts_with("reports[0]"),
            "{body}"
        );
        let res = app.post_json("/api/reports", &json!({"reports": []})).await;
        assert_eq!(res.status(), 400);
    }
);

both_engines!(
    per_key_rate_limits_answer_429,
    |engine: Engine| async move {
        let app = spawn_app_with(engine, |s| s.ingest.per_key_per_minute = 2).await;
        let alice = Signer::new(13);
        app.register(&alice).await;
        let reports = (0..3)
            .map(|i| alice.report("us", ASIN, Some(1_000 + i), T0))
            .collect();
        let res = app.post_reports(reports).await;
        assert_eq!(res.status(), 429);
        assert!(res.headers().contains_key("retry-after"));
        assert_eq!(app.count("SELECT COUNT(*) FROM reports").await, 0);
    }
);

both_engines!(
    crawler_keys_are_not_held_to_the_per_key_rate_limit,
    |engine: Engine| async move {
        let app = spawn_app_with(engine, |s| s.ingest.per_key_per_minute = 2).await;
        let crawler = Signer::new(14);
        app.make_crawler(&crawler).await;
        let shopper = Signer::new(15);
        app.register(&shopper).await;

        // The crawler's own identity reports one page after another, well over the limit.
        for i in 0..4 {
            let res = app
                .post_reports(vec![crawler.report("us", ASIN, Some(1_000 + i), T0)])
                .await;
            assert_eq!(res.status(), 200, "crawler report {i}");
        }
        let reports = (0..3)
            .map(|i| crawler.report("us", ASIN, Some(2_000 + i), T0))
            .collect();
        assert_eq!(app.post_reports(reports).await.status(), 200);
        assert_eq!(app.count("SELECT COUNT(*) FROM reports").await, 7);

        // A shopper's key still is, in the same minute.
        let reports = (0..3)
            .map(|i| shopper.report("us", ASIN, Some(3_000 + i), T0))
            .collect();
        let res = app.post_reports(reports).await;
        assert_eq!(res.status(), 429);
        assert_eq!(app.count("SELECT COUNT(*) FROM reports").await, 7);
    }
);

both_engines!(
    a_stored_title_survives_later_batches_unchanged,
    |engine: Engine| async move {
        // A later batch reads the product (with its title) back and writes the row again
        // when the price moves: quotes, backslashes, markup and non-Latin text must come
        // through that read exactly.
        let app = spawn_app(engine).await;
        let bot = Signer::new(9);
        app.make_crawler(&bot).await;
        let title = r#"Ñandú "Pro" 12\" \n <b>Mäuse</b> & 鼠标 — 50% off\u0000"#;
        let mut first = bot.report("de", ASIN, Some(4_999), T0);
        first["title"] = json!(title);
        assert_eq!(
            app.post_json("/api/reports", &json!({ "reports": [first] }))
                .await
                .status(),
            200
        );
        for hours in 1..=3 {
            app.clock.advance(Span::hours(1));
            let res = app
                .post_reports(vec![bot.report(
                    "de",
                    ASIN,
                    Some(4_999 - hours * 100),
                    T0 + Span::hours(hours),
                )])
                .await;
            assert_eq!(res.status(), 200);
        }

        let product: Value = app
            .get(&format!("/api/products/de/{ASIN}"))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(product["title"], title);
        assert_eq!(product["current_price"]["amount_minor"], 4_699);
    }
);

both_engines!(
    every_row_a_batch_writes_names_a_stored_product_and_reporter,
    |engine: Engine| async move {
        // A batch knows its new points by negative placeholder ids until they are written:
        // every row it writes must name rows that exist, never a placeholder.
        let app = spawn_app(engine).await;
        let (bot, alice) = (Signer::new(11), Signer::new(12));
        app.make_crawler(&bot).await;
        app.register(&alice).await;
        let asins = ["B000000011", "B000000012", "B000000013"];
        let first: Vec<Value> = asins
            .iter()
            .map(|a| bot.report("us", a, Some(2_000), T0))
            .collect();
        assert_eq!(app.post_reports(first).await.status(), 200);
        app.clock.advance(Span::hours(1));
        let later = T0 + Span::hours(1);
        let second = vec![
            bot.report("us", asins[0], Some(1_500), later),
            alice.report("us", asins[1], Some(2_000), later),
            alice.report("us", asins[2], None, later),
            bot.report("us", "B000000014", Some(990), later),
        ];
        assert_eq!(app.post_reports(second).await.status(), 200);

        assert_eq!(app.count("SELECT COUNT(*) FROM reports").await, 7);
        assert!(app.count("SELECT COUNT(*) FROM price_points").await >= 5);
        for orphans in [
            "SELECT COUNT(*) FROM reports r LEFT JOIN products p ON p.id = r.product_id \
             WHERE p.id IS NULL",
            "SELECT COUNT(*) FROM reports r LEFT JOIN reporters k ON k.id = r.reporter_id \
             WHERE k.id IS NULL",
            "SELECT COUNT(*) FROM price_points x LEFT JOIN products p ON p.id = x.product_id \
             WHERE p.id IS NULL",
            "SELECT COUNT(*) FROM price_points x LEFT JOIN reports r ON r.id = x.report_id \
             WHERE x.report_id IS NOT NULL AND r.id IS NULL",
            "SELECT COUNT(*) FROM outbox_events e LEFT JOIN products p ON p.id = e.product_id \
             WHERE p.id IS NULL",
        ] {
            assert_eq!(app.count(orphans).await, 0, "{orphans}");
        }
    }
);

/// PostgreSQL fails one transaction of a deadlock; when that is a batch's, the batch runs
/// again and the client never sees it. Here the circle is closed on purpose: the test holds
/// one of the batch's products, the batch locks the other and waits, then the test asks for
/// the one the batch holds. The batch waited first, so its backend finds the deadlock first
/// and fails itself.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_batch_failed_to_break_a_deadlock_runs_again() {
    const FIRST: &str = "B0DEADLCK1";
    const SECOND: &str = "B0DEADLCK2";
    let app = spawn_app(Engine::Postgres).await;
    let bot = Signer::new(41);
    app.make_crawler(&bot).await;
    let res = app
        .post_reports(vec![
            bot.report("us", FIRST, Some(1_000), T0),
            bot.report("us", SECOND, Some(2_000), T0),
        ])
        .await;
    assert_eq!(res.status(), 200);

    const LOCK: &str = "SELECT id FROM products WHERE asin = $1 FOR NO KEY UPDATE";
    let mut blocker = app.state.db.write.begin().await.unwrap();
    sqlx::query(LOCK)
        .bind(SECOND)
        .fetch_one(&mut *blocker)
        .await
        .unwrap();
    let batch = vec![
        bot.report("us", FIRST, Some(900), T0 + Span::minutes(1)),
        bot.report("us", SECOND, Some(1_900), T0 + Span::minutes(1)),
    ];
    let post = app.post_reports(batch);
    let close_the_circle = async {
        let waiting = "SELECT COUNT(*) FROM pg_stat_activity \
                       WHERE datname = current_database() AND wait_event_type = 'Lock'";
        let started = std::time::Instant::now();
        while app.count(waiting).await == 0 {
            assert!(started.elapsed() < std::time::Duration::from_secs(10));
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        let took = sqlx::query(LOCK).bind(FIRST).fetch_one(&mut *blocker).await;
        blocker.rollback().await.unwrap();
        took.map_err(|e| e.to_string())
    };
    let (res, took) = tokio::join!(post, close_the_circle);

    took.expect("the batch, not the test, was failed to break the deadlock");
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    for r in body["results"].as_array().unwrap() {
        assert_eq!(r["status"], "accepted", "{body}");
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM reports").await, 4);
    assert_eq!(app.count("SELECT COUNT(*) FROM price_points").await, 4);
    assert_eq!(
        app.count(&format!(
            "SELECT current_price FROM products WHERE asin = '{SECOND}'"
        ))
        .await,
        1_900
    );
}
