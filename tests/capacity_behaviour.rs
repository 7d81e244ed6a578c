//! EC2 capacity minute by minute: capacity providers with managed scaling, an Auto Scaling
//! group's own policies, Spot interruptions and Availability Zone outages, against timelines
//! worked out by hand from the documented rules.
//!
//! The rules used throughout: a minute's datapoint is taken at its end and CloudWatch sees it 60 s
//! later (the publication delay); instances boot in exactly 60 s and register 30 s after that
//! (set below), so an instance launched at t takes tasks at t + 90 s.

use ecsim::record::{EventKind, EventRecord, RunResult};
use ecsim::{Scenario, simulate};

const CLUSTER: &str = r#"
name = "capacity"
seed = 1
[cluster]
availability_zones = ["a", "b"]
[images.app]
pull_time = "2s"
start_time = "0s"
"#;

/// A task definition of `cpu` units and 1 GiB with no load balancer.
fn task(name: &str, cpu: u32) -> String {
    format!(
        "[task_definitions.{name}]\ncpu = {cpu}\nmemory = 1024\n[[task_definitions.{name}.containers]]\nname = \"c\"\nimage = \"app\"\nmemory = 1024\n"
    )
}

/// A group of m5.large (2048 CPU units) that boots in 60 s and registers in 30 s.
fn group(name: &str, desired: u32, extra: &str) -> String {
    format!(
        "[[cluster.auto_scaling_groups]]\nname = \"{name}\"\ninstance_type = \"m5.large\"\ndesired_capacity = {desired}\nboot_time = \"60s\"\nagent_registration_time = \"30s\"\n{extra}\n"
    )
}

fn run(duration: &str, body: &str) -> RunResult {
    let text = format!("duration = \"{duration}\"\n{CLUSTER}{body}");
    let s = Scenario::from_str_named("capacity.toml", text, &[]).unwrap_or_else(|e| panic!("{e}"));
    simulate(&s)
}

fn events(r: &RunResult, kind: EventKind) -> Vec<&EventRecord> {
    r.events.iter().filter(|e| e.kind == kind).collect()
}

/// (seconds, detail) of the events of a kind.
fn timeline(r: &RunResult, kind: EventKind) -> Vec<(u64, String)> {
    events(r, kind).iter().map(|e| (e.time / 1000, e.detail.clone())).collect()
}

fn launches(r: &RunResult) -> Vec<(u64, String)> {
    events(r, EventKind::InstanceLaunched).iter().map(|e| (e.time / 1000, e.instance.clone())).collect()
}

#[test]
fn tasks_waiting_on_an_empty_group_bring_two_instances_then_the_rest_after_the_warmup() {
    // Five tasks of 1024 units wait on an empty group (two fit an m5.large).
    // - Minute 0 (published at 1:00, seen at 2:00): N = 0 with tasks waiting → 200. AlarmHigh (1
    //   of 1 above 100) fires at 2:00: ceil(max(N, 1) × 200 / 100) = 2 instances.
    // - They launch at 2:00 and take four tasks at 3:30. Minute 2 (seen at 4:00): N = 2 booting,
    //   the five waiting tasks need 3 → M = 3 → (2 + 1) / 2 = 150, above the target, but the
    //   instances launched at 2:00 are within the 300 s warmup: held.
    // - At 7:00 the warmup is over; minute 5 shows 2 busy instances and one task waiting
    //   (needs 1): M = 3 → 150 → ceil(2 × 1.5) = 3.
    let r = run(
        "12m",
        &format!(
            "{}{}[capacity_providers.cp]\nauto_scaling_group = \"cp\"\nmanaged_scaling = {{ target_capacity = 100 }}\n[services.web]\ntask_definition = \"web\"\ndesired_count = 5\ncapacity_provider_strategy = [{{ capacity_provider = \"cp\", weight = 1 }}]\n",
            group("cp", 0, "min_size = 0\nmax_size = 10"),
            task("web", 1024)
        ),
    );
    let scaling = timeline(&r, EventKind::GroupScaling);
    assert_eq!(scaling.len(), 2, "{scaling:?}");
    assert_eq!(scaling[0].0, 120);
    assert!(scaling[0].1.contains("desired capacity 0 -> 2"), "{}", scaling[0].1);
    assert!(scaling[0].1.contains("CapacityProviderReservation 200.0"));
    assert_eq!(scaling[1].0, 420);
    assert!(scaling[1].1.contains("desired capacity 2 -> 3"), "{}", scaling[1].1);
    assert!(scaling[1].1.contains("CapacityProviderReservation 150.0"));
    let held: Vec<_> =
        timeline(&r, EventKind::CapacityProviderScaling).into_iter().filter(|(_, d)| d.contains("warmup")).collect();
    assert_eq!(held.first().map(|h| h.0), Some(240));
    assert_eq!(launches(&r), vec![(120, "cp-1".into()), (120, "cp-2".into()), (420, "cp-3".into())]);
    // The fifth task starts once cp-3 registers at 7:00 + 90 s.
    let placed: Vec<u64> = events(&r, EventKind::TaskPlaced).iter().map(|e| e.time / 1000).collect();
    assert_eq!(placed, vec![210, 210, 210, 210, 510]);
    // The time series carries the reservation: 200 for minute 0, 150 for minute 2.
    let cpr: Vec<f64> = r.timeseries.iter().map(|x| x.capacity_provider_reservation).collect();
    assert_eq!(cpr[0], 200.0);
    assert_eq!(cpr[2], 150.0);
    assert_eq!(r.summary[0].running, 5);
}

#[test]
fn fifteen_minutes_with_an_empty_instance_scale_in_and_protection_keeps_the_busy_ones() {
    // Three instances, two tasks spread over two of them: M = 2, N = 3 → 66.7 every minute.
    // AlarmLow (15 of 15 below 100) sees minutes 0–14 at 16:00: ceil(3 × 66.7 / 100) = 2. Managed
    // termination protection covers the two busy instances, so the empty one goes; managed
    // draining drains it first (no tasks: at once).
    let r = run(
        "20m",
        &format!(
            "{}{}[capacity_providers.cp]\nauto_scaling_group = \"cp\"\nmanaged_scaling = {{ target_capacity = 100 }}\nmanaged_termination_protection = true\n[services.web]\ntask_definition = \"web\"\ndesired_count = 2\ncapacity_provider_strategy = [{{ capacity_provider = \"cp\", weight = 1 }}]\nplacement_strategy = [{{ type = \"spread\", field = \"instanceId\" }}]\n",
            group("cp", 3, "min_size = 1\nmax_size = 10"),
            task("web", 1024)
        ),
    );
    let scaling = timeline(&r, EventKind::GroupScaling);
    assert_eq!(scaling.len(), 1, "{scaling:?}");
    assert_eq!(scaling[0].0, 960);
    assert!(scaling[0].1.contains("desired capacity 3 -> 2"));
    let busy: Vec<String> = events(&r, EventKind::TaskPlaced).iter().map(|e| e.instance.clone()).collect();
    let terminated = events(&r, EventKind::InstanceTerminated);
    assert_eq!(terminated.len(), 1);
    assert_eq!(terminated[0].time, 960_000);
    assert!(!busy.contains(&terminated[0].instance), "a busy instance was terminated");
    assert_eq!(events(&r, EventKind::InstanceDraining)[0].instance, terminated[0].instance);
    assert_eq!(r.summary[0].running, 2);
    assert!(r.timeseries.iter().take(15).all(|x| (x.capacity_provider_reservation - 200.0 / 3.0).abs() < 1e-9));
}

#[test]
fn a_capacity_provider_strategy_fills_the_base_then_splits_by_weight() {
    // Base 1 and weight 1 on `a`, weight 3 on `b`, nine tasks: `a` takes the base, then the
    // other eight go 1:3 → `a` 1 + 2 = 3, `b` 6.
    let r = run(
        "3m",
        &format!(
            "{}{}{}[capacity_providers.a]\nauto_scaling_group = \"ga\"\n[capacity_providers.b]\nauto_scaling_group = \"gb\"\n[services.web]\ntask_definition = \"web\"\ndesired_count = 9\ncapacity_provider_strategy = [{{ capacity_provider = \"a\", base = 1, weight = 1 }}, {{ capacity_provider = \"b\", weight = 3 }}]\n",
            group("ga", 4, ""),
            group("gb", 4, ""),
            task("web", 256)
        ),
    );
    let placed = events(&r, EventKind::TaskPlaced);
    let on = |g: &str| placed.iter().filter(|e| e.instance.starts_with(g)).count();
    assert_eq!((on("ga-"), on("gb-")), (3, 6));
}

#[test]
fn a_group_target_tracking_policy_reacts_later_with_basic_monitoring() {
    // Two m5.large, four tasks of one vCPU, 120 requests/s of 25 ms: 3 vCPU busy over the
    // instances' 4 → 75% per instance, above the target of 50.
    // - Detailed monitoring (1-minute datapoints): AlarmHigh needs 3 of 3; minutes 0–2 are seen at
    //   4:00 → ceil(2 × 75 / 50) = 3.
    // - Basic monitoring (5-minute datapoints): the alarm keeps its three-minute span as one
    //   5-minute period; the period of minutes 0–4 is complete, and seen, at 6:00 → 3.
    let with = |monitoring: &str| {
        run(
            "8m",
            &format!(
                "{}[[cluster.auto_scaling_groups.scaling.target_tracking]]\npredefined_metric = \"ASGAverageCPUUtilization\"\ntarget_value = 50\n{}[target_groups.web]\nhealth_check = {{ interval = \"5s\", timeout = \"2s\", healthy_threshold = 2 }}\n[services.web]\ntask_definition = \"web\"\ndesired_count = 4\nload_balancer = {{ target_group = \"web\", container_name = \"c\", container_port = 80 }}\n[workloads.web]\ntarget_group = \"web\"\narrivals = {{ process = \"constant\", rate = 120 }}\nservice_time = \"25ms\"\n",
                group("g", 2, &format!("min_size = 1\nmax_size = 6\ninstance_monitoring = \"{monitoring}\"")),
                task("web", 1024).replace("memory = 1024\n[[", "memory = 1024\napp = { ready_time = \"0s\" }\n[[")
                    + "port_mappings = [{ container_port = 80, host_port = 0 }]\n"
            ),
        )
    };
    for (monitoring, at) in [("detailed", 240), ("basic", 360)] {
        let r = with(monitoring);
        let scaling = timeline(&r, EventKind::GroupScaling);
        assert_eq!(scaling.first().map(|s| s.0), Some(at), "{monitoring}: {scaling:?}");
        assert!(scaling[0].1.contains("desired capacity 2 -> 3"), "{monitoring}: {}", scaling[0].1);
        assert!(scaling[0].1.contains("TargetTracking-g-AlarmHigh"));
    }
}

#[test]
fn a_group_target_tracking_scale_in_on_five_minute_data_happens_once_per_cooldown() {
    // Four m5.large (8 vCPU), four tasks of one vCPU, 96 requests/s of 25 ms: 2.4 vCPU busy, 30%
    // per instance. With basic monitoring AlarmLow is 3 five-minute periods below 45%: minutes
    // 0-15, seen at 16:00 → ceil(4 × 30 / 50) = 3. The alarm stays in ALARM, and invokes the
    // policy every minute, on the same datapoint until 21:00: from 3 it would ask
    // ceil(3 × 30 / 50) = 2 at 17:00, yet "scale-in activities can also be delayed when an
    // Auto Scaling group is in a cooldown period" (the default 300 s). At 21:00 the period
    // 15:00-20:00 shows 2.4 vCPU over 3 instances, 40%: ceil(3 × 40 / 50) = 3, no change.
    let r = run(
        "25m",
        &format!(
            "{}[[cluster.auto_scaling_groups.scaling.target_tracking]]\npredefined_metric = \"ASGAverageCPUUtilization\"\ntarget_value = 50\n{}[target_groups.web]\nhealth_check = {{ interval = \"5s\", timeout = \"2s\", healthy_threshold = 2 }}\n[services.web]\ntask_definition = \"web\"\ndesired_count = 4\nload_balancer = {{ target_group = \"web\", container_name = \"c\", container_port = 80 }}\n[workloads.web]\ntarget_group = \"web\"\narrivals = {{ process = \"constant\", rate = 96 }}\nservice_time = \"25ms\"\n",
            group("g", 4, "min_size = 1\nmax_size = 6"),
            task("web", 1024).replace("memory = 1024\n[[", "memory = 1024\napp = { ready_time = \"0s\" }\n[[")
                + "port_mappings = [{ container_port = 80, host_port = 0 }]\n"
        ),
    );
    let scaling = timeline(&r, EventKind::GroupScaling);
    assert_eq!(scaling.len(), 1, "{scaling:?}");
    assert_eq!(scaling[0].0, 960);
    assert!(scaling[0].1.contains("desired capacity 4 -> 3") && scaling[0].1.contains("AlarmLow"), "{}", scaling[0].1);
    let held: Vec<u64> = events(&r, EventKind::ScalingHeld)
        .iter()
        .filter(|e| e.detail.contains("a desired capacity of 2 (now 3)") && e.detail.contains("scale-in cooldown"))
        .map(|e| e.time / 60_000)
        .collect();
    assert_eq!(held, vec![17, 18, 19, 20]);
}

#[test]
fn a_scheduled_action_sets_the_group_desired_capacity() {
    let r = run(
        "12m",
        &format!(
            "{}[[cluster.auto_scaling_groups.scaling.scheduled]]\nname = \"morning\"\nat = \"10m\"\ndesired_capacity = 4\n{}[services.web]\ntask_definition = \"web\"\ndesired_count = 1\n",
            group("g", 2, "min_size = 1\nmax_size = 6"),
            task("web", 256)
        ),
    );
    let scaling = timeline(&r, EventKind::GroupScaling);
    assert_eq!(scaling.len(), 1);
    assert_eq!(scaling[0].0, 600);
    assert!(scaling[0].1.contains("desired capacity 2 -> 4"));
    assert_eq!(launches(&r), vec![(600, "g-3".into()), (600, "g-4".into())]);
}

/// Three Spot instances (no on-demand) and six tasks of 512 units, spread over the instances;
/// EC2 interrupts g-1 at 5:00.
fn spot(draining: bool) -> RunResult {
    run(
        "10m",
        &format!(
            "[instance_types.\"m5.large\"]\nspot_interruption_rate = 0\n{}{}[services.web]\ntask_definition = \"web\"\ndesired_count = 6\nplacement_strategy = [{{ type = \"spread\", field = \"instanceId\" }}]\n[[actions]]\nat = \"5m\"\ninterrupt_spot = {{ instance = \"g-1\" }}\n",
            group(
                "g",
                3,
                &format!(
                    "spot_instance_draining = {draining}\nmixed_instances_policy = {{ instance_types = [{{ instance_type = \"m5.large\" }}], on_demand_base_capacity = 0, on_demand_percentage_above_base = 0 }}"
                )
            ),
            task("web", 512)
        ),
    )
}

#[test]
fn spot_draining_moves_the_tasks_at_the_notice_and_without_it_they_die_with_the_instance() {
    // The notice comes at 5:00 and EC2 terminates g-1 at 7:00; the group launches g-4 then.
    for draining in [true, false] {
        let r = spot(draining);
        let notice = events(&r, EventKind::SpotInterruption);
        assert_eq!((notice.len(), notice[0].time), (1, 300_000));
        let gone = events(&r, EventKind::InstanceTerminated);
        assert_eq!((gone[0].instance.as_str(), gone[0].time), ("g-1", 420_000));
        assert_eq!(launches(&r), vec![(420, "g-4".into())]);
        let replaced: Vec<u64> =
            events(&r, EventKind::TaskPlaced).iter().filter(|e| e.time > 0).map(|e| e.time / 1000).collect();
        let died =
            events(&r, EventKind::TaskStopped).iter().filter(|e| e.detail.contains("instance terminated")).count();
        if draining {
            // DRAINING at the notice: its two tasks are replaced on g-2 and g-3 at once (maximum
            // percent 200), then stopped; none is left to die at 7:00.
            assert_eq!(events(&r, EventKind::InstanceDraining)[0].time, 300_000);
            assert_eq!(replaced, vec![300, 300]);
            assert_eq!(died, 0);
        } else {
            assert!(events(&r, EventKind::InstanceDraining).is_empty());
            assert_eq!(replaced, vec![420, 420]);
            assert_eq!(died, 2);
        }
        assert_eq!(r.summary[0].running, 6);
    }
}

#[test]
fn an_availability_zone_outage_moves_the_group_and_it_rebalances_after() {
    // Four instances, two per zone. Zone `a` fails at 5:00 for 10 minutes: g-1 and g-3 go, the
    // group launches two into `b`. At 15:00 `a` is back: the group launches two into it (the fair
    // share of four over two zones), and once they register (16:30) terminates two from `b`.
    let r = run(
        "20m",
        &format!(
            "{}{}[services.web]\ntask_definition = \"web\"\ndesired_count = 4\n[[actions]]\nat = \"5m\"\naz_outage = {{ availability_zone = \"a\", duration = \"10m\" }}\n",
            group("g", 4, ""),
            task("web", 256)
        ),
    );
    let zone_of = |id: &str| {
        events(&r, EventKind::InstanceLaunched)
            .iter()
            .find(|e| e.instance == id)
            .map(|e| e.detail.clone())
            .unwrap_or_default()
    };
    let launched = launches(&r);
    assert_eq!(launched.iter().map(|l| l.0).collect::<Vec<_>>(), vec![300, 300, 900, 900]);
    assert!(zone_of("g-5").contains(" in b "), "{}", zone_of("g-5"));
    assert!(zone_of("g-7").contains(" in a "), "{}", zone_of("g-7"));
    let terminated: Vec<u64> = events(&r, EventKind::InstanceTerminated).iter().map(|e| e.time / 1000).collect();
    assert_eq!(terminated, vec![300, 300, 990, 990]);
    assert_eq!(r.summary[0].instances, 4);
    assert_eq!(r.summary[0].running, 4);
}

// ----- Elastic Beanstalk: simple scaling on a five-minute trigger ---------------------------

/// An Elastic Beanstalk environment on c5.large (2 vCPU) behind a target group with a 30 s
/// deregistration delay: one task of 1792 CPU units per instance, the default trigger (Average
/// CPUUtilization over one 5-minute period, visible a minute after it ends) with thresholds 60
/// and 25, and the group's 360 s cooldown. Requests of exactly 20 ms of CPU arrive as `arrivals`
/// says from 1:00 (once the first task serves): r requests/s keep 0.02 × r vCPU busy. The
/// environment's instances boot in exactly 50 s (in service then) and register 30 s later.
fn beanstalk(duration: &str, max: u32, arrivals: &str) -> RunResult {
    let text = format!(
        r#"duration = "{duration}"
{CLUSTER}
[task_definitions.shop]
network_mode = "bridge"
app = {{ ready_time = "0s" }}
[[task_definitions.shop.containers]]
name = "app"
image = "app"
cpu = 1792
memory = 1536
port_mappings = [{{ container_port = 80, host_port = 80 }}]
[target_groups.shop]
health_check = {{ interval = "5s", timeout = "2s", healthy_threshold = 2 }}
deregistration_delay = "30s"
[beanstalk.shop]
task_definition = "shop"
instance_type = "c5.large"
min_size = 1
max_size = {max}
load_balancer = {{ target_group = "shop", container_name = "app", container_port = 80 }}
trigger = {{ measure_name = "CPUUtilization", upper_threshold = 60, lower_threshold = 25 }}
[workloads.shop]
target_group = "shop"
arrivals = {{ {arrivals} }}
service_time = "20ms"
start = "1m"
"#
    );
    let mut s = Scenario::from_str_named("beanstalk.toml", text, &[]).unwrap_or_else(|e| panic!("{e}"));
    // The environment's group takes the defaults (40-80 s, 20-40 s); fixed here so that the
    // cooldown's start is known to the second.
    s.auto_scaling_groups[0].boot_time = ecsim::engine::Distribution::Fixed(50_000.0);
    s.auto_scaling_groups[0].agent_registration_time = ecsim::engine::Distribution::Fixed(30_000.0);
    simulate(&s)
}

/// (minute, detail) of the `scaling_held` events of a policy.
fn held(r: &RunResult, policy: &str) -> Vec<(u64, String)> {
    events(r, EventKind::ScalingHeld)
        .iter()
        .filter(|e| e.detail.contains(policy))
        .map(|e| (e.time / 60_000, e.detail.clone()))
        .collect()
}

#[test]
fn an_alarm_on_a_five_minute_period_invokes_its_policy_every_minute_and_the_cooldown_paces_it() {
    // CloudWatch: an alarm with an Auto Scaling action "continues to invoke the action once per
    // minute that the alarm remains in the new state" (alarm-actions docs), whatever its period.
    // EC2 Auto Scaling: a simple policy waits for the group's cooldown, which starts when the
    // last instance finishes launching (ASG:ec2-auto-scaling-scaling-cooldowns.md).
    // - 40 requests/s to 10:00 (0.8 vCPU: 40%; the period 0:00-5:00 with its idle first minute
    //   at 32%), then 150 (3 vCPU: one instance saturated).
    // - The period 10:00-15:00 is at 100%, visible at 16:00: the scale-up alarm goes to ALARM and
    //   the group goes 1 → 2. The instance is in service at 16:50: cooldown to 16:50 + 360 s =
    //   22:50.
    // - 17:00 to 20:00: the same period is still the latest, the alarm still in ALARM: invoked
    //   every minute, held each time. 21:00 and 22:00: the period 15:00-20:00 (100% on the old
    //   instance, then 3 vCPU over 4 = 75% with its backlog on top) is above 60: held again.
    // - 23:00, the first minute past 22:50: 2 → 3, the maximum. (Once per new period, as before,
    //   it would have waited until 26:00.)
    let r = beanstalk("25m", 3, r#"pattern = "step", initial = 40, changes = [{ at = "10m", rate = 150 }]"#);
    let scaling: Vec<(u64, String)> = timeline(&r, EventKind::GroupScaling)
        .into_iter()
        .filter(|(_, d)| d.contains("AWSEBScaleUpPolicyAlarm"))
        .map(|(t, d)| (t, d.split(". Cause").next().unwrap_or_default().to_string()))
        .collect();
    assert_eq!(
        scaling,
        vec![
            (960, "Auto Scaling group shop: desired capacity 1 -> 2".to_string()),
            (1380, "Auto Scaling group shop: desired capacity 2 -> 3".to_string())
        ]
    );
    let up = held(&r, "ScaleUpPolicy wanted group shop a desired capacity of 3 (now 2)");
    assert_eq!(up.iter().map(|h| h.0).collect::<Vec<_>>(), vec![17, 18, 19, 20, 21, 22], "{up:?}");
    for (_, detail) in &up {
        assert!(
            detail.ends_with(
                "the group's cooldown is in effect until 22:50 (its last scaling activity completed at 16:50)"
            ),
            "{detail}"
        );
    }
    // At 24:00 the next activity's cooldown (23:50 + 360 s) holds the policy at the maximum.
    let after = held(&r, "ScaleUpPolicy wanted group shop a desired capacity of 4 (now 3)");
    assert!(after.first().is_some_and(|h| h.0 == 24 && h.1.contains("until 29:50")), "{after:?}");
}

#[test]
fn the_group_cooldown_holds_a_scale_in_after_a_scale_out_and_the_instance_drains_first() {
    // The cooldown belongs to the group: "any further scaling activities initiated by simple
    // scaling policies" wait for it, scale-in as well (ASG:ec2-auto-scaling-scaling-cooldowns.md).
    // - 40 requests/s, 70 (1.4 vCPU: 70%) from 10:00, 20 (0.4 vCPU) from 16:00.
    // - 16:00: the period 10:00-15:00 at 70% adds an instance, in service at 16:50: cooldown
    //   until 22:50. The scale-up alarm, still in ALARM to 20:00, is held.
    // - The period 15:00-20:00: minute 15 at 70% on one instance; minutes 16-19 at 0.4 vCPU over
    //   two instances in service (20 points shared by two datapoints, the new one idle until it
    //   serves): (70 + 4 × 20) / 9 = 16.7% < 25, visible at 21:00. The scale-down alarm asks
    //   2 → 1 at 21:00 and 22:00: held by the cooldown; at 23:00 the group goes 2 → 1.
    // - The group is attached to the target group (Elastic Beanstalk's load balancer sends to
    //   the instances): it deregisters the instance, which drains for the 30 s delay, and
    //   terminates it at 23:30, not at once; no request is cut off.
    // - The scale-in's cooldown starts then: 23:30 + 360 s = 29:30. The alarm asks again at
    //   24:00 and 25:00 (the same period), and 26:00 (the period 20:00-25:00, 0.4 vCPU over two
    //   instances, then one: 10-20%): held until 29:30, ahead of the minimum of 1.
    let r = beanstalk(
        "26m",
        4,
        r#"pattern = "step", initial = 40, changes = [{ at = "10m", rate = 70 }, { at = "16m", rate = 20 }]"#,
    );
    let scaling: Vec<(u64, String)> = timeline(&r, EventKind::GroupScaling)
        .into_iter()
        .map(|(t, d)| (t, d.split(". Cause").next().unwrap_or_default().to_string()))
        .collect();
    assert_eq!(
        scaling,
        vec![
            (960, "Auto Scaling group shop: desired capacity 1 -> 2".to_string()),
            (1380, "Auto Scaling group shop: desired capacity 2 -> 1".to_string())
        ]
    );
    let down = held(&r, "ScaleDownPolicy wanted group shop a desired capacity of 1 (now 2)");
    assert_eq!(down.iter().map(|h| h.0).collect::<Vec<_>>(), vec![21, 22], "{down:?}");
    assert!(down.iter().all(|h| h.1.contains("cooldown is in effect until 22:50")), "{down:?}");
    let draining = events(&r, EventKind::TargetDraining);
    assert_eq!(draining.len(), 1);
    assert_eq!(draining[0].time, 1_380_000);
    assert!(draining[0].detail.contains("WaitingForELBConnectionDraining, 30.000 s delay"), "{}", draining[0].detail);
    let gone = events(&r, EventKind::InstanceTerminated);
    assert_eq!(gone.iter().map(|e| e.time).collect::<Vec<_>>(), vec![1_410_000]);
    assert_eq!(gone[0].instance, draining[0].instance);
    let errors: Vec<(u64, u64)> =
        r.timeseries.iter().filter(|x| x.errors_5xx > 0).map(|x| (x.time / 60_000, x.errors_5xx)).collect();
    assert_eq!(errors, vec![], "5xx by minute");
    let again = held(&r, "ScaleDownPolicy wanted group shop a desired capacity of 0 (now 1)");
    assert_eq!(again.iter().map(|h| h.0).collect::<Vec<_>>(), vec![24, 25, 26], "{again:?}");
    assert!(
        again.iter().all(|h| h.1.ends_with("until 29:30 (its last scaling activity completed at 23:30)")),
        "{again:?}"
    );
}
