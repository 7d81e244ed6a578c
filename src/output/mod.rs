//! Outputs: each file is first serialized to bytes by a pure function, then [`write_run`] writes
//! them, each to a temporary name renamed into place, so a reader never sees half a file.

pub mod csv_files;

use std::io::Write;
use std::path::Path;

use crate::record::RunResult;

pub use csv_files::{events_csv, summary_csv, timeseries_csv};

/// Writes `timeseries.csv`, `events.csv` and `summary.csv` of a run into `dir`.
pub fn write_run(dir: &Path, result: &RunResult) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    write_atomic(&dir.join("timeseries.csv"), &timeseries_csv(result))?;
    write_atomic(&dir.join("events.csv"), &events_csv(result))?;
    write_atomic(&dir.join("summary.csv"), &summary_csv(result))?;
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
