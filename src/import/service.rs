//! Services from the output of `aws ecs describe-services` (`{"services": [...], "failures":
//! [...]}`), with the fields of the ECS API's Service type that the simulation models.

use super::json::{self, Obj, kind};
use super::{ImportError, Imported, arn_name, arn_region};
use crate::engine::SECOND;
use crate::scenario::raw::{
    RawCircuitBreaker, RawConstraintType, RawDeploymentConfiguration, RawDeploymentController, RawDuration,
    RawLaunchType, RawLoadBalancer, RawPlacementConstraint, RawPlacementStrategy, RawSchedulingStrategy, RawService,
    RawStrategyItem, RawStrategyType,
};
use crate::scenario::source::KeyPath;

/// A service read from JSON. Its task definition is named as AWS names it (family and
/// revision); the scenario resolves that to one of its task definitions.
#[derive(Debug)]
pub struct ImportedService {
    pub name: String,
    /// `task_definition` and `auto_scaling` are left empty.
    pub raw: RawService,
    pub family: String,
    pub revision: Option<u32>,
    /// The Region and cluster from the service's ARNs, when they are there.
    pub region: Option<String>,
    pub cluster: Option<String>,
}

/// State of a running service, not configuration: skipped silently.
const METADATA: [&str; 11] = [
    "serviceArn",
    "clusterArn",
    "status",
    "runningCount",
    "pendingCount",
    "createdAt",
    "createdBy",
    "events",
    "deployments",
    "taskSets",
    "platformFamily",
];

const FIELDS: [&str; 12] = [
    "serviceName",
    "taskDefinition",
    "desiredCount",
    "launchType",
    "capacityProviderStrategy",
    "placementStrategy",
    "placementConstraints",
    "deploymentConfiguration",
    "loadBalancers",
    "healthCheckGracePeriodSeconds",
    "schedulingStrategy",
    "deploymentController",
];

/// The services' names in a describe-services output, in order.
pub fn names(file: &str, text: &str) -> Result<Vec<String>, ImportError> {
    let doc = json::parse(file, text)?;
    let top = json::root(file, &doc, "the output of `aws ecs describe-services`")?;
    let list = top.need(file, "services")?;
    let list = list.as_array().ok_or_else(|| ImportError::new(file, "services", "expected an array of services"))?;
    json::objects(file, list, "services")?.iter().map(|s| Ok(s.need_str(file, "serviceName")?.to_string())).collect()
}

/// Reads one service: the one called `name` if given, else the file's only one.
pub fn read(file: &str, text: &str, name: Option<&str>) -> Result<Imported<ImportedService>, ImportError> {
    let doc = json::parse(file, text)?;
    let top = json::root(file, &doc, "the output of `aws ecs describe-services`")?;
    let list = top.need(file, "services")?;
    let list = list.as_array().ok_or_else(|| {
        ImportError::new(file, "services", format!("expected an array of services, found {}", kind(list)))
    })?;
    let services = json::objects(file, list, "services")?;
    let mut all = Vec::new();
    for s in &services {
        all.push(s.need_str(file, "serviceName")?);
    }
    let index = match (name, all.len()) {
        (_, 0) => return Err(ImportError::new(file, "services", "the file describes no service")),
        (Some(n), _) if all.contains(&n) => all.iter().position(|s| *s == n).unwrap_or(0),
        (_, 1) => 0,
        (wanted, _) => {
            return Err(ImportError::new(
                file,
                "services",
                format!(
                    "the file describes {} services ({}){}: name the one to read by the scenario's key",
                    all.len(),
                    all.iter().map(|s| format!("`{s}`")).collect::<Vec<_>>().join(", "),
                    wanted.map_or(String::new(), |w| format!(", none called `{w}`"))
                ),
            ));
        }
    };
    let s = &services[index];
    let mut ignored = Vec::new();
    // Settings at their defaults change nothing, so they are not listed.
    let mut skip: Vec<&str> = METADATA.to_vec();
    for (k, default) in [
        ("enableECSManagedTags", serde_json::Value::Bool(false)),
        ("enableExecuteCommand", serde_json::Value::Bool(false)),
        ("propagateTags", serde_json::Value::String("NONE".into())),
        ("platformVersion", serde_json::Value::String("LATEST".into())),
    ] {
        if s.get(k) == Some(&default) {
            skip.push(k);
        }
    }
    // The service-linked role ECS uses to call the load balancer: no behaviour of its own.
    if s.str(file, "roleArn")?.is_some_and(|r| r.contains("AWSServiceRoleForECS")) {
        skip.push("roleArn");
    }
    s.unused(&FIELDS, &skip, &mut ignored);
    let mut out = Imported::new(service(file, s, &mut ignored)?);
    out.ignored = ignored;
    let root = KeyPath::root();
    for (key, json_key) in [
        ("task_definition", "taskDefinition"),
        ("desired_count", "desiredCount"),
        ("launch_type", "launchType"),
        ("capacity_provider_strategy", "capacityProviderStrategy"),
        ("placement_strategy", "placementStrategy"),
        ("placement_constraints", "placementConstraints"),
        ("deployment_configuration", "deploymentConfiguration"),
        ("health_check_grace_period", "healthCheckGracePeriodSeconds"),
        ("scheduling_strategy", "schedulingStrategy"),
        ("deployment_controller", "deploymentController"),
    ] {
        if s.get(json_key).is_some() {
            out.record(root.key(key), file, s.path_of(json_key));
        }
    }
    if let Some(dc) = s.obj(file, "deploymentConfiguration")? {
        let k = root.key("deployment_configuration");
        for (key, json_key) in [
            ("minimum_healthy_percent", "minimumHealthyPercent"),
            ("maximum_percent", "maximumPercent"),
            ("deployment_circuit_breaker", "deploymentCircuitBreaker"),
        ] {
            if dc.get(json_key).is_some() {
                out.record(k.key(key), file, dc.path_of(json_key));
            }
        }
    }
    if s.array(file, "loadBalancers")?.is_some_and(|l| !l.is_empty()) {
        let p = format!("{}[0]", s.path_of("loadBalancers"));
        let k = root.key("load_balancer");
        out.record(k.clone(), file, p.clone());
        out.record(k.key("target_group"), file, format!("{p}.targetGroupArn"));
        out.record(k.key("container_name"), file, format!("{p}.containerName"));
        out.record(k.key("container_port"), file, format!("{p}.containerPort"));
    }
    Ok(out)
}

fn service(file: &str, s: &Obj<'_>, ignored: &mut Vec<String>) -> Result<ImportedService, ImportError> {
    let name = s.need_str(file, "serviceName")?.to_string();
    let td_ref = s.need_str(file, "taskDefinition")?;
    // `arn:aws:ecs:<region>:<account>:task-definition/<family>:<revision>`, or `family:revision`.
    let short = arn_name(td_ref);
    let (family, revision) = match short.rsplit_once(':') {
        Some((f, r)) => match r.parse::<u32>() {
            Ok(r) if r >= 1 => (f.to_string(), Some(r)),
            _ => {
                return Err(ImportError::new(
                    file,
                    &s.path_of("taskDefinition"),
                    format!("`{td_ref}` does not end in a revision number (family:revision)"),
                ));
            }
        },
        None => (short.to_string(), None),
    };
    let region = [s.str(file, "serviceArn")?, s.str(file, "clusterArn")?, Some(td_ref)]
        .into_iter()
        .flatten()
        .find_map(arn_region)
        .map(str::to_string);
    let cluster = s.str(file, "clusterArn")?.map(|a| arn_name(a).to_string());

    let scheduling_strategy = match s.str(file, "schedulingStrategy")? {
        None | Some("REPLICA") => None,
        Some("DAEMON") => Some(RawSchedulingStrategy::Daemon),
        Some(other) => {
            return Err(ImportError::new(
                file,
                &s.path_of("schedulingStrategy"),
                format!("unknown scheduling strategy `{other}`: expected REPLICA or DAEMON"),
            ));
        }
    };
    let daemon = scheduling_strategy == Some(RawSchedulingStrategy::Daemon);
    // A DAEMON service's desiredCount is the number of instances it found, not a setting.
    let desired_count = if daemon { None } else { Some(s.u32(file, "desiredCount")?.unwrap_or(0)) };
    let launch_type = match s.str(file, "launchType")? {
        None | Some("") => None,
        Some("EC2") => Some(RawLaunchType::Ec2),
        Some("FARGATE") => Some(RawLaunchType::Fargate),
        Some("EXTERNAL") => {
            return Err(ImportError::new(
                file,
                &s.path_of("launchType"),
                "ECS Anywhere (launch type EXTERNAL) is not simulated",
            ));
        }
        Some(other) => {
            return Err(ImportError::new(
                file,
                &s.path_of("launchType"),
                format!("unknown launch type `{other}`: expected EC2 or FARGATE"),
            ));
        }
    };
    let capacity_provider_strategy = match s.array(file, "capacityProviderStrategy")? {
        None => None,
        Some(list) if list.is_empty() => None,
        Some(list) => {
            if launch_type.is_some() {
                return Err(ImportError::new(
                    file,
                    &s.path_of("capacityProviderStrategy"),
                    "a service has a launchType or a capacityProviderStrategy, not both",
                ));
            }
            let mut items = Vec::new();
            for item in json::objects(file, list, &s.path_of("capacityProviderStrategy"))? {
                item.unused(&["capacityProvider", "weight", "base"], &[], ignored);
                items.push(RawStrategyItem {
                    capacity_provider: item.need_str(file, "capacityProvider")?.to_string(),
                    base: item.int(file, "base", 0, 100_000)?.map(|n| n as u32),
                    weight: item.int(file, "weight", 0, 1000)?.map(|n| n as u32),
                });
            }
            Some(items)
        }
    };
    let placement_strategy = match s.array(file, "placementStrategy")? {
        None => None,
        Some(list) if list.is_empty() => None,
        Some(list) => {
            let mut out = Vec::new();
            for item in json::objects(file, list, &s.path_of("placementStrategy"))? {
                item.unused(&["type", "field"], &[], ignored);
                let kind = match item.need_str(file, "type")? {
                    "binpack" => RawStrategyType::Binpack,
                    "spread" => RawStrategyType::Spread,
                    "random" => RawStrategyType::Random,
                    other => {
                        return Err(ImportError::new(
                            file,
                            &item.path_of("type"),
                            format!("unknown placement strategy `{other}`: expected binpack, spread or random"),
                        ));
                    }
                };
                out.push(RawPlacementStrategy { kind, field: item.str(file, "field")?.map(str::to_string) });
            }
            Some(out)
        }
    };
    let mut placement_constraints = Vec::new();
    if let Some(list) = s.array(file, "placementConstraints")? {
        for item in json::objects(file, list, &s.path_of("placementConstraints"))? {
            item.unused(&["type", "expression"], &[], ignored);
            let kind = match item.need_str(file, "type")? {
                "distinctInstance" => RawConstraintType::DistinctInstance,
                "memberOf" => RawConstraintType::MemberOf,
                other => {
                    return Err(ImportError::new(
                        file,
                        &item.path_of("type"),
                        format!("unknown placement constraint `{other}`: expected distinctInstance or memberOf"),
                    ));
                }
            };
            placement_constraints
                .push(RawPlacementConstraint { kind, expression: item.str(file, "expression")?.map(str::to_string) });
        }
    }
    let deployment_configuration = match s.obj(file, "deploymentConfiguration")? {
        None => None,
        Some(dc) => {
            let mut known = vec!["minimumHealthyPercent", "maximumPercent", "deploymentCircuitBreaker"];
            // Alarms that are switched off, and the default rolling strategy, configure nothing.
            let alarms_on = dc.obj(file, "alarms")?.map(|a| a.bool(file, "enable")).transpose()?.flatten();
            if alarms_on != Some(true) {
                known.push("alarms");
            }
            if dc.str(file, "strategy")? == Some("ROLLING") {
                known.push("strategy");
            }
            dc.unused(&known, &[], ignored);
            let deployment_circuit_breaker = match dc.obj(file, "deploymentCircuitBreaker")? {
                None => None,
                Some(cb) => {
                    cb.unused(&["enable", "rollback"], &[], ignored);
                    Some(RawCircuitBreaker {
                        enable: cb.bool(file, "enable")?.unwrap_or(false),
                        rollback: cb.bool(file, "rollback")?.unwrap_or(false),
                        minimum_threshold: None,
                    })
                }
            };
            Some(RawDeploymentConfiguration {
                minimum_healthy_percent: dc.int(file, "minimumHealthyPercent", 0, 100)?.map(|n| n as u32),
                maximum_percent: dc.int(file, "maximumPercent", 0, 100_000)?.map(|n| n as u32),
                deployment_circuit_breaker,
            })
        }
    };
    let load_balancer = match s.array(file, "loadBalancers")? {
        None => None,
        Some(list) if list.is_empty() => None,
        Some(list) => {
            let lbs = json::objects(file, list, &s.path_of("loadBalancers"))?;
            for extra in &lbs[1..] {
                ignored.push(extra.path.clone());
            }
            let lb = &lbs[0];
            lb.unused(&["targetGroupArn", "containerName", "containerPort"], &[], ignored);
            let Some(arn) = lb.str(file, "targetGroupArn")? else {
                let message = if lb.get("loadBalancerName").is_some() {
                    "a Classic Load Balancer (loadBalancerName) is not simulated: ecsim models ALB target groups"
                } else {
                    "missing required field `targetGroupArn`"
                };
                return Err(ImportError::new(file, &lb.path_of("targetGroupArn"), message));
            };
            let container_port = lb.int(file, "containerPort", 1, 65535)?.ok_or_else(|| {
                ImportError::new(file, &lb.path_of("containerPort"), "missing required field `containerPort`")
            })?;
            Some(RawLoadBalancer {
                target_group: target_group_name(arn).to_string(),
                container_name: lb.need_str(file, "containerName")?.to_string(),
                container_port: container_port as u16,
            })
        }
    };
    let grace = s.int(file, "healthCheckGracePeriodSeconds", 0, i64::from(i32::MAX))?;
    // describe-services shows 0 for a service without a load balancer: the default, not a setting.
    let health_check_grace_period = grace.filter(|&g| g > 0).map(|g| RawDuration(g as u64 * SECOND));
    let deployment_controller = match s.obj(file, "deploymentController")? {
        None => None,
        Some(dc) => match dc.need_str(file, "type")? {
            "ECS" => None,
            "CODE_DEPLOY" => Some(RawDeploymentController::CodeDeploy),
            "EXTERNAL" => {
                return Err(ImportError::new(
                    file,
                    &dc.path_of("type"),
                    "the EXTERNAL deployment controller (a third-party controller) is not simulated",
                ));
            }
            other => {
                return Err(ImportError::new(
                    file,
                    &dc.path_of("type"),
                    format!("unknown deployment controller `{other}`: expected ECS or CODE_DEPLOY"),
                ));
            }
        },
    };
    Ok(ImportedService {
        name,
        raw: RawService {
            from: None,
            task_definition: None,
            desired_count,
            scheduling_strategy,
            placement_strategy,
            placement_constraints,
            deployment_configuration,
            load_balancer,
            health_check_grace_period,
            auto_scaling: None,
            deployment_controller,
            blue_green: None,
            capacity_provider_strategy,
            launch_type,
            instance_role: None,
        },
        family,
        revision,
        region,
        cluster,
    })
}

/// A target group's name from its ARN
/// (`arn:aws:elasticloadbalancing:<region>:<account>:targetgroup/<name>/<id>` → `<name>`).
pub fn target_group_name(arn: &str) -> &str {
    match arn.split_once(":targetgroup/") {
        Some((_, rest)) => rest.split('/').next().unwrap_or(rest),
        None => arn,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn target_groups_are_named_from_their_arns() {
        assert_eq!(
            target_group_name(
                "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web-tg/6d0ecf831eec9f09"
            ),
            "web-tg"
        );
        assert_eq!(target_group_name("web"), "web");
    }
}
