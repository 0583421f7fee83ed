//! Price alerts after a price change is accepted: the worker that turns "price changed"
//! outbox events into notifications, and the delivery of those notifications by email and
//! webhook.
//!
//! # Design
//! - **Events → notifications** ([`worker`], [`matching`]): each replica runs one worker task
//!   that claims the oldest undone event of a product (PostgreSQL: `FOR UPDATE SKIP LOCKED`
//!   plus a lease in `claimed_by`/`claimed_until`, so a crashed replica's claim expires),
//!   finds the subscriptions the new price can affect with an index range query, runs core's
//!   alert rules on each one's stored state, and in ONE transaction writes the new states,
//!   the notification rows (UNIQUE per subscription, price point, kind and channel) and marks
//!   the event done. A retried event therefore never queues an alert twice.
//! - **Held alerts** ([`wake`]): rules that hold an alert (cooldown) set `wake_at`; the worker
//!   re-evaluates those subscriptions when their time comes.
//! - **Digests** ([`digest`]): for users in digest mode, email alerts wait and are bundled into
//!   one `digest` notification per user and day.
//! - **Delivery** ([`delivery`]): notifications are the queue (pending → sent | failed). A
//!   second task per replica claims due rows under a lease, sends them (pooled SMTP, or a
//!   signed webhook POST), and retries temporary failures with exponential backoff; a
//!   permanent refusal marks the row failed, which the user sees in `GET /api/notifications`.
//! - **Corrections** ([`corrections`]): when a published price is refuted (the crawler's
//!   `price_refuted` event, taken in the same per-product order), everyone alerted on it is
//!   told, and their alert state restored.

pub mod corrections;
pub mod delivery;
pub mod digest;
pub mod matching;
pub mod wake;
pub mod worker;

use std::time::Duration;

use pricewatch_core::alert::AlertConfig;
use pricewatch_core::Span;
use serde::{Deserialize, Serialize};

pub use worker::{spawn, Wakeup, Workers};

/// Alert worker and delivery settings (`[alerts]`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AlertSettings {
    /// Run the worker and delivery tasks in this process (a replica may serve only the API).
    pub worker_enabled: bool,
    /// How often the worker looks for new events and due notifications, in milliseconds;
    /// ingest also wakes it at once.
    pub poll_interval_ms: u64,
    /// How long a claim on an event or notification lasts, in seconds: a replica that dies
    /// holding one releases it after this.
    pub lease_secs: i64,
    /// Events claimed per round.
    pub event_batch: i64,
    /// Notifications claimed per delivery round.
    pub delivery_batch: i64,
    /// Subscriptions one user may have.
    pub max_subscriptions_per_user: i64,
    /// At most one alert per subscription within this many seconds; changes meanwhile are
    /// consolidated into one alert sent when it ends.
    pub cooldown_secs: i64,
    /// Re-arm a fired alert only once the price is this many basis points above the threshold.
    pub hysteresis_bp: u16,
    /// The smallest re-arm margin, in minor units.
    pub hysteresis_min_minor: i64,
    /// How long a first alert waits to gather a burst of changes, in seconds (0: at once).
    pub settle_secs: i64,
    /// Delivery attempts before a notification is marked failed.
    pub max_attempts: i64,
    /// The first retry waits this many seconds; each next one twice as long.
    pub retry_base_secs: i64,
    /// The longest wait between retries, in seconds.
    pub retry_max_secs: i64,
    /// The hour (UTC, 0-23) at which daily digests go out.
    pub digest_hour_utc: i64,
    /// Days of history drawn in an alert's chart.
    pub chart_days: i64,
    /// Give up on one webhook request after this many seconds.
    pub webhook_timeout_secs: u64,
    /// Fault tests only: after claiming events, wait this many milliseconds before
    /// processing them, so a test can kill the process holding a claim. 0 in production.
    pub test_pause_after_claim_ms: u64,
}

impl Default for AlertSettings {
    fn default() -> Self {
        AlertSettings {
            worker_enabled: true,
            poll_interval_ms: 200,
            lease_secs: 60,
            event_batch: 20,
            delivery_batch: 64,
            max_subscriptions_per_user: 200,
            cooldown_secs: 6 * 3600,
            hysteresis_bp: 200,
            hysteresis_min_minor: 5,
            settle_secs: 0,
            max_attempts: 10,
            retry_base_secs: 30,
            retry_max_secs: 3600,
            digest_hour_utc: 8,
            chart_days: 90,
            webhook_timeout_secs: 10,
            test_pause_after_claim_ms: 0,
        }
    }
}

impl AlertSettings {
    /// Core's alert rules configured from these settings.
    pub fn rules(&self) -> AlertConfig {
        AlertConfig {
            cooldown: Span::seconds(self.cooldown_secs),
            hysteresis_bp: self.hysteresis_bp,
            hysteresis_min_minor: self.hysteresis_min_minor,
            settle: Span::seconds(self.settle_secs),
        }
    }

    pub(crate) fn poll_interval(&self) -> Duration {
        Duration::from_millis(self.poll_interval_ms.max(10))
    }

    pub(crate) fn lease(&self) -> Span {
        Span::seconds(self.lease_secs.max(1))
    }

    /// The wait before retry number `attempts` (1 = the first retry).
    pub fn backoff(&self, attempts: i64) -> Span {
        let exp = u32::try_from(attempts.saturating_sub(1).clamp(0, 30)).unwrap_or(30);
        let secs = self
            .retry_base_secs
            .max(1)
            .saturating_mul(1_i64 << exp)
            .min(self.retry_max_secs.max(1));
        Span::seconds(secs)
    }
}
