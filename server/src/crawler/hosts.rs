//! Politeness and health per host: a token bucket (GCRA) that spaces requests, exponential
//! back-off with jitter after robot checks, 503s, 429s and unreachable hosts, the host's
//! robots.txt, and counters for the admin view.
//!
//! The bucket, the back-off and the counters live in the database (`crawl_hosts`), so that
//! any number of replicas crawling one host keep to one rate between them and all leave a
//! host alone once one of them sees a robot check. Time is tokio's clock anchored to the wall
//! clock at start-up: replicas agree on it to within their clocks' sync, tests that pause
//! tokio's time pause it too, and the application clock (which tests move at will) plays no
//! part. robots.txt is cached per replica: fetching it goes through the same bucket.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::Serialize;
use tokio::time::Instant;

use super::robots::Robots;
use crate::db::Db;
use crate::store::crawl_hosts::{self, Outcome};

/// What a request to a host came to, as far as the host's health goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum HostOutcome {
    /// The host answered normally (a product page, a 404, a robots.txt).
    Ok,
    /// A robot-check page: the host wants us gone for a while.
    RobotCheck,
    /// 503 or 429.
    Unavailable,
    /// No answer: connection refused, reset, timed out.
    Unreachable,
    /// An answer that is the page's problem, not the host's (a 500, a redirect loop).
    PageError,
}

impl HostOutcome {
    /// Whether the host should be left alone for a while.
    fn backs_off(self) -> bool {
        matches!(
            self,
            HostOutcome::RobotCheck | HostOutcome::Unavailable | HostOutcome::Unreachable
        )
    }

    fn stored(self) -> Outcome {
        let (column, name) = match self {
            HostOutcome::Ok => ("ok", "ok"),
            HostOutcome::RobotCheck => ("robot_checks", "robot_check"),
            HostOutcome::Unavailable => ("unavailable", "unavailable"),
            HostOutcome::Unreachable => ("unreachable", "unreachable"),
            HostOutcome::PageError => ("page_errors", "page_error"),
        };
        Outcome {
            column,
            name,
            backs_off: self.backs_off(),
            clears: self == HostOutcome::Ok,
        }
    }

    fn from_stored(name: &str) -> Option<HostOutcome> {
        Some(match name {
            "ok" => HostOutcome::Ok,
            "robot_check" => HostOutcome::RobotCheck,
            "unavailable" => HostOutcome::Unavailable,
            "unreachable" => HostOutcome::Unreachable,
            "page_error" => HostOutcome::PageError,
            _ => return None,
        })
    }
}

/// One host's health, for `GET /api/admin/hosts`.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct HostHealth {
    /// `scheme://host:port`.
    pub host: String,
    pub requests: u64,
    /// Normal answers / requests.
    pub success_rate: f64,
    /// Robot-check pages / requests.
    pub robot_check_rate: f64,
    pub robot_checks: u64,
    /// 503s and 429s.
    pub unavailable: u64,
    pub unreachable: u64,
    pub page_errors: u64,
    /// Failures since the last normal answer: the back-off doubles with each.
    pub failures_in_row: u32,
    pub backing_off: bool,
    /// How long until the host is tried again, in ms.
    pub backoff_remaining_ms: u64,
    #[schema(value_type = Option<String>)]
    pub last_outcome: Option<HostOutcome>,
}

/// Per-host politeness, shared through the database.
#[derive(Debug)]
pub struct HostBook {
    /// Reads (back-offs, health) on the read pool, so that they never wait for SQLite's one
    /// writer; reservations and outcomes on the write pool.
    db: Db,
    /// Time between requests to one host; zero when the limit is lifted.
    interval: Duration,
    /// GCRA tolerance: how far ahead of schedule a burst may run.
    tolerance: Duration,
    backoff_base: Duration,
    backoff_max: Duration,
    /// tokio's clock at start-up and the wall clock then (see the module's notes).
    anchor: (Instant, i64),
    robots: Mutex<HashMap<String, (Robots, Instant)>>,
    /// One turn at a time per host within this replica while waiting for a slot.
    gates: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
    /// One robots.txt fetch at a time per host within this replica.
    robots_gates: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

/// The turn of one host's gate in `gates`.
async fn turn(
    gates: &Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
    host: &str,
) -> tokio::sync::OwnedMutexGuard<()> {
    let gate = {
        let mut gates = gates.lock().unwrap_or_else(|p| p.into_inner());
        gates.entry(host.to_owned()).or_default().clone()
    };
    gate.lock_owned().await
}

/// Why politeness state could not be read or written.
pub type HostError = sqlx::Error;

fn ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

impl HostBook {
    /// `rps` requests per second per host (≤ 0 or not finite lifts the limit: benchmarks),
    /// `burst` back to back after a quiet spell, kept in `db`.
    pub fn new(
        db: Db,
        rps: f64,
        burst: u32,
        backoff_base: Duration,
        backoff_max: Duration,
    ) -> HostBook {
        let interval = if rps.is_finite() && rps > 0.0 {
            Duration::from_secs_f64(1.0 / rps)
        } else {
            Duration::ZERO
        };
        let wall = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, ms);
        HostBook {
            db,
            interval,
            tolerance: interval * burst.max(1).saturating_sub(1),
            backoff_base,
            backoff_max: backoff_max.max(backoff_base),
            anchor: (Instant::now(), wall),
            robots: Mutex::new(HashMap::new()),
            gates: Mutex::new(HashMap::new()),
            robots_gates: Mutex::new(HashMap::new()),
        }
    }

    /// The book the `[crawler]` settings describe, kept in `db` (the write pool).
    pub fn from_settings(s: &super::CrawlerSettings, db: Db) -> HostBook {
        HostBook::new(
            db,
            s.per_host_rps,
            s.per_host_burst,
            Duration::from_millis(s.backoff_base_ms),
            Duration::from_millis(s.backoff_max_ms),
        )
    }

    /// Now, in the wall-clock ms the database rows use.
    fn now_ms(&self) -> i64 {
        self.anchor.1 + ms(self.anchor.0.elapsed())
    }

    /// The instant a wall-clock ms falls on.
    fn instant_at(&self, at_ms: i64) -> Instant {
        let ahead = at_ms - self.now_ms();
        let now = Instant::now();
        if ahead > 0 {
            now + Duration::from_millis(ahead.unsigned_abs())
        } else {
            now
        }
    }

    /// Reserve the next request slot on `host` and return when it is, in wall-clock ms:
    /// every caller, in this replica or another, gets its own slot, so together they never
    /// exceed the rate.
    pub async fn reserve(&self, host: &str) -> Result<i64, HostError> {
        let slot = crawl_hosts::reserve(
            &self.db.write,
            host,
            self.now_ms(),
            ms(self.interval),
            ms(self.tolerance),
        )
        .await?;
        Ok(slot.at_ms)
    }

    /// Wait for a slot on `host` (see [`HostBook::reserve`]). This replica's waiters take
    /// turns per host, and the bucket counts from when a request actually leaves: one that
    /// woke late (a busy machine) pushes the next one back rather than letting two go out
    /// close together.
    pub async fn acquire(&self, host: &str) -> Result<(), HostError> {
        if self.interval.is_zero() {
            // The limit is lifted (benchmarks): only a back-off holds requests, and claims
            // already pass backed-off hosts by.
            return Ok(());
        }
        let _turn = turn(&self.gates, host).await;
        let slot = self.reserve(host).await?;
        tokio::time::sleep_until(self.instant_at(slot)).await;
        crawl_hosts::departed(&self.db.write, host, self.now_ms(), ms(self.interval)).await?;
        Ok(())
    }

    /// Hosts backing off now, with how long each still is.
    pub async fn backing_off_hosts(&self) -> Result<HashMap<String, Duration>, HostError> {
        let now = self.now_ms();
        Ok(crawl_hosts::backing_off(&self.db.read, now)
            .await?
            .into_iter()
            .map(|(host, until)| (host, Duration::from_millis((until - now).unsigned_abs())))
            .collect())
    }

    /// How long `host` is still backed off for, if it is.
    pub async fn backing_off(&self, host: &str) -> Result<Option<Duration>, HostError> {
        Ok(self.backing_off_hosts().await?.remove(host))
    }

    /// Record what a request came to. A failure backs the host off for
    /// `base × 2^(failures in a row − 1)` (capped), times a jitter in [0.8, 1.2) so that
    /// replicas do not return in step; a normal answer ends the back-off.
    pub async fn record(&self, host: &str, outcome: HostOutcome) -> Result<(), HostError> {
        let now = self.now_ms();
        let backoff_ms = |failures: i64| {
            let doubling = 2_u32.saturating_pow(
                u32::try_from(failures.saturating_sub(1))
                    .unwrap_or(u32::MAX)
                    .min(30),
            );
            let delay = self
                .backoff_base
                .saturating_mul(doubling)
                .min(self.backoff_max);
            ms(delay.mul_f64(super::jitter(0.8, 1.2)))
        };
        let failed =
            crawl_hosts::record(&self.db.write, host, outcome.stored(), now, backoff_ms).await?;
        if let Some((failures, backoff_ms)) = failed {
            tracing::warn!(host, ?outcome, failures, backoff_ms, "backing off host");
        }
        Ok(())
    }

    /// The host's robots.txt rules, if this replica fetched them within `ttl`.
    pub fn robots(&self, host: &str, ttl: Duration) -> Option<Robots> {
        let robots = self.robots.lock().unwrap_or_else(|p| p.into_inner());
        robots
            .get(host)
            .filter(|(_, at)| at.elapsed() < ttl)
            .map(|(r, _)| r.clone())
    }

    /// Wait for this replica's turn to fetch `host`'s robots.txt; whoever waited should look
    /// in [`HostBook::robots`] again before fetching.
    pub async fn robots_turn(&self, host: &str) -> tokio::sync::OwnedMutexGuard<()> {
        turn(&self.robots_gates, host).await
    }

    pub fn set_robots(&self, host: &str, robots: Robots) {
        let mut all = self.robots.lock().unwrap_or_else(|p| p.into_inner());
        all.insert(host.to_owned(), (robots, Instant::now()));
    }

    /// Every host any replica has crawled, by name.
    pub async fn health(&self) -> Result<Vec<HostHealth>, HostError> {
        let now = self.now_ms();
        let count = |n: i64| u64::try_from(n).unwrap_or(0);
        Ok(crawl_hosts::all(&self.db.read)
            .await?
            .into_iter()
            .map(|h| {
                let answered =
                    h.ok + h.robot_checks + h.unavailable + h.unreachable + h.page_errors;
                let rate = |n: i64| {
                    if answered <= 0 {
                        0.0
                    } else {
                        n as f64 / answered as f64
                    }
                };
                let remaining = h.backoff_until_ms.filter(|u| *u > now).map(|u| u - now);
                HostHealth {
                    requests: count(h.requests),
                    success_rate: rate(h.ok),
                    robot_check_rate: rate(h.robot_checks),
                    robot_checks: count(h.robot_checks),
                    unavailable: count(h.unavailable),
                    unreachable: count(h.unreachable),
                    page_errors: count(h.page_errors),
                    failures_in_row: u32::try_from(h.failures_in_row).unwrap_or(u32::MAX),
                    backing_off: remaining.is_some(),
                    backoff_remaining_ms: remaining.map_or(0, count),
                    last_outcome: h.last_outcome.as_deref().and_then(HostOutcome::from_stored),
                    host: h.host,
                }
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fresh SQLite database (real time: sqlx's SQLite worker thread does not follow a
    /// paused tokio clock).
    async fn db() -> (Db, tempfile::TempDir) {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}", dir.path().join("hosts.db").display());
        let db = Db::connect(&url).await.expect("connect");
        db.migrate(&url).await.expect("migrate");
        (db, dir)
    }

    fn book(db: &Db, rps: f64, burst: u32, base_ms: u64, max_ms: u64) -> HostBook {
        HostBook::new(
            db.clone(),
            rps,
            burst,
            Duration::from_millis(base_ms),
            Duration::from_millis(max_ms),
        )
    }

    fn offsets(slots: &[i64]) -> Vec<i64> {
        slots.iter().map(|s| s - slots[0]).collect()
    }

    // Intervals of half a second: a loaded machine's slow statement (tens of ms) cannot
    // make the bucket run dry between two reservations.
    #[tokio::test]
    async fn slots_are_spaced_by_the_rate_and_a_burst_runs_ahead_only_once() {
        let (db, _dir) = db().await;
        let b = book(&db, 2.0, 1, 1_000, 8_000);
        let mut slots = Vec::new();
        for _ in 0..4 {
            slots.push(b.reserve("h").await.unwrap());
        }
        assert_eq!(offsets(&slots), [0, 500, 1_000, 1_500]);
        let asked = b.now_ms();
        assert!(
            b.reserve("other").await.unwrap() <= b.now_ms().max(asked),
            "hosts have their own buckets"
        );

        let bursty = book(&db, 2.0, 3, 1_000, 8_000);
        let mut slots = Vec::new();
        for _ in 0..3 {
            let asked = bursty.now_ms();
            let slot = bursty.reserve("b").await.unwrap();
            assert!(
                slot <= bursty.now_ms() && slot >= asked,
                "a burst goes at once"
            );
            slots.push(slot);
        }
        for _ in 0..2 {
            slots.push(bursty.reserve("b").await.unwrap());
        }
        assert_eq!(slots[3] - slots[0], 500, "{slots:?}");
        assert_eq!(slots[4] - slots[0], 1_000, "{slots:?}");
    }

    #[tokio::test]
    async fn replicas_share_one_bucket_per_host() {
        let (db, _dir) = db().await;
        let (one, two) = (
            book(&db, 2.0, 1, 1_000, 8_000),
            book(&db, 2.0, 1, 1_000, 8_000),
        );
        let mut slots = Vec::new();
        for i in 0..6 {
            let replica = if i % 2 == 0 { &one } else { &two };
            slots.push(replica.reserve("h").await.unwrap());
        }
        assert_eq!(offsets(&slots), [0, 500, 1_000, 1_500, 2_000, 2_500]);
    }

    #[tokio::test]
    async fn failures_double_the_back_off_up_to_the_cap_and_success_ends_it() {
        let (db, _dir) = db().await;
        let b = book(&db, 0.0, 1, 10_000, 35_000);
        let mut seen = Vec::new();
        for _ in 0..4 {
            b.record("h", HostOutcome::RobotCheck).await.unwrap();
            seen.push(b.backing_off("h").await.unwrap().unwrap().as_secs_f64());
        }
        let within = |got: f64, nominal: f64| got >= nominal * 0.8 - 0.01 && got < nominal * 1.2;
        assert!(within(seen[0], 10.0), "{seen:?}");
        assert!(within(seen[1], 20.0), "{seen:?}");
        assert!(within(seen[2], 35.0), "capped: {seen:?}");
        assert!(within(seen[3], 35.0), "{seen:?}");
        let elsewhere = book(&db, 0.0, 1, 10_000, 35_000);
        assert!(
            elsewhere.backing_off("h").await.unwrap().is_some(),
            "another replica sees the back-off"
        );
        let before = elsewhere.now_ms();
        assert!(
            elsewhere.reserve("h").await.unwrap() > before + 20_000,
            "a backed-off host gets no slot until it ends"
        );
        b.record("h", HostOutcome::Ok).await.unwrap();
        assert_eq!(b.backing_off("h").await.unwrap(), None);
        b.record("h", HostOutcome::PageError).await.unwrap();
        assert_eq!(
            b.backing_off("h").await.unwrap(),
            None,
            "a page's error is not the host's"
        );
        let health = elsewhere.health().await.unwrap();
        assert_eq!(health[0].robot_checks, 4);
        assert_eq!(health[0].requests, 6, "every answer counts as a request");
        assert_eq!(health[0].failures_in_row, 0);
        assert_eq!(health[0].last_outcome, Some(HostOutcome::PageError));
        assert!((health[0].robot_check_rate - 4.0 / 6.0).abs() < 1e-9);
    }
}
