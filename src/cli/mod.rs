//! The command line: parses arguments, calls the library, prints, and maps outcomes to exit
//! codes (0 success, 1 internal error or failed check, 2 bad input). No simulation logic here.

mod sweep;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::output;
use crate::scenario::{Scenario, ScenarioError};

#[derive(Parser)]
#[command(name = "ecsim", version, about = "A deterministic discrete-event simulator of AWS ECS clusters")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run one scenario and write timeseries.csv, events.csv and summary.csv.
    Run {
        /// The scenario file (TOML).
        scenario: PathBuf,
        /// Output folder [default: results/<scenario name>/].
        #[arg(long)]
        out: Option<PathBuf>,
        /// Use this seed instead of the scenario's.
        #[arg(long)]
        seed: Option<u64>,
        /// Override a value: --set services.web.desired_count=8 (repeatable).
        #[arg(long = "set", value_name = "PATH=VALUE")]
        set: Vec<String>,
        /// Check the simulation's own accounting after every event (slower).
        #[arg(long)]
        check_invariants: bool,
    },
    /// Check a scenario file without running it.
    Validate {
        scenario: PathBuf,
        #[arg(long = "set", value_name = "PATH=VALUE")]
        set: Vec<String>,
    },
    /// Run every scenario under the paths (files or folders) and test its [[expect]] tables.
    Check {
        #[arg(required = true)]
        paths: Vec<PathBuf>,
    },
    /// Run a scenario and print what happened and why: a timeline in the words of the ECS
    /// console, repeated messages shown once, a summary line for each quiet minute.
    Explain {
        /// The scenario file (TOML).
        scenario: PathBuf,
        /// Override a value: --set services.web.desired_count=8 (repeatable).
        #[arg(long = "set", value_name = "PATH=VALUE")]
        set: Vec<String>,
    },
    /// Run a sweep: a base scenario over a grid of parameters, replicated with seeds; writes
    /// runs.csv, aggregate.csv and charts.
    Sweep(sweep::SweepArgs),
    /// Join the output folders of a sweep's shards into the files one machine would write.
    Merge(sweep::MergeArgs),
    /// Write a self-contained HTML report of a run or sweep folder.
    Report(sweep::ReportArgs),
}

/// Exit code for bad input: the user can fix it.
const BAD_INPUT: u8 = 2;

pub fn main() -> ExitCode {
    // A bug must not print a backtrace at the user; say what happened and exit 1.
    std::panic::set_hook(Box::new(|info| {
        eprintln!(
            "ecsim: internal error: {info}\nThis is a bug in ecsim; please report it with the scenario that caused it."
        );
    }));
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { BAD_INPUT } else { 0 });
        }
    };
    match std::panic::catch_unwind(|| dispatch(cli)) {
        Ok(code) => code,
        Err(_) => ExitCode::from(1),
    }
}

fn dispatch(cli: Cli) -> ExitCode {
    match cli.command {
        Command::Run { scenario, out, seed, mut set, check_invariants } => {
            if let Some(seed) = seed {
                set.push(format!("seed={seed}"));
            }
            run(&scenario, out.as_deref(), &set, check_invariants)
        }
        Command::Validate { scenario, set } => match Scenario::from_path(&scenario, &set) {
            Ok(s) => {
                println!(
                    "{}: ok ({} services, {} task definitions)",
                    scenario.display(),
                    s.services.len(),
                    s.task_definitions.len()
                );
                ExitCode::SUCCESS
            }
            Err(e) => bad_input(&e),
        },
        Command::Check { paths } => check(&paths),
        Command::Explain { scenario, set } => match Scenario::from_path(&scenario, &set) {
            Ok(s) => {
                print!("{}", crate::explain::explain(&s, &crate::simulate(&s)));
                ExitCode::SUCCESS
            }
            Err(e) => bad_input(&e),
        },
        Command::Sweep(args) => sweep::sweep(args),
        Command::Merge(args) => sweep::merge(args),
        Command::Report(args) => sweep::report(args),
    }
}

fn bad_input(e: &ScenarioError) -> ExitCode {
    eprintln!("error: {e}");
    ExitCode::from(BAD_INPUT)
}

fn run(path: &Path, out: Option<&Path>, set: &[String], check_invariants: bool) -> ExitCode {
    let scenario = match Scenario::from_path(path, set) {
        Ok(s) => s,
        Err(e) => return bad_input(&e),
    };
    let dir = out.map_or_else(|| Path::new("results").join(&scenario.name), Path::to_path_buf);
    let result = if check_invariants {
        match crate::model::simulate_checked(&scenario) {
            Ok(r) => r,
            Err(v) => {
                eprintln!("error: {v}\nThis is a bug in ecsim; please report it with the scenario.");
                return ExitCode::from(1);
            }
        }
    } else {
        crate::simulate(&scenario)
    };
    if let Err(e) = output::write_run_with(&dir, &result, Some(&scenario)) {
        eprintln!("error: cannot write the outputs to {}: {e}", dir.display());
        return ExitCode::from(BAD_INPUT);
    }
    for s in &result.summary {
        println!(
            "{:<20} desired {:>4}  running {:>4}  pending {:>4}  placement failures {:>4}",
            s.service, s.desired, s.running, s.pending, s.placement_failures
        );
    }
    println!("wrote {}", dir.display());
    ExitCode::SUCCESS
}

/// Every `.toml` file under the paths, sorted, so the report reads the same on every machine.
fn scenario_files(paths: &[PathBuf]) -> std::io::Result<Vec<PathBuf>> {
    fn walk(p: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
        if p.is_dir() {
            let mut entries: Vec<PathBuf> =
                std::fs::read_dir(p)?.map(|e| e.map(|e| e.path())).collect::<Result<_, _>>()?;
            entries.sort();
            for e in entries {
                walk(&e, out)?;
            }
        } else if p.extension().is_some_and(|x| x == "toml") {
            out.push(p.to_path_buf());
        }
        Ok(())
    }
    let mut out = Vec::new();
    for p in paths {
        if !p.exists() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::NotFound,
                format!("{}: no such file or folder", p.display()),
            ));
        }
        walk(p, &mut out)?;
    }
    Ok(out)
}

/// What `check` found for one scenario file.
enum Checked {
    Ran {
        outcomes: Vec<crate::expect::Outcome>,
    },
    Invalid(ScenarioError),
    /// A sweep file, which `check` does not run.
    Sweep,
}

fn check(paths: &[PathBuf]) -> ExitCode {
    let files = match scenario_files(paths) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(BAD_INPUT);
        }
    };
    use rayon::prelude::*;
    let results: Vec<(PathBuf, Checked)> = files
        .par_iter()
        .map(|f| {
            let is_sweep = std::fs::read_to_string(f).is_ok_and(|t| crate::sweep::is_sweep_text(&t));
            let checked = match if is_sweep { None } else { Some(Scenario::from_path(f, &[])) } {
                None => Checked::Sweep,
                Some(Ok(s)) => {
                    let r = crate::simulate(&s);
                    Checked::Ran { outcomes: s.expectations.iter().map(|e| e.evaluate(&r)).collect() }
                }
                Some(Err(e)) => Checked::Invalid(e),
            };
            (f.clone(), checked)
        })
        .collect();
    let mut failed = 0;
    let mut skipped = 0;
    for (file, checked) in &results {
        match checked {
            Checked::Ran { outcomes } => {
                let bad: Vec<_> = outcomes.iter().filter(|o| !o.holds).collect();
                if bad.is_empty() {
                    println!("ok    {} ({} expectations hold)", file.display(), outcomes.len());
                } else {
                    failed += 1;
                    println!("FAIL  {} ({} of {} expectations fail)", file.display(), bad.len(), outcomes.len());
                    for o in bad {
                        println!("      - {}\n        {}", o.why, o.report);
                    }
                }
            }
            Checked::Invalid(e) => {
                failed += 1;
                println!("FAIL  {}\n      {}", file.display(), e.to_string().replace('\n', "\n      "));
            }
            Checked::Sweep => {
                skipped += 1;
                println!("skip  {} (a sweep file: run it with `ecsim sweep`)", file.display());
            }
        }
    }
    let ran = results.len() - skipped;
    let skipped_note = if skipped > 0 { format!(", {skipped} sweep files skipped") } else { String::new() };
    println!("{ran} scenarios, {} passed, {failed} failed{skipped_note}", ran - failed);
    if failed == 0 { ExitCode::SUCCESS } else { ExitCode::from(1) }
}
