//! Rolling updates keep within their bounds: over random desired counts and
//! (minimumHealthyPercent, maximumPercent) pairs, at every instant of the update the healthy
//! tasks stay at or above ceil(desired × min / 100) and the tasks RUNNING, PENDING or STOPPING
//! at or below floor(desired × max / 100) (ECS-DG:deployment-type-ecs.md), and the update ends
//! with every task on the new revision.

use std::collections::BTreeMap;

use ecsim::record::{EventKind, RunResult};
use ecsim::{Scenario, simulate};
use proptest::prelude::*;

fn scenario(desired: u32, min: u32, max: u32, seed: u64) -> RunResult {
    let text = format!(
        r#"
name = "roll"
seed = {seed}
duration = "40m"
[cluster]
availability_zones = ["a", "b"]
[[cluster.auto_scaling_groups]]
name = "g"
instance_type = "m5.4xlarge"
desired_capacity = 3
[task_definitions.v1]
family = "app"
cpu = 256
memory = 256
[[task_definitions.v1.containers]]
name = "c"
image = "app:1"
memory = 256
[task_definitions.v2]
family = "app"
revision = 2
cpu = 256
memory = 256
[[task_definitions.v2.containers]]
name = "c"
image = "app:2"
memory = 256
[services.app]
task_definition = "v1"
desired_count = {desired}
deployment_configuration = {{ minimum_healthy_percent = {min}, maximum_percent = {max} }}
[[actions]]
at = "10m"
update_service = {{ service = "app", task_definition = "v2" }}
"#
    );
    simulate(&Scenario::from_str_named("roll.toml", text, &[]).unwrap_or_else(|e| panic!("{e}")))
}

/// Without a load balancer a task counts as healthy 40 s after RUNNING.
const HEALTHY_AFTER_MS: u64 = 40_000;

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn rolling_updates_stay_within_minimum_healthy_and_maximum_percent(
        desired in 1u32..=10,
        min in prop::sample::select(vec![0u32, 25, 50, 75, 100]),
        max in prop::sample::select(vec![100u32, 125, 150, 200]),
        seed in 0u64..1000,
    ) {
        let min_healthy = (desired * min).div_ceil(100) as usize;
        let max_tasks = ((desired * max / 100).max(desired)) as usize;
        // When the bounds allow neither a start nor a stop the deployment is stuck, as
        // documented; that case has its own test.
        prop_assume!(max_tasks > desired as usize || min_healthy < desired as usize);
        let r = scenario(desired, min, max, seed);
        // Replay the log: per task, when it was placed, ran, was asked to stop and stopped.
        let mut live: BTreeMap<String, (Option<u64>, bool)> = BTreeMap::new();
        let update = 600_000;
        let mut i = 0;
        let events = &r.events;
        while i < events.len() {
            let t = events[i].time;
            while i < events.len() && events[i].time == t {
                let e = &events[i];
                match e.kind {
                    EventKind::TaskPlaced => { live.insert(e.task.clone(), (None, false)); }
                    EventKind::TaskRunning => { if let Some(x) = live.get_mut(&e.task) { x.0 = Some(t); } }
                    EventKind::TaskStopping => { if let Some(x) = live.get_mut(&e.task) { x.1 = true; } }
                    EventKind::TaskStopped => { live.remove(&e.task); }
                    _ => {}
                }
                i += 1;
            }
            if t < update {
                continue;
            }
            let healthy = live.values().filter(|(run, stopping)| !stopping && run.is_some_and(|r| r + HEALTHY_AFTER_MS <= t)).count();
            prop_assert!(live.len() <= max_tasks, "t={t}: {} tasks live, maximum {max_tasks}", live.len());
            prop_assert!(healthy >= min_healthy, "t={t}: {healthy} healthy, minimum {min_healthy}");
        }
        let last = r.timeseries.last().unwrap();
        prop_assert_eq!(last.primary_revision, 2);
        prop_assert_eq!(last.primary_running, desired);
        prop_assert_eq!(last.active_running, 0);
    }
}

#[test]
fn bounds_that_allow_no_move_leave_the_deployment_stuck_and_say_so() {
    // min = max = 100, and desired 1 at 25/100 (ceil(0.25) = 1 healthy, floor(1) = 1 task):
    // "unable to stop or start tasks during a deployment" (ECS-DG:deployment-type-ecs.md).
    for (desired, min, max) in [(4, 100, 100), (1, 25, 100)] {
        let r = scenario(desired, min, max, 1);
        assert!(r.events.iter().any(|e| e.kind == EventKind::DeploymentBlocked), "{desired} {min} {max}");
        assert_eq!(r.timeseries.last().unwrap().active_running, desired);
    }
}
