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
        }
    }

    pub const ALL: [EventKind; 14] = [
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
}

/// A number in an output column: counts print as integers, shares with three decimals.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Value {
    Count(u64),
    Share(f64),
}

impl Value {
    pub fn as_f64(self) -> f64 {
        match self {
            Value::Count(n) => n as f64,
            Value::Share(x) => x,
        }
    }
}

impl std::fmt::Display for Value {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Value::Count(n) => write!(f, "{n}"),
            Value::Share(x) => write!(f, "{x:.3}"),
        }
    }
}

impl ServiceSample {
    /// The numeric columns of `timeseries.csv`, after `time_s` and `service`, in order.
    pub const COLUMNS: [&'static str; 9] = [
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

    pub fn column(&self, name: &str) -> Option<Value> {
        let c = |n: u32| Some(Value::Count(u64::from(n)));
        match name {
            "time_s" => Some(Value::Count(self.time / crate::engine::SECOND)),
            "desired" => c(self.desired),
            "running" => c(self.running),
            "pending" => c(self.pending),
            "unplaced" => c(self.unplaced),
            "stopping" => c(self.stopping),
            "hosts" => c(self.hosts),
            "instances" => c(self.instances),
            "cpu_reserved_pct" => Some(Value::Share(self.cpu_reserved_pct)),
            "mem_reserved_pct" => Some(Value::Share(self.mem_reserved_pct)),
            _ => None,
        }
    }
}

impl ServiceSummary {
    /// The numeric columns of `summary.csv`, after `service` and `scheduling_strategy`, in order.
    pub const COLUMNS: [&'static str; 12] = [
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
