//! Which product a page shows: its ASIN, its canonical URL, its title, and whether it is a
//! product page at all.

use crate::asin::Asin;
use crate::page::{collapse_whitespace, Element, Page};

/// Elements that only product detail pages have, from today's layout back to the 2010s,
/// desktop, mobile, books and Kindle.
const PRODUCT_MARKERS: &[&str] = &[
    "#productTitle",
    "#ebooksProductTitle",
    "#btAsinTitle",
    "#title_feature_div",
    "#dp-container",
    "#ppd",
    "#buybox",
    "#addToCart",
    "#add-to-cart-button",
    "#corePrice_feature_div",
    "#corePriceDisplay_desktop_feature_div",
    "#apex_desktop",
    "#priceblock_ourprice",
    "#handleBuy",
    "#actualPriceValue",
    "#availability",
    "#outOfStock",
];

/// Where the ASIN of the shown product sits. The hidden form input names the offer the buy
/// box would add to the cart, so for a variation it is the selected child, not the parent in
/// the URL. Carousels also carry `data-asin`, so only page-level holders are trusted.
const ASIN_HOLDERS: &[(&str, Option<&str>)] = &[
    ("input#ASIN", Some("value")),
    ("input[name=\"ASIN\"]", Some("value")),
    ("input[name=\"asin\"]", Some("value")),
    ("#addToCart input[name=\"ASIN.1\"]", Some("value")),
    ("#dp[data-asin]", Some("data-asin")),
    ("#averageCustomerReviews[data-asin]", Some("data-asin")),
    ("#productTitle[data-asin]", Some("data-asin")),
];

/// Where the title sits, best first.
const TITLE_HOLDERS: &[&str] = &[
    "#productTitle",
    "#ebooksProductTitle",
    "#btAsinTitle",
    "#title_feature_div h1",
    "h1#title",
    "#title",
];

pub(crate) fn selectors() -> Vec<&'static str> {
    let mut all = PRODUCT_MARKERS.to_vec();
    all.extend(ASIN_HOLDERS.iter().map(|(s, _)| *s));
    all.extend_from_slice(TITLE_HOLDERS);
    all.extend([
        "link[rel=\"canonical\"]",
        "meta[property=\"og:url\"]",
        "meta[name=\"title\"]",
        "title",
    ]);
    all
}

pub(crate) fn is_product_page<P: Page>(page: &P) -> bool {
    PRODUCT_MARKERS.iter().any(|sel| page.exists(sel))
}

pub(crate) fn canonical_url<P: Page>(page: &P) -> Option<String> {
    page.first("link[rel=\"canonical\"]")
        .and_then(|l| l.attr("href"))
        .or_else(|| {
            page.first("meta[property=\"og:url\"]")
                .and_then(|m| m.attr("content"))
        })
}

pub(crate) fn page_asin<P: Page>(page: &P) -> Option<Asin> {
    ASIN_HOLDERS.iter().find_map(|(sel, attr)| {
        let el = page.first(sel)?;
        let value = match attr {
            Some(name) => el.attr(name)?,
            None => el.text(),
        };
        Asin::parse(&value).ok()
    })
}

pub(crate) fn title<P: Page>(page: &P) -> Option<String> {
    let from_element = TITLE_HOLDERS
        .iter()
        .filter_map(|sel| page.first(sel))
        .map(|el| el.clean_text())
        .find(|t| !t.is_empty());
    from_element
        .or_else(|| {
            page.first("meta[name=\"title\"]")
                .and_then(|m| m.attr("content"))
                .map(|t| strip_store_name(&collapse_whitespace(&t)))
                .filter(|t| !t.is_empty())
        })
        .or_else(|| {
            page.first("title")
                .map(|t| strip_store_name(&t.clean_text()))
                .filter(|t| !t.is_empty())
        })
}

/// `Amazon.com: Widget Pro : Electronics` and `Widget Pro : Amazon.de: Elektronik` both name
/// the product `Widget Pro`.
fn strip_store_name(title: &str) -> String {
    let parts: Vec<&str> = title
        .split(" : ")
        .flat_map(|p| p.split(": "))
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .collect();
    let is_store = |p: &str| p.to_ascii_lowercase().starts_with("amazon.");
    match parts.iter().position(|p| is_store(p)) {
        // Store name first: the product follows it.
        Some(0) => parts.get(1).map(|s| (*s).to_owned()).unwrap_or_default(),
        // Store name later: the product is everything before it.
        Some(i) => parts[..i].join(": "),
        None => title.trim().to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::strip_store_name;

    #[test]
    fn store_names_are_stripped_from_document_titles() {
        assert_eq!(
            strip_store_name("Amazon.com: Widget Pro : Electronics"),
            "Widget Pro"
        );
        assert_eq!(
            strip_store_name("Widget Pro : Amazon.de: Elektronik"),
            "Widget Pro"
        );
        assert_eq!(strip_store_name("Widget Pro"), "Widget Pro");
    }
}
