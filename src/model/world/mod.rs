//! The simulated world: one cluster, its instances, services and tasks, driven by the event
//! queue. This is where the model's pieces meet; each decision itself lives in the module of its
//! AWS concept (placement, service, asg, ...).

use crate::engine::{Distribution, EventQueue, HOUR, MINUTE, RngStreams, SimRng, SimTime, format_seconds};
use crate::record::{EventKind, EventRecord, Recorder, RunResult, ServiceSample, ServiceSummary};
use crate::scenario::Scenario;

mod autoscaling;
mod billing;
mod capacity;
mod deployments;
mod fargate;
mod fluid;
mod groups;
mod instances;
mod invariants;
mod reporting;
mod scheduler;
mod tasks;
mod traffic;

use crate::model::action::Action;
use crate::model::asg::Lifecycle;
use crate::model::asg::launch_availability_zone;
use crate::model::cluster::Cluster;
use crate::model::cluster_query::Expression;
use crate::model::ec2::{ContainerInstance, InstanceStatus};
use crate::model::placement::{self, PlacementConstraint, PlacementFailure, StopCandidate};
use crate::model::service::{
    EVENT_REPEAT_AFTER, HEALTHY_AFTER_RUNNING, SchedulingStrategy, Service, TaskCounts, replica_plan,
};
use crate::model::task::{StopReason, Task, TaskStatus};
use crate::model::task_definition::TaskRequirements;

/// Something that happens at an instant. Small and `Copy`: ids and timer generations only.
///
/// Aligned to 8 bytes (16 in all rather than 12): copied out of the queue in 4- and 8-byte
/// pieces, a 12-byte event was read back in other pieces than it was written, and a load that
/// spans two pending stores waits for both to reach the cache instead of being forwarded; the
/// profile of a busy day showed that stall on every event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(align(8))]
enum Event {
    InstanceBooted {
        instance: u32,
        generation: u32,
    },
    InstanceRegistered {
        instance: u32,
        generation: u32,
    },
    /// The task's ENI is attached (awsvpc): PROVISIONING → PENDING.
    TaskProvisioned {
        task: u32,
        generation: u32,
    },
    /// Images pulled and containers started: PENDING → RUNNING.
    TaskStarted {
        task: u32,
        generation: u32,
    },
    TaskHealthy {
        task: u32,
        generation: u32,
    },
    /// The containers have exited: STOPPING → STOPPED.
    TaskStopped {
        task: u32,
        generation: u32,
    },
    /// Run the service schedulers.
    Schedule,
    Action {
        index: u32,
    },
    Sample,
    /// A request arrives for a workload.
    Arrival {
        workload: u32,
    },
    /// A task's server may have finished requests.
    RequestsDone {
        task: u32,
        generation: u32,
    },
    /// The load balancer checks a target.
    HealthCheck {
        task: u32,
        generation: u32,
    },
    /// A draining target's deregistration delay is over.
    Deregistered {
        task: u32,
        generation: u32,
    },
    /// A connection the security group dropped times out at the load balancer.
    ConnectTimeout {
        service: u32,
    },
    /// A scheduled scaling action fires.
    ScheduledScaling {
        target: autoscaling::Scalable,
        action: u32,
    },
    /// CodeDeploy moves the next share of production traffic.
    TrafficShift {
        service: u32,
        step: u32,
    },
    /// CodeDeploy deletes the original task set.
    TerminateOriginal {
        service: u32,
    },
    /// EC2 terminates an instance (a drained one its group retires, an interrupted Spot one).
    Terminate {
        instance: u32,
    },
    /// EC2's two-minute Spot interruption notice.
    SpotNotice {
        instance: u32,
    },
    /// EC2's rebalance recommendation for a Spot instance.
    Rebalance {
        instance: u32,
    },
    /// An Availability Zone is back.
    AzRecovered {
        zone: u32,
    },
    /// Fargate reclaims a Spot task's capacity (the two-minute warning).
    FargateSpotInterruption {
        task: u32,
    },
    /// The warning is over: the Spot task is killed if it still runs.
    FargateReclaim {
        task: u32,
    },
    /// An image pull failed (CannotPullContainerError): the task stops before RUNNING.
    PullFailed {
        task: u32,
        generation: u32,
    },
    /// A service's start throttle is over: it may launch tasks again.
    Unthrottle {
        service: u32,
    },
    /// The fluid fidelity's second of traffic.
    FluidTick,
}

/// The random streams of a run, one per concern.
struct Streams {
    placement: SimRng,
    launch: SimRng,
    pull: SimRng,
    stop: SimRng,
    actions: SimRng,
    health: SimRng,
    routing: SimRng,
    service_time: SimRng,
    spot: SimRng,
}

/// Far more events than any cluster produces at one millisecond; past it the run stops as stuck.
const MAX_EVENTS_PER_INSTANT: u64 = 1_000_000;

pub use invariants::InvariantViolation;

/// Runs a scenario to its end and returns everything it reported. Debug builds (and so the
/// tests) check the invariants after every event and panic on a violation.
pub fn simulate(scenario: &Scenario) -> RunResult {
    match run_collecting(scenario, cfg!(debug_assertions)) {
        Ok(r) => r,
        Err(v) => panic!("{v}"),
    }
}

/// Runs a scenario checking the invariants after every event, whatever the build.
pub fn simulate_checked(scenario: &Scenario) -> Result<RunResult, InvariantViolation> {
    run_collecting(scenario, true)
}

fn run_collecting(scenario: &Scenario, check: bool) -> Result<RunResult, InvariantViolation> {
    let mut recorder = crate::record::MemoryRecorder::default();
    let summary = simulate_into(scenario, &mut recorder, check)?;
    Ok(RunResult {
        scenario: scenario.name.clone(),
        seed: scenario.seed,
        services: scenario.services.iter().map(|s| s.name.clone()).collect(),
        timeseries: recorder.samples,
        events: recorder.events,
        summary,
    })
}

/// Runs a scenario, pushing events and samples into `recorder`; returns the summary rows.
pub fn simulate_into(
    scenario: &Scenario,
    recorder: &mut dyn Recorder,
    check_invariants: bool,
) -> Result<Vec<ServiceSummary>, InvariantViolation> {
    let mut world = World::new(scenario, recorder);
    if check_invariants {
        world.check_invariants("the initial placement")?;
    }
    world.run(check_invariants)?;
    for traffic in &mut world.traffic {
        traffic.flush_responses();
    }
    world.bill();
    if check_invariants {
        world.check_invariants("the end of the run")?;
    }
    Ok(world.summary())
}

struct World<'a> {
    scenario: &'a Scenario,
    recorder: &'a mut dyn Recorder,
    queue: EventQueue<Event>,
    cluster: Cluster,
    tasks: Vec<Task>,
    services: Vec<Service>,
    /// What one task of each task definition reserves.
    requirements: Vec<TaskRequirements>,
    rng: Streams,
    schedule_pending: bool,
    /// The services whose own state changed since their last pass, and whether a change to the
    /// cluster (capacity, instances) asks for a pass of every service.
    schedule_services: Vec<bool>,
    schedule_all: bool,
    /// Counts task launches and stop requests, so that a scheduler pass that made neither
    /// reuses the counts it started from instead of walking the service's tasks again.
    task_changes: u64,
    /// Bumped whenever capacity may have grown (a task stopped, an instance registered or became
    /// ACTIVE), so that services whose placement failed know when to try again.
    capacity_epoch: u64,
    /// Whether any placement constraint reads what runs on an instance (then every placement may
    /// change what fits elsewhere).
    dynamic_constraints: bool,
    streams: RngStreams,
    target_groups: Vec<crate::model::alb::TargetGroup>,
    workloads: Vec<traffic::WorkloadState>,
    traffic: Vec<traffic::ServiceTraffic>,
    /// Scratch buffer for completed requests.
    completed: Vec<crate::engine::processor_sharing::Completed>,
    costs: Vec<billing::ServiceCost>,
    /// Service Auto Scaling, per service that has it.
    scaling: Vec<Option<autoscaling::Scaling>>,
    /// An Auto Scaling group's own scaling policies, per group that has them.
    group_scaling: Vec<Option<autoscaling::Scaling>>,
    /// The minute's CPU work (vCPU-ms) of each instance's tasks, for EC2 CPUUtilization.
    instance_busy_ms: Vec<f64>,
    groups: Vec<groups::GroupState>,
    /// The fluid fidelity's state: per workload, per service, per task, per target group.
    fluid_state: fluid::FluidState,
    /// The instance type entry of Fargate's micro-VMs.
    fargate_type: usize,
    /// Per Auto Scaling group, the task group its instances are dedicated to (an Elastic
    /// Beanstalk environment's).
    group_dedication: Vec<Option<crate::model::cluster::TaskGroup>>,
    /// Managed scaling, per capacity provider that has it.
    managed: Vec<Option<capacity::ManagedScalingState>>,
    /// The groups are launching their first instances (registered at once): no reconciling yet.
    filling_groups: bool,
    /// Availability Zones in an outage.
    zones_down: Vec<bool>,
    /// Instances are billed up to this instant.
    billed_until: SimTime,
    /// What the invariant checks saw last.
    watch: invariants::Watch,
    /// Billing's copy of each task, by task.
    billed_tasks: Vec<billing::BilledTask>,
    /// By instance: how many of its tasks belong to REPLICA services (see `runs_replica_tasks`);
    /// grown as tasks are placed.
    replica_tasks_on: Vec<u32>,
    /// Each instance's weights in its cost, by instance, as billing last worked them out;
    /// `None` once its tasks have changed (see [`billing::InstanceWeights`]).
    instance_weights: Vec<Option<billing::InstanceWeights>>,
    /// Billing's copy of each instance, by instance (see [`billing::BilledInstance`]).
    billed_instances: Vec<billing::BilledInstance>,
    /// The instances billed in bulk, and their rates (see [`crate::model::billing::SteadyRates`]).
    in_steady: Vec<bool>,
    steady_rates: crate::model::billing::SteadyRates,
    /// The instances billing has yet to settle, in instance order (see `bill`).
    instances_to_bill: Vec<usize>,
    /// The counts' copy of each task, by task (see [`tasks::TaskState`]).
    task_states: Vec<tasks::TaskState>,
    /// Each service's tasks by deployment and class, by service (see [`tasks::TaskTally`]).
    task_tallies: Vec<tasks::TaskTally>,
}

impl<'a> World<'a> {
    fn new(scenario: &'a Scenario, recorder: &'a mut dyn Recorder) -> Self {
        let streams = RngStreams::new(scenario.seed);
        let mut cluster = Cluster::new(
            scenario.cluster_name.clone(),
            scenario.availability_zones.clone(),
            scenario.instance_types.clone(),
        );
        let services: Vec<Service> = scenario
            .services
            .iter()
            .map(|def| {
                let group = cluster.task_group(&format!("service:{}", def.name));
                Service::new(def, group)
            })
            .collect();
        let dynamic_constraints = scenario.services.iter().flat_map(|s| &s.placement_constraints).any(|c| match c {
            PlacementConstraint::MemberOf(e) => !Expression::is_static(e),
            PlacementConstraint::DistinctInstance => false,
        });
        let mut world = World {
            scenario,
            recorder,
            queue: EventQueue::with_capacity(1024),
            cluster,
            tasks: Vec::new(),
            services,
            requirements: scenario.task_definitions.iter().map(|t| t.requirements()).collect(),
            rng: Streams {
                placement: streams.stream("placement"),
                launch: streams.stream("launch"),
                pull: streams.stream("pull"),
                stop: streams.stream("stop"),
                actions: streams.stream("actions"),
                health: streams.stream("health"),
                routing: streams.stream("routing"),
                service_time: streams.stream("service-time"),
                spot: streams.stream("spot"),
            },
            schedule_pending: false,
            schedule_services: vec![false; scenario.services.len()],
            schedule_all: false,
            task_changes: 0,
            capacity_epoch: 0,
            dynamic_constraints,
            streams,
            target_groups: traffic::target_groups(&scenario.target_groups),
            workloads: Vec::new(),
            traffic: (0..scenario.services.len()).map(|_| Default::default()).collect(),
            completed: Vec::new(),
            costs: vec![Default::default(); scenario.services.len()],
            scaling: Vec::new(),
            group_scaling: Vec::new(),
            instance_busy_ms: Vec::new(),
            groups: scenario.auto_scaling_groups.iter().map(groups::GroupState::new).collect(),
            managed: Vec::new(),
            fluid_state: fluid::FluidState::default(),
            fargate_type: 0,
            group_dedication: Vec::new(),
            filling_groups: false,
            zones_down: vec![false; scenario.availability_zones.len()],
            billed_until: 0,
            watch: Default::default(),
            billed_tasks: Vec::new(),
            replica_tasks_on: Vec::new(),
            instance_weights: Vec::new(),
            billed_instances: Vec::new(),
            in_steady: Vec::new(),
            steady_rates: crate::model::billing::SteadyRates::new(scenario.services.len()),
            instances_to_bill: Vec::new(),
            task_states: Vec::new(),
            task_tallies: vec![tasks::TaskTally::default(); scenario.services.len()],
        };
        world.fargate_type = world.add_fargate_type();
        world.group_dedication = scenario
            .auto_scaling_groups
            .iter()
            .map(|g| {
                let env = g.beanstalk_environment.as_ref()?;
                scenario.services.iter().position(|s| &s.name == env).map(|s| world.services[s].group)
            })
            .collect();
        world.launch_initial_instances();
        world.start_workloads();
        if world.fluid() {
            world.start_fluid();
        }
        world.start_scaling();
        world.start_managed_scaling();
        for (index, _) in scenario.actions.iter().enumerate() {
            world.queue.schedule(scenario.actions[index].at, Event::Action { index: index as u32 });
        }
        world.queue.schedule(MINUTE.min(scenario.duration.max(1)), Event::Sample);
        world.request_schedule();
        world
    }

    fn now(&self) -> SimTime {
        self.queue.now()
    }

    fn fluid(&self) -> bool {
        self.scenario.fidelity == crate::model::workload::Fidelity::Fluid
    }

    fn run(&mut self, check_invariants: bool) -> Result<(), InvariantViolation> {
        let mut last = 0;
        let mut at_this_instant = 0u64;
        while let Some(t) = self.queue.peek_time() {
            if t > self.scenario.duration {
                break;
            }
            let Some((now, event)) = self.queue.pop() else { break };
            // Simulated time must advance: a feedback loop among the model's decisions would
            // otherwise spin at one instant forever.
            at_this_instant = if now == last { at_this_instant + 1 } else { 0 };
            if at_this_instant > MAX_EVENTS_PER_INSTANT {
                let problem =
                    format!("more than {MAX_EVENTS_PER_INSTANT} events at one instant: simulated time stopped");
                return Err(self.violation(&event, "clock".into(), problem));
            }
            self.handle(event);
            last = last.max(now);
            if check_invariants {
                self.check_invariants(&format!("{event:?}"))?;
            }
        }
        Ok(())
    }

    /// For tests: handles the events up to `until` one by one, and `check`s the world after each.
    #[cfg(test)]
    fn step_until(
        &mut self,
        until: SimTime,
        mut check: impl FnMut(&World<'_>) -> Result<(), (String, String)>,
    ) -> Result<(), (String, String)> {
        while let Some(t) = self.queue.peek_time() {
            if t > until {
                break;
            }
            let Some((_, event)) = self.queue.pop() else { break };
            self.handle(event);
            check(self)?;
        }
        Ok(())
    }

    fn violation(&self, event: &dyn std::fmt::Debug, entity: String, problem: String) -> InvariantViolation {
        InvariantViolation { time: self.now(), event: format!("{event:?}"), entity, problem }
    }

    fn handle(&mut self, event: Event) {
        match event {
            Event::InstanceBooted { instance, generation } => {
                let i = instance as usize;
                if self.cluster.instances[i].timer.is_current(generation) {
                    self.instance_booted(i);
                }
            }
            Event::InstanceRegistered { instance, generation } => {
                let i = instance as usize;
                if self.cluster.instances[i].timer.is_current(generation) {
                    self.instance_registered(i);
                }
            }
            Event::TaskProvisioned { task, generation } => {
                if self.tasks[task as usize].timer.is_current(generation) {
                    self.begin_pending(task as usize);
                }
            }
            Event::TaskStarted { task, generation } => {
                if self.tasks[task as usize].timer.is_current(generation) {
                    self.task_started(task as usize);
                }
            }
            Event::TaskHealthy { task, generation } => {
                let t = task as usize;
                if self.tasks[t].timer.is_current(generation) && self.tasks[t].status == TaskStatus::Running {
                    self.tasks[t].healthy_at = Some(self.now());
                    self.task_state_changed(t);
                    self.request_service_schedule(self.tasks[t].service);
                }
            }
            Event::TaskStopped { task, generation } => {
                if self.tasks[task as usize].timer.is_current(generation) {
                    self.finish_stop(task as usize);
                }
            }
            Event::Schedule => {
                self.schedule_pending = false;
                self.run_schedulers();
            }
            Event::Action { index } => self.apply_action(index as usize),
            Event::Arrival { workload } => self.arrival(workload as usize),
            Event::RequestsDone { task, generation } => {
                let t = task as usize;
                if self.tasks[t].serving.as_ref().is_some_and(|x| x.completion_timer.is_current(generation)) {
                    self.requests_done(t);
                }
            }
            Event::HealthCheck { task, generation } => {
                let t = task as usize;
                if self.tasks[t].serving.as_ref().is_some_and(|x| x.health_timer.is_current(generation)) {
                    self.health_check(t);
                }
            }
            Event::Deregistered { task, generation } => {
                if self.tasks[task as usize].timer.is_current(generation) {
                    self.deregistered(task as usize);
                }
            }
            Event::ConnectTimeout { service } => self.connect_timeout(service as usize),
            Event::ScheduledScaling { target, action } => self.scheduled_scaling(target, action as usize),
            Event::TrafficShift { service, step } => self.traffic_shift(service as usize, step as usize),
            Event::TerminateOriginal { service } => self.terminate_original(service as usize),
            Event::Terminate { instance } => self.terminate_instance(instance as usize),
            Event::SpotNotice { instance } => self.spot_notice(instance as usize),
            Event::Rebalance { instance } => self.rebalance_recommendation(instance as usize),
            Event::AzRecovered { zone } => self.az_recovered(zone as usize),
            Event::FargateSpotInterruption { task } => self.fargate_spot_interruption(task as usize),
            Event::FargateReclaim { task } => self.fargate_reclaim(task as usize),
            Event::PullFailed { task, generation } => {
                if self.tasks[task as usize].timer.is_current(generation) {
                    self.pull_failed(task as usize);
                }
            }
            Event::Unthrottle { service } => self.request_service_schedule(service as usize),
            Event::FluidTick => self.fluid_tick(),
            // A minute's row shows the state once everything at that instant has happened: while
            // other events share the instant, the sample goes back behind them.
            Event::Sample if self.queue.peek_time() == Some(self.now()) => {
                self.queue.schedule(self.now(), Event::Sample);
            }
            Event::Sample => {
                self.sample();
                let next = self.now() + MINUTE;
                if next <= self.scenario.duration {
                    self.queue.schedule(next, Event::Sample);
                }
            }
        }
    }

    fn record(
        &mut self,
        kind: EventKind,
        service: Option<usize>,
        task: Option<usize>,
        instance: Option<usize>,
        detail: String,
    ) {
        let record = EventRecord {
            time: self.now(),
            kind,
            service: service.map(|s| self.services[s].name.clone()).unwrap_or_default(),
            task: task.map(|t| self.tasks[t].id.clone()).unwrap_or_default(),
            instance: instance.map(|i| self.cluster.instances[i].id.clone()).unwrap_or_default(),
            detail,
        };
        self.recorder.event(record);
    }

    /// A change to the cluster: every service's scheduler looks again.
    fn request_schedule(&mut self) {
        self.schedule_all = true;
        self.schedule_pass();
    }

    /// A change to service `s` alone (its desired count, deployments or tasks): its scheduler
    /// looks again. The others would find nothing new: a pass acts on the service's own tasks,
    /// desired count and deployments, and on the cluster's capacity only for tasks it could not
    /// place, and services with such tasks are passed every time.
    fn request_service_schedule(&mut self, s: usize) {
        self.schedule_services[s] = true;
        self.schedule_pass();
    }

    fn schedule_pass(&mut self) {
        if !self.schedule_pending {
            self.schedule_pending = true;
            self.queue.schedule(self.now(), Event::Schedule);
        }
    }

    // ----- scripted actions ------------------------------------------------------------------

    fn apply_action(&mut self, index: usize) {
        let action = self.scenario.actions[index].action.clone();
        match action {
            Action::SetDesiredCount { service, desired_count } => {
                let before = self.services[service].desired_count;
                self.services[service].desired_count = desired_count;
                let detail = format!("desired count {before} -> {desired_count} (UpdateService)");
                self.record(EventKind::DesiredCountChanged, Some(service), None, None, detail);
                self.request_service_schedule(service);
            }
            Action::StopTasks { service, count } => {
                let mut candidates: Vec<usize> =
                    self.services[service].tasks.iter().copied().filter(|&t| self.tasks[t].desired_running).collect();
                for _ in 0..count {
                    if candidates.is_empty() {
                        break;
                    }
                    let k = rand::RngExt::random_range(&mut self.rng.actions, 0..candidates.len());
                    let t = candidates.swap_remove(k);
                    self.stop_task(t, StopReason::User);
                }
            }
            Action::DrainInstance { instance } => {
                if let Some(i) = self.find_instance(&instance) {
                    self.drain_instance(i);
                }
            }
            Action::ActivateInstance { instance } => {
                if let Some(i) = self.find_instance(&instance) {
                    self.activate_instance(i);
                }
            }
            Action::TerminateInstance { instance, should_decrement_desired_capacity } => {
                if let Some(i) = self.find_instance(&instance) {
                    if should_decrement_desired_capacity && self.cluster.instances[i].status != InstanceStatus::Inactive
                    {
                        let g = self.cluster.instances[i].group;
                        let (desired, min) = (self.groups[g].desired, self.groups[g].min);
                        let Some(lower) = desired.checked_sub(self.cluster.instances[i].weight).filter(|&d| d >= min)
                        else {
                            // EC2 Auto Scaling refuses the call: the desired capacity would fall
                            // below the group's minimum size.
                            let detail = format!(
                                "TerminateInstanceInAutoScalingGroup refused: decrementing desired capacity {desired} would go below min size {min}"
                            );
                            self.record(EventKind::GroupScaling, None, None, Some(i), detail);
                            return;
                        };
                        self.groups[g].desired = lower;
                    }
                    self.terminate_instance(i);
                }
            }
            Action::UpdateService { service, task_definition } => {
                if self.scenario.services[service].blue_green.is_some()
                    && self.services[service].deployments.len() > 1
                    && {
                        let p = self.services[service].primary();
                        self.services[service].deployments[p].rollout
                            == crate::model::deployment::RolloutState::InProgress
                    }
                {
                    let detail = "CodeDeploy: a deployment is already in progress; the update is refused".to_string();
                    self.record(EventKind::DeploymentBlocked, Some(service), None, None, detail);
                } else {
                    self.start_deployment(service, task_definition, "UpdateService with a new task definition".into());
                }
            }
            Action::SetDesiredCapacity { group, desired_capacity } => {
                self.set_group_desired(group, desired_capacity, "SetDesiredCapacity (scripted)");
            }
            Action::InterruptSpot { instance } => {
                if let Some(i) = self.find_instance(&instance) {
                    self.spot_notice(i);
                }
            }
            Action::AzOutage { zone, duration } => self.az_outage(zone, duration),
            Action::ForceNewDeployment { service } => {
                let td = self.services[service].task_definition;
                self.start_deployment(service, td, "UpdateService --force-new-deployment".into());
            }
        }
    }
}
