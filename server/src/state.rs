//! The one cloneable application state every handler receives.

use std::sync::Arc;

use metrics_exporter_prometheus::PrometheusHandle;

use crate::chart_cache::ChartCache;
use crate::clock::Clock;
use crate::config::Settings;
use crate::db::Db;
use crate::rate_limit::RateLimiter;

#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub settings: Arc<Settings>,
    /// "Now", replaceable in tests.
    pub clock: Arc<dyn Clock>,
    pub metrics: PrometheusHandle,
    /// Per-key and per-IP limits on report ingest.
    pub limits: Arc<RateLimiter>,
    /// Rendered product and history answers, keyed by ETag.
    pub charts: Arc<ChartCache>,
    /// The crawler's per-host politeness and health (this replica's).
    pub crawl_hosts: Arc<crate::crawler::HostBook>,
    /// The HMAC key for sign-in codes and unsubscribe links, shared by every replica.
    pub secrets: Arc<crate::auth::Secrets>,
    /// The pooled SMTP mailer.
    pub mailer: crate::mail::Mailer,
    /// The webhook channel's HTTP client.
    pub webhooks: crate::webhooks::WebhookSender,
    /// Wakes this process's alert worker and delivery tasks at once.
    pub wakeup: Arc<crate::alerts::Wakeup>,
}
