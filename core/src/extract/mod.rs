//! Extraction rules: from a product [`Page`] to an [`Observation`].
//!
//! The rules are written against Amazon's markup as it has looked over the years (today's
//! `corePrice` / `apex` blocks, the `priceblock_*` era, the 2010s `priceLarge` pages, books and
//! Kindle, mobile) and in every marketplace's language. They are general: each reads a field
//! from an ordered list of places a shopper's eye would go (the buy box first), and says
//! "could not read" rather than guess. Nothing here knows a particular page.
//!
//! Layout: [`identity`] (marketplace, ASIN, title, is this a product page), [`blocked`]
//! (robot checks), [`price`] (the price to pay, list price, ranges, "see price in cart"),
//! [`offer`] (availability, seller, condition, deal, personal-pricing flags), [`words`]
//! (the localized phrases the rules look for).

mod blocked;
mod identity;
mod offer;
mod price;
mod words;

use crate::asin::Asin;
use crate::marketplace::Marketplace;
use crate::observation::{Condition, Observation, ReadError};
use crate::page::Page;

/// What is known about a page before reading it: where it came from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PageContext {
    /// The storefront the page was fetched from, when the caller knows it (the crawler maps
    /// its configured base URLs; the extension reads `location.host`).
    pub marketplace: Option<Marketplace>,
    /// The ASIN in the URL the page was fetched from, if any.
    pub url_asin: Option<Asin>,
}

impl PageContext {
    /// The context of a page fetched from `url`; unknown parts stay `None`.
    pub fn from_url(url: &str) -> PageContext {
        PageContext {
            marketplace: Marketplace::from_url(url).ok(),
            url_asin: Asin::from_url(url).ok(),
        }
    }
}

/// Read a product page. Never panics; a page that is not a readable product page gives a
/// typed [`ReadError`].
pub fn extract<P: Page>(page: &P, ctx: &PageContext) -> Result<Observation, ReadError> {
    let canonical = identity::canonical_url(page);
    let canonical_ctx = canonical
        .as_deref()
        .map(PageContext::from_url)
        .unwrap_or_default();
    let marketplace = ctx.marketplace.or(canonical_ctx.marketplace);
    let page_asin = identity::page_asin(page);

    if blocked::is_robot_check(page) {
        return Err(ReadError::Blocked {
            marketplace,
            asin: page_asin.or(ctx.url_asin),
        });
    }
    if !identity::is_product_page(page) {
        return Err(ReadError::NotAProductPage(
            "no product title, buy box or price block",
        ));
    }
    let marketplace = marketplace.ok_or(ReadError::UnknownMarketplace)?;
    let asin = page_asin
        .or(canonical_ctx.url_asin)
        .or(ctx.url_asin)
        .ok_or(ReadError::NoAsin)?;

    let reading = price::read(page, marketplace);
    let area = offer::BuyBoxText::read(page);
    let pricing_flags = offer::pricing_flags(page, &area);
    let has_offer = reading.price.is_some() || reading.range.is_some();
    let availability = offer::availability(page, &area, has_offer);
    let seller = offer::seller(page);
    let used = reading.source_is_used || offer::seller_is_used_outlet(page);
    let in_cart = area.says_price_in_cart();
    // A price (or a price hidden until the cart) is an offer one can buy; a range is a
    // variation parent's summary, not an offer.
    let offer_shown = reading.price.is_some() || in_cart;
    let condition = match (offer_shown, used) {
        (true, true) => Some(Condition::Used),
        (true, false) => Some(Condition::New),
        (false, _) => None,
    };
    Ok(Observation {
        marketplace,
        asin,
        title: identity::title(page),
        price: if in_cart { None } else { reading.price },
        list_price: reading.list_price,
        price_range: reading.range,
        availability,
        deal: reading.deal_block || area.says_deal(page),
        price_in_cart: in_cart,
        seller,
        condition,
        price_is_personal: reading.price.is_some()
            && (reading.personal || area.says_members_price()),
        pricing_flags,
    })
}

/// Every CSS selector the rules use, so that a test can prove each one parses in the
/// backends (a selector typo would otherwise silently match nothing).
pub fn all_selectors() -> Vec<&'static str> {
    let mut all = Vec::new();
    all.extend(blocked::selectors());
    all.extend(identity::selectors());
    all.extend(price::selectors());
    all.extend(offer::selectors());
    all
}

#[cfg(all(test, feature = "html"))]
mod tests {
    use super::*;
    use crate::html::{selector_parses, HtmlPage};
    use crate::money::{Currency, Money};
    use crate::observation::{Availability, Seller};

    #[test]
    fn every_rule_selector_parses() {
        for sel in all_selectors() {
            assert!(selector_parses(sel), "selector does not parse: {sel}");
        }
    }

    #[track_caller]
    fn read(html: &str, url: &str) -> Result<Observation, ReadError> {
        extract(&HtmlPage::parse(html), &PageContext::from_url(url))
    }

    #[test]
    fn a_modern_page_with_noise_reads_the_buy_box_price() {
        let html = r#"<html><head><title>Amazon.com: Widget</title></head><body>
          <div id="dp"><span id="productTitle">  Widget   Pro </span>
          <div id="corePriceDisplay_desktop_feature_div">
            <span class="a-price priceToPay"><span class="a-offscreen">$1,299.99</span>
              <span aria-hidden="true"><span class="a-price-symbol">$</span><span class="a-price-whole">1,299<span class="a-price-decimal">.</span></span><span class="a-price-fraction">99</span></span></span>
            <span class="basisPrice">List Price: <span class="a-price a-text-price" data-a-strike="true"><span class="a-offscreen">$1,499.99</span></span></span>
          </div>
          <div id="availability"><span class="a-color-success">In Stock</span></div>
          <div id="merchant-info">Ships from and sold by Amazon.com.</div>
          <input type="submit" id="add-to-cart-button">
          <div class="a-carousel"><div data-asin="B000000001"><span class="a-price"><span class="a-offscreen">$5.00</span></span></div></div>
          </div></body></html>"#;
        let obs = read(html, "https://www.amazon.com/dp/B08N5WRWNW").unwrap();
        assert_eq!(obs.title.as_deref(), Some("Widget Pro"));
        assert_eq!(obs.price, Some(Money::new(129_999, Currency::Usd)));
        assert_eq!(obs.list_price, Some(Money::new(149_999, Currency::Usd)));
        assert_eq!(obs.availability, Availability::InStock);
        assert_eq!(obs.seller, Some(Seller::Amazon));
        assert_eq!(obs.condition, Some(Condition::New));
    }

    #[test]
    fn a_captcha_page_is_blocked_not_priceless() {
        let html = r#"<html><body><h4>Enter the characters you see below</h4>
          <form method="get" action="/errors/validateCaptcha"><input id="captchacharacters"></form></body></html>"#;
        let got = read(html, "https://www.amazon.de/dp/B08N5WRWNW");
        assert!(
            matches!(
                got,
                Err(ReadError::Blocked {
                    marketplace: Some(Marketplace::De),
                    ..
                })
            ),
            "{got:?}"
        );
    }

    #[test]
    fn a_page_with_no_product_is_not_a_product_page() {
        let html = r#"<html><body><div id="search"><div data-asin="B000000001" class="s-result-item">
          <span class="a-price"><span class="a-offscreen">$5.00</span></span></div></div></body></html>"#;
        assert!(matches!(
            read(html, "https://www.amazon.com/s?k=x"),
            Err(ReadError::NotAProductPage(_))
        ));
    }

    #[test]
    fn unknown_marketplace_is_an_error_not_a_guess() {
        let html = r#"<html><body><span id="productTitle">X</span></body></html>"#;
        assert_eq!(
            read(html, "https://shop.example/dp/B08N5WRWNW"),
            Err(ReadError::UnknownMarketplace)
        );
    }
}
