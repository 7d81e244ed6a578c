//! The scenario file as written: serde types that mirror the TOML, with every key optional where
//! AWS has a default. Unknown keys are refused. `validate.rs` turns these into the checked
//! [`Scenario`](super::Scenario).

use indexmap::IndexMap;
use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};

use super::duration::parse_duration;
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

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DistributionKind {
    Fixed,
    Uniform,
    Exponential,
    Lognormal,
    Gamma,
    Normal,
}

#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDistributionTable {
    pub dist: DistributionKind,
    pub value: Option<RawDuration>,
    pub min: Option<RawDuration>,
    pub max: Option<RawDuration>,
    pub mean: Option<RawDuration>,
    pub p99: Option<RawDuration>,
    pub sd: Option<RawDuration>,
    /// Log-normal shape parameter (dimensionless).
    pub sigma: Option<f64>,
    /// Gamma shape parameter k (dimensionless).
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

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawScenario {
    pub version: Option<u32>,
    pub name: String,
    pub description: Option<String>,
    pub seed: Option<u64>,
    pub duration: RawDuration,
    #[serde(default)]
    pub instance_types: IndexMap<String, RawInstanceType>,
    pub cluster: RawCluster,
    #[serde(default)]
    pub images: IndexMap<String, RawImage>,
    #[serde(default)]
    pub task_definitions: IndexMap<String, RawTaskDefinition>,
    #[serde(default)]
    pub services: IndexMap<String, RawService>,
    #[serde(default)]
    pub capacity_providers: IndexMap<String, RawCapacityProvider>,
    #[serde(default)]
    pub target_groups: IndexMap<String, RawTargetGroup>,
    #[serde(default)]
    pub workloads: IndexMap<String, RawWorkload>,
    pub slo: Option<RawSlo>,
    pub cloudwatch: Option<RawCloudWatch>,
    pub fargate: Option<RawFargate>,
    /// `request` (every request an event, the default) or `fluid` (offered load per second).
    pub fidelity: Option<RawFidelity>,
    #[serde(default)]
    pub beanstalk: IndexMap<String, RawBeanstalk>,
    #[serde(default)]
    pub actions: Vec<RawAction>,
    #[serde(default)]
    pub expect: Vec<RawExpect>,
    pub solution: Option<RawSolution>,
}

/// An exercise's answer: the `--set` overrides that make its expectations hold.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSolution {
    pub set: Vec<String>,
}

/// An `[[expect]]` table: one of `metric`, `summary` or `event`, with what must hold.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawExpect {
    pub why: String,
    pub metric: Option<String>,
    pub summary: Option<String>,
    pub event: Option<String>,
    pub service: Option<String>,
    pub at: Option<RawDuration>,
    pub from: Option<RawDuration>,
    pub to: Option<RawDuration>,
    pub agg: Option<String>,
    pub op: Option<String>,
    pub value: Option<f64>,
    pub detail: Option<String>,
    pub count: Option<String>,
    pub first_at: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawInstanceType {
    pub vcpu: Option<u32>,
    pub memory_mib: Option<u32>,
    pub max_enis: Option<u32>,
    pub on_demand_price: Option<f64>,
    pub architecture: Option<RawArchitecture>,
    pub registered_memory_mib: Option<u32>,
    pub spot_price: Option<f64>,
    pub spot_interruption_rate: Option<f64>,
    /// Spot pools differ by zone: a rate per Availability Zone overrides the type's.
    #[serde(default)]
    pub spot_interruption_rate_by_zone: IndexMap<String, f64>,
}

#[derive(Clone, Copy, Debug, Deserialize)]
pub enum RawArchitecture {
    #[serde(rename = "x86_64")]
    X86_64,
    #[serde(rename = "arm64")]
    Arm64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCluster {
    pub name: Option<String>,
    pub availability_zones: Vec<String>,
    pub eni_attach_time: Option<RawDistribution>,
    pub security_group: Option<RawSecurityGroup>,
    #[serde(default)]
    pub auto_scaling_groups: Vec<RawAutoScalingGroup>,
}

/// The instances' (or awsvpc tasks') security group, as far as the load balancer cares: which
/// ports it admits from the ALB. Without this table every port is open to the ALB.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSecurityGroup {
    #[serde(default)]
    pub alb_ingress_ports: Vec<u16>,
    #[serde(default)]
    pub alb_ingress_ranges: Vec<[u16; 2]>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAutoScalingGroup {
    pub name: String,
    pub instance_type: Option<String>,
    pub desired_capacity: u32,
    pub min_size: Option<u32>,
    pub max_size: Option<u32>,
    pub mixed_instances_policy: Option<RawMixedInstancesPolicy>,
    pub termination_policies: Option<Vec<String>>,
    pub new_instances_protected_from_scale_in: Option<bool>,
    pub default_instance_warmup: Option<RawDuration>,
    pub capacity_rebalance: Option<bool>,
    pub spot_instance_draining: Option<bool>,
    pub instance_monitoring: Option<RawMonitoring>,
    pub scaling: Option<RawGroupScaling>,
    pub instance_role: Option<RawRole>,
    pub availability_zones: Option<Vec<String>>,
    #[serde(default)]
    pub attributes: IndexMap<String, String>,
    pub boot_time: Option<RawDistribution>,
    pub agent_registration_time: Option<RawDistribution>,
    #[serde(default)]
    pub boot_at_start: bool,
    pub reserved_memory: Option<u32>,
    pub dynamic_host_port_range: Option<[u16; 2]>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawMixedInstancesPolicy {
    pub instance_types: Vec<RawInstanceOverride>,
    pub on_demand_base_capacity: Option<u32>,
    pub on_demand_percentage_above_base: Option<u32>,
    pub spot_allocation_strategy: Option<RawSpotAllocation>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawInstanceOverride {
    pub instance_type: String,
    pub weight: Option<u32>,
}

#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum RawSpotAllocation {
    LowestPrice,
    CapacityOptimized,
    PriceCapacityOptimized,
}

#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum RawMonitoring {
    Basic,
    Detailed,
}

/// An Auto Scaling group's own scaling policies (the classic way, without a capacity provider).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawGroupScaling {
    #[serde(default)]
    pub target_tracking: Vec<RawTargetTracking>,
    #[serde(default)]
    pub step_scaling: Vec<RawStepScaling>,
    #[serde(default)]
    pub scheduled: Vec<RawScheduled>,
}

/// An ASG-backed capacity provider.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCapacityProvider {
    pub auto_scaling_group: String,
    pub managed_scaling: Option<RawManagedScaling>,
    pub managed_termination_protection: Option<bool>,
    pub managed_draining: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawManagedScaling {
    pub target_capacity: Option<u32>,
    pub minimum_scaling_step_size: Option<u32>,
    pub maximum_scaling_step_size: Option<u32>,
    pub instance_warmup_period: Option<RawDuration>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawStrategyItem {
    pub capacity_provider: String,
    pub base: Option<u32>,
    pub weight: Option<u32>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawImage {
    pub size_mb: Option<f64>,
    pub pull_time: Option<RawDistribution>,
    pub start_time: Option<RawDistribution>,
    /// Where the image lives; by default told from its URI.
    pub registry: Option<RawRegistry>,
}

#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum RawRegistry {
    Ecr,
    Public,
}

/// An IAM role, as far as the simulation needs it.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRole {
    pub name: Option<String>,
    /// Whether its policies allow pulling from private ECR (default true, as the managed
    /// policies do).
    pub ecr_pull: Option<bool>,
}

/// Fargate's settings: launch latency, Spot interruptions and prices.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFargate {
    pub provisioning_time: Option<RawDistribution>,
    pub spot_interruption_rate: Option<f64>,
    pub vcpu_hour: Option<f64>,
    pub gb_hour: Option<f64>,
    pub arm_vcpu_hour: Option<f64>,
    pub arm_gb_hour: Option<f64>,
    pub spot_discount: Option<f64>,
}

/// An Elastic Beanstalk multi-container environment (the ECS platform, Dockerrun v2).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawBeanstalk {
    /// The task definition made from the environment's Dockerrun.aws.json (its
    /// `containerDefinitions`).
    pub task_definition: String,
    pub instance_type: String,
    pub min_size: Option<u32>,
    pub max_size: Option<u32>,
    pub desired_capacity: Option<u32>,
    pub availability_zones: Option<Vec<String>>,
    pub instance_role: Option<RawRole>,
    pub instance_monitoring: Option<RawMonitoring>,
    pub cooldown: Option<RawDuration>,
    pub load_balancer: Option<RawLoadBalancer>,
    pub trigger: RawBeanstalkTrigger,
}

/// `aws:autoscaling:trigger`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawBeanstalkTrigger {
    pub measure_name: String,
    pub statistic: Option<RawStatistic>,
    pub period: Option<RawDuration>,
    pub evaluation_periods: Option<u32>,
    pub breach_duration: Option<RawDuration>,
    pub upper_threshold: f64,
    pub upper_breach_scale_increment: Option<i64>,
    pub lower_threshold: f64,
    pub lower_breach_scale_increment: Option<i64>,
}

#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum RawNetworkMode {
    Bridge,
    Host,
    Awsvpc,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTaskDefinition {
    /// A JSON file to read the task definition from, relative to the scenario: the input of
    /// `aws ecs register-task-definition`, the output of `aws ecs describe-task-definition`, or
    /// an Elastic Beanstalk `Dockerrun.aws.json` (version 2). Next to it only the ecsim
    /// extensions are allowed: `app`, `shutdown_time`, `calls_aws_apis`, and `ecr_pull` of the
    /// roles the file names.
    pub from: Option<String>,
    pub family: Option<String>,
    pub revision: Option<u32>,
    pub network_mode: Option<RawNetworkMode>,
    pub cpu: Option<u32>,
    pub memory: Option<u32>,
    pub stop_timeout: Option<RawDuration>,
    pub shutdown_time: Option<RawDistribution>,
    pub app: Option<RawApp>,
    #[serde(default)]
    pub containers: Vec<RawContainer>,
    pub execution_role: Option<RawRole>,
    pub task_role: Option<RawRole>,
    /// The application calls AWS APIs and needs a task role's credentials.
    pub calls_aws_apis: Option<bool>,
    pub runtime_platform: Option<RawRuntimePlatform>,
    pub requires_compatibilities: Option<Vec<RawCompatibility>>,
}

/// A launch type a task definition is validated against (`requiresCompatibilities`).
#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq)]
pub enum RawCompatibility {
    #[serde(rename = "EC2")]
    Ec2,
    #[serde(rename = "FARGATE")]
    Fargate,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRuntimePlatform {
    pub cpu_architecture: Option<RawCpuArchitecture>,
}

#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq)]
pub enum RawCpuArchitecture {
    #[serde(rename = "X86_64")]
    X86_64,
    #[serde(rename = "ARM64")]
    Arm64,
}

/// How the application inside the task serves requests (an ecsim extension of the task
/// definition).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawApp {
    pub max_concurrency: Option<u32>,
    pub queue_limit: Option<u32>,
    pub ready_time: Option<RawDistribution>,
    pub memory_baseline: Option<u32>,
    pub request_cpu_cap: Option<f64>,
    pub healthy: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawContainer {
    pub name: String,
    pub image: String,
    #[serde(default)]
    pub cpu: u32,
    pub memory: Option<u32>,
    pub memory_reservation: Option<u32>,
    pub essential: Option<bool>,
    #[serde(default)]
    pub port_mappings: Vec<RawPortMapping>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPortMapping {
    pub container_port: u16,
    pub host_port: Option<u16>,
    pub protocol: Option<RawProtocol>,
}

#[derive(Clone, Copy, Debug, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RawProtocol {
    Tcp,
    Udp,
}

#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq)]
pub enum RawSchedulingStrategy {
    #[serde(rename = "REPLICA")]
    Replica,
    #[serde(rename = "DAEMON")]
    Daemon,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawService {
    /// A JSON file to read the service from, relative to the scenario: the output of
    /// `aws ecs describe-services`. Next to it only `task_definition` (which task definition of
    /// the scenario the service runs, when its family does not say), `blue_green` and
    /// `auto_scaling` are allowed.
    pub from: Option<String>,
    pub task_definition: Option<String>,
    pub desired_count: Option<u32>,
    pub scheduling_strategy: Option<RawSchedulingStrategy>,
    pub placement_strategy: Option<Vec<RawPlacementStrategy>>,
    #[serde(default)]
    pub placement_constraints: Vec<RawPlacementConstraint>,
    pub deployment_configuration: Option<RawDeploymentConfiguration>,
    pub load_balancer: Option<RawLoadBalancer>,
    pub health_check_grace_period: Option<RawDuration>,
    pub auto_scaling: Option<RawAutoScaling>,
    pub deployment_controller: Option<RawDeploymentController>,
    pub blue_green: Option<RawBlueGreen>,
    pub capacity_provider_strategy: Option<Vec<RawStrategyItem>>,
    pub launch_type: Option<RawLaunchType>,
    /// Not a service setting: accepted only to say where roles belong.
    pub instance_role: Option<toml::Value>,
}

#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum RawFidelity {
    Request,
    Fluid,
}

#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq)]
pub enum RawLaunchType {
    #[serde(rename = "EC2")]
    Ec2,
    #[serde(rename = "FARGATE")]
    Fargate,
}

#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq)]
pub enum RawDeploymentController {
    #[serde(rename = "ECS")]
    Ecs,
    #[serde(rename = "CODE_DEPLOY")]
    CodeDeploy,
}

/// CodeDeploy's blue/green settings for a service.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawBlueGreen {
    pub green_target_group: String,
    pub traffic_routing: RawTrafficRouting,
    pub termination_wait: Option<RawDuration>,
}

/// A predefined configuration name, or a custom canary or linear one.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum RawTrafficRouting {
    Predefined(String),
    Custom(RawCustomRouting),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCustomRouting {
    #[serde(rename = "type")]
    pub kind: RawRoutingType,
    pub percentage: Option<u32>,
    pub interval: Option<RawDuration>,
}

#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
pub enum RawRoutingType {
    TimeBasedCanary,
    TimeBasedLinear,
    AllAtOnce,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCloudWatch {
    pub publish_delay: Option<RawDuration>,
}

/// Application Auto Scaling for a service: the scalable target and its policies.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAutoScaling {
    /// JSON files to read the scalable target and its policies from, relative to the scenario:
    /// the outputs of `aws application-autoscaling describe-scalable-targets` and
    /// `describe-scaling-policies`, and of `aws cloudwatch describe-alarms` for the alarms of
    /// step scaling policies. With it, no other key is allowed.
    pub from: Option<Vec<String>>,
    pub min_capacity: Option<u32>,
    pub max_capacity: Option<u32>,
    #[serde(default)]
    pub target_tracking: Vec<RawTargetTracking>,
    #[serde(default)]
    pub step_scaling: Vec<RawStepScaling>,
    #[serde(default)]
    pub scheduled: Vec<RawScheduled>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTargetTracking {
    pub name: Option<String>,
    /// A predefined metric: ECSServiceAverageCPUUtilization, ECSServiceAverageMemoryUtilization,
    /// ALBRequestCountPerTarget.
    pub predefined_metric: Option<String>,
    pub custom_metric: Option<RawCustomMetric>,
    pub target_value: f64,
    pub scale_out_cooldown: Option<RawDuration>,
    pub scale_in_cooldown: Option<RawDuration>,
    pub disable_scale_in: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCustomMetric {
    pub metric: String,
    pub statistic: Option<RawStatistic>,
}

#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq)]
pub enum RawStatistic {
    Average,
    Sum,
    Minimum,
    Maximum,
    SampleCount,
}

#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq)]
pub enum RawComparison {
    GreaterThanOrEqualToThreshold,
    GreaterThanThreshold,
    LessThanThreshold,
    LessThanOrEqualToThreshold,
}

#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub enum RawMissingData {
    Missing,
    NotBreaching,
    Breaching,
    Ignore,
}

#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq)]
pub enum RawAdjustmentType {
    ChangeInCapacity,
    PercentChangeInCapacity,
    ExactCapacity,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawStepScaling {
    pub name: Option<String>,
    pub alarm: RawAlarm,
    pub adjustment_type: RawAdjustmentType,
    pub steps: Vec<RawStep>,
    pub min_adjustment_magnitude: Option<u32>,
    pub cooldown: Option<RawDuration>,
    pub metric_aggregation_type: Option<RawStatistic>,
}

/// A CloudWatch alarm on one of the service's metrics.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAlarm {
    pub name: Option<String>,
    pub metric: String,
    pub statistic: Option<RawStatistic>,
    pub period: Option<RawDuration>,
    pub evaluation_periods: Option<u32>,
    pub datapoints_to_alarm: Option<u32>,
    pub threshold: f64,
    pub comparison: RawComparison,
    pub treat_missing_data: Option<RawMissingData>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawStep {
    pub lower: Option<f64>,
    pub upper: Option<f64>,
    pub adjustment: i64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawScheduled {
    pub name: Option<String>,
    pub at: Option<RawDuration>,
    pub rate: Option<RawDuration>,
    pub cron: Option<String>,
    pub min_capacity: Option<u32>,
    pub max_capacity: Option<u32>,
    pub desired_capacity: Option<u32>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLoadBalancer {
    pub target_group: String,
    pub container_name: String,
    pub container_port: u16,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTargetGroup {
    pub health_check: Option<RawHealthCheck>,
    pub deregistration_delay: Option<RawDuration>,
    pub algorithm: Option<RawAlgorithm>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawHealthCheck {
    pub interval: Option<RawDuration>,
    pub timeout: Option<RawDuration>,
    pub healthy_threshold: Option<u32>,
    pub unhealthy_threshold: Option<u32>,
}

#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum RawAlgorithm {
    RoundRobin,
    LeastOutstandingRequests,
    Random,
}

/// Requests arriving at a target group through the load balancer.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawWorkload {
    pub target_group: String,
    pub arrivals: RawArrivals,
    pub service_time: RawDistribution,
    pub memory_per_request: Option<f64>,
    pub timeout: Option<RawDuration>,
    /// When the traffic starts (default 0).
    pub start: Option<RawDuration>,
}

#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum RawProcess {
    Constant,
    Poisson,
}

#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
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
#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum RawMissingDatapoints {
    Zero,
    HoldLast,
    Interpolate,
}

/// An arrival process: `process` (Poisson by default) at a rate given by `pattern` and the keys
/// that pattern takes.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawArrivals {
    pub process: Option<RawProcess>,
    pub pattern: Option<RawPattern>,
    pub rate: Option<f64>,
    pub mean: Option<f64>,
    pub amplitude: Option<f64>,
    pub period: Option<RawDuration>,
    pub phase: Option<RawDuration>,
    pub initial: Option<f64>,
    pub changes: Option<Vec<RawRatePoint>>,
    pub base: Option<f64>,
    pub at: Option<RawDuration>,
    pub height: Option<f64>,
    pub length: Option<RawDuration>,
    pub points: Option<Vec<RawRatePoint>>,
    pub file: Option<String>,
    pub scale: Option<f64>,
    #[serde(rename = "loop")]
    pub looped: Option<bool>,
    pub shift: Option<String>,
    pub missing_datapoints: Option<RawMissingDatapoints>,
    pub metric_period: Option<RawDuration>,
    pub series: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRatePoint {
    pub at: RawDuration,
    pub rate: f64,
}

/// The latency objective minutes are judged against.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSlo {
    pub latency_percentile: f64,
    pub latency_threshold: RawDuration,
}

#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum RawStrategyType {
    Binpack,
    Spread,
    Random,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPlacementStrategy {
    #[serde(rename = "type")]
    pub kind: RawStrategyType,
    pub field: Option<String>,
}

#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq)]
pub enum RawConstraintType {
    #[serde(rename = "distinctInstance")]
    DistinctInstance,
    #[serde(rename = "memberOf")]
    MemberOf,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPlacementConstraint {
    #[serde(rename = "type")]
    pub kind: RawConstraintType,
    pub expression: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDeploymentConfiguration {
    pub minimum_healthy_percent: Option<u32>,
    pub maximum_percent: Option<u32>,
    pub deployment_circuit_breaker: Option<RawCircuitBreaker>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCircuitBreaker {
    pub enable: bool,
    #[serde(default)]
    pub rollback: bool,
    pub minimum_threshold: Option<u32>,
}

/// A scripted action: `at` plus exactly one of the action tables.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAction {
    pub at: RawDuration,
    pub set_desired_count: Option<RawSetDesiredCount>,
    pub stop_tasks: Option<RawStopTasks>,
    pub drain_instance: Option<RawInstanceRef>,
    pub activate_instance: Option<RawInstanceRef>,
    pub terminate_instance: Option<RawTerminateInstance>,
    pub update_service: Option<RawUpdateService>,
    pub force_new_deployment: Option<RawServiceRef>,
    pub set_desired_capacity: Option<RawSetDesiredCapacity>,
    pub interrupt_spot: Option<RawInstanceRef>,
    pub az_outage: Option<RawAzOutage>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSetDesiredCapacity {
    pub auto_scaling_group: String,
    pub desired_capacity: u32,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAzOutage {
    pub availability_zone: String,
    pub duration: RawDuration,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawUpdateService {
    pub service: String,
    pub task_definition: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawServiceRef {
    pub service: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSetDesiredCount {
    pub service: String,
    pub desired_count: u32,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawStopTasks {
    pub service: String,
    pub count: u32,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawInstanceRef {
    pub instance: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTerminateInstance {
    pub instance: String,
    /// TerminateInstanceInAutoScalingGroup's ShouldDecrementDesiredCapacity; without it the
    /// group launches a replacement.
    pub should_decrement_desired_capacity: Option<bool>,
}
