//! Crawl scheduling: how soon to re-check a product (adaptive interval from its volatility
//! and the interest in it, within bounds) and in what order the crawl queue serves jobs.
//!
//! Scores are floats (they are ratios, never prices) built only from `+ − × ÷` and `sqrt`,
//! which IEEE 754 rounds exactly, so the server computes the same schedule on any machine.

use std::cmp::Ordering;

use serde::{Deserialize, Serialize};

use crate::history::PricePoint;
use crate::time::{Span, Timestamp};

const MS_PER_DAY: f64 = 86_400_000.0;

/// Bounds and sensitivities of the adaptive interval; one value for the whole crawler.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ScheduleConfig {
    /// Never re-check sooner than this: politeness to the shop, whatever the interest.
    pub min_interval: Span,
    /// Never leave a product longer than this, so history staleness stays bounded (the
    /// history's staleness limit must be longer).
    pub max_interval: Span,
    /// Checks per expected price change: 2 catches most changes within half their lifetime.
    pub checks_per_change: f64,
    /// A typical relative move of this size (0.10 = 10 %) doubles the urgency: big swings
    /// are deals and errors users care about, small repricer jitter is not.
    pub move_scale: f64,
    /// How far back volatility is measured.
    pub volatility_window: Span,
}

impl Default for ScheduleConfig {
    fn default() -> Self {
        ScheduleConfig {
            min_interval: Span::minutes(15),
            max_interval: Span::days(7),
            checks_per_change: 2.0,
            move_scale: 0.10,
            volatility_window: Span::days(30),
        }
    }
}

/// How much a product's price moves.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Volatility {
    /// Stored changes (price or availability) per day over the window.
    pub changes_per_day: f64,
    /// Mean of |new − old| / old over consecutive buyable prices in the window.
    pub mean_relative_move: f64,
}

impl Volatility {
    /// Measure volatility from a product's change-only points (oldest first) over the
    /// `window` before `now`. A product younger than the window is measured over its
    /// lifetime (at least a day), so a new volatile product is not mistaken for a calm one.
    pub fn from_points(points: &[PricePoint], now: Timestamp, window: Span) -> Volatility {
        let Some(first) = points.first() else {
            return Volatility::default();
        };
        let since = (now - window).max(first.first_seen_at);
        let span_days = ((now - since).as_millis() as f64 / MS_PER_DAY).max(1.0);
        let mut changes = 0_u32;
        let mut moves = 0.0_f64;
        let mut moved = 0_u32;
        // The first point is when the product was discovered, not a change.
        for pair in points.windows(2) {
            let (old, new) = (&pair[0], &pair[1]);
            if new.first_seen_at < since || new.first_seen_at > now {
                continue;
            }
            changes += 1;
            let prices = (
                old.price.filter(|_| old.is_buyable()),
                new.price.filter(|_| new.is_buyable()),
            );
            if let (Some(o), Some(n)) = prices {
                if o.currency == n.currency && o.amount_minor > 0 {
                    moves += (n.amount_minor - o.amount_minor).unsigned_abs() as f64
                        / o.amount_minor as f64;
                    moved += 1;
                }
            }
        }
        Volatility {
            changes_per_day: f64::from(changes) / span_days,
            mean_relative_move: if moved == 0 {
                0.0
            } else {
                moves / f64::from(moved)
            },
        }
    }
}

/// How many people care about a product.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Interest {
    /// Active (unpaused) subscriptions: each is a promise to alert promptly.
    pub subscribers: u32,
    /// Product page views per day on the website and extension.
    pub views_per_day: u32,
}

impl Interest {
    /// A multiplier ≥ 1 with diminishing returns: the first watchers matter most, and a
    /// viral product must not starve the rest of the queue.
    pub fn weight(&self) -> f64 {
        1.0 + f64::from(self.subscribers).sqrt() / 2.0 + f64::from(self.views_per_day).sqrt() / 10.0
    }
}

fn finite_non_negative(x: f64) -> f64 {
    if x.is_finite() && x > 0.0 {
        x
    } else {
        0.0
    }
}

/// How long to wait before re-checking a product: volatile products sooner, stable ones
/// later, popular ones sooner, always within `[min_interval, max_interval]`.
///
/// Checks per day = (changes/day × (1 + move / move_scale) × checks_per_change + 1 / max
/// days) × interest weight; the interval is its inverse. A product that never changes and
/// nobody watches lands on the maximum.
pub fn recheck_interval(
    volatility: &Volatility,
    interest: &Interest,
    config: &ScheduleConfig,
) -> Span {
    let (min, max) = (
        config.min_interval.as_millis().max(1),
        config.max_interval.as_millis().max(1),
    );
    let (min, max) = (min.min(max), max);
    let rate = finite_non_negative(volatility.changes_per_day);
    let scale = finite_non_negative(config.move_scale);
    let size = if scale > 0.0 {
        1.0 + finite_non_negative(volatility.mean_relative_move) / scale
    } else {
        1.0
    };
    let baseline = MS_PER_DAY / max as f64;
    let checks_per_day = (rate * size * finite_non_negative(config.checks_per_change) + baseline)
        * interest.weight();
    let ms = MS_PER_DAY / checks_per_day;
    // `as` saturates; the clamp then brings any extreme back into bounds.
    Span((ms.round() as i64).clamp(min, max))
}

/// When to re-check a product last checked at `last_checked_at`.
pub fn next_check_at(
    last_checked_at: Timestamp,
    volatility: &Volatility,
    interest: &Interest,
    config: &ScheduleConfig,
) -> Timestamp {
    last_checked_at + recheck_interval(volatility, interest, config)
}

/// A job waiting in the crawl queue.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum CrawlJob {
    /// Check a suspicious reported price: published prices may be wrong until it runs.
    Verification {
        /// The judge's suspicion score, 0 to 1.
        suspicion: f64,
        /// Users who would be alerted (or misled) by the price.
        subscribers: u32,
    },
    /// A routine re-check.
    Refresh {
        /// `None` for a product never crawled, which is as stale as it gets.
        last_checked_at: Option<Timestamp>,
        /// The product's [`recheck_interval`].
        interval: Span,
        /// Weighs how much its staleness matters.
        interest: Interest,
    },
}

/// Which queue a job is served from; every verification goes before every refresh.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Tier {
    /// Routine re-checks.
    Refresh,
    /// Checks of suspicious published prices.
    Verification,
}

/// A job's place in the queue: higher is served first.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Priority {
    /// Compared first.
    pub tier: Tier,
    /// Verification: suspicion × (1 + subscribers). Refresh: how many intervals old the
    /// data is × the interest weight.
    pub score: f64,
}

impl Eq for Priority {}

impl PartialOrd for Priority {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Priority {
    fn cmp(&self, other: &Self) -> Ordering {
        self.tier
            .cmp(&other.tier)
            .then(self.score.total_cmp(&other.score))
    }
}

/// How stale a never-crawled product counts as, in intervals: ahead of any crawled one
/// with the same interest that is less than a thousand intervals late.
const NEVER_CHECKED_INTERVALS: f64 = 1_000.0;
/// Score resolution of [`Priority::rank`]: thousandths.
const RANK_SCALE: f64 = 1_000.0;
const RANK_TIER_BIT: u32 = 52;

impl Priority {
    /// The priority as one integer that orders like [`Priority`] (up to thousandths of the
    /// score), for an indexed `priority BIGINT` column the queue is claimed by.
    pub fn rank(&self) -> i64 {
        let cap = (1_i64 << RANK_TIER_BIT) - 1;
        // `as` saturates and maps NaN to 0; the clamp keeps the tier bit clear.
        let score = ((finite_non_negative(self.score) * RANK_SCALE).floor() as i64).clamp(0, cap);
        let tier = match self.tier {
            Tier::Refresh => 0,
            Tier::Verification => 1_i64 << RANK_TIER_BIT,
        };
        tier | score
    }
}

/// A job's priority at `now`; `None` for a refresh that is not due yet.
pub fn priority(job: &CrawlJob, now: Timestamp) -> Option<Priority> {
    match *job {
        CrawlJob::Verification {
            suspicion,
            subscribers,
        } => Some(Priority {
            tier: Tier::Verification,
            score: finite_non_negative(suspicion) * (1.0 + f64::from(subscribers)),
        }),
        CrawlJob::Refresh {
            last_checked_at,
            interval,
            interest,
        } => {
            let intervals_old = match last_checked_at {
                None => NEVER_CHECKED_INTERVALS,
                Some(last) => {
                    let interval = interval.as_millis().max(1);
                    let age = (now - last).as_millis();
                    if age < interval {
                        return None;
                    }
                    age as f64 / interval as f64
                }
            };
            Some(Priority {
                tier: Tier::Refresh,
                score: intervals_old * interest.weight(),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::HistoryConfig;
    use crate::money::{Currency, Money};
    use crate::observation::Availability;
    use proptest::prelude::*;

    const NOW: Timestamp = Timestamp(1_700_000_000_000);

    fn interval(
        changes_per_day: f64,
        mean_relative_move: f64,
        subscribers: u32,
        views_per_day: u32,
    ) -> Span {
        recheck_interval(
            &Volatility {
                changes_per_day,
                mean_relative_move,
            },
            &Interest {
                subscribers,
                views_per_day,
            },
            &ScheduleConfig::default(),
        )
    }

    fn point(price: i64, availability: Availability, first: Timestamp) -> PricePoint {
        PricePoint {
            price: Some(Money::new(price, Currency::Usd)),
            availability,
            first_seen_at: first,
            last_seen_at: first,
        }
    }

    #[test]
    fn intervals_follow_volatility_and_interest_within_bounds() {
        let cases = [
            (
                "a calm product nobody watches waits the maximum",
                interval(0.0, 0.0, 0, 0),
                Span::days(7),
            ),
            (
                "one watcher weighs 1.5: 7 days / 1.5",
                interval(0.0, 0.0, 1, 0),
                Span(403_200_000),
            ),
            (
                "four changes a day, tiny moves: 86 400 s / (4 × 2 + 1/7)",
                interval(4.0, 0.0, 0, 0),
                Span(10_610_526),
            ),
            (
                "four changes a day, 10 % moves: / (4 × 2 × 2 + 1/7)",
                interval(4.0, 0.10, 0, 0),
                Span(5_352_212),
            ),
            (
                "volatile and popular hits the minimum",
                interval(48.0, 0.3, 10_000, 100_000),
                Span::minutes(15),
            ),
            (
                "nonsense input is treated as calm",
                interval(f64::NAN, -1.0, 0, 0),
                Span::days(7),
            ),
        ];
        for (why, got, expected) in cases {
            assert_eq!(got, expected, "{why}");
        }
    }

    #[test]
    fn the_history_staleness_limit_outlasts_the_longest_recheck_interval() {
        assert!(HistoryConfig::default().staleness > ScheduleConfig::default().max_interval);
    }

    #[test]
    fn volatility_counts_changes_per_day_and_their_mean_relative_size() {
        let day = Span::days(1);
        let points = [
            point(1_000, Availability::InStock, NOW - Span::days(40)),
            point(1_100, Availability::InStock, NOW - Span::days(20)),
            point(1_100, Availability::OutOfStock, NOW - Span::days(10)),
            point(990, Availability::InStock, NOW - Span::days(5)),
            point(891, Availability::InStock, NOW - day),
        ];
        let got = Volatility::from_points(&points, NOW, Span::days(30));
        // 4 changes in 30 days; moves: +10 % and −10 % (the out-of-stock pair counts no move).
        assert_eq!(got.changes_per_day, 4.0 / 30.0);
        assert!((got.mean_relative_move - 0.10).abs() < 1e-12, "{got:?}");

        let young = Volatility::from_points(&points[3..], NOW, Span::days(30));
        assert_eq!(
            young.changes_per_day,
            1.0 / 5.0,
            "measured over its 5-day life"
        );
        assert_eq!(
            Volatility::from_points(&[], NOW, day),
            Volatility::default()
        );
    }

    #[test]
    fn verification_outranks_every_refresh_and_orders_by_suspicion_times_subscribers() {
        let verify = |suspicion, subscribers| CrawlJob::Verification {
            suspicion,
            subscribers,
        };
        let stale_popular = CrawlJob::Refresh {
            last_checked_at: None,
            interval: Span::hours(1),
            interest: Interest {
                subscribers: u32::MAX,
                views_per_day: u32::MAX,
            },
        };
        let mut jobs = [
            verify(0.9, 0),
            stale_popular,
            verify(0.2, 10),
            verify(0.0, 0),
        ];
        jobs.sort_by_key(|j| std::cmp::Reverse(priority(j, NOW)));
        let order: Vec<Option<Tier>> = jobs
            .iter()
            .map(|j| priority(j, NOW).map(|p| p.tier))
            .collect();
        assert_eq!(
            order,
            vec![
                Some(Tier::Verification),
                Some(Tier::Verification),
                Some(Tier::Verification),
                Some(Tier::Refresh)
            ]
        );
        assert_eq!(jobs[0], verify(0.2, 10), "0.2 × 11 beats 0.9 × 1");
    }

    #[test]
    fn refreshes_are_due_after_their_interval_and_ordered_by_staleness_times_interest() {
        let refresh = |hours_ago, subscribers| CrawlJob::Refresh {
            last_checked_at: Some(NOW - Span::hours(hours_ago)),
            interval: Span::hours(4),
            interest: Interest {
                subscribers,
                views_per_day: 0,
            },
        };
        assert_eq!(priority(&refresh(3, 100), NOW), None, "not due yet");
        let score = |job| priority(&job, NOW).map(|p| p.score);
        assert_eq!(score(refresh(4, 0)), Some(1.0));
        assert_eq!(score(refresh(8, 0)), Some(2.0));
        assert_eq!(
            score(refresh(4, 4)),
            Some(2.0),
            "4 subscribers weigh 1 + √4 / 2 = 2"
        );
        assert!(priority(&refresh(8, 4), NOW) > priority(&refresh(12, 0), NOW));
    }

    proptest! {
        #[test]
        fn the_interval_stays_in_bounds_and_never_grows_with_volatility_or_interest(
            rate in 0.0_f64..500.0, more_rate in 0.0_f64..50.0,
            moves in 0.0_f64..2.0, more_moves in 0.0_f64..1.0,
            subs in 0_u32..1_000_000, more_subs in 0_u32..1_000,
            views in 0_u32..1_000_000, more_views in 0_u32..1_000,
        ) {
            let config = ScheduleConfig::default();
            let base = interval(rate, moves, subs, views);
            prop_assert!(config.min_interval <= base && base <= config.max_interval);
            prop_assert!(interval(rate + more_rate, moves, subs, views) <= base);
            prop_assert!(interval(rate, moves + more_moves, subs, views) <= base);
            prop_assert!(interval(rate, moves, subs + more_subs, views) <= base);
            prop_assert!(interval(rate, moves, subs, views + more_views) <= base);
        }

        #[test]
        fn the_integer_rank_orders_like_the_priority(
            a_tier in any::<bool>(), a_score in 0.0_f64..1e9,
            b_tier in any::<bool>(), b_score in 0.0_f64..1e9,
        ) {
            let tier = |v| if v { Tier::Verification } else { Tier::Refresh };
            let a = Priority { tier: tier(a_tier), score: a_score };
            let b = Priority { tier: tier(b_tier), score: b_score };
            if a > b {
                prop_assert!(a.rank() >= b.rank());
            } else {
                prop_assert!(a.rank() <= b.rank());
            }
            if a.tier != b.tier {
                prop_assert_eq!(a.rank() > b.rank(), a.tier > b.tier);
            }
        }
    }
}
