//! Scenarios that test themselves: the `[[expect]]` tables of a scenario, checked against what
//! the run reported. Each expectation carries a `why` that is printed when it does not hold.

use crate::engine::{SimTime, format_seconds};
use crate::record::{RunResult, ServiceSample};

/// A comparison operator: `==`, `!=`, `<`, `<=`, `>`, `>=`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl Op {
    pub const ALL: [&'static str; 6] = ["==", "!=", "<", "<=", ">", ">="];

    pub fn parse(s: &str) -> Option<Op> {
        Some(match s.trim() {
            "==" | "=" => Op::Eq,
            "!=" => Op::Ne,
            "<" => Op::Lt,
            "<=" => Op::Le,
            ">" => Op::Gt,
            ">=" => Op::Ge,
            _ => return None,
        })
    }

    /// Splits "<= 15m" into the operator and the rest.
    pub fn split(s: &str) -> Option<(Op, &str)> {
        let s = s.trim();
        let len = s.find(|c: char| !matches!(c, '=' | '!' | '<' | '>')).unwrap_or(s.len());
        Some((Op::parse(&s[..len])?, s[len..].trim()))
    }

    /// Holds for `a op b`; equality within a millionth, so shares printed with three decimals
    /// compare as written.
    pub fn holds(self, a: f64, b: f64) -> bool {
        let eq = (a - b).abs() <= 1e-6 * a.abs().max(b.abs()).max(1.0);
        match self {
            Op::Eq => eq,
            Op::Ne => !eq,
            Op::Lt => a < b && !eq,
            Op::Le => a < b || eq,
            Op::Gt => a > b && !eq,
            Op::Ge => a > b || eq,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Op::Eq => "==",
            Op::Ne => "!=",
            Op::Lt => "<",
            Op::Le => "<=",
            Op::Gt => ">",
            Op::Ge => ">=",
        }
    }
}

/// How the rows of a window fold into one number.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Agg {
    Min,
    Max,
    Mean,
    Last,
    Sum,
}

impl Agg {
    pub const ALL: [&'static str; 5] = ["min", "max", "mean", "last", "sum"];

    pub fn parse(s: &str) -> Option<Agg> {
        Some(match s {
            "min" => Agg::Min,
            "max" => Agg::Max,
            "mean" => Agg::Mean,
            "last" => Agg::Last,
            "sum" => Agg::Sum,
            _ => return None,
        })
    }

    fn fold(self, xs: &[f64]) -> Option<f64> {
        let last = *xs.last()?;
        Some(match self {
            Agg::Min => xs.iter().copied().fold(f64::INFINITY, f64::min),
            Agg::Max => xs.iter().copied().fold(f64::NEG_INFINITY, f64::max),
            Agg::Mean => xs.iter().sum::<f64>() / xs.len() as f64,
            Agg::Last => last,
            Agg::Sum => xs.iter().sum(),
        })
    }
}

/// Which simulated times an expectation looks at; bounds inclusive.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Window {
    pub from: SimTime,
    pub to: SimTime,
}

impl Window {
    fn contains(&self, t: SimTime) -> bool {
        self.from <= t && t <= self.to
    }

    fn describe(&self) -> String {
        format!("{}–{} s", format_seconds(self.from), format_seconds(self.to))
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum Check {
    /// A `timeseries.csv` column, summed over services unless one is named, folded over the
    /// window.
    Series { metric: String, service: Option<String>, window: Window, agg: Agg, op: Op, value: f64 },
    /// A `summary.csv` column, summed over services unless one is named.
    Summary { column: String, service: Option<String>, op: Op, value: f64 },
    /// How many events of a kind (and detail substring) fall in the window.
    EventCount { kind: String, detail: Option<String>, service: Option<String>, window: Window, op: Op, count: u64 },
    /// When the first such event happens.
    EventFirstAt { kind: String, detail: Option<String>, service: Option<String>, window: Window, op: Op, at: SimTime },
}

#[derive(Clone, Debug, PartialEq)]
pub struct Expectation {
    pub why: String,
    pub check: Check,
}

/// The result of one expectation.
#[derive(Clone, Debug, PartialEq)]
pub struct Outcome {
    pub holds: bool,
    pub why: String,
    /// What was measured and what was expected, in words.
    pub report: String,
}

fn service_matches(want: &Option<String>, name: &str) -> bool {
    want.as_deref().is_none_or(|w| w == name)
}

fn series(r: &RunResult, metric: &str, service: &Option<String>, window: &Window) -> Vec<f64> {
    // Rows come in time order, one per service per minute: sum the chosen services per time.
    let mut out: Vec<(SimTime, f64)> = Vec::new();
    for row in &r.timeseries {
        if !window.contains(row.time) || !service_matches(service, &r.services[row.service]) {
            continue;
        }
        let v = ServiceSample::column(row, metric).map_or(0.0, |v| v.as_f64());
        match out.last_mut() {
            Some((t, sum)) if *t == row.time => *sum += v,
            _ => out.push((row.time, v)),
        }
    }
    out.into_iter().map(|(_, v)| v).collect()
}

fn matching_events<'a>(
    r: &'a RunResult,
    kind: &'a str,
    detail: &'a Option<String>,
    service: &'a Option<String>,
    window: &'a Window,
) -> impl Iterator<Item = &'a crate::record::EventRecord> + 'a {
    r.events.iter().filter(move |e| {
        e.kind.as_str() == kind
            && window.contains(e.time)
            && service_matches(service, &e.service)
            && detail.as_deref().is_none_or(|d| e.detail.contains(d))
    })
}

fn scope(service: &Option<String>) -> String {
    service.as_ref().map_or_else(|| "over all services".to_string(), |s| format!("of service {s}"))
}

impl Expectation {
    pub fn evaluate(&self, r: &RunResult) -> Outcome {
        let (holds, report) = match &self.check {
            Check::Series { metric, service, window, agg, op, value } => {
                let xs = series(r, metric, service, window);
                match agg.fold(&xs) {
                    None => (false, format!("{metric} {}: no rows in {}", scope(service), window.describe())),
                    Some(v) => (
                        op.holds(v, *value),
                        format!(
                            "{agg:?} of {metric} {} in {} is {} (expected {} {})",
                            scope(service),
                            window.describe(),
                            trim(v),
                            op.as_str(),
                            trim(*value)
                        )
                        .to_lowercase(),
                    ),
                }
            }
            Check::Summary { column, service, op, value } => {
                let v: f64 = r
                    .summary
                    .iter()
                    .filter(|s| service_matches(service, &s.service))
                    .filter_map(|s| s.column(column))
                    .map(|v| v.as_f64())
                    .sum();
                (
                    op.holds(v, *value),
                    format!(
                        "summary {column} {} is {} (expected {} {})",
                        scope(service),
                        trim(v),
                        op.as_str(),
                        trim(*value)
                    ),
                )
            }
            Check::EventCount { kind, detail, service, window, op, count } => {
                let n = matching_events(r, kind, detail, service, window).count() as u64;
                (
                    op.holds(n as f64, *count as f64),
                    format!(
                        "{n} `{kind}` events{} {} in {} (expected {} {count})",
                        detail.as_ref().map_or(String::new(), |d| format!(" with \"{d}\"")),
                        scope(service),
                        window.describe(),
                        op.as_str()
                    ),
                )
            }
            Check::EventFirstAt { kind, detail, service, window, op, at } => {
                match matching_events(r, kind, detail, service, window).next() {
                    None => (false, format!("no `{kind}` event {} in {}", scope(service), window.describe())),
                    Some(e) => (
                        op.holds(e.time as f64, *at as f64),
                        format!(
                            "the first `{kind}` event {} is at {} s (expected {} {} s)",
                            scope(service),
                            format_seconds(e.time),
                            op.as_str(),
                            format_seconds(*at)
                        ),
                    ),
                }
            }
        };
        Outcome { holds, why: self.why.clone(), report }
    }
}

fn trim(x: f64) -> String {
    let s = format!("{x:.3}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operators_compare_with_tolerance() {
        assert!(Op::Eq.holds(12.5, 12.5000000001));
        assert!(Op::Ge.holds(3.0, 3.0));
        assert!(!Op::Gt.holds(3.0, 3.0));
        assert!(Op::Lt.holds(2.0, 3.0));
        assert_eq!(Op::split(">= 1"), Some((Op::Ge, "1")));
        assert_eq!(Op::split("<=15m"), Some((Op::Le, "15m")));
        assert_eq!(Op::split("~ 3"), None);
    }

    #[test]
    fn aggregates_fold_windows() {
        let xs = [1.0, 4.0, 2.0];
        assert_eq!(Agg::Max.fold(&xs), Some(4.0));
        assert_eq!(Agg::Min.fold(&xs), Some(1.0));
        assert_eq!(Agg::Mean.fold(&xs), Some(7.0 / 3.0));
        assert_eq!(Agg::Last.fold(&xs), Some(2.0));
        assert_eq!(Agg::Sum.fold(&xs), Some(7.0));
        assert_eq!(Agg::Sum.fold(&[]), None);
    }
}
