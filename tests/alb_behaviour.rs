//! The load balancer's documented behaviour on small scenarios, against numbers worked out by
//! hand: health-check thresholds, the grace period, deregistration draining, failing open, and
//! what a blocked security group does.

use ecsim::record::{EventKind, EventRecord, RunResult, ServiceSummary};
use ecsim::{Scenario, simulate};

/// One m5.large, one service `web` of `desired` bridge tasks behind target group `web`, fixed
/// latencies (pull 10 s, start 1 s, app ready at once, shutdown 1 s), 20 req/s of `service`.
fn run(desired: u32, extra_task: &str, tg: &str, service_extra: &str, cluster_extra: &str, tail: &str) -> RunResult {
    let text = format!(
        r#"
name = "alb"
seed = 4
duration = "30m"
[cluster]
availability_zones = ["a"]
{cluster_extra}
[[cluster.auto_scaling_groups]]
name = "g"
instance_type = "m5.large"
desired_capacity = 1
[images.app]
pull_time = "10s"
start_time = "1s"
[task_definitions.web]
cpu = 256
memory = 512
shutdown_time = "1s"
{extra_task}
[[task_definitions.web.containers]]
name = "c"
image = "app"
memory = 512
port_mappings = [{{ container_port = 80, host_port = 0 }}]
[target_groups.web]
{tg}
[services.web]
task_definition = "web"
desired_count = {desired}
load_balancer = {{ target_group = "web", container_name = "c", container_port = 80 }}
{service_extra}
[workloads.web]
target_group = "web"
arrivals = {{ rate = 20 }}
service_time = {{ dist = "exponential", mean = "10ms" }}
{tail}
"#
    );
    let s = Scenario::from_str_named("alb.toml", text, &[]).unwrap_or_else(|e| panic!("{e}"));
    simulate(&s)
}

fn events(r: &RunResult, kind: EventKind) -> Vec<&EventRecord> {
    r.events.iter().filter(|e| e.kind == kind).collect()
}

fn summary(r: &RunResult) -> &ServiceSummary {
    &r.summary[0]
}

const READY_AT_ONCE: &str = "app = { ready_time = \"0s\" }";

#[test]
fn a_target_is_healthy_after_healthy_threshold_passed_checks() {
    // ALB defaults: interval 30 s, healthy threshold 5. The task is RUNNING and registered at
    // 11 s; the first check falls within the first interval, the fifth 4 intervals later:
    // healthy between 11 + 120 and 11 + 150 s (ECS-BP: "30 s × 5 = 150 s").
    let r = run(1, READY_AT_ONCE, "", "", "", "");
    let registered = events(&r, EventKind::TargetRegistered)[0].time;
    let healthy = events(&r, EventKind::TargetHealthy)[0].time;
    assert_eq!(registered, 11_000);
    assert!((registered + 120_000..registered + 150_000).contains(&healthy), "healthy at {healthy}");
    // ECS counts the task healthy only then: the service reaches its steady state at that instant.
    assert_eq!(events(&r, EventKind::SteadyState)[0].time, healthy);
}

#[test]
fn a_stopped_task_drains_for_the_deregistration_delay_before_it_is_signalled() {
    // StopTask at 10 min: the target drains for the default 300 s, then SIGTERM, and the
    // container exits 1 s later (ALB:load-balancer-target-groups.md).
    let r =
        run(1, READY_AT_ONCE, "", "", "", "[[actions]]\nat = \"10m\"\nstop_tasks = { service = \"web\", count = 1 }");
    let at = |k: EventKind| events(&r, k).iter().find(|e| e.task == "web-1").map(|e| e.time);
    assert_eq!(at(EventKind::TargetDraining), Some(600_000));
    assert_eq!(at(EventKind::TargetDeregistered), Some(900_000));
    assert_eq!(at(EventKind::TaskStopping), Some(900_000));
    assert_eq!(at(EventKind::TaskStopped), Some(901_000));
    // The replacement starts at once (maximumPercent 200 leaves room).
    let replacement = events(&r, EventKind::TaskPlaced).iter().find(|e| e.task == "web-2").map(|e| e.time);
    assert_eq!(replacement, Some(600_000));
}

#[test]
fn a_shorter_deregistration_delay_shortens_the_stop() {
    let r = run(
        1,
        READY_AT_ONCE,
        "deregistration_delay = \"5s\"",
        "",
        "",
        "[[actions]]\nat = \"10m\"\nstop_tasks = { service = \"web\", count = 1 }",
    );
    let stopped = events(&r, EventKind::TaskStopped).iter().find(|e| e.task == "web-1").map(|e| e.time);
    assert_eq!(stopped, Some(606_000));
}

#[test]
fn an_unhealthy_task_is_replaced_only_after_the_grace_period() {
    // The app never answers its checks. Unhealthy after 2 failures (within 60 s of registering
    // at 11 s), but with a 120 s grace period ECS stops it only at the first check after
    // 11 + 120 = 131 s, that is before 131 + 30 s.
    let r =
        run(1, "app = { ready_time = \"0s\", healthy = false }", "", "health_check_grace_period = \"120s\"", "", "");
    let unhealthy = events(&r, EventKind::TargetUnhealthy)[0].time;
    assert!(unhealthy < 71_000, "unhealthy at {unhealthy}");
    let stop = events(&r, EventKind::TargetDraining)[0];
    assert!((131_000..161_000).contains(&stop.time), "stopped at {}", stop.time);
    let stopping = events(&r, EventKind::TaskStopping).into_iter().find(|e| e.task == "web-1").unwrap();
    assert_eq!(stopping.detail, "Task failed ELB health checks");
}

#[test]
fn without_any_target_the_load_balancer_answers_503() {
    let r = run(0, READY_AT_ONCE, "", "", "", "");
    let s = summary(&r);
    assert!(s.requests > 30_000);
    assert_eq!(s.errors_5xx, s.requests);
}

#[test]
fn all_targets_unhealthy_fail_open() {
    // Every check fails, yet requests are served: the ALB routes to all targets when none is
    // healthy (ALB:target-group-health-checks.md). A long grace period keeps the tasks.
    let r = run(2, "app = { ready_time = \"0s\", healthy = false }", "", "health_check_grace_period = \"2h\"", "", "");
    let s = summary(&r);
    assert_eq!(s.healthy_targets, 0);
    assert!(s.error_rate < 0.01, "error rate {}", s.error_rate);
    assert!(s.requests > 30_000);
}

#[test]
fn a_security_group_that_blocks_the_port_makes_every_request_time_out() {
    // Dynamic ports (32768+) behind a group open on port 80 only: checks fail, requests get a
    // 504 after the ALB's 10 s connection timeout.
    let r = run(
        1,
        READY_AT_ONCE,
        "",
        "health_check_grace_period = \"2h\"",
        "security_group = { alb_ingress_ports = [80] }",
        "",
    );
    let s = summary(&r);
    assert!(s.error_rate > 0.99, "error rate {}", s.error_rate);
    assert_eq!(s.p50_ms, 0, "no request got a response");
    assert!(events(&r, EventKind::TargetUnhealthy)[0].detail.contains("Request timed out"));
}

#[test]
fn opening_the_ephemeral_range_fixes_it() {
    let r = run(1, READY_AT_ONCE, "", "", "security_group = { alb_ingress_ranges = [[32768, 60999]] }", "");
    assert!(summary(&r).error_rate < 0.01);
    assert_eq!(summary(&r).healthy_targets, 1);
}

#[test]
fn without_task_level_cpu_a_task_uses_the_instance_cpu_beyond_its_reservation() {
    // 20 req/s × 50 ms = 1 vCPU of work. The container reserves 256 units (0.25 vCPU) and the
    // task has no task-level limit, so it may use the m5.large's 2 vCPUs: utilization against
    // the reservation is about 400%, as ECS reports (ECS-DG:cloudwatch-metrics.md: CPU can
    // exceed 100% when CPU is set only at container level).
    let text = include_str!("../scenarios/alb-dynamic-ports.toml")
        .replace("cpu = 512\nmemory = 1024\napp", "memory = 1024\napp")
        .replace("desired_count = 6", "desired_count = 1")
        .replace("rate = 200", "rate = 20")
        .replace("mean = \"8ms\", p99 = \"60ms\"", "mean = \"50ms\", p99 = \"300ms\"")
        .replace("cpu = 512\nmemory_reservation", "cpu = 256\nmemory_reservation");
    let s = Scenario::from_str_named("cpu.toml", text, &[]).unwrap_or_else(|e| panic!("{e}"));
    let r = simulate(&s);
    let util = r.summary[0].cpu_util_pct;
    assert!((370.0..430.0).contains(&util), "cpu utilization {util}%");
}
