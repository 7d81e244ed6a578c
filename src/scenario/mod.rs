//! Scenario files: TOML in, a checked [`Scenario`] out.
//!
//! Two stages (STYLE.md §3): serde reads the file into the raw types of [`raw`], refusing unknown
//! keys and wrong types; [`validate`] resolves names and defaults and cross-checks the values.
//! Every error names the file, line, column and key, with a suggestion where one fits.
//!
//! A task definition, service or scalable target may be read `from` AWS's own JSON
//! ([`crate::import`]); what it holds then takes the place of the TOML keys, and an error in it
//! names the JSON file and path.

pub mod duration;
pub mod error;
pub mod limits;
pub mod raw;
pub mod schema;
pub mod source;
mod validate;

use std::path::Path;

pub use error::{Diagnostic, Location, ScenarioError};

use crate::engine::{Distribution, SimTime};
use crate::expect::Expectation;
use crate::model::alb::TargetGroupSpec;
use crate::model::workload::{LatencySlo, Workload};
use crate::model::{
    action::ScheduledAction, asg::AutoScalingGroup, ec2::InstanceType, image::Image, service::ServiceDefinition,
    task_definition::TaskDefinition,
};

/// The version of the scenario format this build reads.
pub const FORMAT_VERSION: u32 = 1;

/// A checked scenario: everything the simulation needs, defaults resolved.
#[derive(Clone, Debug)]
pub struct Scenario {
    pub name: String,
    pub description: String,
    pub seed: u64,
    pub duration: SimTime,
    pub cluster_name: String,
    pub availability_zones: Vec<String>,
    /// The instance types the groups use, built-in ones with the scenario's changes applied.
    pub instance_types: Vec<InstanceType>,
    pub auto_scaling_groups: Vec<AutoScalingGroup>,
    /// Time to attach a task's ENI under awsvpc, ms.
    pub eni_attach_time: Distribution,
    pub images: Vec<Image>,
    pub task_definitions: Vec<TaskDefinition>,
    /// Per task definition: how long the containers take to exit after SIGTERM, ms.
    pub shutdown_times: Vec<Distribution>,
    pub services: Vec<ServiceDefinition>,
    pub capacity_providers: Vec<crate::model::capacity_provider::CapacityProvider>,
    pub target_groups: Vec<TargetGroupSpec>,
    pub workloads: Vec<Workload>,
    /// Ports (inclusive ranges) the targets' security group admits from the ALB; `None`: all.
    pub alb_ingress: Option<Vec<(u16, u16)>>,
    pub slo: Option<LatencySlo>,
    /// How long after its minute ends a CloudWatch datapoint becomes visible to alarms.
    pub publish_delay: SimTime,
    pub actions: Vec<ScheduledAction>,
    /// The `[[expect]]` tables, checked by `ecsim check`.
    pub expectations: Vec<Expectation>,
    /// For an exercise, the `--set` overrides that solve it (`[solution] set = [...]`).
    pub solution: Vec<String>,
    pub fargate: crate::model::fargate::FargateSettings,
    pub fidelity: crate::model::workload::Fidelity,
}

impl Scenario {
    /// Reads and checks a scenario file, with `--set path=value` overrides applied.
    pub fn from_path(path: &Path, overrides: &[String]) -> Result<Scenario, ScenarioError> {
        let text =
            std::fs::read_to_string(path).map_err(|source| ScenarioError::Read { path: path.to_path_buf(), source })?;
        Scenario::from_str_named(&path.display().to_string(), text, overrides)
    }

    /// Checks a scenario given as text; `name` is what messages call the file.
    pub fn from_str_named(name: &str, text: String, overrides: &[String]) -> Result<Scenario, ScenarioError> {
        Scenario::from_str_with(name, text, overrides, false).map(|(s, _)| s)
    }

    /// Reads and checks a scenario file, and says what the AWS JSON files it reads (`from`
    /// keys) hold that the simulation does not model: one line per file, to print as warnings.
    /// With `strict`, such fields are an error instead.
    pub fn load(path: &Path, overrides: &[String], strict: bool) -> Result<(Scenario, Vec<String>), ScenarioError> {
        let text =
            std::fs::read_to_string(path).map_err(|source| ScenarioError::Read { path: path.to_path_buf(), source })?;
        Scenario::from_str_with(&path.display().to_string(), text, overrides, strict)
    }

    /// [`Scenario::load`] for a scenario given as text; `name` is what messages call the file,
    /// and JSON files are found relative to it.
    pub fn from_str_with(
        name: &str,
        text: String,
        overrides: &[String],
        strict: bool,
    ) -> Result<(Scenario, Vec<String>), ScenarioError> {
        let source = source::Source::new(name.to_string(), text, overrides)?;
        let (scenario, warnings) = validate::scenario(&source, strict)?;
        limits::check_source(&scenario, &source)?;
        Ok((scenario, warnings))
    }
}
