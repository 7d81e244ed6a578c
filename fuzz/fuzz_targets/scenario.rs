//! Scenario text through parsing and validation: a checked scenario or a located error, never
//! a panic. The input's first line, if it starts with `--set `, is taken as one override.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data).into_owned();
    let (overrides, text) = match text.strip_prefix("--set ") {
        Some(rest) => {
            let (set, body) = rest.split_once('\n').unwrap_or((rest, ""));
            (vec![set.to_string()], body.to_string())
        }
        None => (Vec::new(), text),
    };
    // Relative trace paths resolve beside this name: the bundled traces, for seeds that use them.
    let name = concat!(env!("CARGO_MANIFEST_DIR"), "/../scenarios/fuzz.toml");
    match ecsim::Scenario::from_str_named(name, text, &overrides) {
        Ok(s) => assert!(s.duration > 0),
        Err(e) => assert!(!e.to_string().is_empty()),
    }
});
