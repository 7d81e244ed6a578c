//! Simulated time: an integer count of milliseconds since the start of the run.

/// A point in simulated time, or a span of it, in milliseconds.
pub type SimTime = u64;

pub const SECOND: SimTime = 1_000;
pub const MINUTE: SimTime = 60 * SECOND;
pub const HOUR: SimTime = 60 * MINUTE;

/// Seconds with millisecond precision, as the CSV outputs print them (`75.250`). Integer
/// arithmetic only, so the text never depends on float formatting.
pub fn format_seconds(t: SimTime) -> String {
    format!("{}.{:03}", t / SECOND, t % SECOND)
}

/// `x.round()` as milliseconds for a non-negative finite `x` (negative gives 0, past `u64`
/// saturates), without the libm call: x86-64's baseline has no rounding instruction, and the
/// request path rounds twice per request. Exact: `x − trunc(x)` is representable for every
/// double, so the half-way test is the same as `f64::round`'s.
#[inline]
pub fn round_ms(x: f64) -> SimTime {
    if (0.0..SIGNED_LIMIT).contains(&x) {
        let whole = x as i64;
        return (if x - whole as f64 >= 0.5 { whole + 1 } else { whole }) as SimTime;
    }
    let whole = x as SimTime;
    if x - whole as f64 >= 0.5 { whole.saturating_add(1) } else { whole }
}

/// The whole part of a count carried as a double, as a double and as an integer: its floor and
/// `floor as u64`. The baseline x86-64 target has no rounding instruction, so `floor` is a call;
/// below 2⁶³ (and from 0) truncation through `i64` is the floor, two conversions. Anything else
/// (negative, huge, NaN) goes to `floor` and `as u64`.
#[inline]
pub fn whole_part(x: f64) -> (f64, u64) {
    if (0.0..SIGNED_LIMIT).contains(&x) {
        let whole = x as i64;
        (whole as f64, whole as u64)
    } else {
        (x.floor(), x.floor() as u64)
    }
}

/// 2⁶³: below it (and from 0) a time converts through `i64`, one instruction each way on
/// x86-64, where `u64` takes several and a branch; both rounders run a few times per request.
const SIGNED_LIMIT: f64 = 9_223_372_036_854_775_808.0;

/// `x.ceil()` as milliseconds for a non-negative finite `x`, without the libm call (as
/// [`round_ms`]).
#[inline]
pub fn ceil_ms(x: f64) -> SimTime {
    if (0.0..SIGNED_LIMIT).contains(&x) {
        let whole = x as i64;
        return (if (whole as f64) < x { whole + 1 } else { whole }) as SimTime;
    }
    let whole = x as SimTime;
    if (whole as f64) < x { whole.saturating_add(1) } else { whole }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounding_without_libm_matches_the_std_functions() {
        for x in [
            0.0,
            0.4,
            0.5,
            0.49999999999999994,
            1.5,
            2.5,
            1e-300,
            7.0,
            7.000001,
            123456.5,
            9.007199254740991e15,
            9.223372036854774e18,
            SIGNED_LIMIT,
            1.7e19,
        ] {
            assert_eq!(round_ms(x), x.round() as SimTime, "round {x}");
            assert_eq!(ceil_ms(x), x.ceil() as SimTime, "ceil {x}");
            let (floor, count) = whole_part(x);
            assert_eq!((floor.to_bits(), count), (x.floor().to_bits(), x.floor() as u64), "whole part {x}");
        }
        for x in [-0.5, -3.0, 1e30, f64::INFINITY, f64::NEG_INFINITY] {
            assert_eq!(whole_part(x), (x.floor(), x.floor() as u64), "whole part {x}");
        }
        assert!(whole_part(f64::NAN).0.is_nan());
        assert_eq!((round_ms(-3.0), ceil_ms(-0.5)), (0, 0));
        assert_eq!((round_ms(1e30), ceil_ms(f64::INFINITY)), (u64::MAX, u64::MAX));
    }

    #[test]
    fn seconds_are_printed_with_milliseconds() {
        assert_eq!(format_seconds(0), "0.000");
        assert_eq!(format_seconds(75_250), "75.250");
        assert_eq!(format_seconds(HOUR), "3600.000");
    }
}
