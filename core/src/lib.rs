//! PriceWatch's domain rules, with no I/O: the one place where they live.
//!
//! The same crate runs in the server (natively) and in the browser extension and website
//! (compiled to `wasm32-unknown-unknown`), so a rule fixed here is fixed everywhere.
//!
//! # Layout
//! - [`money`]: integer minor units of an ISO 4217 currency.
//! - [`marketplace`]: Amazon storefronts, their hosts, currencies and number formats.
//! - [`asin`]: product ids and how to find them in every URL shape.
//! - [`price_text`]: locale-aware reading of price text.
//! - [`page`]: the `Page` trait the extraction rules read documents through.
//! - [`extract`]: the rules that turn a product page into an [`Observation`].
//! - [`observation`]: what a page read yields, or why it could not be read.
//! - [`reading`]: the JSON a page read is shown as (the `extract` command, the extension).
//! - [`time`]: UTC instants passed in by callers (core reads no clock), product keys.
//! - [`report`]: signed price reports, their canonical bytes, verification and replay rules.
//! - [`reputation`]: reporter scores from confirmed and refuted reports and key age.
//! - [`judge`]: suspicion, accept / verify / hold / reject decisions, and reporter consensus.
//! - [`history`]: change-only price points, chart buckets (OHLC, gaps, M4 down-sampling), stats.
//! - [`alert`]: subscriptions and the alert state machine (hysteresis, cooldown, consolidation).
//! - [`correction`]: who is told what when a published price is refuted, and how alert state is restored.
//! - [`schedule`]: adaptive re-check intervals and crawl-queue priority.
//! - `html` (feature `html`): the `Page` implementation over fetched HTML.

pub mod alert;
pub mod asin;
pub mod correction;
pub mod extract;
pub mod history;
#[cfg(feature = "html")]
pub mod html;
pub mod judge;
pub mod marketplace;
pub mod money;
pub mod observation;
pub mod page;
pub mod price_text;
pub mod reading;
pub mod report;
pub mod reputation;
pub mod schedule;
pub mod time;

pub use asin::Asin;
pub use extract::{extract, PageContext};
pub use marketplace::Marketplace;
pub use money::{Currency, Money};
pub use observation::{Availability, Observation, ReadError};
pub use time::{ProductKey, Span, Timestamp};
