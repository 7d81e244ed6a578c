//! From a run's `summary.csv` rows (one per service) to the one number per metric a sweep
//! records, and how each number is printed.
//!
//! A sweep's metric is a `summary.csv` column. With a `service` filter it is that service's
//! value; otherwise the services' rows are combined by what the column means:
//!
//! | columns | combined as |
//! |---|---|
//! | `p50_ms`, `p95_ms`, `p99_ms` | the maximum: a percentile of one service is not additive, and the slowest service is what an SLO sees |
//! | `cpu_util_pct`, `mem_util_pct` | the maximum: the hottest service |
//! | `instances` | the maximum: every row repeats the cluster's count |
//! | `slo_met_pct` | the minimum: the worst service |
//! | `error_rate` | Σ `errors_5xx` / Σ `requests` |
//! | `cost_per_million_requests` | Σ `cost_usd` / Σ `requests` × 10⁶ |
//! | `mean_wait_ms`, `mean_response_ms` | the mean weighted by each service's `requests` |
//! | every other column (counts, `cost_usd`, reservations, ...) | the sum (`hosts` then counts an instance once per service on it) |

use crate::record::ServiceSummary;

/// How the services' values of a column become one number.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Combine {
    Sum,
    Max,
    Min,
    /// Σ numerator / Σ denominator × scale (0 when the denominator sums to 0).
    Ratio {
        numerator: &'static str,
        denominator: &'static str,
        scale_millions: bool,
    },
    /// Mean weighted by another column (the plain mean when the weights sum to 0).
    WeightedMean {
        weight: &'static str,
    },
}

/// The rule for a `summary.csv` column (see the module's table).
pub fn combine_rule(column: &str) -> Combine {
    match column {
        "p50_ms" | "p95_ms" | "p99_ms" | "cpu_util_pct" | "mem_util_pct" | "instances" => Combine::Max,
        "slo_met_pct" => Combine::Min,
        "error_rate" => Combine::Ratio { numerator: "errors_5xx", denominator: "requests", scale_millions: false },
        "cost_per_million_requests" => {
            Combine::Ratio { numerator: "cost_usd", denominator: "requests", scale_millions: true }
        }
        "mean_wait_ms" | "mean_response_ms" => Combine::WeightedMean { weight: "requests" },
        _ => Combine::Sum,
    }
}

/// The metrics a sweep can aggregate: the columns of `summary.csv`.
pub fn known_metrics() -> &'static [&'static str] {
    &ServiceSummary::COLUMNS
}

/// Decimals `summary.csv` prints the column with (0 for counts), from the record's own
/// formatting, so a new kind of value needs no change here.
pub fn column_decimals(column: &str) -> usize {
    ServiceSummary::default().column(column).map_or(3, |v| {
        let s = v.to_string();
        s.find('.').map_or(0, |i| s.len() - i - 1)
    })
}

/// Prints a number with fixed decimals; never `-0`.
pub fn format_fixed(x: f64, decimals: usize) -> String {
    let s = format!("{x:.decimals$}");
    if s.starts_with('-') && s[1..].chars().all(|c| c == '0' || c == '.') { s[1..].to_string() } else { s }
}

/// One metric of a run, combined over the chosen services.
pub fn combine(rows: &[&ServiceSummary], column: &str) -> f64 {
    let col = |r: &ServiceSummary, c: &str| r.column(c).map_or(0.0, |v| v.as_f64());
    let values = rows.iter().map(|r| col(r, column));
    match combine_rule(column) {
        Combine::Sum => values.sum(),
        Combine::Max => {
            let m = values.fold(f64::NEG_INFINITY, f64::max);
            if m.is_finite() { m } else { 0.0 }
        }
        Combine::Min => {
            let m = values.fold(f64::INFINITY, f64::min);
            if m.is_finite() { m } else { 0.0 }
        }
        Combine::Ratio { numerator, denominator, scale_millions } => {
            let num: f64 = rows.iter().map(|r| col(r, numerator)).sum();
            let den: f64 = rows.iter().map(|r| col(r, denominator)).sum();
            let scale = if scale_millions { 1e6 } else { 1.0 };
            if den > 0.0 { num / den * scale } else { 0.0 }
        }
        Combine::WeightedMean { weight } => {
            let w: f64 = rows.iter().map(|r| col(r, weight)).sum();
            if w > 0.0 {
                rows.iter().map(|r| col(r, column) * col(r, weight)).sum::<f64>() / w
            } else if rows.is_empty() {
                0.0
            } else {
                values.sum::<f64>() / rows.len() as f64
            }
        }
    }
}

/// A run's metrics as the text `runs.csv` holds, printed with the column's own decimals.
/// `service` keeps only that service's row; it is an error for the run when the service is
/// missing from it.
pub fn run_metrics(
    summary: &[ServiceSummary],
    service: Option<&str>,
    metrics: &[String],
) -> Result<Vec<String>, String> {
    let rows: Vec<&ServiceSummary> = summary.iter().filter(|s| service.is_none_or(|w| s.service == w)).collect();
    if let Some(w) = service
        && rows.is_empty()
    {
        return Err(format!("the run has no service `{w}`"));
    }
    Ok(metrics.iter().map(|m| format_fixed(combine(&rows, m), column_decimals(m))).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn svc(name: &str, requests: u64, errors: u64, p99: u64, cost: f64, wait: f64, slo: f64) -> ServiceSummary {
        ServiceSummary {
            service: name.into(),
            requests,
            errors_5xx: errors,
            p99_ms: p99,
            cost_usd: cost,
            mean_wait_ms: wait,
            slo_met_pct: slo,
            instances: 4,
            running: 3,
            error_rate: if requests > 0 { errors as f64 / requests as f64 } else { 0.0 },
            cost_per_million_requests: if requests > 0 { cost / requests as f64 * 1e6 } else { 0.0 },
            ..ServiceSummary::default()
        }
    }

    #[test]
    fn services_combine_by_what_the_column_means() {
        let a = svc("a", 1000, 10, 120, 1.5, 2.0, 90.0);
        let b = svc("b", 3000, 0, 300, 0.5, 6.0, 100.0);
        let rows = [&a, &b];
        assert_eq!(combine(&rows, "running"), 6.0);
        assert_eq!(combine(&rows, "cost_usd"), 2.0);
        assert_eq!(combine(&rows, "p99_ms"), 300.0);
        assert_eq!(combine(&rows, "instances"), 4.0);
        assert_eq!(combine(&rows, "slo_met_pct"), 90.0);
        assert_eq!(combine(&rows, "error_rate"), 10.0 / 4000.0);
        assert_eq!(combine(&rows, "cost_per_million_requests"), 2.0 / 4000.0 * 1e6);
        assert_eq!(combine(&rows, "mean_wait_ms"), (2.0 * 1000.0 + 6.0 * 3000.0) / 4000.0);
        // One service: every rule gives its own value.
        for c in known_metrics() {
            assert_eq!(combine(&[&a], c), a.column(c).unwrap().as_f64(), "{c}");
        }
    }

    #[test]
    fn no_traffic_gives_zero_not_nan() {
        let a = svc("a", 0, 0, 0, 1.0, 0.0, 100.0);
        assert_eq!(combine(&[&a, &a], "error_rate"), 0.0);
        assert_eq!(combine(&[&a, &a], "mean_wait_ms"), 0.0);
        assert_eq!(combine(&[], "p99_ms"), 0.0);
        assert_eq!(combine(&[], "slo_met_pct"), 0.0);
    }

    #[test]
    fn metrics_print_like_summary_csv_and_filter_by_service() {
        let a = svc("a", 1000, 10, 120, 1.5, 2.0, 90.0);
        let b = svc("b", 3000, 0, 300, 0.5, 6.0, 100.0);
        let m = ["p99_ms".to_string(), "error_rate".into(), "cost_usd".into(), "slo_met_pct".into()];
        assert_eq!(run_metrics(&[a.clone(), b.clone()], None, &m).unwrap(), ["300", "0.002500", "2.0000", "90.000"]);
        assert_eq!(run_metrics(&[a.clone(), b], Some("a"), &m).unwrap(), ["120", "0.010000", "1.5000", "90.000"]);
        assert!(run_metrics(&[a], Some("zzz"), &m).unwrap_err().contains("zzz"));
        assert_eq!(format_fixed(-0.0001, 3), "0.000");
    }
}
