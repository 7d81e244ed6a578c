//! Task lifecycle: placement onto an instance, PROVISIONING, PENDING, RUNNING, stopping.

use super::*;

/// What a service's minute sample and its scheduler's counts read of a task, kept in one dense
/// array apart from the tasks. A task with its serving state inline spans a dozen cache lines,
/// far apart from its service's other tasks; these copies sit several to a line, and each change
/// to one moves the task between classes of its service's [`TaskTally`].
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) struct TaskState {
    pub(super) class: TaskClass,
    deployment: u32,
}

/// What the counts ask of a task, and what a class of tasks in a [`TaskTally`] stands for.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) struct TaskClass {
    pub(super) status: TaskStatus,
    pub(super) desired_running: bool,
    /// As [`Task::is_healthy`].
    pub(super) healthy: bool,
    /// Whether the task lives on an ACTIVE instance: one on a DRAINING instance is replaced.
    /// False once STOPPED, so that a stopped task's copy does not follow its instance.
    pub(super) on_active_instance: bool,
}

impl TaskState {
    pub(super) fn of(task: &Task, cluster: &Cluster) -> Self {
        TaskState {
            class: TaskClass {
                status: task.status,
                desired_running: task.desired_running,
                healthy: task.is_healthy(),
                on_active_instance: task.status != TaskStatus::Stopped
                    && cluster.instances[task.instance].status == InstanceStatus::Active,
            },
            deployment: task.deployment as u32,
        }
    }

    pub(super) fn deployment(self) -> usize {
        self.deployment as usize
    }
}

/// The statuses of a task its service still counts, in class order.
const LIVE_STATUSES: [TaskStatus; 5] = [
    TaskStatus::Provisioning,
    TaskStatus::Pending,
    TaskStatus::Running,
    TaskStatus::Deactivating,
    TaskStatus::Stopping,
];
const CLASSES: usize = LIVE_STATUSES.len() << 3;

impl TaskClass {
    /// The class's index in a tally, `None` once STOPPED: a stopped task has left its service.
    fn index(self) -> Option<usize> {
        let status = LIVE_STATUSES.iter().position(|&x| x == self.status)?;
        Some(
            status << 3
                | usize::from(self.desired_running) << 2
                | usize::from(self.healthy) << 1
                | usize::from(self.on_active_instance),
        )
    }

    fn of_index(c: usize) -> Self {
        TaskClass {
            status: LIVE_STATUSES[c >> 3],
            desired_running: c & 4 != 0,
            healthy: c & 2 != 0,
            on_active_instance: c & 1 != 0,
        }
    }
}

/// A service's live tasks (all but STOPPED), counted by deployment and by class: what the
/// minute's sample and the scheduler's counts ask of each task (its status, whether it is meant
/// to run, healthy, on an ACTIVE instance). Both ask again and again, the sample for every
/// service each minute and the scheduler at every pass, of hundreds of tasks a service; the tally
/// answers from a few dozen counters, kept as each task's state changes.
#[derive(Clone, Debug, Default)]
pub(super) struct TaskTally {
    /// By deployment, then by [`TaskClass::index`].
    by_deployment: Vec<[u32; CLASSES]>,
}

/// Two tallies are equal when they count the same tasks in each class, whatever deployments
/// they have rows for.
impl PartialEq for TaskTally {
    fn eq(&self, other: &Self) -> bool {
        self.classes().eq(other.classes())
    }
}

impl TaskTally {
    fn add(&mut self, state: TaskState) {
        let Some(c) = state.class.index() else { return };
        let d = state.deployment();
        if self.by_deployment.len() <= d {
            self.by_deployment.resize(d + 1, [0; CLASSES]);
        }
        self.by_deployment[d][c] += 1;
    }

    fn remove(&mut self, state: TaskState) {
        if let Some(c) = state.class.index() {
            self.by_deployment[state.deployment()][c] -= 1;
        }
    }

    /// Each class that holds tasks: its deployment, what it stands for, how many tasks.
    pub(super) fn classes(&self) -> impl Iterator<Item = (usize, TaskClass, u32)> + '_ {
        self.by_deployment.iter().enumerate().flat_map(|(d, classes)| {
            classes.iter().enumerate().filter(|&(_, &n)| n > 0).map(move |(c, &n)| (d, TaskClass::of_index(c), n))
        })
    }

    /// The tally of `tasks`, from their states.
    pub(super) fn of(tasks: &[usize], states: &[TaskState]) -> Self {
        let mut tally = TaskTally::default();
        for &t in tasks {
            tally.add(states[t]);
        }
        tally
    }
}

impl World<'_> {
    /// Brings the task's copy in `task_states`, and its service's tally, up to date; called after
    /// each change to what it copies.
    pub(super) fn task_state_changed(&mut self, t: usize) {
        let state = TaskState::of(&self.tasks[t], &self.cluster);
        let old = std::mem::replace(&mut self.task_states[t], state);
        if old != state {
            let tally = &mut self.task_tallies[self.tasks[t].service];
            tally.remove(old);
            tally.add(state);
        }
    }

    /// Sets instance `i`'s status; its tasks' copies follow.
    pub(super) fn set_instance_status(&mut self, i: usize, status: InstanceStatus) {
        self.cluster.instances[i].status = status;
        for k in 0..self.cluster.instances[i].tasks.len() {
            self.task_state_changed(self.cluster.instances[i].tasks[k]);
        }
    }

    /// Places a new task of service `s` on instance `i`: reserves its resources and ports, then
    /// starts PROVISIONING.
    pub(super) fn launch_task(&mut self, s: usize, i: usize, provider: Option<usize>) {
        let now = self.now();
        let td = self.services[s].task_definition;
        let req = &self.requirements[td];
        let t = self.tasks.len();
        self.task_changes += 1;
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
        self.instance_tasks_changed(i);
        self.count_replica_task(s, i, 1);
        self.tasks.push(Task {
            id: format!("{}-{number}", self.services[s].name),
            service: s,
            deployment: self.services[s].primary(),
            provider,
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
            serving: None,
        });
        let group = self.services[s].group;
        self.add_to_footprint(s, t);
        self.cluster.add_group_task(group, i);
        self.billed_tasks.push(billing::BilledTask::of(&self.tasks[t]));
        let state = TaskState::of(&self.tasks[t], &self.cluster);
        self.task_states.push(state);
        self.task_tallies[s].add(state);
        self.services[s].tasks.push(t);
        self.services[s].tasks_started += 1;
        let ports = &self.tasks[t].host_ports;
        let port_text = if ports.is_empty() {
            String::new()
        } else {
            format!(", host ports {}", ports.iter().map(u16::to_string).collect::<Vec<_>>().join(" "))
        };
        let host = match provider {
            Some(p) if self.cluster.instances[i].fargate => self.scenario.capacity_providers[p].name.clone(),
            _ => self.cluster.instances[i].id.clone(),
        };
        let detail = format!(
            "{} placed on {host} ({}){port_text}",
            self.scenario.task_definitions[td].arn_name(),
            self.cluster.availability_zone_of(i)
        );
        self.record(EventKind::TaskPlaced, Some(s), Some(t), Some(i), detail);
        if self.dynamic_constraints {
            self.capacity_epoch += 1;
        }
        if needs_eni {
            // Fargate's PROVISIONING takes capacity and the ENI; on EC2 only the ENI.
            let provisioning = if self.cluster.instances[i].fargate {
                &self.scenario.fargate.provisioning_time
            } else {
                &self.scenario.eni_attach_time
            };
            let delay = provisioning.sample_duration(&mut self.rng.launch);
            let generation = self.tasks[t].timer.arm();
            self.queue.schedule_in(delay, Event::TaskProvisioned { task: t as u32, generation });
        } else {
            self.begin_pending(t);
        }
    }

    /// PENDING: the agent pulls every container's image and starts the containers. Pulls run in
    /// parallel; the task is RUNNING when its slowest container is.
    pub(super) fn begin_pending(&mut self, t: usize) {
        self.tasks[t].status = TaskStatus::Pending;
        self.task_state_changed(t);
        let i = self.tasks[t].instance;
        if self.cluster.instances[i].fargate {
            // Fargate bills from the start of the image pull.
            self.cluster.instances[i].launched_at = self.now();
            self.instance_billing_changed(i);
        }
        if self.pull_denial(t).is_some() {
            // The registry refuses the credentials: the agent gives up after the manifest request
            // and one retry, about 1.4 s [assume: two 0.2 s round trips and a 1 s retry delay].
            let generation = self.tasks[t].timer.arm();
            self.queue.schedule_in(1_400, Event::PullFailed { task: t as u32, generation });
            return;
        }
        let td = &self.scenario.task_definitions[self.tasks[t].task_definition];
        let inst = &self.cluster.instances[i];
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

    /// Why the task's images cannot be pulled, if they cannot: a private ECR image needs the
    /// execution role, or on EC2 without one the instance role, to allow the pull
    /// (AWS-SEMANTICS.md §10).
    fn pull_denial(&self, t: usize) -> Option<String> {
        let td = &self.scenario.task_definitions[self.tasks[t].task_definition];
        let inst = &self.cluster.instances[self.tasks[t].instance];
        let instance_role =
            if inst.fargate { None } else { self.scenario.auto_scaling_groups[inst.group].instance_role.as_ref() };
        let who = crate::model::iam::pull_identity(td.execution_role.as_ref(), instance_role, inst.fargate);
        td.containers.iter().find_map(|c| {
            let image = &self.scenario.images[c.image];
            crate::model::iam::pull_denied(&image.name, image.registry, who, inst.fargate)
        })
    }

    /// CannotPullContainerError: the task goes from PENDING to STOPPED, and the service throttle
    /// delays the next launch (ECS-DG:task_cannot_pull_image.md, ECS-DG:service-throttle-logic.md).
    pub(super) fn pull_failed(&mut self, t: usize) {
        let now = self.now();
        let s = self.tasks[t].service;
        let i = self.tasks[t].instance;
        let why = self.pull_denial(t).unwrap_or_default();
        self.record(EventKind::ImagePullFailed, Some(s), Some(t), Some(i), why);
        self.tasks[t].desired_running = false;
        self.task_state_changed(t);
        self.tasks[t].stop_reason = Some(StopReason::CannotPullContainer);
        self.deployment_task_failed(t);
        self.finish_stop(t);
        let until = self.services[s].throttle.failed(now);
        let message = format!(
            "service {} is unable to consistently start tasks successfully. For more information, see the Troubleshooting section.",
            self.services[s].name
        );
        let fresh = self.services[s].last_throttle_event.is_none_or(|at| now >= at + EVENT_REPEAT_AFTER);
        if fresh {
            self.services[s].last_throttle_event = Some(now);
            self.record(EventKind::ServiceThrottled, Some(s), None, None, message);
        }
        self.queue.schedule(until, Event::Unthrottle { service: s as u32 });
        self.request_service_schedule(s);
    }

    pub(super) fn task_started(&mut self, t: usize) {
        let now = self.now();
        let task = &mut self.tasks[t];
        task.status = TaskStatus::Running;
        task.started_at = Some(now);
        let (i, td) = (task.instance, task.task_definition);
        let wait = now - task.created_at;
        self.task_state_changed(t);
        for c in &self.scenario.task_definitions[td].containers {
            let cached = &mut self.cluster.instances[i].cached_images;
            if !cached.contains(&c.image) {
                cached.push(c.image);
            }
        }
        let s = self.tasks[t].service;
        self.services[s].throttle.reset();
        self.record(
            EventKind::TaskRunning,
            Some(s),
            Some(t),
            Some(i),
            format!("RUNNING {} after placement", format_seconds(wait)),
        );
        if self.scenario.services[s].load_balancer.is_some() {
            // Behind a load balancer the task is healthy when its target is (ECS-DG:
            // service_definition_parameters.md, minimumHealthyPercent).
            self.register_target(t);
        } else {
            let generation = self.tasks[t].timer.arm();
            self.queue.schedule_in(HEALTHY_AFTER_RUNNING, Event::TaskHealthy { task: t as u32, generation });
        }
    }

    /// Asks a task to stop. Before RUNNING there are no containers to signal and it stops at
    /// once; a RUNNING task gets SIGTERM and stops when its containers exit, or at `stopTimeout`
    /// when they do not (SIGKILL).
    pub(super) fn stop_task(&mut self, t: usize, reason: StopReason) {
        if !self.tasks[t].desired_running {
            return;
        }
        self.tasks[t].desired_running = false;
        self.task_state_changed(t);
        self.task_changes += 1;
        self.tasks[t].stop_reason = Some(reason);
        if self.tasks[t].status < TaskStatus::Running {
            self.finish_stop(t);
            return;
        }
        if !self.begin_deregistration(t) {
            self.signal_stop(t);
        }
        self.request_service_schedule(self.tasks[t].service);
    }

    /// STOPPING: the agent sends SIGTERM; the task stops when its containers exit, or at
    /// `stopTimeout` (SIGKILL).
    pub(super) fn signal_stop(&mut self, t: usize) {
        self.tasks[t].status = TaskStatus::Stopping;
        self.task_state_changed(t);
        let td = self.tasks[t].task_definition;
        let stop_timeout = self.scenario.task_definitions[td].stop_timeout;
        let exit = self.scenario.shutdown_times[td].sample_duration(&mut self.rng.stop).min(stop_timeout);
        let (s, i) = (self.tasks[t].service, self.tasks[t].instance);
        let reason = self.tasks[t].stop_reason.map_or("", |r| r.text()).to_string();
        self.record(EventKind::TaskStopping, Some(s), Some(t), Some(i), reason);
        let generation = self.tasks[t].timer.arm();
        self.queue.schedule_in(exit, Event::TaskStopped { task: t as u32, generation });
    }

    /// STOPPED: the task's resources and ports go back to its instance.
    pub(super) fn finish_stop(&mut self, t: usize) {
        let now = self.now();
        self.stop_serving(t);
        let task = &mut self.tasks[t];
        task.status = TaskStatus::Stopped;
        task.stopped_at = Some(now);
        task.timer.cancel();
        let (s, i, td) = (task.service, task.instance, task.task_definition);
        let reason = task.stop_reason.map_or("", |r| r.text());
        self.task_state_changed(t);
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
        self.instance_tasks_changed(i);
        self.count_replica_task(s, i, -1);
        let group = self.services[s].group;
        self.cluster.remove_group_task(group, i);
        self.remove_from_footprint(s, t);
        self.services[s].tasks.retain(|&x| x != t);
        self.services[s].tasks_stopped += 1;
        self.record(EventKind::TaskStopped, Some(s), Some(t), Some(i), reason.to_string());
        if drained {
            self.record_drained(i);
        }
        self.release_fargate_vm(i);
        self.capacity_grew();
    }

    /// Task `t` of service `s` is placed: before the cluster counts it in the service's task
    /// group, so that an instance without the group's tasks yet becomes a host.
    fn add_to_footprint(&mut self, s: usize, t: usize) {
        let (i, td) = (self.tasks[t].instance, self.tasks[t].task_definition);
        if self.cluster.instances[i].fargate {
            return;
        }
        let req = &self.requirements[td];
        let first = self.cluster.group_tasks_on(self.services[s].group, i) == 0;
        let footprint = &mut self.services[s].footprint;
        footprint.hosts += u32::from(first);
        footprint.reserved_cpu += u64::from(req.cpu);
        footprint.reserved_memory += u64::from(req.memory);
    }

    /// Task `t` of service `s` has stopped: after the cluster no longer counts it in the
    /// service's task group, so that an instance left without the group's tasks stops hosting.
    fn remove_from_footprint(&mut self, s: usize, t: usize) {
        let (i, td) = (self.tasks[t].instance, self.tasks[t].task_definition);
        if self.cluster.instances[i].fargate {
            return;
        }
        let req = &self.requirements[td];
        let last = self.cluster.group_tasks_on(self.services[s].group, i) == 0;
        let footprint = &mut self.services[s].footprint;
        footprint.hosts -= u32::from(last);
        footprint.reserved_cpu -= u64::from(req.cpu);
        footprint.reserved_memory -= u64::from(req.memory);
    }
}
