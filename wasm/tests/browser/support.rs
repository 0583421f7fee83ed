//! Documents, canvases and values for the browser tests.

use wasm_bindgen::{JsCast, JsValue};
use web_sys::{Document, DomParser, HtmlCanvasElement, SupportedType};

/// `html` parsed by the browser into a document of its own, as the corpus pages are.
#[track_caller]
pub fn parse(html: &str) -> Document {
    DomParser::new()
        .and_then(|parser| parser.parse_from_string(html, SupportedType::TextHtml))
        .expect("DOMParser parses any text")
}

/// The test page's own document.
#[track_caller]
pub fn document() -> Document {
    web_sys::window()
        .and_then(|w| w.document())
        .expect("the tests run in a page")
}

/// A new canvas attached to the test page.
#[track_caller]
pub fn canvas() -> HtmlCanvasElement {
    let document = document();
    let canvas: HtmlCanvasElement = document
        .create_element("canvas")
        .expect("canvas")
        .dyn_into()
        .expect("an HtmlCanvasElement");
    document
        .body()
        .expect("body")
        .append_child(&canvas)
        .expect("attached");
    canvas
}

/// A JavaScript value as JSON, to compare with `serde_json::json!`.
#[track_caller]
pub fn json(value: JsValue) -> serde_json::Value {
    serde_wasm_bindgen::from_value(value).expect("a JSON-like value")
}

/// A thrown error's message.
#[track_caller]
pub fn message(error: JsValue) -> String {
    error
        .dyn_into::<js_sys::Error>()
        .map(|e| String::from(e.message()))
        .expect("a JavaScript Error")
}
