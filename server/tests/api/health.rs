//! Operations endpoints and the OpenAPI document.

use serde_json::Value;

use crate::both_engines;
use crate::support::{spawn_app, Engine};

both_engines!(health_and_readiness_answer, |engine: Engine| async move {
    let app = spawn_app(engine).await;
    assert_eq!(app.get("/healthz").await.status(), 200);
    let ready = app.get("/readyz").await;
    assert_eq!(ready.status(), 200);
    assert_eq!(ready.text().await.unwrap(), "ready");
});

both_engines!(metrics_are_prometheus_text, |engine: Engine| async move {
    let app = spawn_app(engine).await;
    let _ = app.get("/healthz").await;
    let res = app.get("/metrics").await;
    assert_eq!(res.status(), 200);
    let text = res.text().await.unwrap();
    assert!(
        text.contains("http_request_duration_seconds_bucket"),
        "{text}"
    );
    assert!(text.contains("queue_depth{queue=\"outbox\"}"), "{text}");
});

both_engines!(
    the_openapi_document_lists_the_served_routes,
    |engine: Engine| async move {
        let app = spawn_app(engine).await;
        let doc: Value = app.get("/api/openapi.json").await.json().await.unwrap();
        let paths = doc["paths"].as_object().expect("paths");
        for path in paths.keys() {
            // Every documented path is served (a GET or POST to it is not a 404 for the route).
            let probe = path
                .replace("{marketplace}", "us")
                .replace("{asin}", "B08N5WRWNW");
            let res = app
                .client
                .request(reqwest::Method::OPTIONS, app.url(&probe))
                .send()
                .await
                .unwrap();
            assert_ne!(res.status(), 404, "{path} is documented but not served");
        }
        assert!(paths.contains_key("/api/reporters"));
    }
);
