//! Reporter keys and signatures made in the browser, checked with core's verification (the
//! server's own code) and against the bytes the native build signs.

use pricewatch_core::report::{Nonce, ReportRules, ReporterKey, SignedReport};
use pricewatch_core::Timestamp;
use pricewatch_wasm::extract::extract_document;
use pricewatch_wasm::sign::{generate_key, public_key, sign, sign_report, ReadingForReport};
use serde_json::json;
use wasm_bindgen::JsValue;
use wasm_bindgen_test::wasm_bindgen_test;

use crate::support::{message, parse};

/// RFC 8032's first test seed.
const SEED: &str = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";
/// What the native build signs for the same report (`src/sign.rs` checks it natively).
const EXPECTED_SIGNATURE: &str = include_str!("expected_signature.txt");
const AT: i64 = 1_735_689_600_000;

fn product() -> serde_json::Value {
    json!({
        "marketplace": "de", "asin": "B0C1234567", "title": "Kaffeemühle",
        "price": {"amount_minor": 129_999, "currency": "EUR"}, "list_price": null,
        "availability": "in_stock", "blocked": false, "price_range": false, "range": null,
        "deal": false, "price_in_cart": false, "seller": {"kind": "amazon"},
        "condition": "new", "price_is_personal": false, "pricing_flags": [],
    })
}

#[wasm_bindgen_test]
fn wasm_signs_the_very_bytes_the_native_build_signs() {
    let reading: ReadingForReport = serde_json::from_value(product()).expect("reading");
    let seed = [
        0x9d, 0x61, 0xb1, 0x9d, 0xef, 0xfd, 0x5a, 0x60, 0xba, 0x84, 0x4a, 0xf4, 0x92, 0xec, 0x2c,
        0xc4, 0x44, 0x49, 0xc5, 0x69, 0x7b, 0x32, 0x69, 0x19, 0x70, 0x3b, 0xac, 0x03, 0x1c, 0xae,
        0x7f, 0x60,
    ];
    let signed = sign(
        &seed,
        &reading,
        Timestamp::from_millis(AT),
        "1.4.2",
        Nonce::from_bytes([7; 16]),
    )
    .expect("signed");
    assert_eq!(signed.signature, EXPECTED_SIGNATURE.trim());
}

#[wasm_bindgen_test]
fn generated_keys_are_fresh_random_seeds_with_their_public_key() {
    let (one, two) = (generate_key().expect("key"), generate_key().expect("key"));
    assert_eq!(one.len(), 64);
    assert!(one
        .bytes()
        .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()));
    assert_ne!(one, two);
    assert_eq!(
        public_key(SEED).expect("public key"),
        "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
    );
    assert!(ReporterKey::parse(&public_key(&one).expect("public key")).is_ok());
}

#[wasm_bindgen_test]
fn a_report_signed_from_an_extracted_page_verifies_with_the_servers_rules() {
    let page = parse(
        r#"<html><body><div id="dp"><span id="productTitle">Kaffeemühle</span>
        <div id="corePrice_feature_div"><span class="a-price"><span class="a-offscreen">1.299,99&nbsp;€</span></span></div>
        <div id="availability">Auf Lager</div>
        <input type="hidden" id="ASIN" name="ASIN" value="B0C1234567"></div></body></html>"#,
    );
    let reading = extract_document(&page, "https://www.amazon.de/dp/B0C1234567").expect("read");
    let seed = generate_key().expect("key");

    let first = sign_report(&seed, reading.clone(), AT as f64, "1.4.2").expect("signed");
    let second = sign_report(&seed, reading, AT as f64, "1.4.2").expect("signed");

    let first: SignedReport = serde_wasm_bindgen::from_value(first).expect("the API's shape");
    let second: SignedReport = serde_wasm_bindgen::from_value(second).expect("the API's shape");
    let verified = first
        .verify(&ReportRules::default(), Timestamp::from_millis(AT))
        .expect("verifies");
    assert_eq!(
        verified.key().to_string(),
        public_key(&seed).expect("public key")
    );
    assert_eq!(
        verified.report().price.map(|p| p.amount_minor),
        Some(129_999)
    );
    assert_ne!(
        first.report.nonce, second.report.nonce,
        "every report has its own nonce"
    );
}

#[wasm_bindgen_test]
fn the_reading_may_be_passed_as_json_text() {
    let text = JsValue::from_str(&product().to_string());
    let signed = sign_report(SEED, text, AT as f64, "1.4.2").expect("signed");
    let signed: SignedReport = serde_wasm_bindgen::from_value(signed).expect("the API's shape");
    assert_eq!(signed.report.asin.as_str(), "B0C1234567");
}

#[wasm_bindgen_test]
fn unreportable_pages_and_bad_arguments_throw_errors_that_say_why() {
    let blocked = json!({
        "marketplace": "us", "asin": null, "title": null, "price": null, "list_price": null,
        "availability": "unknown", "blocked": true, "price_range": false,
    });
    let err = sign_report(
        SEED,
        JsValue::from_str(&blocked.to_string()),
        AT as f64,
        "1.4.2",
    )
    .expect_err("a robot check is not a report");
    assert!(message(err.into()).contains("robot check"));

    let err = sign_report(
        "nope",
        JsValue::from_str(&product().to_string()),
        AT as f64,
        "1.4.2",
    )
    .expect_err("a bad seed");
    assert!(message(err.into()).starts_with("seed_hex:"));

    let err = sign_report(
        SEED,
        JsValue::from_str(&product().to_string()),
        1.5,
        "1.4.2",
    )
    .expect_err("a fractional time");
    assert!(message(err.into()).starts_with("observed_at_ms:"));

    let err = sign_report(
        SEED,
        JsValue::from_str("{\"blocked\": false}"),
        AT as f64,
        "1.4.2",
    )
    .expect_err("a partial reading");
    assert!(message(err.into()).contains("missing"));
}
