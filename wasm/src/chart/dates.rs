//! UTC calendar arithmetic for axis ticks and labels, from day numbers (no date crate, no
//! JavaScript `Date`, so it is exact, testable natively, and agrees with the server's UTC
//! buckets).
//!
//! The conversions are Howard Hinnant's `days_from_civil` / `civil_from_days`
//! (<https://howardhinnant.github.io/date_algorithms.html>), exact over the whole `i64` day
//! range a chart can hold.

pub(crate) const HOUR_MS: i64 = 3_600_000;
pub(crate) const DAY_MS: i64 = 86_400_000;

/// A UTC date and time of day, to the minute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Civil {
    pub(crate) year: i64,
    /// 1..=12.
    pub(crate) month: i64,
    /// 1..=31.
    pub(crate) day: i64,
    pub(crate) hour: i64,
    pub(crate) minute: i64,
}

impl Civil {
    /// The UTC calendar time of `ms` since the Unix epoch.
    pub(crate) fn of(ms: i64) -> Civil {
        let days = ms.div_euclid(DAY_MS);
        let in_day = ms.rem_euclid(DAY_MS);
        let (year, month, day) = civil_from_days(days);
        Civil {
            year,
            month,
            day,
            hour: in_day / HOUR_MS,
            minute: in_day % HOUR_MS / 60_000,
        }
    }

    /// `2024-03-14`.
    pub(crate) fn date(&self) -> String {
        format!("{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }

    /// `2024-03`.
    pub(crate) fn month(&self) -> String {
        format!("{:04}-{:02}", self.year, self.month)
    }

    /// `13:05`.
    pub(crate) fn time(&self) -> String {
        format!("{:02}:{:02}", self.hour, self.minute)
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date.
pub(crate) fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400; // [0, 399]
    let mp = (month + 9) % 12; // March = 0
    let doy = (153 * mp + 2) / 5 + day - 1; // [0, 365]
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy; // [0, 146096]
    era * 146_097 + doe - 719_468
}

/// The proleptic Gregorian date of a day number (days since 1970-01-01).
pub(crate) fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097; // [0, 146096]
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365; // [0, 399]
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // [0, 365]
    let mp = (5 * doy + 2) / 153; // [0, 11]
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// Midnight UTC starting the first day of `month` (1..=12, may run past 12: 13 is next
/// January) of `year`.
pub(crate) fn month_start(year: i64, month: i64) -> i64 {
    let months = year * 12 + (month - 1);
    days_from_civil(months.div_euclid(12), months.rem_euclid(12) + 1, 1) * DAY_MS
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_instants_read_as_their_utc_calendar_time() {
        assert_eq!(Civil::of(0).date(), "1970-01-01");
        // 2024-02-29T13:05:00Z, a leap day.
        let leap = Civil::of(1_709_211_900_000);
        assert_eq!(
            (leap.date(), leap.time()),
            ("2024-02-29".into(), "13:05".into())
        );
        assert_eq!(Civil::of(1_735_689_600_000).date(), "2025-01-01");
        // One millisecond before the epoch is still 1969's last minute.
        let before = Civil::of(-1);
        assert_eq!(
            (before.date(), before.time()),
            ("1969-12-31".into(), "23:59".into())
        );
        assert_eq!(Civil::of(1_709_211_900_000).month(), "2024-02");
    }

    #[test]
    fn day_numbers_round_trip_over_four_centuries() {
        for days in (-146_097..146_097).step_by(7) {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days, "{y}-{m}-{d}");
        }
    }

    #[test]
    fn month_starts_roll_over_the_year() {
        assert_eq!(Civil::of(month_start(2024, 13)).date(), "2025-01-01");
        assert_eq!(Civil::of(month_start(2024, 0)).date(), "2023-12-01");
        assert_eq!(Civil::of(month_start(2024, 3)).date(), "2024-03-01");
    }
}
