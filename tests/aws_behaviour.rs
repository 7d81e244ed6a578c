//! Each AWS behaviour the foundation models, shown on a small scenario against a number worked
//! out by hand from the documented rule. The rule and its source are in each test's comment.

use ecsim::record::{EventKind, EventRecord, RunResult};
use ecsim::{Scenario, simulate};

/// A scenario header: three AZs, fixed latencies so times can be computed by hand
/// (image pull 10 s, container start 1 s, shutdown 1 s).
fn scenario(body: &str) -> RunResult {
    let text = format!(
        r#"
name = "t"
seed = 3
duration = "20m"

[images.app]
pull_time = "10s"
start_time = "1s"

{body}
"#
    );
    let s = Scenario::from_str_named("test.toml", text, &[]).unwrap_or_else(|e| panic!("{e}"));
    simulate(&s)
}

fn summary<'a>(r: &'a RunResult, service: &str) -> &'a ecsim::record::ServiceSummary {
    r.summary.iter().find(|s| s.service == service).unwrap()
}

fn events(r: &RunResult, kind: EventKind) -> Vec<&EventRecord> {
    r.events.iter().filter(|e| e.kind == kind).collect()
}

/// Tasks of a service per instance at the end of the run.
fn tasks_per_instance(r: &RunResult, service: &str) -> std::collections::BTreeMap<String, i32> {
    let mut m = std::collections::BTreeMap::new();
    for e in r.events.iter().filter(|e| e.service == service) {
        match e.kind {
            EventKind::TaskPlaced => *m.entry(e.instance.clone()).or_insert(0) += 1,
            EventKind::TaskStopped => *m.entry(e.instance.clone()).or_insert(0) -= 1,
            _ => {}
        }
    }
    m.retain(|_, n| *n > 0);
    m
}

fn task_def(name: &str, mode: &str, cpu: u32, memory: u32, ports: &str) -> String {
    format!(
        r#"
[task_definitions.{name}]
network_mode = "{mode}"
shutdown_time = "1s"
[[task_definitions.{name}.containers]]
name = "c"
image = "app"
cpu = {cpu}
memory = {memory}
port_mappings = [{ports}]
"#
    )
}

fn cluster(azs: &[&str], groups: &[(&str, &str, u32)]) -> String {
    let mut s = format!(
        "[cluster]\navailability_zones = [{}]\n",
        azs.iter().map(|a| format!("\"{a}\"")).collect::<Vec<_>>().join(", ")
    );
    for (name, t, n) in groups {
        s += &format!(
            "[[cluster.auto_scaling_groups]]\nname = \"{name}\"\ninstance_type = \"{t}\"\ndesired_capacity = {n}\n"
        );
    }
    s
}

#[test]
fn a_static_host_port_allows_one_task_per_instance() {
    // ECS-DG:service-event-messages.md "Not enough ports": only one container can use a host
    // port at a time, so 4 instances hold 4 of 6 tasks mapping host port 80.
    let r = scenario(&format!(
        "{}{}[services.web]\ntask_definition = \"web\"\ndesired_count = 6\n",
        cluster(&["a", "b"], &[("g", "m5.large", 4)]),
        task_def("web", "bridge", 256, 512, "{ container_port = 80, host_port = 80 }")
    ));
    let s = summary(&r, "web");
    assert_eq!((s.running, s.pending, s.unplaced), (4, 2, 2));
    let failed = events(&r, EventKind::PlacementFailed);
    assert!(failed[0].detail.starts_with("RESOURCE:PORTS"));
    assert!(failed[0].detail.contains("is already using a port required by your task"));
}

#[test]
fn dynamic_host_ports_come_from_the_ephemeral_range() {
    // host_port 0 → the agent assigns ports from 32768–60999, in turn: two tasks on one
    // instance get 32768 and 32769.
    let r = scenario(&format!(
        "{}{}[services.web]\ntask_definition = \"web\"\ndesired_count = 2\n",
        cluster(&["a"], &[("g", "m5.large", 1)]),
        task_def("web", "bridge", 256, 512, "{ container_port = 80, host_port = 0 }")
    ));
    assert_eq!(summary(&r, "web").running, 2);
    let placed: Vec<&str> = events(&r, EventKind::TaskPlaced).iter().map(|e| e.detail.as_str()).collect();
    assert!(placed[0].ends_with("host ports 32768"), "{placed:?}");
    assert!(placed[1].ends_with("host ports 32769"), "{placed:?}");
}

#[test]
fn reserved_host_ports_are_never_given_to_tasks() {
    // Port 22 (SSH) is reserved by default on every instance (ECS-DG:task_definition_parameters.md).
    let r = scenario(&format!(
        "{}{}[services.ssh]\ntask_definition = \"ssh\"\ndesired_count = 1\n",
        cluster(&["a"], &[("g", "m5.large", 2)]),
        task_def("ssh", "bridge", 256, 512, "{ container_port = 22, host_port = 22 }")
    ));
    assert_eq!(summary(&r, "ssh").running, 0);
    assert!(events(&r, EventKind::PlacementFailed)[0].detail.starts_with("RESOURCE:PORTS"));
}

#[test]
fn awsvpc_tasks_are_limited_by_enis() {
    // ECS-DG:task-networking-awsvpc.md: a c5.large has 3 ENIs, the primary counts, so 2 awsvpc
    // tasks fit per instance: 2 instances → 4 of 5 tasks, the fifth fails on RESOURCE:ENI.
    let r = scenario(&format!(
        "{}{}[services.api]\ntask_definition = \"api\"\ndesired_count = 5\n",
        cluster(&["a"], &[("g", "c5.large", 2)]),
        task_def("api", "awsvpc", 128, 256, "{ container_port = 8080 }")
    ));
    let s = summary(&r, "api");
    assert_eq!((s.running, s.unplaced), (4, 1));
    assert!(events(&r, EventKind::PlacementFailed)[0].detail.starts_with("RESOURCE:ENI"));
}

#[test]
fn cpu_units_limit_tasks_per_instance() {
    // ECS-DG:service-event-messages.md "Not enough CPU": 1,024 units per vCPU, so a task of 1,000
    // units fits twice on a 2-vCPU m5.large (2,048): 3 instances → 6 of 7 tasks.
    let r = scenario(&format!(
        "{}{}[services.cpu]\ntask_definition = \"cpu\"\ndesired_count = 7\n",
        cluster(&["a"], &[("g", "m5.large", 3)]),
        task_def("cpu", "bridge", 1000, 512, "")
    ));
    let s = summary(&r, "cpu");
    assert_eq!((s.running, s.unplaced), (6, 1));
    let f = &events(&r, EventKind::PlacementFailed)[0].detail;
    assert!(f.starts_with("RESOURCE:CPU") && f.contains("has insufficient CPU units available"), "{f}");
}

#[test]
fn memory_limits_tasks_per_instance() {
    // ECS-DG:service-event-messages.md "Not enough memory": a task of 1000 MiB on instances that
    // register 1024 MiB runs once per instance: 2 instances → 2 of 3.
    let r = scenario(&format!(
        "[instance_types.\"tiny.1g\"]\nvcpu = 2\nmemory_mib = 1100\nmax_enis = 2\non_demand_price = 0.01\nregistered_memory_mib = 1024\n{}{}[services.mem]\ntask_definition = \"mem\"\ndesired_count = 3\n",
        cluster(&["a"], &[("g", "tiny.1g", 2)]),
        task_def("mem", "bridge", 0, 1000, "")
    ));
    let s = summary(&r, "mem");
    assert_eq!((s.running, s.unplaced), (2, 1));
    assert!(events(&r, EventKind::PlacementFailed)[0].detail.starts_with("RESOURCE:MEMORY"));
}

#[test]
fn registered_memory_follows_the_documented_m4_large_ratio() {
    // ECS-DG:memory-management.md: an m4.large (8192 MiB) registers about 7985 MiB; an m5.large
    // has the same 8192 MiB, so 3 tasks of 2600 MiB (7800) fit and a fourth does not.
    let r = scenario(&format!(
        "{}{}[services.m]\ntask_definition = \"m\"\ndesired_count = 4\n",
        cluster(&["a"], &[("g", "m5.large", 1)]),
        task_def("m", "bridge", 0, 2600, "")
    ));
    assert_eq!(summary(&r, "m").running, 3);
    let reg = &events(&r, EventKind::InstanceRegistered)[0].detail;
    assert!(reg.contains("7985 MiB"), "{reg}");
}

#[test]
fn binpack_fills_the_instance_with_the_least_memory_left() {
    // ECS-DG:task-placement-strategies.md: binpack(memory) picks the instance with the least
    // memory left that still fits. An m5.large (7985 MiB) and an m5.xlarge (15970 MiB): tasks of
    // 2048 MiB go to the m5.large until it holds 3 (6144; a fourth would need 8192), then to the
    // m5.xlarge.
    let r = scenario(&format!(
        "{}{}[services.b]\ntask_definition = \"b\"\ndesired_count = 5\nplacement_strategy = [{{ type = \"binpack\", field = \"memory\" }}]\n",
        cluster(&["a"], &[("small", "m5.large", 1), ("big", "m5.xlarge", 1)]),
        task_def("b", "bridge", 0, 2048, "")
    ));
    let per = tasks_per_instance(&r, "b");
    assert_eq!(per.get("small-1"), Some(&3));
    assert_eq!(per.get("big-1"), Some(&2));
}

#[test]
fn spread_over_zones_balances_the_service() {
    // spread(attribute:ecs.availability-zone): 6 tasks over 3 AZs → 2 per AZ, even though AZ a
    // has 3 instances and b and c one each.
    let r = scenario(&format!(
        "{}{}[services.s]\ntask_definition = \"s\"\ndesired_count = 6\nplacement_strategy = [{{ type = \"spread\", field = \"attribute:ecs.availability-zone\" }}]\n",
        "[cluster]\navailability_zones = [\"a\", \"b\", \"c\"]\n[[cluster.auto_scaling_groups]]\nname = \"ga\"\ninstance_type = \"m5.large\"\ndesired_capacity = 3\navailability_zones = [\"a\"]\n[[cluster.auto_scaling_groups]]\nname = \"gbc\"\ninstance_type = \"m5.large\"\ndesired_capacity = 2\navailability_zones = [\"b\", \"c\"]\n",
        task_def("s", "bridge", 128, 256, "")
    ));
    let per = tasks_per_instance(&r, "s");
    let in_a: i32 = per.iter().filter(|(k, _)| k.starts_with("ga-")).map(|(_, n)| n).sum();
    assert_eq!(in_a, 2);
    assert_eq!(per.get("gbc-1"), Some(&2));
    assert_eq!(per.get("gbc-2"), Some(&2));
}

#[test]
fn the_default_strategy_spreads_over_zones_then_instances() {
    // ECS-DG:ecs_services.md: with no strategy the replica scheduler prefers the AZ with the
    // fewest of the service's tasks, then the instance with the fewest: 6 tasks on 6 instances
    // over 3 AZs → one per instance.
    let r = scenario(&format!(
        "{}{}[services.d]\ntask_definition = \"d\"\ndesired_count = 6\n",
        cluster(&["a", "b", "c"], &[("g", "m5.large", 6)]),
        task_def("d", "bridge", 128, 256, "")
    ));
    let per = tasks_per_instance(&r, "d");
    assert_eq!(per.len(), 6);
    assert!(per.values().all(|&n| n == 1));
}

#[test]
fn scale_in_keeps_zones_balanced() {
    // ECS-DG:ecs_services.md: scale-in prefers the AZ with the most of the service's tasks, then
    // the instance with the most. 6 tasks, 2 in each of 3 AZs, scaled to 3 → one per AZ.
    let r = scenario(&format!(
        "{}{}[services.d]\ntask_definition = \"d\"\ndesired_count = 6\n[[actions]]\nat = \"5m\"\nset_desired_count = {{ service = \"d\", desired_count = 3 }}\n",
        cluster(&["a", "b", "c"], &[("g", "m5.large", 3)]),
        task_def("d", "bridge", 128, 256, "")
    ));
    let per = tasks_per_instance(&r, "d");
    assert_eq!(per.len(), 3, "{per:?}");
    assert!(per.values().all(|&n| n == 1), "{per:?}");
    assert_eq!(summary(&r, "d").running, 3);
}

#[test]
fn distinct_instance_puts_each_task_on_its_own_instance() {
    let r = scenario(&format!(
        "{}{}[services.x]\ntask_definition = \"x\"\ndesired_count = 5\nplacement_constraints = [{{ type = \"distinctInstance\" }}]\n",
        cluster(&["a"], &[("g", "m5.large", 4)]),
        task_def("x", "bridge", 128, 256, "")
    ));
    assert_eq!(summary(&r, "x").running, 4);
    assert!(events(&r, EventKind::PlacementFailed)[0].detail.starts_with("CONSTRAINT:distinctInstance"));
}

#[test]
fn member_of_restricts_tasks_to_matching_instances() {
    // ECS-DG:task-placement-constraints.md: memberOf(attribute:ecs.instance-type =~ c5.*) keeps
    // the tasks on the c5 group; when those are full the task stays unplaced.
    let r = scenario(&format!(
        "{}{}[services.x]\ntask_definition = \"x\"\ndesired_count = 5\nplacement_constraints = [{{ type = \"memberOf\", expression = \"attribute:ecs.instance-type =~ c5.*\" }}]\n",
        cluster(&["a"], &[("m", "m5.large", 3), ("c", "c5.large", 2)]),
        task_def("x", "bridge", 1024, 256, "")
    ));
    let per = tasks_per_instance(&r, "x");
    assert!(per.keys().all(|k| k.starts_with("c-")), "{per:?}");
    assert_eq!(summary(&r, "x").running, 4);
    assert!(events(&r, EventKind::PlacementFailed)[0].detail.starts_with("RESOURCE:CPU"));
}

#[test]
fn an_instance_boots_then_registers_before_it_takes_tasks() {
    // Boot 60 s + agent registration 30 s (fixed here): the instance is ACTIVE at 90 s, and the
    // task placed then is RUNNING after the 10 s pull and 1 s start, at 101 s.
    let r = scenario(&format!(
        "[cluster]\navailability_zones = [\"a\"]\n[[cluster.auto_scaling_groups]]\nname = \"g\"\ninstance_type = \"m5.large\"\ndesired_capacity = 1\nboot_at_start = true\nboot_time = \"60s\"\nagent_registration_time = \"30s\"\n{}[services.x]\ntask_definition = \"x\"\ndesired_count = 1\n",
        task_def("x", "bridge", 128, 256, "")
    ));
    assert_eq!(events(&r, EventKind::InstanceLaunched)[0].time, 0);
    assert_eq!(events(&r, EventKind::InstanceRegistered)[0].time, 90_000);
    assert_eq!(events(&r, EventKind::TaskPlaced)[0].time, 90_000);
    assert_eq!(events(&r, EventKind::TaskRunning)[0].time, 101_000);
    // Before registration the task had nowhere to go.
    assert!(events(&r, EventKind::PlacementFailed)[0].detail.starts_with("RESOURCE:NO_INSTANCES"));
}

#[test]
fn a_cached_image_costs_only_the_manifest_check() {
    // AWS-SEMANTICS.md §10: with the default pull behaviour a cached image costs the manifest
    // check (0.2 s): the second task on the instance runs 0.2 + 1 s after placement, the first
    // 10 + 1 s.
    let r = scenario(&format!(
        "{}{}[services.x]\ntask_definition = \"x\"\ndesired_count = 1\n[[actions]]\nat = \"2m\"\nset_desired_count = {{ service = \"x\", desired_count = 2 }}\n",
        cluster(&["a"], &[("g", "m5.large", 1)]),
        task_def("x", "bridge", 128, 256, "")
    ));
    let running = events(&r, EventKind::TaskRunning);
    assert_eq!(running[0].time, 11_000);
    assert_eq!(running[1].time, 120_000 + 1_200);
}

#[test]
fn awsvpc_tasks_wait_for_their_eni() {
    // awsvpc adds the ENI attachment (fixed 5 s here) before the pull: RUNNING at 5 + 10 + 1 s.
    let r = scenario(&format!(
        "[cluster]\navailability_zones = [\"a\"]\neni_attach_time = \"5s\"\n[[cluster.auto_scaling_groups]]\nname = \"g\"\ninstance_type = \"m5.large\"\ndesired_capacity = 1\n{}[services.x]\ntask_definition = \"x\"\ndesired_count = 1\n",
        task_def("x", "awsvpc", 128, 256, "")
    ));
    assert_eq!(events(&r, EventKind::TaskRunning)[0].time, 16_000);
}

#[test]
fn stop_timeout_caps_a_slow_shutdown() {
    // The agent sends SIGKILL after stopTimeout (30 s by default): an app needing 90 s to exit
    // is STOPPED 30 s after StopTask.
    let td = task_def("x", "bridge", 128, 256, "").replace("shutdown_time = \"1s\"", "shutdown_time = \"90s\"");
    let r = scenario(&format!(
        "{}{td}[services.x]\ntask_definition = \"x\"\ndesired_count = 1\n[[actions]]\nat = \"5m\"\nstop_tasks = {{ service = \"x\", count = 1 }}\n",
        cluster(&["a"], &[("g", "m5.large", 1)]),
    ));
    let stopping = events(&r, EventKind::TaskStopping)[0];
    let stopped = events(&r, EventKind::TaskStopped)[0];
    assert_eq!((stopping.time, stopped.time), (300_000, 330_000));
    assert_eq!(stopped.detail, "Task stopped by user");
    // The service replaces it once it has stopped: a new task is placed at once.
    let replacement = events(&r, EventKind::TaskPlaced)[1];
    assert_eq!(replacement.time, 300_000);
    assert_eq!(summary(&r, "x").running, 1);
}

/// A service of 4 tasks packed on one m5.large (binpack picks it over the m5.xlarge), then that
/// instance drained at 5 minutes under the given deployment configuration.
fn drain(min: u32, max: u32) -> RunResult {
    scenario(&format!(
        "{}{}[services.x]\ntask_definition = \"x\"\ndesired_count = 4\nplacement_strategy = [{{ type = \"binpack\", field = \"memory\" }}]\ndeployment_configuration = {{ minimum_healthy_percent = {min}, maximum_percent = {max} }}\n[[actions]]\nat = \"5m\"\ndrain_instance = {{ instance = \"old-1\" }}\n",
        cluster(&["a"], &[("old", "m5.large", 1), ("new", "m5.xlarge", 1)]),
        task_def("x", "bridge", 128, 512, "")
    ))
}

#[test]
fn draining_at_min_50_stops_two_tasks_before_starting_two() {
    // ECS-DG:container-instance-draining.md: desired 4 at minimumHealthyPercent 50 (and max 100)
    // → stop 2 (300 s), start 2 once they have stopped (301 s, after the 1 s shutdown), and stop
    // the other 2 when the new ones are healthy: RUNNING at 301 + 11 = 312 s, healthy 40 s later
    // at 352 s.
    let r = drain(50, 100);
    let at =
        |kind: EventKind| events(&r, kind).iter().filter(|e| e.time >= 300_000).map(|e| e.time).collect::<Vec<_>>();
    assert_eq!(&at(EventKind::TaskStopping)[..2], &[300_000, 300_000]);
    assert_eq!(at(EventKind::TaskPlaced).len(), 4);
    assert_eq!(&at(EventKind::TaskPlaced)[..2], &[301_000, 301_000]);
    assert_eq!(&at(EventKind::TaskStopping)[2..4], &[352_000, 352_000]);
    assert_eq!(tasks_per_instance(&r, "x").get("new-1"), Some(&4));
    assert!(events(&r, EventKind::InstanceDrained).iter().any(|e| e.instance == "old-1"));
}

#[test]
fn draining_at_the_defaults_starts_replacements_first() {
    // minimumHealthyPercent 100 / maximumPercent 200: 4 replacements start at once (300 s), are
    // RUNNING at 311 s and healthy at 351 s; only then do the 4 old tasks stop.
    let r = drain(100, 200);
    let after =
        |kind: EventKind| events(&r, kind).iter().filter(|e| e.time >= 300_000).map(|e| e.time).collect::<Vec<_>>();
    assert_eq!(after(EventKind::TaskPlaced), vec![300_000; 4]);
    assert_eq!(after(EventKind::TaskStopping), vec![351_000; 4]);
}

#[test]
fn min_and_max_at_100_block_draining() {
    // ECS-DG:container-instance-draining.md: min = max = 100 blocks draining entirely; ECS says
    // the deployment configuration allows it to stop or start nothing.
    let r = drain(100, 100);
    assert!(events(&r, EventKind::TaskStopping).is_empty());
    let blocked = events(&r, EventKind::DeploymentBlocked);
    assert_eq!(blocked.len(), 1);
    assert!(blocked[0].detail.contains("Update the minimumHealthyPercent or maximumPercent value"));
}

#[test]
fn daemon_runs_one_task_per_active_instance_and_stops_last_on_drain() {
    // ECS-DG:ecs_services.md: a DAEMON service runs one task on each ACTIVE instance, adds one to
    // each instance that registers, and on a DRAINING instance stops after the other tasks.
    let r = scenario(&format!(
        "[cluster]\navailability_zones = [\"a\"]\n[[cluster.auto_scaling_groups]]\nname = \"g\"\ninstance_type = \"m5.large\"\ndesired_capacity = 2\n[[cluster.auto_scaling_groups]]\nname = \"late\"\ninstance_type = \"m5.large\"\ndesired_capacity = 1\nboot_at_start = true\nboot_time = \"60s\"\nagent_registration_time = \"30s\"\n{}{}[services.agent]\ntask_definition = \"agent\"\nscheduling_strategy = \"DAEMON\"\n[services.web]\ntask_definition = \"web\"\ndesired_count = 1\ndeployment_configuration = {{ minimum_healthy_percent = 0 }}\nplacement_constraints = [{{ type = \"memberOf\", expression = \"ec2InstanceId == g-1\" }}]\n[[actions]]\nat = \"5m\"\ndrain_instance = {{ instance = \"g-1\" }}\n",
        task_def("agent", "bridge", 128, 128, ""),
        task_def("web", "bridge", 128, 128, "")
    ));
    let placed: Vec<(&str, u64)> = events(&r, EventKind::TaskPlaced)
        .iter()
        .filter(|e| e.service == "agent")
        .map(|e| (e.instance.as_str(), e.time))
        .collect();
    assert_eq!(placed, vec![("g-1", 0), ("g-2", 0), ("late-1", 90_000)]);
    // On g-1 the web task stops first (it has nowhere else to go under its constraint), the
    // daemon task after it.
    let stops: Vec<(&str, &str)> = events(&r, EventKind::TaskStopping)
        .iter()
        .filter(|e| e.instance == "g-1")
        .map(|e| (e.service.as_str(), e.detail.as_str()))
        .collect();
    assert_eq!(stops.first().map(|s| s.0), Some("web"));
    assert_eq!(stops.last().map(|s| s.0), Some("agent"));
    let agent = summary(&r, "agent");
    assert_eq!((agent.desired, agent.running), (2, 2));
}

#[test]
fn terminating_an_instance_loses_its_tasks_and_the_service_replaces_them() {
    let r = scenario(&format!(
        "{}{}[services.x]\ntask_definition = \"x\"\ndesired_count = 4\n[[actions]]\nat = \"5m\"\nterminate_instance = {{ instance = \"g-1\" }}\n",
        cluster(&["a", "b"], &[("g", "m5.large", 2)]),
        task_def("x", "bridge", 128, 256, "")
    ));
    let lost: Vec<_> =
        events(&r, EventKind::TaskStopped).iter().filter(|e| e.time == 300_000).map(|e| e.instance.clone()).collect();
    assert_eq!(lost, vec!["g-1", "g-1"]);
    // The tasks move to g-2 at once; the group launches g-3 to keep its desired capacity of 2
    // (ASG:ec2-auto-scaling-health-checks.md: a terminated instance is replaced).
    let launched: Vec<_> =
        events(&r, EventKind::InstanceLaunched).iter().map(|e| (e.instance.clone(), e.time)).collect();
    assert_eq!(launched, vec![("g-3".to_string(), 300_000)]);
    let s = summary(&r, "x");
    assert_eq!((s.running, s.instances, s.hosts), (4, 2, 1));
}

#[test]
fn decrementing_the_desired_capacity_keeps_the_group_smaller() {
    // TerminateInstanceInAutoScalingGroup --should-decrement-desired-capacity: no replacement;
    // below the group's minimum size the call is refused and the instance stays.
    let with_min = |min: u32| {
        scenario(&format!(
            "{}min_size = {min}\n{}[services.x]\ntask_definition = \"x\"\ndesired_count = 4\n[[actions]]\nat = \"5m\"\nterminate_instance = {{ instance = \"g-1\", should_decrement_desired_capacity = true }}\n",
            cluster(&["a", "b"], &[("g", "m5.large", 2)]),
            task_def("x", "bridge", 128, 256, "")
        ))
    };
    let r = with_min(1);
    assert!(events(&r, EventKind::InstanceLaunched).is_empty());
    assert_eq!(summary(&r, "x").instances, 1);
    let r = with_min(2);
    assert!(events(&r, EventKind::InstanceTerminated).is_empty());
    assert!(events(&r, EventKind::GroupScaling)[0].detail.contains("below min size 2"));
    assert_eq!(summary(&r, "x").instances, 2);
}

#[test]
fn repeated_placement_failures_are_reported_once() {
    // ECS-DG:service-event-messages.md: a repeated message is suppressed until the cause is
    // resolved or six hours pass. The same failure on every retry is logged once in 20 minutes.
    let r = scenario(&format!(
        "{}{}[services.web]\ntask_definition = \"web\"\ndesired_count = 3\n[[actions]]\nat = \"5m\"\nstop_tasks = {{ service = \"web\", count = 1 }}\n",
        cluster(&["a"], &[("g", "m5.large", 2)]),
        task_def("web", "bridge", 256, 512, "{ container_port = 80, host_port = 80 }")
    ));
    assert_eq!(events(&r, EventKind::PlacementFailed).len(), 1);
    assert_eq!(summary(&r, "web").running, 2);
}

#[test]
fn the_same_seed_gives_the_same_bytes() {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/quickstart.toml")).unwrap();
    let s = Scenario::from_str_named("quickstart.toml", text.clone(), &[]).unwrap();
    let (a, b) = (simulate(&s), simulate(&s));
    for f in [ecsim::output::timeseries_csv, ecsim::output::events_csv, ecsim::output::summary_csv] {
        assert_eq!(f(&a), f(&b));
    }
    let other = Scenario::from_str_named("quickstart.toml", text, &["seed=43".into()]).unwrap();
    assert_ne!(ecsim::output::events_csv(&a), ecsim::output::events_csv(&simulate(&other)));
}

#[test]
fn instances_are_billed_per_second_with_a_one_minute_minimum() {
    // Two m5.large ($0.096/h) for 20 minutes, one terminated after 30 s: 20 min × $0.096/60
    // + the 60-second minimum for the other = $0.032 + $0.0016 = $0.0336, split over the
    // services so that they add up to it.
    let r = scenario(&format!(
        "{}{}[services.x]\ntask_definition = \"x\"\ndesired_count = 1\n[[actions]]\nat = \"30s\"\nterminate_instance = {{ instance = \"g-1\", should_decrement_desired_capacity = true }}\n",
        cluster(&["a"], &[("g", "m5.large", 2)]).replace("desired_capacity = 2", "desired_capacity = 2\nmin_size = 1"),
        task_def("x", "bridge", 128, 256, "")
    ));
    let total: f64 = r.summary.iter().map(|s| s.cost_usd).sum();
    assert!((total - 0.0336).abs() < 1e-9, "cost {total}");
    let last = r.timeseries.last().unwrap();
    assert!((last.cumulative_cost_usd - 0.0336).abs() < 1e-9);
}
