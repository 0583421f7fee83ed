//! `[crawler]` settings.

use std::collections::BTreeMap;
use std::time::Duration;

use pricewatch_core::schedule::ScheduleConfig;
use pricewatch_core::{Marketplace, Span};
use serde::{Deserialize, Serialize};

/// How the crawler fetches, how politely, and how often.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CrawlerSettings {
    /// Run the crawler task in this process (a replica may serve only the API).
    pub enabled: bool,
    /// Base URL per marketplace code, e.g. `{ us = "http://127.0.0.1:9000" }`; product pages
    /// are `BASE/dp/ASIN`. Marketplaces not listed use `https://www.<amazon domain>`.
    pub base_urls: BTreeMap<Marketplace, String>,
    /// Requests per second to one host (robots.txt included): the token bucket's rate.
    pub per_host_rps: f64,
    /// Requests one host may get back to back after a quiet spell: the bucket's size.
    pub per_host_burst: u32,
    /// Crawls in flight at once, over all hosts.
    pub concurrency: usize,
    /// Whole-request limit, in milliseconds.
    pub request_timeout_ms: u64,
    pub connect_timeout_ms: u64,
    /// Redirects followed, on the same host only.
    pub max_redirects: usize,
    /// Pages larger than this are abandoned (Amazon's are 1–2 MB).
    pub max_body_bytes: usize,
    /// First back-off of a host that answered a robot check, 503, 429 or not at all, in ms;
    /// it doubles with each further failure (with jitter) up to `backoff_max_ms`.
    pub backoff_base_ms: u64,
    pub backoff_max_ms: u64,
    /// First retry delay of a job whose page failed on its own (a 500, a bad redirect), in
    /// seconds; doubles per attempt, with jitter.
    pub retry_base_secs: i64,
    /// Attempts before a job gives up (its result says why).
    pub max_attempts: i64,
    /// How long a claimed job stays claimed, in seconds: a replica that dies holding one
    /// releases it after this.
    pub lease_secs: i64,
    /// How often an idle crawler looks for due jobs, in ms.
    pub poll_interval_ms: u64,
    /// How often products without a scheduled refresh get one, in seconds.
    pub seed_interval_secs: u64,
    /// How long a host's robots.txt is trusted, in seconds.
    pub robots_ttl_secs: u64,
    /// The Ed25519 seed the crawler signs with, 64 hex digits; when absent one is generated
    /// on first run and kept in the database, shared by every replica.
    pub key_seed: Option<String>,
    /// Prices within this many basis points of the crawled one confirm a report (100 = 1 %:
    /// honest readers of one page can differ by a rounding or a coupon).
    pub tolerance_bp: u32,
    /// Adaptive refresh interval bounds, in seconds.
    pub min_refresh_secs: i64,
    pub max_refresh_secs: i64,
}

impl Default for CrawlerSettings {
    fn default() -> Self {
        let schedule = ScheduleConfig::default();
        CrawlerSettings {
            enabled: true,
            base_urls: BTreeMap::new(),
            per_host_rps: 1.0,
            per_host_burst: 1,
            concurrency: 4,
            request_timeout_ms: 20_000,
            connect_timeout_ms: 5_000,
            max_redirects: 3,
            max_body_bytes: 4 * 1024 * 1024,
            backoff_base_ms: 30_000,
            backoff_max_ms: 3_600_000,
            retry_base_secs: 60,
            max_attempts: 8,
            lease_secs: 300,
            poll_interval_ms: 1_000,
            seed_interval_secs: 60,
            robots_ttl_secs: 24 * 3600,
            key_seed: None,
            tolerance_bp: 100,
            min_refresh_secs: schedule.min_interval.as_millis() / 1000,
            max_refresh_secs: schedule.max_interval.as_millis() / 1000,
        }
    }
}

impl CrawlerSettings {
    /// The base URL product pages of `m` are fetched under, without a trailing slash.
    pub fn base_url(&self, m: Marketplace) -> String {
        self.base_urls
            .get(&m)
            .map_or_else(|| m.base_url(), |u| u.trim_end_matches('/').to_owned())
    }

    /// The page the crawler reads for a product.
    pub fn product_url(&self, key: &pricewatch_core::ProductKey) -> String {
        format!("{}/dp/{}", self.base_url(key.marketplace), key.asin)
    }

    /// The adaptive-interval rules with this crawler's bounds.
    pub fn schedule(&self) -> ScheduleConfig {
        ScheduleConfig {
            min_interval: Span::seconds(self.min_refresh_secs.max(1)),
            max_interval: Span::seconds(self.max_refresh_secs.max(self.min_refresh_secs).max(1)),
            ..ScheduleConfig::default()
        }
    }

    pub(crate) fn poll_interval(&self) -> Duration {
        Duration::from_millis(self.poll_interval_ms.max(1))
    }
}

#[cfg(test)]
mod tests {
    use pricewatch_core::{Asin, ProductKey};

    use crate::config::Settings;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn base_urls_come_from_the_file_and_the_environment_and_default_to_amazon() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.toml");
        std::fs::write(
            &path,
            "[crawler]\nbase_urls = { us = \"http://127.0.0.1:9000/\" }\nper_host_rps = 0.5\n",
        )
        .unwrap();
        let s = Settings::load_from(
            Some(&path),
            env(&[(
                "PRICEWATCH_CRAWLER__BASE_URLS__DE",
                "http://127.0.0.1:9000/de",
            )]),
        )
        .unwrap();
        let key = |m: &str| ProductKey {
            marketplace: m.parse().unwrap(),
            asin: Asin::parse("B0FX000001").unwrap(),
        };
        let c = &s.crawler;
        assert_eq!(
            c.product_url(&key("us")),
            "http://127.0.0.1:9000/dp/B0FX000001"
        );
        assert_eq!(
            c.product_url(&key("de")),
            "http://127.0.0.1:9000/de/dp/B0FX000001"
        );
        assert_eq!(
            c.product_url(&key("jp")),
            "https://www.amazon.co.jp/dp/B0FX000001"
        );
        assert_eq!(c.per_host_rps, 0.5);
        assert!(c.enabled, "the crawler runs unless told not to");
    }

    #[test]
    fn an_unknown_marketplace_in_base_urls_is_named() {
        let err = Settings::load_from(
            None,
            env(&[("PRICEWATCH_CRAWLER__BASE_URLS__XX", "http://127.0.0.1:1")]),
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("PRICEWATCH_CRAWLER__BASE_URLS__XX"), "{err}");
    }
}
