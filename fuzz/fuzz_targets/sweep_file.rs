//! Sweep-file text through its parser and checks: a checked sweep or a located error, never a
//! panic. A sweep that reads is also checked against a small base scenario, which tries every
//! parameter's path and value on it.
#![no_main]

use libfuzzer_sys::fuzz_target;

const BASE: &str = r#"
version = 1
name = "base"
duration = "10m"
[cluster]
availability_zones = ["us-east-1a"]
[[cluster.auto_scaling_groups]]
name = "g"
instance_type = "m5.large"
desired_capacity = 2
[task_definitions.web]
cpu = 256
memory = 512
[[task_definitions.web.containers]]
name = "app"
image = "nginx"
[services.web]
task_definition = "web"
desired_count = 2
"#;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data).into_owned();
    if let Ok(spec) = ecsim::sweep::SweepSpec::parse("fuzz.toml", text, &[]) {
        assert!(spec.runs() >= 1);
        let _ = ecsim::sweep::Sweep::with_base(spec, "base.toml".into(), BASE.into());
    }
});
