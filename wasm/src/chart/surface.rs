//! The canvas as a drawing surface: sized for the device pixel ratio (a backing store of
//! CSS size × ratio device pixels, shown at the CSS size), and labelled with the size and
//! price style a chart was drawn at, which `hover` reads back to lay the chart out the same.

use pricewatch_core::Marketplace;
use web_sys::HtmlCanvasElement;

use super::frame::{MAX_SIDE, MIN_HEIGHT, MIN_WIDTH};
use super::ChartOptions;
use crate::error::Error;

const WIDTH_ATTR: &str = "data-pricewatch-width";
const HEIGHT_ATTR: &str = "data-pricewatch-height";
const MARKETPLACE_ATTR: &str = "data-pricewatch-marketplace";

/// A canvas prepared for drawing.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Surface {
    /// CSS pixels.
    pub(crate) width: f64,
    pub(crate) height: f64,
    /// Device pixels per CSS pixel.
    pub(crate) ratio: f64,
}

impl Surface {
    /// A CSS length in device pixels.
    pub(crate) fn px(&self, css: f64) -> i32 {
        (css * self.ratio).round() as i32
    }
}

/// Size `canvas` for a chart as `options` ask (or at its current CSS size) at the device
/// pixel ratio. Clears it, as resizing a canvas does.
pub(crate) fn prepare(
    canvas: &HtmlCanvasElement,
    options: &ChartOptions,
) -> Result<Surface, Error> {
    let ratio = options
        .pixel_ratio
        .or_else(|| web_sys::window().map(|w| w.device_pixel_ratio()))
        .unwrap_or(1.0);
    if !(ratio.is_finite() && (0.25..=8.0).contains(&ratio)) {
        return Err(Error::argument(
            "options.pixel_ratio",
            format!("{ratio} is not between 0.25 and 8"),
        ));
    }
    let current = |client: i32, attribute: u32| {
        if client > 0 {
            f64::from(client)
        } else {
            f64::from(attribute)
        }
    };
    let width = options
        .width
        .unwrap_or_else(|| current(canvas.client_width(), canvas.width()));
    let height = options
        .height
        .unwrap_or_else(|| current(canvas.client_height(), canvas.height()));
    check_side("options.width", width, MIN_WIDTH)?;
    check_side("options.height", height, MIN_HEIGHT)?;
    let surface = Surface {
        width,
        height,
        ratio,
    };
    canvas.set_width(device(width * ratio));
    canvas.set_height(device(height * ratio));
    // Shown at the CSS size whatever the backing store's size.
    let style = canvas.style();
    style
        .set_property("width", &format!("{width}px"))
        .and_then(|()| style.set_property("height", &format!("{height}px")))
        .map_err(|e| Error::js("canvas.style", &e))?;
    Ok(surface)
}

fn check_side(name: &'static str, side: f64, min: f64) -> Result<(), Error> {
    if side.is_finite() && (min..=MAX_SIDE).contains(&side) {
        Ok(())
    } else {
        Err(Error::argument(
            name,
            format!("{side} CSS px is outside {min}..={MAX_SIDE}"),
        ))
    }
}

/// A device pixel count; `side` was checked to be finite and bounded.
fn device(side: f64) -> u32 {
    side.round().clamp(1.0, MAX_SIDE * 8.0) as u32
}

/// Remember on the canvas how its chart was laid out.
pub(crate) fn record(
    canvas: &HtmlCanvasElement,
    surface: &Surface,
    marketplace: Option<Marketplace>,
) -> Result<(), Error> {
    let code = marketplace.map_or("", Marketplace::code);
    canvas
        .set_attribute(WIDTH_ATTR, &surface.width.to_string())
        .and_then(|()| canvas.set_attribute(HEIGHT_ATTR, &surface.height.to_string()))
        .and_then(|()| canvas.set_attribute(MARKETPLACE_ATTR, code))
        .map_err(|e| Error::js("canvas.setAttribute", &e))
}

/// The CSS size and storefront a chart was drawn at on `canvas`.
pub(crate) fn recorded(
    canvas: &HtmlCanvasElement,
) -> Result<(f64, f64, Option<Marketplace>), Error> {
    let number = |name: &str| {
        canvas
            .get_attribute(name)
            .and_then(|v| v.parse::<f64>().ok())
    };
    let (Some(width), Some(height)) = (number(WIDTH_ATTR), number(HEIGHT_ATTR)) else {
        return Err(Error::Missing(
            "a chart drawn on this canvas (call draw_history first)",
        ));
    };
    let marketplace = canvas
        .get_attribute(MARKETPLACE_ATTR)
        .and_then(|code| code.parse().ok());
    Ok((width, height, marketplace))
}
