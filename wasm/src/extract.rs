//! Reading a product page in the browser: core's extraction rules over the DOM.
//!
//! The answer is core's [`PageReading`] JSON (the object `pricewatch extract` prints), or an
//! `{error, reason}` object for a page that is no readable product page. A robot check is a
//! reading with `blocked: true`, never "no price".

use pricewatch_core::observation::ReadError;
use pricewatch_core::reading::PageReading;
use pricewatch_core::PageContext;
use serde::Serialize;
use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen::JsValue;
use web_sys::Document;

use crate::dom::DomPage;
use crate::error::Error;
use crate::js::to_js;

/// Read the page the script runs in. `url` is the page's address (`location.href`): it names
/// the marketplace and, when the page does not, the ASIN.
///
/// Returns the reading object, or `{error, reason}` when the page is not a readable product
/// page (`reason`: `not_a_product_page`, `unknown_marketplace` or `no_asin`). Throws only
/// when there is no `document` (a service worker has none: use [`extract_document`] on a
/// document from an extension page instead).
#[wasm_bindgen]
pub fn extract(url: &str) -> Result<JsValue, Error> {
    let document = web_sys::window()
        .and_then(|window| window.document())
        .ok_or(Error::Missing("document"))?;
    extract_document(&document, url)
}

/// [`extract`] for any document, e.g. one built with `DOMParser` from fetched HTML.
#[wasm_bindgen]
pub fn extract_document(document: &Document, url: &str) -> Result<JsValue, Error> {
    match read(document, url) {
        Ok(reading) => to_js(&reading),
        Err(error) => to_js(&Unreadable::from(&error)),
    }
}

/// The reading of `document`, fetched from `url`, for Rust callers.
pub fn read(document: &Document, url: &str) -> Result<PageReading, ReadError> {
    let page = DomPage::new(document.clone());
    PageReading::from_result(pricewatch_core::extract(&page, &PageContext::from_url(url)))
}

/// What `extract` answers for a page that is no readable product page.
#[derive(Debug, Serialize)]
struct Unreadable {
    /// For people: core's description of the failure.
    error: String,
    /// For code: which failure it was.
    reason: &'static str,
}

impl From<&ReadError> for Unreadable {
    fn from(error: &ReadError) -> Unreadable {
        let reason = match error {
            // `read` turns robot checks into readings; kept for completeness of the match.
            ReadError::Blocked { .. } => "blocked",
            ReadError::NotAProductPage(_) => "not_a_product_page",
            ReadError::UnknownMarketplace => "unknown_marketplace",
            ReadError::NoAsin => "no_asin",
        };
        Unreadable {
            error: error.to_string(),
            reason,
        }
    }
}
