//! The price-history chart: core's [`Chart`] (the answer of
//! `GET /api/products/{mkt}/{asin}/history`) as a min/max band with the close price as a
//! step line over it, gaps left empty (out-of-stock and no-price stretches lightly shaded,
//! never bridged by the line), prices labelled as the storefront writes them.
//!
//! `hover` answers which bucket is under the pointer, for the read-out beside the chart.

use std::ops::Range;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters_canvas::CanvasBackend;
use pricewatch_core::history::{Bucket, BucketValue, Chart, GapReason, Granularity, Ohlc};
use serde::Serialize;
use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen::JsValue;
use web_sys::HtmlCanvasElement;

use super::dates::Civil;
use super::frame::{Frame, FONT_PX};
use super::surface::{self, Surface};
use super::{ChartOptions, PriceFormat};
use crate::error::Error;
use crate::js::{from_js, from_js_or_default, to_js};

const BACKGROUND: RGBColor = RGBColor(255, 255, 255);
const LINE: RGBColor = RGBColor(0x1f, 0x6f, 0xeb);
const BAND: RGBAColor = RGBAColor(0x1f, 0x6f, 0xeb, 0.18);
const GAP: RGBAColor = RGBAColor(0x6b, 0x72, 0x80, 0.10);
const GRID: RGBColor = RGBColor(0xe5, 0xe7, 0xeb);
const AXIS: RGBColor = RGBColor(0x9c, 0xa3, 0xaf);
const TEXT: RGBColor = RGBColor(0x37, 0x41, 0x51);

/// Draw `chart_json` (the history API's answer, as an object or its JSON text) on `canvas`.
///
/// `options` (optional): `{marketplace, width, height, pixel_ratio}`, see [`ChartOptions`].
/// The canvas gets a backing store of CSS size × `devicePixelRatio` and is shown at the CSS
/// size. Throws on malformed arguments or a canvas without a 2-D context.
#[wasm_bindgen]
pub fn draw_history(
    canvas: &HtmlCanvasElement,
    chart_json: JsValue,
    options: JsValue,
) -> Result<(), Error> {
    let chart: Chart = from_js("chart_json", chart_json)?;
    let options: ChartOptions = from_js_or_default("options", options)?;
    draw(canvas, &chart, &options)
}

/// The bucket under the pointer at `x_css_px` (CSS px from the canvas's left edge, e.g.
/// `event.offsetX`) on a canvas `draw_history` drew `chart_json` on.
///
/// Returns `null` left or right of the plot, else `{index, start, end, date, gap, price,
/// low, high, prices, left, right, y}`: see [`Readout`].
#[wasm_bindgen]
pub fn hover(
    canvas: &HtmlCanvasElement,
    chart_json: JsValue,
    x_css_px: f64,
) -> Result<JsValue, Error> {
    let chart: Chart = from_js("chart_json", chart_json)?;
    let (width, height, marketplace) = surface::recorded(canvas)?;
    let format = PriceFormat::new(chart.currency, marketplace)?;
    let frame = layout(&chart, width, height, &format);
    to_js(&readout(&chart, &frame, &format, x_css_px))
}

/// What the read-out shows for one bucket. Prices are minor units (`prices`) and the
/// storefront's text (`price`, `low`, `high`); positions are CSS px.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Readout {
    /// The bucket's position in `chart.buckets`.
    pub index: usize,
    /// The bucket's range `[start, end)`, ms since the epoch.
    pub start: i64,
    pub end: i64,
    /// The bucket's UTC date as its granularity names it: `2024-03-14 13:00` (raw, hourly),
    /// `2024-03-14` (daily; weekly: the week's Monday), `2024-03` (monthly).
    pub date: String,
    /// Why the bucket has no price, `null` when it has one.
    pub gap: Option<GapReason>,
    /// The close price, written out.
    pub price: Option<String>,
    /// The bucket's lowest and highest prices, written out.
    pub low: Option<String>,
    pub high: Option<String>,
    /// open / close / min / max / avg in minor units.
    pub prices: Option<Ohlc>,
    /// The bucket's horizontal extent on the plot, for a highlight.
    pub left: f64,
    pub right: f64,
    /// The close price's height, for a marker.
    pub y: Option<f64>,
}

/// The layout of `chart` on a `width` × `height` CSS px canvas.
fn layout(chart: &Chart, width: f64, height: f64, format: &PriceFormat) -> Frame {
    Frame::new(
        width,
        height,
        (chart.start.as_millis(), chart.end.as_millis()),
        price_range(&chart.buckets),
        |minor| format.write(minor),
    )
}

/// The lowest and highest price of any bucket.
fn price_range(buckets: &[Bucket]) -> Option<(i64, i64)> {
    buckets
        .iter()
        .filter_map(Bucket::prices)
        .fold(None, |range, p| match range {
            None => Some((p.min, p.max)),
            Some((lo, hi)) => Some((p.min.min(lo), p.max.max(hi))),
        })
}

/// The index of the bucket holding instant `t`.
fn bucket_at(buckets: &[Bucket], t: i64) -> Option<usize> {
    let after = buckets.partition_point(|b| b.start.as_millis() <= t);
    let index = after.checked_sub(1)?;
    let bucket = buckets.get(index)?;
    (t < bucket.end.as_millis()).then_some(index)
}

/// The read-out at `x`, `None` off the plot or where no bucket is.
fn readout(chart: &Chart, frame: &Frame, format: &PriceFormat, x: f64) -> Option<Readout> {
    let index = bucket_at(&chart.buckets, frame.time_at(x)?)?;
    let bucket = chart.buckets.get(index)?;
    let (start, end) = (bucket.start.as_millis(), bucket.end.as_millis());
    let civil = Civil::of(start);
    let date = match chart.granularity {
        Granularity::Raw | Granularity::Hourly => format!("{} {}", civil.date(), civil.time()),
        Granularity::Daily | Granularity::Weekly => civil.date(),
        Granularity::Monthly => civil.month(),
    };
    let prices = bucket.prices().copied();
    let gap = match bucket.value {
        BucketValue::Gap { gap } => Some(gap),
        BucketValue::Prices(_) => None,
    };
    Some(Readout {
        index,
        start,
        end,
        date,
        gap,
        price: prices.map(|p| format.write(p.close)),
        low: prices.map(|p| format.write(p.min)),
        high: prices.map(|p| format.write(p.max)),
        prices,
        left: frame.x_of(start).max(frame.left),
        right: frame.x_of(end).min(frame.right),
        y: prices.map(|p| frame.y_of(p.close)),
    })
}

/// Maximal runs of consecutive priced buckets: each is drawn as one band and one line, and
/// nothing is drawn between runs.
fn priced_runs(buckets: &[Bucket]) -> Vec<Range<usize>> {
    let mut runs = Vec::new();
    let mut start = None;
    for (i, bucket) in buckets.iter().enumerate() {
        match (bucket.prices().is_some(), start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                runs.push(s..i);
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        runs.push(s..buckets.len());
    }
    runs
}

fn draw(canvas: &HtmlCanvasElement, chart: &Chart, options: &ChartOptions) -> Result<(), Error> {
    let format = PriceFormat::new(chart.currency, options.marketplace)?;
    let surface = surface::prepare(canvas, options)?;
    let frame = layout(chart, surface.width, surface.height, &format);
    let backend = CanvasBackend::with_canvas_object(canvas.clone())
        .ok_or(Error::Missing("a 2-D context on the canvas"))?;
    let root = backend.into_drawing_area();
    Painter {
        root: &root,
        surface: &surface,
        frame: &frame,
    }
    .paint(chart)
    .map_err(|e| Error::Js {
        api: "canvas drawing",
        message: e.to_string(),
    })?;
    surface::record(canvas, &surface, format.marketplace())
}

type DrawResult = Result<(), DrawingAreaErrorKind<<CanvasBackend as DrawingBackend>::ErrorType>>;

/// Draws one chart: CSS-pixel layout in, device pixels out.
struct Painter<'a> {
    root: &'a DrawingArea<CanvasBackend, Shift>,
    surface: &'a Surface,
    frame: &'a Frame,
}

impl Painter<'_> {
    fn point(&self, x: f64, y: f64) -> (i32, i32) {
        (self.surface.px(x), self.surface.px(y))
    }

    fn font(&self, h: HPos, v: VPos) -> TextStyle<'static> {
        ("sans-serif", FONT_PX * self.surface.ratio)
            .into_font()
            .color(&TEXT)
            .pos(Pos::new(h, v))
    }

    fn paint(&self, chart: &Chart) -> DrawResult {
        self.root.fill(&BACKGROUND)?;
        self.gaps(&chart.buckets)?;
        self.grid()?;
        for run in priced_runs(&chart.buckets) {
            if let Some(buckets) = chart.buckets.get(run) {
                self.band(buckets)?;
                self.line(buckets)?;
            }
        }
        self.axes()?;
        if self.frame.prices.is_none() {
            let f = self.frame;
            self.root.draw(&Text::new(
                "No price in this period",
                self.point((f.left + f.right) / 2.0, (f.top + f.bottom) / 2.0),
                self.font(HPos::Center, VPos::Center),
            ))?;
        }
        Ok(())
    }

    /// Out-of-stock and no-price stretches, lightly shaded so the empty space explains
    /// itself; stretches nobody observed stay blank.
    fn gaps(&self, buckets: &[Bucket]) -> DrawResult {
        let f = self.frame;
        for bucket in buckets {
            if let BucketValue::Gap {
                gap: GapReason::OutOfStock | GapReason::NoPrice,
            } = bucket.value
            {
                self.root.draw(&Rectangle::new(
                    [
                        self.point(f.x_of(bucket.start.as_millis()), f.top),
                        self.point(f.x_of(bucket.end.as_millis()), f.bottom),
                    ],
                    GAP.filled(),
                ))?;
            }
        }
        Ok(())
    }

    fn grid(&self) -> DrawResult {
        let f = self.frame;
        let thin = GRID.stroke_width(self.surface.px(1.0).max(1) as u32);
        for (minor, label) in &f.price_labels {
            let y = f.y_of(*minor);
            self.root.draw(&PathElement::new(
                vec![self.point(f.left, y), self.point(f.right, y)],
                thin,
            ))?;
            self.root.draw(&Text::new(
                label.clone(),
                self.point(f.left - 6.0, y),
                self.font(HPos::Right, VPos::Center),
            ))?;
        }
        for (t, label) in &f.time_labels {
            let x = f.x_of(*t);
            self.root.draw(&PathElement::new(
                vec![self.point(x, f.top), self.point(x, f.bottom)],
                thin,
            ))?;
            // Labels near an edge are anchored inside it, so none is cut off.
            let h = if x - f.left < 30.0 {
                HPos::Left
            } else if f.right - x < 30.0 {
                HPos::Right
            } else {
                HPos::Center
            };
            self.root.draw(&Text::new(
                label.clone(),
                self.point(x, f.bottom + 5.0),
                self.font(h, VPos::Top),
            ))?;
        }
        Ok(())
    }

    /// The min/max band of consecutive priced buckets.
    fn band(&self, buckets: &[Bucket]) -> DrawResult {
        let f = self.frame;
        let prices: Vec<(&Bucket, &Ohlc)> = buckets
            .iter()
            .filter_map(|b| Some((b, b.prices()?)))
            .collect();
        let top = prices.iter().flat_map(|(b, p)| {
            [
                self.point(f.x_of(b.start.as_millis()), f.y_of(p.max)),
                self.point(f.x_of(b.end.as_millis()), f.y_of(p.max)),
            ]
        });
        let bottom = prices.iter().rev().flat_map(|(b, p)| {
            [
                self.point(f.x_of(b.end.as_millis()), f.y_of(p.min)),
                self.point(f.x_of(b.start.as_millis()), f.y_of(p.min)),
            ]
        });
        self.root.draw(&Polygon::new(
            top.chain(bottom).collect::<Vec<_>>(),
            BAND.filled(),
        ))
    }

    /// The close price as a step line: flat across each bucket, vertical between them.
    fn line(&self, buckets: &[Bucket]) -> DrawResult {
        let f = self.frame;
        let points: Vec<(i32, i32)> = buckets
            .iter()
            .filter_map(|b| Some((b, b.prices()?.close)))
            .flat_map(|(b, close)| {
                [
                    self.point(f.x_of(b.start.as_millis()), f.y_of(close)),
                    self.point(f.x_of(b.end.as_millis()), f.y_of(close)),
                ]
            })
            .collect();
        let width = self.surface.px(2.0).max(1) as u32;
        self.root
            .draw(&PathElement::new(points, LINE.stroke_width(width)))
    }

    fn axes(&self) -> DrawResult {
        let f = self.frame;
        let style = AXIS.stroke_width(self.surface.px(1.0).max(1) as u32);
        self.root.draw(&PathElement::new(
            vec![
                self.point(f.left, f.top),
                self.point(f.left, f.bottom),
                self.point(f.right, f.bottom),
            ],
            style,
        ))
    }
}

#[cfg(test)]
mod tests {
    use pricewatch_core::history::Period;
    use pricewatch_core::{Currency, Timestamp};

    use super::*;

    const DAY: i64 = 86_400_000;
    const T0: i64 = 1_704_067_200_000; // 2024-01-01

    fn priced(day: i64, close: i64) -> Bucket {
        Bucket {
            start: Timestamp(T0 + day * DAY),
            end: Timestamp(T0 + (day + 1) * DAY),
            value: BucketValue::Prices(Ohlc {
                open: close,
                close,
                min: close - 100,
                max: close + 100,
                avg: close,
            }),
        }
    }

    fn gap(day: i64) -> Bucket {
        Bucket {
            start: Timestamp(T0 + day * DAY),
            end: Timestamp(T0 + (day + 1) * DAY),
            value: BucketValue::Gap {
                gap: GapReason::OutOfStock,
            },
        }
    }

    fn chart() -> Chart {
        Chart {
            currency: Currency::Eur,
            period: Period::Days30,
            granularity: Granularity::Daily,
            start: Timestamp(T0),
            end: Timestamp(T0 + 5 * DAY),
            downsampled: false,
            buckets: vec![
                priced(0, 129_999),
                priced(1, 119_999),
                gap(2),
                gap(3),
                priced(4, 99_999),
            ],
            stats: None,
        }
    }

    #[test]
    fn runs_stop_at_gaps() {
        assert_eq!(priced_runs(&chart().buckets), vec![0..2, 4..5]);
        assert_eq!(priced_runs(&[gap(0)]), Vec::<Range<usize>>::new());
    }

    #[test]
    fn the_read_out_names_the_bucket_under_the_pointer() {
        let chart = chart();
        let format = PriceFormat::new(Currency::Eur, None).unwrap();
        let frame = layout(&chart, 640.0, 320.0, &format);
        let middle_of = |day: i64| frame.x_of(T0 + day * DAY + DAY / 2);

        let second = readout(&chart, &frame, &format, middle_of(1)).unwrap();
        assert_eq!(second.index, 1);
        assert_eq!(second.date, "2024-01-02");
        assert_eq!(second.price.as_deref(), Some("1.199,99\u{A0}€"));
        assert_eq!(second.low.as_deref(), Some("1.198,99\u{A0}€"));
        assert!(second.left <= middle_of(1) && middle_of(1) <= second.right);

        let out = readout(&chart, &frame, &format, middle_of(3)).unwrap();
        assert_eq!(
            (out.index, out.gap, out.price),
            (3, Some(GapReason::OutOfStock), None)
        );

        assert_eq!(readout(&chart, &frame, &format, frame.left - 2.0), None);
        assert_eq!(readout(&chart, &frame, &format, frame.right + 2.0), None);
    }

    #[test]
    fn instants_find_their_bucket_and_nothing_outside() {
        let buckets = chart().buckets;
        assert_eq!(bucket_at(&buckets, T0), Some(0));
        assert_eq!(bucket_at(&buckets, T0 + DAY - 1), Some(0));
        assert_eq!(bucket_at(&buckets, T0 + DAY), Some(1));
        assert_eq!(bucket_at(&buckets, T0 - 1), None);
        assert_eq!(bucket_at(&buckets, T0 + 5 * DAY), None);
    }

    #[test]
    fn the_price_axis_spans_every_bucket() {
        assert_eq!(price_range(&chart().buckets), Some((99_899, 130_099)));
        assert_eq!(price_range(&[gap(0)]), None);
    }
}
