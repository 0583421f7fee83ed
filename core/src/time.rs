//! Time as the domain rules see it: UTC instants in milliseconds, passed in by the caller.
//!
//! `core` never reads a clock (it has no I/O and runs in wasm), so every rule that depends on
//! "now" takes it as an argument, which also makes the rules exactly testable.

use std::fmt;
use std::ops::{Add, Sub};

use serde::{Deserialize, Serialize};

/// A UTC instant, milliseconds since the Unix epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Timestamp(pub i64);

/// A span of time in milliseconds (may be negative as a difference).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Span(pub i64);

impl Span {
    pub const fn millis(ms: i64) -> Span {
        Span(ms)
    }
    pub const fn seconds(s: i64) -> Span {
        Span(s * 1_000)
    }
    pub const fn minutes(m: i64) -> Span {
        Span(m * 60_000)
    }
    pub const fn hours(h: i64) -> Span {
        Span(h * 3_600_000)
    }
    pub const fn days(d: i64) -> Span {
        Span(d * 86_400_000)
    }
    pub const fn as_millis(self) -> i64 {
        self.0
    }
    pub fn abs(self) -> Span {
        Span(self.0.saturating_abs())
    }
}

impl Timestamp {
    pub const fn from_millis(ms: i64) -> Timestamp {
        Timestamp(ms)
    }
    pub const fn from_secs(s: i64) -> Timestamp {
        Timestamp(s * 1_000)
    }
    pub const fn as_millis(self) -> i64 {
        self.0
    }
    /// Days since the epoch (UTC), for daily buckets.
    pub const fn day_index(self) -> i64 {
        self.0.div_euclid(86_400_000)
    }
}

impl Add<Span> for Timestamp {
    type Output = Timestamp;
    fn add(self, rhs: Span) -> Timestamp {
        Timestamp(self.0.saturating_add(rhs.0))
    }
}

impl Sub<Span> for Timestamp {
    type Output = Timestamp;
    fn sub(self, rhs: Span) -> Timestamp {
        Timestamp(self.0.saturating_sub(rhs.0))
    }
}

impl Sub for Timestamp {
    type Output = Span;
    fn sub(self, rhs: Timestamp) -> Span {
        Span(self.0.saturating_sub(rhs.0))
    }
}

impl Timestamp {
    /// RFC 3339 in UTC to the second, `2025-01-31T23:59:07Z`: for CSV downloads, emails
    /// and logs, where people read dates.
    pub fn to_rfc3339(self) -> String {
        let date = crate::history::calendar::date_of(self);
        let ms_of_day = self.0.rem_euclid(86_400_000);
        let secs = ms_of_day / 1_000;
        format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
            date.year,
            date.month,
            date.day,
            secs / 3_600,
            secs / 60 % 60,
            secs % 60
        )
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}ms", self.0)
    }
}

/// A product's identity: the same ASIN in two marketplaces is two products.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ProductKey {
    pub marketplace: crate::marketplace::Marketplace,
    pub asin: crate::asin::Asin,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arithmetic_and_day_buckets() {
        let t = Timestamp::from_secs(86_400 * 3 + 5);
        assert_eq!(t.day_index(), 3);
        assert_eq!(Timestamp(-1).day_index(), -1);
        assert_eq!((t + Span::days(1)) - t, Span::days(1));
        assert_eq!(Span::minutes(2).as_millis(), 120_000);
    }

    #[test]
    fn rfc3339_reads_as_a_utc_date() {
        assert_eq!(Timestamp(0).to_rfc3339(), "1970-01-01T00:00:00Z");
        assert_eq!(
            Timestamp(1_735_689_600_000 - 1_000).to_rfc3339(),
            "2024-12-31T23:59:59Z"
        );
        assert_eq!(
            Timestamp(951_782_400_000).to_rfc3339(),
            "2000-02-29T00:00:00Z"
        );
    }
}
