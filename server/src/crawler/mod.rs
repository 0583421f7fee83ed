//! The verification crawler: fetch product pages politely, read them with the same core
//! rules the extension uses, and report what they say as the crawler's own signed reports
//! through the same ingest path browsers use, so judging, history and the outbox are
//! identical. Verification crawls also pass a verdict on the report they check.
//!
//! # How a job runs
//! 1. The scheduler ([`schedule`]) claims the best due job under a lease: verifications first
//!    (suspicion × (1 + subscribers)), then refreshes (staleness × interest, core's
//!    priority), skipping marketplaces whose host is backing off.
//! 2. The host's robots.txt is honoured ([`robots`], cached per host), then the page is
//!    fetched ([`fetch`]) once the host's token bucket gives a slot ([`hosts`]).
//! 3. A robot check, 503, 429 or silence backs the host off exponentially (with jitter) and
//!    puts the job back; a page's own error retries the job later; after
//!    `max_attempts` the job gives up and says so in its result.
//! 4. A readable page becomes a [`Truth`](verdict::Truth). A verification judges its report
//!    against it ([`verdict`]); then the truth is signed by the crawler's key ([`identity`])
//!    and ingested.
//! 5. The job is finished with its result (what the admin review queue shows), and the
//!    product's next refresh is scheduled from its volatility and interest.
//!
//! # Layout
//! - [`settings`]: `[crawler]`. [`admin`]: service functions behind the admin [`routes`].

pub mod admin;
pub mod fetch;
pub mod hosts;
pub mod identity;
pub mod robots;
pub mod routes;
pub mod schedule;
pub mod settings;
pub mod verdict;

use std::sync::Arc;
use std::time::{Duration, Instant};

use pricewatch_core::html::HtmlPage;
use pricewatch_core::report::PriceReport;
use pricewatch_core::{extract, Asin, Marketplace, Observation, PageContext, ReadError, Span};
use serde_json::{json, Value};
use tokio::sync::watch;
use tokio::task::JoinSet;
use tracing::Instrument;

use crate::error::ApiError;
use crate::ingest::{self, BatchItem};
use crate::state::AppState;
use crate::store::crawl_jobs::{self, Candidate, REFRESH, VERIFY};
use crate::store::products;

pub use hosts::{HostBook, HostHealth, HostOutcome};
pub use settings::CrawlerSettings;

use fetch::{FetchError, Fetcher};
use identity::{CrawlerIdentity, IdentityError};
use verdict::Truth;

/// `N` random bytes from the operating system.
pub(crate) fn random_bytes<const N: usize>() -> Result<[u8; N], String> {
    let mut buf = [0_u8; N];
    getrandom::getrandom(&mut buf).map_err(|e| e.to_string())?;
    Ok(buf)
}

/// A random factor in `[lo, hi)`, for jitter (the midpoint if the OS has no randomness).
pub(crate) fn jitter(lo: f64, hi: f64) -> f64 {
    match random_bytes::<8>() {
        Ok(b) => lo + (hi - lo) * (u64::from_le_bytes(b) >> 11) as f64 / (1_u64 << 53) as f64,
        Err(_) => (lo + hi) / 2.0,
    }
}

/// Why the crawler could not start.
#[derive(Debug, thiserror::Error)]
pub enum CrawlerError {
    #[error(transparent)]
    Identity(#[from] IdentityError),
    #[error("building the HTTP client: {0}")]
    Client(#[from] FetchError),
}

/// What one crawl attempt came to.
#[derive(Debug)]
enum Crawl {
    /// The host is backing off: not tried.
    NotTried,
    /// robots.txt forbids the page.
    Disallowed,
    Observed {
        observation: Box<Observation>,
        status: u16,
        elapsed_ms: u64,
    },
    RobotCheck {
        elapsed_ms: u64,
    },
    /// 503 or 429.
    Unavailable {
        status: u16,
    },
    NotFound {
        status: u16,
    },
    /// Another status the page itself is to blame for.
    HttpError {
        status: u16,
    },
    /// Not a product page (or not one the rules can read).
    Unreadable {
        status: u16,
        reason: String,
    },
    Failed {
        error: String,
        host_failure: bool,
    },
}

impl Crawl {
    fn outcome(&self) -> &'static str {
        match self {
            Crawl::NotTried => "not_tried",
            Crawl::Disallowed => "disallowed_by_robots",
            Crawl::Observed { .. } => "observed",
            Crawl::RobotCheck { .. } => "robot_check",
            Crawl::Unavailable { .. } => "unavailable",
            Crawl::NotFound { .. } => "not_found",
            Crawl::HttpError { .. } => "http_error",
            Crawl::Unreadable { .. } => "unreadable",
            Crawl::Failed { .. } => "fetch_failed",
        }
    }

    fn status(&self) -> Option<u16> {
        match self {
            Crawl::Observed { status, .. }
            | Crawl::Unavailable { status }
            | Crawl::NotFound { status }
            | Crawl::HttpError { status }
            | Crawl::Unreadable { status, .. } => Some(*status),
            Crawl::RobotCheck { .. } => Some(200),
            _ => None,
        }
    }
}

struct Inner {
    state: AppState,
    settings: CrawlerSettings,
    fetcher: Fetcher,
    identity: CrawlerIdentity,
    /// Names this process's claims.
    worker: String,
}

/// The crawler service: cheap to clone, shared by its worker tasks.
#[derive(Clone)]
pub struct Crawler {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Crawler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Crawler")
            .field("worker", &self.inner.worker)
            .field("identity", &self.inner.identity)
            .finish()
    }
}

impl Crawler {
    /// Load (or make) the crawler's identity and build its HTTP client.
    pub async fn new(state: AppState) -> Result<Crawler, CrawlerError> {
        let settings = state.settings.crawler.clone();
        let identity = CrawlerIdentity::load(
            &state.db.write,
            settings.key_seed.as_deref(),
            state.clock.now(),
        )
        .await?;
        let fetcher = Fetcher::new(&settings, &state.settings.public_url)?;
        let suffix = random_bytes::<4>().map_or(0, u32::from_le_bytes);
        let worker = format!("crawler-{}-{suffix:08x}", std::process::id());
        tracing::info!(%worker, key = %identity.public_key(), user_agent = fetcher.user_agent(), "crawler ready");
        Ok(Crawler {
            inner: Arc::new(Inner {
                state,
                settings,
                fetcher,
                identity,
                worker,
            }),
        })
    }

    /// The crawler's reporter row.
    pub fn reporter_id(&self) -> i64 {
        self.inner.identity.reporter_id
    }

    /// Run until `stop` turns true: claim due jobs while fewer than `concurrency` are in
    /// flight, queue refreshes for new products now and then, and on stop let in-flight
    /// crawls finish (bounded by the request timeout; leases cover the rest).
    pub fn spawn(self, mut stop: watch::Receiver<bool>) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            let settings = &self.inner.settings;
            let concurrency = settings.concurrency.max(1);
            let seed_every = Duration::from_secs(settings.seed_interval_secs.max(1));
            let mut last_seed: Option<Instant> = None;
            let mut workers = JoinSet::new();
            loop {
                if *stop.borrow() {
                    break;
                }
                if last_seed.is_none_or(|t| t.elapsed() >= seed_every) {
                    if let Err(e) = self.seed().await {
                        tracing::error!(error = %e, "queueing refreshes");
                    }
                    last_seed = Some(Instant::now());
                }
                while workers.len() < concurrency {
                    match self.claim().await {
                        Ok(Some(job)) => {
                            let me = self.clone();
                            workers.spawn(async move { me.run_job(job).await });
                        }
                        Ok(None) => break,
                        Err(e) => {
                            tracing::error!(error = %e, "claiming a crawl job");
                            break;
                        }
                    }
                }
                tokio::select! {
                    _ = stop.changed() => break,
                    Some(done) = workers.join_next(), if !workers.is_empty() => {
                        if let Err(e) = done {
                            tracing::error!(error = %e, "crawl worker failed");
                        }
                    }
                    () = tokio::time::sleep(settings.poll_interval()) => {}
                }
            }
            let grace = Duration::from_millis(settings.request_timeout_ms.max(1));
            let drained = tokio::time::timeout(grace, async {
                while workers.join_next().await.is_some() {}
            })
            .await;
            if drained.is_err() {
                workers.shutdown().await;
            }
            tracing::info!("crawler stopped");
        })
    }

    /// Plan refreshes: queue one for each product that has none, and reschedule those of
    /// products whose history changed since their refresh was planned.
    pub async fn seed(&self) -> Result<u64, sqlx::Error> {
        let state = &self.inner.state;
        let now = state.clock.now();
        let mut tx = state.db.write.begin().await?;
        let seeded = crawl_jobs::seed_refreshes(&mut tx, now, 1_000).await?;
        let moved =
            schedule::reschedule_changed(&mut tx, &self.inner.settings.schedule(), now, 1_000)
                .await?;
        tx.commit().await?;
        if seeded > 0 || moved > 0 {
            tracing::debug!(seeded, rescheduled = moved, "refreshes planned");
        }
        Ok(seeded)
    }

    /// Queue refreshes, then claim and run due jobs one at a time until none is due (or
    /// `limit` ran). For tests and benchmarks that drive time themselves. Returns how many
    /// jobs ran.
    pub async fn run_due(&self, limit: usize) -> Result<usize, sqlx::Error> {
        self.seed().await?;
        let mut ran = 0;
        while ran < limit {
            let Some(job) = self.claim().await? else {
                break;
            };
            self.run_job(job).await;
            ran += 1;
        }
        Ok(ran)
    }

    /// Marketplaces whose host is backing off, so claims pass their jobs by.
    async fn backed_off(&self) -> Result<Vec<Marketplace>, sqlx::Error> {
        let hosts = self.inner.state.crawl_hosts.backing_off_hosts().await?;
        if hosts.is_empty() {
            return Ok(Vec::new());
        }
        Ok(Marketplace::ALL
            .into_iter()
            .filter(|m| {
                fetch::origin(&self.inner.settings.base_url(*m))
                    .is_some_and(|o| hosts.contains_key(&o))
            })
            .collect())
    }

    /// Claim the best due job: a verification if any is due, else core's pick among the
    /// longest-due refreshes.
    async fn claim(&self) -> Result<Option<Candidate>, sqlx::Error> {
        let state = &self.inner.state;
        let now = state.clock.now();
        let skip = self.backed_off().await?;
        let until = now + Span::seconds(self.inner.settings.lease_secs.max(1));
        let mut tx = state.db.write.begin().await?;
        let mut chosen = crawl_jobs::due(&mut tx, state.db.backend, VERIFY, now, &skip, 1)
            .await?
            .pop();
        if chosen.is_none() {
            let mut refreshes = crawl_jobs::due(
                &mut tx,
                state.db.backend,
                REFRESH,
                now,
                &skip,
                schedule::REFRESH_CANDIDATES,
            )
            .await?;
            chosen = schedule::pick_refresh(&refreshes, &self.inner.settings.schedule(), now)
                .map(|i| refreshes.swap_remove(i));
        }
        if let Some(job) = &chosen {
            crawl_jobs::claim(&mut tx, job.id, &self.inner.worker, until).await?;
        }
        tx.commit().await?;
        Ok(chosen)
    }

    async fn run_job(&self, job: Candidate) {
        let span = tracing::info_span!(
            "crawl_job",
            job_id = job.id,
            kind = %job.kind,
            marketplace = %job.key.marketplace,
            asin = %job.key.asin,
            report_id = job.report_id,
        );
        async {
            let url = self.inner.settings.product_url(&job.key);
            let crawl = self.crawl(&job, &url).await;
            metrics::counter!("crawls_total", "outcome" => crawl.outcome()).increment(1);
            if let Err(e) = self.settle(&job, &url, crawl).await {
                // The lease runs out and the job is tried again.
                tracing::error!(error = format!("{e:#}"), "recording a crawl");
            }
        }
        .instrument(span)
        .await;
    }

    /// Fetch and read the page, minding robots.txt and the host's rate and back-off.
    async fn crawl(&self, job: &Candidate, url: &str) -> Crawl {
        let Some(origin) = fetch::origin(url) else {
            return Crawl::Failed {
                error: format!("not a URL: {url}"),
                host_failure: false,
            };
        };
        match self.try_crawl(job, url, &origin).await {
            Ok(crawl) => crawl,
            // The politeness rows could not be read or written: no request went out
            // unaccounted for, and the job is tried again later.
            Err(e) => Crawl::Failed {
                error: format!("host bookkeeping: {e}"),
                host_failure: false,
            },
        }
    }

    async fn try_crawl(
        &self,
        job: &Candidate,
        url: &str,
        origin: &str,
    ) -> Result<Crawl, sqlx::Error> {
        let (hosts, fetcher) = (&self.inner.state.crawl_hosts, &self.inner.fetcher);
        if hosts.backing_off(origin).await?.is_some() {
            return Ok(Crawl::NotTried);
        }
        let robots = match self.robots(origin).await? {
            Ok(robots) => robots,
            Err(crawl) => return Ok(crawl),
        };
        if !robots.allowed(&fetch::path_and_query(url)) {
            return Ok(Crawl::Disallowed);
        }
        hosts.acquire(origin).await?;
        let fetched = match fetcher.get(url).await {
            Ok(f) => f,
            Err(e) => return self.failed(origin, e).await,
        };
        let elapsed_ms = u64::try_from(fetched.elapsed.as_millis()).unwrap_or(u64::MAX);
        metrics::histogram!("crawl_fetch_seconds").record(fetched.elapsed.as_secs_f64());
        let status = fetched.status;
        match status {
            200..=299 => {}
            404 | 410 => {
                hosts.record(origin, HostOutcome::Ok).await?;
                return Ok(Crawl::NotFound { status });
            }
            429 | 503 => {
                hosts.record(origin, HostOutcome::Unavailable).await?;
                return Ok(Crawl::Unavailable { status });
            }
            _ => {
                hosts.record(origin, HostOutcome::PageError).await?;
                return Ok(Crawl::HttpError { status });
            }
        }
        let ctx = PageContext {
            marketplace: Some(job.key.marketplace),
            url_asin: Asin::from_url(url).ok().or(Some(job.key.asin)),
        };
        // Parsing a page takes milliseconds of CPU: off the async workers.
        let read = tokio::task::spawn_blocking(move || {
            let page = HtmlPage::parse(&fetched.body);
            extract(&page, &ctx)
        })
        .await;
        Ok(match read {
            Ok(Ok(observation)) => {
                hosts.record(origin, HostOutcome::Ok).await?;
                Crawl::Observed {
                    observation: Box::new(observation),
                    status,
                    elapsed_ms,
                }
            }
            Ok(Err(ReadError::Blocked { .. })) => {
                hosts.record(origin, HostOutcome::RobotCheck).await?;
                Crawl::RobotCheck { elapsed_ms }
            }
            Ok(Err(e)) => {
                hosts.record(origin, HostOutcome::Ok).await?;
                Crawl::Unreadable {
                    status,
                    reason: e.to_string(),
                }
            }
            Err(e) => Crawl::Failed {
                error: format!("reading the page: {e}"),
                host_failure: false,
            },
        })
    }

    /// The host's robots.txt rules, fetched once per TTL per replica: the workers that find
    /// them missing wait for the one fetching them. `Err` is what the crawl came to when the
    /// rules could not be had.
    async fn robots(&self, origin: &str) -> Result<Result<robots::Robots, Crawl>, sqlx::Error> {
        let (hosts, fetcher) = (&self.inner.state.crawl_hosts, &self.inner.fetcher);
        let ttl = Duration::from_secs(self.inner.settings.robots_ttl_secs);
        if let Some(r) = hosts.robots(origin, ttl) {
            return Ok(Ok(r));
        }
        let _fetching = hosts.robots_turn(origin).await;
        if let Some(r) = hosts.robots(origin, ttl) {
            return Ok(Ok(r));
        }
        hosts.acquire(origin).await?;
        let robots = match fetcher.get(&format!("{origin}/robots.txt")).await {
            Ok(f) if (200..300).contains(&f.status) => robots::Robots::parse(&f.body),
            // RFC 9309: a server error means "assume everything is disallowed" for now.
            Ok(f) if f.status == 429 || f.status >= 500 => {
                hosts.record(origin, HostOutcome::Unavailable).await?;
                return Ok(Err(Crawl::Unavailable { status: f.status }));
            }
            // Any other answer (404, 403): there are no rules.
            Ok(_) => robots::Robots::allow_all(),
            Err(e) => return Ok(Err(self.failed(origin, e).await?)),
        };
        hosts.record(origin, HostOutcome::Ok).await?;
        hosts.set_robots(origin, robots.clone());
        Ok(Ok(robots))
    }

    async fn failed(&self, origin: &str, e: FetchError) -> Result<Crawl, sqlx::Error> {
        let host_failure = e.is_host_failure();
        self.inner
            .state
            .crawl_hosts
            .record(
                origin,
                if host_failure {
                    HostOutcome::Unreachable
                } else {
                    HostOutcome::PageError
                },
            )
            .await?;
        Ok(Crawl::Failed {
            error: e.to_string(),
            host_failure,
        })
    }

    /// Record what the crawl came to: retry, give up, or finish (with a verdict and the
    /// crawler's report when the page was read).
    async fn settle(&self, job: &Candidate, url: &str, crawl: Crawl) -> anyhow::Result<()> {
        let state = &self.inner.state;
        let settings = &self.inner.settings;
        let now = state.clock.now();
        let mut result = json!({
            "outcome": crawl.outcome(),
            "url": url,
            "http_status": crawl.status(),
            "crawled_at": now,
            "attempt": job.attempts + 1,
        });
        match crawl {
            Crawl::NotTried => {
                let mut conn = state.db.write.acquire().await?;
                crawl_jobs::release(
                    &mut conn,
                    job.id,
                    &self.inner.worker,
                    pricewatch_core::Timestamp::from_millis(job.due_at),
                    false,
                    None,
                )
                .await?;
                Ok(())
            }
            Crawl::RobotCheck { elapsed_ms } => {
                result["elapsed_ms"] = json!(elapsed_ms);
                // The host's back-off decides when it is tried again, not the job.
                self.retry(job, result, now).await
            }
            Crawl::Unavailable { .. } => self.retry(job, result, now).await,
            Crawl::Failed {
                error,
                host_failure,
            } => {
                result["error"] = json!(error);
                let due = if host_failure {
                    now
                } else {
                    now + self.page_error_delay(job, &mut result)
                };
                self.retry(job, result, due).await
            }
            Crawl::HttpError { .. } => {
                let due = now + self.page_error_delay(job, &mut result);
                self.retry(job, result, due).await
            }
            Crawl::Unreadable { reason, .. } => {
                result["reason"] = json!(reason);
                self.finish(job, &result, false).await
            }
            Crawl::Disallowed | Crawl::NotFound { .. } => self.finish(job, &result, false).await,
            Crawl::Observed {
                observation,
                elapsed_ms,
                ..
            } => {
                result["elapsed_ms"] = json!(elapsed_ms);
                self.observed(job, &observation, result, settings.tolerance_bp)
                    .await
            }
        }
    }

    /// The wait after the page itself answered with an error, counted in `result` as one
    /// more error in a row.
    fn page_error_delay(&self, job: &Candidate, result: &mut Value) -> Span {
        result[crawl_jobs::ERRORS_IN_ROW] = json!(job.errors_in_row + 1);
        self.retry_delay(job.errors_in_row)
    }

    /// `retry_base × 2^errors × jitter[0.5, 1.5)` for the page errors in a row before this
    /// one, capped at a day.
    fn retry_delay(&self, errors: i64) -> Span {
        let base = self.inner.settings.retry_base_secs.max(1) as f64 * 1000.0;
        let doubling = 2_f64.powi(i32::try_from(errors.clamp(0, 20)).unwrap_or(20));
        let ms = (base * doubling * jitter(0.5, 1.5)).min(86_400_000.0);
        Span::millis(ms as i64)
    }

    /// Put the job back due at `due`, or give up after `max_attempts`.
    async fn retry(
        &self,
        job: &Candidate,
        mut result: Value,
        due: pricewatch_core::Timestamp,
    ) -> anyhow::Result<()> {
        if job.attempts + 1 >= self.inner.settings.max_attempts.max(1) {
            result["gave_up"] = json!(true);
            tracing::warn!(attempts = job.attempts + 1, outcome = %result["outcome"], "crawl job gave up");
            return self.finish(job, &result, false).await;
        }
        let mut conn = self.inner.state.db.write.acquire().await?;
        crawl_jobs::release(
            &mut conn,
            job.id,
            &self.inner.worker,
            due,
            true,
            Some(&result),
        )
        .await?;
        Ok(())
    }

    /// A readable page: judge the job's report against it, report it as the crawler, and
    /// finish the job.
    async fn observed(
        &self,
        job: &Candidate,
        obs: &Observation,
        mut result: Value,
        tolerance_bp: u32,
    ) -> anyhow::Result<()> {
        let state = &self.inner.state;
        let now = state.clock.now();
        let public = obs.public_price();
        result["observation"] = json!({
            "asin": obs.asin,
            "title": obs.title,
            "price": obs.price,
            "availability": obs.availability,
            "price_is_personal": obs.price_is_personal,
            "price_in_cart": obs.price_in_cart,
            "price_range": obs.price_range,
        });
        let unreadable = if obs.asin != job.key.asin {
            Some("the page shows another ASIN")
        } else if obs.price.is_some() && public.is_none() {
            Some("only a personal or foreign-currency price is shown")
        } else if obs.price.is_none() && obs.price_in_cart {
            Some("the price is only shown in the cart")
        } else if obs.price.is_none() && obs.price_range.is_some() {
            Some("only a price range is shown")
        } else {
            None
        };
        if let Some(reason) = unreadable {
            result["outcome"] = json!("unreadable");
            result["reason"] = json!(reason);
            return self.finish(job, &result, true).await;
        }
        let truth = Truth {
            price: public,
            availability: obs.availability,
            observed_at: now,
        };
        if let (VERIFY, Some(report_id)) = (job.kind.as_str(), job.report_id) {
            let mut tx = state.db.write.begin().await?;
            let judged = verdict::judge_report(
                &mut tx,
                state.db.backend,
                &job.key,
                report_id,
                &truth,
                tolerance_bp,
                now,
            )
            .await?;
            tx.commit().await?;
            metrics::counter!("verifications_total", "verdict" => format!("{:?}", judged.verdict).to_lowercase()).increment(1);
            result["verdict"] = serde_json::to_value(judged.verdict)?;
            result["report_status_before"] = json!(judged.status_before);
            result["reverted_points"] = json!(judged.reverted_points);
        }
        let report = PriceReport {
            marketplace: job.key.marketplace,
            asin: job.key.asin,
            price: public,
            currency: job.key.marketplace.currency(),
            availability: obs.availability,
            observed_at: now,
            client_version: String::new(),
            nonce: pricewatch_core::report::Nonce::from_bytes([0; 16]),
        };
        let signed = self.inner.identity.sign(report)?;
        let item = BatchItem {
            signed,
            title: obs.title.clone(),
        };
        match ingest::ingest(state, vec![item], "crawler").await {
            Ok(results) => {
                if let Some(r) = results.first() {
                    result["crawler_report"] = json!({
                        "id": r.report_id,
                        "status": r.status,
                        "decision": r.decision,
                    });
                }
                self.finish(job, &result, true).await
            }
            Err(ApiError::RateLimited { retry_after_secs }) => {
                // The verdict is recorded (and not counted again); only the report waits.
                result["error"] =
                    json!("ingest rate limit: raise ingest.per_ip_per_minute for the crawler");
                let due = now + Span::seconds(i64::try_from(retry_after_secs).unwrap_or(60));
                self.retry(job, result, due).await
            }
            Err(e) => Err(anyhow::anyhow!("ingesting the crawler's report: {e}")),
        }
    }

    /// Finish the job and schedule the product's next refresh, in one transaction. The
    /// product is locked first: two jobs of one product (a verification and a refresh)
    /// finishing at once would otherwise lock the product and the pending refresh in
    /// opposite orders (one completes the refresh row, the other has set `last_crawled_at`),
    /// and PostgreSQL would fail one of them as a deadlock.
    async fn finish(&self, job: &Candidate, result: &Value, crawled: bool) -> anyhow::Result<()> {
        let state = &self.inner.state;
        let now = state.clock.now();
        let mut tx = state.db.write.begin().await?;
        products::lock(&mut tx, state.db.backend, job.product_id).await?;
        if !crawl_jobs::complete(&mut tx, job.id, &self.inner.worker, result, now).await? {
            tracing::warn!("lease lost before the crawl was recorded; another replica has it");
            return Ok(());
        }
        if crawled {
            crawl_jobs::set_last_crawled(&mut tx, job.product_id, now).await?;
        }
        let (due, interval, weight) = schedule::next_refresh(
            &mut tx,
            job.product_id,
            job.key.marketplace.currency(),
            job.subscribers,
            &self.inner.settings.schedule(),
            now,
            now,
        )
        .await?;
        crawl_jobs::schedule_refresh(
            &mut tx,
            job.product_id,
            due,
            interval.as_millis(),
            weight,
            now,
        )
        .await?;
        tx.commit().await?;
        tracing::info!(outcome = %result["outcome"], verdict = %result["verdict"], next_refresh_in_s = interval.as_millis() / 1000, "crawl recorded");
        Ok(())
    }
}

/// The crawler task started by [`start`].
#[derive(Debug)]
pub struct CrawlerTask {
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl CrawlerTask {
    /// Stop claiming, let in-flight crawls finish, and wait for the task.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}

/// Start the crawler task if `crawler.enabled`; a crawler that cannot start (no identity)
/// is logged and the server runs without it.
pub async fn start(state: &AppState) -> Option<CrawlerTask> {
    if !state.settings.crawler.enabled {
        return None;
    }
    match Crawler::new(state.clone()).await {
        Ok(crawler) => {
            let (stop, stopped) = watch::channel(false);
            Some(CrawlerTask {
                stop,
                task: crawler.spawn(stopped),
            })
        }
        Err(e) => {
            tracing::error!(error = %e, "the crawler cannot start; verifications will wait");
            None
        }
    }
}
