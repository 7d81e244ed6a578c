//! CloudWatch metric data as an arrival rate: the JSON of `aws cloudwatch get-metric-data`
//! (`MetricDataResults[].Timestamps` and `.Values`, newest first by default) or
//! `get-metric-statistics` (`Datapoints[].Timestamp` and `.Sum`) for an ALB's `RequestCount`.
//!
//! A datapoint at time T of period P counts the requests of [T, T + P), so it becomes the rate
//! `value / P` (per second) held over that period. Neither output states the period; it is the
//! largest spacing that divides every gap between datapoints, unless the scenario gives it.
//! Periods without a datapoint are gaps: CloudWatch publishes no `RequestCount` for a period
//! without requests, so a gap is zero by default; the scenario may hold the last value or
//! interpolate instead.

use super::json::{self, Obj, kind};
use super::{ImportError, Imported};
use crate::engine::{SECOND, SimTime};

/// A metric's datapoints: (Unix time in ms, value), in time order, no two at the same time.
#[derive(Clone, Debug, PartialEq)]
pub struct Series {
    pub label: Option<String>,
    pub points: Vec<(i64, f64)>,
}

/// How a period without a datapoint is filled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Missing {
    Zero,
    HoldLast,
    Interpolate,
}

/// The series a file holds: the Ids of a get-metric-data output's results when it has
/// several, else one unnamed series.
pub fn result_ids(file: &str, text: &str) -> Result<Vec<Option<String>>, ImportError> {
    let doc = json::parse(file, text)?;
    let top = json::root(file, &doc, "the output of `aws cloudwatch get-metric-data` or `get-metric-statistics`")?;
    let list = top.array(file, "MetricDataResults")?.map_or(&[][..], Vec::as_slice);
    if list.len() < 2 {
        return Ok(vec![None]);
    }
    json::objects(file, list, "MetricDataResults")?
        .iter()
        .map(|r| Ok(Some(r.need_str(file, "Id")?.to_string())))
        .collect()
}

/// Reads the series: from get-metric-data the result with Id `series` (or the only one), from
/// get-metric-statistics its datapoints' `Sum`.
pub fn read(file: &str, text: &str, series: Option<&str>) -> Result<Imported<Series>, ImportError> {
    let doc = json::parse(file, text)?;
    let top = json::root(file, &doc, "the output of `aws cloudwatch get-metric-data` or `get-metric-statistics`")?;
    let mut ignored = Vec::new();
    let out = if top.get("MetricDataResults").is_some() {
        top.unused(&["MetricDataResults"], &["Messages"], &mut ignored);
        if top.get("NextToken").is_some() {
            return Err(ImportError::new(
                file,
                "NextToken",
                "the output is one page of several: fetch them all (the AWS CLI does unless --no-paginate) and give one file",
            ));
        }
        let list = top.array(file, "MetricDataResults")?.map_or(&[][..], Vec::as_slice);
        let results = json::objects(file, list, "MetricDataResults")?;
        let ids: Vec<&str> = results.iter().map(|r| r.str(file, "Id").ok().flatten().unwrap_or("")).collect();
        let chosen = match series {
            Some(id) => results.iter().position(|r| r.str(file, "Id").ok().flatten() == Some(id)).ok_or_else(|| {
                ImportError::new(
                    file,
                    "MetricDataResults",
                    format!(
                        "no result has Id `{id}`; the file holds {}",
                        ids.iter().map(|i| format!("`{i}`")).collect::<Vec<_>>().join(", ")
                    ),
                )
            })?,
            None if results.len() == 1 => 0,
            None => {
                return Err(ImportError::new(
                    file,
                    "MetricDataResults",
                    format!(
                        "the file holds {} results ({}): say which with `series = \"<Id>\"`",
                        results.len(),
                        ids.iter().map(|i| format!("`{i}`")).collect::<Vec<_>>().join(", ")
                    ),
                ));
            }
        };
        data_result(file, &results[chosen], &mut ignored)?
    } else {
        top.unused(&["Datapoints"], &["Label"], &mut ignored);
        if series.is_some() {
            return Err(ImportError::new(
                file,
                "",
                "`series` picks a result of get-metric-data; a get-metric-statistics output holds one series",
            ));
        }
        statistics(file, &top, &mut ignored)?
    };
    let mut imported = Imported::new(out);
    imported.ignored = ignored;
    Ok(imported)
}

fn data_result(file: &str, r: &Obj<'_>, ignored: &mut Vec<String>) -> Result<Series, ImportError> {
    r.unused(&["Id", "Label", "Timestamps", "Values", "StatusCode"], &["Messages"], ignored);
    if let Some(status) = r.str(file, "StatusCode")?
        && status != "Complete"
    {
        return Err(ImportError::new(
            file,
            &r.path_of("StatusCode"),
            format!("the result is {status}, not Complete: CloudWatch returned only part of the data"),
        ));
    }
    let times = r.array(file, "Timestamps")?.map_or(&[][..], Vec::as_slice);
    let values = r.array(file, "Values")?.map_or(&[][..], Vec::as_slice);
    if times.len() != values.len() {
        return Err(ImportError::new(
            file,
            &r.path_of("Values"),
            format!("{} values for {} timestamps: each timestamp needs its value", values.len(), times.len()),
        ));
    }
    let mut points = Vec::new();
    for (i, (t, v)) in times.iter().zip(values).enumerate() {
        let tp = json::at(&r.path_of("Timestamps"), i);
        let vp = json::at(&r.path_of("Values"), i);
        let ms = timestamp(t).map_err(|m| ImportError::new(file, &tp, m))?;
        let value =
            v.as_f64().ok_or_else(|| ImportError::new(file, &vp, format!("expected a number, found {}", kind(v))))?;
        points.push((ms, value, vp));
    }
    finish(file, r.str(file, "Label")?.map(str::to_string), points)
}

fn statistics(file: &str, top: &Obj<'_>, ignored: &mut Vec<String>) -> Result<Series, ImportError> {
    let list = top.array(file, "Datapoints")?.map_or(&[][..], Vec::as_slice);
    let mut points = Vec::new();
    for d in json::objects(file, list, "Datapoints")? {
        d.unused(&["Timestamp", "Sum"], &["Unit", "Average", "Minimum", "Maximum", "SampleCount"], ignored);
        let t = d.need(file, "Timestamp")?;
        let ms = timestamp(t).map_err(|m| ImportError::new(file, &d.path_of("Timestamp"), m))?;
        let Some(sum) = d.f64(file, "Sum")? else {
            return Err(ImportError::new(
                file,
                &d.path_of("Sum"),
                "missing `Sum`: RequestCount counts requests, so export it with --statistics Sum",
            ));
        };
        points.push((ms, sum, d.path_of("Sum")));
    }
    finish(file, top.str(file, "Label")?.map(str::to_string), points)
}

fn finish(file: &str, label: Option<String>, mut points: Vec<(i64, f64, String)>) -> Result<Series, ImportError> {
    if points.is_empty() {
        return Err(ImportError::new(file, "", "the export holds no datapoints"));
    }
    for (_, v, p) in &points {
        if !(v.is_finite() && *v >= 0.0) {
            return Err(ImportError::new(file, p, format!("a request count is zero or more, not {v}")));
        }
    }
    // get-metric-data lists newest first unless asked otherwise; get-metric-statistics in no
    // particular order.
    points.sort_by_key(|p| p.0);
    if let Some(w) = points.windows(2).find(|w| w[0].0 == w[1].0) {
        return Err(ImportError::new(file, &w[1].2, "two datapoints share one timestamp"));
    }
    Ok(Series { label, points: points.into_iter().map(|(t, v, _)| (t, v)).collect() })
}

/// An ISO 8601 timestamp as the CLI prints it (`2024-11-29T18:00:00Z`, `...+00:00`,
/// `...18:00:00.000Z`), or a number of seconds since 1970, in ms since 1970.
pub fn timestamp(v: &serde_json::Value) -> Result<i64, String> {
    match v {
        serde_json::Value::Number(n) => match n.as_f64() {
            Some(s) if s.is_finite() && (-LATEST_S..=LATEST_S).contains(&s) => Ok((s * 1000.0).round() as i64),
            _ => Err(format!("expected a timestamp in seconds since 1970, within ±{LATEST_S} (years 1 to 9999)")),
        },
        serde_json::Value::String(s) => parse_iso8601(s),
        other => Err(format!("expected a timestamp such as \"2024-11-29T18:00:00Z\", found {}", kind(other))),
    }
}

/// Seconds from 1970 to the end of year 9999: timestamps stay within ±this, so their sums and
/// differences in milliseconds stay far inside `i64`.
const LATEST_S: f64 = 253_402_300_800.0;

/// The most periods an export may span, gaps included: a year of one-minute datapoints is
/// 525,600; each period costs a value when the gaps are filled.
pub const MAX_PERIODS: i64 = 2_000_000;

fn parse_iso8601(s: &str) -> Result<i64, String> {
    let bad = || format!("`{s}` is not a timestamp such as \"2024-11-29T18:00:00Z\"");
    let t = s.trim();
    let (date, rest) = t.split_once(['T', ' ']).ok_or_else(bad)?;
    let mut d = date.split('-');
    let (Some(y), Some(mo), Some(da), None) = (d.next(), d.next(), d.next(), d.next()) else { return Err(bad()) };
    let (y, mo, da): (i64, u32, u32) =
        (y.parse().map_err(|_| bad())?, mo.parse().map_err(|_| bad())?, da.parse().map_err(|_| bad())?);
    // The time, then Z or an offset.
    let (clock, offset_ms) = if let Some(c) = rest.strip_suffix('Z').or_else(|| rest.strip_suffix('z')) {
        (c, 0)
    } else if let Some(i) = rest.rfind(['+', '-']) {
        let (c, off) = rest.split_at(i);
        let sign = if off.starts_with('-') { -1 } else { 1 };
        let off = &off[1..];
        let (oh, om) = off.split_once(':').unwrap_or((off.get(..2).unwrap_or(off), off.get(2..).unwrap_or("0")));
        let oh: i64 = oh.parse().map_err(|_| bad())?;
        let om: i64 = if om.is_empty() { 0 } else { om.parse().map_err(|_| bad())? };
        (c, sign * (oh * 3600 + om * 60) * 1000)
    } else {
        (rest, 0)
    };
    let mut parts = clock.split(':');
    let h: i64 = parts.next().ok_or_else(bad)?.parse().map_err(|_| bad())?;
    let mi: i64 = parts.next().ok_or_else(bad)?.parse().map_err(|_| bad())?;
    let sec: f64 = parts.next().unwrap_or("0").parse().map_err(|_| bad())?;
    if !(1..=9999).contains(&y)
        || !(1..=12).contains(&mo)
        || !(1..=31).contains(&da)
        || h > 23
        || mi > 59
        || !(0.0..61.0).contains(&sec)
        || offset_ms.abs() > 24 * 3_600_000
    {
        return Err(bad());
    }
    let days = days_from_civil(y, mo, da);
    Ok(((days * 86_400 + h * 3600 + mi * 60) * 1000) + (sec * 1000.0).round() as i64 - offset_ms)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn gcd(a: i64, b: i64) -> i64 {
    if b == 0 { a } else { gcd(b, a % b) }
}

/// The series' period in ms: `given`, or the largest spacing that divides every gap (60 s for
/// a single datapoint).
pub fn period(series: &Series, given: Option<SimTime>) -> Result<i64, String> {
    let inferred = series.points.windows(2).map(|w| w[1].0 - w[0].0).fold(0, gcd);
    let p = match given {
        Some(g) => g as i64,
        None if inferred == 0 => 60 * SECOND as i64,
        None => inferred,
    };
    if p <= 0 {
        return Err("the period must be more than 0".into());
    }
    let span = series.points[series.points.len() - 1].0 - series.points[0].0;
    if span / p > MAX_PERIODS {
        return Err(format!(
            "the datapoints span {} s, {} periods of {} s: more than the {MAX_PERIODS} an export may hold (a run lasts at most 366 days)",
            span / 1000,
            span / p,
            p as f64 / 1000.0
        ));
    }
    if let Some(w) = series.points.windows(2).find(|w| (w[1].0 - w[0].0) % p != 0) {
        return Err(format!(
            "datapoints {} s apart are not a whole number of {} s periods",
            (w[1].0 - w[0].0) / 1000,
            p / 1000
        ));
    }
    Ok(p)
}

/// The arrival rate (requests per second) as points (time from the start, rate) held until the
/// next, one per period from the first datapoint to the last, gaps filled as `missing` says.
/// `shift` moves the series later (positive) or earlier (negative, the part before 0 is cut).
pub fn rates(series: &Series, period_ms: i64, missing: Missing, shift_ms: i64) -> Vec<(SimTime, f64)> {
    let first = series.points[0].0;
    let last = series.points[series.points.len() - 1].0;
    let slots = ((last - first) / period_ms + 1) as usize;
    let mut known: Vec<Option<f64>> = vec![None; slots];
    for &(t, v) in &series.points {
        known[((t - first) / period_ms) as usize] = Some(v);
    }
    // For interpolation, the next slot with a datapoint from each slot on (one pass backwards).
    let mut next_known = vec![slots - 1; slots];
    let mut next = slots - 1;
    for k in (0..slots).rev() {
        if known[k].is_some() {
            next = k;
        }
        next_known[k] = next;
    }
    let mut filled: Vec<f64> = Vec::with_capacity(slots);
    let mut last_known = 0;
    for (k, v) in known.iter().enumerate() {
        let value = match (v, missing) {
            (Some(v), _) => {
                last_known = k;
                *v
            }
            (None, Missing::Zero) => 0.0,
            (None, Missing::HoldLast) => filled.last().copied().unwrap_or(0.0),
            (None, Missing::Interpolate) => {
                // Between the last slot before and the next slot after this one with a
                // datapoint; both exist, since the first and last slots hold datapoints.
                let (before, after) = (last_known, next_known[k]);
                let (a, b) = (known[before].unwrap_or(0.0), known[after].unwrap_or(0.0));
                a + (b - a) * (k - before) as f64 / (after - before).max(1) as f64
            }
        };
        filled.push(value);
    }
    let per_second = period_ms as f64 / 1000.0;
    let mut points = Vec::new();
    for (k, v) in filled.iter().enumerate() {
        let at = k as i64 * period_ms + shift_ms;
        let rate = v / per_second;
        if at + period_ms <= 0 {
            continue;
        }
        points.push((at.max(0) as SimTime, rate));
    }
    points
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_in_the_forms_the_cli_prints() {
        let t = |s: &str| parse_iso8601(s).unwrap();
        assert_eq!(t("1970-01-01T00:00:00Z"), 0);
        assert_eq!(t("2024-11-29T18:00:00Z"), 1_732_903_200_000);
        assert_eq!(t("2024-11-29T18:00:00+00:00"), 1_732_903_200_000);
        assert_eq!(t("2024-11-29T19:00:00+01:00"), 1_732_903_200_000);
        assert_eq!(t("2024-11-29T18:00:00.500Z"), 1_732_903_200_500);
        assert!(parse_iso8601("yesterday").is_err());
    }

    fn series(points: &[(i64, f64)]) -> Series {
        Series { label: None, points: points.iter().map(|&(t, v)| (t * 60_000, v)).collect() }
    }

    #[test]
    fn gaps_are_zero_held_or_interpolated() {
        // Five-minute datapoints with the 10- and 15-minute ones missing.
        let s = series(&[(0, 600.0), (5, 900.0), (20, 1800.0)]);
        let p = period(&s, None).unwrap();
        assert_eq!(p, 300_000);
        let r = |m| rates(&s, p, m, 0).into_iter().map(|(_, r)| r).collect::<Vec<_>>();
        assert_eq!(r(Missing::Zero), [2.0, 3.0, 0.0, 0.0, 6.0]);
        assert_eq!(r(Missing::HoldLast), [2.0, 3.0, 3.0, 3.0, 6.0]);
        assert_eq!(r(Missing::Interpolate), [2.0, 3.0, 4.0, 5.0, 6.0]);
        let times: Vec<SimTime> = rates(&s, p, Missing::Zero, 0).into_iter().map(|(t, _)| t).collect();
        assert_eq!(times, [0, 300_000, 600_000, 900_000, 1_200_000]);
    }

    #[test]
    fn a_shift_moves_the_series() {
        let s = series(&[(0, 60.0), (1, 120.0), (2, 180.0)]);
        assert_eq!(rates(&s, 60_000, Missing::Zero, 30_000), [(30_000, 1.0), (90_000, 2.0), (150_000, 3.0)]);
        assert_eq!(rates(&s, 60_000, Missing::Zero, -90_000), [(0, 2.0), (30_000, 3.0)]);
    }

    #[test]
    fn a_given_period_must_divide_the_gaps() {
        let s = series(&[(0, 1.0), (5, 1.0)]);
        assert_eq!(period(&s, Some(60_000)).unwrap(), 60_000);
        assert!(period(&s, Some(120_000)).is_err());
    }
}
