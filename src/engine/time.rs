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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_are_printed_with_milliseconds() {
        assert_eq!(format_seconds(0), "0.000");
        assert_eq!(format_seconds(75_250), "75.250");
        assert_eq!(format_seconds(HOUR), "3600.000");
    }
}
