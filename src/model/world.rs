//! The simulated world: one cluster, its instances, services and tasks, driven by the event
//! queue. This is where the model's pieces meet; each decision itself lives in the module of its
//! AWS concept (placement, service, asg, ...).

use crate::engine::{EventQueue, MINUTE, RngStreams, SimRng, SimTime, format_seconds};
use crate::record::{EventKind, EventRecord, Recorder, RunResult, ServiceSample, ServiceSummary};
use crate::scenario::Scenario;

use super::action::Action;
use super::asg::launch_availability_zone;
use super::cluster::Cluster;
use super::cluster_query::Expression;
use super::ec2::{ContainerInstance, InstanceStatus};
use super::placement::{self, PlacementConstraint, PlacementFailure, StopCandidate};
use super::service::{
    EVENT_REPEAT_AFTER, HEALTHY_AFTER_RUNNING, SchedulingStrategy, Service, TaskCounts, replica_plan,
};
use super::task::{StopReason, Task, TaskStatus};
use super::task_definition::TaskRequirements;

/// Something that happens at an instant. Small and `Copy`: ids and timer generations only.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
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
}

/// The random streams of a run, one per concern.
struct Streams {
    placement: SimRng,
    launch: SimRng,
    pull: SimRng,
    stop: SimRng,
    actions: SimRng,
}

/// Far more events than any cluster produces at one millisecond; past it the run stops as stuck.
const MAX_EVENTS_PER_INSTANT: u64 = 1_000_000;

/// A broken invariant of the simulation's own accounting: a bug, reported with the event that
/// broke it, the entity and the time.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("invariant broken at t={} s after {event}: {entity}: {problem}", format_seconds(*time))]
pub struct InvariantViolation {
    pub time: SimTime,
    pub event: String,
    pub entity: String,
    pub problem: String,
}

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
    /// Bumped whenever capacity may have grown (a task stopped, an instance registered or became
    /// ACTIVE), so that services whose placement failed know when to try again.
    capacity_epoch: u64,
    /// Whether any placement constraint reads what runs on an instance (then every placement may
    /// change what fits elsewhere).
    dynamic_constraints: bool,
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
            },
            schedule_pending: false,
            capacity_epoch: 0,
            dynamic_constraints,
        };
        world.launch_initial_instances();
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
            let (went_back, previous) = (now < last, last);
            last = last.max(now);
            if check_invariants {
                if went_back {
                    let problem = format!("time went back from {previous} ms to {now} ms");
                    return Err(self.violation(&event, "clock".into(), problem));
                }
                self.check_invariants(&format!("{event:?}"))?;
            }
        }
        Ok(())
    }

    fn violation(&self, event: &dyn std::fmt::Debug, entity: String, problem: String) -> InvariantViolation {
        InvariantViolation { time: self.now(), event: format!("{event:?}"), entity, problem }
    }

    /// The accounting every state must satisfy: no instance holds more than it registered or
    /// more than its tasks reserve, no host port is held twice, every task not STOPPED is on
    /// exactly its instance's list and its service's list, and stopped tasks on none.
    fn check_invariants(&self, after: &str) -> Result<(), InvariantViolation> {
        let fail = |entity: String, problem: String| {
            Err(InvariantViolation { time: self.now(), event: after.to_string(), entity, problem })
        };
        let mut on_instance = vec![0u32; self.tasks.len()];
        for (i, inst) in self.cluster.instances.iter().enumerate() {
            let who = format!("instance {}", inst.id);
            let (mut cpu, mut mem, mut enis, mut statics) = (0u32, 0u32, 0u32, 0usize);
            let mut ports: Vec<u16> = Vec::new();
            for &t in &inst.tasks {
                let task = &self.tasks[t];
                let req = &self.requirements[task.task_definition];
                if task.instance != i || task.status == TaskStatus::Stopped {
                    return fail(
                        who,
                        format!("lists task {} ({}) that is not live on it", task.id, task.status.as_str()),
                    );
                }
                on_instance[t] += 1;
                cpu += req.cpu;
                mem += req.memory;
                enis += u32::from(req.needs_eni);
                statics += task.static_ports;
                ports.extend_from_slice(&task.host_ports);
            }
            if (cpu, mem, enis) != (inst.reserved_cpu, inst.reserved_memory, inst.enis_in_use) {
                return fail(
                    who,
                    format!(
                        "reserves cpu {} mem {} enis {} but its tasks need cpu {cpu} mem {mem} enis {enis}",
                        inst.reserved_cpu, inst.reserved_memory, inst.enis_in_use
                    ),
                );
            }
            if cpu > inst.registered_cpu || mem > inst.registered_memory || enis > inst.max_enis.saturating_sub(1) {
                return fail(
                    who,
                    format!(
                        "over-committed: cpu {cpu}/{}, memory {mem}/{}, enis {enis}/{}",
                        inst.registered_cpu,
                        inst.registered_memory,
                        inst.max_enis.saturating_sub(1)
                    ),
                );
            }
            ports.sort_unstable();
            if let Some(w) = ports.windows(2).find(|w| w[0] == w[1]) {
                return fail(who, format!("host port {} is held by two tasks", w[0]));
            }
            if ports != inst.ports_in_use || statics != inst.static_ports_in_use {
                return fail(who, "its port table does not match its tasks' ports".into());
            }
        }
        let mut in_service = vec![0u32; self.tasks.len()];
        for (s, svc) in self.services.iter().enumerate() {
            for &t in &svc.tasks {
                in_service[t] += 1;
                if self.tasks[t].service != s {
                    return fail(
                        format!("service {}", svc.name),
                        format!("lists task {} of another service", self.tasks[t].id),
                    );
                }
            }
        }
        for (t, task) in self.tasks.iter().enumerate() {
            let expected = u32::from(task.status != TaskStatus::Stopped);
            if on_instance[t] != expected || in_service[t] != expected {
                return fail(
                    format!("task {}", task.id),
                    format!(
                        "{} but listed on {} instances and {} services",
                        task.status.as_str(),
                        on_instance[t],
                        in_service[t]
                    ),
                );
            }
            if task.status == TaskStatus::Running && task.started_at.is_none() {
                return fail(format!("task {}", task.id), "RUNNING without a start time".into());
            }
        }
        Ok(())
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
                    self.request_schedule();
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

    fn request_schedule(&mut self) {
        if !self.schedule_pending {
            self.schedule_pending = true;
            self.queue.schedule(self.now(), Event::Schedule);
        }
    }

    // ----- instances -------------------------------------------------------------------------

    fn launch_initial_instances(&mut self) {
        for (g, group) in self.scenario.auto_scaling_groups.iter().enumerate() {
            let mut per_zone = vec![0u32; group.availability_zones.len()];
            for n in 1..=group.desired_capacity {
                let z = launch_availability_zone(&per_zone);
                per_zone[z] += 1;
                let az = group.availability_zones[z];
                self.launch_instance(g, format!("{}-{n}", group.name), az, !group.boot_at_start);
            }
        }
    }

    /// Creates an instance in a zone: registered at once (`already_registered`), or booting.
    fn launch_instance(&mut self, group_index: usize, id: String, az: usize, already_registered: bool) -> usize {
        let group = &self.scenario.auto_scaling_groups[group_index];
        let itype = &self.scenario.instance_types[group.instance_type];
        let instance = ContainerInstance::new(
            id,
            group_index,
            (group.instance_type, itype),
            az,
            group.reserved_memory,
            group.dynamic_host_port_range,
            self.now(),
        );
        let attributes = group.attributes.clone();
        let i = self.cluster.add_instance(instance, attributes);
        if already_registered {
            self.instance_registered(i);
        } else {
            let detail =
                format!("{} in {}", self.cluster.instance_type_of(i).name, self.cluster.availability_zone_of(i));
            self.record(EventKind::InstanceLaunched, None, None, Some(i), detail);
            let delay = self.scenario.auto_scaling_groups[group_index].boot_time.sample_duration(&mut self.rng.launch);
            let generation = self.cluster.instances[i].timer.arm();
            self.queue.schedule_in(delay, Event::InstanceBooted { instance: i as u32, generation });
        }
        i
    }

    fn instance_booted(&mut self, i: usize) {
        let group = self.cluster.instances[i].group;
        self.cluster.instances[i].status = InstanceStatus::Registering;
        let delay =
            self.scenario.auto_scaling_groups[group].agent_registration_time.sample_duration(&mut self.rng.launch);
        let generation = self.cluster.instances[i].timer.arm();
        self.queue.schedule_in(delay, Event::InstanceRegistered { instance: i as u32, generation });
    }

    fn instance_registered(&mut self, i: usize) {
        let now = self.now();
        let inst = &mut self.cluster.instances[i];
        inst.status = InstanceStatus::Active;
        inst.registered_at = Some(now);
        let detail = format!(
            "{} in {}: {} CPU units, {} MiB registered",
            self.cluster.instance_type_of(i).name,
            self.cluster.availability_zone_of(i),
            self.cluster.instances[i].registered_cpu,
            self.cluster.instances[i].registered_memory
        );
        self.record(EventKind::InstanceRegistered, None, None, Some(i), detail);
        self.capacity_grew();
    }

    fn find_instance(&self, id: &str) -> Option<usize> {
        self.cluster.instances.iter().position(|inst| inst.id == id)
    }

    /// `DRAINING`: no new tasks; the service schedulers replace the instance's tasks within their
    /// deployment limits (ECS-DG:container-instance-draining.md).
    fn drain_instance(&mut self, i: usize) {
        if self.cluster.instances[i].status != InstanceStatus::Active {
            return;
        }
        self.cluster.instances[i].status = InstanceStatus::Draining;
        let n = self.cluster.instances[i].tasks.len();
        self.record(
            EventKind::InstanceDraining,
            None,
            None,
            Some(i),
            format!("container instance set to DRAINING with {n} tasks"),
        );
        if n == 0 {
            self.record_drained(i);
        }
        self.request_schedule();
    }

    fn record_drained(&mut self, i: usize) {
        self.record(EventKind::InstanceDrained, None, None, Some(i), "every task on the instance has stopped".into());
    }

    fn activate_instance(&mut self, i: usize) {
        if self.cluster.instances[i].status != InstanceStatus::Draining {
            return;
        }
        self.cluster.instances[i].status = InstanceStatus::Active;
        self.record(EventKind::InstanceActivated, None, None, Some(i), "container instance set back to ACTIVE".into());
        self.capacity_grew();
    }

    /// The EC2 instance is gone: its tasks stop at once, it leaves the cluster.
    fn terminate_instance(&mut self, i: usize) {
        if self.cluster.instances[i].status == InstanceStatus::Inactive {
            return;
        }
        while let Some(&t) = self.cluster.instances[i].tasks.first() {
            let task = &mut self.tasks[t];
            task.desired_running = false;
            if task.stop_reason.is_none() {
                task.stop_reason = Some(StopReason::InstanceTerminated);
            }
            self.finish_stop(t);
        }
        self.cluster.instances[i].status = InstanceStatus::Inactive;
        self.cluster.instances[i].timer.cancel();
        self.record(
            EventKind::InstanceTerminated,
            None,
            None,
            Some(i),
            "instance terminated and deregistered (INACTIVE)".into(),
        );
        self.request_schedule();
    }

    fn capacity_grew(&mut self) {
        self.capacity_epoch += 1;
        self.request_schedule();
    }

    // ----- tasks -----------------------------------------------------------------------------

    /// Places a new task of service `s` on instance `i`: reserves its resources and ports, then
    /// starts PROVISIONING.
    fn launch_task(&mut self, s: usize, i: usize) {
        let now = self.now();
        let td = self.services[s].task_definition;
        let req = &self.requirements[td];
        let t = self.tasks.len();
        let number = self.services[s].next_task_number;
        self.services[s].next_task_number += 1;
        let inst = &mut self.cluster.instances[i];
        inst.reserved_cpu += req.cpu;
        inst.reserved_memory += req.memory;
        if req.needs_eni {
            inst.enis_in_use += 1;
        }
        let mut host_ports = Vec::with_capacity(req.static_host_ports.len() + usize::from(req.dynamic_host_ports));
        for &p in &req.static_host_ports {
            inst.take_port(p);
            host_ports.push(p);
        }
        inst.static_ports_in_use += req.static_host_ports.len();
        for _ in 0..req.dynamic_host_ports {
            if let Some(p) = inst.allocate_dynamic_port() {
                host_ports.push(p);
            }
        }
        inst.tasks.push(t);
        let needs_eni = req.needs_eni;
        let static_ports = req.static_host_ports.len();
        self.tasks.push(Task {
            id: format!("{}-{number}", self.services[s].name),
            service: s,
            task_definition: td,
            instance: i,
            status: TaskStatus::Provisioning,
            desired_running: true,
            created_at: now,
            started_at: None,
            healthy_at: None,
            stopped_at: None,
            stop_reason: None,
            host_ports,
            static_ports,
            timer: Default::default(),
        });
        let group = self.services[s].group;
        self.cluster.add_group_task(group, i);
        self.services[s].tasks.push(t);
        self.services[s].tasks_started += 1;
        let ports = &self.tasks[t].host_ports;
        let port_text = if ports.is_empty() {
            String::new()
        } else {
            format!(", host ports {}", ports.iter().map(u16::to_string).collect::<Vec<_>>().join(" "))
        };
        let detail = format!(
            "{} placed on {} ({}){port_text}",
            self.scenario.task_definitions[td].arn_name(),
            self.cluster.instances[i].id,
            self.cluster.availability_zone_of(i)
        );
        self.record(EventKind::TaskPlaced, Some(s), Some(t), Some(i), detail);
        if self.dynamic_constraints {
            self.capacity_epoch += 1;
        }
        if needs_eni {
            let delay = self.scenario.eni_attach_time.sample_duration(&mut self.rng.launch);
            let generation = self.tasks[t].timer.arm();
            self.queue.schedule_in(delay, Event::TaskProvisioned { task: t as u32, generation });
        } else {
            self.begin_pending(t);
        }
    }

    /// PENDING: the agent pulls every container's image and starts the containers. Pulls run in
    /// parallel; the task is RUNNING when its slowest container is.
    fn begin_pending(&mut self, t: usize) {
        self.tasks[t].status = TaskStatus::Pending;
        let td = &self.scenario.task_definitions[self.tasks[t].task_definition];
        let inst = &self.cluster.instances[self.tasks[t].instance];
        let mut ready = 0;
        for c in &td.containers {
            let image = &self.scenario.images[c.image];
            let cached = inst.cached_images.contains(&c.image);
            let pull = image.pull_duration(cached, &mut self.rng.pull);
            let start = image.start_time.sample_duration(&mut self.rng.pull);
            ready = ready.max(pull + start);
        }
        let generation = self.tasks[t].timer.arm();
        self.queue.schedule_in(ready, Event::TaskStarted { task: t as u32, generation });
    }

    fn task_started(&mut self, t: usize) {
        let now = self.now();
        let task = &mut self.tasks[t];
        task.status = TaskStatus::Running;
        task.started_at = Some(now);
        let (i, td) = (task.instance, task.task_definition);
        let wait = now - task.created_at;
        for c in &self.scenario.task_definitions[td].containers {
            let cached = &mut self.cluster.instances[i].cached_images;
            if !cached.contains(&c.image) {
                cached.push(c.image);
            }
        }
        let s = self.tasks[t].service;
        self.record(
            EventKind::TaskRunning,
            Some(s),
            Some(t),
            Some(i),
            format!("RUNNING {} after placement", format_seconds(wait)),
        );
        let generation = self.tasks[t].timer.arm();
        self.queue.schedule_in(HEALTHY_AFTER_RUNNING, Event::TaskHealthy { task: t as u32, generation });
    }

    /// Asks a task to stop. Before RUNNING there are no containers to signal and it stops at
    /// once; a RUNNING task gets SIGTERM and stops when its containers exit, or at `stopTimeout`
    /// when they do not (SIGKILL).
    fn stop_task(&mut self, t: usize, reason: StopReason) {
        if !self.tasks[t].desired_running {
            return;
        }
        self.tasks[t].desired_running = false;
        self.tasks[t].stop_reason = Some(reason);
        if self.tasks[t].status < TaskStatus::Running {
            self.finish_stop(t);
            return;
        }
        self.tasks[t].status = TaskStatus::Stopping;
        let td = self.tasks[t].task_definition;
        let stop_timeout = self.scenario.task_definitions[td].stop_timeout;
        let exit = self.scenario.shutdown_times[td].sample_duration(&mut self.rng.stop).min(stop_timeout);
        let (s, i) = (self.tasks[t].service, self.tasks[t].instance);
        self.record(EventKind::TaskStopping, Some(s), Some(t), Some(i), reason.text().to_string());
        let generation = self.tasks[t].timer.arm();
        self.queue.schedule_in(exit, Event::TaskStopped { task: t as u32, generation });
        self.request_schedule();
    }

    /// STOPPED: the task's resources and ports go back to its instance.
    fn finish_stop(&mut self, t: usize) {
        let now = self.now();
        let task = &mut self.tasks[t];
        task.status = TaskStatus::Stopped;
        task.stopped_at = Some(now);
        task.timer.cancel();
        let (s, i, td) = (task.service, task.instance, task.task_definition);
        let reason = task.stop_reason.map_or("", |r| r.text());
        let req = &self.requirements[td];
        let inst = &mut self.cluster.instances[i];
        inst.reserved_cpu -= req.cpu;
        inst.reserved_memory -= req.memory;
        if req.needs_eni {
            inst.enis_in_use -= 1;
        }
        for &p in &self.tasks[t].host_ports {
            inst.release_port(p);
        }
        inst.static_ports_in_use -= self.tasks[t].static_ports;
        inst.tasks.retain(|&x| x != t);
        let drained = inst.status == InstanceStatus::Draining && inst.tasks.is_empty();
        let group = self.services[s].group;
        self.cluster.remove_group_task(group, i);
        self.services[s].tasks.retain(|&x| x != t);
        self.services[s].tasks_stopped += 1;
        self.record(EventKind::TaskStopped, Some(s), Some(t), Some(i), reason.to_string());
        if drained {
            self.record_drained(i);
        }
        self.capacity_grew();
    }

    // ----- the service schedulers ------------------------------------------------------------

    /// DAEMON services first: their tasks launch first and stop last (ECS-DG:ecs_services.md).
    fn run_schedulers(&mut self) {
        for s in 0..self.services.len() {
            if self.services[s].scheduling_strategy == SchedulingStrategy::Daemon {
                self.daemon_pass(s);
            }
        }
        for s in 0..self.services.len() {
            if self.services[s].scheduling_strategy == SchedulingStrategy::Replica {
                self.replica_pass(s);
            }
        }
    }

    fn counts(&self, s: usize) -> TaskCounts {
        let mut c = TaskCounts::default();
        for &t in &self.services[s].tasks {
            let task = &self.tasks[t];
            if !task.desired_running {
                c.stopping += 1;
            } else if self.cluster.instances[task.instance].status == InstanceStatus::Active {
                c.keep += 1;
                c.keep_healthy += u32::from(task.is_healthy());
            } else {
                c.replace += 1;
                c.replace_healthy += u32::from(task.is_healthy());
            }
        }
        c
    }

    fn replica_pass(&mut self, s: usize) {
        let desired = self.services[s].desired_count;
        let config = self.services[s].deployment_configuration;
        let counts = self.counts(s);
        let plan = replica_plan(desired, config, counts);

        if plan.scale_in > 0 {
            let candidates: Vec<StopCandidate> = self.services[s]
                .tasks
                .iter()
                .copied()
                .filter(|&t| {
                    let task = &self.tasks[t];
                    task.desired_running && self.cluster.instances[task.instance].status == InstanceStatus::Active
                })
                .map(|t| StopCandidate {
                    task: t,
                    instance: self.tasks[t].instance,
                    running: self.tasks[t].status == TaskStatus::Running,
                })
                .collect();
            let victims = placement::choose_tasks_to_stop(
                &self.cluster,
                self.services[s].group,
                &self.services[s].placement.strategies,
                &candidates,
                plan.scale_in as usize,
                &mut self.rng.placement,
            );
            for t in victims {
                self.stop_task(t, StopReason::ScalingActivity);
            }
        }

        let on_draining: Vec<usize> = self.services[s]
            .tasks
            .iter()
            .copied()
            .filter(|&t| {
                self.tasks[t].desired_running
                    && self.cluster.instances[self.tasks[t].instance].status != InstanceStatus::Active
            })
            .collect();
        let mut healthy_to_stop = plan.stop_healthy_replace;
        for t in on_draining {
            if !self.tasks[t].is_healthy() {
                self.stop_task(t, StopReason::InstanceDraining);
            } else if healthy_to_stop > 0 {
                healthy_to_stop -= 1;
                self.stop_task(t, StopReason::InstanceDraining);
            }
        }

        self.start_replicas(s, plan.start);

        let blocked = plan.is_idle()
            && counts.replace > 0
            && counts.stopping == 0
            && counts.keep == counts.keep_healthy
            && self.services[s].unplaced == 0;
        if blocked && !self.services[s].blocked {
            let detail = format!(
                "service {} was unable to stop or start tasks during a deployment because of the service deployment configuration. Update the minimumHealthyPercent or maximumPercent value and try again.",
                self.services[s].name
            );
            self.record(EventKind::DeploymentBlocked, Some(s), None, None, detail);
        }
        self.services[s].blocked = blocked;
        self.check_steady_state(s);
    }

    /// Places `n` new tasks of a service, stopping at the first that fits nowhere.
    fn start_replicas(&mut self, s: usize, n: u32) {
        self.services[s].unplaced = 0;
        if n == 0 {
            return;
        }
        if self.services[s].failed_at_epoch == Some(self.capacity_epoch) {
            self.services[s].unplaced = n;
            return;
        }
        let (td, group) = (self.services[s].task_definition, self.services[s].group);
        for k in 0..n {
            let result = placement::place(
                &self.cluster,
                &mut self.services[s].placement,
                group,
                &self.requirements[td],
                &mut self.rng.placement,
            );
            match result {
                Ok(i) => self.launch_task(s, i),
                Err(failure) => {
                    self.services[s].unplaced = n - k;
                    self.services[s].placement_failures += u64::from(n - k);
                    self.services[s].failed_at_epoch = Some(self.capacity_epoch);
                    self.report_placement_failure(s, &failure);
                    return;
                }
            }
        }
        self.services[s].failed_at_epoch = None;
        self.services[s].last_failure_event = None;
    }

    /// Records a placement failure, unless the same message went out less than six hours ago.
    fn report_placement_failure(&mut self, s: usize, failure: &PlacementFailure) {
        let now = self.now();
        let message = failure.service_event(&self.services[s].name, &self.cluster);
        if let Some((last, at)) = &self.services[s].last_failure_event
            && *last == message
            && now - at < EVENT_REPEAT_AFTER
        {
            return;
        }
        self.services[s].last_failure_event = Some((message.clone(), now));
        let detail = format!("{} - {message}", failure.reason());
        self.record(EventKind::PlacementFailed, Some(s), None, failure.closest(), detail);
    }

    /// One task on every ACTIVE instance that meets the constraints; none on a DRAINING one once
    /// its other tasks are gone (ECS-DG:ecs_services.md, "Daemon").
    fn daemon_pass(&mut self, s: usize) {
        let group = self.services[s].group;
        let td = self.services[s].task_definition;
        let mut desired = 0;
        let mut unplaced = 0;
        let mut failure = None;
        for i in 0..self.cluster.instances.len() {
            let status = self.cluster.instances[i].status;
            let live: Option<usize> = self.cluster.instances[i]
                .tasks
                .iter()
                .copied()
                .find(|&t| self.tasks[t].service == s && self.tasks[t].desired_running);
            match status {
                InstanceStatus::Active => {
                    if self.cluster.group_tasks_on(group, i) > 0 {
                        // A daemon task is here (perhaps still stopping): keep it while the
                        // instance meets the constraints without it.
                        if !self.services[s].placement.still_met_with_own_task(&self.cluster, group, i) {
                            if let Some(t) = live {
                                self.stop_task(t, StopReason::DaemonConstraint);
                            }
                        } else if live.is_some() {
                            desired += 1;
                        }
                        continue;
                    }
                    if self.services[s].placement.first_unmet(&self.cluster, group, i).is_some() {
                        continue;
                    }
                    desired += 1;
                    match placement::check_instance(
                        &self.cluster,
                        &mut self.services[s].placement,
                        group,
                        &self.requirements[td],
                        i,
                    ) {
                        Ok(()) => self.launch_task(s, i),
                        Err(f) => {
                            unplaced += 1;
                            failure.get_or_insert(f);
                        }
                    }
                }
                InstanceStatus::Draining => {
                    if let Some(t) = live {
                        let others = self.cluster.instances[i].tasks.iter().any(|&x| self.tasks[x].service != s);
                        if !others {
                            self.stop_task(t, StopReason::InstanceDraining);
                        }
                    }
                }
                _ => {}
            }
        }
        self.services[s].desired_count = desired;
        self.services[s].unplaced = unplaced;
        match failure {
            Some(f) => {
                self.services[s].placement_failures += u64::from(unplaced);
                self.report_placement_failure(s, &f);
            }
            None => self.services[s].last_failure_event = None,
        }
        self.check_steady_state(s);
    }

    /// "service X has reached a steady state." when every desired task runs and is healthy, with
    /// nothing pending, stopping or waiting to be replaced.
    fn check_steady_state(&mut self, s: usize) {
        let c = self.counts(s);
        let svc = &self.services[s];
        let steady = c.keep == svc.desired_count
            && c.keep_healthy == c.keep
            && c.replace == 0
            && c.stopping == 0
            && svc.unplaced == 0;
        if steady && !svc.steady {
            let detail = format!("service {} has reached a steady state.", svc.name);
            self.record(EventKind::SteadyState, Some(s), None, None, detail);
        }
        self.services[s].steady = steady;
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
                self.request_schedule();
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
            Action::TerminateInstance { instance } => {
                if let Some(i) = self.find_instance(&instance) {
                    self.terminate_instance(i);
                }
            }
        }
    }

    // ----- reporting -------------------------------------------------------------------------

    fn service_sample(&self, s: usize) -> ServiceSample {
        let svc = &self.services[s];
        let req = &self.requirements[svc.task_definition];
        let (mut running, mut starting, mut stopping) = (0, 0, 0);
        let mut hosts: Vec<usize> = Vec::new();
        for &t in &svc.tasks {
            let task = &self.tasks[t];
            match task.status {
                TaskStatus::Running if task.desired_running => running += 1,
                TaskStatus::Provisioning | TaskStatus::Pending => starting += 1,
                TaskStatus::Running | TaskStatus::Stopping => stopping += 1,
                TaskStatus::Stopped => {}
            }
            hosts.push(task.instance);
        }
        hosts.sort_unstable();
        hosts.dedup();
        let (mut cpu, mut mem, mut active) = (0u64, 0u64, 0);
        for inst in &self.cluster.instances {
            if inst.status.is_registered() {
                cpu += u64::from(inst.registered_cpu);
                mem += u64::from(inst.registered_memory);
            }
            active += u32::from(inst.status == InstanceStatus::Active);
        }
        let n = svc.tasks.len() as f64;
        let pct = |used: f64, total: u64| if total == 0 { 0.0 } else { 100.0 * used / total as f64 };
        ServiceSample {
            time: self.now(),
            service: s,
            desired: svc.desired_count,
            running,
            pending: starting + svc.unplaced,
            unplaced: svc.unplaced,
            stopping,
            hosts: hosts.len() as u32,
            instances: active,
            cpu_reserved_pct: pct(n * f64::from(req.cpu), cpu),
            mem_reserved_pct: pct(n * f64::from(req.memory), mem),
        }
    }

    fn sample(&mut self) {
        for s in 0..self.services.len() {
            let sample = self.service_sample(s);
            self.services[s].pending_task_minutes += u64::from(sample.pending);
            self.recorder.sample(sample);
        }
    }

    fn summary(&self) -> Vec<ServiceSummary> {
        (0..self.services.len())
            .map(|s| {
                let x = self.service_sample(s);
                let svc = &self.services[s];
                ServiceSummary {
                    service: svc.name.clone(),
                    scheduling_strategy: svc.scheduling_strategy.as_str(),
                    desired: x.desired,
                    running: x.running,
                    pending: x.pending,
                    unplaced: x.unplaced,
                    placement_failures: svc.placement_failures,
                    tasks_started: svc.tasks_started,
                    tasks_stopped: svc.tasks_stopped,
                    instances: x.instances,
                    hosts: x.hosts,
                    cpu_reserved_pct: x.cpu_reserved_pct,
                    mem_reserved_pct: x.mem_reserved_pct,
                    pending_task_minutes: svc.pending_task_minutes,
                }
            })
            .collect()
    }
}
