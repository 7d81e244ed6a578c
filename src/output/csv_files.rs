//! The CSV files of a run. Numbers are printed with fixed precision so the bytes depend only on
//! the values, never on the platform.

use crate::engine::{SECOND, format_seconds};
use crate::record::RunResult;

fn writer() -> csv::Writer<Vec<u8>> {
    csv::WriterBuilder::new().terminator(csv::Terminator::Any(b'\n')).from_writer(Vec::new())
}

fn finish(w: csv::Writer<Vec<u8>>) -> Vec<u8> {
    // Writing into a Vec cannot fail.
    w.into_inner().unwrap_or_default()
}

fn pct(x: f64) -> String {
    format!("{x:.3}")
}

/// The columns of `timeseries.csv`, one row per simulated minute per service.
pub const TIMESERIES_COLUMNS: [&str; 11] = [
    "time_s",
    "service",
    "desired",
    "running",
    "pending",
    "unplaced",
    "stopping",
    "hosts",
    "instances",
    "cpu_reserved_pct",
    "mem_reserved_pct",
];

pub fn timeseries_csv(r: &RunResult) -> Vec<u8> {
    let mut w = writer();
    let _ = w.write_record(TIMESERIES_COLUMNS);
    for x in &r.timeseries {
        let _ = w.write_record([
            (x.time / SECOND).to_string(),
            r.services[x.service].clone(),
            x.desired.to_string(),
            x.running.to_string(),
            x.pending.to_string(),
            x.unplaced.to_string(),
            x.stopping.to_string(),
            x.hosts.to_string(),
            x.instances.to_string(),
            pct(x.cpu_reserved_pct),
            pct(x.mem_reserved_pct),
        ]);
    }
    finish(w)
}

/// The columns of `events.csv`, one row per state change.
pub const EVENTS_COLUMNS: [&str; 6] = ["time_s", "kind", "service", "task", "instance", "detail"];

pub fn events_csv(r: &RunResult) -> Vec<u8> {
    let mut w = writer();
    let _ = w.write_record(EVENTS_COLUMNS);
    for e in &r.events {
        let _ = w.write_record([
            format_seconds(e.time).as_str(),
            e.kind.as_str(),
            &e.service,
            &e.task,
            &e.instance,
            &e.detail,
        ]);
    }
    finish(w)
}

/// The columns of `summary.csv`, one row per service.
pub const SUMMARY_COLUMNS: [&str; 14] = [
    "service",
    "scheduling_strategy",
    "desired",
    "running",
    "pending",
    "unplaced",
    "placement_failures",
    "tasks_started",
    "tasks_stopped",
    "instances",
    "hosts",
    "cpu_reserved_pct",
    "mem_reserved_pct",
    "pending_task_minutes",
];

pub fn summary_csv(r: &RunResult) -> Vec<u8> {
    let mut w = writer();
    let _ = w.write_record(SUMMARY_COLUMNS);
    for s in &r.summary {
        let _ = w.write_record([
            s.service.clone(),
            s.scheduling_strategy.to_string(),
            s.desired.to_string(),
            s.running.to_string(),
            s.pending.to_string(),
            s.unplaced.to_string(),
            s.placement_failures.to_string(),
            s.tasks_started.to_string(),
            s.tasks_stopped.to_string(),
            s.instances.to_string(),
            s.hosts.to_string(),
            pct(s.cpu_reserved_pct),
            pct(s.mem_reserved_pct),
            s.pending_task_minutes.to_string(),
        ]);
    }
    finish(w)
}
