//! The website's helpers through their exported shapes.

use pricewatch_wasm::text::{format_price, parse_asin_or_url};
use serde_json::json;
use wasm_bindgen_test::wasm_bindgen_test;

use crate::support::{json, message};

#[wasm_bindgen_test]
fn prices_are_written_as_the_storefront_writes_them() {
    assert_eq!(
        format_price("fr", 129_999.0).expect("fr"),
        "1\u{202F}299,99\u{A0}€"
    );
    assert_eq!(
        format_price("in", 12_345_600.0).expect("in"),
        "₹1,23,456.00"
    );
    let err = format_price("xx", 1.0).expect_err("no such storefront");
    assert!(message(err.into()).starts_with("marketplace:"));
}

#[wasm_bindgen_test]
fn a_pasted_url_or_asin_gives_the_product_or_a_message() {
    assert_eq!(
        json(
            parse_asin_or_url("https://www.amazon.co.uk/gp/product/B08N5WRWNW?psc=1")
                .expect("parsed")
        ),
        json!({"marketplace": "uk", "asin": "B08N5WRWNW"})
    );
    assert_eq!(
        json(parse_asin_or_url("B08N5WRWNW").expect("parsed")),
        json!({"marketplace": null, "asin": "B08N5WRWNW"})
    );
    let not_found = json(parse_asin_or_url("https://amzn.to/3abc").expect("parsed"));
    assert!(not_found["error"]
        .as_str()
        .is_some_and(|m| m.contains("short link")));
}
