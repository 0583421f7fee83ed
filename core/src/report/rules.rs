//! The checks a report must pass besides its signature, and the numbers they use.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::money::{Currency, Money};
use crate::time::{Span, Timestamp};

use super::error::ReportError;
use super::PriceReport;

/// Validation settings for incoming reports; the defaults suit production.
///
/// Deserializable so the server can take it from its layered configuration; fields left out
/// keep their defaults.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ReportRules {
    /// How far `observed_at` may be ahead of the server's clock: client clocks drift, but a
    /// report from the future is either a broken clock or an attempt to outlive the window.
    pub max_future_skew: Span,
    /// How old a report may be when it arrives. Offline browsers queue reports, so a day is
    /// allowed; older news would rewrite history and would need nonces kept for longer.
    pub max_age: Span,
    /// The longest client version string accepted: it is stored with every report.
    pub max_client_version_len: usize,
    /// Price ceilings (minor units) that replace the default for some currencies.
    pub price_ceilings: BTreeMap<Currency, i64>,
    /// The default ceiling in US dollars, converted to each currency at a built-in rough
    /// rate (2025, rounded; fine for a bound, never for prices): no Amazon offer costs more,
    /// so a higher price is a parsing bug or a forgery.
    pub default_ceiling_dollars: i64,
}

impl Default for ReportRules {
    fn default() -> Self {
        ReportRules {
            max_future_skew: Span::minutes(10),
            max_age: Span::hours(24),
            max_client_version_len: 32,
            price_ceilings: BTreeMap::new(),
            default_ceiling_dollars: 100_000,
        }
    }
}

impl ReportRules {
    /// The highest price accepted in `currency`.
    pub fn ceiling(&self, currency: Currency) -> Money {
        let minor = self
            .price_ceilings
            .get(&currency)
            .copied()
            .unwrap_or_else(|| {
                self.default_ceiling_dollars
                    .saturating_mul(rough_dollar(currency))
            });
        Money::new(minor, currency)
    }

    /// Until when the server must remember a (key, nonce) pair: after this instant a replay
    /// of the report fails [`ReportError::TooOld`] anyway, so the nonce row can be deleted.
    pub fn nonce_expiry(&self, observed_at: Timestamp) -> Timestamp {
        observed_at + self.max_age
    }

    /// Every check except the signature: format, content, then time.
    pub fn check(&self, report: &PriceReport, now: Timestamp) -> Result<(), ReportError> {
        self.check_format(report)?;
        self.check_content(report)?;
        self.check_time(report.observed_at, now)
    }

    /// The checks that do not depend on the clock: currency against marketplace, and a
    /// price that is positive and under the ceiling. The judge repeats them, because the
    /// crawler's own observations reach it without a signature.
    pub fn check_content(&self, report: &PriceReport) -> Result<(), ReportError> {
        let expected = report.marketplace.currency();
        let mut currencies =
            std::iter::once(report.currency).chain(report.price.map(|p| p.currency));
        if let Some(got) = currencies.find(|c| *c != expected) {
            return Err(ReportError::CurrencyMismatch {
                marketplace: report.marketplace,
                expected,
                got,
            });
        }
        if let Some(price) = report.price {
            if price.amount_minor <= 0 {
                return Err(ReportError::NonPositivePrice(price));
            }
            let ceiling = self.ceiling(price.currency);
            if price.amount_minor > ceiling.amount_minor {
                return Err(ReportError::PriceAboveCeiling { price, ceiling });
            }
        }
        Ok(())
    }

    /// The shape checks that run before the signature: they are cheap, and they bound the
    /// size of what is hashed.
    pub(crate) fn check_format(&self, report: &PriceReport) -> Result<(), ReportError> {
        let version = &report.client_version;
        if version.len() > self.max_client_version_len {
            return Err(ReportError::ClientVersionTooLong {
                len: version.len(),
                max: self.max_client_version_len,
            });
        }
        let allowed = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'+' | b'_');
        if version.is_empty() || !version.bytes().all(allowed) {
            return Err(ReportError::ClientVersionMalformed(version.clone()));
        }
        if report.nonce.is_zero() {
            return Err(ReportError::ZeroNonce);
        }
        Ok(())
    }

    /// `observed_at` must lie in `[now - max_age, now + max_future_skew]`, both ends included.
    pub(crate) fn check_time(
        &self,
        observed_at: Timestamp,
        now: Timestamp,
    ) -> Result<(), ReportError> {
        let ahead = observed_at - now;
        if ahead > self.max_future_skew {
            return Err(ReportError::FromTheFuture {
                ahead,
                max: self.max_future_skew,
            });
        }
        let age = now - observed_at;
        if age > self.max_age {
            return Err(ReportError::TooOld {
                age,
                max: self.max_age,
            });
        }
        Ok(())
    }
}

/// Minor units of `currency` worth very roughly one US dollar (2025 rates, rounded).
///
/// Only for plausibility bands (ceilings, "is this first price absurd"), where a factor of
/// two does not matter; never for converting or comparing prices.
pub(crate) const fn rough_dollar(currency: Currency) -> i64 {
    match currency {
        Currency::Usd => 100,
        Currency::Aed => 370,
        Currency::Aud => 155,
        Currency::Brl => 550,
        Currency::Cad => 140,
        Currency::Egp => 5_000,
        Currency::Eur => 90,
        Currency::Gbp => 80,
        Currency::Inr => 8_500,
        Currency::Jpy => 150,
        Currency::Kwd => 310,
        Currency::Mxn => 2_000,
        Currency::Pln => 400,
        Currency::Sar => 375,
        Currency::Sek => 1_000,
        Currency::Sgd => 135,
        Currency::Try => 4_000,
    }
}
