//! Sizes past what one machine can hold, refused before the run starts.
//!
//! A run keeps its whole world in memory: every instance, every task, and every request in
//! flight. [`check`] bounds each from the checked scenario alone, prices them at the bytes
//! measured per entity, and refuses a scenario whose worst case exceeds the memory budget of one
//! run, naming the largest item, the limit, the key that contributes most and how to change
//! either. It also refuses request rates past what the run's counters and event queue can take.
//! The checks are pure: no I/O, no simulation. Loading a scenario calls them last
//! ([`Scenario::from_str_with`](super::Scenario::from_str_with)), so `ecsim run`, `validate`,
//! `check` and `sweep` refuse such a scenario as bad input (exit 2).
//!
//! Requests in flight, not requests sent, take memory: a request is forgotten once answered.
//! What a task can hold at once depends on its app:
//! - with `max_concurrency` and `queue_limit` both set, at most their sum; past it the app
//!   answers 503;
//! - without, an overloaded task holds whatever reaches it. The bound is then the workload's
//!   peak rate times the load balancer's idle timeout (the workload's `timeout`, 60 s by
//!   default, at most the run): a request unanswered that long is a 504 to the client.
//!
//! The service's tasks hold the lesser of the two. Under `fidelity = "fluid"` requests are
//! flows, not objects, and take no memory of their own.
//!
//! The idle-timeout bound is the one a service that answers its requests can reach, not a hard
//! one: the simulated app does not cancel a request the load balancer gave up on, so a task
//! overloaded for much longer than the timeout, with no `queue_limit`, keeps every request that
//! reached it until it has served it. A scenario that must stay within memory whatever happens
//! sets `queue_limit`.
//!
//! The bytes per entity are the peak heap measured by `tests/soak.rs`
//! (`bytes_per_instance_task_and_request`), rounded up with room to spare; that test fails if
//! the model outgrows them.

use std::fmt;

use super::Scenario;
use super::error::ScenarioError;
use super::source::{Source, parse_key_path};
use crate::engine::{SECOND, SimTime};
use crate::model::alb::CONNECTION_TIMEOUT;
use crate::model::service::{SchedulingStrategy, ServiceDefinition};
use crate::model::workload::{ArrivalProcess, Fidelity, RatePattern};

/// Heap bytes one container instance takes (measured: 557).
pub const BYTES_PER_INSTANCE: u64 = 1024;
/// Heap bytes one task takes, with its target, its server and its events (measured: 983).
pub const BYTES_PER_TASK: u64 = 1536;
/// Heap bytes one request in flight takes (measured: 71).
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
/// Requests one run may hold in flight at once with the default budget (67,108,864).
pub const MAX_REQUESTS: u64 = MEMORY_BUDGET / BYTES_PER_REQUEST;

/// The most requests per second all workloads together may send at their peak: 100 million.
/// At request fidelity that is 100,000 arrivals in one millisecond, a tenth of what the event
/// loop takes at one instant before it stops as stuck, and over the longest run (366 days)
/// 3.2 × 10¹⁵ requests, far inside the `u64` counters. It does not depend on the budget.
pub const MAX_RATE: u64 = 100_000_000;

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

    /// Requests in flight at once.
    pub fn max_requests(&self) -> u64 {
        self.memory_budget / BYTES_PER_REQUEST
    }
}

/// What a limit counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Item {
    /// Instances at once.
    Instances,
    /// Tasks at once.
    Tasks,
    /// Requests in flight at once.
    Requests,
    /// Requests per second, all workloads together, at their peak.
    Rate,
}

impl Item {
    pub fn as_str(self) -> &'static str {
        match self {
            Item::Instances => "instances",
            Item::Tasks => "tasks",
            Item::Requests => "requests in flight",
            Item::Rate => "requests per second",
        }
    }

    /// The heap bytes one takes; none for a rate.
    pub fn bytes_each(self) -> u64 {
        match self {
            Item::Instances => BYTES_PER_INSTANCE,
            Item::Tasks => BYTES_PER_TASK,
            Item::Requests => BYTES_PER_REQUEST,
            Item::Rate => 0,
        }
    }
}

/// A scenario past a limit: which item, how many it may reach, the limit, where in the file
/// the largest share comes from, and what to do.
#[derive(Clone, Debug, PartialEq)]
pub struct LimitExceeded {
    pub item: Item,
    /// The most the scenario may reach (instances, tasks or requests in flight at once; for
    /// [`Item::Rate`], requests per second).
    pub count: u64,
    /// The most the budget allows.
    pub limit: u64,
    /// The key that contributes most, e.g. `cluster.auto_scaling_groups[0].max_size` or
    /// `workloads.web.arrivals.rate` (a key path as `--set` takes it).
    pub key: String,
    /// How to bring the scenario within the limit, or the limit up.
    pub advice: String,
    /// The memory the worst case would take, in bytes, and the budget (0 for a rate).
    pub bytes: u64,
    pub budget: u64,
}

impl fmt::Display for LimitExceeded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.item == Item::Rate {
            return write!(
                f,
                "the workloads may send {} requests per second at their peak, past the limit of {} per second \
                 that one run can count and schedule",
                group_digits(self.count),
                group_digits(self.limit)
            );
        }
        write!(
            f,
            "the scenario may hold {} {} at once, past the limit of {} that one run can hold (at {} bytes each \
             they would need {}, over the {} memory budget)",
            group_digits(self.count),
            self.item.as_str(),
            group_digits(self.limit),
            self.item.bytes_each(),
            human_bytes(self.bytes),
            human_bytes(self.budget)
        )
    }
}

impl std::error::Error for LimitExceeded {}

impl LimitExceeded {
    /// The refusal as a scenario error at its key in the scenario's text (or `--set`
    /// argument), the advice as the help line.
    pub fn at(&self, source: &Source) -> ScenarioError {
        let path = parse_key_path(&self.key).unwrap_or_default();
        let message = self.to_string();
        let suggestion = Some(self.advice.clone());
        match source.parse() {
            Ok(root) => source.error_at(&root, &path, message, suggestion),
            Err(_) => source.diagnostic(None, &path, message, suggestion),
        }
    }
}

/// [`check`] as loading calls it: the refusal located in the scenario's text.
pub(super) fn check_source(scenario: &Scenario, source: &Source) -> Result<(), ScenarioError> {
    check(scenario).map_err(|e| e.at(source))
}

/// [`check_with`] at the budget of [`Limits::from_env`].
pub fn check(scenario: &Scenario) -> Result<(), LimitExceeded> {
    check_with(scenario, &Limits::from_env())
}

/// Refuses a scenario whose instances, tasks, request rate or requests in flight could exceed
/// what one run holds; the first item past its limit, in that order.
pub fn check_with(scenario: &Scenario, limits: &Limits) -> Result<(), LimitExceeded> {
    let budget_hint = format!(
        "or, on a machine with more memory, raise the budget of one run ({} MiB) with {BUDGET_VARIABLE}",
        limits.memory_budget >> 20
    );
    let refuse = |item: Item, count: u64, limit: u64, key: String, advice: String| LimitExceeded {
        item,
        count,
        limit,
        key,
        advice,
        bytes: count.saturating_mul(item.bytes_each()),
        budget: if item == Item::Rate { 0 } else { limits.memory_budget },
    };
    let (instances, instance_key) = max_instances(scenario);
    if instances > limits.max_instances() {
        let advice =
            format!("lower the groups' desired_capacity and max_size, or simulate part of the fleet; {budget_hint}");
        return Err(refuse(Item::Instances, instances, limits.max_instances(), instance_key, advice));
    }
    let (tasks, task_key) = max_tasks(scenario, instances);
    if tasks > limits.max_tasks() {
        let advice = format!(
            "lower the services' desired_count and auto_scaling.max_capacity (a deployment may run up to \
             maximum_percent of them), or give tasks more CPU each; {budget_hint}"
        );
        return Err(refuse(Item::Tasks, tasks, limits.max_tasks(), task_key, advice));
    }
    let (rate, rate_key) = peak_rate(scenario);
    if rate > MAX_RATE {
        let advice = "lower the request rate: a run of a sample of the traffic (and of the cluster) shows the same \
                      utilization and latency"
            .to_string();
        return Err(refuse(Item::Rate, rate, MAX_RATE, rate_key, advice));
    }
    let held = max_requests_in_flight(scenario, instances);
    if held.count > limits.max_requests() {
        let advice = if held.by_queue {
            format!(
                "lower the task definition's app.queue_limit or app.max_concurrency (a task holds at most their \
                 sum), or the service's tasks; or set fidelity = \"fluid\", whose requests take no memory; \
                 {budget_hint}"
            )
        } else {
            format!(
                "lower the request rate or the workload's timeout (a task may hold every request of that long); \
                 set the task definition's app.max_concurrency and app.queue_limit, so that an overloaded task \
                 refuses requests instead of holding them; or set fidelity = \"fluid\", whose requests take no \
                 memory; {budget_hint}"
            )
        };
        return Err(refuse(Item::Requests, held.count, limits.max_requests(), held.key, advice));
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
        let (n, key) = service_tasks(s, instances);
        total = total.saturating_add(n);
        if n > largest.0 {
            largest = (n, key);
        }
    }
    (total, largest.1)
}

/// The most tasks one service may run at once, and the key that sets it.
fn service_tasks(s: &ServiceDefinition, instances: u64) -> (u64, String) {
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
    // A blue/green deployment runs a full replacement task set beside the original.
    let floor = if s.blue_green.is_some() { 200 } else { 100 };
    let percent = u64::from(s.deployment_configuration.maximum_percent.max(floor));
    (base.saturating_mul(percent) / 100, key)
}

/// The highest rate, requests per second, all workloads may send together at one time (the sum
/// of each one's peak), and the key of the busiest.
pub fn peak_rate(scenario: &Scenario) -> (u64, String) {
    let mut total = 0.0f64;
    let mut largest = (-1.0f64, String::from("workloads"));
    for w in &scenario.workloads {
        let rate = peak_of(&w.arrivals, SECOND);
        total += rate;
        if rate > largest.0 {
            largest = (rate, rate_key(w));
        }
    }
    (to_count(total), largest.1)
}

/// The key that sets a workload's rate, e.g. `workloads.web.arrivals.rate` or, for a
/// diurnal pattern, `.mean`: where a refusal points (at the arrivals table when the key is not
/// written, as for a trace file's `scale`).
fn rate_key(w: &crate::model::workload::Workload) -> String {
    let field = match &w.arrivals {
        ArrivalProcess::Constant { .. } | ArrivalProcess::Poisson(RatePattern::Constant { .. }) => "rate",
        ArrivalProcess::Poisson(RatePattern::Diurnal { .. }) => "mean",
        ArrivalProcess::Poisson(RatePattern::Step { .. }) => "changes",
        ArrivalProcess::Poisson(RatePattern::Spike { .. }) => "height",
        ArrivalProcess::Poisson(RatePattern::Piecewise { .. }) => "points",
        ArrivalProcess::Poisson(RatePattern::Trace { .. }) | ArrivalProcess::Timestamps { .. } => "scale",
    };
    format!("workloads.{}.arrivals.{field}", key_part(&w.name))
}

/// The bound on requests in flight, and what sets it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InFlight {
    pub count: u64,
    /// The key of the largest share: a workload's rate (see [`rate_key`]), or a task definition's
    /// `app.queue_limit` when the tasks' queues bound it.
    pub key: String,
    /// Whether the largest share is bounded by the tasks' concurrency and queue limits (else by
    /// the arrivals within the idle timeout).
    pub by_queue: bool,
}

/// The most requests that may be in flight at once: per service, the lesser of what its
/// workloads send within their idle timeout at their peak and what its tasks' concurrency and
/// queue limits admit; plus the connections a security group drops, which wait out the load
/// balancer's connection timeout. None under `fidelity = "fluid"`.
pub fn max_requests_in_flight(scenario: &Scenario, instances: u64) -> InFlight {
    let mut held = InFlight { count: 0, key: String::from("workloads"), by_queue: false };
    if scenario.fidelity == Fidelity::Fluid {
        return held;
    }
    let mut largest = 0.0f64;
    let mut total = 0.0f64;
    for (s, def) in scenario.services.iter().enumerate() {
        // What the service's workloads send within their timeouts, and the busiest of them.
        let mut sent = 0.0f64;
        let mut busiest = (-1.0f64, String::new());
        for w in scenario.workloads.iter().filter(|w| serving_service(scenario, w.target_group) == Some(s)) {
            let hold = w.timeout.clamp(1, scenario.duration.max(1));
            let n = peak_of(&w.arrivals, hold);
            sent += n;
            if n > busiest.0 {
                busiest = (n, rate_key(w));
            }
        }
        if busiest.0 < 0.0 {
            continue;
        }
        let (tasks, _) = service_tasks(def, instances);
        let (share, key, by_queue) = match task_capacity(scenario, s) {
            Some((each, td)) if (tasks as f64) * (each as f64) < sent => {
                let key = format!("task_definitions.{}.app.queue_limit", key_part(&td));
                ((tasks as f64) * (each as f64), key, true)
            }
            _ => (sent, busiest.1, false),
        };
        total += share;
        if share > largest {
            largest = share;
            held.key = key;
            held.by_queue = by_queue;
        }
    }
    if scenario.alb_ingress.is_some() {
        // A connection the security group drops is an event until the connection timeout.
        total += scenario.workloads.iter().map(|w| peak_of(&w.arrivals, CONNECTION_TIMEOUT)).sum::<f64>();
    }
    held.count = to_count(total);
    held
}

/// The service whose tasks serve a target group: the one it is attached to, or whose blue/green
/// replacement task set uses it.
fn serving_service(scenario: &Scenario, target_group: usize) -> Option<usize> {
    scenario.services.iter().position(|s| {
        s.load_balancer.is_some_and(|lb| lb.target_group == target_group)
            || s.blue_green.as_ref().is_some_and(|bg| bg.green_target_group == target_group)
    })
}

/// The most requests one task of a service holds at once, over every task definition it may
/// run (its own and those of scripted updates), and the family of the largest; `None` when one
/// of them has no limit (no `max_concurrency`, or no `queue_limit`).
fn task_capacity(scenario: &Scenario, s: usize) -> Option<(u64, String)> {
    let updates = scenario.actions.iter().filter_map(|a| match a.action {
        crate::model::action::Action::UpdateService { service, task_definition } if service == s => {
            Some(task_definition)
        }
        _ => None,
    });
    let mut most: Option<(u64, String)> = None;
    for td in std::iter::once(scenario.services[s].task_definition).chain(updates) {
        let td = &scenario.task_definitions[td];
        let (concurrency, queue) = (td.app.max_concurrency, td.app.queue_limit);
        if concurrency == u32::MAX || queue == u32::MAX {
            return None;
        }
        let each = u64::from(concurrency) + u64::from(queue);
        if most.as_ref().is_none_or(|(m, _)| each > *m) {
            most = Some((each, td.family.clone()));
        }
    }
    most
}

/// The most requests a process sends in any window of `window` ms (at least one millisecond):
/// its peak rate times the window, or for replayed times the densest window of the trace.
fn peak_of(process: &ArrivalProcess, window: SimTime) -> f64 {
    let seconds = window.max(1) as f64 / SECOND as f64;
    match process {
        ArrivalProcess::Constant { rate } => rate * seconds,
        ArrivalProcess::Poisson(pattern) => pattern_peak(pattern) * seconds,
        ArrivalProcess::Timestamps { times, scale, period } => {
            densest(times, *period, window.max(1)) as f64 * scale.ceil().max(0.0)
        }
    }
}

/// The highest rate a pattern reaches, requests per second (over its whole definition, which
/// may reach past the run: an upper bound).
fn pattern_peak(pattern: &RatePattern) -> f64 {
    let max = |points: &[(SimTime, f64)]| points.iter().map(|p| p.1).fold(0.0, f64::max);
    match pattern {
        RatePattern::Constant { rate } => *rate,
        RatePattern::Diurnal { mean, amplitude, .. } => mean + amplitude.abs(),
        RatePattern::Step { initial, changes } => initial.max(max(changes)),
        RatePattern::Spike { base, height, .. } => base + height.max(0.0),
        RatePattern::Piecewise { points } => max(points),
        RatePattern::Trace { points, scale, .. } => max(points) * scale,
    }
}

/// The most of the sorted `times` in any window of `window` ms, the trace looped with `period`.
fn densest(times: &[SimTime], period: Option<SimTime>, window: SimTime) -> u64 {
    let n = times.len() as u64;
    let in_window = |times: &[SimTime]| {
        let (mut best, mut lo) = (0usize, 0usize);
        for hi in 0..times.len() {
            while times[hi] - times[lo] >= window {
                lo += 1;
            }
            best = best.max(hi + 1 - lo);
        }
        best as u64
    };
    match period {
        Some(p) if p > 0 && window < p => {
            // A window may wrap from the end of one period into the next.
            let looped: Vec<SimTime> = times.iter().copied().chain(times.iter().map(|&t| t + p)).collect();
            in_window(&looped).min(n)
        }
        // A window longer than the period holds whole loops of the trace, and one more.
        Some(p) if p > 0 => n.saturating_mul(window / p + 1),
        _ => in_window(times),
    }
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
    use crate::scenario::Location;

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
        let text = BASE.to_string();
        let source = Source::new("limits.toml".into(), text, &sets).unwrap_or_else(|e| panic!("{e}"));
        // Validation alone: these tests call the limits themselves.
        super::super::validate::scenario(&source, false).unwrap_or_else(|e| panic!("{e}")).0
    }

    /// 4 MiB: room for 4096 instances, 2730 tasks or 32768 requests in flight.
    const SMALL: Limits = Limits { memory_budget: 4 << 20 };

    #[test]
    fn the_bundled_sizes_pass() {
        assert_eq!(check_with(&scenario(&[]), &Limits::default()), Ok(()));
        assert_eq!(max_instances(&scenario(&[])).0, 4);
        assert_eq!(max_tasks(&scenario(&[]), 4).0, 8, "desired 4 at maximum_percent 200");
        assert_eq!(peak_rate(&scenario(&[])), (100, "workloads.w.arrivals.rate".to_string()));
        // 100 requests per second for the 60 s idle timeout.
        let held = max_requests_in_flight(&scenario(&[]), 4);
        assert_eq!((held.count, held.key.as_str(), held.by_queue), (6_000, "workloads.w.arrivals.rate", false));
    }

    #[test]
    fn the_documented_limits_follow_from_the_bytes() {
        assert_eq!(MAX_INSTANCES, 8_388_608);
        assert_eq!(MAX_TASKS, 5_592_405);
        assert_eq!(MAX_REQUESTS, 67_108_864);
        assert_eq!(Limits::default().max_tasks(), MAX_TASKS);
        assert_eq!(Limits::default().max_requests(), MAX_REQUESTS);
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
    fn requests_in_flight_not_requests_sent_are_bounded() {
        // 100,000 requests per second for a day is 8.64e9 requests, but only those of the last
        // 60 s idle timeout can be in flight: 6 million, within the default budget.
        let day = ["workloads.w.arrivals={ pattern = \"constant\", rate = 100000 }", "duration=\"1d\""];
        assert_eq!(check_with(&scenario(&day), &Limits::default()), Ok(()));
        let e = check_with(&scenario(&day), &SMALL).unwrap_err();
        assert_eq!((e.item, e.count, e.key.as_str()), (Item::Requests, 6_000_000, "workloads.w.arrivals.rate"));
        assert!(e.advice.contains("queue_limit") && e.advice.contains("fluid"), "{}", e.advice);
        assert!(e.to_string().contains("6,000,000 requests in flight at once"), "{e}");
        // A longer timeout holds more; a run shorter than the timeout holds at most the run.
        let long = scenario(&[day[0], day[1], "workloads.w.timeout=\"10m\""]);
        assert_eq!(max_requests_in_flight(&long, 4).count, 60_000_000);
        let short = scenario(&[day[0], "duration=\"20s\""]);
        assert_eq!(max_requests_in_flight(&short, 4).count, 2_000_000);
    }

    #[test]
    fn a_queue_limit_bounds_what_tasks_hold() {
        // 8 tasks (4 at 200%) of at most 10 in service and 20 waiting: 240 whatever the rate.
        let bounded = "task_definitions.t.app={ max_concurrency = 10, queue_limit = 20 }";
        let s = scenario(&[bounded, "workloads.w.arrivals={ pattern = \"constant\", rate = 1000000 }"]);
        let held = max_requests_in_flight(&s, 4);
        assert_eq!((held.count, held.key.as_str(), held.by_queue), (240, "task_definitions.t.app.queue_limit", true));
        assert_eq!(check_with(&s, &SMALL), Ok(()));
        // A queue limit alone bounds nothing: with unlimited concurrency no request waits.
        let s = scenario(&[
            "task_definitions.t.app={ queue_limit = 20 }",
            "workloads.w.arrivals={ pattern = \"constant\", rate = 1000000 }",
        ]);
        assert_eq!(max_requests_in_flight(&s, 4).count, 60_000_000);
        // Queues too long to matter: the arrivals bound it.
        let s = scenario(&["task_definitions.t.app={ max_concurrency = 10, queue_limit = 1000000 }"]);
        assert_eq!(max_requests_in_flight(&s, 4).count, 6_000);
        // A queue-bound excess names the queue limit.
        let s = scenario(&[
            "task_definitions.t.app={ max_concurrency = 100, queue_limit = 100000 }",
            "services.web.desired_count=1000",
            "workloads.w.arrivals={ pattern = \"constant\", rate = 10000000 }",
        ]);
        let e = check_with(&s, &SMALL).unwrap_err();
        assert_eq!((e.item, e.count), (Item::Requests, 2_000 * 100_100));
        assert_eq!(e.key, "task_definitions.t.app.queue_limit");
        assert!(e.advice.contains("lower the task definition's app.queue_limit"), "{}", e.advice);
    }

    #[test]
    fn fluid_requests_take_no_memory() {
        let s = scenario(&[
            "fidelity=\"fluid\"",
            "workloads.w.arrivals={ pattern = \"constant\", rate = 10000000 }",
            "duration=\"7d\"",
        ]);
        assert_eq!(max_requests_in_flight(&s, 4).count, 0);
        assert_eq!(check_with(&s, &SMALL), Ok(()));
    }

    #[test]
    fn a_rate_past_the_counters_is_refused_at_any_fidelity() {
        for fidelity in ["request", "fluid"] {
            let fidelity = format!("fidelity=\"{fidelity}\"");
            let s = scenario(&[
                &fidelity,
                "workloads.w.arrivals={ pattern = \"constant\", rate = 1e12 }",
                "duration=\"7d\"",
            ]);
            let e = check_with(&s, &Limits::default()).unwrap_err();
            assert_eq!((e.item, e.count, e.limit), (Item::Rate, 1_000_000_000_000, MAX_RATE));
            assert_eq!(e.key, "workloads.w.arrivals.rate");
            assert!(e.to_string().contains("1,000,000,000,000 requests per second"), "{e}");
            // A rate no u64 counter could hold is refused, not overflowed.
            let s = scenario(&[&fidelity, "workloads.w.arrivals={ pattern = \"constant\", rate = 1e300 }"]);
            let e = check_with(&s, &Limits::default()).unwrap_err();
            assert_eq!((e.item, e.count), (Item::Rate, u64::MAX));
        }
        // The peaks of varying rates count, not their means.
        let spike = "workloads.w.arrivals={ pattern = \"spike\", base = 10, at = \"20m\", height = 200000000, length = \"1s\" }";
        assert_eq!(check_with(&scenario(&[spike]), &Limits::default()).unwrap_err().item, Item::Rate);
        let diurnal = "workloads.w.arrivals={ pattern = \"diurnal\", mean = 100, amplitude = 50, period = \"1h\" }";
        assert_eq!(peak_rate(&scenario(&[diurnal])).0, 150);
    }

    #[test]
    fn replayed_times_count_their_densest_window() {
        assert_eq!(densest(&[0, 100, 200, 5_000, 5_001, 5_002, 5_003], None, 1_000), 4);
        assert_eq!(densest(&[0, 100, 200, 5_000, 5_001, 5_002, 5_003], None, 1), 1);
        assert_eq!(densest(&[5, 5, 5], None, 1), 3);
        // Looped every 2 s, the end of one loop meets the start of the next.
        assert_eq!(densest(&[0, 100, 1_900, 1_950], Some(2_000), 300), 4);
        // A window of three loops and a bit holds four loops at most.
        assert_eq!(densest(&[0, 100], Some(1_000), 3_500), 8);
        let p = ArrivalProcess::Timestamps { times: vec![0, 10, 20], scale: 2.5, period: None };
        assert_eq!(peak_of(&p, SECOND), 9.0);
    }

    #[test]
    fn a_refusal_points_at_its_key() {
        let set = vec!["workloads.w.arrivals={ pattern = \"constant\", rate = 1e12 }".to_string()];
        let e = Scenario::from_str_named("limits.toml", BASE.into(), &set).unwrap_err();
        let ScenarioError::Invalid(d) = &e else { panic!("{e}") };
        assert_eq!(d.location, Location::Override { argument: set[0].clone() });
        assert_eq!(d.key, "workloads.w.arrivals.rate");
        assert!(d.suggestion.as_deref().is_some_and(|s| s.contains("lower the request rate")), "{e}");
        let set = vec!["workloads.w.arrivals.rate=1e12".to_string()];
        let e = Scenario::from_str_named("limits.toml", BASE.into(), &set).unwrap_err();
        let ScenarioError::Invalid(d) = &e else { panic!("{e}") };
        assert_eq!(d.location, Location::Override { argument: set[0].clone() }, "{e}");
        let text = BASE.replace("rate = 100 }", "rate = 1e12 }");
        let e = Scenario::from_str_named("limits.toml", text.clone(), &[]).unwrap_err();
        let ScenarioError::Invalid(d) = &e else { panic!("{e}") };
        let line = text.lines().position(|l| l.starts_with("arrivals")).unwrap() + 1;
        assert!(matches!(d.location, Location::File { line: l, .. } if l == line), "{e}");
    }

    #[test]
    fn every_shipped_scenario_and_the_day_benchmark_are_within_the_limits() {
        fn walk(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
            for e in std::fs::read_dir(dir).unwrap() {
                let p = e.unwrap().path();
                if p.is_dir() {
                    walk(&p, out);
                } else if p.extension().is_some_and(|x| x == "toml") {
                    out.push(p);
                }
            }
        }
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut files = Vec::new();
        walk(&root.join("scenarios"), &mut files);
        files.extend(
            std::fs::read_dir(root.join("benches"))
                .unwrap()
                .map(|e| e.unwrap().path())
                .filter(|p| p.extension().is_some_and(|x| x == "toml")),
        );
        let mut checked = 0;
        for path in files {
            let text = std::fs::read_to_string(&path).unwrap();
            if crate::sweep::is_sweep_text(&text) {
                continue;
            }
            let s = Scenario::from_path(&path, &[]).unwrap_or_else(|e| panic!("{e}"));
            check_with(&s, &Limits::default()).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            checked += 1;
        }
        assert!(checked >= 40, "{checked}");
        // The size of the day benchmark (benches/scenario_day.toml): 1,000 instances, 5,000
        // tasks, 2,000 requests per second on average, for 24 hours, at request fidelity.
        let day = scenario(&[
            "duration=\"24h\"",
            "cluster.auto_scaling_groups[0].desired_capacity=1000",
            "cluster.auto_scaling_groups[0].max_size=1600",
            "services.web.desired_count=5000",
            "services.web.auto_scaling={ min_capacity = 2000, max_capacity = 8000 }",
            "workloads.w.arrivals={ pattern = \"diurnal\", mean = 2000, amplitude = 1000, period = \"24h\" }",
        ]);
        assert_eq!(check_with(&day, &Limits::default()), Ok(()));
        assert_eq!(max_requests_in_flight(&day, 1600).count, 180_000);
        // 10⁹ instances never get this far: ECS's quota of 5,000 per cluster refuses them.
        let e = Scenario::from_str_named(
            "limits.toml",
            BASE.into(),
            &["cluster.auto_scaling_groups[0].desired_capacity=1000000000".into()],
        )
        .unwrap_err();
        assert!(e.to_string().contains("more than 5000 instances"), "{e}");
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
