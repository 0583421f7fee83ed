//! Any bytes as a product page: extraction must give an observation or a typed error,
//! never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pricewatch_core::html::HtmlPage;
use pricewatch_core::{extract, PageContext};

fuzz_target!(|data: &[u8]| {
    let html = String::from_utf8_lossy(data);
    let page = HtmlPage::parse(&html);
    let ctx = PageContext::from_url("https://www.amazon.de/dp/B0C1234567");
    let _ = extract(&page, &ctx);
    let _ = extract(&page, &PageContext::default());
});
