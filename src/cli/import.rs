//! `ecsim import`: AWS's JSON files in, a complete commented scenario out. The reading is
//! [`crate::import`]'s; the scenario is checked as one that names the files with `from` keys
//! (so that any problem names the JSON file and path), then written with the values inline.

use std::path::{Component, Path, PathBuf};
use std::process::ExitCode;

use crate::import::emit::{self, Mode, Plan, PlannedService, PlannedTaskDefinition, PlannedWorkload};
use crate::import::{FileKind, ImportError, json, metrics, scaling, service, task_definition};
use crate::scenario::Scenario;
use crate::scenario::raw::RawDeploymentController;

use super::BAD_INPUT;

#[derive(clap::Args)]
pub struct ImportArgs {
    /// AWS JSON files: `aws ecs describe-task-definition` output (or a register-task-definition
    /// input, or Dockerrun.aws.json v2), `aws ecs describe-services`,
    /// `aws application-autoscaling describe-scalable-targets` and `describe-scaling-policies`,
    /// `aws cloudwatch describe-alarms`, and `aws cloudwatch get-metric-data` or
    /// `get-metric-statistics` of an ALB's RequestCount. Each file's kind is told from its
    /// fields.
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// Write the scenario to this file [default: print it].
    #[arg(long)]
    out: Option<PathBuf>,
    /// Refuse fields ecsim does not simulate, instead of listing them as ignored.
    #[arg(long)]
    strict: bool,
}

/// An error in a JSON file, with the line of its path when it can be found.
fn located(e: ImportError, text: &str) -> String {
    let mut e = e;
    if e.line.is_none() {
        e.line = json::locate_nearest(text, &e.path);
    }
    e.to_string()
}

fn fail(message: &str) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::from(BAD_INPUT)
}

pub fn import(args: ImportArgs) -> ExitCode {
    match plan(&args) {
        Ok((plan, warnings)) => write(&args, plan, warnings),
        Err(message) => fail(&message),
    }
}

/// Reads every file into a plan, with warnings for what is set aside.
fn plan(args: &ImportArgs) -> Result<(Plan, Vec<String>), String> {
    let mut texts = Vec::new();
    for f in &args.files {
        let name = f.display().to_string();
        let text = std::fs::read_to_string(f).map_err(|e| format!("{name}: cannot read the file: {e}"))?;
        let kind = FileKind::detect(&name, &text).map_err(|e| located(e, &text))?;
        texts.push((name, text, kind));
    }
    let mut warnings = Vec::new();
    let mut tds: Vec<PlannedTaskDefinition> = Vec::new();
    let mut scaling_docs = Vec::new();
    let mut scaling_files = Vec::new();
    let mut workloads = Vec::new();
    let mut service_files = Vec::new();
    for (name, text, kind) in &texts {
        match kind {
            FileKind::TaskDefinition => {
                let (imported, shape) = task_definition::read(name, text).map_err(|e| located(e, text))?;
                let taken: Vec<String> = tds.iter().map(|t| t.key.clone()).collect();
                let key = emit::task_definition_key(&imported.value, name, &taken);
                tds.push(PlannedTaskDefinition { key, file: name.clone(), shape, imported });
            }
            FileKind::Services => service_files.push((name, text)),
            FileKind::Scaling => {
                scaling_docs.push(scaling::Doc::parse(name, text).map_err(|e| located(e, text))?);
                scaling_files.push(name.clone());
            }
            FileKind::Metrics => {
                for id in metrics::result_ids(name, text).map_err(|e| located(e, text))? {
                    let series = metrics::read(name, text, id.as_deref()).map_err(|e| located(e, text))?;
                    let period_ms = metrics::period(&series.value, None).map_err(|m| format!("{name}: {m}"))?;
                    workloads.push(PlannedWorkload { file: name.clone(), series: id, imported: series, period_ms });
                }
            }
        }
    }
    let mut services: Vec<PlannedService> = Vec::new();
    for (name, text) in service_files {
        for (i, svc) in service::names(name, text).map_err(|e| located(e, text))?.iter().enumerate() {
            let mut imported = service::read(name, text, Some(svc)).map_err(|e| located(e, text))?;
            let s = &imported.value;
            let found = tds.iter().find(|t| {
                t.imported.value.family.as_deref().unwrap_or(&t.key) == s.family
                    && (s.revision.is_none()
                        || t.imported.value.revision.is_none()
                        || s.revision == t.imported.value.revision)
            });
            let wanted = match s.revision {
                Some(r) => format!("{}:{r}", s.family),
                None => s.family.clone(),
            };
            let Some(td) = found else {
                return Err(located(
                    ImportError::new(
                        name,
                        &format!("services[{i}].taskDefinition"),
                        format!(
                            "service `{svc}` runs task definition `{wanted}`, which none of the files holds: add it, e.g. `aws ecs describe-task-definition --task-definition {wanted} > {}-td.json`",
                            s.family
                        ),
                    ),
                    text,
                ));
            };
            let task_definition = td.key.clone();
            let code_deploy = s.raw.deployment_controller == Some(RawDeploymentController::CodeDeploy);
            if code_deploy {
                imported.value.raw.deployment_controller = None;
                warnings.push(format!(
                    "{name}: service `{svc}` deploys with CodeDeploy, whose settings describe-services does not hold: it is imported with rolling updates; the scenario says what to add for blue/green"
                ));
            }
            let auto_scaling = scaling::read(&scaling_docs, svc)
                .map_err(|e| {
                    let text = texts.iter().find(|t| t.0 == e.file).map_or("", |t| t.1.as_str());
                    located(e, text)
                })?
                .map(|a| (scaling_files.clone(), a));
            services.push(PlannedService {
                file: name.clone(),
                imported,
                task_definition,
                auto_scaling,
                code_deploy,
                stub: false,
            });
        }
    }
    // A task definition no service runs gets a stub service, except a Dockerrun file's, which
    // an Elastic Beanstalk environment runs.
    for td in &tds {
        if td.shape != task_definition::Shape::Dockerrun && !services.iter().any(|s| s.task_definition == td.key) {
            services.push(PlannedService::stub(td));
        }
    }
    let scaled = scaling::services(&scaling_docs).map_err(|e| e.to_string())?;
    for s in scaled {
        if !services.iter().any(|p| p.imported.value.name == s) {
            warnings.push(format!(
                "the scalable target of service `{s}` is left out: no describe-services file describes that service"
            ));
        }
    }
    let name = args
        .out
        .as_ref()
        .and_then(|o| o.file_stem())
        .map(|s| {
            s.to_string_lossy()
                .chars()
                .map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '-' })
                .collect::<String>()
        })
        .filter(|s| !s.is_empty() && !s.starts_with('.'))
        .unwrap_or_else(|| "imported".into());
    let region = services.iter().find_map(|s| s.imported.value.region.clone());
    let plan = Plan {
        name,
        sources: args.files.iter().map(|f| f.display().to_string()).collect(),
        region,
        task_definitions: tds,
        services,
        workloads,
    };
    Ok((plan, warnings))
}

fn write(args: &ImportArgs, mut plan: Plan, mut warnings: Vec<String>) -> ExitCode {
    // Checked with the files named by `from`, so that a problem names its JSON file and path.
    let from_text = emit::scenario(&plan, Mode::From);
    match Scenario::from_str_with("ecsim-import", from_text, &[], args.strict) {
        Ok((_, w)) => warnings.extend(w),
        Err(e) => return fail(&e.to_string()),
    }
    for w in &warnings {
        eprintln!("warning: {w}");
    }
    // Written with the values inline; the metric exports stay files, named from the output.
    let out_dir = args.out.as_ref().map(|o| o.parent().unwrap_or(Path::new("")).to_path_buf());
    if let Some(dir) = &out_dir {
        for w in &mut plan.workloads {
            w.file = relative(dir, Path::new(&w.file)).display().to_string();
        }
    }
    let text = emit::scenario(&plan, Mode::Inline);
    let check_name = args.out.as_ref().map_or_else(|| "imported.toml".to_string(), |o| o.display().to_string());
    if let Err(e) = Scenario::from_str_with(&check_name, text.clone(), &[], false) {
        eprintln!(
            "error: the scenario written from these files does not check: {e}\nThis is a bug in ecsim; please report it with the files."
        );
        return ExitCode::from(1);
    }
    let Some(out) = &args.out else {
        print!("{text}");
        return ExitCode::SUCCESS;
    };
    if let Err(e) = write_atomically(out, &text) {
        return fail(&format!("cannot write {}: {e}", out.display()));
    }
    eprintln!(
        "wrote {}: {} task definitions, {} services, {} workloads. Edit its cluster, target groups and service times (marked EDIT), then `ecsim run {}`.",
        out.display(),
        plan.task_definitions.len(),
        plan.services.len(),
        plan.workloads.len(),
        out.display()
    );
    ExitCode::SUCCESS
}

fn write_atomically(path: &Path, text: &str) -> std::io::Result<()> {
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let file_name = path.file_name().map_or_else(|| "scenario.toml".into(), |n| n.to_string_lossy().into_owned());
    let tmp = dir.join(format!(".{file_name}.tmp"));
    std::fs::write(&tmp, text)?;
    std::fs::rename(&tmp, path)
}

/// `to` as a path from the folder `from`, through `..` where needed.
fn relative(from: &Path, to: &Path) -> PathBuf {
    let abs = |p: &Path| std::path::absolute(p).map(|a| normalize(&a)).unwrap_or_else(|_| p.to_path_buf());
    let (from, to_abs) = (abs(from), abs(to));
    let a: Vec<Component<'_>> = from.components().collect();
    let b: Vec<Component<'_>> = to_abs.components().collect();
    let common = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    if common == 0 {
        return to_abs;
    }
    let mut out = PathBuf::new();
    for _ in common..a.len() {
        out.push("..");
    }
    for c in &b[common..] {
        out.push(c);
    }
    out
}

/// Drops `.` and folds `..` without touching the file system.
fn normalize(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths_climb_out_of_folders() {
        assert_eq!(relative(Path::new("/a/b"), Path::new("/a/c/d.json")), PathBuf::from("../c/d.json"));
        assert_eq!(relative(Path::new("/a/b"), Path::new("/a/b/d.json")), PathBuf::from("d.json"));
        assert_eq!(relative(Path::new("/a/./b/../b"), Path::new("/a/b/d.json")), PathBuf::from("d.json"));
    }
}
