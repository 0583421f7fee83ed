//! Core's fixture corpus read through the DOM backend in the browser: the same pages and
//! expectations as core's native corpus test (`core/tests/corpus.rs`), and the same answers
//! as the HTML backend, page by page.

use pricewatch_core::html::HtmlPage;
use pricewatch_core::observation::ReadError;
use pricewatch_core::reading::PageReading;
use pricewatch_core::{extract, PageContext};
use pricewatch_wasm::extract::read;
use serde_json::{json, Value};
use wasm_bindgen_test::wasm_bindgen_test;

use crate::support::parse;

include!(concat!(env!("OUT_DIR"), "/corpus.rs"));

/// The URL a side file says the page was fetched from.
#[track_caller]
fn url_of(name: &str, side: &str) -> (Value, String) {
    let side: Value = serde_json::from_str(side).unwrap_or_else(|e| panic!("{name}.json: {e}"));
    let url = side["url"].as_str().unwrap_or_default().to_owned();
    (side, url)
}

/// A reading in the side files' vocabulary.
fn as_side_file(reading: &Result<PageReading, ReadError>) -> Value {
    match reading {
        Ok(PageReading::Product(o)) => json!({
            "outcome": "product",
            "marketplace": o.marketplace,
            "asin": o.asin,
            "title": o.title,
            "price": o.price,
            "list_price": o.list_price,
            "price_range": o.price_range,
            "availability": o.availability,
            "deal": o.deal,
            "price_in_cart": o.price_in_cart,
            "seller": o.seller,
            "condition": o.condition,
            "price_is_personal": o.price_is_personal,
            "pricing_flags": o.pricing_flags,
        }),
        Ok(PageReading::Blocked { marketplace, .. }) => {
            json!({"outcome": "blocked", "marketplace": marketplace})
        }
        Err(e) => json!({"outcome": "not_product", "error": e.to_string()}),
    }
}

/// Titles are compared with white space folded, as shoppers read them (and as core's
/// corpus test does).
fn normalize(field: &str, value: &Value) -> Value {
    match (field, value) {
        ("title", Value::String(s)) => {
            Value::String(s.split_whitespace().collect::<Vec<_>>().join(" "))
        }
        _ => value.clone(),
    }
}

#[wasm_bindgen_test]
fn every_corpus_page_reads_as_its_side_file_expects_through_the_dom() {
    assert!(PAGES.len() >= 40, "only {} corpus pages", PAGES.len());
    let mut failures = Vec::new();
    for (name, html, side) in PAGES {
        let (side, url) = url_of(name, side);
        let got = as_side_file(&read(&parse(html), &url));
        let Some(expect) = side["expect"].as_object() else {
            panic!("{name}.json has no \"expect\" object");
        };
        for (field, want) in expect {
            let have = got.get(field).cloned().unwrap_or(Value::Null);
            if normalize(field, &have) != normalize(field, want) {
                failures.push(format!("{name}: {field}: expected {want}, got {have}"));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[wasm_bindgen_test]
fn the_dom_and_html_backends_read_every_corpus_page_alike() {
    let mut differences = Vec::new();
    for (name, html, side) in PAGES {
        let (_, url) = url_of(name, side);
        let dom = read(&parse(html), &url);
        let html = PageReading::from_result(extract(
            &HtmlPage::parse(html),
            &PageContext::from_url(&url),
        ));
        if dom != html {
            differences.push(format!("{name}:\n  dom:  {dom:?}\n  html: {html:?}"));
        }
    }
    assert!(
        differences.is_empty(),
        "{} pages differ:\n{}",
        differences.len(),
        differences.join("\n")
    );
}
