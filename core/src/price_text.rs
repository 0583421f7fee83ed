//! Reading price text as Amazon prints it, in every marketplace's locale.
//!
//! The same parser reads `$1,299.99`, `1.299,99 €`, `1 299,99 €` (narrow no-break spaces),
//! `￥1,299`, `₹1,23,456.00`, `R$ 1.234,56`, `CDN$ 12.99`, `12,99 zł` and `kr 1 299,00`.
//! Which separator is the decimal one is decided from the text itself where it can be (the
//! last of two different separators; a single separator followed by one or two digits) and
//! from the marketplace's locale only where the text is ambiguous (a single separator
//! followed by three digits is a decimal sign only if the storefront writes decimals so). English-language pages on amazon.de write `€1,299.99`,
//! so the locale is a tie-breaker, never the rule.

use crate::marketplace::Marketplace;
use crate::money::{decimal_to_minor, Currency, Money, MoneyParseError};

/// What a price text says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PriceText {
    /// One price.
    Single(Money),
    /// `$10.99 - $24.99`: a variation parent's span of prices, never a price of its own.
    Range { min: Money, max: Money },
}

/// Why a text is not a price.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PriceTextError {
    #[error("the price text is empty")]
    Empty,
    #[error("no number in {0:?}")]
    NoNumber(String),
    #[error("{0:?} holds more than one number and is not a price range")]
    SeveralNumbers(String),
    #[error("{0:?} is not a price: unexpected text {1:?}")]
    UnexpectedText(String, String),
    #[error("{0:?} is not a well-formed number")]
    BadNumber(String),
    #[error("{text:?} has more decimals than {currency} allows")]
    TooManyDecimals { text: String, currency: Currency },
    #[error("{0:?} names two different currencies")]
    MixedCurrencies(String),
    #[error("{0:?} is too large to be a price")]
    Overflow(String),
}

/// Read one price or a price range from `text` shown on `marketplace`.
pub fn parse_price(text: &str, marketplace: Marketplace) -> Result<PriceText, PriceTextError> {
    let norm = normalize(text);
    if norm.is_empty() {
        return Err(PriceTextError::Empty);
    }
    let tokens = number_tokens(&norm);
    match tokens.as_slice() {
        [] => Err(PriceTextError::NoNumber(text.to_owned())),
        [one] => {
            let currency = currency_of(&norm, &[one], marketplace, text)?;
            check_residue(&norm, &[one], &[], text)?;
            Ok(PriceText::Single(to_money(
                &one.text,
                currency,
                marketplace,
                text,
            )?))
        }
        [a, b] => {
            let between = &norm[a.end..b.start];
            if !is_range_separator(between) {
                return Err(PriceTextError::SeveralNumbers(text.to_owned()));
            }
            let currency = currency_of(&norm, &[a, b], marketplace, text)?;
            check_residue(&norm, &[a, b], RANGE_WORDS, text)?;
            let min = to_money(&a.text, currency, marketplace, text)?;
            let max = to_money(&b.text, currency, marketplace, text)?;
            Ok(PriceText::Range { min, max })
        }
        _ => Err(PriceTextError::SeveralNumbers(text.to_owned())),
    }
}

/// Read a price shown as separate spans: symbol, whole part (which may end with the decimal
/// separator, as `a-price-whole` does) and fraction (`a-price-fraction`; empty for JPY).
pub fn parse_split_price(
    symbol: &str,
    whole: &str,
    fraction: &str,
    marketplace: Marketplace,
) -> Result<Money, PriceTextError> {
    let shown = format!("{symbol}{whole}{fraction}");
    let whole_n = normalize(whole);
    let frac_n = normalize(fraction);
    let whole_digits: String = whole_n.chars().filter(char::is_ascii_digit).collect();
    if whole_digits.is_empty() {
        return Err(PriceTextError::NoNumber(shown));
    }
    // The whole part may only hold digits and grouping/decimal separators.
    if whole_n
        .chars()
        .any(|c| !(c.is_ascii_digit() || matches!(c, '.' | ',' | ' ' | '\'')))
    {
        return Err(PriceTextError::BadNumber(shown));
    }
    if !frac_n.chars().all(|c| c.is_ascii_digit()) {
        return Err(PriceTextError::BadNumber(shown));
    }
    let symbol_n = normalize(symbol);
    let currency = if symbol_n.is_empty() {
        marketplace.currency()
    } else {
        let (found, rest) = currency_markers(&symbol_n);
        if !rest.trim().is_empty() {
            return Err(PriceTextError::UnexpectedText(
                shown,
                rest.trim().to_owned(),
            ));
        }
        single_currency(&found, marketplace, &shown)?
    };
    let plain = if frac_n.is_empty() {
        whole_digits
    } else {
        format!("{whole_digits}.{frac_n}")
    };
    decimal_to_minor(&plain, currency)
        .map(|minor| Money::new(minor, currency))
        .map_err(|e| money_error(e, &shown, currency))
}

fn money_error(e: MoneyParseError, text: &str, currency: Currency) -> PriceTextError {
    match e {
        MoneyParseError::TooManyDecimals { .. } => PriceTextError::TooManyDecimals {
            text: text.to_owned(),
            currency,
        },
        MoneyParseError::Overflow(_) => PriceTextError::Overflow(text.to_owned()),
        _ => PriceTextError::BadNumber(text.to_owned()),
    }
}

/// Fold the many ways pages write spaces, digits and signs into plain ASCII where it matters.
fn normalize(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        let mapped = match c {
            // no-break, narrow no-break, thin, figure, hair, en/em spaces
            '\u{A0}' | '\u{202F}' | '\u{2009}' | '\u{2007}' | '\u{200A}' | '\u{2002}'
            | '\u{2003}' | '\u{2008}' | '\u{3000}' | '\t' | '\n' | '\r' => ' ',
            // direction marks and zero-width characters in Arabic and Hebrew pages
            '\u{200E}' | '\u{200F}' | '\u{061C}' | '\u{200B}' | '\u{2060}' | '\u{FEFF}' => continue,
            '０'..='９' => char::from(b'0' + (c as u32 - '０' as u32) as u8),
            '٠'..='٩' => char::from(b'0' + (c as u32 - '٠' as u32) as u8),
            '٫' | '．' => '.',
            '٬' | '，' => ',',
            '￥' => '¥',
            '’' => '\'',
            '–' | '—' | '−' | '～' | '〜' => '-',
            other => other,
        };
        out.push(mapped);
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A maximal run of digits and separators inside the normalized text.
#[derive(Debug)]
struct Token {
    start: usize,
    end: usize,
    text: String,
}

fn number_tokens(s: &str) -> Vec<Token> {
    let bytes = s.as_bytes();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if !bytes[i].is_ascii_digit() {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len() {
            if bytes[i].is_ascii_digit() {
                i += 1;
                continue;
            }
            let sep = bytes[i];
            let next_digit = bytes.get(i + 1).is_some_and(u8::is_ascii_digit);
            let joins = match sep {
                b'.' | b',' | b'\'' => next_digit,
                // A space groups thousands only when exactly three digits follow it.
                b' ' => {
                    let run = bytes[i + 1..]
                        .iter()
                        .take_while(|b| b.is_ascii_digit())
                        .count();
                    run == 3
                }
                _ => false,
            };
            if !joins {
                break;
            }
            i += 1;
        }
        tokens.push(Token {
            start,
            end: i,
            text: s[start..i].to_owned(),
        });
    }
    tokens
}

const RANGE_WORDS: &[&str] = &["to", "bis", "à", "a", "tot", "till", "do", "ile"];

fn is_range_separator(between: &str) -> bool {
    let mut rest = between.to_lowercase();
    // Currency signs may sit on either side of the dash: "$10.99 - $24.99".
    let (_, residue) = currency_markers(&rest);
    rest = residue;
    let core = rest.trim();
    core == "-" || RANGE_WORDS.contains(&core)
}

/// Everything but the numbers and currency markers must be blank (or range words).
fn check_residue(
    norm: &str,
    tokens: &[&Token],
    allowed_words: &[&str],
    original: &str,
) -> Result<(), PriceTextError> {
    let mut residue = String::new();
    let mut last = 0;
    for t in tokens {
        residue.push_str(&norm[last..t.start]);
        residue.push(' ');
        last = t.end;
    }
    residue.push_str(&norm[last..]);
    let (_, rest) = currency_markers(&residue);
    let leftovers: Vec<&str> = rest
        .split(|c: char| c.is_whitespace() || matches!(c, '(' | ')' | '*'))
        // Lone punctuation (a sentence's full stop, a colon after a label sign) says nothing.
        .filter(|w| !w.chars().all(|c| matches!(c, '-' | '.' | ',' | ':' | ';')))
        .filter(|w| !allowed_words.contains(w))
        .collect();
    if leftovers.is_empty() {
        Ok(())
    } else {
        Err(PriceTextError::UnexpectedText(
            original.to_owned(),
            leftovers.join(" "),
        ))
    }
}

/// A currency marker as pages write it. `None` is the bare dollar sign, whose currency
/// depends on the marketplace.
const MARKERS: &[(&str, Option<Currency>)] = &[
    ("cdn$", Some(Currency::Cad)),
    ("us$", Some(Currency::Usd)),
    ("ca$", Some(Currency::Cad)),
    ("mx$", Some(Currency::Mxn)),
    ("au$", Some(Currency::Aud)),
    ("c$", Some(Currency::Cad)),
    ("r$", Some(Currency::Brl)),
    ("a$", Some(Currency::Aud)),
    ("s$", Some(Currency::Sgd)),
    ("$", None),
    ("usd", Some(Currency::Usd)),
    ("cad", Some(Currency::Cad)),
    ("mxn", Some(Currency::Mxn)),
    ("brl", Some(Currency::Brl)),
    ("aud", Some(Currency::Aud)),
    ("sgd", Some(Currency::Sgd)),
    ("gbp", Some(Currency::Gbp)),
    ("eur", Some(Currency::Eur)),
    ("jpy", Some(Currency::Jpy)),
    ("inr", Some(Currency::Inr)),
    ("pln", Some(Currency::Pln)),
    ("sek", Some(Currency::Sek)),
    ("try", Some(Currency::Try)),
    ("aed", Some(Currency::Aed)),
    ("sar", Some(Currency::Sar)),
    ("egp", Some(Currency::Egp)),
    ("kwd", Some(Currency::Kwd)),
    ("£", Some(Currency::Gbp)),
    ("€", Some(Currency::Eur)),
    ("¥", Some(Currency::Jpy)),
    ("円", Some(Currency::Jpy)),
    ("₹", Some(Currency::Inr)),
    ("rs.", Some(Currency::Inr)),
    ("zł", Some(Currency::Pln)),
    ("kr", Some(Currency::Sek)),
    ("tl", Some(Currency::Try)),
    ("₺", Some(Currency::Try)),
    // Direction marks are already stripped by `normalize`, so `ر.س.‏` arrives as `ر.س.`.
    ("د.إ.", Some(Currency::Aed)),
    ("د.إ", Some(Currency::Aed)),
    ("ر.س.", Some(Currency::Sar)),
    ("ر.س", Some(Currency::Sar)),
    ("ريال", Some(Currency::Sar)),
    ("ج.م", Some(Currency::Egp)),
    ("د.ك", Some(Currency::Kwd)),
];

/// Find the currency markers in `text` (lowercased), returning them and what is left.
/// Letter markers (`kr`, `tl`, `eur`) only count as whole words.
fn currency_markers(text: &str) -> (Vec<Option<Currency>>, String) {
    let lower = text.to_lowercase();
    let mut found = Vec::new();
    let mut rest = String::with_capacity(lower.len());
    let mut i = 0;
    'outer: while i < lower.len() {
        for (marker, currency) in MARKERS {
            if !lower[i..].starts_with(marker) {
                continue;
            }
            let end = i + marker.len();
            // A marker that starts (ends) with a letter must not continue a word on that
            // side: `kr` is a currency, `Stockroom` is not.
            let is_letter = |c: Option<char>| c.is_some_and(char::is_alphabetic);
            if (is_letter(marker.chars().next()) && is_letter(lower[..i].chars().next_back()))
                || (is_letter(marker.chars().next_back()) && is_letter(lower[end..].chars().next()))
            {
                continue;
            }
            found.push(*currency);
            rest.push(' ');
            i = end;
            continue 'outer;
        }
        let Some(c) = lower[i..].chars().next() else {
            break;
        };
        rest.push(c);
        i += c.len_utf8();
    }
    (found, rest)
}

fn currency_of(
    norm: &str,
    tokens: &[&Token],
    marketplace: Marketplace,
    original: &str,
) -> Result<Currency, PriceTextError> {
    let mut outside = String::new();
    let mut last = 0;
    for t in tokens {
        outside.push_str(&norm[last..t.start]);
        outside.push(' ');
        last = t.end;
    }
    outside.push_str(&norm[last..]);
    let (found, _) = currency_markers(&outside);
    single_currency(&found, marketplace, original)
}

fn single_currency(
    found: &[Option<Currency>],
    marketplace: Marketplace,
    original: &str,
) -> Result<Currency, PriceTextError> {
    let home = marketplace.currency();
    let dollar = match home {
        Currency::Usd | Currency::Cad | Currency::Mxn | Currency::Aud | Currency::Sgd => home,
        _ => Currency::Usd,
    };
    let mut resolved = found.iter().map(|c| c.unwrap_or(dollar));
    let Some(first) = resolved.next() else {
        return Ok(home);
    };
    if resolved.all(|c| c == first) {
        Ok(first)
    } else {
        Err(PriceTextError::MixedCurrencies(original.to_owned()))
    }
}

/// Turn one number token into money, deciding which separator (if any) is the decimal one.
fn to_money(
    token: &str,
    currency: Currency,
    marketplace: Marketplace,
    original: &str,
) -> Result<Money, PriceTextError> {
    let bad = || PriceTextError::BadNumber(original.to_owned());
    let exp = currency.exponent() as usize;
    let seps: Vec<(usize, char)> = token
        .char_indices()
        .filter(|(_, c)| matches!(c, '.' | ','))
        .collect();
    let dots = seps.iter().filter(|(_, c)| *c == '.').count();
    let commas = seps.len() - dots;
    let decimal_at: Option<usize> = match (dots, commas) {
        (0, 0) => None,
        (d, c) if d > 0 && c > 0 => {
            let (pos, ch) = *seps.last().ok_or_else(bad)?;
            let count = if ch == '.' { d } else { c };
            if count > 1 {
                return Err(bad());
            }
            Some(pos)
        }
        (n, m) => {
            let (pos, ch) = *seps.last().ok_or_else(bad)?;
            let after = token.len() - pos - 1;
            if n + m > 1 || exp == 0 {
                None
            } else if after == 3 {
                // `1,299` groups thousands unless the storefront writes decimals with that
                // very sign: then it is a decimal part (right for KWD, too long for USD).
                (ch == marketplace.number_format().decimal).then_some(pos)
            } else {
                Some(pos)
            }
        }
    };
    let (whole, frac) = match decimal_at {
        Some(pos) => (&token[..pos], &token[pos + 1..]),
        None => (token, ""),
    };
    if !grouping_is_valid(whole) {
        return Err(bad());
    }
    if frac.len() > exp {
        return Err(PriceTextError::TooManyDecimals {
            text: original.to_owned(),
            currency,
        });
    }
    let whole_digits: String = whole.chars().filter(char::is_ascii_digit).collect();
    let plain = if frac.is_empty() {
        whole_digits
    } else {
        format!("{whole_digits}.{frac}")
    };
    decimal_to_minor(&plain, currency)
        .map(|minor| Money::new(minor, currency))
        .map_err(|e| money_error(e, original, currency))
}

/// Grouped digits: a first group of 1–3 digits, then groups of 3, or Indian groups of 2
/// ending in a group of 3 (`1,23,456`).
fn grouping_is_valid(whole: &str) -> bool {
    let groups: Vec<&str> = whole.split(['.', ',', ' ', '\'']).collect();
    if groups.len() == 1 {
        return !groups[0].is_empty();
    }
    let Some((first, rest)) = groups.split_first() else {
        return false;
    };
    if first.is_empty() || first.len() > 3 {
        return false;
    }
    let Some((last, middle)) = rest.split_last() else {
        return false;
    };
    last.len() == 3
        && (middle.iter().all(|g| g.len() == 3)
            || (middle.iter().all(|g| g.len() == 2) && first.len() <= 2))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use Marketplace as M;

    #[track_caller]
    fn single(text: &str, m: Marketplace) -> Money {
        match parse_price(text, m) {
            Ok(PriceText::Single(money)) => money,
            other => panic!("{text:?} on {m}: {other:?}"),
        }
    }

    #[test]
    fn reads_every_locale_in_the_brief() {
        let cases = [
            ("$1,299.99", M::Us, 129_999, Currency::Usd),
            ("1.299,99 €", M::De, 129_999, Currency::Eur),
            ("£12.34", M::Uk, 1_234, Currency::Gbp),
            ("￥1,299", M::Jp, 1_299, Currency::Jpy),
            ("¥1,299", M::Jp, 1_299, Currency::Jpy),
            ("₹1,23,456.00", M::In, 12_345_600, Currency::Inr),
            ("R$ 1.234,56", M::Br, 123_456, Currency::Brl),
            ("CDN$ 12.99", M::Ca, 1_299, Currency::Cad),
            ("12,99 zł", M::Pl, 1_299, Currency::Pln),
            ("kr 1 299,00", M::Se, 129_900, Currency::Sek),
            ("kr\u{A0}1\u{2009}299,00", M::Se, 129_900, Currency::Sek),
            ("1\u{202F}299,99\u{A0}€", M::Fr, 129_999, Currency::Eur),
            ("€ 1.299,99", M::Nl, 129_999, Currency::Eur),
            ("1.299,99 TL", M::Tr, 129_999, Currency::Try),
            ("1.299,99TL", M::Tr, 129_999, Currency::Try),
            ("AED 1,299.99", M::Ae, 129_999, Currency::Aed),
            ("SAR 1,299.99", M::Sa, 129_999, Currency::Sar),
            ("S$1,299.99", M::Sg, 129_999, Currency::Sgd),
            ("$12.99", M::Ca, 1_299, Currency::Cad),
            ("$1,299.00", M::Mx, 129_900, Currency::Mxn),
            ("$1,299.99", M::Au, 129_999, Currency::Aud),
            ("EUR 12,99", M::De, 1_299, Currency::Eur),
            ("€1,299.99", M::De, 129_999, Currency::Eur),
            ("12 €", M::De, 1_200, Currency::Eur),
            ("1.299 €", M::De, 129_900, Currency::Eur),
            ("$1,299", M::Us, 129_900, Currency::Usd),
            ("12,9 €", M::De, 1_290, Currency::Eur),
            ("１，２９９円", M::Jp, 1_299, Currency::Jpy),
            ("1,234.567 KWD", M::Us, 1_234_567, Currency::Kwd),
            ("$0.99", M::Us, 99, Currency::Usd),
            ("  $ 12.99  ", M::Us, 1_299, Currency::Usd),
            ("12.99", M::Us, 1_299, Currency::Usd),
            ("Rs. 499.00", M::In, 49_900, Currency::Inr),
            ("US$12.99", M::De, 1_299, Currency::Usd),
            ("$12.99", M::De, 1_299, Currency::Usd),
            ("١٢٫٥٠ ر.س", M::Sa, 1_250, Currency::Sar),
            ("ر.س.\u{200F} 1,299.99", M::Sa, 129_999, Currency::Sar),
            ("1,299.99 د.إ.\u{200F}", M::Ae, 129_999, Currency::Aed),
            ("$12.99.", M::Us, 1_299, Currency::Usd),
        ];
        for (text, m, minor, currency) in cases {
            assert_eq!(single(text, m), Money::new(minor, currency), "{text:?}");
        }
    }

    #[test]
    fn three_decimal_currencies_use_the_locale_to_break_a_tie() {
        assert_eq!(single("KWD 1.299", M::Us), Money::new(1_299, Currency::Kwd));
        assert_eq!(single("KWD 1,299", M::De), Money::new(1_299, Currency::Kwd));
        assert_eq!(
            single("KWD 1,299", M::Us),
            Money::new(1_299_000, Currency::Kwd)
        );
    }

    #[test]
    fn ranges_are_ranges_never_prices() {
        let usd = |m| Money::new(m, Currency::Usd);
        assert_eq!(
            parse_price("$10.99 - $24.99", M::Us),
            Ok(PriceText::Range {
                min: usd(1099),
                max: usd(2499)
            })
        );
        assert_eq!(
            parse_price("$10.99 – $24.99", M::Us),
            Ok(PriceText::Range {
                min: usd(1099),
                max: usd(2499)
            })
        );
        let eur = |m| Money::new(m, Currency::Eur);
        assert_eq!(
            parse_price("1 299,99 € - 1 599,99 €", M::Fr),
            Ok(PriceText::Range {
                min: eur(129_999),
                max: eur(159_999)
            })
        );
        assert_eq!(
            parse_price("12,99 € bis 24,99 €", M::De),
            Ok(PriceText::Range {
                min: eur(1299),
                max: eur(2499)
            })
        );
    }

    #[test]
    fn split_spans_combine_whole_and_fraction() {
        assert_eq!(
            parse_split_price("$", "1,299.", "99", M::Us),
            Ok(Money::new(129_999, Currency::Usd))
        );
        assert_eq!(
            parse_split_price("", "1.299,", "99", M::De),
            Ok(Money::new(129_999, Currency::Eur))
        );
        assert_eq!(
            parse_split_price("￥", "1,299", "", M::Jp),
            Ok(Money::new(1_299, Currency::Jpy))
        );
        assert_eq!(
            parse_split_price("€", "1\u{202F}299,", "99", M::Fr),
            Ok(Money::new(129_999, Currency::Eur))
        );
        assert!(parse_split_price("$", "", "99", M::Us).is_err());
        assert!(parse_split_price("$", "12", "9a", M::Us).is_err());
        assert!(parse_split_price("$", "12", "999", M::Us).is_err());
        assert!(parse_split_price("$ off", "12", "99", M::Us).is_err());
    }

    #[test]
    fn garbage_gets_a_clear_error() {
        type Check = fn(&PriceTextError) -> bool;
        let cases: [(&str, Check); 12] = [
            ("", |e| matches!(e, PriceTextError::Empty)),
            ("   ", |e| matches!(e, PriceTextError::Empty)),
            ("See price in cart", |e| {
                matches!(e, PriceTextError::NoNumber(_))
            }),
            ("Currently unavailable.", |e| {
                matches!(e, PriceTextError::NoNumber(_))
            }),
            ("$12.99 ($0.45 / Count)", |e| {
                matches!(e, PriceTextError::SeveralNumbers(_))
            }),
            ("$0.45/count", |e| {
                matches!(e, PriceTextError::UnexpectedText(..))
            }),
            ("Save 20%", |e| {
                matches!(e, PriceTextError::UnexpectedText(..))
            }),
            ("$12.999", |e| {
                matches!(e, PriceTextError::TooManyDecimals { .. })
            }),
            ("£12.99 €", |e| {
                matches!(e, PriceTextError::MixedCurrencies(_))
            }),
            ("$1,2,3", |e| matches!(e, PriceTextError::BadNumber(_))),
            ("$1.299.99,00.1", |e| {
                matches!(e, PriceTextError::BadNumber(_))
            }),
            ("$99999999999999999999", |e| {
                matches!(e, PriceTextError::Overflow(_))
            }),
        ];
        for (text, check) in cases {
            let got = parse_price(text, M::Us);
            assert!(matches!(&got, Err(e) if check(e)), "{text:?} gave {got:?}");
        }
    }

    proptest! {
        #[test]
        fn parse_of_format_is_identity_on_every_marketplace(idx in 0..Marketplace::ALL.len(), minor in 0i64..10_000_000_000) {
            let m = Marketplace::ALL[idx];
            let money = Money::new(minor, m.currency());
            prop_assert_eq!(parse_price(&m.format(money), m), Ok(PriceText::Single(money)));
        }

        #[test]
        fn parse_never_panics(text in "\\PC{0,30}", idx in 0..Marketplace::ALL.len()) {
            let _ = parse_price(&text, Marketplace::ALL[idx]);
        }

        #[test]
        fn parse_never_panics_on_price_like_text(text in "[$€£¥₹ .,0-9krzłTL-]{0,24}", idx in 0..Marketplace::ALL.len()) {
            let _ = parse_price(&text, Marketplace::ALL[idx]);
            let _ = parse_split_price("$", &text, &text, Marketplace::ALL[idx]);
        }
    }
}
