//! Imported values written as a complete, commented scenario for `ecsim import`: the task
//! definitions, services and their auto scaling as TOML keys, the metric exports as workloads,
//! and a stub cluster sized so the services' desired tasks fit, which the user is told to edit.
//!
//! Pure: a [`Plan`] in, text out. The same plan can be written with its values inline or as
//! `from` keys naming the JSON files ([`Mode`]); `ecsim import` checks the second (so that an
//! error names the JSON file and path) and writes the first.

use std::fmt::Write;

use serde::Serialize;

use super::Imported;
use super::metrics::Series;
use super::service::ImportedService;
use super::task_definition::Shape;
use crate::model::ec2::builtin_instance_types;
use crate::scenario::raw::{
    RawAlarm, RawAutoScaling, RawContainer, RawDeploymentController, RawDuration, RawNetworkMode, RawService,
    RawTaskDefinition,
};

/// The instance type of the stub cluster.
pub const STUB_INSTANCE_TYPE: &str = "m5.large";
/// The stub's Auto Scaling group.
pub const STUB_GROUP: &str = "ecs-instances";

/// A task definition to write: its scenario key, the file (as the scenario should name it) and
/// what was read.
pub struct PlannedTaskDefinition {
    pub key: String,
    pub file: String,
    pub shape: Shape,
    pub imported: Imported<RawTaskDefinition>,
}

pub struct PlannedService {
    pub file: String,
    pub imported: Imported<ImportedService>,
    /// The scenario key of the task definition it runs.
    pub task_definition: String,
    /// The scaling files (as the scenario should name them) and what they hold for it.
    pub auto_scaling: Option<(Vec<String>, Imported<RawAutoScaling>)>,
    /// Set aside: CODE_DEPLOY needs CodeDeploy's settings, which describe-services lacks.
    pub code_deploy: bool,
    /// Not read from a file: a stub that runs a task definition no service file runs.
    pub stub: bool,
}

impl PlannedService {
    /// A stub service of two tasks for a task definition no imported service runs, on Fargate
    /// if the task definition runs only there.
    pub fn stub(td: &PlannedTaskDefinition) -> PlannedService {
        let fargate_only =
            td.imported.value.requires_compatibilities.as_ref().is_some_and(|c| {
                !c.is_empty() && c.iter().all(|x| *x == crate::scenario::raw::RawCompatibility::Fargate)
            });
        let raw = RawService {
            from: None,
            task_definition: None,
            desired_count: Some(2),
            scheduling_strategy: None,
            placement_strategy: None,
            placement_constraints: Vec::new(),
            deployment_configuration: None,
            load_balancer: None,
            health_check_grace_period: None,
            auto_scaling: None,
            deployment_controller: None,
            blue_green: None,
            capacity_provider_strategy: None,
            launch_type: fargate_only.then_some(crate::scenario::raw::RawLaunchType::Fargate),
            instance_role: None,
        };
        let value = ImportedService {
            name: td.key.clone(),
            raw,
            family: td.key.clone(),
            revision: None,
            region: None,
            cluster: None,
        };
        PlannedService {
            file: String::new(),
            imported: Imported::new(value),
            task_definition: td.key.clone(),
            auto_scaling: None,
            code_deploy: false,
            stub: true,
        }
    }
}

pub struct PlannedWorkload {
    pub file: String,
    /// The get-metric-data result's Id, when the file holds several.
    pub series: Option<String>,
    pub imported: Imported<Series>,
    /// The export's period in ms and the length it plays for.
    pub period_ms: i64,
}

/// Everything `ecsim import` read.
pub struct Plan {
    pub name: String,
    pub sources: Vec<String>,
    pub region: Option<String>,
    pub task_definitions: Vec<PlannedTaskDefinition>,
    pub services: Vec<PlannedService>,
    pub workloads: Vec<PlannedWorkload>,
}

/// Whether imported tables carry their values or name their JSON files.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Inline,
    From,
}

/// A key as TOML writes it: bare when it can be.
fn key(k: &str) -> String {
    if !k.is_empty() && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') {
        k.to_string()
    } else {
        toml::Value::String(k.to_string()).to_string()
    }
}

fn string(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

fn float(f: f64) -> String {
    toml::Value::Float(f).to_string()
}

/// An enum's name as the scenario spells it (its serde name).
fn name<T: Serialize>(v: &T) -> String {
    match serde_json::to_value(v) {
        Ok(serde_json::Value::String(s)) => string(&s),
        _ => String::from("\"?\""),
    }
}

fn duration(d: RawDuration) -> String {
    let ms = d.0;
    if ms.is_multiple_of(1000) { string(&format!("{}s", ms / 1000)) } else { string(&format!("{ms}ms")) }
}

/// `{ a = 1, b = "x" }` from the fields that are set.
fn inline(fields: &[(&str, Option<String>)]) -> String {
    let set: Vec<String> = fields.iter().filter_map(|(k, v)| v.as_ref().map(|v| format!("{k} = {v}"))).collect();
    format!("{{ {} }}", set.join(", "))
}

fn wrap_comment(out: &mut String, text: &str) {
    let mut line = String::from("#");
    for word in text.split(' ') {
        if line.len() + word.len() + 1 > 99 && line.len() > 1 {
            out.push_str(&line);
            out.push('\n');
            line = String::from("#  ");
        }
        line.push(' ');
        line.push_str(word);
    }
    out.push_str(&line);
    out.push('\n');
}

/// CPU units and MiB a task of this definition reserves on an instance.
fn reservation(td: &RawTaskDefinition) -> (u64, u64) {
    let cpu = td.cpu.map_or_else(|| td.containers.iter().map(|c| u64::from(c.cpu)).sum(), u64::from);
    let mem = td.memory.map_or_else(
        || td.containers.iter().map(|c| u64::from(c.memory_reservation.or(c.memory).unwrap_or(0))).sum(),
        u64::from,
    );
    (cpu, mem)
}

/// Instances of the stub type that hold the EC2 services' desired tasks: enough CPU, memory
/// and ENIs, and one instance per task of a service with a static host port.
fn stub_instances(plan: &Plan) -> u32 {
    let types = builtin_instance_types();
    let Some(t) = types.get(STUB_INSTANCE_TYPE) else { return 2 };
    let (cpu_per, mem_per) = (u64::from(t.vcpu) * 1024, u64::from(t.registered_memory()));
    let tasks_per_eni = u64::from(t.max_enis.saturating_sub(1).max(1));
    let (mut cpu, mut mem, mut enis, mut at_least) = (0u64, 0u64, 0u64, 1u64);
    for s in plan.services.iter().filter(|s| on_ec2(plan, s)) {
        let Some(td) = plan.task_definitions.iter().find(|t| t.key == s.task_definition) else { continue };
        let n = u64::from(s.imported.value.raw.desired_count.unwrap_or(0));
        let (c, m) = reservation(&td.imported.value);
        cpu += c * n;
        mem += m * n;
        let td = &td.imported.value;
        if td.network_mode == Some(RawNetworkMode::Awsvpc) {
            enis += n;
        }
        let static_port = td.containers.iter().flat_map(|c| &c.port_mappings).any(|p| match td.network_mode {
            Some(RawNetworkMode::Host) => true,
            Some(RawNetworkMode::Awsvpc) => false,
            _ => p.host_port.is_some_and(|h| h != 0),
        });
        if static_port {
            at_least = at_least.max(n);
        }
    }
    let need = cpu.div_ceil(cpu_per.max(1)).max(mem.div_ceil(mem_per.max(1))).max(enis.div_ceil(tasks_per_eni));
    // A quarter more for headroom (a rolling update starts new tasks before stopping old ones),
    // and two instances at least, in two zones.
    (need + need.div_ceil(4)).max(at_least).max(2).min(u64::from(u32::MAX)) as u32
}

fn on_ec2(_plan: &Plan, s: &PlannedService) -> bool {
    let raw = &s.imported.value.raw;
    if raw.launch_type == Some(crate::scenario::raw::RawLaunchType::Fargate) {
        return false;
    }
    match &raw.capacity_provider_strategy {
        Some(items) => items.iter().any(|i| !i.capacity_provider.starts_with("FARGATE")),
        None => true,
    }
}

/// The capacity providers the services name, other than Fargate's.
fn capacity_providers(plan: &Plan) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for s in &plan.services {
        for i in s.imported.value.raw.capacity_provider_strategy.iter().flatten() {
            if !i.capacity_provider.starts_with("FARGATE") && !out.contains(&i.capacity_provider) {
                out.push(i.capacity_provider.clone());
            }
        }
    }
    out
}

/// The container and port of a Dockerrun task definition that takes traffic: the first that
/// maps a port.
fn dockerrun_entry(td: &RawTaskDefinition) -> Option<(&str, u16)> {
    td.containers.iter().find_map(|c| c.port_mappings.first().map(|p| (c.name.as_str(), p.container_port)))
}

/// The target groups the services and environments send traffic through, in order.
fn target_groups(plan: &Plan) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for td in plan.task_definitions.iter().filter(|t| t.shape == Shape::Dockerrun) {
        if dockerrun_entry(&td.imported.value).is_some() {
            out.push(format!("{}-env", td.key));
        }
    }
    for s in &plan.services {
        if let Some(lb) = &s.imported.value.raw.load_balancer
            && !out.contains(&lb.target_group)
        {
            out.push(lb.target_group.clone());
        }
    }
    out
}

/// How long the scenario runs: as long as the longest metric export, in whole minutes, or an
/// hour.
fn duration_of(plan: &Plan) -> String {
    let longest = plan
        .workloads
        .iter()
        .map(|w| {
            let p = &w.imported.value.points;
            p[p.len() - 1].0 - p[0].0 + w.period_ms
        })
        .max();
    match longest {
        Some(ms) => format!("{}m", (ms.max(60_000) as u64).div_ceil(60_000)),
        None => "1h".into(),
    }
}

/// The scenario, commented.
pub fn scenario(plan: &Plan, mode: Mode) -> String {
    let mut o = String::new();
    wrap_comment(&mut o, &format!("Imported by `ecsim import` from {}.", plan.sources.join(", ")));
    o.push_str("#\n");
    wrap_comment(
        &mut o,
        "The task definitions, services, auto scaling and traffic are yours, as AWS printed them. Four things are not in those files and are stubbed here: EDIT THEM to match your setup before trusting the numbers.",
    );
    wrap_comment(
        &mut o,
        "1. [cluster]: its zones and instances (an Auto Scaling group of m5.large sized so the desired tasks fit).",
    );
    wrap_comment(&mut o, "2. [target_groups]: health checks and deregistration delay at AWS's defaults.");
    wrap_comment(&mut o, "3. [workloads]: how long a request takes to serve (service_time), which no AWS file says.");
    wrap_comment(&mut o, "4. `app` on each task definition: how the application serves requests (an ecsim extension).");
    o.push_str("#\n# Check it with `ecsim validate`, run it with `ecsim run`.\n\n");
    let _ = writeln!(o, "version = 1\nname = {}", string(&plan.name));
    let _ = writeln!(o, "description = {}", string(&format!("Imported from {}.", plan.sources.join(", "))));
    let _ = writeln!(o, "seed = 1\nduration = {}\n", string(&duration_of(plan)));

    let region = plan.region.clone().unwrap_or_else(|| "us-east-1".into());
    let instances = stub_instances(plan);
    let ec2 = plan.services.iter().any(|s| on_ec2(plan, s));
    o.push_str("# EDIT: the cluster is a stub, not read from AWS.\n[cluster]\n");
    if let Some(c) = plan.services.iter().find_map(|s| s.imported.value.cluster.as_ref()) {
        let _ = writeln!(o, "name = {}", string(c));
    }
    let _ =
        writeln!(o, "availability_zones = [{}]", ["a", "b", "c"].map(|z| string(&format!("{region}{z}"))).join(", "));
    if ec2 {
        o.push('\n');
        wrap_comment(
            &mut o,
            &format!(
                "EDIT: {instances} × {STUB_INSTANCE_TYPE}, enough CPU, memory, ENIs and host ports for the services' desired tasks. Set your instance type, size and limits."
            ),
        );
        let _ = writeln!(o, "[[cluster.auto_scaling_groups]]\nname = {}", string(STUB_GROUP));
        let _ = writeln!(o, "instance_type = {}", string(STUB_INSTANCE_TYPE));
        let _ = writeln!(o, "desired_capacity = {instances}\nmin_size = {instances}\nmax_size = {}", instances * 2);
    }
    for cp in capacity_providers(plan) {
        o.push('\n');
        wrap_comment(
            &mut o,
            "EDIT: a capacity provider the services name, stubbed on the cluster's group with managed scaling.",
        );
        let _ = writeln!(o, "[capacity_providers.{}]\nauto_scaling_group = {}", key(&cp), string(STUB_GROUP));
        o.push_str("managed_scaling = { target_capacity = 100 }\n");
    }
    for td in &plan.task_definitions {
        o.push('\n');
        task_definition(&mut o, td, mode);
    }
    for tg in target_groups(plan) {
        o.push('\n');
        wrap_comment(
            &mut o,
            "EDIT: health checks every 30 s (5 healthy, 2 unhealthy) and 300 s of deregistration delay are AWS's defaults; set yours from `aws elbv2 describe-target-groups` and `describe-target-group-attributes`, e.g. health_check = { interval = \"10s\", healthy_threshold = 2 } and deregistration_delay = \"30s\".",
        );
        let _ = writeln!(o, "[target_groups.{}]", key(&tg));
    }
    for s in &plan.services {
        o.push('\n');
        service(&mut o, s, mode);
    }
    for td in plan.task_definitions.iter().filter(|t| t.shape == Shape::Dockerrun) {
        o.push('\n');
        let env = format!("{}-env", td.key);
        wrap_comment(
            &mut o,
            "EDIT: an Elastic Beanstalk environment runs the Dockerrun file, one task on each of its instances. Its instance type, size and scaling trigger (aws:autoscaling:asg and aws:autoscaling:trigger) are stubs: set yours from `aws elasticbeanstalk describe-configuration-settings`.",
        );
        let _ = writeln!(o, "[beanstalk.{}]\ntask_definition = {}", key(&env), string(&td.key));
        let _ = writeln!(o, "instance_type = {}\nmin_size = 1\nmax_size = 4", string(STUB_INSTANCE_TYPE));
        if let Some((container, port)) = dockerrun_entry(&td.imported.value) {
            let _ = writeln!(
                o,
                "load_balancer = {}",
                inline(&[
                    ("target_group", Some(string(&env))),
                    ("container_name", Some(string(container))),
                    ("container_port", Some(port.to_string())),
                ])
            );
        }
        o.push_str("trigger = { measure_name = \"CPUUtilization\", upper_threshold = 60, lower_threshold = 25 }\n");
    }
    let tgs = target_groups(plan);
    for (i, w) in plan.workloads.iter().enumerate() {
        o.push('\n');
        let label = w.imported.value.label.clone().unwrap_or_else(|| "the metric".into());
        match workload_target_group(plan, &tgs, i, &w.file) {
            Some(tg) => {
                wrap_comment(
                    &mut o,
                    &format!(
                        "From {}: {label}, one datapoint every {} s, replayed as the arrival rate at target group `{tg}` (EDIT if it belongs to another). A missing datapoint is a period without requests, as CloudWatch omits them; missing_datapoints = \"hold_last\" or \"interpolate\" fill it otherwise. `scale` multiplies the rate, `shift` moves it (\"-2h\" starts two hours in).",
                        w.file,
                        w.period_ms / 1000
                    ),
                );
                let _ = writeln!(o, "[workloads.{}]\ntarget_group = {}", key(tg), string(tg));
                let series = w.series.as_deref().map_or_else(String::new, |s| format!(", series = {}", string(s)));
                let _ = writeln!(
                    o,
                    "arrivals = {{ pattern = \"cloudwatch\", file = {}{series}, scale = 1.0, missing_datapoints = \"zero\" }}",
                    string(&w.file)
                );
                o.push_str("# EDIT: how long the application takes to serve one request.\n");
                o.push_str("service_time = { dist = \"exponential\", mean = \"50ms\" }\n");
            }
            None => {
                wrap_comment(
                    &mut o,
                    &format!(
                        "From {}: {label}. No service has a load balancer to send it to; attach one (load_balancer = {{ target_group = ..., container_name = ..., container_port = ... }}) and uncomment:",
                        w.file
                    ),
                );
                o.push_str("# [workloads.web]\n# target_group = \"web\"\n");
                let _ = writeln!(o, "# arrivals = {{ pattern = \"cloudwatch\", file = {} }}", string(&w.file));
                o.push_str("# service_time = { dist = \"exponential\", mean = \"50ms\" }\n");
            }
        }
    }
    o
}

/// The target group a metric export feeds: the one whose name, or whose service's name, the
/// file's name holds (the longest such), else the target groups in turn.
fn workload_target_group<'a>(plan: &Plan, tgs: &'a [String], i: usize, file: &str) -> Option<&'a String> {
    let stem = std::path::Path::new(file).file_stem().map_or_else(String::new, |s| s.to_string_lossy().into_owned());
    let named = |tg: &String| -> usize {
        let service = plan
            .services
            .iter()
            .find(|s| s.imported.value.raw.load_balancer.as_ref().is_some_and(|l| l.target_group == *tg));
        [Some(tg.as_str()), service.map(|s| s.imported.value.name.as_str())]
            .into_iter()
            .flatten()
            .filter(|n| stem.contains(n))
            .map(str::len)
            .max()
            .unwrap_or(0)
    };
    tgs.iter().filter(|tg| named(tg) > 0).max_by_key(|tg| named(tg)).or_else(|| tgs.get(i % tgs.len().max(1)))
}

fn unmodelled(o: &mut String, ignored: &[String], not_simulated: &[String]) {
    if !ignored.is_empty() {
        wrap_comment(o, &format!("Not simulated, left out: {}.", ignored.join(", ")));
    }
    if !not_simulated.is_empty() {
        wrap_comment(o, &format!("Read and checked, not simulated yet: {}.", not_simulated.join(", ")));
    }
}

fn task_definition(o: &mut String, p: &PlannedTaskDefinition, mode: Mode) {
    let shape = match p.shape {
        Shape::Register => "a register-task-definition input",
        Shape::Describe => "the describe-task-definition output",
        Shape::Dockerrun => {
            "Dockerrun.aws.json v2, for an Elastic Beanstalk environment: [beanstalk.<env>] task_definition = \"...\""
        }
    };
    wrap_comment(o, &format!("From {} ({shape}).", p.file));
    let k = key(&p.key);
    if mode == Mode::From {
        let _ = writeln!(o, "[task_definitions.{k}]\nfrom = {}", string(&p.file));
        return;
    }
    unmodelled(o, &p.imported.ignored, &p.imported.not_simulated);
    let td = &p.imported.value;
    let _ = writeln!(o, "[task_definitions.{k}]");
    if let Some(f) = &td.family {
        let _ = writeln!(o, "family = {}", string(f));
    }
    if let Some(r) = td.revision {
        let _ = writeln!(o, "revision = {r}");
    }
    if let Some(m) = &td.network_mode {
        let _ = writeln!(o, "network_mode = {}", name(m));
    }
    if let Some(c) = &td.requires_compatibilities {
        let list: Vec<String> = c.iter().map(name).collect();
        let _ = writeln!(o, "requires_compatibilities = [{}]", list.join(", "));
    }
    if let Some(c) = td.cpu {
        let _ = writeln!(o, "cpu = {c}");
    }
    if let Some(m) = td.memory {
        let _ = writeln!(o, "memory = {m}");
    }
    if let Some(s) = td.stop_timeout {
        let _ = writeln!(o, "stop_timeout = {}  # the longest of the containers' stopTimeout", duration(s));
    }
    for (k, r) in [("execution_role", &td.execution_role), ("task_role", &td.task_role)] {
        if let Some(r) = r {
            let _ = writeln!(o, "{k} = {}", inline(&[("name", r.name.as_deref().map(string))]));
        }
    }
    if let Some(a) = td.runtime_platform.as_ref().and_then(|r| r.cpu_architecture) {
        let _ = writeln!(o, "runtime_platform = {{ cpu_architecture = {} }}", name(&a));
    }
    o.push_str(
        "# EDIT: how the application serves requests (ecsim's extension; by default no concurrency\n# limit, ready 2-8 s after RUNNING, half its memory in use when idle), e.g.\n# app = { max_concurrency = 64, ready_time = \"5s\" }\n",
    );
    for c in &td.containers {
        o.push('\n');
        container(o, &k, c);
    }
}

fn container(o: &mut String, td_key: &str, c: &RawContainer) {
    let _ = writeln!(o, "[[task_definitions.{td_key}.containers]]");
    let _ = writeln!(o, "name = {}\nimage = {}", string(&c.name), string(&c.image));
    if c.cpu > 0 {
        let _ = writeln!(o, "cpu = {}", c.cpu);
    }
    for (k, v) in [("memory", c.memory), ("memory_reservation", c.memory_reservation)] {
        if let Some(v) = v {
            let _ = writeln!(o, "{k} = {v}");
        }
    }
    if let Some(e) = c.essential {
        let _ = writeln!(o, "essential = {e}");
    }
    if !c.port_mappings.is_empty() {
        let list: Vec<String> = c
            .port_mappings
            .iter()
            .map(|p| {
                inline(&[
                    ("container_port", Some(p.container_port.to_string())),
                    ("host_port", p.host_port.map(|h| h.to_string())),
                    ("protocol", p.protocol.as_ref().map(name)),
                ])
            })
            .collect();
        let _ = writeln!(o, "port_mappings = [{}]", list.join(", "));
    }
}

fn service(o: &mut String, p: &PlannedService, mode: Mode) {
    let s = &p.imported.value;
    let what = match &s.cluster {
        Some(c) => format!("service `{}` of cluster `{c}`", s.name),
        None => format!("service `{}`", s.name),
    };
    let k = key(&s.name);
    if p.stub {
        wrap_comment(
            o,
            &format!(
                "EDIT: no describe-services file runs task definition `{}`, so this service is a stub of two tasks. Set its desired count, and attach a load balancer for it to take traffic.",
                p.task_definition
            ),
        );
        let _ = writeln!(o, "[services.{k}]\ntask_definition = {}", string(&p.task_definition));
        service_keys(o, &s.raw);
        return;
    }
    wrap_comment(o, &format!("From {} (the describe-services output): {what}.", p.file));
    if p.code_deploy {
        wrap_comment(
            o,
            "EDIT: it deploys with CodeDeploy (deploymentController CODE_DEPLOY), whose settings describe-services does not hold. To simulate blue/green, add deployment_controller = \"CODE_DEPLOY\" and blue_green = { green_target_group = \"...\", traffic_routing = \"CodeDeployDefault.ECSCanary10Percent5Minutes\" }; meanwhile it rolls updates like an ECS service.",
        );
    }
    if mode == Mode::From {
        let _ =
            writeln!(o, "[services.{k}]\nfrom = {}\ntask_definition = {}", string(&p.file), string(&p.task_definition));
    } else {
        unmodelled(o, &p.imported.ignored, &p.imported.not_simulated);
        let _ = writeln!(o, "[services.{k}]\ntask_definition = {}", string(&p.task_definition));
        service_keys(o, &s.raw);
    }
    let Some((files, a)) = &p.auto_scaling else { return };
    o.push('\n');
    wrap_comment(o, &format!("Application Auto Scaling, from {}.", files.join(", ")));
    if mode == Mode::From {
        let list: Vec<String> = files.iter().map(|f| string(f)).collect();
        let _ = writeln!(o, "[services.{k}.auto_scaling]\nfrom = [{}]", list.join(", "));
        return;
    }
    unmodelled(o, &a.ignored, &[]);
    auto_scaling(o, &k, &a.value);
}

fn service_keys(o: &mut String, r: &RawService) {
    if let Some(n) = r.desired_count {
        let _ = writeln!(o, "desired_count = {n}");
    }
    if let Some(s) = &r.scheduling_strategy {
        let _ = writeln!(o, "scheduling_strategy = {}", name(s));
    }
    if let Some(l) = &r.launch_type {
        let _ = writeln!(o, "launch_type = {}", name(l));
    }
    if let Some(items) = &r.capacity_provider_strategy {
        let list: Vec<String> = items
            .iter()
            .map(|i| {
                inline(&[
                    ("capacity_provider", Some(string(&i.capacity_provider))),
                    ("base", i.base.map(|b| b.to_string())),
                    ("weight", i.weight.map(|w| w.to_string())),
                ])
            })
            .collect();
        let _ = writeln!(o, "capacity_provider_strategy = [{}]", list.join(", "));
    }
    if let Some(items) = &r.placement_strategy {
        let list: Vec<String> = items
            .iter()
            .map(|i| inline(&[("type", Some(name(&i.kind))), ("field", i.field.as_deref().map(string))]))
            .collect();
        let _ = writeln!(o, "placement_strategy = [{}]", list.join(", "));
    }
    if !r.placement_constraints.is_empty() {
        let list: Vec<String> = r
            .placement_constraints
            .iter()
            .map(|i| inline(&[("type", Some(name(&i.kind))), ("expression", i.expression.as_deref().map(string))]))
            .collect();
        let _ = writeln!(o, "placement_constraints = [{}]", list.join(", "));
    }
    if let Some(d) = &r.deployment_configuration {
        let cb = d
            .deployment_circuit_breaker
            .as_ref()
            .map(|cb| inline(&[("enable", Some(cb.enable.to_string())), ("rollback", Some(cb.rollback.to_string()))]));
        let _ = writeln!(
            o,
            "deployment_configuration = {}",
            inline(&[
                ("minimum_healthy_percent", d.minimum_healthy_percent.map(|v| v.to_string())),
                ("maximum_percent", d.maximum_percent.map(|v| v.to_string())),
                ("deployment_circuit_breaker", cb),
            ])
        );
    }
    if let Some(lb) = &r.load_balancer {
        let _ = writeln!(
            o,
            "load_balancer = {}",
            inline(&[
                ("target_group", Some(string(&lb.target_group))),
                ("container_name", Some(string(&lb.container_name))),
                ("container_port", Some(lb.container_port.to_string())),
            ])
        );
    }
    if let Some(g) = r.health_check_grace_period {
        let _ = writeln!(o, "health_check_grace_period = {}", duration(g));
    }
    if let Some(c) = &r.deployment_controller
        && *c != RawDeploymentController::Ecs
    {
        let _ = writeln!(o, "deployment_controller = {}", name(c));
    }
}

fn alarm(a: &RawAlarm) -> String {
    inline(&[
        ("name", a.name.as_deref().map(string)),
        ("metric", Some(string(&a.metric))),
        ("statistic", a.statistic.as_ref().map(name)),
        ("period", a.period.map(duration)),
        ("evaluation_periods", a.evaluation_periods.map(|v| v.to_string())),
        ("datapoints_to_alarm", a.datapoints_to_alarm.map(|v| v.to_string())),
        ("threshold", Some(float(a.threshold))),
        ("comparison", Some(name(&a.comparison))),
        ("treat_missing_data", a.treat_missing_data.as_ref().map(name)),
    ])
}

fn auto_scaling(o: &mut String, service_key: &str, a: &RawAutoScaling) {
    let _ = writeln!(o, "[services.{service_key}.auto_scaling]");
    if let Some(m) = a.min_capacity {
        let _ = writeln!(o, "min_capacity = {m}");
    }
    if let Some(m) = a.max_capacity {
        let _ = writeln!(o, "max_capacity = {m}");
    }
    for t in &a.target_tracking {
        let _ = writeln!(o, "\n[[services.{service_key}.auto_scaling.target_tracking]]");
        if let Some(n) = &t.name {
            let _ = writeln!(o, "name = {}", string(n));
        }
        if let Some(m) = &t.predefined_metric {
            let _ = writeln!(o, "predefined_metric = {}", string(m));
        }
        if let Some(c) = &t.custom_metric {
            let _ = writeln!(
                o,
                "custom_metric = {}",
                inline(&[("metric", Some(string(&c.metric))), ("statistic", c.statistic.as_ref().map(name))])
            );
        }
        let _ = writeln!(o, "target_value = {}", float(t.target_value));
        for (k, v) in [("scale_out_cooldown", t.scale_out_cooldown), ("scale_in_cooldown", t.scale_in_cooldown)] {
            if let Some(v) = v {
                let _ = writeln!(o, "{k} = {}", duration(v));
            }
        }
        if let Some(d) = t.disable_scale_in {
            let _ = writeln!(o, "disable_scale_in = {d}");
        }
    }
    for st in &a.step_scaling {
        let _ = writeln!(o, "\n[[services.{service_key}.auto_scaling.step_scaling]]");
        if let Some(n) = &st.name {
            let _ = writeln!(o, "name = {}", string(n));
        }
        let _ = writeln!(o, "adjustment_type = {}", name(&st.adjustment_type));
        let steps: Vec<String> = st
            .steps
            .iter()
            .map(|s| {
                inline(&[
                    ("lower", s.lower.map(float)),
                    ("upper", s.upper.map(float)),
                    ("adjustment", Some(s.adjustment.to_string())),
                ])
            })
            .collect();
        let _ = writeln!(o, "steps = [{}]", steps.join(", "));
        if let Some(c) = st.cooldown {
            let _ = writeln!(o, "cooldown = {}", duration(c));
        }
        if let Some(m) = &st.metric_aggregation_type {
            let _ = writeln!(o, "metric_aggregation_type = {}", name(m));
        }
        if let Some(m) = st.min_adjustment_magnitude {
            let _ = writeln!(o, "min_adjustment_magnitude = {m}");
        }
        let _ = writeln!(o, "alarm = {}", alarm(&st.alarm));
    }
}

/// The scenario key for a task definition: its family; for a Dockerrun file, which has none,
/// the application's folder (Elastic Beanstalk wants the file named `Dockerrun.aws.json` at the
/// root of the source bundle) or the file's stem. Made unique among `taken` with its revision.
pub fn task_definition_key(td: &RawTaskDefinition, file: &str, taken: &[String]) -> String {
    let path = std::path::Path::new(file);
    let stem = if path.file_name().is_some_and(|n| n == "Dockerrun.aws.json") {
        path.parent().and_then(|p| p.file_name())
    } else {
        path.file_stem()
    };
    let stem = stem.map_or_else(String::new, |s| s.to_string_lossy().into_owned());
    let base = td.family.clone().unwrap_or_else(|| {
        let s: String =
            stem.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '-' }).collect();
        if s.is_empty() { "dockerrun".into() } else { s }
    });
    if !taken.contains(&base) {
        return base;
    }
    let with_revision = format!("{base}-{}", td.revision.unwrap_or(1));
    let mut candidate = with_revision.clone();
    let mut n = 2;
    while taken.contains(&candidate) {
        candidate = format!("{with_revision}-{n}");
        n += 1;
    }
    candidate
}
