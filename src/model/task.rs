//! Tasks: one running copy of a task definition on a container instance, and its lifecycle
//! (ECS-DG:task-lifecycle.md).

use crate::engine::{SimTime, Timer};

/// `lastStatus` of a task. ECS also has ACTIVATING and DEPROVISIONING (Cloud Map and multiple
/// target groups, awsvpc teardown); the model folds them into the neighbouring states (README,
/// "What the model simplifies").
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum TaskStatus {
    /// Placed; ECS prepares what the task needs before launch (the ENI under awsvpc).
    Provisioning,
    /// The agent pulls images and starts containers.
    Pending,
    Running,
    /// Deregistering from its load balancer: the target drains for the deregistration delay
    /// before the containers are signalled (ECS-DG:task-lifecycle.md).
    Deactivating,
    /// SIGTERM sent; the containers have up to `stopTimeout` to exit.
    Stopping,
    Stopped,
}

impl TaskStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            TaskStatus::Provisioning => "PROVISIONING",
            TaskStatus::Pending => "PENDING",
            TaskStatus::Running => "RUNNING",
            TaskStatus::Deactivating => "DEACTIVATING",
            TaskStatus::Stopping => "STOPPING",
            TaskStatus::Stopped => "STOPPED",
        }
    }
}

/// Why a task was stopped, in the words ECS puts in `stoppedReason`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StopReason {
    /// StopTask called by a user or a scripted action.
    User,
    /// The service scheduler scaled in.
    ScalingActivity,
    /// Replaced because its container instance is DRAINING.
    InstanceDraining,
    /// A DAEMON task whose instance no longer meets the service's constraints.
    DaemonConstraint,
    /// Its EC2 instance was terminated under it.
    InstanceTerminated,
    /// Its target failed the load balancer's health checks.
    FailedElbHealthChecks,
    /// A deployment replaced it with a task of the new task definition.
    Deployment,
    /// An image could not be pulled.
    CannotPullContainer,
    /// Fargate reclaimed its Spot capacity.
    SpotInterruption,
}

impl StopReason {
    pub fn text(self) -> &'static str {
        match self {
            StopReason::User => "Task stopped by user",
            StopReason::ScalingActivity => "Scaling activity initiated by (deployment ecs-svc)",
            StopReason::InstanceDraining => "Container instance is being drained",
            StopReason::DaemonConstraint => {
                "Container instance no longer meets the placement constraints of the daemon service"
            }
            StopReason::InstanceTerminated => "Host EC2 (instance terminated) stopped/terminated",
            StopReason::FailedElbHealthChecks => "Task failed ELB health checks",
            StopReason::Deployment => "Deployment replaced the task with one of the new task definition",
            StopReason::CannotPullContainer => "CannotPullContainerError: the image could not be pulled",
            StopReason::SpotInterruption => "Your Spot Task was interrupted.",
        }
    }
}

#[derive(Debug)]
pub struct Task {
    pub id: String,
    pub service: usize,
    /// The service deployment that launched the task.
    pub deployment: usize,
    /// The capacity provider it was assigned to, under a capacity provider strategy.
    pub provider: Option<usize>,
    pub task_definition: usize,
    pub instance: usize,
    pub status: TaskStatus,
    /// `desiredStatus`: false once anything has asked the task to stop.
    pub desired_running: bool,
    pub created_at: SimTime,
    pub started_at: Option<SimTime>,
    /// When the task started counting as healthy for the service scheduler.
    pub healthy_at: Option<SimTime>,
    pub stopped_at: Option<SimTime>,
    pub stop_reason: Option<StopReason>,
    /// Host ports the task holds: its static ones then the dynamically assigned ones.
    pub host_ports: Vec<u16>,
    pub static_ports: usize,
    /// The lifecycle timer: image pull, start, health grace, deregistration, stop.
    pub timer: Timer,
    /// Serving requests from a load balancer, while the task is in a target group.
    pub serving: Option<Serving>,
}

/// A task's request-serving state (only for tasks of services behind a load balancer).
///
/// It repeats the few facts of its task and target that answering a request needs (service,
/// target group, credentials), so that a request touches this state alone, and it is laid out
/// in declaration order on cache-line boundaries: what every request reads here fills the first
/// 64 bytes, the server's own hot fields the next. On a cluster of thousands of tasks each
/// further line a request touches is one more cache miss.
#[derive(Debug)]
#[repr(C, align(64))]
pub struct Serving {
    /// Whether the targets' security group admits the load balancer on `port`.
    pub reachable: bool,
    /// The task calls AWS APIs without a task role: its answers are 500s.
    pub lacks_credentials: bool,
    pub completion_timer: Timer,
    pub in_flight: u32,
    /// Where the task's target sat in its group at the last lookup (see `World::target_slot`).
    pub target_slot: u32,
    /// The task's service.
    pub service: u32,
    /// The target group the task is registered with (its deployment's, fixed for its life).
    pub target_group: u32,
    /// When the application answers requests and health checks.
    pub ready_at: SimTime,
    /// The completion event scheduled for the server, if any.
    pub completion_at: Option<SimTime>,
    /// MiB held by the requests in flight.
    pub memory_in_flight: f64,
    pub health_timer: Timer,
    /// The host port (bridge) or container port (host, awsvpc) the target group sends to.
    pub port: u16,
    pub server: crate::engine::processor_sharing::ProcessorSharing,
    /// CPU-ms of work already counted into the service's busy time.
    pub work_accounted: f64,
    /// The vCPUs the task's reservation stands for, the denominator of its CPU utilization.
    pub reserved_vcpu: f64,
}

impl Task {
    pub fn is_healthy(&self) -> bool {
        self.status == TaskStatus::Running && self.healthy_at.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What every request reads of the serving state fills the first cache line, and the
    /// server's hot fields begin on the next (see the server's own layout test).
    #[test]
    fn serving_state_starts_the_server_on_the_second_cache_line() {
        assert_eq!(std::mem::offset_of!(Serving, server), 64);
        assert_eq!(std::mem::align_of::<Serving>(), 64);
    }
}
