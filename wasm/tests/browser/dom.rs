//! The DOM backend's own behaviour, and `extract` through the exported functions.

use pricewatch_core::html::HtmlPage;
use pricewatch_core::page::{Element, Page};
use pricewatch_wasm::dom::DomPage;
use pricewatch_wasm::extract::{extract, extract_document};
use serde_json::json;
use wasm_bindgen_test::wasm_bindgen_test;

use crate::support::{document, json, parse};

const DOC: &str = r#"<html><body>
    <div id="a" class="box"><span class="p">one</span><span class="p" data-x="y">two</span></div>
    <div id="b"><span class="p">three</span><div id="a">dup</div></div>
    <p class="p">four</p>
</body></html>"#;

const PRODUCT: &str = r#"<div id="dp">
  <span id="productTitle">Kaffeemühle &amp; Co</span>
  <div id="corePrice_feature_div"><span class="a-price"><span class="a-offscreen">1.299,99&nbsp;€</span></span></div>
  <div id="availability">Auf Lager</div>
  <input type="hidden" id="ASIN" name="ASIN" value="B0C1234567">
</div>"#;

#[track_caller]
fn texts<P: Page>(page: &P, selector: &str) -> Vec<String> {
    page.select(selector).iter().map(|e| e.text()).collect()
}

#[wasm_bindgen_test]
fn selectors_answer_as_in_the_html_backend_even_with_a_repeated_id() {
    let dom = DomPage::new(parse(DOC));
    let html = HtmlPage::parse(DOC);
    for selector in [
        "#a .p",
        "div#a .p",
        "#b .p",
        "#missing .p",
        ".p",
        "#a > .p",
        "#a",
    ] {
        assert_eq!(texts(&dom, selector), texts(&html, selector), "{selector}");
    }
    assert_eq!(texts(&dom, "#a .p"), ["one", "two"], "the first #a only");
}

#[wasm_bindgen_test]
fn attributes_nested_selects_and_first_matches_work() {
    let dom = DomPage::new(parse(DOC));
    let a = dom.first("#a").expect("#a");
    assert_eq!(a.attr("class").as_deref(), Some("box"));
    assert_eq!(
        a.first("[data-x]")
            .and_then(|e| e.attr("data-x"))
            .as_deref(),
        Some("y")
    );
    assert_eq!(a.select(".p").len(), 2);
    assert_eq!(dom.first(".p").map(|e| e.text()).as_deref(), Some("one"));
    assert!(dom.exists("#b .p") && !dom.exists("#b .q"));
}

#[wasm_bindgen_test]
fn a_selector_the_browser_cannot_parse_matches_nothing() {
    let dom = DomPage::new(parse(DOC));
    assert!(dom.select("div[").is_empty());
    assert!(dom.first("div[").is_none());
    assert!(dom.first("#a div[").is_none());
}

#[wasm_bindgen_test]
fn every_rule_selector_parses_in_the_browser() {
    let document = parse(DOC);
    for selector in pricewatch_core::extract::all_selectors() {
        assert!(
            document.query_selector(selector).is_ok(),
            "Chromium refuses {selector}"
        );
    }
}

#[wasm_bindgen_test]
fn extract_reads_the_page_the_script_runs_in() {
    let document = document();
    let product = document.create_element("div").expect("div");
    product.set_inner_html(PRODUCT);
    let body = document.body().expect("body");
    body.append_child(&product).expect("attached");

    let reading = extract("https://www.amazon.de/dp/B0C1234567").map(json);
    body.remove_child(&product).expect("detached");

    let reading = reading.expect("extract");
    assert_eq!(reading["marketplace"], "de");
    assert_eq!(reading["asin"], "B0C1234567");
    assert_eq!(reading["title"], "Kaffeemühle & Co");
    assert_eq!(
        reading["price"],
        json!({"amount_minor": 129_999, "currency": "EUR"})
    );
    assert_eq!(reading["availability"], "in_stock");
    assert_eq!(reading["blocked"], false);
}

#[wasm_bindgen_test]
fn the_exported_reading_is_the_same_object_pricewatch_extract_prints() {
    let html = format!("<html><body>{PRODUCT}</body></html>");
    let url = "https://www.amazon.de/dp/B0C1234567";
    let exported = json(extract_document(&parse(&html), url).expect("extract"));
    let native = pricewatch_core::reading::PageReading::from_result(pricewatch_core::extract(
        &HtmlPage::parse(&html),
        &pricewatch_core::PageContext::from_url(url),
    ))
    .expect("a product page");
    assert_eq!(
        exported,
        serde_json::to_value(native).expect("serializable")
    );
    assert_eq!(
        exported["list_price"],
        serde_json::Value::Null,
        "null, not undefined"
    );
}

#[wasm_bindgen_test]
fn robot_checks_are_blocked_and_other_pages_say_why_they_are_unreadable() {
    let captcha = parse(
        r#"<html><body><form action="/errors/validateCaptcha"><input id="captchacharacters"></form></body></html>"#,
    );
    let blocked =
        json(extract_document(&captcha, "https://www.amazon.com/dp/B08N5WRWNW").expect("extract"));
    assert_eq!(blocked["blocked"], true);
    assert_eq!(blocked["price"], serde_json::Value::Null);
    assert_eq!(blocked["asin"], "B08N5WRWNW");

    let search = parse("<html><body><h1>Results</h1></body></html>");
    let unreadable =
        json(extract_document(&search, "https://www.amazon.com/s?k=x").expect("extract"));
    assert_eq!(unreadable["reason"], "not_a_product_page");
    assert!(unreadable["error"]
        .as_str()
        .is_some_and(|m| m.contains("not a product page")));
}
