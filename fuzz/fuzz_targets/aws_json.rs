//! AWS JSON through every reader `from` keys and `ecsim import` use (task definitions,
//! Dockerrun files, services, scalable targets, scaling policies, alarms, CloudWatch exports):
//! the value or an error naming the file, never a panic. A document of a kind the bundled
//! `scenarios/imported/from-aws.toml` reads then takes the place of that file in a private copy
//! of the folder, and the scenario is loaded: checked, or an error located in the JSON.
#![no_main]

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use ecsim::import::{FileKind, ImportError, metrics, scaling, service, task_definition};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

/// The bundled folder's files, as (path relative to it, text).
fn bundled() -> &'static [(String, String)] {
    static FILES: OnceLock<Vec<(String, String)>> = OnceLock::new();
    FILES.get_or_init(|| {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios/imported");
        ["alarms.json", "api-requests.json", "api-td.json", "from-aws.toml", "scalable-targets.json"]
            .into_iter()
            .chain(["scaling-policies.json", "services.json", "web-requests.json", "web-td.json"])
            .chain(["shop/Dockerrun.aws.json"])
            .map(|f| (f.to_string(), std::fs::read_to_string(dir.join(f)).expect("the bundled imported files")))
            .collect()
    })
}

/// A copy of the folder for this process.
fn copy() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("ecsim-fuzz-aws-json-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("shop")).unwrap();
        for (f, text) in bundled() {
            std::fs::write(dir.join(f), text).unwrap();
        }
        dir
    })
}

fn check(e: &ImportError, text: &str) {
    assert!(!e.file.is_empty() && !e.message.is_empty(), "{e}");
    let lines = text.lines().count() + 1;
    if let Some((line, _)) = e.line {
        // Columns of syntax errors may be 0 (see the ignored tests in tests/fuzz_inputs.rs).
        assert!((1..=lines).contains(&line), "{e}");
    }
    let _ = ecsim::import::json::locate_nearest(text, &e.path);
}

/// The same filter as tests/fuzz_inputs.rs: exports that trigger the known bugs of
/// `import::metrics` (timestamps far from now, datapoints years apart) are set aside, so that a
/// run looks for new ones. Remove it with those tests' `#[ignore]`.
fn gcd(a: i64, b: i64) -> i64 {
    if b == 0 { a } else { gcd(b, a % b) }
}

fn triggers_a_known_metrics_bug(doc: &Value) -> bool {
    let mut stamps: Vec<&Value> = Vec::new();
    if let Some(results) = doc.get("MetricDataResults").and_then(Value::as_array) {
        for r in results {
            stamps.extend(r.get("Timestamps").and_then(Value::as_array).into_iter().flatten());
        }
    }
    if let Some(points) = doc.get("Datapoints").and_then(Value::as_array) {
        stamps.extend(points.iter().filter_map(|d| d.get("Timestamp")));
    }
    let mut times = Vec::new();
    for v in stamps {
        if v.as_str().is_some_and(|s| {
            s.trim().trim_start_matches(['+', '-']).chars().take_while(char::is_ascii_digit).count() > 4
        }) {
            return true;
        }
        if let Ok(ms) = metrics::timestamp(v) {
            times.push(ms);
        }
    }
    times.sort_unstable();
    times.dedup();
    let (Some(&first), Some(&last)) = (times.first(), times.last()) else { return false };
    // 1970 to 2100,
    if first < 0 || last > 4_102_444_800_000 {
        return true;
    }
    // and at most 20,000 periods (the gcd of the spacings): filling the gaps takes a value per
    // period of the span, and interpolating a gap time in its length squared.
    let period = times.windows(2).fold(0i64, |g, w| gcd(g, w[1] - w[0])).max(1);
    (last - first) / period > 20_000
}

/// The bundled file a document of this shape replaces.
fn stands_for(kind: FileKind, doc: &Value) -> &'static str {
    let has = |k: &str| doc.get(k).is_some();
    match kind {
        FileKind::TaskDefinition if has("AWSEBDockerrunVersion") => "shop/Dockerrun.aws.json",
        FileKind::TaskDefinition => "web-td.json",
        FileKind::Services => "services.json",
        FileKind::Scaling if has("ScalableTargets") => "scalable-targets.json",
        FileKind::Scaling if has("ScalingPolicies") => "scaling-policies.json",
        FileKind::Scaling => "alarms.json",
        FileKind::Metrics if has("MetricDataResults") => "web-requests.json",
        FileKind::Metrics => "api-requests.json",
    }
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let text = text.as_ref();
    let name = "fuzz.json";
    if let Ok(doc) = serde_json::from_str::<Value>(text)
        && triggers_a_known_metrics_bug(&doc)
    {
        return;
    }
    let kind = FileKind::detect(name, text);
    if let Err(e) = &kind {
        check(e, text);
    }
    match task_definition::read(name, text) {
        Ok((td, _)) => {
            let _ = ecsim::import::emit::task_definition_key(&td.value, name, &[]);
        }
        Err(e) => check(&e, text),
    }
    match service::names(name, text) {
        Ok(names) => {
            for n in names.iter().map(|n| Some(n.as_str())).chain([None]) {
                if let Err(e) = service::read(name, text, n) {
                    check(&e, text);
                }
            }
        }
        Err(e) => check(&e, text),
    }
    match scaling::Doc::parse(name, text) {
        Ok(doc) => {
            let docs = [doc];
            for s in scaling::services(&docs).unwrap_or_default().iter().map(String::as_str).chain(["web"]) {
                if let Err(e) = scaling::read(&docs, s) {
                    check(&e, text);
                }
            }
        }
        Err(e) => check(&e, text),
    }
    match metrics::result_ids(name, text) {
        Ok(ids) => {
            for id in ids {
                match metrics::read(name, text, id.as_deref()) {
                    Ok(series) => {
                        if let Ok(period) = metrics::period(&series.value, None) {
                            for missing in
                                [metrics::Missing::Zero, metrics::Missing::HoldLast, metrics::Missing::Interpolate]
                            {
                                let _ = metrics::rates(&series.value, period, missing, 0);
                            }
                        }
                    }
                    Err(e) => check(&e, text),
                }
            }
        }
        Err(e) => check(&e, text),
    }

    // Through the scenario that reads such a file.
    let (Ok(kind), Ok(doc)) = (kind, serde_json::from_str::<Value>(text)) else { return };
    let file = stands_for(kind, &doc);
    let path = copy().join(file);
    std::fs::write(&path, text).unwrap();
    let loaded = ecsim::Scenario::load(&copy().join("from-aws.toml"), &[], false);
    let original = &bundled().iter().find(|(f, _)| f == file).unwrap().1;
    std::fs::write(&path, original).unwrap();
    if let Err(e) = loaded {
        assert!(!e.to_string().is_empty());
    }
});
