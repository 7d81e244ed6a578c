//! Trace CSV text through its reader: the trace or an error at a line and column inside it.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    match ecsim::model::workload::parse_trace_csv(&text) {
        Ok(trace) => {
            let _ = trace.length();
        }
        Err(e) => {
            assert!(e.line >= 1 && e.line <= text.split('\n').count() && e.column >= 1, "{e}");
        }
    }
});
