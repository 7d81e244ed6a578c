//! Outputs: each file is first serialized to bytes by a pure function, then [`write_run`] writes
//! them, each to a temporary name renamed into place, so a reader never sees half a file.

pub mod charts;
pub mod csv_files;
pub mod report;

use std::io::Write;
use std::path::Path;

use crate::record::RunResult;

pub use csv_files::{events_csv, summary_csv, timeseries_csv};

/// Writes `timeseries.csv`, `events.csv` and `summary.csv` of a run into `dir`, and its charts
/// into `dir/charts/`.
pub fn write_run(dir: &Path, result: &RunResult) -> std::io::Result<()> {
    write_run_with(dir, result, None)
}

/// [`write_run`], with the scenario the run came from when the caller has it: the charts then
/// draw its SLO threshold and `run.toml` records its description for `ecsim report`.
pub fn write_run_with(dir: &Path, result: &RunResult, scenario: Option<&crate::Scenario>) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    write_atomic(&dir.join("timeseries.csv"), &timeseries_csv(result))?;
    write_atomic(&dir.join("events.csv"), &events_csv(result))?;
    write_atomic(&dir.join("summary.csv"), &summary_csv(result))?;
    let context = charts::RunContext::from_scenario(scenario);
    write_charts(&dir.join("charts"), &charts::run_charts(result, &context))?;
    if let Some(s) = scenario {
        write_atomic(&dir.join(report::RUN_INFO_FILE), &report::run_info(s, result))?;
    }
    Ok(())
}

/// Writes named SVG charts into `dir`, each atomically, and removes the `.svg` files there that
/// are not among them (left by an earlier run with other series).
pub fn write_charts(dir: &Path, charts: &[(String, String)]) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    for (name, svg) in charts {
        write_atomic(&dir.join(name), svg.as_bytes())?;
    }
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default().to_string();
        if name.ends_with(".svg") && !charts.iter().any(|(n, _)| *n == name) {
            std::fs::remove_file(&path)?;
        }
    }
    Ok(())
}

/// Writes `bytes` to a temporary file beside `path`, syncs it, and renames it over `path`.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("output");
    let tmp = path.with_file_name(format!(".{name}.tmp-{}", std::process::id()));
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}
