//! The crate in real headless Chromium (`wasm-bindgen-test`; `cargo xtask test` runs it):
//! the DOM backend over core's fixture corpus, report signatures, the history chart and the
//! small helpers, each through the functions the extension and the website call.
//!
//! Built only for `wasm32`: natively there is no DOM to test against.
#![cfg(target_arch = "wasm32")]

mod chart;
mod corpus;
mod dom;
mod sign;
mod support;
mod text;

wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);
