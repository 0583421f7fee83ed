//! Money as integer minor units of an ISO 4217 currency.
//!
//! Prices are stored and compared as `i64` minor units (cents, pence, yen, fils) so that no
//! rounding ever creeps into history, thresholds or alerts. The currency's exponent decides
//! how many of those digits are decimals.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// The currencies Amazon marketplaces price in, plus a few that exercise unusual exponents.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "&'static str")]
pub enum Currency {
    Aed,
    Aud,
    Brl,
    Cad,
    Egp,
    Eur,
    Gbp,
    Inr,
    Jpy,
    Kwd,
    Mxn,
    Pln,
    Sar,
    Sek,
    Sgd,
    Try,
    Usd,
}

impl Currency {
    /// Every supported currency, for tables and property tests.
    pub const ALL: [Currency; 17] = [
        Currency::Aed,
        Currency::Aud,
        Currency::Brl,
        Currency::Cad,
        Currency::Egp,
        Currency::Eur,
        Currency::Gbp,
        Currency::Inr,
        Currency::Jpy,
        Currency::Kwd,
        Currency::Mxn,
        Currency::Pln,
        Currency::Sar,
        Currency::Sek,
        Currency::Sgd,
        Currency::Try,
        Currency::Usd,
    ];

    /// The ISO 4217 alphabetic code.
    pub const fn code(self) -> &'static str {
        match self {
            Currency::Aed => "AED",
            Currency::Aud => "AUD",
            Currency::Brl => "BRL",
            Currency::Cad => "CAD",
            Currency::Egp => "EGP",
            Currency::Eur => "EUR",
            Currency::Gbp => "GBP",
            Currency::Inr => "INR",
            Currency::Jpy => "JPY",
            Currency::Kwd => "KWD",
            Currency::Mxn => "MXN",
            Currency::Pln => "PLN",
            Currency::Sar => "SAR",
            Currency::Sek => "SEK",
            Currency::Sgd => "SGD",
            Currency::Try => "TRY",
            Currency::Usd => "USD",
        }
    }

    /// The ISO 4217 minor-unit exponent: how many decimals a price in this currency has.
    pub const fn exponent(self) -> u32 {
        match self {
            Currency::Jpy => 0,
            Currency::Kwd => 3,
            _ => 2,
        }
    }

    /// 10^exponent: minor units in one major unit.
    pub const fn minor_per_major(self) -> i64 {
        10_i64.pow(self.exponent())
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// A currency code that is not one PriceWatch knows.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown currency code {0:?}")]
pub struct UnknownCurrency(pub String);

impl FromStr for Currency {
    type Err = UnknownCurrency;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Currency::ALL
            .into_iter()
            .find(|c| c.code().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| UnknownCurrency(s.to_owned()))
    }
}

impl TryFrom<String> for Currency {
    type Error = UnknownCurrency;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<Currency> for &'static str {
    fn from(c: Currency) -> Self {
        c.code()
    }
}

/// An amount of money: integer minor units of one currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Money {
    /// Minor units (cents for USD, yen for JPY, fils for KWD). Signed so that differences are
    /// representable; prices themselves are validated to be positive where they enter.
    pub amount_minor: i64,
    /// The currency whose exponent gives `amount_minor` its scale.
    pub currency: Currency,
}

impl Money {
    pub const fn new(amount_minor: i64, currency: Currency) -> Self {
        Money {
            amount_minor,
            currency,
        }
    }

    /// Compare two amounts of the same currency; `None` across currencies, because a
    /// conversion would need an exchange rate and prices must never be compared that way.
    pub fn cmp_same_currency(&self, other: &Money) -> Option<std::cmp::Ordering> {
        (self.currency == other.currency).then(|| self.amount_minor.cmp(&other.amount_minor))
    }

    /// The amount as a float in major units, for display scaling and scores only.
    /// Never store or compare prices through this.
    pub fn approx_major(&self) -> f64 {
        self.amount_minor as f64 / self.currency.minor_per_major() as f64
    }

    /// The plain decimal text of the amount, with `.` as the separator and no grouping:
    /// `1299.99`, `1299` (JPY), `12.345` (KWD).
    pub fn decimal_string(&self) -> String {
        let exp = self.currency.exponent();
        let sign = if self.amount_minor < 0 { "-" } else { "" };
        let abs = self.amount_minor.unsigned_abs();
        if exp == 0 {
            return format!("{sign}{abs}");
        }
        let per = 10_u64.pow(exp);
        format!(
            "{sign}{}.{:0width$}",
            abs / per,
            abs % per,
            width = exp as usize
        )
    }
}

/// `1299.99 USD`: unambiguous, locale-free, and what `FromStr` reads back.
impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.decimal_string(), self.currency)
    }
}

/// Why a `Money` could not be read from its canonical text form.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyParseError {
    #[error("expected \"AMOUNT CURRENCY\", e.g. \"12.34 USD\"")]
    Shape,
    #[error(transparent)]
    Currency(#[from] UnknownCurrency),
    #[error("amount {0:?} is not a decimal number")]
    Amount(String),
    #[error("amount {amount:?} has more decimals than {currency} allows ({exponent})")]
    TooManyDecimals {
        amount: String,
        currency: Currency,
        exponent: u32,
    },
    #[error("amount {0:?} is too large")]
    Overflow(String),
}

impl FromStr for Money {
    type Err = MoneyParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut parts = s.split_whitespace();
        let (Some(amount), Some(code), None) = (parts.next(), parts.next(), parts.next()) else {
            return Err(MoneyParseError::Shape);
        };
        let currency: Currency = code.parse()?;
        let amount_minor = decimal_to_minor(amount, currency)?;
        Ok(Money::new(amount_minor, currency))
    }
}

/// Read `-1299.99` as minor units of `currency`, refusing more decimals than it has.
pub(crate) fn decimal_to_minor(text: &str, currency: Currency) -> Result<i64, MoneyParseError> {
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (whole, frac) = digits.split_once('.').unwrap_or((digits, ""));
    let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() || !all_digits(whole) || !all_digits(frac) || digits.ends_with('.') {
        return Err(MoneyParseError::Amount(text.to_owned()));
    }
    let exp = currency.exponent();
    if frac.len() > exp as usize {
        return Err(MoneyParseError::TooManyDecimals {
            amount: text.to_owned(),
            currency,
            exponent: exp,
        });
    }
    let overflow = || MoneyParseError::Overflow(text.to_owned());
    let whole: i64 = whole.parse().map_err(|_| overflow())?;
    let mut frac_minor: i64 = if frac.is_empty() {
        0
    } else {
        frac.parse().map_err(|_| overflow())?
    };
    for _ in frac.len()..exp as usize {
        frac_minor *= 10;
    }
    let minor = whole
        .checked_mul(currency.minor_per_major())
        .and_then(|w| w.checked_add(frac_minor))
        .ok_or_else(overflow)?;
    Ok(if negative { -minor } else { minor })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn exponents_follow_iso_4217() {
        assert_eq!(Currency::Jpy.exponent(), 0);
        assert_eq!(Currency::Usd.exponent(), 2);
        assert_eq!(Currency::Kwd.exponent(), 3);
    }

    #[test]
    fn display_uses_the_currency_exponent() {
        assert_eq!(
            Money::new(129_999, Currency::Usd).to_string(),
            "1299.99 USD"
        );
        assert_eq!(Money::new(1_299, Currency::Jpy).to_string(), "1299 JPY");
        assert_eq!(Money::new(12_345, Currency::Kwd).to_string(), "12.345 KWD");
        assert_eq!(Money::new(-5, Currency::Eur).to_string(), "-0.05 EUR");
    }

    #[test]
    fn parse_reads_short_fractions_as_tenths() {
        assert_eq!("12.5 EUR".parse(), Ok(Money::new(1250, Currency::Eur)));
        assert_eq!("7 GBP".parse(), Ok(Money::new(700, Currency::Gbp)));
    }

    #[test]
    fn parse_refuses_what_is_not_money() {
        assert_eq!(
            "12.345 USD"
                .parse::<Money>()
                .map_err(|e| matches!(e, MoneyParseError::TooManyDecimals { .. })),
            Err(true)
        );
        assert!(matches!(
            "12.3 XXX".parse::<Money>(),
            Err(MoneyParseError::Currency(_))
        ));
        assert!(matches!(
            "12,30 EUR".parse::<Money>(),
            Err(MoneyParseError::Amount(_))
        ));
        assert!(matches!(
            "12.30".parse::<Money>(),
            Err(MoneyParseError::Shape)
        ));
        assert!(matches!(
            "99999999999999999999 USD".parse::<Money>(),
            Err(MoneyParseError::Overflow(_))
        ));
        assert!(matches!(
            "1. USD".parse::<Money>(),
            Err(MoneyParseError::Amount(_))
        ));
    }

    #[test]
    fn amounts_of_different_currencies_do_not_compare() {
        let usd = Money::new(100, Currency::Usd);
        let cad = Money::new(100, Currency::Cad);
        assert_eq!(usd.cmp_same_currency(&cad), None);
        assert_eq!(
            usd.cmp_same_currency(&Money::new(99, Currency::Usd)),
            Some(std::cmp::Ordering::Greater)
        );
    }

    #[test]
    fn serde_shape_is_minor_units_and_code() {
        let json = serde_json::to_string(&Money::new(1299, Currency::Jpy)).unwrap();
        assert_eq!(json, r#"{"amount_minor":1299,"currency":"JPY"}"#);
        assert!(serde_json::from_str::<Money>(r#"{"amount_minor":1,"currency":"ZZZ"}"#).is_err());
    }

    proptest! {
        #[test]
        fn display_then_parse_round_trips(minor in any::<i64>().prop_filter("no i64::MIN", |m| *m != i64::MIN), idx in 0..Currency::ALL.len()) {
            let money = Money::new(minor, Currency::ALL[idx]);
            prop_assert_eq!(money.to_string().parse::<Money>(), Ok(money));
        }

        #[test]
        fn parse_never_panics(text in ".{0,40}") {
            let _ = text.parse::<Money>();
        }
    }
}
