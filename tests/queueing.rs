//! The request path checked against queueing theory: whole scenarios (instances, an ALB, tasks
//! serving by processor sharing) whose queues are textbook models, compared with the formulas
//! within 3%. Runs are long enough that the sampling error sits well inside that tolerance.

use ecsim::record::{MemoryRecorder, ServiceSummary};
use ecsim::{Scenario, model::simulate_into};

/// One service of `tasks` tasks of `cpu` units behind an ALB, fed Poisson arrivals at `rate`
/// per second with exponential service of `service_ms`.
struct Queue<'a> {
    tasks: u32,
    cpu: u32,
    /// Extra keys of the task definition's `app` table.
    app: &'a str,
    algorithm: &'a str,
    rate: f64,
    service_ms: u32,
    hours: u32,
    seed: u64,
}

fn run(q: Queue<'_>) -> ServiceSummary {
    let Queue { tasks, cpu, app, algorithm, rate, service_ms, hours, seed } = q;
    let text = format!(
        r#"
name = "queue"
seed = {seed}
duration = "{hours}h"
[cluster]
availability_zones = ["a"]
[[cluster.auto_scaling_groups]]
name = "g"
instance_type = "m5.4xlarge"
desired_capacity = 1
[images.app]
pull_time = "1s"
start_time = "0s"
[task_definitions.q]
cpu = {cpu}
memory = 1024
app = {{ ready_time = "0s", {app} }}
[[task_definitions.q.containers]]
name = "c"
image = "app"
memory = 1024
port_mappings = [{{ container_port = 80, host_port = 0 }}]
[target_groups.q]
algorithm = "{algorithm}"
[services.q]
task_definition = "q"
desired_count = {tasks}
load_balancer = {{ target_group = "q", container_name = "c", container_port = 80 }}
[workloads.q]
target_group = "q"
arrivals = {{ rate = {rate} }}
service_time = {{ dist = "exponential", mean = "{service_ms}ms" }}
timeout = "1h"
"#
    );
    let scenario = Scenario::from_str_named("queue.toml", text, &[]).unwrap_or_else(|e| panic!("{e}"));
    let mut recorder = MemoryRecorder::default();
    let mut summary = simulate_into(&scenario, &mut recorder, false).unwrap();
    summary.remove(0)
}

/// Erlang's C formula: the probability that an arrival waits in an M/M/c queue with offered
/// load `a` = λ/μ.
fn erlang_c(c: u32, a: f64) -> f64 {
    let mut term = 1.0;
    let mut sum = 1.0;
    for k in 1..c {
        term *= a / f64::from(k);
        sum += term;
    }
    let last = term * a / f64::from(c) * f64::from(c) / (f64::from(c) - a);
    last / (sum + last)
}

fn within(measured: f64, expected: f64, tolerance: f64) -> bool {
    (measured / expected - 1.0).abs() <= tolerance
}

#[test]
fn one_task_with_c_vcpus_and_c_slots_is_an_m_m_c_queue() {
    // c = 4, ρ = 0.7, S = 100 ms → λ = 28/s, a = 2.8. Wq = C(4, 2.8) · S / (c − a).
    let (c, s_ms) = (4, 100.0);
    let a = 0.7 * f64::from(c);
    let expected_wait = erlang_c(c, a) * s_ms / (f64::from(c) - a);
    let r = run(Queue {
        tasks: 1,
        cpu: 4096,
        app: "max_concurrency = 4",
        algorithm: "round_robin",
        rate: a * 1000.0 / s_ms,
        service_ms: 100,
        hours: 16,
        seed: 1,
    });
    assert!(r.requests > 1_500_000, "{} requests", r.requests);
    assert!(
        within(r.mean_wait_ms, expected_wait, 0.03),
        "mean wait {} ms, Erlang C {expected_wait:.2} ms",
        r.mean_wait_ms
    );
    assert!(within(r.mean_response_ms, expected_wait + s_ms, 0.03), "mean response {} ms", r.mean_response_ms);
}

#[test]
fn randomly_routed_single_slot_tasks_are_independent_m_m_1_queues() {
    // k = 4 tasks of one vCPU serving one request at a time, random routing: each sees Poisson
    // arrivals at λ/k. ρ = 0.8, S = 100 ms → Wq = ρ / (μ − λ/k) = ρ·S / (1 − ρ) = 400 ms.
    let (k, rho, s_ms) = (4.0, 0.8, 100.0);
    let expected_wait = rho * s_ms / (1.0 - rho);
    let r = run(Queue {
        tasks: 4,
        cpu: 1024,
        app: "max_concurrency = 1",
        algorithm: "random",
        rate: k * rho * 1000.0 / s_ms,
        service_ms: 100,
        hours: 24,
        seed: 2,
    });
    assert!(within(r.mean_wait_ms, expected_wait, 0.03), "mean wait {} ms, M/M/1 {expected_wait} ms", r.mean_wait_ms);
}

#[test]
fn one_task_with_unlimited_concurrency_is_m_m_1_processor_sharing() {
    // One vCPU, no concurrency limit, ρ = 0.5, S = 100 ms → T = S / (1 − ρ) = 200 ms, and no
    // request ever waits for a slot.
    let (rho, s_ms) = (0.5, 100.0);
    let r = run(Queue {
        tasks: 1,
        cpu: 1024,
        app: "request_cpu_cap = 1.0",
        algorithm: "round_robin",
        rate: rho * 1000.0 / s_ms,
        service_ms: 100,
        hours: 12,
        seed: 3,
    });
    assert!(within(r.mean_response_ms, s_ms / (1.0 - rho), 0.03), "mean response {} ms", r.mean_response_ms);
    assert_eq!(r.mean_wait_ms, 0.0);
}

#[test]
fn erlang_c_matches_a_known_value() {
    // Two servers, offered load 1 (ρ = 0.5): C = 1/3.
    assert!((erlang_c(2, 1.0) - 1.0 / 3.0).abs() < 1e-12);
}
