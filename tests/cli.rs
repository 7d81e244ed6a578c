//! The real binary, end to end: what it writes, what it prints, and its exit codes
//! (0 success, 1 failed check or internal error, 2 bad input with nothing written).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn ecsim(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ecsim")).args(args).current_dir(dir).output().expect("run ecsim")
}

fn scenarios() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios")
}

/// A fresh temporary folder, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        let p = std::env::temp_dir().join(format!("ecsim-cli-{tag}-{}", std::process::id()));
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

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

#[test]
fn run_writes_the_three_csv_files_with_their_columns() {
    let tmp = TempDir::new("run");
    let out = tmp.0.join("out");
    let o =
        ecsim(&["run", scenarios().join("quickstart.toml").to_str().unwrap(), "--out", out.to_str().unwrap()], &tmp.0);
    assert!(o.status.success(), "{}", text(&o));
    let header = |f: &str| std::fs::read_to_string(out.join(f)).unwrap().lines().next().unwrap().to_string();
    assert!(header("timeseries.csv").starts_with("time_s,service,desired,running,pending"));
    assert_eq!(header("events.csv"), "time_s,kind,service,task,instance,detail");
    assert!(header("summary.csv").starts_with("service,scheduling_strategy,desired,running,pending"));
    // No temporary files are left behind: the three CSV files, the scenario as run (for the
    // report) and the charts' folder.
    let mut names: Vec<String> =
        std::fs::read_dir(&out).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    assert_eq!(names, ["charts", "events.csv", "run.toml", "summary.csv", "timeseries.csv"]);
}

#[test]
fn run_defaults_to_results_named_after_the_scenario() {
    let tmp = TempDir::new("default-out");
    let o = ecsim(&["run", scenarios().join("static-host-port.toml").to_str().unwrap()], &tmp.0);
    assert!(o.status.success(), "{}", text(&o));
    assert!(tmp.0.join("results/static-host-port/summary.csv").is_file());
}

#[test]
fn set_and_seed_override_the_file() {
    let tmp = TempDir::new("set");
    let out = tmp.0.join("out");
    let file = scenarios().join("dynamic-host-port.toml");
    let o = ecsim(
        &[
            "run",
            file.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--seed",
            "5",
            "--set",
            "services.web.desired_count=3",
        ],
        &tmp.0,
    );
    assert!(o.status.success(), "{}", text(&o));
    let summary = std::fs::read_to_string(out.join("summary.csv")).unwrap();
    let row: Vec<&str> = summary.lines().nth(1).unwrap().split(',').collect();
    assert_eq!((row[2], row[3]), ("3", "3"), "{summary}");
}

#[test]
fn bad_input_exits_2_with_file_line_column_and_key_and_writes_nothing() {
    let tmp = TempDir::new("bad");
    let mut text_in = std::fs::read_to_string(scenarios().join("quickstart.toml")).unwrap();
    text_in = text_in.replace("desired_count = 6", "desired_count = \"six\"");
    let bad = tmp.0.join("bad.toml");
    std::fs::write(&bad, &text_in).unwrap();
    let out = tmp.0.join("out");
    let o = ecsim(&["run", bad.to_str().unwrap(), "--out", out.to_str().unwrap()], &tmp.0);
    assert_eq!(o.status.code(), Some(2));
    let msg = text(&o);
    let line = text_in.lines().position(|l| l.contains("\"six\"")).unwrap() + 1;
    assert!(msg.contains(&format!("bad.toml:{line}:17")), "{msg}");
    assert!(msg.contains("services.web.desired_count"), "{msg}");
    assert!(!msg.contains("panicked"), "{msg}");
    assert!(!out.exists());
}

#[test]
fn an_unknown_key_gets_a_suggestion() {
    let tmp = TempDir::new("typo");
    let text_in = std::fs::read_to_string(scenarios().join("quickstart.toml"))
        .unwrap()
        .replace("desired_capacity", "desired_capacty");
    let bad = tmp.0.join("typo.toml");
    std::fs::write(&bad, text_in).unwrap();
    let o = ecsim(&["validate", bad.to_str().unwrap()], &tmp.0);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).contains("did you mean `desired_capacity`?"), "{}", text(&o));
}

#[test]
fn a_bad_override_is_named_by_its_argument() {
    let tmp = TempDir::new("bad-set");
    let o = ecsim(
        &["validate", scenarios().join("quickstart.toml").to_str().unwrap(), "--set", "services.web.desired_count=-1"],
        &tmp.0,
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).contains("--set services.web.desired_count=-1"), "{}", text(&o));
}

#[test]
fn a_missing_file_exits_2() {
    let tmp = TempDir::new("missing");
    let o = ecsim(&["run", "nope.toml"], &tmp.0);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).contains("nope.toml"));
}

#[test]
fn validate_accepts_every_bundled_scenario() {
    let tmp = TempDir::new("validate");
    for entry in std::fs::read_dir(scenarios()).unwrap() {
        let p = entry.unwrap().path();
        if p.extension().is_some_and(|e| e == "toml") {
            let o = ecsim(&["validate", p.to_str().unwrap()], &tmp.0);
            assert!(o.status.success(), "{}: {}", p.display(), text(&o));
        }
    }
}

#[test]
fn check_runs_a_folder_and_fails_on_a_bad_file() {
    let tmp = TempDir::new("check");
    std::fs::copy(scenarios().join("static-host-port.toml"), tmp.0.join("good.toml")).unwrap();
    let o = ecsim(&["check", tmp.0.to_str().unwrap()], &tmp.0);
    assert!(o.status.success(), "{}", text(&o));
    std::fs::write(tmp.0.join("broken.toml"), "name = 3\n").unwrap();
    let o = ecsim(&["check", tmp.0.to_str().unwrap()], &tmp.0);
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o).contains("broken.toml"));
}

#[test]
fn check_prints_the_why_and_the_measured_value_of_a_failed_expectation() {
    let tmp = TempDir::new("expect");
    let mut text_in = std::fs::read_to_string(scenarios().join("static-host-port.toml")).unwrap();
    text_in += "\n[[expect]]\nsummary = \"running\"\nop = \">=\"\nvalue = 1000000\nwhy = \"deliberately impossible\"\n";
    let f = tmp.0.join("broken.toml");
    std::fs::write(&f, text_in).unwrap();
    let o = ecsim(&["check", f.to_str().unwrap()], &tmp.0);
    assert_eq!(o.status.code(), Some(1));
    let out = text(&o);
    assert!(out.contains("deliberately impossible"), "{out}");
    assert!(out.contains("summary running over all services is 4 (expected >= 1000000)"), "{out}");
}

#[test]
fn explain_tells_the_story_in_the_consoles_words_and_writes_nothing() {
    let tmp = TempDir::new("explain");
    let o = ecsim(&["explain", scenarios().join("static-host-port.toml").to_str().unwrap()], &tmp.0);
    assert!(o.status.success(), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout).split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(out.contains("(service web) has started 4 tasks of web:1"), "{out}");
    assert!(
        out.contains("service web was unable to place a task because no container instance met all of its requirements. The closest matching container-instance web-1 is already using a port required by your task. [RESOURCE:PORTS]"),
        "{out}"
    );
    assert!(out.contains("why: each task of web maps host port 80"), "{out}");
    // Fourteen quiet minutes with two tasks waiting are one line.
    assert!(out.contains("01:00–15:00 web: desired 6, running 4, pending 2 · 4 instances"), "{out}");
    assert!(out.contains("Expectations: 3 of 3 hold"), "{out}");
    assert_eq!(std::fs::read_dir(&tmp.0).unwrap().count(), 0, "explain writes no files");
}

#[test]
fn explain_takes_overrides_and_refuses_bad_input() {
    let tmp = TempDir::new("explain-set");
    let file = scenarios().join("static-host-port.toml");
    let o = ecsim(&["explain", file.to_str().unwrap(), "--set", "services.web.desired_count=4"], &tmp.0);
    assert!(o.status.success(), "{}", text(&o));
    assert!(!text(&o).contains("unable to place"), "{}", text(&o));
    let o = ecsim(&["explain", file.to_str().unwrap(), "--set", "services.web.desired_cont=4"], &tmp.0);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let o = ecsim(&["explain", "nope.toml"], &tmp.0);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
}

#[test]
fn check_runs_an_exercise_as_shipped_when_named_and_with_its_solution_when_found_deeper() {
    let tmp = TempDir::new("exercises");
    let dir = tmp.0.join("scenarios/exercises");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy(scenarios().join("exercises/pending-tasks.toml"), dir.join("pending-tasks.toml")).unwrap();

    // Found while walking a folder named on the command line: checked with its solution.
    let o = ecsim(&["check", "scenarios"], &tmp.0);
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        text(&o).contains("ok    scenarios/exercises/pending-tasks.toml (exercise with its solution applied"),
        "{}",
        text(&o)
    );
    assert!(text(&o).contains("1 exercises checked with their solutions"), "{}", text(&o));

    // The folder that holds it, or the file itself: checked as shipped, and says what is off.
    for named in ["scenarios/exercises", "scenarios/exercises/", "scenarios/exercises/pending-tasks.toml"] {
        let o = ecsim(&["check", named], &tmp.0);
        assert_eq!(o.status.code(), Some(1), "{named}: {}", text(&o));
        let out = text(&o);
        assert!(out.contains("(exercise as shipped: 3 of 5 expectations still fail)"), "{named}: {out}");
        assert!(
            out.contains("- all 6 tasks run\n        summary running over all services is 3 (expected == 6)"),
            "{out}"
        );
    }

    // Named both ways, it is checked once, as shipped.
    let o = ecsim(&["check", "scenarios", "scenarios/exercises/pending-tasks.toml"], &tmp.0);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert_eq!(text(&o).matches("pending-tasks.toml").count(), 1, "{}", text(&o));
}

#[test]
fn check_help_says_how_exercises_are_checked() {
    let tmp = TempDir::new("check-help");
    let o = ecsim(&["check", "--help"], &tmp.0);
    assert!(o.status.success(), "{}", text(&o));
    let out = text(&o).split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        out.contains("checked as shipped when the file is named here or lies directly in a folder named here"),
        "{out}"
    );
    assert!(out.contains("with its solution's --set overrides applied"), "{out}");
}
