//! How one page read is shown outside Rust: the JSON object `pricewatch extract` prints and
//! the extension's wasm `extract` returns. One serializer for both, so the command line and
//! the browser never describe the same page differently.
//!
//! # JSON shape
//! A product page:
//! ```json
//! {"marketplace":"us","asin":"B08N5WRWNW","title":"…","price":{"amount_minor":129999,"currency":"USD"},
//!  "list_price":null,"availability":"in_stock","blocked":false,"price_range":false,"range":null,
//!  "deal":false,"price_in_cart":false,"seller":{"kind":"amazon"},"condition":"new",
//!  "price_is_personal":false,"pricing_flags":[]}
//! ```
//! A robot check (never read as "no price"):
//! ```json
//! {"marketplace":"us","asin":"B08N5WRWNW","title":null,"price":null,"list_price":null,
//!  "availability":"unknown","blocked":true,"price_range":false}
//! ```
//! `price_range` says whether the buy box showed only a range; the range itself is `range`
//! (`{"min":Money,"max":Money}`).

use serde::ser::{Serialize, SerializeStruct, Serializer};

use crate::asin::Asin;
use crate::marketplace::Marketplace;
use crate::observation::{Availability, Observation, ReadError};

/// A page read with something to show: a product's observation, or a robot check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PageReading {
    /// A product page was read.
    Product(Observation),
    /// A robot check (CAPTCHA) stood in for the page; what the URL or page named is kept.
    Blocked {
        /// The storefront, when the URL or the page named it.
        marketplace: Option<Marketplace>,
        /// The product, when the URL or the page named it.
        asin: Option<Asin>,
    },
}

impl PageReading {
    /// The reading of an extraction result. A robot check is a reading (the caller must
    /// see it as such); a page that is no product page at all stays an error.
    pub fn from_result(result: Result<Observation, ReadError>) -> Result<PageReading, ReadError> {
        match result {
            Ok(observation) => Ok(PageReading::Product(observation)),
            Err(ReadError::Blocked { marketplace, asin }) => {
                Ok(PageReading::Blocked { marketplace, asin })
            }
            Err(other) => Err(other),
        }
    }
}

impl Serialize for PageReading {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            PageReading::Product(o) => {
                let mut s = serializer.serialize_struct("PageReading", 15)?;
                s.serialize_field("marketplace", &o.marketplace)?;
                s.serialize_field("asin", &o.asin)?;
                s.serialize_field("title", &o.title)?;
                s.serialize_field("price", &o.price)?;
                s.serialize_field("list_price", &o.list_price)?;
                s.serialize_field("availability", &o.availability)?;
                s.serialize_field("blocked", &false)?;
                s.serialize_field("price_range", &o.price_range.is_some())?;
                s.serialize_field("range", &o.price_range)?;
                s.serialize_field("deal", &o.deal)?;
                s.serialize_field("price_in_cart", &o.price_in_cart)?;
                s.serialize_field("seller", &o.seller)?;
                s.serialize_field("condition", &o.condition)?;
                s.serialize_field("price_is_personal", &o.price_is_personal)?;
                s.serialize_field("pricing_flags", &o.pricing_flags)?;
                s.end()
            }
            PageReading::Blocked { marketplace, asin } => {
                let mut s = serializer.serialize_struct("PageReading", 8)?;
                s.serialize_field("marketplace", marketplace)?;
                s.serialize_field("asin", asin)?;
                s.serialize_field("title", &None::<String>)?;
                s.serialize_field("price", &None::<crate::money::Money>)?;
                s.serialize_field("list_price", &None::<crate::money::Money>)?;
                s.serialize_field("availability", &Availability::Unknown)?;
                s.serialize_field("blocked", &true)?;
                s.serialize_field("price_range", &false)?;
                s.end()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::money::{Currency, Money};
    use crate::observation::{Condition, PriceRange, PricingFlag, Seller};

    fn observation() -> Observation {
        Observation {
            marketplace: Marketplace::De,
            asin: Asin::parse("B0C1234567").unwrap(),
            title: Some("Kaffeemühle".into()),
            price: Some(Money::new(129_999, Currency::Eur)),
            list_price: None,
            price_range: None,
            availability: Availability::InStock,
            deal: true,
            price_in_cart: false,
            seller: Some(Seller::ThirdParty {
                name: "Acme".into(),
            }),
            condition: Some(Condition::New),
            price_is_personal: false,
            pricing_flags: vec![PricingFlag::Coupon],
        }
    }

    #[test]
    fn a_product_reads_as_the_documented_object() {
        let value = serde_json::to_value(PageReading::Product(observation())).unwrap();
        assert_eq!(
            value,
            json!({
                "marketplace": "de", "asin": "B0C1234567", "title": "Kaffeemühle",
                "price": {"amount_minor": 129_999, "currency": "EUR"}, "list_price": null,
                "availability": "in_stock", "blocked": false, "price_range": false, "range": null,
                "deal": true, "price_in_cart": false,
                "seller": {"kind": "third_party", "name": "Acme"}, "condition": "new",
                "price_is_personal": false, "pricing_flags": ["coupon"],
            })
        );
    }

    #[test]
    fn a_range_sets_the_flag_and_carries_both_ends() {
        let eur = |minor| Money::new(minor, Currency::Eur);
        let reading = PageReading::Product(Observation {
            price: None,
            price_range: Some(PriceRange {
                min: eur(1_099),
                max: eur(2_499),
            }),
            ..observation()
        });
        let value = serde_json::to_value(reading).unwrap();
        assert_eq!(value["price_range"], true);
        assert_eq!(value["range"]["min"]["amount_minor"], 1_099);
        assert_eq!(value["range"]["max"]["amount_minor"], 2_499);
    }

    #[test]
    fn a_robot_check_is_a_blocked_reading_and_other_failures_stay_errors() {
        let blocked = PageReading::from_result(Err(ReadError::Blocked {
            marketplace: Some(Marketplace::Us),
            asin: None,
        }))
        .unwrap();
        assert_eq!(
            serde_json::to_value(blocked).unwrap(),
            json!({
                "marketplace": "us", "asin": null, "title": null, "price": null,
                "list_price": null, "availability": "unknown", "blocked": true,
                "price_range": false,
            })
        );
        assert_eq!(
            PageReading::from_result(Err(ReadError::NoAsin)),
            Err(ReadError::NoAsin)
        );
    }
}
