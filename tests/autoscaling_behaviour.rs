//! Service Auto Scaling minute by minute, against timelines worked out by hand from the
//! documented rules. Requests of a fixed 25 ms of CPU arrive at a known rate on tasks of one
//! vCPU, so each minute's CPU utilization is rate × 25 ms / tasks (capped at 100%), within the
//! Poisson noise of a few thousand requests a minute (about ±1%); the loads are chosen so that
//! no rounding in the hand calculation sits within that noise.
//!
//! The rules: ECS publishes a datapoint per minute; CloudWatch sees it `publish_delay` (60 s)
//! after the minute ends; target tracking's AlarmHigh needs 3 of 3 one-minute datapoints above
//! the target, AlarmLow 15 of 15 below 90% of it; the new desired count is
//! ceil(capacity × metric / target); within the 300 s scale-out cooldown the capacity before the
//! last scale-out is the base and only a larger result goes through.

use ecsim::record::{EventKind, RunResult};
use ecsim::{Scenario, simulate};

/// Four tasks of one vCPU behind an ALB, 25 ms of CPU per request, arrivals from `arrivals`,
/// and the given `auto_scaling` table.
fn run(arrivals: &str, auto_scaling: &str, extra: &str) -> RunResult {
    let text = format!(
        r#"
name = "as"
seed = 1
duration = "40m"
{extra}
[cluster]
availability_zones = ["a"]
[[cluster.auto_scaling_groups]]
name = "g"
instance_type = "m5.4xlarge"
desired_capacity = 2
[images.app]
pull_time = "2s"
start_time = "0s"
[task_definitions.web]
cpu = 1024
memory = 1024
app = {{ ready_time = "0s" }}
[[task_definitions.web.containers]]
name = "c"
image = "app"
memory = 1024
port_mappings = [{{ container_port = 80, host_port = 0 }}]
[target_groups.web]
health_check = {{ interval = "5s", timeout = "2s", healthy_threshold = 2 }}
deregistration_delay = "5s"
[services.web]
task_definition = "web"
desired_count = 4
load_balancer = {{ target_group = "web", container_name = "c", container_port = 80 }}
[services.web.auto_scaling]
min_capacity = 1
max_capacity = 30
{auto_scaling}
[workloads.web]
target_group = "web"
arrivals = {{ {arrivals} }}
service_time = "25ms"
"#
    );
    let s = Scenario::from_str_named("as.toml", text, &[]).unwrap_or_else(|e| panic!("{e}"));
    simulate(&s)
}

const TARGET_50: &str = r#"
[[services.web.auto_scaling.target_tracking]]
name = "cpu50"
predefined_metric = "ECSServiceAverageCPUUtilization"
target_value = 50
"#;

/// (minute, desired count) of every scaling activity.
fn activities(r: &RunResult) -> Vec<(u64, u32)> {
    r.events
        .iter()
        .filter(|e| e.kind == EventKind::ScalingActivity)
        .map(|e| {
            let to = e.detail.split("desired count to ").nth(1).and_then(|x| x.split(' ').next()).unwrap();
            (e.time / 60_000, to.parse().unwrap())
        })
        .collect()
}

#[test]
fn the_first_scale_out_comes_at_the_fourteenth_minute() {
    // 112 req/s × 25 ms = 2.8 vCPU on 4 tasks: 70% from minute 10 ([10:00, 11:00)) on, before
    // it 60 req/s: 37.5%. Datapoints of minutes 10, 11 and 12 are above 50%; minute 12's is seen
    // at 14:00 (13:00 + the 60 s delay): AlarmHigh fires then, and asks ceil(4 × 70/50) =
    // ceil(5.6) = 6.
    let r = run(r#"pattern = "step", initial = 60, changes = [{ at = "10m", rate = 112 }]"#, TARGET_50, "");
    let a = activities(&r);
    assert_eq!(a.first(), Some(&(14, 6)), "{a:?}");
    // With 6 tasks the load is 46.7%: not above the target, not below 45%: nothing more.
    assert_eq!(a.len(), 1, "{a:?}");
}

#[test]
fn a_metric_just_under_the_target_never_scales() {
    // 79 req/s × 25 ms / 4 = 49.4%: AlarmHigh never fires, and it is above 45% so AlarmLow
    // never does either.
    let r = run(r#"process = "constant", rate = 79"#, TARGET_50, "");
    assert!(activities(&r).is_empty());
    assert!(r.events.iter().all(|e| e.kind != EventKind::AlarmStateChanged || !e.detail.contains("to ALARM")));
}

#[test]
fn the_cooldown_holds_the_second_step_back() {
    // 190 req/s: 4.75 vCPU of work, so 4 tasks saturate at 100%. At 14:00, ceil(4 × 100/50) =
    // 8. For the next 300 s the metric still shows the 4 saturated tasks: from the base of 4 it
    // asks 8 again, not larger, so it is held. At 19:00 the cooldown is over and minute 17's
    // datapoint shows 8 tasks at 4.75/8 = 59.4%: ceil(8 × 59.4/50) = ceil(9.5) = 10.
    let r = run(r#"pattern = "step", initial = 60, changes = [{ at = "10m", rate = 190 }]"#, TARGET_50, "");
    let a = activities(&r);
    assert_eq!(&a[..2], &[(14, 8), (19, 10)], "{a:?}");
    // Without the cooldown rule, 15:00 would have asked ceil(8 × 100/50) = 16: AlarmHigh is
    // still in ALARM then, yet nothing changes.
    let alarm_high_ok = r
        .events
        .iter()
        .find(|e| {
            e.kind == EventKind::AlarmStateChanged
                && e.detail.contains("AlarmHigh")
                && e.detail.contains("to OK")
                && e.time > 840_000
        })
        .map(|e| e.time / 60_000);
    assert!(alarm_high_ok.is_none_or(|m| m >= 16), "AlarmHigh back to OK at minute {alarm_high_ok:?}");
}

#[test]
fn a_longer_publication_delay_delays_everything() {
    // With datapoints seen 3 minutes after their minute ends, the first scale-out is at 16:00.
    let r = run(
        r#"pattern = "step", initial = 60, changes = [{ at = "10m", rate = 112 }]"#,
        TARGET_50,
        "[cloudwatch]\npublish_delay = \"3m\"",
    );
    assert_eq!(activities(&r).first(), Some(&(16, 6)));
}

#[test]
fn scale_in_waits_for_fifteen_low_datapoints() {
    // 40 req/s (evenly spaced): 25% on 4 tasks from the start. Minutes 0..14 are all below 45%: minute 14 is
    // seen at 16:00, and AlarmLow (15 of 15) fires then: ceil(4 × 25/50) = 2.
    let r = run(r#"process = "constant", rate = 40"#, TARGET_50, "");
    assert_eq!(activities(&r).first(), Some(&(16, 2)));
}

#[test]
fn a_step_policy_adds_the_step_for_the_breach() {
    // Alarm CPU ≥ 60 for 2 of 2: minutes 10 and 11 at 75% (120 req/s) → seen at 13:00. The
    // breach is 15 points: the [10, 20) step adds 2 → 6.
    let steps = r#"
[[services.web.auto_scaling.step_scaling]]
name = "steps"
adjustment_type = "ChangeInCapacity"
alarm = { metric = "CPUUtilization", evaluation_periods = 2, threshold = 60, comparison = "GreaterThanOrEqualToThreshold" }
steps = [{ lower = 0, upper = 10, adjustment = 1 }, { lower = 10, upper = 20, adjustment = 2 }, { lower = 20, adjustment = 3 }]
"#;
    let r = run(r#"pattern = "step", initial = 60, changes = [{ at = "10m", rate = 120 }]"#, steps, "");
    assert_eq!(activities(&r).first(), Some(&(13, 6)));
}

#[test]
fn the_maximum_capacity_caps_a_scale_out_and_says_so() {
    // max_capacity 6: the first scale-out asks ceil(4 × 100/50) = 8 and gets 6; once the
    // cooldown is over, 6 tasks at 5/6 = 83% ask 10 and are held at the maximum.
    let r = run_with_max(6, TARGET_50);
    assert_eq!(activities(&r).first(), Some(&(14, 6)));
    assert!(r.events.iter().any(|e| e.kind == EventKind::ScalingHeld && e.detail.contains("maximum capacity is 6")));
}

fn run_with_max(max: u32, policy: &str) -> RunResult {
    let text = format!(
        r#"
name = "as"
duration = "30m"
[cluster]
availability_zones = ["a"]
[[cluster.auto_scaling_groups]]
name = "g"
instance_type = "m5.4xlarge"
desired_capacity = 2
[images.app]
pull_time = "2s"
start_time = "0s"
[task_definitions.web]
cpu = 1024
memory = 1024
app = {{ ready_time = "0s" }}
[[task_definitions.web.containers]]
name = "c"
image = "app"
memory = 1024
port_mappings = [{{ container_port = 80, host_port = 0 }}]
[target_groups.web]
health_check = {{ interval = "5s", timeout = "2s", healthy_threshold = 2 }}
[services.web]
task_definition = "web"
desired_count = 4
load_balancer = {{ target_group = "web", container_name = "c", container_port = 80 }}
[services.web.auto_scaling]
min_capacity = 1
max_capacity = {max}
{policy}
[workloads.web]
target_group = "web"
arrivals = {{ pattern = "step", initial = 60, changes = [{{ at = "10m", rate = 200 }}] }}
service_time = "25ms"
"#
    );
    simulate(&Scenario::from_str_named("as.toml", text, &[]).unwrap_or_else(|e| panic!("{e}")))
}

#[test]
fn a_scheduled_action_moves_the_desired_count_into_its_new_bounds() {
    let sched = r#"
[[services.web.auto_scaling.scheduled]]
name = "floor"
at = "5m"
min_capacity = 9
"#;
    let r = run("rate = 60", sched, "");
    assert_eq!(activities(&r).first(), Some(&(5, 9)));
    assert!(r.events.iter().any(|e| e.kind == EventKind::ScheduledAction && e.time == 300_000));
}
