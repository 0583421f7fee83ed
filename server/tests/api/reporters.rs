//! `POST /api/reporters`.

use serde_json::{json, Value};

use crate::both_engines;
use crate::support::{spawn_app, spawn_app_with, Engine};

const KEY: &str = "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c";

both_engines!(a_new_key_is_registered_once, |engine: Engine| async move {
    let app = spawn_app(engine).await;

    let first = app
        .post_json("/api/reporters", &json!({"public_key": KEY}))
        .await;
    assert_eq!(first.status(), 201);
    let body: Value = first.json().await.unwrap();
    assert_eq!(body["public_key"], KEY);
    assert_eq!(body["kind"], "extension");
    assert_eq!(body["banned"], false);

    let again = app
        .post_json("/api/reporters", &json!({"public_key": KEY}))
        .await;
    assert_eq!(again.status(), 200);
    let again: Value = again.json().await.unwrap();
    assert_eq!(again["id"], body["id"]);
});

both_engines!(
    a_malformed_key_is_a_400_naming_the_field,
    |engine: Engine| async move {
        let app = spawn_app(engine).await;
        let res = app
            .post_json("/api/reporters", &json!({"public_key": "xyz"}))
            .await;
        assert_eq!(res.status(), 400);
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["field"], "public_key");
        assert_eq!(body["error"], "invalid_field");
    }
);

both_engines!(
    malformed_json_is_a_400_not_a_500,
    |engine: Engine| async move {
        let app = spawn_app(engine).await;
        let res = app
            .client
            .post(app.url("/api/reporters"))
            .header("content-type", "application/json")
            .body("{not json")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 400);
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["error"], "malformed_json");
    }
);

both_engines!(
    registrations_are_rate_limited_per_address,
    |engine: Engine| async move {
        let app = spawn_app_with(engine, |s| s.ingest.per_ip_per_minute = 2).await;
        for _ in 0..2 {
            let res = app
                .post_json("/api/reporters", &json!({"public_key": KEY}))
                .await;
            assert!(res.status().is_success());
        }
        let res = app
            .post_json("/api/reporters", &json!({"public_key": KEY}))
            .await;
        assert_eq!(res.status(), 429);
        let retry: u64 = res.headers()["retry-after"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!((1..=60).contains(&retry), "{retry}");
    }
);
