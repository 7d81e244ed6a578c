//! Fargate, IAM/ECR failure modes and Elastic Beanstalk environments, against numbers worked out
//! by hand from the documented rules.

use ecsim::record::{EventKind, EventRecord, RunResult};
use ecsim::{Scenario, simulate};

const BASE: &str = r#"
name = "fargate"
seed = 1
[cluster]
availability_zones = ["a", "b"]
[fargate]
provisioning_time = "20s"
[images."123456789012.dkr.ecr.us-east-1.amazonaws.com/api:1"]
pull_time = "10s"
start_time = "0s"
"#;

const IMAGE: &str = "123456789012.dkr.ecr.us-east-1.amazonaws.com/api:1";

fn task(extra: &str) -> String {
    format!(
        "[task_definitions.api]\nnetwork_mode = \"awsvpc\"\ncpu = 1024\nmemory = 2048\n{extra}\n[[task_definitions.api.containers]]\nname = \"api\"\nimage = \"{IMAGE}\"\nport_mappings = [{{ container_port = 8080 }}]\n"
    )
}

fn scenario(duration: &str, body: &str) -> Result<Scenario, String> {
    scenario_with(duration, body, &[])
}

fn scenario_with(duration: &str, body: &str, set: &[String]) -> Result<Scenario, String> {
    Scenario::from_str_named("fargate.toml", format!("duration = \"{duration}\"\n{BASE}{body}"), set)
        .map_err(|e| e.to_string())
}

fn run(duration: &str, body: &str) -> RunResult {
    simulate(&scenario(duration, body).unwrap_or_else(|e| panic!("{e}")))
}

fn events(r: &RunResult, kind: EventKind) -> Vec<&EventRecord> {
    r.events.iter().filter(|e| e.kind == kind).collect()
}

fn seconds(r: &RunResult, kind: EventKind) -> Vec<f64> {
    events(r, kind).iter().map(|e| e.time as f64 / 1000.0).collect()
}

#[test]
fn a_fargate_task_provisions_pulls_runs_and_is_billed_from_its_pull() {
    // Provisioning 20 s, pull 10 s, start 0 → RUNNING at 30 s. Billing runs from the pull's start
    // (20 s) to the end of the run (600 s): 580 s of 1 vCPU and 2 GB at $0.04048 + 2 × $0.004445
    // = $0.04937 per hour → $0.04937 × 580 / 3600 = $0.0079540.
    let r = run(
        "10m",
        &format!(
            "{}[services.api]\ntask_definition = \"api\"\ndesired_count = 1\nlaunch_type = \"FARGATE\"\n",
            task("execution_role = { name = \"exec\" }")
        ),
    );
    assert_eq!(seconds(&r, EventKind::TaskRunning), vec![30.0]);
    let placed = events(&r, EventKind::TaskPlaced);
    assert_eq!(placed[0].instance, "", "a Fargate task has no container instance");
    let s = &r.summary[0];
    assert_eq!((s.running, s.instances, s.hosts), (1, 0, 0));
    assert!((s.cost_usd - 0.04937 * 580.0 / 3600.0).abs() < 1e-9, "{}", s.cost_usd);
    assert!(s.idle_cost_usd.abs() < 1e-12);
}

#[test]
fn fargate_refuses_what_aws_refuses() {
    let fargate_service = "[services.api]\ntask_definition = \"api\"\ndesired_count = 1\nlaunch_type = \"FARGATE\"\n";
    // 1 vCPU with 1 GB is not a Fargate size; the message lists the memory values for 1 vCPU.
    let e = scenario("5m", &format!("{}{fargate_service}", task("").replace("memory = 2048", "memory = 1024")))
        .unwrap_err();
    assert!(e.contains("2048, 3072, 4096, 5120, 6144, 7168, 8192"), "{e}");
    // Bridge networking.
    let e = scenario("5m", &format!("{}{fargate_service}", task("").replace("awsvpc", "bridge"))).unwrap_err();
    assert!(e.contains("awsvpc"), "{e}");
    // A placement strategy.
    let e = scenario(
        "5m",
        &format!("{}{fargate_service}placement_strategy = [{{ type = \"binpack\", field = \"cpu\" }}]\n", task("")),
    )
    .unwrap_err();
    assert!(e.contains("no placement strategy"), "{e}");
    // An instance role on a Fargate service: the message says which roles apply.
    let e = scenario("5m", &format!("{}{fargate_service}instance_role = {{ name = \"ecsInstanceRole\" }}\n", task("")))
        .unwrap_err();
    assert!(e.contains("task execution role") && e.contains("task role"), "{e}");
    // A strategy mixing Fargate and an Auto Scaling group provider.
    let mixed = format!(
        "[[cluster.auto_scaling_groups]]\nname = \"g\"\ninstance_type = \"m5.large\"\ndesired_capacity = 1\n[capacity_providers.cp]\nauto_scaling_group = \"g\"\n{}[services.api]\ntask_definition = \"api\"\ndesired_count = 1\ncapacity_provider_strategy = [{{ capacity_provider = \"cp\", weight = 1 }}, {{ capacity_provider = \"FARGATE\", weight = 1 }}]\n",
        task("")
    );
    let e = scenario("5m", &mixed).unwrap_err();
    assert!(e.contains("not both"), "{e}");
}

#[test]
fn fargate_spot_tasks_are_reclaimed_within_two_minutes_and_replaced() {
    // Base 2 on FARGATE, then 1:3 with FARGATE_SPOT: of ten tasks 4 on FARGATE, 6 on Spot.
    // Interruptions at 3 per task-hour over 30 minutes: some Spot tasks go; each is stopped at
    // most 120 s after its warning, and ten tasks run at the end.
    let body = format!(
        "{}[services.api]\ntask_definition = \"api\"\ndesired_count = 10\ncapacity_provider_strategy = [{{ capacity_provider = \"FARGATE\", base = 2, weight = 1 }}, {{ capacity_provider = \"FARGATE_SPOT\", weight = 3 }}]\n",
        task("execution_role = { name = \"exec\" }")
    );
    let r = simulate(&scenario_with("30m", &body, &["fargate.spot_interruption_rate=3".into()]).unwrap());
    let first_ten: Vec<&EventRecord> = events(&r, EventKind::TaskPlaced).into_iter().take(10).collect();
    assert_eq!(first_ten.len(), 10);
    let on_spot = first_ten.iter().filter(|e| e.detail.contains("placed on FARGATE_SPOT")).count();
    assert_eq!(on_spot, 6);
    let warnings = events(&r, EventKind::SpotInterruption);
    assert!(!warnings.is_empty());
    for w in &warnings {
        let stopped = events(&r, EventKind::TaskStopped).into_iter().find(|e| e.task == w.task).expect("stopped");
        assert!(stopped.time >= w.time && stopped.time <= w.time + 120_000, "{} → {}", w.time, stopped.time);
        assert_eq!(stopped.detail, "Your Spot Task was interrupted.");
    }
    assert_eq!(r.summary[0].running, 10);
}

#[test]
fn a_pull_denied_by_ecr_stops_the_task_and_the_throttle_backs_off() {
    // Fargate without an execution role cannot pull from ECR. Each attempt: 20 s provisioning,
    // then the pull fails 1.4 s later. The throttle waits 10 s, 20 s, 40 s, … after each failure:
    // failures at 21.4, 52.8 (31.4 + 21.4), 94.2 (72.8 + 21.4), 155.6 s; the next attempts
    // placed at 21.4 + 10 = 31.4, 52.8 + 20 = 72.8, 94.2 + 40 = 134.2 s.
    let r = run(
        "4m",
        &format!(
            "{}[services.api]\ntask_definition = \"api\"\ndesired_count = 1\nlaunch_type = \"FARGATE\"\n",
            task("")
        ),
    );
    let failed = seconds(&r, EventKind::ImagePullFailed);
    assert_eq!(&failed[..4], &[21.4, 52.8, 94.2, 155.6]);
    assert_eq!(seconds(&r, EventKind::TaskPlaced)[..4], [0.0, 31.4, 72.8, 134.2]);
    let why = &events(&r, EventKind::ImagePullFailed)[0].detail;
    assert!(why.starts_with("CannotPullContainerError") && why.contains("execution role"), "{why}");
    assert!(events(&r, EventKind::TaskStopped).iter().all(|e| e.detail.starts_with("CannotPullContainerError")));
    assert_eq!(events(&r, EventKind::ServiceThrottled).len(), 1);
    assert_eq!(r.summary[0].running, 0);
    // With an execution role allowed to pull, the same task runs at 30 s.
    let ok = run(
        "4m",
        &format!(
            "{}[services.api]\ntask_definition = \"api\"\ndesired_count = 1\nlaunch_type = \"FARGATE\"\n",
            task("execution_role = { name = \"exec\" }")
        ),
    );
    assert_eq!(seconds(&ok, EventKind::TaskRunning), vec![30.0]);
}

#[test]
fn on_ec2_the_instance_role_pulls_unless_the_task_has_an_execution_role() {
    let group = |ecr_pull: bool| {
        format!(
            "[[cluster.auto_scaling_groups]]\nname = \"g\"\ninstance_type = \"m5.large\"\ndesired_capacity = 1\ninstance_role = {{ ecr_pull = {ecr_pull} }}\n"
        )
    };
    let service = "[services.api]\ntask_definition = \"api\"\ndesired_count = 1\n";
    // The instance role may pull: runs.
    let r = run("2m", &format!("{}{}{service}", group(true), task("")));
    assert_eq!(r.summary[0].running, 1);
    // It may not: fails.
    let r = run("2m", &format!("{}{}{service}", group(false), task("")));
    assert_eq!(r.summary[0].running, 0);
    assert!(!events(&r, EventKind::ImagePullFailed).is_empty());
    // An execution role that may pull takes over from the instance role.
    let r = run("2m", &format!("{}{}{service}", group(false), task("execution_role = { ecr_pull = true }")));
    assert_eq!(r.summary[0].running, 1);
    // An execution role that may not fails even though the instance role could.
    let r = run("2m", &format!("{}{}{service}", group(true), task("execution_role = { ecr_pull = false }")));
    assert_eq!(r.summary[0].running, 0);
}

#[test]
fn without_a_task_role_an_app_that_calls_aws_fails_every_request() {
    let body = |role: &str| {
        format!(
            "[[cluster.auto_scaling_groups]]\nname = \"g\"\ninstance_type = \"m5.large\"\ndesired_capacity = 1\n{}[target_groups.api]\nhealth_check = {{ interval = \"5s\", timeout = \"2s\", healthy_threshold = 2 }}\n[services.api]\ntask_definition = \"api\"\ndesired_count = 1\nload_balancer = {{ target_group = \"api\", container_name = \"api\", container_port = 8080 }}\n[workloads.api]\ntarget_group = \"api\"\narrivals = {{ process = \"constant\", rate = 10 }}\nservice_time = \"10ms\"\nstart = \"1m\"\n",
            task(&format!("calls_aws_apis = true\n{role}\napp = {{ ready_time = \"0s\" }}"))
        )
    };
    let r = run("5m", &body(""));
    let s = &r.summary[0];
    assert_eq!(s.running, 1);
    // Every request answered is a 500 (one may still be in flight at the end).
    assert!(s.requests - s.errors_5xx <= 1, "{} of {}", s.errors_5xx, s.requests);
    assert!(s.requests >= 2390, "{}", s.requests);
    let r = run("5m", &body("task_role = { name = \"api-role\" }"));
    assert_eq!(r.summary[0].errors_5xx, 0);
}

#[test]
fn a_beanstalk_environment_runs_one_task_per_instance_of_its_own_group_only() {
    // Two instances in the environment, one in a shared group: the environment's task runs on
    // its two instances and nowhere else; a DAEMON log agent of the cluster stays off them.
    let r = run(
        "3m",
        r#"
[[cluster.auto_scaling_groups]]
name = "shared"
instance_type = "m5.large"
desired_capacity = 1
[task_definitions.shop]
network_mode = "bridge"
[[task_definitions.shop.containers]]
name = "app"
image = "public.ecr.aws/docker/library/nginx:1"
cpu = 512
memory = 512
[task_definitions.agent]
network_mode = "bridge"
[[task_definitions.agent.containers]]
name = "agent"
image = "public.ecr.aws/docker/library/busybox:1"
cpu = 64
memory = 64
[beanstalk.shop]
task_definition = "shop"
instance_type = "m5.large"
min_size = 2
trigger = { measure_name = "CPUUtilization", upper_threshold = 60, lower_threshold = 20 }
[services.agent]
task_definition = "agent"
scheduling_strategy = "DAEMON"
"#,
    );
    let placed = events(&r, EventKind::TaskPlaced);
    let on = |svc: &str| {
        let mut v: Vec<&str> = placed.iter().filter(|e| e.service == svc).map(|e| e.instance.as_str()).collect();
        v.sort();
        v
    };
    assert_eq!(on("shop"), vec!["shop-1", "shop-2"]);
    assert_eq!(on("agent"), vec!["shared-1"]);
}

/// One m5.large ($0.096 an hour, 2048 CPU units) registered from the start, a Fargate service
/// `api` and a service `web` on the EC2 launch type (512 CPU units, 1 GiB).
fn fargate_and_ec2(duration: &str, api: u32, web: u32, extra: &str) -> RunResult {
    run(
        duration,
        &format!(
            "[[cluster.auto_scaling_groups]]\nname = \"g\"\ninstance_type = \"m5.large\"\ndesired_capacity = 1\n{}[task_definitions.web]\ncpu = 512\nmemory = 1024\n[[task_definitions.web.containers]]\nname = \"web\"\nimage = \"{IMAGE}\"\n[services.api]\ntask_definition = \"api\"\ndesired_count = {api}\nlaunch_type = \"FARGATE\"\n[services.web]\ntask_definition = \"web\"\ndesired_count = {web}\n{extra}",
            task("execution_role = { name = \"exec\" }")
        ),
    )
}

#[test]
fn fargate_tasks_reserve_nothing_of_the_clusters_instances() {
    // CPUReservation and MemoryReservation are "only supported for tasks hosted on an Amazon EC2
    // instance" (ECS-DG:cloudwatch-metrics.md): two Fargate tasks of 1024 units and 2 GiB count
    // for nothing, and the one EC2 task of 512 units and 1 GiB is 512 / 2048 = 25% of the
    // cluster's registered CPU and 1024 / M of its registered memory M.
    let r = fargate_and_ec2("5m", 2, 1, "");
    let registered = &events(&r, EventKind::InstanceRegistered)[0].detail;
    let memory: f64 = registered
        .split("CPU units, ")
        .nth(1)
        .and_then(|x| x.split(" MiB").next())
        .and_then(|x| x.parse().ok())
        .unwrap_or_else(|| panic!("{registered}"));
    let (api, web) = (&r.summary[0], &r.summary[1]);
    assert_eq!((api.service.as_str(), api.running, web.running), ("api", 2, 1));
    assert_eq!((api.cpu_reserved_pct, api.mem_reserved_pct), (0.0, 0.0));
    assert!((web.cpu_reserved_pct - 25.0).abs() < 1e-9, "{}", web.cpu_reserved_pct);
    assert!((web.mem_reserved_pct - 100.0 * 1024.0 / memory).abs() < 1e-9, "{}", web.mem_reserved_pct);
    assert!(
        r.timeseries.iter().filter(|x| x.service == 0).all(|x| x.cpu_reserved_pct == 0.0 && x.mem_reserved_pct == 0.0)
    );
}

#[test]
fn an_idle_instance_is_billed_to_the_services_on_instances_and_a_fargate_task_to_its_own() {
    // README, billing: an empty instance's cost goes "to the services that run on instances".
    // `web` runs no task, but it is the one service on the EC2 launch type: the m5.large's 10
    // minutes, 600 s × $0.096 / 3600 = $0.016, are all its cost, and all idle. The Fargate task
    // is billed from its pull (20 s) until it stops after its service is set to 0 at 5:30; the
    // rest of that minute is its service's too, not idle capacity for `web`:
    // (stop − 20 s) × $0.04937 / 3600.
    let r = fargate_and_ec2(
        "10m",
        1,
        0,
        "[[actions]]\nat = \"5m30s\"\nset_desired_count = { service = \"api\", desired_count = 0 }\n",
    );
    let stop = events(&r, EventKind::TaskStopped)[0].time as f64 / 1000.0;
    assert!((330.0..=360.0).contains(&stop), "{stop}");
    let (api, web) = (&r.summary[0], &r.summary[1]);
    assert!((web.cost_usd - 0.016).abs() < 1e-9, "{}", web.cost_usd);
    assert!((web.idle_cost_usd - 0.016).abs() < 1e-9, "{}", web.idle_cost_usd);
    assert!((api.cost_usd - 0.04937 * (stop - 20.0) / 3600.0).abs() < 1e-9, "{} at {stop}", api.cost_usd);
    assert!(api.idle_cost_usd.abs() < 1e-12, "{}", api.idle_cost_usd);
}
