//! `/api/subscriptions`: creation (unknown products are created and crawled), limits,
//! counters, and that a user sees and changes only their own.

use serde_json::{json, Value};

use crate::auth::{app_with_sink, app_with_sink_and, sign_in, AsUser};
use crate::both_engines;
use crate::support::{Engine, Signer, T0};

const ASIN: &str = "B08N5WRWNW";

fn body(asin: &str, threshold: i64) -> Value {
    json!({"marketplace": "us", "asin": asin, "threshold_minor": threshold})
}

both_engines!(
    subscribing_to_an_unknown_product_creates_it_and_asks_for_a_crawl,
    |engine: Engine| async move {
        let (app, sink) = app_with_sink(engine).await;
        let token = sign_in(&app, &sink, "a@example.org").await;

        let res = app
            .post_as(&token, "/api/subscriptions", &body(ASIN, 4_999))
            .await;

        assert_eq!(res.status(), 201);
        let sub: Value = res.json().await.unwrap();
        assert_eq!(sub["asin"], ASIN);
        assert_eq!(sub["threshold_minor"], 4_999);
        assert_eq!(sub["currency"], "USD");
        assert_eq!(sub["armed"], true);
        assert_eq!(app.count("SELECT COUNT(*) FROM products").await, 1);
        assert_eq!(
            app.count(&format!(
                "SELECT COUNT(*) FROM crawl_jobs WHERE kind = 'refresh' AND done_at IS NULL \
                 AND due_at <= {}",
                T0.as_millis()
            ))
            .await,
            1
        );
        assert_eq!(app.count("SELECT subscribers FROM products").await, 1);
    }
);

both_engines!(
    the_subscriber_count_follows_active_subscriptions,
    |engine: Engine| async move {
        let (app, sink) = app_with_sink(engine).await;
        let a = sign_in(&app, &sink, "a@example.org").await;
        let b = sign_in(&app, &sink, "b@example.org").await;
        let c = sign_in(&app, &sink, "c@example.org").await;
        let mut ids = Vec::new();
        for t in [&a, &b, &c] {
            let res = app
                .post_as(t, "/api/subscriptions", &body(ASIN, 1_000))
                .await;
            ids.push(res.json::<Value>().await.unwrap()["id"].as_i64().unwrap());
        }
        assert_eq!(app.count("SELECT subscribers FROM products").await, 3);

        let paused = app
            .patch_as(
                &a,
                &format!("/api/subscriptions/{}", ids[0]),
                &json!({"paused": true}),
            )
            .await;
        assert_eq!(paused.status(), 200);
        assert_eq!(paused.json::<Value>().await.unwrap()["paused"], true);
        assert_eq!(app.count("SELECT subscribers FROM products").await, 2);
        let deleted = app
            .delete_as(&b, &format!("/api/subscriptions/{}", ids[1]))
            .await;
        assert_eq!(deleted.status(), 204);
        assert_eq!(app.count("SELECT subscribers FROM products").await, 1);
        app.patch_as(
            &a,
            &format!("/api/subscriptions/{}", ids[0]),
            &json!({"paused": false}),
        )
        .await;
        assert_eq!(app.count("SELECT subscribers FROM products").await, 2);
        app.delete_as(&a, &format!("/api/subscriptions/{}", ids[0]))
            .await;
        assert_eq!(
            app.count("SELECT subscribers FROM products").await,
            app.count("SELECT COUNT(*) FROM subscriptions WHERE paused = 0")
                .await
        );
    }
);

both_engines!(
    a_user_cannot_read_change_or_delete_another_users_subscription,
    |engine: Engine| async move {
        let (app, sink) = app_with_sink(engine).await;
        let owner = sign_in(&app, &sink, "owner@example.org").await;
        let other = sign_in(&app, &sink, "other@example.org").await;
        let res = app
            .post_as(&owner, "/api/subscriptions", &body(ASIN, 1_000))
            .await;
        let id = res.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
        let path = format!("/api/subscriptions/{id}");

        let read = app.get_as(&other, &path).await;
        let change = app
            .patch_as(&other, &path, &json!({"threshold_minor": 1}))
            .await;
        let delete = app.delete_as(&other, &path).await;
        let listed: Value = app
            .get_as(&other, "/api/subscriptions")
            .await
            .json()
            .await
            .unwrap();

        assert_eq!(read.status(), 404);
        assert_eq!(change.status(), 404);
        assert_eq!(delete.status(), 404);
        assert_eq!(listed["subscriptions"].as_array().unwrap().len(), 0);
        let mine: Value = app.get_as(&owner, &path).await.json().await.unwrap();
        assert_eq!(mine["threshold_minor"], 1_000, "unchanged");
        assert_eq!(app.get("/api/subscriptions").await.status(), 401);
    }
);

both_engines!(
    the_per_user_limit_is_enforced,
    |engine: Engine| async move {
        let (app, sink) =
            app_with_sink_and(engine, |s| s.alerts.max_subscriptions_per_user = 2).await;
        let token = sign_in(&app, &sink, "a@example.org").await;
        for asin in ["B000000001", "B000000002"] {
            let res = app
                .post_as(&token, "/api/subscriptions", &body(asin, 100))
                .await;
            assert_eq!(res.status(), 201);
        }

        let third = app
            .post_as(&token, "/api/subscriptions", &body("B000000003", 100))
            .await;

        assert_eq!(third.status(), 409);
        let err: Value = third.json().await.unwrap();
        assert_eq!(err["error"], "subscription_limit");
    }
);

both_engines!(
    a_percentage_drop_is_measured_from_the_current_price,
    |engine: Engine| async move {
        let (app, sink) = app_with_sink(engine).await;
        let bot = Signer::new(60);
        app.make_crawler(&bot).await;
        app.post_reports(vec![bot.report("us", ASIN, Some(10_000), T0)])
            .await;
        let token = sign_in(&app, &sink, "a@example.org").await;

        let res = app
            .post_as(
                &token,
                "/api/subscriptions",
                &json!({"marketplace": "us", "asin": ASIN, "drop_percent": 20}),
            )
            .await;

        assert_eq!(res.status(), 201);
        let sub: Value = res.json().await.unwrap();
        assert_eq!(sub["threshold_minor"], 8_000);
        assert_eq!(sub["reference_price_minor"], 10_000);
        assert_eq!(sub["drop_percent"], 20.0);
        assert_eq!(
            app.count("SELECT COUNT(*) FROM crawl_jobs WHERE kind = 'refresh'")
                .await,
            0,
            "a known product needs no first crawl"
        );
    }
);

both_engines!(
    bad_requests_name_their_field_and_duplicates_conflict,
    |engine: Engine| async move {
        let (app, sink) = app_with_sink(engine).await;
        let token = sign_in(&app, &sink, "a@example.org").await;
        let cases = [
            (
                json!({"marketplace": "xx", "asin": ASIN, "threshold_minor": 1}),
                "marketplace",
            ),
            (
                json!({"marketplace": "us", "asin": "nope", "threshold_minor": 1}),
                "asin",
            ),
            (
                json!({"marketplace": "us", "asin": ASIN, "threshold_minor": 0}),
                "threshold_minor",
            ),
            (
                json!({"marketplace": "us", "asin": ASIN}),
                "threshold_minor",
            ),
            (
                json!({"marketplace": "us", "asin": ASIN, "drop_percent": 20}),
                "drop_percent",
            ),
        ];
        for (request, field) in cases {
            let res = app.post_as(&token, "/api/subscriptions", &request).await;
            assert_eq!(res.status(), 400, "{request}");
            let err: Value = res.json().await.unwrap();
            assert_eq!(err["field"], field, "{request}: {err}");
        }
        assert_eq!(
            app.post_as(&token, "/api/subscriptions", &body(ASIN, 10))
                .await
                .status(),
            201
        );

        let again = app
            .post_as(&token, "/api/subscriptions", &body(ASIN, 20))
            .await;

        assert_eq!(again.status(), 409);
        assert_eq!(
            again.json::<Value>().await.unwrap()["error"],
            "already_subscribed"
        );
    }
);

both_engines!(
    changing_the_threshold_rearms_the_alert,
    |engine: Engine| async move {
        let (app, sink) = app_with_sink(engine).await;
        let token = sign_in(&app, &sink, "a@example.org").await;
        let res = app
            .post_as(&token, "/api/subscriptions", &body(ASIN, 1_000))
            .await;
        let id = res.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
        app.sql("UPDATE subscriptions SET armed = 0, state = REPLACE(state, '\"armed\":true', '\"armed\":false')").await;
        let before: Value = app
            .get_as(&token, &format!("/api/subscriptions/{id}"))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(before["armed"], false);

        let res = app
            .patch_as(
                &token,
                &format!("/api/subscriptions/{id}"),
                &json!({"threshold_minor": 900, "back_in_stock": true}),
            )
            .await;

        assert_eq!(res.status(), 200);
        let sub: Value = res.json().await.unwrap();
        assert_eq!(sub["threshold_minor"], 900);
        assert_eq!(sub["back_in_stock"], true);
        assert_eq!(sub["armed"], true);
    }
);
