//! The offer around the price: stock, seller, deal badges and personal-pricing signals.

use crate::observation::{Availability, PricingFlag, Seller};
use crate::page::{Element, Page};

use super::words::{
    contains_any, BUSINESS, COUPON, DEAL, IN_STOCK, NAME_ENDS, OUT_OF_STOCK, PERSONALIZED,
    PRICE_IN_CART, PRIME_EXCLUSIVE, QUANTITY_TIER, SOLD_BY, SUBSCRIBE_AND_SAVE,
};

/// The buy box and the blocks around the price. Phrases are only looked for here.
const BUY_BOX_AREA: &[&str] = &[
    "#corePriceDisplay_desktop_feature_div",
    "#corePrice_feature_div",
    "#corePrice_desktop",
    "#corePrice_mobile_feature_div",
    "#apex_desktop",
    "#apex_offerDisplay_desktop",
    "#price",
    "#priceblock_ourprice_row",
    "#priceblock_dealprice_row",
    "#dealBadge_feature_div",
    "#promoPriceBlockMessage_feature_div",
    "#couponBadgeRegularVpc",
    "#vpcButton",
    "#pep_feature_div",
    "#primeExclusivePricingMessage",
    "#buybox",
    "#desktop_buybox",
    "#qualifiedBuybox",
    "#buyBoxAccordion",
    "#snsAccordionRowMiddle",
    "#quantityPriceTiers",
    "#businessPricing",
    "#map_help_pop_",
];

/// Availability statements, best first.
const AVAILABILITY: &[&str] = &[
    "#availability",
    "#availabilityInsideBuyBox_feature_div",
    "#availability_feature_div",
    "#outOfStock",
    "#exports_desktop_outOfStock_buybox_message_feature_div",
];

/// Buttons that buy the featured offer.
const BUY_BUTTONS: &[&str] = &[
    "#add-to-cart-button",
    "#buy-now-button",
    "#addToCart input[type=\"submit\"]",
];

/// Where the seller is named: structured rows first, then the sentence.
const SELLER_NAME: &[&str] = &[
    "#tabular-buybox .tabular-buybox-text[tabular-attribute-name=\"Sold by\"]",
    "#merchantInfoFeature_feature_div .offer-display-feature-text",
    "#sellerProfileTriggerId",
];
const SELLER_SENTENCE: &[&str] = &["#merchant-info", "#merchantInfo", "#soldByThirdParty"];

/// Markup of the personal-pricing blocks (their text must also be non-empty).
const FLAG_MARKUP: &[(&str, PricingFlag)] = &[
    ("#primeExclusivePricingMessage", PricingFlag::PrimeExclusive),
    ("#pep_feature_div", PricingFlag::PrimeExclusive),
    ("#snsAccordionRowMiddle", PricingFlag::SubscribeAndSave),
    ("#sns-base-price", PricingFlag::SubscribeAndSave),
    ("#couponBadgeRegularVpc", PricingFlag::Coupon),
    ("#vpcButton", PricingFlag::Coupon),
    ("#quantityPriceTiers", PricingFlag::QuantityTier),
    ("#businessPricing", PricingFlag::Business),
];

pub(crate) fn selectors() -> Vec<&'static str> {
    let mut all = BUY_BOX_AREA.to_vec();
    all.extend_from_slice(AVAILABILITY);
    all.extend_from_slice(BUY_BUTTONS);
    all.extend_from_slice(SELLER_NAME);
    all.extend_from_slice(SELLER_SENTENCE);
    all.extend(FLAG_MARKUP.iter().map(|(s, _)| *s));
    all.extend(["#dealBadge_feature_div", "#deal_expiry_timer"]);
    all
}

/// The lowercased text of the buy-box area, read once per page.
pub(crate) struct BuyBoxText(String);

impl BuyBoxText {
    pub(crate) fn read<P: Page>(page: &P) -> BuyBoxText {
        let mut text = String::new();
        for sel in BUY_BOX_AREA {
            if let Some(el) = page.first(sel) {
                text.push_str(&el.clean_text().to_lowercase());
                text.push('\n');
            }
        }
        BuyBoxText(text)
    }

    pub(crate) fn says_price_in_cart(&self) -> bool {
        contains_any(&self.0, PRICE_IN_CART)
    }

    pub(crate) fn says_deal<P: Page>(&self, page: &P) -> bool {
        let badge = page
            .first("#dealBadge_feature_div")
            .is_some_and(|b| !b.clean_text().is_empty());
        badge || page.exists("#deal_expiry_timer") || contains_any(&self.0, DEAL)
    }
}

pub(crate) fn availability<P: Page>(page: &P, area: &BuyBoxText, has_offer: bool) -> Availability {
    for sel in AVAILABILITY {
        let Some(el) = page.first(sel) else { continue };
        if *sel == "#outOfStock" {
            return Availability::OutOfStock;
        }
        let text = el.clean_text().to_lowercase();
        if let Some(found) = classify(&text) {
            return found;
        }
    }
    if contains_any(&area.0, OUT_OF_STOCK) && !has_offer {
        return Availability::OutOfStock;
    }
    if has_offer && BUY_BUTTONS.iter().any(|b| page.exists(b)) {
        return Availability::InStock;
    }
    Availability::Unknown
}

/// In-stock or out-of-stock from a status line. Negative phrases first: "non disponibile"
/// contains "disponibile".
fn classify(text: &str) -> Option<Availability> {
    if contains_any(text, OUT_OF_STOCK) {
        Some(Availability::OutOfStock)
    } else if contains_any(text, IN_STOCK) {
        Some(Availability::InStock)
    } else {
        None
    }
}

pub(crate) fn seller<P: Page>(page: &P) -> Option<Seller> {
    let named = SELLER_NAME
        .iter()
        .filter_map(|sel| page.first(sel))
        .map(|el| el.clean_text())
        .find(|t| !t.is_empty());
    let name = named.or_else(|| {
        SELLER_SENTENCE
            .iter()
            .filter_map(|sel| page.first(sel))
            .find_map(|el| name_after_sold_by(&el.clean_text()))
    })?;
    Some(seller_from_name(&name))
}

/// Amazon Warehouse sells used and returned items under Amazon's name.
pub(crate) fn seller_is_used_outlet<P: Page>(page: &P) -> bool {
    SELLER_NAME
        .iter()
        .chain(SELLER_SENTENCE)
        .filter_map(|sel| page.first(sel))
        .any(|el| {
            let t = el.clean_text().to_lowercase();
            t.contains("amazon warehouse") || t.contains("amazon resale")
        })
}

fn seller_from_name(name: &str) -> Seller {
    let trimmed = name.trim().trim_end_matches('.').trim();
    if trimmed.to_lowercase().starts_with("amazon") {
        Seller::Amazon
    } else {
        Seller::ThirdParty {
            name: trimmed.to_owned(),
        }
    }
}

/// `Ships from and sold by Amazon.com.` → `Amazon.com`;
/// `Sold by Acme Store and Fulfilled by Amazon.` → `Acme Store`.
fn name_after_sold_by(sentence: &str) -> Option<String> {
    let lower = sentence.to_lowercase();
    let (at, marker) = SOLD_BY
        .iter()
        .filter_map(|m| lower.find(m).map(|i| (i, *m)))
        .min_by_key(|(i, _)| *i)?;
    // Lowercasing can change byte lengths outside ASCII; map back by char count.
    let start_chars = lower[..at + marker.len()].chars().count();
    let rest: String = sentence.chars().skip(start_chars).collect();
    let rest = rest.trim_start_matches([':', ' ', '：']).to_owned();
    let rest_lower = rest.to_lowercase();
    let end = NAME_ENDS
        .iter()
        .filter_map(|e| rest_lower.find(e))
        .min()
        .unwrap_or(rest.len());
    let name: String = rest
        .chars()
        .take(rest_lower[..end].chars().count())
        .collect();
    let name = name.trim().trim_end_matches('.').trim().to_owned();
    (!name.is_empty()).then_some(name)
}

pub(crate) fn pricing_flags<P: Page>(page: &P, area: &BuyBoxText) -> Vec<PricingFlag> {
    let mut flags: Vec<PricingFlag> = FLAG_MARKUP
        .iter()
        .filter(|(sel, _)| {
            page.first(sel)
                .is_some_and(|el| !el.clean_text().is_empty())
        })
        .map(|(_, flag)| *flag)
        .collect();
    let by_words = [
        (PRIME_EXCLUSIVE, PricingFlag::PrimeExclusive),
        (SUBSCRIBE_AND_SAVE, PricingFlag::SubscribeAndSave),
        (COUPON, PricingFlag::Coupon),
        (BUSINESS, PricingFlag::Business),
        (QUANTITY_TIER, PricingFlag::QuantityTier),
        (PERSONALIZED, PricingFlag::Personalized),
    ];
    for (words, flag) in by_words {
        if contains_any(&area.0, words) {
            flags.push(flag);
        }
    }
    flags.sort();
    flags.dedup();
    flags
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seller_names_are_cut_from_sentences_in_many_languages() {
        let cases = [
            ("Ships from and sold by Amazon.com.", Some("Amazon.com")),
            (
                "Sold by Acme Store and Fulfilled by Amazon.",
                Some("Acme Store"),
            ),
            ("Verkauf und Versand durch Amazon.", Some("Amazon")),
            (
                "Verkauf durch Müller GmbH und Versand durch Amazon.",
                Some("Müller GmbH"),
            ),
            ("Expédié et vendu par Amazon.", Some("Amazon")),
            (
                "Venduto da Negozio Rossi e spedito da Amazon.",
                Some("Negozio Rossi"),
            ),
            ("No seller here", None),
        ];
        for (sentence, want) in cases {
            assert_eq!(name_after_sold_by(sentence).as_deref(), want, "{sentence}");
        }
    }

    #[test]
    fn any_amazon_entity_is_amazon() {
        for name in [
            "Amazon.com",
            "Amazon EU S.à r.l.",
            "Amazon Export Sales LLC",
            "amazon.co.jp",
            "Amazon Warehouse",
        ] {
            assert_eq!(seller_from_name(name), Seller::Amazon, "{name}");
        }
        assert_eq!(
            seller_from_name("Acme."),
            Seller::ThirdParty {
                name: "Acme".into()
            }
        );
    }

    #[test]
    fn negative_stock_phrases_win_over_their_positive_substrings() {
        assert_eq!(classify("non disponibile"), Some(Availability::OutOfStock));
        assert_eq!(classify("disponibile"), Some(Availability::InStock));
        assert_eq!(
            classify("only 3 left in stock - order soon."),
            Some(Availability::InStock)
        );
        assert_eq!(
            classify("currently unavailable."),
            Some(Availability::OutOfStock)
        );
        assert_eq!(classify("this item will be released on may 1."), None);
    }
}
