//! AWS's JSON read directly (`from` keys) and through `ecsim import`: both task definition
//! shapes, cpu and memory as strings or numbers, errors that name the file and the JSON path,
//! CloudWatch exports with gaps, and the round trip import → TOML → run, which must give the
//! same outputs as the scenario that reads the JSON itself.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use ecsim::Scenario;
use ecsim::engine::SECOND;
use ecsim::model::workload::{ArrivalProcess, RatePattern};
use ecsim::output::csv_files::{events_csv, summary_csv, timeseries_csv};

fn imported_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios").join("imported")
}

/// A fresh temporary folder, removed when dropped; its own even when tests running in parallel
/// ask for the same tag.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let p = std::env::temp_dir().join(format!("ecsim-import-{tag}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }

    fn write(&self, name: &str, text: &str) -> PathBuf {
        let p = self.0.join(name);
        std::fs::write(&p, text).unwrap();
        p
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn ecsim(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ecsim")).args(args).current_dir(dir).output().expect("run ecsim")
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

/// A scenario in `dir` with one EC2 group, the given task definition table and a service.
fn scenario_with(dir: &TempDir, td_table: &str) -> Result<(Scenario, Vec<String>), ecsim::ScenarioError> {
    let text = format!(
        r#"
name = "t"
duration = "10m"
[cluster]
availability_zones = ["us-east-1a"]
[[cluster.auto_scaling_groups]]
name = "g"
instance_type = "m5.large"
desired_capacity = 2
{td_table}
[services.web]
task_definition = "web"
desired_count = 1
"#
    );
    let path = dir.write("s.toml", &text);
    Scenario::load(&path, &[], false)
}

const CONTAINERS: &str = r#"
  "containerDefinitions": [
    {"name": "app", "image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/web:1", "cpu": 256,
     "memory": 768, "memoryReservation": 512, "essential": true,
     "portMappings": [{"containerPort": 8080, "hostPort": 0, "protocol": "tcp"}]},
    {"name": "sidecar", "image": "public.ecr.aws/nginx/nginx:1.27", "cpu": 128, "memory": 128, "essential": false}
  ]"#;

#[test]
fn both_task_definition_shapes_give_the_same_task_definition() {
    let dir = TempDir::new("shapes");
    let register = format!(
        r#"{{"family": "web", "networkMode": "bridge", "requiresCompatibilities": ["EC2"], "cpu": "512", "memory": "1024",
            "executionRoleArn": "arn:aws:iam::123456789012:role/ecsTaskExecutionRole", {CONTAINERS}}}"#
    );
    let describe = format!(
        r#"{{"taskDefinition": {{"taskDefinitionArn": "arn:aws:ecs:us-east-1:123456789012:task-definition/web:1",
            "family": "web", "revision": 1, "status": "ACTIVE", "compatibilities": ["EC2"],
            "networkMode": "bridge", "requiresCompatibilities": ["EC2"], "cpu": "512", "memory": "1024",
            "executionRoleArn": "arn:aws:iam::123456789012:role/ecsTaskExecutionRole",
            "registeredAt": "2024-11-20T09:41:07.912000+00:00", {CONTAINERS}}}, "tags": []}}"#
    );
    dir.write("register.json", &register);
    dir.write("describe.json", &describe);
    let (a, wa) = scenario_with(&dir, "[task_definitions.web]\nfrom = \"register.json\"").unwrap();
    let (b, wb) = scenario_with(&dir, "[task_definitions.web]\nfrom = \"describe.json\"").unwrap();
    assert_eq!(format!("{:?}", a.task_definitions), format!("{:?}", b.task_definitions));
    // State and metadata of the describe output are not configuration: nothing to warn about.
    assert!(wa.is_empty() && wb.is_empty(), "{wa:?} {wb:?}");
    let td = &a.task_definitions[0];
    assert_eq!((td.family.as_str(), td.revision, td.cpu, td.memory), ("web", 1, Some(512), Some(1024)));
    assert_eq!(td.containers.len(), 2);
    assert_eq!((td.containers[0].memory, td.containers[0].memory_reservation), (Some(768), Some(512)));
    assert!(!td.containers[1].essential);
    assert_eq!(td.execution_role.as_ref().map(|r| r.name.as_str()), Some("ecsTaskExecutionRole"));

    // The same written in TOML.
    let toml = r#"
[task_definitions.web]
family = "web"
network_mode = "bridge"
cpu = 512
memory = 1024
execution_role = { name = "ecsTaskExecutionRole" }
[[task_definitions.web.containers]]
name = "app"
image = "123456789012.dkr.ecr.us-east-1.amazonaws.com/web:1"
cpu = 256
memory = 768
memory_reservation = 512
essential = true
port_mappings = [{ container_port = 8080, host_port = 0, protocol = "tcp" }]
[[task_definitions.web.containers]]
name = "sidecar"
image = "public.ecr.aws/nginx/nginx:1.27"
cpu = 128
memory = 128
essential = false
"#;
    let (c, _) = scenario_with(&dir, toml).unwrap();
    assert_eq!(format!("{:?}", a.task_definitions), format!("{:?}", c.task_definitions));
}

#[test]
fn cpu_and_memory_may_be_strings_numbers_or_units() {
    let dir = TempDir::new("units");
    let mut seen = Vec::new();
    for (cpu, memory) in
        [("512", "1024"), ("\"512\"", "\"1024\""), ("\"0.5 vCPU\"", "\"1 GB\""), ("\"0.5 vcpu\"", "\"1gb\"")]
    {
        dir.write(
            "td.json",
            &format!(
                r#"{{"family": "web", "cpu": {cpu}, "memory": {memory}, "containerDefinitions": [
                {{"name": "app", "image": "nginx", "cpu": "256", "memoryReservation": 512}}]}}"#
            ),
        );
        let (s, _) = scenario_with(&dir, "[task_definitions.web]\nfrom = \"td.json\"").unwrap();
        let td = &s.task_definitions[0];
        seen.push((td.cpu, td.memory, td.containers[0].cpu));
    }
    assert!(seen.iter().all(|x| *x == (Some(512), Some(1024), 256)), "{seen:?}");
}

/// The error of a scenario reading `json` as its task definition, as printed.
fn td_error(json: &str) -> String {
    let dir = TempDir::new("err");
    dir.write("td.json", json);
    match scenario_with(&dir, "[task_definitions.web]\nfrom = \"td.json\"") {
        Ok(_) => panic!("{json} was accepted"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn a_missing_required_field_is_named_by_its_json_path() {
    let e = td_error(r#"{"containerDefinitions": [{"name": "app", "image": "nginx", "memory": 128}]}"#);
    assert!(e.contains("td.json") && e.contains("`family`") && e.contains("missing required field"), "{e}");
    let e = td_error(
        r#"{"taskDefinition": {"family": "web",
  "containerDefinitions": [{"name": "app", "memory": 128}]}}"#,
    );
    assert!(
        e.contains("td.json:2:") && e.contains("taskDefinition.containerDefinitions[0]") && e.contains("image"),
        "{e}"
    );
}

#[test]
fn an_unknown_network_mode_is_refused_with_its_path() {
    let e = td_error(
        r#"{"family": "web", "networkMode": "nat", "containerDefinitions": [{"name": "app", "image": "nginx", "memory": 128}]}"#,
    );
    assert!(e.contains("td.json:1:") && e.contains("`networkMode`") && e.contains("unknown network mode `nat`"), "{e}");
}

#[test]
fn malformed_and_contradictory_json_names_the_path() {
    // Not a number.
    let e =
        td_error(r#"{"taskDefinition": {"family": "web", "containerDefinitions": [{"name": "app", "cpu": "lots"}]}}"#);
    assert!(e.contains("taskDefinition.containerDefinitions[0].cpu") && e.contains("\"lots\""), "{e}");
    // Not JSON at all.
    let e = td_error("{\"family\": \"web\",\n  \"cpu\": }");
    assert!(e.contains("td.json:2:") && e.contains("not valid JSON"), "{e}");
    // A soft limit above the hard one: found by the scenario's own checks, reported in the JSON.
    let e = td_error(
        r#"{"family": "web", "containerDefinitions": [
  {"name": "app", "image": "nginx", "memory": 256, "memoryReservation": 512}]}"#,
    );
    assert!(e.contains("td.json:2:") && e.contains("containerDefinitions[0].memoryReservation"), "{e}");
    // FARGATE compatibility needs awsvpc.
    let e = td_error(
        r#"{"family": "web", "requiresCompatibilities": ["FARGATE"], "networkMode": "bridge", "cpu": "256", "memory": "512",
  "containerDefinitions": [{"name": "app", "image": "nginx"}]}"#,
    );
    assert!(e.contains("`networkMode`") && e.contains("awsvpc"), "{e}");
    // A dependency on a container that is not there.
    let e = td_error(
        r#"{"family": "web", "containerDefinitions": [{"name": "app", "image": "nginx", "memory": 128,
  "dependsOn": [{"containerName": "db", "condition": "START"}]}]}"#,
    );
    assert!(e.contains("containerDefinitions[0].dependsOn[0].containerName") && e.contains("`db`"), "{e}");
    // A health check out of its documented range.
    let e = td_error(
        r#"{"family": "web", "containerDefinitions": [{"name": "app", "image": "nginx", "memory": 128,
  "healthCheck": {"command": ["CMD", "true"], "interval": 1}}]}"#,
    );
    assert!(e.contains("healthCheck.interval") && e.contains("5 to 300"), "{e}");
    // Dockerrun version 1 is a single-container file.
    let e = td_error(r#"{"AWSEBDockerrunVersion": "1", "Image": {"Name": "nginx"}}"#);
    assert!(e.contains("AWSEBDockerrunVersion") && e.contains("version 2"), "{e}");
}

#[test]
fn fields_not_simulated_are_listed_once_and_refused_under_strict() {
    let dir = TempDir::new("strict");
    dir.write(
        "td.json",
        r#"{"family": "web", "volumes": [{"name": "v"}], "containerDefinitions": [
  {"name": "app", "image": "nginx", "memory": 128, "environment": [{"name": "A", "value": "1"}],
   "healthCheck": {"command": ["CMD", "true"]}}]}"#,
    );
    let (_, warnings) = scenario_with(&dir, "[task_definitions.web]\nfrom = \"td.json\"").unwrap();
    assert_eq!(warnings.len(), 2, "{warnings:?}");
    assert!(
        warnings[0].contains("not simulated, ignored: volumes, containerDefinitions[0].environment"),
        "{warnings:?}"
    );
    assert!(warnings[1].contains("not simulated yet: containerDefinitions[0].healthCheck"), "{warnings:?}");
    let path = dir.0.join("s.toml");
    let e = Scenario::load(&path, &[], true).unwrap_err().to_string();
    assert!(e.contains("--strict") && e.contains("`volumes`"), "{e}");
}

#[test]
fn only_ecsim_extensions_sit_next_to_from() {
    let dir = TempDir::new("extensions");
    dir.write(
        "td.json",
        r#"{"family": "web", "containerDefinitions": [{"name": "app", "image": "nginx", "memory": 128}]}"#,
    );
    let e = scenario_with(&dir, "[task_definitions.web]\nfrom = \"td.json\"\ncpu = 256").unwrap_err().to_string();
    assert!(e.contains("s.toml:") && e.contains("`cpu` comes from td.json") && e.contains("ecsim import"), "{e}");
    let (s, _) =
        scenario_with(&dir, "[task_definitions.web]\nfrom = \"td.json\"\napp = { max_concurrency = 8 }").unwrap();
    assert_eq!(s.task_definitions[0].app.max_concurrency, 8);
}

/// The arrival rates a scenario makes of a metric export with `extra` arrival keys.
fn cloudwatch_rates(export: &str, extra: &str) -> Vec<(u64, f64)> {
    let dir = TempDir::new("cw");
    dir.write("metric.json", export);
    let text = format!(
        r#"
name = "t"
duration = "30m"
[cluster]
availability_zones = ["us-east-1a"]
[[cluster.auto_scaling_groups]]
name = "g"
instance_type = "m5.large"
desired_capacity = 1
[task_definitions.web]
network_mode = "bridge"
[[task_definitions.web.containers]]
name = "app"
image = "nginx"
memory = 256
port_mappings = [{{ container_port = 80 }}]
[target_groups.web]
[services.web]
task_definition = "web"
desired_count = 1
load_balancer = {{ target_group = "web", container_name = "app", container_port = 80 }}
[workloads.web]
target_group = "web"
arrivals = {{ pattern = "cloudwatch", file = "metric.json"{extra} }}
service_time = "10ms"
"#
    );
    let path = dir.write("s.toml", &text);
    let s = Scenario::from_path(&path, &[]).unwrap();
    match &s.workloads[0].arrivals {
        ArrivalProcess::Poisson(RatePattern::Trace { points, scale, .. }) => {
            points.iter().map(|&(t, r)| (t / SECOND, r * scale)).collect()
        }
        other => panic!("{other:?}"),
    }
}

/// get-metric-data, newest first, 5-minute datapoints with the 10- and 15-minute ones missing.
const WITH_GAPS: &str = r#"{"MetricDataResults": [{"Id": "m1", "Label": "RequestCount",
  "Timestamps": ["2024-11-20T10:20:00+00:00", "2024-11-20T10:05:00+00:00", "2024-11-20T10:00:00+00:00"],
  "Values": [1800.0, 900.0, 600.0], "StatusCode": "Complete"}], "Messages": []}"#;

#[test]
fn a_metric_export_with_gaps_is_filled_as_the_scenario_says() {
    let at = |r: Vec<(u64, f64)>| r.into_iter().map(|(_, v)| v).collect::<Vec<_>>();
    let times: Vec<u64> = cloudwatch_rates(WITH_GAPS, "").iter().map(|p| p.0).collect();
    assert_eq!(times, [0, 300, 600, 900, 1200]);
    assert_eq!(at(cloudwatch_rates(WITH_GAPS, "")), [2.0, 3.0, 0.0, 0.0, 6.0]);
    assert_eq!(at(cloudwatch_rates(WITH_GAPS, ", missing_datapoints = \"zero\"")), [2.0, 3.0, 0.0, 0.0, 6.0]);
    assert_eq!(at(cloudwatch_rates(WITH_GAPS, ", missing_datapoints = \"hold_last\"")), [2.0, 3.0, 3.0, 3.0, 6.0]);
    assert_eq!(at(cloudwatch_rates(WITH_GAPS, ", missing_datapoints = \"interpolate\"")), [2.0, 3.0, 4.0, 5.0, 6.0]);
    // A scale factor and a time shift.
    assert_eq!(cloudwatch_rates(WITH_GAPS, ", scale = 2.0, shift = \"-5m\"")[..2], [(0, 6.0), (300, 0.0)]);
    assert_eq!(cloudwatch_rates(WITH_GAPS, ", shift = \"1m\"")[0], (60, 2.0));
}

#[test]
fn get_metric_statistics_reads_the_sum_in_any_order_and_period() {
    let export = r#"{"Label": "RequestCount", "Datapoints": [
      {"Timestamp": "2024-11-20T10:02:00Z", "Sum": 180.0, "Unit": "Count"},
      {"Timestamp": "2024-11-20T10:00:00Z", "Sum": 60.0, "Unit": "Count"},
      {"Timestamp": "2024-11-20T10:01:00Z", "Sum": 120.0, "Unit": "Count"}]}"#;
    assert_eq!(cloudwatch_rates(export, ""), [(0, 1.0), (60, 2.0), (120, 3.0)]);
    // A period longer than the spacing is refused; a shorter one that divides it makes gaps.
    assert_eq!(cloudwatch_rates(export, ", metric_period = \"30s\"").len(), 5);
}

#[test]
fn a_metric_export_without_sums_names_the_datapoint() {
    let dir = TempDir::new("nosum");
    dir.write(
        "m.json",
        r#"{"Label": "RequestCount", "Datapoints": [{"Timestamp": "2024-11-20T10:00:00Z", "Average": 3.0}]}"#,
    );
    let o = ecsim(&["import", "m.json"], &dir.0);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("Datapoints[0].Sum") && text(&o).contains("--statistics Sum"), "{}", text(&o));
}

/// The files of scenarios/imported, as `ecsim import` takes them.
const SAMPLE_FILES: [&str; 9] = [
    "web-td.json",
    "api-td.json",
    "shop/Dockerrun.aws.json",
    "services.json",
    "scalable-targets.json",
    "scaling-policies.json",
    "alarms.json",
    "web-requests.json",
    "api-requests.json",
];

/// `from-aws.toml` with every table it reads `from` a file replaced by what `ecsim import`
/// wrote for that file, with the extension keys (`app`) kept.
fn spliced(imported: &toml::Table) -> String {
    let original: toml::Table = std::fs::read_to_string(imported_dir().join("from-aws.toml")).unwrap().parse().unwrap();
    let mut out = original.clone();
    for section in ["task_definitions", "services"] {
        let ours = out[section].as_table_mut().unwrap();
        for (key, table) in ours.iter_mut() {
            let table = table.as_table_mut().unwrap();
            let mut new =
                imported[section][key.as_str()].as_table().unwrap_or_else(|| panic!("no {section}.{key}")).clone();
            for (k, v) in table.iter() {
                match k.as_str() {
                    "from" => {}
                    "auto_scaling" => {}
                    _ => {
                        new.insert(k.clone(), v.clone());
                    }
                }
            }
            *table = new;
        }
    }
    toml::to_string(&out).unwrap()
}

#[test]
fn import_then_run_gives_the_outputs_of_reading_the_json_directly() {
    let tmp = TempDir::new("roundtrip");
    let out = tmp.0.join("imported.toml");
    let mut args = vec!["import".to_string()];
    args.extend(SAMPLE_FILES.iter().map(|f| f.to_string()));
    args.extend(["--out".to_string(), out.display().to_string()]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let o = ecsim(&args, &imported_dir());
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    // The fields not simulated are listed, once per file.
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(stderr.matches("web-td.json: not simulated, ignored").count(), 1, "{stderr}");
    assert!(stderr.contains("dependsOn") && stderr.contains("healthCheck"), "{stderr}");
    // The imported scenario is complete: it checks and runs as written.
    let imported_text = std::fs::read_to_string(&out).unwrap();
    let run = ecsim(&["run", out.to_str().unwrap(), "--out", tmp.0.join("run").to_str().unwrap()], &tmp.0);
    assert_eq!(run.status.code(), Some(0), "{}", text(&run));

    let imported: toml::Table = imported_text.parse().unwrap();
    let name = imported_dir().join("spliced.toml").display().to_string();
    let from_toml = Scenario::from_str_named(&name, spliced(&imported), &[]).unwrap();
    let from_json = Scenario::from_path(&imported_dir().join("from-aws.toml"), &[]).unwrap();
    let (a, b) = (ecsim::simulate(&from_json), ecsim::simulate(&from_toml));
    assert_eq!(summary_csv(&a), summary_csv(&b));
    assert_eq!(timeseries_csv(&a), timeseries_csv(&b));
    assert_eq!(events_csv(&a), events_csv(&b));
    assert!(a.events.len() > 100);
}

#[test]
fn import_refuses_bad_input_with_exit_2_and_the_field() {
    let dir = TempDir::new("cli-bad");
    dir.write(
        "bad.json",
        r#"{"taskDefinition": {"family": "web", "containerDefinitions": [{"name": "app", "cpu": "lots"}]}}"#,
    );
    let o = ecsim(&["import", "bad.json", "--out", "bad.toml"], &dir.0);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("containerDefinitions[0].cpu"), "{}", text(&o));
    assert!(!dir.0.join("bad.toml").exists());
    // A service whose task definition is not among the files.
    let services = std::fs::read_to_string(imported_dir().join("services.json")).unwrap();
    dir.write("services.json", &services);
    let o = ecsim(&["import", "services.json"], &dir.0);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        text(&o).contains("services[0].taskDefinition") && text(&o).contains("describe-task-definition"),
        "{}",
        text(&o)
    );
    // Not an AWS file.
    dir.write("other.json", r#"{"hello": 1}"#);
    let o = ecsim(&["import", "other.json"], &dir.0);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    // --strict refuses what is not simulated.
    let o = ecsim(&["import", "--strict", imported_dir().join("web-td.json").to_str().unwrap()], &dir.0);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("--strict") && text(&o).contains("environment"), "{}", text(&o));
}

#[test]
fn a_lone_task_definition_gets_a_stub_service_and_cluster() {
    let dir = TempDir::new("lone");
    let o = ecsim(&["import", imported_dir().join("api-td.json").to_str().unwrap()], &dir.0);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let t = String::from_utf8_lossy(&o.stdout);
    assert!(t.contains("[services.api]") && t.contains("launch_type = \"FARGATE\"") && t.contains("EDIT"), "{t}");
    let s = Scenario::from_str_named("x.toml", t.into_owned(), &[]).unwrap();
    assert_eq!(s.services[0].desired_count, 2);
}
