//! Reporter keys and signed price reports.
//!
//! A reporter key is a 32-byte Ed25519 seed, made once per installation with
//! `crypto.getRandomValues` and kept by the extension as 64 hex digits. A report is built from
//! a page reading (what [`extract`](crate::extract::extract) returned), signed over core's
//! canonical bytes ([`PriceReport::sign`]) with a fresh random nonce, and checked with the
//! server's own rules before it is handed back, so a report the server would refuse for its
//! content is refused here, with the reason, instead of being posted.
//!
//! The signed report's JSON is exactly what `POST /api/reports` takes in its `reports` list
//! (see `pricewatch_core::report`).

use pricewatch_core::observation::Availability;
use pricewatch_core::report::{
    Nonce, PriceReport, ReportError, ReportRules, ReporterKey, SignedReport,
};
use pricewatch_core::{Asin, Marketplace, Money, Timestamp};
use serde::Deserialize;
use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen::JsValue;

use crate::error::Error;
use crate::js::{from_js, to_js, whole_number};
use crate::{hex, random};

/// A new reporter key: 64 lowercase hex digits of a 32-byte seed from
/// `crypto.getRandomValues`. Keep it secret; [`public_key`] is what identifies the reporter.
#[wasm_bindgen]
pub fn generate_key() -> Result<String, Error> {
    let mut seed = [0; 32];
    random::fill(&mut seed)?;
    Ok(hex::encode(&seed))
}

/// The public key (64 lowercase hex digits) of the seed `seed_hex`, as the server registers it
/// (`POST /api/reporters`).
#[wasm_bindgen]
pub fn public_key(seed_hex: &str) -> Result<String, Error> {
    Ok(ReporterKey::from_seed(&parse_seed(seed_hex)?).to_string())
}

/// Sign what `observation` (the object [`extract`](crate::extract::extract) returned, or its
/// JSON text) says about the page, as seen at `observed_at_ms` (milliseconds since the Unix
/// epoch, `Date.now()`) by extension version `client_version`.
///
/// Returns the signed report object (`{report, public_key, signature}`); throws when the seed
/// or the arguments are malformed or the reading is not reportable (a robot check, a personal
/// price, a price range, a price in a foreign currency).
#[wasm_bindgen]
pub fn sign_report(
    seed_hex: &str,
    observation: JsValue,
    observed_at_ms: f64,
    client_version: &str,
) -> Result<JsValue, Error> {
    let seed = parse_seed(seed_hex)?;
    let reading: ReadingForReport = from_js("observation", observation)?;
    let observed_at = timestamp(observed_at_ms)?;
    let mut nonce = [0; 16];
    random::fill(&mut nonce)?;
    let signed = sign(
        &seed,
        &reading,
        observed_at,
        client_version,
        Nonce::from_bytes(nonce),
    )?;
    to_js(&signed)
}

/// The fields of a page reading that a report carries (the rest of the object is ignored).
///
/// Everything that decides whether the price is public is required: a caller that leaves
/// `price_is_personal` out gets an error, not a personal price published as public.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ReadingForReport {
    /// A robot check: nothing to report.
    pub blocked: bool,
    /// The storefront; `null` only on robot checks.
    pub marketplace: Option<Marketplace>,
    /// The product; `null` only on robot checks.
    pub asin: Option<Asin>,
    /// The buy-box price, `null` when the page showed none.
    #[serde(default)]
    pub price: Option<Money>,
    /// Whether the product could be bought.
    pub availability: Option<Availability>,
    /// The buy box showed only a range (a variation parent).
    #[serde(default)]
    pub price_range: bool,
    /// The price is one only this shopper gets.
    pub price_is_personal: Option<bool>,
}

/// The report a reading makes, or why it makes none.
pub fn report_of(
    reading: &ReadingForReport,
    observed_at: Timestamp,
    client_version: &str,
    nonce: Nonce,
) -> Result<PriceReport, Error> {
    if reading.blocked {
        return Err(Error::NotReportable(
            "the page is a robot check, not the product page".into(),
        ));
    }
    let missing = |field: &str| Error::argument("observation", format!("{field} is missing"));
    let marketplace = reading.marketplace.ok_or_else(|| missing("marketplace"))?;
    let asin = reading.asin.ok_or_else(|| missing("asin"))?;
    let availability = reading
        .availability
        .ok_or_else(|| missing("availability"))?;
    let personal = reading
        .price_is_personal
        .ok_or_else(|| missing("price_is_personal"))?;
    if reading.price.is_none() && reading.price_range {
        return Err(Error::NotReportable(
            "the page shows a price range, not one offer (select a variation)".into(),
        ));
    }
    if reading.price.is_some() && personal {
        return Err(Error::NotReportable(
            "the price shown is personal (members, business or subscription price), not the public one".into(),
        ));
    }
    Ok(PriceReport {
        marketplace,
        asin,
        price: reading.price,
        // The marketplace's own currency; a price seen through Amazon's currency converter
        // carries another and is refused by the check in `sign`.
        currency: marketplace.currency(),
        availability,
        observed_at,
        client_version: client_version.to_owned(),
        nonce,
    })
}

/// Sign the report `reading` makes with `seed`, checked with the server's rules.
pub fn sign(
    seed: &[u8; 32],
    reading: &ReadingForReport,
    observed_at: Timestamp,
    client_version: &str,
    nonce: Nonce,
) -> Result<SignedReport, Error> {
    let signed = report_of(reading, observed_at, client_version, nonce)?.sign(seed);
    // "now" is the report's own time: the skew window is the server's business, the rest of
    // its checks (format, currency, price bounds, the signature itself) apply here as there.
    match signed.verify(&ReportRules::default(), observed_at) {
        Ok(_) => Ok(signed),
        Err(
            e @ (ReportError::ClientVersionTooLong { .. } | ReportError::ClientVersionMalformed(_)),
        ) => Err(Error::argument("client_version", e)),
        Err(e) => Err(Error::NotReportable(e.to_string())),
    }
}

/// A seed from its 64 hex digits.
fn parse_seed(seed_hex: &str) -> Result<[u8; 32], Error> {
    hex::decode_array(seed_hex)
        .ok_or_else(|| Error::argument("seed_hex", "expected 64 hex digits (a 32-byte seed)"))
}

/// JavaScript's millisecond time (`Date.now()`) as a [`Timestamp`].
fn timestamp(ms: f64) -> Result<Timestamp, Error> {
    whole_number("observed_at_ms", ms).map(Timestamp::from_millis)
}

#[cfg(test)]
mod tests {
    use pricewatch_core::Currency;
    use serde_json::json;

    use super::*;

    /// RFC 8032's first test seed: a key nobody uses for real reports.
    const SEED: &str = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";

    fn reading(value: serde_json::Value) -> ReadingForReport {
        serde_json::from_value(value).unwrap()
    }

    fn product() -> serde_json::Value {
        json!({
            "marketplace": "de", "asin": "B0C1234567", "title": "Kaffeemühle",
            "price": {"amount_minor": 129_999, "currency": "EUR"}, "list_price": null,
            "availability": "in_stock", "blocked": false, "price_range": false, "range": null,
            "deal": false, "price_in_cart": false, "seller": {"kind": "amazon"},
            "condition": "new", "price_is_personal": false, "pricing_flags": [],
        })
    }

    fn at() -> Timestamp {
        Timestamp::from_millis(1_735_689_600_000)
    }

    fn nonce() -> Nonce {
        Nonce::from_bytes([7; 16])
    }

    #[test]
    fn a_report_signed_here_verifies_with_the_servers_rules_and_key() {
        let seed = hex::decode_array(SEED).unwrap();
        let signed = sign(&seed, &reading(product()), at(), "1.4.2", nonce()).unwrap();

        let verified = signed.verify(&ReportRules::default(), at()).unwrap();
        assert_eq!(verified.key().to_string(), public_key(SEED).unwrap());
        assert_eq!(
            verified.report().price,
            Some(Money::new(129_999, Currency::Eur))
        );
        assert_eq!(
            signed.signature,
            EXPECTED_SIGNATURE.trim(),
            "the browser test checks the same bytes, so wasm and native sign alike"
        );
    }

    /// The signature of `product()` at `at()` with `nonce()` and version 1.4.2 under `SEED`:
    /// Ed25519 is deterministic, so the wasm build must produce these very bytes.
    const EXPECTED_SIGNATURE: &str = include_str!("../tests/browser/expected_signature.txt");

    #[test]
    fn the_seed_names_the_rfc_8032_public_key() {
        assert_eq!(
            public_key(SEED).unwrap(),
            "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
        );
        assert!(public_key("abc").is_err());
    }

    #[test]
    fn a_page_without_a_price_reports_none_with_its_availability() {
        let mut value = product();
        value["price"] = json!(null);
        value["availability"] = json!("out_of_stock");
        let report = report_of(&reading(value), at(), "1.4.2", nonce()).unwrap();
        assert_eq!(report.price, None);
        assert_eq!(report.currency, Currency::Eur);
        assert_eq!(report.availability, Availability::OutOfStock);
    }

    #[test]
    fn robot_checks_ranges_and_personal_prices_are_not_reported() {
        let blocked = reading(json!({
            "marketplace": "us", "asin": null, "title": null, "price": null,
            "list_price": null, "availability": "unknown", "blocked": true, "price_range": false,
        }));
        let mut range = product();
        range["price"] = json!(null);
        range["price_range"] = json!(true);
        let mut personal = product();
        personal["price_is_personal"] = json!(true);

        for case in [blocked, reading(range), reading(personal)] {
            assert!(
                matches!(
                    report_of(&case, at(), "1.4.2", nonce()),
                    Err(Error::NotReportable(_))
                ),
                "{case:?}"
            );
        }
    }

    #[test]
    fn a_reading_that_leaves_out_whether_the_price_is_personal_is_refused() {
        let mut value = product();
        value.as_object_mut().unwrap().remove("price_is_personal");
        assert!(matches!(
            report_of(&reading(value), at(), "1.4.2", nonce()),
            Err(Error::Argument {
                name: "observation",
                ..
            })
        ));
    }

    #[test]
    fn a_price_in_a_foreign_currency_is_not_signed() {
        let mut value = product();
        value["price"] = json!({"amount_minor": 139_999, "currency": "USD"});
        let seed = hex::decode_array(SEED).unwrap();
        let err = sign(&seed, &reading(value), at(), "1.4.2", nonce()).unwrap_err();
        assert!(
            matches!(err, Error::NotReportable(ref m) if m.contains("USD")),
            "{err}"
        );
    }

    #[test]
    fn a_malformed_client_version_is_an_argument_error() {
        let seed = hex::decode_array(SEED).unwrap();
        let err = sign(&seed, &reading(product()), at(), "1.4 beta", nonce()).unwrap_err();
        assert!(
            matches!(
                err,
                Error::Argument {
                    name: "client_version",
                    ..
                }
            ),
            "{err}"
        );
    }

    #[test]
    fn only_whole_safe_milliseconds_are_times() {
        assert_eq!(timestamp(1_735_689_600_000.0), Ok(at()));
        for bad in [f64::NAN, f64::INFINITY, 1.5, 2e16] {
            assert!(timestamp(bad).is_err(), "{bad}");
        }
    }
}
