//! ASINs, Amazon's 10-character product ids, and finding them in every URL shape.
//!
//! Non-book products have ids like `B08N5WRWNW`; books use their ISBN-10 (`030640615X`).
//! Shoppers paste URLs from many years of Amazon: `/dp/X`, `/gp/product/X`, `/gp/aw/d/X`
//! (mobile), `/product/X`, `/exec/obidos/ASIN/X`, slugged `/Title/dp/X/ref=...`, `?asin=X`.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A validated ASIN: 10 ASCII letters or digits, stored uppercase, with at least one digit
/// (which keeps ten-letter words in slugs, like `/product/HEADPHONES`, from passing).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Asin([u8; 10]);

/// Why a text is not an ASIN.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AsinError {
    #[error("an ASIN has 10 letters or digits, {0:?} does not")]
    Invalid(String),
    #[error("no ASIN found in {0:?}")]
    NotFound(String),
}

impl Asin {
    pub fn parse(text: &str) -> Result<Asin, AsinError> {
        let t = text.trim();
        let bytes = t.as_bytes();
        if bytes.len() != 10
            || !bytes.iter().all(u8::is_ascii_alphanumeric)
            || !bytes.iter().any(u8::is_ascii_digit)
        {
            return Err(AsinError::Invalid(text.to_owned()));
        }
        let mut out = [0u8; 10];
        for (o, b) in out.iter_mut().zip(bytes) {
            *o = b.to_ascii_uppercase();
        }
        Ok(Asin(out))
    }

    pub fn as_str(&self) -> &str {
        // Only ASCII alphanumerics are ever stored.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }

    /// The ASIN in a product URL of any shape, or `NotFound`.
    pub fn from_url(url: &str) -> Result<Asin, AsinError> {
        asin_in_path(url_path(url))
            .or_else(|| asin_in_query(url))
            .ok_or_else(|| AsinError::NotFound(url.to_owned()))
    }
}

impl fmt::Display for Asin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Asin {
    type Err = AsinError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Asin::parse(s)
    }
}

impl TryFrom<String> for Asin {
    type Error = AsinError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Asin::parse(&s)
    }
}

impl From<Asin> for String {
    fn from(a: Asin) -> Self {
        a.as_str().to_owned()
    }
}

/// Path segments after which the next segment is the ASIN.
const MARKERS: &[&[&str]] = &[
    &["dp"],
    &["dp", "product"],
    &["gp", "product"],
    &["gp", "aw", "d"],
    &["gp", "offer-listing"],
    &["gp", "video", "detail"],
    &["exec", "obidos", "asin"],
    &["exec", "obidos", "tg", "detail", "-"],
    &["o", "asin"],
    &["product"],
    &["d"],
];

fn asin_in_path(path: &str) -> Option<Asin> {
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    for start in 0..segments.len() {
        for marker in MARKERS {
            let end = start + marker.len();
            if end >= segments.len() {
                continue;
            }
            let matches = segments[start..end]
                .iter()
                .zip(marker.iter())
                .all(|(seg, m)| seg.eq_ignore_ascii_case(m));
            if !matches {
                continue;
            }
            // Some shapes carry junk glued to the id (`B08N5WRWNW;ref=x`, `B08N5WRWNW%3Fth`).
            let candidate = segments[end];
            let head: String = candidate
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric())
                .collect();
            if let Ok(asin) = Asin::parse(&head) {
                return Some(asin);
            }
        }
    }
    None
}

fn asin_in_query(url: &str) -> Option<Asin> {
    let query = url.split_once('?')?.1;
    let query = query.split('#').next().unwrap_or_default();
    query.split('&').find_map(|pair| {
        let (key, value) = pair.split_once('=')?;
        let key = key.to_ascii_lowercase();
        (key == "asin" || key == "creativeasin" || key == "asin.1")
            .then(|| Asin::parse(value).ok())
            .flatten()
    })
}

/// The host of `scheme://[user@]host[:port]/...`, or of `host/...` without a scheme.
pub(crate) fn url_host(url: &str) -> Option<&str> {
    let url = url.trim();
    let rest = match url.split_once("://") {
        Some((scheme, rest)) if scheme.bytes().all(|b| b.is_ascii_alphabetic()) => rest,
        Some(_) => return None,
        None => url,
    };
    let authority = rest.split(['/', '?', '#']).next()?;
    let host_port = authority.rsplit('@').next()?;
    let host = host_port.split(':').next()?;
    (!host.is_empty() && !host.contains(char::is_whitespace)).then_some(host)
}

/// The path of a URL (everything after the authority, before `?` or `#`).
fn url_path(url: &str) -> &str {
    let url = url.trim();
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let after_authority = rest.find('/').map_or("", |i| &rest[i..]);
    after_authority.split(['?', '#']).next().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[track_caller]
    fn asin(url: &str) -> String {
        match Asin::from_url(url) {
            Ok(a) => a.to_string(),
            Err(e) => panic!("{url}: {e}"),
        }
    }

    #[test]
    fn every_url_shape_yields_the_asin() {
        let cases = [
            "https://www.amazon.com/dp/B08N5WRWNW",
            "https://www.amazon.com/dp/B08N5WRWNW/",
            "https://www.amazon.com/Apple-MacBook-Chip-13-inch-256GB/dp/B08N5WRWNW/ref=sr_1_3?keywords=macbook&th=1",
            "https://www.amazon.com/gp/product/B08N5WRWNW?pf_rd_r=X&psc=1",
            "https://m.amazon.com/gp/aw/d/B08N5WRWNW/ref=mp_s_a_1_1",
            "https://www.amazon.de/-/en/product/B08N5WRWNW",
            "http://www.amazon.com/exec/obidos/ASIN/B08N5WRWNW/someassociate-20",
            "http://www.amazon.com/exec/obidos/tg/detail/-/B08N5WRWNW/",
            "https://www.amazon.com/gp/offer-listing/B08N5WRWNW/ref=dp_olp_all_mbc",
            "https://www.amazon.com/dp/product/B08N5WRWNW",
            "https://www.amazon.co.uk/dp/b08n5wrwnw",
            "https://www.amazon.com/dp/B08N5WRWNW;ref=x",
            "https://www.amazon.com/some-slug/dp/B08N5WRWNW#customerReviews",
            "https://www.amazon.com/gp/cart/aws-cart-add.html?ASIN=B08N5WRWNW&Quantity.1=1",
            "https://www.amazon.com/s?k=x&asin=B08N5WRWNW",
            "amazon.com/dp/B08N5WRWNW",
            "https://www.amazon.com/o/ASIN/B08N5WRWNW",
        ];
        for url in cases {
            assert_eq!(asin(url), "B08N5WRWNW", "{url}");
        }
    }

    #[test]
    fn isbn_10_ids_are_asins() {
        assert_eq!(
            asin("https://www.amazon.com/Rust-Programming/dp/1718503105/"),
            "1718503105"
        );
        assert_eq!(asin("https://www.amazon.com/dp/030640615x"), "030640615X");
    }

    #[test]
    fn urls_without_a_product_are_not_found() {
        for url in [
            "https://www.amazon.com/",
            "https://www.amazon.com/s?k=headphones",
            "https://www.amazon.com/product/HEADPHONES",
            "https://www.amazon.com/dp/B08N5",
            "https://www.amazon.com/dp/B08N5WRWNW123",
            "not a url",
            "",
        ] {
            assert!(Asin::from_url(url).is_err(), "{url}");
        }
    }

    #[test]
    fn hosts_are_read_from_every_url_form() {
        assert_eq!(
            url_host("https://www.amazon.de/dp/X"),
            Some("www.amazon.de")
        );
        assert_eq!(
            url_host("https://user@www.amazon.de:443/x"),
            Some("www.amazon.de")
        );
        assert_eq!(url_host("www.amazon.de/dp/X"), Some("www.amazon.de"));
        assert_eq!(url_host("https://www.amazon.de?x=1"), Some("www.amazon.de"));
        assert_eq!(url_host("ht tp://x"), None);
        assert_eq!(url_host(""), None);
    }

    proptest! {
        #[test]
        fn url_parsing_never_panics(url in ".{0,80}") {
            let _ = Asin::from_url(&url);
            let _ = crate::marketplace::Marketplace::from_url(&url);
        }

        #[test]
        fn any_valid_asin_is_found_in_a_dp_url(id in "[A-Z0-9]{9}[0-9]", slug in "[A-Za-z-]{0,20}") {
            let url = format!("https://www.amazon.com/{slug}/dp/{id}/ref=x?th=1");
            prop_assert_eq!(Asin::from_url(&url).map(|a| a.to_string()), Ok(id));
        }
    }
}
