//! Figures for people: durations and byte counts with a unit that fits.
//!
//! Written with integer arithmetic on purpose: `format!("{:.1}", x)` pulls
//! the float formatter (Grisu, Dragon4 and their tables) into the wasm
//! bundle for a handful of labels.

/// `value` rounded to `places` decimals (at most 3), e.g. `fixed(1.25, 1)`
/// is "1.3" (halves round away from zero).
pub fn fixed(value: f64, places: u32) -> String {
    let places = places.min(3);
    let scale = 10u64.pow(places);
    let scaled = (value.abs() * scale as f64).round();
    // Out of range (or NaN) for a label: show it as 0 rather than panic.
    let scaled = if scaled.is_finite() && scaled < 1e18 {
        scaled as u64
    } else {
        0
    };
    let sign = if value < 0.0 && scaled != 0 { "-" } else { "" };
    let whole = scaled / scale;
    if places == 0 {
        return format!("{sign}{whole}");
    }
    let fraction = scaled % scale;
    format!("{sign}{whole}.{fraction:0width$}", width = places as usize)
}

/// `value` with at most 3 decimals and no trailing zeros: "0.7", "1", "0.125".
pub fn short(value: f64) -> String {
    let text = fixed(value, 3);
    let text = text.trim_end_matches('0').trim_end_matches('.');
    match text {
        "" | "-" => "0".to_owned(),
        t => t.to_owned(),
    }
}

/// A duration in seconds, shown with a unit that fits it.
pub fn duration(seconds: f64) -> String {
    if seconds < 1.0 {
        format!("{} ms", fixed(seconds * 1e3, 0))
    } else if seconds < 120.0 {
        format!("{} s", fixed(seconds, 2))
    } else if seconds < 7_200.0 {
        format!("{} min", fixed(seconds / 60.0, 0))
    } else {
        format!("{} h", fixed(seconds / 3_600.0, 1))
    }
}

/// A size in bytes as KB or MB (1024-based), one decimal.
pub fn bytes(bytes: f64) -> String {
    if bytes >= 1_048_576.0 {
        format!("{} MB", fixed(bytes / 1_048_576.0, 1))
    } else {
        format!("{} KB", fixed(bytes / 1024.0, 1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_matches_the_float_formatter_away_from_ties() {
        for value in [
            0.0, 0.04, 0.06, 1.0, 9.94, 9.96, 12.345_67, 1_234.56, 99_999.99,
        ] {
            for places in 0..=3u32 {
                assert_eq!(
                    fixed(value, places),
                    format!("{value:.prec$}", prec = places as usize),
                    "{value} with {places} places"
                );
            }
        }
    }

    #[test]
    fn fixed_handles_signs_and_nonsense() {
        assert_eq!(fixed(-2.25, 1), "-2.3");
        assert_eq!(fixed(-0.01, 1), "0.0");
        assert_eq!(fixed(f64::NAN, 1), "0.0");
        assert_eq!(fixed(f64::INFINITY, 0), "0");
        assert_eq!(fixed(1.5, 9), "1.500");
    }

    #[test]
    fn short_drops_trailing_zeros() {
        assert_eq!(short(f64::from(0.7f32)), "0.7");
        assert_eq!(short(1.0), "1");
        assert_eq!(short(0.125), "0.125");
        assert_eq!(short(0.0), "0");
        assert_eq!(short(10.0), "10");
        assert_eq!(short(-1.5), "-1.5");
    }

    #[test]
    fn durations_pick_a_unit() {
        assert_eq!(duration(0.0123), "12 ms");
        assert_eq!(duration(0.9996), "1000 ms");
        assert_eq!(duration(4.256), "4.26 s");
        assert_eq!(duration(150.0), "3 min");
        assert_eq!(duration(9_000.0), "2.5 h");
    }

    #[test]
    fn byte_counts_pick_a_unit() {
        assert_eq!(bytes(0.0), "0.0 KB");
        assert_eq!(bytes(1536.0), "1.5 KB");
        assert_eq!(bytes(1_048_575.0), "1024.0 KB");
        assert_eq!(bytes(5.5 * 1_048_576.0), "5.5 MB");
    }
}
