//! What to crawl next: verifications first (by suspicion × subscribers, as ingest queued
//! them), then due refreshes ordered by core's staleness × interest; and after each crawl,
//! when to refresh the product again (core's adaptive interval: volatile products sooner,
//! stable ones later, popular ones sooner, within bounds).

use pricewatch_core::schedule::{self, priority, CrawlJob, Interest, ScheduleConfig, Volatility};
use pricewatch_core::{Currency, Span, Timestamp};
use sqlx::AnyConnection;

use crate::store::crawl_jobs::{self, Candidate};
use crate::store::points;

/// Due refreshes looked at per claim: they come oldest-due first, and core's priority
/// (staleness in intervals × interest) picks among them.
pub const REFRESH_CANDIDATES: i64 = 64;

/// The interest core weighs. Page views are not counted per day yet, so only subscribers
/// count.
pub fn interest(subscribers: i64) -> Interest {
    Interest {
        subscribers: u32::try_from(subscribers.max(0)).unwrap_or(u32::MAX),
        views_per_day: 0,
    }
}

/// The refresh among `candidates` core ranks highest at `now`.
pub fn pick_refresh(
    candidates: &[Candidate],
    config: &ScheduleConfig,
    now: Timestamp,
) -> Option<usize> {
    candidates
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let job = CrawlJob::Refresh {
                last_checked_at: c.last_crawled_at.map(Timestamp::from_millis),
                interval: c.interval_ms.map_or(config.max_interval, Span::millis),
                interest: interest(c.subscribers),
            };
            // A job due by its own clock is due: a changed interval must not hide it.
            let p = priority(&job, now).unwrap_or(schedule::Priority {
                tier: schedule::Tier::Refresh,
                score: 0.0,
            });
            (i, p)
        })
        .max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(&a.0)))
        .map(|(i, _)| i)
}

/// The product's next refresh after a crawl at `from`: its adaptive interval (from the
/// published history in the volatility window before `now`, and its subscribers) later.
pub async fn next_refresh(
    conn: &mut AnyConnection,
    product_id: i64,
    currency: Currency,
    subscribers: i64,
    config: &ScheduleConfig,
    from: Timestamp,
    now: Timestamp,
) -> Result<(Timestamp, Span, f64), sqlx::Error> {
    let history = points::since(conn, product_id, currency, now - config.volatility_window).await?;
    let history: Vec<_> = history.into_iter().map(|p| p.point).collect();
    let volatility = Volatility::from_points(&history, now, config.volatility_window);
    let interest = interest(subscribers);
    let interval = schedule::recheck_interval(&volatility, &interest, config);
    Ok((from + interval, interval, interest.weight()))
}

/// Reschedule the refreshes of products whose history changed since their refresh was
/// planned (browsers reported meanwhile): a product that turns out volatile is crawled
/// sooner than its old interval said. Returns how many were rescheduled.
pub async fn reschedule_changed(
    conn: &mut AnyConnection,
    config: &ScheduleConfig,
    now: Timestamp,
    limit: i64,
) -> Result<usize, sqlx::Error> {
    let changed = crawl_jobs::changed_since_scheduled(conn, limit).await?;
    for c in &changed {
        let from = c.last_crawled_at.map_or(now, Timestamp::from_millis);
        let (due, interval, weight) = next_refresh(
            conn,
            c.product_id,
            c.currency,
            c.subscribers,
            config,
            from,
            now,
        )
        .await?;
        crawl_jobs::schedule_refresh(conn, c.product_id, due, interval.as_millis(), weight, now)
            .await?;
    }
    Ok(changed.len())
}
