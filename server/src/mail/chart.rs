//! A small price chart as a PNG, embedded inline in alert emails.
//!
//! Drawn with plotters' bitmap backend and encoded with `png`: no system fonts, no image
//! library, so it renders the same on any server. The chart has no text on purpose (text
//! would need a font); the email's body carries the figures, the chart the shape: the price
//! as a step line with gaps kept as gaps, the user's threshold as a red line, and the
//! all-time low as a dot.

use plotters::prelude::*;

/// Pixels.
pub const WIDTH: u32 = 480;
pub const HEIGHT: u32 = 160;

/// One stretch of history: a price (minor units) from `from` to `to` (ms), or a gap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stretch {
    pub from: i64,
    pub to: i64,
    /// `None`: no price (out of stock or not shown).
    pub price: Option<i64>,
}

/// Why a chart could not be drawn.
#[derive(Debug, thiserror::Error)]
pub enum ChartError {
    #[error("no price to draw")]
    Empty,
    #[error("drawing: {0}")]
    Draw(String),
    #[error("encoding PNG: {0}")]
    Encode(#[from] png::EncodingError),
}

fn draw_err(e: impl std::fmt::Display) -> ChartError {
    ChartError::Draw(e.to_string())
}

/// Render `history` (oldest first) and an optional threshold to PNG bytes.
pub fn render(history: &[Stretch], threshold: Option<i64>) -> Result<Vec<u8>, ChartError> {
    let prices: Vec<i64> = history.iter().filter_map(|s| s.price).collect();
    let (Some(&lo), Some(&hi)) = (prices.iter().min(), prices.iter().max()) else {
        return Err(ChartError::Empty);
    };
    let start = history
        .iter()
        .map(|s| s.from)
        .min()
        .ok_or(ChartError::Empty)?;
    let end = history
        .iter()
        .map(|s| s.to)
        .max()
        .ok_or(ChartError::Empty)?
        .max(start + 1);
    let y_lo = threshold.map_or(lo, |t| t.min(lo));
    let y_hi = threshold.map_or(hi, |t| t.max(hi));
    // 10 % headroom so the line never sits on the frame.
    let pad = ((y_hi - y_lo) / 10).max(1);
    let (y_lo, y_hi) = (y_lo - pad, y_hi + pad);

    let mut pixels = vec![255u8; (WIDTH * HEIGHT * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut pixels, (WIDTH, HEIGHT)).into_drawing_area();
        root.fill(&WHITE).map_err(draw_err)?;
        let mut chart = ChartBuilder::on(&root)
            .margin(6)
            .build_cartesian_2d(start..end, y_lo..y_hi)
            .map_err(draw_err)?;
        let line = RGBColor(0x1f, 0x6f, 0xd1);
        // One series per run of prices, so that gaps stay gaps.
        let mut run: Vec<(i64, i64)> = Vec::new();
        let mut runs = Vec::new();
        for s in history {
            match s.price {
                Some(p) => {
                    run.push((s.from, p));
                    run.push((s.to, p));
                }
                None if !run.is_empty() => runs.push(std::mem::take(&mut run)),
                None => {}
            }
        }
        if !run.is_empty() {
            runs.push(run);
        }
        for run in runs {
            let fill = line.mix(0.12);
            chart
                .draw_series(AreaSeries::new(run.iter().copied(), y_lo, fill))
                .map_err(draw_err)?;
            chart
                .draw_series(LineSeries::new(run, line.stroke_width(2)))
                .map_err(draw_err)?;
        }
        if let Some(t) = threshold {
            chart
                .draw_series(LineSeries::new(
                    [(start, t), (end, t)],
                    RGBColor(0xd1, 0x3c, 0x1f).stroke_width(1),
                ))
                .map_err(draw_err)?;
        }
        if let Some(low) = history.iter().rev().find(|s| s.price == Some(lo)) {
            chart
                .draw_series([Circle::new(
                    (low.from, lo),
                    4,
                    RGBColor(0x1a, 0x8f, 0x3c).filled(),
                )])
                .map_err(draw_err)?;
        }
        root.present().map_err(draw_err)?;
    }
    encode(&pixels)
}

fn encode(rgb: &[u8]) -> Result<Vec<u8>, ChartError> {
    let mut out = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut out, WIDTH, HEIGHT);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder.write_header()?;
        writer.write_image_data(rgb)?;
        writer.finish()?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_history_with_a_gap_renders_to_a_png_of_the_stated_size() {
        let h = [
            Stretch {
                from: 0,
                to: 1_000,
                price: Some(10_000),
            },
            Stretch {
                from: 1_000,
                to: 2_000,
                price: None,
            },
            Stretch {
                from: 2_000,
                to: 3_000,
                price: Some(8_000),
            },
        ];

        let png_bytes = render(&h, Some(9_000)).unwrap();

        let decoder = png::Decoder::new(std::io::Cursor::new(&png_bytes));
        let reader = decoder.read_info().unwrap();
        let info = reader.info();
        assert_eq!((info.width, info.height), (WIDTH, HEIGHT));
    }

    #[test]
    fn a_history_without_any_price_has_no_chart() {
        let h = [Stretch {
            from: 0,
            to: 1,
            price: None,
        }];
        assert!(matches!(render(&h, None), Err(ChartError::Empty)));
    }
}
