//! Fixed-window rate limits kept in memory, per replica.
//!
//! A window per (scope, key) counts requests in the current minute. Per replica is enough
//! for abuse control: a client spread over N replicas gets at most N times the limit, and
//! the trust rules, not the limiter, keep bad data out.

use std::collections::HashMap;
use std::sync::Mutex;

use pricewatch_core::Timestamp;

const WINDOW_MS: i64 = 60_000;

#[derive(Debug, Default)]
pub struct RateLimiter {
    windows: Mutex<HashMap<String, (i64, u32)>>,
}

impl RateLimiter {
    /// Count `cost` requests for `key`; `Err(seconds)` until the window resets when over
    /// `limit` per minute.
    pub fn check(&self, key: &str, cost: u32, limit: u32, now: Timestamp) -> Result<(), u64> {
        let window = now.as_millis().div_euclid(WINDOW_MS);
        let mut map = self.windows.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() > 100_000 {
            // Old windows are useless; dropping them bounds memory under a flood of keys.
            map.retain(|_, (w, _)| *w == window);
        }
        let entry = map.entry(key.to_owned()).or_insert((window, 0));
        if entry.0 != window {
            *entry = (window, 0);
        }
        if entry.1.saturating_add(cost) > limit {
            let reset_ms = (window + 1) * WINDOW_MS - now.as_millis();
            return Err(u64::try_from((reset_ms + 999) / 1000).unwrap_or(1).max(1));
        }
        entry.1 += cost;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_over_its_limit_waits_for_the_next_window() {
        let rl = RateLimiter::default();
        let t = Timestamp::from_millis(120_000 + 15_000);
        assert!(rl.check("k", 5, 10, t).is_ok());
        assert!(rl.check("k", 5, 10, t).is_ok());
        assert_eq!(rl.check("k", 1, 10, t), Err(45));
        assert!(rl.check("other", 10, 10, t).is_ok());
        assert!(rl
            .check("k", 1, 10, Timestamp::from_millis(180_000))
            .is_ok());
    }
}
