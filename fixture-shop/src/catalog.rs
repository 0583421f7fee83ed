//! What the shop sells and how it behaves: products by (marketplace, ASIN), the price script,
//! the failure modes, and the request log.

use std::collections::{HashMap, VecDeque};

use pricewatch_core::Marketplace;
use serde::{Deserialize, Serialize};

/// One product's current offer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProductState {
    pub title: String,
    /// Minor units of the marketplace's currency; `None` shows no price.
    pub price_minor: Option<i64>,
    /// Out of stock shows the storefront's "currently unavailable" buy box and no price.
    pub in_stock: bool,
}

/// A product the shop starts with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProductSpec {
    pub marketplace: Marketplace,
    pub asin: String,
    #[serde(flatten)]
    pub state: ProductState,
}

/// A scripted change: `at_ms` after the shop started, the product takes this price/stock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScriptStep {
    pub at_ms: u64,
    pub marketplace: Marketplace,
    pub asin: String,
    pub price_minor: Option<i64>,
    #[serde(default = "yes")]
    pub in_stock: bool,
}

fn yes() -> bool {
    true
}

/// How product pages are answered. Applies to product pages only: `robots.txt` and the
/// admin API always answer normally, so a test knows exactly which requests a mode hit.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Mode {
    /// Every product page is a robot check (HTTP 200, as Amazon serves them).
    pub robot_check: bool,
    /// The next N product pages are robot checks.
    pub robot_check_next: u32,
    /// Every product page answers 503.
    pub unavailable: bool,
    /// The next N product pages answer 503.
    pub unavailable_next: u32,
    /// The next N product pages answer 500 (after any robot checks still due).
    pub error_next: u32,
    /// Wait this long before answering a product page.
    pub delay_ms: u64,
}

/// A partial [`Mode`] change, as the admin API takes it: absent fields stay as they are.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ModeUpdate {
    pub robot_check: Option<bool>,
    pub robot_check_next: Option<u32>,
    pub unavailable: Option<bool>,
    pub unavailable_next: Option<u32>,
    pub error_next: Option<u32>,
    pub delay_ms: Option<u64>,
}

impl Mode {
    pub(crate) fn apply(&mut self, u: &ModeUpdate) {
        if let Some(v) = u.robot_check {
            self.robot_check = v;
        }
        if let Some(v) = u.robot_check_next {
            self.robot_check_next = v;
        }
        if let Some(v) = u.unavailable {
            self.unavailable = v;
        }
        if let Some(v) = u.unavailable_next {
            self.unavailable_next = v;
        }
        if let Some(v) = u.error_next {
            self.error_next = v;
        }
        if let Some(v) = u.delay_ms {
            self.delay_ms = v;
        }
    }
}

/// What kind of answer a request got.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Served {
    Product,
    RobotCheck,
    Unavailable,
    ServerError,
    NotFound,
    Robots,
}

/// One request the shop answered (admin requests are not logged).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestRecord {
    pub path: String,
    pub status: u16,
    pub served: Served,
    /// Wall-clock arrival, ms since the Unix epoch.
    pub at_unix_ms: i64,
    /// Arrival on the shop's monotonic clock, µs since it started: what rate checks use.
    pub since_start_us: u64,
    pub user_agent: Option<String>,
}

/// The shop's mutable state, behind one lock.
#[derive(Debug)]
pub(crate) struct Catalog {
    pub products: HashMap<(Marketplace, String), ProductState>,
    /// Not yet applied, earliest first.
    pub script: VecDeque<ScriptStep>,
    pub mode: Mode,
    pub log: VecDeque<RequestRecord>,
    pub max_log: usize,
    pub auto_catalog: bool,
}

impl Catalog {
    pub(crate) fn new(
        products: Vec<ProductSpec>,
        mut script: Vec<ScriptStep>,
        auto_catalog: bool,
        max_log: usize,
    ) -> Catalog {
        script.sort_by_key(|s| s.at_ms);
        Catalog {
            products: products
                .into_iter()
                .map(|p| ((p.marketplace, p.asin.to_ascii_uppercase()), p.state))
                .collect(),
            script: script.into(),
            mode: Mode::default(),
            log: VecDeque::new(),
            max_log,
            auto_catalog,
        }
    }

    /// Apply every script step due at `elapsed_ms`.
    pub(crate) fn run_script(&mut self, elapsed_ms: u64) {
        while self.script.front().is_some_and(|s| s.at_ms <= elapsed_ms) {
            let Some(step) = self.script.pop_front() else {
                break;
            };
            let key = (step.marketplace, step.asin.to_ascii_uppercase());
            let entry = self.products.entry(key).or_insert_with(|| ProductState {
                title: format!("Fixture product {}", step.asin),
                price_minor: None,
                in_stock: true,
            });
            entry.price_minor = step.price_minor;
            entry.in_stock = step.in_stock;
        }
    }

    /// The product, made up on first request when the shop runs an automatic catalog.
    pub(crate) fn product(&mut self, m: Marketplace, asin: &str) -> Option<ProductState> {
        let key = (m, asin.to_ascii_uppercase());
        if let Some(p) = self.products.get(&key) {
            return Some(p.clone());
        }
        if !self.auto_catalog {
            return None;
        }
        let made = invented(m, asin);
        self.products.insert(key, made.clone());
        Some(made)
    }

    pub(crate) fn record(&mut self, r: RequestRecord) {
        if self.log.len() >= self.max_log {
            self.log.pop_front();
        }
        self.log.push_back(r);
    }
}

/// A stable made-up product for an unknown ASIN: the same ASIN always gets the same price.
fn invented(m: Marketplace, asin: &str) -> ProductState {
    // FNV-1a: a fixed, dependency-free hash so prices are the same on every run.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in asin.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    let per_major = m.currency().minor_per_major();
    let major = 5 + i64::try_from(h % 500).unwrap_or(0);
    ProductState {
        title: format!("Fixture product {asin}"),
        price_minor: Some(major * per_major + (per_major - 1).min(99)),
        in_stock: true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(price: i64) -> ProductSpec {
        ProductSpec {
            marketplace: Marketplace::Us,
            asin: "B0FIX00001".into(),
            state: ProductState {
                title: "T".into(),
                price_minor: Some(price),
                in_stock: true,
            },
        }
    }

    #[test]
    fn script_steps_apply_in_time_order_and_only_once_due() {
        let step = |at_ms, price| ScriptStep {
            at_ms,
            marketplace: Marketplace::Us,
            asin: "b0fix00001".into(),
            price_minor: Some(price),
            in_stock: true,
        };
        let mut c = Catalog::new(vec![spec(100)], vec![step(200, 3), step(100, 2)], false, 10);
        c.run_script(50);
        assert_eq!(
            c.product(Marketplace::Us, "B0FIX00001")
                .unwrap()
                .price_minor,
            Some(100)
        );
        c.run_script(150);
        assert_eq!(
            c.product(Marketplace::Us, "B0FIX00001")
                .unwrap()
                .price_minor,
            Some(2)
        );
        c.run_script(10_000);
        assert_eq!(
            c.product(Marketplace::Us, "B0FIX00001")
                .unwrap()
                .price_minor,
            Some(3)
        );
        assert!(c.script.is_empty());
    }

    #[test]
    fn an_automatic_catalog_invents_the_same_product_for_the_same_asin() {
        let mut a = Catalog::new(vec![], vec![], true, 10);
        let mut b = Catalog::new(vec![], vec![], true, 10);
        let pa = a.product(Marketplace::Jp, "B0AUTO0001").unwrap();
        assert_eq!(Some(pa.clone()), b.product(Marketplace::Jp, "B0AUTO0001"));
        assert!(pa.price_minor.unwrap() > 0);
        let mut closed = Catalog::new(vec![], vec![], false, 10);
        assert_eq!(closed.product(Marketplace::Us, "B0AUTO0001"), None);
    }

    #[test]
    fn the_request_log_keeps_only_the_newest_entries() {
        let mut c = Catalog::new(vec![], vec![], false, 2);
        for i in 0..3 {
            c.record(RequestRecord {
                path: format!("/{i}"),
                status: 200,
                served: Served::Robots,
                at_unix_ms: 0,
                since_start_us: i,
                user_agent: None,
            });
        }
        let paths: Vec<&str> = c.log.iter().map(|r| r.path.as_str()).collect();
        assert_eq!(paths, ["/1", "/2"]);
    }
}
