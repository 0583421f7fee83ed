//! `pricewatch extract` as a user runs it: a real process, real files, exit codes and JSON.

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

#[track_caller]
fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pricewatch"))
        .args(args)
        .output()
        .expect("the pricewatch binary runs")
}

#[track_caller]
fn write(dir: &Path, name: &str, html: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, html).expect("temp file is writable");
    path.display().to_string()
}

#[track_caller]
fn json_of(out: &Output) -> Value {
    assert!(
        out.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("stdout is one JSON object")
}

const PRODUCT: &str = r#"<html><body><div id="dp">
  <span id="productTitle">Kaffeemühle &amp; Co</span>
  <div id="corePrice_feature_div"><span class="a-price"><span class="a-offscreen">1.299,99&nbsp;€</span></span></div>
  <div id="availability">Auf Lager</div>
  <input type="hidden" id="ASIN" name="ASIN" value="B0C1234567">
</div></body></html>"#;

#[test]
fn a_product_page_prints_the_documented_json() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "p.html", PRODUCT);
    let v = json_of(&run(&[
        "extract",
        "--url",
        "https://www.amazon.de/dp/B0C1234567",
        &file,
    ]));
    assert_eq!(v["marketplace"], "de");
    assert_eq!(v["asin"], "B0C1234567");
    assert_eq!(v["title"], "Kaffeemühle & Co");
    assert_eq!(v["price"]["amount_minor"], 129_999);
    assert_eq!(v["price"]["currency"], "EUR");
    assert_eq!(v["list_price"], Value::Null);
    assert_eq!(v["availability"], "in_stock");
    assert_eq!(v["blocked"], false);
    assert_eq!(v["price_range"], false);
}

#[test]
fn a_robot_check_page_is_read_as_blocked() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        dir.path(),
        "c.html",
        r#"<html><body><form action="/errors/validateCaptcha"><input id="captchacharacters"></form></body></html>"#,
    );
    let v = json_of(&run(&[
        "extract",
        "--url",
        "https://www.amazon.com/dp/B08N5WRWNW",
        &file,
    ]));
    assert_eq!(v["blocked"], true);
    assert_eq!(v["price"], Value::Null);
    assert_eq!(v["marketplace"], "us");
    assert_eq!(v["asin"], "B08N5WRWNW");
}

#[test]
fn a_missing_file_fails_with_a_message_naming_it() {
    let out = run(&["extract", "/nonexistent/page.html"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("/nonexistent/page.html"), "{err}");
}

#[test]
fn a_page_that_is_not_a_product_fails_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        dir.path(),
        "s.html",
        "<html><body><h1>Results</h1></body></html>",
    );
    let out = run(&["extract", "--url", "https://www.amazon.com/s?k=x", &file]);
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a product page"));
}

#[test]
fn without_a_url_the_marketplace_comes_from_the_canonical_link() {
    let dir = tempfile::tempdir().unwrap();
    let html = PRODUCT.replace(
        "<body>",
        r#"<head><link rel="canonical" href="https://www.amazon.de/Kaffeemuehle/dp/B0C1234567"></head><body>"#,
    );
    let file = write(dir.path(), "p.html", &html);
    let v = json_of(&run(&["extract", &file]));
    assert_eq!(v["marketplace"], "de");
}
