//! Sweeps end to end: determinism across thread counts, shards that merge into the same bytes,
//! resuming after a torn journal, failed combinations, the feasible / best / Pareto marks, and
//! the command line's exit codes and messages.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use ecsim::sweep::{NoProgress, RunOptions, Shard, Sweep, execute, merge};

/// A fresh temporary folder, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        let p = std::env::temp_dir().join(format!("ecsim-sweep-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A quick base scenario: static host port 80, so one task per instance; no traffic.
const BASE: &str = r#"
version = 1
name = "fixture"
description = "One task per instance: a static host port."
seed = 3
duration = "10m"

[cluster]
availability_zones = ["us-east-1a", "us-east-1b"]

[[cluster.auto_scaling_groups]]
name = "g"
instance_type = "m5.large"
desired_capacity = 2

[task_definitions.web]
cpu = 256
memory = 512

[[task_definitions.web.containers]]
name = "app"
image = "nginx"
port_mappings = [{ container_port = 80, host_port = 80 }]

[services.web]
task_definition = "web"
desired_count = 2
"#;

/// 3 capacities × 2 task counts × 2 replicates: the cheapest group that runs every task.
const SWEEP: &str = r#"
name = "fixture-plan"
base = "base.toml"
replicates = 2
metrics = ["running", "pending_task_minutes", "cost_usd"]
minimize = "cost_usd"
constraints = ["pending_task_minutes == 0"]

[[parameters]]
name = "instances"
path = "cluster.auto_scaling_groups[0].desired_capacity"
values = [1, 2, 3]

[[parameters]]
path = "services.web.desired_count"
values = [1, 2]
"#;

fn write_fixture(dir: &Path, sweep: &str) -> PathBuf {
    std::fs::write(dir.join("base.toml"), BASE).unwrap();
    let path = dir.join("plan.toml");
    std::fs::write(&path, sweep).unwrap();
    path
}

fn load(dir: &Path, sweep: &str) -> Sweep {
    Sweep::from_path(&write_fixture(dir, sweep), &[]).unwrap()
}

fn run(sweep: &Sweep, out: &Path, jobs: usize, shard: Shard, resume: bool) -> ecsim::sweep::SweepOutcome {
    let opts = RunOptions { out: out.to_path_buf(), jobs, shard, resume, detailed: false };
    execute(sweep, &opts, &NoProgress).unwrap()
}

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

#[test]
fn results_do_not_depend_on_the_number_of_threads() {
    let tmp = TempDir::new("jobs");
    let sweep = load(&tmp.0, SWEEP);
    run(&sweep, &tmp.0.join("j1"), 1, Shard::WHOLE, false);
    run(&sweep, &tmp.0.join("j2"), 2, Shard::WHOLE, false);
    run(&sweep, &tmp.0.join("j3"), 3, Shard::WHOLE, false);
    for f in ["runs.csv", "aggregate.csv", "charts/cost_usd.svg"] {
        let one = read(&tmp.0.join("j1").join(f));
        assert_eq!(one, read(&tmp.0.join("j2").join(f)), "{f}");
        assert_eq!(one, read(&tmp.0.join("j3").join(f)), "{f}");
    }
}

#[test]
fn the_cheapest_feasible_point_is_marked_best() {
    let tmp = TempDir::new("best");
    let sweep = load(&tmp.0, SWEEP);
    let out = run(&sweep, &tmp.0.join("out"), 2, Shard::WHOLE, false);
    assert_eq!(out.recorded, 12);
    assert_eq!(out.failed, 0);
    let runs = read(&tmp.0.join("out/runs.csv"));
    let header = runs.lines().next().unwrap();
    assert_eq!(
        header,
        "run,point,replicate,seed,instances,desired_count,status,running,pending_task_minutes,cost_usd,meets_constraints,error"
    );
    // Point 1 (one instance, two tasks): one task cannot be placed, every minute.
    let row: Vec<&str> = runs.lines().nth(3).unwrap().split(',').collect();
    assert_eq!(&row[..2], ["2", "1"]);
    assert_eq!((row[7], row[10]), ("1", "false"));
    assert!(row[8].parse::<u64>().unwrap() >= 9, "{row:?}");

    let agg = read(&tmp.0.join("out/aggregate.csv"));
    let rows: Vec<Vec<&str>> = agg.lines().skip(1).map(|l| l.split(',').collect()).collect();
    let h: Vec<&str> = agg.lines().next().unwrap().split(',').collect();
    let col = |name: &str| h.iter().position(|c| *c == name).unwrap();
    let (feasible, best, pareto) = (col("feasible"), col("best"), col("pareto"));
    // Points: (1 instance, 1 task), (1, 2), (2, 1), (2, 2), (3, 1), (3, 2). One instance cannot
    // run two tasks that both want host port 80; one instance for one task is the cheapest plan.
    assert_eq!((rows[0][feasible], rows[0][best]), ("true", "true"));
    assert_eq!((rows[1][feasible], rows[1][best]), ("false", "false"));
    assert_eq!(rows.iter().filter(|r| r[best] == "true").count(), 1);
    // A point is feasible exactly when each of its replicates met the constraints.
    let run_rows: Vec<Vec<&str>> = runs.lines().skip(1).map(|l| l.split(',').collect()).collect();
    for (p, r) in rows.iter().enumerate() {
        let all_met = run_rows.iter().filter(|x| x[1] == p.to_string()).all(|x| x[10] == "true");
        assert_eq!(r[feasible] == "true", all_met, "point {p}");
    }
    // The front of cost (lower better) against pending task-minutes (lower better) holds the
    // cheapest plan, which nothing beats on either, and not the one that leaves a task unplaced
    // at the same cost.
    assert_eq!(rows[0][pareto], "true");
    assert_eq!(rows[1][pareto], "false");
    // Every replicate gives the same cost here: sd 0, the interval collapses on the mean.
    let cost = col("cost_usd_mean");
    assert_eq!(rows[0][cost + 1], "0.0000");
    assert_eq!(rows[0][cost + 2], rows[0][cost]);
    assert!(h.contains(&"cost_usd_ci95_high"));
}

#[test]
fn shards_merge_into_the_single_machine_files() {
    let tmp = TempDir::new("merge");
    let sweep = load(&tmp.0, SWEEP);
    run(&sweep, &tmp.0.join("whole"), 2, Shard::WHOLE, false);
    let shards: Vec<PathBuf> = (0..3).map(|i| tmp.0.join(format!("s{i}"))).collect();
    for (i, dir) in shards.iter().enumerate() {
        let o = run(&sweep, dir, 1, Shard::new(i, 3).unwrap(), false);
        assert_eq!(o.recorded, 4);
        assert!(!dir.join("aggregate.csv").exists(), "a shard writes no partial aggregate");
    }
    // In any order.
    let order = [shards[2].clone(), shards[0].clone(), shards[1].clone()];
    merge(&order, &tmp.0.join("merged")).unwrap();
    for f in ["runs.csv", "aggregate.csv"] {
        assert_eq!(read(&tmp.0.join("whole").join(f)), read(&tmp.0.join("merged").join(f)), "{f}");
    }
    // A missing or doubled shard is refused.
    let e = merge(&shards[..2], &tmp.0.join("m2")).unwrap_err().to_string();
    assert!(e.contains("shard 2/3 missing"), "{e}");
    let e = merge(&[shards[0].clone(), shards[0].clone(), shards[1].clone()], &tmp.0.join("m3")).unwrap_err();
    assert!(e.to_string().contains("both shard 0/3"), "{e}");
    // Shards of another sweep are refused.
    let other = TempDir::new("merge-other");
    let sweep2 = load(&other.0, &SWEEP.replace("replicates = 2", "replicates = 1"));
    run(&sweep2, &other.0.join("s0"), 1, Shard::new(0, 3).unwrap(), false);
    let e = merge(&[other.0.join("s0"), shards[1].clone(), shards[2].clone()], &tmp.0.join("m4")).unwrap_err();
    assert!(e.to_string().contains("different sweeps"), "{e}");
}

#[test]
fn resume_after_a_torn_journal_gives_the_same_files() {
    let tmp = TempDir::new("resume");
    let sweep = load(&tmp.0, SWEEP);
    let whole = tmp.0.join("whole");
    run(&sweep, &whole, 2, Shard::WHOLE, false);

    // An interrupted sweep: five runs in the journal and the sixth torn mid-line, no outputs.
    let journal = read(&whole.join("runs.journal"));
    let lines: Vec<&str> = journal.split_inclusive('\n').collect();
    assert_eq!(lines.len(), 13, "a header and 12 runs");
    let mut torn: String = lines[..6].concat();
    torn.push_str(&lines[6][..lines[6].len() / 2]);
    let r = tmp.0.join("r");
    std::fs::create_dir_all(&r).unwrap();
    std::fs::write(r.join("runs.journal"), &torn).unwrap();

    let o = run(&sweep, &r, 2, Shard::WHOLE, true);
    assert_eq!((o.resumed, o.recorded), (5, 12));
    assert!(o.torn_bytes > 0);
    for f in ["runs.csv", "aggregate.csv"] {
        assert_eq!(read(&whole.join(f)), read(&r.join(f)), "{f}");
    }
    // The journal now holds each run exactly once.
    let again = read(&r.join("runs.journal"));
    assert_eq!(again.lines().count(), 13);
    // Resuming a finished sweep runs nothing and writes the same files.
    let o = run(&sweep, &r, 1, Shard::WHOLE, true);
    assert_eq!((o.resumed, o.recorded), (12, 12));
    assert_eq!(read(&whole.join("runs.csv")), read(&r.join("runs.csv")));
    // Another sweep's journal is not resumed.
    let changed = load(&tmp.0, &SWEEP.replace("values = [1, 2]\n", "values = [1, 3]\n"));
    let opts = RunOptions { out: r.clone(), jobs: 1, shard: Shard::WHOLE, resume: true, detailed: false };
    let e = execute(&changed, &opts, &NoProgress).unwrap_err().to_string();
    assert!(e.contains("another sweep"), "{e}");
}

#[test]
fn a_bad_combination_fails_alone() {
    let tmp = TempDir::new("failed");
    // A negative desired count is refused by the scenario, for that point only.
    let sweep = load(&tmp.0, &SWEEP.replace("values = [1, 2]\n", "values = [1, -2]\n"));
    let o = run(&sweep, &tmp.0.join("out"), 2, Shard::WHOLE, false);
    assert_eq!((o.recorded, o.failed), (12, 6));
    let runs = read(&tmp.0.join("out/runs.csv"));
    let failed: Vec<&str> = runs.lines().filter(|l| l.contains(",failed,")).collect();
    assert_eq!(failed.len(), 6);
    assert!(failed[0].contains("--set services.web.desired_count=-2"), "{}", failed[0]);
    let agg = read(&tmp.0.join("out/aggregate.csv"));
    let second: Vec<&str> = agg.lines().nth(2).unwrap().split(',').collect();
    // ok_runs 0, failed_runs 2, empty statistics, not feasible.
    assert_eq!(&second[3..6], ["0", "2", ""]);
    assert!(second.ends_with(&["false", "false", "false"]));
}

#[test]
fn detailed_sweeps_keep_each_runs_files() {
    let tmp = TempDir::new("detailed");
    let sweep = load(&tmp.0, &SWEEP.replace("replicates = 2", "replicates = 1"));
    let out = tmp.0.join("out");
    let opts = RunOptions { out: out.clone(), jobs: 2, shard: Shard::WHOLE, resume: false, detailed: true };
    execute(&sweep, &opts, &NoProgress).unwrap();
    let run = out.join("runs/p5-r0");
    assert_eq!(sweep.run_dir(&out, 5), run);
    for f in ["summary.csv", "timeseries.csv", "events.csv", "charts/tasks.svg", "run.toml"] {
        assert!(run.join(f).is_file(), "{f}");
    }
    // The run's own summary agrees with its row in runs.csv.
    let summary = read(&run.join("summary.csv"));
    let running = summary.lines().nth(1).unwrap().split(',').nth(3).unwrap().to_string();
    let row = read(&out.join("runs.csv")).lines().nth(6).unwrap().to_string();
    assert_eq!(row.split(',').nth(7).unwrap(), running, "{row}");
    assert!(read(&run.join("run.toml")).contains("description = \"One task per instance: a static host port.\""));
}

#[test]
fn seeds_follow_the_plan_and_common_random_numbers_share_them() {
    let tmp = TempDir::new("seeds");
    let sweep = load(&tmp.0, SWEEP);
    assert_eq!(sweep.seed_of(0), ecsim::sweep::run_seed(3, 0, 0));
    assert_eq!(sweep.seed_of(5), ecsim::sweep::run_seed(3, 2, 1));
    assert_ne!(sweep.seed_of(0), sweep.seed_of(2));
    let crn = load(&tmp.0, &SWEEP.replace("replicates = 2", "replicates = 2\ncommon_random_numbers = true\nseed = 9"));
    assert_eq!(crn.seed_of(0), crn.seed_of(2));
    assert_eq!(crn.seed_of(1), ecsim::sweep::run_seed(9, 0, 1));
}

// ---- the command line

fn ecsim(args: &[&str], dir: &Path, env: &[(&str, &str)]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_ecsim"));
    c.args(args).current_dir(dir);
    for k in ["SLURM_ARRAY_TASK_ID", "SLURM_ARRAY_TASK_COUNT", "AWS_BATCH_JOB_ARRAY_INDEX", "JOB_COMPLETION_INDEX"] {
        c.env_remove(k);
    }
    c.envs(env.iter().copied());
    c.output().expect("run ecsim")
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

#[test]
fn the_cli_runs_shards_from_batch_engine_variables_and_merges_them() {
    let tmp = TempDir::new("cli");
    write_fixture(&tmp.0, SWEEP);
    let o = ecsim(&["sweep", "plan.toml", "--out", "whole", "--jobs", "2"], &tmp.0, &[]);
    assert!(o.status.success(), "{}", text(&o));
    let t = text(&o);
    assert!(t.contains("6 points × 2 replicates = 12 runs"), "{t}");
    assert!(t.contains("best plan (minimize cost_usd"), "{t}");
    assert!(tmp.0.join("whole/charts/cost_usd.svg").is_file());
    assert!(tmp.0.join("whole/charts/pareto.svg").is_file());

    let shard = |i: &str, var: &str, extra: &[&str]| {
        let out = format!("k{i}");
        let mut args = vec!["sweep", "plan.toml", "--out", out.as_str(), "--jobs", "1"];
        args.extend_from_slice(extra);
        let o = ecsim(&args, &tmp.0, &[(var, i)]);
        assert!(o.status.success(), "{}", text(&o));
        assert!(text(&o).contains(&format!("running shard {i}/3 ({var} is set)")), "{}", text(&o));
    };
    shard("0", "JOB_COMPLETION_INDEX", &["--shard-count", "3"]);
    shard("1", "AWS_BATCH_JOB_ARRAY_INDEX", &["--shard-count", "3"]);
    let o = ecsim(
        &["sweep", "plan.toml", "--out", "k2", "--jobs", "1"],
        &tmp.0,
        &[("SLURM_ARRAY_TASK_ID", "2"), ("SLURM_ARRAY_TASK_COUNT", "3")],
    );
    assert!(o.status.success(), "{}", text(&o));
    let o = ecsim(&["merge", "k0", "k1", "k2", "--out", "merged"], &tmp.0, &[]);
    assert!(o.status.success(), "{}", text(&o));
    for f in ["runs.csv", "aggregate.csv"] {
        assert_eq!(read(&tmp.0.join("whole").join(f)), read(&tmp.0.join("merged").join(f)), "{f}");
    }
    // An index without a count is bad input.
    let o = ecsim(&["sweep", "plan.toml", "--out", "x"], &tmp.0, &[("JOB_COMPLETION_INDEX", "1")]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("--shard-count"), "{}", text(&o));
    assert!(!tmp.0.join("x").exists());
}

#[test]
fn bad_sweep_files_exit_2_with_the_place_and_nothing_written() {
    let tmp = TempDir::new("bad");
    let cases = [
        (
            SWEEP.replace("replicates = 2", "replicate = 2"),
            "plan.toml:4:1: key `replicate`",
            "did you mean `replicates`?",
        ),
        (
            SWEEP.replace("services.web.desired_count", "services.web.desired_cont"),
            "plan.toml:15:8: key `parameters[1].path`",
            "did you mean `desired_count`?",
        ),
        (SWEEP.replace("base.toml", "nothere.toml"), "plan.toml:3:8: key `base`", "cannot read the base scenario"),
        (SWEEP.replace("\"pending_task_minutes == 0\"", "\"p99 < 3\""), "plan.toml:7:16", "not a summary.csv column"),
        (SWEEP.replace("values = [1, 2, 3]", "values = []"), "plan.toml:12:10", "at least one value"),
    ];
    for (sweep, at, says) in cases {
        write_fixture(&tmp.0, &sweep);
        let o = ecsim(&["sweep", "plan.toml", "--out", "out"], &tmp.0, &[]);
        let t = text(&o);
        assert_eq!(o.status.code(), Some(2), "{t}");
        assert!(t.contains(at), "expected {at} in:\n{t}");
        assert!(t.contains(says), "expected {says} in:\n{t}");
        assert!(!t.contains("panicked"), "{t}");
        assert!(!tmp.0.join("out").exists(), "bad input wrote {t}");
    }
    // A base scenario that does not stand on its own.
    write_fixture(&tmp.0, SWEEP);
    std::fs::write(tmp.0.join("base.toml"), BASE.replace("desired_count = 2", "desired_count = \"two\"")).unwrap();
    let o = ecsim(&["sweep", "plan.toml", "--out", "out"], &tmp.0, &[]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("the base scenario of plan.toml"), "{}", text(&o));
    // Bad flags and folders.
    for args in [
        &["sweep", "plan.toml", "--shard", "3/3"][..],
        &["sweep", "missing.toml"],
        &["merge", "nowhere", "--out", "m"],
        &["report", "nowhere"],
    ] {
        let o = ecsim(args, &tmp.0, &[]);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", text(&o));
        assert!(!text(&o).contains("panicked"), "{}", text(&o));
    }
}

#[test]
fn check_skips_sweep_files() {
    let tmp = TempDir::new("check");
    write_fixture(&tmp.0, SWEEP);
    let o = ecsim(&["check", "."], &tmp.0, &[]);
    let t = text(&o);
    assert!(o.status.success(), "{t}");
    assert!(t.contains("skip  ./plan.toml (a sweep file"), "{t}");
    assert!(t.contains("1 scenarios, 1 passed, 0 failed, 1 sweep files skipped"), "{t}");
}

// ---- nothing lost: killed, interrupted, unwritable

/// A base scenario whose runs take a while (traffic for 30 simulated minutes), so that a kill
/// lands in the middle of the sweep.
const SLOW_BASE: &str = r#"
version = 1
name = "slow"
seed = 5
duration = "30m"

[cluster]
availability_zones = ["us-east-1a", "us-east-1b"]

[[cluster.auto_scaling_groups]]
name = "g"
instance_type = "m5.large"
desired_capacity = 2

[task_definitions.web]
cpu = 512
memory = 512

[[task_definitions.web.containers]]
name = "app"
image = "nginx"
port_mappings = [{ container_port = 80, host_port = 0 }]

[target_groups.web]

[services.web]
task_definition = "web"
desired_count = 2
load_balancer = { target_group = "web", container_name = "app", container_port = 80 }

[workloads.web]
target_group = "web"
arrivals = { pattern = "diurnal", mean = 20, amplitude = 10, period = "30m" }
service_time = { dist = "exponential", mean = "20ms" }
"#;

const SLOW_SWEEP: &str = r#"
name = "slow-plan"
base = "base.toml"
replicates = 3
metrics = ["requests", "p99_ms", "cost_usd"]
minimize = "cost_usd"

[[parameters]]
path = "services.web.desired_count"
values = [1, 2, 3, 4]
"#;

fn write_slow_fixture(dir: &Path) {
    std::fs::write(dir.join("base.toml"), SLOW_BASE).unwrap();
    std::fs::write(dir.join("plan.toml"), SLOW_SWEEP).unwrap();
}

/// Runs recorded in a sweep folder's journal so far (its lines but the header).
fn journal_runs(out: &Path) -> usize {
    std::fs::read(out.join("runs.journal")).map_or(0, |b| b.iter().filter(|&&c| c == b'\n').count().saturating_sub(1))
}

fn spawn_sweep(dir: &Path, out: &str) -> std::process::Child {
    let mut c = Command::new(env!("CARGO_BIN_EXE_ecsim"));
    c.args(["sweep", "plan.toml", "--out", out, "--jobs", "2", "--resume"]).current_dir(dir);
    c.stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped());
    c.spawn().expect("start ecsim")
}

/// Every file under `dir` (relative path, bytes), the journal aside: its lines are in the order
/// the runs finished.
fn tree(dir: &Path) -> Vec<(String, Vec<u8>)> {
    fn walk(root: &Path, d: &Path, out: &mut Vec<(String, Vec<u8>)>) {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(d).unwrap().map(|e| e.unwrap().path()).collect();
        entries.sort();
        for p in entries {
            if p.is_dir() {
                walk(root, &p, out);
            } else if p.file_name().is_some_and(|n| n != "runs.journal") {
                out.push((p.strip_prefix(root).unwrap().display().to_string(), std::fs::read(&p).unwrap()));
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out
}

fn names(t: &[(String, Vec<u8>)]) -> Vec<&str> {
    t.iter().map(|(n, _)| n.as_str()).collect()
}

/// Waits until `f` holds or the child exits; true if `f` held.
fn wait_for(child: &mut std::process::Child, f: impl Fn() -> bool) -> bool {
    let start = std::time::Instant::now();
    while start.elapsed() < std::time::Duration::from_secs(120) {
        if f() {
            return true;
        }
        if child.try_wait().unwrap().is_some() {
            return f();
        }
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    panic!("the sweep neither progressed nor ended in two minutes");
}

#[test]
fn a_sweep_killed_at_any_moment_resumes_to_the_same_bytes() {
    let tmp = TempDir::new("sigkill");
    write_slow_fixture(&tmp.0);
    let o = ecsim(&["sweep", "plan.toml", "--out", "whole", "--jobs", "2"], &tmp.0, &[]);
    assert!(o.status.success(), "{}", text(&o));
    let whole = tree(&tmp.0.join("whole"));
    let runs = 12;

    // SIGKILL again and again: right after a run is recorded, a few milliseconds later (in
    // the middle of the next run or of a journal write), or as soon as the process starts;
    // then --resume, until a resumed sweep ends by itself.
    let out = tmp.0.join("killed");
    let delays = [0u64, 3, 0, 17, 1, 40, 0, 9, 0, 25, 2, 60];
    let mut kills = 0;
    for (attempt, delay) in delays.iter().cycle().enumerate() {
        assert!(attempt < 100, "the sweep never finished");
        let before = journal_runs(&out);
        let mut child = spawn_sweep(&tmp.0, "killed");
        let progressed = attempt % 5 == 4 || wait_for(&mut child, || journal_runs(&out) > before);
        std::thread::sleep(std::time::Duration::from_millis(*delay));
        if progressed && child.try_wait().unwrap().is_none() {
            child.kill().unwrap();
            kills += 1;
        }
        let o = child.wait_with_output().unwrap();
        let recorded = journal_runs(&out);
        assert!(recorded <= runs, "the journal holds {recorded} lines for {runs} runs");
        if o.status.success() {
            break;
        }
    }
    eprintln!("{kills} kills landed");
    assert!(kills >= 3, "only {kills} kills landed");
    let killed = tree(&out);
    assert_eq!(names(&killed), names(&whole), "the same files, no temporaries left");
    for ((name, a), (_, b)) in killed.iter().zip(&whole) {
        assert!(a == b, "{name} differs after {kills} kills");
    }
    // Each run once in the journal.
    let journal = read(&out.join("runs.journal"));
    let mut ids: Vec<&str> = journal.lines().skip(1).map(|l| l.split([' ', ',']).nth(1).unwrap()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), runs, "{journal}");
}

#[cfg(unix)]
#[test]
fn sigint_stops_a_sweep_cleanly_and_resume_finishes_it() {
    let tmp = TempDir::new("sigint");
    write_slow_fixture(&tmp.0);
    let o = ecsim(&["sweep", "plan.toml", "--out", "whole", "--jobs", "2"], &tmp.0, &[]);
    assert!(o.status.success(), "{}", text(&o));

    let out = tmp.0.join("stopped");
    let mut child = spawn_sweep(&tmp.0, "stopped");
    assert!(wait_for(&mut child, || journal_runs(&out) >= 1), "no run finished");
    let kill = Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap();
    assert!(kill.success());
    let o = child.wait_with_output().unwrap();
    let t = text(&o);
    assert_eq!(o.status.code(), Some(130), "{t}");
    assert!(t.contains("interrupted") && t.contains("--resume"), "{t}");
    assert!(!t.contains("panicked"), "{t}");
    let kept = journal_runs(&out);
    assert!((1..12).contains(&kept), "{kept} runs kept");
    // Stopped means no outputs of a finished sweep, and a journal that reads to its end.
    assert!(!out.join("runs.csv").exists());
    assert!(read(&out.join("runs.journal")).ends_with('\n'));

    let o = ecsim(&["sweep", "plan.toml", "--out", "stopped", "--jobs", "2", "--resume"], &tmp.0, &[]);
    let t = text(&o);
    assert!(o.status.success(), "{t}");
    assert!(t.contains(&format!("resumed: {kept} runs were already done, {} ran now", 12 - kept)), "{t}");
    let (a, b) = (tree(&out), tree(&tmp.0.join("whole")));
    assert_eq!(names(&a), names(&b));
    assert!(a == b, "the resumed sweep's files differ from the uninterrupted one's");
}

#[test]
fn an_unwritable_output_folder_is_refused_before_any_run() {
    let tmp = TempDir::new("unwritable");
    write_fixture(&tmp.0, SWEEP);
    // A folder under a plain file cannot be made, whoever runs the test (root included).
    std::fs::write(tmp.0.join("file"), "not a folder").unwrap();
    for out in ["file/out", "file"] {
        let start = std::time::Instant::now();
        let o = ecsim(&["sweep", "plan.toml", "--out", out], &tmp.0, &[]);
        let t = text(&o);
        assert_eq!(o.status.code(), Some(2), "{t}");
        assert!(t.contains("cannot write into the output folder"), "{t}");
        assert!(!t.contains("panicked") && !t.contains("runs/s"), "{t}");
        assert!(start.elapsed() < std::time::Duration::from_secs(10));
    }
    let o = ecsim(&["merge", "nowhere", "--out", "file/m"], &tmp.0, &[]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
}
