//! Why the judge decided what it did, in words a machine and an admin can both read.

use std::fmt;

use serde::{Deserialize, Serialize};

/// One reason behind a [`Verdict`](super::Verdict). The serde name (`large_drop`) is stable:
/// the admin view and stored verdicts key on it; [`Reason::message`] is for people.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    /// The report comes from PriceWatch's own crawler.
    CrawlerObservation,
    /// The reporter key is banned.
    BannedReporter,
    /// The reporter's record is so bad that its reports are not worth a verification.
    PoorReputation,
    /// The report's currency is not the marketplace's.
    CurrencyMismatch,
    /// The price is zero or negative.
    NonPositivePrice,
    /// The price is above the currency's ceiling.
    PriceAboveCeiling,
    /// The reporter has a long, good record.
    TrustedReporter,
    /// The reporter is new or has a mixed record.
    UntrustedReporter,
    /// Many users watch the product, so a wrong price would alert many of them.
    WatchedProduct,
    /// No price was accepted for the product before.
    FirstReport,
    /// A first price outside the plausible band for the currency.
    ImplausibleFirstPrice,
    /// The price is the recent median.
    PriceUnchanged,
    /// The price is within the normal range of recent changes.
    SmallChange,
    /// The price is far below the recent median.
    LargeDrop,
    /// The price is far above the recent median.
    LargeRise,
    /// The page showed no price where recent reports had one.
    PriceVanished,
    /// The availability differs from the latest accepted one.
    AvailabilityFlip,
}

impl Reason {
    /// Every reason, for tables and tests.
    pub const ALL: [Reason; 17] = [
        Reason::CrawlerObservation,
        Reason::BannedReporter,
        Reason::PoorReputation,
        Reason::CurrencyMismatch,
        Reason::NonPositivePrice,
        Reason::PriceAboveCeiling,
        Reason::TrustedReporter,
        Reason::UntrustedReporter,
        Reason::WatchedProduct,
        Reason::FirstReport,
        Reason::ImplausibleFirstPrice,
        Reason::PriceUnchanged,
        Reason::SmallChange,
        Reason::LargeDrop,
        Reason::LargeRise,
        Reason::PriceVanished,
        Reason::AvailabilityFlip,
    ];

    /// The stable machine name, the same as the serde name.
    pub const fn code(self) -> &'static str {
        match self {
            Reason::CrawlerObservation => "crawler_observation",
            Reason::BannedReporter => "banned_reporter",
            Reason::PoorReputation => "poor_reputation",
            Reason::CurrencyMismatch => "currency_mismatch",
            Reason::NonPositivePrice => "non_positive_price",
            Reason::PriceAboveCeiling => "price_above_ceiling",
            Reason::TrustedReporter => "trusted_reporter",
            Reason::UntrustedReporter => "untrusted_reporter",
            Reason::WatchedProduct => "watched_product",
            Reason::FirstReport => "first_report",
            Reason::ImplausibleFirstPrice => "implausible_first_price",
            Reason::PriceUnchanged => "price_unchanged",
            Reason::SmallChange => "small_change",
            Reason::LargeDrop => "large_drop",
            Reason::LargeRise => "large_rise",
            Reason::PriceVanished => "price_vanished",
            Reason::AvailabilityFlip => "availability_flip",
        }
    }

    /// A sentence for the admin view.
    pub const fn message(self) -> &'static str {
        match self {
            Reason::CrawlerObservation => "Observed by the PriceWatch crawler.",
            Reason::BannedReporter => "The reporter key is banned.",
            Reason::PoorReputation => "The reporter's past reports were mostly refuted.",
            Reason::CurrencyMismatch => "The currency is not the marketplace's currency.",
            Reason::NonPositivePrice => "The price is zero or negative.",
            Reason::PriceAboveCeiling => "The price is above the ceiling for its currency.",
            Reason::TrustedReporter => "The reporter has a long record of confirmed reports.",
            Reason::UntrustedReporter => "The reporter is new or has a mixed record.",
            Reason::WatchedProduct => "Many users watch this product.",
            Reason::FirstReport => "First price seen for this product.",
            Reason::ImplausibleFirstPrice => "The first price is implausibly low or high.",
            Reason::PriceUnchanged => "The price matches recent history.",
            Reason::SmallChange => "The change is within the normal range.",
            Reason::LargeDrop => "The price is far below recent history.",
            Reason::LargeRise => "The price is far above recent history.",
            Reason::PriceVanished => "The page showed no price where recent reports had one.",
            Reason::AvailabilityFlip => "The availability changed.",
        }
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_reason_serializes_to_its_stable_code() {
        for reason in Reason::ALL {
            let json = serde_json::to_string(&reason).unwrap();
            assert_eq!(json, format!("\"{}\"", reason.code()));
            assert_eq!(serde_json::from_str::<Reason>(&json).unwrap(), reason);
        }
    }

    #[test]
    fn every_reason_has_its_own_code_and_a_sentence() {
        let mut codes: Vec<_> = Reason::ALL.iter().map(|r| r.code()).collect();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), Reason::ALL.len());
        for reason in Reason::ALL {
            assert!(reason.to_string().ends_with('.'), "{reason:?}");
        }
    }
}
