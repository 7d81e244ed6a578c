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
    apply_with(text, mutations, '=', JUNK)
}

/// [`apply`] with another separator of a line's key and value, and other junk.
fn apply_with(text: &str, mutations: &[Mutation], separator: char, junk_values: &[&str]) -> String {
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
                let junk = junk_values[junk % junk_values.len()];
                *l = match l.split_once(separator) {
                    Some((key, _)) => format!("{key}{separator} {junk}"),
                    None => junk.to_string(),
                };
            }
            Mutation::Delete { line } => {
                lines.remove(line % n);
            }
            Mutation::Insert { line, junk } => {
                lines.insert(line % (n + 1), junk_values[junk % junk_values.len()].to_string())
            }
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

// ----- Imported AWS JSON -----------------------------------------------------------------------
//
// The JSON `from` keys and `ecsim import` read (task definitions, Dockerrun files, services,
// scalable targets, scaling policies, alarms, CloudWatch exports), mutated two ways: as text,
// line by line (the files are pretty-printed, one value a line), and as a document, a node
// replaced, removed, doubled or retyped, which keeps it JSON and so reaches the readers' checks.
// Every reader must return its value or an error naming the file and a JSON path (with a line
// inside the text when it gives one); through a scenario, the error must point into the JSON.

use ecsim::import::{FileKind, ImportError, metrics, scaling, service, task_definition};
use serde_json::Value;

/// JSON values that break readers: wrong types, out of range, odd strings and timestamps.
const JSON_JUNK: &[&str] = &[
    "null",
    "\"\"",
    "-1",
    "0",
    "1.5",
    "1e308",
    "-1e308",
    "18446744073709551616",
    "-9223372036854775809",
    "9223372036854775807",
    "4294967296",
    "65536",
    "true",
    "[]",
    "{}",
    "[[]]",
    "\"x\"",
    "\"-5\"",
    "\"65536\"",
    "\"1e309\"",
    "\"nan\"",
    "\"é\\u0000\"",
    "\"arn:aws:ecs:us-east-1:123456789012:task-definition/\"",
    "\"service/\"",
    "\"2024-13-01T00:00:00Z\"",
    "\"2024-01-01T25:00:00Z\"",
    "\"2024-01-01T00:00:00+99:99\"",
    "\"1970-01-01T00:00:00Z\"",
    "\"2124-01-01T00:00:00Z\"",
    "1e15",
    "-1e15",
];

/// The bundled AWS JSON files, as (path, text).
fn aws_files() -> &'static [(String, String)] {
    static ALL: std::sync::OnceLock<Vec<(String, String)>> = std::sync::OnceLock::new();
    ALL.get_or_init(|| {
        let mut all = files("scenarios/imported", "json");
        all.extend(files("scenarios/imported/shop", "json"));
        all
    })
}

/// One edit of a JSON document, chosen by numbers that proptest shrinks.
#[derive(Clone, Debug)]
enum JsonMutation {
    /// Replace node `node` (in document order) by junk.
    Replace { node: usize, junk: usize },
    /// Remove it from its object or array.
    Remove { node: usize },
    /// Repeat it in its array, or under a second key in its object.
    Double { node: usize },
    /// A number as a string, a string as a number (or in an array), anything else in an array.
    Retype { node: usize },
}

fn json_mutation() -> impl Strategy<Value = JsonMutation> {
    let node = 0usize..100_000;
    prop_oneof![
        (node.clone(), 0..JSON_JUNK.len()).prop_map(|(node, junk)| JsonMutation::Replace { node, junk }),
        node.clone().prop_map(|node| JsonMutation::Remove { node }),
        node.clone().prop_map(|node| JsonMutation::Double { node }),
        node.prop_map(|node| JsonMutation::Retype { node }),
    ]
}

/// The JSON pointers of every node of a document, the root first.
fn pointers(v: &Value, at: String, out: &mut Vec<String>) {
    out.push(at.clone());
    match v {
        Value::Object(map) => {
            for (k, child) in map {
                pointers(child, format!("{at}/{}", k.replace('~', "~0").replace('/', "~1")), out);
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                pointers(child, format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
}

fn mutate_json(doc: &mut Value, m: &JsonMutation) {
    let mut all = Vec::new();
    pointers(doc, String::new(), &mut all);
    let (JsonMutation::Replace { node, .. }
    | JsonMutation::Remove { node }
    | JsonMutation::Double { node }
    | JsonMutation::Retype { node }) = *m;
    let at = all[node % all.len()].clone();
    let (parent, last) = at.rsplit_once('/').unwrap_or(("", ""));
    let last = last.replace("~1", "/").replace("~0", "~");
    match *m {
        JsonMutation::Replace { junk, .. } => {
            if let Some(v) = doc.pointer_mut(&at) {
                *v = serde_json::from_str(JSON_JUNK[junk]).unwrap_or(Value::Null);
            }
        }
        JsonMutation::Remove { .. } if !at.is_empty() => match doc.pointer_mut(parent) {
            Some(Value::Object(map)) => {
                map.remove(&last);
            }
            Some(Value::Array(items)) => {
                if let Ok(i) = last.parse::<usize>()
                    && i < items.len()
                {
                    items.remove(i);
                }
            }
            _ => {}
        },
        JsonMutation::Double { .. } if !at.is_empty() => match doc.pointer_mut(parent) {
            Some(Value::Object(map)) => {
                if let Some(v) = map.get(&last).cloned() {
                    map.insert(format!("{last}2"), v);
                }
            }
            Some(Value::Array(items)) => {
                if let Ok(i) = last.parse::<usize>()
                    && i < items.len()
                {
                    items.insert(i, items[i].clone());
                }
            }
            _ => {}
        },
        JsonMutation::Retype { .. } => {
            if let Some(v) = doc.pointer_mut(&at) {
                *v = match v.take() {
                    Value::Number(n) => Value::String(n.to_string()),
                    Value::String(s) => serde_json::from_str::<serde_json::Number>(s.trim())
                        .map_or_else(|_| Value::Array(vec![Value::String(s)]), Value::Number),
                    other => Value::Array(vec![other]),
                };
            }
        }
        _ => {}
    }
}

/// A bundled JSON file mutated: as text (line by line, the JSON junk after a line's `:`), or
/// as a document re-printed.
fn mutated_json(text: &str, as_text: bool, lines: &[Mutation], nodes: &[JsonMutation]) -> String {
    if as_text {
        return apply_with(text, lines, ':', JSON_JUNK);
    }
    let mut doc: Value = serde_json::from_str(text).unwrap();
    for m in nodes {
        mutate_json(&mut doc, m);
    }
    serde_json::to_string_pretty(&doc).unwrap()
}

/// A reader's error: the file, a message, and a line inside the text when it gives one (or
/// can be found from its JSON path).
fn assert_import_error(e: &ImportError, text: &str) {
    assert!(!e.file.is_empty() && !e.message.is_empty(), "{e}");
    let lines = text.lines().count() + 1;
    let inside = |(line, column): (usize, usize)| (1..=lines).contains(&line) && column >= 1;
    if let Some(at) = e.line {
        assert!(inside(at), "line {at:?} outside the text: {e}");
    }
    if let Some(at) = ecsim::import::json::locate_nearest(text, &e.path) {
        assert!(inside(at), "path {} located at {at:?}, outside the text", e.path);
    }
    assert!(!e.to_string().is_empty());
}

/// Every reader of AWS JSON on one text, as `from` keys and `ecsim import` use them.
fn check_aws_json(name: &str, text: &str) {
    let check = |r: Result<(), ImportError>| {
        if let Err(e) = r {
            assert_import_error(&e, text);
        }
    };
    check(FileKind::detect(name, text).map(|_| ()));
    check(task_definition::read(name, text).map(|(td, _)| {
        let _ = ecsim::import::emit::task_definition_key(&td.value, name, &[]);
    }));
    check(service::names(name, text).and_then(|names| {
        for n in names {
            service::read(name, text, Some(&n))?;
        }
        service::read(name, text, None).map(|_| ())
    }));
    check(scaling::Doc::parse(name, text).and_then(|doc| {
        let docs = [doc];
        for s in scaling::services(&docs)? {
            scaling::read(&docs, &s)?;
        }
        scaling::read(&docs, "web").map(|_| ())
    }));
    check(metrics::result_ids(name, text).and_then(|ids| {
        for id in ids {
            let series = metrics::read(name, text, id.as_deref())?.value;
            if let Ok(period) = metrics::period(&series, None) {
                let first = series.points[0].0;
                let last = series.points[series.points.len() - 1].0;
                // Filling the gaps takes a value per period of the span.
                let slots = (i128::from(last) - i128::from(first)) / i128::from(period) + 1;
                if slots <= 20_000 {
                    for missing in [metrics::Missing::Zero, metrics::Missing::HoldLast, metrics::Missing::Interpolate] {
                        let _ = metrics::rates(&series, period, missing, 0);
                    }
                }
            }
        }
        Ok(())
    }));
}

/// A copy of `scenarios/imported` in a temporary folder, one per test, for a mutated file to
/// take an original's place while `from-aws.toml` reads it.
struct ImportedCopy(PathBuf);

impl ImportedCopy {
    fn new(tag: &str) -> ImportedCopy {
        let dir = std::env::temp_dir().join(format!("ecsim-fuzz-json-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("shop")).unwrap();
        let from = root().join("scenarios/imported");
        for (path, text) in aws_files() {
            let rel = Path::new(path).strip_prefix(&from).unwrap();
            std::fs::write(dir.join(rel), text).unwrap();
        }
        std::fs::copy(from.join("from-aws.toml"), dir.join("from-aws.toml")).unwrap();
        ImportedCopy(dir)
    }

    /// `file` (a bundled path) with `text` in its copy's place, while `f` runs; then the
    /// original again.
    fn with<R>(&self, file: &str, text: &str, f: impl FnOnce(&Path, &Path) -> R) -> R {
        let rel = Path::new(file).strip_prefix(root().join("scenarios/imported")).unwrap();
        /// Puts the original back, even when `f` panics.
        struct Restore(PathBuf, &'static str);
        impl Drop for Restore {
            fn drop(&mut self) {
                let _ = std::fs::write(&self.0, self.1);
            }
        }
        let copy = self.0.join(rel);
        let original = &aws_files().iter().find(|(p, _)| p == file).unwrap().1;
        let _restore = Restore(copy.clone(), original);
        std::fs::write(&copy, text).unwrap();
        f(&self.0, &copy)
    }
}

impl Drop for ImportedCopy {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A scenario reading the JSON: checked, or an error located in the JSON (or the TOML).
fn check_scenario_with_json(dir: &Path, json_path: &Path, json_text: &str, overrides: &[String]) -> Option<Scenario> {
    let toml = dir.join("from-aws.toml");
    match Scenario::load(&toml, overrides, false) {
        Ok((s, _)) => Some(s),
        Err(e) => {
            let text = match &e {
                ScenarioError::Invalid(d) if Path::new(&d.file) == json_path => json_text.to_string(),
                ScenarioError::Invalid(d) if Path::new(&d.file) == toml => std::fs::read_to_string(&toml).unwrap(),
                ScenarioError::Invalid(d) => std::fs::read_to_string(&d.file).unwrap_or_default(),
                _ => String::new(),
            };
            assert_located(&e, &text);
            None
        }
    }
}

proptest! {
    #![proptest_config(config(400))]

    #[test]
    fn mutated_aws_json_is_read_or_located(
        pick in 0usize..1000,
        as_text in any::<bool>(),
        lines in proptest::collection::vec(mutation(), 1..4),
        nodes in proptest::collection::vec(json_mutation(), 1..4),
    ) {
        let (name, text) = &aws_files()[pick % aws_files().len()];
        let text = mutated_json(text, as_text, &lines, &nodes);
        check_aws_json(name, &text);
    }
}

proptest! {
    #![proptest_config(config(150))]

    #[test]
    fn mutated_aws_json_through_a_scenario_is_checked_or_located(
        pick in 0usize..1000,
        as_text in any::<bool>(),
        lines in proptest::collection::vec(mutation(), 1..3),
        nodes in proptest::collection::vec(json_mutation(), 1..3),
    ) {
        static COPY: std::sync::OnceLock<std::sync::Mutex<ImportedCopy>> = std::sync::OnceLock::new();
        let copy = COPY.get_or_init(|| std::sync::Mutex::new(ImportedCopy::new("scenario"))).lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let (name, text) = &aws_files()[pick % aws_files().len()];
        let text = mutated_json(text, as_text, &lines, &nodes);
        copy.with(name, &text, |dir, json| check_scenario_with_json(dir, json, &text, &[]));
    }
}

proptest! {
    #![proptest_config(config(12))]

    /// A scenario whose JSON was mutated and still reads runs its first five minutes with the
    /// invariants checked.
    #[test]
    fn mutated_aws_json_that_reads_also_runs(
        pick in 0usize..1000,
        nodes in proptest::collection::vec(json_mutation(), 1..3),
    ) {
        static COPY: std::sync::OnceLock<std::sync::Mutex<ImportedCopy>> = std::sync::OnceLock::new();
        let copy = COPY.get_or_init(|| std::sync::Mutex::new(ImportedCopy::new("run"))).lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let (name, text) = &aws_files()[pick % aws_files().len()];
        let text = mutated_json(text, false, &[], &nodes);
        let five_minutes = ["duration=\"5m\"".to_string()];
        if let Some(s) = copy.with(name, &text, |dir, json| check_scenario_with_json(dir, json, &text, &five_minutes))
            && let Err(v) = ecsim::model::simulate_checked(&s)
        {
            panic!("{v}");
        }
    }

    /// `ecsim import` with one file mutated: a scenario (exit 0) or a located error (exit 2),
    /// never a panic.
    #[test]
    fn ecsim_import_of_mutated_json_exits_0_or_2(
        pick in 0usize..1000,
        as_text in any::<bool>(),
        lines in proptest::collection::vec(mutation(), 1..3),
        nodes in proptest::collection::vec(json_mutation(), 1..3),
    ) {
        static COPY: std::sync::OnceLock<std::sync::Mutex<ImportedCopy>> = std::sync::OnceLock::new();
        let copy = COPY.get_or_init(|| std::sync::Mutex::new(ImportedCopy::new("import"))).lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let (name, text) = &aws_files()[pick % aws_files().len()];
        let text = mutated_json(text, as_text, &lines, &nodes);
        let out = copy.with(name, &text, |dir, _| {
            let mut files: Vec<String> = aws_files()
                .iter()
                .map(|(p, _)| Path::new(p).strip_prefix(root().join("scenarios/imported")).unwrap().display().to_string())
                .collect();
            files.sort();
            std::process::Command::new(env!("CARGO_BIN_EXE_ecsim"))
                .arg("import")
                .args(&files)
                .current_dir(dir)
                .output()
                .unwrap()
        });
        let stderr = String::from_utf8_lossy(&out.stderr);
        prop_assert!(matches!(out.status.code(), Some(0 | 2)), "exit {:?}: {stderr}", out.status.code());
        prop_assert!(!stderr.contains("panicked"), "{stderr}");
        if out.status.code() == Some(2) {
            prop_assert!(stderr.starts_with("error: "), "{stderr}");
        }
    }
}

#[test]
fn the_unmutated_aws_json_is_read() {
    for (name, text) in aws_files() {
        FileKind::detect(name, text).unwrap_or_else(|e| panic!("{e}"));
        check_aws_json(name, text);
    }
    let copy = ImportedCopy::new("plain");
    let (name, text) = &aws_files()[0];
    let s = copy.with(name, text, |dir, json| check_scenario_with_json(dir, json, text, &[]));
    assert!(s.is_some());
}

// Bugs in reading CloudWatch exports and JSON syntax errors (src/import/metrics.rs and
// src/import/json.rs), found by the properties above, as regression tests.

/// An export's datapoints a century apart at one-second spacing: `metrics::rates` fills every
/// second of the span, and loading the scenario aborts the process ("memory allocation of ...
/// bytes failed"), in `ecsim run`, `validate` and `import` alike. It is bad input: more periods
/// than an export may hold, at the key that names the file.
#[test]
fn an_export_spanning_a_century_is_bad_input() {
    let copy = ImportedCopy::new("century");
    let (name, original) = aws_files().iter().find(|(n, _)| n.ends_with("api-requests.json")).unwrap();
    let text = original.replacen("\"2024-11-20T11:01:00+00:00\"", "\"2124-11-20T11:01:01+00:00\"", 1);
    assert_ne!(&text, original);
    copy.with(name, &text, |dir, json| {
        let e = Scenario::load(&dir.join("from-aws.toml"), &[], false).expect_err("a century of traffic accepted");
        let ScenarioError::Invalid(d) = &e else { panic!("{e}") };
        // Reported at the scenario's `file` key, naming the export.
        assert!(d.message.contains(&json.display().to_string()) && d.message.contains("periods"), "{e}");
    });
}

/// A timestamp whose year has more digits than an i64 of milliseconds can hold: debug builds
/// panic ("attempt to multiply with overflow" in `parse_iso8601`), release builds wrap to
/// another time. It should be refused as not a timestamp, at its path.
#[test]
fn a_timestamp_of_a_huge_year_is_refused() {
    let text = r#"{"Datapoints": [{"Timestamp": "99999999999999-01-01T00:00:00Z", "Sum": 1.0}]}"#;
    let e = metrics::read("x.json", text, None).expect_err("a year past i64 accepted");
    assert_eq!(e.path, "Datapoints[0].Timestamp");
}

/// Timestamps as seconds so far apart that their difference in milliseconds overflows:
/// `metrics::period` panics in debug builds ("attempt to subtract with overflow").
#[test]
fn timestamps_at_the_ends_of_time_are_refused() {
    let text = r#"{"Datapoints": [{"Timestamp": -9.2e15, "Sum": 1.0}, {"Timestamp": 9.2e15, "Sum": 1.0}]}"#;
    let refused = match metrics::read("x.json", text, None) {
        Err(_) => true,
        Ok(series) => metrics::period(&series.value, None).is_err(),
    };
    assert!(refused);
}

/// A syntax error at the end of a line (here a line break inside a string) is reported at
/// column 0: `json::parse` passes on serde_json's column, which is 0 there. Columns count from 1.
#[test]
fn a_json_syntax_error_at_the_end_of_a_line_has_a_column() {
    let text = "{\n  \"family\": \"web\n\"\n}\n";
    let e = task_definition::read("td.json", text).expect_err("a line break in a string accepted");
    let (line, column) = e.line.expect("a syntax error has a line");
    assert!((2..=3).contains(&line) && column >= 1, "{e}");
}

/// Interpolating a gap looks for the datapoints on either side from every missing period, so a
/// gap of n periods takes n² steps: an export with datapoints at 11:00, 11:01 and a year later
/// takes hours to read with missing_datapoints = "interpolate" (`metrics::rates`). The
/// `aws_json` fuzz target hung on the second input: the seed `get-metric-data.json` with one
/// year typed 2025. It should take a moment (or the export be refused as too long for a run).
#[test]
fn interpolating_a_year_long_gap_takes_a_moment() {
    let minutes = r#"{"Datapoints": [
        {"Timestamp": "2024-11-20T11:00:00Z", "Sum": 60.0},
        {"Timestamp": "2024-11-20T11:01:00Z", "Sum": 60.0},
        {"Timestamp": "2025-11-20T11:01:00Z", "Sum": 60.0}
    ]}"#;
    let found = r#"{"MetricDataResults": [{"Id": "requests", "Label": "RequestCount",
        "Timestamps": ["2025-11-20T11:55:00+00:00", "2024-11-20T11:50:00+00:00",
                       "2024-11-20T11:45:00+00:00", "2024-11-20T11:40:00+00:00"],
        "Values": [10526.0, 10585.0, 10747.0, 11131.0], "StatusCode": "Complete"}], "Messages": []}"#;
    for (text, period, slots) in [(minutes, 60_000, 525_602), (found, 300_000, 105_124)] {
        let series = metrics::read("x.json", text, None).unwrap().value;
        assert_eq!(metrics::period(&series, None), Ok(period));
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let _ = tx.send(metrics::rates(&series, period, metrics::Missing::Interpolate, 0).len());
        });
        let filled = rx.recv_timeout(std::time::Duration::from_secs(10)).expect("interpolating took more than 10 s");
        assert_eq!(filled, slots);
    }
}
