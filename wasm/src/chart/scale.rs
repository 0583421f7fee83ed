//! Axis scales: "nice" price ticks in minor units, and calendar-aligned time ticks with
//! labels that say as much as the step needs.

use super::dates::{month_start, Civil, DAY_MS, HOUR_MS};

/// The price axis: its bounds and tick values, in minor units.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PriceScale {
    /// The axis bottom (a tick).
    pub(crate) lo: i64,
    /// The axis top (a tick), above `lo`.
    pub(crate) hi: i64,
    /// Every tick from `lo` to `hi`, one `step` apart.
    pub(crate) ticks: Vec<i64>,
}

/// An axis over prices `min..=max` with about `target` intervals, padded so the line never
/// runs along the frame, and kept at or above zero when the prices are.
pub(crate) fn price_scale(min: i64, max: i64, target: usize) -> PriceScale {
    let (mut lo, mut hi) = (min.min(max), min.max(max));
    if lo == hi {
        // A flat history: give it room above and below instead of a zero-height axis.
        let pad = (lo.saturating_abs() / 10).max(1);
        lo = lo.saturating_sub(pad);
        hi = hi.saturating_add(pad);
    }
    let pad = hi.saturating_sub(lo) / 20;
    let (lo, hi) = (lo.saturating_sub(pad), hi.saturating_add(pad));
    let intervals = i64::try_from(target.max(1)).unwrap_or(1);
    let step = nice_step(hi.saturating_sub(lo) / intervals);
    let mut bottom = lo.div_euclid(step).saturating_mul(step);
    if min >= 0 && bottom < 0 {
        bottom = 0;
    }
    let top = hi
        .div_euclid(step)
        .saturating_add(i64::from(hi.rem_euclid(step) != 0))
        .saturating_mul(step);
    let top = top.max(bottom.saturating_add(step));
    let ticks = std::iter::successors(Some(bottom), |t| {
        t.checked_add(step).filter(|next| *next <= top)
    })
    .take(64)
    .collect();
    PriceScale {
        lo: bottom,
        hi: top,
        ticks,
    }
}

/// The smallest of 1, 2, 2.5, 5 × 10^k (2.5 only from 10^1 up, steps are whole minor units)
/// that is at least `raw` (and at least 1): steps a reader adds up without effort.
fn nice_step(raw: i64) -> i64 {
    let raw = raw.max(1);
    let mut magnitude: i64 = 1;
    while magnitude.saturating_mul(10) <= raw {
        magnitude = magnitude.saturating_mul(10);
    }
    [(1, 1), (2, 1), (5, 2), (5, 1), (10, 1)]
        .into_iter()
        .filter(|(_, den)| magnitude % den == 0)
        .map(|(num, den)| magnitude.saturating_mul(num) / den)
        .find(|step| *step >= raw)
        .unwrap_or(magnitude)
}

/// A tick spacing on the time axis.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TimeStep {
    /// A fixed span; day multiples start at midnight UTC, weeks on Mondays.
    Millis(i64),
    /// Calendar months (a year is 12).
    Months(i64),
}

impl TimeStep {
    /// About how long the step is, to count ticks.
    fn approx_ms(self) -> i64 {
        match self {
            TimeStep::Millis(ms) => ms,
            TimeStep::Months(n) => n * 30 * DAY_MS,
        }
    }
}

const STEPS: [TimeStep; 17] = [
    TimeStep::Millis(HOUR_MS),
    TimeStep::Millis(2 * HOUR_MS),
    TimeStep::Millis(3 * HOUR_MS),
    TimeStep::Millis(6 * HOUR_MS),
    TimeStep::Millis(12 * HOUR_MS),
    TimeStep::Millis(DAY_MS),
    TimeStep::Millis(2 * DAY_MS),
    TimeStep::Millis(7 * DAY_MS),
    TimeStep::Millis(14 * DAY_MS),
    TimeStep::Months(1),
    TimeStep::Months(2),
    TimeStep::Months(3),
    TimeStep::Months(6),
    TimeStep::Months(12),
    TimeStep::Months(24),
    TimeStep::Months(60),
    TimeStep::Months(120),
];

/// 1970-01-05, the first Monday after the epoch: weeks start on Mondays (ISO), as the
/// server's weekly buckets do.
const FIRST_MONDAY_MS: i64 = 4 * DAY_MS;

/// Ticks in `[t0, t1]`, at most `max_ticks` of them where a calendar step allows, each
/// with its label.
pub(crate) fn time_ticks(t0: i64, t1: i64, max_ticks: usize) -> Vec<(i64, String)> {
    let span = t1.saturating_sub(t0).max(1);
    let max_ticks = i64::try_from(max_ticks.max(1)).unwrap_or(1);
    let step = STEPS
        .into_iter()
        .find(|s| span / s.approx_ms() <= max_ticks)
        .unwrap_or(TimeStep::Months(120));
    let at: Vec<i64> = match step {
        TimeStep::Millis(ms) => {
            let origin = if ms % (7 * DAY_MS) == 0 {
                FIRST_MONDAY_MS
            } else {
                0
            };
            let k = (t0 - origin).div_euclid(ms) + i64::from((t0 - origin).rem_euclid(ms) != 0);
            (0..=max_ticks + 1)
                .map(|i| origin + (k + i) * ms)
                .take_while(|t| *t <= t1)
                .collect()
        }
        TimeStep::Months(n) => {
            let first = Civil::of(t0);
            let mut index = first.year * 12 + first.month - 1;
            index += (n - index.rem_euclid(n)) % n;
            (0..=max_ticks + 1)
                .map(|i| month_start(0, index + i * n + 1))
                .skip_while(|t| *t < t0)
                .take_while(|t| *t <= t1)
                .collect()
        }
    };
    at.into_iter().map(|t| (t, label(t, step))).collect()
}

fn label(t: i64, step: TimeStep) -> String {
    let c = Civil::of(t);
    match step {
        // Sub-day steps say the day at midnight, so a two-day chart still names its days.
        TimeStep::Millis(ms) if ms < DAY_MS && t.rem_euclid(DAY_MS) == 0 => {
            format!("{:02}-{:02}", c.month, c.day)
        }
        TimeStep::Millis(ms) if ms < DAY_MS => c.time(),
        TimeStep::Millis(_) => c.date(),
        TimeStep::Months(n) if n < 12 => c.month(),
        TimeStep::Months(_) => format!("{:04}", c.year),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn price_ticks_are_round_numbers_around_the_prices() {
        let scale = price_scale(119_900, 129_999, 5);
        assert!(scale.lo <= 119_900 && scale.hi >= 129_999, "{scale:?}");
        assert_eq!(scale.ticks.first(), Some(&scale.lo));
        assert_eq!(scale.ticks.last(), Some(&scale.hi));
        let steps: Vec<i64> = scale.ticks.windows(2).map(|w| w[1] - w[0]).collect();
        assert!(steps.iter().all(|s| *s == 2_500), "{scale:?}");
        assert!(scale.ticks.iter().all(|t| t % 2_500 == 0), "{scale:?}");
    }

    #[test]
    fn steps_are_one_two_two_and_a_half_or_five_times_a_power_of_ten() {
        let steps: Vec<i64> = [1, 2, 3, 7, 11, 21, 26, 51, 101, 2_221, 4_000]
            .into_iter()
            .map(nice_step)
            .collect();
        assert_eq!(steps, [1, 2, 5, 10, 20, 25, 50, 100, 200, 2_500, 5_000]);
    }

    #[test]
    fn a_flat_history_gets_an_axis_with_room_and_no_negative_prices() {
        let flat = price_scale(999, 999, 4);
        assert!(flat.lo < 999 && flat.hi > 999, "{flat:?}");
        let cheap = price_scale(1, 3, 4);
        assert!(cheap.lo >= 0, "{cheap:?}");
        assert!(cheap.ticks.len() >= 2);
    }

    #[test]
    fn a_month_of_days_is_ticked_at_utc_midnights_with_dates() {
        let t0 = 1_709_211_900_000; // 2024-02-29 13:05
        let ticks = time_ticks(t0, t0 + 30 * DAY_MS, 6);
        assert!(ticks.len() <= 6 && ticks.len() >= 3, "{ticks:?}");
        assert!(ticks
            .iter()
            .all(|(t, _)| t % DAY_MS == FIRST_MONDAY_MS % DAY_MS));
        assert_eq!(ticks[0].1, "2024-03-04", "weekly ticks fall on Mondays");
    }

    #[test]
    fn a_year_is_ticked_at_month_starts_and_a_day_at_hours() {
        let t0 = 1_704_067_200_000; // 2024-01-01
        let months = time_ticks(t0, t0 + 366 * DAY_MS, 8);
        assert_eq!(months[0].1, "2024-01");
        assert!(months
            .iter()
            .all(|(t, _)| Civil::of(*t).day == 1 && t % DAY_MS == 0));
        let hours = time_ticks(t0 + HOUR_MS / 2, t0 + 2 * DAY_MS, 10);
        assert!(hours.iter().any(|(_, l)| l == "06:00"), "{hours:?}");
        assert!(
            hours.iter().any(|(_, l)| l == "01-02"),
            "midnight says the day: {hours:?}"
        );
    }

    #[test]
    fn a_decade_is_ticked_in_years() {
        let t0 = 1_262_304_000_000; // 2010-01-01
        let years = time_ticks(t0, t0 + 10 * 365 * DAY_MS, 6);
        assert!(years.iter().all(|(_, l)| l.len() == 4), "{years:?}");
        assert!(years.len() <= 6);
    }
}
