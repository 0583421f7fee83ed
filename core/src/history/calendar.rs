//! UTC calendar arithmetic for bucket boundaries: hours, days, ISO weeks (Monday first) and
//! proleptic Gregorian months, computed from day numbers without a date crate.
//!
//! The conversions are Howard Hinnant's `days_from_civil` / `civil_from_days`
//! (<https://howardhinnant.github.io/date_algorithms.html>): exact for every day an `i64`
//! millisecond timestamp can name, branch-light, and the same natively and in wasm.

use crate::time::{Span, Timestamp};

const MS_PER_HOUR: i64 = 3_600_000;
const MS_PER_DAY: i64 = 86_400_000;

/// A civil (proleptic Gregorian) UTC date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Date {
    pub(crate) year: i64,
    /// 1..=12.
    pub(crate) month: u32,
    /// 1..=31.
    pub(crate) day: u32,
}

/// Days since 1970-01-01 of a civil date.
pub(crate) fn days_from_civil(date: Date) -> i64 {
    let y = if date.month <= 2 {
        date.year - 1
    } else {
        date.year
    };
    let era = y.div_euclid(400);
    let yoe = y - era * 400; // [0, 399]
    let m = i64::from(date.month);
    let mp = if m > 2 { m - 3 } else { m + 9 }; // March is month 0: leap day last
    let doy = (153 * mp + 2) / 5 + i64::from(date.day) - 1; // [0, 365]
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy; // [0, 146096]
    era * 146_097 + doe - 719_468
}

/// The civil date of a day number (days since 1970-01-01).
pub(crate) fn civil_from_days(days: i64) -> Date {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097; // [0, 146096]
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365; // [0, 399]
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // [0, 365]
    let mp = (5 * doy + 2) / 153; // [0, 11]
    let day = doy - (153 * mp + 2) / 5 + 1; // [1, 31]
    let month = if mp < 10 { mp + 3 } else { mp - 9 }; // [1, 12]
    let year = yoe + era * 400 + i64::from(month <= 2);
    // Both are in range by construction; the casts cannot truncate.
    Date {
        year,
        month: month as u32,
        day: day as u32,
    }
}

pub(crate) fn is_leap_year(year: i64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

pub(crate) fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        2 if is_leap_year(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

fn at_day(days: i64) -> Timestamp {
    Timestamp(days.saturating_mul(MS_PER_DAY))
}

/// The civil date `t` falls on.
pub(crate) fn date_of(t: Timestamp) -> Date {
    civil_from_days(t.day_index())
}

/// Midnight UTC starting `date`.
pub(crate) fn midnight(date: Date) -> Timestamp {
    at_day(days_from_civil(date))
}

pub(crate) fn start_of_hour(t: Timestamp) -> Timestamp {
    Timestamp(t.0 - t.0.rem_euclid(MS_PER_HOUR))
}

pub(crate) fn start_of_day(t: Timestamp) -> Timestamp {
    at_day(t.day_index())
}

/// Monday 00:00 UTC of the ISO week holding `t`. ISO weeks run Monday to Sunday, so a week
/// that crosses New Year is one bucket, not two.
pub(crate) fn start_of_iso_week(t: Timestamp) -> Timestamp {
    let days = t.day_index();
    // 1970-01-01 was a Thursday: adding 3 makes Monday the zero of the weekday count.
    at_day(days - (days + 3).rem_euclid(7))
}

/// The first day of the month holding `t`, 00:00 UTC. Charts step from boundary to boundary
/// and never need it; the tests check month buckets against it.
#[cfg(test)]
pub(crate) fn start_of_month(t: Timestamp) -> Timestamp {
    let d = date_of(t);
    midnight(Date { day: 1, ..d })
}

/// The first day of the month after the one holding `t`, 00:00 UTC.
pub(crate) fn start_of_next_month(t: Timestamp) -> Timestamp {
    let d = date_of(t);
    let (year, month) = if d.month == 12 {
        (d.year + 1, 1)
    } else {
        (d.year, d.month + 1)
    };
    midnight(Date {
        year,
        month,
        day: 1,
    })
}

/// The same UTC instant one calendar year earlier; 29 February maps to 28 February.
pub(crate) fn one_year_before(t: Timestamp) -> Timestamp {
    let d = date_of(t);
    let year = d.year - 1;
    let day = d.day.min(days_in_month(year, d.month));
    let time_of_day = Span(t.0.rem_euclid(MS_PER_DAY));
    midnight(Date {
        year,
        month: d.month,
        day,
    }) + time_of_day
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[track_caller]
    fn ts(year: i64, month: u32, day: u32) -> Timestamp {
        midnight(Date { year, month, day })
    }

    #[test]
    fn the_epoch_is_day_zero_and_known_dates_round_trip() {
        assert_eq!(
            days_from_civil(Date {
                year: 1970,
                month: 1,
                day: 1
            }),
            0
        );
        assert_eq!(
            days_from_civil(Date {
                year: 2000,
                month: 3,
                day: 1
            }),
            11_017
        );
        assert_eq!(
            civil_from_days(-1),
            Date {
                year: 1969,
                month: 12,
                day: 31
            }
        );
        assert_eq!(
            civil_from_days(19_782),
            Date {
                year: 2024,
                month: 2,
                day: 29
            }
        );
    }

    #[test]
    fn leap_years_follow_the_gregorian_rule() {
        assert!(is_leap_year(2024));
        assert!(is_leap_year(2000));
        assert!(!is_leap_year(1900));
        assert!(!is_leap_year(2023));
        assert_eq!(days_in_month(2024, 2), 29);
        assert_eq!(days_in_month(2100, 2), 28);
    }

    #[test]
    fn month_boundaries_include_the_leap_day() {
        let leap_day_noon = ts(2024, 2, 29) + Span::hours(12);
        assert_eq!(start_of_month(leap_day_noon), ts(2024, 2, 1));
        assert_eq!(start_of_next_month(leap_day_noon), ts(2024, 3, 1));
        assert_eq!(
            start_of_next_month(ts(2024, 2, 1)) - ts(2024, 2, 1),
            Span::days(29)
        );
        assert_eq!(
            start_of_next_month(ts(2023, 2, 1)) - ts(2023, 2, 1),
            Span::days(28)
        );
        assert_eq!(start_of_next_month(ts(2023, 12, 31)), ts(2024, 1, 1));
    }

    #[test]
    fn iso_weeks_start_on_monday_even_across_new_year() {
        // Thursday 2020-12-31 belongs to the week starting Monday 2020-12-28 (ISO 2020-W53).
        assert_eq!(
            start_of_iso_week(ts(2020, 12, 31) + Span::hours(23)),
            ts(2020, 12, 28)
        );
        // Sunday 2021-01-03 is still in that week; Monday 2021-01-04 starts 2021-W01.
        assert_eq!(start_of_iso_week(ts(2021, 1, 3)), ts(2020, 12, 28));
        assert_eq!(start_of_iso_week(ts(2021, 1, 4)), ts(2021, 1, 4));
        // Before the epoch too: 1969-12-31 (Wednesday) is in the week of Monday 1969-12-29.
        assert_eq!(start_of_iso_week(ts(1969, 12, 31)), ts(1969, 12, 29));
    }

    #[test]
    fn a_year_back_from_a_leap_day_is_the_last_day_of_february() {
        let t = ts(2024, 2, 29) + Span::minutes(90);
        assert_eq!(one_year_before(t), ts(2023, 2, 28) + Span::minutes(90));
        assert_eq!(one_year_before(ts(2024, 3, 1)), ts(2023, 3, 1));
    }

    proptest! {
        #[test]
        fn civil_dates_round_trip(days in -1_000_000_i64..1_000_000) {
            let date = civil_from_days(days);
            prop_assert!((1..=12).contains(&date.month));
            prop_assert!(date.day >= 1 && date.day <= days_in_month(date.year, date.month));
            prop_assert_eq!(days_from_civil(date), days);
        }

        #[test]
        fn consecutive_days_are_consecutive_dates(days in -1_000_000_i64..1_000_000) {
            let (a, b) = (civil_from_days(days), civil_from_days(days + 1));
            let next_in_month = b.year == a.year && b.month == a.month && b.day == a.day + 1;
            let first_of_next = b.day == 1 && a.day == days_in_month(a.year, a.month);
            prop_assert!(next_in_month || first_of_next);
        }

        #[test]
        fn week_starts_are_mondays_at_most_six_days_back(ms in -10_000_000_000_000_i64..10_000_000_000_000) {
            let t = Timestamp(ms);
            let monday = start_of_iso_week(t);
            prop_assert!(monday <= t && t - monday < Span::days(7));
            // 1970-01-05 was a Monday.
            prop_assert_eq!((monday.day_index() - 4).rem_euclid(7), 0);
            prop_assert_eq!(monday, start_of_day(monday));
        }

        #[test]
        fn month_starts_bracket_the_instant(ms in -10_000_000_000_000_i64..10_000_000_000_000) {
            let t = Timestamp(ms);
            let (start, next) = (start_of_month(t), start_of_next_month(t));
            prop_assert!(start <= t && t < next);
            prop_assert_eq!(date_of(start).day, 1);
            prop_assert_eq!(date_of(next).day, 1);
            let len = (next - start).as_millis() / MS_PER_DAY;
            prop_assert!((28..=31).contains(&len));
        }
    }
}
