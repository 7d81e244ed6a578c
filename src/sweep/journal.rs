//! The sweep's journal: an append-only file where each finished run is one line, written and
//! synced to disk before the run counts as done. `--resume` reads it back after a crash or a
//! SIGKILL at any moment and skips the runs it holds.
//!
//! The first line names the sweep (its fingerprint and shard), so a journal is never resumed by
//! a different sweep. Each run line is `<checksum> <runs.csv row>`, with the checksum an FNV-1a
//! hash of the row in 16 hex digits. A line without its newline, or whose checksum does not
//! match, was torn by the interruption: it and anything after it are cut off, and the run is
//! simply done again. A run is thus never lost (it is either complete in the journal or run
//! again) and never counted twice (a run index already read is ignored).

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// The journal's file name in the sweep's output folder.
pub const JOURNAL_FILE: &str = "runs.journal";

/// FNV-1a, 64-bit.
pub fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01B3);
    }
    h
}

/// An open journal, ready to append.
pub struct Journal {
    file: File,
    path: PathBuf,
}

/// What `--resume` found.
pub struct Resumed {
    pub journal: Journal,
    /// The rows of the finished runs, in the order they finished.
    pub rows: Vec<String>,
    /// Bytes of a torn last line that were cut off.
    pub torn_bytes: u64,
}

/// The journal could not be resumed.
#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    #[error("{}: {source}", path.display())]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{} belongs to another sweep ({found}); this one is {expected}: resume with the same sweep file, base scenario, --set and shard, or use another --out", path.display())]
    Mismatch { path: PathBuf, found: String, expected: String },
}

fn header_line(header: &str) -> String {
    format!("# ecsim sweep journal 1 {header}\n")
}

impl Journal {
    /// Starts an empty journal (replacing any), with `header` identifying the sweep.
    pub fn create(dir: &Path, header: &str) -> std::io::Result<Journal> {
        let path = dir.join(JOURNAL_FILE);
        let mut file = OpenOptions::new().create(true).write(true).truncate(true).read(true).open(&path)?;
        file.write_all(header_line(header).as_bytes())?;
        file.sync_all()?;
        sync_dir(dir);
        Ok(Journal { file, path })
    }

    /// Opens an existing journal: checks its header, reads the complete lines and cuts off a
    /// torn tail. `Ok(None)` when there is no journal.
    pub fn resume(dir: &Path, header: &str) -> Result<Option<Resumed>, JournalError> {
        let path = dir.join(JOURNAL_FILE);
        let io = |source| JournalError::Io { path: path.clone(), source };
        let mut file = match OpenOptions::new().read(true).write(true).open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io(e)),
        };
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes).map_err(io)?;
        let expected = header_line(header);
        if !bytes.starts_with(expected.as_bytes()) {
            // A journal whose header itself was torn holds no run: start it again.
            if expected.as_bytes().starts_with(&bytes) {
                drop(file);
                return Ok(Some(Resumed {
                    journal: Journal::create(dir, header).map_err(io)?,
                    rows: vec![],
                    torn_bytes: 0,
                }));
            }
            let found = String::from_utf8_lossy(bytes.split(|&b| b == b'\n').next().unwrap_or_default())
                .trim_start_matches("# ecsim sweep journal 1 ")
                .to_string();
            return Err(JournalError::Mismatch { path, found, expected: header.to_string() });
        }
        let mut rows = Vec::new();
        let mut good = expected.len();
        for line in bytes[expected.len()..].split_inclusive(|&b| b == b'\n') {
            let Some(body) = line.strip_suffix(b"\n") else { break };
            let Some(row) = parse_line(body) else { break };
            rows.push(row);
            good += line.len();
        }
        let torn_bytes = (bytes.len() - good) as u64;
        if torn_bytes > 0 {
            file.set_len(good as u64).map_err(io)?;
            file.sync_all().map_err(io)?;
        }
        file.seek(SeekFrom::End(0)).map_err(io)?;
        Ok(Some(Resumed { journal: Journal { file, path }, rows, torn_bytes }))
    }

    /// Appends a finished run's row and syncs it to disk; only then does the run count as done.
    pub fn append(&mut self, row: &str) -> std::io::Result<()> {
        debug_assert!(!row.contains('\n'));
        let line = format!("{:016x} {row}\n", fnv1a(row.as_bytes()));
        self.file.write_all(line.as_bytes())?;
        self.file.sync_data()
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

fn parse_line(body: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(body).ok()?;
    let (sum, row) = text.split_once(' ')?;
    let sum = u64::from_str_radix(sum, 16).ok()?;
    (sum == fnv1a(row.as_bytes())).then(|| row.to_string())
}

/// Makes a new file's name durable (best effort: not every platform can open a folder).
fn sync_dir(dir: &Path) {
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tmp(tag: &str) -> PathBuf {
        let p = std::env::temp_dir().join(format!("ecsim-journal-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        p
    }

    #[test]
    fn rows_survive_and_a_torn_tail_is_cut() {
        let dir = tmp("torn");
        let mut j = Journal::create(&dir, "fingerprint=ab shard=0/1").unwrap();
        j.append("0,0,0,1,ok,3").unwrap();
        j.append("1,0,1,2,ok,4").unwrap();
        drop(j);
        // A kill in the middle of the third line.
        let mut f = OpenOptions::new().append(true).open(dir.join(JOURNAL_FILE)).unwrap();
        f.write_all(b"0123456789abcdef 2,0,2,3,o").unwrap();
        drop(f);
        let r = Journal::resume(&dir, "fingerprint=ab shard=0/1").unwrap().unwrap();
        assert_eq!(r.rows, ["0,0,0,1,ok,3", "1,0,1,2,ok,4"]);
        assert_eq!(r.torn_bytes, 26);
        let mut j = r.journal;
        j.append("2,0,2,3,ok,5").unwrap();
        drop(j);
        let r = Journal::resume(&dir, "fingerprint=ab shard=0/1").unwrap().unwrap();
        assert_eq!(r.rows.len(), 3);
        assert_eq!(r.torn_bytes, 0);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_corrupt_line_ends_the_journal() {
        let dir = tmp("corrupt");
        let mut j = Journal::create(&dir, "h").unwrap();
        j.append("a").unwrap();
        drop(j);
        let mut f = OpenOptions::new().append(true).open(dir.join(JOURNAL_FILE)).unwrap();
        f.write_all(b"0000000000000000 b\n").unwrap();
        drop(f);
        let r = Journal::resume(&dir, "h").unwrap().unwrap();
        assert_eq!(r.rows, ["a"]);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn another_sweeps_journal_is_refused_and_a_missing_one_is_none() {
        let dir = tmp("mismatch");
        assert!(Journal::resume(&dir, "h").unwrap().is_none());
        Journal::create(&dir, "fingerprint=1").unwrap();
        let e = Journal::resume(&dir, "fingerprint=2").err().unwrap();
        assert!(e.to_string().contains("another sweep"), "{e}");
        // A header torn by the kill: nothing was done yet, so start again.
        std::fs::write(dir.join(JOURNAL_FILE), "# ecsim sweep jou").unwrap();
        let r = Journal::resume(&dir, "fingerprint=2").unwrap().unwrap();
        assert!(r.rows.is_empty());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
