//! What reading one product page yields: an [`Observation`], or a typed [`ReadError`].

use serde::{Deserialize, Serialize};

use crate::asin::Asin;
use crate::marketplace::Marketplace;
use crate::money::Money;

/// Whether the shopper can buy the shown offer now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Availability {
    InStock,
    OutOfStock,
    /// The page said nothing usable about stock.
    Unknown,
}

impl Availability {
    pub const fn as_str(self) -> &'static str {
        match self {
            Availability::InStock => "in_stock",
            Availability::OutOfStock => "out_of_stock",
            Availability::Unknown => "unknown",
        }
    }
}

/// Who sells the buy-box offer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Seller {
    /// Any Amazon retail entity (Amazon.com, Amazon EU S.à r.l., Amazon Warehouse, ...).
    Amazon,
    ThirdParty {
        name: String,
    },
}

/// Whether the buy-box offer is new or used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Condition {
    New,
    Used,
}

/// A signal that some price on the page is not the public one everybody pays.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PricingFlag {
    /// A price only Prime members get.
    PrimeExclusive,
    /// A Subscribe & Save option (a discount for recurring delivery).
    SubscribeAndSave,
    /// A coupon the shopper can clip; the shown price is before the coupon.
    Coupon,
    /// Amazon Business pricing.
    Business,
    /// Cheaper prices for larger quantities.
    QuantityTier,
    /// A price addressed to the signed-in shopper ("Your price").
    Personalized,
}

impl PricingFlag {
    pub const fn as_str(self) -> &'static str {
        match self {
            PricingFlag::PrimeExclusive => "prime_exclusive",
            PricingFlag::SubscribeAndSave => "subscribe_and_save",
            PricingFlag::Coupon => "coupon",
            PricingFlag::Business => "business",
            PricingFlag::QuantityTier => "quantity_tier",
            PricingFlag::Personalized => "personalized",
        }
    }
}

/// The lowest and highest price of a variation parent that shows a range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PriceRange {
    pub min: Money,
    pub max: Money,
}

/// What one product page says about the product's offer at the time it was read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Observation {
    pub marketplace: Marketplace,
    /// The product the page shows (for a variation, the selected child).
    pub asin: Asin,
    pub title: Option<String>,
    /// The buy-box price a shopper would pay now; `None` when the page shows none.
    pub price: Option<Money>,
    /// The struck-through list price (RRP, UVP, M.R.P.) when shown.
    pub list_price: Option<Money>,
    /// Set instead of `price` when the buy box shows only a range.
    pub price_range: Option<PriceRange>,
    pub availability: Availability,
    /// A deal badge or deal price in the buy box.
    pub deal: bool,
    /// "See price in cart": Amazon hides the price until the item is in the cart.
    pub price_in_cart: bool,
    pub seller: Option<Seller>,
    pub condition: Option<Condition>,
    /// The price read is a personal one (Subscribe & Save, business, Prime-only, "your
    /// price") and must stay out of the public history.
    pub price_is_personal: bool,
    /// Every personal-pricing signal seen near the buy box, sorted.
    pub pricing_flags: Vec<PricingFlag>,
}

impl Observation {
    /// The price that may go into the public history: a price shown to everybody in the
    /// marketplace's own currency (Amazon's currency converter shows foreign currencies to
    /// some visitors; those are not the store's price).
    pub fn public_price(&self) -> Option<Money> {
        self.price
            .filter(|p| !self.price_is_personal && p.currency == self.marketplace.currency())
    }
}

/// Why a page yielded no observation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReadError {
    /// A robot check / CAPTCHA page. Amazon serves these with HTTP 200; reading a price
    /// from them (or "no price") is how other trackers send false alerts.
    #[error("the page is a robot check (CAPTCHA), not the product page")]
    Blocked {
        marketplace: Option<Marketplace>,
        asin: Option<Asin>,
    },
    #[error("the page is not a product page: {0}")]
    NotAProductPage(&'static str),
    #[error("cannot tell which Amazon marketplace the page is from")]
    UnknownMarketplace,
    #[error("cannot find the product's ASIN in the page or its URL")]
    NoAsin,
}
