//! Price text from any marketplace must parse or fail cleanly, never panic, and a parsed
//! single price must be non-negative.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pricewatch_core::price_text::{parse_price, parse_split_price, PriceText};
use pricewatch_core::Marketplace;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let marketplace = Marketplace::ALL[selector as usize % Marketplace::ALL.len()];
    let text = String::from_utf8_lossy(rest);
    if let Ok(PriceText::Single(money)) = parse_price(&text, marketplace) {
        assert!(money.amount_minor >= 0, "{text:?} parsed negative");
    }
    let mut parts = text.splitn(3, '|');
    let (sym, whole, frac) = (
        parts.next().unwrap_or_default(),
        parts.next().unwrap_or_default(),
        parts.next().unwrap_or_default(),
    );
    let _ = parse_split_price(sym, whole, frac, marketplace);
});
