//! Charts: which ones a run and a sweep draw, that they carry titles, units and the SLO line,
//! that they need nothing from the network and that the same run draws the same bytes.

use std::path::Path;

use ecsim::output::charts::{RunContext, run_charts, sweep_charts};
use ecsim::{Scenario, simulate};

fn scenario(name: &str) -> Scenario {
    Scenario::from_path(&Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios").join(name), &[]).unwrap()
}

fn names(charts: &[(String, String)]) -> Vec<&str> {
    charts.iter().map(|(n, _)| n.as_str()).collect()
}

fn well_formed(name: &str, svg: &str) {
    assert!(svg.starts_with("<svg"), "{name}");
    assert!(svg.trim_end().ends_with("</svg>"), "{name}");
    assert_eq!(svg.matches("<text").count(), svg.matches("</text>").count(), "{name}");
    // The namespace is the only URL: nothing is fetched.
    assert_eq!(svg.matches("http").count(), 1, "{name}");
    assert!(!svg.contains("NaN") && !svg.contains("inf"), "{name}: a non-finite coordinate");
}

#[test]
fn a_traffic_run_draws_tasks_cpu_requests_latency_and_cost() {
    let s = scenario("alb-dynamic-ports.toml");
    let r = simulate(&s);
    let charts = run_charts(&r, &RunContext::from_scenario(Some(&s)));
    assert_eq!(names(&charts), ["tasks.svg", "cpu.svg", "requests.svg", "latency.svg", "cost.svg"]);
    for (n, svg) in &charts {
        well_formed(n, svg);
        assert!(svg.contains("time (min)"), "{n}: the time axis has its unit");
    }
    let latency = &charts[3].1;
    assert!(latency.contains("SLO: p99 ≤ 250 ms"), "the SLO line is labelled");
    assert!(latency.contains("p50") && latency.contains("p95") && latency.contains(">\np99\n<"));
    assert!(charts[0].1.contains("tasks / instances (count)"));
    assert!(charts[4].1.contains("USD"));
    // Without the scenario there is no SLO to draw.
    let bare = run_charts(&r, &RunContext::default());
    assert!(!bare[3].1.contains("SLO"));
    // The same run draws the same bytes.
    assert_eq!(charts, run_charts(&simulate(&s), &RunContext::from_scenario(Some(&s))));
}

#[test]
fn a_run_without_traffic_draws_no_empty_traffic_charts() {
    let s = scenario("static-host-port.toml");
    let charts = run_charts(&simulate(&s), &RunContext::from_scenario(Some(&s)));
    let n = names(&charts);
    assert!(n.contains(&"tasks.svg"));
    assert!(!n.contains(&"latency.svg") && !n.contains(&"requests.svg") && !n.contains(&"cpu.svg"), "{n:?}");
    // A placement failure is marked on the tasks chart.
    assert!(charts[0].1.contains("placement failed ("), "the marks have a legend entry");
}

#[test]
fn a_sweep_draws_each_metric_heatmaps_and_the_pareto_front() {
    let text = r#"
base = "../static-host-port.toml"
replicates = 2
metrics = ["running", "unplaced"]
minimize = "cost_usd"
constraints = ["unplaced == 0"]
[[parameters]]
path = "cluster.auto_scaling_groups[0].desired_capacity"
values = [2, 4, 6]
[[parameters]]
path = "cluster.auto_scaling_groups[0].instance_type"
values = ["m5.large", "t3.medium"]
"#;
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/sweeps");
    let spec = ecsim::sweep::SweepSpec::parse(dir.join("inline.toml").to_str().unwrap(), text.into(), &[]).unwrap();
    let base = dir.join("../static-host-port.toml");
    let sweep =
        ecsim::sweep::Sweep::with_base(spec, base.display().to_string(), std::fs::read_to_string(&base).unwrap())
            .unwrap();
    let records: Vec<_> = (0..sweep.spec.runs()).map(|r| sweep.run_one(r, None)).collect();
    let points = ecsim::sweep::aggregate::aggregate(&sweep.spec, &records);
    let charts = sweep_charts(&sweep.spec, &points);
    assert_eq!(
        names(&charts),
        ["running.svg", "unplaced.svg", "cost_usd.svg", "heatmap-cost_usd.svg", "heatmap-unplaced.svg", "pareto.svg"]
    );
    for (n, svg) in &charts {
        well_formed(n, svg);
    }
    let unplaced = &charts[1].1;
    assert!(unplaced.contains("unplaced: mean and 95% CI over 2 replicates"));
    assert!(unplaced.contains("desired_capacity") && unplaced.contains("instance_type = t3.medium"));
    assert!(unplaced.contains("constraint unplaced == 0"));
    assert!(charts[3].1.contains("★"), "the best plan is starred on the heatmap");
    assert!(charts[5].1.contains("Pareto front: cost_usd against unplaced"));
}
