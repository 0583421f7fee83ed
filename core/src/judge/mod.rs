//! The judge: what to do with one price report, given the product's recent history, how many
//! users watch it, and the reporter's reputation.
//!
//! # How a report is judged
//! 1. Impossible reports are rejected from anyone: a currency that is not the marketplace's,
//!    a price of zero or less or above the ceiling ([`ReportRules::check_content`](crate::report::ReportRules::check_content)).
//! 2. The crawler is accepted: its fetch is what verification means.
//! 3. Banned keys, and keys scoring below [`JudgeConfig::reject_reputation_below`], are
//!    rejected: their reports are not worth a verification crawl.
//! 4. A first price for a product (no accepted price yet) is accepted and verified, or held
//!    when it is outside a plausible band for the currency (a "$0.01" or "$50,000" product).
//! 5. Otherwise a suspicion in `[0, 1)` decides: below `accept_below` accept, below
//!    `verify_below` accept and verify, else hold for consensus or verification. A large
//!    drop (see [`JudgeConfig::large_change`]) is never merely accepted: it is at least
//!    verified, because it is what fires alerts and what an honest misread looks like.
//!
//! # Suspicion
//! ```text
//! impact    = min(1, ln(reference / price) / ln(R))          for a drop
//!           = rise_weight · min(1, ln(price / reference) / ln(R))  for a rise
//!           = vanish_impact                                   when the price vanished
//!           (+ flip_impact when availability flipped; capped at 1)
//! attention = 1 + min(1, ln(1 + subscribers) / ln(1 + S))     in [1, 2]
//! doubt     = doubt_floor + (1 − reputation)²
//! raw       = impact · attention · doubt
//! suspicion = raw / (raw + half_suspicion)
//! ```
//! `reference` is the median of the last [`JudgeConfig::history_len`] accepted prices, `R` is
//! [`JudgeConfig::full_impact_ratio`] (a 95% drop has full impact), `S` is
//! [`JudgeConfig::full_attention_subscribers`]. The impact is logarithmic so that it grows
//! faster than linearly with the size of a drop (90% is far worse than 60%); doubt is the
//! square of distrust so a long record buys much more than a few confirmations. With the
//! defaults: a trusted key (0.9) publishes drops up to about 75% on the most watched product
//! at once; a new key (0.2) publishes only changes of a few percent, and any drop of 20% or
//! more on a product someone watches is held.

mod config;
pub mod consensus;
mod reason;
mod reference;

use serde::{Deserialize, Serialize};

use crate::money::{Currency, Money};
use crate::observation::Availability;
use crate::report::{rough_dollar, PriceReport, ReportError};
use crate::reputation::{Reputation, Standing};
use crate::time::Timestamp;

pub use config::JudgeConfig;
pub use consensus::{ConsensusOutcome, ConsensusRules, ConsensusStep, HeldReport};
pub use reason::Reason;
pub use reference::AcceptedPoint;

/// What happens to a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    /// Publish now.
    Accept,
    /// Publish now and queue a high-priority verification crawl.
    AcceptAndVerify,
    /// Publish only after a verification crawl or a consensus of reporters confirms it.
    Hold,
    /// Discard: impossible, or from a reporter not worth a verification.
    Reject,
}

impl Decision {
    /// Whether the report's price goes into the public history now.
    pub const fn publishes_now(self) -> bool {
        matches!(self, Decision::Accept | Decision::AcceptAndVerify)
    }

    /// Whether a verification crawl must be queued for the report.
    pub const fn needs_verification(self) -> bool {
        matches!(self, Decision::AcceptAndVerify | Decision::Hold)
    }
}

/// What the judge knows about the product.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ProductState<'a> {
    /// Recent accepted points, in any order; the latest [`JudgeConfig::history_len`] priced
    /// ones make the reference.
    pub history: &'a [AcceptedPoint],
    /// Armed subscriptions on the product: how many people a wrong price would alert.
    pub subscribers: u32,
}

/// The judge's decision with everything the admin view and the scheduler need.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Verdict {
    /// What to do with the report.
    pub decision: Decision,
    /// Why, most decisive first.
    pub reasons: Vec<Reason>,
    /// In `[0, 1)`; the crawl scheduler orders verification jobs by it.
    pub suspicion: f64,
    /// The reporter's score at judgement time.
    pub reporter_score: f64,
    /// The reference price the report was measured against.
    pub reference: Option<Money>,
    /// The relative change `(price − reference) / reference`, when both exist.
    pub change: Option<f64>,
    /// For a held report, K: the distinct agreeing keys that would confirm it.
    pub required_reporters: Option<u32>,
}

/// Judge one report. Pure and deterministic: the same inputs give the same verdict.
pub fn judge(
    report: &PriceReport,
    product: &ProductState<'_>,
    reporter: &Reputation,
    config: &JudgeConfig,
    now: Timestamp,
) -> Verdict {
    let score = reporter.score_with(&config.reputation, now);
    let reference = config.reference_price(product.history, report.currency);
    let mut verdict = Verdict {
        decision: Decision::Reject,
        reasons: Vec::new(),
        suspicion: 1.0,
        reporter_score: score,
        reference,
        change: reference
            .zip(report.price)
            .and_then(|(from, to)| relative_change(from, to)),
        required_reporters: None,
    };

    if let Err(error) = config.rules.check_content(report) {
        verdict.reasons.push(content_reason(&error));
        return verdict;
    }
    match reporter.standing {
        Standing::Crawler => {
            verdict.decision = Decision::Accept;
            verdict.suspicion = 0.0;
            verdict.reasons.push(Reason::CrawlerObservation);
            return verdict;
        }
        Standing::Banned => {
            verdict.reasons.push(Reason::BannedReporter);
            return verdict;
        }
        Standing::Member => {}
    }
    if score < config.reject_reputation_below {
        verdict.reasons.push(Reason::PoorReputation);
        return verdict;
    }

    let mut reasons = Vec::new();
    let mut impact = match (reference, report.price) {
        (None, Some(price)) => return first_price(verdict, price, report, config),
        (None, None) if product.history.is_empty() => return first_price_missing(verdict, config),
        (None, None) => 0.0,
        (Some(_), None) => {
            reasons.push(Reason::PriceVanished);
            config.vanish_impact
        }
        (Some(from), Some(to)) => {
            reasons.push(change_reason(from, to, config));
            price_impact(from, to, config)
        }
    };
    let flipped = reference::latest(product.history).is_some_and(|latest| {
        latest.availability != Availability::Unknown
            && report.availability != Availability::Unknown
            && latest.availability != report.availability
    });
    if flipped {
        reasons.push(Reason::AvailabilityFlip);
        impact += config.flip_impact;
    }
    let impact = impact.clamp(0.0, 1.0);

    let attention = attention(product.subscribers, config);
    let doubt = config.doubt_floor + (1.0 - score).powi(2);
    let raw = impact * attention * doubt;
    let suspicion = if raw > 0.0 {
        raw / (raw + config.half_suspicion)
    } else {
        0.0
    };

    verdict.suspicion = suspicion;
    verdict.decision = if suspicion < config.accept_below {
        Decision::Accept
    } else if suspicion < config.verify_below {
        Decision::AcceptAndVerify
    } else {
        Decision::Hold
    };
    // A large drop is what fires alerts: whoever reports it, it is at least verified, so an
    // honest key's misread (a used offer, a coupon price) is reverted within a crawl.
    if verdict.decision == Decision::Accept && reasons.contains(&Reason::LargeDrop) {
        verdict.decision = Decision::AcceptAndVerify;
    }
    if verdict.decision == Decision::Hold {
        verdict.required_reporters =
            Some(config.consensus.required_reporters(reference, report.price));
    }
    if score >= config.trusted_at {
        reasons.push(Reason::TrustedReporter);
    } else if score < config.untrusted_below {
        reasons.push(Reason::UntrustedReporter);
    }
    if product.subscribers >= config.watched_at {
        reasons.push(Reason::WatchedProduct);
    }
    verdict.reasons = reasons;
    verdict
}

impl JudgeConfig {
    /// The price a report is measured against: the median of the last
    /// [`history_len`](JudgeConfig::history_len) accepted prices in `currency`. The server
    /// passes the same reference to [`ConsensusRules::evaluate`].
    pub fn reference_price(&self, history: &[AcceptedPoint], currency: Currency) -> Option<Money> {
        reference::reference_price(history, currency, self.history_len)
    }
}

/// A first price: accept and verify it to anchor the history, unless it is implausible for
/// the currency, in which case hold it.
fn first_price(
    mut verdict: Verdict,
    price: Money,
    report: &PriceReport,
    config: &JudgeConfig,
) -> Verdict {
    let dollar = rough_dollar(price.currency);
    let low = config.first_price_min_dollars.saturating_mul(dollar);
    let high = config.first_price_max_dollars.saturating_mul(dollar);
    verdict.reasons.push(Reason::FirstReport);
    // With nothing to measure against, the suspicion is the floor of the decision's band,
    // so the crawl scheduler ranks these after reports whose suspicion was measured.
    if price.amount_minor < low || price.amount_minor > high {
        verdict.reasons.push(Reason::ImplausibleFirstPrice);
        verdict.decision = Decision::Hold;
        verdict.suspicion = config.verify_below;
        verdict.required_reporters = Some(config.consensus.required_reporters(None, report.price));
    } else {
        verdict.decision = Decision::AcceptAndVerify;
        verdict.suspicion = config.accept_below;
    }
    verdict
}

/// A first report, and it shows no price: nothing to publish wrongly, but worth a crawl to
/// learn the product.
fn first_price_missing(mut verdict: Verdict, config: &JudgeConfig) -> Verdict {
    verdict.reasons.push(Reason::FirstReport);
    verdict.decision = Decision::AcceptAndVerify;
    verdict.suspicion = config.accept_below;
    verdict
}

fn price_impact(from: Money, to: Money, config: &JudgeConfig) -> f64 {
    let (from, to) = (from.amount_minor as f64, to.amount_minor as f64);
    if from <= 0.0 || to <= 0.0 {
        return 1.0;
    }
    let full = config.full_impact_ratio.max(1.0 + f64::EPSILON).ln();
    if to < from {
        ((from / to).ln() / full).min(1.0)
    } else {
        config.rise_weight * ((to / from).ln() / full).min(1.0)
    }
}

fn change_reason(from: Money, to: Money, config: &JudgeConfig) -> Reason {
    let size = reference::change_size(from, to);
    if size == 0.0 {
        Reason::PriceUnchanged
    } else if size < config.large_change {
        Reason::SmallChange
    } else if to.amount_minor < from.amount_minor {
        Reason::LargeDrop
    } else {
        Reason::LargeRise
    }
}

fn attention(subscribers: u32, config: &JudgeConfig) -> f64 {
    let full = (1.0 + f64::from(config.full_attention_subscribers.max(1))).ln();
    1.0 + ((1.0 + f64::from(subscribers)).ln() / full).min(1.0)
}

fn relative_change(from: Money, to: Money) -> Option<f64> {
    (from.currency == to.currency && from.amount_minor != 0)
        .then(|| (to.amount_minor as f64 - from.amount_minor as f64) / from.amount_minor as f64)
}

/// `check_content` fails only with a currency mismatch or a price out of range.
fn content_reason(error: &ReportError) -> Reason {
    match error {
        ReportError::NonPositivePrice(_) => Reason::NonPositivePrice,
        ReportError::PriceAboveCeiling { .. } => Reason::PriceAboveCeiling,
        _ => Reason::CurrencyMismatch,
    }
}

#[cfg(test)]
mod tests;
