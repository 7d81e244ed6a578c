//! Fuzzed inputs, in `cargo test`: the bundled scenarios, sweep files and trace mutated line by
//! line (truncated, replaced by junk, huge numbers, NaN, deleted, doubled), random text, random
//! `--set` overrides and random durations. Whatever the input, reading it never panics and ends
//! either in a checked scenario or in an error that names where the problem is.
//!
//! The coverage-guided fuzzer (`fuzz/`, see docs/hardening.md) runs the same entry points for
//! as long as one likes; the crashes it finds become the regression tests at the end of this file.

use std::path::{Path, PathBuf};

use ecsim::Scenario;
use ecsim::model::workload::parse_trace_csv;
use ecsim::scenario::duration::{MAX_DURATION_MS, parse_duration};
use ecsim::scenario::{Location, ScenarioError};
use ecsim::sweep::{Sweep, SweepError, SweepSpec, is_sweep_text};
use proptest::prelude::*;

/// Values that break parsers: empty, unbalanced, overflowing, not a number, control characters.
const JUNK: &[&str] = &[
    "",
    "\"",
    "[[",
    "]",
    "=",
    "-1",
    "-0",
    "0",
    "1e309",
    "-1e309",
    "1e-309",
    "18446744073709551616",
    "18446744073709551615",
    "9223372036854775807",
    "-9223372036854775808",
    "4294967296",
    "65536",
    "99999999999",
    "nan",
    "inf",
    "-inf",
    "true",
    "{}",
    "[]",
    "[",
    "'x'",
    "\"\"",
    "\"é\u{0}\"",
    "\"1e309s\"",
    "\"18446744073709551616ms\"",
    "\"36525d\"",
    "\"36526d\"",
    "\"0ms\"",
    "\"nan\"",
    "\"-5s\"",
    "\"1h-5m\"",
    "\"0.0001s\"",
    "{ dist = \"lognormal\", mean = \"5s\", p99 = \"1ms\" }",
    "{ dist = \"exponential\", mean = \"0s\" }",
    "{ dist = \"uniform\", min = \"9s\", max = \"1s\" }",
    "{ dist = \"gamma\", mean = \"5s\", shape = 0.0 }",
    "{ dist = \"normal\", mean = \"5s\", sd = \"36525d\" }",
];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The files of a folder with an extension, sorted, as (path, text).
fn files(dir: &str, ext: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = std::fs::read_dir(root().join(dir))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == ext))
        .map(|p| (p.display().to_string(), std::fs::read_to_string(&p).unwrap()))
        .collect();
    out.sort();
    assert!(!out.is_empty(), "no .{ext} files in {dir}");
    out
}

/// One edit of a text, chosen by numbers that proptest shrinks.
#[derive(Clone, Debug)]
enum Mutation {
    /// Cut line `line` after `at` characters.
    Truncate {
        line: usize,
        at: usize,
    },
    /// Replace the value of line `line` (after its first `=`, or the whole line) by junk.
    Junk {
        line: usize,
        junk: usize,
    },
    Delete {
        line: usize,
    },
    /// Insert junk as a line of its own.
    Insert {
        line: usize,
        junk: usize,
    },
    /// Repeat line `line` (a duplicate key or table).
    Double {
        line: usize,
    },
    /// Replace a number in line `line` by a huge or odd one.
    Number {
        line: usize,
        junk: usize,
    },
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let line = 0usize..10_000;
    let junk = 0usize..JUNK.len();
    prop_oneof![
        (line.clone(), 0usize..200).prop_map(|(line, at)| Mutation::Truncate { line, at }),
        (line.clone(), junk.clone()).prop_map(|(line, junk)| Mutation::Junk { line, junk }),
        line.clone().prop_map(|line| Mutation::Delete { line }),
        (line.clone(), junk.clone()).prop_map(|(line, junk)| Mutation::Insert { line, junk }),
        line.clone().prop_map(|line| Mutation::Double { line }),
        (line, junk).prop_map(|(line, junk)| Mutation::Number { line, junk }),
    ]
}

fn apply(text: &str, mutations: &[Mutation]) -> String {
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    for m in mutations {
        if lines.is_empty() {
            lines.push(String::new());
        }
        let n = lines.len();
        match *m {
            Mutation::Truncate { line, at } => {
                let l = &mut lines[line % n];
                let cut = l.char_indices().nth(at % (l.chars().count() + 1)).map_or(l.len(), |(i, _)| i);
                l.truncate(cut);
            }
            Mutation::Junk { line, junk } => {
                let l = &mut lines[line % n];
                *l = match l.split_once('=') {
                    Some((key, _)) => format!("{key}= {}", JUNK[junk]),
                    None => JUNK[junk].to_string(),
                };
            }
            Mutation::Delete { line } => {
                lines.remove(line % n);
            }
            Mutation::Insert { line, junk } => lines.insert(line % (n + 1), JUNK[junk].to_string()),
            Mutation::Double { line } => {
                let l = lines[line % n].clone();
                lines.insert(line % n, l);
            }
            Mutation::Number { line, junk } => {
                let l = &mut lines[line % n];
                if let Some(start) = l.find(|c: char| c.is_ascii_digit()) {
                    let end =
                        l[start..].find(|c: char| !(c.is_ascii_digit() || c == '.')).map_or(l.len(), |e| start + e);
                    let huge = ["18446744073709551616", "1e309", "nan", "99999999999", "0", "4294967296"][junk % 6];
                    l.replace_range(start..end, huge);
                }
            }
        }
    }
    let mut out = lines.join("\n");
    out.push('\n');
    out
}

/// A scenario error must say where: a line and column inside the text (or just past its end),
/// the `--set` argument, or at least the key.
fn assert_located(e: &ScenarioError, text: &str) {
    let lines = text.lines().count() + 1;
    match e {
        ScenarioError::Invalid(d) => match &d.location {
            Location::File { line, column } => {
                assert!((1..=lines).contains(line) && *column >= 1, "location {line}:{column} outside the text: {e}");
            }
            Location::Override { argument } => assert!(!argument.is_empty(), "{e}"),
            Location::Unknown => assert!(!d.key.is_empty(), "an error with neither location nor key: {e}"),
        },
        ScenarioError::BadOverride { argument, message } => assert!(!argument.is_empty() && !message.is_empty()),
        ScenarioError::Read { .. } => {}
    }
    let shown = e.to_string();
    assert!(!shown.trim().is_empty());
}

fn check_scenario(name: &str, text: String, overrides: &[String]) {
    let copy = text.clone();
    match Scenario::from_str_named(name, text, overrides) {
        Ok(s) => {
            assert!(s.duration > 0 && s.duration <= MAX_DURATION_MS, "duration {} accepted", s.duration);
        }
        Err(e) => assert_located(&e, &copy),
    }
}

fn check_sweep(name: &str, text: String) {
    let copy = text.clone();
    match SweepSpec::parse(name, text, &[]) {
        Ok(spec) => {
            assert!(spec.runs() >= 1);
            // With its real base scenario: every parameter path is tried against it.
            let base = Path::new(name).parent().unwrap().join(&spec.base);
            if let Ok(base_text) = std::fs::read_to_string(&base) {
                match Sweep::with_base(spec, base.display().to_string(), base_text) {
                    Ok(_) => {}
                    Err(SweepError::File(e)) => assert_located(&e, &copy),
                    Err(SweepError::Base { error, .. }) => panic!("the shipped base scenario became invalid: {error}"),
                    Err(other) => panic!("unexpected error: {other}"),
                }
            }
        }
        Err(e) => assert_located(&e, &copy),
    }
}

fn check_trace(text: &str) {
    match parse_trace_csv(text) {
        Ok(data) => {
            let _ = data.length();
        }
        Err(e) => {
            let lines = text.split('\n').count();
            assert!(e.line >= 1 && e.line <= lines && e.column >= 1, "trace error at {}:{}: {e}", e.line, e.column);
            assert!(!e.message.is_empty());
        }
    }
}

/// Characters that make TOML (and CSV) interesting.
fn tomlish() -> impl Strategy<Value = String> {
    proptest::collection::vec(
        prop_oneof![
            Just("=".to_string()),
            Just("\n".to_string()),
            Just("[".to_string()),
            Just("]".to_string()),
            Just("[[".to_string()),
            Just("\"".to_string()),
            Just(",".to_string()),
            Just(".".to_string()),
            Just("{".to_string()),
            Just("}".to_string()),
            Just(" ".to_string()),
            Just("#".to_string()),
            "[a-z_]{1,12}".prop_map(|s| s),
            "[0-9]{1,25}".prop_map(|s| s),
            (0..JUNK.len()).prop_map(|i| JUNK[i].to_string()),
            any::<char>().prop_map(|c| c.to_string()),
        ],
        0..60,
    )
    .prop_map(|parts| parts.concat())
}

/// Setting paths worth overriding, from the bundled scenarios' keys.
const PATHS: &[&str] = &[
    "duration",
    "seed",
    "name",
    "version",
    "services.web.desired_count",
    "services.web.task_definition",
    "services.web.health_check_grace_period",
    "services.web.placement_strategy",
    "services.web.deployment_configuration.maximum_percent",
    "cluster.auto_scaling_groups[0].desired_capacity",
    "cluster.auto_scaling_groups[0].instance_type",
    "cluster.auto_scaling_groups[0].boot_time",
    "cluster.auto_scaling_groups[0].dynamic_host_port_range",
    "cluster.availability_zones",
    "instance_types.\"m5.large\".vcpu",
    "instance_types.\"m5.large\".memory_mib",
    "task_definitions.web.cpu",
    "task_definitions.web.memory",
    "task_definitions.web.containers[0].port_mappings",
    "workloads.web.arrivals",
    "workloads.web.arrivals.rate",
    "workloads.web.service_time",
    "workloads.web.timeout",
    "slo.threshold",
    "cloudwatch.publish_delay",
];

/// `cases` cases, or `PROPTEST_CASES` when set (for a longer hunt).
fn config(cases: u32) -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(cases);
    ProptestConfig { cases, failure_persistence: None, ..ProptestConfig::default() }
}

proptest! {
    #![proptest_config(config(400))]

    #[test]
    fn mutated_scenarios_are_checked_or_located(
        pick in 0usize..1000,
        mutations in proptest::collection::vec(mutation(), 1..4),
    ) {
        let all = scenarios();
        let (name, text) = &all[pick % all.len()];
        check_scenario(name, apply(text, &mutations), &[]);
    }

    #[test]
    fn overrides_with_junk_are_checked_or_located(
        pick in 0usize..1000,
        sets in proptest::collection::vec((0..PATHS.len(), 0..JUNK.len()), 1..3),
    ) {
        let all = scenarios();
        let (name, text) = &all[pick % all.len()];
        let overrides: Vec<String> = sets.iter().map(|&(p, j)| format!("{}={}", PATHS[p], JUNK[j])).collect();
        check_scenario(name, text.clone(), &overrides);
    }

    #[test]
    fn random_text_is_checked_or_located(text in tomlish()) {
        check_scenario("random.toml", text.clone(), &[]);
        check_trace(&text);
        let _ = parse_duration(&text);
        if let Err(e) = SweepSpec::parse("random.toml", text.clone(), &[]) {
            assert_located(&e, &text);
        }
    }

    #[test]
    fn durations_parse_or_refuse_within_u64(text in "[0-9.]{0,25}(ms|s|m|h|d|min|sec|[a-z ]{0,2})([0-9.]{0,25}(ms|s|m|h|d)){0,3}") {
        if let Ok(ms) = parse_duration(&text) {
            prop_assert!(ms <= MAX_DURATION_MS);
        }
    }
}

proptest! {
    #![proptest_config(config(150))]

    #[test]
    fn mutated_sweep_files_are_checked_or_located(
        pick in 0usize..1000,
        mutations in proptest::collection::vec(mutation(), 1..4),
    ) {
        let all = sweep_files();
        let (name, text) = &all[pick % all.len()];
        check_sweep(name, apply(text, &mutations));
    }

    #[test]
    fn mutated_traces_are_read_or_located(
        mutations in proptest::collection::vec(mutation(), 1..6),
    ) {
        let (_, text) = &files("scenarios/traces", "csv")[0];
        let text = apply(text, &mutations);
        check_trace(&text);
        check_trace(&text.replace('\n', "\r\n"));
    }
}

/// The bundled scenarios, the base scenarios beside the sweep files included.
fn scenarios() -> &'static [(String, String)] {
    static ALL: std::sync::OnceLock<Vec<(String, String)>> = std::sync::OnceLock::new();
    ALL.get_or_init(|| {
        let mut all = files("scenarios", "toml");
        all.extend(files("scenarios/sweeps", "toml").into_iter().filter(|(_, t)| !is_sweep_text(t)));
        all
    })
}

fn sweep_files() -> Vec<(String, String)> {
    let sweeps: Vec<_> = files("scenarios/sweeps", "toml").into_iter().filter(|(_, t)| is_sweep_text(t)).collect();
    assert!(!sweeps.is_empty());
    sweeps
}

#[test]
fn the_unmutated_inputs_are_valid() {
    for (name, text) in scenarios() {
        Scenario::from_str_named(name, text.clone(), &[]).unwrap_or_else(|e| panic!("{e}"));
    }
    for (name, text) in sweep_files() {
        check_sweep(&name, text.clone());
        SweepSpec::parse(&name, text, &[]).unwrap();
    }
    for (_, text) in files("scenarios/traces", "csv") {
        parse_trace_csv(&text).unwrap();
    }
}

/// The acceptance script's own mutations, which must all read as a scenario or exit 2.
#[test]
fn huge_numbers_in_every_key_are_refused_with_the_key() {
    let (name, text) = scenarios().iter().find(|(n, _)| n.ends_with("quickstart.toml")).unwrap();
    for (i, line) in text.lines().enumerate() {
        let Some((key, _)) = line.split_once('=') else { continue };
        if line.trim_start().starts_with('#') {
            continue;
        }
        for huge in ["18446744073709551616", "1e309", "nan", "-1", "\"36526d\""] {
            let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
            lines[i] = format!("{key}= {huge}");
            let mutated = lines.join("\n");
            match Scenario::from_str_named(name, mutated.clone(), &[]) {
                Ok(_) => {}
                Err(e) => {
                    assert_located(&e, &mutated);
                    if let ScenarioError::Invalid(d) = &e {
                        assert!(matches!(d.location, Location::File { .. }), "no line for {key}= {huge}: {e}");
                    }
                }
            }
        }
    }
}

// Regression inputs found by the fuzzers (cargo fuzz and the properties above).

proptest! {
    #![proptest_config(config(12))]

    /// What a mutated scenario that still reads does when it runs, for its first five minutes:
    /// the simulation, its invariants checked, finishes or reports a violation, never panics.
    #[test]
    fn mutated_scenarios_that_read_also_run(
        pick in 0usize..1000,
        mutations in proptest::collection::vec(mutation(), 0..3),
        sets in proptest::collection::vec((0..PATHS.len(), 0..JUNK.len()), 0..2),
    ) {
        let all = scenarios();
        let (name, text) = &all[pick % all.len()];
        let text = apply(text, &mutations);
        let mut overrides: Vec<String> = sets.iter().map(|&(p, j)| format!("{}={}", PATHS[p], JUNK[j])).collect();
        overrides.push("duration=\"5m\"".to_string());
        if let Ok(s) = Scenario::from_str_named(name, text, &overrides)
            && let Err(v) = ecsim::model::simulate_checked(&s)
        {
            panic!("{v}");
        }
    }
}

/// Found by `mutated_scenarios_that_read_also_run` before loading called the limits: a rate no
/// run can hold passed validation (it is finite), and the run then stopped with "more than
/// 1000000 events at one instant", which `ecsim run` reported as an internal error (exit 1),
/// not as bad input. Loading now refuses it, at the key, with the limit.
#[test]
fn a_rate_past_any_counter_is_bad_input() {
    let (name, text) = scenarios().iter().find(|(n, _)| n.ends_with("alb-dynamic-ports.toml")).unwrap();
    for (rate, duration) in [("1e300", "1h"), ("1e12", "7d")] {
        let sets = [
            format!("workloads.web.arrivals={{ pattern = \"constant\", rate = {rate} }}"),
            format!("duration=\"{duration}\""),
        ];
        let e =
            Scenario::from_str_named(name, text.clone(), &sets).err().unwrap_or_else(|| panic!("rate {rate} accepted"));
        assert!(e.to_string().contains("requests per second"), "{e}");
        assert_located(&e, text);
        let ScenarioError::Invalid(d) = &e else { panic!("{e}") };
        assert_eq!(d.key, "workloads.web.arrivals.rate");
    }
    // So is a cluster of 10⁹ instances, by the ECS quota before the limits.
    let e = Scenario::from_str_named(
        name,
        text.clone(),
        &["cluster.auto_scaling_groups[0].desired_capacity=1000000000".to_string()],
    )
    .expect_err("10⁹ instances accepted");
    assert_located(&e, text);
}
