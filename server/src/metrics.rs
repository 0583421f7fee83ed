//! Prometheus metrics: request latency per route, reports by decision, queue depths.
//!
//! The `metrics` facade has one process-wide recorder, installed on first use; every server in
//! a test process shares it, which is why tests compare before/after values.

use std::sync::OnceLock;
use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::Response;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use crate::state::AppState;

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// The process's metrics handle, installing the recorder the first time.
pub fn handle() -> PrometheusHandle {
    HANDLE
        .get_or_init(|| {
            let builder = PrometheusBuilder::new()
                .set_buckets_for_metric(
                    Matcher::Full("http_request_duration_seconds".into()),
                    &[
                        0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
                    ],
                )
                .unwrap_or_else(|_| PrometheusBuilder::new());
            let recorder = builder.build_recorder();
            let handle = recorder.handle();
            // Another recorder may already be installed (a test harness); ours still renders.
            let _ = metrics::set_global_recorder(recorder);
            handle
        })
        .clone()
}

/// Middleware: one latency observation per request, labelled by route (not raw path, which
/// would explode the label space with ASINs).
pub async fn track(req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let method = req.method().to_string();
    let started = Instant::now();
    let response = next.run(req).await;
    let status = response.status().as_u16().to_string();
    metrics::histogram!(
        "http_request_duration_seconds",
        "route" => route,
        "method" => method,
        "status" => status
    )
    .record(started.elapsed().as_secs_f64());
    response
}

/// Count one judged report.
pub fn report_judged(decision: &'static str) {
    metrics::counter!("reports_total", "decision" => decision).increment(1);
}

/// Queue depths are read from the database when scraped, so every replica reports the truth.
pub async fn refresh_gauges(state: &AppState) {
    let pending: Result<i64, _> =
        sqlx::query_scalar("SELECT COUNT(*) FROM outbox_events WHERE done_at IS NULL")
            .fetch_one(&state.db.read)
            .await;
    if let Ok(n) = pending {
        metrics::gauge!("queue_depth", "queue" => "outbox").set(n as f64);
    }
    let held: Result<i64, _> =
        sqlx::query_scalar("SELECT COUNT(*) FROM reports WHERE status = 'held'")
            .fetch_one(&state.db.read)
            .await;
    if let Ok(n) = held {
        metrics::gauge!("queue_depth", "queue" => "held_reports").set(n as f64);
    }
    // Notifications waiting for delivery (including retries), and those given up on.
    for (status, queue) in [
        ("pending", "notifications"),
        ("failed", "notifications_failed"),
    ] {
        let n: Result<i64, _> =
            sqlx::query_scalar("SELECT COUNT(*) FROM notifications WHERE status = $1")
                .bind(status)
                .fetch_one(&state.db.read)
                .await;
        if let Ok(n) = n {
            metrics::gauge!("queue_depth", "queue" => queue).set(n as f64);
        }
    }
    if let Ok(stats) =
        crate::store::crawl_jobs::queue_stats(&state.db.read, state.clock.now()).await
    {
        for s in stats {
            let queue = format!("crawl_{}", s.kind);
            metrics::gauge!("queue_depth", "queue" => queue.clone()).set(s.pending as f64);
            metrics::gauge!("crawl_queue_due", "queue" => queue.clone()).set(s.due as f64);
            metrics::gauge!("crawl_queue_oldest_due_seconds", "queue" => queue)
                .set(s.oldest_due_ms as f64 / 1000.0);
        }
    }
}
