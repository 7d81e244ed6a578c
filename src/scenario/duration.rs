//! Durations written the way people say them: `"90m"`, `"24h"`, `"1h30m"`, `"2.5s"`, `"500ms"`.

use crate::engine::SimTime;

/// Parses a duration into milliseconds. Units: `ms`, `s`, `m`, `h`, `d`; parts may be chained
/// (`1h30m`) and may have decimals (`2.5s`). Results must fit in whole milliseconds.
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
    // About 292 million years: anything past this would overflow u64 milliseconds downstream.
    if !total.is_finite() || total >= 9.0e18 {
        return Err(format!("`{s}` is too long a duration"));
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
}
