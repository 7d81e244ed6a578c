//! The fluid fidelity against the request fidelity on the shipped scenarios that carry traffic:
//! the desired count within one task in at least 95% of the minutes, the mean CPU utilization
//! within 3 percentage points, the cost within 1%.
//!
//! Scenarios left out, and why: `sg-blocks-alb.toml` (its tasks churn on failed health checks
//! while requests wait for the ALB's connection timeout; the fluid model counts those requests
//! as failed at once, which is the point of the scenario but moves the utilization),
//! `trace-replay.toml` and the Spot and outage scenarios, whose seeds drive interruptions and
//! rare events rather than load (they are checked for agreement of the desired count only).

use ecsim::Scenario;
use ecsim::record::RunResult;
use rayon::prelude::*;

fn scenario(file: &str, fluid: bool) -> Scenario {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios").join(file);
    let set: Vec<String> = if fluid { vec!["fidelity=\"fluid\"".into()] } else { Vec::new() };
    Scenario::from_path(&path, &set).unwrap_or_else(|e| panic!("{e}"))
}

fn cost(r: &RunResult) -> f64 {
    r.summary.iter().map(|s| s.cost_usd).sum()
}

struct Agreement {
    desired_within_one: f64,
    utilization_gap: f64,
    cost_gap: f64,
}

fn compare(file: &str) -> Agreement {
    let (a, b) = (ecsim::simulate(&scenario(file, false)), ecsim::simulate(&scenario(file, true)));
    assert_eq!(a.timeseries.len(), b.timeseries.len());
    let n = a.timeseries.len() as f64;
    let within = a.timeseries.iter().zip(&b.timeseries).filter(|(x, y)| x.desired.abs_diff(y.desired) <= 1).count();
    // Utilization over the minutes with serving tasks, per service and minute.
    let util = |r: &RunResult| {
        let rows: Vec<f64> = r.timeseries.iter().filter(|x| x.requests > 0).map(|x| x.cpu_util_pct).collect();
        rows.iter().sum::<f64>() / rows.len().max(1) as f64
    };
    let mut cost_gap = (cost(&a) - cost(&b)).abs() / cost(&a).max(1e-9);
    if cost_gap > 0.01 {
        // Where the seed alone moves the cost (a capacity provider that adds its second instance
        // a minute earlier or later), the fluid run's cost must lie within the request runs' own
        // spread over seeds 1 to 6: it cannot be told apart from another draw of the same scenario.
        let fluid = cost(&b);
        let costs: Vec<f64> = (1..=6)
            .map(|seed| {
                let mut s = scenario(file, false);
                s.seed = seed;
                cost(&ecsim::simulate(&s))
            })
            .collect();
        let (lo, hi) = costs.iter().fold((f64::MAX, f64::MIN), |(lo, hi), &c| (lo.min(c), hi.max(c)));
        if (lo * 0.99..=hi * 1.01).contains(&fluid) {
            cost_gap = 0.0;
        }
    }
    Agreement { desired_within_one: within as f64 / n, utilization_gap: (util(&a) - util(&b)).abs(), cost_gap }
}

/// Every comparison, run on all cores, and the ones that disagree.
fn disagreements(files: &[&str], check: impl Fn(&str, &Agreement) -> Option<String> + Sync) -> Vec<String> {
    files.par_iter().filter_map(|file| check(file, &compare(file))).collect()
}

#[test]
fn the_fluid_fidelity_agrees_with_requests_on_the_shipped_scenarios() {
    let files = [
        "target-tracking-cpu.toml",
        "step-scaling.toml",
        "target-vs-step.toml",
        "scheduled-scaling.toml",
        "scaling-without-instances.toml",
        "capacity-provider.toml",
        "classic-two-loops.toml",
        "alb-dynamic-ports.toml",
        "rolling-update.toml",
        "blue-green-canary.toml",
        "quickstart.toml",
    ];
    let bad = disagreements(&files, |file, g| {
        if g.desired_within_one < 0.95 {
            Some(format!("{file}: desired within one task in {:.1}% of minutes", 100.0 * g.desired_within_one))
        } else if g.utilization_gap > 3.0 {
            Some(format!("{file}: mean CPU utilization {:.2} points apart", g.utilization_gap))
        } else if g.cost_gap > 0.01 {
            Some(format!("{file}: cost {:.2}% apart", 100.0 * g.cost_gap))
        } else {
            None
        }
    });
    assert!(bad.is_empty(), "{bad:#?}");
}

#[test]
fn the_desired_count_agrees_where_rare_events_drive_the_run() {
    let files = ["spot-interruptions.toml", "az-outage.toml", "daemon-service.toml", "fargate-spot-mix.toml"];
    let bad = disagreements(&files, |file, g| {
        (g.desired_within_one < 0.95)
            .then(|| format!("{file}: desired within one task in {:.1}% of minutes", 100.0 * g.desired_within_one))
    });
    assert!(bad.is_empty(), "{bad:#?}");
}
