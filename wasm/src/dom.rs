//! Core's [`Page`] trait over the live DOM (`web_sys::Document`).
//!
//! The mirror of core's HTML backend (`pricewatch_core::html`): the same three questions
//! (elements by CSS selector, `textContent`, attributes), answered by the browser's own
//! `querySelectorAll`. Selectors that open with `#id` are answered by `getElementById` and a
//! search below that element, as the HTML backend does, so both backends agree even on pages
//! that repeat an id. A selector the browser cannot parse matches nothing.

use pricewatch_core::page::{split_id_prefix, Element, Page};
use wasm_bindgen::JsCast;
use web_sys::{Document, NodeList};

/// A document the extraction rules can read: the page the content script runs in, or one
/// parsed with `DOMParser`.
#[derive(Debug, Clone)]
pub struct DomPage {
    document: Document,
}

impl DomPage {
    /// Read `document` through the rules' `Page` trait.
    pub fn new(document: Document) -> DomPage {
        DomPage { document }
    }

    /// The element `#id` names: the first one carrying the id, as in the HTML backend.
    fn scope(&self, id: &str) -> Option<web_sys::Element> {
        self.document.get_element_by_id(id)
    }
}

/// The elements of a `querySelectorAll` answer; a selector the browser refuses (it throws a
/// `SyntaxError`) matches nothing.
fn elements(list: Result<NodeList, wasm_bindgen::JsValue>) -> Vec<DomElement> {
    let Ok(list) = list else {
        return Vec::new();
    };
    (0..list.length())
        .filter_map(|i| list.item(i))
        .filter_map(|node| node.dyn_into::<web_sys::Element>().ok())
        .map(DomElement)
        .collect()
}

impl Page for DomPage {
    type Element<'a> = DomElement;

    fn select(&self, selector: &str) -> Vec<DomElement> {
        if let Some((id, rest)) = split_id_prefix(selector) {
            return match (self.scope(id), rest.is_empty()) {
                (None, _) => Vec::new(),
                (Some(scope), true) => vec![DomElement(scope)],
                (Some(scope), false) => elements(scope.query_selector_all(rest)),
            };
        }
        elements(self.document.query_selector_all(selector))
    }

    // `querySelector` stops at the first match; rules ask "is there one" on megabyte pages.
    fn first(&self, selector: &str) -> Option<DomElement> {
        if let Some((id, rest)) = split_id_prefix(selector) {
            let scope = self.scope(id)?;
            if rest.is_empty() {
                return Some(DomElement(scope));
            }
            return scope.query_selector(rest).ok().flatten().map(DomElement);
        }
        self.document
            .query_selector(selector)
            .ok()
            .flatten()
            .map(DomElement)
    }
}

/// One element of a [`DomPage`]: a handle to the browser's element.
#[derive(Debug, Clone)]
pub struct DomElement(web_sys::Element);

impl Element for DomElement {
    fn text(&self) -> String {
        self.0.text_content().unwrap_or_default()
    }

    fn attr(&self, name: &str) -> Option<String> {
        self.0.get_attribute(name)
    }

    fn select(&self, selector: &str) -> Vec<DomElement> {
        elements(self.0.query_selector_all(selector))
    }

    fn first(&self, selector: &str) -> Option<DomElement> {
        self.0
            .query_selector(selector)
            .ok()
            .flatten()
            .map(DomElement)
    }
}
