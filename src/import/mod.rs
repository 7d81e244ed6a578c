//! AWS's own JSON as scenario values: task definitions (the `register-task-definition` input,
//! the `describe-task-definition` output, Elastic Beanstalk's `Dockerrun.aws.json` v2),
//! services (`describe-services`), Application Auto Scaling (`describe-scalable-targets`,
//! `describe-scaling-policies`, with `describe-alarms` for step scaling) and CloudWatch metric
//! data (`get-metric-data`, `get-metric-statistics`) replayed as load.
//!
//! Pure: text in, the scenario's raw values (or an error naming the file and the JSON path)
//! out. Reading the files is the scenario layer's business, and checking the values too: an
//! imported task definition goes through the same validation as one written in TOML, whose
//! errors then point back into the JSON through the [`Origin`]s recorded here. `emit` writes
//! the values as a commented scenario for `ecsim import`.

pub mod emit;
pub mod json;
pub mod metrics;
pub mod scaling;
pub mod service;
pub mod task_definition;

use std::fmt;

use crate::scenario::source::KeyPath;

/// A problem in an AWS JSON file: which file, where in it, and what.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImportError {
    pub file: String,
    /// The JSON path, e.g. `taskDefinition.containerDefinitions[0].cpu`; empty for the document.
    pub path: String,
    pub message: String,
    /// Line and column, when known (syntax errors; the caller can locate a path in the text).
    pub line: Option<(usize, usize)>,
}

impl ImportError {
    pub fn new(file: &str, path: &str, message: impl Into<String>) -> ImportError {
        ImportError { file: file.to_string(), path: path.to_string(), message: message.into(), line: None }
    }
}

impl fmt::Display for ImportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some((line, column)) = self.line {
            write!(f, ":{line}:{column}")?;
        }
        if !self.path.is_empty() {
            write!(f, ": `{}`", self.path)?;
        }
        write!(f, ": {}", self.message)
    }
}

impl std::error::Error for ImportError {}

/// Where an imported value came from: a file and the JSON path in it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Origin {
    pub file: String,
    pub path: String,
}

/// Values read from JSON, where each came from, and what the files held that ecsim does not
/// simulate.
#[derive(Debug)]
pub struct Imported<T> {
    pub value: T,
    /// The scenario key path (relative to the imported table) of each value read, and its
    /// origin; a validation error at a key is reported at the longest recorded prefix.
    pub origins: Vec<(KeyPath, Origin)>,
    /// Fields the file holds that the simulation does not model, as JSON paths.
    pub ignored: Vec<String>,
    /// Fields read and checked but not simulated yet (container `dependsOn`, `healthCheck`).
    pub not_simulated: Vec<String>,
}

impl<T> Imported<T> {
    pub fn new(value: T) -> Self {
        Imported { value, origins: Vec::new(), ignored: Vec::new(), not_simulated: Vec::new() }
    }

    fn record(&mut self, key: KeyPath, file: &str, path: String) {
        self.origins.push((key, Origin { file: file.to_string(), path }));
    }
}

/// The kinds of file `ecsim import` reads, told apart by their top-level fields.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileKind {
    /// `register-task-definition` input, `describe-task-definition` output or Dockerrun v2.
    TaskDefinition,
    /// `describe-services` output.
    Services,
    /// `describe-scalable-targets`, `describe-scaling-policies` or `describe-alarms` output.
    Scaling,
    /// `get-metric-data` or `get-metric-statistics` output.
    Metrics,
}

impl FileKind {
    /// What the document is, or an error saying what was expected.
    pub fn detect(file: &str, text: &str) -> Result<FileKind, ImportError> {
        let value = json::parse(file, text)?;
        let root = json::root(file, &value, "an AWS CLI output or input")?;
        let has = |k: &str| root.map.contains_key(k);
        if has("taskDefinition") || has("containerDefinitions") || has("AWSEBDockerrunVersion") {
            Ok(FileKind::TaskDefinition)
        } else if has("services") {
            Ok(FileKind::Services)
        } else if has("ScalableTargets") || has("ScalingPolicies") || has("MetricAlarms") {
            Ok(FileKind::Scaling)
        } else if has("MetricDataResults") || has("Datapoints") {
            Ok(FileKind::Metrics)
        } else {
            Err(ImportError::new(
                file,
                "",
                "not a file ecsim imports: expected the JSON of `aws ecs describe-task-definition` (or a register-task-definition input or Dockerrun.aws.json), `aws ecs describe-services`, `aws application-autoscaling describe-scalable-targets` / `describe-scaling-policies`, `aws cloudwatch describe-alarms`, or `aws cloudwatch get-metric-data` / `get-metric-statistics`",
            ))
        }
    }
}

/// The last part of an ARN's resource (`arn:aws:iam::123456789012:role/ecsTaskExecutionRole`
/// → `ecsTaskExecutionRole`); a plain name stays as it is.
pub fn arn_name(arn: &str) -> &str {
    let resource = if arn.starts_with("arn:") { arn.splitn(6, ':').nth(5).unwrap_or(arn) } else { arn };
    resource.rsplit('/').next().unwrap_or(resource)
}

/// The Region of an ARN (`arn:aws:ecs:us-east-1:...` → `us-east-1`).
pub fn arn_region(arn: &str) -> Option<&str> {
    arn.strip_prefix("arn:").and_then(|r| r.split(':').nth(2)).filter(|r| !r.is_empty())
}

/// `some_key` → `someKey`: the JSON spelling of a scenario key.
pub fn camel(key: &str) -> String {
    let mut out = String::new();
    let mut upper = false;
    for c in key.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arns_give_names_and_regions() {
        assert_eq!(arn_name("arn:aws:iam::123456789012:role/ecsTaskExecutionRole"), "ecsTaskExecutionRole");
        assert_eq!(arn_name("arn:aws:iam::123456789012:role/service-role/app"), "app");
        assert_eq!(arn_name("plain"), "plain");
        assert_eq!(arn_region("arn:aws:ecs:eu-west-1:123456789012:service/c/web"), Some("eu-west-1"));
        assert_eq!(arn_region("arn:aws:iam::123456789012:role/x"), None);
        assert_eq!(camel("memory_reservation"), "memoryReservation");
    }
}
