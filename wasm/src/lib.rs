//! PriceWatch in the browser: core's rules compiled to WebAssembly for the extension and the
//! website.
//!
//! The extension's content script reads the Amazon page it runs on with the same extraction
//! rules the server's crawler uses (over the live DOM instead of fetched HTML), signs what it
//! saw with the shopper's reporter key, and the website draws price histories on a canvas.
//! `cargo xtask build-wasm` turns this crate into `dist/pkg/` (ES module glue + `.wasm`).
//!
//! # Exported API (JavaScript names)
//! - [`extract()`](extract::extract) / [`extract_document()`](extract::extract_document):
//!   the page reading, core's [`PageReading`](pricewatch_core::reading::PageReading) JSON, or
//!   `{error}`.
//! - [`generate_key()`](sign::generate_key), [`public_key()`](sign::public_key),
//!   [`sign_report()`](sign::sign_report): reporter keys and signed reports.
//! - [`draw_history()`](chart::history::draw_history) and [`hover()`](chart::history::hover):
//!   the price-history chart and its pointer read-out.
//! - [`format_price()`](text::format_price), [`parse_asin_or_url()`](text::parse_asin_or_url):
//!   small helpers for the website.
//!
//! # Layout
//! - [`dom`]: core's `Page` trait over `web_sys::Document`.
//! - [`extract`]: reading the page the script runs in (or a parsed document).
//! - [`sign`]: keys from `crypto.getRandomValues`, reports signed with core's canonical bytes.
//! - [`chart`]: one module per chart with a `draw` entry; shared frame, scales and dates.
//! - [`text`]: price formatting and the website's "paste a URL" box.
//! - [`error`]: the crate's error type and its one conversion to a JavaScript `Error`.
//! - `js`: moving serde values across the boundary.
//!
//! Nothing here may panic: a panic aborts the whole module for the rest of the page's life, so
//! every fallible step returns an [`Error`](error::Error) (the `panic-hook` feature only makes
//! a bug's message readable in the console).

pub mod chart;
pub mod dom;
pub mod error;
pub mod extract;
mod hex;
mod js;
mod random;
pub mod sign;
pub mod text;

pub use error::Error;

/// Runs once when the module is instantiated (not exported: there is nothing to call twice).
#[cfg(feature = "panic-hook")]
#[wasm_bindgen::prelude::wasm_bindgen(start)]
fn start() {
    console_error_panic_hook::set_once();
}
