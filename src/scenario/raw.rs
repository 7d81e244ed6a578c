//! The scenario file as written: serde types that mirror the TOML, with every key optional where
//! AWS has a default. Unknown keys are refused. `validate.rs` turns these into the checked
//! [`Scenario`](super::Scenario).

//!
//! The same types describe the format as JSON Schema (`schemars`): every key's doc comment is its
//! description, and [`super::schema`] generates the editor schema and the README's scenario
//! reference from them, so the documentation cannot drift from what the parser reads.

use std::borrow::Cow;

use indexmap::IndexMap;
use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};

use super::duration::parse_duration;
use super::validate::DEFAULT_IMAGE_SIZE_MB;
use crate::engine::SimTime;

/// A duration in milliseconds, written with a unit (`"90s"`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RawDuration(pub SimTime);

impl<'de> Deserialize<'de> for RawDuration {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = RawDuration;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a duration with a unit, e.g. \"90s\" or \"15m\"")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<RawDuration, E> {
                parse_duration(s).map(RawDuration).map_err(E::custom)
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<RawDuration, E> {
                Err(E::custom(format!("durations need a unit: write \"{v}s\" or \"{v}m\"")))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<RawDuration, E> {
                Err(E::custom(format!("durations need a unit: write \"{v}s\" or \"{v}m\"")))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<RawDuration, E> {
                Err(E::custom(format!("durations need a unit: write \"{v}s\"")))
            }
        }
        d.deserialize_any(V)
    }
}

/// A distribution of durations: a plain duration (`"5s"`, fixed) or a table
/// `{ dist = "uniform", min = "2s", max = "6s" }`.
#[derive(Clone, Debug, PartialEq)]
pub enum RawDistribution {
    Fixed(RawDuration),
    Table(RawDistributionTable),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum DistributionKind {
    Fixed,
    Uniform,
    Exponential,
    Lognormal,
    Gamma,
    Normal,
}

/// Written as a table, `dist` names the kind and the keys it needs:
/// `{ dist = "fixed", value = "5s" }`, `{ dist = "uniform", min = "2s", max = "6s" }`,
/// `{ dist = "exponential", mean = "5s" }`, `{ dist = "lognormal", mean = "5s", p99 = "30s" }` (or
/// `sigma = 0.5`), `{ dist = "gamma", mean = "5s", shape = 2.0 }`,
/// `{ dist = "normal", mean = "5s", sd = "1s" }` (truncated at 0).
#[derive(Clone, Debug, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(transform = distribution_rules)]
pub struct RawDistributionTable {
    /// The kind of distribution.
    pub dist: DistributionKind,
    /// `fixed`: the value.
    pub value: Option<RawDuration>,
    /// `uniform`: the least value.
    pub min: Option<RawDuration>,
    /// `uniform`: the greatest value.
    pub max: Option<RawDuration>,
    /// `exponential`, `lognormal`, `gamma`, `normal`: the mean.
    pub mean: Option<RawDuration>,
    /// `lognormal`: the 99th percentile (instead of `sigma`).
    pub p99: Option<RawDuration>,
    /// `normal`: the standard deviation.
    pub sd: Option<RawDuration>,
    /// `lognormal`: the shape parameter σ, dimensionless (instead of `p99`).
    pub sigma: Option<f64>,
    /// `gamma`: the shape parameter k, dimensionless.
    pub shape: Option<f64>,
}

impl<'de> Deserialize<'de> for RawDistribution {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RawDistribution;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(
                    "a duration such as \"5s\" or a table such as { dist = \"uniform\", min = \"2s\", max = \"6s\" }",
                )
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<RawDistribution, E> {
                parse_duration(s).map(|d| RawDistribution::Fixed(RawDuration(d))).map_err(E::custom)
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<RawDistribution, A::Error> {
                RawDistributionTable::deserialize(de::value::MapAccessDeserializer::new(map))
                    .map(RawDistribution::Table)
            }
        }
        d.deserialize_any(V)
    }
}

/// What [`parse_duration`] accepts: numbers with units (`ms`, `s`/`sec`, `m`/`min`, `h`, `d`),
/// chained, with decimals and spaces. The bound (36525 days) and the millisecond resolution are
/// checked by the parser alone.
pub const DURATION_PATTERN: &str = r"^\s*(([0-9]+\.?[0-9]*|\.[0-9]+)\s*(ms|sec|min|s|m|h|d)\s*)+$";

/// A default duration as the reference prints it: whole hours in `h`, else seconds or ms.
fn duration_text(ms: SimTime) -> String {
    use crate::engine::{HOUR, SECOND};
    if ms > 0 && ms.is_multiple_of(HOUR) {
        format!("{}h", ms / HOUR)
    } else if ms.is_multiple_of(SECOND) {
        format!("{}s", ms / SECOND)
    } else {
        format!("{ms}ms")
    }
}

impl JsonSchema for RawDuration {
    fn inline_schema() -> bool {
        true
    }

    fn schema_name() -> Cow<'static, str> {
        "Duration".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "pattern": DURATION_PATTERN,
            "description": "A duration with a unit: ms, s, m, h or d; parts may be chained and have decimals.",
            "examples": ["500ms", "90s", "15m", "1h30m", "24h"],
        })
    }
}

impl JsonSchema for RawDistribution {
    fn schema_name() -> Cow<'static, str> {
        "Distribution".into()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "A distribution of durations: a duration (fixed) or a table naming the kind, e.g. `{ dist = \"uniform\", min = \"2s\", max = \"6s\" }`.",
            "anyOf": [generator.subschema_for::<RawDuration>(), generator.subschema_for::<RawDistributionTable>()],
        })
    }
}

/// Which keys each kind of distribution needs, as `validate::distribution` reads them; a
/// lognormal takes `mean` and exactly one of `sigma` or `p99`.
fn distribution_rules(schema: &mut Schema) {
    let need = |kind: &str, keys: &[&str]| {
        serde_json::json!({
            "if": { "properties": { "dist": { "const": kind } } },
            "then": { "required": keys },
        })
    };
    let lognormal = serde_json::json!({
        "if": { "properties": { "dist": { "const": "lognormal" } } },
        "then": { "required": ["mean"], "oneOf": [{ "required": ["sigma"] }, { "required": ["p99"] }] },
    });
    schema.insert(
        "allOf".into(),
        serde_json::json!([
            need("fixed", &["value"]),
            need("uniform", &["min", "max"]),
            need("exponential", &["mean"]),
            lognormal,
            need("gamma", &["mean", "shape"]),
            need("normal", &["mean", "sd"]),
        ]),
    );
}

/// The keys each arrival pattern takes and needs, as `validate::arrivals` reads them: any other
/// key is refused. `process` and `pattern` go with every pattern; no `pattern` is `constant`.
pub const ARRIVAL_PATTERN_KEYS: [(&str, &[&str], &[&str]); 7] = [
    ("constant", &["rate"], &["rate"]),
    ("diurnal", &["mean", "amplitude", "period", "phase"], &["mean", "amplitude"]),
    ("step", &["initial", "changes"], &["initial", "changes"]),
    ("spike", &["base", "at", "height", "length"], &["base", "at", "height", "length"]),
    ("piecewise", &["points"], &["points"]),
    ("trace", &["file", "scale", "loop", "period"], &["file"]),
    (
        "cloudwatch",
        &["file", "scale", "loop", "period", "shift", "missing_datapoints", "metric_period", "series"],
        &["file"],
    ),
];

fn arrival_rules(schema: &mut Schema) {
    let rules: Vec<serde_json::Value> = ARRIVAL_PATTERN_KEYS
        .iter()
        .map(|(pattern, takes, needs)| {
            let mut names: Vec<&str> = vec!["process", "pattern"];
            names.extend_from_slice(takes);
            // An absent `pattern` is `constant`: `properties` holds for an absent key, so only
            // the other patterns require it to be present.
            let condition = if *pattern == "constant" {
                serde_json::json!({ "properties": { "pattern": { "const": pattern } } })
            } else {
                serde_json::json!({ "properties": { "pattern": { "const": pattern } }, "required": ["pattern"] })
            };
            serde_json::json!({
                "if": condition,
                "then": { "required": needs, "propertyNames": { "enum": names } },
            })
        })
        .collect();
    schema.insert("allOf".into(), rules.into());
}

/// A scenario: one TOML file describing a cluster, its services and the traffic they serve, and
/// what happens to them over a simulated time. Unknown keys are refused.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawScenario {
    /// The scenario format version; only 1 exists.
    #[schemars(extend("default" = super::FORMAT_VERSION))]
    pub version: Option<u32>,
    /// The scenario's name; it names the output folder (`results/<name>/`): letters, digits, `-`, `_`
    /// and `.`, not starting with `.`.
    pub name: String,
    /// One line saying what the scenario shows.
    #[schemars(extend("default" = ""))]
    pub description: Option<String>,
    /// The run's seed: every random stream derives from it, so a scenario and a seed always give the
    /// same bytes. `ecsim run --seed` overrides it.
    #[schemars(extend("default" = 1))]
    pub seed: Option<u64>,
    /// Simulated time: more than 0 and at most 366 days, e.g. `"60m"` or `"24h"`.
    pub duration: RawDuration,
    /// EC2 instance types, by name. A table with a built-in name changes only the fields it gives; a
    /// new name needs `vcpu`, `memory_mib`, `max_enis` and `on_demand_price`.
    #[serde(default)]
    pub instance_types: IndexMap<String, RawInstanceType>,
    /// The ECS cluster: its Availability Zones and the Auto Scaling groups whose instances register with it.
    pub cluster: RawCluster,
    /// Container images, by the name containers give in `image`. Images that no table describes use the defaults.
    #[serde(default)]
    pub images: IndexMap<String, RawImage>,
    /// Task definitions, by a key that services and actions refer to. The family defaults to the key.
    #[serde(default)]
    pub task_definitions: IndexMap<String, RawTaskDefinition>,
    /// ECS services, by name.
    #[serde(default)]
    pub services: IndexMap<String, RawService>,
    /// Auto Scaling group capacity providers, by name. `FARGATE` and `FARGATE_SPOT` are predefined and
    /// need no table.
    #[serde(default)]
    pub capacity_providers: IndexMap<String, RawCapacityProvider>,
    /// Application Load Balancer target groups, by name.
    #[serde(default)]
    pub target_groups: IndexMap<String, RawTargetGroup>,
    /// Request traffic, by name: each sends requests through the ALB to a target group.
    #[serde(default)]
    pub workloads: IndexMap<String, RawWorkload>,
    /// The latency objective minutes are judged against; `summary.csv` reports the share of minutes that meet it.
    pub slo: Option<RawSlo>,
    /// CloudWatch settings.
    pub cloudwatch: Option<RawCloudWatch>,
    /// Fargate's launch latency, Spot interruptions and prices.
    pub fargate: Option<RawFargate>,
    /// How requests are simulated: `"request"` makes every request an event (arrival, queueing,
    /// service, answer); `"fluid"` integrates the offered load second by second and takes each task's
    /// utilization and latency from queueing formulas, so day-long runs at thousands of requests per
    /// second take seconds. The control loops (scaling, deployments, health checks) stay event by
    /// event either way.
    #[schemars(extend("default" = "request"))]
    pub fidelity: Option<RawFidelity>,
    /// Elastic Beanstalk multi-container Docker environments (the ECS platform, Dockerrun v2), by environment name.
    #[serde(default)]
    pub beanstalk: IndexMap<String, RawBeanstalk>,
    /// Scripted operator actions, each at a given time: `at` plus exactly one action table.
    #[serde(default)]
    pub actions: Vec<RawAction>,
    /// Expectations that `ecsim check` tests after the run: each names one of `metric` (a
    /// `timeseries.csv` column), `summary` (a `summary.csv` column) or `event` (an `events.csv` kind),
    /// with a `why` printed when it fails. Without `service`, values are summed over services.
    #[serde(default)]
    pub expect: Vec<RawExpect>,
    /// For an exercise: the `--set` overrides that make its expectations hold.
    pub solution: Option<RawSolution>,
}

/// An exercise's answer: the `--set` overrides that make its expectations hold.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawSolution {
    /// Overrides as `--set` takes them, `path=value`, e.g. `"services.web.desired_count=6"`.
    pub set: Vec<String>,
}

/// An `[[expect]]` table, checked by `ecsim check`: one of `metric`, `summary` or `event`, with
/// what must hold and a `why`, printed when it fails.
///
/// ```toml
/// [[expect]]
/// why = "the service scales out within a few minutes"
/// metric = "desired"      # a timeseries.csv column
/// service = "web"         # optional
/// from = "12m"            # or at = "20m"; default: the whole run
/// to = "20m"
/// agg = "max"             # min | max | mean | last (default) | sum
/// op = ">="               # == != < <= > >=
/// value = 8
///
/// [[expect]]
/// why = "static host ports collide"
/// summary = "placement_failures"
/// op = ">="
/// value = 1
///
/// [[expect]]
/// why = "ECS names the port collision"
/// event = "placement_failed"
/// detail = "RESOURCE:PORTS"   # optional substring of the detail
/// count = ">= 1"              # or first_at = "<= 15m"; default count >= 1
/// ```
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawExpect {
    /// Why this should hold, in a few words: printed when it does not.
    pub why: String,
    /// A `timeseries.csv` column: the check aggregates it over the window with `agg` and compares with `op` and `value`.
    pub metric: Option<String>,
    /// A `summary.csv` column, compared with `op` and `value`; takes no window.
    pub summary: Option<String>,
    /// An `events.csv` kind: the check counts such events in the window (`count`) or tests when the first came (`first_at`).
    pub event: Option<String>,
    /// Only this service's values; without it, values are summed over services.
    pub service: Option<String>,
    /// The window is this one minute (for `metric` and `event`); give `at` or `from`/`to`, not both.
    pub at: Option<RawDuration>,
    /// The window's start.
    #[schemars(extend("default" = "0s"))]
    pub from: Option<RawDuration>,
    /// The window's end.
    ///
    /// Default: the end of the run.
    pub to: Option<RawDuration>,
    /// How a `metric` is aggregated over the window: `min`, `max`, `mean`, `last` or `sum`.
    #[schemars(extend("default" = "last"))]
    pub agg: Option<String>,
    /// The comparison for `metric` and `summary`: `==`, `!=`, `<`, `<=`, `>` or `>=`.
    pub op: Option<String>,
    /// The value `metric` or `summary` is compared with.
    pub value: Option<f64>,
    /// For `event`: only events whose detail contains this text, e.g. `"RESOURCE:PORTS"`.
    pub detail: Option<String>,
    /// For `event`: a test of the number of events, e.g. `">= 1"` or `"== 0"`. Give `count` or `first_at`, not both.
    #[schemars(extend("default" = ">= 1"))]
    pub count: Option<String>,
    /// For `event`: a test of when the first came, e.g. `"<= 15m"`.
    pub first_at: Option<String>,
}

/// An EC2 instance type. A table with a built-in name changes only the fields it gives; a new name
/// needs `vcpu`, `memory_mib`, `max_enis` and `on_demand_price`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawInstanceType {
    /// vCPUs; the instance registers 1024 CPU units per vCPU.
    pub vcpu: Option<u32>,
    /// Installed memory, MiB.
    pub memory_mib: Option<u32>,
    /// Network interfaces, the primary included: an instance runs `max_enis - 1` awsvpc tasks.
    pub max_enis: Option<u32>,
    /// On-Demand price, USD per hour.
    pub on_demand_price: Option<f64>,
    /// The CPU architecture: the `ecs.cpu-architecture` attribute.
    #[schemars(extend("default" = "x86_64"))]
    pub architecture: Option<RawArchitecture>,
    /// Memory the container agent registers, MiB.
    ///
    /// Default: `memory_mib × 7985 / 8192`.
    pub registered_memory_mib: Option<u32>,
    /// Spot price, USD per hour.
    ///
    /// Default: 40% of `on_demand_price`.
    pub spot_price: Option<f64>,
    /// Spot interruptions per instance-hour.
    ///
    /// Default: 0.05 / 730 (the Spot Instance Advisor's "<5%" a month).
    pub spot_interruption_rate: Option<f64>,
    /// The Spot interruption rate in given Availability Zones, e.g. `{ "us-east-1a" = 0.2 }`: each type
    /// in each zone is its own Spot pool.
    #[serde(default)]
    pub spot_interruption_rate_by_zone: IndexMap<String, f64>,
}

#[derive(Clone, Copy, Debug, Deserialize, JsonSchema)]
pub enum RawArchitecture {
    #[serde(rename = "x86_64")]
    X86_64,
    #[serde(rename = "arm64")]
    Arm64,
}

/// The ECS cluster and the Auto Scaling groups whose instances register with it.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawCluster {
    /// The cluster's name.
    #[schemars(extend("default" = "default"))]
    pub name: Option<String>,
    /// The Availability Zones, e.g. `["us-east-1a", "us-east-1b"]`.
    pub availability_zones: Vec<String>,
    /// How long attaching an awsvpc task's elastic network interface takes (the task is PROVISIONING meanwhile).
    #[schemars(extend("default" = {"dist": "uniform", "min": "2s", "max": "6s"}))]
    pub eni_attach_time: Option<RawDistribution>,
    /// The targets' security group, as far as the load balancer cares: which ports it admits from the
    /// ALB.
    ///
    /// Default: every port open to the ALB.
    pub security_group: Option<RawSecurityGroup>,
    /// The EC2 Auto Scaling groups whose instances join the cluster.
    #[serde(default)]
    pub auto_scaling_groups: Vec<RawAutoScalingGroup>,
}

/// The instances' (or awsvpc tasks') security group, as far as the load balancer cares: which
/// ports it admits from the ALB.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawSecurityGroup {
    /// Ports admitted from the ALB, e.g. `[80]`.
    #[serde(default)]
    pub alb_ingress_ports: Vec<u16>,
    /// Inclusive port ranges admitted from the ALB, e.g. `[[32768, 60999]]`.
    #[serde(default)]
    pub alb_ingress_ranges: Vec<[u16; 2]>,
}

/// An EC2 Auto Scaling group; its instances are named `<name>-1`, `<name>-2`, ...
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawAutoScalingGroup {
    /// The group's name; its instances are named `<name>-1`, `<name>-2`, ...
    pub name: String,
    /// A built-in or scenario instance type. Required unless `mixed_instances_policy` lists the types.
    pub instance_type: Option<String>,
    /// Instances (capacity units, with weights) at the start; each launches into the AZ with the fewest
    /// of the group's instances.
    pub desired_capacity: u32,
    /// The least capacity scaling keeps to.
    ///
    /// Default: `desired_capacity`.
    pub min_size: Option<u32>,
    /// The most capacity scaling keeps to.
    ///
    /// Default: `desired_capacity`.
    pub max_size: Option<u32>,
    /// Several instance types, On-Demand and Spot, in one group; `instance_type` may then be left out.
    pub mixed_instances_policy: Option<RawMixedInstancesPolicy>,
    /// Which instances scale-in terminates, applied in order after AZ balance: any of `Default`,
    /// `AllocationStrategy`, `OldestLaunchTemplate`, `OldestLaunchConfiguration`,
    /// `ClosestToNextInstanceHour`, `NewestInstance`, `OldestInstance`.
    #[schemars(extend("default" = ["Default"]))]
    pub termination_policies: Option<Vec<String>>,
    /// Scale-in protection for every new instance.
    #[schemars(extend("default" = false))]
    pub new_instances_protected_from_scale_in: Option<bool>,
    /// New instances count in the group's metrics, and in target tracking's capacity, only after it.
    ///
    /// Default: none (300 s for target tracking).
    pub default_instance_warmup: Option<RawDuration>,
    /// Launch a replacement when EC2 recommends rebalancing a Spot instance (10 minutes before its
    /// notice) and retire the old one once the new one is in service.
    #[schemars(extend("default" = false))]
    pub capacity_rebalance: Option<bool>,
    /// The agent's `ECS_ENABLE_SPOT_INSTANCE_DRAINING`: DRAINING at the two-minute Spot notice.
    #[schemars(extend("default" = false))]
    pub spot_instance_draining: Option<bool>,
    /// EC2 metrics every 5 minutes (`"basic"`) or every minute (`"detailed"`).
    #[schemars(extend("default" = "basic"))]
    pub instance_monitoring: Option<RawMonitoring>,
    /// The group's own scaling policies, without a capacity provider.
    pub scaling: Option<RawGroupScaling>,
    /// The container instance IAM role.
    ///
    /// Default: `ecsInstanceRole`, allowed to pull from ECR.
    pub instance_role: Option<RawRole>,
    /// The group's Availability Zones.
    ///
    /// Default: all the cluster's.
    pub availability_zones: Option<Vec<String>>,
    /// Custom container instance attributes, e.g. `{ stack = "prod" }`, for placement constraints.
    #[serde(default)]
    pub attributes: IndexMap<String, String>,
    /// EC2 launch to container agent start.
    #[schemars(extend("default" = {"dist": "uniform", "min": "40s", "max": "80s"}))]
    pub boot_time: Option<RawDistribution>,
    /// Container agent start to registration (ACTIVE).
    #[schemars(extend("default" = {"dist": "uniform", "min": "20s", "max": "40s"}))]
    pub agent_registration_time: Option<RawDistribution>,
    /// false: the first instances are registered at time 0; true: they boot during the run.
    #[serde(default)]
    pub boot_at_start: bool,
    /// The agent's `ECS_RESERVED_MEMORY`: MiB taken off each instance's registered memory.
    #[schemars(extend("default" = 0))]
    pub reserved_memory: Option<u32>,
    /// The agent's dynamic host port range, inclusive.
    #[schemars(extend("default" = [crate::model::ec2::DEFAULT_DYNAMIC_HOST_PORT_RANGE.0, crate::model::ec2::DEFAULT_DYNAMIC_HOST_PORT_RANGE.1]))]
    pub dynamic_host_port_range: Option<[u16; 2]>,
}

/// An Auto Scaling group's mixed instances policy: several types, On-Demand and Spot.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawMixedInstancesPolicy {
    /// The launch template overrides: instance types with their weights.
    pub instance_types: Vec<RawInstanceOverride>,
    /// Capacity filled by On-Demand instances first.
    #[schemars(extend("default" = 0))]
    pub on_demand_base_capacity: Option<u32>,
    /// Percent On-Demand of the capacity above the base; the rest is Spot.
    #[schemars(extend("default" = 100))]
    pub on_demand_percentage_above_base: Option<u32>,
    /// How Spot capacity is spread over the types.
    #[schemars(extend("default" = "price-capacity-optimized"))]
    pub spot_allocation_strategy: Option<RawSpotAllocation>,
}

/// An instance type of a mixed instances policy.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawInstanceOverride {
    /// A built-in or scenario instance type.
    pub instance_type: String,
    /// Capacity units one instance of this type counts for.
    #[schemars(extend("default" = 1))]
    pub weight: Option<u32>,
}

#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum RawSpotAllocation {
    LowestPrice,
    CapacityOptimized,
    PriceCapacityOptimized,
}

#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum RawMonitoring {
    Basic,
    Detailed,
}

/// An Auto Scaling group's own scaling policies (the classic way, without a capacity provider).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawGroupScaling {
    /// Target tracking policies: `predefined_metric = "ASGAverageCPUUtilization"` or a `custom_metric`
    /// on `CPUUtilization`, `CPUReservation` or `MemoryReservation`; no cooldowns.
    #[serde(default)]
    pub target_tracking: Vec<RawTargetTracking>,
    /// Step scaling policies on the group's metrics.
    #[serde(default)]
    pub step_scaling: Vec<RawStepScaling>,
    /// Scheduled actions; for a group they may also set `desired_capacity`.
    #[serde(default)]
    pub scheduled: Vec<RawScheduled>,
}

/// An Auto Scaling group capacity provider.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawCapacityProvider {
    /// The group it scales (one provider per group).
    pub auto_scaling_group: String,
    /// ECS managed scaling: the provider scales the group to keep `CapacityProviderReservation` at the
    /// target; the group may then have no policies of its own.
    ///
    /// Default: off.
    pub managed_scaling: Option<RawManagedScaling>,
    /// Instances running a non-daemon task are protected from scale-in (needs managed scaling).
    #[schemars(extend("default" = false))]
    pub managed_termination_protection: Option<bool>,
    /// An instance the group terminates is drained first.
    #[schemars(extend("default" = true))]
    pub managed_draining: Option<bool>,
}

/// A capacity provider's managed scaling, with the API's defaults.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawManagedScaling {
    /// The `CapacityProviderReservation` to keep, percent (1–100).
    #[schemars(extend("default" = 100))]
    pub target_capacity: Option<u32>,
    /// The fewest instances one scale-out adds.
    #[schemars(extend("default" = 1))]
    pub minimum_scaling_step_size: Option<u32>,
    /// The most instances one scale-out adds.
    #[schemars(extend("default" = 10000))]
    pub maximum_scaling_step_size: Option<u32>,
    /// A new instance counts in the group's metrics after this.
    #[schemars(extend("default" = "300s"))]
    pub instance_warmup_period: Option<RawDuration>,
}

/// One capacity provider of a service's capacity provider strategy.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawStrategyItem {
    /// A capacity provider of the scenario, or `FARGATE` / `FARGATE_SPOT`.
    pub capacity_provider: String,
    /// Tasks placed on this provider first (a base on one provider at most).
    #[schemars(extend("default" = 0))]
    pub base: Option<u32>,
    /// The share of the tasks beyond the bases, relative to the other providers' weights (not all 0).
    #[schemars(extend("default" = 0))]
    pub weight: Option<u32>,
}

/// A container image.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawImage {
    /// Compressed size, MB: an uncached pull takes 0.2 s + size / (50–100 MB/s) + size / 100 MB/s; a
    /// pull on an instance that has the image costs only the 0.2 s manifest check.
    #[schemars(extend("default" = DEFAULT_IMAGE_SIZE_MB))]
    pub size_mb: Option<f64>,
    /// A distribution replacing the size model of the pull time.
    ///
    /// Default: from `size_mb`.
    pub pull_time: Option<RawDistribution>,
    /// Container create and start.
    #[schemars(extend("default" = {"dist": "uniform", "min": "0.5s", "max": "2s"}))]
    pub start_time: Option<RawDistribution>,
    /// Where the image lives: private ECR (`"ecr"`, needs a role allowed to pull) or a public registry
    /// (`"public"`).
    ///
    /// Default: `"ecr"` for an image named `<account>.dkr.ecr.<region>.amazonaws.com/...`, else `"public"`.
    pub registry: Option<RawRegistry>,
}

#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum RawRegistry {
    Ecr,
    Public,
}

/// An IAM role, as far as the simulation needs it.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawRole {
    /// The role's name.
    ///
    /// Default: `ecsInstanceRole`, `ecsTaskExecutionRole` or `<task definition key>-task-role`.
    pub name: Option<String>,
    /// Whether its policies allow pulling from private ECR, as the managed policies do.
    #[schemars(extend("default" = true))]
    pub ecr_pull: Option<bool>,
}

/// Fargate's settings: launch latency, Spot interruptions and prices (us-east-1).
///
/// A Fargate service's task definition uses `awsvpc` and a task-level `cpu` and `memory` in one
/// of the documented combinations (256 with 512–2048 MiB, 512 with 1–4 GB, 1024 with 2–8 GB,
/// 2048 with 4–16 GB, 4096 with 8–30 GB, 8192 with 16–60 GB in 4 GB steps, 16384 with 32–120 GB
/// in 8 GB steps); the service takes no placement strategy or constraint and no instance role.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawFargate {
    /// Capacity and the ENI, before the image pull (then the full pull: Fargate caches nothing).
    #[schemars(extend("default" = {"dist": "uniform", "min": "15s", "max": "30s"}))]
    pub provisioning_time: Option<RawDistribution>,
    /// FARGATE_SPOT interruptions per task-hour.
    ///
    /// Default: 0.05 / 730.
    pub spot_interruption_rate: Option<f64>,
    /// x86 price per vCPU-hour, USD.
    #[schemars(extend("default" = 0.04048))]
    pub vcpu_hour: Option<f64>,
    /// x86 price per GB-hour of memory, USD.
    #[schemars(extend("default" = 0.004445))]
    pub gb_hour: Option<f64>,
    /// Graviton (ARM64) price per vCPU-hour, USD.
    #[schemars(extend("default" = 0.03238))]
    pub arm_vcpu_hour: Option<f64>,
    /// Graviton (ARM64) price per GB-hour of memory, USD.
    #[schemars(extend("default" = 0.00356))]
    pub arm_gb_hour: Option<f64>,
    /// FARGATE_SPOT's discount off the Fargate price.
    #[schemars(extend("default" = 0.7))]
    pub spot_discount: Option<f64>,
}

/// An Elastic Beanstalk multi-container environment (the ECS platform, Dockerrun v2). It gets its
/// own Auto Scaling group (named after it) whose instances run only its task, one per instance, and
/// two alarms (`awseb-<env>-AWSEBScaleUpPolicyAlarm`, `...ScaleDownPolicyAlarm`) on the group's CPU
/// that add or remove instances.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawBeanstalk {
    /// The task definition made from the environment's Dockerrun.aws.json (its
    /// `containerDefinitions`): bridge networking, every container with `memory` or
    /// `memory_reservation`.
    pub task_definition: String,
    /// The environment's instance type.
    pub instance_type: String,
    /// The group's minimum size.
    #[schemars(extend("default" = 1))]
    pub min_size: Option<u32>,
    /// The group's maximum size.
    #[schemars(extend("default" = 4))]
    pub max_size: Option<u32>,
    /// Instances at the start.
    ///
    /// Default: `min_size`.
    pub desired_capacity: Option<u32>,
    /// The group's Availability Zones.
    ///
    /// Default: all the cluster's.
    pub availability_zones: Option<Vec<String>>,
    /// The instance profile's role.
    ///
    /// Default: `ecsInstanceRole`, allowed to pull from ECR.
    pub instance_role: Option<RawRole>,
    /// EC2 metrics every 5 minutes (`"basic"`) or every minute (`"detailed"`).
    #[schemars(extend("default" = "basic"))]
    pub instance_monitoring: Option<RawMonitoring>,
    /// The group's cooldown after a scaling activity.
    #[schemars(extend("default" = duration_text(crate::model::beanstalk::DEFAULT_COOLDOWN)))]
    pub cooldown: Option<RawDuration>,
    /// Register the environment's tasks with a target group, as for services.
    pub load_balancer: Option<RawLoadBalancer>,
    /// The `aws:autoscaling:trigger` namespace: the alarms that scale the environment.
    pub trigger: RawBeanstalkTrigger,
}

/// The `aws:autoscaling:trigger` option namespace of an Elastic Beanstalk environment.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawBeanstalkTrigger {
    /// The metric, e.g. `CPUUtilization`.
    pub measure_name: String,
    /// The statistic of the metric.
    #[schemars(extend("default" = "Average"))]
    pub statistic: Option<RawStatistic>,
    /// The period of the metric's datapoints.
    #[schemars(extend("default" = duration_text(crate::model::beanstalk::DEFAULT_PERIOD)))]
    pub period: Option<RawDuration>,
    /// Consecutive periods the breach must last.
    #[schemars(extend("default" = 1))]
    pub evaluation_periods: Option<u32>,
    /// How long the metric must breach a threshold before the trigger fires.
    #[schemars(extend("default" = duration_text(crate::model::beanstalk::DEFAULT_BREACH_DURATION)))]
    pub breach_duration: Option<RawDuration>,
    /// Above it, the environment scales out.
    pub upper_threshold: f64,
    /// Instances added on an upper breach.
    #[schemars(extend("default" = 1))]
    pub upper_breach_scale_increment: Option<i64>,
    /// Below it, the environment scales in.
    pub lower_threshold: f64,
    /// Instances added (negative: removed) on a lower breach.
    #[schemars(extend("default" = -1))]
    pub lower_breach_scale_increment: Option<i64>,
}

#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum RawNetworkMode {
    Bridge,
    Host,
    Awsvpc,
}

/// An ECS task definition: its containers and task-level settings. A task reserves the task-level
/// `cpu` and `memory` when set, otherwise the sum over its containers (`memory_reservation`, or
/// `memory` where no reservation is given).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawTaskDefinition {
    /// A JSON file to read the task definition from, relative to the scenario: the input of
    /// `aws ecs register-task-definition`, the output of `aws ecs describe-task-definition`, or
    /// an Elastic Beanstalk `Dockerrun.aws.json` (version 2). Next to it only the ecsim
    /// extensions are allowed: `app`, `shutdown_time`, `calls_aws_apis`, and `ecr_pull` of the
    /// roles the file names.
    pub from: Option<String>,
    /// The task definition's family.
    ///
    /// Default: the table's key.
    pub family: Option<String>,
    /// The revision; `update_service` to another revision of the family is a new deployment.
    #[schemars(extend("default" = 1))]
    pub revision: Option<u32>,
    /// `"bridge"`, `"host"` or `"awsvpc"` (each task gets an ENI; required on Fargate).
    #[schemars(extend("default" = "bridge"))]
    pub network_mode: Option<RawNetworkMode>,
    /// Task-level CPU units, 128–10240 (1024 per vCPU).
    pub cpu: Option<u32>,
    /// Task-level memory, MiB. Without it, each container needs `memory` or `memory_reservation`.
    pub memory: Option<u32>,
    /// Time from SIGTERM to SIGKILL when a task stops.
    #[schemars(extend("default" = duration_text(crate::model::task_definition::DEFAULT_STOP_TIMEOUT)))]
    pub stop_timeout: Option<RawDuration>,
    /// How long the containers take to exit after SIGTERM (capped by `stop_timeout`); an ecsim extension.
    #[schemars(extend("default" = "1s"))]
    pub shutdown_time: Option<RawDistribution>,
    /// How the application in the task serves requests (an ecsim extension).
    ///
    /// Default: no concurrency or queue limit, ready 2–8 s after RUNNING.
    pub app: Option<RawApp>,
    /// The container definitions.
    #[serde(default)]
    pub containers: Vec<RawContainer>,
    /// The task execution role: pulls images on Fargate, and on EC2 instead of the instance role, e.g.
    /// `{ name = "ecsTaskExecutionRole", ecr_pull = true }`.
    pub execution_role: Option<RawRole>,
    /// The task role: the application's AWS credentials, e.g. `{ name = "orders-task-role" }`.
    pub task_role: Option<RawRole>,
    /// The application calls AWS APIs (an ecsim extension): without a task role every request it
    /// serves fails with a 500.
    #[schemars(extend("default" = false))]
    pub calls_aws_apis: Option<bool>,
    /// The CPU architecture the task runs on, e.g. `{ cpu_architecture = "ARM64" }` for Graviton prices on Fargate.
    pub runtime_platform: Option<RawRuntimePlatform>,
    /// Launch types the task definition is validated against: with `"FARGATE"` it must use `awsvpc`
    /// and a valid task-level `cpu` and `memory`, and a service on another launch type is refused.
    pub requires_compatibilities: Option<Vec<RawCompatibility>>,
}

/// A launch type a task definition is validated against (`requiresCompatibilities`).
#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq, JsonSchema)]
pub enum RawCompatibility {
    #[serde(rename = "EC2")]
    Ec2,
    #[serde(rename = "FARGATE")]
    Fargate,
}

/// A task definition's runtime platform.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawRuntimePlatform {
    /// `"X86_64"` or `"ARM64"`.
    #[schemars(extend("default" = "X86_64"))]
    pub cpu_architecture: Option<RawCpuArchitecture>,
}

#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq, JsonSchema)]
pub enum RawCpuArchitecture {
    #[serde(rename = "X86_64")]
    X86_64,
    #[serde(rename = "ARM64")]
    Arm64,
}

/// How the application inside the task serves requests (an ecsim extension of the task definition).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawApp {
    /// Requests served at once; the rest wait in a FIFO queue.
    ///
    /// Default: no limit.
    pub max_concurrency: Option<u32>,
    /// Waiting requests before the app answers 503.
    ///
    /// Default: no limit.
    pub queue_limit: Option<u32>,
    /// From RUNNING until the app answers requests and health checks.
    #[schemars(extend("default" = {"dist": "uniform", "min": "2s", "max": "8s"}))]
    pub ready_time: Option<RawDistribution>,
    /// MiB in use when idle.
    ///
    /// Default: half the task's reserved memory.
    pub memory_baseline: Option<u32>,
    /// The most vCPU one request uses at a time.
    #[schemars(extend("default" = 1.0))]
    pub request_cpu_cap: Option<f64>,
    /// false: the app fails its health checks.
    #[schemars(extend("default" = true))]
    pub healthy: Option<bool>,
}

/// A container definition.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawContainer {
    /// The container's name, unique in the task definition.
    pub name: String,
    /// The image, e.g. `"nginx:1.27"` or `"123456789012.dkr.ecr.us-east-1.amazonaws.com/web:1"`.
    pub image: String,
    /// CPU units reserved for the container (1024 per vCPU).
    #[serde(default)]
    pub cpu: u32,
    /// Hard memory limit, MiB; must exceed `memory_reservation`.
    pub memory: Option<u32>,
    /// Soft memory limit, MiB; reserved instead of `memory` when set.
    pub memory_reservation: Option<u32>,
    /// When an essential container stops, the task stops.
    #[schemars(extend("default" = true))]
    pub essential: Option<bool>,
    /// Port mappings, e.g. `[{ container_port = 80, host_port = 0 }]`. Under `host` and `awsvpc` a
    /// `host_port` must equal `container_port`; a host port may appear once in a task definition.
    #[serde(default)]
    pub port_mappings: Vec<RawPortMapping>,
}

/// A container port mapping.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawPortMapping {
    /// The port the application listens on.
    pub container_port: u16,
    /// The instance port; 0 or absent is a dynamic port under bridge networking.
    ///
    /// Default: dynamic under `bridge`, `container_port` under `host` and `awsvpc`.
    pub host_port: Option<u16>,
    /// `"tcp"` or `"udp"`.
    #[schemars(extend("default" = "tcp"))]
    pub protocol: Option<RawProtocol>,
}

#[derive(Clone, Copy, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum RawProtocol {
    Tcp,
    Udp,
}

#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq, JsonSchema)]
pub enum RawSchedulingStrategy {
    #[serde(rename = "REPLICA")]
    Replica,
    #[serde(rename = "DAEMON")]
    Daemon,
}

/// An ECS service: runs and maintains `desired_count` tasks of a task definition.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawService {
    /// A JSON file to read the service from, relative to the scenario: the output of
    /// `aws ecs describe-services`. Next to it only `task_definition` (which task definition of
    /// the scenario the service runs, when its family does not say), `blue_green` and
    /// `auto_scaling` are allowed.
    pub from: Option<String>,
    /// The task definition key the service runs. Required unless `from` gives it.
    pub task_definition: Option<String>,
    /// Tasks to run. Required for a REPLICA service; a DAEMON service takes none.
    pub desired_count: Option<u32>,
    /// `"REPLICA"` or `"DAEMON"`: one task on every ACTIVE instance that meets the constraints.
    #[schemars(extend("default" = "REPLICA"))]
    pub scheduling_strategy: Option<RawSchedulingStrategy>,
    /// Up to 4 task placement strategies, applied in order.
    ///
    /// Default: spread over `attribute:ecs.availability-zone`, then over `instanceId`.
    pub placement_strategy: Option<Vec<RawPlacementStrategy>>,
    /// Up to 10 task placement constraints.
    #[serde(default)]
    pub placement_constraints: Vec<RawPlacementConstraint>,
    /// Rolling update bounds and the deployment circuit breaker.
    ///
    /// Default: 100 / 200 percent (DAEMON 0 / 100).
    pub deployment_configuration: Option<RawDeploymentConfiguration>,
    /// Register the tasks' port with a target group (one service per target group).
    pub load_balancer: Option<RawLoadBalancer>,
    /// After RUNNING, failing load balancer health checks are ignored this long.
    #[schemars(extend("default" = "0s"))]
    pub health_check_grace_period: Option<RawDuration>,
    /// Service Auto Scaling: the scalable target and its policies.
    pub auto_scaling: Option<RawAutoScaling>,
    /// `"ECS"` (rolling updates) or `"CODE_DEPLOY"` (blue/green, needs `blue_green`).
    ///
    /// Default: `"CODE_DEPLOY"` with `blue_green`, else `"ECS"`.
    pub deployment_controller: Option<RawDeploymentController>,
    /// CodeDeploy blue/green settings.
    pub blue_green: Option<RawBlueGreen>,
    /// Up to 6 capacity providers the tasks are spread over: a base on one at most, not all weights 0;
    /// Fargate and Auto Scaling group providers do not mix. Not with `launch_type`.
    pub capacity_provider_strategy: Option<Vec<RawStrategyItem>>,
    /// `"EC2"` or `"FARGATE"`: every task on Fargate. Not with `capacity_provider_strategy`.
    #[schemars(extend("default" = "EC2"))]
    pub launch_type: Option<RawLaunchType>,
    /// Not a service setting: accepted only to say where roles belong. The schema leaves it out,
    /// so an editor flags it as the parser does.
    #[schemars(skip)]
    pub instance_role: Option<toml::Value>,
}

#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum RawFidelity {
    Request,
    Fluid,
}

#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq, JsonSchema)]
pub enum RawLaunchType {
    #[serde(rename = "EC2")]
    Ec2,
    #[serde(rename = "FARGATE")]
    Fargate,
}

#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq, JsonSchema)]
pub enum RawDeploymentController {
    #[serde(rename = "ECS")]
    Ecs,
    #[serde(rename = "CODE_DEPLOY")]
    CodeDeploy,
}

/// CodeDeploy's blue/green settings for a service.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawBlueGreen {
    /// The target group the replacement (green) tasks register with.
    pub green_target_group: String,
    /// How traffic moves to green: a CodeDeploy configuration name (`ECSAllAtOnce`,
    /// `ECSLinear10PercentEvery1Minutes`, `ECSLinear10PercentEvery3Minutes`,
    /// `ECSCanary10Percent5Minutes`, `ECSCanary10Percent15Minutes`) or a custom
    /// `{ type = "TimeBasedCanary" | "TimeBasedLinear", percentage = 20, interval = "2m" }`.
    pub traffic_routing: RawTrafficRouting,
    /// How long the original (blue) tasks are kept after traffic has moved.
    #[schemars(extend("default" = duration_text(super::validate::DEFAULT_TERMINATION_WAIT)))]
    pub termination_wait: Option<RawDuration>,
}

/// A predefined configuration name, or a custom canary or linear one.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum RawTrafficRouting {
    Predefined(String),
    Custom(RawCustomRouting),
}

/// A custom CodeDeploy traffic routing configuration.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawCustomRouting {
    /// `"TimeBasedCanary"`, `"TimeBasedLinear"` or `"AllAtOnce"`.
    #[serde(rename = "type")]
    pub kind: RawRoutingType,
    /// Percent of traffic shifted in the first step (canary) or in each step (linear).
    pub percentage: Option<u32>,
    /// Time between the steps.
    pub interval: Option<RawDuration>,
}

#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq, JsonSchema)]
pub enum RawRoutingType {
    TimeBasedCanary,
    TimeBasedLinear,
    AllAtOnce,
}

/// CloudWatch settings.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawCloudWatch {
    /// How long after its minute ends a datapoint becomes visible to alarms.
    #[schemars(extend("default" = duration_text(super::validate::DEFAULT_PUBLISH_DELAY)))]
    pub publish_delay: Option<RawDuration>,
}

/// Application Auto Scaling for a service: the scalable target (`min_capacity`, `max_capacity`) and
/// its policies. Policies follow `CPUUtilization`, `MemoryUtilization` (ECS, averaged over the
/// tasks), `RequestCount`, `RequestCountPerTarget` (the ALB; per healthy target) or the custom
/// `InFlightRequestsPerTask`. The simulated clock starts on Monday 1 January 2024 at 00:00 UTC for
/// cron expressions.
///
/// ```toml
/// [services.web.auto_scaling]
/// min_capacity = 2                 # the scalable target's bounds on desired_count
/// max_capacity = 20
///
/// [[services.web.auto_scaling.target_tracking]]
/// name = "cpu50"
/// predefined_metric = "ECSServiceAverageCPUUtilization"   # or ...MemoryUtilization, ALBRequestCountPerTarget
/// # custom_metric = { metric = "InFlightRequestsPerTask", statistic = "Average" }
/// target_value = 50
/// scale_out_cooldown = "300s"      # defaults 300 s for ECS services
/// scale_in_cooldown = "300s"
/// disable_scale_in = false
///
/// [[services.web.auto_scaling.step_scaling]]
/// name = "steps"
/// adjustment_type = "ChangeInCapacity"     # or PercentChangeInCapacity (with min_adjustment_magnitude), ExactCapacity
/// cooldown = "300s"
/// alarm = { metric = "CPUUtilization", statistic = "Average", period = "1m", evaluation_periods = 3,
///           datapoints_to_alarm = 3, threshold = 60, comparison = "GreaterThanOrEqualToThreshold",
///           treat_missing_data = "missing" }   # notBreaching | breaching | ignore
/// steps = [{ lower = 0, upper = 20, adjustment = 1 }, { lower = 20, adjustment = 3 }]   # relative to the threshold
///
/// [[services.web.auto_scaling.scheduled]]
/// name = "morning"
/// cron = "cron(30 7 ? * MON-FRI *)"   # or at = "7h30m", or rate = "1h"
/// min_capacity = 8                    # and/or max_capacity
/// ```
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawAutoScaling {
    /// JSON files to read the scalable target and its policies from, relative to the scenario:
    /// the outputs of `aws application-autoscaling describe-scalable-targets` and
    /// `describe-scaling-policies`, and of `aws cloudwatch describe-alarms` for the alarms of
    /// step scaling policies. With it, no other key is allowed.
    pub from: Option<Vec<String>>,
    /// The scalable target's lower bound on `desired_count`. Required unless `from`.
    pub min_capacity: Option<u32>,
    /// The scalable target's upper bound on `desired_count`. Required unless `from`.
    pub max_capacity: Option<u32>,
    /// Target tracking scaling policies.
    #[serde(default)]
    pub target_tracking: Vec<RawTargetTracking>,
    /// Step scaling policies, each with its CloudWatch alarm.
    #[serde(default)]
    pub step_scaling: Vec<RawStepScaling>,
    /// Scheduled actions that change `min_capacity` and `max_capacity`.
    #[serde(default)]
    pub scheduled: Vec<RawScheduled>,
}

/// A target tracking scaling policy: keeps a metric at a target value. Give exactly one of `predefined_metric` or `custom_metric`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawTargetTracking {
    /// The policy's name.
    ///
    /// Default: `target-tracking-<n>`.
    pub name: Option<String>,
    /// A predefined metric: `ECSServiceAverageCPUUtilization`, `ECSServiceAverageMemoryUtilization` or
    /// `ALBRequestCountPerTarget` for a service; `ASGAverageCPUUtilization` for an Auto Scaling
    /// group.
    pub predefined_metric: Option<String>,
    /// A customized metric specification, e.g. `{ metric = "InFlightRequestsPerTask", statistic = "Average" }`.
    pub custom_metric: Option<RawCustomMetric>,
    /// The value to keep the metric at (positive).
    pub target_value: f64,
    /// After a scale-out, further scale-outs wait this long (services only).
    #[schemars(extend("default" = duration_text(crate::model::autoscaling::DEFAULT_COOLDOWN)))]
    pub scale_out_cooldown: Option<RawDuration>,
    /// After a scaling activity, scale-ins wait this long (services only).
    #[schemars(extend("default" = duration_text(crate::model::autoscaling::DEFAULT_COOLDOWN)))]
    pub scale_in_cooldown: Option<RawDuration>,
    /// true: the policy only scales out.
    #[schemars(extend("default" = false))]
    pub disable_scale_in: Option<bool>,
}

/// A metric for a target tracking policy.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawCustomMetric {
    /// The metric: for a service `CPUUtilization`, `MemoryUtilization`, `RequestCount`,
    /// `RequestCountPerTarget` or `InFlightRequestsPerTask`; for a group `CPUUtilization`,
    /// `CPUReservation` or `MemoryReservation`.
    pub metric: String,
    /// The statistic of the metric.
    #[schemars(extend("default" = "Average"))]
    pub statistic: Option<RawStatistic>,
}

#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq, JsonSchema)]
pub enum RawStatistic {
    Average,
    Sum,
    Minimum,
    Maximum,
    SampleCount,
}

#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq, JsonSchema)]
pub enum RawComparison {
    GreaterThanOrEqualToThreshold,
    GreaterThanThreshold,
    LessThanThreshold,
    LessThanOrEqualToThreshold,
}

#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum RawMissingData {
    Missing,
    NotBreaching,
    Breaching,
    Ignore,
}

#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq, JsonSchema)]
pub enum RawAdjustmentType {
    ChangeInCapacity,
    PercentChangeInCapacity,
    ExactCapacity,
}

/// A step scaling policy: a CloudWatch alarm and the adjustments it makes by how far the metric is past the threshold.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawStepScaling {
    /// The policy's name.
    ///
    /// Default: `step-scaling-<n>`.
    pub name: Option<String>,
    /// The CloudWatch alarm that triggers the policy.
    pub alarm: RawAlarm,
    /// `"ChangeInCapacity"`, `"PercentChangeInCapacity"` (with `min_adjustment_magnitude`) or
    /// `"ExactCapacity"`.
    pub adjustment_type: RawAdjustmentType,
    /// Step adjustments, bounds relative to the threshold, e.g.
    /// `[{ lower = 0, upper = 20, adjustment = 1 }, { lower = 20, adjustment = 3 }]`.
    pub steps: Vec<RawStep>,
    /// For `PercentChangeInCapacity`: the least change in capacity.
    pub min_adjustment_magnitude: Option<u32>,
    /// After a scaling activity, the policy waits this long.
    #[schemars(extend("default" = duration_text(crate::model::autoscaling::DEFAULT_COOLDOWN)))]
    pub cooldown: Option<RawDuration>,
    /// The statistic the alarm's metric is aggregated with.
    #[schemars(extend("default" = "Average"))]
    pub metric_aggregation_type: Option<RawStatistic>,
}

/// A CloudWatch alarm on one of the service's (or group's) metrics.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawAlarm {
    /// The alarm's name.
    ///
    /// Default: `<service or group>-<policy name>`.
    pub name: Option<String>,
    /// The metric, as for `custom_metric`: e.g. `CPUUtilization`.
    pub metric: String,
    /// The statistic of the metric.
    #[schemars(extend("default" = "Average"))]
    pub statistic: Option<RawStatistic>,
    /// The length of a datapoint: a whole number of minutes.
    #[schemars(extend("default" = "1m"))]
    pub period: Option<RawDuration>,
    /// The datapoints the alarm looks at.
    #[schemars(extend("default" = 1))]
    pub evaluation_periods: Option<u32>,
    /// Of those, how many must breach (1 ≤ `datapoints_to_alarm` ≤ `evaluation_periods`).
    ///
    /// Default: `evaluation_periods`.
    pub datapoints_to_alarm: Option<u32>,
    /// The value the metric is compared with.
    pub threshold: f64,
    /// How the metric is compared with the threshold.
    pub comparison: RawComparison,
    /// How a period without a datapoint counts.
    #[schemars(extend("default" = "missing"))]
    pub treat_missing_data: Option<RawMissingData>,
}

/// A step adjustment: bounds relative to the alarm threshold, lower inclusive, upper exclusive.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawStep {
    /// The lower bound of the metric minus the threshold.
    ///
    /// Default: minus infinity.
    pub lower: Option<f64>,
    /// The upper bound of the metric minus the threshold.
    ///
    /// Default: infinity.
    pub upper: Option<f64>,
    /// The scaling adjustment: tasks (or instances, or percent) added; negative removes.
    pub adjustment: i64,
}

/// A scheduled action: give exactly one of `at`, `rate` or `cron`, and what it sets.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawScheduled {
    /// The action's name.
    ///
    /// Default: `scheduled-<n>`.
    pub name: Option<String>,
    /// Once, at this time into the run, e.g. `"7h30m"`.
    pub at: Option<RawDuration>,
    /// Every so often, at least `"1m"`, e.g. `"1h"`.
    pub rate: Option<RawDuration>,
    /// A cron expression, e.g. `"cron(30 7 ? * MON-FRI *)"`; the run starts on Monday 1 January 2024 at 00:00 UTC.
    pub cron: Option<String>,
    /// The new minimum capacity.
    pub min_capacity: Option<u32>,
    /// The new maximum capacity.
    pub max_capacity: Option<u32>,
    /// For an Auto Scaling group only: the new desired capacity.
    pub desired_capacity: Option<u32>,
}

/// Where a service's tasks register with the load balancer.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawLoadBalancer {
    /// A target group of the scenario.
    pub target_group: String,
    /// The container whose port registers.
    pub container_name: String,
    /// The container port that registers (the host port it maps to is the target's port).
    pub container_port: u16,
}

/// An Application Load Balancer target group.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawTargetGroup {
    /// The target group's health checks.
    ///
    /// Default: interval 30 s, timeout 5 s, healthy threshold 5, unhealthy threshold 2.
    pub health_check: Option<RawHealthCheck>,
    /// Draining time, 0–3600 s, before a deregistered target's task is signalled to stop.
    #[schemars(extend("default" = duration_text(crate::model::alb::DEFAULT_DEREGISTRATION_DELAY)))]
    pub deregistration_delay: Option<RawDuration>,
    /// The load balancing algorithm.
    #[schemars(extend("default" = "round_robin"))]
    pub algorithm: Option<RawAlgorithm>,
}

/// A target group's health check settings (ranges as AWS allows).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawHealthCheck {
    /// Time between health checks of a target.
    #[schemars(extend("default" = "30s"))]
    pub interval: Option<RawDuration>,
    /// No answer within it fails the check.
    #[schemars(extend("default" = "5s"))]
    pub timeout: Option<RawDuration>,
    /// Consecutive passes that make a target healthy.
    #[schemars(extend("default" = 5))]
    pub healthy_threshold: Option<u32>,
    /// Consecutive failures that make a target unhealthy.
    #[schemars(extend("default" = 2))]
    pub unhealthy_threshold: Option<u32>,
}

#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RawAlgorithm {
    RoundRobin,
    LeastOutstandingRequests,
    Random,
}

/// Requests arriving at a target group through the load balancer.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawWorkload {
    /// Where the requests go; a service must be attached to it.
    pub target_group: String,
    /// When requests arrive: a process at a rate given by a pattern.
    pub arrivals: RawArrivals,
    /// The CPU time one request costs on one vCPU.
    pub service_time: RawDistribution,
    /// MiB a request holds while in flight.
    #[schemars(extend("default" = 0.0))]
    pub memory_per_request: Option<f64>,
    /// The ALB idle timeout: a response later than this is a 504.
    #[schemars(extend("default" = duration_text(crate::model::alb::DEFAULT_IDLE_TIMEOUT)))]
    pub timeout: Option<RawDuration>,
    /// Traffic starts then (arrivals before it are drawn and dropped).
    #[schemars(extend("default" = "0s"))]
    pub start: Option<RawDuration>,
}

#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum RawProcess {
    Constant,
    Poisson,
}

#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum RawPattern {
    Constant,
    Diurnal,
    Step,
    Spike,
    Piecewise,
    Trace,
    Cloudwatch,
}

/// What a gap in a CloudWatch export means: no requests, the last value again, or the straight
/// line between the datapoints on either side.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RawMissingDatapoints {
    Zero,
    HoldLast,
    Interpolate,
}

/// An arrival process: `process` at a rate in requests per second given by `pattern` and the keys
/// that pattern takes (any other key is refused):
///
/// - `constant`: `rate`.
/// - `diurnal`: `mean`, `amplitude`, `period`, `phase`; rate = mean + amplitude·sin(2π(t − phase)/period), clipped at 0.
/// - `step`: `initial` and `changes`.
/// - `spike`: `base`, `at`, `height`, `length`.
/// - `piecewise`: `points`, linear between them.
/// - `trace`: `file`, `scale`, `loop`, `period`.
/// - `cloudwatch`: `file`, `scale`, `loop`, `period`, `shift`, `missing_datapoints`, `metric_period`, `series`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(transform = arrival_rules)]
pub struct RawArrivals {
    /// `"poisson"` or `"constant"` (evenly spaced, constant pattern only).
    #[schemars(extend("default" = "poisson"))]
    pub process: Option<RawProcess>,
    /// How the rate varies.
    #[schemars(extend("default" = "constant"))]
    pub pattern: Option<RawPattern>,
    /// `constant`: requests per second.
    pub rate: Option<f64>,
    /// `diurnal`: the mean rate, requests per second.
    pub mean: Option<f64>,
    /// `diurnal`: how far the rate swings above and below the mean, requests per second.
    pub amplitude: Option<f64>,
    /// `diurnal`: the length of a cycle (default `"24h"`); `trace`, `cloudwatch`: replay the data
    /// every `period` (implies `loop`).
    pub period: Option<RawDuration>,
    /// `diurnal`: when the rate crosses the mean going up.
    #[schemars(extend("default" = "0s"))]
    pub phase: Option<RawDuration>,
    /// `step`: the rate until the first change, requests per second.
    pub initial: Option<f64>,
    /// `step`: the new rates and when they start, e.g. `[{ at = "10m", rate = 150 }]`.
    pub changes: Option<Vec<RawRatePoint>>,
    /// `spike`: the rate outside the spike, requests per second.
    pub base: Option<f64>,
    /// `spike`: when the spike starts.
    pub at: Option<RawDuration>,
    /// `spike`: the rate added during the spike, requests per second.
    pub height: Option<f64>,
    /// `spike`: how long the spike lasts.
    pub length: Option<RawDuration>,
    /// `piecewise`: the rate at given times, linear between them, e.g. `[{ at = "0m", rate = 10 }, { at = "60m", rate = 100 }]`.
    pub points: Option<Vec<RawRatePoint>>,
    /// `trace`: a CSV relative to the scenario with a header `time_s,rate` (the rate held until the
    /// next row) or `time_s` alone (request timestamps replayed); a malformed trace is bad input
    /// naming its line and column. `cloudwatch`: the JSON of `aws cloudwatch get-metric-data` or
    /// `get-metric-statistics` for an ALB's `RequestCount`.
    pub file: Option<String>,
    /// `trace`, `cloudwatch`: multiplies the rate; with timestamps, 2 sends each twice and 0.5 keeps each with probability ½.
    #[schemars(extend("default" = 1.0))]
    pub scale: Option<f64>,
    /// `trace`, `cloudwatch`: replay the data again when it ends.
    #[schemars(extend("default" = false))]
    #[serde(rename = "loop")]
    pub looped: Option<bool>,
    /// `cloudwatch`: moves the export in time, a duration with an optional sign: `"-2h"` starts two hours in.
    #[schemars(extend("default" = "0s"))]
    pub shift: Option<String>,
    /// `cloudwatch`: what a period without a datapoint means: `"zero"` (CloudWatch publishes no
    /// `RequestCount` for a period without requests), `"hold_last"` or `"interpolate"`.
    #[schemars(extend("default" = "zero"))]
    pub missing_datapoints: Option<RawMissingDatapoints>,
    /// `cloudwatch`: the export's period.
    ///
    /// Default: the largest spacing that divides every gap between datapoints.
    pub metric_period: Option<RawDuration>,
    /// `cloudwatch`: which result of a get-metric-data output with several (its `Id`).
    ///
    /// Default: the only one.
    pub series: Option<String>,
}

/// A rate from a given time on.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawRatePoint {
    /// When, from the start of the run.
    pub at: RawDuration,
    /// Requests per second.
    pub rate: f64,
}

/// The latency objective: a minute meets it when the given percentile of its response times is at
/// or below the threshold.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawSlo {
    /// The percentile, above 0 and at most 100, e.g. 99.
    pub latency_percentile: f64,
    /// The response time it must not exceed, e.g. `"250ms"`.
    pub latency_threshold: RawDuration,
}

#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum RawStrategyType {
    Binpack,
    Spread,
    Random,
}

/// A task placement strategy.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawPlacementStrategy {
    /// `"binpack"`, `"spread"` or `"random"`.
    #[serde(rename = "type")]
    pub kind: RawStrategyType,
    /// For `binpack`: `"cpu"` or `"memory"`; for `spread`: `"instanceId"`, `"host"` or
    /// `"attribute:<name>"` (e.g. `attribute:ecs.availability-zone`).
    pub field: Option<String>,
}

#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq, JsonSchema)]
pub enum RawConstraintType {
    #[serde(rename = "distinctInstance")]
    DistinctInstance,
    #[serde(rename = "memberOf")]
    MemberOf,
}

/// A task placement constraint.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawPlacementConstraint {
    /// `"distinctInstance"` or `"memberOf"`.
    #[serde(rename = "type")]
    pub kind: RawConstraintType,
    /// For `memberOf`: a cluster query language expression, e.g. `"attribute:ecs.instance-type =~ m5.*"`.
    pub expression: Option<String>,
}

/// A service's deployment configuration.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawDeploymentConfiguration {
    /// During a deployment, the running healthy tasks kept, percent of `desired_count` (rounded up).
    ///
    /// Default: 100 (DAEMON 0).
    pub minimum_healthy_percent: Option<u32>,
    /// During a deployment, the most tasks running or pending, percent of `desired_count` (rounded
    /// down).
    ///
    /// Default: 200 (DAEMON 100).
    pub maximum_percent: Option<u32>,
    /// Stop (and optionally roll back) a deployment whose tasks keep failing to start.
    pub deployment_circuit_breaker: Option<RawCircuitBreaker>,
}

/// The deployment circuit breaker: the failure threshold is max(`minimum_threshold`,
/// ceil(desired / 2)), at most 200.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawCircuitBreaker {
    /// Whether the circuit breaker watches deployments.
    pub enable: bool,
    /// Roll back to the last completed deployment when it trips.
    #[serde(default)]
    pub rollback: bool,
    /// The least failed tasks that trip the breaker (the current API's minimum is 3, the June 2023
    /// documentation's 10).
    #[schemars(extend("default" = crate::model::deployment::DEFAULT_MINIMUM_THRESHOLD))]
    pub minimum_threshold: Option<u32>,
}

/// A scripted action: `at` plus exactly one of the action tables.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawAction {
    /// When, from the start of the run.
    pub at: RawDuration,
    /// UpdateService's desired count, e.g. `{ service = "web", desired_count = 8 }`.
    pub set_desired_count: Option<RawSetDesiredCount>,
    /// StopTask on tasks of a service chosen at random, e.g. `{ service = "web", count = 2 }`.
    pub stop_tasks: Option<RawStopTasks>,
    /// Set a container instance to DRAINING, e.g. `{ instance = "general-1" }`.
    pub drain_instance: Option<RawInstanceRef>,
    /// Set a container instance back to ACTIVE.
    pub activate_instance: Option<RawInstanceRef>,
    /// TerminateInstanceInAutoScalingGroup: the group replaces it unless `should_decrement_desired_capacity`.
    pub terminate_instance: Option<RawTerminateInstance>,
    /// UpdateService with another task definition, e.g. the next revision (give it `family` and
    /// `revision`): a new deployment.
    pub update_service: Option<RawUpdateService>,
    /// UpdateService with forceNewDeployment, e.g. `{ service = "web" }`.
    pub force_new_deployment: Option<RawServiceRef>,
    /// SetDesiredCapacity of an Auto Scaling group, e.g. `{ auto_scaling_group = "general", desired_capacity = 6 }`.
    pub set_desired_capacity: Option<RawSetDesiredCapacity>,
    /// The two-minute Spot interruption notice now, e.g. `{ instance = "spot-2" }`.
    pub interrupt_spot: Option<RawInstanceRef>,
    /// An Availability Zone fails for a while, e.g. `{ availability_zone = "us-east-1a", duration =
    /// "30m" }`: its instances and tasks are lost, and nothing launches there until it is back.
    pub az_outage: Option<RawAzOutage>,
}

/// SetDesiredCapacity of an Auto Scaling group.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawSetDesiredCapacity {
    /// The group's name.
    pub auto_scaling_group: String,
    /// The new desired capacity.
    pub desired_capacity: u32,
}

/// An Availability Zone outage.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawAzOutage {
    /// One of the cluster's zones.
    pub availability_zone: String,
    /// How long the zone is out (more than 0).
    pub duration: RawDuration,
}

/// UpdateService with another task definition.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawUpdateService {
    /// The service's name.
    pub service: String,
    /// The task definition key to deploy.
    pub task_definition: String,
}

/// A service.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawServiceRef {
    /// The service's name.
    pub service: String,
}

/// UpdateService's desired count.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawSetDesiredCount {
    /// The service's name.
    pub service: String,
    /// The new desired count.
    pub desired_count: u32,
}

/// StopTask on tasks of a service.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawStopTasks {
    /// The service's name.
    pub service: String,
    /// How many tasks, chosen at random.
    pub count: u32,
}

/// A container instance.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawInstanceRef {
    /// The instance's name, `<group>-<n>`, e.g. `"general-1"`.
    pub instance: String,
}

/// TerminateInstanceInAutoScalingGroup.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawTerminateInstance {
    /// The instance's name, `<group>-<n>`.
    pub instance: String,
    /// ShouldDecrementDesiredCapacity: true, the group launches no replacement.
    #[schemars(extend("default" = false))]
    pub should_decrement_desired_capacity: Option<bool>,
}
