//! The CSV files of a run. Numbers are printed with fixed precision so the bytes depend only on
//! the values, never on the platform. The columns come from the record types, so the files and
//! the `[[expect]]` checks that read them by name never disagree.

use std::fmt::Write as _;

use crate::engine::{SECOND, format_seconds};
use crate::record::{RunResult, ServiceSample, ServiceSummary};

fn writer() -> csv::Writer<Vec<u8>> {
    csv::WriterBuilder::new().terminator(csv::Terminator::Any(b'\n')).from_writer(Vec::new())
}

fn finish(w: csv::Writer<Vec<u8>>) -> Vec<u8> {
    // Writing into a Vec cannot fail.
    w.into_inner().unwrap_or_default()
}

/// `timeseries.csv`: one row per simulated minute per service.
pub fn timeseries_csv(r: &RunResult) -> Vec<u8> {
    let mut w = writer();
    let _ = w.write_record(["time_s", "service"].into_iter().chain(ServiceSample::COLUMNS));
    // One reused buffer per field rather than a string per field: a long run has a row per
    // service and minute.
    let mut field = String::new();
    for x in &r.timeseries {
        field.clear();
        let _ = write!(field, "{}", x.time / SECOND);
        let _ = w.write_field(&field);
        let _ = w.write_field(&r.services[x.service]);
        for v in x.values() {
            field.clear();
            let _ = write!(field, "{v}");
            let _ = w.write_field(&field);
        }
        let _ = w.write_record(None::<&[u8]>);
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

/// `summary.csv`: one row per service.
pub fn summary_csv(r: &RunResult) -> Vec<u8> {
    let mut w = writer();
    let _ = w.write_record(["service", "scheduling_strategy"].into_iter().chain(ServiceSummary::COLUMNS));
    for s in &r.summary {
        let mut row = vec![s.service.clone(), s.scheduling_strategy.to_string()];
        row.extend(ServiceSummary::COLUMNS.iter().map(|c| s.column(c).map(|v| v.to_string()).unwrap_or_default()));
        let _ = w.write_record(&row);
    }
    finish(w)
}
