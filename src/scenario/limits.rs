//! Sizes past what one machine can hold, refused before the run starts.
//!
//! A run keeps its whole world in memory: every instance, every task, and every request in
//! flight (an overloaded task with no `queue_limit` holds every request that reaches it, so in
//! the worst case every request of the run is in flight at its end). [`check`] bounds each from
//! the checked scenario alone, prices them at the bytes measured per entity, and refuses a
//! scenario whose worst case exceeds the memory budget of one run, naming the largest item, the
//! limit and how to change either. The checks are pure: no I/O, no simulation.
//!
//! The bytes per entity are the peak heap measured by `tests/soak.rs`
//! (`bytes_per_instance_task_and_request`), rounded up with room to spare; that test fails if
//! the model outgrows them.

use std::fmt;

use super::Scenario;
use crate::engine::{MINUTE, SECOND, SimTime};
use crate::model::service::SchedulingStrategy;
use crate::model::workload::{ArrivalProcess, RatePattern};

/// Heap bytes one container instance takes (measured: 469).
pub const BYTES_PER_INSTANCE: u64 = 1024;
/// Heap bytes one task takes, with its target, its server and its events (measured: 1330).
pub const BYTES_PER_TASK: u64 = 1536;
/// Heap bytes one request in flight takes (measured: 46).
pub const BYTES_PER_REQUEST: u64 = 128;

/// The memory one run may use: 8 GiB. A sweep runs one run per core, and this leaves room for
/// two on a 24 GiB machine. [`Limits::from_env`] reads another from `ECSIM_MEMORY_BUDGET_MIB`.
pub const MEMORY_BUDGET: u64 = 8 << 30;

/// The environment variable that changes [`MEMORY_BUDGET`], in MiB.
pub const BUDGET_VARIABLE: &str = "ECSIM_MEMORY_BUDGET_MIB";

/// Instances one run may hold at once with the default budget (8,388,608).
pub const MAX_INSTANCES: u64 = MEMORY_BUDGET / BYTES_PER_INSTANCE;
/// Tasks one run may hold at once with the default budget (5,592,405).
pub const MAX_TASKS: u64 = MEMORY_BUDGET / BYTES_PER_TASK;
/// Requests one run may send with the default budget (67,108,864): all could be in flight.
pub const MAX_REQUESTS: u64 = MEMORY_BUDGET / BYTES_PER_REQUEST;

/// The budget the checks hold a scenario to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Bytes one run may use.
    pub memory_budget: u64,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits { memory_budget: MEMORY_BUDGET }
    }
}

impl Limits {
    /// The default budget, or `ECSIM_MEMORY_BUDGET_MIB` MiB when that is set to a number.
    pub fn from_env() -> Limits {
        Limits::from_setting(std::env::var(BUDGET_VARIABLE).ok().as_deref())
    }

    /// The budget a setting of `ECSIM_MEMORY_BUDGET_MIB` gives: a whole number of MiB above
    /// zero, else the default.
    pub fn from_setting(mib: Option<&str>) -> Limits {
        mib.and_then(|v| v.trim().parse::<u64>().ok())
            .filter(|&mib| mib > 0)
            .map_or_else(Limits::default, |mib| Limits { memory_budget: mib.saturating_mul(1 << 20) })
    }

    pub fn max_instances(&self) -> u64 {
        self.memory_budget / BYTES_PER_INSTANCE
    }

    pub fn max_tasks(&self) -> u64 {
        self.memory_budget / BYTES_PER_TASK
    }

    pub fn max_requests(&self) -> u64 {
        self.memory_budget / BYTES_PER_REQUEST
    }
}

/// What a limit counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Item {
    Instances,
    Tasks,
    Requests,
}

impl Item {
    pub fn as_str(self) -> &'static str {
        match self {
            Item::Instances => "instances",
            Item::Tasks => "tasks",
            Item::Requests => "requests",
        }
    }
}

/// A scenario past a limit: which item, how many it may reach, the limit, where in the file
/// the largest share comes from, and what to do.
#[derive(Clone, Debug, PartialEq)]
pub struct LimitExceeded {
    pub item: Item,
    /// The most the scenario may reach (instances or tasks at once, requests over the run).
    pub count: u64,
    /// The most the budget allows.
    pub limit: u64,
    /// The key that contributes most, e.g. `cluster.auto_scaling_groups[0].max_size` or
    /// `workloads.web.arrivals` (a key path as `--set` takes it).
    pub key: String,
    /// How to bring the scenario within the limit, or the limit up.
    pub advice: String,
    /// The memory the worst case would take, in bytes, and the budget.
    pub bytes: u64,
    pub budget: u64,
}

impl fmt::Display for LimitExceeded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the scenario may reach {} {}, past the limit of {} that one run can hold ({} of {} bytes each \
             would need {}, over the {} memory budget)",
            group_digits(self.count),
            self.item.as_str(),
            group_digits(self.limit),
            self.item.as_str(),
            self.bytes / self.count.max(1),
            human_bytes(self.bytes),
            human_bytes(self.budget)
        )
    }
}

impl std::error::Error for LimitExceeded {}

/// [`check_with`] at the budget of [`Limits::from_env`].
pub fn check(scenario: &Scenario) -> Result<(), LimitExceeded> {
    check_with(scenario, &Limits::from_env())
}

/// Refuses a scenario whose instances, tasks or requests could exceed the budget; the first
/// item past its limit, in that order.
pub fn check_with(scenario: &Scenario, limits: &Limits) -> Result<(), LimitExceeded> {
    let budget_hint = format!(
        "or, on a machine with more memory, raise the budget of one run ({} MiB) with {BUDGET_VARIABLE}",
        limits.memory_budget >> 20
    );
    let (instances, instance_key) = max_instances(scenario);
    if instances > limits.max_instances() {
        return Err(LimitExceeded {
            item: Item::Instances,
            count: instances,
            limit: limits.max_instances(),
            key: instance_key,
            advice: format!(
                "lower the groups' desired_capacity and max_size, or simulate part of the fleet; {budget_hint}"
            ),
            bytes: instances.saturating_mul(BYTES_PER_INSTANCE),
            budget: limits.memory_budget,
        });
    }
    let (tasks, task_key) = max_tasks(scenario, instances);
    if tasks > limits.max_tasks() {
        return Err(LimitExceeded {
            item: Item::Tasks,
            count: tasks,
            limit: limits.max_tasks(),
            key: task_key,
            advice: format!(
                "lower the services' desired_count and auto_scaling.max_capacity (a deployment may run up to \
                 maximum_percent of them), or give tasks more CPU each; {budget_hint}"
            ),
            bytes: tasks.saturating_mul(BYTES_PER_TASK),
            budget: limits.memory_budget,
        });
    }
    let (requests, request_key) = max_requests(scenario);
    if requests > limits.max_requests() {
        return Err(LimitExceeded {
            item: Item::Requests,
            count: requests,
            limit: limits.max_requests(),
            key: request_key,
            advice: format!(
                "lower the request rate or shorten `duration` (a sweep or several runs can cover the rest), or \
                 set the task definition's app.queue_limit so that an overloaded task refuses requests \
                 instead of holding them; {budget_hint}"
            ),
            bytes: requests.saturating_mul(BYTES_PER_REQUEST),
            budget: limits.memory_budget,
        });
    }
    Ok(())
}

/// The most instances the groups may hold at once, and the key of the largest group.
pub fn max_instances(scenario: &Scenario) -> (u64, String) {
    let mut total = 0u64;
    let mut largest = (0u64, String::from("cluster.auto_scaling_groups"));
    for (i, g) in scenario.auto_scaling_groups.iter().enumerate() {
        let (n, field) = if g.max_size > g.desired_capacity {
            (g.max_size, "max_size")
        } else {
            (g.desired_capacity, "desired_capacity")
        };
        let n = u64::from(n);
        total = total.saturating_add(n);
        if n > largest.0 {
            largest = (n, format!("cluster.auto_scaling_groups[{i}].{field}"));
        }
    }
    (total, largest.1)
}

/// The most tasks the services may run at once: each REPLICA service at the larger of its
/// desired count and its autoscaling maximum, a DAEMON service on every instance, both times
/// the deployment's `maximum_percent` (old and new tasks side by side).
pub fn max_tasks(scenario: &Scenario, instances: u64) -> (u64, String) {
    let mut total = 0u64;
    let mut largest = (0u64, String::from("services"));
    for s in &scenario.services {
        let name = key_part(&s.name);
        let (base, key) = match s.scheduling_strategy {
            SchedulingStrategy::Daemon => (instances, "cluster.auto_scaling_groups".to_string()),
            SchedulingStrategy::Replica => match &s.auto_scaling {
                Some(a) if a.max_capacity > s.desired_count => {
                    (u64::from(a.max_capacity), format!("services.{name}.auto_scaling.max_capacity"))
                }
                _ => (u64::from(s.desired_count), format!("services.{name}.desired_count")),
            },
        };
        let percent = u64::from(s.deployment_configuration.maximum_percent.max(100));
        let n = base.saturating_mul(percent) / 100;
        total = total.saturating_add(n);
        if n > largest.0 {
            largest = (n, key);
        }
    }
    (total, largest.1)
}

/// The requests the workloads may send during the run (the expected count for Poisson
/// arrivals), and the key of the busiest workload.
pub fn max_requests(scenario: &Scenario) -> (u64, String) {
    let mut total = 0.0f64;
    let mut largest = (0.0f64, String::from("workloads"));
    for w in &scenario.workloads {
        let n = arrivals(&w.arrivals, scenario.duration);
        total += n;
        if n > largest.0 {
            largest = (n, format!("workloads.{}.arrivals", key_part(&w.name)));
        }
    }
    (to_count(total), largest.1)
}

/// Requests a process sends in `[0, duration]`: the rate integrated minute by minute, each
/// minute at the highest of its rate at the start, middle and end (so steps and spikes are
/// not missed), or the replayed times counted.
fn arrivals(process: &ArrivalProcess, duration: SimTime) -> f64 {
    match process {
        ArrivalProcess::Constant { rate } => rate * duration as f64 / SECOND as f64,
        ArrivalProcess::Poisson(pattern) => integrate(pattern, duration),
        ArrivalProcess::Timestamps { times, scale, period } => {
            let once = times.iter().filter(|&&t| t <= duration).count() as f64;
            let repeats = match period {
                Some(p) if *p > 0 => (duration / p + 1) as f64,
                _ => 1.0,
            };
            once * repeats * scale.max(1.0)
        }
    }
}

fn integrate(pattern: &RatePattern, duration: SimTime) -> f64 {
    // A constant rate needs no steps; the others are sampled per minute (527,040 minutes at
    // most, for the longest run).
    if let RatePattern::Constant { rate } = pattern {
        return rate * duration as f64 / SECOND as f64;
    }
    let mut total = 0.0;
    let mut t = 0;
    while t < duration {
        let end = (t + MINUTE).min(duration);
        let rate = pattern.rate_at(t).max(pattern.rate_at(t + (end - t) / 2)).max(pattern.rate_at(end - 1));
        total += rate * (end - t) as f64 / SECOND as f64;
        t = end;
    }
    total
}

fn to_count(x: f64) -> u64 {
    if x.is_nan() {
        u64::MAX
    } else {
        // `as` saturates: infinite and huge estimates become u64::MAX.
        x.ceil() as u64
    }
}

/// A name as a key path part: quoted unless plain.
fn key_part(name: &str) -> String {
    if !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') {
        name.to_string()
    } else {
        format!("\"{name}\"")
    }
}

fn group_digits(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn human_bytes(b: u64) -> String {
    const GIB: f64 = (1u64 << 30) as f64;
    const MIB: f64 = (1u64 << 20) as f64;
    let b = b as f64;
    if b >= 1024.0 * GIB {
        format!("{:.0} TiB", b / (1024.0 * GIB))
    } else if b >= GIB {
        format!("{:.1} GiB", b / GIB)
    } else {
        format!("{:.0} MiB", b / MIB)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = r#"
version = 1
name = "limits"
duration = "1h"
[cluster]
availability_zones = ["us-east-1a"]
[[cluster.auto_scaling_groups]]
name = "g"
instance_type = "m5.large"
desired_capacity = 4
[task_definitions.t]
cpu = 256
memory = 512
[[task_definitions.t.containers]]
name = "app"
image = "app:1"
port_mappings = [{ container_port = 80, host_port = 0 }]
[target_groups.t]
[services.web]
task_definition = "t"
desired_count = 4
load_balancer = { target_group = "t", container_name = "app", container_port = 80 }
[workloads.w]
target_group = "t"
arrivals = { pattern = "constant", rate = 100 }
service_time = "10ms"
"#;

    fn scenario(sets: &[&str]) -> Scenario {
        let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
        Scenario::from_str_named("limits.toml", BASE.into(), &sets).unwrap_or_else(|e| panic!("{e}"))
    }

    /// 4 MiB: room for 4096 instances, 2730 tasks or 32768 requests.
    const SMALL: Limits = Limits { memory_budget: 4 << 20 };

    #[test]
    fn the_bundled_sizes_pass() {
        assert_eq!(check_with(&scenario(&[]), &Limits::default()), Ok(()));
        assert_eq!(max_instances(&scenario(&[])).0, 4);
        assert_eq!(max_tasks(&scenario(&[]), 4).0, 8, "desired 4 at maximum_percent 200");
        assert_eq!(max_requests(&scenario(&[])).0, 360_000);
    }

    #[test]
    fn the_documented_limits_follow_from_the_bytes() {
        assert_eq!(MAX_INSTANCES, 8_388_608);
        assert_eq!(MAX_TASKS, 5_592_405);
        assert_eq!(MAX_REQUESTS, 67_108_864);
        assert_eq!(Limits::default().max_tasks(), MAX_TASKS);
    }

    #[test]
    fn too_many_instances_name_the_group() {
        let s = scenario(&["cluster.auto_scaling_groups[0].desired_capacity=4500"]);
        let e = check_with(&s, &SMALL).unwrap_err();
        assert_eq!((e.item, e.count, e.limit), (Item::Instances, 4_500, 4_096));
        assert_eq!(e.key, "cluster.auto_scaling_groups[0].desired_capacity");
        let text = e.to_string();
        assert!(text.contains("4,500 instances") && text.contains("4,096") && text.contains("4 MiB"), "{text}");
        assert!(e.advice.contains(BUDGET_VARIABLE), "{}", e.advice);
    }

    #[test]
    fn too_many_tasks_name_the_service() {
        let s = scenario(&["services.web.desired_count=1500"]);
        let e = check_with(&s, &SMALL).unwrap_err();
        assert_eq!((e.item, e.count, e.limit), (Item::Tasks, 3_000, 2_730));
        assert_eq!(e.key, "services.web.desired_count");
        assert!(e.advice.contains("desired_count"));
    }

    #[test]
    fn the_autoscaling_maximum_counts() {
        let s = scenario(&["services.web.auto_scaling={ min_capacity = 1, max_capacity = 5000 }"]);
        let (tasks, key) = max_tasks(&s, 4);
        assert_eq!((tasks, key.as_str()), (10_000, "services.web.auto_scaling.max_capacity"));
    }

    #[test]
    fn request_rate_times_duration_is_bounded() {
        // 100 000 req/s for a day: 8.64e9 requests.
        let s = scenario(&["workloads.w.arrivals={ pattern = \"constant\", rate = 100000 }", "duration=\"1d\""]);
        let e = check_with(&s, &Limits::default()).unwrap_err();
        assert_eq!((e.item, e.count, e.key.as_str()), (Item::Requests, 8_640_000_000, "workloads.w.arrivals"));
        assert!(e.advice.contains("queue_limit"));
        // A rate no u64 counter could hold is refused, not overflowed.
        let s = scenario(&["workloads.w.arrivals={ pattern = \"constant\", rate = 1e300 }"]);
        let e = check_with(&s, &Limits::default()).unwrap_err();
        assert_eq!((e.item, e.count), (Item::Requests, u64::MAX));
    }

    #[test]
    fn varying_rates_are_integrated_with_their_peaks() {
        // A 30 s spike of 10 000 req/s on 10 req/s for an hour: 36 000 + 300 000 requests.
        let s = scenario(&[
            "workloads.w.arrivals={ pattern = \"spike\", base = 10, at = \"20m\", height = 10000, length = \"30s\" }",
        ]);
        let (n, _) = max_requests(&s);
        assert!((336_000..=336_000 + 10_000 * 60).contains(&n), "{n}");
        // A diurnal pattern averages its mean over whole periods.
        let s =
            scenario(&["workloads.w.arrivals={ pattern = \"diurnal\", mean = 100, amplitude = 50, period = \"1h\" }"]);
        let (n, _) = max_requests(&s);
        assert!((360_000..=380_000).contains(&n), "{n}");
    }

    #[test]
    fn the_budget_setting_is_whole_mib() {
        assert_eq!(Limits::from_setting(Some("16384")).memory_budget, 16 << 30);
        assert_eq!(Limits::from_setting(Some(" 512 ")).max_instances(), 512 * 1024);
        for bad in [Some("lots"), Some("0"), Some("-5"), Some(""), None] {
            assert_eq!(Limits::from_setting(bad), Limits::default(), "{bad:?}");
        }
    }
}
