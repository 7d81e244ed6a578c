//! `ecsim report DIR`: one self-contained HTML page for a run or a sweep folder, with the
//! charts inlined as SVG, no script and no reference to the network, to mail or archive.
//!
//! A run's page: the scenario's name and description (from `run.toml` when the run wrote one),
//! the summary table, the charts and the event timeline. A sweep's page: the sweep and its base
//! scenario, the objective and constraints with the best plan, the table of points with their
//! confidence intervals and feasible / best / Pareto marks, the charts, and the failed runs.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::sweep::aggregate::{aggregate, stat_decimals};
use crate::sweep::metrics::format_fixed;
use crate::sweep::runs::read_runs_csv;
use crate::sweep::{PLAN_FILE, read_plan};

/// The run folder's description of the scenario, written when the caller knows it.
pub const RUN_INFO_FILE: &str = "run.toml";
/// The report's file name in the folder.
pub const REPORT_FILE: &str = "report.html";
/// Most events the timeline lists.
const MAX_EVENTS: usize = 2000;
/// Most failed runs a sweep's page lists.
const MAX_FAILED: usize = 200;

#[derive(Debug, Default, Serialize, Deserialize)]
pub struct RunInfo {
    pub name: String,
    #[serde(default)]
    pub description: String,
    pub seed: u64,
    pub duration_s: u64,
    pub slo_percentile: Option<f64>,
    pub slo_threshold_ms: Option<u64>,
}

/// `run.toml` for a run of `scenario`.
pub fn run_info(scenario: &crate::Scenario, result: &crate::RunResult) -> Vec<u8> {
    let info = RunInfo {
        name: scenario.name.clone(),
        description: scenario.description.clone(),
        seed: result.seed,
        duration_s: scenario.duration / crate::engine::SECOND,
        slo_percentile: scenario.slo.as_ref().map(|s| s.percentile),
        slo_threshold_ms: scenario.slo.as_ref().map(|s| s.threshold),
    };
    toml::to_string(&info).unwrap_or_default().into_bytes()
}

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("{} holds neither a run (summary.csv) nor a sweep ({PLAN_FILE}): give the --out folder of `ecsim run` or `ecsim sweep`", .0.display())]
    NotAResult(PathBuf),
    #[error("{}: {source}", path.display())]
    Read { path: PathBuf, source: std::io::Error },
    #[error("{0}")]
    Invalid(String),
}

fn read(path: &Path) -> Result<String, ReportError> {
    std::fs::read_to_string(path).map_err(|source| ReportError::Read { path: path.to_path_buf(), source })
}

/// Escapes text for HTML.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

const STYLE: &str = "body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;margin:2rem auto;max-width:1100px;padding:0 1rem;color:#222}\
h1{margin-bottom:.2rem}h2{margin-top:2.2rem;border-bottom:1px solid #ddd;padding-bottom:.2rem}\
.sub{color:#666;margin-top:0}table{border-collapse:collapse;font-size:.85rem;margin:.5rem 0}\
th,td{border:1px solid #ddd;padding:.25rem .5rem;text-align:right;vertical-align:top}th{background:#f4f4f4}\
td.l,th.l{text-align:left}tr.feasible td{background:#eef8ee}tr.best td{background:#cdebcd;font-weight:600}\
tr.fail td{background:#fbeaea}figure{margin:1rem 0}figure svg{max-width:100%;height:auto;border:1px solid #eee}\
.note{color:#666;font-size:.85rem}.kv td{text-align:left}.scroll{max-height:36rem;overflow:auto}";

fn page(title: &str, body: &str) -> Vec<u8> {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n{body}\n<p class=\"note\">Written by ecsim {}.</p>\n</body>\n</html>\n",
        esc(title),
        env!("CARGO_PKG_VERSION")
    )
    .into_bytes()
}

/// The charts in `dir/charts`, inlined: the run charts in reading order, then the rest by name.
fn charts_html(dir: &Path, order: &[&str]) -> Result<String, ReportError> {
    let charts = dir.join("charts");
    let mut names: Vec<String> = match std::fs::read_dir(&charts) {
        Ok(entries) => entries
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".svg"))
            .collect(),
        Err(_) => Vec::new(),
    };
    names.sort_by_key(|n| (order.iter().position(|o| o == n).unwrap_or(order.len()), n.clone()));
    let mut out = String::new();
    if names.is_empty() {
        out.push_str("<p class=\"note\">No charts in this folder.</p>\n");
    }
    for n in names {
        let svg = read(&charts.join(&n))?;
        let svg = match svg.find("<svg") {
            Some(i) => &svg[i..],
            None => continue,
        };
        let _ = writeln!(
            out,
            "<figure id=\"chart-{}\">\n{svg}\n<figcaption class=\"note\">{}</figcaption>\n</figure>",
            esc(&n),
            esc(&n)
        );
    }
    Ok(out)
}

fn csv_rows(text: &str) -> Result<(Vec<String>, Vec<Vec<String>>), String> {
    let mut r = csv::ReaderBuilder::new().from_reader(text.as_bytes());
    let header = r.headers().map_err(|e| e.to_string())?.iter().map(String::from).collect();
    let rows = r
        .records()
        .map(|x| x.map(|x| x.iter().map(String::from).collect()).map_err(|e| e.to_string()))
        .collect::<Result<_, _>>()?;
    Ok((header, rows))
}

/// Seconds as `h:mm:ss.mmm` (or `m:ss.mmm`).
fn clock(seconds: &str) -> String {
    let Ok(t) = seconds.parse::<f64>() else { return seconds.to_string() };
    let ms = (t * 1000.0).round() as u64;
    let (h, m, s, f) = (ms / 3_600_000, ms / 60_000 % 60, ms / 1000 % 60, ms % 1000);
    if h > 0 { format!("{h}:{m:02}:{s:02}.{f:03}") } else { format!("{m}:{s:02}.{f:03}") }
}

/// The report of the run or sweep in `dir`. `scenario` supplies the description and name of a
/// run folder that has no `run.toml`.
pub fn build(dir: &Path, scenario: Option<&crate::Scenario>) -> Result<Vec<u8>, ReportError> {
    if dir.join(PLAN_FILE).is_file() {
        sweep_report(dir)
    } else if dir.join("summary.csv").is_file() {
        run_report(dir, scenario)
    } else {
        Err(ReportError::NotAResult(dir.to_path_buf()))
    }
}

fn run_report(dir: &Path, scenario: Option<&crate::Scenario>) -> Result<Vec<u8>, ReportError> {
    let info: Option<RunInfo> = match scenario {
        Some(s) => Some(RunInfo {
            name: s.name.clone(),
            description: s.description.clone(),
            seed: s.seed,
            duration_s: s.duration / crate::engine::SECOND,
            slo_percentile: s.slo.as_ref().map(|x| x.percentile),
            slo_threshold_ms: s.slo.as_ref().map(|x| x.threshold),
        }),
        None => match std::fs::read_to_string(dir.join(RUN_INFO_FILE)) {
            Ok(t) => toml::from_str(&t).ok(),
            Err(_) => None,
        },
    };
    let folder = dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf());
    let name = info.as_ref().map_or_else(
        || folder.file_name().map_or_else(|| "run".to_string(), |n| n.to_string_lossy().into_owned()),
        |i| i.name.clone(),
    );
    let mut b = String::new();
    let _ = writeln!(b, "<h1>ecsim run: {}</h1>", esc(&name));
    match &info {
        Some(i) => {
            if !i.description.is_empty() {
                let _ = writeln!(b, "<p class=\"sub\">{}</p>", esc(&i.description));
            }
            let mut facts = format!("seed {}, {} s simulated", i.seed, i.duration_s);
            if let (Some(p), Some(t)) = (i.slo_percentile, i.slo_threshold_ms) {
                let _ = write!(facts, "; SLO: p{p} ≤ {t} ms");
            }
            let _ = writeln!(b, "<p class=\"note\">{}</p>", esc(&facts));
        }
        None => {
            let _ = writeln!(
                b,
                "<p class=\"note\">The folder has no {RUN_INFO_FILE}; pass --scenario FILE to `ecsim report` to show the scenario's description.</p>"
            );
        }
    }

    let summary = read(&dir.join("summary.csv"))?;
    let (header, rows) = csv_rows(&summary).map_err(|e| ReportError::Invalid(format!("summary.csv: {e}")))?;
    let _ = writeln!(b, "<h2>Summary</h2>\n<table id=\"summary\">\n<tr><th class=\"l\">column</th>");
    for r in &rows {
        let _ = write!(b, "<th>{}</th>", esc(r.first().map_or("", String::as_str)));
    }
    b.push_str("</tr>\n");
    for (c, h) in header.iter().enumerate().skip(1) {
        let _ = write!(b, "<tr><td class=\"l\">{}</td>", esc(h));
        for r in &rows {
            let _ = write!(b, "<td>{}</td>", esc(r.get(c).map_or("", String::as_str)));
        }
        b.push_str("</tr>\n");
    }
    b.push_str("</table>\n<p class=\"note\">The columns are described in the README's \"Outputs\" section.</p>\n");

    b.push_str("<h2>Charts</h2>\n");
    b.push_str(&charts_html(dir, &["tasks.svg", "cpu.svg", "requests.svg", "latency.svg", "cost.svg"])?);

    b.push_str("<h2>Event timeline</h2>\n");
    match std::fs::read_to_string(dir.join("events.csv")) {
        Err(_) => b.push_str("<p class=\"note\">No events.csv in this folder.</p>\n"),
        Ok(text) => {
            let (_, events) = csv_rows(&text).map_err(|e| ReportError::Invalid(format!("events.csv: {e}")))?;
            let mut counts: std::collections::BTreeMap<&str, usize> = Default::default();
            for e in &events {
                *counts.entry(e.get(1).map_or("", String::as_str)).or_default() += 1;
            }
            b.push_str("<table id=\"event-counts\"><tr><th class=\"l\">kind</th><th>events</th></tr>\n");
            for (k, n) in &counts {
                let _ = writeln!(b, "<tr><td class=\"l\">{}</td><td>{n}</td></tr>", esc(k));
            }
            b.push_str("</table>\n");
            if events.len() > MAX_EVENTS {
                let _ = writeln!(
                    b,
                    "<p class=\"note\">The first {MAX_EVENTS} of {} events; events.csv has them all.</p>",
                    events.len()
                );
            }
            b.push_str("<div class=\"scroll\"><table id=\"events\">\n<tr><th>time</th><th class=\"l\">kind</th><th class=\"l\">service</th><th class=\"l\">task</th><th class=\"l\">instance</th><th class=\"l\">detail</th></tr>\n");
            for e in events.iter().take(MAX_EVENTS) {
                let cell = |i: usize| esc(e.get(i).map_or("", String::as_str));
                let class = if e.get(1).is_some_and(|k| k == "placement_failed" || k == "target_unhealthy") {
                    " class=\"fail\""
                } else {
                    ""
                };
                let _ = writeln!(
                    b,
                    "<tr{class}><td>{}</td><td class=\"l\">{}</td><td class=\"l\">{}</td><td class=\"l\">{}</td><td class=\"l\">{}</td><td class=\"l\">{}</td></tr>",
                    esc(&clock(e.first().map_or("", String::as_str))),
                    cell(1),
                    cell(2),
                    cell(3),
                    cell(4),
                    cell(5)
                );
            }
            b.push_str("</table></div>\n");
        }
    }
    Ok(page(&format!("ecsim run: {name}"), &b))
}

fn sweep_report(dir: &Path) -> Result<Vec<u8>, ReportError> {
    let plan = read_plan(dir).map_err(ReportError::Invalid)?;
    let spec = &plan.spec;
    let runs_text = read(&dir.join("runs.csv"))
        .map_err(|e| ReportError::Invalid(format!("{e}: the sweep did not finish; run it again with --resume")))?;
    let records = read_runs_csv(spec, &runs_text)
        .map_err(|e| ReportError::Invalid(format!("{}: {e}", dir.join("runs.csv").display())))?;
    let base_description = toml::from_str::<toml::Table>(&plan.base_text)
        .ok()
        .and_then(|t| t.get("description").and_then(|d| d.as_str().map(String::from)))
        .unwrap_or_default();

    let mut b = String::new();
    let _ = writeln!(b, "<h1>ecsim sweep: {}</h1>", esc(&spec.name));
    if !spec.description.is_empty() {
        let _ = writeln!(b, "<p class=\"sub\">{}</p>", esc(&spec.description));
    }
    let failed = records.iter().filter(|r| r.outcome.is_err()).count();
    let _ = writeln!(
        b,
        "<table class=\"kv\" id=\"facts\">\n<tr><th class=\"l\">base scenario</th><td>{}{}</td></tr>\n<tr><th class=\"l\">grid</th><td>{} points × {} replicates = {} runs{}; {} recorded, {} failed</td></tr>\n<tr><th class=\"l\">parameters</th><td>{}</td></tr>",
        esc(&plan.base_file),
        if base_description.is_empty() { String::new() } else { format!(": {}", esc(&base_description)) },
        spec.points(),
        spec.replicates,
        spec.runs(),
        if plan.shard.is_whole() { String::new() } else { format!(" (this folder: shard {})", plan.shard) },
        records.len(),
        failed,
        spec.grid
            .parameters()
            .map(|p| format!(
                "<code>{}</code> ({}): {}",
                esc(&p.path),
                esc(&p.name),
                esc(&p.values.iter().map(|v| v.label.as_str()).collect::<Vec<_>>().join(", "))
            ))
            .collect::<Vec<_>>()
            .join("<br>")
    );
    if let Some(o) = &spec.objective {
        let _ =
            writeln!(b, "<tr><th class=\"l\">objective</th><td>{} {}</td></tr>", o.direction.verb(), esc(&o.metric));
    }
    if !spec.constraints.is_empty() {
        let cs: Vec<String> = spec.constraints.iter().map(|c| esc(&c.to_string())).collect();
        let _ = writeln!(b, "<tr><th class=\"l\">constraints</th><td>{} (in every replicate)</td></tr>", cs.join(", "));
    }
    b.push_str("</table>\n");

    if !plan.shard.is_whole() {
        let _ = writeln!(
            b,
            "<p>This folder holds shard {} only; merge the shards with <code>ecsim merge</code> for the aggregate and charts.</p>",
            plan.shard
        );
        return Ok(page(&format!("ecsim sweep: {}", spec.name), &b));
    }

    let points = aggregate(spec, &records);
    let describe = |p: usize| {
        spec.grid
            .parameters()
            .zip(spec.grid.values(p))
            .map(|(q, v)| format!("{} = {}", q.name, v.label))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let feasible = points.iter().filter(|p| p.feasible).count();
    b.push_str("<h2>Result</h2>\n");
    match (&spec.objective, points.iter().find(|p| p.best)) {
        (Some(o), Some(best)) => {
            let m = spec.metrics.iter().position(|x| *x == o.metric).unwrap_or(0);
            let s = best.stats[m];
            let _ = writeln!(
                b,
                "<p id=\"best\"><strong>Best plan</strong> ({} {} among {feasible} feasible of {} points): <strong>{}</strong>, {} = {}{}.</p>",
                o.direction.verb(),
                esc(&o.metric),
                points.len(),
                esc(&describe(best.point)),
                esc(&o.metric),
                s.map_or_else(String::new, |s| format_fixed(s.mean, stat_decimals(&o.metric))),
                s.and_then(|s| s.ci95).map_or_else(String::new, |(lo, hi)| format!(
                    " (95% CI {} to {})",
                    format_fixed(lo, stat_decimals(&o.metric)),
                    format_fixed(hi, stat_decimals(&o.metric))
                ))
            );
        }
        (Some(_), None) => {
            let _ = writeln!(
                b,
                "<p id=\"best\"><strong>No point meets every constraint in every replicate.</strong> Widen the grid or relax the constraints.</p>"
            );
        }
        (None, _) => {
            let _ = writeln!(
                b,
                "<p class=\"note\">{feasible} of {} points are feasible. The sweep states no objective.</p>",
                points.len()
            );
        }
    }

    b.push_str("<h2>Points</h2>\n<p class=\"note\">Mean over the replicates and its 95% confidence interval (Student's t). Green rows are feasible; the darker one is the best plan; ◆ marks the Pareto front.</p>\n<div class=\"scroll\"><table id=\"summary\">\n<tr><th>point</th>");
    for p in spec.grid.parameters() {
        let _ = write!(b, "<th class=\"l\">{}</th>", esc(&p.name));
    }
    b.push_str("<th>runs ok / failed</th>");
    for m in &spec.metrics {
        let _ = write!(b, "<th>{}</th>", esc(m));
    }
    b.push_str("<th>feasible</th><th>best</th><th>Pareto</th></tr>\n");
    for p in &points {
        let class = if p.best {
            " class=\"best\""
        } else if p.feasible {
            " class=\"feasible\""
        } else if p.failed_runs > 0 {
            " class=\"fail\""
        } else {
            ""
        };
        let _ = write!(b, "<tr{class}><td>{}</td>", p.point);
        for v in spec.grid.values(p.point) {
            let _ = write!(b, "<td class=\"l\">{}</td>", esc(&v.label));
        }
        let _ = write!(b, "<td>{} / {}</td>", p.ok_runs, p.failed_runs);
        for (m, s) in spec.metrics.iter().zip(&p.stats) {
            let d = stat_decimals(m);
            let cell = match s {
                None => String::new(),
                Some(s) => match s.ci95 {
                    Some((lo, hi)) => {
                        format!(
                            "{}<br><span class=\"note\">[{}, {}]</span>",
                            format_fixed(s.mean, d),
                            format_fixed(lo, d),
                            format_fixed(hi, d)
                        )
                    }
                    None => format_fixed(s.mean, d),
                },
            };
            let _ = write!(b, "<td>{cell}</td>");
        }
        let mark = |x: bool, s: &str| if x { s.to_string() } else { String::new() };
        let _ = writeln!(
            b,
            "<td>{}</td><td>{}</td><td>{}</td></tr>",
            mark(p.feasible, "✓"),
            mark(p.best, "★"),
            mark(p.pareto, "◆")
        );
    }
    b.push_str("</table></div>\n");

    b.push_str("<h2>Charts</h2>\n");
    let mut order: Vec<String> = Vec::new();
    if let Some(o) = &spec.objective {
        order.push(format!("{}.svg", o.metric));
    }
    order.push("pareto.svg".into());
    order.extend(spec.metrics.iter().map(|m| format!("{m}.svg")));
    let order: Vec<&str> = order.iter().map(String::as_str).collect();
    b.push_str(&charts_html(dir, &order)?);

    if failed > 0 {
        let _ = writeln!(
            b,
            "<h2>Failed runs</h2>\n<table id=\"failed\">\n<tr><th>run</th><th class=\"l\">point</th><th class=\"l\">error</th></tr>"
        );
        for r in records.iter().filter(|r| r.outcome.is_err()).take(MAX_FAILED) {
            let e = r.outcome.as_ref().err().map_or("", String::as_str);
            let _ = writeln!(
                b,
                "<tr class=\"fail\"><td>{}</td><td class=\"l\">{}</td><td class=\"l\">{}</td></tr>",
                r.run,
                esc(&describe(r.run / spec.replicates)),
                esc(e)
            );
        }
        b.push_str("</table>\n");
    }
    Ok(page(&format!("ecsim sweep: {}", spec.name), &b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_is_escaped_and_times_read_as_a_clock() {
        assert_eq!(esc("<a href=\"x\">&'"), "&lt;a href=&quot;x&quot;&gt;&amp;&#39;");
        assert_eq!(clock("75.250"), "1:15.250");
        assert_eq!(clock("3725.000"), "1:02:05.000");
        assert_eq!(clock("x"), "x");
    }
}
