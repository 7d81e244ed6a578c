//! Outputs: each file is first serialized to bytes by a pure function, then [`write_run`] writes
//! them, each to a temporary name renamed into place, so a reader never sees half a file.
//! [`ensure_writable_dir`] checks an output folder before any work is done, so that a folder
//! that cannot be written is refused at once rather than after a long run.

pub mod charts;
pub mod csv_files;
pub mod report;

use std::io::Write;
use std::path::{Path, PathBuf};

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

/// The marker in the names of [`write_atomic`]'s temporary files: `.<name>.tmp-<pid>`.
const TMP_MARKER: &str = ".tmp-";

/// Writes `bytes` to a temporary file beside `path`, syncs it, renames it over `path` and syncs
/// the folder, so that after a crash at any moment `path` holds either its old bytes or the new
/// ones, never a part, and once this returns the new ones survive a power cut.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("output");
    let tmp = path.with_file_name(format!(".{name}{TMP_MARKER}{}", std::process::id()));
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    } else {
        sync_dir(path.parent().unwrap_or(Path::new(".")));
    }
    result
}

/// Makes the names in a folder durable (best effort: not every platform can open a folder).
pub fn sync_dir(dir: &Path) {
    let dir = if dir.as_os_str().is_empty() { Path::new(".") } else { dir };
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
}

/// Removes the temporary files that [`write_atomic`] left in `dir` when a process was killed
/// between writing and renaming (`.<name>.tmp-<pid>`); returns how many. Only for a folder no
/// other process is writing.
pub fn remove_stale_temporaries(dir: &Path) -> std::io::Result<usize> {
    let mut removed = 0;
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(e),
    };
    for entry in entries {
        let entry = entry?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        let stale = name.starts_with('.')
            && name
                .rsplit_once(TMP_MARKER)
                .is_some_and(|(_, pid)| !pid.is_empty() && pid.bytes().all(|b| b.is_ascii_digit()));
        if stale && entry.file_type()?.is_file() {
            std::fs::remove_file(entry.path())?;
            removed += 1;
        }
    }
    Ok(removed)
}

/// An output folder that cannot be created or written.
#[derive(Debug, thiserror::Error)]
#[error("cannot write into the output folder {}: {action}: {source}{}", dir.display(), hint(source))]
pub struct UnwritableDir {
    pub dir: PathBuf,
    /// What failed: creating the folder or writing a file in it.
    pub action: &'static str,
    pub source: std::io::Error,
}

fn hint(e: &std::io::Error) -> &'static str {
    match e.kind() {
        std::io::ErrorKind::PermissionDenied => " (choose another folder with --out, or change its permissions)",
        std::io::ErrorKind::NotADirectory | std::io::ErrorKind::AlreadyExists => {
            " (a file stands where the folder should be: choose another --out)"
        }
        std::io::ErrorKind::StorageFull | std::io::ErrorKind::QuotaExceeded => " (the disk is full)",
        std::io::ErrorKind::ReadOnlyFilesystem => " (the file system is read-only: choose another --out)",
        _ => " (choose another folder with --out)",
    }
}

/// Creates `dir` if needed and proves that files can be written, synced, renamed and removed
/// in it, by doing so with a small probe file. Call it before the work whose outputs go there.
pub fn ensure_writable_dir(dir: &Path) -> Result<(), UnwritableDir> {
    let fail = |action, source| UnwritableDir { dir: dir.to_path_buf(), action, source };
    if dir.exists() && !dir.is_dir() {
        let source = std::io::Error::new(std::io::ErrorKind::NotADirectory, "it is a file, not a folder");
        return Err(fail("checking it", source));
    }
    std::fs::create_dir_all(dir).map_err(|e| fail("creating it", e))?;
    let probe = dir.join(format!(".ecsim-write-probe{TMP_MARKER}{}", std::process::id()));
    let renamed = dir.join(format!(".ecsim-write-probe-renamed{TMP_MARKER}{}", std::process::id()));
    let result = (|| {
        let mut f = std::fs::File::create(&probe)?;
        f.write_all(b"ecsim\n")?;
        f.sync_all()?;
        std::fs::rename(&probe, &renamed)?;
        std::fs::remove_file(&renamed)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&probe);
        let _ = std::fs::remove_file(&renamed);
    }
    result.map_err(|e| fail("writing a file in it", e))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tmp(tag: &str) -> PathBuf {
        let p = std::env::temp_dir().join(format!("ecsim-output-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        p
    }

    #[test]
    fn a_writable_folder_is_created_and_left_clean() {
        let dir = tmp("writable");
        let out = dir.join("a/b");
        ensure_writable_dir(&out).unwrap();
        assert!(out.is_dir());
        assert_eq!(std::fs::read_dir(&out).unwrap().count(), 0);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_folder_under_a_file_is_refused_with_the_reason() {
        // Refused even for root, unlike a folder without write permission.
        let dir = tmp("file");
        let file = dir.join("plain");
        std::fs::write(&file, "x").unwrap();
        for out in [file.clone(), file.join("sub")] {
            let e = ensure_writable_dir(&out).unwrap_err();
            let text = e.to_string();
            assert!(text.contains("cannot write into the output folder"), "{text}");
            assert!(text.contains("--out"), "{text}");
        }
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn atomic_writes_replace_whole_files_and_stale_temporaries_go() {
        let dir = tmp("atomic");
        let path = dir.join("runs.csv");
        write_atomic(&path, b"one\n").unwrap();
        write_atomic(&path, b"two\n").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"two\n");
        std::fs::write(dir.join(".runs.csv.tmp-12345"), "half").unwrap();
        std::fs::write(dir.join(".keep.tmp-"), "not ours").unwrap();
        assert_eq!(remove_stale_temporaries(&dir).unwrap(), 1);
        let mut names: Vec<String> =
            std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
        names.sort();
        assert_eq!(names, [".keep.tmp-", "runs.csv"]);
        assert_eq!(remove_stale_temporaries(&dir.join("missing")).unwrap(), 0);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
