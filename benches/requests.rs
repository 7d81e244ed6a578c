//! Request-level simulation speed: one simulated hour of 1,000 requests per second on 50 tasks
//! behind an ALB (3.6 million requests), through the full scenario path. Reports simulated
//! requests per second of wall time. Run with `cargo bench --bench requests`.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use ecsim::Scenario;
use ecsim::model::simulate_into;
use ecsim::record::MemoryRecorder;

const SCENARIO: &str = r#"
name = "requests-bench"
seed = 1
duration = "1h"
[cluster]
availability_zones = ["a", "b"]
[[cluster.auto_scaling_groups]]
name = "g"
instance_type = "m5.4xlarge"
desired_capacity = 4
[task_definitions.web]
cpu = 1024
memory = 1024
app = { ready_time = "0s" }
[[task_definitions.web.containers]]
name = "c"
image = "app"
memory = 1024
port_mappings = [{ container_port = 80, host_port = 0 }]
[target_groups.web]
health_check = { interval = "10s", healthy_threshold = 2 }
[services.web]
task_definition = "web"
desired_count = 50
load_balancer = { target_group = "web", container_name = "c", container_port = 80 }
[workloads.web]
target_group = "web"
arrivals = { rate = 1000 }
service_time = { dist = "exponential", mean = "20ms" }
"#;

fn requests(c: &mut Criterion) {
    let scenario = Scenario::from_str_named("requests-bench.toml", SCENARIO.to_string(), &[]).expect("valid scenario");
    let mut group = c.benchmark_group("requests");
    group.sample_size(10);
    group.throughput(Throughput::Elements(3_600_000));
    group.bench_function("1h_1000rps_50_tasks", |b| {
        b.iter(|| {
            let mut recorder = MemoryRecorder::default();
            simulate_into(&scenario, &mut recorder, false).expect("no invariant is checked")
        })
    });
    group.finish();
}

criterion_group!(benches, requests);
criterion_main!(benches);
