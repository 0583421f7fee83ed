//! Replay detection: the same signed report must count once.
//!
//! The contract, for the server's database and for this in-memory guard alike: a (key, nonce)
//! pair is unique among the reports accepted from `observed_at - max_age` on. A pair needs
//! remembering only until [`ReportRules::nonce_expiry`], because after that a replay fails the
//! age check by itself. The server keeps a unique index on (public key, nonce) and deletes
//! rows past their expiry; [`ReplayGuard`] is the same rule for one process (tests, the
//! simulation, a single-node deployment).

use std::collections::{BTreeMap, BTreeSet};

use crate::time::Timestamp;

use super::error::ReportError;
use super::key::{Nonce, ReporterKey};
use super::rules::ReportRules;
use super::VerifiedReport;

/// The (key, nonce) pairs seen inside the replay window, forgotten once they expire.
///
/// Ordered collections keep memory bounded by the window and the behaviour deterministic.
#[derive(Debug, Clone, Default)]
pub struct ReplayGuard {
    /// Each remembered pair with its expiry.
    seen: BTreeMap<(ReporterKey, Nonce), Timestamp>,
    /// The same pairs ordered by expiry, so pruning stops at the first live one.
    by_expiry: BTreeSet<(Timestamp, ReporterKey, Nonce)>,
}

impl ReplayGuard {
    /// An empty guard.
    pub fn new() -> ReplayGuard {
        ReplayGuard::default()
    }

    /// Record a verified report's nonce, or refuse it as [`ReportError::Replayed`] if its key
    /// used the nonce before and the pair has not expired. Expired pairs are dropped first.
    pub fn admit(
        &mut self,
        report: &VerifiedReport,
        rules: &ReportRules,
        now: Timestamp,
    ) -> Result<(), ReportError> {
        self.prune(now);
        let pair = (report.key(), report.report().nonce);
        if self.seen.contains_key(&pair) {
            return Err(ReportError::Replayed);
        }
        let expiry = rules.nonce_expiry(report.report().observed_at);
        self.seen.insert(pair, expiry);
        self.by_expiry.insert((expiry, pair.0, pair.1));
        Ok(())
    }

    /// How many pairs are remembered: bounded by the reports of one window.
    pub fn len(&self) -> usize {
        self.seen.len()
    }

    /// Whether no pair is remembered.
    pub fn is_empty(&self) -> bool {
        self.seen.is_empty()
    }

    /// Forget every pair whose expiry is before `now`.
    pub fn prune(&mut self, now: Timestamp) {
        while let Some(&(expiry, key, nonce)) = self.by_expiry.first() {
            if expiry >= now {
                break;
            }
            self.by_expiry.pop_first();
            self.seen.remove(&(key, nonce));
        }
    }
}
