//! One row per run: `runs.csv`, and the same rows in the journal.
//!
//! Columns: `run`, `point`, `replicate`, `seed`, one column per parameter (its value), `status`
//! (`ok` or `failed`), one column per metric (as `summary.csv` prints it, combined over the
//! services), `meets_constraints` (`true`/`false`, empty for a failed run) and `error` (why a
//! run failed). Rows are in run order (point, then replicate), whatever order the runs finished
//! in, so the file is the same for any `--jobs` and for merged shards.

use super::SweepSpec;

/// What one run produced: its metrics as text, or why it failed.
#[derive(Clone, Debug, PartialEq)]
pub struct RunRecord {
    pub run: usize,
    pub seed: u64,
    pub outcome: Result<Vec<String>, String>,
}

impl RunRecord {
    /// The metric values as numbers (empty for a failed run).
    pub fn values(&self) -> Vec<f64> {
        match &self.outcome {
            Ok(v) => v.iter().map(|s| s.parse().unwrap_or(f64::NAN)).collect(),
            Err(_) => Vec::new(),
        }
    }

    /// Whether every constraint holds on this run (false for a failed run).
    pub fn meets_constraints(&self, spec: &SweepSpec) -> bool {
        if self.outcome.is_err() {
            return false;
        }
        let values = self.values();
        spec.constraints
            .iter()
            .all(|c| spec.metrics.iter().position(|m| *m == c.metric).is_some_and(|i| c.holds(values[i])))
    }
}

/// The header of `runs.csv`.
pub fn header(spec: &SweepSpec) -> Vec<String> {
    let mut h: Vec<String> = ["run", "point", "replicate", "seed"].map(String::from).to_vec();
    h.extend(spec.grid.parameters().map(|p| p.name.clone()));
    h.push("status".into());
    h.extend(spec.metrics.iter().cloned());
    h.push("meets_constraints".into());
    h.push("error".into());
    h
}

/// Keeps a cell on one line (the journal holds one run per line).
fn one_line(s: &str) -> String {
    s.replace(['\n', '\r'], " ")
}

fn csv_line(fields: &[String]) -> String {
    let mut w = csv::WriterBuilder::new().terminator(csv::Terminator::Any(b'\n')).from_writer(Vec::new());
    let _ = w.write_record(fields.iter().map(|f| one_line(f)));
    let bytes = w.into_inner().unwrap_or_default();
    String::from_utf8_lossy(&bytes).trim_end_matches('\n').to_string()
}

/// A run's row, without the newline.
pub fn row(spec: &SweepSpec, r: &RunRecord) -> String {
    let point = r.run / spec.replicates;
    let mut f = vec![r.run.to_string(), point.to_string(), (r.run % spec.replicates).to_string(), r.seed.to_string()];
    f.extend(spec.grid.values(point).iter().map(|v| v.label.clone()));
    match &r.outcome {
        Ok(values) => {
            f.push("ok".into());
            f.extend(values.iter().cloned());
            f.push(r.meets_constraints(spec).to_string());
            f.push(String::new());
        }
        Err(e) => {
            f.push("failed".into());
            f.extend(spec.metrics.iter().map(|_| String::new()));
            f.push(String::new());
            f.push(e.clone());
        }
    }
    csv_line(&f)
}

/// Reads a row back. The columns the plan decides (point, replicate, parameters) must agree with
/// the plan, which catches rows of another sweep.
pub fn parse_row(spec: &SweepSpec, line: &str) -> Result<RunRecord, String> {
    let mut reader = csv::ReaderBuilder::new().has_headers(false).from_reader(line.as_bytes());
    let record = match reader.records().next() {
        Some(Ok(r)) => r,
        Some(Err(e)) => return Err(format!("not a CSV row: {e}")),
        None => return Err("an empty row".into()),
    };
    let expected = header(spec).len();
    if record.len() != expected {
        return Err(format!("{} fields where the sweep has {expected} columns", record.len()));
    }
    let run: usize = record[0].parse().map_err(|_| format!("run `{}` is not a number", &record[0]))?;
    if run >= spec.runs() {
        return Err(format!("run {run} is past the sweep's {} runs", spec.runs()));
    }
    let seed: u64 = record[3].parse().map_err(|_| format!("seed `{}` is not a number", &record[3]))?;
    let nparams = spec.grid.parameters().count();
    let status_at = 4 + nparams;
    let metrics = &spec.metrics;
    let outcome = match &record[status_at] {
        "ok" => Ok((0..metrics.len()).map(|i| record[status_at + 1 + i].to_string()).collect()),
        "failed" => Err(record[expected - 1].to_string()),
        other => return Err(format!("status `{other}` is neither ok nor failed")),
    };
    let r = RunRecord { run, seed, outcome };
    let again = row(spec, &r);
    if again != csv_line(&record.iter().map(String::from).collect::<Vec<_>>()) {
        return Err(format!("run {run} does not match this sweep's plan"));
    }
    Ok(r)
}

/// `runs.csv` for the records, which must be sorted by run.
pub fn runs_csv(spec: &SweepSpec, records: &[RunRecord]) -> Vec<u8> {
    let mut out = csv_line(&header(spec));
    out.push('\n');
    for r in records {
        out.push_str(&row(spec, r));
        out.push('\n');
    }
    out.into_bytes()
}

/// Reads a `runs.csv` written for the same sweep.
pub fn read_runs_csv(spec: &SweepSpec, text: &str) -> Result<Vec<RunRecord>, String> {
    let mut lines = text.lines();
    let head = lines.next().ok_or("the file is empty")?;
    if head != csv_line(&header(spec)) {
        return Err("its header is not this sweep's".into());
    }
    lines.enumerate().map(|(i, l)| parse_row(spec, l).map_err(|e| format!("line {}: {e}", i + 2))).collect()
}
