//! Task definitions from JSON, in any of the three shapes AWS uses: the input of
//! `register-task-definition`, the output of `describe-task-definition` (the same fields under
//! `taskDefinition`, plus state such as `status` and `registeredAt`), and Elastic Beanstalk's
//! `Dockerrun.aws.json` v2 (`containerDefinitions` in bridge networking;
//! EB:create_deploy_docker_v2config.md).
//!
//! Field names and ranges follow the ECS API reference (RegisterTaskDefinition,
//! ContainerDefinition, PortMapping, HealthCheck, ContainerDependency) and
//! ECS-DG:task_definition_parameters.md.

use serde_json::Value;

use super::json::{self, Obj, at, kind};
use super::{ImportError, Imported, arn_name};
use crate::engine::SECOND;
use crate::scenario::raw::{
    RawCompatibility, RawContainer, RawCpuArchitecture, RawDuration, RawNetworkMode, RawPortMapping, RawProtocol,
    RawRole, RawRuntimePlatform, RawTaskDefinition,
};
use crate::scenario::source::KeyPath;

/// Which of the shapes a file has.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    /// The `register-task-definition` input (`--cli-input-json`).
    Register,
    /// The `describe-task-definition` output, under `taskDefinition`.
    Describe,
    /// `Dockerrun.aws.json` version 2.
    Dockerrun,
}

/// State and metadata of a registered task definition: no configuration, skipped silently.
const METADATA: [&str; 7] = [
    "taskDefinitionArn",
    "status",
    "requiresAttributes",
    "compatibilities",
    "registeredAt",
    "registeredBy",
    "deregisteredAt",
];

/// The task definition fields read; every other one is listed as ignored.
const TASK_FIELDS: [&str; 10] = [
    "family",
    "revision",
    "networkMode",
    "requiresCompatibilities",
    "cpu",
    "memory",
    "containerDefinitions",
    "executionRoleArn",
    "taskRoleArn",
    "runtimePlatform",
];

const CONTAINER_FIELDS: [&str; 10] = [
    "name",
    "image",
    "cpu",
    "memory",
    "memoryReservation",
    "essential",
    "portMappings",
    "dependsOn",
    "healthCheck",
    "stopTimeout",
];

/// Reads a task definition; `file` names it in errors and origins.
pub fn read(file: &str, text: &str) -> Result<(Imported<RawTaskDefinition>, Shape), ImportError> {
    let doc = json::parse(file, text)?;
    let top = json::root(file, &doc, "a task definition")?;
    let mut ignored = Vec::new();
    let (td, shape) = if top.get("AWSEBDockerrunVersion").is_some() {
        let version = top.get("AWSEBDockerrunVersion").and_then(|v| match v {
            Value::Number(n) => n.as_u64(),
            Value::String(s) => s.trim().parse().ok(),
            _ => None,
        });
        if version != Some(2) {
            return Err(ImportError::new(
                file,
                "AWSEBDockerrunVersion",
                "ecsim reads Dockerrun.aws.json version 2, the multicontainer format (version 1 describes one container of the Docker platform, which runs no ECS task)",
            ));
        }
        top.unused(&["AWSEBDockerrunVersion", "containerDefinitions", "executionRoleArn"], &[], &mut ignored);
        (top, Shape::Dockerrun)
    } else if let Some(inner) = top.obj(file, "taskDefinition")? {
        if let Some(k) = TASK_FIELDS.iter().find(|k| top.get(k).is_some()) {
            return Err(ImportError::new(
                file,
                k,
                format!(
                    "`{k}` is both at the top and under `taskDefinition`: give the describe-task-definition output or the register-task-definition input, not a mix"
                ),
            ));
        }
        top.unused(&["taskDefinition"], &[], &mut ignored);
        (inner, Shape::Describe)
    } else {
        (top, Shape::Register)
    };
    let mut out = Imported::new(task_definition(file, &td, shape, &mut ignored)?);
    out.ignored = ignored;
    record_origins(file, &td, shape, &mut out)?;
    Ok((out, shape))
}

fn task_definition(
    file: &str,
    td: &Obj<'_>,
    shape: Shape,
    ignored: &mut Vec<String>,
) -> Result<RawTaskDefinition, ImportError> {
    let dockerrun = shape == Shape::Dockerrun;
    if !dockerrun {
        td.unused(&TASK_FIELDS, &METADATA, ignored);
    }
    let family = if dockerrun {
        None
    } else {
        let f = td.need_str(file, "family")?;
        // RegisterTaskDefinition: up to 255 letters, numbers, hyphens and underscores.
        if f.is_empty() || f.len() > 255 || !f.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
            return Err(ImportError::new(
                file,
                &td.path_of("family"),
                format!("`{f}` is not a family name: up to 255 letters, numbers, hyphens and underscores"),
            ));
        }
        Some(f.to_string())
    };
    let revision = td.int(file, "revision", 1, i64::from(u32::MAX))?.map(|r| r as u32);
    let network_mode = if dockerrun {
        Some(RawNetworkMode::Bridge)
    } else {
        match td.str(file, "networkMode")? {
            None => None,
            Some("bridge") => Some(RawNetworkMode::Bridge),
            Some("host") => Some(RawNetworkMode::Host),
            Some("awsvpc") => Some(RawNetworkMode::Awsvpc),
            Some("none") => {
                return Err(ImportError::new(
                    file,
                    &td.path_of("networkMode"),
                    "network mode `none` is not simulated: its containers have no external connectivity, so there is nothing to place ports or serve requests for",
                ));
            }
            Some(other) => {
                return Err(ImportError::new(
                    file,
                    &td.path_of("networkMode"),
                    format!("unknown network mode `{other}`: ECS takes `bridge`, `host`, `awsvpc` or `none`"),
                ));
            }
        }
    };
    let requires_compatibilities = match td.array(file, "requiresCompatibilities")? {
        None => None,
        Some(list) => {
            let mut out = Vec::new();
            for (i, v) in list.iter().enumerate() {
                let p = at(&td.path_of("requiresCompatibilities"), i);
                match v.as_str() {
                    Some("EC2") => out.push(RawCompatibility::Ec2),
                    Some("FARGATE") => out.push(RawCompatibility::Fargate),
                    Some("EXTERNAL" | "MANAGED_INSTANCES") => ignored.push(p),
                    _ => {
                        return Err(ImportError::new(
                            file,
                            &p,
                            format!("expected `EC2`, `FARGATE`, `EXTERNAL` or `MANAGED_INSTANCES`, found {}", kind(v)),
                        ));
                    }
                }
            }
            Some(out)
        }
    };
    let cpu = task_units(file, td, "cpu", "vcpu", 1024)?;
    let memory = task_units(file, td, "memory", "gb", 1024)?;
    let runtime_platform = match td.obj(file, "runtimePlatform")? {
        None => None,
        Some(rp) => {
            // Linux is what the simulation models; another OS family is listed.
            let linux = rp.str(file, "operatingSystemFamily")? == Some("LINUX");
            rp.unused(&["cpuArchitecture"], if linux { &["operatingSystemFamily"] } else { &[] }, ignored);
            let cpu_architecture = match rp.str(file, "cpuArchitecture")? {
                None => None,
                Some("X86_64") => Some(RawCpuArchitecture::X86_64),
                Some("ARM64") => Some(RawCpuArchitecture::Arm64),
                Some(other) => {
                    return Err(ImportError::new(
                        file,
                        &rp.path_of("cpuArchitecture"),
                        format!("unknown CPU architecture `{other}`: expected `X86_64` or `ARM64`"),
                    ));
                }
            };
            Some(RawRuntimePlatform { cpu_architecture })
        }
    };
    let role = |key: &str| -> Result<Option<RawRole>, ImportError> {
        Ok(td.str(file, key)?.map(|arn| RawRole { name: Some(arn_name(arn).to_string()), ecr_pull: None }))
    };
    let execution_role = role("executionRoleArn")?;
    let task_role = role("taskRoleArn")?;

    let list = td.need(file, "containerDefinitions")?;
    let Value::Array(list) = list else {
        return Err(ImportError::new(
            file,
            &td.path_of("containerDefinitions"),
            format!("expected an array of containers, found {}", kind(list)),
        ));
    };
    if list.is_empty() {
        return Err(ImportError::new(
            file,
            &td.path_of("containerDefinitions"),
            "a task definition needs at least one container",
        ));
    }
    let cpath = td.path_of("containerDefinitions");
    let objs = json::objects(file, list, &cpath)?;
    let names: Vec<&str> = objs.iter().map(|c| c.str(file, "name").ok().flatten().unwrap_or("")).collect();
    let mut containers = Vec::new();
    let mut stop_timeout: Option<u64> = None;
    for c in &objs {
        let mut known: Vec<&str> = CONTAINER_FIELDS.to_vec();
        if dockerrun {
            known.retain(|k| *k != "dependsOn" && *k != "healthCheck" && *k != "stopTimeout");
        }
        c.unused(&known, &[], ignored);
        // Values present are checked before fields missing, so that a malformed value is
        // named even in a container that lacks something else too.
        let name = c.need_str(file, "name")?.to_string();
        let cpu = c.u32(file, "cpu")?.unwrap_or(0);
        let essential = c.bool(file, "essential")?;
        let memory = c.u32(file, "memory")?;
        let memory_reservation = c.u32(file, "memoryReservation")?;
        if dockerrun && memory.is_none() && memory_reservation.is_none() {
            return Err(ImportError::new(
                file,
                &c.path,
                format!(
                    "container `{name}` sets neither `memory` nor `memoryReservation`, one of which Dockerrun.aws.json v2 requires"
                ),
            ));
        }
        let mut port_mappings = Vec::new();
        for pm in json::objects(
            file,
            c.array(file, "portMappings")?.map_or(&[][..], Vec::as_slice),
            &c.path_of("portMappings"),
        )? {
            pm.unused(&["containerPort", "hostPort", "protocol"], &[], ignored);
            if pm.get("containerPortRange").is_some() && pm.get("containerPort").is_none() {
                continue; // a port range: listed as ignored above
            }
            let Some(container_port) = pm.int(file, "containerPort", 1, 65535)? else {
                return Err(ImportError::new(
                    file,
                    &pm.path_of("containerPort"),
                    format!("missing required field `containerPort` in `{}`", pm.path),
                ));
            };
            let protocol = match pm.str(file, "protocol")? {
                None => None,
                Some("tcp") => Some(RawProtocol::Tcp),
                Some("udp") => Some(RawProtocol::Udp),
                Some(other) => {
                    return Err(ImportError::new(
                        file,
                        &pm.path_of("protocol"),
                        format!("unknown protocol `{other}`: expected `tcp` or `udp`"),
                    ));
                }
            };
            port_mappings.push(RawPortMapping {
                container_port: container_port as u16,
                host_port: pm.int(file, "hostPort", 0, 65535)?.map(|h| h as u16),
                protocol,
            });
        }
        if !dockerrun {
            if let Some(deps) = c.array(file, "dependsOn")? {
                for d in json::objects(file, deps, &c.path_of("dependsOn"))? {
                    depends_on(file, &d, &name, &names, &objs)?;
                }
            }
            if let Some(hc) = c.obj(file, "healthCheck")? {
                health_check(file, &hc)?;
            }
            if let Some(s) = c.int(file, "stopTimeout", 0, 86_400)? {
                stop_timeout = Some(stop_timeout.map_or(s as u64, |t| t.max(s as u64)));
            }
        }
        let image = c.need_str(file, "image")?.to_string();
        containers.push(RawContainer { name, image, cpu, memory, memory_reservation, essential, port_mappings });
    }
    Ok(RawTaskDefinition {
        from: None,
        family,
        revision,
        network_mode,
        cpu,
        memory,
        stop_timeout: stop_timeout.map(|s| RawDuration(s * SECOND)),
        shutdown_time: None,
        app: None,
        containers,
        execution_role,
        task_role,
        calls_aws_apis: None,
        runtime_platform,
        requires_compatibilities,
    })
}

/// Task-level `cpu` or `memory`: a number, a string of digits, or a string with the unit the
/// API also takes (`"1 vCPU"`, `"0.5 vcpu"`; `"2 GB"`, `"2gb"`), in CPU units or MiB.
fn task_units(file: &str, td: &Obj<'_>, key: &str, unit: &str, per_unit: u32) -> Result<Option<u32>, ImportError> {
    let Some(v) = td.get(key) else { return Ok(None) };
    let bad = || {
        ImportError::new(
            file,
            &td.path_of(key),
            format!(
                "expected {} as a number or a string such as \"{}\" or \"{}\", found {}",
                if key == "cpu" { "CPU units" } else { "MiB" },
                per_unit,
                if key == "cpu" { "1 vCPU" } else { "2 GB" },
                kind(v)
            ),
        )
    };
    let n: f64 = match v {
        Value::Number(n) => n.as_f64().ok_or_else(bad)?,
        Value::String(s) => {
            let s = s.trim().to_ascii_lowercase();
            match s.strip_suffix(unit) {
                Some(num) => num.trim().parse::<f64>().map_err(|_| bad())? * f64::from(per_unit),
                None => s.parse::<f64>().map_err(|_| bad())?,
            }
        }
        _ => return Err(bad()),
    };
    if !(n.is_finite() && n > 0.0 && n.fract() == 0.0 && n <= f64::from(u32::MAX)) {
        return Err(ImportError::new(
            file,
            &td.path_of(key),
            format!("{} must be a positive whole number of {}", key, if key == "cpu" { "CPU units" } else { "MiB" }),
        ));
    }
    Ok(Some(n as u32))
}

/// ContainerDependency: another container of the task, and a condition it must reach.
fn depends_on(file: &str, d: &Obj<'_>, me: &str, names: &[&str], all: &[Obj<'_>]) -> Result<(), ImportError> {
    d.unused(&["containerName", "condition"], &[], &mut Vec::new());
    let other = d.need_str(file, "containerName")?;
    let condition = d.need_str(file, "condition")?;
    if other == me {
        return Err(ImportError::new(file, &d.path_of("containerName"), "a container cannot depend on itself"));
    }
    let Some(index) = names.iter().position(|n| *n == other) else {
        return Err(ImportError::new(
            file,
            &d.path_of("containerName"),
            format!("the task definition has no container `{other}` to depend on"),
        ));
    };
    match condition {
        "START" | "COMPLETE" | "SUCCESS" => Ok(()),
        "HEALTHY" if all[index].get("healthCheck").is_some() => Ok(()),
        "HEALTHY" => Err(ImportError::new(
            file,
            &d.path_of("condition"),
            format!("condition HEALTHY needs a healthCheck on container `{other}`, which has none"),
        )),
        _ => Err(ImportError::new(
            file,
            &d.path_of("condition"),
            format!("unknown condition `{condition}`: expected START, COMPLETE, SUCCESS or HEALTHY"),
        )),
    }
}

/// HealthCheck: a command and the documented ranges (AWS-SEMANTICS.md §2.5).
fn health_check(file: &str, hc: &Obj<'_>) -> Result<(), ImportError> {
    let command = hc.need(file, "command")?;
    let ok = matches!(command, Value::Array(a) if !a.is_empty() && a.iter().all(Value::is_string));
    if !ok {
        return Err(ImportError::new(
            file,
            &hc.path_of("command"),
            "expected the command as a list of strings, e.g. [\"CMD-SHELL\", \"curl -f http://localhost/ || exit 1\"]",
        ));
    }
    hc.int(file, "interval", 5, 300)?;
    hc.int(file, "timeout", 2, 60)?;
    hc.int(file, "retries", 1, 10)?;
    hc.int(file, "startPeriod", 0, 300)?;
    Ok(())
}

/// Where each scenario key came from, and which fields were read but are not simulated yet.
fn record_origins(
    file: &str,
    td: &Obj<'_>,
    shape: Shape,
    out: &mut Imported<RawTaskDefinition>,
) -> Result<(), ImportError> {
    let root = KeyPath::root();
    for (key, json_key) in [
        ("family", "family"),
        ("revision", "revision"),
        ("network_mode", "networkMode"),
        ("cpu", "cpu"),
        ("memory", "memory"),
        ("execution_role", "executionRoleArn"),
        ("task_role", "taskRoleArn"),
        ("runtime_platform", "runtimePlatform"),
        ("requires_compatibilities", "requiresCompatibilities"),
        ("containers", "containerDefinitions"),
    ] {
        if td.get(json_key).is_some() {
            out.record(root.key(key), file, td.path_of(json_key));
        }
    }
    let cpath = td.path_of("containerDefinitions");
    let list = td.array(file, "containerDefinitions")?.map_or(&[][..], Vec::as_slice);
    let mut longest_stop: Option<(i64, String)> = None;
    for c in json::objects(file, list, &cpath)? {
        let i: usize = c.path.rsplit('[').next().and_then(|s| s.trim_end_matches(']').parse().ok()).unwrap_or(0);
        let k = root.key("containers").index(i);
        out.record(k.clone(), file, c.path.clone());
        for f in ["name", "image", "cpu", "memory", "essential"] {
            if c.get(f).is_some() {
                out.record(k.key(f), file, c.path_of(f));
            }
        }
        if c.get("memoryReservation").is_some() {
            out.record(k.key("memory_reservation"), file, c.path_of("memoryReservation"));
        }
        let pms = c.array(file, "portMappings")?.map_or(&[][..], Vec::as_slice);
        let mut n = 0;
        for (j, pm) in pms.iter().enumerate() {
            if pm.get("containerPort").is_none() {
                continue;
            }
            let pk = k.key("port_mappings").index(n);
            let pp = at(&c.path_of("portMappings"), j);
            out.record(pk.clone(), file, pp.clone());
            out.record(pk.key("container_port"), file, format!("{pp}.containerPort"));
            out.record(pk.key("host_port"), file, format!("{pp}.hostPort"));
            n += 1;
        }
        if shape != Shape::Dockerrun {
            for f in ["dependsOn", "healthCheck"] {
                if c.get(f).is_some() {
                    out.not_simulated.push(c.path_of(f));
                }
            }
            if let Some(s) = c.int(file, "stopTimeout", 0, 86_400)?
                && longest_stop.as_ref().is_none_or(|(t, _)| s > *t)
            {
                longest_stop = Some((s, c.path_of("stopTimeout")));
            }
        }
    }
    if let Some((_, p)) = longest_stop {
        out.record(root.key("stop_timeout"), file, p);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn task_units_take_numbers_strings_and_units() {
        for (text, cpu, mem) in [
            (r#"{"cpu": 512, "memory": 1024}"#, 512, 1024),
            (r#"{"cpu": "512", "memory": "1024"}"#, 512, 1024),
            (r#"{"cpu": "1 vCPU", "memory": "2 GB"}"#, 1024, 2048),
            (r#"{"cpu": "0.25 vcpu", "memory": "0.5gb"}"#, 256, 512),
        ] {
            let v: Value = serde_json::from_str(text).unwrap();
            let o = json::root("f", &v, "x").unwrap();
            assert_eq!(task_units("f", &o, "cpu", "vcpu", 1024).unwrap(), Some(cpu), "{text}");
            assert_eq!(task_units("f", &o, "memory", "gb", 1024).unwrap(), Some(mem), "{text}");
        }
        let v: Value = serde_json::from_str(r#"{"cpu": "lots"}"#).unwrap();
        let o = json::root("f", &v, "x").unwrap();
        assert_eq!(task_units("f", &o, "cpu", "vcpu", 1024).unwrap_err().path, "cpu");
    }
}
