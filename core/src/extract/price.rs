//! The price a shopper would pay: read from the buy box, never from a carousel, an accessory,
//! a strike-through list price, a unit price or a "used from" link.
//!
//! Places are tried in order, best first. Each place is a container; inside it the rules
//! prefer the element Amazon marks as the price to pay, then any price that is not struck
//! through, and read its screen-reader text (`a-offscreen`) or, when that is empty, the
//! visible symbol / whole / fraction spans. Older layouts put the bare text in the element.

use crate::marketplace::Marketplace;
use crate::money::Money;
use crate::observation::PriceRange;
use crate::page::{Element, Page};
use crate::price_text::{parse_price, parse_split_price, PriceText};

use super::words::{contains_any, BUSINESS, PERSONALIZED, PRIME_EXCLUSIVE, SUBSCRIBE_AND_SAVE};

/// What kind of offer a place shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Source {
    /// The featured new offer.
    Buy,
    /// A deal price block of the 2010s layout.
    Deal,
    /// The Subscribe & Save price: a personal price.
    Subscription,
    /// The featured offer is a used one.
    Used,
}

/// Places the buy-box price lives, best first.
const PLACES: &[(&str, Source)] = &[
    ("#priceblock_dealprice", Source::Deal),
    ("#corePriceDisplay_desktop_feature_div", Source::Buy),
    ("#corePrice_feature_div", Source::Buy),
    ("#corePrice_desktop", Source::Buy),
    ("#corePriceDisplay_mobile_feature_div", Source::Buy),
    ("#corePrice_mobile_feature_div", Source::Buy),
    ("#apex_desktop", Source::Buy),
    ("#apex_offerDisplay_desktop", Source::Buy),
    ("#apex_mobile_feature_div", Source::Buy),
    ("#newAccordionRow_0", Source::Buy),
    ("#newAccordionRow", Source::Buy),
    ("#newOfferAccordionRow", Source::Buy),
    ("#priceblock_saleprice", Source::Buy),
    ("#priceblock_ourprice", Source::Buy),
    ("#priceblock_pospromoprice", Source::Buy),
    ("#price_inside_buybox", Source::Buy),
    ("#newBuyBoxPrice", Source::Buy),
    ("#kindle-price", Source::Buy),
    ("#buyNewSection .offer-price", Source::Buy),
    ("#buyNewSection .a-color-price", Source::Buy),
    ("#buyNewInner .a-color-price", Source::Buy),
    ("#actualPriceValue", Source::Buy),
    ("#buyingPriceValue", Source::Buy),
    ("b.priceLarge", Source::Buy),
    ("#price .a-color-price", Source::Buy),
    ("#price", Source::Buy),
    ("#qualifiedBuybox", Source::Buy),
    ("#desktop_qualifiedBuyBox", Source::Buy),
    (".priceToPay", Source::Buy),
    (".apexPriceToPay", Source::Buy),
    (
        "#tmmSwatches .swatchElement.selected .a-color-price",
        Source::Buy,
    ),
    (
        "#tmmSwatches .a-button-selected .a-color-price",
        Source::Buy,
    ),
    ("#tmmSwatches .a-button-selected .slot-price", Source::Buy),
    ("#snsAccordionRowMiddle", Source::Subscription),
    ("#sns-base-price", Source::Subscription),
    ("#snsPrice", Source::Subscription),
    ("#usedBuySection", Source::Used),
    ("#usedAccordionRow", Source::Used),
    ("#usedPrice", Source::Used),
    ("#used_buybox_desktop", Source::Used),
];

/// Inside a place: the element marked as the price to pay, then any price not struck
/// through. `data-a-strike` marks list prices; `a-text-price` marks secondary prices (unit
/// prices, list prices) except where Amazon also marks it as the price to pay.
const PRICE_ELEMENTS: &[&str] = &[
    ".priceToPay",
    ".apexPriceToPay",
    ".a-price:not([data-a-strike=\"true\"]):not(.a-text-price)",
];

/// Older layouts' price text holders inside a place.
const TEXT_HOLDERS: &[&str] = &[".offer-price", ".a-color-price", ".header-price"];

/// Struck-through list prices, inside a place or anywhere in the older layouts.
const LIST_PRICE_IN_PLACE: &[&str] = &[
    ".basisPrice .a-offscreen",
    ".a-price[data-a-strike=\"true\"] .a-offscreen",
    ".a-text-strike",
];
const LIST_PRICE_ANYWHERE: &[&str] = &[
    "#listPrice",
    "#listPriceValue",
    "#priceblock_listprice",
    ".priceBlockStrikePriceString",
    "#price .a-text-strike",
    "#buyBoxInner .a-text-strike",
    "#buyNewSection .a-text-strike",
    "#digital-list-price",
    "#print-list-price",
];

pub(crate) fn selectors() -> Vec<&'static str> {
    let mut all: Vec<&'static str> = PLACES.iter().map(|(s, _)| *s).collect();
    all.extend_from_slice(PRICE_ELEMENTS);
    all.extend_from_slice(TEXT_HOLDERS);
    all.extend_from_slice(LIST_PRICE_IN_PLACE);
    all.extend_from_slice(LIST_PRICE_ANYWHERE);
    all.extend([
        ".a-price",
        ".a-price-range",
        ".a-offscreen",
        ".a-price-symbol",
        ".a-price-whole",
        ".a-price-fraction",
    ]);
    all
}

/// What the price rules found.
#[derive(Debug, Default)]
pub(crate) struct PriceReading {
    pub price: Option<Money>,
    pub range: Option<PriceRange>,
    pub list_price: Option<Money>,
    /// The price came from a deal-price block.
    pub deal_block: bool,
    /// The price is personal: Subscribe & Save, or labelled as a business, Prime-only or
    /// "your" price in the place it was read from.
    pub personal: bool,
    /// The featured offer is a used one.
    pub source_is_used: bool,
}

pub(crate) fn read<P: Page>(page: &P, marketplace: Marketplace) -> PriceReading {
    let mut reading = PriceReading::default();
    'places: for (selector, source) in PLACES {
        for place in page.select(selector) {
            let Some(found) = price_in(&place, marketplace) else {
                continue;
            };
            match found {
                PriceText::Single(money) => reading.price = Some(money),
                PriceText::Range { min, max } => reading.range = Some(PriceRange { min, max }),
            }
            let label = place.clean_text().to_lowercase();
            reading.deal_block = *source == Source::Deal;
            reading.source_is_used = *source == Source::Used;
            reading.personal = *source == Source::Subscription
                || contains_any(&label, BUSINESS)
                || contains_any(&label, PERSONALIZED)
                || contains_any(&label, PRIME_EXCLUSIVE)
                || contains_any(&label, SUBSCRIBE_AND_SAVE);
            break 'places;
        }
    }
    reading.list_price = list_price(page, marketplace).filter(|lp| Some(*lp) != reading.price);
    reading
}

/// The struck-through list price of the featured offer: inside the new-offer places (a page
/// often repeats its price block, and only one copy carries the list price), then in the
/// older layouts' own elements.
fn list_price<P: Page>(page: &P, marketplace: Marketplace) -> Option<Money> {
    PLACES
        .iter()
        .filter(|(_, source)| matches!(source, Source::Buy | Source::Deal))
        .flat_map(|(selector, _)| page.select(selector))
        .find_map(|place| list_price_in(&place, marketplace))
        .or_else(|| list_price_anywhere(page, marketplace))
}

/// The price (or range) inside one place.
fn price_in<E: Element>(place: &E, marketplace: Marketplace) -> Option<PriceText> {
    if let Some(range) = place.first(".a-price-range") {
        let ends: Vec<Money> = range
            .select(".a-price")
            .iter()
            .filter_map(|p| a_price(p, marketplace))
            .collect();
        if let [min, max] = ends.as_slice() {
            return Some(PriceText::Range {
                min: *min,
                max: *max,
            });
        }
    }
    // The place may itself be the price element (`.priceToPay` as a place).
    let mut candidates: Vec<E> = Vec::new();
    if place.attr("class").is_some_and(|c| {
        c.split_whitespace()
            .any(|k| k == "a-price" || k == "priceToPay" || k == "apexPriceToPay")
    }) {
        candidates.push(place.clone());
    }
    for sel in PRICE_ELEMENTS {
        candidates.extend(place.select(sel));
    }
    if let Some(money) = candidates.iter().find_map(|c| a_price(c, marketplace)) {
        return Some(PriceText::Single(money));
    }
    if place.first(".a-price").is_some() {
        // Only struck-through or secondary prices here: not a price to pay.
        return None;
    }
    TEXT_HOLDERS
        .iter()
        .flat_map(|sel| place.select(sel))
        .chain(std::iter::once(place.clone()))
        .find_map(|el| parse_price(&el.clean_text(), marketplace).ok())
}

/// Read one `.a-price` element: its screen-reader text, else its visible spans.
fn a_price<E: Element>(el: &E, marketplace: Marketplace) -> Option<Money> {
    let offscreen = el
        .first(".a-offscreen")
        .map(|o| o.clean_text())
        .unwrap_or_default();
    if !offscreen.is_empty() {
        if let Ok(PriceText::Single(money)) = parse_price(&offscreen, marketplace) {
            return Some(money);
        }
    }
    let whole = el.first(".a-price-whole")?.clean_text();
    let symbol = el
        .first(".a-price-symbol")
        .map(|s| s.clean_text())
        .unwrap_or_default();
    let fraction = el
        .first(".a-price-fraction")
        .map(|f| f.clean_text())
        .unwrap_or_default();
    parse_split_price(&symbol, &whole, &fraction, marketplace).ok()
}

fn list_price_in<E: Element>(place: &E, marketplace: Marketplace) -> Option<Money> {
    LIST_PRICE_IN_PLACE
        .iter()
        .flat_map(|sel| place.select(sel))
        .find_map(|el| labelled_price(&el.clean_text(), marketplace))
}

fn list_price_anywhere<P: Page>(page: &P, marketplace: Marketplace) -> Option<Money> {
    LIST_PRICE_ANYWHERE
        .iter()
        .flat_map(|sel| page.select(sel))
        .find_map(|el| {
            el.first(".a-offscreen")
                .and_then(|o| labelled_price(&o.clean_text(), marketplace))
                .or_else(|| labelled_price(&el.clean_text(), marketplace))
        })
}

/// A single price, possibly after a label: `List Price: $19.99`, `UVP: 24,99 €`.
fn labelled_price(text: &str, marketplace: Marketplace) -> Option<Money> {
    let single = |t: &str| match parse_price(t, marketplace) {
        Ok(PriceText::Single(m)) => Some(m),
        _ => None,
    };
    single(text).or_else(|| {
        let (_, after) = text.rsplit_once([':', '：'])?;
        single(after)
    })
}
