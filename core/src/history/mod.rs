//! Price history: what is stored (changes only), and the charts and statistics drawn from it.
//!
//! - [`point`]: stored points and the change-only rule ([`store`]: extend or insert).
//! - [`query`]: the period (`30d|90d|1y|all`) and granularity (`raw|hourly|daily|weekly|monthly`)
//!   a chart asks for.
//! - `calendar`: UTC hour, day, ISO-week and month boundaries, without a date crate.
//! - `timeline`: points turned into back-to-back stretches of a price or a gap; a point is
//!   believed for the staleness limit after it was last seen, then it is a gap.
//! - [`aggregate`]: per-bucket open/close/min/max/time-weighted average, and the M4
//!   down-sampling of raw ranges too long to draw.
//! - [`stats`]: current, lowest, highest, average, distance from the low, daily-low percentile.
//! - [`chart`]: [`PriceHistory`], the checked input, and [`Chart`], the API's JSON body.
//!
//! Prices stay `i64` minor units throughout; averages are rounded half away from zero, so the
//! server and the wasm chart compute the same numbers.

pub mod aggregate;
pub(crate) mod calendar;
pub mod chart;
pub mod point;
pub mod query;
pub mod stats;
mod timeline;

#[cfg(test)]
mod tests;

pub use aggregate::{Bucket, BucketValue, Ohlc};
pub use chart::{Chart, ChartError, ChartQuery, HistoryConfig, HistoryError, PriceHistory};
pub use point::{store, AcceptedObservation, PricePoint, PricePointId, StoreDecision};
pub use query::{Granularity, Period, UnknownGranularity, UnknownPeriod};
pub use stats::{PriceAt, Stats};
pub use timeline::GapReason;
