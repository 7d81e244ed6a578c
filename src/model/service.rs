//! ECS services: the REPLICA and DAEMON schedulers, and the arithmetic of how many tasks they
//! may start and stop at once (ECS-DG:ecs_services.md, ECS-DG:service_definition_parameters.md).

use super::placement::{PlacementConstraint, PlacementStrategy};
use crate::engine::{SECOND, SimTime};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SchedulingStrategy {
    /// Keep `desired_count` tasks across the cluster.
    Replica,
    /// One task on every ACTIVE instance that meets the constraints.
    Daemon,
}

impl SchedulingStrategy {
    pub fn as_str(self) -> &'static str {
        match self {
            SchedulingStrategy::Replica => "REPLICA",
            SchedulingStrategy::Daemon => "DAEMON",
        }
    }
}

/// How far below and above the desired count the scheduler may go while it replaces tasks
/// (a deployment, or tasks on a DRAINING instance).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DeploymentConfiguration {
    pub minimum_healthy_percent: u32,
    pub maximum_percent: u32,
    /// The deployment circuit breaker, when enabled.
    pub circuit_breaker: Option<super::deployment::CircuitBreaker>,
}

impl DeploymentConfiguration {
    /// REPLICA defaults: 100 / 200 (ECS-DG:service_definition_parameters.md).
    pub const REPLICA_DEFAULT: Self =
        DeploymentConfiguration { minimum_healthy_percent: 100, maximum_percent: 200, circuit_breaker: None };
    /// DAEMON defaults from the API: 0 / 100; `maximumPercent` must be 100
    /// (ECS-DG:service_definition_parameters.md, ECS-DG:ecs_services.md).
    pub const DAEMON_DEFAULT: Self =
        DeploymentConfiguration { minimum_healthy_percent: 0, maximum_percent: 100, circuit_breaker: None };

    /// The least number of healthy tasks: `ceil(desired × minimumHealthyPercent / 100)`.
    pub fn min_healthy(&self, desired: u32) -> u32 {
        (u64::from(desired) * u64::from(self.minimum_healthy_percent)).div_ceil(100) as u32
    }

    /// The most tasks RUNNING, PENDING or STOPPING: `floor(desired × maximumPercent / 100)`.
    pub fn max_tasks(&self, desired: u32) -> u32 {
        (u64::from(desired) * u64::from(self.maximum_percent) / 100) as u32
    }
}

/// A task without load balancer or container health check counts as healthy 40 s after it
/// reaches RUNNING (ECS-DG:service_definition_parameters.md, `minimumHealthyPercent`).
pub const HEALTHY_AFTER_RUNNING: SimTime = 40 * SECOND;

/// The load balancer a service registers its tasks with: a target group, and the container and
/// port of the task definition that receive the traffic (`loadBalancers` in CreateService).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LoadBalancerAttachment {
    /// Index into the scenario's target groups.
    pub target_group: usize,
    /// Index of the container in the task definition.
    pub container: usize,
    pub container_port: u16,
}

/// A service as created: its task definition, size, placement and deployment limits.
#[derive(Clone, Debug)]
pub struct ServiceDefinition {
    pub name: String,
    /// Index into the scenario's task definitions.
    pub task_definition: usize,
    pub desired_count: u32,
    pub scheduling_strategy: SchedulingStrategy,
    pub placement_strategies: Vec<PlacementStrategy>,
    pub placement_constraints: Vec<PlacementConstraint>,
    pub deployment_configuration: DeploymentConfiguration,
    pub load_balancer: Option<LoadBalancerAttachment>,
    /// `healthCheckGracePeriodSeconds`: after a task reaches RUNNING, unhealthy load balancer
    /// checks are ignored this long. Default 0 (ECS-DG:service_definition_parameters.md).
    pub health_check_grace_period: SimTime,
    /// Service Auto Scaling, if the service has a scalable target.
    pub auto_scaling: Option<super::autoscaling::ServiceScaling>,
    /// Blue/green deployments by CodeDeploy (`deploymentController: CODE_DEPLOY`); rolling
    /// updates (`ECS`) otherwise.
    pub blue_green: Option<super::deployment::BlueGreen>,
    /// The capacity provider strategy; empty: the EC2 launch type on any instance.
    pub capacity_provider_strategy: Vec<super::capacity_provider::StrategyItem>,
    /// Its tasks run on Fargate (launch type FARGATE, or a strategy of Fargate providers).
    pub fargate: bool,
}

/// What the scheduler sees of a service's tasks when it decides.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TaskCounts {
    /// Tasks meant to keep running (PROVISIONING, PENDING or RUNNING, not marked for replacement).
    pub keep: u32,
    pub keep_healthy: u32,
    /// Tasks meant to be replaced (on a DRAINING instance), still PROVISIONING/PENDING/RUNNING.
    pub replace: u32,
    pub replace_healthy: u32,
    /// Tasks in STOPPING.
    pub stopping: u32,
}

/// What the REPLICA scheduler does in one pass.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ReplicaPlan {
    /// Tasks to stop because more than the desired count are meant to keep running; chosen by
    /// the scale-in order.
    pub scale_in: u32,
    /// New tasks to place.
    pub start: u32,
    /// Tasks marked for replacement that are not healthy yet: stopped at once (PENDING tasks on
    /// a DRAINING instance are stopped immediately, ECS-DG:container-instance-draining.md).
    pub stop_unhealthy_replace: u32,
    /// Healthy tasks marked for replacement that can be stopped within the minimum.
    pub stop_healthy_replace: u32,
}

impl ReplicaPlan {
    pub fn is_idle(&self) -> bool {
        *self == ReplicaPlan::default()
    }
}

/// The REPLICA scheduler's arithmetic.
///
/// New tasks start while RUNNING + PENDING + STOPPING stays within `maximumPercent` of the
/// desired count (never below the desired count itself, so a service can always reach it), and
/// tasks marked for replacement stop only while the healthy ones stay at or above
/// `minimumHealthyPercent` (ECS-DG:deployment-type-ecs.md for the bounds and their rounding;
/// ECS-DG:container-instance-draining.md: min 50% of 4 stops 2, then starts 2; min = max = 100
/// blocks).
pub fn replica_plan(desired: u32, config: DeploymentConfiguration, c: TaskCounts) -> ReplicaPlan {
    let scale_in = c.keep.saturating_sub(desired);
    let keep = c.keep - scale_in;
    let keep_healthy = c.keep_healthy.min(keep);
    let stopping = c.stopping + scale_in;

    let cap = config.max_tasks(desired).max(desired);
    let start = (desired - keep).min(cap.saturating_sub(keep + c.replace + stopping));

    let healthy = keep_healthy + c.replace_healthy;
    ReplicaPlan {
        scale_in,
        start,
        stop_unhealthy_replace: c.replace - c.replace_healthy,
        stop_healthy_replace: healthy.saturating_sub(config.min_healthy(desired)).min(c.replace_healthy),
    }
}

/// A service while the simulation runs.
pub struct Service {
    pub name: String,
    pub scheduling_strategy: SchedulingStrategy,
    pub task_definition: usize,
    pub deployment_configuration: DeploymentConfiguration,
    /// The desired count; for a DAEMON service, the instances it should run on.
    pub desired_count: u32,
    pub group: super::cluster::TaskGroup,
    pub placement: super::placement::PlacementPolicy,
    /// Tasks not yet STOPPED.
    pub tasks: Vec<usize>,
    /// Every deployment so far; the PRIMARY one is last.
    pub deployments: Vec<super::deployment::Deployment>,
    /// Under blue/green: the target group production traffic goes to, and while CodeDeploy
    /// shifts, the replacement's target group and its share of the traffic (%).
    pub production_target_group: Option<usize>,
    pub replacement_traffic: Option<(usize, u32)>,
    /// Whether CodeDeploy has started shifting traffic for the current deployment.
    pub shifting: bool,
    /// Tasks the scheduler wanted but could not place at its last pass.
    pub unplaced: u32,
    /// Of those, the ones waiting for each capacity provider's capacity.
    pub waiting: Vec<u32>,
    pub next_task_number: u32,
    /// The cluster's capacity epoch at the last failed placement: nothing can have changed for
    /// the better while the epoch stays the same, so the scheduler does not retry.
    pub failed_at_epoch: Option<u64>,
    /// The last placement-failure event and when it was reported, for ECS's suppression of
    /// repeats (ECS-DG:service-event-messages.md: repeated until resolved or 6 hours pass).
    pub last_failure_event: Option<(String, SimTime)>,
    pub steady: bool,
    pub blocked: bool,
    pub throttle: StartThrottle,
    /// When "unable to consistently start tasks" was last reported (repeats are suppressed).
    pub last_throttle_event: Option<SimTime>,
    pub placement_failures: u64,
    pub tasks_started: u64,
    pub tasks_stopped: u64,
    pub pending_task_minutes: u64,
    /// What the service's tasks not yet STOPPED take of the cluster's EC2 instances (Fargate's
    /// micro-VMs are no part of it), kept as tasks are placed and stop so that the per-minute
    /// sample need not add it up over the tasks.
    pub footprint: InstanceFootprint,
}

/// A service's share of the cluster's container instances.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct InstanceFootprint {
    /// Instances running at least one of the service's tasks.
    pub hosts: u32,
    /// CPU units and MiB the tasks reserve: CloudWatch's CPUReservation and MemoryReservation
    /// count only tasks on EC2 instances (ECS-DG:cloudwatch-metrics.md, available metrics).
    pub reserved_cpu: u64,
    pub reserved_memory: u64,
}

/// The service throttle: when tasks keep stopping before they reach RUNNING (an image that
/// cannot be pulled, say), ECS waits longer and longer between launches, up to 15 minutes, and
/// never gives up; a task that reaches RUNNING or a new deployment resets it
/// (ECS-DG:service-throttle-logic.md). The schedule itself is not documented: 10 s, doubling,
/// capped at 900 s [assume, AWS-SEMANTICS.md §2.7 and §12].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StartThrottle {
    /// Launches in a row that failed before RUNNING.
    pub failures: u32,
    /// No launch before this instant.
    pub until: SimTime,
}

pub const THROTTLE_FIRST_DELAY: SimTime = 10 * crate::engine::SECOND;
pub const THROTTLE_MAX_DELAY: SimTime = 15 * crate::engine::MINUTE;

impl StartThrottle {
    /// The wait after the `n`th failure in a row.
    pub fn delay(n: u32) -> SimTime {
        let doublings = n.saturating_sub(1).min(16);
        (THROTTLE_FIRST_DELAY << doublings).min(THROTTLE_MAX_DELAY)
    }

    /// A task failed to start at `now`; returns when the next launch may go.
    pub fn failed(&mut self, now: SimTime) -> SimTime {
        self.failures += 1;
        self.until = self.until.max(now + StartThrottle::delay(self.failures));
        self.until
    }

    pub fn reset(&mut self) {
        *self = StartThrottle::default();
    }

    pub fn holds(&self, now: SimTime) -> bool {
        now < self.until
    }
}

impl Service {
    pub fn new(def: &ServiceDefinition, group: super::cluster::TaskGroup) -> Self {
        Service {
            name: def.name.clone(),
            scheduling_strategy: def.scheduling_strategy,
            task_definition: def.task_definition,
            deployment_configuration: def.deployment_configuration,
            desired_count: def.desired_count,
            group,
            placement: super::placement::PlacementPolicy::new(
                def.placement_constraints.clone(),
                def.placement_strategies.clone(),
            ),
            tasks: Vec::new(),
            deployments: vec![super::deployment::Deployment {
                number: 1,
                task_definition: def.task_definition,
                status: super::deployment::DeploymentStatus::Primary,
                rollout: super::deployment::RolloutState::InProgress,
                failures: 0,
                reason: "service created".into(),
                target_group: def.load_balancer.map(|lb| lb.target_group),
            }],
            production_target_group: def.load_balancer.map(|lb| lb.target_group),
            replacement_traffic: None,
            shifting: false,
            unplaced: 0,
            waiting: Vec::new(),
            next_task_number: 1,
            failed_at_epoch: None,
            last_failure_event: None,
            steady: false,
            blocked: false,
            throttle: StartThrottle::default(),
            last_throttle_event: None,
            placement_failures: 0,
            tasks_started: 0,
            tasks_stopped: 0,
            pending_task_minutes: 0,
            footprint: InstanceFootprint::default(),
        }
    }
}

impl Service {
    /// The index of the PRIMARY deployment: the newest.
    pub fn primary(&self) -> usize {
        self.deployments.len() - 1
    }
}

/// ECS repeats a suppressed service event after six hours (ECS-DG:service-event-messages.md).
pub const EVENT_REPEAT_AFTER: SimTime = 6 * crate::engine::HOUR;

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(min: u32, max: u32) -> DeploymentConfiguration {
        DeploymentConfiguration { minimum_healthy_percent: min, maximum_percent: max, circuit_breaker: None }
    }

    #[test]
    fn bounds_round_as_documented() {
        // min 50% of 4 → 2; min 75% of 2 → 2 (ceil 1.5); max 125% of 3 → 3 (floor 3.75).
        assert_eq!(cfg(50, 200).min_healthy(4), 2);
        assert_eq!(cfg(75, 200).min_healthy(2), 2);
        assert_eq!(cfg(100, 125).max_tasks(3), 3);
        assert_eq!(cfg(100, 200).max_tasks(4), 8);
    }

    #[test]
    fn fills_up_to_desired() {
        let p = replica_plan(
            6,
            DeploymentConfiguration::REPLICA_DEFAULT,
            TaskCounts { keep: 2, keep_healthy: 2, ..Default::default() },
        );
        assert_eq!(p.start, 4);
        assert_eq!(p.scale_in, 0);
    }

    #[test]
    fn scales_in_the_excess() {
        let p = replica_plan(
            2,
            DeploymentConfiguration::REPLICA_DEFAULT,
            TaskCounts { keep: 5, keep_healthy: 5, ..Default::default() },
        );
        assert_eq!(p.scale_in, 3);
        assert_eq!(p.start, 0);
    }

    #[test]
    fn draining_with_min_50_stops_two_before_starting_two() {
        // ECS-DG:container-instance-draining.md: desired 4 at 50% → stop 2, start 2.
        let all_draining = TaskCounts { replace: 4, replace_healthy: 4, ..Default::default() };
        let p = replica_plan(4, cfg(50, 100), all_draining);
        assert_eq!((p.start, p.stop_healthy_replace), (0, 2));
        // While those two are STOPPING nothing may start (2 + 2 = 4 = 100% of 4).
        let p = replica_plan(
            4,
            cfg(50, 100),
            TaskCounts { replace: 2, replace_healthy: 2, stopping: 2, ..Default::default() },
        );
        assert_eq!(p.start, 0);
        // Once they have stopped, the two missing tasks start.
        let p = replica_plan(4, cfg(50, 100), TaskCounts { replace: 2, replace_healthy: 2, ..Default::default() });
        assert_eq!(p.start, 2);
    }

    #[test]
    fn draining_with_defaults_starts_first_then_stops_once_healthy() {
        let p = replica_plan(4, cfg(100, 200), TaskCounts { replace: 4, replace_healthy: 4, ..Default::default() });
        assert_eq!((p.start, p.stop_healthy_replace), (4, 0));
        let p = replica_plan(
            4,
            cfg(100, 200),
            TaskCounts { keep: 4, keep_healthy: 0, replace: 4, replace_healthy: 4, stopping: 0 },
        );
        assert_eq!((p.start, p.stop_healthy_replace), (0, 0));
        let p = replica_plan(
            4,
            cfg(100, 200),
            TaskCounts { keep: 4, keep_healthy: 4, replace: 4, replace_healthy: 4, stopping: 0 },
        );
        assert_eq!((p.start, p.stop_healthy_replace), (0, 4));
    }

    #[test]
    fn scaling_in_while_draining_stops_the_drained_tasks_first() {
        // Desired drops from 4 to 2 while all 4 tasks sit on a DRAINING instance: nothing new
        // starts (room 4 − 4 = 0) and two drained tasks stop (4 healthy − 2 required).
        let p = replica_plan(2, cfg(100, 200), TaskCounts { replace: 4, replace_healthy: 4, ..Default::default() });
        assert_eq!((p.scale_in, p.start, p.stop_healthy_replace), (0, 0, 2));
    }

    #[test]
    fn replacing_a_stopped_task_waits_for_it_under_max_100() {
        let p =
            replica_plan(4, cfg(100, 100), TaskCounts { keep: 3, keep_healthy: 3, stopping: 1, ..Default::default() });
        assert_eq!(p.start, 0);
        let p =
            replica_plan(4, cfg(100, 200), TaskCounts { keep: 3, keep_healthy: 3, stopping: 1, ..Default::default() });
        assert_eq!(p.start, 1);
    }

    #[test]
    fn a_maximum_below_100_still_reaches_the_desired_count() {
        let p = replica_plan(4, cfg(0, 50), TaskCounts::default());
        assert_eq!(p.start, 4);
    }

    #[test]
    fn min_and_max_at_100_block_draining() {
        let p = replica_plan(4, cfg(100, 100), TaskCounts { replace: 4, replace_healthy: 4, ..Default::default() });
        assert!(p.is_idle());
    }

    #[test]
    fn pending_tasks_on_a_draining_instance_stop_at_once() {
        let p = replica_plan(
            3,
            cfg(100, 200),
            TaskCounts { keep: 2, keep_healthy: 2, replace: 1, replace_healthy: 0, stopping: 0 },
        );
        assert_eq!(p.stop_unhealthy_replace, 1);
        assert_eq!(p.start, 1);
    }
}

#[cfg(test)]
mod throttle_tests {
    use super::*;
    use crate::engine::SECOND;

    #[test]
    fn the_throttle_doubles_to_fifteen_minutes() {
        assert_eq!(StartThrottle::delay(1), 10 * SECOND);
        assert_eq!(StartThrottle::delay(2), 20 * SECOND);
        assert_eq!(StartThrottle::delay(7), 640 * SECOND);
        assert_eq!(StartThrottle::delay(8), 900 * SECOND);
        assert_eq!(StartThrottle::delay(60), 900 * SECOND);
        let mut t = StartThrottle::default();
        assert_eq!(t.failed(5 * SECOND), 15 * SECOND);
        assert!(t.holds(14 * SECOND) && !t.holds(15 * SECOND));
        assert_eq!(t.failed(16 * SECOND), 36 * SECOND);
        t.reset();
        assert!(!t.holds(0));
    }
}
