//! Small text helpers for the website: prices as each storefront writes them, and the "paste
//! a URL" box.

use pricewatch_core::{Asin, Marketplace, Money};
use serde::Serialize;
use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen::JsValue;

use crate::error::Error;
use crate::js::{to_js, whole_number};

/// `amount_minor` (integer minor units: cents, yen) written as `marketplace` (`"de"`, `"us"`,
/// ...) writes prices: `format_price("de", 129999)` is `"1.299,99 €"` (with no-break spaces
/// where the storefront puts them). Throws on an unknown marketplace or a non-integer amount.
#[wasm_bindgen]
pub fn format_price(marketplace: &str, amount_minor: f64) -> Result<String, Error> {
    let marketplace: Marketplace = marketplace
        .parse()
        .map_err(|e| Error::argument("marketplace", e))?;
    let minor = whole_number("amount_minor", amount_minor)?;
    Ok(marketplace.format(Money::new(minor, marketplace.currency())))
}

/// What the website's "paste a URL" box found in `text`: `{marketplace, asin}` (`marketplace`
/// is `null` for a bare ASIN, whose storefront the page has to ask for), or `{error}` with a
/// message to show.
#[wasm_bindgen]
pub fn parse_asin_or_url(text: &str) -> Result<JsValue, Error> {
    match product_in(text) {
        Ok(found) => to_js(&found),
        Err(error) => to_js(&NotFound { error }),
    }
}

/// A product named by a pasted text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct PastedProduct {
    /// The storefront, when the text was a URL.
    pub marketplace: Option<Marketplace>,
    /// The product.
    pub asin: Asin,
}

#[derive(Serialize)]
struct NotFound {
    error: String,
}

/// Short-link hosts: their ASIN is only known after a redirect the website cannot follow.
const SHORT_LINK_HOSTS: &[&str] = &["amzn.to", "amzn.eu", "amzn.asia", "a.co"];

/// The product `text` names, or a message saying why there is none.
pub fn product_in(text: &str) -> Result<PastedProduct, String> {
    let text = text.trim();
    if text.is_empty() {
        return Err("Paste an Amazon product link or a 10-character ASIN.".into());
    }
    if let Ok(asin) = Asin::parse(text) {
        return Ok(PastedProduct {
            marketplace: None,
            asin,
        });
    }
    let host = text
        .split_once("://")
        .map_or(text, |(_, rest)| rest)
        .split(['/', '?', '#'])
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase();
    if SHORT_LINK_HOSTS
        .iter()
        .any(|h| host == *h || host.ends_with(&format!(".{h}")))
    {
        return Err(format!(
            "{host} is a short link: open it and paste the full product address instead."
        ));
    }
    let marketplace = Marketplace::from_url(text).map_err(|e| e.to_string())?;
    let asin = Asin::from_url(text).map_err(|_| {
        format!(
            "No product in this {} address: paste the link of a product page (…/dp/…).",
            marketplace.domain()
        )
    })?;
    Ok(PastedProduct {
        marketplace: Some(marketplace),
        asin,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prices_are_written_as_the_storefront_writes_them() {
        assert_eq!(format_price("de", 129_999.0).unwrap(), "1.299,99\u{A0}€");
        assert_eq!(format_price("us", 5.0).unwrap(), "$0.05");
        assert_eq!(format_price("jp", 1_299.0).unwrap(), "￥1,299");
        assert_eq!(format_price("GB", 1_234.0).unwrap(), "£12.34");
    }

    #[test]
    fn unknown_storefronts_and_fractional_amounts_are_refused() {
        assert!(matches!(
            format_price("xx", 1.0),
            Err(Error::Argument {
                name: "marketplace",
                ..
            })
        ));
        for bad in [1.5, f64::NAN, 1e300] {
            assert!(matches!(
                format_price("us", bad),
                Err(Error::Argument {
                    name: "amount_minor",
                    ..
                })
            ));
        }
    }

    #[test]
    fn a_pasted_url_names_its_storefront_and_product() {
        let found =
            product_in("  https://www.amazon.de/Kaffeem%C3%BChle/dp/B0C1234567/ref=sr_1_3?th=1 ")
                .unwrap();
        assert_eq!(found.marketplace, Some(Marketplace::De));
        assert_eq!(found.asin.as_str(), "B0C1234567");
        let mobile = product_in("m.amazon.co.jp/gp/aw/d/B08N5WRWNW").unwrap();
        assert_eq!(mobile.marketplace, Some(Marketplace::Jp));
    }

    #[test]
    fn a_bare_asin_leaves_the_storefront_open() {
        let found = product_in("b08n5wrwnw").unwrap();
        assert_eq!(found.marketplace, None);
        assert_eq!(found.asin.as_str(), "B08N5WRWNW");
    }

    #[test]
    fn other_texts_say_what_is_wrong() {
        let message = |text: &str| product_in(text).unwrap_err();
        assert!(message("").contains("Paste"));
        assert!(message("https://amzn.eu/d/abc123").contains("short link"));
        assert!(message("https://www.ebay.com/itm/123").contains("not an Amazon"));
        assert!(message("https://www.amazon.com/s?k=headphones").contains("No product"));
        assert!(message("headphones").contains("not an Amazon"));
    }
}
