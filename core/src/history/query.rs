//! What a chart asks for: a [`Period`] (how far back) and a [`Granularity`] (bucket size),
//! both read from the strings the HTTP API and the website use.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::calendar;
use crate::time::{Span, Timestamp};

/// How far back a chart or a statistic looks from `now`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "&'static str")]
pub enum Period {
    /// `30d`: the last 30 × 24 hours.
    Days30,
    /// `90d`: the last 90 × 24 hours.
    Days90,
    /// `1y`: since the same instant one calendar year ago (29 February maps to 28 February).
    Year,
    /// `all`: since the product's first stored point.
    All,
}

impl Period {
    /// Every period, in the order the website offers them.
    pub const ALL: [Period; 4] = [Period::Days30, Period::Days90, Period::Year, Period::All];

    /// The query-string form.
    pub const fn as_str(self) -> &'static str {
        match self {
            Period::Days30 => "30d",
            Period::Days90 => "90d",
            Period::Year => "1y",
            Period::All => "all",
        }
    }

    /// Where the period starts; `first_seen` is the history's first point, which `all` needs.
    pub(crate) fn start(self, now: Timestamp, first_seen: Option<Timestamp>) -> Timestamp {
        match self {
            Period::Days30 => now - Span::days(30),
            Period::Days90 => now - Span::days(90),
            Period::Year => calendar::one_year_before(now),
            Period::All => first_seen.unwrap_or(now).min(now),
        }
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A period string that is not one of `30d`, `90d`, `1y`, `all`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown period {0:?}: expected one of 30d, 90d, 1y, all")]
pub struct UnknownPeriod(pub String);

impl FromStr for Period {
    type Err = UnknownPeriod;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Period::ALL
            .into_iter()
            .find(|p| p.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| UnknownPeriod(s.to_owned()))
    }
}

impl TryFrom<String> for Period {
    type Error = UnknownPeriod;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<Period> for &'static str {
    fn from(p: Period) -> Self {
        p.as_str()
    }
}

/// The size of a chart's buckets. Calendar buckets are UTC: days start at 00:00, weeks on
/// Monday (ISO 8601), months on the 1st.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "&'static str")]
pub enum Granularity {
    /// One bucket per stored price point (down-sampled when too many to draw).
    Raw,
    /// UTC hours.
    Hourly,
    /// UTC days, from midnight.
    Daily,
    /// ISO weeks, Monday to Sunday.
    Weekly,
    /// Calendar months.
    Monthly,
}

impl Granularity {
    /// Every granularity, finest first.
    pub const ALL: [Granularity; 5] = [
        Granularity::Raw,
        Granularity::Hourly,
        Granularity::Daily,
        Granularity::Weekly,
        Granularity::Monthly,
    ];

    /// The query-string form.
    pub const fn as_str(self) -> &'static str {
        match self {
            Granularity::Raw => "raw",
            Granularity::Hourly => "hourly",
            Granularity::Daily => "daily",
            Granularity::Weekly => "weekly",
            Granularity::Monthly => "monthly",
        }
    }

    /// The start of the calendar bucket after the one holding `t`; `None` for raw, whose
    /// buckets are the stored points themselves.
    pub(crate) fn next_boundary(self, t: Timestamp) -> Option<Timestamp> {
        match self {
            Granularity::Raw => None,
            Granularity::Hourly => Some(calendar::start_of_hour(t) + Span::hours(1)),
            Granularity::Daily => Some(calendar::start_of_day(t) + Span::days(1)),
            Granularity::Weekly => Some(calendar::start_of_iso_week(t) + Span::days(7)),
            Granularity::Monthly => Some(calendar::start_of_next_month(t)),
        }
    }

    /// The shortest bucket this granularity makes, to bound a chart's size before building it.
    pub(crate) fn shortest_bucket(self) -> Option<Span> {
        match self {
            Granularity::Raw => None,
            Granularity::Hourly => Some(Span::hours(1)),
            Granularity::Daily => Some(Span::days(1)),
            Granularity::Weekly => Some(Span::days(7)),
            Granularity::Monthly => Some(Span::days(28)),
        }
    }
}

impl fmt::Display for Granularity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A granularity string that is not one of `raw`, `hourly`, `daily`, `weekly`, `monthly`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown granularity {0:?}: expected one of raw, hourly, daily, weekly, monthly")]
pub struct UnknownGranularity(pub String);

impl FromStr for Granularity {
    type Err = UnknownGranularity;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Granularity::ALL
            .into_iter()
            .find(|g| g.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| UnknownGranularity(s.to_owned()))
    }
}

impl TryFrom<String> for Granularity {
    type Error = UnknownGranularity;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<Granularity> for &'static str {
    fn from(g: Granularity) -> Self {
        g.as_str()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn every_period_and_granularity_reads_back_from_its_own_text() {
        for p in Period::ALL {
            assert_eq!(p.as_str().parse::<Period>(), Ok(p));
        }
        for g in Granularity::ALL {
            assert_eq!(g.as_str().parse::<Granularity>(), Ok(g));
        }
        assert_eq!(" ALL ".parse::<Period>(), Ok(Period::All));
        assert_eq!("Daily".parse::<Granularity>(), Ok(Granularity::Daily));
    }

    #[test]
    fn a_bad_period_or_granularity_names_the_bad_value() {
        let period = "7w".parse::<Period>();
        assert_eq!(period, Err(UnknownPeriod("7w".to_owned())));
        let message = period.map_err(|e| e.to_string());
        assert_eq!(
            message,
            Err("unknown period \"7w\": expected one of 30d, 90d, 1y, all".to_owned())
        );
        assert_eq!(
            "yearly".parse::<Granularity>(),
            Err(UnknownGranularity("yearly".to_owned()))
        );
    }

    #[test]
    fn periods_and_granularities_serialize_as_their_query_strings() {
        assert_eq!(serde_json::to_string(&Period::Year).unwrap(), "\"1y\"");
        assert_eq!(
            serde_json::from_str::<Granularity>("\"weekly\"").unwrap(),
            Granularity::Weekly
        );
        assert!(serde_json::from_str::<Period>("\"2y\"").is_err());
    }

    #[test]
    fn period_starts_count_back_from_now() {
        let now = Timestamp(1_700_000_000_000);
        assert_eq!(Period::Days30.start(now, None), now - Span::days(30));
        assert_eq!(Period::Days90.start(now, None), now - Span::days(90));
        assert_eq!(Period::All.start(now, Some(Timestamp(5))), Timestamp(5));
        assert_eq!(Period::All.start(now, None), now);
        // 2023-11-14 22:13:20 UTC → 2022-11-14 22:13:20 UTC: 365 days, no leap day between.
        assert_eq!(Period::Year.start(now, None), now - Span::days(365));
    }

    proptest! {
        #[test]
        fn parsing_never_panics(text in ".{0,12}") {
            let _ = text.parse::<Period>();
            let _ = text.parse::<Granularity>();
        }

        #[test]
        fn the_next_boundary_is_after_the_instant(ms in -10_000_000_000_000_i64..10_000_000_000_000, g in 1..5_usize) {
            let t = Timestamp(ms);
            let gran = Granularity::ALL[g];
            let next = gran.next_boundary(t);
            prop_assert!(next.is_some_and(|n| n > t));
            let shortest = gran.shortest_bucket();
            prop_assert!(shortest.is_some());
        }
    }
}
