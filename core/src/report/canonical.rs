//! The canonical byte encoding of a [`PriceReport`]: the exact bytes a reporter signs.
//!
//! The extension signs these bytes from wasm with this very crate and the server verifies
//! them natively, so the layout below is a wire format: change it only by adding a new
//! version prefix, never by editing version 1.
//!
//! # Version 1
//! Fields in this fixed order, nothing before or after. `str` is a UTF-8 string preceded by
//! its length in bytes as a big-endian `u32`; integers are big-endian two's complement.
//!
//! | # | field            | bytes                                                        |
//! |---|------------------|--------------------------------------------------------------|
//! | 0 | prefix           | the 17 ASCII bytes `pricewatch-report`, then the version `0x01` |
//! | 1 | marketplace      | `str`: the lowercase code (`us`, `de`, `jp`, ...)             |
//! | 2 | asin             | `str`: the 10 uppercase letters and digits                   |
//! | 3 | currency         | `str`: the ISO 4217 code (`USD`)                              |
//! | 4 | price            | `0x00` when no price was shown; else `0x01`, the price's currency as `str`, then its minor units as `i64` |
//! | 5 | availability     | `str`: `in_stock`, `out_of_stock` or `unknown`                |
//! | 6 | observed_at      | `i64`: milliseconds since the Unix epoch (UTC)                |
//! | 7 | client_version   | `str`                                                         |
//! | 8 | nonce            | the 16 raw bytes                                              |
//!
//! Every value has exactly one encoding and decoding accepts only that one (no case folding,
//! no aliases), so two different reports never share bytes and one signature never covers
//! two reports. The price carries its own currency so that a forger cannot swap it unseen.

use crate::asin::Asin;
use crate::marketplace::Marketplace;
use crate::money::{Currency, Money};
use crate::observation::Availability;
use crate::time::Timestamp;

use super::error::DecodeError;
use super::key::Nonce;
use super::PriceReport;

/// The domain-separation prefix and version byte that open every version-1 encoding.
pub(crate) const PREFIX_V1: &[u8; 18] = b"pricewatch-report\x01";

const AVAILABILITIES: [Availability; 3] = [
    Availability::InStock,
    Availability::OutOfStock,
    Availability::Unknown,
];

pub(crate) fn encode(report: &PriceReport) -> Vec<u8> {
    let mut out = Vec::with_capacity(96 + report.client_version.len());
    out.extend_from_slice(PREFIX_V1);
    put_str(&mut out, report.marketplace.code());
    put_str(&mut out, report.asin.as_str());
    put_str(&mut out, report.currency.code());
    match report.price {
        None => out.push(0),
        Some(price) => {
            out.push(1);
            put_str(&mut out, price.currency.code());
            out.extend_from_slice(&price.amount_minor.to_be_bytes());
        }
    }
    put_str(&mut out, report.availability.as_str());
    out.extend_from_slice(&report.observed_at.as_millis().to_be_bytes());
    put_str(&mut out, &report.client_version);
    out.extend_from_slice(report.nonce.as_bytes());
    out
}

/// A string longer than `u32::MAX` bytes cannot be written whole; it is cut at that length
/// so the encoding stays decodable, and verification refuses such a client version before
/// it ever checks a signature.
fn put_str(out: &mut Vec<u8>, text: &str) {
    let len = u32::try_from(text.len()).unwrap_or(u32::MAX);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(text.as_bytes().get(..len as usize).unwrap_or_default());
}

pub(crate) fn decode(bytes: &[u8]) -> Result<PriceReport, DecodeError> {
    let rest = bytes.strip_prefix(PREFIX_V1).ok_or(DecodeError::Prefix)?;
    let mut r = Reader { rest };
    let marketplace = r.parse("marketplace", |t| {
        Marketplace::ALL.into_iter().find(|m| m.code() == t)
    })?;
    let asin = r.parse("asin", |t| Asin::parse(t).ok().filter(|a| a.as_str() == t))?;
    let currency = r.parse("currency", exact_currency)?;
    let price = match r.take::<1>("price")? {
        [0] => None,
        [1] => {
            let currency = r.parse("price", exact_currency)?;
            let amount = i64::from_be_bytes(r.take("price")?);
            Some(Money::new(amount, currency))
        }
        [tag] => return Err(DecodeError::PriceTag(tag)),
    };
    let availability = r.parse("availability", |t| {
        AVAILABILITIES.into_iter().find(|a| a.as_str() == t)
    })?;
    let observed_at = Timestamp::from_millis(i64::from_be_bytes(r.take("observed_at")?));
    let client_version = r.str("client_version")?.to_owned();
    let nonce = Nonce::from_bytes(r.take("nonce")?);
    if !r.rest.is_empty() {
        return Err(DecodeError::TrailingBytes(r.rest.len()));
    }
    Ok(PriceReport {
        marketplace,
        asin,
        price,
        currency,
        availability,
        observed_at,
        client_version,
        nonce,
    })
}

fn exact_currency(text: &str) -> Option<Currency> {
    Currency::ALL.into_iter().find(|c| c.code() == text)
}

/// A cursor over the bytes still to decode.
struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take<const N: usize>(&mut self, field: &'static str) -> Result<[u8; N], DecodeError> {
        let (head, tail) = self
            .rest
            .split_first_chunk::<N>()
            .ok_or(DecodeError::Truncated(field))?;
        self.rest = tail;
        Ok(*head)
    }

    fn str(&mut self, field: &'static str) -> Result<&'a str, DecodeError> {
        let len = u32::from_be_bytes(self.take(field)?) as usize;
        if self.rest.len() < len {
            return Err(DecodeError::Truncated(field));
        }
        let (head, tail) = self.rest.split_at(len);
        self.rest = tail;
        std::str::from_utf8(head).map_err(|_| DecodeError::Field {
            field,
            text: String::from_utf8_lossy(head).into_owned(),
        })
    }

    fn parse<T>(
        &mut self,
        field: &'static str,
        read: impl FnOnce(&str) -> Option<T>,
    ) -> Result<T, DecodeError> {
        let text = self.str(field)?;
        read(text).ok_or_else(|| DecodeError::Field {
            field,
            text: text.to_owned(),
        })
    }
}
