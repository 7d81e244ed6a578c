//! What a run reports: the event log, the per-minute samples and the summary. The world pushes
//! into a [`Recorder`]; it decides nothing about the simulation (STYLE.md §2).

use crate::engine::SimTime;

/// The kind of an event, as written in the `kind` column of `events.csv`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum EventKind {
    /// EC2 launched an instance.
    InstanceLaunched,
    /// The agent registered the instance; it is ACTIVE.
    InstanceRegistered,
    /// The instance was set to DRAINING.
    InstanceDraining,
    /// A DRAINING instance was set back to ACTIVE.
    InstanceActivated,
    /// Every task on a DRAINING instance has stopped.
    InstanceDrained,
    /// The instance was terminated and deregistered.
    InstanceTerminated,
    /// A task was placed on an instance (PROVISIONING).
    TaskPlaced,
    /// A task reached RUNNING.
    TaskRunning,
    /// A task was asked to stop (STOPPING).
    TaskStopping,
    /// A task reached STOPPED.
    TaskStopped,
    /// No instance could take a task; the detail holds ECS's reason and service event.
    PlacementFailed,
    /// "service X has reached a steady state."
    SteadyState,
    /// The desired count changed.
    DesiredCountChanged,
    /// The deployment configuration allows neither a start nor a stop.
    DeploymentBlocked,
    /// A task's port was registered as a target of its load balancer.
    TargetRegistered,
    /// The target passed `healthy_threshold` health checks in a row.
    TargetHealthy,
    /// The target failed `unhealthy_threshold` health checks in a row.
    TargetUnhealthy,
    /// The target is deregistering: no new requests, in-flight ones finish.
    TargetDraining,
    /// The deregistration delay is over; the target left the group.
    TargetDeregistered,
    /// A CloudWatch alarm changed state.
    AlarmStateChanged,
    /// Application Auto Scaling changed the desired count.
    ScalingActivity,
    /// A policy asked for a change that a cooldown or a bound held back.
    ScalingHeld,
    /// A scheduled action set new capacity bounds.
    ScheduledAction,
    /// A deployment started (service creation, UpdateService, a rollback).
    DeploymentStarted,
    /// A deployment reached its steady state.
    DeploymentCompleted,
    /// The deployment circuit breaker failed a deployment.
    DeploymentFailed,
    /// CodeDeploy moved production traffic between task sets (blue/green).
    TrafficShifted,
    /// An Auto Scaling group's desired capacity changed, or it could not launch or scale in.
    GroupScaling,
    /// EC2's two-minute Spot interruption notice.
    SpotInterruption,
    /// EC2's rebalance recommendation for a Spot instance.
    RebalanceRecommendation,
    /// An Availability Zone failed.
    AzOutage,
    /// An Availability Zone is back.
    AzRecovered,
    /// A capacity provider's managed scaling acted on CapacityProviderReservation.
    CapacityProviderScaling,
    /// A container image could not be pulled (CannotPullContainerError).
    ImagePullFailed,
    /// "service X is unable to consistently start tasks successfully": ECS backs off.
    ServiceThrottled,
}

impl EventKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::InstanceLaunched => "instance_launched",
            EventKind::InstanceRegistered => "instance_registered",
            EventKind::InstanceDraining => "instance_draining",
            EventKind::InstanceActivated => "instance_activated",
            EventKind::InstanceDrained => "instance_drained",
            EventKind::InstanceTerminated => "instance_terminated",
            EventKind::TaskPlaced => "task_placed",
            EventKind::TaskRunning => "task_running",
            EventKind::TaskStopping => "task_stopping",
            EventKind::TaskStopped => "task_stopped",
            EventKind::PlacementFailed => "placement_failed",
            EventKind::SteadyState => "steady_state",
            EventKind::DesiredCountChanged => "desired_count_changed",
            EventKind::DeploymentBlocked => "deployment_blocked",
            EventKind::TargetRegistered => "target_registered",
            EventKind::TargetHealthy => "target_healthy",
            EventKind::TargetUnhealthy => "target_unhealthy",
            EventKind::TargetDraining => "target_draining",
            EventKind::TargetDeregistered => "target_deregistered",
            EventKind::AlarmStateChanged => "alarm_state_changed",
            EventKind::ScalingActivity => "scaling_activity",
            EventKind::ScalingHeld => "scaling_held",
            EventKind::ScheduledAction => "scheduled_action",
            EventKind::DeploymentStarted => "deployment_started",
            EventKind::DeploymentCompleted => "deployment_completed",
            EventKind::DeploymentFailed => "deployment_failed",
            EventKind::TrafficShifted => "traffic_shifted",
            EventKind::GroupScaling => "group_scaling",
            EventKind::SpotInterruption => "spot_interruption",
            EventKind::RebalanceRecommendation => "rebalance_recommendation",
            EventKind::AzOutage => "az_outage",
            EventKind::AzRecovered => "az_recovered",
            EventKind::CapacityProviderScaling => "capacity_provider_scaling",
            EventKind::ImagePullFailed => "image_pull_failed",
            EventKind::ServiceThrottled => "service_throttled",
        }
    }

    pub const ALL: [EventKind; 35] = [
        EventKind::InstanceLaunched,
        EventKind::InstanceRegistered,
        EventKind::InstanceDraining,
        EventKind::InstanceActivated,
        EventKind::InstanceDrained,
        EventKind::InstanceTerminated,
        EventKind::TaskPlaced,
        EventKind::TaskRunning,
        EventKind::TaskStopping,
        EventKind::TaskStopped,
        EventKind::PlacementFailed,
        EventKind::SteadyState,
        EventKind::DesiredCountChanged,
        EventKind::DeploymentBlocked,
        EventKind::TargetRegistered,
        EventKind::TargetHealthy,
        EventKind::TargetUnhealthy,
        EventKind::TargetDraining,
        EventKind::TargetDeregistered,
        EventKind::AlarmStateChanged,
        EventKind::ScalingActivity,
        EventKind::ScalingHeld,
        EventKind::ScheduledAction,
        EventKind::DeploymentStarted,
        EventKind::DeploymentCompleted,
        EventKind::DeploymentFailed,
        EventKind::TrafficShifted,
        EventKind::GroupScaling,
        EventKind::SpotInterruption,
        EventKind::RebalanceRecommendation,
        EventKind::AzOutage,
        EventKind::AzRecovered,
        EventKind::CapacityProviderScaling,
        EventKind::ImagePullFailed,
        EventKind::ServiceThrottled,
    ];
}

/// One row of `events.csv`.
#[derive(Clone, Debug, PartialEq)]
pub struct EventRecord {
    pub time: SimTime,
    pub kind: EventKind,
    /// Service name, empty for cluster-level events.
    pub service: String,
    pub task: String,
    pub instance: String,
    pub detail: String,
}

/// One row of `timeseries.csv`: a service at the end of a simulated minute.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ServiceSample {
    /// Seconds since the start; the row describes the state at this instant.
    pub time: SimTime,
    pub service: usize,
    /// Desired count (for a DAEMON service: the ACTIVE instances that meet its constraints).
    pub desired: u32,
    /// Tasks in RUNNING.
    pub running: u32,
    /// Tasks wanted but not RUNNING: placed tasks in PROVISIONING or PENDING, plus `unplaced`.
    pub pending: u32,
    /// Tasks the scheduler could not place on any instance.
    pub unplaced: u32,
    /// Tasks in STOPPING.
    pub stopping: u32,
    /// Instances running at least one of the service's tasks.
    pub hosts: u32,
    /// ACTIVE container instances in the cluster.
    pub instances: u32,
    /// The service's reserved CPU as a share of the CPU the cluster's instances registered, %.
    pub cpu_reserved_pct: f64,
    /// The service's reserved memory as a share of the cluster's registered memory, %.
    pub mem_reserved_pct: f64,
    /// Requests that arrived for the service during the minute.
    pub requests: u64,
    /// Responses with a 5xx status during the minute (502, 503, 504).
    pub errors_5xx: u64,
    /// Response-time percentiles of the minute's successful responses, ms (0 without any).
    pub p50_ms: u64,
    pub p95_ms: u64,
    pub p99_ms: u64,
    /// Targets in the `healthy` state at the end of the minute.
    pub healthy_targets: u32,
    /// CPU busy serving requests over the CPU the running tasks reserve, % (ECS's service
    /// `CPUUtilization`; above 100 when tasks use idle instance CPU beyond their reservation).
    pub cpu_util_pct: f64,
    /// Memory in use (the app's baseline plus in-flight requests) over the memory the running
    /// tasks reserve, % (ECS's `MemoryUtilization`).
    pub mem_util_pct: f64,
    /// The service's share of what the instances cost during the minute, USD.
    pub cost_usd: f64,
    /// The same since the start of the run.
    pub cumulative_cost_usd: f64,
    /// The latest CloudWatch datapoint the service's first scaling policy saw, after the
    /// publication delay (0 without a policy or a datapoint).
    pub scaling_metric: f64,
    /// The service's scaling alarms in the ALARM state.
    pub alarms_in_alarm: u32,
    /// The revision of the PRIMARY deployment's task definition.
    pub primary_revision: u32,
    /// RUNNING tasks of the PRIMARY deployment, and those counted healthy.
    pub primary_running: u32,
    pub primary_healthy: u32,
    /// RUNNING tasks of older (ACTIVE) deployments still being replaced, and those healthy.
    pub active_running: u32,
    pub active_healthy: u32,
    /// The CapacityProviderReservation the service's first capacity provider published for the
    /// minute, % (0 without a provider with managed scaling).
    pub capacity_provider_reservation: f64,
}

/// One row of `summary.csv`: a service at the end of the run and over it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ServiceSummary {
    pub service: String,
    pub scheduling_strategy: &'static str,
    pub desired: u32,
    pub running: u32,
    pub pending: u32,
    pub unplaced: u32,
    /// Task placements that found no instance, over the run.
    pub placement_failures: u64,
    pub tasks_started: u64,
    pub tasks_stopped: u64,
    /// ACTIVE container instances at the end.
    pub instances: u32,
    pub hosts: u32,
    pub cpu_reserved_pct: f64,
    pub mem_reserved_pct: f64,
    /// Sum of `pending` over the minutes: task-minutes spent waiting.
    pub pending_task_minutes: u64,
    pub requests: u64,
    pub errors_5xx: u64,
    /// `errors_5xx / requests`.
    pub error_rate: f64,
    /// Response-time percentiles over the run's successful responses, ms.
    pub p50_ms: u64,
    pub p95_ms: u64,
    pub p99_ms: u64,
    /// Mean time a request waited in its task's queue before service began, ms.
    pub mean_wait_ms: f64,
    /// Mean response time of successful responses, ms.
    pub mean_response_ms: f64,
    /// Share of the minutes whose latency met the scenario's SLO, % (100 without an SLO).
    pub slo_met_pct: f64,
    /// CPU and memory utilization over the whole run, % (as in `timeseries.csv`).
    pub cpu_util_pct: f64,
    pub mem_util_pct: f64,
    /// Targets in the `healthy` state at the end.
    pub healthy_targets: u32,
    /// The service's share of the cluster's cost over the run, USD: the instances' cost split
    /// by reservations, idle capacity included, so the services add up to the whole bill.
    pub cost_usd: f64,
    /// The part of `cost_usd` that paid for capacity no task reserved.
    pub idle_cost_usd: f64,
    pub cost_per_million_requests: f64,
}

/// A number in an output column: counts print as integers, shares with three decimals,
/// fractions (such as an error rate) with six.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Value {
    Count(u64),
    Share(f64),
    Fraction(f64),
    /// US dollars, to a hundredth of a cent.
    Money(f64),
}

impl Value {
    pub fn as_f64(self) -> f64 {
        match self {
            Value::Count(n) => n as f64,
            Value::Share(x) | Value::Fraction(x) | Value::Money(x) => x,
        }
    }
}

impl std::fmt::Display for Value {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Value::Count(n) => write!(f, "{n}"),
            Value::Share(x) => write!(f, "{x:.3}"),
            Value::Fraction(x) => write!(f, "{x:.6}"),
            Value::Money(x) => write!(f, "{x:.4}"),
        }
    }
}

/// Response times of one service over a minute or a run, in whole milliseconds: a streaming
/// HDR histogram (3 significant digits), never a list of requests.
#[derive(Clone, Debug)]
pub struct LatencyHistogram(hdrhistogram::Histogram<u64>);

impl Default for LatencyHistogram {
    fn default() -> Self {
        // 3 significant digits with auto-resize cannot fail to build.
        LatencyHistogram(hdrhistogram::Histogram::new(3).unwrap_or_else(|_| unreachable!()))
    }
}

impl LatencyHistogram {
    pub fn record(&mut self, ms: u64) {
        let _ = self.0.record(ms);
    }

    /// Records `count` responses of `ms` each.
    pub fn record_n(&mut self, ms: u64, count: u64) {
        let _ = self.0.record_n(ms, count);
    }

    pub fn count(&self) -> u64 {
        self.0.len()
    }

    /// When each recorded value is the mean of an exponential distribution of response times
    /// (the fluid fidelity records one per task and second), the percentile (0–100) of the
    /// mixture; see [`ExponentialMixture`].
    pub fn exponential_mixture_percentile(&self, p: f64) -> u64 {
        self.exponential_mixture_percentiles([p])[0]
    }

    /// Records each mean of `mixture` as many times as it stands for responses: the fluid
    /// fidelity keeps a minute as a mixture and puts it into the run's histogram at the minute's
    /// end, a few means rather than one per second.
    pub fn record_mixture(&mut self, mixture: &ExponentialMixture) {
        for &(mean_ms, count) in &mixture.means {
            self.record_n(mean_ms, count);
        }
    }

    /// [`LatencyHistogram::exponential_mixture_percentile`] of several percentiles, reading the
    /// histogram once.
    pub fn exponential_mixture_percentiles<const N: usize>(&self, ps: [f64; N]) -> [u64; N] {
        // The histogram's values are distinct: listed as they come, without a search each.
        let means: Vec<(u64, u64)> =
            self.0.iter_recorded().map(|v| (v.value_iterated_to(), v.count_at_value())).collect();
        let total = means.iter().map(|x| x.1).sum();
        ExponentialMixture { means, total }.percentiles(ps)
    }

    /// The value at a percentile (0–100), 0 when empty.
    pub fn percentile(&self, p: f64) -> u64 {
        if self.0.is_empty() { 0 } else { self.0.value_at_quantile(p / 100.0) }
    }

    /// [`LatencyHistogram::percentile`] of several percentiles.
    pub fn percentiles<const N: usize>(&self, ps: [f64; N]) -> [u64; N] {
        ps.map(|p| self.percentile(p))
    }

    /// The percentiles (0–100) of `values` exactly as a histogram like this one would report them
    /// had it recorded just those values; `values` is reordered. A histogram reports the bucket
    /// holding the k-th smallest value, k = ⌈q·n⌉ (at least 1), by its highest equivalent value
    /// (its lowest for q = 0), so selecting the k-th smallest and mapping it gives the same
    /// answer in O(n), without a bucket array to fill, scan and clear: what a minute of a few
    /// hundred responses needs.
    pub fn percentiles_of<const N: usize>(&self, values: &mut [u64], ps: [f64; N]) -> [u64; N] {
        let n = values.len();
        if n == 0 {
            return [0; N];
        }
        let quantiles = ps.map(|p| (p / 100.0).min(1.0));
        let ranks = quantiles.map(|q| ((q * n as f64).ceil() as usize).clamp(1, n) - 1);
        // Ascending ranks, each selected within what the previous selection left above it.
        let mut order: [usize; N] = std::array::from_fn(|i| i);
        order.sort_unstable_by_key(|&i| ranks[i]);
        let mut out = [0; N];
        let mut from = 0;
        for i in order {
            let rank = ranks[i];
            if rank >= from {
                values[from..].select_nth_unstable(rank - from);
                from = rank;
            }
            let v = values[rank];
            out[i] = if quantiles[i] == 0.0 { self.0.lowest_equivalent(v) } else { self.0.highest_equivalent(v) };
        }
        out
    }
}

/// Response times as a mixture of exponential distributions, each given by its mean (whole ms)
/// and the number of responses it stands for: how the fluid fidelity records a minute, since it
/// knows each second's mean response time rather than each response.
#[derive(Clone, Debug, Default)]
pub struct ExponentialMixture {
    /// By mean, ascending once `percentiles` has merged them.
    means: Vec<(u64, u64)>,
    total: u64,
}

impl ExponentialMixture {
    /// Adds `count` responses of mean `mean_ms`, merged with the last entry when it has the same
    /// mean; `percentiles` sorts and merges the rest once. (Searching the list for the mean at
    /// every record costs as much as that sort, measured over a day of a fluid cluster.)
    pub fn record_n(&mut self, mean_ms: u64, count: u64) {
        if count == 0 {
            return;
        }
        self.total += count;
        match self.means.last_mut() {
            Some(last) if last.0 == mean_ms => last.1 += count,
            _ => self.means.push((mean_ms, count)),
        }
    }

    pub fn count(&self) -> u64 {
        self.total
    }

    pub fn reset(&mut self) {
        self.means.clear();
        self.total = 0;
    }

    /// The percentiles (0–100) of the mixture, in whole milliseconds: for each, the x at which
    /// Σ nᵢ (1 − e^(−x/mᵢ)) reaches p% of Σ nᵢ, rounded, found as the smallest whole k at which
    /// the mixture at k + ½ reaches it.
    ///
    /// Each term falls as its mean grows, so the mixture lies between the exponentials of the
    /// smallest and the largest mean, and the answer between their percentiles,
    /// `min × L` and `max × L` with L = −ln(1 − p/100): the search starts from that bracket,
    /// a few steps wide when the means are alike.
    pub fn percentiles<const N: usize>(&mut self, ps: [f64; N]) -> [u64; N] {
        if self.total == 0 {
            return [0; N];
        }
        self.means.sort_unstable_by_key(|&(m, _)| m);
        self.means.dedup_by(|next, kept| {
            let same = next.0 == kept.0;
            if same {
                kept.1 += next.1;
            }
            same
        });
        let total = self.total as f64;
        // The mixture's value and slope at x, in one pass over the means.
        let below_and_slope = |x: f64| {
            let (mut value, mut slope) = (0.0, 0.0);
            for &(m, n) in &self.means {
                if m == 0 {
                    value += n as f64;
                } else {
                    let e = (-x / m as f64).exp();
                    value += n as f64 * (1.0 - e);
                    slope += n as f64 * e / m as f64;
                }
            }
            (value / total, slope / total)
        };
        let below = |x: f64| below_and_slope(x).0;
        let (smallest, largest) = (self.means[0].0 as f64, self.means[self.means.len() - 1].0 as f64);
        let mean = self.means.iter().map(|&(m, n)| m as f64 * n as f64).sum::<f64>() / total;
        let mut out = [0; N];
        for (i, &p) in ps.iter().enumerate() {
            // A percentile asked twice (the SLO's is often the 99th) is searched for once.
            if let Some(j) = ps[..i].iter().position(|&x| x == p) {
                out[i] = out[j];
                continue;
            }
            let q = (p / 100.0).clamp(0.0, 1.0 - 1e-9);
            let l = -(1.0 - q).ln();
            let (lo, hi) = ((smallest * l).floor() as u64, (largest * l).ceil() as u64);
            // The search starts where one Newton step from the exponential of the mixture's mean
            // lands: the mixture is concave, so the step lands at or just below the answer.
            let x0 = mean * l;
            let (value, slope) = below_and_slope(x0);
            let x1 = if slope > 0.0 { x0 - (value - q) / slope } else { x0 };
            let guess = if x1.is_finite() { (x1 - 0.5).max(0.0).ceil() as u64 } else { lo };
            out[i] = first_true(lo, hi, guess, |k| below(k as f64 + 0.5) >= q);
        }
        out
    }
}

/// The smallest k in `lo..hi` for which `holds` (false, then true, as k grows) is true, or `hi`
/// if there is none: found by steps doubling away from `guess`, then by halving, so that a
/// guess close to the answer takes a few steps whatever the width of the range.
fn first_true(mut lo: u64, mut hi: u64, guess: u64, mut holds: impl FnMut(u64) -> bool) -> u64 {
    if lo >= hi {
        return hi;
    }
    let guess = guess.clamp(lo, hi - 1);
    let mut step = 1;
    if holds(guess) {
        hi = guess;
        while lo < hi {
            let probe = hi.saturating_sub(step).max(lo);
            if holds(probe) {
                hi = probe;
                step = step.saturating_mul(2);
            } else {
                lo = probe + 1;
                break;
            }
        }
    } else {
        lo = guess + 1;
        while lo < hi {
            let probe = lo.saturating_add(step - 1).min(hi - 1);
            if holds(probe) {
                hi = probe;
                break;
            }
            lo = probe + 1;
            step = step.saturating_mul(2);
        }
    }
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if holds(mid) { hi = mid } else { lo = mid + 1 }
    }
    lo
}

impl ServiceSample {
    /// The numeric columns of `timeseries.csv`, after `time_s` and `service`, in order.
    pub const COLUMNS: [&'static str; 28] = [
        "desired",
        "running",
        "pending",
        "unplaced",
        "stopping",
        "hosts",
        "instances",
        "cpu_reserved_pct",
        "mem_reserved_pct",
        "requests",
        "rps",
        "p50_ms",
        "p95_ms",
        "p99_ms",
        "errors_5xx",
        "healthy_targets",
        "cpu_util_pct",
        "mem_util_pct",
        "cost_usd",
        "cumulative_cost_usd",
        "scaling_metric",
        "alarms_in_alarm",
        "primary_revision",
        "primary_running",
        "primary_healthy",
        "active_running",
        "active_healthy",
        "capacity_provider_reservation",
    ];

    /// The values of [`ServiceSample::COLUMNS`], in their order: what a row of `timeseries.csv`
    /// holds after `time_s` and `service`.
    pub fn values(&self) -> [Value; 28] {
        let c = |n: u32| Value::Count(u64::from(n));
        [
            c(self.desired),
            c(self.running),
            c(self.pending),
            c(self.unplaced),
            c(self.stopping),
            c(self.hosts),
            c(self.instances),
            Value::Share(self.cpu_reserved_pct),
            Value::Share(self.mem_reserved_pct),
            Value::Count(self.requests),
            Value::Share(self.requests as f64 / 60.0),
            Value::Count(self.p50_ms),
            Value::Count(self.p95_ms),
            Value::Count(self.p99_ms),
            Value::Count(self.errors_5xx),
            c(self.healthy_targets),
            Value::Share(self.cpu_util_pct),
            Value::Share(self.mem_util_pct),
            Value::Money(self.cost_usd),
            Value::Money(self.cumulative_cost_usd),
            Value::Share(self.scaling_metric),
            c(self.alarms_in_alarm),
            c(self.primary_revision),
            c(self.primary_running),
            c(self.primary_healthy),
            c(self.active_running),
            c(self.active_healthy),
            Value::Share(self.capacity_provider_reservation),
        ]
    }

    /// Where `name` sits in [`ServiceSample::values`], if it is one of [`ServiceSample::COLUMNS`].
    pub fn column_index(name: &str) -> Option<usize> {
        Self::COLUMNS.iter().position(|&c| c == name)
    }

    /// A column by name: `time_s` or one of [`ServiceSample::COLUMNS`].
    pub fn column(&self, name: &str) -> Option<Value> {
        if name == "time_s" {
            return Some(Value::Count(self.time / crate::engine::SECOND));
        }
        Self::column_index(name).map(|k| self.values()[k])
    }
}

impl ServiceSummary {
    /// The numeric columns of `summary.csv`, after `service` and `scheduling_strategy`, in order.
    pub const COLUMNS: [&'static str; 27] = [
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
        "requests",
        "errors_5xx",
        "error_rate",
        "p50_ms",
        "p95_ms",
        "p99_ms",
        "mean_wait_ms",
        "mean_response_ms",
        "slo_met_pct",
        "cpu_util_pct",
        "mem_util_pct",
        "healthy_targets",
        "cost_usd",
        "idle_cost_usd",
        "cost_per_million_requests",
    ];

    pub fn column(&self, name: &str) -> Option<Value> {
        let c = |n: u32| Some(Value::Count(u64::from(n)));
        match name {
            "desired" => c(self.desired),
            "running" => c(self.running),
            "pending" => c(self.pending),
            "unplaced" => c(self.unplaced),
            "placement_failures" => Some(Value::Count(self.placement_failures)),
            "tasks_started" => Some(Value::Count(self.tasks_started)),
            "tasks_stopped" => Some(Value::Count(self.tasks_stopped)),
            "instances" => c(self.instances),
            "hosts" => c(self.hosts),
            "cpu_reserved_pct" => Some(Value::Share(self.cpu_reserved_pct)),
            "mem_reserved_pct" => Some(Value::Share(self.mem_reserved_pct)),
            "pending_task_minutes" => Some(Value::Count(self.pending_task_minutes)),
            "requests" => Some(Value::Count(self.requests)),
            "errors_5xx" => Some(Value::Count(self.errors_5xx)),
            "error_rate" => Some(Value::Fraction(self.error_rate)),
            "p50_ms" => Some(Value::Count(self.p50_ms)),
            "p95_ms" => Some(Value::Count(self.p95_ms)),
            "p99_ms" => Some(Value::Count(self.p99_ms)),
            "mean_wait_ms" => Some(Value::Share(self.mean_wait_ms)),
            "mean_response_ms" => Some(Value::Share(self.mean_response_ms)),
            "slo_met_pct" => Some(Value::Share(self.slo_met_pct)),
            "cpu_util_pct" => Some(Value::Share(self.cpu_util_pct)),
            "mem_util_pct" => Some(Value::Share(self.mem_util_pct)),
            "healthy_targets" => c(self.healthy_targets),
            "cost_usd" => Some(Value::Money(self.cost_usd)),
            "idle_cost_usd" => Some(Value::Money(self.idle_cost_usd)),
            "cost_per_million_requests" => Some(Value::Money(self.cost_per_million_requests)),
            _ => None,
        }
    }
}

/// Receives what the simulation reports.
pub trait Recorder {
    fn event(&mut self, event: EventRecord);
    fn sample(&mut self, sample: ServiceSample);
}

/// Keeps everything in memory.
#[derive(Default)]
pub struct MemoryRecorder {
    pub events: Vec<EventRecord>,
    pub samples: Vec<ServiceSample>,
}

impl Recorder for MemoryRecorder {
    fn event(&mut self, event: EventRecord) {
        self.events.push(event);
    }

    fn sample(&mut self, sample: ServiceSample) {
        self.samples.push(sample);
    }
}

/// Everything one run produced.
#[derive(Clone, Debug, Default)]
pub struct RunResult {
    pub scenario: String,
    pub seed: u64,
    /// Service names, indexed by `ServiceSample::service`.
    pub services: Vec<String>,
    pub timeseries: Vec<ServiceSample>,
    pub events: Vec<EventRecord>,
    pub summary: Vec<ServiceSummary>,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each column name reads its own field: every field gets a distinct value and each name is
    /// checked against the field it is documented to hold.
    #[test]
    fn sample_columns_read_their_fields() {
        let x = ServiceSample {
            time: 61_000,
            service: 0,
            desired: 1,
            running: 2,
            pending: 3,
            unplaced: 4,
            stopping: 5,
            hosts: 6,
            instances: 7,
            cpu_reserved_pct: 8.5,
            mem_reserved_pct: 9.5,
            requests: 600,
            errors_5xx: 11,
            p50_ms: 12,
            p95_ms: 13,
            p99_ms: 14,
            healthy_targets: 15,
            cpu_util_pct: 16.5,
            mem_util_pct: 17.5,
            cost_usd: 18.25,
            cumulative_cost_usd: 19.25,
            scaling_metric: 20.5,
            alarms_in_alarm: 21,
            primary_revision: 22,
            primary_running: 23,
            primary_healthy: 24,
            active_running: 25,
            active_healthy: 26,
            capacity_provider_reservation: 27.5,
        };
        let expected = [
            ("time_s", 61.0),
            ("desired", 1.0),
            ("running", 2.0),
            ("pending", 3.0),
            ("unplaced", 4.0),
            ("stopping", 5.0),
            ("hosts", 6.0),
            ("instances", 7.0),
            ("cpu_reserved_pct", 8.5),
            ("mem_reserved_pct", 9.5),
            ("requests", 600.0),
            ("rps", 10.0),
            ("p50_ms", 12.0),
            ("p95_ms", 13.0),
            ("p99_ms", 14.0),
            ("errors_5xx", 11.0),
            ("healthy_targets", 15.0),
            ("cpu_util_pct", 16.5),
            ("mem_util_pct", 17.5),
            ("cost_usd", 18.25),
            ("cumulative_cost_usd", 19.25),
            ("scaling_metric", 20.5),
            ("alarms_in_alarm", 21.0),
            ("primary_revision", 22.0),
            ("primary_running", 23.0),
            ("primary_healthy", 24.0),
            ("active_running", 25.0),
            ("active_healthy", 26.0),
            ("capacity_provider_reservation", 27.5),
        ];
        assert_eq!(expected.len(), ServiceSample::COLUMNS.len() + 1);
        for (name, value) in expected {
            assert_eq!(x.column(name).map(Value::as_f64), Some(value), "{name}");
        }
        assert_eq!(x.column("no_such_column"), None);
    }

    /// Order statistics mapped to buckets give what the histogram itself reports, for sizes
    /// from one value up, repeated values, values past the first bucket's exact range (2,048 ms)
    /// and the extreme percentiles.
    #[test]
    fn percentiles_of_raw_values_are_the_histograms() {
        let streams = crate::engine::RngStreams::new(3);
        let mut rng = streams.stream("values");
        let ps = [0.0, 0.1, 50.0, 95.0, 99.0, 99.9, 100.0, 33.3];
        for n in [1, 2, 3, 7, 100, 1_000, 5_000] {
            for spread in [3, 5_000, 200_000] {
                let mut values: Vec<u64> = (0..n).map(|_| rand::RngExt::random_range(&mut rng, 0..spread)).collect();
                let mut h = LatencyHistogram::default();
                for &v in &values {
                    h.record(v);
                }
                let expected = h.percentiles(ps);
                let got = LatencyHistogram::default().percentiles_of(&mut values, ps);
                assert_eq!(got, expected, "n = {n}, values below {spread}");
            }
        }
        assert_eq!(LatencyHistogram::default().percentiles_of(&mut [], [50.0]), [0]);
    }

    /// The search from a guess finds what a scan from the bottom finds, for every guess, in
    /// ranges empty or not, with the answer inside, at either end, or past the range.
    #[test]
    fn the_first_true_is_found_from_any_guess() {
        for lo in 0..5u64 {
            for hi in lo..14 {
                for answer in 0..16u64 {
                    let expected = (lo..hi).find(|&k| k >= answer).unwrap_or(hi);
                    for guess in 0..18 {
                        let mut asked = 0;
                        let got = first_true(lo, hi, guess, |k| {
                            asked += 1;
                            assert!((lo..hi).contains(&k), "asked about {k} outside {lo}..{hi}");
                            k >= answer
                        });
                        assert_eq!(got, expected, "{lo}..{hi}, answer {answer}, guess {guess}");
                        if guess == answer && (lo..hi).contains(&answer) && answer > lo {
                            assert_eq!(asked, 2, "a right guess is checked on both sides only");
                        }
                    }
                }
            }
        }
    }

    /// The Newton-guided search gives what halving the whole bracket gives, on mixtures of
    /// alike means (one second's load to the next) and of far-apart ones.
    #[test]
    fn the_mixture_search_agrees_with_halving_the_bracket() {
        let halving = |means: &[(u64, u64)], p: f64| {
            let total: u64 = means.iter().map(|x| x.1).sum();
            let below = |x: f64| {
                means
                    .iter()
                    .map(|&(m, n)| if m == 0 { n as f64 } else { n as f64 * (1.0 - (-x / m as f64).exp()) })
                    .sum::<f64>()
                    / total as f64
            };
            let q = (p / 100.0f64).clamp(0.0, 1.0 - 1e-9);
            let l = -(1.0 - q).ln();
            let smallest = means.iter().map(|x| x.0).min().unwrap_or(0) as f64;
            let largest = means.iter().map(|x| x.0).max().unwrap_or(0) as f64;
            let (mut lo, mut hi) = ((smallest * l).floor() as u64, (largest * l).ceil() as u64);
            while lo < hi {
                let mid = lo + (hi - lo) / 2;
                if below(mid as f64 + 0.5) < q { lo = mid + 1 } else { hi = mid }
            }
            lo
        };
        let streams = crate::engine::RngStreams::new(5);
        let mut rng = streams.stream("means");
        let ps = [0.0, 1.0, 50.0, 90.0, 95.0, 99.0, 99.9, 100.0];
        for spread in [1, 5, 40, 3_000] {
            for size in [1, 2, 7, 60] {
                let means: Vec<(u64, u64)> = (0..size)
                    .map(|_| {
                        let m = 560 + rand::RngExt::random_range(&mut rng, 0..spread);
                        (
                            if spread == 3_000 && m % 7 == 0 { 0 } else { m },
                            rand::RngExt::random_range(&mut rng, 1..500),
                        )
                    })
                    .collect();
                let mut mixture = ExponentialMixture::default();
                for &(m, n) in &means {
                    mixture.record_n(m, n);
                }
                let got = mixture.percentiles(ps);
                for (k, &p) in ps.iter().enumerate() {
                    assert_eq!(got[k], halving(&means, p), "p{p} of {means:?}");
                }
            }
        }
    }

    #[test]
    fn the_exponential_mixture_of_one_mean_has_the_exponentials_percentiles() {
        // One exponential of mean 100 ms: the p-th percentile is −100 ln(1 − p/100):
        // p50 = 69.3, p95 = 299.6, p99 = 460.5 ms.
        let mut h = LatencyHistogram::default();
        h.record_n(100, 1_000);
        assert_eq!(h.exponential_mixture_percentiles([50.0, 95.0, 99.0]), [69, 300, 461]);
        assert_eq!(h.exponential_mixture_percentile(99.0), 461);
        assert_eq!(LatencyHistogram::default().exponential_mixture_percentiles([50.0]), [0]);
    }

    #[test]
    fn a_mixture_of_two_means_lies_between_them() {
        // Half the responses with a mean of 100 ms, half with 300 ms. The median x solves
        // ½(1 − e^(−x/100)) + ½(1 − e^(−x/300)) = ½, i.e. e^(−x/100) + e^(−x/300) = 1: with
        // u = e^(−x/300), u³ + u − 1 = 0, u = 0.6823, x = −300 ln u = 114.6 ms. The 99th
        // percentile: e^(−x/100) + e^(−x/300) = 0.02, where e^(−x/100) is negligible next to
        // e^(−x/300): x ≈ 300 ln 50 = 1173.6; with the first term, 1173.6 + 0.0 → 1174 ms.
        let mut m = ExponentialMixture::default();
        m.record_n(300, 500);
        m.record_n(100, 250);
        m.record_n(100, 250);
        assert_eq!(m.count(), 1000);
        assert_eq!(m.percentiles([50.0, 99.0]), [115, 1174]);
        // A search over the whole range, without the bracket, finds the same.
        let full = |q: f64| {
            let f = |x: f64| 0.5 * (1.0 - (-x / 100.0f64).exp()) + 0.5 * (1.0 - (-x / 300.0f64).exp());
            (0u64..100_000).find(|&k| f(k as f64 + 0.5) >= q).unwrap()
        };
        assert_eq!([full(0.5), full(0.99)], [115, 1174]);
        m.reset();
        assert_eq!(m.percentiles([50.0]), [0]);
    }
}
