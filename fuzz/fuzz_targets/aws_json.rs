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
    if let Some((line, column)) = e.line {
        assert!((1..=lines).contains(&line) && column >= 1, "{e}");
    }
    let _ = ecsim::import::json::locate_nearest(text, &e.path);
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
