//! Sweep scaling across cores: the same sweep of 200 short runs (20 plans × 10 seeds of a web
//! service behind an ALB, 5 simulated minutes each) with one worker and with two. On a 2-core
//! machine the two-worker time should be at most 0.6 × the one-worker time. Run with
//! `cargo bench --bench sweep`; it prints the ratio at the end.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use ecsim::sweep::{NoProgress, RunOptions, Sweep, SweepSpec, execute};

const SWEEP: &str = r#"
name = "bench-200"
base = "web-service.toml"
replicates = 10
metrics = ["p99_ms", "cost_usd", "error_rate"]
minimize = "cost_usd"
constraints = ["p99_ms <= 250"]

[[parameters]]
path = "cluster.auto_scaling_groups[0].instance_type"
values = ["m5.large", "c5.large", "m6g.large", "t3.large"]

[[parameters]]
path = "services.web.desired_count"
range = { from = 4, to = 8, step = 1 }
"#;

fn sweep() -> Sweep {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scenarios/sweeps");
    let base = dir.join("web-service.toml");
    let text = std::fs::read_to_string(&base)
        .expect("read the base scenario")
        .replace("duration = \"20m\"", "duration = \"5m\"");
    let spec = SweepSpec::parse(dir.join("bench-200.toml").to_str().unwrap_or("bench-200.toml"), SWEEP.into(), &[])
        .expect("the bench sweep reads");
    assert_eq!(spec.runs(), 200);
    Sweep::with_base(spec, base.display().to_string(), text).expect("the bench sweep checks")
}

fn out_dir(jobs: usize) -> PathBuf {
    std::env::temp_dir().join(format!("ecsim-bench-sweep-{jobs}-{}", std::process::id()))
}

fn run(sweep: &Sweep, jobs: usize) -> Duration {
    let opts = RunOptions { jobs, ..RunOptions::new(out_dir(jobs)) };
    let start = Instant::now();
    let outcome = execute(sweep, &opts, &NoProgress).expect("the bench sweep runs");
    assert_eq!(outcome.recorded, 200);
    start.elapsed()
}

fn bench(c: &mut Criterion) {
    let sweep = sweep();
    let mut g = c.benchmark_group("sweep_200_runs");
    g.sample_size(10).warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(20));
    for jobs in [1, 2] {
        g.bench_function(format!("jobs_{jobs}"), |b| b.iter(|| run(&sweep, jobs)));
    }
    g.finish();
    // The ratio of medians over a few fresh runs each, alternated so that drift hits both alike.
    let (mut one, mut two) = (Vec::new(), Vec::new());
    for _ in 0..3 {
        one.push(run(&sweep, 1).as_secs_f64());
        two.push(run(&sweep, 2).as_secs_f64());
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let (a, b) = (median(&mut one), median(&mut two));
    println!("sweep of 200 runs: --jobs 1 {a:.2} s, --jobs 2 {b:.2} s, ratio {:.2} (target <= 0.6)", b / a);
    for jobs in [1, 2] {
        let _ = std::fs::remove_dir_all(out_dir(jobs));
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
