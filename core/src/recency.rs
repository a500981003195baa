//! How long ago a conversation was last updated, as the sidebar groups it:
//! Today, Yesterday, Previous 7 days, Previous 30 days, then by month,
//! counted in the user's local calendar days.

const DAY: f64 = 86_400.0;

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// A sidebar group by recency, newest first in declaration order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Recency {
    /// The same local day as now, or later (a clock set back).
    Today,
    Yesterday,
    /// 2 to 7 days before today.
    Previous7Days,
    /// 8 to 30 days before today.
    Previous30Days,
    /// Older: the local calendar month, `month` 1 to 12.
    Month {
        year: i64,
        month: u8,
    },
}

impl Recency {
    /// The group's heading: "Today", …, "October 2026".
    pub fn label(self) -> String {
        match self {
            Self::Today => "Today".into(),
            Self::Yesterday => "Yesterday".into(),
            Self::Previous7Days => "Previous 7 days".into(),
            Self::Previous30Days => "Previous 30 days".into(),
            Self::Month { year, month } => {
                format!("{} {year}", MONTHS[usize::from(month.clamp(1, 12)) - 1])
            }
        }
    }
}

/// The group of a conversation updated at `updated` (seconds since the
/// epoch), seen at `now`, where local time is UTC plus
/// `utc_offset_minutes` (east positive: +60 in Paris in winter).
pub fn recency(updated: f64, now: f64, utc_offset_minutes: i32) -> Recency {
    let offset = f64::from(utc_offset_minutes) * 60.0;
    let local_day = |seconds: f64| ((seconds + offset) / DAY).floor() as i64;
    let day = local_day(updated);
    match local_day(now) - day {
        ..=0 => Recency::Today,
        1 => Recency::Yesterday,
        2..=7 => Recency::Previous7Days,
        8..=30 => Recency::Previous30Days,
        _ => {
            let (year, month, _) = civil_from_days(day);
            Recency::Month { year, month }
        }
    }
}

/// Seconds from `now` to the start of the next local day (where local
/// time is UTC plus `utc_offset_minutes`): when the sidebar's groups next
/// change by themselves.
pub fn until_next_day(now: f64, utc_offset_minutes: i32) -> f64 {
    let local = now + f64::from(utc_offset_minutes) * 60.0;
    // Not `rem_euclid`: a float remainder is a libm call in wasm (~1 KB).
    DAY - (local - (local / DAY).floor() * DAY)
}

/// The proleptic Gregorian (year, month 1–12, day 1–31) of a count of
/// days since 1970-01-01 (Howard Hinnant's algorithm, so no date library
/// is needed).
pub fn civil_from_days(days: i64) -> (i64, u8, u8) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month as u8, day as u8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_next_local_day_starts_at_local_midnight() {
        // 14 Oct 2026 23:59:50 in New York (UTC-4) is 03:59:50 UTC.
        let now = 1_792_036_790.0;
        assert_eq!(until_next_day(now, -240), 10.0);
        // In UTC it is nearly four a.m.: twenty hours to go.
        assert_eq!(
            until_next_day(now, 0),
            DAY - (3.0 * 3600.0 + 59.0 * 60.0 + 50.0)
        );
        // East of UTC (+5:30), 09:29:50 local.
        assert_eq!(
            until_next_day(now, 330),
            DAY - (9.0 * 3600.0 + 29.0 * 60.0 + 50.0)
        );
        // At midnight itself, a whole day; and what it says is a new day.
        let midnight = now + 10.0;
        assert_eq!(until_next_day(midnight, -240), DAY);
        let updated = now - 60.0;
        assert_eq!(recency(updated, now, -240), Recency::Today);
        assert_eq!(recency(updated, midnight, -240), Recency::Yesterday);
    }

    /// Seconds since the epoch of a UTC date and time.
    fn utc(year: i64, month: i64, day: i64, hour: i64, minute: i64) -> f64 {
        // Days from the civil date, the inverse of civil_from_days, by
        // search: slow and obviously right, for tests only.
        let mut days = (year - 1970) * 365;
        while civil_from_days(days) > (year, month as u8, day as u8) {
            days -= 1;
        }
        while civil_from_days(days) < (year, month as u8, day as u8) {
            days += 1;
        }
        (days * 86_400 + hour * 3_600 + minute * 60) as f64
    }

    #[test]
    fn civil_dates_round_a_leap_day_and_the_epoch() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
        assert_eq!(civil_from_days(19_782), (2024, 2, 29));
        assert_eq!(civil_from_days(19_783), (2024, 3, 1));
    }

    #[test]
    fn midnight_divides_today_from_yesterday() {
        let now = utc(2026, 10, 15, 9, 0);
        assert_eq!(recency(utc(2026, 10, 15, 0, 0), now, 0), Recency::Today);
        assert_eq!(
            recency(utc(2026, 10, 14, 23, 59), now, 0),
            Recency::Yesterday
        );
        assert_eq!(recency(utc(2026, 10, 14, 0, 0), now, 0), Recency::Yesterday);
        assert_eq!(
            recency(utc(2026, 10, 13, 23, 59), now, 0),
            Recency::Previous7Days
        );
        // Just after midnight, a minute ago was yesterday.
        let after_midnight = utc(2026, 10, 15, 0, 0) + 30.0;
        assert_eq!(
            recency(after_midnight - 60.0, after_midnight, 0),
            Recency::Yesterday
        );
    }

    #[test]
    fn seven_and_thirty_days_are_the_edges_of_their_groups() {
        let now = utc(2026, 10, 31, 12, 0);
        assert_eq!(
            recency(utc(2026, 10, 24, 0, 0), now, 0),
            Recency::Previous7Days
        );
        assert_eq!(
            recency(utc(2026, 10, 23, 23, 59), now, 0),
            Recency::Previous30Days
        );
        assert_eq!(
            recency(utc(2026, 10, 1, 0, 0), now, 0),
            Recency::Previous30Days
        );
        assert_eq!(
            recency(utc(2026, 9, 30, 23, 59), now, 0),
            Recency::Month {
                year: 2026,
                month: 9
            }
        );
    }

    #[test]
    fn older_ones_go_by_their_local_month() {
        let now = utc(2026, 3, 15, 12, 0);
        assert_eq!(
            recency(utc(2026, 2, 1, 0, 0), now, 0).label(),
            "February 2026"
        );
        assert_eq!(
            recency(utc(2026, 1, 31, 23, 59), now, 0).label(),
            "January 2026"
        );
        assert_eq!(
            recency(utc(2025, 12, 31, 23, 59), now, 0).label(),
            "December 2025"
        );
        assert_eq!(recency(0.0, now, 0).label(), "January 1970");
    }

    #[test]
    fn a_negative_offset_counts_days_and_months_west_of_utc() {
        // New York in winter, UTC-5: 03:00 UTC on the 15th is 22:00 on the
        // 14th there.
        let offset = -300;
        let now = utc(2026, 1, 15, 3, 0);
        assert_eq!(recency(utc(2026, 1, 14, 6, 0), now, offset), Recency::Today);
        assert_eq!(
            recency(utc(2026, 1, 14, 4, 59), now, offset),
            Recency::Yesterday
        );
        // 1 December 02:00 UTC is still 30 November there.
        assert_eq!(
            recency(utc(2025, 12, 1, 2, 0), now, offset).label(),
            "November 2025"
        );
        assert_eq!(
            recency(utc(2025, 12, 1, 2, 0), now, 0).label(),
            "December 2025"
        );
    }

    #[test]
    fn a_positive_offset_counts_days_and_months_east_of_utc() {
        // Tokyo, UTC+9: 16:00 UTC on the 14th is 01:00 on the 15th there.
        let offset = 540;
        let now = utc(2026, 1, 15, 12, 0);
        assert_eq!(
            recency(utc(2026, 1, 14, 16, 0), now, offset),
            Recency::Today
        );
        assert_eq!(
            recency(utc(2026, 1, 14, 14, 59), now, offset),
            Recency::Yesterday
        );
        assert_eq!(
            recency(utc(2026, 1, 14, 14, 59), now, 0),
            Recency::Yesterday
        );
        assert_eq!(recency(utc(2026, 1, 14, 16, 0), now, 0), Recency::Yesterday);
        // 30 November 20:00 UTC is already 1 December there.
        assert_eq!(
            recency(utc(2025, 11, 30, 20, 0), now, offset).label(),
            "December 2025"
        );
    }

    #[test]
    fn a_time_in_the_future_is_today() {
        let now = utc(2026, 10, 15, 9, 0);
        assert_eq!(recency(now + 3.0 * DAY, now, 0), Recency::Today);
        assert_eq!(recency(now + 60.0, now, -720), Recency::Today);
    }

    #[test]
    fn labels_name_each_group() {
        assert_eq!(Recency::Today.label(), "Today");
        assert_eq!(Recency::Yesterday.label(), "Yesterday");
        assert_eq!(Recency::Previous7Days.label(), "Previous 7 days");
        assert_eq!(Recency::Previous30Days.label(), "Previous 30 days");
        assert_eq!(
            Recency::Month {
                year: 2026,
                month: 10
            }
            .label(),
            "October 2026"
        );
    }
}
