//! One row per parameter point: `aggregate.csv`.
//!
//! Columns: `point`, the parameters, `ok_runs` and `failed_runs`, then for each metric
//! `<metric>_mean`, `<metric>_sd`, `<metric>_ci95_low` and `<metric>_ci95_high` over the point's
//! successful replicates (see [`super::stats`]; sd and interval are empty below two), then
//! `feasible`, `best` and `pareto` (see [`super::objective`]).
//!
//! The statistics are computed from the metric values as `runs.csv` prints them, so a sweep, a
//! resumed sweep and merged shards, which all hold the same `runs.csv`, write the same bytes.

use super::SweepSpec;
use super::metrics::{column_decimals, format_fixed};
use super::objective::{best, pareto_front};
use super::runs::RunRecord;
use super::stats::Stats;

/// What the replicates of one point add up to.
#[derive(Clone, Debug, PartialEq)]
pub struct PointAggregate {
    pub point: usize,
    pub ok_runs: usize,
    pub failed_runs: usize,
    /// Per metric, in the sweep's order; `None` when no replicate succeeded.
    pub stats: Vec<Option<Stats>>,
    /// Every replicate ran and met every constraint.
    pub feasible: bool,
    pub best: bool,
    pub pareto: bool,
}

/// Aggregates the records of a whole sweep, sorted by run.
pub fn aggregate(spec: &SweepSpec, records: &[RunRecord]) -> Vec<PointAggregate> {
    let points = spec.points();
    let mut per_point: Vec<Vec<&RunRecord>> = vec![Vec::new(); points];
    for r in records {
        if let Some(v) = per_point.get_mut(r.run / spec.replicates) {
            v.push(r);
        }
    }
    let mut out: Vec<PointAggregate> = per_point
        .iter()
        .enumerate()
        .map(|(point, rs)| {
            let ok: Vec<Vec<f64>> = rs.iter().filter(|r| r.outcome.is_ok()).map(|r| r.values()).collect();
            let stats =
                (0..spec.metrics.len()).map(|m| Stats::of(&ok.iter().map(|v| v[m]).collect::<Vec<_>>())).collect();
            PointAggregate {
                point,
                ok_runs: ok.len(),
                failed_runs: rs.len() - ok.len(),
                stats,
                feasible: ok.len() == spec.replicates && rs.iter().all(|r| r.meets_constraints(spec)),
                best: false,
                pareto: false,
            }
        })
        .collect();
    let mean_of = |p: &PointAggregate, metric: &str| -> Option<f64> {
        let i = spec.metrics.iter().position(|m| m == metric)?;
        p.stats[i].map(|s| s.mean)
    };
    if let Some(o) = &spec.objective {
        // Ties go to the point better on the Pareto front's other metric.
        let other = spec.pareto.as_ref().and_then(|f| f.iter().find(|(m, _)| *m != o.metric).cloned());
        let candidates: Vec<Option<(f64, f64)>> = out
            .iter()
            .map(|p| {
                let x = mean_of(p, &o.metric).filter(|_| p.feasible)?;
                let t = other.as_ref().and_then(|(m, d)| mean_of(p, m).map(|v| d.lower_is_better(v))).unwrap_or(0.0);
                Some((x, t))
            })
            .collect();
        if let Some(b) = best(&candidates, o.direction) {
            out[b].best = true;
        }
    }
    if let Some([(a, da), (b, db)]) = &spec.pareto {
        let coords: Vec<Option<(f64, f64)>> = out
            .iter()
            .map(|p| {
                if p.failed_runs > 0 || p.ok_runs < spec.replicates {
                    return None;
                }
                Some((da.lower_is_better(mean_of(p, a)?), db.lower_is_better(mean_of(p, b)?)))
            })
            .collect();
        for (p, on) in out.iter_mut().zip(pareto_front(&coords)) {
            p.pareto = on;
        }
    }
    out
}

/// Decimals of a metric's statistics: its own, and at least 3.
pub fn stat_decimals(metric: &str) -> usize {
    column_decimals(metric).max(3)
}

/// The header of `aggregate.csv`.
pub fn header(spec: &SweepSpec) -> Vec<String> {
    let mut h = vec!["point".to_string()];
    h.extend(spec.grid.parameters().map(|p| p.name.clone()));
    h.push("ok_runs".into());
    h.push("failed_runs".into());
    for m in &spec.metrics {
        for s in ["mean", "sd", "ci95_low", "ci95_high"] {
            h.push(format!("{m}_{s}"));
        }
    }
    h.extend(["feasible", "best", "pareto"].map(String::from));
    h
}

/// `aggregate.csv`.
pub fn aggregate_csv(spec: &SweepSpec, points: &[PointAggregate]) -> Vec<u8> {
    let mut w = csv::WriterBuilder::new().terminator(csv::Terminator::Any(b'\n')).from_writer(Vec::new());
    let _ = w.write_record(header(spec));
    for p in points {
        let mut row = vec![p.point.to_string()];
        row.extend(spec.grid.values(p.point).iter().map(|v| v.label.clone()));
        row.push(p.ok_runs.to_string());
        row.push(p.failed_runs.to_string());
        for (m, s) in spec.metrics.iter().zip(&p.stats) {
            let d = stat_decimals(m);
            let f = |x: Option<f64>| x.map_or_else(String::new, |x| format_fixed(x, d));
            row.push(f(s.map(|s| s.mean)));
            row.push(f(s.and_then(|s| s.sd)));
            row.push(f(s.and_then(|s| s.ci95.map(|c| c.0))));
            row.push(f(s.and_then(|s| s.ci95.map(|c| c.1))));
        }
        row.extend([p.feasible, p.best, p.pareto].map(|b| b.to_string()));
        let _ = w.write_record(&row);
    }
    w.into_inner().unwrap_or_default()
}
