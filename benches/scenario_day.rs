//! A day of a large cluster through the full scenario path: `benches/scenario_day.toml`, 24
//! simulated hours of 1,000 m5.large instances behind a capacity provider with managed scaling,
//! 20 services of about 250 tasks (5,000 in all) each scaled by target tracking, and 2,000
//! requests per second in total on a diurnal curve, in both fidelities. Reports wall seconds per
//! simulated day (criterion's time per iteration) and simulated requests per second of wall
//! time.
//!
//! A run takes tens of seconds, so criterion's ten samples take minutes: choose one fidelity with
//! `ECSIM_BENCH_FIDELITY=fluid` or `=request` (both by default). Peak memory is measured apart,
//! by `/usr/bin/time -v target/release/ecsim run benches/scenario_day.toml` (README).
//!
//! Run with `cargo bench --bench scenario_day`.

use std::time::Duration;

use criterion::{Criterion, SamplingMode, Throughput, criterion_group, criterion_main};
use ecsim::Scenario;
use ecsim::model::simulate_into;
use ecsim::record::MemoryRecorder;

fn day(fidelity: &str) -> Scenario {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/scenario_day.toml");
    let set = [format!("fidelity=\"{fidelity}\"")];
    Scenario::from_path(&path, &set).unwrap_or_else(|e| panic!("{e}"))
}

fn bench(c: &mut Criterion) {
    let only = std::env::var("ECSIM_BENCH_FIDELITY").ok();
    let mut group = c.benchmark_group("scenario_day");
    group.sample_size(10).sampling_mode(SamplingMode::Flat).measurement_time(Duration::from_secs(60));
    for fidelity in ["fluid", "request"] {
        if only.as_deref().is_some_and(|o| o != fidelity) {
            continue;
        }
        let scenario = day(fidelity);
        // The requests of one run, for the throughput figure.
        let mut recorder = MemoryRecorder::default();
        let summary = simulate_into(&scenario, &mut recorder, false).expect("the day runs");
        let requests: u64 = summary.iter().map(|s| s.requests).sum();
        group.throughput(Throughput::Elements(requests));
        group.bench_function(fidelity, |b| {
            b.iter(|| {
                let mut recorder = MemoryRecorder::default();
                simulate_into(&scenario, &mut recorder, false).expect("the day runs")
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
