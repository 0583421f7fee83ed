//! Charts drawn with plotters on an HTML canvas: one module per chart, each with a `draw`
//! entry (`draw_history`), over shared parts.
//!
//! - [`history`]: the price-history chart (`draw_history`) and its pointer read-out (`hover`).
//! - `frame`: the layout in CSS pixels, shared by drawing and `hover`.
//! - `scale`: price and time ticks. `dates`: UTC calendar arithmetic for them.
//! - `surface`: sizing the canvas for the device pixel ratio, and remembering the size a
//!   chart was drawn at.
//!
//! Everything is laid out in CSS pixels and multiplied by the device pixel ratio only when
//! drawn, so a chart is as crisp on a high-DPI screen as the text around it.

mod dates;
mod frame;
pub mod history;
mod scale;
mod surface;

use pricewatch_core::{Currency, Marketplace, Money};
use serde::Deserialize;

use crate::error::Error;

/// What a page may say about how to draw a chart; all optional.
#[derive(Debug, Clone, Copy, Default, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ChartOptions {
    /// The storefront whose number format labels the prices (`"fr"` writes `1 299,99 €`
    /// where `"de"` writes `1.299,99 €`). Default: the first storefront of the chart's
    /// currency.
    pub marketplace: Option<Marketplace>,
    /// CSS pixels. Default: the canvas's current CSS size.
    pub width: Option<f64>,
    /// CSS pixels. Default: the canvas's current CSS size.
    pub height: Option<f64>,
    /// Device pixels per CSS pixel. Default: `devicePixelRatio`.
    pub pixel_ratio: Option<f64>,
}

/// How prices of a chart in `currency` are written: the storefront's format when there is
/// one for the currency, else the plain `12.345 KWD` form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PriceFormat {
    currency: Currency,
    marketplace: Option<Marketplace>,
}

impl PriceFormat {
    /// The format for `currency`, in `marketplace`'s style when given (it must price in that
    /// currency).
    pub(crate) fn new(
        currency: Currency,
        marketplace: Option<Marketplace>,
    ) -> Result<PriceFormat, Error> {
        let marketplace = match marketplace {
            Some(m) if m.currency() != currency => {
                return Err(Error::argument(
                    "options.marketplace",
                    format!("{m} prices in {}, the chart in {currency}", m.currency()),
                ))
            }
            Some(m) => Some(m),
            None => Marketplace::ALL
                .into_iter()
                .find(|m| m.currency() == currency),
        };
        Ok(PriceFormat {
            currency,
            marketplace,
        })
    }

    /// The storefront whose style is used, if any.
    pub(crate) fn marketplace(&self) -> Option<Marketplace> {
        self.marketplace
    }

    /// `minor` written out.
    pub(crate) fn write(&self, minor: i64) -> String {
        let money = Money::new(minor, self.currency);
        match self.marketplace {
            Some(m) => m.format(money),
            None => money.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prices_follow_the_chosen_storefront_or_the_currencys_first() {
        let fr = PriceFormat::new(Currency::Eur, Some(Marketplace::Fr)).unwrap();
        assert_eq!(fr.write(129_999), "1\u{202F}299,99\u{A0}€");
        let default = PriceFormat::new(Currency::Eur, None).unwrap();
        assert_eq!(default.marketplace(), Some(Marketplace::De));
        assert_eq!(default.write(129_999), "1.299,99\u{A0}€");
        let kwd = PriceFormat::new(Currency::Kwd, None).unwrap();
        assert_eq!(kwd.write(12_345), "12.345 KWD");
    }

    #[test]
    fn a_storefront_of_another_currency_is_refused() {
        assert!(matches!(
            PriceFormat::new(Currency::Usd, Some(Marketplace::De)),
            Err(Error::Argument {
                name: "options.marketplace",
                ..
            })
        ));
    }
}
