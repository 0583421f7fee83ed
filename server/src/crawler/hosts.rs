//! Politeness and health per host: a token bucket (GCRA) that spaces requests, exponential
//! back-off with jitter after robot checks, 503s, 429s and unreachable hosts, the host's
//! robots.txt, and counters for the admin view.
//!
//! Kept in memory per replica: N replicas crawling one host send at most N times the rate,
//! so deployments give each replica its share (`per_host_rps`). Timing uses tokio's clock,
//! never the application clock, so politeness holds whatever the tests do to "now".

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use serde::Serialize;
use tokio::time::Instant;

use super::robots::Robots;

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
}

#[derive(Debug, Default, Clone)]
struct Counters {
    requests: u64,
    ok: u64,
    robot_checks: u64,
    unavailable: u64,
    unreachable: u64,
    page_errors: u64,
}

#[derive(Debug)]
struct HostState {
    /// GCRA's theoretical arrival time: when the bucket is next full of one token.
    tat: Instant,
    backoff_until: Option<Instant>,
    failures_in_row: u32,
    counters: Counters,
    last_outcome: Option<HostOutcome>,
    robots: Option<(Robots, Instant)>,
}

impl HostState {
    fn new(now: Instant) -> HostState {
        HostState {
            tat: now,
            backoff_until: None,
            failures_in_row: 0,
            counters: Counters::default(),
            last_outcome: None,
            robots: None,
        }
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

/// Per-host politeness state.
#[derive(Debug)]
pub struct HostBook {
    /// Seconds between requests to one host; zero when the limit is lifted.
    interval: Duration,
    /// GCRA tolerance: how far ahead of schedule a burst may run.
    tolerance: Duration,
    backoff_base: Duration,
    backoff_max: Duration,
    hosts: Mutex<HashMap<String, HostState>>,
    /// One turn at a time per host while waiting for a slot.
    gates: Mutex<HashMap<String, std::sync::Arc<tokio::sync::Mutex<()>>>>,
}

impl HostBook {
    /// `rps` requests per second per host (≤ 0 or not finite lifts the limit: benchmarks),
    /// `burst` back to back after a quiet spell.
    pub fn new(rps: f64, burst: u32, backoff_base: Duration, backoff_max: Duration) -> HostBook {
        let interval = if rps.is_finite() && rps > 0.0 {
            Duration::from_secs_f64(1.0 / rps)
        } else {
            Duration::ZERO
        };
        HostBook {
            interval,
            tolerance: interval * burst.max(1).saturating_sub(1),
            backoff_base,
            backoff_max: backoff_max.max(backoff_base),
            hosts: Mutex::new(HashMap::new()),
            gates: Mutex::new(HashMap::new()),
        }
    }

    /// The book the `[crawler]` settings describe.
    pub fn from_settings(s: &super::CrawlerSettings) -> HostBook {
        HostBook::new(
            s.per_host_rps,
            s.per_host_burst,
            Duration::from_millis(s.backoff_base_ms),
            Duration::from_millis(s.backoff_max_ms),
        )
    }

    fn with<T>(&self, host: &str, f: impl FnOnce(&mut HostState, Instant) -> T) -> T {
        let now = Instant::now();
        let mut hosts = self.hosts.lock().unwrap_or_else(|p| p.into_inner());
        let state = hosts
            .entry(host.to_owned())
            .or_insert_with(|| HostState::new(now));
        f(state, now)
    }

    /// Reserve the next request slot on `host` and return when it is: every caller gets its
    /// own slot, so concurrent workers never exceed the rate together.
    pub fn reserve(&self, host: &str) -> Instant {
        let (interval, tolerance) = (self.interval, self.tolerance);
        self.with(host, |s, now| {
            let earliest = s.tat.checked_sub(tolerance).unwrap_or(now).max(now);
            let slot = match s.backoff_until {
                Some(until) if until > earliest => until,
                _ => earliest,
            };
            s.tat = s.tat.max(slot) + interval;
            s.counters.requests += 1;
            slot
        })
    }

    /// Wait for a slot on `host` (see [`HostBook::reserve`]). Waiters take turns per host,
    /// and the bucket counts from when a request actually leaves: a request that woke late
    /// (a busy machine) pushes the next one back rather than letting two go out close
    /// together.
    pub async fn acquire(&self, host: &str) {
        let gate = {
            let mut gates = self.gates.lock().unwrap_or_else(|p| p.into_inner());
            gates.entry(host.to_owned()).or_default().clone()
        };
        let _turn = gate.lock().await;
        let slot = self.reserve(host);
        tokio::time::sleep_until(slot).await;
        let interval = self.interval;
        self.with(host, |s, now| s.tat = s.tat.max(now + interval));
    }

    /// How long `host` is still backed off for, if it is.
    pub fn backing_off(&self, host: &str) -> Option<Duration> {
        self.with(host, |s, now| {
            s.backoff_until
                .filter(|u| *u > now)
                .map(|u| u.duration_since(now))
        })
    }

    /// Record what a request came to. A failure backs the host off for
    /// `base × 2^(failures in a row − 1)` (capped), times a jitter in [0.8, 1.2) so that
    /// replicas do not return in step; a normal answer ends the back-off.
    pub fn record(&self, host: &str, outcome: HostOutcome) {
        let (base, max) = (self.backoff_base, self.backoff_max);
        self.with(host, |s, now| {
            s.last_outcome = Some(outcome);
            let c = &mut s.counters;
            match outcome {
                HostOutcome::Ok => c.ok += 1,
                HostOutcome::RobotCheck => c.robot_checks += 1,
                HostOutcome::Unavailable => c.unavailable += 1,
                HostOutcome::Unreachable => c.unreachable += 1,
                HostOutcome::PageError => c.page_errors += 1,
            }
            if outcome.backs_off() {
                s.failures_in_row = s.failures_in_row.saturating_add(1);
                let doubling = 2_u32.saturating_pow(s.failures_in_row.saturating_sub(1).min(30));
                let delay = base.saturating_mul(doubling).min(max);
                let delay = delay.mul_f64(super::jitter(0.8, 1.2));
                s.backoff_until = Some(now + delay);
                tracing::warn!(
                    host,
                    ?outcome,
                    failures = s.failures_in_row,
                    backoff_ms = delay.as_millis() as u64,
                    "backing off host"
                );
            } else if outcome == HostOutcome::Ok {
                s.failures_in_row = 0;
                s.backoff_until = None;
            }
        });
    }

    /// The host's robots.txt rules, if fetched within `ttl`.
    pub fn robots(&self, host: &str, ttl: Duration) -> Option<Robots> {
        self.with(host, |s, now| {
            s.robots
                .as_ref()
                .filter(|(_, at)| now.duration_since(*at) < ttl)
                .map(|(r, _)| r.clone())
        })
    }

    pub fn set_robots(&self, host: &str, robots: Robots) {
        self.with(host, |s, now| s.robots = Some((robots, now)));
    }

    /// Every host seen, by name.
    pub fn health(&self) -> Vec<HostHealth> {
        let now = Instant::now();
        let hosts = self.hosts.lock().unwrap_or_else(|p| p.into_inner());
        let mut out: Vec<HostHealth> = hosts
            .iter()
            .map(|(host, s)| {
                let c = &s.counters;
                let answered =
                    c.ok + c.robot_checks + c.unavailable + c.unreachable + c.page_errors;
                let rate = |n: u64| {
                    if answered == 0 {
                        0.0
                    } else {
                        n as f64 / answered as f64
                    }
                };
                let remaining = s
                    .backoff_until
                    .filter(|u| *u > now)
                    .map(|u| u.duration_since(now));
                HostHealth {
                    host: host.clone(),
                    requests: c.requests,
                    success_rate: rate(c.ok),
                    robot_check_rate: rate(c.robot_checks),
                    robot_checks: c.robot_checks,
                    unavailable: c.unavailable,
                    unreachable: c.unreachable,
                    page_errors: c.page_errors,
                    failures_in_row: s.failures_in_row,
                    backing_off: remaining.is_some(),
                    backoff_remaining_ms: remaining
                        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX)),
                    last_outcome: s.last_outcome,
                }
            })
            .collect();
        out.sort_by(|a, b| a.host.cmp(&b.host));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn slots_are_spaced_by_the_rate_and_a_burst_runs_ahead_only_once() {
        let book = HostBook::new(2.0, 1, Duration::from_secs(1), Duration::from_secs(8));
        let t0 = Instant::now();
        let slots: Vec<Duration> = (0..4).map(|_| book.reserve("h") - t0).collect();
        assert_eq!(
            slots,
            [0, 500, 1000, 1500].map(Duration::from_millis).to_vec()
        );
        assert_eq!(book.reserve("other"), t0, "hosts have their own buckets");

        let bursty = HostBook::new(1.0, 3, Duration::from_secs(1), Duration::from_secs(8));
        let slots: Vec<Duration> = (0..5).map(|_| bursty.reserve("h") - t0).collect();
        assert_eq!(
            slots,
            [0, 0, 0, 1000, 2000].map(Duration::from_millis).to_vec()
        );
    }

    #[tokio::test(start_paused = true)]
    async fn failures_double_the_back_off_up_to_the_cap_and_success_ends_it() {
        let book = HostBook::new(0.0, 1, Duration::from_secs(10), Duration::from_secs(35));
        let mut seen = Vec::new();
        for _ in 0..4 {
            book.record("h", HostOutcome::RobotCheck);
            seen.push(book.backing_off("h").unwrap().as_secs_f64());
        }
        let within = |got: f64, nominal: f64| got >= nominal * 0.8 && got < nominal * 1.2;
        assert!(within(seen[0], 10.0), "{seen:?}");
        assert!(within(seen[1], 20.0), "{seen:?}");
        assert!(within(seen[2], 35.0), "capped: {seen:?}");
        assert!(within(seen[3], 35.0), "{seen:?}");
        let before = Instant::now();
        assert!(
            book.reserve("h") > before,
            "a backed-off host gets no slot until it ends"
        );
        book.record("h", HostOutcome::Ok);
        assert_eq!(book.backing_off("h"), None);
        book.record("h", HostOutcome::PageError);
        assert_eq!(
            book.backing_off("h"),
            None,
            "a page's error is not the host's"
        );
        let health = book.health();
        assert_eq!(health[0].robot_checks, 4);
        assert_eq!(health[0].failures_in_row, 0);
        assert!((health[0].robot_check_rate - 4.0 / 6.0).abs() < 1e-9);
    }
}
