//! Amazon marketplaces: which host is which store, what it prices in and how it writes numbers.
//!
//! A product's identity is (marketplace, ASIN): the same ASIN on amazon.com and amazon.de is
//! two products with two histories in two currencies.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::money::{Currency, Money};

/// One Amazon storefront.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "&'static str")]
pub enum Marketplace {
    Us,
    Ca,
    Mx,
    Br,
    Uk,
    De,
    Fr,
    It,
    Es,
    Nl,
    Se,
    Pl,
    Tr,
    Ae,
    Sa,
    In,
    Jp,
    Au,
    Sg,
}

/// Where the currency sign goes relative to the number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SymbolPosition {
    /// `$12.99`, `R$ 12,99` (with `space`).
    Before,
    /// `12,99 €`.
    After,
}

/// How a marketplace writes a price, e.g. `1.299,99 €` on amazon.de.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NumberFormat {
    /// The decimal separator the storefront uses in its own language.
    pub decimal: char,
    /// The thousands separator (a no-break or narrow no-break space where the locale uses one).
    pub group: char,
    /// Indian grouping: the last three digits, then groups of two (`1,23,456`).
    pub indian_grouping: bool,
    /// The sign the storefront prints.
    pub symbol: &'static str,
    pub position: SymbolPosition,
    /// Whether a space separates sign and number.
    pub space: bool,
}

impl Marketplace {
    /// Every supported marketplace.
    pub const ALL: [Marketplace; 19] = [
        Marketplace::Us,
        Marketplace::Ca,
        Marketplace::Mx,
        Marketplace::Br,
        Marketplace::Uk,
        Marketplace::De,
        Marketplace::Fr,
        Marketplace::It,
        Marketplace::Es,
        Marketplace::Nl,
        Marketplace::Se,
        Marketplace::Pl,
        Marketplace::Tr,
        Marketplace::Ae,
        Marketplace::Sa,
        Marketplace::In,
        Marketplace::Jp,
        Marketplace::Au,
        Marketplace::Sg,
    ];

    /// The short code used in URLs and the API (`/api/products/de/B0...`).
    pub const fn code(self) -> &'static str {
        match self {
            Marketplace::Us => "us",
            Marketplace::Ca => "ca",
            Marketplace::Mx => "mx",
            Marketplace::Br => "br",
            Marketplace::Uk => "uk",
            Marketplace::De => "de",
            Marketplace::Fr => "fr",
            Marketplace::It => "it",
            Marketplace::Es => "es",
            Marketplace::Nl => "nl",
            Marketplace::Se => "se",
            Marketplace::Pl => "pl",
            Marketplace::Tr => "tr",
            Marketplace::Ae => "ae",
            Marketplace::Sa => "sa",
            Marketplace::In => "in",
            Marketplace::Jp => "jp",
            Marketplace::Au => "au",
            Marketplace::Sg => "sg",
        }
    }

    /// The registrable domain, e.g. `amazon.co.uk`.
    pub const fn domain(self) -> &'static str {
        match self {
            Marketplace::Us => "amazon.com",
            Marketplace::Ca => "amazon.ca",
            Marketplace::Mx => "amazon.com.mx",
            Marketplace::Br => "amazon.com.br",
            Marketplace::Uk => "amazon.co.uk",
            Marketplace::De => "amazon.de",
            Marketplace::Fr => "amazon.fr",
            Marketplace::It => "amazon.it",
            Marketplace::Es => "amazon.es",
            Marketplace::Nl => "amazon.nl",
            Marketplace::Se => "amazon.se",
            Marketplace::Pl => "amazon.pl",
            Marketplace::Tr => "amazon.com.tr",
            Marketplace::Ae => "amazon.ae",
            Marketplace::Sa => "amazon.sa",
            Marketplace::In => "amazon.in",
            Marketplace::Jp => "amazon.co.jp",
            Marketplace::Au => "amazon.com.au",
            Marketplace::Sg => "amazon.sg",
        }
    }

    /// The storefront's base URL, `https://www.amazon.de`.
    pub fn base_url(self) -> String {
        format!("https://www.{}", self.domain())
    }

    /// The canonical product URL for an ASIN on this marketplace.
    pub fn product_url(self, asin: &crate::asin::Asin) -> String {
        format!("{}/dp/{}", self.base_url(), asin)
    }

    pub const fn currency(self) -> Currency {
        match self {
            Marketplace::Us => Currency::Usd,
            Marketplace::Ca => Currency::Cad,
            Marketplace::Mx => Currency::Mxn,
            Marketplace::Br => Currency::Brl,
            Marketplace::Uk => Currency::Gbp,
            Marketplace::De
            | Marketplace::Fr
            | Marketplace::It
            | Marketplace::Es
            | Marketplace::Nl => Currency::Eur,
            Marketplace::Se => Currency::Sek,
            Marketplace::Pl => Currency::Pln,
            Marketplace::Tr => Currency::Try,
            Marketplace::Ae => Currency::Aed,
            Marketplace::Sa => Currency::Sar,
            Marketplace::In => Currency::Inr,
            Marketplace::Jp => Currency::Jpy,
            Marketplace::Au => Currency::Aud,
            Marketplace::Sg => Currency::Sgd,
        }
    }

    /// How the storefront prints prices in its default language.
    pub const fn number_format(self) -> NumberFormat {
        const fn nf(
            decimal: char,
            group: char,
            symbol: &'static str,
            position: SymbolPosition,
            space: bool,
        ) -> NumberFormat {
            NumberFormat {
                decimal,
                group,
                indian_grouping: false,
                symbol,
                position,
                space,
            }
        }
        use SymbolPosition::{After, Before};
        match self {
            Marketplace::Us | Marketplace::Ca | Marketplace::Mx | Marketplace::Au => {
                nf('.', ',', "$", Before, false)
            }
            Marketplace::Br => nf(',', '.', "R$", Before, true),
            Marketplace::Uk => nf('.', ',', "£", Before, false),
            Marketplace::De | Marketplace::It | Marketplace::Es => nf(',', '.', "€", After, true),
            Marketplace::Fr => nf(',', '\u{202F}', "€", After, true),
            Marketplace::Nl => nf(',', '.', "€", Before, true),
            Marketplace::Se => nf(',', '\u{A0}', "kr", After, true),
            Marketplace::Pl => nf(',', '\u{A0}', "zł", After, true),
            Marketplace::Tr => nf(',', '.', "TL", After, true),
            Marketplace::Ae => nf('.', ',', "AED", Before, true),
            Marketplace::Sa => nf('.', ',', "SAR", Before, true),
            Marketplace::In => NumberFormat {
                indian_grouping: true,
                ..nf('.', ',', "₹", Before, false)
            },
            Marketplace::Jp => nf('.', ',', "￥", Before, false),
            Marketplace::Sg => nf('.', ',', "S$", Before, false),
        }
    }

    /// Write a price the way this storefront shows it: `1.299,99 €` on amazon.de.
    pub fn format(self, money: Money) -> String {
        let f = self.number_format();
        let exp = money.currency.exponent() as usize;
        let plain = money.decimal_string();
        let (sign, plain) = match plain.strip_prefix('-') {
            Some(rest) => ("-", rest.to_owned()),
            None => ("", plain),
        };
        let (whole, frac) = match plain.split_once('.') {
            Some((w, fr)) => (w.to_owned(), fr.to_owned()),
            None => (plain, String::new()),
        };
        let mut number = group_digits(&whole, f.group, f.indian_grouping);
        if exp > 0 {
            number.push(f.decimal);
            number.push_str(&frac);
        }
        let gap = if f.space { "\u{A0}" } else { "" };
        match f.position {
            SymbolPosition::Before => format!("{sign}{}{gap}{number}", f.symbol),
            SymbolPosition::After => format!("{sign}{number}{gap}{}", f.symbol),
        }
    }

    /// The marketplace a host belongs to: `www.amazon.de`, `smile.amazon.com`, `m.amazon.co.jp`,
    /// `amazon.in`. Any subdomain of a storefront's domain counts; anything else is an error,
    /// never a guess (`amazon.com.evil.example` is not Amazon).
    pub fn from_host(host: &str) -> Result<Marketplace, MarketplaceError> {
        let host = host
            .trim()
            .trim_end_matches('.')
            .split(':')
            .next()
            .unwrap_or_default()
            .to_ascii_lowercase();
        Marketplace::ALL
            .into_iter()
            .find(|m| {
                let domain = m.domain();
                host == domain
                    || host
                        .strip_suffix(domain)
                        .is_some_and(|prefix| prefix.ends_with('.'))
            })
            .ok_or(MarketplaceError::UnknownHost(host))
    }

    /// The marketplace of a URL, by its host.
    pub fn from_url(url: &str) -> Result<Marketplace, MarketplaceError> {
        let host =
            crate::asin::url_host(url).ok_or_else(|| MarketplaceError::NotAUrl(url.into()))?;
        Marketplace::from_host(host)
    }
}

/// Digits of a whole number with separators: `1,299,999` or Indian `12,99,999`.
fn group_digits(whole: &str, sep: char, indian: bool) -> String {
    let digits: Vec<char> = whole.chars().collect();
    let mut groups: Vec<String> = Vec::new();
    let mut end = digits.len();
    let mut size = 3;
    while end > 0 {
        let start = end.saturating_sub(size);
        groups.push(digits[start..end].iter().collect());
        end = start;
        if indian {
            size = 2;
        }
    }
    groups.reverse();
    groups.join(&sep.to_string())
}

impl fmt::Display for Marketplace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// Why no marketplace could be named.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MarketplaceError {
    #[error("unknown marketplace code {0:?} (expected one of us, ca, mx, br, uk, de, fr, it, es, nl, se, pl, tr, ae, sa, in, jp, au, sg)")]
    UnknownCode(String),
    #[error("{0:?} is not an Amazon storefront host")]
    UnknownHost(String),
    #[error("{0:?} is not a URL")]
    NotAUrl(String),
}

impl FromStr for Marketplace {
    type Err = MarketplaceError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let code = s.trim().to_ascii_lowercase();
        // "gb" is the ISO country code shoppers and tools often use for amazon.co.uk.
        let code = if code == "gb" { "uk".to_owned() } else { code };
        Marketplace::ALL
            .into_iter()
            .find(|m| m.code() == code)
            .ok_or_else(|| MarketplaceError::UnknownCode(s.to_owned()))
    }
}

impl TryFrom<String> for Marketplace {
    type Error = MarketplaceError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<Marketplace> for &'static str {
    fn from(m: Marketplace) -> Self {
        m.code()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_map_to_their_storefront() {
        let cases = [
            ("www.amazon.com", Marketplace::Us),
            ("smile.amazon.com", Marketplace::Us),
            ("m.amazon.com", Marketplace::Us),
            ("amazon.com", Marketplace::Us),
            ("WWW.AMAZON.CO.UK", Marketplace::Uk),
            ("www.amazon.com.mx", Marketplace::Mx),
            ("www.amazon.com.br", Marketplace::Br),
            ("www.amazon.com.tr", Marketplace::Tr),
            ("www.amazon.com.au", Marketplace::Au),
            ("www.amazon.co.jp:443", Marketplace::Jp),
            ("www.amazon.sg.", Marketplace::Sg),
            ("www.amazon.ae", Marketplace::Ae),
            ("www.amazon.sa", Marketplace::Sa),
            ("www.amazon.in", Marketplace::In),
            ("www.amazon.se", Marketplace::Se),
            ("www.amazon.pl", Marketplace::Pl),
            ("www.amazon.nl", Marketplace::Nl),
        ];
        for (host, want) in cases {
            assert_eq!(Marketplace::from_host(host), Ok(want), "{host}");
        }
    }

    #[test]
    fn lookalike_and_unknown_hosts_are_errors() {
        for host in [
            "amazon.com.evil.example",
            "notamazon.com",
            "www.amazon.cn",
            "www.ebay.com",
            "",
            "amazon.co",
        ] {
            assert!(Marketplace::from_host(host).is_err(), "{host}");
        }
    }

    #[test]
    fn codes_round_trip_and_gb_means_uk() {
        for m in Marketplace::ALL {
            assert_eq!(m.code().parse(), Ok(m));
        }
        assert_eq!("GB".parse(), Ok(Marketplace::Uk));
        assert!("xx".parse::<Marketplace>().is_err());
    }

    #[test]
    fn every_host_maps_back_to_its_marketplace() {
        for m in Marketplace::ALL {
            assert_eq!(Marketplace::from_url(&m.base_url()), Ok(m));
        }
    }

    #[test]
    fn format_writes_each_locale() {
        let cases = [
            (Marketplace::Us, 129_999, "$1,299.99"),
            (Marketplace::De, 129_999, "1.299,99\u{A0}€"),
            (Marketplace::Fr, 129_999, "1\u{202F}299,99\u{A0}€"),
            (Marketplace::Nl, 129_999, "€\u{A0}1.299,99"),
            (Marketplace::Br, 123_456, "R$\u{A0}1.234,56"),
            (Marketplace::In, 12_345_600, "₹1,23,456.00"),
            (Marketplace::Jp, 1_299, "￥1,299"),
            (Marketplace::Se, 129_900, "1\u{A0}299,00\u{A0}kr"),
            (Marketplace::Us, 5, "$0.05"),
        ];
        for (m, minor, want) in cases {
            assert_eq!(m.format(Money::new(minor, m.currency())), want);
        }
    }
}
