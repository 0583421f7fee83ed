//! The fixture corpus: every page under `tests/pages/` is read with the HTML backend and
//! compared, field by field, with the expectation in its side file. Prints a per-field
//! accuracy table and fails on any mismatch, listing each one.
//!
//! The pages were written independently of the rules, modelled on Amazon's markup across
//! years, layouts and marketplaces; see `tests/pages/README.md`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use pricewatch_core::html::HtmlPage;
use pricewatch_core::observation::ReadError;
use pricewatch_core::{extract, PageContext};
use serde_json::{json, Value};

fn pages_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/pages")
}

/// Every `NAME.json` side file with its `NAME.html` page.
fn cases() -> Vec<(String, Value, String)> {
    let mut cases = Vec::new();
    let entries = std::fs::read_dir(pages_dir()).expect("tests/pages exists");
    for entry in entries {
        let path = entry.expect("directory entry").path();
        if path.extension().and_then(|e| e.to_str()) != Some("json") {
            continue;
        }
        let name = path
            .file_stem()
            .and_then(|s| s.to_str())
            .expect("utf-8 file name")
            .to_owned();
        let side: Value =
            serde_json::from_str(&std::fs::read_to_string(&path).expect("side file is readable"))
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let html = std::fs::read_to_string(path.with_extension("html"))
            .unwrap_or_else(|e| panic!("{name}.html: {e}"));
        cases.push((name, side, html));
    }
    cases.sort_by(|a, b| a.0.cmp(&b.0));
    cases
}

/// The observation as the side files write it.
fn actual(html: &str, url: &str) -> Value {
    let page = HtmlPage::parse(html);
    match extract(&page, &PageContext::from_url(url)) {
        Ok(o) => json!({
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
        Err(ReadError::Blocked { marketplace, .. }) => {
            json!({"outcome": "blocked", "marketplace": marketplace})
        }
        Err(e) => json!({"outcome": "not_product", "error": e.to_string()}),
    }
}

/// Titles are compared with white space folded, as shoppers read them.
fn normalize(field: &str, v: &Value) -> Value {
    match (field, v) {
        ("title", Value::String(s)) => {
            Value::String(s.split_whitespace().collect::<Vec<_>>().join(" "))
        }
        _ => v.clone(),
    }
}

#[test]
fn the_corpus_reads_as_expected_field_by_field() {
    let cases = cases();
    assert!(
        cases.len() >= 40,
        "the corpus has {} pages, want at least 40",
        cases.len()
    );

    let mut per_field: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    let mut failures = Vec::new();
    for (name, side, html) in &cases {
        let url = side["url"].as_str().unwrap_or_default();
        let got = actual(html, url);
        let Some(expect) = side["expect"].as_object() else {
            panic!("{name}.json has no \"expect\" object");
        };
        for (field, want) in expect {
            let have = got.get(field).cloned().unwrap_or(Value::Null);
            let ok = normalize(field, &have) == normalize(field, want);
            let entry = per_field.entry(field.clone()).or_default();
            entry.1 += 1;
            if ok {
                entry.0 += 1;
            } else {
                failures.push(format!("{name}: {field}: expected {want}, got {have}"));
            }
        }
    }

    println!("\n{} pages", cases.len());
    println!("| field | correct | checked | accuracy |");
    println!("|---|---:|---:|---:|");
    for (field, (ok, all)) in &per_field {
        println!(
            "| {field} | {ok} | {all} | {:.1}% |",
            100.0 * *ok as f64 / *all as f64
        );
    }
    assert!(
        failures.is_empty(),
        "{} mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
