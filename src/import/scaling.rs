//! A service's Application Auto Scaling from the outputs of
//! `aws application-autoscaling describe-scalable-targets` (`ScalableTargets`) and
//! `describe-scaling-policies` (`ScalingPolicies`), with the CloudWatch alarms of its step
//! scaling policies from `aws cloudwatch describe-alarms` (`MetricAlarms`), since a step policy
//! names its alarm but does not hold it. Field names follow the Application Auto Scaling and
//! CloudWatch API references (ScalableTarget, ScalingPolicy, TargetTrackingScalingPolicyConfiguration,
//! StepScalingPolicyConfiguration, StepAdjustment, MetricAlarm).

use super::json::{self, Obj};
use super::{ImportError, Imported};
use crate::engine::SECOND;
use crate::scenario::raw::{
    RawAdjustmentType, RawAlarm, RawAutoScaling, RawComparison, RawCustomMetric, RawDuration, RawMissingData,
    RawStatistic, RawStep, RawStepScaling, RawTargetTracking,
};
use crate::scenario::source::KeyPath;

const ECS_DIMENSION: &str = "ecs:service:DesiredCount";

/// One parsed file: its name and document.
pub struct Doc {
    pub file: String,
    pub value: serde_json::Value,
}

impl Doc {
    pub fn parse(file: &str, text: &str) -> Result<Doc, ImportError> {
        let value = json::parse(file, text)?;
        let root = json::root(file, &value, "an Application Auto Scaling or CloudWatch output")?;
        if !["ScalableTargets", "ScalingPolicies", "MetricAlarms"].iter().any(|k| root.map.contains_key(*k)) {
            return Err(ImportError::new(
                file,
                "",
                "expected the output of `aws application-autoscaling describe-scalable-targets` (ScalableTargets), `describe-scaling-policies` (ScalingPolicies) or `aws cloudwatch describe-alarms` (MetricAlarms)",
            ));
        }
        Ok(Doc { file: file.to_string(), value })
    }

    fn list(&self, key: &str) -> Result<Vec<Obj<'_>>, ImportError> {
        let root = json::root(&self.file, &self.value, "")?;
        match root.array(&self.file, key)? {
            None => Ok(Vec::new()),
            Some(list) => json::objects(&self.file, list, key),
        }
    }
}

/// Whether a scalable target or policy is this service's desired count.
fn for_service(file: &str, o: &Obj<'_>, service: &str) -> Result<bool, ImportError> {
    let ns = o.str(file, "ServiceNamespace")?;
    let dim = o.str(file, "ScalableDimension")?;
    let id = o.need_str(file, "ResourceId")?;
    // ResourceId: service/<cluster>/<service>.
    Ok(ns.is_none_or(|n| n == "ecs")
        && dim.is_none_or(|d| d == ECS_DIMENSION)
        && id.rsplit('/').next() == Some(service))
}

/// The service's names in the files' scalable targets (for `ecsim import`).
pub fn services(docs: &[Doc]) -> Result<Vec<String>, ImportError> {
    let mut out: Vec<String> = Vec::new();
    for d in docs {
        for t in d.list("ScalableTargets")? {
            let id = t.need_str(&d.file, "ResourceId")?;
            if id.starts_with("service/")
                && let Some(name) = id.rsplit('/').next()
                && !out.iter().any(|o| o == name)
            {
                out.push(name.to_string());
            }
        }
    }
    Ok(out)
}

/// The service's scalable target and policies, or `None` if no file has a scalable target
/// for it.
pub fn read(docs: &[Doc], service: &str) -> Result<Option<Imported<RawAutoScaling>>, ImportError> {
    let root = KeyPath::root();
    let mut target = None;
    for d in docs {
        for t in d.list("ScalableTargets")? {
            if for_service(&d.file, &t, service)? {
                if target.is_some() {
                    return Err(ImportError::new(
                        &d.file,
                        &t.path,
                        format!("a second scalable target for service `{service}`'s desired count"),
                    ));
                }
                target = Some((d, t));
            }
        }
    }
    let Some((tdoc, t)) = target else { return Ok(None) };
    let tf = tdoc.file.as_str();
    let mut ignored = Vec::new();
    t.unused(
        &["ServiceNamespace", "ResourceId", "ScalableDimension", "MinCapacity", "MaxCapacity"],
        &["RoleARN", "CreationTime", "ScalableTargetARN"],
        &mut ignored,
    );
    if let Some(s) = t.obj(tf, "SuspendedState")? {
        for k in ["DynamicScalingInSuspended", "DynamicScalingOutSuspended", "ScheduledScalingSuspended"] {
            if s.bool(tf, k)? == Some(true) {
                ignored.push(s.path_of(k));
            }
        }
        if let Some(i) = ignored.iter().position(|p| *p == t.path_of("SuspendedState")) {
            ignored.remove(i);
        }
    }
    let min = t
        .int(tf, "MinCapacity", 0, i64::from(u32::MAX))?
        .ok_or_else(|| ImportError::new(tf, &t.path_of("MinCapacity"), "missing required field `MinCapacity`"))?;
    let max = t
        .int(tf, "MaxCapacity", 0, i64::from(u32::MAX))?
        .ok_or_else(|| ImportError::new(tf, &t.path_of("MaxCapacity"), "missing required field `MaxCapacity`"))?;
    let mut out = Imported::new(RawAutoScaling {
        from: None,
        min_capacity: Some(min as u32),
        max_capacity: Some(max as u32),
        target_tracking: Vec::new(),
        step_scaling: Vec::new(),
        scheduled: Vec::new(),
    });
    out.record(root.key("min_capacity"), tf, t.path_of("MinCapacity"));
    out.record(root.key("max_capacity"), tf, t.path_of("MaxCapacity"));

    let alarms: Vec<(&Doc, Obj<'_>)> = docs
        .iter()
        .map(|d| Ok(d.list("MetricAlarms")?.into_iter().map(move |a| (d, a))))
        .collect::<Result<Vec<_>, ImportError>>()?
        .into_iter()
        .flatten()
        .collect();
    for d in docs {
        let f = d.file.as_str();
        for p in d.list("ScalingPolicies")? {
            if !for_service(f, &p, service)? {
                continue;
            }
            p.unused(
                &[
                    "PolicyName",
                    "ServiceNamespace",
                    "ResourceId",
                    "ScalableDimension",
                    "PolicyType",
                    "TargetTrackingScalingPolicyConfiguration",
                    "StepScalingPolicyConfiguration",
                    "Alarms",
                ],
                &["PolicyARN", "CreationTime"],
                &mut ignored,
            );
            let name = p.need_str(f, "PolicyName")?.to_string();
            match p.need_str(f, "PolicyType")? {
                "TargetTrackingScaling" => {
                    let k = root.key("target_tracking").index(out.value.target_tracking.len());
                    out.record(k.clone(), f, p.path.clone());
                    let policy = target_tracking(f, &p, name, &mut ignored)?;
                    out.value.target_tracking.push(policy);
                }
                "StepScaling" => {
                    let k = root.key("step_scaling").index(out.value.step_scaling.len());
                    out.record(k.clone(), f, p.path.clone());
                    let (policy, alarm_origin) = step_scaling(f, &p, name, &alarms, &mut ignored)?;
                    out.record(k.key("alarm"), &alarm_origin.0, alarm_origin.1);
                    out.value.step_scaling.push(policy);
                }
                other => {
                    return Err(ImportError::new(
                        f,
                        &p.path_of("PolicyType"),
                        format!(
                            "policy type `{other}` is not simulated: expected TargetTrackingScaling or StepScaling"
                        ),
                    ));
                }
            }
        }
    }
    out.ignored = ignored;
    Ok(Some(out))
}

fn seconds(file: &str, o: &Obj<'_>, key: &str) -> Result<Option<RawDuration>, ImportError> {
    Ok(o.int(file, key, 0, 86_400 * 366)?.map(|s| RawDuration(s as u64 * SECOND)))
}

fn statistic(file: &str, o: &Obj<'_>, key: &str) -> Result<Option<RawStatistic>, ImportError> {
    Ok(match o.str(file, key)? {
        None => None,
        Some("Average") => Some(RawStatistic::Average),
        Some("Sum") => Some(RawStatistic::Sum),
        Some("Minimum") => Some(RawStatistic::Minimum),
        Some("Maximum") => Some(RawStatistic::Maximum),
        Some("SampleCount") => Some(RawStatistic::SampleCount),
        Some(other) => {
            return Err(ImportError::new(
                file,
                &o.path_of(key),
                format!("unknown statistic `{other}`: expected Average, Sum, Minimum, Maximum or SampleCount"),
            ));
        }
    })
}

fn target_tracking(
    f: &str,
    p: &Obj<'_>,
    name: String,
    ignored: &mut Vec<String>,
) -> Result<RawTargetTracking, ImportError> {
    let c = p.obj(f, "TargetTrackingScalingPolicyConfiguration")?.ok_or_else(|| {
        ImportError::new(
            f,
            &p.path_of("TargetTrackingScalingPolicyConfiguration"),
            "missing required field `TargetTrackingScalingPolicyConfiguration`",
        )
    })?;
    c.unused(
        &[
            "TargetValue",
            "PredefinedMetricSpecification",
            "CustomizedMetricSpecification",
            "ScaleOutCooldown",
            "ScaleInCooldown",
            "DisableScaleIn",
        ],
        &[],
        ignored,
    );
    let target_value = c
        .f64(f, "TargetValue")?
        .ok_or_else(|| ImportError::new(f, &c.path_of("TargetValue"), "missing required field `TargetValue`"))?;
    let predefined_metric = match c.obj(f, "PredefinedMetricSpecification")? {
        None => None,
        Some(m) => {
            m.unused(&["PredefinedMetricType"], &["ResourceLabel"], ignored);
            Some(m.need_str(f, "PredefinedMetricType")?.to_string())
        }
    };
    let custom_metric = match c.obj(f, "CustomizedMetricSpecification")? {
        None => None,
        Some(m) => {
            m.unused(&["MetricName", "Statistic"], &["Namespace", "Dimensions", "Unit"], ignored);
            Some(RawCustomMetric {
                metric: m.need_str(f, "MetricName")?.to_string(),
                statistic: statistic(f, &m, "Statistic")?,
            })
        }
    };
    Ok(RawTargetTracking {
        name: Some(name),
        predefined_metric,
        custom_metric,
        target_value,
        scale_out_cooldown: seconds(f, &c, "ScaleOutCooldown")?,
        scale_in_cooldown: seconds(f, &c, "ScaleInCooldown")?,
        disable_scale_in: c.bool(f, "DisableScaleIn")?,
    })
}

type AlarmOrigin = (String, String);

fn step_scaling(
    f: &str,
    p: &Obj<'_>,
    name: String,
    alarms: &[(&Doc, Obj<'_>)],
    ignored: &mut Vec<String>,
) -> Result<(RawStepScaling, AlarmOrigin), ImportError> {
    let c = p.obj(f, "StepScalingPolicyConfiguration")?.ok_or_else(|| {
        ImportError::new(
            f,
            &p.path_of("StepScalingPolicyConfiguration"),
            "missing required field `StepScalingPolicyConfiguration`",
        )
    })?;
    c.unused(
        &["AdjustmentType", "StepAdjustments", "Cooldown", "MetricAggregationType", "MinAdjustmentMagnitude"],
        &[],
        ignored,
    );
    let adjustment_type = match c.need_str(f, "AdjustmentType")? {
        "ChangeInCapacity" => RawAdjustmentType::ChangeInCapacity,
        "PercentChangeInCapacity" => RawAdjustmentType::PercentChangeInCapacity,
        "ExactCapacity" => RawAdjustmentType::ExactCapacity,
        other => {
            return Err(ImportError::new(
                f,
                &c.path_of("AdjustmentType"),
                format!(
                    "unknown adjustment type `{other}`: expected ChangeInCapacity, PercentChangeInCapacity or ExactCapacity"
                ),
            ));
        }
    };
    let mut steps = Vec::new();
    let list = c.array(f, "StepAdjustments")?.map_or(&[][..], Vec::as_slice);
    for s in json::objects(f, list, &c.path_of("StepAdjustments"))? {
        s.unused(&["MetricIntervalLowerBound", "MetricIntervalUpperBound", "ScalingAdjustment"], &[], ignored);
        steps.push(RawStep {
            lower: s.f64(f, "MetricIntervalLowerBound")?,
            upper: s.f64(f, "MetricIntervalUpperBound")?,
            adjustment: s.int(f, "ScalingAdjustment", -1_000_000, 1_000_000)?.ok_or_else(|| {
                ImportError::new(f, &s.path_of("ScalingAdjustment"), "missing required field `ScalingAdjustment`")
            })?,
        });
    }
    let alarm_list = p.array(f, "Alarms")?.map_or(&[][..], Vec::as_slice);
    let alarm_refs = json::objects(f, alarm_list, &p.path_of("Alarms"))?;
    let Some(first) = alarm_refs.first() else {
        return Err(ImportError::new(
            f,
            &p.path_of("Alarms"),
            format!("step scaling policy `{name}` has no alarm to trigger it"),
        ));
    };
    for extra in &alarm_refs[1..] {
        ignored.push(extra.path.clone());
    }
    let alarm_name = first.need_str(f, "AlarmName")?;
    let Some((adoc, a)) = alarms.iter().find(|(d, a)| a.str(&d.file, "AlarmName").ok().flatten() == Some(alarm_name))
    else {
        return Err(ImportError::new(
            f,
            &first.path_of("AlarmName"),
            format!(
                "the alarm `{alarm_name}` that triggers this policy is not among the files: add the output of `aws cloudwatch describe-alarms --alarm-names {alarm_name}`"
            ),
        ));
    };
    let af = adoc.file.as_str();
    a.unused(
        &[
            "AlarmName",
            "MetricName",
            "Statistic",
            "Period",
            "EvaluationPeriods",
            "DatapointsToAlarm",
            "Threshold",
            "ComparisonOperator",
            "TreatMissingData",
        ],
        &[
            "AlarmArn",
            "AlarmDescription",
            "AlarmConfigurationUpdatedTimestamp",
            "ActionsEnabled",
            "OKActions",
            "AlarmActions",
            "InsufficientDataActions",
            "StateValue",
            "StateReason",
            "StateReasonData",
            "StateUpdatedTimestamp",
            "StateTransitionedTimestamp",
            "Namespace",
            "Dimensions",
            "Unit",
        ],
        ignored,
    );
    let comparison = match a.need_str(af, "ComparisonOperator")? {
        "GreaterThanOrEqualToThreshold" => RawComparison::GreaterThanOrEqualToThreshold,
        "GreaterThanThreshold" => RawComparison::GreaterThanThreshold,
        "LessThanThreshold" => RawComparison::LessThanThreshold,
        "LessThanOrEqualToThreshold" => RawComparison::LessThanOrEqualToThreshold,
        other => {
            return Err(ImportError::new(
                af,
                &a.path_of("ComparisonOperator"),
                format!("comparison `{other}` is not simulated (anomaly-detection bands are not)"),
            ));
        }
    };
    let treat_missing_data = match a.str(af, "TreatMissingData")? {
        None => None,
        Some("missing") => Some(RawMissingData::Missing),
        Some("notBreaching") => Some(RawMissingData::NotBreaching),
        Some("breaching") => Some(RawMissingData::Breaching),
        Some("ignore") => Some(RawMissingData::Ignore),
        Some(other) => {
            return Err(ImportError::new(
                af,
                &a.path_of("TreatMissingData"),
                format!("unknown value `{other}`: expected missing, notBreaching, breaching or ignore"),
            ));
        }
    };
    let alarm = RawAlarm {
        name: Some(alarm_name.to_string()),
        metric: a.need_str(af, "MetricName")?.to_string(),
        statistic: statistic(af, a, "Statistic")?,
        period: seconds(af, a, "Period")?,
        evaluation_periods: a.u32(af, "EvaluationPeriods")?,
        datapoints_to_alarm: a.u32(af, "DatapointsToAlarm")?,
        threshold: a
            .f64(af, "Threshold")?
            .ok_or_else(|| ImportError::new(af, &a.path_of("Threshold"), "missing required field `Threshold`"))?,
        comparison,
        treat_missing_data,
    };
    let policy = RawStepScaling {
        name: Some(name),
        alarm,
        adjustment_type,
        steps,
        min_adjustment_magnitude: c.u32(f, "MinAdjustmentMagnitude")?,
        cooldown: seconds(f, &c, "Cooldown")?,
        metric_aggregation_type: statistic(f, &c, "MetricAggregationType")?,
    };
    Ok((policy, (af.to_string(), a.path.clone())))
}
