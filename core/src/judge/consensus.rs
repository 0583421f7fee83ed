//! Consensus: when enough independent reporters agree, a held price is confirmed without
//! waiting for the verification crawl.
//!
//! Reporters are keys; independence means distinct keys whose score is at least
//! [`ConsensusRules::min_voter_score`] (a key refuted even once drops out). The number of
//! agreeing keys needed, K, grows with the size of the change against the reference price,
//! so the larger the lie, the larger the group of colluding keys it would take; for the
//! largest changes K is set above any plausible group of sybil keys, leaving those to the
//! crawl. Keys are free to make, so the server still limits how many new keys one client can
//! register; K is the second line, not the first.

use serde::{Deserialize, Serialize};

use crate::money::Money;
use crate::observation::Availability;
use crate::report::ReporterKey;
use crate::time::{Span, Timestamp};

use super::reference::change_size;

/// One step of the K table: changes at least this big need at least this many reporters.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ConsensusStep {
    /// The change size (`1 - min / max` against the reference) where the step starts.
    pub min_change: f64,
    /// K: distinct agreeing keys needed from there on.
    pub reporters: u32,
}

/// The consensus settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ConsensusRules {
    /// How close two prices must be to agree, in basis points of the anchor price (100 =
    /// ±1%): honest readers of one page can differ by a coupon or a rounding.
    pub tolerance_bp: u32,
    /// Only held reports observed this recently count: agreement a day apart is two
    /// observations of two different prices.
    pub window: Span,
    /// Keys scoring below this do not vote. Above a fresh key's score (0.2): keys cost
    /// nothing to make, so a vote of fresh keys is a sybil vote; a key votes once it has a
    /// confirmed report, and until then the verification crawl decides alone.
    pub min_voter_score: f64,
    /// The K table, by change size; the largest step whose start is not above the change
    /// applies (and never fewer than 2 reporters).
    pub steps: Vec<ConsensusStep>,
    /// K for a price on a product with no accepted price yet (nothing to measure against).
    pub no_reference_reporters: u32,
    /// K for "no price shown" where history has a price.
    pub vanish_reporters: u32,
}

impl Default for ConsensusRules {
    fn default() -> Self {
        let step = |min_change, reporters| ConsensusStep {
            min_change,
            reporters,
        };
        ConsensusRules {
            tolerance_bp: 100,
            window: Span::hours(6),
            min_voter_score: 0.25,
            steps: vec![
                step(0.0, 2),
                step(0.05, 3),
                step(0.2, 5),
                step(0.5, 10),
                step(0.8, 25),
                step(0.95, 60),
            ],
            no_reference_reporters: 5,
            vanish_reporters: 3,
        }
    }
}

/// A held report waiting for agreement or verification.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct HeldReport {
    /// Who reported it: each key votes once.
    pub key: ReporterKey,
    /// The claimed price; `None` for "no price shown".
    pub price: Option<Money>,
    /// The claimed availability; voters must agree on it too.
    pub availability: Availability,
    /// When it was seen; only reports inside the window vote.
    pub observed_at: Timestamp,
    /// The reporter's score when the consensus is evaluated (recompute it: a key refuted in
    /// the meantime must stop counting).
    pub reporter_score: f64,
}

/// What the held reports establish.
#[derive(Debug, Clone, PartialEq)]
pub enum ConsensusOutcome {
    /// Enough keys agree: publish this observation and mark the supporters' reports
    /// accepted. Their reputations wait for the verification crawl, like any accepted report.
    Confirmed {
        /// The lower median of the supporters' prices.
        price: Option<Money>,
        /// The availability the supporters agree on.
        availability: Availability,
        /// The agreeing keys, sorted.
        supporters: Vec<ReporterKey>,
        /// K that had to be met.
        required: u32,
    },
    /// Not yet: the best group found and the K it needs.
    Pending {
        /// Distinct voting keys in the largest agreeing group.
        support: u32,
        /// K for that group's price.
        required: u32,
    },
}

impl ConsensusRules {
    /// K: the distinct agreeing keys needed to confirm `price` against `reference`.
    pub fn required_reporters(&self, reference: Option<Money>, price: Option<Money>) -> u32 {
        let k = match (reference, price) {
            (Some(from), Some(to)) => {
                let size = change_size(from, to);
                self.steps
                    .iter()
                    .filter(|s| s.min_change <= size)
                    .map(|s| s.reporters)
                    .max()
                    .unwrap_or(2)
            }
            (Some(_), None) => self.vanish_reporters,
            (None, Some(_)) => self.no_reference_reporters,
            (None, None) => 2,
        };
        k.max(2)
    }

    /// Whether the held reports for one product now confirm an observation.
    ///
    /// Each voting key counts once, with its latest report in the window. Every report is
    /// tried as the anchor of a group (the keys whose report agrees with it); the largest
    /// group that meets its K wins, ties going to the earlier anchor, then the lower price.
    pub fn evaluate(
        &self,
        reference: Option<Money>,
        held: &[HeldReport],
        now: Timestamp,
    ) -> ConsensusOutcome {
        let votes = self.latest_votes(held, now);
        let mut best: Option<(u32, u32, &HeldReport, Vec<&HeldReport>)> = None;
        for anchor in votes.iter().copied() {
            let group: Vec<&HeldReport> = votes
                .iter()
                .copied()
                .filter(|v| self.agree(anchor, v))
                .collect();
            let support = u32::try_from(group.len()).unwrap_or(u32::MAX);
            let required = self.required_reporters(reference, anchor.price);
            let better = match &best {
                None => true,
                Some((best_support, best_required, best_anchor, _)) => {
                    let met = support >= required;
                    let best_met = best_support >= best_required;
                    (
                        met,
                        support,
                        std::cmp::Reverse(anchor.observed_at),
                        std::cmp::Reverse(minor(anchor)),
                    ) > (
                        best_met,
                        *best_support,
                        std::cmp::Reverse(best_anchor.observed_at),
                        std::cmp::Reverse(minor(best_anchor)),
                    )
                }
            };
            if better {
                best = Some((support, required, anchor, group));
            }
        }
        match best {
            Some((support, required, anchor, group)) if support >= required => {
                let mut prices: Vec<i64> = group
                    .iter()
                    .filter_map(|v| v.price)
                    .map(|p| p.amount_minor)
                    .collect();
                prices.sort_unstable();
                let price = anchor.price.map(|p| {
                    let middle = prices.len().saturating_sub(1) / 2;
                    Money::new(
                        prices.get(middle).copied().unwrap_or(p.amount_minor),
                        p.currency,
                    )
                });
                let mut supporters: Vec<ReporterKey> = group.iter().map(|v| v.key).collect();
                supporters.sort_unstable();
                ConsensusOutcome::Confirmed {
                    price,
                    availability: anchor.availability,
                    supporters,
                    required,
                }
            }
            Some((support, required, _, _)) => ConsensusOutcome::Pending { support, required },
            None => ConsensusOutcome::Pending {
                support: 0,
                required: self.required_reporters(reference, None),
            },
        }
    }

    /// Each eligible key's latest report inside the window, sorted by key.
    fn latest_votes<'a>(&self, held: &'a [HeldReport], now: Timestamp) -> Vec<&'a HeldReport> {
        let since = now - self.window;
        let mut votes: Vec<&HeldReport> = held
            .iter()
            .filter(|h| h.observed_at >= since && h.observed_at <= now)
            .filter(|h| h.reporter_score >= self.min_voter_score)
            .collect();
        // Latest first within each key (a full order, so the input order never matters),
        // then keep the first of each key.
        votes.sort_by(|a, b| {
            a.key
                .cmp(&b.key)
                .then(b.observed_at.cmp(&a.observed_at))
                .then(minor(a).cmp(&minor(b)))
                .then(a.availability.as_str().cmp(b.availability.as_str()))
        });
        votes.dedup_by_key(|h| h.key);
        votes
    }

    /// Same availability, and both without a price or both within the tolerance of the
    /// anchor's price (integer arithmetic: no rounding decides agreement).
    fn agree(&self, anchor: &HeldReport, other: &HeldReport) -> bool {
        if anchor.availability != other.availability {
            return false;
        }
        match (anchor.price, other.price) {
            (None, None) => true,
            (Some(a), Some(b)) if a.currency == b.currency => {
                let diff = (i128::from(a.amount_minor) - i128::from(b.amount_minor)).abs();
                diff * 10_000 <= i128::from(a.amount_minor).abs() * i128::from(self.tolerance_bp)
            }
            _ => false,
        }
    }
}

fn minor(report: &HeldReport) -> i64 {
    report.price.map_or(i64::MIN, |p| p.amount_minor)
}
