//! Signed price reports: what a browser saw on a product page, signed by its reporter key.
//!
//! The extension builds a [`PriceReport`], signs its canonical bytes (see [`canonical`] for
//! the exact layout) with the reporter's Ed25519 key from wasm, and posts a [`SignedReport`].
//! The server checks it with [`SignedReport::verify`], which yields a [`VerifiedReport`]
//! (the only way to get one), then checks the nonce against replays ([`replay`]) and hands
//! the report to the judge.
//!
//! # JSON shape (HTTP API)
//! Binary values are lowercase hex (one spelling per value, see [`ReporterKey`]):
//! ```json
//! {
//!   "report": {
//!     "marketplace": "us",
//!     "asin": "B08N5WRWNW",
//!     "price": {"amount_minor": 99900, "currency": "USD"},
//!     "currency": "USD",
//!     "availability": "in_stock",
//!     "observed_at": 1735689600000,
//!     "client_version": "1.4.2",
//!     "nonce": "000102030405060708090a0b0c0d0e0f"
//!   },
//!   "public_key": "<64 hex digits: the 32-byte Ed25519 public key>",
//!   "signature": "<128 hex digits: the 64-byte Ed25519 signature>"
//! }
//! ```
//! `price` is `null` when the page showed no price. `observed_at` is milliseconds since the
//! Unix epoch. Key and signature stay plain strings in [`SignedReport`] so that a malformed
//! one is a typed verification error ([`ReportError::MalformedKey`]) rather than a JSON
//! parse failure.

#[cfg(feature = "batch")]
mod batch;
pub mod canonical;
mod error;
mod hex;
mod key;
pub mod replay;
mod rules;

use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};

use crate::asin::Asin;
use crate::marketplace::Marketplace;
use crate::money::{Currency, Money};
use crate::observation::Availability;
use crate::time::Timestamp;

#[cfg(feature = "batch")]
pub use batch::verify_batch;
pub use error::{DecodeError, ReportError};
pub use key::{Nonce, ReporterKey};
pub use replay::ReplayGuard;
pub(crate) use rules::rough_dollar;
pub use rules::ReportRules;

/// What one reporter saw on one product page at one instant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PriceReport {
    /// The storefront of the page; with `asin`, the product's identity.
    pub marketplace: Marketplace,
    /// The product on the page (for a variation, the selected child).
    pub asin: Asin,
    /// The public buy-box price; `None` when the page showed none (out of stock, "see price
    /// in cart"), which is news too.
    pub price: Option<Money>,
    /// The currency the page priced in; must be the marketplace's, so that a page seen
    /// through Amazon's currency converter never enters the history.
    pub currency: Currency,
    /// Whether the page offered the product for sale.
    pub availability: Availability,
    /// When the page was read, by the client's clock; bounded by the skew window.
    pub observed_at: Timestamp,
    /// The extension build that read the page, to trace a bad extraction rule to its release.
    pub client_version: String,
    /// Makes every report unique, so a captured one cannot be posted twice.
    pub nonce: Nonce,
}

impl PriceReport {
    /// The exact bytes that are signed and verified (layout in [`canonical`]).
    pub fn canonical_bytes(&self) -> Vec<u8> {
        canonical::encode(self)
    }

    /// Read a report back from its canonical bytes, so a server that stores exactly what
    /// was signed can audit it later. Refuses every non-canonical spelling.
    pub fn from_canonical_bytes(bytes: &[u8]) -> Result<PriceReport, DecodeError> {
        canonical::decode(bytes)
    }

    /// Sign with the reporter's 32-byte secret seed. Core has no random source, so the
    /// caller supplies the seed (and the nonce); this is what the extension calls from wasm.
    pub fn sign(self, seed: &[u8; 32]) -> SignedReport {
        let signing_key = SigningKey::from_bytes(seed);
        let signature = signing_key.sign(&self.canonical_bytes());
        SignedReport {
            report: self,
            public_key: hex::encode(signing_key.verifying_key().as_bytes()),
            signature: hex::encode(&signature.to_bytes()),
        }
    }
}

/// A report with its reporter's public key and signature, as posted to the API.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedReport {
    /// What was seen; its canonical bytes are what is signed.
    pub report: PriceReport,
    /// The reporter's Ed25519 public key: 64 lowercase hex digits.
    pub public_key: String,
    /// Ed25519 over [`PriceReport::canonical_bytes`]: 128 lowercase hex digits.
    pub signature: String,
}

impl SignedReport {
    /// Check the key and signature formats, the client version and nonce, the signature
    /// (strict Ed25519: no weak keys, no malleable signatures), the currency and price, and
    /// the skew window, in that order. Replays are the caller's next step ([`ReplayGuard`] or
    /// the database's unique index), because they need memory.
    pub fn verify(
        &self,
        rules: &ReportRules,
        now: Timestamp,
    ) -> Result<VerifiedReport, ReportError> {
        let key = ReporterKey::parse(&self.public_key)?;
        let signature = hex::decode_array::<64>(&self.signature)
            .map(|bytes| Signature::from_bytes(&bytes))
            .ok_or(ReportError::MalformedSignature)?;
        rules.check_format(&self.report)?;
        let verifying_key =
            VerifyingKey::from_bytes(key.as_bytes()).map_err(|_| ReportError::InvalidKey)?;
        if verifying_key.is_weak() {
            return Err(ReportError::InvalidKey);
        }
        verifying_key
            .verify_strict(&self.report.canonical_bytes(), &signature)
            .map_err(|_| ReportError::BadSignature)?;
        rules.check_content(&self.report)?;
        rules.check_time(self.report.observed_at, now)?;
        Ok(VerifiedReport {
            report: self.report.clone(),
            key,
        })
    }
}

/// A report whose signature and rules have been checked, with the key that signed it.
///
/// Only [`SignedReport::verify`] makes one, so a function taking it cannot be handed an
/// unchecked report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedReport {
    report: PriceReport,
    key: ReporterKey,
}

impl VerifiedReport {
    /// The checked report.
    pub fn report(&self) -> &PriceReport {
        &self.report
    }

    /// The key that signed it: whose reputation the judge weighs.
    pub fn key(&self) -> ReporterKey {
        self.key
    }

    /// Both parts, for a caller that stores them.
    pub fn into_parts(self) -> (PriceReport, ReporterKey) {
        (self.report, self.key)
    }
}

#[cfg(test)]
mod tests;
