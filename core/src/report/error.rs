//! Why a signed report is refused: one variant per rule, so the server can count and log them
//! and map each to a status code in one place.

use crate::marketplace::Marketplace;
use crate::money::{Currency, Money};
use crate::time::Span;

/// Why a [`SignedReport`](super::SignedReport) failed verification (or a nonce was replayed).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReportError {
    /// The public key is not 64 lowercase hex digits (32 bytes).
    #[error("the public key is not 64 lowercase hex digits")]
    MalformedKey,
    /// The key is well-formed but is not a usable Ed25519 public key (not a curve point, or
    /// a weak small-order point that would let one signature verify for many messages).
    #[error("the public key is not a usable Ed25519 key")]
    InvalidKey,
    /// The signature is not 128 lowercase hex digits (64 bytes).
    #[error("the signature is not 128 lowercase hex digits")]
    MalformedSignature,
    /// The signature does not verify over the report's canonical bytes with this key.
    #[error("the signature does not match the report and key")]
    BadSignature,
    /// The nonce is not 32 lowercase hex digits (16 bytes).
    #[error("the nonce is not 32 lowercase hex digits")]
    MalformedNonce,
    /// An all-zero nonce: the sign of a client whose random source is broken, whose every
    /// report would collide with its others.
    #[error("the nonce is all zeros")]
    ZeroNonce,
    /// The same (key, nonce) pair was seen before inside the replay window.
    #[error("the report's nonce was already used by this key")]
    Replayed,
    /// `observed_at` is further ahead of the server's clock than the rules allow.
    #[error("the report is dated {} ms in the future (at most {} ms allowed)", .ahead.as_millis(), .max.as_millis())]
    FromTheFuture {
        /// How far ahead of the server's clock the report is.
        ahead: Span,
        /// The allowed skew.
        max: Span,
    },
    /// `observed_at` is older than the rules allow; also what ends a nonce's replay window.
    #[error("the report is {} ms old (at most {} ms allowed)", .age.as_millis(), .max.as_millis())]
    TooOld {
        /// How old the report is by the server's clock.
        age: Span,
        /// The allowed age.
        max: Span,
    },
    /// The report's currency (or its price's) is not the marketplace's: the page was shown
    /// through Amazon's currency converter, or the report is forged.
    #[error("{marketplace} prices in {expected}, the report says {got}")]
    CurrencyMismatch {
        /// The report's marketplace.
        marketplace: Marketplace,
        /// The marketplace's currency.
        expected: Currency,
        /// The currency the report used instead.
        got: Currency,
    },
    /// A price of zero or less: a page never shows one, an extraction bug or forgery does.
    #[error("price {0} is not positive")]
    NonPositivePrice(Money),
    /// A price above the per-currency ceiling: no Amazon offer costs that much.
    #[error("price {price} is above the ceiling of {ceiling}")]
    PriceAboveCeiling {
        /// The reported price.
        price: Money,
        /// The highest price accepted in its currency.
        ceiling: Money,
    },
    /// The client version is longer than the rules allow.
    #[error("the client version is {len} bytes long (at most {max})")]
    ClientVersionTooLong {
        /// Its length in bytes.
        len: usize,
        /// The longest allowed.
        max: usize,
    },
    /// The client version is empty or has characters outside `[0-9A-Za-z.+_-]`.
    #[error("the client version {0:?} is not a version string")]
    ClientVersionMalformed(String),
}

/// Why bytes are not the canonical encoding of a [`PriceReport`](super::PriceReport).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// The bytes do not start with the version-1 prefix.
    #[error("the bytes do not start with the report encoding prefix")]
    Prefix,
    /// The bytes end inside a field.
    #[error("the bytes end inside the {0} field")]
    Truncated(&'static str),
    /// Bytes follow the last field.
    #[error("{0} bytes follow the last field")]
    TrailingBytes(usize),
    /// A field's text is not the exact canonical spelling of a value of its type.
    #[error("the {field} field {text:?} is not canonical")]
    Field {
        /// The field's name, as in the layout table.
        field: &'static str,
        /// The text found there.
        text: String,
    },
    /// The price tag byte is neither 0 (no price) nor 1 (a price follows).
    #[error("price tag {0} is neither 0 nor 1")]
    PriceTag(u8),
}
