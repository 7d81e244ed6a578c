//! `ecsim sweep`, `ecsim merge` and `ecsim report`: arguments, the progress display, messages
//! and exit codes. The work is done by [`crate::sweep`] and [`crate::output::report`].

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::sweep::aggregate::stat_decimals;
use crate::sweep::metrics::format_fixed;
use crate::sweep::{Progress, RunOptions, RunRecord, Shard, Sweep, SweepOutcome, SweepSpec};

use super::BAD_INPUT;

#[derive(clap::Args)]
pub struct SweepArgs {
    /// The sweep file (TOML): a base scenario and the parameters to vary.
    sweep: PathBuf,
    /// Output folder [default: results/<sweep name>/, or .../shard-I-of-N for a shard].
    #[arg(long)]
    out: Option<PathBuf>,
    /// Runs at once [default: one per core].
    #[arg(long, short = 'j')]
    jobs: Option<usize>,
    /// Run only shard I of N (0-based), e.g. 0/4. Without it, a batch engine's array index is
    /// used when set: SLURM_ARRAY_TASK_ID, AWS_BATCH_JOB_ARRAY_INDEX, JOB_COMPLETION_INDEX.
    #[arg(long, value_name = "I/N")]
    shard: Option<String>,
    /// The number of shards, for AWS_BATCH_JOB_ARRAY_INDEX and JOB_COMPLETION_INDEX.
    #[arg(long, value_name = "N")]
    shard_count: Option<usize>,
    /// Continue an interrupted sweep in the output folder: finished runs are not run again.
    #[arg(long)]
    resume: bool,
    /// Also write every run's CSV files and charts under OUT/runs/.
    #[arg(long)]
    detailed: bool,
    /// Override a value of the sweep file: --set replicates=10 (repeatable).
    #[arg(long = "set", value_name = "PATH=VALUE")]
    set: Vec<String>,
}

#[derive(clap::Args)]
pub struct MergeArgs {
    /// The output folders of the shards.
    #[arg(required = true)]
    dirs: Vec<PathBuf>,
    /// Where to write the merged sweep.
    #[arg(long)]
    out: PathBuf,
}

#[derive(clap::Args)]
pub struct ReportArgs {
    /// The output folder of `ecsim run` or `ecsim sweep`.
    dir: PathBuf,
    /// The scenario the run came from, for its description when the folder lacks run.toml.
    #[arg(long)]
    scenario: Option<PathBuf>,
    /// The HTML file to write [default: DIR/report.html].
    #[arg(long)]
    out: Option<PathBuf>,
}

fn bad(message: impl std::fmt::Display) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::from(BAD_INPUT)
}

/// Exit code of a sweep stopped by SIGINT or SIGTERM (128 + SIGINT, as shells report it).
const INTERRUPTED: u8 = 130;

/// Draws a bar on a terminal, a line every 10% (at most every few seconds) otherwise.
enum Display {
    Bar(indicatif::ProgressBar),
    Lines(Mutex<LineState>),
}

/// The progress display, and the flag that SIGINT and SIGTERM raise: the sweep then starts no
/// more runs, lets those in progress finish into the journal, and exits. A second signal exits
/// at once; the journal is safe then too (a torn last line is cut off by --resume).
struct Control {
    display: Display,
    stop: Arc<AtomicBool>,
    announced: AtomicBool,
}

impl Control {
    fn new() -> Control {
        let stop = Arc::new(AtomicBool::new(false));
        for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
            // Registered first, so it sees the flag as the previous signal left it.
            let _ = signal_hook::flag::register_conditional_shutdown(signal, i32::from(INTERRUPTED), Arc::clone(&stop));
            let _ = signal_hook::flag::register(signal, Arc::clone(&stop));
        }
        Control { display: Display::new(), stop, announced: AtomicBool::new(false) }
    }
}

impl Progress for Control {
    fn start(&self, total: usize, done: usize) {
        self.display.start(total, done);
    }

    fn finished(&self, record: &RunRecord) {
        self.display.finished(record);
    }

    fn end(&self) {
        self.display.end();
    }

    fn should_stop(&self) -> bool {
        let stop = self.stop.load(Ordering::SeqCst);
        if stop && !self.announced.swap(true, Ordering::SeqCst) {
            let message = "ecsim: interrupted: finishing the runs in progress (interrupt again to stop at once)";
            match &self.display {
                Display::Bar(b) => b.println(message),
                Display::Lines(_) => eprintln!("{message}"),
            }
        }
        stop
    }
}

struct LineState {
    start: Instant,
    last: Instant,
    total: usize,
    done: usize,
    ran: usize,
    next_mark: usize,
}

impl Display {
    fn new() -> Display {
        if std::io::stderr().is_terminal() {
            let bar = indicatif::ProgressBar::hidden();
            bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
            let style = indicatif::ProgressStyle::with_template(
                "{spinner} [{elapsed_precise}] {wide_bar} {pos}/{len} runs  {per_sec}  ETA {eta}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar());
            bar.set_style(style);
            Display::Bar(bar)
        } else {
            let now = Instant::now();
            Display::Lines(Mutex::new(LineState { start: now, last: now, total: 0, done: 0, ran: 0, next_mark: 0 }))
        }
    }
}

impl Progress for Display {
    fn start(&self, total: usize, done: usize) {
        match self {
            Display::Bar(b) => {
                b.set_length(total as u64);
                b.set_position(done as u64);
                b.reset_eta();
                b.enable_steady_tick(Duration::from_millis(200));
            }
            Display::Lines(s) => {
                let mut s = s.lock().unwrap_or_else(|e| e.into_inner());
                s.total = total;
                s.done = done;
                s.next_mark = done + total.div_ceil(10).max(1);
                eprintln!("sweep: {done}/{total} runs done, {} to go", total - done);
            }
        }
    }

    fn finished(&self, _record: &RunRecord) {
        match self {
            Display::Bar(b) => b.inc(1),
            Display::Lines(s) => {
                let mut s = s.lock().unwrap_or_else(|e| e.into_inner());
                s.done += 1;
                s.ran += 1;
                let now = Instant::now();
                if s.done >= s.next_mark && now.duration_since(s.last) >= Duration::from_secs(2) || s.done == s.total {
                    let elapsed = now.duration_since(s.start).as_secs_f64().max(1e-3);
                    let rate = s.ran as f64 / elapsed;
                    let eta = (s.total - s.done) as f64 / rate.max(1e-9);
                    eprintln!("sweep: {}/{} runs, {rate:.1} runs/s, ETA {eta:.0} s", s.done, s.total);
                    s.last = now;
                    while s.next_mark <= s.done {
                        s.next_mark += s.total.div_ceil(10).max(1);
                    }
                }
            }
        }
    }

    fn end(&self) {
        if let Display::Bar(b) = self {
            b.finish_and_clear();
        }
    }
}

fn describe_point(spec: &SweepSpec, point: usize) -> String {
    spec.grid
        .parameters()
        .zip(spec.grid.values(point))
        .map(|(p, v)| format!("{}={}", p.name, v.label))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The lines that close a sweep or merge: failures, the best plan, where the files are.
fn report_outcome(spec: &SweepSpec, o: &SweepOutcome, records_hint: Option<&Path>) {
    if o.failed > 0 {
        println!(
            "{} of {} runs failed; runs.csv has each one's error (a combination the scenario refuses?)",
            o.failed, o.recorded
        );
    }
    if o.shard.is_whole() {
        let feasible = o.points.iter().filter(|p| p.feasible).count();
        match (&spec.objective, o.points.iter().find(|p| p.best)) {
            (Some(obj), Some(best)) => {
                let m = spec.metrics.iter().position(|x| *x == obj.metric).unwrap_or(0);
                let d = stat_decimals(&obj.metric);
                let value = best.stats[m].map_or_else(String::new, |s| {
                    let ci = s.ci95.map_or_else(String::new, |(lo, hi)| {
                        format!(" (95% CI {} to {})", format_fixed(lo, d), format_fixed(hi, d))
                    });
                    format!("{} = {}{ci}", obj.metric, format_fixed(s.mean, d))
                });
                println!(
                    "best plan ({} {}, {feasible} of {} points feasible): point {}: {}: {value}",
                    obj.direction.verb(),
                    obj.metric,
                    o.points.len(),
                    best.point,
                    describe_point(spec, best.point)
                );
            }
            (Some(_), None) => println!("no point meets every constraint in every replicate"),
            (None, _) if !spec.constraints.is_empty() => {
                println!("{feasible} of {} points meet every constraint in every replicate", o.points.len());
            }
            _ => {}
        }
        println!("wrote {} (runs.csv, aggregate.csv, charts/)", o.out.display());
    } else {
        println!(
            "wrote {} (runs.csv of shard {}); join the shards with `ecsim merge`{}",
            o.out.display(),
            o.shard,
            records_hint.map_or_else(String::new, |p| format!(" ... --out {}", p.display()))
        );
    }
}

pub fn sweep(args: SweepArgs) -> ExitCode {
    let shard = match (&args.shard, args.shard_count) {
        (Some(s), _) => match Shard::parse(s) {
            Ok(s) => s,
            Err(e) => return bad(format!("--shard: {e}")),
        },
        (None, count) => match Shard::from_env(|k| std::env::var(k).ok(), count) {
            Ok(Some((s, var))) => {
                eprintln!("ecsim: running shard {s} ({var} is set)");
                s
            }
            Ok(None) if count.is_some() => {
                return bad(
                    "--shard-count needs a shard index: give --shard I/N, or run under an array job that sets one",
                );
            }
            Ok(None) => Shard::WHOLE,
            Err(e) => return bad(e),
        },
    };
    let sweep = match Sweep::from_path(&args.sweep, &args.set) {
        Ok(s) => s,
        Err(e) => return bad(e),
    };
    let spec = &sweep.spec;
    let out = args.out.clone().unwrap_or_else(|| {
        let base = Path::new("results").join(&spec.name);
        if shard.is_whole() { base } else { base.join(format!("shard-{}-of-{}", shard.index, shard.count)) }
    });
    let in_shard = (0..spec.runs()).filter(|&r| shard.contains(r)).count();
    println!(
        "sweep {}: {} points × {} replicates = {} runs{}",
        spec.name,
        spec.points(),
        spec.replicates,
        spec.runs(),
        if shard.is_whole() { String::new() } else { format!("; shard {shard} takes {in_shard}") }
    );
    if !args.resume && out.join(crate::sweep::journal::JOURNAL_FILE).is_file() && !out.join("runs.csv").is_file() {
        eprintln!(
            "ecsim: {} held an unfinished sweep; starting it again (--resume would have continued it)",
            out.display()
        );
    }
    if let Err(e) = crate::output::ensure_writable_dir(&out) {
        return bad(e);
    }
    let options = RunOptions { out, jobs: args.jobs.unwrap_or(0), shard, resume: args.resume, detailed: args.detailed };
    let control = Control::new();
    match crate::sweep::execute(&sweep, &options, &control) {
        Ok(o) => {
            if args.resume {
                println!(
                    "resumed: {} runs were already done, {} ran now{}",
                    o.resumed,
                    o.recorded - o.resumed,
                    if o.torn_bytes > 0 {
                        format!(
                            " (a torn last journal line of {} bytes was cut off and its run done again)",
                            o.torn_bytes
                        )
                    } else {
                        String::new()
                    }
                );
            }
            report_outcome(spec, &o, None);
            ExitCode::SUCCESS
        }
        Err(e @ crate::sweep::SweepError::Interrupted { .. }) => {
            eprintln!("ecsim: {e}");
            ExitCode::from(INTERRUPTED)
        }
        Err(e) => bad(e),
    }
}

pub fn merge(args: MergeArgs) -> ExitCode {
    let spec = match crate::sweep::read_plan(&args.dirs[0]) {
        Ok(p) => p.spec,
        Err(e) => return bad(format!("cannot merge: {e}")),
    };
    if let Err(e) = crate::output::ensure_writable_dir(&args.out) {
        return bad(e);
    }
    match crate::sweep::merge(&args.dirs, &args.out) {
        Ok(o) => {
            println!("merged {} shards: {} runs", args.dirs.len(), o.recorded);
            report_outcome(&spec, &o, None);
            ExitCode::SUCCESS
        }
        Err(e) => bad(e),
    }
}

pub fn report(args: ReportArgs) -> ExitCode {
    let scenario = match &args.scenario {
        Some(p) => match crate::Scenario::from_path(p, &[]) {
            Ok(s) => Some(s),
            Err(e) => return bad(e),
        },
        None => None,
    };
    let html = match crate::output::report::build(&args.dir, scenario.as_ref()) {
        Ok(h) => h,
        Err(e) => return bad(e),
    };
    let path = args.out.unwrap_or_else(|| args.dir.join(crate::output::report::REPORT_FILE));
    if let Err(e) = crate::output::write_atomic(&path, &html) {
        return bad(format!("cannot write {}: {e}", path.display()));
    }
    println!("wrote {}", path.display());
    ExitCode::SUCCESS
}
