//! `[[expect]]` tables: each kind of check, evaluated on a small run whose numbers are known.

use ecsim::{Scenario, simulate};

const BASE: &str = r#"
name = "e"
duration = "10m"
[cluster]
availability_zones = ["a", "b"]
[[cluster.auto_scaling_groups]]
name = "g"
instance_type = "m5.large"
desired_capacity = 2
[task_definitions.web]
[[task_definitions.web.containers]]
name = "c"
image = "app"
cpu = 256
memory = 512
port_mappings = [{ container_port = 80, host_port = 80 }]
[services.web]
task_definition = "web"
desired_count = 3
[[actions]]
at = "5m"
set_desired_count = { service = "web", desired_count = 1 }
"#;

/// Evaluates one `[[expect]]` table appended to the base scenario: whether it holds, and the report.
fn outcome(expect: &str) -> (bool, String) {
    let text = format!("{BASE}\n[[expect]]\n{expect}\n");
    let s = Scenario::from_str_named("e.toml", text, &[]).unwrap_or_else(|e| panic!("{e}"));
    let r = simulate(&s);
    let o = s.expectations[0].evaluate(&r);
    (o.holds, o.report)
}

#[test]
fn a_series_is_folded_over_its_window() {
    // 2 instances, host port 80: 2 of 3 run until 5 min, then the desired count is 1.
    assert!(
        outcome("why = \"w\"\nmetric = \"running\"\nfrom = \"1m\"\nto = \"4m\"\nagg = \"min\"\nop = \"==\"\nvalue = 2")
            .0
    );
    assert!(outcome("why = \"w\"\nmetric = \"running\"\nat = \"10m\"\nop = \"==\"\nvalue = 1").0);
    assert!(outcome("why = \"w\"\nmetric = \"unplaced\"\nagg = \"max\"\nop = \"==\"\nvalue = 1").0);
    // Minutes 1..4 have one unplaced task each, minute 5 onwards none: a sum of 4.
    let (holds, report) = outcome("why = \"w\"\nmetric = \"unplaced\"\nagg = \"sum\"\nop = \"==\"\nvalue = 5");
    assert!(!holds);
    assert!(report.contains("is 4 (expected == 5)"), "{report}");
}

#[test]
fn a_summary_column_sums_over_services() {
    assert!(outcome("why = \"w\"\nsummary = \"running\"\nop = \"==\"\nvalue = 1").0);
    assert!(outcome("why = \"w\"\nsummary = \"placement_failures\"\nservice = \"web\"\nop = \">=\"\nvalue = 1").0);
}

#[test]
fn events_are_counted_and_timed() {
    assert!(outcome("why = \"w\"\nevent = \"placement_failed\"\ndetail = \"RESOURCE:PORTS\"\ncount = \"== 1\"").0);
    assert!(outcome("why = \"w\"\nevent = \"task_stopping\"\nfirst_at = \"== 5m\"").0);
    assert!(outcome("why = \"w\"\nevent = \"task_stopping\"\nto = \"4m\"\ncount = \"== 0\"").0);
    let (holds, report) = outcome("why = \"w\"\nevent = \"instance_drained\"");
    assert!(!holds);
    assert!(report.contains("0 `instance_drained` events"), "{report}");
}

#[test]
fn malformed_expectations_are_bad_input() {
    for (bad, says) in [
        ("why = \"w\"\nmetric = \"runing\"\nop = \"==\"\nvalue = 1", "did you mean `running`?"),
        ("why = \"w\"\nsummary = \"running\"\nop = \"=>\"\nvalue = 1", "not an operator"),
        ("why = \"w\"\nevent = \"task_running\"\ncount = \"lots\"", "not a count test"),
        ("why = \"w\"\nsummary = \"running\"\nat = \"1m\"\nop = \"==\"\nvalue = 1", "does not apply"),
        ("why = \"w\"\nmetric = \"running\"\nsummary = \"running\"\nop = \"==\"\nvalue = 1", "exactly one of"),
        ("why = \"\"\nevent = \"task_running\"", "why this should hold"),
        ("why = \"w\"\nevent = \"task_running\"\nservice = \"api\"", "no service is called `api`"),
    ] {
        let text = format!("{BASE}\n[[expect]]\n{bad}\n");
        let e = Scenario::from_str_named("e.toml", text, &[]).expect_err(bad).to_string();
        assert!(e.contains(says), "{bad}: {e}");
        assert!(e.starts_with("e.toml:"), "{e}");
    }
}
