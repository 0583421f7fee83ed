//! Reporter reputation: how far the judge believes a key, from its confirmed and refuted
//! reports and its age.
//!
//! # Formula
//! With `c` confirmed and `r` refuted reports, key age `a`, and [`ReputationParams`]
//! `(α, β, k, A)`:
//!
//! ```text
//! w     = min(1, a / A)                       age weight: confirmations count fully after A
//! score = (α + w·c) / (α + β + w·c + k·r)     the mean of a Beta(α + w·c, β + k·r) belief
//! ```
//!
//! The prior `Beta(1, 4)` puts a new key at 0.2, so it must earn belief. Confirmations
//! from a young key are discounted (a key minted for an attack cannot farm trust in a day),
//! refutations never are, and each weighs `k` confirmations: a lie costs more than a truth
//! earns. A banned key scores 0, the crawler 1. Everything is pure arithmetic on the inputs,
//! so a score recomputed anywhere, any time, with the same `now` is the same number.

use serde::{Deserialize, Serialize};

use crate::time::{Span, Timestamp};

/// What kind of reporter a key belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Standing {
    /// An extension user: believed as far as the record says.
    Member,
    /// PriceWatch's own crawler, whose fetches are what verification means: always believed.
    Crawler,
    /// A key caught lying on purpose: never believed again.
    Banned,
}

/// One reporter key's record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reputation {
    /// When the key first reported: the start of its age.
    pub first_seen: Timestamp,
    /// Reports a verification found true.
    pub confirmed: u32,
    /// Reports a verification found false.
    pub refuted: u32,
    /// Member, crawler or banned: the last two override the record.
    pub standing: Standing,
}

/// The constants of the score formula (see the module doc).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ReputationParams {
    /// α: prior pseudo-confirmations.
    pub prior_confirmed: f64,
    /// β: prior pseudo-refutations; α / (α + β) is a new key's score.
    pub prior_refuted: f64,
    /// k: how many confirmations one refutation outweighs.
    pub refute_weight: f64,
    /// A: the age at which confirmations count fully.
    pub full_weight_age: Span,
}

impl Default for ReputationParams {
    fn default() -> Self {
        ReputationParams {
            prior_confirmed: 1.0,
            prior_refuted: 4.0,
            refute_weight: 4.0,
            full_weight_age: Span::days(30),
        }
    }
}

impl Reputation {
    /// A key seen for the first time at `now`.
    pub const fn new(first_seen: Timestamp) -> Reputation {
        Reputation {
            first_seen,
            confirmed: 0,
            refuted: 0,
            standing: Standing::Member,
        }
    }

    /// The crawler's identity: its observations are the ground truth verifications use.
    pub const fn crawler() -> Reputation {
        Reputation {
            first_seen: Timestamp::from_millis(0),
            confirmed: 0,
            refuted: 0,
            standing: Standing::Crawler,
        }
    }

    /// A verification found one of the key's reports true.
    pub fn confirm(&mut self) {
        self.confirmed = self.confirmed.saturating_add(1);
    }

    /// A verification found one of the key's reports false.
    pub fn refute(&mut self) {
        self.refuted = self.refuted.saturating_add(1);
    }

    /// Stop believing the key, whatever its record (an admin's decision).
    pub fn ban(&mut self) {
        self.standing = Standing::Banned;
    }

    /// The score in `[0, 1]` at `now` with the default parameters.
    pub fn score(&self, now: Timestamp) -> f64 {
        self.score_with(&ReputationParams::default(), now)
    }

    /// The score in `[0, 1]` at `now` (see the module doc for the formula).
    pub fn score_with(&self, params: &ReputationParams, now: Timestamp) -> f64 {
        match self.standing {
            Standing::Crawler => 1.0,
            Standing::Banned => 0.0,
            Standing::Member => {
                let full = params.full_weight_age.as_millis().max(1) as f64;
                let age = (now - self.first_seen).as_millis().max(0) as f64;
                let weight = (age / full).min(1.0);
                let good = params.prior_confirmed + weight * f64::from(self.confirmed);
                let bad = params.prior_refuted + params.refute_weight * f64::from(self.refuted);
                let total = good + bad;
                if total > 0.0 {
                    (good / total).clamp(0.0, 1.0)
                } else {
                    0.0
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const T0: Timestamp = Timestamp::from_millis(1_700_000_000_000);

    #[track_caller]
    fn record(age_days: i64, confirmed: u32, refuted: u32) -> f64 {
        let rep = Reputation {
            first_seen: T0,
            confirmed,
            refuted,
            standing: Standing::Member,
        };
        rep.score(T0 + Span::days(age_days))
    }

    #[track_caller]
    fn close(actual: f64, expected: f64) {
        assert!((actual - expected).abs() < 1e-9, "{actual} != {expected}");
    }

    #[test]
    fn a_new_key_starts_at_the_prior_mean() {
        close(Reputation::new(T0).score(T0), 0.2);
        close(record(400, 0, 0), 0.2);
    }

    #[test]
    fn the_documented_formula_gives_these_numbers() {
        // Old enough for full weight: (1 + 50) / (5 + 50).
        close(record(30, 50, 0), 51.0 / 55.0);
        // Half the age: confirmations count half: (1 + 25) / (5 + 25).
        close(record(15, 50, 0), 26.0 / 30.0);
        // Each refutation weighs four confirmations: (1 + 50) / (5 + 50 + 8).
        close(record(60, 50, 2), 51.0 / 63.0);
    }

    #[test]
    fn a_young_key_cannot_farm_trust_quickly() {
        let farmed_in_a_day = record(1, 1_000, 0);
        let honest_for_a_year = record(365, 100, 0);

        assert!(farmed_in_a_day < honest_for_a_year, "{farmed_in_a_day}");
    }

    #[test]
    fn a_terrible_record_scores_near_zero() {
        assert!(record(100, 2, 20) < 0.05);
    }

    #[test]
    fn updates_move_the_score_the_right_way() {
        let now = T0 + Span::days(40);
        let mut rep = Reputation::new(T0);

        rep.confirm();
        let after_confirm = rep.score(now);
        rep.refute();
        let after_refute = rep.score(now);

        assert!(after_confirm > 0.2);
        assert!(after_refute < after_confirm);
        assert_eq!((rep.confirmed, rep.refuted), (1, 1));
    }

    #[test]
    fn banned_keys_score_zero_and_the_crawler_one() {
        let mut rep = Reputation {
            confirmed: 1_000,
            ..Reputation::new(T0)
        };
        rep.ban();

        assert_eq!(rep.score(T0 + Span::days(400)), 0.0);
        assert_eq!(Reputation::crawler().score(T0), 1.0);
    }

    #[test]
    fn a_clock_before_first_seen_counts_as_age_zero() {
        close(record(-5, 10, 0), 0.2);
    }

    #[test]
    fn counts_saturate_instead_of_wrapping() {
        let mut rep = Reputation {
            confirmed: u32::MAX,
            refuted: u32::MAX,
            ..Reputation::new(T0)
        };
        rep.confirm();
        rep.refute();
        assert_eq!((rep.confirmed, rep.refuted), (u32::MAX, u32::MAX));
    }

    #[test]
    fn the_json_shape_is_a_flat_record() {
        let json = serde_json::to_value(Reputation::new(T0)).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"first_seen": 1_700_000_000_000_i64, "confirmed": 0, "refuted": 0, "standing": "member"})
        );
    }

    proptest! {
        #[test]
        fn scores_stay_in_the_unit_interval(age in -1000_i64..100_000, c in any::<u32>(), r in any::<u32>()) {
            let s = record(age, c, r);
            prop_assert!((0.0..=1.0).contains(&s), "{}", s);
        }

        #[test]
        fn confirming_never_lowers_and_refuting_never_raises(age in 0_i64..400, c in 0_u32..10_000, r in 0_u32..10_000) {
            let base = record(age, c, r);
            prop_assert!(record(age, c + 1, r) >= base);
            prop_assert!(record(age, c, r + 1) <= base);
        }

        #[test]
        fn growing_older_never_lowers_the_score(age in 0_i64..400, extra in 0_i64..400, c in 0_u32..10_000, r in 0_u32..1_000) {
            prop_assert!(record(age + extra, c, r) >= record(age, c, r));
        }
    }
}
