//! Raw scenario → checked [`Scenario`]: names resolved, AWS defaults filled in, values checked
//! against the limits AWS documents. Each error points at the key that holds the problem.

use std::collections::{BTreeMap, BTreeSet};

use serde::Deserialize;
use toml::Spanned;
use toml::de::DeTable;

use super::error::{Diagnostic, Location, ScenarioError, suggest};
use super::raw::*;
use super::source::{KeyPath, Source, span_of};
use super::{FORMAT_VERSION, Scenario};
use crate::engine::{Distribution, HOUR, MINUTE, SECOND, SimTime};
use crate::expect::{Agg, Check, Expectation, Op, Window};
use crate::import::{ImportError, Origin};
use crate::model::action::{Action, ScheduledAction};
use crate::model::alb::{Algorithm, DEFAULT_DEREGISTRATION_DELAY, DEFAULT_IDLE_TIMEOUT, HealthCheck, TargetGroupSpec};
use crate::model::asg::{
    AutoScalingGroup, MixedInstancesPolicy, SpotAllocationStrategy, TerminationPolicy, default_agent_registration_time,
    default_boot_time,
};
use crate::model::autoscaling::{
    AdjustmentType, Cron, DEFAULT_COOLDOWN, PREDEFINED_METRICS, ScalingMetric, Schedule,
    ScheduledAction as ScalingScheduledAction, ServiceScaling, StepAdjustment, StepScalingPolicy, TargetTrackingPolicy,
    predefined_group_metric, predefined_metric,
};
use crate::model::beanstalk::ScalingTrigger;
use crate::model::capacity_provider::{CapacityProvider, ManagedScaling, ProviderKind, StrategyItem};
use crate::model::cloudwatch::{AlarmSpec, Comparison, MissingData, Statistic};
use crate::model::cluster_query::Expression;
use crate::model::deployment::{BlueGreen, CircuitBreaker, DEFAULT_MINIMUM_THRESHOLD, TrafficRouting};
use crate::model::ec2::{CpuArchitecture, DEFAULT_DYNAMIC_HOST_PORT_RANGE, InstanceType, builtin_instance_types};
use crate::model::fargate::{CpuArchitecture as FargateArchitecture, FargateSettings};
use crate::model::iam::{Registry, Role};
use crate::model::image::Image;
use crate::model::placement::{BinpackField, PlacementConstraint, PlacementStrategy, SpreadField};
use crate::model::service::LoadBalancerAttachment;
use crate::model::service::{DeploymentConfiguration, SchedulingStrategy, ServiceDefinition};
use crate::model::task_definition::{
    AppProfile, ContainerDefinition, DEFAULT_STOP_TIMEOUT, NetworkMode, PortMapping, TaskDefinition,
};
use crate::model::workload::{ArrivalProcess, LatencySlo, RatePattern, TraceData, Workload, parse_trace_csv};
use crate::record::{EventKind, ServiceSample, ServiceSummary};

/// CloudWatch datapoints become visible to alarms a minute after their period ends [assume: AWS
/// documents one-minute publication for ECS metrics but not the ingestion delay; one minute is the
/// commonly observed figure].
pub const DEFAULT_PUBLISH_DELAY: SimTime = 60 * SECOND;

/// The longest run a scenario may ask for: a year of simulated time.
pub const MAX_DURATION: SimTime = 366 * 24 * HOUR;
/// ECS allows 5,000 container instances per cluster (AWS-SEMANTICS.md §6, service quotas).
pub const MAX_INSTANCES: u32 = 5_000;
/// Default size of an image the scenario does not describe, MB [assume].
pub const DEFAULT_IMAGE_SIZE_MB: f64 = 250.0;
/// At most 4 strategy rules per service (ECS-DG:service_definition_parameters.md).
pub const MAX_STRATEGIES: usize = 4;
/// At most 10 constraints per task (ECS-DG:task-placement-constraints.md).
pub const MAX_CONSTRAINTS: usize = 10;

/// The context of one validation: where errors point.
struct Cx<'a> {
    source: &'a Source,
    root: &'a DeTable<'a>,
    /// What was read from AWS JSON files (`from` keys), so that an error in an imported value
    /// points into its file.
    imports: &'a Imports,
}

impl Cx<'_> {
    fn err(&self, path: &KeyPath, message: impl Into<String>) -> ScenarioError {
        let message = message.into();
        match self.imports.error_at(path, &message, None) {
            Some(e) => e,
            None => self.source.error_at(self.root, path, message, None),
        }
    }

    fn err_suggest<'c>(
        &self,
        path: &KeyPath,
        message: impl Into<String>,
        wrong: &str,
        candidates: impl IntoIterator<Item = &'c str> + Clone,
    ) -> ScenarioError {
        let message = message.into();
        let suggestion = suggest(wrong, candidates);
        match self.imports.error_at(path, &message, suggestion.clone()) {
            Some(e) => e,
            None => self.source.error_at(self.root, path, message, suggestion),
        }
    }
}

/// The AWS JSON files a scenario reads (`from` keys): where each imported value came from, the
/// files' text (to locate a JSON path), and what they hold that is not simulated.
#[derive(Default)]
struct Imports {
    /// Absolute scenario key path of an imported value, and where it came from.
    origins: Vec<(KeyPath, Origin)>,
    texts: BTreeMap<String, String>,
    warnings: Vec<String>,
}

impl Imports {
    /// An error at a key that was read from JSON, pointed at the JSON file and path.
    fn error_at(&self, path: &KeyPath, message: &str, suggestion: Option<String>) -> Option<ScenarioError> {
        let (_, origin) =
            self.origins.iter().filter(|(k, _)| path.0.starts_with(&k.0)).max_by_key(|(k, _)| k.0.len())?;
        let text = self.texts.get(&origin.file).map_or("", String::as_str);
        Some(json_diagnostic(&origin.file, text, &origin.path, message.to_string(), suggestion))
    }
}

/// A diagnostic in a JSON file: at the value of a JSON path, with its line under it.
fn json_diagnostic(file: &str, text: &str, path: &str, message: String, suggestion: Option<String>) -> ScenarioError {
    let found = crate::import::json::locate_nearest(text, path);
    let location = found.map_or(Location::Unknown, |(line, column)| Location::File { line, column });
    let snippet = found.and_then(|(line, column)| {
        let src = text.lines().nth(line - 1)?;
        let gutter = " ".repeat(line.to_string().len());
        Some(format!("{gutter} |\n{line} | {src}\n{gutter} | {}^", " ".repeat(column - 1)))
    });
    ScenarioError::Invalid(Box::new(Diagnostic {
        file: file.to_string(),
        location,
        key: path.to_string(),
        message,
        suggestion,
        snippet,
    }))
}

/// An error reading a JSON file, located in its text.
fn import_error(e: ImportError, text: &str) -> ScenarioError {
    let mut d = json_diagnostic(&e.file, text, &e.path, e.message, None);
    if let (Some((line, column)), ScenarioError::Invalid(diag)) = (e.line, &mut d) {
        diag.location = Location::File { line, column };
        diag.snippet = None;
    }
    d
}

pub(super) fn scenario(source: &Source, strict: bool) -> Result<(Scenario, Vec<String>), ScenarioError> {
    let root = source.parse()?;
    let len = source.text().len();
    let mut raw = RawScenario::deserialize(toml::de::Deserializer::from(Spanned::new(0..len, root.clone())))
        .map_err(|e| source.deserialize_error(&root, &e))?;
    let base_dir = std::path::Path::new(&source.name).parent().map(std::path::Path::to_path_buf).unwrap_or_default();
    let no_imports = Imports::default();
    let imports = read_imports(&Cx { source, root: &root, imports: &no_imports }, &mut raw, &base_dir, strict)?;
    let cx = Cx { source, root: &root, imports: &imports };
    let top = KeyPath::root();

    if let Some(v) = raw.version
        && v != FORMAT_VERSION
    {
        return Err(
            cx.err(&top.key("version"), format!("this ecsim reads scenario format version {FORMAT_VERSION}, not {v}"))
        );
    }
    let name = raw.name.trim().to_string();
    if name.is_empty()
        || !name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        || name.starts_with('.')
    {
        return Err(cx.err(
            &top.key("name"),
            format!("`{name}` cannot name the output folder: use letters, digits, '-', '_' and '.'"),
        ));
    }
    let duration = raw.duration.0;
    if duration == 0 || duration > MAX_DURATION {
        return Err(cx.err(&top.key("duration"), "the duration must be more than 0 and at most 366 days"));
    }

    let cluster_path = top.key("cluster");
    let azs = availability_zones(&cx, &cluster_path.key("availability_zones"), &raw.cluster.availability_zones)?;
    let instance_types_all = instance_types(&cx, &raw.instance_types, &azs)?;
    let eni_attach_time = match &raw.cluster.eni_attach_time {
        Some(d) => distribution(&cx, &cluster_path.key("eni_attach_time"), d)?,
        // "awsvpc adds several seconds of launch latency" (ECS-DG:task-recommendations, live doc).
        None => Distribution::Uniform { min: (2 * SECOND) as f64, max: (6 * SECOND) as f64 },
    };

    let mut used_types: Vec<InstanceType> = Vec::new();
    let mut groups = Vec::new();
    let mut group_names = BTreeSet::new();
    let mut total_instances = 0u32;
    for (i, g) in raw.cluster.auto_scaling_groups.iter().enumerate() {
        let path = cluster_path.key("auto_scaling_groups").index(i);
        if !group_names.insert(g.name.clone()) {
            return Err(cx.err(&path.key("name"), format!("two auto scaling groups are named `{}`", g.name)));
        }
        groups.push(auto_scaling_group(
            &cx,
            &path,
            g,
            &azs,
            &instance_types_all,
            &mut used_types,
            &mut total_instances,
            duration,
        )?);
    }

    let mut images: Vec<Image> = Vec::new();
    for (name, img) in &raw.images {
        let path = top.key("images").key(name);
        let size_mb = img.size_mb.unwrap_or(DEFAULT_IMAGE_SIZE_MB);
        if !(size_mb.is_finite() && size_mb > 0.0) {
            return Err(cx.err(&path.key("size_mb"), "an image's size must be a positive number of MB"));
        }
        images.push(Image {
            name: name.clone(),
            size_mb,
            pull_time: match &img.pull_time {
                Some(d) => Some(distribution(&cx, &path.key("pull_time"), d)?),
                None => None,
            },
            start_time: opt_distribution(&cx, &path.key("start_time"), &img.start_time, default_start_time)?,
            registry: match img.registry {
                Some(RawRegistry::Ecr) => Registry::PrivateEcr,
                Some(RawRegistry::Public) => Registry::Public,
                None => Registry::of(name),
            },
        });
    }

    let mut task_definitions = Vec::new();
    let mut shutdown_times = Vec::new();
    for (key, td) in &raw.task_definitions {
        let path = top.key("task_definitions").key(key);
        let (def, shutdown) = task_definition(&cx, &path, key, td, &mut images)?;
        task_definitions.push(def);
        shutdown_times.push(shutdown);
    }
    let td_keys: Vec<&str> = raw.task_definitions.keys().map(String::as_str).collect();

    let mut capacity_providers =
        capacity_providers(&cx, &raw.capacity_providers, &groups, &raw.cluster.auto_scaling_groups)?;
    capacity_providers.push(CapacityProvider::fargate(false));
    capacity_providers.push(CapacityProvider::fargate(true));
    let cp_keys: Vec<&str> = capacity_providers.iter().map(|c| c.name.as_str()).collect();
    let target_groups = target_groups(&cx, &raw.target_groups)?;
    let tg_keys: Vec<&str> = raw.target_groups.keys().map(String::as_str).collect();
    let mut services: Vec<ServiceDefinition> = Vec::new();
    for (name, svc) in &raw.services {
        let path = top.key("services").key(name);
        let mut def = service(&cx, &path, name, svc, &td_keys)?;
        if let Some(lb) = &svc.load_balancer {
            let lpath = path.key("load_balancer");
            let attachment = load_balancer(&cx, &lpath, lb, &tg_keys, &task_definitions[def.task_definition])?;
            if let Some(other) =
                services.iter().find(|o| o.load_balancer.is_some_and(|l| l.target_group == attachment.target_group))
            {
                return Err(cx.err(
                    &lpath.key("target_group"),
                    format!(
                        "target group `{}` already serves service `{}`; give each service its own",
                        lb.target_group, other.name
                    ),
                ));
            }
            def.load_balancer = Some(attachment);
        }
        def.health_check_grace_period = match (svc.health_check_grace_period, &svc.load_balancer) {
            (Some(_), None) => {
                return Err(cx.err(
                    &path.key("health_check_grace_period"),
                    "a health check grace period applies only to a service with a load_balancer",
                ));
            }
            (Some(d), Some(_)) => d.0,
            (None, _) => 0,
        };
        if let Some(a) = &svc.auto_scaling {
            def.auto_scaling = Some(auto_scaling(&cx, &path.key("auto_scaling"), a, &def, duration)?);
        }
        def.blue_green = blue_green(&cx, &path, svc, &def, &tg_keys, &services)?;
        if let Some(strategy) = &svc.capacity_provider_strategy {
            def.capacity_provider_strategy = capacity_provider_strategy(
                &cx,
                &path.key("capacity_provider_strategy"),
                strategy,
                &cp_keys,
                &capacity_providers,
                &def,
            )?;
        }
        launch_type(&cx, &path, svc, &mut def, &capacity_providers)?;
        let td_key = td_keys[def.task_definition];
        if let Some(compat) = &raw.task_definitions[td_key].requires_compatibilities {
            let needed = if def.fargate { RawCompatibility::Fargate } else { RawCompatibility::Ec2 };
            if !compat.contains(&needed) {
                return Err(cx.err(
                    &top.key("task_definitions").key(td_key).key("requires_compatibilities"),
                    format!(
                        "service `{name}` runs on {}, which this task definition's requires_compatibilities leaves out",
                        if def.fargate { "FARGATE" } else { "EC2" }
                    ),
                ));
            }
        }
        if def.fargate {
            let td_key = td_keys[def.task_definition];
            fargate_service(
                &cx,
                &path,
                &top.key("task_definitions").key(td_key),
                svc,
                &def,
                &raw.task_definitions[td_key],
            )?;
        }
        services.push(def);
    }
    for (env, eb) in &raw.beanstalk {
        let path = top.key("beanstalk").key(env);
        if !group_names.insert(env.clone()) || services.iter().any(|s| &s.name == env) {
            return Err(cx.err(&path, format!("`{env}` already names an Auto Scaling group or a service")));
        }
        let (group, service) = beanstalk_environment(
            &cx,
            &path,
            env,
            eb,
            (&azs, &instance_types_all, &mut used_types, &mut total_instances),
            &task_definitions,
            &td_keys,
            &tg_keys,
            &services,
        )?;
        groups.push(group);
        services.push(service);
    }
    let fargate = fargate_settings(&cx, &top.key("fargate"), raw.fargate.as_ref())?;
    let mut workloads = Vec::new();
    for (name, w) in &raw.workloads {
        let path = top.key("workloads").key(name);
        let spec = workload(&cx, &path, name, w, &tg_keys, &base_dir)?;
        if !services.iter().any(|s| {
            s.load_balancer.is_some_and(|lb| lb.target_group == spec.target_group)
                || s.blue_green.is_some_and(|bg| bg.green_target_group == spec.target_group)
        }) {
            return Err(cx.err(
                &path.key("target_group"),
                format!(
                    "target group `{}` serves no service: attach it with load_balancer = {{ target_group = \"{}\", ... }} in a service",
                    w.target_group, w.target_group
                ),
            ));
        }
        workloads.push(spec);
    }
    let alb_ingress = match &raw.cluster.security_group {
        None => None,
        Some(sg) => {
            let spath = cluster_path.key("security_group");
            let mut ranges: Vec<(u16, u16)> = sg.alb_ingress_ports.iter().map(|&p| (p, p)).collect();
            for (i, [lo, hi]) in sg.alb_ingress_ranges.iter().copied().enumerate() {
                if lo > hi {
                    return Err(cx.err(
                        &spath.key("alb_ingress_ranges").index(i),
                        "write a range as [low, high] with low ≤ high",
                    ));
                }
                ranges.push((lo, hi));
            }
            Some(ranges)
        }
    };
    let slo = match &raw.slo {
        None => None,
        Some(slo) => {
            if !(slo.latency_percentile > 0.0 && slo.latency_percentile <= 100.0) {
                return Err(cx.err(
                    &top.key("slo").key("latency_percentile"),
                    "a percentile is above 0 and at most 100, e.g. 99",
                ));
            }
            Some(LatencySlo { percentile: slo.latency_percentile, threshold: slo.latency_threshold.0 })
        }
    };
    let service_names: Vec<&str> = services.iter().map(|s| s.name.as_str()).collect();

    let instance_ids: Vec<String> =
        groups.iter().flat_map(|g| (1..=g.desired_capacity).map(move |n| format!("{}-{n}", g.name))).collect();
    let group_keys: Vec<&str> = groups.iter().map(|g| g.name.as_str()).collect();
    let scope = ActionScope {
        groups: &group_keys,
        zones: &azs,
        duration,
        services: &service_names,
        instances: &instance_ids,
        service_defs: &services,
        td_keys: &td_keys,
        task_definitions: &task_definitions,
    };
    let mut actions = Vec::new();
    for (i, a) in raw.actions.iter().enumerate() {
        actions.push(action(&cx, &top.key("actions").index(i), a, &scope)?);
    }
    actions.sort_by_key(|a: &ScheduledAction| a.at);

    let mut expectations = Vec::new();
    for (i, e) in raw.expect.iter().enumerate() {
        expectations.push(expectation(&cx, &top.key("expect").index(i), e, duration, &service_names)?);
    }
    let solution = raw.solution.as_ref().map_or_else(Vec::new, |s| s.set.clone());
    for (i, set) in solution.iter().enumerate() {
        if !set.contains('=') {
            return Err(cx.err(
                &top.key("solution").key("set").index(i),
                format!("`{set}` is not an override: write it as --set takes it, path=value"),
            ));
        }
    }

    let warnings = imports.warnings.clone();
    let scenario = Scenario {
        name,
        description: raw.description.unwrap_or_default(),
        seed: raw.seed.unwrap_or(1),
        duration,
        cluster_name: raw.cluster.name.unwrap_or_else(|| "default".into()),
        availability_zones: azs,
        instance_types: used_types,
        auto_scaling_groups: groups,
        eni_attach_time,
        images,
        task_definitions,
        shutdown_times,
        services,
        capacity_providers,
        target_groups,
        workloads,
        alb_ingress,
        slo,
        publish_delay: raw.cloudwatch.as_ref().and_then(|c| c.publish_delay).map_or(DEFAULT_PUBLISH_DELAY, |d| d.0),
        actions,
        expectations,
        solution,
        fargate,
        fidelity: match raw.fidelity {
            Some(RawFidelity::Fluid) => crate::model::workload::Fidelity::Fluid,
            _ => crate::model::workload::Fidelity::Request,
        },
    };
    Ok((scenario, warnings))
}

/// `launch_type`: EC2 (the default) or FARGATE, which runs every task on the FARGATE provider;
/// a service sets a launch type or a capacity provider strategy, not both
/// (ECS-DG:cluster-capacity-providers.md). Roles belong elsewhere, and the message says where.
fn launch_type(
    cx: &Cx<'_>,
    path: &KeyPath,
    svc: &RawService,
    def: &mut ServiceDefinition,
    providers: &[CapacityProvider],
) -> Result<(), ScenarioError> {
    match (svc.launch_type, &svc.capacity_provider_strategy) {
        (Some(_), Some(_)) => {
            return Err(cx.err(
                &path.key("launch_type"),
                "a service sets a launch_type or a capacity_provider_strategy, not both: ECS refuses a launch type with a strategy",
            ));
        }
        (Some(RawLaunchType::Fargate), None) => {
            if def.scheduling_strategy == SchedulingStrategy::Daemon {
                return Err(cx.err(&path.key("launch_type"), "Fargate does not run DAEMON services"));
            }
            let provider = providers.iter().position(|p| p.kind == ProviderKind::Fargate).unwrap_or(0);
            def.capacity_provider_strategy = vec![StrategyItem { provider, base: 0, weight: 1 }];
        }
        _ => {}
    }
    def.fargate = def.capacity_provider_strategy.first().is_some_and(|i| providers[i.provider].is_fargate());
    if svc.instance_role.is_some() {
        let message = if def.fargate {
            "a Fargate service has no container instances and so no instance role: Fargate pulls images with the task execution role (execution_role on the task definition) and the application uses the task role (task_role)"
        } else {
            "the instance role belongs to the instances: set instance_role on the Auto Scaling group, or execution_role and task_role on the task definition"
        };
        return Err(cx.err(&path.key("instance_role"), message));
    }
    Ok(())
}

/// What Fargate requires of a service and its task definition (ECS-DG:AWS_Fargate.md): awsvpc,
/// task-level CPU and memory in one of the valid combinations, no placement strategy or
/// constraint.
fn fargate_service(
    cx: &Cx<'_>,
    path: &KeyPath,
    td_path: &KeyPath,
    svc: &RawService,
    def: &ServiceDefinition,
    td: &RawTaskDefinition,
) -> Result<(), ScenarioError> {
    if svc.placement_strategy.is_some() || !svc.placement_constraints.is_empty() {
        let key = if svc.placement_strategy.is_some() { "placement_strategy" } else { "placement_constraints" };
        return Err(cx.err(
            &path.key(key),
            "Fargate takes no placement strategy or constraint: it spreads the tasks across Availability Zones itself",
        ));
    }
    if td.network_mode != Some(RawNetworkMode::Awsvpc) {
        return Err(cx.err(
            &td_path.key("network_mode"),
            format!("service `{}` runs on Fargate, which needs network_mode = \"awsvpc\"", def.name),
        ));
    }
    let (Some(cpu), Some(memory)) = (td.cpu, td.memory) else {
        let key = if td.cpu.is_none() { "cpu" } else { "memory" };
        return Err(cx.err(
            &td_path.key(key),
            format!("service `{}` runs on Fargate, which needs task-level cpu and memory", def.name),
        ));
    };
    crate::model::fargate::check_size(cpu, memory).map_err(|m| cx.err(&td_path.key("memory"), m))
}

fn fargate_settings(cx: &Cx<'_>, path: &KeyPath, raw: Option<&RawFargate>) -> Result<FargateSettings, ScenarioError> {
    let mut f = FargateSettings::default();
    let Some(r) = raw else { return Ok(f) };
    if let Some(d) = &r.provisioning_time {
        f.provisioning_time = distribution(cx, &path.key("provisioning_time"), d)?;
    }
    let prices = [
        ("spot_interruption_rate", r.spot_interruption_rate, &mut f.spot_interruption_rate),
        ("vcpu_hour", r.vcpu_hour, &mut f.pricing.x86_vcpu_hour),
        ("gb_hour", r.gb_hour, &mut f.pricing.x86_gb_hour),
        ("arm_vcpu_hour", r.arm_vcpu_hour, &mut f.pricing.arm_vcpu_hour),
        ("arm_gb_hour", r.arm_gb_hour, &mut f.pricing.arm_gb_hour),
    ];
    for (key, given, slot) in prices {
        if let Some(v) = given {
            if !(v.is_finite() && v >= 0.0) {
                return Err(cx.err(&path.key(key), "a rate or price of zero or more"));
            }
            *slot = v;
        }
    }
    if let Some(d) = r.spot_discount {
        if !(0.0..1.0).contains(&d) {
            return Err(cx.err(
                &path.key("spot_discount"),
                "the Fargate Spot discount is a fraction from 0 up to (not including) 1",
            ));
        }
        f.pricing.spot_discount = d;
    }
    Ok(f)
}

/// The attribute an Elastic Beanstalk environment's instances carry, with its name.
pub const BEANSTALK_ATTRIBUTE: &str = "elasticbeanstalk.environment-name";

/// The instance types, and counters, that groups draw on.
type GroupContext<'a> = (&'a [String], &'a BTreeMap<String, InstanceType>, &'a mut Vec<InstanceType>, &'a mut u32);

/// An Elastic Beanstalk environment: its own Auto Scaling group, whose instances run only its
/// task (one per instance, as a DAEMON service places it), scaled by the environment's trigger
/// (EB:create_deploy_docker_ecs.md, EB:environments-cfg-autoscaling-triggers.md).
#[allow(clippy::too_many_arguments)]
fn beanstalk_environment(
    cx: &Cx<'_>,
    path: &KeyPath,
    env: &str,
    eb: &RawBeanstalk,
    (azs, all_types, used_types, total_instances): GroupContext<'_>,
    task_definitions: &[TaskDefinition],
    td_keys: &[&str],
    tg_keys: &[&str],
    services: &[ServiceDefinition],
) -> Result<(AutoScalingGroup, ServiceDefinition), ScenarioError> {
    // Elastic Beanstalk's capacity defaults: 1 to 4 instances (aws:autoscaling:asg).
    let min = eb.min_size.unwrap_or(1);
    let max = eb.max_size.unwrap_or(4.max(min));
    let desired = eb.desired_capacity.unwrap_or(min);
    let raw_group = RawAutoScalingGroup {
        name: env.to_string(),
        instance_type: Some(eb.instance_type.clone()),
        desired_capacity: desired,
        min_size: Some(min),
        max_size: Some(max),
        mixed_instances_policy: None,
        termination_policies: None,
        new_instances_protected_from_scale_in: None,
        default_instance_warmup: None,
        capacity_rebalance: None,
        spot_instance_draining: None,
        instance_monitoring: eb.instance_monitoring,
        scaling: None,
        instance_role: eb.instance_role.clone(),
        availability_zones: eb.availability_zones.clone(),
        attributes: indexmap::IndexMap::new(),
        boot_time: None,
        agent_registration_time: None,
        boot_at_start: false,
        reserved_memory: None,
        dynamic_host_port_range: None,
    };
    let duration = MINUTE; // no scheduled actions to check
    let mut group = auto_scaling_group(cx, path, &raw_group, azs, all_types, used_types, total_instances, duration)?;
    let tpath = path.key("trigger");
    let t = &eb.trigger;
    let measure_name = match t.measure_name.as_str() {
        "CPUUtilization" => ScalingMetric::GroupCpuUtilization,
        other => {
            return Err(cx.err_suggest(
                &tpath.key("measure_name"),
                format!("`{other}` is not a trigger metric the simulation measures (Elastic Beanstalk's default, NetworkOut, needs a network model it does not have)"),
                other,
                ["CPUUtilization"],
            ));
        }
    };
    let period = t.period.map_or(crate::model::beanstalk::DEFAULT_PERIOD, |d| d.0);
    if period == 0 || !period.is_multiple_of(MINUTE) {
        return Err(cx.err(&tpath.key("period"), "the trigger's period is a whole number of minutes"));
    }
    let trigger = ScalingTrigger {
        measure_name,
        statistic: t.statistic.map_or(Statistic::Average, statistic),
        period,
        evaluation_periods: t.evaluation_periods.unwrap_or(1),
        breach_duration: t.breach_duration.map_or(crate::model::beanstalk::DEFAULT_BREACH_DURATION, |d| d.0),
        upper_threshold: t.upper_threshold,
        upper_breach_scale_increment: t.upper_breach_scale_increment.unwrap_or(1),
        lower_threshold: t.lower_threshold,
        lower_breach_scale_increment: t.lower_breach_scale_increment.unwrap_or(-1),
    };
    if trigger.lower_threshold >= trigger.upper_threshold {
        return Err(cx.err(&tpath.key("lower_threshold"), "the lower threshold must be below the upper one"));
    }
    let cooldown = eb.cooldown.map_or(crate::model::beanstalk::DEFAULT_COOLDOWN, |d| d.0);
    group.scaling = Some(ServiceScaling {
        min_capacity: min,
        max_capacity: max,
        target_tracking: Vec::new(),
        step_scaling: trigger.policies(env, cooldown),
        scheduled: Vec::new(),
    });
    group.beanstalk_environment = Some(env.to_string());
    // The environment's instances carry its name, and its task goes only where the name is.
    group.attributes.insert(BEANSTALK_ATTRIBUTE.to_string(), env.to_string());
    let only_here = Expression::parse(&format!("attribute:{BEANSTALK_ATTRIBUTE} == {env}")).map_err(|q| {
        cx.err(path, format!("the environment's name does not fit a placement expression: {}", q.message))
    })?;
    let Some(task_definition) = td_keys.iter().position(|k| *k == eb.task_definition) else {
        return Err(cx.err_suggest(
            &path.key("task_definition"),
            format!("no task definition is called `{}`", eb.task_definition),
            &eb.task_definition,
            td_keys.iter().copied(),
        ));
    };
    let td = &task_definitions[task_definition];
    if td.network_mode != NetworkMode::Bridge {
        return Err(cx.err(
            &path.key("task_definition"),
            "a Dockerrun.aws.json v2 environment runs its containers in bridge networking",
        ));
    }
    if let Some(c) = td.containers.iter().find(|c| c.memory.is_none() && c.memory_reservation.is_none()) {
        return Err(cx.err(
            &path.key("task_definition"),
            format!(
                "container `{}` sets neither memory nor memory_reservation, which Dockerrun.aws.json v2 requires",
                c.name
            ),
        ));
    }
    let mut service = ServiceDefinition {
        name: env.to_string(),
        task_definition,
        desired_count: 0,
        scheduling_strategy: SchedulingStrategy::Daemon,
        placement_strategies: Vec::new(),
        placement_constraints: vec![PlacementConstraint::MemberOf(only_here)],
        deployment_configuration: DeploymentConfiguration::DAEMON_DEFAULT,
        load_balancer: None,
        health_check_grace_period: 0,
        auto_scaling: None,
        blue_green: None,
        capacity_provider_strategy: Vec::new(),
        fargate: false,
    };
    if let Some(lb) = &eb.load_balancer {
        let lpath = path.key("load_balancer");
        let attachment = load_balancer(cx, &lpath, lb, tg_keys, td)?;
        if services.iter().any(|o| o.load_balancer.is_some_and(|l| l.target_group == attachment.target_group)) {
            return Err(cx.err(&lpath.key("target_group"), "this target group already serves a service"));
        }
        service.load_balancer = Some(attachment);
    }
    Ok((group, service))
}

/// An Auto Scaling group from its table (or from an Elastic Beanstalk environment's, which has
/// the same keys), with the instance types it uses added to `used_types`.
#[allow(clippy::too_many_arguments)]
fn auto_scaling_group(
    cx: &Cx<'_>,
    path: &KeyPath,
    g: &RawAutoScalingGroup,
    azs: &[String],
    instance_types_all: &BTreeMap<String, InstanceType>,
    used_types: &mut Vec<InstanceType>,
    total_instances: &mut u32,
    duration: SimTime,
) -> Result<AutoScalingGroup, ScenarioError> {
    let mut use_type = |name: &str, p: &KeyPath| -> Result<usize, ScenarioError> {
        let Some(t) = instance_types_all.get(name) else {
            return Err(cx.err_suggest(
                p,
                format!("unknown instance type `{name}`; add it under [instance_types.\"{name}\"]"),
                name,
                instance_types_all.keys().map(String::as_str),
            ));
        };
        Ok(match used_types.iter().position(|u| u.name == t.name) {
            Some(k) => k,
            None => {
                used_types.push(t.clone());
                used_types.len() - 1
            }
        })
    };
    let mixed_instances_policy = match &g.mixed_instances_policy {
        None => None,
        Some(m) => {
            let mpath = path.key("mixed_instances_policy");
            if m.instance_types.is_empty() {
                return Err(
                    cx.err(&mpath.key("instance_types"), "a mixed instances policy lists at least one instance type")
                );
            }
            let mut overrides = Vec::new();
            for (k, o) in m.instance_types.iter().enumerate() {
                let opath = mpath.key("instance_types").index(k);
                let t = use_type(&o.instance_type, &opath.key("instance_type"))?;
                let weight = o.weight.unwrap_or(1);
                if !(1..=999).contains(&weight) {
                    return Err(cx.err(&opath.key("weight"), "an instance weight is 1 to 999 capacity units"));
                }
                overrides.push((t, weight));
            }
            let pct = m.on_demand_percentage_above_base.unwrap_or(100);
            if pct > 100 {
                return Err(cx.err(&mpath.key("on_demand_percentage_above_base"), "a percentage from 0 to 100"));
            }
            Some(MixedInstancesPolicy {
                overrides,
                on_demand_base_capacity: m.on_demand_base_capacity.unwrap_or(0),
                on_demand_percentage_above_base: pct,
                spot_allocation_strategy: match m
                    .spot_allocation_strategy
                    .unwrap_or(RawSpotAllocation::PriceCapacityOptimized)
                {
                    RawSpotAllocation::LowestPrice => SpotAllocationStrategy::LowestPrice,
                    RawSpotAllocation::CapacityOptimized => SpotAllocationStrategy::CapacityOptimized,
                    RawSpotAllocation::PriceCapacityOptimized => SpotAllocationStrategy::PriceCapacityOptimized,
                },
            })
        }
    };
    let type_index = match (&g.instance_type, &mixed_instances_policy) {
        (Some(name), _) => use_type(name, &path.key("instance_type"))?,
        (None, Some(m)) => m.overrides[0].0,
        (None, None) => {
            return Err(
                cx.err(path, "a group needs an instance_type (its launch template's) or a mixed_instances_policy")
            );
        }
    };
    let zones = match &g.availability_zones {
        None => (0..azs.len()).collect(),
        Some(list) => {
            let zpath = path.key("availability_zones");
            if list.is_empty() {
                return Err(cx.err(&zpath, "a group needs at least one Availability Zone"));
            }
            let mut out = Vec::new();
            for (k, z) in list.iter().enumerate() {
                match azs.iter().position(|a| a == z) {
                    Some(zi) if !out.contains(&zi) => out.push(zi),
                    Some(_) => return Err(cx.err(&zpath.index(k), format!("`{z}` is listed twice"))),
                    None => {
                        return Err(cx.err_suggest(
                            &zpath.index(k),
                            format!("`{z}` is not one of the cluster's availability_zones"),
                            z,
                            azs.iter().map(String::as_str),
                        ));
                    }
                }
            }
            out
        }
    };
    let min_size = g.min_size.unwrap_or(g.desired_capacity);
    let max_size = g.max_size.unwrap_or(g.desired_capacity.max(min_size));
    if min_size > max_size || !(min_size..=max_size).contains(&g.desired_capacity) {
        return Err(cx.err(
            &path.key("desired_capacity"),
            format!(
                "need min_size ≤ desired_capacity ≤ max_size, got {min_size} ≤ {} ≤ {max_size}",
                g.desired_capacity
            ),
        ));
    }
    *total_instances = total_instances.saturating_add(max_size);
    if *total_instances > MAX_INSTANCES {
        return Err(cx.err(
            &path.key("max_size"),
            format!("the cluster could hold more than {MAX_INSTANCES} instances, the ECS quota per cluster"),
        ));
    }
    let smallest = mixed_instances_policy
        .as_ref()
        .map_or(vec![type_index], |m| m.overrides.iter().map(|o| o.0).collect())
        .into_iter()
        .map(|t| used_types[t].registered_memory())
        .min()
        .unwrap_or(0);
    let reserved_memory = g.reserved_memory.unwrap_or(0);
    if reserved_memory >= smallest {
        return Err(cx.err(
            &path.key("reserved_memory"),
            format!("{reserved_memory} MiB is all of the {smallest} MiB the group's smallest type registers"),
        ));
    }
    let dynamic_host_port_range = match g.dynamic_host_port_range {
        None => DEFAULT_DYNAMIC_HOST_PORT_RANGE,
        Some([lo, hi]) if lo > 0 && lo <= hi => (lo, hi),
        Some(_) => {
            return Err(
                cx.err(&path.key("dynamic_host_port_range"), "write the range as [low, high] with 0 < low ≤ high")
            );
        }
    };
    let termination_policies = match &g.termination_policies {
        None => vec![TerminationPolicy::Default],
        Some(list) => {
            let mut out = Vec::new();
            for (k, name) in list.iter().enumerate() {
                out.push(TerminationPolicy::from_name(name).ok_or_else(|| {
                    cx.err_suggest(
                        &path.key("termination_policies").index(k),
                        format!("`{name}` is not a termination policy"),
                        name,
                        TerminationPolicy::NAMES,
                    )
                })?);
            }
            out
        }
    };
    let scaling = match &g.scaling {
        None => None,
        Some(sc) => {
            let set = PolicySet {
                target_tracking_raw: &sc.target_tracking,
                step_raw: &sc.step_scaling,
                scheduled_raw: &sc.scheduled,
            };
            Some(scaling_policies(
                cx,
                &path.key("scaling"),
                set,
                (min_size, max_size),
                Owner::Group(&g.name),
                duration,
            )?)
        }
    };
    Ok(AutoScalingGroup {
        name: g.name.clone(),
        instance_type: type_index,
        desired_capacity: g.desired_capacity,
        availability_zones: zones,
        attributes: g.attributes.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
        boot_time: opt_distribution(cx, &path.key("boot_time"), &g.boot_time, default_boot_time)?,
        agent_registration_time: opt_distribution(
            cx,
            &path.key("agent_registration_time"),
            &g.agent_registration_time,
            default_agent_registration_time,
        )?,
        boot_at_start: g.boot_at_start,
        reserved_memory,
        dynamic_host_port_range,
        min_size,
        max_size,
        mixed_instances_policy,
        termination_policies,
        new_instances_protected_from_scale_in: g.new_instances_protected_from_scale_in.unwrap_or(false),
        default_instance_warmup: g.default_instance_warmup.map(|d| d.0),
        capacity_rebalance: g.capacity_rebalance.unwrap_or(false),
        spot_instance_draining: g.spot_instance_draining.unwrap_or(false),
        metric_period: match g.instance_monitoring.unwrap_or(RawMonitoring::Basic) {
            RawMonitoring::Basic => 5 * MINUTE,
            RawMonitoring::Detailed => MINUTE,
        },
        scaling,
        instance_role: Some(
            g.instance_role.as_ref().map_or_else(
                || Role { name: "ecsInstanceRole".into(), ecr_pull: true },
                |r| role(r, "ecsInstanceRole"),
            ),
        ),
        beanstalk_environment: None,
    })
}

/// Container create and start, from pulled image to a running process: 0.5–2 s [assume].
fn default_start_time() -> Distribution {
    Distribution::Uniform { min: 500.0, max: 2_000.0 }
}

/// Containers exit this long after SIGTERM when the scenario does not say: 1 s [assume]. An
/// application that ignores SIGTERM waits the whole `stop_timeout` instead.
fn default_shutdown_time() -> Distribution {
    Distribution::Fixed(SECOND as f64)
}

fn instance_types(
    cx: &Cx<'_>,
    raw: &indexmap::IndexMap<String, RawInstanceType>,
    zones: &[String],
) -> Result<BTreeMap<String, InstanceType>, ScenarioError> {
    let mut all = builtin_instance_types();
    for (name, r) in raw {
        let path = KeyPath::root().key("instance_types").key(name);
        let mut t = match all.get(name) {
            Some(t) => t.clone(),
            None => {
                let missing: Vec<&str> = [
                    ("vcpu", r.vcpu.is_none()),
                    ("memory_mib", r.memory_mib.is_none()),
                    ("max_enis", r.max_enis.is_none()),
                    ("on_demand_price", r.on_demand_price.is_none()),
                ]
                .into_iter()
                .filter_map(|(k, m)| m.then_some(k))
                .collect();
                if !missing.is_empty() {
                    return Err(cx.source.error_at(
                        cx.root,
                        &path,
                        format!("`{name}` is not a built-in instance type, so it needs {}", missing.join(", ")),
                        suggest(name, all.keys().map(String::as_str)).map(|s| format!("or {s}")),
                    ));
                }
                InstanceType {
                    name: name.clone(),
                    vcpu: 0,
                    memory_mib: 0,
                    max_enis: 0,
                    on_demand_price: 0.0,
                    architecture: CpuArchitecture::X86_64,
                    registered_memory_mib: None,
                    spot_price: 0.0,
                    spot_interruption_rate: crate::model::ec2::DEFAULT_SPOT_INTERRUPTION_RATE,
                    spot_interruption_rate_by_zone: Vec::new(),
                }
            }
        };
        if let Some(v) = r.vcpu {
            t.vcpu = v;
        }
        if let Some(v) = r.memory_mib {
            t.memory_mib = v;
        }
        if let Some(v) = r.max_enis {
            t.max_enis = v;
        }
        if let Some(v) = r.on_demand_price {
            t.on_demand_price = v;
        }
        if let Some(a) = r.architecture {
            t.architecture = match a {
                RawArchitecture::X86_64 => CpuArchitecture::X86_64,
                RawArchitecture::Arm64 => CpuArchitecture::Arm64,
            };
        }
        if r.registered_memory_mib.is_some() {
            t.registered_memory_mib = r.registered_memory_mib;
        }
        match r.spot_price {
            Some(p) => t.spot_price = p,
            None if r.on_demand_price.is_some() => {
                t.spot_price = t.on_demand_price * crate::model::ec2::DEFAULT_SPOT_DISCOUNT
            }
            None => {}
        }
        if let Some(rate) = r.spot_interruption_rate {
            t.spot_interruption_rate = rate;
        }
        if !(t.spot_price.is_finite() && t.spot_price >= 0.0) {
            return Err(cx.err(&path.key("spot_price"), "the Spot price must be zero or more (USD per hour)"));
        }
        if !(t.spot_interruption_rate.is_finite() && t.spot_interruption_rate >= 0.0) {
            return Err(cx.err(&path.key("spot_interruption_rate"), "interruptions per instance-hour: zero or more"));
        }
        for (zone, &rate) in &r.spot_interruption_rate_by_zone {
            let zpath = path.key("spot_interruption_rate_by_zone").key(zone);
            let Some(z) = zones.iter().position(|x| x == zone) else {
                return Err(cx.err_suggest(
                    &zpath,
                    format!("`{zone}` is not one of the cluster's availability_zones"),
                    zone,
                    zones.iter().map(String::as_str),
                ));
            };
            if !(rate.is_finite() && rate >= 0.0) {
                return Err(cx.err(&zpath, "interruptions per instance-hour: zero or more"));
            }
            t.spot_interruption_rate_by_zone.push((z, rate));
        }
        if t.vcpu == 0 || t.vcpu > 448 {
            return Err(cx.err(&path.key("vcpu"), "vcpu must be between 1 and 448"));
        }
        if t.memory_mib == 0 {
            return Err(cx.err(&path.key("memory_mib"), "memory_mib must be more than 0"));
        }
        if t.max_enis == 0 {
            return Err(
                cx.err(&path.key("max_enis"), "an instance has at least its primary network interface: max_enis ≥ 1")
            );
        }
        if !(t.on_demand_price.is_finite() && t.on_demand_price >= 0.0) {
            return Err(cx.err(&path.key("on_demand_price"), "the price must be zero or more (USD per hour)"));
        }
        if t.registered_memory() > t.memory_mib {
            return Err(
                cx.err(&path.key("registered_memory_mib"), "an instance cannot register more memory than it has")
            );
        }
        all.insert(name.clone(), t);
    }
    Ok(all)
}

fn availability_zones(cx: &Cx<'_>, path: &KeyPath, list: &[String]) -> Result<Vec<String>, ScenarioError> {
    if list.is_empty() {
        return Err(cx.err(path, "the cluster needs at least one Availability Zone"));
    }
    let mut seen = BTreeSet::new();
    for (i, z) in list.iter().enumerate() {
        if z.trim().is_empty() {
            return Err(cx.err(&path.index(i), "an Availability Zone needs a name"));
        }
        if !seen.insert(z) {
            return Err(cx.err(&path.index(i), format!("`{z}` is listed twice")));
        }
    }
    Ok(list.to_vec())
}

fn opt_distribution(
    cx: &Cx<'_>,
    path: &KeyPath,
    raw: &Option<RawDistribution>,
    default: fn() -> Distribution,
) -> Result<Distribution, ScenarioError> {
    match raw {
        Some(d) => distribution(cx, path, d),
        None => Ok(default()),
    }
}

/// A distribution of durations (milliseconds). Each kind names the keys it needs.
fn distribution(cx: &Cx<'_>, path: &KeyPath, raw: &RawDistribution) -> Result<Distribution, ScenarioError> {
    let t = match raw {
        RawDistribution::Fixed(d) => return Ok(Distribution::Fixed(d.0 as f64)),
        RawDistribution::Table(t) => t,
    };
    let ms = |d: Option<RawDuration>| d.map(|d| d.0 as f64);
    let need = |v: Option<f64>, key: &str| {
        v.ok_or_else(|| cx.err(path, format!("a {:?} distribution needs `{key}`", t.dist).to_lowercase()))
    };
    let result = match t.dist {
        DistributionKind::Fixed => Distribution::fixed(need(ms(t.value), "value")?),
        DistributionKind::Uniform => Distribution::uniform(need(ms(t.min), "min")?, need(ms(t.max), "max")?),
        DistributionKind::Exponential => Distribution::exponential(need(ms(t.mean), "mean")?),
        DistributionKind::Lognormal => {
            let mean = need(ms(t.mean), "mean")?;
            match (t.sigma, ms(t.p99)) {
                (Some(sigma), None) => Distribution::lognormal_mean_sigma(mean, sigma),
                (None, Some(p99)) => Distribution::lognormal_mean_p99(mean, p99),
                _ => {
                    return Err(
                        cx.err(path, "a lognormal distribution needs `mean` and exactly one of `sigma` or `p99`")
                    );
                }
            }
        }
        DistributionKind::Gamma => Distribution::gamma(need(ms(t.mean), "mean")?, need(t.shape, "shape")?),
        DistributionKind::Normal => Distribution::normal(need(ms(t.mean), "mean")?, need(ms(t.sd), "sd")?),
    };
    result.map_err(|m| cx.err(path, m))
}

fn task_definition(
    cx: &Cx<'_>,
    path: &KeyPath,
    key: &str,
    td: &RawTaskDefinition,
    images: &mut Vec<Image>,
) -> Result<(TaskDefinition, Distribution), ScenarioError> {
    let network_mode = match td.network_mode.unwrap_or(RawNetworkMode::Bridge) {
        RawNetworkMode::Bridge => NetworkMode::Bridge,
        RawNetworkMode::Host => NetworkMode::Host,
        RawNetworkMode::Awsvpc => NetworkMode::Awsvpc,
    };
    if let Some(cpu) = td.cpu
        && !(128..=10240).contains(&cpu)
    {
        return Err(cx.err(&path.key("cpu"), format!("task-level cpu on EC2 is 128 to 10240 units, not {cpu}")));
    }
    if td.containers.is_empty() {
        return Err(cx.err(
            path,
            format!("task definition `{key}` has no containers: add [[task_definitions.{key}.containers]]"),
        ));
    }
    let mut containers = Vec::new();
    let mut names = BTreeSet::new();
    let mut static_ports: BTreeMap<u16, usize> = BTreeMap::new();
    for (i, c) in td.containers.iter().enumerate() {
        let cpath = path.key("containers").index(i);
        if !names.insert(c.name.as_str()) {
            return Err(cx.err(&cpath.key("name"), format!("two containers are named `{}`", c.name)));
        }
        if td.memory.is_none() && c.memory.is_none() && c.memory_reservation.is_none() {
            return Err(cx.err(
                &cpath,
                format!("container `{}` needs `memory` or `memory_reservation`, since the task definition sets no task-level memory", c.name),
            ));
        }
        // Docker 20.10+ reserves at least 6 MiB per container (ECS-DG:task_definition_parameters.md).
        for (k, v) in [("memory", c.memory), ("memory_reservation", c.memory_reservation)] {
            if let Some(v) = v
                && v < 6
            {
                return Err(cx.err(&cpath.key(k), format!("{v} MiB is below Docker's 6 MiB minimum for a container")));
            }
        }
        if let (Some(hard), Some(soft)) = (c.memory, c.memory_reservation)
            && hard <= soft
        {
            return Err(cx.err(
                &cpath.key("memory_reservation"),
                format!("memory ({hard}) must be greater than memory_reservation ({soft})"),
            ));
        }
        let mut port_mappings = Vec::new();
        for (k, p) in c.port_mappings.iter().enumerate() {
            let ppath = cpath.key("port_mappings").index(k);
            if p.container_port == 0 {
                return Err(
                    cx.err(&ppath.key("container_port"), "container_port must be a port number from 1 to 65535")
                );
            }
            let host_port = match (network_mode, p.host_port) {
                (NetworkMode::Bridge, Some(0) | None) => None,
                (NetworkMode::Bridge, Some(h)) => Some(h),
                (_, None | Some(0)) => None,
                (_, Some(h)) if h == p.container_port => None,
                (mode, Some(h)) => {
                    return Err(cx.err(
                        &ppath.key("host_port"),
                        format!(
                            "under {} mode host_port must equal container_port ({}) or be left out, not {h}",
                            mode.as_str(),
                            p.container_port
                        ),
                    ));
                }
            };
            let static_port = match network_mode {
                NetworkMode::Bridge => host_port,
                NetworkMode::Host => Some(p.container_port),
                NetworkMode::Awsvpc => None,
            };
            if let Some(sp) = static_port
                && static_ports.insert(sp, i).is_some()
            {
                return Err(cx.err(&ppath, format!("host port {sp} is mapped twice in this task definition")));
            }
            port_mappings.push(PortMapping { container_port: p.container_port, host_port });
        }
        let image = match images.iter().position(|im| im.name == c.image) {
            Some(k) => k,
            None => {
                images.push(Image {
                    name: c.image.clone(),
                    size_mb: DEFAULT_IMAGE_SIZE_MB,
                    pull_time: None,
                    start_time: default_start_time(),
                    registry: Registry::of(&c.image),
                });
                images.len() - 1
            }
        };
        containers.push(ContainerDefinition {
            name: c.name.clone(),
            image,
            cpu: c.cpu,
            memory: c.memory,
            memory_reservation: c.memory_reservation,
            essential: c.essential.unwrap_or(true),
            port_mappings,
        });
    }
    if !containers.iter().any(|c| c.essential) {
        return Err(cx.err(&path.key("containers"), "a task definition needs at least one essential container"));
    }
    let container_cpu: u32 = containers.iter().map(|c| c.cpu).sum();
    if let Some(cpu) = td.cpu
        && container_cpu > cpu
    {
        return Err(cx.err(
            &path.key("cpu"),
            format!("the containers ask for {container_cpu} CPU units, more than the task's {cpu}"),
        ));
    }
    let container_memory: u32 = containers.iter().map(|c| c.memory_to_reserve()).sum();
    if let Some(mem) = td.memory
        && container_memory > mem
    {
        return Err(cx.err(
            &path.key("memory"),
            format!("the containers reserve {container_memory} MiB, more than the task's {mem}"),
        ));
    }
    if td.requires_compatibilities.as_ref().is_some_and(|c| c.contains(&RawCompatibility::Fargate)) {
        let cpath = path.key("requires_compatibilities");
        if network_mode != NetworkMode::Awsvpc {
            return Err(cx.err(
                &path.key("network_mode"),
                "a task definition that requires FARGATE compatibility uses network_mode = \"awsvpc\"",
            ));
        }
        let (Some(cpu), Some(memory)) = (td.cpu, td.memory) else {
            return Err(
                cx.err(&cpath, "a task definition that requires FARGATE compatibility sets task-level cpu and memory")
            );
        };
        crate::model::fargate::check_size(cpu, memory).map_err(|m| cx.err(&path.key("memory"), m))?;
    }
    let app = app_profile(cx, &path.key("app"), td.app.as_ref(), td.memory.unwrap_or(container_memory))?;
    let def = TaskDefinition {
        app,
        family: td.family.clone().unwrap_or_else(|| key.to_string()),
        revision: td.revision.unwrap_or(1),
        network_mode,
        cpu: td.cpu,
        memory: td.memory,
        containers,
        stop_timeout: td.stop_timeout.map_or(DEFAULT_STOP_TIMEOUT, |d| d.0),
        execution_role: td.execution_role.as_ref().map(|r| role(r, "ecsTaskExecutionRole")),
        task_role: td.task_role.as_ref().map(|r| role(r, &format!("{key}-task-role"))),
        calls_aws_apis: td.calls_aws_apis.unwrap_or(false),
        cpu_architecture: match td.runtime_platform.as_ref().and_then(|r| r.cpu_architecture) {
            Some(RawCpuArchitecture::Arm64) => FargateArchitecture::Arm64,
            _ => FargateArchitecture::X86_64,
        },
    };
    let shutdown = opt_distribution(cx, &path.key("shutdown_time"), &td.shutdown_time, default_shutdown_time)?;
    Ok((def, shutdown))
}

/// A role from its table: the managed policies allow ECR pulls unless it says otherwise.
fn role(r: &RawRole, default_name: &str) -> Role {
    Role { name: r.name.clone().unwrap_or_else(|| default_name.to_string()), ecr_pull: r.ecr_pull.unwrap_or(true) }
}

fn service(
    cx: &Cx<'_>,
    path: &KeyPath,
    name: &str,
    svc: &RawService,
    td_keys: &[&str],
) -> Result<ServiceDefinition, ScenarioError> {
    let Some(td_name) = svc.task_definition.as_deref() else {
        return Err(
            cx.err(path, format!("service `{name}` needs a task_definition (or `from`, a describe-services output)"))
        );
    };
    let Some(task_definition) = td_keys.iter().position(|k| *k == td_name) else {
        return Err(cx.err_suggest(
            &path.key("task_definition"),
            format!("no task definition is called `{td_name}`"),
            td_name,
            td_keys.iter().copied(),
        ));
    };
    let strategy = match svc.scheduling_strategy.unwrap_or(RawSchedulingStrategy::Replica) {
        RawSchedulingStrategy::Replica => SchedulingStrategy::Replica,
        RawSchedulingStrategy::Daemon => SchedulingStrategy::Daemon,
    };
    let desired_count = match (strategy, svc.desired_count) {
        (SchedulingStrategy::Replica, Some(n)) => n,
        (SchedulingStrategy::Replica, None) => {
            return Err(
                cx.err(path, format!("service `{name}` needs a desired_count (or scheduling_strategy = \"DAEMON\")"))
            );
        }
        (SchedulingStrategy::Daemon, None) => 0,
        (SchedulingStrategy::Daemon, Some(_)) => {
            return Err(cx.err(
                &path.key("desired_count"),
                "a DAEMON service runs one task per instance and takes no desired_count",
            ));
        }
    };
    let placement_strategies = match (&svc.placement_strategy, strategy) {
        (Some(_), SchedulingStrategy::Daemon) => {
            return Err(cx.err(&path.key("placement_strategy"), "DAEMON services take no placement strategy"));
        }
        (None, SchedulingStrategy::Daemon) => Vec::new(),
        (None, SchedulingStrategy::Replica) => PlacementStrategy::service_default(),
        (Some(list), _) => {
            let spath = path.key("placement_strategy");
            if list.len() > MAX_STRATEGIES {
                return Err(
                    cx.err(&spath, format!("ECS allows at most {MAX_STRATEGIES} placement strategies per service"))
                );
            }
            let mut out = Vec::new();
            for (i, s) in list.iter().enumerate() {
                out.push(placement_strategy(cx, &spath.index(i), s)?);
            }
            out
        }
    };
    let cpath = path.key("placement_constraints");
    if svc.placement_constraints.len() > MAX_CONSTRAINTS {
        return Err(cx.err(&cpath, format!("ECS allows at most {MAX_CONSTRAINTS} placement constraints per task")));
    }
    let mut placement_constraints = Vec::new();
    for (i, c) in svc.placement_constraints.iter().enumerate() {
        placement_constraints.push(placement_constraint(cx, &cpath.index(i), c)?);
    }
    let defaults = match strategy {
        SchedulingStrategy::Replica => DeploymentConfiguration::REPLICA_DEFAULT,
        SchedulingStrategy::Daemon => DeploymentConfiguration::DAEMON_DEFAULT,
    };
    let dpath = path.key("deployment_configuration");
    let deployment_configuration = match &svc.deployment_configuration {
        None => defaults,
        Some(d) => DeploymentConfiguration {
            minimum_healthy_percent: d.minimum_healthy_percent.unwrap_or(defaults.minimum_healthy_percent),
            maximum_percent: d.maximum_percent.unwrap_or(defaults.maximum_percent),
            circuit_breaker: match &d.deployment_circuit_breaker {
                Some(cb) if cb.enable => {
                    if strategy == SchedulingStrategy::Daemon {
                        return Err(cx.err(
                            &dpath.key("deployment_circuit_breaker"),
                            "the circuit breaker is for REPLICA services",
                        ));
                    }
                    Some(CircuitBreaker {
                        rollback: cb.rollback,
                        minimum_threshold: cb.minimum_threshold.unwrap_or(DEFAULT_MINIMUM_THRESHOLD).max(1),
                    })
                }
                _ => None,
            },
        },
    };
    if deployment_configuration.minimum_healthy_percent > 100 {
        return Err(cx.err(&dpath.key("minimum_healthy_percent"), "minimum_healthy_percent is at most 100"));
    }
    if strategy == SchedulingStrategy::Daemon && deployment_configuration.maximum_percent != 100 {
        return Err(cx.err(&dpath.key("maximum_percent"), "a DAEMON service's maximum_percent must be 100"));
    }
    if deployment_configuration.maximum_percent < deployment_configuration.minimum_healthy_percent
        || deployment_configuration.maximum_percent == 0
    {
        return Err(cx.err(
            &dpath.key("maximum_percent"),
            "maximum_percent must be above 0 and at least minimum_healthy_percent",
        ));
    }
    Ok(ServiceDefinition {
        name: name.to_string(),
        task_definition,
        desired_count,
        scheduling_strategy: strategy,
        placement_strategies,
        placement_constraints,
        deployment_configuration,
        load_balancer: None,
        health_check_grace_period: 0,
        auto_scaling: None,
        blue_green: None,
        capacity_provider_strategy: Vec::new(),
        fargate: false,
    })
}

fn placement_strategy(
    cx: &Cx<'_>,
    path: &KeyPath,
    s: &RawPlacementStrategy,
) -> Result<PlacementStrategy, ScenarioError> {
    let fpath = path.key("field");
    match (s.kind, s.field.as_deref()) {
        (RawStrategyType::Random, None) => Ok(PlacementStrategy::Random),
        (RawStrategyType::Random, Some(_)) => Err(cx.err(&fpath, "the random strategy takes no field")),
        (RawStrategyType::Binpack, Some(f)) => match f.to_ascii_lowercase().as_str() {
            "cpu" => Ok(PlacementStrategy::Binpack(BinpackField::Cpu)),
            "memory" => Ok(PlacementStrategy::Binpack(BinpackField::Memory)),
            _ => Err(cx.err_suggest(
                &fpath,
                format!("binpack works on `cpu` or `memory`, not `{f}`"),
                f,
                ["cpu", "memory"],
            )),
        },
        (RawStrategyType::Spread, Some(f)) => {
            if f == "instanceId" || f == "host" {
                Ok(PlacementStrategy::Spread(SpreadField::InstanceId))
            } else if let Some(attr) = f.strip_prefix("attribute:").filter(|a| !a.is_empty()) {
                Ok(PlacementStrategy::Spread(SpreadField::Attribute(attr.to_string())))
            } else {
                Err(cx.err_suggest(
                    &fpath,
                    format!("spread works on `instanceId`, `host` or `attribute:<name>`, not `{f}`"),
                    f,
                    ["instanceId", "host", "attribute:ecs.availability-zone", "attribute:ecs.instance-type"],
                ))
            }
        }
        (_, None) => Err(cx.err(
            path,
            "binpack and spread need a `field`, e.g. field = \"memory\" or field = \"attribute:ecs.availability-zone\"",
        )),
    }
}

fn placement_constraint(
    cx: &Cx<'_>,
    path: &KeyPath,
    c: &RawPlacementConstraint,
) -> Result<PlacementConstraint, ScenarioError> {
    let epath = path.key("expression");
    match (c.kind, c.expression.as_deref()) {
        (RawConstraintType::DistinctInstance, None) => Ok(PlacementConstraint::DistinctInstance),
        (RawConstraintType::DistinctInstance, Some(_)) => Err(cx.err(&epath, "distinctInstance takes no expression")),
        (RawConstraintType::MemberOf, None) => {
            Err(cx.err(path, "memberOf needs an `expression`, e.g. \"attribute:ecs.instance-type =~ m5.*\""))
        }
        (RawConstraintType::MemberOf, Some(e)) => {
            Expression::parse(e).map(PlacementConstraint::MemberOf).map_err(|q| {
                // Point into the string: past its opening quote, at the offending character.
                let span = span_of(cx.root, &epath.0).map(|s| {
                    let at = (s.start + 1 + q.offset).min(s.end.saturating_sub(1).max(s.start));
                    at..at + 1
                });
                cx.source.diagnostic(span, &epath, format!("in the memberOf expression: {}", q.message), None)
            })
        }
    }
}

/// What an action may refer to.
struct ActionScope<'a> {
    groups: &'a [&'a str],
    zones: &'a [String],
    duration: SimTime,
    services: &'a [&'a str],
    instances: &'a [String],
    service_defs: &'a [ServiceDefinition],
    td_keys: &'a [&'a str],
    task_definitions: &'a [TaskDefinition],
}

fn action(
    cx: &Cx<'_>,
    path: &KeyPath,
    a: &RawAction,
    scope: &ActionScope<'_>,
) -> Result<ScheduledAction, ScenarioError> {
    let ActionScope { groups, zones, duration, services, instances, service_defs, td_keys, task_definitions } = *scope;
    if a.at.0 > duration {
        return Err(cx.err(&path.key("at"), "this action comes after the end of the run"));
    }
    let service_index = |key: &str, name: &str| -> Result<usize, ScenarioError> {
        services.iter().position(|s| *s == name).ok_or_else(|| {
            cx.err_suggest(
                &path.key(key).key("service"),
                format!("no service is called `{name}`"),
                name,
                services.iter().copied(),
            )
        })
    };
    let instance = |key: &str, id: &str| -> Result<String, ScenarioError> {
        if instances.iter().any(|i| i == id) {
            Ok(id.to_string())
        } else {
            Err(cx.err_suggest(
                &path.key(key).key("instance"),
                format!(
                    "no instance is called `{id}`; instances are named <group>-<n>, e.g. `{}`",
                    instances.first().map_or("general-1", String::as_str)
                ),
                id,
                instances.iter().map(String::as_str),
            ))
        }
    };
    let mut found = Vec::new();
    if let Some(s) = &a.set_desired_count {
        let service = service_index("set_desired_count", &s.service)?;
        if service_defs[service].scheduling_strategy == SchedulingStrategy::Daemon {
            return Err(cx.err(&path.key("set_desired_count"), "a DAEMON service has no desired count to set"));
        }
        found.push(Action::SetDesiredCount { service, desired_count: s.desired_count });
    }
    if let Some(s) = &a.stop_tasks {
        found.push(Action::StopTasks { service: service_index("stop_tasks", &s.service)?, count: s.count });
    }
    if let Some(r) = &a.drain_instance {
        found.push(Action::DrainInstance { instance: instance("drain_instance", &r.instance)? });
    }
    if let Some(r) = &a.activate_instance {
        found.push(Action::ActivateInstance { instance: instance("activate_instance", &r.instance)? });
    }
    if let Some(r) = &a.terminate_instance {
        found.push(Action::TerminateInstance {
            instance: instance("terminate_instance", &r.instance)?,
            should_decrement_desired_capacity: r.should_decrement_desired_capacity.unwrap_or(false),
        });
    }
    if let Some(u) = &a.update_service {
        let service = service_index("update_service", &u.service)?;
        let tpath = path.key("update_service").key("task_definition");
        let Some(task_definition) = td_keys.iter().position(|k| *k == u.task_definition) else {
            return Err(cx.err_suggest(
                &tpath,
                format!("no task definition is called `{}`", u.task_definition),
                &u.task_definition,
                td_keys.iter().copied(),
            ));
        };
        let def = &service_defs[service];
        if def.scheduling_strategy == SchedulingStrategy::Daemon {
            return Err(
                cx.err(&path.key("update_service"), "rolling a DAEMON service to a new revision is not modelled")
            );
        }
        if let Some(lb) = &def.load_balancer {
            let old = &task_definitions[def.task_definition];
            let name = &old.containers[lb.container].name;
            let new = &task_definitions[task_definition];
            let ok = new
                .containers
                .iter()
                .any(|c| &c.name == name && c.port_mappings.iter().any(|m| m.container_port == lb.container_port));
            if !ok {
                return Err(cx.err(
                    &tpath,
                    format!(
                        "the service's load balancer sends to container `{name}` port {}, which `{}` does not map",
                        lb.container_port, u.task_definition
                    ),
                ));
            }
        }
        found.push(Action::UpdateService { service, task_definition });
    }
    if let Some(r) = &a.force_new_deployment {
        found.push(Action::ForceNewDeployment { service: service_index("force_new_deployment", &r.service)? });
    }
    if let Some(d) = &a.set_desired_capacity {
        let gpath = path.key("set_desired_capacity").key("auto_scaling_group");
        let Some(group) = groups.iter().position(|g| *g == d.auto_scaling_group) else {
            return Err(cx.err_suggest(
                &gpath,
                format!("no auto scaling group is called `{}`", d.auto_scaling_group),
                &d.auto_scaling_group,
                groups.iter().copied(),
            ));
        };
        found.push(Action::SetDesiredCapacity { group, desired_capacity: d.desired_capacity });
    }
    if let Some(r) = &a.interrupt_spot {
        found.push(Action::InterruptSpot { instance: instance("interrupt_spot", &r.instance)? });
    }
    if let Some(o) = &a.az_outage {
        let zpath = path.key("az_outage").key("availability_zone");
        let Some(zone) = zones.iter().position(|z| *z == o.availability_zone) else {
            return Err(cx.err_suggest(
                &zpath,
                format!("`{}` is not one of the cluster's availability_zones", o.availability_zone),
                &o.availability_zone,
                zones.iter().map(String::as_str),
            ));
        };
        if o.duration.0 == 0 {
            return Err(cx.err(&path.key("az_outage").key("duration"), "an outage lasts more than 0 seconds"));
        }
        found.push(Action::AzOutage { zone, duration: o.duration.0 });
    }
    let kinds = "set_desired_count, stop_tasks, drain_instance, activate_instance, terminate_instance, update_service, force_new_deployment, set_desired_capacity, interrupt_spot or az_outage";
    match found.len() {
        1 => Ok(ScheduledAction { at: a.at.0, action: found.remove(0) }),
        0 => Err(cx.err(path, format!("an action needs one of {kinds}"))),
        _ => Err(cx.err(path, format!("an action does one thing: give only one of {kinds} per [[actions]]"))),
    }
}

fn expectation(
    cx: &Cx<'_>,
    path: &KeyPath,
    e: &RawExpect,
    duration: SimTime,
    services: &[&str],
) -> Result<Expectation, ScenarioError> {
    if e.why.trim().is_empty() {
        return Err(cx.err(&path.key("why"), "say in a few words why this should hold: it is printed when it does not"));
    }
    if let Some(s) = &e.service
        && !services.contains(&s.as_str())
    {
        return Err(cx.err_suggest(
            &path.key("service"),
            format!("no service is called `{s}`"),
            s,
            services.iter().copied(),
        ));
    }
    let window = |cx: &Cx<'_>| -> Result<Window, ScenarioError> {
        let (from, to) = match (e.at, e.from, e.to) {
            (Some(at), None, None) => (at.0, at.0),
            (Some(_), _, _) => return Err(cx.err(&path.key("at"), "give either `at` or `from`/`to`, not both")),
            (None, from, to) => (from.map_or(0, |d| d.0), to.map_or(duration, |d| d.0)),
        };
        if from > to {
            return Err(cx.err(&path.key("from"), "`from` comes after `to`"));
        }
        Ok(Window { from, to })
    };
    let op_value = |cx: &Cx<'_>| -> Result<(Op, f64), ScenarioError> {
        let op = match &e.op {
            None => return Err(cx.err(path, "this expectation needs `op` (one of == != < <= > >=) and `value`")),
            Some(o) => Op::parse(o)
                .ok_or_else(|| cx.err_suggest(&path.key("op"), format!("`{o}` is not an operator"), o, Op::ALL))?,
        };
        let value = e.value.ok_or_else(|| cx.err(path, "this expectation needs a `value` to compare with"))?;
        Ok((op, value))
    };
    let refuse = |key: &str, present: bool, what: &str| -> Result<(), ScenarioError> {
        if present { Err(cx.err(&path.key(key), format!("`{key}` does not apply to {what}"))) } else { Ok(()) }
    };
    let service = e.service.clone();
    let check = match (&e.metric, &e.summary, &e.event) {
        (Some(metric), None, None) => {
            if ServiceSample::column(&ServiceSample::default(), metric).is_none() || metric == "time_s" {
                return Err(cx.err_suggest(
                    &path.key("metric"),
                    format!("`{metric}` is not a timeseries.csv column"),
                    metric,
                    ServiceSample::COLUMNS,
                ));
            }
            refuse("count", e.count.is_some(), "a metric")?;
            refuse("first_at", e.first_at.is_some(), "a metric")?;
            refuse("detail", e.detail.is_some(), "a metric")?;
            let agg = match &e.agg {
                None => Agg::Last,
                Some(a) => Agg::parse(a).ok_or_else(|| {
                    cx.err_suggest(&path.key("agg"), format!("`{a}` is not an aggregate"), a, Agg::ALL)
                })?,
            };
            let (op, value) = op_value(cx)?;
            Check::Series { metric: metric.clone(), service, window: window(cx)?, agg, op, value }
        }
        (None, Some(column), None) => {
            if ServiceSummary::default().column(column).is_none() {
                return Err(cx.err_suggest(
                    &path.key("summary"),
                    format!("`{column}` is not a summary.csv column"),
                    column,
                    ServiceSummary::COLUMNS,
                ));
            }
            refuse("at", e.at.is_some(), "a summary value")?;
            refuse("from", e.from.is_some(), "a summary value")?;
            refuse("to", e.to.is_some(), "a summary value")?;
            refuse("agg", e.agg.is_some(), "a summary value")?;
            refuse("count", e.count.is_some(), "a summary value")?;
            refuse("first_at", e.first_at.is_some(), "a summary value")?;
            refuse("detail", e.detail.is_some(), "a summary value")?;
            let (op, value) = op_value(cx)?;
            Check::Summary { column: column.clone(), service, op, value }
        }
        (None, None, Some(kind)) => {
            let kinds: Vec<&str> = EventKind::ALL.iter().map(|k| k.as_str()).collect();
            if !kinds.contains(&kind.as_str()) {
                return Err(cx.err_suggest(
                    &path.key("event"),
                    format!("`{kind}` is not an event kind"),
                    kind,
                    kinds.iter().copied(),
                ));
            }
            refuse("op", e.op.is_some(), "an event (use count = \">= 1\" or first_at = \"<= 10m\")")?;
            refuse("value", e.value.is_some(), "an event (use count = \">= 1\" or first_at = \"<= 10m\")")?;
            refuse("agg", e.agg.is_some(), "an event")?;
            let window = window(cx)?;
            let detail = e.detail.clone();
            match (&e.count, &e.first_at) {
                (Some(_), Some(_)) => return Err(cx.err(path, "give either `count` or `first_at`, not both")),
                (None, None) => Check::EventCount { kind: kind.clone(), detail, service, window, op: Op::Ge, count: 1 },
                (Some(c), None) => {
                    let parsed = Op::split(c).and_then(|(op, n)| n.parse::<u64>().ok().map(|n| (op, n)));
                    let Some((op, count)) = parsed else {
                        return Err(cx.err(
                            &path.key("count"),
                            format!("`{c}` is not a count test: write e.g. \">= 1\" or \"== 0\""),
                        ));
                    };
                    Check::EventCount { kind: kind.clone(), detail, service, window, op, count }
                }
                (None, Some(f)) => {
                    let parsed =
                        Op::split(f).and_then(|(op, d)| super::duration::parse_duration(d).ok().map(|d| (op, d)));
                    let Some((op, at)) = parsed else {
                        return Err(
                            cx.err(&path.key("first_at"), format!("`{f}` is not a time test: write e.g. \"<= 15m\""))
                        );
                    };
                    Check::EventFirstAt { kind: kind.clone(), detail, service, window, op, at }
                }
            }
        }
        _ => return Err(cx.err(path, "an expectation names exactly one of `metric`, `summary` or `event`")),
    };
    Ok(Expectation { why: e.why.trim().to_string(), check })
}

/// The app's defaults: no concurrency or queue limit (pure processor sharing), ready 2–8 s after
/// RUNNING [assume], half its reserved memory in use when idle [assume], one vCPU per request.
fn app_profile(
    cx: &Cx<'_>,
    path: &KeyPath,
    raw: Option<&RawApp>,
    reserved_memory: u32,
) -> Result<AppProfile, ScenarioError> {
    let default_ready = || Distribution::Uniform { min: (2 * SECOND) as f64, max: (8 * SECOND) as f64 };
    let Some(a) = raw else {
        return Ok(AppProfile {
            max_concurrency: u32::MAX,
            queue_limit: u32::MAX,
            ready_time: default_ready(),
            memory_baseline: reserved_memory / 2,
            request_cpu_cap: 1.0,
            healthy: true,
        });
    };
    if a.max_concurrency == Some(0) {
        return Err(cx.err(
            &path.key("max_concurrency"),
            "an app that serves 0 requests at once serves nothing: leave it out for no limit",
        ));
    }
    let request_cpu_cap = a.request_cpu_cap.unwrap_or(1.0);
    if !(request_cpu_cap.is_finite() && request_cpu_cap > 0.0) {
        return Err(
            cx.err(&path.key("request_cpu_cap"), "the CPU one request may use is a positive number of vCPUs, e.g. 1.0")
        );
    }
    Ok(AppProfile {
        max_concurrency: a.max_concurrency.unwrap_or(u32::MAX),
        queue_limit: a.queue_limit.unwrap_or(u32::MAX),
        ready_time: match &a.ready_time {
            Some(d) => distribution(cx, &path.key("ready_time"), d)?,
            None => default_ready(),
        },
        memory_baseline: a.memory_baseline.unwrap_or(reserved_memory / 2),
        request_cpu_cap,
        healthy: a.healthy.unwrap_or(true),
    })
}

fn target_groups(
    cx: &Cx<'_>,
    raw: &indexmap::IndexMap<String, RawTargetGroup>,
) -> Result<Vec<TargetGroupSpec>, ScenarioError> {
    let mut out = Vec::new();
    for (name, tg) in raw {
        let path = KeyPath::root().key("target_groups").key(name);
        let mut hc = HealthCheck::default();
        if let Some(h) = &tg.health_check {
            let hpath = path.key("health_check");
            hc.interval = h.interval.map_or(hc.interval, |d| d.0);
            hc.timeout = h.timeout.map_or(hc.timeout, |d| d.0);
            hc.healthy_threshold = h.healthy_threshold.unwrap_or(hc.healthy_threshold);
            hc.unhealthy_threshold = h.unhealthy_threshold.unwrap_or(hc.unhealthy_threshold);
            // ALB:target-group-health-checks.md: interval 5–300 s, timeout 2–120 s and below the
            // interval, thresholds 2–10.
            if !(5 * SECOND..=300 * SECOND).contains(&hc.interval) {
                return Err(cx.err(&hpath.key("interval"), "the health check interval is 5 to 300 seconds"));
            }
            if !(2 * SECOND..=120 * SECOND).contains(&hc.timeout) || hc.timeout >= hc.interval {
                return Err(cx.err(
                    &hpath.key("timeout"),
                    "the health check timeout is 2 to 120 seconds and shorter than the interval",
                ));
            }
            for (k, v) in [("healthy_threshold", hc.healthy_threshold), ("unhealthy_threshold", hc.unhealthy_threshold)]
            {
                if !(2..=10).contains(&v) {
                    return Err(cx.err(&hpath.key(k), format!("{k} is 2 to 10")));
                }
            }
        }
        let deregistration_delay = tg.deregistration_delay.map_or(DEFAULT_DEREGISTRATION_DELAY, |d| d.0);
        if deregistration_delay > 3600 * SECOND {
            return Err(cx.err(&path.key("deregistration_delay"), "the deregistration delay is 0 to 3600 seconds"));
        }
        out.push(TargetGroupSpec {
            name: name.clone(),
            health_check: hc,
            deregistration_delay,
            algorithm: match tg.algorithm.unwrap_or(RawAlgorithm::RoundRobin) {
                RawAlgorithm::RoundRobin => Algorithm::RoundRobin,
                RawAlgorithm::LeastOutstandingRequests => Algorithm::LeastOutstandingRequests,
                RawAlgorithm::Random => Algorithm::Random,
            },
        });
    }
    Ok(out)
}

fn load_balancer(
    cx: &Cx<'_>,
    path: &KeyPath,
    lb: &RawLoadBalancer,
    tg_keys: &[&str],
    td: &TaskDefinition,
) -> Result<LoadBalancerAttachment, ScenarioError> {
    let Some(target_group) = tg_keys.iter().position(|k| *k == lb.target_group) else {
        return Err(cx.err_suggest(
            &path.key("target_group"),
            format!(
                "no target group is called `{}`; define it under [target_groups.{}]",
                lb.target_group, lb.target_group
            ),
            &lb.target_group,
            tg_keys.iter().copied(),
        ));
    };
    let Some(container) = td.containers.iter().position(|c| c.name == lb.container_name) else {
        return Err(cx.err_suggest(
            &path.key("container_name"),
            format!("task definition `{}` has no container `{}`", td.family, lb.container_name),
            &lb.container_name,
            td.containers.iter().map(|c| c.name.as_str()),
        ));
    };
    if !td.containers[container].port_mappings.iter().any(|m| m.container_port == lb.container_port) {
        return Err(cx.err(
            &path.key("container_port"),
            format!("container `{}` maps no container_port {}", lb.container_name, lb.container_port),
        ));
    }
    Ok(LoadBalancerAttachment { target_group, container, container_port: lb.container_port })
}

fn workload(
    cx: &Cx<'_>,
    path: &KeyPath,
    name: &str,
    w: &RawWorkload,
    tg_keys: &[&str],
    base_dir: &std::path::Path,
) -> Result<Workload, ScenarioError> {
    let Some(target_group) = tg_keys.iter().position(|k| *k == w.target_group) else {
        return Err(cx.err_suggest(
            &path.key("target_group"),
            format!("no target group is called `{}`", w.target_group),
            &w.target_group,
            tg_keys.iter().copied(),
        ));
    };
    let service_time = distribution(cx, &path.key("service_time"), &w.service_time)?;
    let memory_per_request = w.memory_per_request.unwrap_or(0.0);
    if !(memory_per_request.is_finite() && memory_per_request >= 0.0) {
        return Err(cx.err(&path.key("memory_per_request"), "memory per request is zero or more MiB"));
    }
    Ok(Workload {
        name: name.to_string(),
        target_group,
        arrivals: arrivals(cx, &path.key("arrivals"), &w.arrivals, base_dir)?,
        service_time,
        memory_per_request,
        timeout: w.timeout.map_or(DEFAULT_IDLE_TIMEOUT, |d| d.0),
        start: w.start.map_or(0, |d| d.0),
    })
}

/// Reads an arrival table: which keys each pattern needs, and nothing it does not use.
fn arrivals(
    cx: &Cx<'_>,
    path: &KeyPath,
    a: &RawArrivals,
    base_dir: &std::path::Path,
) -> Result<ArrivalProcess, ScenarioError> {
    let pattern = a.pattern.unwrap_or(RawPattern::Constant);
    let name = format!("{pattern:?}").to_lowercase();
    let need = |v: Option<f64>, key: &str| v.ok_or_else(|| cx.err(path, format!("the {name} pattern needs `{key}`")));
    let need_t = |v: Option<RawDuration>, key: &str| {
        v.map(|d| d.0).ok_or_else(|| cx.err(path, format!("the {name} pattern needs `{key}`")))
    };
    let points = |v: &Option<Vec<RawRatePoint>>, key: &str| -> Result<Vec<(SimTime, f64)>, ScenarioError> {
        match v {
            Some(list) if !list.is_empty() => Ok(list.iter().map(|p| (p.at.0, p.rate)).collect()),
            _ => Err(cx.err(
                path,
                format!("the {name} pattern needs `{key}`, a list such as [{{ at = \"10m\", rate = 50 }}]"),
            )),
        }
    };
    // Which keys each pattern reads; any other key given is refused, so a typo'd pattern does not
    // silently ignore half its table.
    let allowed: &[&str] = match pattern {
        RawPattern::Constant => &["rate"],
        RawPattern::Diurnal => &["mean", "amplitude", "period", "phase"],
        RawPattern::Step => &["initial", "changes"],
        RawPattern::Spike => &["base", "at", "height", "length"],
        RawPattern::Piecewise => &["points"],
        RawPattern::Trace => &["file", "scale", "loop", "period"],
        RawPattern::Cloudwatch => {
            &["file", "scale", "loop", "period", "shift", "missing_datapoints", "metric_period", "series"]
        }
    };
    let given = [
        ("rate", a.rate.is_some()),
        ("mean", a.mean.is_some()),
        ("amplitude", a.amplitude.is_some()),
        ("period", a.period.is_some()),
        ("phase", a.phase.is_some()),
        ("initial", a.initial.is_some()),
        ("changes", a.changes.is_some()),
        ("base", a.base.is_some()),
        ("at", a.at.is_some()),
        ("height", a.height.is_some()),
        ("length", a.length.is_some()),
        ("points", a.points.is_some()),
        ("file", a.file.is_some()),
        ("scale", a.scale.is_some()),
        ("loop", a.looped.is_some()),
        ("shift", a.shift.is_some()),
        ("missing_datapoints", a.missing_datapoints.is_some()),
        ("metric_period", a.metric_period.is_some()),
        ("series", a.series.is_some()),
    ];
    if let Some((key, _)) = given.iter().find(|(k, present)| *present && !allowed.contains(k)) {
        return Err(cx.err(
            &path.key(key),
            format!(
                "the {name} pattern does not use `{key}`; it takes {}",
                allowed.iter().map(|k| format!("`{k}`")).collect::<Vec<_>>().join(", ")
            ),
        ));
    }
    let rate_pattern = match pattern {
        RawPattern::Constant => RatePattern::Constant { rate: need(a.rate, "rate")? },
        RawPattern::Diurnal => RatePattern::Diurnal {
            mean: need(a.mean, "mean")?,
            amplitude: need(a.amplitude, "amplitude")?,
            period: a.period.map_or(crate::model::workload::DEFAULT_DIURNAL_PERIOD, |d| d.0),
            phase: a.phase.map_or(0, |d| d.0),
        },
        RawPattern::Step => {
            RatePattern::Step { initial: need(a.initial, "initial")?, changes: points(&a.changes, "changes")? }
        }
        RawPattern::Spike => RatePattern::Spike {
            base: need(a.base, "base")?,
            at: need_t(a.at, "at")?,
            height: need(a.height, "height")?,
            length: need_t(a.length, "length")?,
        },
        RawPattern::Piecewise => RatePattern::Piecewise { points: points(&a.points, "points")? },
        RawPattern::Trace => {
            let Some(file) = &a.file else {
                return Err(cx.err(path, "the trace pattern needs `file`, a CSV path relative to the scenario"));
            };
            let full = base_dir.join(file);
            let text = std::fs::read_to_string(&full)
                .map_err(|e| cx.err(&path.key("file"), format!("cannot read the trace {}: {e}", full.display())))?;
            let data = parse_trace_csv(&text).map_err(|e| {
                cx.err(&path.key("file"), format!("{}:{}:{}: {}", full.display(), e.line, e.column, e.message))
            })?;
            let scale = a.scale.unwrap_or(1.0);
            let period =
                match (a.looped.unwrap_or(false), a.period) {
                    (false, None) => None,
                    (_, Some(p)) => Some(p.0),
                    (true, None) => Some(data.length().ok_or_else(|| {
                        cx.err(&path.key("loop"), "the trace has no length to loop over; give `period`")
                    })?),
                };
            let process = match data {
                TraceData::Rates(points) => {
                    if a.process == Some(RawProcess::Constant) {
                        return Err(cx.err(
                            &path.key("process"),
                            "evenly spaced arrivals need a constant rate; use process = \"poisson\"",
                        ));
                    }
                    ArrivalProcess::Poisson(RatePattern::Trace { points, scale, period })
                }
                TraceData::Timestamps(times) => ArrivalProcess::Timestamps { times, scale, period },
            };
            return process.validate().map(|_| process).map_err(|m| cx.err(path, m));
        }
        RawPattern::Cloudwatch => return cloudwatch_arrivals(cx, path, a, base_dir),
    };
    let process = match (a.process.unwrap_or(RawProcess::Poisson), rate_pattern) {
        (RawProcess::Constant, RatePattern::Constant { rate }) => ArrivalProcess::Constant { rate },
        (RawProcess::Constant, _) => {
            return Err(
                cx.err(&path.key("process"), "evenly spaced arrivals need a constant rate; use process = \"poisson\"")
            );
        }
        (RawProcess::Poisson, p) => ArrivalProcess::Poisson(p),
    };
    process.validate().map(|_| process).map_err(|m| cx.err(path, m))
}

/// Arrivals at the rate a CloudWatch `RequestCount` export recorded (get-metric-data or
/// get-metric-statistics JSON): see [`crate::import::metrics`].
fn cloudwatch_arrivals(
    cx: &Cx<'_>,
    path: &KeyPath,
    a: &RawArrivals,
    base_dir: &std::path::Path,
) -> Result<ArrivalProcess, ScenarioError> {
    use crate::import::metrics::{self, Missing};
    let Some(file) = &a.file else {
        return Err(cx.err(
            path,
            "the cloudwatch pattern needs `file`, the JSON of `aws cloudwatch get-metric-data` or `get-metric-statistics`, relative to the scenario",
        ));
    };
    if a.process == Some(RawProcess::Constant) {
        return Err(
            cx.err(&path.key("process"), "evenly spaced arrivals need a constant rate; use process = \"poisson\"")
        );
    }
    let full = base_dir.join(file);
    let name = full.display().to_string();
    let text = std::fs::read_to_string(&full)
        .map_err(|e| cx.err(&path.key("file"), format!("cannot read the metric export {name}: {e}")))?;
    let series = metrics::read(&name, &text, a.series.as_deref()).map_err(|e| import_error(e, &text))?.value;
    let period = metrics::period(&series, a.metric_period.map(|d| d.0)).map_err(|m| {
        let key = if a.metric_period.is_some() { "metric_period" } else { "file" };
        cx.err(&path.key(key), format!("{name}: {m}; give the export's period with metric_period"))
    })?;
    let shift = match &a.shift {
        None => 0,
        Some(text) => {
            let t = text.trim();
            let (sign, rest) = match t.strip_prefix('-') {
                Some(r) => (-1, r),
                None => (1, t.strip_prefix('+').unwrap_or(t)),
            };
            let ms = super::duration::parse_duration(rest).map_err(|m| cx.err(&path.key("shift"), m))?;
            sign * ms as i64
        }
    };
    let missing = match a.missing_datapoints.unwrap_or(RawMissingDatapoints::Zero) {
        RawMissingDatapoints::Zero => Missing::Zero,
        RawMissingDatapoints::HoldLast => Missing::HoldLast,
        RawMissingDatapoints::Interpolate => Missing::Interpolate,
    };
    let points = metrics::rates(&series, period, missing, shift);
    let Some(&(last, _)) = points.last() else {
        return Err(cx.err(&path.key("shift"), "the shift moves the whole export before the start of the run"));
    };
    let length = last + period as SimTime;
    let period = match (a.looped.unwrap_or(false), a.period) {
        (false, None) => None,
        (_, Some(p)) => Some(p.0),
        (true, None) => Some(length),
    };
    let process = ArrivalProcess::Poisson(RatePattern::Trace { points, scale: a.scale.unwrap_or(1.0), period });
    process.validate().map(|_| process).map_err(|m| cx.err(path, m))
}

fn statistic(s: RawStatistic) -> Statistic {
    match s {
        RawStatistic::Average => Statistic::Average,
        RawStatistic::Sum => Statistic::Sum,
        RawStatistic::Minimum => Statistic::Minimum,
        RawStatistic::Maximum => Statistic::Maximum,
        RawStatistic::SampleCount => Statistic::SampleCount,
    }
}

/// What a scaling policy scales: a service (its metrics) or an Auto Scaling group (its own).
#[derive(Clone, Copy)]
enum Owner<'a> {
    Service(&'a ServiceDefinition),
    Group(&'a str),
}

impl Owner<'_> {
    fn name(&self) -> &str {
        match self {
            Owner::Service(d) => &d.name,
            Owner::Group(g) => g,
        }
    }
}

fn resolve_metric(cx: &Cx<'_>, path: &KeyPath, name: &str, owner: Owner<'_>) -> Result<ScalingMetric, ScenarioError> {
    match owner {
        Owner::Service(def) => {
            let metric = ScalingMetric::service_metric(name).ok_or_else(|| {
                cx.err_suggest(
                    path,
                    format!("`{name}` is not a service metric"),
                    name,
                    ScalingMetric::SERVICE.map(ScalingMetric::name),
                )
            })?;
            let needs_lb = matches!(
                metric,
                ScalingMetric::RequestCount
                    | ScalingMetric::RequestCountPerTarget
                    | ScalingMetric::InFlightRequestsPerTask
            );
            if needs_lb && def.load_balancer.is_none() {
                return Err(
                    cx.err(path, format!("{name} comes from the load balancer, and service `{}` has none", def.name))
                );
            }
            Ok(metric)
        }
        Owner::Group(_) => ScalingMetric::group_metric(name).ok_or_else(|| {
            cx.err_suggest(
                path,
                format!("`{name}` is not an Auto Scaling group metric"),
                name,
                ScalingMetric::GROUP.map(ScalingMetric::name),
            )
        }),
    }
}

fn resolve_predefined(
    cx: &Cx<'_>,
    path: &KeyPath,
    name: &str,
    owner: Owner<'_>,
) -> Result<(ScalingMetric, Statistic), ScenarioError> {
    match owner {
        Owner::Service(def) => {
            let found = predefined_metric(name).ok_or_else(|| {
                cx.err_suggest(path, format!("`{name}` is not a predefined metric"), name, PREDEFINED_METRICS)
            })?;
            if found.0 == ScalingMetric::RequestCountPerTarget && def.load_balancer.is_none() {
                return Err(cx.err(path, "ALBRequestCountPerTarget needs a service with a load_balancer"));
            }
            Ok(found)
        }
        Owner::Group(_) => predefined_group_metric(name).ok_or_else(|| {
            cx.err_suggest(
                path,
                format!("`{name}` is not a predefined metric of an Auto Scaling group"),
                name,
                ["ASGAverageCPUUtilization"],
            )
        }),
    }
}

fn auto_scaling(
    cx: &Cx<'_>,
    path: &KeyPath,
    a: &RawAutoScaling,
    def: &ServiceDefinition,
    duration: SimTime,
) -> Result<ServiceScaling, ScenarioError> {
    if def.scheduling_strategy == SchedulingStrategy::Daemon {
        return Err(cx.err(path, "a DAEMON service runs one task per instance and cannot be auto scaled"));
    }
    let (Some(min_capacity), Some(max_capacity)) = (a.min_capacity, a.max_capacity) else {
        let key = if a.min_capacity.is_none() { "min_capacity" } else { "max_capacity" };
        return Err(cx.err(path, format!("the scalable target needs `{key}` (or `from`, the describe-scalable-targets and describe-scaling-policies outputs)")));
    };
    if min_capacity > max_capacity {
        return Err(cx.err(&path.key("min_capacity"), "min_capacity must not exceed max_capacity"));
    }
    if !(min_capacity..=max_capacity).contains(&def.desired_count) {
        return Err(cx.err(
            &path.key("max_capacity"),
            format!(
                "the service's desired_count {} lies outside [{}, {}]",
                def.desired_count, min_capacity, max_capacity
            ),
        ));
    }
    let policy_set =
        PolicySet { target_tracking_raw: &a.target_tracking, step_raw: &a.step_scaling, scheduled_raw: &a.scheduled };
    scaling_policies(cx, path, policy_set, (min_capacity, max_capacity), Owner::Service(def), duration)
}

/// The raw policies of a scalable target.
struct PolicySet<'a> {
    target_tracking_raw: &'a [RawTargetTracking],
    step_raw: &'a [RawStepScaling],
    scheduled_raw: &'a [RawScheduled],
}

fn scaling_policies(
    cx: &Cx<'_>,
    path: &KeyPath,
    set: PolicySet<'_>,
    (min, max): (u32, u32),
    owner: Owner<'_>,
    duration: SimTime,
) -> Result<ServiceScaling, ScenarioError> {
    let PolicySet { target_tracking_raw, step_raw, scheduled_raw } = set;
    let mut names = BTreeSet::new();
    let mut name_of = |given: &Option<String>, fallback: String, p: &KeyPath| -> Result<String, ScenarioError> {
        let n = given.clone().unwrap_or(fallback);
        if !names.insert(n.clone()) {
            return Err(cx.err(&p.key("name"), format!("two scaling policies or actions are named `{n}`")));
        }
        Ok(n)
    };
    let mut target_tracking = Vec::new();
    for (i, t) in target_tracking_raw.iter().enumerate() {
        let p = path.key("target_tracking").index(i);
        let (metric, stat) = match (&t.predefined_metric, &t.custom_metric) {
            (Some(m), None) => resolve_predefined(cx, &p.key("predefined_metric"), m, owner)?,
            (None, Some(c)) => (
                resolve_metric(cx, &p.key("custom_metric").key("metric"), &c.metric, owner)?,
                c.statistic.map_or(Statistic::Average, statistic),
            ),
            _ => return Err(cx.err(&p, "give exactly one of predefined_metric or custom_metric")),
        };
        if let (Owner::Group(_), Some(key)) = (
            owner,
            t.scale_out_cooldown.map(|_| "scale_out_cooldown").or(t.scale_in_cooldown.map(|_| "scale_in_cooldown")),
        ) {
            return Err(cx.err(
                &p.key(key),
                "EC2 Auto Scaling target tracking has no cooldowns: new instances count once the group's default_instance_warmup is over",
            ));
        }
        if !(t.target_value.is_finite() && t.target_value > 0.0) {
            return Err(cx.err(&p.key("target_value"), "the target value must be a positive number"));
        }
        target_tracking.push(TargetTrackingPolicy {
            name: name_of(&t.name, format!("target-tracking-{}", i + 1), &p)?,
            metric,
            statistic: stat,
            target_value: t.target_value,
            scale_out_cooldown: t.scale_out_cooldown.map_or(DEFAULT_COOLDOWN, |d| d.0),
            scale_in_cooldown: t.scale_in_cooldown.map_or(DEFAULT_COOLDOWN, |d| d.0),
            disable_scale_in: t.disable_scale_in.unwrap_or(false),
        });
    }
    let mut step_scaling = Vec::new();
    for (i, st) in step_raw.iter().enumerate() {
        let p = path.key("step_scaling").index(i);
        let name = name_of(&st.name, format!("step-scaling-{}", i + 1), &p)?;
        let apath = p.key("alarm");
        let metric = resolve_metric(cx, &apath.key("metric"), &st.alarm.metric, owner)?;
        let period = st.alarm.period.map_or(MINUTE, |d| d.0);
        if period == 0 || period % MINUTE != 0 {
            return Err(cx.err(
                &apath.key("period"),
                "ECS metrics have one-minute resolution: the period is a whole number of minutes",
            ));
        }
        let evaluation_periods = st.alarm.evaluation_periods.unwrap_or(1);
        let datapoints_to_alarm = st.alarm.datapoints_to_alarm.unwrap_or(evaluation_periods);
        if evaluation_periods == 0 || datapoints_to_alarm == 0 || datapoints_to_alarm > evaluation_periods {
            return Err(cx.err(&apath.key("datapoints_to_alarm"), "1 ≤ datapoints_to_alarm ≤ evaluation_periods"));
        }
        if st.steps.is_empty() {
            return Err(cx.err(&p.key("steps"), "a step scaling policy needs at least one step"));
        }
        let mut steps: Vec<StepAdjustment> = st
            .steps
            .iter()
            .map(|s| StepAdjustment { lower: s.lower, upper: s.upper, adjustment: s.adjustment })
            .collect();
        steps.sort_by(|x, y| x.lower.unwrap_or(f64::NEG_INFINITY).total_cmp(&y.lower.unwrap_or(f64::NEG_INFINITY)));
        // Ranges must not overlap or leave gaps; at most one open lower and one open upper bound
        // (AAS:application-auto-scaling-step-scaling-policies.md).
        for w in steps.windows(2) {
            if w[0].upper != w[1].lower || w[0].upper.is_none() {
                return Err(cx.err(
                    &p.key("steps"),
                    "steps must not overlap or leave gaps: each step's upper bound is the next one's lower bound",
                ));
            }
        }
        for s in &steps {
            if let (Some(lo), Some(hi)) = (s.lower, s.upper)
                && lo >= hi
            {
                return Err(cx.err(&p.key("steps"), format!("a step from {lo} to {hi} is empty")));
            }
        }
        step_scaling.push(StepScalingPolicy {
            name: name.clone(),
            metric,
            alarm: AlarmSpec {
                name: st.alarm.name.clone().unwrap_or_else(|| format!("{}-{name}", owner.name())),
                statistic: st.alarm.statistic.map_or(Statistic::Average, statistic),
                period,
                evaluation_periods,
                datapoints_to_alarm,
                threshold: st.alarm.threshold,
                comparison: match st.alarm.comparison {
                    RawComparison::GreaterThanOrEqualToThreshold => Comparison::GreaterThanOrEqualToThreshold,
                    RawComparison::GreaterThanThreshold => Comparison::GreaterThanThreshold,
                    RawComparison::LessThanThreshold => Comparison::LessThanThreshold,
                    RawComparison::LessThanOrEqualToThreshold => Comparison::LessThanOrEqualToThreshold,
                },
                treat_missing_data: match st.alarm.treat_missing_data.unwrap_or(RawMissingData::Missing) {
                    RawMissingData::Missing => MissingData::Missing,
                    RawMissingData::NotBreaching => MissingData::NotBreaching,
                    RawMissingData::Breaching => MissingData::Breaching,
                    RawMissingData::Ignore => MissingData::Ignore,
                },
            },
            adjustment_type: match st.adjustment_type {
                RawAdjustmentType::ChangeInCapacity => AdjustmentType::ChangeInCapacity,
                RawAdjustmentType::PercentChangeInCapacity => AdjustmentType::PercentChangeInCapacity,
                RawAdjustmentType::ExactCapacity => AdjustmentType::ExactCapacity,
            },
            steps,
            min_adjustment_magnitude: st.min_adjustment_magnitude,
            cooldown: st.cooldown.map_or(DEFAULT_COOLDOWN, |d| d.0),
            metric_aggregation_type: st.metric_aggregation_type.map_or(Statistic::Average, statistic),
        });
    }
    let mut scheduled = Vec::new();
    for (i, sc) in scheduled_raw.iter().enumerate() {
        let p = path.key("scheduled").index(i);
        let schedule = match (sc.at, sc.rate, &sc.cron) {
            (Some(at), None, None) => {
                if at.0 > duration {
                    return Err(cx.err(&p.key("at"), "this scheduled action comes after the end of the run"));
                }
                Schedule::At(at.0)
            }
            (None, Some(r), None) if r.0 >= MINUTE => Schedule::Rate(r.0),
            (None, Some(_), None) => {
                return Err(
                    cx.err(&p.key("rate"), "scheduled actions have one-minute resolution: a rate of at least 1m")
                );
            }
            (None, None, Some(c)) => Schedule::Cron(Cron::parse(c).map_err(|m| cx.err(&p.key("cron"), m))?),
            _ => return Err(cx.err(&p, "give exactly one of `at`, `rate` or `cron`")),
        };
        if let (Some(_), Owner::Service(_)) = (sc.desired_capacity, owner) {
            return Err(cx.err(
                &p.key("desired_capacity"),
                "a service's scheduled action sets min_capacity and max_capacity; the desired count moves into them",
            ));
        }
        if sc.min_capacity.is_none() && sc.max_capacity.is_none() && sc.desired_capacity.is_none() {
            return Err(
                cx.err(&p, "a scheduled action sets min_capacity, max_capacity or, for a group, desired_capacity")
            );
        }
        if let (Some(lo), Some(hi)) = (sc.min_capacity, sc.max_capacity)
            && lo > hi
        {
            return Err(cx.err(&p.key("min_capacity"), "min_capacity must not exceed max_capacity"));
        }
        scheduled.push(ScalingScheduledAction {
            name: name_of(&sc.name, format!("scheduled-{}", i + 1), &p)?,
            schedule,
            min_capacity: sc.min_capacity,
            max_capacity: sc.max_capacity,
            desired_capacity: sc.desired_capacity,
        });
    }
    Ok(ServiceScaling { min_capacity: min, max_capacity: max, target_tracking, step_scaling, scheduled })
}

/// CodeDeploy blue/green: only with a load balancer, a second target group no other service
/// uses, no DAEMON and no circuit breaker (which is for the ECS controller,
/// ECS-DG:deployment-circuit-breaker.md).
fn blue_green(
    cx: &Cx<'_>,
    path: &KeyPath,
    svc: &RawService,
    def: &ServiceDefinition,
    tg_keys: &[&str],
    others: &[ServiceDefinition],
) -> Result<Option<BlueGreen>, ScenarioError> {
    let controller = svc.deployment_controller.unwrap_or(if svc.blue_green.is_some() {
        RawDeploymentController::CodeDeploy
    } else {
        RawDeploymentController::Ecs
    });
    let bpath = path.key("blue_green");
    let bg = match (controller, &svc.blue_green) {
        (RawDeploymentController::Ecs, None) => return Ok(None),
        (RawDeploymentController::Ecs, Some(_)) => {
            return Err(cx.err(&bpath, "blue_green needs deployment_controller = \"CODE_DEPLOY\""));
        }
        (RawDeploymentController::CodeDeploy, None) => {
            return Err(cx.err(
                path,
                "a CODE_DEPLOY service needs a blue_green table with its green_target_group and traffic_routing",
            ));
        }
        (RawDeploymentController::CodeDeploy, Some(bg)) => bg,
    };
    let Some(lb) = def.load_balancer else {
        return Err(cx.err(path, "blue/green deployments shift traffic at a load balancer: add load_balancer"));
    };
    if def.scheduling_strategy == SchedulingStrategy::Daemon {
        return Err(cx.err(path, "DAEMON services cannot use the CODE_DEPLOY controller"));
    }
    if def.deployment_configuration.circuit_breaker.is_some() {
        return Err(cx.err(
            &path.key("deployment_configuration"),
            "the circuit breaker works only with the ECS (rolling update) controller",
        ));
    }
    let gpath = bpath.key("green_target_group");
    let Some(green) = tg_keys.iter().position(|k| *k == bg.green_target_group) else {
        return Err(cx.err_suggest(
            &gpath,
            format!("no target group is called `{}`", bg.green_target_group),
            &bg.green_target_group,
            tg_keys.iter().copied(),
        ));
    };
    if green == lb.target_group {
        return Err(cx.err(&gpath, "the green target group must differ from the service's load_balancer target group"));
    }
    if others.iter().any(|o| {
        o.load_balancer.is_some_and(|l| l.target_group == green)
            || o.blue_green.is_some_and(|b| b.green_target_group == green)
    }) {
        return Err(cx.err(&gpath, format!("target group `{}` already serves another service", bg.green_target_group)));
    }
    let rpath = bpath.key("traffic_routing");
    let routing = match &bg.traffic_routing {
        RawTrafficRouting::Predefined(name) => TrafficRouting::predefined(name).ok_or_else(|| {
            cx.err_suggest(
                &rpath,
                format!("`{name}` is not a CodeDeploy ECS configuration"),
                name,
                TrafficRouting::PREDEFINED,
            )
        })?,
        RawTrafficRouting::Custom(c) => {
            let need = |v: Option<u32>| {
                v.filter(|p| (1..=99).contains(p))
                    .ok_or_else(|| cx.err(&rpath, "a canary or linear configuration needs a percentage from 1 to 99"))
            };
            let interval = |v: Option<RawDuration>| {
                v.filter(|d| d.0 >= MINUTE).map(|d| d.0).ok_or_else(|| {
                    cx.err(&rpath, "a canary or linear configuration needs an interval of at least 1 minute")
                })
            };
            match c.kind {
                RawRoutingType::AllAtOnce => TrafficRouting::AllAtOnce,
                RawRoutingType::TimeBasedCanary => {
                    TrafficRouting::Canary { percentage: need(c.percentage)?, interval: interval(c.interval)? }
                }
                RawRoutingType::TimeBasedLinear => {
                    TrafficRouting::Linear { percentage: need(c.percentage)?, interval: interval(c.interval)? }
                }
            }
        }
    };
    let termination_wait = bg.termination_wait.map_or(DEFAULT_TERMINATION_WAIT, |d| d.0);
    if termination_wait > 2880 * MINUTE {
        return Err(cx.err(&bpath.key("termination_wait"), "the termination wait is at most 2880 minutes (2 days)"));
    }
    Ok(Some(BlueGreen { green_target_group: green, routing, termination_wait }))
}

/// CodeDeploy's wait before deleting the original task set after a successful shift, when the
/// scenario does not give one [assume: the API leaves it optional and documents only the
/// 2880-minute maximum].
pub const DEFAULT_TERMINATION_WAIT: SimTime = 5 * MINUTE;

fn capacity_providers(
    cx: &Cx<'_>,
    raw: &indexmap::IndexMap<String, RawCapacityProvider>,
    groups: &[AutoScalingGroup],
    raw_groups: &[RawAutoScalingGroup],
) -> Result<Vec<CapacityProvider>, ScenarioError> {
    let mut out: Vec<CapacityProvider> = Vec::new();
    for (name, cp) in raw {
        let path = KeyPath::root().key("capacity_providers").key(name);
        if name == "FARGATE" || name == "FARGATE_SPOT" {
            return Err(cx.err(&path, format!("`{name}` is the name of a predefined Fargate provider")));
        }
        let gpath = path.key("auto_scaling_group");
        let Some(g) = groups.iter().position(|x| x.name == cp.auto_scaling_group) else {
            return Err(cx.err_suggest(
                &gpath,
                format!("no auto scaling group is called `{}`", cp.auto_scaling_group),
                &cp.auto_scaling_group,
                groups.iter().map(|x| x.name.as_str()),
            ));
        };
        if let Some(other) = out.iter().find(|o| o.group() == Some(g)) {
            return Err(cx.err(
                &gpath,
                format!("group `{}` already backs capacity provider `{}`", cp.auto_scaling_group, other.name),
            ));
        }
        let managed_scaling = match &cp.managed_scaling {
            None => None,
            Some(m) => {
                let mpath = path.key("managed_scaling");
                let d = ManagedScaling::default();
                let ms = ManagedScaling {
                    target_capacity: m.target_capacity.unwrap_or(d.target_capacity),
                    minimum_scaling_step_size: m.minimum_scaling_step_size.unwrap_or(d.minimum_scaling_step_size),
                    maximum_scaling_step_size: m.maximum_scaling_step_size.unwrap_or(d.maximum_scaling_step_size),
                    instance_warmup_period: m.instance_warmup_period.map_or(d.instance_warmup_period, |x| x.0),
                };
                // Ranges from the API's ManagedScaling: target (0, 100], steps 1–10,000, warmup
                // 0–10,000 s.
                if !(1..=100).contains(&ms.target_capacity) {
                    return Err(cx.err(&mpath.key("target_capacity"), "target_capacity is 1 to 100 (%)"));
                }
                if !(1..=10_000).contains(&ms.minimum_scaling_step_size)
                    || !(1..=10_000).contains(&ms.maximum_scaling_step_size)
                    || ms.minimum_scaling_step_size > ms.maximum_scaling_step_size
                {
                    return Err(cx.err(&mpath, "scaling step sizes are 1 to 10,000, the minimum not above the maximum"));
                }
                if ms.instance_warmup_period > 10_000 * SECOND {
                    return Err(
                        cx.err(&mpath.key("instance_warmup_period"), "the warmup period is 0 to 10,000 seconds")
                    );
                }
                if raw_groups[g].scaling.is_some() {
                    return Err(cx.err(
                        &mpath,
                        format!("group `{}` has scaling policies of its own; ECS documents that a managed-scaling group must not", cp.auto_scaling_group),
                    ));
                }
                Some(ms)
            }
        };
        let managed_termination_protection = cp.managed_termination_protection.unwrap_or(false);
        if managed_termination_protection && managed_scaling.is_none() {
            return Err(cx.err(
                &path.key("managed_termination_protection"),
                "managed termination protection needs managed_scaling",
            ));
        }
        out.push(CapacityProvider {
            name: name.clone(),
            kind: ProviderKind::AutoScalingGroup(g),
            managed_scaling,
            managed_termination_protection,
            managed_draining: cp.managed_draining.unwrap_or(true),
        });
    }
    Ok(out)
}

/// A service's capacity provider strategy (ECS-DG:cluster-capacity-providers.md): up to 6
/// providers, a base on one at most, not every weight 0.
fn capacity_provider_strategy(
    cx: &Cx<'_>,
    path: &KeyPath,
    raw: &[RawStrategyItem],
    cp_keys: &[&str],
    providers: &[CapacityProvider],
    def: &ServiceDefinition,
) -> Result<Vec<StrategyItem>, ScenarioError> {
    if def.scheduling_strategy == SchedulingStrategy::Daemon {
        return Err(cx.err(path, "DAEMON services do not use a capacity provider strategy"));
    }
    if raw.is_empty() || raw.len() > 6 {
        return Err(cx.err(path, "a capacity provider strategy lists 1 to 6 providers"));
    }
    let mut out: Vec<StrategyItem> = Vec::new();
    for (i, item) in raw.iter().enumerate() {
        let ipath = path.index(i);
        let Some(provider) = cp_keys.iter().position(|k| *k == item.capacity_provider) else {
            return Err(cx.err_suggest(
                &ipath.key("capacity_provider"),
                format!("no capacity provider is called `{}`", item.capacity_provider),
                &item.capacity_provider,
                cp_keys.iter().copied(),
            ));
        };
        if out.iter().any(|o| o.provider == provider) {
            return Err(
                cx.err(&ipath.key("capacity_provider"), format!("`{}` is listed twice", item.capacity_provider))
            );
        }
        out.push(StrategyItem { provider, base: item.base.unwrap_or(0), weight: item.weight.unwrap_or(0) });
    }
    let fargate = out.iter().filter(|s| providers[s.provider].is_fargate()).count();
    if fargate > 0 && fargate < out.len() {
        return Err(cx.err(
            path,
            "a strategy lists Auto Scaling group providers or Fargate providers, not both (ECS refuses the mix; ECS-DG:cluster-capacity-providers.md)",
        ));
    }
    if out.iter().filter(|s| s.base > 0).count() > 1 {
        return Err(cx.err(path, "only one provider of a strategy may set a base"));
    }
    if out.iter().all(|s| s.weight == 0) {
        return Err(cx.err(path, "every weight is 0 (the API's default): give at least one provider a weight, or the service cannot run beyond its base"));
    }
    Ok(out)
}

/// What a table read `from` a file may still set in the scenario: the ecsim extensions the
/// JSON cannot hold.
const TASK_DEFINITION_EXTENSIONS: [&str; 5] = ["app", "shutdown_time", "calls_aws_apis", "execution_role", "task_role"];
const SERVICE_EXTENSIONS: [&str; 3] = ["task_definition", "blue_green", "auto_scaling"];

/// A table read `from` an AWS file may set, beside `from`, only the keys no AWS file holds.
fn only_extensions_beside_from(cx: &Cx<'_>, path: &KeyPath, file: &str, allowed: &[&str]) -> Result<(), ScenarioError> {
    let set = table_keys(cx.root, path);
    let Some(k) = set.into_iter().find(|k| *k != "from" && !allowed.contains(k)) else { return Ok(()) };
    Err(cx.err(
        &path.key(k),
        format!(
            "`{k}` comes from {file}: edit it there, or run `ecsim import {file}` to turn the file into TOML you can change; next to `from` only {} are allowed",
            allowed.iter().map(|e| format!("`{e}`")).collect::<Vec<_>>().join(", ")
        ),
    ))
}

/// Reads the AWS JSON files that task definitions, services and scalable targets name with
/// `from`, and puts what they hold in their place, so that the rest of validation sees them as
/// if written in TOML. Errors in the files name the file and the JSON path; later errors in
/// imported values are pointed there through the origins recorded.
fn read_imports(
    cx: &Cx<'_>,
    raw: &mut RawScenario,
    base_dir: &std::path::Path,
    strict: bool,
) -> Result<Imports, ScenarioError> {
    let mut imports = Imports::default();
    let top = KeyPath::root();
    let read = |cx: &Cx<'_>, key: &KeyPath, file: &str, imports: &mut Imports| {
        let full = base_dir.join(file);
        let name = full.display().to_string();
        let text = std::fs::read_to_string(&full).map_err(|e| cx.err(key, format!("cannot read {name}: {e}")))?;
        imports.texts.insert(name.clone(), text.clone());
        Ok::<_, ScenarioError>((name, text))
    };
    for (key, td) in raw.task_definitions.iter_mut() {
        let Some(file) = td.from.clone() else { continue };
        let path = top.key("task_definitions").key(key);
        only_extensions_beside_from(cx, &path, &file, &TASK_DEFINITION_EXTENSIONS)?;
        let (name, text) = read(cx, &path.key("from"), &file, &mut imports)?;
        let (imported, _) = crate::import::task_definition::read(&name, &text).map_err(|e| import_error(e, &text))?;
        let mut value = imported.value;
        for (role_key, json_key, role) in [
            ("execution_role", "executionRoleArn", &mut value.execution_role),
            ("task_role", "taskRoleArn", &mut value.task_role),
        ] {
            let given = if role_key == "execution_role" { &td.execution_role } else { &td.task_role };
            let Some(given) = given else { continue };
            let rpath = path.key(role_key);
            let Some(r) = role.as_mut() else {
                return Err(cx.err(&rpath, format!("{file} sets no `{json_key}`: add the role there")));
            };
            if let Some(n) = &given.name
                && Some(n) != r.name.as_ref()
            {
                return Err(cx.err(
                    &rpath.key("name"),
                    format!("{file} names the role `{}`, not `{n}`", r.name.as_deref().unwrap_or_default()),
                ));
            }
            r.ecr_pull = given.ecr_pull;
        }
        value.app = td.app.take();
        value.shutdown_time = td.shutdown_time.take();
        value.calls_aws_apis = td.calls_aws_apis;
        imports.origins.extend(imported.origins.into_iter().map(|(k, o)| (KeyPath([path.0.clone(), k.0].concat()), o)));
        note_unmodelled(cx, &mut imports, &name, &file, imported.ignored, imported.not_simulated, strict)?;
        *td = value;
    }
    // A task definition without a revision (a register-task-definition input) matches any.
    let families: Vec<(String, String, Option<u32>)> = raw
        .task_definitions
        .iter()
        .map(|(k, td)| (k.clone(), td.family.clone().unwrap_or_else(|| k.clone()), td.revision))
        .collect();
    for (key, svc) in raw.services.iter_mut() {
        let path = top.key("services").key(key);
        let mut json_name = key.clone();
        if let Some(file) = svc.from.clone() {
            only_extensions_beside_from(cx, &path, &file, &SERVICE_EXTENSIONS)?;
            let (name, text) = read(cx, &path.key("from"), &file, &mut imports)?;
            let imported = crate::import::service::read(&name, &text, Some(key)).map_err(|e| import_error(e, &text))?;
            let found = imported.value;
            json_name = found.name.clone();
            let mut value = found.raw;
            value.task_definition = match svc.task_definition.take() {
                Some(t) => Some(t),
                None => {
                    let matches: Vec<&(String, String, Option<u32>)> = families
                        .iter()
                        .filter(|(_, f, r)| {
                            *f == found.family && (found.revision.is_none() || r.is_none() || found.revision == *r)
                        })
                        .collect();
                    let wanted = match found.revision {
                        Some(r) => format!("{}:{r}", found.family),
                        None => found.family.clone(),
                    };
                    let origin = imported.origins.iter().find(|(k, _)| k.to_string() == "task_definition");
                    let at = |message: String| match origin {
                        Some((_, o)) => json_diagnostic(&name, &text, &o.path, message, None),
                        None => cx.err(&path.key("from"), message),
                    };
                    match matches.as_slice() {
                        [one] => Some(one.0.clone()),
                        [] => {
                            return Err(at(format!(
                                "the service runs task definition `{wanted}`, and no task definition of the scenario has that family and revision: add one, e.g. [task_definitions.{}] from = \"{}-td.json\", or say which with task_definition = \"<key>\" next to `from`",
                                found.family, found.family
                            )));
                        }
                        _ => {
                            return Err(at(format!(
                                "the service runs task definition `{wanted}`, and several task definitions of the scenario match it ({}): say which with task_definition = \"<key>\" next to `from`",
                                matches.iter().map(|m| format!("`{}`", m.0)).collect::<Vec<_>>().join(", ")
                            )));
                        }
                    }
                }
            };
            value.blue_green = svc.blue_green.take();
            value.auto_scaling = svc.auto_scaling.take();
            imports.origins.extend(
                imported
                    .origins
                    .into_iter()
                    .filter(|(k, _)| k.to_string() != "task_definition")
                    .map(|(k, o)| (KeyPath([path.0.clone(), k.0].concat()), o)),
            );
            note_unmodelled(cx, &mut imports, &name, &file, imported.ignored, imported.not_simulated, strict)?;
            *svc = value;
        }
        let Some(a) = svc.auto_scaling.as_mut() else { continue };
        let Some(files) = a.from.clone() else { continue };
        let apath = path.key("auto_scaling");
        let set: Vec<&str> = table_keys(cx.root, &apath).into_iter().filter(|k| *k != "from").collect();
        if let Some(k) = set.first() {
            return Err(cx.err(
                &apath.key(k),
                format!(
                    "`{k}` comes from the files `from` names: edit them, or run `ecsim import` to turn them into TOML"
                ),
            ));
        }
        let mut docs = Vec::new();
        for (i, file) in files.iter().enumerate() {
            let (name, text) = read(cx, &apath.key("from").index(i), file, &mut imports)?;
            docs.push(crate::import::scaling::Doc::parse(&name, &text).map_err(|e| import_error(e, &text))?);
        }
        let imported = crate::import::scaling::read(&docs, &json_name).map_err(|e| {
            let text = imports.texts.get(&e.file).cloned().unwrap_or_default();
            import_error(e, &text)
        })?;
        let Some(imported) = imported else {
            return Err(cx.err(
                &apath.key("from"),
                format!(
                    "no scalable target in these files is service `{json_name}`'s desired count (ResourceId service/<cluster>/{json_name}, ScalableDimension ecs:service:DesiredCount)"
                ),
            ));
        };
        *a = imported.value;
        imports
            .origins
            .extend(imported.origins.into_iter().map(|(k, o)| (KeyPath([apath.0.clone(), k.0].concat()), o)));
        let label = files.join(", ");
        note_unmodelled(cx, &mut imports, &label, &label, imported.ignored, Vec::new(), strict)?;
    }
    Ok(imports)
}

/// The keys a table of the scenario sets, as written.
fn table_keys<'t>(root: &'t DeTable<'_>, path: &KeyPath) -> Vec<&'t str> {
    let mut node: Option<&toml::de::DeValue<'_>> = None;
    for (n, seg) in path.0.iter().enumerate() {
        let super::source::Seg::Key(k) = seg else { return Vec::new() };
        let next = match (n, node) {
            (0, _) => root.get(k.as_str()),
            (_, Some(toml::de::DeValue::Table(t))) => t.get(k.as_str()),
            _ => None,
        };
        match next {
            Some(v) => node = Some(v.get_ref()),
            None => return Vec::new(),
        }
    }
    match node {
        Some(toml::de::DeValue::Table(t)) => t.keys().map(|k| k.get_ref().as_ref()).collect(),
        _ => Vec::new(),
    }
}

/// Says, once per file, which of its fields the simulation does not model; under `strict`
/// that is an error.
fn note_unmodelled(
    cx: &Cx<'_>,
    imports: &mut Imports,
    name: &str,
    file: &str,
    ignored: Vec<String>,
    not_simulated: Vec<String>,
    strict: bool,
) -> Result<(), ScenarioError> {
    let _ = cx;
    if strict && let Some(first) = ignored.first().or(not_simulated.first()) {
        let text = imports.texts.get(name).map_or("", String::as_str);
        let all: Vec<String> = ignored.iter().chain(&not_simulated).map(|p| format!("`{p}`")).collect();
        return Err(json_diagnostic(
            name,
            text,
            first,
            format!("ecsim does not simulate {} (refused under --strict)", all.join(", ")),
            Some("drop --strict to read the file with these fields ignored".into()),
        ));
    }
    // One line per file and kind, however many tables read the file.
    for (what, paths) in [("not simulated, ignored", ignored), ("read and checked, not simulated yet", not_simulated)] {
        if paths.is_empty() {
            continue;
        }
        let head = format!("{file}: {what}: ");
        match imports.warnings.iter_mut().find(|w| w.starts_with(&head)) {
            Some(w) => {
                for p in paths {
                    if !w[head.len()..].split(", ").any(|q| q == p) {
                        w.push_str(", ");
                        w.push_str(&p);
                    }
                }
            }
            None => imports.warnings.push(format!("{head}{}", paths.join(", "))),
        }
    }
    Ok(())
}
