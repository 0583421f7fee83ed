//! The offer around the price: stock, seller, deal badges and personal-pricing signals.

use crate::observation::{Availability, PricingFlag, Seller};
use crate::page::{Element, Page};

use super::words::{
    contains_any, BUSINESS, COUPON, DEAL, IN_STOCK, NAME_ENDS, NON_MEMBER_PRICE, OUT_OF_STOCK,
    PERSONALIZED, PRICE_IN_CART, PRIME_EXCLUSIVE, QUANTITY_TIER, SELLER_LABELS, SOLD_BY,
    SUBSCRIBE_AND_SAVE,
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
    "[id*=\"businessPric\" i]",
    "[id*=\"quantityPric\" i]",
    "[id*=\"quantityDiscount\" i]",
];

/// Availability statements, best first.
const AVAILABILITY: &[&str] = &[
    "#availability",
    "#availabilityInsideBuyBox_feature_div",
    "#availability_feature_div",
    "#outOfStock",
    "#exports_desktop_outOfStock_buybox_message_feature_div",
    ".availGreen",
    ".availOrange",
    ".availRed",
    "#kindle-availability",
];

/// Buttons that buy the featured offer.
const BUY_BUTTONS: &[&str] = &[
    "#add-to-cart-button",
    "#buy-now-button",
    "#one-click-button",
    "#addToCart input[type=\"submit\"]",
    "input[name=\"submit.add-to-cart\"]",
    "input[name=\"submit.buy-now\"]",
];

/// Label/value rows of today's buy box: the label names the row in the page's language
/// (`Sold by`, `Vendu par`, `販売元`), so rows are matched by their label, not their position.
const SELLER_ROWS: &[(&str, &str)] = &[
    (
        "#tabular-buybox [tabular-attribute-name]",
        ".tabular-buybox-text-message",
    ),
    (
        "#merchantInfoFeature_feature_div",
        ".offer-display-feature-text-message",
    ),
    (
        "#offerDisplayFeatures_desktop [offer-display-feature-name]",
        ".offer-display-feature-text-message",
    ),
];
/// The featured offer's box, in the layouts seen over the years; label/value scans and
/// inline "Seller: X" lines are only looked for inside them (other offers' boxes come after
/// the featured one in document order, so the first answer is the featured offer's).
const OFFER_BOXES: &[&str] = &[
    "#tabular-buybox",
    "#offerDisplayFeatures_desktop",
    "#merchantInfoFeature_feature_div",
    "#qualifiedBuybox",
    "#desktop_buybox",
    "#buybox",
    "#buyBoxAccordion",
    "#mobile_buybox",
    "#apex_offerDisplay_desktop",
    "#rightCol",
];

/// Where a sentence names the seller ("Ships from and sold by Amazon.com.").
const SELLER_SENTENCE: &[&str] = &[
    "#merchant-info",
    "#merchantInfo",
    "#soldByThirdParty",
    "#usedbuyBox .a-row",
    ".buying",
];
/// The link to a third-party seller's profile: its text is the seller's name.
const SELLER_LINK: &str = "#sellerProfileTriggerId";
/// The merchant id of the offer the buy box would add to the cart.
const MERCHANT_ID: &[&str] = &[
    "#addToCart input[name=\"merchantID\"]",
    "input#merchantID",
    "input[name=\"merchantID\"]",
];

/// Amazon's own retail merchant ids per storefront (and Amazon Warehouse's), as they appear
/// in the add-to-cart form; used only when the page names no seller in words.
const AMAZON_MERCHANT_IDS: &[&str] = &[
    "ATVPDKIKX0DER",  // amazon.com
    "A3DWYIK6Y9EEQB", // amazon.ca
    "AVDBXBAVVSXLQ",  // amazon.com.mx
    "A1ZZFT5FULY4LN", // amazon.com.br
    "A3P5ROKL5A1OLE", // amazon.co.uk
    "A3JWKAKR8XB7XF", // amazon.de
    "A1X6FK5RDHNB96", // amazon.fr
    "A11IL2PNWYJU7H", // amazon.it
    "A1AT7YVPFBWXBL", // amazon.es
    "A17D2BRD4YMT0X", // amazon.nl
    "ANU9KP01APNAG",  // amazon.se
    "A1UNQM1SR2CHM",  // amazon.com.tr
    "A2KKU8J8O8784X", // amazon.ae
    "AN1VRQENFRJN5",  // amazon.co.jp
    "ANEGB3WVEVKZB",  // amazon.com.au
    "A8KICS1PHF7ZO",  // Amazon Warehouse, amazon.de
    "A2L77EE7U53NWQ", // Amazon Warehouse, amazon.com
];

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
    all.extend(SELLER_ROWS.iter().flat_map(|(a, b)| [*a, *b]));
    all.extend_from_slice(SELLER_SENTENCE);
    all.extend_from_slice(OFFER_BOXES);
    all.extend(["*", "span, div, td, p"]);
    all.push(SELLER_LINK);
    all.extend_from_slice(MERCHANT_ID);
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
            for el in page.select(sel) {
                text.push_str(&el.clean_text().to_lowercase());
                text.push('\n');
            }
        }
        BuyBoxText(text)
    }

    /// "Non-member price: ..." next to the price: the price shown is a members' price.
    pub(crate) fn says_members_price(&self) -> bool {
        contains_any(&self.0, NON_MEMBER_PRICE)
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
    let named = seller_from_rows(page)
        .or_else(|| seller_from_labels(page))
        .or_else(|| {
            page.first(SELLER_LINK)
                .map(|link| link.clean_text())
                .filter(|name| !name.is_empty())
        })
        .or_else(|| {
            SELLER_SENTENCE
                .iter()
                .flat_map(|sel| page.select(sel))
                .find_map(|el| name_after_sold_by(&el.clean_text()))
        })
        .or_else(|| seller_from_inline_label(page));
    if let Some(name) = named {
        return Some(seller_from_name(&name));
    }
    let merchant = MERCHANT_ID
        .iter()
        .find_map(|sel| page.first(sel).and_then(|el| el.attr("value")))?;
    AMAZON_MERCHANT_IDS
        .contains(&merchant.trim())
        .then_some(Seller::Amazon)
}

/// Whether an element's whole text is a "sold by" label (`Sold by`, `Venduto da:`, `販売元`).
fn is_seller_label(text: &str) -> bool {
    let t = text
        .trim()
        .trim_end_matches([':', '：'])
        .trim()
        .to_lowercase();
    !t.is_empty() && (SOLD_BY.contains(&t.as_str()) || SELLER_LABELS.contains(&t.as_str()))
}

/// Any label/value layout (table cells, spans in rows, definition-like divs): the first
/// element in the offer box whose text is a seller label, then the next element in document
/// order with text of its own that is not part of the label.
fn seller_from_labels<P: Page>(page: &P) -> Option<String> {
    for boxed in OFFER_BOXES {
        let Some(container) = page.first(boxed) else {
            continue;
        };
        let elements = container.select("*");
        let texts: Vec<String> = elements.iter().map(|e| e.clean_text()).collect();
        for (i, text) in texts.iter().enumerate() {
            if !is_seller_label(text) {
                continue;
            }
            // The label's own descendants repeat its text; the value is the first later
            // element whose text differs and is not itself a label.
            let value = texts[i + 1..].iter().take(6).find(|t| {
                !t.is_empty() && *t != text && !is_seller_label(t) && !t.contains(text.as_str())
            });
            if let Some(v) = value {
                return Some(v.clone());
            }
        }
    }
    None
}

/// An inline "Verkäufer: Amazon" inside the offer box.
fn seller_from_inline_label<P: Page>(page: &P) -> Option<String> {
    OFFER_BOXES
        .iter()
        .filter_map(|sel| page.first(sel))
        .flat_map(|b| b.select("span, div, td, p"))
        .map(|el| el.clean_text())
        .filter(|t| t.len() < 200)
        .find_map(|t| {
            let lower = t.to_lowercase();
            let has_labelled = SOLD_BY
                .iter()
                .chain(SELLER_LABELS)
                .any(|m| lower.contains(&format!("{m}:")));
            if has_labelled {
                name_after_sold_by(&t).or_else(|| name_after_label(&t))
            } else {
                None
            }
        })
}

/// The text after `Label:` up to a separator, for labels that are not "sold by" phrases.
fn name_after_label(text: &str) -> Option<String> {
    let lower = text.to_lowercase();
    let at = SELLER_LABELS
        .iter()
        .filter_map(|m| lower.find(&format!("{m}:")).map(|i| i + m.len() + 1))
        .min()?;
    let rest: String = text.chars().skip(lower[..at].chars().count()).collect();
    let name = rest
        .split(['·', '|', ';'])
        .next()
        .unwrap_or_default()
        .trim()
        .to_owned();
    (!name.is_empty()).then_some(name)
}

/// The value of the first label/value row whose label means "sold by".
fn seller_from_rows<P: Page>(page: &P) -> Option<String> {
    for (rows, value) in SELLER_ROWS {
        for row in page.select(rows) {
            let label = row
                .attr("tabular-attribute-name")
                .or_else(|| row.attr("offer-display-feature-name"))
                .unwrap_or_else(|| row.clean_text())
                .to_lowercase();
            if !contains_any(&label, SOLD_BY) && !contains_any(&label, SELLER_LABELS) {
                continue;
            }
            let name = row
                .select(value)
                .iter()
                .map(|v| v.clean_text())
                .find(|t| !t.is_empty());
            if name.is_some() {
                return name;
            }
        }
    }
    None
}

/// Amazon Warehouse sells used and returned items under Amazon's name.
pub(crate) fn seller_is_used_outlet<P: Page>(page: &P) -> bool {
    let named_warehouse = SELLER_ROWS
        .iter()
        .map(|(rows, _)| *rows)
        .chain(SELLER_SENTENCE.iter().copied())
        .chain(std::iter::once(SELLER_LINK))
        .flat_map(|sel| page.select(sel))
        .any(|el| {
            let t = el.clean_text().to_lowercase();
            t.contains("amazon warehouse") || t.contains("amazon resale")
        });
    named_warehouse
        || MERCHANT_ID
            .iter()
            .filter_map(|sel| page.first(sel).and_then(|el| el.attr("value")))
            .any(|id| matches!(id.trim(), "A8KICS1PHF7ZO" | "A2L77EE7U53NWQ"))
}

fn seller_from_name(name: &str) -> Seller {
    let trimmed = name.trim();
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
    // A new sentence (". " and a capital) also ends the name; ". " alone does not, since
    // names have abbreviations ("Acme Co. and ...").
    let sentence_end = rest
        .char_indices()
        .zip(rest.chars().skip(2))
        .find(|((_, c), next)| *c == '.' && next.is_uppercase())
        .map(|((i, _), _)| i)
        .filter(|i| rest[*i..].starts_with(". "));
    let cut = NAME_ENDS
        .iter()
        .filter_map(|e| rest_lower.find(e))
        .chain(sentence_end)
        .min();
    let end = cut.unwrap_or(rest.len());
    let name: String = rest
        .chars()
        .take(rest_lower[..end].chars().count())
        .collect();
    let name = name.trim();
    // A full stop that ends the sentence is not part of the name ("sold by Amazon.com."),
    // one before " and ..." is ("Sold by Acme Co. and Fulfilled by Amazon").
    let name = if cut.is_none() {
        name.trim_end_matches('.').trim()
    } else {
        name
    }
    .to_owned();
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
    flags.sort_by_key(|f| f.as_str());
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
    fn labels_are_recognised_in_any_language_and_inline() {
        for label in ["Sold by", "Venduto da:", "販売元", "Vendido por", "Seller"] {
            assert!(is_seller_label(label), "{label}");
        }
        assert!(!is_seller_label("Ships from"));
        assert!(!is_seller_label("Sold by Amazon"));
        assert_eq!(
            name_after_label("Versand: Amazon · Verkäufer: Müller GmbH").as_deref(),
            Some("Müller GmbH")
        );
        assert_eq!(name_after_label("Verkäufer:"), None);
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
            seller_from_name("Acme Co."),
            Seller::ThirdParty {
                name: "Acme Co.".into()
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
