//! Running a sweep (or one shard of it) on a rayon pool, resuming one, and merging shards.
//!
//! The output folder holds `sweep-plan.toml` (the sweep file and base scenario as run, so that
//! `ecsim merge` and `ecsim report` need nothing else), `runs.journal` (see [`super::journal`]),
//! `runs.csv`, and for a whole sweep `aggregate.csv` and `charts/`. A shard writes only its
//! rows of `runs.csv`: an aggregate over part of the replicates would mislead.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use super::aggregate::{PointAggregate, aggregate, aggregate_csv};
use super::journal::{JOURNAL_FILE, Journal, JournalError};
use super::runs::{RunRecord, parse_row, read_runs_csv, runs_csv};
use super::{Shard, Sweep, SweepError, SweepSpec};
use crate::output::write_atomic;

/// The file that describes the sweep in its output folder.
pub const PLAN_FILE: &str = "sweep-plan.toml";

/// How to run a sweep.
#[derive(Clone, Debug)]
pub struct RunOptions {
    pub out: PathBuf,
    /// Runs at once (rayon threads); 0: one per core.
    pub jobs: usize,
    pub shard: Shard,
    /// Continue the journal in `out` instead of starting again.
    pub resume: bool,
    /// Write each run's CSV files and charts under `out/runs/` (also set by the sweep file).
    pub detailed: bool,
}

impl RunOptions {
    pub fn new(out: PathBuf) -> RunOptions {
        RunOptions { out, jobs: 0, shard: Shard::WHOLE, resume: false, detailed: false }
    }
}

/// Hears about the runs as they finish (the CLI draws a progress bar), and may ask the sweep to
/// stop (the CLI does on SIGINT). Called from the worker threads.
pub trait Progress: Sync {
    /// `total` runs in this shard, `done` of them already in the journal.
    fn start(&self, _total: usize, _done: usize) {}
    fn finished(&self, _record: &RunRecord) {}
    fn end(&self) {}
    /// Asked before each run starts: `true` starts no more runs. The runs in progress finish
    /// and are recorded in the journal, and [`execute`] returns [`SweepError::Interrupted`].
    fn should_stop(&self) -> bool {
        false
    }
}

/// Hears nothing.
pub struct NoProgress;

impl Progress for NoProgress {}

/// What a sweep (or merge) did.
#[derive(Clone, Debug)]
pub struct SweepOutcome {
    pub out: PathBuf,
    pub shard: Shard,
    /// Runs recorded in `runs.csv`.
    pub recorded: usize,
    /// Of those, runs found in the journal by `--resume`.
    pub resumed: usize,
    /// Bytes of a torn journal line that `--resume` cut off.
    pub torn_bytes: u64,
    pub failed: usize,
    /// The points, for a whole sweep (empty for a shard).
    pub points: Vec<PointAggregate>,
}

/// `sweep-plan.toml`.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Plan {
    format: u32,
    fingerprint: String,
    shard: String,
    runs: usize,
    sweep_file: String,
    overrides: Vec<String>,
    base_file: String,
    base_seed: u64,
    sweep: String,
    base: String,
}

const PLAN_HEADER: &str = "# Written by `ecsim sweep`: the sweep as it ran, for `ecsim merge` and `ecsim report`.\n";

fn plan_toml(spec: &SweepSpec, base_file: &str, base_text: &str, base_seed: u64, shard: Shard) -> Vec<u8> {
    let plan = Plan {
        format: 1,
        fingerprint: super::fingerprint(&spec.text, &spec.overrides, base_text),
        shard: shard.to_string(),
        runs: spec.runs(),
        sweep_file: spec.file.clone(),
        overrides: spec.overrides.clone(),
        base_file: base_file.to_string(),
        base_seed,
        sweep: spec.text.clone(),
        base: base_text.to_string(),
    };
    let body = toml::to_string(&plan).unwrap_or_default();
    format!("{PLAN_HEADER}{body}").into_bytes()
}

/// A sweep folder read back: its spec, shard and fingerprint.
pub struct SweepDir {
    pub spec: SweepSpec,
    pub shard: Shard,
    pub fingerprint: String,
    pub base_file: String,
    pub base_text: String,
    pub base_seed: u64,
}

/// Reads `sweep-plan.toml` in `dir`.
pub fn read_plan(dir: &Path) -> Result<SweepDir, String> {
    let path = dir.join(PLAN_FILE);
    let text = std::fs::read_to_string(&path)
        .map_err(|e| format!("{}: {e} (is {} the output folder of `ecsim sweep`?)", path.display(), dir.display()))?;
    let plan: Plan = toml::from_str(&text).map_err(|e| format!("{}: {}", path.display(), e.message()))?;
    if plan.format != 1 {
        return Err(format!("{}: format {} is not one this ecsim reads", path.display(), plan.format));
    }
    let spec = SweepSpec::parse(&plan.sweep_file, plan.sweep.clone(), &plan.overrides)
        .map_err(|e| format!("{}: the sweep it holds does not read: {e}", path.display()))?;
    let shard = Shard::parse(&plan.shard).map_err(|e| format!("{}: {e}", path.display()))?;
    if super::fingerprint(&plan.sweep, &plan.overrides, &plan.base) != plan.fingerprint || spec.runs() != plan.runs {
        return Err(format!("{}: the file was changed after the sweep wrote it", path.display()));
    }
    Ok(SweepDir {
        spec,
        shard,
        fingerprint: plan.fingerprint,
        base_file: plan.base_file,
        base_text: plan.base,
        base_seed: plan.base_seed,
    })
}

/// Why the workers stopped taking runs.
enum Stop {
    /// [`Progress::should_stop`] said so.
    Asked,
    /// A run could not be recorded.
    Journal(std::io::Error),
}

fn journal_header(sweep: &Sweep, shard: Shard) -> String {
    format!("fingerprint={} shard={shard}", sweep.fingerprint())
}

/// Runs the sweep's runs of `opts.shard`, recording each in the journal as it finishes, then
/// writes the outputs. With `opts.resume`, runs already in the journal are not run again.
pub fn execute(sweep: &Sweep, opts: &RunOptions, progress: &dyn Progress) -> Result<SweepOutcome, SweepError> {
    let spec = &sweep.spec;
    let out = &opts.out;
    std::fs::create_dir_all(out).map_err(SweepError::io(out))?;
    let header = journal_header(sweep, opts.shard);
    if opts.resume {
        // Files a killed sweep was writing when it died: their runs are in the journal.
        for dir in [out.clone(), out.join("charts")] {
            crate::output::remove_stale_temporaries(&dir).map_err(SweepError::io(&dir))?;
        }
    }
    let (journal, mut records, torn_bytes) = if opts.resume {
        match Journal::resume(out, &header) {
            Ok(Some(r)) => {
                let mut records: Vec<RunRecord> = Vec::with_capacity(r.rows.len());
                let mut seen = std::collections::BTreeSet::new();
                for (i, row) in r.rows.iter().enumerate() {
                    let rec = parse_row(spec, row).map_err(|e| {
                        SweepError::Resume(format!("{} line {}: {e}", r.journal.path().display(), i + 2))
                    })?;
                    if opts.shard.contains(rec.run) && seen.insert(rec.run) {
                        records.push(rec);
                    }
                }
                (r.journal, records, r.torn_bytes)
            }
            Ok(None) => (Journal::create(out, &header).map_err(SweepError::io(out))?, Vec::new(), 0),
            Err(JournalError::Io { path, source }) => return Err(SweepError::Io { path, source }),
            Err(e @ JournalError::Mismatch { .. }) => return Err(SweepError::Resume(e.to_string())),
        }
    } else {
        (Journal::create(out, &header).map_err(SweepError::io(&out.join(JOURNAL_FILE)))?, Vec::new(), 0)
    };
    let plan_path = out.join(PLAN_FILE);
    write_atomic(&plan_path, &plan_toml(spec, &sweep.base_file, &sweep.base_text, sweep.base_seed, opts.shard))
        .map_err(SweepError::io(&plan_path))?;

    let resumed = records.len();
    let done: std::collections::BTreeSet<usize> = records.iter().map(|r| r.run).collect();
    let pending: Vec<usize> = (0..spec.runs()).filter(|&r| opts.shard.contains(r) && !done.contains(&r)).collect();
    progress.start(pending.len() + resumed, resumed);

    let detailed = opts.detailed || spec.detailed;
    let journal = Mutex::new(journal);
    let finished = Mutex::new(Vec::with_capacity(pending.len()));
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(opts.jobs)
        .thread_name(|i| format!("ecsim-sweep-{i}"))
        .build()
        .map_err(|e| SweepError::Io { path: out.clone(), source: std::io::Error::other(e) })?;
    // Each worker syncs its run's journal line before it takes the next run, so a kill at any
    // moment loses at most the runs in progress, and those are simply run again on --resume.
    let result: Result<(), Stop> = pool.install(|| {
        use rayon::prelude::*;
        pending.par_iter().with_max_len(1).try_for_each(|&run| {
            if progress.should_stop() {
                return Err(Stop::Asked);
            }
            let dir = detailed.then(|| sweep.run_dir(out, run));
            let record = sweep.run_one(run, dir.as_deref());
            let row = super::runs::row(spec, &record);
            journal.lock().unwrap_or_else(|e| e.into_inner()).append(&row).map_err(Stop::Journal)?;
            progress.finished(&record);
            finished.lock().unwrap_or_else(|e| e.into_inner()).push(record);
            Ok(())
        })
    });
    progress.end();
    let journal_path = out.join(JOURNAL_FILE);
    let ran = finished.into_inner().unwrap_or_else(|e| e.into_inner());
    match result {
        Ok(()) => {}
        Err(Stop::Journal(source)) => return Err(SweepError::Io { path: journal_path, source }),
        Err(Stop::Asked) => {
            return Err(SweepError::Interrupted {
                done: resumed + ran.len(),
                total: resumed + pending.len(),
                journal: journal_path,
            });
        }
    }
    records.extend(ran);
    records.sort_by_key(|r| r.run);
    write_outputs(spec, &records, out, opts.shard, torn_bytes, resumed)
}

/// Writes `runs.csv` and, for a whole sweep, `aggregate.csv` and the charts.
fn write_outputs(
    spec: &SweepSpec,
    records: &[RunRecord],
    out: &Path,
    shard: Shard,
    torn_bytes: u64,
    resumed: usize,
) -> Result<SweepOutcome, SweepError> {
    let path = out.join("runs.csv");
    write_atomic(&path, &runs_csv(spec, records)).map_err(SweepError::io(&path))?;
    let mut points = Vec::new();
    if shard.is_whole() {
        points = aggregate(spec, records);
        let path = out.join("aggregate.csv");
        write_atomic(&path, &aggregate_csv(spec, &points)).map_err(SweepError::io(&path))?;
        let charts = crate::output::charts::sweep_charts(spec, &points);
        crate::output::write_charts(&out.join("charts"), &charts).map_err(SweepError::io(&out.join("charts")))?;
    }
    Ok(SweepOutcome {
        out: out.to_path_buf(),
        shard,
        recorded: records.len(),
        resumed,
        torn_bytes,
        failed: records.iter().filter(|r| r.outcome.is_err()).count(),
        points,
    })
}

/// Joins the output folders of a sweep's shards into the files one machine would have written:
/// every shard of the same sweep must be there, each once, and finished.
pub fn merge(dirs: &[PathBuf], out: &Path) -> Result<SweepOutcome, SweepError> {
    if dirs.is_empty() {
        return Err(SweepError::Merge("name the shards' output folders".into()));
    }
    let mut plans = Vec::new();
    for d in dirs {
        plans.push(read_plan(d).map_err(SweepError::Merge)?);
    }
    let first = &plans[0];
    let count = first.shard.count;
    let mut seen: Vec<Option<&Path>> = vec![None; count];
    for (d, p) in dirs.iter().zip(&plans) {
        if p.fingerprint != first.fingerprint {
            return Err(SweepError::Merge(format!(
                "{} and {} hold different sweeps (the sweep file, its base scenario or --set differ)",
                dirs[0].display(),
                d.display()
            )));
        }
        if p.shard.count != count {
            return Err(SweepError::Merge(format!(
                "{} is shard {} but {} is shard {}: shards of one split have the same count",
                dirs[0].display(),
                first.shard,
                d.display(),
                p.shard
            )));
        }
        if let Some(other) = seen[p.shard.index] {
            return Err(SweepError::Merge(format!(
                "{} and {} are both shard {}",
                other.display(),
                d.display(),
                p.shard
            )));
        }
        seen[p.shard.index] = Some(d);
    }
    let missing: Vec<String> =
        seen.iter().enumerate().filter(|(_, s)| s.is_none()).map(|(i, _)| format!("{i}/{count}")).collect();
    if !missing.is_empty() {
        return Err(SweepError::Merge(format!("shard {} missing", missing.join(", "))));
    }
    let spec = &first.spec;
    let mut records = Vec::with_capacity(spec.runs());
    for (d, p) in dirs.iter().zip(&plans) {
        let path = d.join("runs.csv");
        let text = std::fs::read_to_string(&path).map_err(|e| {
            SweepError::Merge(if e.kind() == std::io::ErrorKind::NotFound {
                format!("{} has no runs.csv: shard {} did not finish; run it again with --resume", d.display(), p.shard)
            } else {
                format!("{}: {e}", path.display())
            })
        })?;
        let rs = read_runs_csv(spec, &text).map_err(|e| SweepError::Merge(format!("{}: {e}", path.display())))?;
        if let Some(r) = rs.iter().find(|r| !p.shard.contains(r.run)) {
            return Err(SweepError::Merge(format!("{}: run {} is not in shard {}", path.display(), r.run, p.shard)));
        }
        records.extend(rs);
    }
    records.sort_by_key(|r| r.run);
    if let Some(w) = records.windows(2).find(|w| w[0].run == w[1].run) {
        return Err(SweepError::Merge(format!("run {} appears twice", w[0].run)));
    }
    if records.len() != spec.runs() {
        let have: std::collections::BTreeSet<usize> = records.iter().map(|r| r.run).collect();
        let lacking = (0..spec.runs()).find(|r| !have.contains(r)).unwrap_or(0);
        return Err(SweepError::Merge(format!(
            "the shards hold {} of the sweep's {} runs (run {lacking} is missing): was a shard interrupted? run it again with --resume",
            records.len(),
            spec.runs()
        )));
    }
    std::fs::create_dir_all(out).map_err(SweepError::io(out))?;
    let plan_path = out.join(PLAN_FILE);
    let plan = plan_toml(spec, &first.base_file, &first.base_text, first.base_seed, Shard::WHOLE);
    write_atomic(&plan_path, &plan).map_err(SweepError::io(&plan_path))?;
    write_outputs(spec, &records, out, Shard::WHOLE, 0, 0)
}
