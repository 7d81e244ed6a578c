//! Durations written the way people say them: `"90m"`, `"24h"`, `"1h30m"`, `"2.5s"`, `"500ms"`.

use crate::engine::SimTime;

/// The longest duration any key accepts: 100 years (36525 days), in milliseconds.
///
/// A run lasts at most 366 days, so nothing longer can matter; and the bound keeps every sum or
/// product of durations the model forms (now + delay, period × evaluation periods, ...) far
/// inside `u64` milliseconds (100 years × 5.8 million still fits) and every duration exact in
/// an `f64` (below 2^53 ms).
pub const MAX_DURATION_MS: SimTime = 36_525 * 86_400_000;

/// Parses a duration into milliseconds. Units: `ms`, `s`, `m`, `h`, `d`; parts may be chained
/// (`1h30m`) and may have decimals (`2.5s`). Results must fit in whole milliseconds and be at
/// most [`MAX_DURATION_MS`].
pub fn parse_duration(text: &str) -> Result<SimTime, String> {
    let s = text.trim();
    if s.is_empty() {
        return Err("empty duration: write a number with a unit, e.g. \"90s\", \"15m\", \"24h\"".into());
    }
    let hint =
        || format!("`{s}` is not a duration: write a number with a unit (ms, s, m, h, d), e.g. \"90s\", \"1h30m\"");
    let mut total: f64 = 0.0;
    let mut rest = s;
    while !rest.is_empty() {
        let num_len = rest.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(rest.len());
        if num_len == 0 {
            return Err(hint());
        }
        let number: f64 = rest[..num_len].parse().map_err(|_| hint())?;
        rest = &rest[num_len..];
        let unit_len = rest.find(|c: char| c.is_ascii_digit() || c == '.').unwrap_or(rest.len());
        let unit = rest[..unit_len].trim();
        rest = &rest[unit_len..];
        let scale = match unit {
            "ms" => 1.0,
            "s" | "sec" => 1_000.0,
            "m" | "min" => 60_000.0,
            "h" => 3_600_000.0,
            "d" => 86_400_000.0,
            "" => return Err(hint()),
            other => return Err(format!("unknown unit `{other}` in `{s}`: use ms, s, m, h or d")),
        };
        total += number * scale;
    }
    if !total.is_finite() || total > MAX_DURATION_MS as f64 {
        return Err(format!("`{s}` is too long a duration: at most 36525d (100 years)"));
    }
    let ms = total.round();
    if (ms - total).abs() > 1e-6 {
        return Err(format!("`{s}` is finer than a millisecond, the simulator's resolution"));
    }
    Ok(ms as SimTime)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_human_units() {
        assert_eq!(parse_duration("90m"), Ok(90 * 60_000));
        assert_eq!(parse_duration("24h"), Ok(24 * 3_600_000));
        assert_eq!(parse_duration("1h30m"), Ok(90 * 60_000));
        assert_eq!(parse_duration("2.5s"), Ok(2_500));
        assert_eq!(parse_duration("500ms"), Ok(500));
        assert_eq!(parse_duration("0s"), Ok(0));
        assert_eq!(parse_duration("1d"), Ok(86_400_000));
    }

    #[test]
    fn refuses_what_is_not_a_duration() {
        assert!(parse_duration("90").is_err());
        assert!(parse_duration("abc").is_err());
        assert!(parse_duration("5 parsecs").is_err());
        assert!(parse_duration("").is_err());
        assert!(parse_duration("0.0001s").is_err());
        assert!(parse_duration("99999999999999999d").is_err());
    }

    #[test]
    fn refuses_what_would_overflow_u64_milliseconds() {
        assert_eq!(parse_duration("36525d"), Ok(MAX_DURATION_MS));
        for text in [
            "36525d1ms",
            "18446744073709551616ms",
            "18446744073709551615ms",
            "9223372036854775808ms",
            "1e309s",
            "100000000h",
            "1.8e19ms",
            &"9".repeat(400),
            &format!("{}s", "9".repeat(400)),
            &format!("{}.5s", "9".repeat(400)),
        ] {
            let e = parse_duration(text).err().unwrap_or_else(|| panic!("{text} accepted"));
            assert!(!e.is_empty());
        }
        // Many small parts add up exactly.
        assert_eq!(parse_duration(&"1ms".repeat(1000)), Ok(1000));
    }
}
