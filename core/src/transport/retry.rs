//! When to try a rate-limited request again: the server's `Retry-After` if
//! it sent one (seconds or an HTTP date), else exponential backoff; and when
//! to give up.

/// Automatic retries of a 429 answer.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Backoff {
    /// Retries after the first attempt; then the error is shown.
    pub max_retries: u32,
    /// The first wait when the server names none, doubled on each retry.
    pub base_seconds: f64,
    /// No single wait is longer: a server asking for more is not retried
    /// automatically (the user can still press Retry).
    pub max_seconds: f64,
}

impl Default for Backoff {
    fn default() -> Self {
        Self {
            max_retries: 3,
            base_seconds: 1.0,
            max_seconds: 60.0,
        }
    }
}

impl Backoff {
    /// How long to wait before retry number `retry` (1 for the first), given
    /// the answer's `Retry-After` header and the time now (Unix seconds).
    /// `None`: do not retry automatically.
    pub fn delay(&self, retry: u32, retry_after: Option<&str>, now: f64) -> Option<f64> {
        if retry == 0 || retry > self.max_retries {
            return None;
        }
        let wait = match retry_after.and_then(|v| parse_retry_after(v, now)) {
            Some(asked) => asked,
            None => self.base_seconds * f64::from(1u32 << (retry - 1).min(16)),
        };
        (wait <= self.max_seconds).then_some(wait.max(0.0))
    }
}

/// `Retry-After` as seconds from `now`: either delay-seconds (`"2"`) or an
/// IMF-fixdate (`"Wed, 21 Oct 2015 07:28:00 GMT"`, RFC 9110 §10.2.3).
pub fn parse_retry_after(value: &str, now: f64) -> Option<f64> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(seconds as f64);
    }
    let at = parse_http_date(value)?;
    Some((at - now).max(0.0))
}

/// Unix seconds of an IMF-fixdate, the only date form servers must send.
fn parse_http_date(value: &str) -> Option<f64> {
    // "Wed, 21 Oct 2015 07:28:00 GMT"
    let rest = value.split_once(", ")?.1;
    let parts: Vec<&str> = rest.split(' ').collect();
    let [day, month, year, time, "GMT"] = parts.as_slice() else {
        return None;
    };
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let month = MONTHS.iter().position(|m| m == month)? as i64 + 1;
    let day: i64 = day.parse().ok()?;
    let year: i64 = year.parse().ok()?;
    let mut hms = time.split(':').map(|p| p.parse::<i64>().ok());
    let (h, m, s) = (hms.next()??, hms.next()??, hms.next()??);
    if !(1..=31).contains(&day) || h > 23 || m > 59 || s > 60 {
        return None;
    }
    Some((days_from_civil(year, month, day) * 86_400 + h * 3_600 + m * 60 + s) as f64)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
/// well-known algorithm, in our own words).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let year_of_era = y - era * 400;
    let shifted_month = (month + 9) % 12; // March is 0
    let day_of_year = (153 * shifted_month + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_in_seconds_is_honoured() {
        let backoff = Backoff::default();
        assert_eq!(backoff.delay(1, Some("2"), 0.0), Some(2.0));
        assert_eq!(backoff.delay(3, Some(" 7 "), 0.0), Some(7.0));
    }

    #[test]
    fn retry_after_as_a_date_counts_from_now() {
        // 2015-10-21 07:28:00 UTC is 1445412480.
        assert_eq!(
            parse_http_date("Wed, 21 Oct 2015 07:28:00 GMT"),
            Some(1_445_412_480.0)
        );
        let now = 1_445_412_480.0 - 5.0;
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now),
            Some(5.0)
        );
        // A date in the past means "now".
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now + 60.0),
            Some(0.0)
        );
        assert_eq!(parse_http_date("Thu, 01 Jan 1970 00:00:00 GMT"), Some(0.0));
        assert_eq!(
            parse_http_date("Tue, 29 Feb 2028 12:00:00 GMT"),
            Some(1_835_438_400.0)
        );
    }

    #[test]
    fn without_retry_after_the_wait_doubles() {
        let backoff = Backoff::default();
        let waits: Vec<_> = (1..=3).map(|r| backoff.delay(r, None, 0.0)).collect();
        assert_eq!(waits, [Some(1.0), Some(2.0), Some(4.0)]);
        // Unreadable values fall back to backoff.
        assert_eq!(backoff.delay(2, Some("soon"), 0.0), Some(2.0));
    }

    #[test]
    fn retries_stop_after_the_limit_or_a_wait_too_long() {
        let backoff = Backoff::default();
        assert_eq!(backoff.delay(4, Some("1"), 0.0), None);
        assert_eq!(backoff.delay(0, None, 0.0), None);
        assert_eq!(backoff.delay(1, Some("3600"), 0.0), None);
    }
}
