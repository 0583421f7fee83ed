//! Where a chart's parts go, in CSS pixels: the plot rectangle, the axes' scales and their
//! labels. Computed from the data and the canvas size alone, so that drawing and the
//! pointer read-out (`hover`) agree on every pixel without sharing state.

use super::scale::{price_scale, time_ticks, PriceScale};

/// Label font size, CSS px.
pub(crate) const FONT_PX: f64 = 12.0;
/// Smallest and largest canvas side accepted, CSS px: below, labels would cover the plot;
/// above, browsers refuse the backing store.
pub(crate) const MIN_WIDTH: f64 = 160.0;
pub(crate) const MIN_HEIGHT: f64 = 100.0;
pub(crate) const MAX_SIDE: f64 = 8_192.0;

const MARGIN_TOP: f64 = 10.0;
const MARGIN_RIGHT: f64 = 16.0;
/// Below the plot: the time labels.
const X_LABEL_AREA: f64 = 22.0;
/// A generous width per label character at `FONT_PX` (digits and currency signs), so a
/// price label never runs into the plot; the layout must not depend on measuring text,
/// which would differ between drawing and `hover`.
const CHAR_PX: f64 = 7.0;
const Y_LABEL_PAD: f64 = 14.0;
/// Room per label, to choose how many ticks fit.
const X_LABEL_PITCH: f64 = 95.0;
const Y_LABEL_PITCH: f64 = 45.0;

/// A chart's layout.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Frame {
    /// The plot rectangle, CSS px from the canvas's top left.
    pub(crate) left: f64,
    pub(crate) top: f64,
    pub(crate) right: f64,
    pub(crate) bottom: f64,
    /// The time range across the plot, ms; `t1 > t0`.
    pub(crate) t0: i64,
    pub(crate) t1: i64,
    /// The price axis; `None` when nothing in the range had a price.
    pub(crate) prices: Option<PriceScale>,
    /// Price ticks with their labels.
    pub(crate) price_labels: Vec<(i64, String)>,
    /// Time ticks with their labels.
    pub(crate) time_labels: Vec<(i64, String)>,
}

impl Frame {
    /// The layout of a `width` × `height` CSS px chart over `[t0, t1)` with prices
    /// `price_range` (min, max), price labels written by `label`.
    pub(crate) fn new(
        width: f64,
        height: f64,
        (t0, t1): (i64, i64),
        price_range: Option<(i64, i64)>,
        label: impl Fn(i64) -> String,
    ) -> Frame {
        // Times a JavaScript number holds exactly: arithmetic on them cannot overflow, and
        // the chart JSON never carries others.
        const MAX_SAFE: i64 = (1 << 53) - 1;
        let (t0, t1) = (t0.clamp(-MAX_SAFE, MAX_SAFE), t1.clamp(-MAX_SAFE, MAX_SAFE));
        // An empty range (a product first seen "now") still gets a drawable axis.
        let t1 = if t1 > t0 { t1 } else { t0 + 3_600_000 };
        let plot_height = (height - MARGIN_TOP - X_LABEL_AREA).max(1.0);
        let target = (plot_height / Y_LABEL_PITCH).clamp(2.0, 8.0) as usize;
        let prices = price_range.map(|(lo, hi)| price_scale(lo, hi, target));
        let price_labels: Vec<(i64, String)> = prices
            .iter()
            .flat_map(|p| p.ticks.iter().map(|t| (*t, label(*t))))
            .collect();
        let widest = price_labels
            .iter()
            .map(|(_, l)| l.chars().count())
            .max()
            .unwrap_or(0);
        let left = (widest as f64 * CHAR_PX + Y_LABEL_PAD).max(40.0);
        let right = (width - MARGIN_RIGHT).max(left + 1.0);
        let max_ticks = ((right - left) / X_LABEL_PITCH).clamp(2.0, 12.0) as usize;
        Frame {
            left,
            top: MARGIN_TOP,
            right,
            bottom: MARGIN_TOP + plot_height,
            t0,
            t1,
            prices,
            price_labels,
            time_labels: time_ticks(t0, t1, max_ticks),
        }
    }

    /// The x of instant `t`.
    pub(crate) fn x_of(&self, t: i64) -> f64 {
        let share = (t.saturating_sub(self.t0)) as f64 / (self.t1 - self.t0) as f64;
        self.left + share * (self.right - self.left)
    }

    /// The y of price `minor` (the bottom when there is no price axis).
    pub(crate) fn y_of(&self, minor: i64) -> f64 {
        match &self.prices {
            Some(p) => {
                let share = (minor.saturating_sub(p.lo)) as f64 / (p.hi - p.lo) as f64;
                self.bottom - share * (self.bottom - self.top)
            }
            None => self.bottom,
        }
    }

    /// The instant under x, `None` left or right of the plot.
    pub(crate) fn time_at(&self, x: f64) -> Option<i64> {
        if !(self.left..=self.right).contains(&x) {
            return None;
        }
        let share = (x - self.left) / (self.right - self.left);
        let t = self.t0 as f64 + share * (self.t1 - self.t0) as f64;
        Some((t.floor() as i64).clamp(self.t0, self.t1 - 1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: i64 = 86_400_000;

    fn frame() -> Frame {
        let t0 = 1_704_067_200_000;
        Frame::new(
            640.0,
            320.0,
            (t0, t0 + 30 * DAY),
            Some((9_999, 12_999)),
            |m| format!("${}.{:02}", m / 100, m % 100),
        )
    }

    #[test]
    fn the_plot_leaves_room_for_the_widest_price_label() {
        let f = frame();
        let widest = f.price_labels.iter().map(|(_, l)| l.len()).max().unwrap();
        assert!(f.left >= widest as f64 * CHAR_PX, "{f:?}");
        assert!(f.right < 640.0 && f.bottom < 320.0 && f.top > 0.0);
    }

    #[test]
    fn time_and_x_map_back_and_forth() {
        let f = frame();
        assert_eq!(f.x_of(f.t0), f.left);
        assert_eq!(f.x_of(f.t1), f.right);
        for day in [0, 7, 29] {
            let t = f.t0 + day * DAY + DAY / 2;
            let back = f.time_at(f.x_of(t)).unwrap();
            assert!((back - t).abs() < DAY / 10, "day {day}: {back} vs {t}");
        }
        assert_eq!(f.time_at(f.left - 1.0), None);
        assert_eq!(f.time_at(f.right + 1.0), None);
        assert_eq!(
            f.time_at(f.right),
            Some(f.t1 - 1),
            "the right edge is the last instant"
        );
    }

    #[test]
    fn higher_prices_are_higher_up() {
        let f = frame();
        assert!(f.y_of(12_999) < f.y_of(9_999));
        let p = f.prices.as_ref().unwrap();
        assert_eq!(f.y_of(p.lo), f.bottom);
        assert_eq!(f.y_of(p.hi), f.top);
    }

    #[test]
    fn absurd_times_are_clamped_rather_than_overflowing() {
        let f = Frame::new(300.0, 150.0, (i64::MIN, i64::MAX), Some((1, 2)), |m| {
            m.to_string()
        });
        assert!(f.t0 < f.t1);
        assert!(f.time_at(f.left).is_some());
        assert!(!f.time_labels.is_empty());
    }

    #[test]
    fn an_empty_range_and_no_prices_still_lay_out() {
        let f = Frame::new(300.0, 150.0, (5, 5), None, |m| m.to_string());
        assert!(f.t1 > f.t0);
        assert!(f.prices.is_none() && f.price_labels.is_empty());
        assert_eq!(f.y_of(123), f.bottom);
        assert!(f.right > f.left);
    }
}
