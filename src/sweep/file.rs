//! Sweep files: TOML in, a checked [`SweepSpec`] out, with the scenario files' machinery
//! (`scenario::source`): unknown keys are refused and every error names the file, line, column
//! and key, with a suggestion where one fits.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use toml::Spanned;
use toml::de::DeTable;

use super::objective::{Constraint, Direction, Objective};
use super::params::{Axis, Grid, ParamValue, Parameter, RangeSpec, expand_range};
use crate::scenario::ScenarioError;
use crate::scenario::error::suggest;
use crate::scenario::source::{KeyPath, Seg, Source, parse_key_path};

/// The version of the sweep format this build reads.
pub const SWEEP_FORMAT_VERSION: u32 = 1;
/// The most runs one sweep may plan.
pub const MAX_RUNS: usize = 10_000_000;
/// The most replicates per point.
pub const MAX_REPLICATES: u32 = 100_000;
/// Column names a parameter may not take: `runs.csv` and `aggregate.csv` use them.
pub const RESERVED_COLUMNS: [&str; 11] = [
    "run",
    "point",
    "replicate",
    "seed",
    "status",
    "error",
    "meets_constraints",
    "ok_runs",
    "failed_runs",
    "feasible",
    "best",
];

/// A sweep file as written. It is the root of [`crate::scenario::schema::sweep_schema`], so each
/// key's doc comment is its description there.
///
/// A sweep file runs a base scenario over a grid of parameters, several times each with
/// different seeds. Unknown keys are refused.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawSweep {
    /// The sweep format version; only 1 exists.
    #[schemars(extend("default" = SWEEP_FORMAT_VERSION))]
    version: Option<u32>,
    /// The sweep's name; it names the output folder (`results/<name>/`): letters, digits, `-`,
    /// `_` and `.`.
    ///
    /// Default: the file's name without `.toml`.
    name: Option<String>,
    /// What the sweep compares, in a line or two.
    #[serde(default)]
    description: String,
    /// The base scenario's path, relative to the sweep file.
    base: String,
    /// The base seed each run's seed derives from, with the point and the replicate.
    ///
    /// Default: the base scenario's seed.
    seed: Option<u64>,
    /// Runs (seeds) per point of the grid, 1–100000.
    #[schemars(extend("default" = 1))]
    replicates: Option<u32>,
    /// true: replicate r of every point uses the same seed (common random numbers), so points
    /// are compared under the same arrivals and draws.
    #[serde(default)]
    common_random_numbers: bool,
    /// `summary.csv` columns to record and aggregate, in order. Metrics named by the objective,
    /// the constraints and `pareto` are recorded too.
    ///
    /// Default: every column.
    metrics: Option<Vec<String>>,
    /// Record only this service's row instead of combining the services'.
    service: Option<String>,
    /// The objective: a `summary.csv` column to minimize over the points that meet every
    /// constraint (or `maximize`, not both).
    minimize: Option<String>,
    /// The objective: a `summary.csv` column to maximize (or `minimize`, not both).
    maximize: Option<String>,
    /// Conditions every replicate of a feasible point meets, e.g. `"p99_ms <= 250"`.
    #[serde(default)]
    constraints: Vec<String>,
    /// The two metrics of the Pareto front, e.g. `["cost_usd", "p99_ms"]`.
    ///
    /// Default: the objective and the first constraint on another metric.
    pareto: Option<Vec<String>>,
    /// Write each run's CSV files and charts under `runs/`, as `--detailed`.
    #[serde(default)]
    detailed: bool,
    /// The parameters, one axis of the grid each (a `zip` is one axis); the first changes
    /// slowest.
    #[serde(default)]
    parameters: Vec<RawParameter>,
    /// Which parameters the charts put on the x axis and draw one line per value of.
    charts: Option<RawCharts>,
}

/// A parameter: a scenario key path with `values` or a `range`, or a `zip` of parameters that
/// move together.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct RawParameter {
    /// The column name in `runs.csv` and `aggregate.csv`.
    ///
    /// Default: the path's last key.
    name: Option<String>,
    /// A scenario key path exactly as `ecsim run --set` takes it, e.g.
    /// `"services.web.desired_count"`; `seed` cannot be one.
    path: Option<String>,
    /// The values, each a TOML value of the key's type (strings quoted).
    #[schemars(with = "Option<Vec<AnyValue>>")]
    values: Option<Vec<toml::Value>>,
    /// A range of numbers instead of `values`.
    range: Option<RawRange>,
    /// Parameters whose lists move together, as one axis: each has `name`, `path` and
    /// `values` or `range`, all with as many values.
    zip: Option<Vec<RawParameter>>,
}

/// Any TOML value: a sweep parameter's value is checked against the base scenario's key.
struct AnyValue;

impl JsonSchema for AnyValue {
    fn inline_schema() -> bool {
        true
    }

    fn schema_name() -> std::borrow::Cow<'static, str> {
        "AnyValue".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({})
    }
}

/// A range of parameter values: both ends included, `step` apart or `count` evenly spaced.
/// Integer `from` and `to` (and `step`) give integers.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct RawRange {
    /// The first value.
    #[schemars(with = "f64")]
    from: toml::Value,
    /// The last value.
    #[schemars(with = "f64")]
    to: toml::Value,
    /// The distance between values (linear ranges).
    #[schemars(with = "Option<f64>")]
    step: Option<toml::Value>,
    /// How many values, evenly spaced (in log space with `scale = "log"`).
    count: Option<u32>,
    /// `"linear"` or `"log"`.
    #[serde(default)]
    scale: Scale,
}

#[derive(Debug, Default, Deserialize, Serialize, PartialEq, JsonSchema)]
#[serde(rename_all = "lowercase")]
enum Scale {
    #[default]
    Linear,
    Log,
}

/// The sweep's charts.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct RawCharts {
    /// The parameter on the x axis.
    x: Option<String>,
    /// One line per value of this parameter.
    lines: Option<String>,
}

/// Which parameters the sweep's charts put on the x axis and draw one line per value of.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ChartChoice {
    pub x: Option<String>,
    pub lines: Option<String>,
}

/// A checked sweep file. It knows its base scenario only by the path written in it; see
/// [`super::Sweep`] for the sweep with its base scenario loaded.
#[derive(Clone, Debug)]
pub struct SweepSpec {
    /// The sweep file as the user named it.
    pub file: String,
    pub name: String,
    pub description: String,
    /// The base scenario's path as written, relative to the sweep file.
    pub base: String,
    /// The base seed; `None`: the base scenario's.
    pub seed: Option<u64>,
    pub replicates: usize,
    /// Replicate r of every point uses the same seed (common random numbers), so that points
    /// are compared under the same arrivals and draws.
    pub common_random_numbers: bool,
    pub grid: Grid,
    /// `summary.csv` columns to record and aggregate, in order.
    pub metrics: Vec<String>,
    /// Record only this service's row instead of combining the services'.
    pub service: Option<String>,
    pub objective: Option<Objective>,
    pub constraints: Vec<Constraint>,
    /// The two metrics of the Pareto front and which way each is better.
    pub pareto: Option<[(String, Direction); 2]>,
    /// Write each run's CSV files and charts under `runs/`.
    pub detailed: bool,
    pub charts: ChartChoice,
    /// The text and `--set` overrides it was read from, to locate later errors.
    pub text: String,
    pub overrides: Vec<String>,
}

struct Cx<'a> {
    source: &'a Source,
    root: &'a DeTable<'a>,
}

impl Cx<'_> {
    fn err(&self, path: &KeyPath, message: impl Into<String>) -> ScenarioError {
        self.source.error_at(self.root, path, message, None)
    }

    fn err_suggest<'c>(
        &self,
        path: &KeyPath,
        message: impl Into<String>,
        wrong: &str,
        candidates: impl IntoIterator<Item = &'c str> + Clone,
    ) -> ScenarioError {
        self.source.error_at(self.root, path, message, suggest(wrong, candidates))
    }
}

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with('.')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

impl SweepSpec {
    /// Checks a sweep file given as text; `file` is what messages call it.
    pub fn parse(file: &str, text: String, overrides: &[String]) -> Result<SweepSpec, ScenarioError> {
        let source = Source::new(file.to_string(), text.clone(), overrides)?;
        let root = source.parse()?;
        let len = source.text().len();
        let raw = RawSweep::deserialize(toml::de::Deserializer::from(Spanned::new(0..len, root.clone())))
            .map_err(|e| source.deserialize_error(&root, &e))?;
        let cx = Cx { source: &source, root: &root };
        let top = KeyPath::root();

        if let Some(v) = raw.version
            && v != SWEEP_FORMAT_VERSION
        {
            return Err(cx.err(
                &top.key("version"),
                format!("this ecsim reads sweep format version {SWEEP_FORMAT_VERSION}, not {v}"),
            ));
        }
        let name = match &raw.name {
            Some(n) => n.trim().to_string(),
            None => std::path::Path::new(file)
                .file_stem()
                .map_or_else(|| "sweep".to_string(), |s| s.to_string_lossy().into_owned()),
        };
        if !valid_name(&name) {
            return Err(cx.err(
                &top.key("name"),
                format!("`{name}` cannot name the output folder: use letters, digits, '-', '_' and '.'"),
            ));
        }
        if raw.base.trim().is_empty() {
            return Err(cx.err(&top.key("base"), "give the base scenario's path, relative to the sweep file"));
        }
        let replicates = raw.replicates.unwrap_or(1);
        if replicates == 0 || replicates > MAX_REPLICATES {
            return Err(cx.err(&top.key("replicates"), format!("replicates must be between 1 and {MAX_REPLICATES}")));
        }

        // Parameters, one axis each (a zip is one axis).
        let mut axes = Vec::new();
        for (i, p) in raw.parameters.iter().enumerate() {
            let path = top.key("parameters").index(i);
            match &p.zip {
                Some(members) => {
                    if p.path.is_some() || p.values.is_some() || p.range.is_some() || p.name.is_some() {
                        return Err(cx.err(
                            &path.key("zip"),
                            "a zipped parameter has only `zip`: put `name`, `path` and `values` in each member",
                        ));
                    }
                    if members.len() < 2 {
                        return Err(cx.err(&path.key("zip"), "zip at least two parameters, or use a plain one"));
                    }
                    let mut zipped: Vec<Parameter> = Vec::new();
                    for (j, m) in members.iter().enumerate() {
                        let mpath = path.key("zip").index(j);
                        if m.zip.is_some() {
                            return Err(cx.err(&mpath.key("zip"), "zips do not nest"));
                        }
                        let q = parameter(&cx, &mpath, m)?;
                        if let Some(first) = zipped.first()
                            && first.values.len() != q.values.len()
                        {
                            return Err(cx.err(
                                &mpath,
                                format!(
                                    "zipped parameters move together and need as many values each: `{}` has {}, `{}` has {}",
                                    first.name,
                                    first.values.len(),
                                    q.name,
                                    q.values.len()
                                ),
                            ));
                        }
                        zipped.push(q);
                    }
                    axes.push(Axis { parameters: zipped });
                }
                None => axes.push(Axis { parameters: vec![parameter(&cx, &path, p)?] }),
            }
        }
        let grid = Grid { axes };
        // Where each parameter sits in the file, for the checks across parameters.
        let locations: Vec<KeyPath> = raw
            .parameters
            .iter()
            .enumerate()
            .flat_map(|(i, p)| {
                let base = top.key("parameters").index(i);
                match &p.zip {
                    Some(m) => (0..m.len()).map(|j| base.key("zip").index(j)).collect::<Vec<_>>(),
                    None => vec![base],
                }
            })
            .collect();
        let params: Vec<&Parameter> = grid.parameters().collect();
        for (k, p) in params.iter().enumerate() {
            if let Some(prev) = params[..k].iter().position(|q| q.path == p.path) {
                return Err(cx.err(
                    &locations[k].key("path"),
                    format!("`{}` is already varied by parameter `{}`", p.path, params[prev].name),
                ));
            }
            if params[..k].iter().any(|q| q.name == p.name) {
                return Err(cx.err(
                    &locations[k],
                    format!("two parameters are named `{}`; give one a different `name`", p.name),
                ));
            }
        }

        // Metrics, objective, constraints.
        let known = super::metrics::known_metrics();
        let check_metric = |path: &KeyPath, m: &str| -> Result<(), ScenarioError> {
            if known.contains(&m) {
                Ok(())
            } else {
                Err(cx.err_suggest(path, format!("`{m}` is not a summary.csv column"), m, known.iter().copied()))
            }
        };
        let mut metrics: Vec<String> = Vec::new();
        match &raw.metrics {
            Some(list) => {
                if list.is_empty() {
                    return Err(cx.err(&top.key("metrics"), "name at least one summary.csv column"));
                }
                for (i, m) in list.iter().enumerate() {
                    check_metric(&top.key("metrics").index(i), m)?;
                    if metrics.contains(m) {
                        return Err(cx.err(&top.key("metrics").index(i), format!("`{m}` is listed twice")));
                    }
                    metrics.push(m.clone());
                }
            }
            None => metrics.extend(known.iter().map(|m| m.to_string())),
        }
        let objective = match (&raw.minimize, &raw.maximize) {
            (Some(_), Some(_)) => {
                return Err(cx.err(&top.key("maximize"), "a sweep has one objective: `minimize` or `maximize`"));
            }
            (Some(m), None) => {
                check_metric(&top.key("minimize"), m)?;
                Some(Objective { metric: m.clone(), direction: Direction::Minimize })
            }
            (None, Some(m)) => {
                check_metric(&top.key("maximize"), m)?;
                Some(Objective { metric: m.clone(), direction: Direction::Maximize })
            }
            (None, None) => None,
        };
        let mut constraints = Vec::new();
        for (i, text) in raw.constraints.iter().enumerate() {
            let path = top.key("constraints").index(i);
            let c = Constraint::parse(text).map_err(|m| cx.err(&path, m))?;
            check_metric(&path, &c.metric)?;
            constraints.push(c);
        }
        let direction_of = |m: &str| -> Direction {
            if let Some(o) = objective.as_ref().filter(|o| o.metric == m) {
                return o.direction;
            }
            constraints.iter().filter(|c| c.metric == m).find_map(Constraint::better).unwrap_or(Direction::Minimize)
        };
        let pareto = match &raw.pareto {
            Some(list) => {
                let path = top.key("pareto");
                if list.len() != 2 || list[0] == list[1] {
                    return Err(cx.err(&path, "name two different metrics, e.g. [\"cost_usd\", \"p99_ms\"]"));
                }
                for (i, m) in list.iter().enumerate() {
                    check_metric(&path.index(i), m)?;
                }
                Some([(list[0].clone(), direction_of(&list[0])), (list[1].clone(), direction_of(&list[1]))])
            }
            None => objective.as_ref().and_then(|o| {
                constraints
                    .iter()
                    .find(|c| c.metric != o.metric)
                    .map(|c| [(o.metric.clone(), o.direction), (c.metric.clone(), direction_of(&c.metric))])
            }),
        };
        // What the objective, constraints and front read is recorded too.
        let wanted = objective
            .iter()
            .map(|o| o.metric.clone())
            .chain(constraints.iter().map(|c| c.metric.clone()))
            .chain(pareto.iter().flat_map(|p| p.iter().map(|(m, _)| m.clone())));
        for m in wanted.collect::<Vec<_>>() {
            if !metrics.contains(&m) {
                metrics.push(m);
            }
        }
        for (k, p) in params.iter().enumerate() {
            if RESERVED_COLUMNS.contains(&p.name.as_str()) || metrics.contains(&p.name) {
                return Err(cx.err(
                    &locations[k],
                    format!("`{}` is also a column of runs.csv; give the parameter another `name`", p.name),
                ));
            }
        }

        let names: Vec<&str> = params.iter().map(|p| p.name.as_str()).collect();
        let mut charts = ChartChoice::default();
        if let Some(c) = &raw.charts {
            for (key, value, slot) in [("x", &c.x, &mut charts.x), ("lines", &c.lines, &mut charts.lines)] {
                if let Some(v) = value {
                    if !names.contains(&v.as_str()) {
                        return Err(cx.err_suggest(
                            &top.key("charts").key(key),
                            format!("`{v}` is not one of the sweep's parameters"),
                            v,
                            names.iter().copied(),
                        ));
                    }
                    *slot = Some(v.clone());
                }
            }
            if charts.x.is_some() && charts.x == charts.lines {
                return Err(cx.err(&top.key("charts").key("lines"), "`lines` must differ from `x`"));
            }
        }

        let runs = grid.points().saturating_mul(replicates as usize);
        if runs > MAX_RUNS {
            return Err(cx.err(
                &top.key("parameters"),
                format!("the sweep plans {runs} runs, more than {MAX_RUNS}: split it into several sweeps"),
            ));
        }

        Ok(SweepSpec {
            file: file.to_string(),
            name,
            description: raw.description.trim().to_string(),
            base: raw.base.trim().to_string(),
            seed: raw.seed,
            replicates: replicates as usize,
            common_random_numbers: raw.common_random_numbers,
            grid,
            metrics,
            service: raw.service.clone(),
            objective,
            constraints,
            pareto,
            detailed: raw.detailed,
            charts,
            text,
            overrides: overrides.to_vec(),
        })
    }

    /// A located error at a key of this sweep file, found again in its text.
    pub fn error_at(&self, key: &KeyPath, message: impl Into<String>, suggestion: Option<String>) -> ScenarioError {
        let message = message.into();
        match Source::new(self.file.clone(), self.text.clone(), &self.overrides) {
            Ok(source) => match source.parse() {
                Ok(root) => source.error_at(&root, key, message, suggestion),
                Err(e) => e,
            },
            Err(e) => e,
        }
    }

    /// Where parameter `name` is written: `parameters[i]` or `parameters[i].zip[j]`.
    pub fn parameter_location(&self, name: &str) -> KeyPath {
        for (i, axis) in self.grid.axes.iter().enumerate() {
            let base = KeyPath::root().key("parameters").index(i);
            if let Some(j) = axis.parameters.iter().position(|p| p.name == name) {
                return if axis.parameters.len() > 1 { base.key("zip").index(j) } else { base };
            }
        }
        KeyPath::root().key("parameters")
    }

    /// Points in the grid.
    pub fn points(&self) -> usize {
        self.grid.points()
    }

    /// Runs planned: points × replicates.
    pub fn runs(&self) -> usize {
        self.points() * self.replicates
    }
}

/// One plain parameter (not a zip).
fn parameter(cx: &Cx<'_>, path: &KeyPath, p: &RawParameter) -> Result<Parameter, ScenarioError> {
    let Some(key_text) = p.path.as_deref().map(str::trim) else {
        return Err(cx.err(path, "a parameter needs `path` (a scenario key path, as --set takes) or `zip`"));
    };
    let key = parse_key_path(key_text).map_err(|m| cx.err(&path.key("path"), m))?;
    if key_text.contains('=') {
        return Err(cx.err(&path.key("path"), "a key path cannot contain `=`"));
    }
    if key.0 == [Seg::Key("seed".into())] {
        return Err(cx.err(
            &path.key("path"),
            "the sweep derives each run's seed; set the base seed with `seed` at the top of the sweep file and the number of seeds with `replicates`",
        ));
    }
    let (values, log_scale) = match (&p.values, &p.range) {
        (Some(_), Some(_)) => return Err(cx.err(&path.key("range"), "give `values` or `range`, not both")),
        (None, None) => return Err(cx.err(path, "a parameter needs `values = [...]` or `range = { ... }`")),
        (Some(list), None) => {
            if list.is_empty() {
                return Err(cx.err(&path.key("values"), "give at least one value"));
            }
            (list.iter().map(ParamValue::from_toml).collect::<Vec<_>>(), false)
        }
        (None, Some(r)) => {
            let rpath = path.key("range");
            let number = |k: &str, v: &toml::Value| -> Result<(f64, bool), ScenarioError> {
                match v {
                    toml::Value::Integer(i) => Ok((*i as f64, true)),
                    toml::Value::Float(x) => Ok((*x, false)),
                    other => Err(cx.err(&rpath.key(k), format!("expected a number, found a {}", other.type_str()))),
                }
            };
            let (from, from_int) = number("from", &r.from)?;
            let (to, to_int) = number("to", &r.to)?;
            let step = match &r.step {
                Some(s) => Some(number("step", s)?),
                None => None,
            };
            let spec = RangeSpec {
                from,
                to,
                integers: from_int && to_int && step.is_none_or(|(_, i)| i),
                step: step.map(|(s, _)| s),
                count: r.count.map(|c| c as usize),
                log: r.scale == Scale::Log,
            };
            (expand_range(&spec).map_err(|m| cx.err(&rpath, m))?, spec.log)
        }
    };
    let name = match &p.name {
        Some(n) => n.trim().to_string(),
        None => key
            .0
            .iter()
            .rev()
            .find_map(|s| match s {
                Seg::Key(k) => Some(k.clone()),
                Seg::Index(_) => None,
            })
            .unwrap_or_else(|| key_text.to_string()),
    };
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.')) {
        return Err(cx.err(
            &path.key("name"),
            format!("`{name}` cannot name a CSV column: use letters, digits, '_', '-' and '.'"),
        ));
    }
    Ok(Parameter { name, path: key_text.to_string(), values, log_scale })
}

/// Whether a TOML text is a sweep file rather than a scenario: it has a top-level `base`.
/// Text that is not TOML is no sweep file (the scenario reader then reports the syntax error).
pub fn is_sweep_text(text: &str) -> bool {
    toml::from_str::<toml::Table>(text).is_ok_and(|t| t.contains_key("base"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
name = "plan"
base = "base.toml"
replicates = 3
metrics = ["p99_ms", "error_rate"]
minimize = "cost_usd"
constraints = ["p99_ms <= 250", "error_rate <= 0.001"]

[[parameters]]
path = "cluster.auto_scaling_groups[0].instance_type"
values = ["m5.large", "c5.large"]

[[parameters]]
name = "tasks"
path = "services.web.desired_count"
range = { from = 2, to = 8, step = 2 }

[[parameters]]
zip = [
  { path = "workloads.web.arrivals.rate", range = { from = 100, to = 400, count = 3, scale = "log" } },
  { path = "cluster.auto_scaling_groups[0].desired_capacity", values = [2, 3, 4] },
]
"#;

    fn parse(text: &str) -> Result<SweepSpec, ScenarioError> {
        SweepSpec::parse("s.toml", text.to_string(), &[])
    }

    #[test]
    fn a_full_sweep_file_reads() {
        let s = parse(GOOD).unwrap();
        assert_eq!(s.name, "plan");
        assert_eq!(s.replicates, 3);
        assert_eq!(s.points(), 2 * 4 * 3);
        assert_eq!(s.runs(), 72);
        let names: Vec<&str> = s.grid.parameters().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["instance_type", "tasks", "rate", "desired_capacity"]);
        // The objective and constraint metrics are recorded even when `metrics` omits them.
        assert_eq!(s.metrics, ["p99_ms", "error_rate", "cost_usd"]);
        let pareto = s.pareto.as_ref().unwrap();
        assert_eq!((pareto[0].0.as_str(), pareto[1].0.as_str()), ("cost_usd", "p99_ms"));
        assert_eq!(pareto[1].1, Direction::Minimize);
        assert_eq!(
            s.grid.overrides(0),
            [
                "cluster.auto_scaling_groups[0].instance_type=\"m5.large\"",
                "services.web.desired_count=2",
                "workloads.web.arrivals.rate=100",
                "cluster.auto_scaling_groups[0].desired_capacity=2"
            ]
        );
        assert!(s.grid.parameters().nth(2).unwrap().log_scale);
    }

    #[test]
    fn unknown_keys_are_located_with_a_suggestion() {
        let e = parse("base = \"b.toml\"\nreplicate = 3\n").unwrap_err().to_string();
        assert!(e.starts_with("s.toml:2:1: key `replicate`"), "{e}");
        assert!(e.contains("did you mean `replicates`?"), "{e}");
        let e = parse("base = \"b.toml\"\n[[parameters]]\npath = \"a.b\"\nvalue = [1]\n").unwrap_err().to_string();
        assert!(e.contains("s.toml:4:1") && e.contains("did you mean `values`?"), "{e}");
    }

    #[test]
    fn bad_values_are_located() {
        let cases = [
            ("base = \"b\"\nmetrics = [\"p99\"]\n", "s.toml:2:12", "not a summary.csv column"),
            ("base = \"b\"\nconstraints = [\"p99_ms < fast\"]\n", "s.toml:2:16", "not a number"),
            ("base = \"b\"\nminimize = \"cost_us\"\n", "s.toml:2:12", "did you mean `cost_usd`?"),
            ("base = \"b\"\nreplicates = 0\n", "s.toml:2:14", "between 1"),
            ("base = \"b\"\n[[parameters]]\npath = \"seed\"\nvalues = [1]\n", "s.toml:3:8", "derives each run's seed"),
            (
                "base = \"b\"\n[[parameters]]\npath = \"a.b\"\nrange = { from = 1, to = 4, count = 8, scale = \"log\" }\n",
                "s.toml:4:9",
                "twice",
            ),
            ("base = \"b\"\n[[parameters]]\npath = \"a.b\"\n", "s.toml:2:1", "needs `values"),
            (
                "base = \"b\"\n[[parameters]]\nzip = [{ path = \"a\", values = [1, 2] }, { path = \"b\", values = [1] }]\n",
                "s.toml:3:41",
                "as many values",
            ),
            ("base = \"b\"\n[[parameters]]\npath = \"x.p99_ms\"\nvalues = [1]\n", "s.toml:2:1", "also a column"),
            (
                "base = \"b\"\n[[parameters]]\npath = \"a.b\"\nvalues = [1]\n[[parameters]]\npath = \"a.b\"\nvalues = [2]\n",
                "s.toml:6:8",
                "already varied",
            ),
            (
                "base = \"b\"\n[[parameters]]\npath = \"a.b\"\nvalues = [1]\n[charts]\nx = \"bb\"\n",
                "s.toml:6:5",
                "did you mean `b`?",
            ),
            ("version = 2\nbase = \"b\"\n", "s.toml:1:11", "version 1"),
        ];
        for (text, at, says) in cases {
            let e = parse(text).unwrap_err().to_string();
            assert!(e.starts_with(at), "{text}\n→ {e}");
            assert!(e.contains(says), "{text}\n→ {e}");
        }
    }

    #[test]
    fn set_overrides_the_sweep_file() {
        let s = SweepSpec::parse("s.toml", GOOD.to_string(), &["replicates=5".into()]).unwrap();
        assert_eq!(s.replicates, 5);
        let e = SweepSpec::parse("s.toml", GOOD.to_string(), &["replicates=-1".into()]).unwrap_err();
        assert!(e.to_string().contains("--set replicates=-1"), "{e}");
    }

    #[test]
    fn sweep_files_are_told_from_scenarios() {
        assert!(is_sweep_text(GOOD));
        assert!(!is_sweep_text("name = \"x\"\nduration = \"1h\"\n"));
        assert!(!is_sweep_text("not toml ["));
    }
}
