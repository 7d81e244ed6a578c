//! The command line: parses arguments, calls the library, prints, and maps outcomes to exit
//! codes (0 success, 1 internal error or failed check, 2 bad input). No simulation logic here.

mod import;
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
    ///
    /// The scenarios run in parallel. Each prints one line; each expectation that fails prints
    /// its why and the measured value against the expected one. Sweep files are skipped. The
    /// exit code is 0 only if every expectation holds.
    ///
    /// Exercises (scenarios with a [solution] table) are checked as shipped when the file is
    /// named here or lies directly in a folder named here: `ecsim check scenarios/exercises/`
    /// fails and says what is still off until you have solved them. An exercise found deeper
    /// in a folder named here (`ecsim check scenarios/`) is checked with its solution's --set
    /// overrides applied, which proves that it can be solved.
    Check {
        /// Scenario files, or folders searched recursively for `.toml` files.
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
    /// Write a scenario from AWS's JSON: task definitions, services, auto scaling, Dockerrun
    /// files and CloudWatch metric exports.
    Import(import::ImportArgs),
    /// Print the JSON Schema of the scenario format (or, with --sweep, of sweep files), for
    /// editor completion and checking; with --reference, the README's scenario reference.
    Schema {
        /// The sweep file format instead of the scenario format.
        #[arg(long, conflicts_with = "reference")]
        sweep: bool,
        /// The scenario reference in Markdown instead of the schema.
        #[arg(long)]
        reference: bool,
    },
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
                let text = crate::explain::explain(&s, &crate::simulate(&s));
                // A reader that stops early (`| head`) is not an error.
                let _ = std::io::Write::write_all(&mut std::io::stdout().lock(), text.as_bytes());
                ExitCode::SUCCESS
            }
            Err(e) => bad_input(&e),
        },
        Command::Sweep(args) => sweep::sweep(args),
        Command::Merge(args) => sweep::merge(args),
        Command::Report(args) => sweep::report(args),
        Command::Import(args) => import::import(args),
        Command::Schema { sweep, reference } => {
            use crate::scenario::schema;
            let text = match (sweep, reference) {
                (_, true) => schema::reference_markdown(),
                (true, false) => schema::schema_text(&schema::sweep_schema()),
                (false, false) => schema::schema_text(&schema::scenario_schema()),
            };
            // A reader that stops early (`| head`) is not an error.
            let _ = std::io::Write::write_all(&mut std::io::stdout().lock(), text.as_bytes());
            ExitCode::SUCCESS
        }
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

/// A scenario file `check` found, and whether it was named: the file itself or its folder on
/// the command line (rather than found deeper in a named folder).
struct Found {
    path: PathBuf,
    named: bool,
}

/// Every `.toml` file under the paths, sorted within each folder so that the report reads the
/// same on every machine; a file found twice is checked once, as named if it was named.
fn scenario_files(paths: &[PathBuf]) -> std::io::Result<Vec<Found>> {
    fn walk(p: &Path, depth: usize, out: &mut Vec<Found>) -> std::io::Result<()> {
        if p.is_dir() {
            let mut entries: Vec<PathBuf> =
                std::fs::read_dir(p)?.map(|e| e.map(|e| e.path())).collect::<Result<_, _>>()?;
            entries.sort();
            for e in entries {
                walk(&e, depth + 1, out)?;
            }
        } else if depth == 0 || p.extension().is_some_and(|x| x == "toml") {
            out.push(Found { path: p.to_path_buf(), named: depth <= 1 });
        }
        Ok(())
    }
    let mut out: Vec<Found> = Vec::new();
    for p in paths {
        if !p.exists() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::NotFound,
                format!("{}: no such file or folder", p.display()),
            ));
        }
        let mut found = Vec::new();
        walk(p, 0, &mut found)?;
        for f in found {
            match out.iter_mut().find(|o| same_file(&o.path, &f.path)) {
                Some(o) => o.named |= f.named,
                None => out.push(f),
            }
        }
    }
    Ok(out)
}

fn same_file(a: &Path, b: &Path) -> bool {
    a == b || matches!((a.canonicalize(), b.canonicalize()), (Ok(x), Ok(y)) if x == y)
}

/// How `check` ran a scenario.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Plain,
    /// An exercise, as the learner has it.
    AsShipped,
    /// An exercise with its `[solution]` overrides applied.
    Solved,
}

/// What `check` found for one scenario file.
enum Checked {
    Ran {
        mode: Mode,
        outcomes: Vec<crate::expect::Outcome>,
    },
    Invalid {
        mode: Mode,
        error: ScenarioError,
    },
    /// A sweep file, which `check` does not run.
    Sweep,
}

/// Reads, runs and checks one file: an exercise found deeper than a named folder with its
/// solution applied, anything else as it is.
fn check_file(f: &Found) -> Checked {
    if std::fs::read_to_string(&f.path).is_ok_and(|t| crate::sweep::is_sweep_text(&t)) {
        return Checked::Sweep;
    }
    let shipped = match Scenario::from_path(&f.path, &[]) {
        Ok(s) => s,
        Err(error) => return Checked::Invalid { mode: Mode::Plain, error },
    };
    let (mode, scenario) = match (shipped.solution.is_empty(), f.named) {
        (true, _) => (Mode::Plain, shipped),
        (false, true) => (Mode::AsShipped, shipped),
        (false, false) => match Scenario::from_path(&f.path, &shipped.solution) {
            Ok(s) => (Mode::Solved, s),
            Err(error) => return Checked::Invalid { mode: Mode::Solved, error },
        },
    };
    let r = crate::simulate(&scenario);
    Checked::Ran { mode, outcomes: scenario.expectations.iter().map(|e| e.evaluate(&r)).collect() }
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
    let results: Vec<Checked> = files.par_iter().map(check_file).collect();
    let (mut failed, mut skipped, mut solved, mut shipped) = (0, 0, 0, 0);
    for (file, checked) in files.iter().zip(&results) {
        let file = file.path.display();
        match checked {
            Checked::Ran { mode, outcomes } => {
                let bad: Vec<_> = outcomes.iter().filter(|o| !o.holds).collect();
                let n = outcomes.len();
                let how = match mode {
                    Mode::Plain => "",
                    Mode::AsShipped => "exercise as shipped: ",
                    Mode::Solved => "exercise with its solution applied: ",
                };
                solved += usize::from(*mode == Mode::Solved);
                shipped += usize::from(*mode == Mode::AsShipped);
                if bad.is_empty() {
                    let done = if *mode == Mode::AsShipped { "exercise solved: " } else { how };
                    println!("ok    {file} ({done}{n} expectations hold)");
                } else {
                    failed += 1;
                    let fail = if *mode == Mode::AsShipped { "still fail" } else { "fail" };
                    println!("FAIL  {file} ({how}{} of {n} expectations {fail})", bad.len());
                    for o in bad {
                        println!("      - {}\n        {}", o.why, o.report);
                    }
                }
            }
            Checked::Invalid { mode, error } => {
                failed += 1;
                let how = if *mode == Mode::Solved { " (exercise with its solution applied)" } else { "" };
                println!("FAIL  {file}{how}\n      {}", error.to_string().replace('\n', "\n      "));
            }
            Checked::Sweep => {
                skipped += 1;
                println!("skip  {file} (a sweep file: run it with `ecsim sweep`)");
            }
        }
    }
    let ran = results.len() - skipped;
    let mut notes = String::new();
    if solved > 0 {
        notes += &format!(", {solved} exercises checked with their solutions");
    }
    if shipped > 0 {
        notes += &format!(", {shipped} exercises checked as shipped");
    }
    if skipped > 0 {
        notes += &format!(", {skipped} sweep files skipped");
    }
    println!("{ran} scenarios, {} passed, {failed} failed{notes}", ran - failed);
    if failed == 0 { ExitCode::SUCCESS } else { ExitCode::from(1) }
}
