//! The judge's numbers, in one place so the server can tune them from configuration.

use serde::{Deserialize, Serialize};

use crate::report::ReportRules;
use crate::reputation::ReputationParams;

use super::consensus::ConsensusRules;

/// Every threshold and weight the judge uses; the defaults are the calibrated production
/// values (see the [`judge`](super) module doc for how they combine).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct JudgeConfig {
    /// The content rules (currency, price range), repeated here because the crawler's
    /// observations reach the judge without passing signature verification.
    pub rules: ReportRules,
    /// How reporter scores are computed.
    pub reputation: ReputationParams,
    /// How many recent accepted prices the reference median is taken over: enough that one
    /// bad accepted point cannot move it, few enough to follow real price changes.
    pub history_len: usize,
    /// Suspicion below this is accepted outright.
    pub accept_below: f64,
    /// Suspicion below this (and at least `accept_below`) is published and verified;
    /// at or above it the report is held.
    pub verify_below: f64,
    /// The raw suspicion product that maps to suspicion 0.5: the scale of the score.
    pub half_suspicion: f64,
    /// The price ratio (old / new for drops, new / old for rises) whose impact is full:
    /// 20 means a 95% drop is as bad as a drop gets.
    pub full_impact_ratio: f64,
    /// How much a rise counts against a drop of the same ratio; rises fire no alerts.
    pub rise_weight: f64,
    /// The impact of a report with no price where history has one.
    pub vanish_impact: f64,
    /// The impact added when availability differs from the latest accepted point.
    pub flip_impact: f64,
    /// The subscriber count at which attention (the caution factor) reaches its maximum, 2.
    pub full_attention_subscribers: u32,
    /// The doubt left for a perfect reporter: no member key is beyond question.
    pub doubt_floor: f64,
    /// Reports from keys scoring below this are rejected without a verification.
    pub reject_reputation_below: f64,
    /// Scores at or above this earn the `trusted_reporter` reason.
    pub trusted_at: f64,
    /// Scores below this earn the `untrusted_reporter` reason.
    pub untrusted_below: f64,
    /// Subscriber counts at or above this earn the `watched_product` reason.
    pub watched_at: u32,
    /// Change sizes (`1 - min/max`) at or above this are `large_drop` / `large_rise`; a
    /// large drop is always verified, even when published at once.
    pub large_change: f64,
    /// A first price below this many rough dollars is implausible (held for verification).
    pub first_price_min_dollars: i64,
    /// A first price above this many rough dollars is implausible (held for verification).
    pub first_price_max_dollars: i64,
    /// When held reports are confirmed by agreement.
    pub consensus: ConsensusRules,
}

impl Default for JudgeConfig {
    fn default() -> Self {
        JudgeConfig {
            rules: ReportRules::default(),
            reputation: ReputationParams::default(),
            history_len: 5,
            accept_below: 0.25,
            verify_below: 0.5,
            half_suspicion: 0.03,
            full_impact_ratio: 20.0,
            rise_weight: 0.5,
            vanish_impact: 0.1,
            flip_impact: 0.05,
            full_attention_subscribers: 1_000,
            doubt_floor: 0.02,
            reject_reputation_below: 0.05,
            trusted_at: 0.9,
            untrusted_below: 0.5,
            watched_at: 100,
            large_change: 0.3,
            first_price_min_dollars: 1,
            first_price_max_dollars: 20_000,
            consensus: ConsensusRules::default(),
        }
    }
}
