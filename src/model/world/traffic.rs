//! Requests through the load balancer: arrivals, routing to targets, service by the tasks,
//! health checks, deregistration draining, and the per-minute traffic metrics.

use super::*;

use rand::RngExt;

use crate::engine::processor_sharing::{Admission, ProcessorSharing};
use crate::model::alb::{CONNECTION_TIMEOUT, Target, TargetGroup, TargetState, Transition};
use crate::model::cloudwatch::StatSet;
use crate::model::task::Serving;
use crate::model::task_definition::NetworkMode;
use crate::model::workload::Arrivals;
use crate::record::{ExponentialMixture, LatencyHistogram};

/// A quantity integrated over simulated time, e.g. the CPU the running tasks reserve: its rate
/// changes at events, and the integral since the last reading is taken once a minute.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct Integral {
    rate: f64,
    since: SimTime,
    acc: f64,
}

impl Integral {
    fn advance(&mut self, now: SimTime) {
        self.acc += self.rate * now.saturating_sub(self.since) as f64;
        self.since = now;
    }

    pub(super) fn add_rate(&mut self, now: SimTime, delta: f64) {
        self.advance(now);
        self.rate += delta;
    }

    pub(super) fn rate(&self) -> f64 {
        self.rate
    }

    /// The integral since the last take, in rate × milliseconds.
    pub(super) fn take(&mut self, now: SimTime) -> f64 {
        self.advance(now);
        std::mem::take(&mut self.acc)
    }
}

/// One service's traffic, for the minute being recorded and for the whole run.
#[derive(Debug, Default)]
pub(super) struct ServiceTraffic {
    pub(super) minute_requests: u64,
    pub(super) minute_errors: u64,
    /// The minute's response times of successful requests, until the minute's percentiles are
    /// taken and they go into `latency` (see `record_response`).
    minute_responses: Vec<u64>,
    /// The fluid fidelity's minute: each second's mean response times.
    pub(super) minute_means: ExponentialMixture,
    pub(super) minute_busy_cpu_ms: f64,
    /// The service's targets in state `healthy`, in every target group.
    pub(super) healthy_targets: u32,
    pub(super) requests: u64,
    pub(super) errors: u64,
    pub(super) latency: LatencyHistogram,
    pub(super) wait_ms_total: f64,
    pub(super) response_ms_total: f64,
    pub(super) slo_minutes_met: u64,
    pub(super) minutes: u64,
    pub(super) busy_cpu_ms: f64,
    pub(super) reserved_cpu_ms: f64,
    pub(super) used_mem: f64,
    pub(super) reserved_mem: f64,
    /// vCPUs reserved by the service's tasks that serve, integrated over time.
    pub(super) reserved_vcpu: Integral,
    /// MiB in use by the service's running tasks, integrated over time.
    pub(super) mem_in_use: Integral,
    /// MiB reserved by the service's running tasks, integrated over time.
    pub(super) mem_reserved: Integral,
    /// Requests in flight in the service's tasks, integrated over time.
    pub(super) in_flight: Integral,
    /// The minute's per-task CPU and memory utilization, %, as CloudWatch's statistics of one
    /// sample per task: a cohort adds its members' samples in one step.
    pub(super) task_cpu_pct: Option<StatSet>,
    pub(super) task_mem_pct: Option<StatSet>,
    /// The minute's mean requests in flight per serving task.
    pub(super) in_flight_per_task: Option<f64>,
    /// Requests whose connection the security group dropped, waiting out the connection timeout.
    pub(super) connecting: u64,
}

impl ServiceTraffic {
    /// Records a successful response time. The minute keeps its responses as a list, whose
    /// percentiles are order statistics ([`LatencyHistogram::percentiles_of`]), and they go into
    /// the run's histogram together at the minute's end: a histogram is tens of kilobytes, so a
    /// minute's histogram to fill, scan and clear, or a record into a cold part of the run's
    /// for every request, costs more than the list.
    fn record_response(&mut self, ms: u64) {
        self.minute_responses.push(ms);
    }

    /// Puts the minute's response times into the run's histogram.
    pub(super) fn flush_responses(&mut self) {
        for &ms in &self.minute_responses {
            self.latency.record(ms);
        }
        self.minute_responses.clear();
    }

    /// Successful responses so far, over the run.
    pub(super) fn answered(&self) -> u64 {
        self.latency.count() + self.minute_responses.len() as u64 + self.minute_means.count()
    }

    /// The run's histogram with the minute not yet folded in, if it holds fluid responses: a
    /// run that ends between two minutes' samples still counts its last seconds.
    fn latency_so_far(&self) -> std::borrow::Cow<'_, LatencyHistogram> {
        if self.minute_means.count() == 0 {
            return std::borrow::Cow::Borrowed(&self.latency);
        }
        let mut latency = self.latency.clone();
        latency.record_mixture(&self.minute_means);
        std::borrow::Cow::Owned(latency)
    }
}

/// A workload while the simulation runs.
pub(super) struct WorkloadState {
    pub(super) arrivals: Arrivals,
    pub(super) rng: SimRng,
    /// The service whose tasks serve the workload's target group.
    pub(super) service: Option<usize>,
}

/// Docker gives a container with no CPU units (0, 1 or none) 2 shares (agent 1.2.0+,
/// ECS-DG:task_definition_parameters.md).
const MIN_CPU_SHARES: u32 = 2;

impl World<'_> {
    pub(super) fn start_workloads(&mut self) {
        for (w, spec) in self.scenario.workloads.iter().enumerate() {
            let service = self
                .scenario
                .services
                .iter()
                .position(|s| s.load_balancer.is_some_and(|lb| lb.target_group == spec.target_group));
            let mut state = WorkloadState {
                arrivals: Arrivals::new(spec.arrivals.clone()),
                rng: self.streams.indexed_stream("arrivals", w as u64),
                service,
            };
            // Arrivals before the traffic starts are drawn and dropped, so that the process
            // after it is the same one a run from 0 would see.
            let mut first = state.arrivals.next(&mut state.rng);
            while let Some(t) = first
                && t < spec.start
            {
                first = state.arrivals.next(&mut state.rng);
            }
            if let Some(t) = first
                && t <= self.scenario.duration
                && !self.fluid()
            {
                self.queue.schedule(t, Event::Arrival { workload: w as u32 });
            }
            self.workloads.push(state);
        }
    }

    // ----- targets ---------------------------------------------------------------------------

    /// The port the target group sends to, by network mode: the host port mapped to the
    /// container port (bridge), the container port itself (host, awsvpc).
    fn target_port(&self, t: usize) -> Option<u16> {
        let s = self.tasks[t].service;
        let lb = self.scenario.services[s].load_balancer?;
        let td = &self.scenario.task_definitions[self.tasks[t].task_definition];
        // A new revision may order its containers differently: find the container by name.
        let name =
            &self.scenario.task_definitions[self.scenario.services[s].task_definition].containers[lb.container].name;
        let lb_container = td.containers.iter().position(|c| &c.name == name)?;
        match td.network_mode {
            NetworkMode::Host | NetworkMode::Awsvpc => Some(lb.container_port),
            NetworkMode::Bridge => {
                // A task holds its static host ports first, then its dynamic ones in the order of
                // the mappings.
                let mut dynamics = 0;
                let task_ports = &self.tasks[t].host_ports;
                let n_static = self.tasks[t].static_ports;
                for (c, container) in td.containers.iter().enumerate() {
                    for m in &container.port_mappings {
                        let port = match m.host_port {
                            Some(p) => Some(p),
                            None => {
                                dynamics += 1;
                                task_ports.get(n_static + dynamics - 1).copied()
                            }
                        };
                        if c == lb_container && m.container_port == lb.container_port {
                            return port;
                        }
                    }
                }
                None
            }
        }
    }

    /// The target group a task registers with: its deployment's.
    pub(super) fn task_target_group(&self, t: usize) -> Option<usize> {
        let task = &self.tasks[t];
        self.services[task.service].deployments[task.deployment].target_group
    }

    /// Healthy targets of a service, over every target group its task sets use: kept as targets
    /// change (see [`World::change_target`]) rather than counted over the groups each minute.
    fn service_healthy_targets(&self, s: usize) -> u32 {
        self.traffic[s].healthy_targets
    }

    /// Service `s`'s healthy targets counted afresh over the target groups its deployments use;
    /// a target there is of one of its tasks, since a task registers only in its own
    /// deployment's group (see `register_target`).
    pub(super) fn recount_healthy_targets(&self, s: usize) -> u32 {
        let mut groups: Vec<usize> = self.services[s].deployments.iter().filter_map(|d| d.target_group).collect();
        groups.sort_unstable();
        groups.dedup();
        groups
            .iter()
            .map(|&g| {
                self.target_groups[g]
                    .targets()
                    .iter()
                    .filter(|x| x.state == TargetState::Healthy && self.billed_tasks[x.task].service() == s)
                    .count() as u32
            })
            .sum()
    }

    /// Changes the target in slot `k` of group `tg` by `change`; its service's count of healthy
    /// targets follows, whether the target turns healthy, stops being healthy or leaves.
    pub(super) fn change_target<R>(&mut self, tg: usize, k: usize, change: impl FnOnce(&mut TargetGroup) -> R) -> R {
        let target = self.target_groups[tg].target(k);
        let (task, was_healthy) = (target.task, target.state == TargetState::Healthy);
        let result = change(&mut self.target_groups[tg]);
        let is_healthy =
            self.target_groups[tg].targets().get(k).is_some_and(|x| x.task == task && x.state == TargetState::Healthy);
        let healthy = &mut self.traffic[self.billed_tasks[task].service()].healthy_targets;
        match (was_healthy, is_healthy) {
            (false, true) => *healthy += 1,
            (true, false) => *healthy -= 1,
            _ => {}
        }
        result
    }

    /// Whether the targets' security group admits the load balancer on a port.
    fn reachable(&self, port: u16) -> bool {
        self.scenario.alb_ingress.as_ref().is_none_or(|ranges| ranges.iter().any(|&(lo, hi)| (lo..=hi).contains(&port)))
    }

    /// A task of a service behind a load balancer reached RUNNING: ECS registers its port as a
    /// target, and the task starts serving once its application is ready.
    pub(super) fn register_target(&mut self, t: usize) {
        let Some(port) = self.target_port(t) else { return };
        let s = self.tasks[t].service;
        let Some(tg) = self.task_target_group(t) else { return };
        let now = self.now();
        let td = &self.scenario.task_definitions[self.tasks[t].task_definition];
        let app = &td.app;
        let req = &self.requirements[self.tasks[t].task_definition];
        let ready_at = now + app.ready_time.sample_duration(&mut self.rng.health);
        let reserved_vcpu = f64::from(req.cpu) / 1024.0;
        let mut serving = Serving {
            server: ProcessorSharing::new(reserved_vcpu, app.request_cpu_cap, app.max_concurrency, app.queue_limit),
            service: s as u32,
            target_group: tg as u32,
            // Without a task role the app's AWS calls find no credentials: it answers 500.
            lacks_credentials: crate::model::iam::missing_credentials(td.calls_aws_apis, td.task_role.as_ref()),
            port,
            ready_at,
            reachable: self.reachable(port),
            completion_at: None,
            completion_timer: Default::default(),
            health_timer: Default::default(),
            in_flight: 0,
            memory_in_flight: 0.0,
            work_accounted: 0.0,
            reserved_vcpu,
            target_slot: self.target_groups[tg].targets().len() as u32,
        };
        let hc = self.scenario.target_groups[tg].health_check;
        // The first check falls somewhere in the first interval after registration.
        let first = (self.rng.health.random::<f64>() * hc.interval as f64) as SimTime;
        let generation = serving.health_timer.arm();
        self.queue.schedule_in(first, Event::HealthCheck { task: t as u32, generation });
        self.tasks[t].serving = Some(serving);
        if self.fluid() {
            self.fluid_register(t);
        }
        self.target_groups[tg].add(Target::new(t, port));
        self.refresh_instance_cpu(self.tasks[t].instance);
        let mem_reserved = f64::from(self.requirements[self.tasks[t].task_definition].memory);
        let traffic = &mut self.traffic[s];
        traffic.reserved_vcpu.add_rate(now, self.tasks[t].serving.as_ref().map_or(0.0, |x| x.reserved_vcpu));
        traffic.mem_in_use.add_rate(now, f64::from(app.memory_baseline));
        traffic.mem_reserved.add_rate(now, mem_reserved);
        let detail = format!(
            "service {} registered 1 targets in target-group {} (port {port})",
            self.services[s].name, self.scenario.target_groups[tg].name
        );
        self.record(EventKind::TargetRegistered, Some(s), Some(t), Some(self.tasks[t].instance), detail);
    }

    /// Splits the instance's CPU among the serving tasks on it. A task with task-level CPU is
    /// limited to it; tasks without share what those leave, in proportion to their containers'
    /// CPU shares, since Docker shares unused CPU by shares (ECS-DG:task_definition_parameters.md,
    /// container `cpu`). The split is the one under full contention [assume]: a task does not
    /// borrow CPU that idle neighbours leave unused.
    fn refresh_instance_cpu(&mut self, i: usize) {
        let now = self.now();
        let inst = &self.cluster.instances[i];
        let mut free_vcpu = f64::from(inst.registered_cpu) / 1024.0;
        let mut shares_total = 0u64;
        for &t in &inst.tasks {
            if self.tasks[t].serving.is_none() {
                continue;
            }
            let td = &self.scenario.task_definitions[self.tasks[t].task_definition];
            match td.cpu {
                Some(cpu) => free_vcpu -= f64::from(cpu) / 1024.0,
                None => shares_total += u64::from(shares_of(td)),
            }
        }
        let free_vcpu = free_vcpu.max(0.0);
        let tasks = inst.tasks.clone();
        for t in tasks {
            let td = &self.scenario.task_definitions[self.tasks[t].task_definition];
            let reserved = f64::from(self.requirements[self.tasks[t].task_definition].cpu) / 1024.0;
            let s = self.tasks[t].service;
            let capacity = match td.cpu {
                Some(cpu) => f64::from(cpu) / 1024.0,
                None if shares_total > 0 => free_vcpu * f64::from(shares_of(td)) / shares_total as f64,
                None => free_vcpu,
            };
            if self.fluid() {
                self.fluid_set_capacity(t, capacity);
            }
            if let Some(serving) = self.tasks[t].serving.as_mut() {
                serving.server.set_capacity(now, capacity);
                if td.cpu.is_none() {
                    // ECS divides by the task's CPU units; without them, by the CPU it can use.
                    let new = if reserved > 0.0 { reserved } else { capacity };
                    let delta = new - serving.reserved_vcpu;
                    serving.reserved_vcpu = new;
                    self.traffic[s].reserved_vcpu.add_rate(now, delta);
                }
            }
            self.reschedule_completion(t);
        }
    }

    pub(super) fn health_check(&mut self, t: usize) {
        let now = self.now();
        let s = self.tasks[t].service;
        let Some(tg) = self.task_target_group(t) else { return };
        let Some(k) = self.target_slot(tg, t) else { return };
        let Some(serving) = self.tasks[t].serving.as_ref() else { return };
        let app_healthy = self.scenario.task_definitions[self.tasks[t].task_definition].app.healthy;
        let reachable = serving.reachable;
        let success =
            self.tasks[t].status == TaskStatus::Running && now >= serving.ready_at && reachable && app_healthy;
        let (i, port) = (self.tasks[t].instance, serving.port);
        let hc = self.scenario.target_groups[tg].health_check;
        let transition = self.change_target(tg, k, |group| group.record_check(k, success, &hc));
        let tg_name = &self.scenario.target_groups[tg].name;
        match transition {
            Transition::BecameHealthy => {
                self.tasks[t].healthy_at = Some(now);
                self.task_state_changed(t);
                let detail =
                    format!("target {} port {port} is healthy in target-group {tg_name}", self.cluster.instances[i].id);
                self.record(EventKind::TargetHealthy, Some(s), Some(t), Some(i), detail);
                self.request_service_schedule(s);
            }
            Transition::BecameUnhealthy => {
                self.tasks[t].healthy_at = None;
                self.task_state_changed(t);
                let reason = if reachable { "Health checks failed" } else { "Request timed out" };
                let detail = format!(
                    "service {} (instance {}) (port {port}) is unhealthy in target-group {tg_name} due to (reason {reason}).",
                    self.services[s].name, self.cluster.instances[i].id
                );
                self.record(EventKind::TargetUnhealthy, Some(s), Some(t), Some(i), detail);
            }
            Transition::None => {}
        }
        // ECS replaces a task whose target is unhealthy once the service's grace period since
        // RUNNING has passed (ECS-DG:service_definition_parameters.md,
        // healthCheckGracePeriodSeconds).
        let grace_over =
            self.tasks[t].started_at.is_some_and(|at| now >= at + self.scenario.services[s].health_check_grace_period);
        if self.target_groups[tg].target(k).state == TargetState::Unhealthy
            && grace_over
            && self.tasks[t].desired_running
        {
            self.stop_task(t, StopReason::FailedElbHealthChecks);
            self.deployment_task_failed(t);
            return;
        }
        // A healthy target that passes stays healthy for as long as the check's inputs hold: the
        // task RUNNING past its ready time, its port reachable, its application healthy. None of
        // these changes while the target is registered (leaving RUNNING begins deregistration,
        // which ends the checks), so later checks would change nothing and are not simulated.
        if success && self.target_groups[tg].target(k).state == TargetState::Healthy {
            return;
        }
        if let Some(serving) = self.tasks[t].serving.as_mut() {
            let generation = serving.health_timer.arm();
            self.queue.schedule_in(hc.interval, Event::HealthCheck { task: t as u32, generation });
        }
    }

    /// Deregistration: the target drains for the deregistration delay, taking no new requests
    /// while its in-flight ones finish; the task is DEACTIVATING until then, and only then are
    /// its containers signalled. A target with nothing in flight completes deregistration at
    /// once, but DescribeTargetHealth shows it draining until the delay ends, and ECS waits for
    /// that (ALB:load-balancer-target-groups.md, "Deregistration delay"; AWS-SEMANTICS.md §3.4).
    /// Returns false when the task has no target.
    pub(super) fn begin_deregistration(&mut self, t: usize) -> bool {
        let s = self.tasks[t].service;
        let Some(tg) = self.task_target_group(t) else { return false };
        let Some(k) = self.target_slot(tg, t) else { return false };
        self.change_target(tg, k, |group| group.set_draining(k));
        if let Some(serving) = self.tasks[t].serving.as_mut() {
            serving.health_timer.cancel();
        }
        self.tasks[t].status = TaskStatus::Deactivating;
        self.task_state_changed(t);
        let spec = &self.scenario.target_groups[tg];
        let detail = format!(
            "service {} has begun draining connections on 1 tasks; deregistering 1 targets in target-group {} ({} s delay)",
            self.services[s].name,
            spec.name,
            format_seconds(spec.deregistration_delay)
        );
        let delay = spec.deregistration_delay;
        self.record(EventKind::TargetDraining, Some(s), Some(t), Some(self.tasks[t].instance), detail);
        let generation = self.tasks[t].timer.arm();
        self.queue.schedule_in(delay, Event::Deregistered { task: t as u32, generation });
        true
    }

    /// The deregistration delay is over: the target leaves the group and the task stops.
    pub(super) fn deregistered(&mut self, t: usize) {
        let s = self.tasks[t].service;
        self.remove_target(t);
        let detail = format!("service {} deregistered 1 targets", self.services[s].name);
        self.record(EventKind::TargetDeregistered, Some(s), Some(t), Some(self.tasks[t].instance), detail);
        self.signal_stop(t);
    }

    fn remove_target(&mut self, t: usize) {
        if let Some(tg) = self.task_target_group(t)
            && let Some(k) = self.target_slot(tg, t)
        {
            self.change_target(tg, k, |group| group.remove(k));
        }
    }

    /// Where task `t`'s target sits in group `tg`: the slot remembered at the last lookup while
    /// it still holds the task (slots shift only when a target before it leaves), else found by
    /// a scan and remembered. Health checks and answered requests look targets up; a scan each
    /// time costs the size of the group.
    pub(super) fn target_slot(&mut self, tg: usize, t: usize) -> Option<usize> {
        let hint = self.tasks[t].serving.as_ref().map_or(usize::MAX, |x| x.target_slot as usize);
        if self.target_groups[tg].targets().get(hint).is_some_and(|x| x.task == t) {
            return Some(hint);
        }
        let k = self.target_groups[tg].find(t)?;
        if let Some(serving) = self.tasks[t].serving.as_mut() {
            serving.target_slot = k as u32;
        }
        Some(k)
    }

    /// The task is gone: its target leaves the group, requests still in flight get a 502
    /// (the connection is reset), and its work so far is counted.
    pub(super) fn stop_serving(&mut self, t: usize) {
        self.remove_target(t);
        if self.fluid() {
            self.fluid_stop(t);
        }
        let Some(mut serving) = self.tasks[t].serving.take() else { return };
        let now = self.now();
        let s = self.tasks[t].service;
        // Requests that finished by now are answered normally; the rest are cut off.
        let mut done = std::mem::take(&mut self.completed);
        serving.server.complete_due(now, &mut done);
        self.tasks[t].serving = Some(serving);
        self.answer(t, &mut done);
        self.completed = done;
        let Some(mut serving) = self.tasks[t].serving.take() else { return };
        let mut cut = Vec::new();
        serving.server.clear(&mut cut);
        let work = if self.fluid() { self.fluid_work_and_memory(t).0 } else { serving.server.work_done(now) };
        let traffic = &mut self.traffic[s];
        traffic.minute_busy_cpu_ms += work - serving.work_accounted;
        traffic.minute_errors += cut.len() as u64;
        traffic.reserved_vcpu.add_rate(now, -serving.reserved_vcpu);
        let td = self.tasks[t].task_definition;
        let app = &self.scenario.task_definitions[td].app;
        traffic.mem_in_use.add_rate(now, -f64::from(app.memory_baseline));
        traffic.mem_reserved.add_rate(now, -f64::from(self.requirements[td].memory));
        for workload in cut {
            let mem = self.scenario.workloads[workload as usize].memory_per_request;
            self.traffic[s].mem_in_use.add_rate(now, -mem);
            self.traffic[s].in_flight.add_rate(now, -1.0);
        }
        self.refresh_instance_cpu(self.tasks[t].instance);
    }

    // ----- requests --------------------------------------------------------------------------

    /// A request arrives at the load balancer for workload `w`.
    pub(super) fn arrival(&mut self, w: usize) {
        let now = self.now();
        let state = &mut self.workloads[w];
        if let Some(next) = state.arrivals.next(&mut state.rng)
            && next <= self.scenario.duration
        {
            self.queue.schedule(next.max(now), Event::Arrival { workload: w as u32 });
        }
        let Some(s) = self.workloads[w].service else { return };
        let mut tg = self.scenario.workloads[w].target_group;
        if self.scenario.services[s].blue_green.is_some() {
            // The production listener: the production target group, or while CodeDeploy
            // shifts, the replacement's by its share.
            tg = self.services[s].production_target_group.unwrap_or(tg);
            if let Some((to, percent)) = self.services[s].replacement_traffic
                && self.rng.routing.random::<f64>() * 100.0 < f64::from(percent)
            {
                tg = to;
            }
        }
        self.traffic[s].minute_requests += 1;
        let Some(k) = self.target_groups[tg].pick(&mut self.rng.routing) else {
            // No target at all: the ALB answers 503 itself.
            self.traffic[s].minute_errors += 1;
            return;
        };
        let t = self.target_groups[tg].target(k).task;
        let Some(serving) = self.tasks[t].serving.as_mut() else {
            self.traffic[s].minute_errors += 1;
            return;
        };
        if !serving.reachable {
            // The security group drops the connection: a 504 once the ALB's connection timeout
            // expires.
            self.queue.schedule_in(CONNECTION_TIMEOUT, Event::ConnectTimeout { service: s as u32 });
            self.traffic[s].connecting += 1;
            return;
        }
        if now < serving.ready_at {
            // The application is not listening yet: the connection is refused, a 502.
            self.traffic[s].minute_errors += 1;
            return;
        }
        let spec = &self.scenario.workloads[w];
        let work = spec.service_time.sample(&mut self.rng.service_time);
        // A request is known by its workload: the server keeps when it arrived.
        match serving.server.arrive(now, w as u64, work) {
            Admission::Rejected => {
                // Past the app's queue limit: it answers 503.
                self.traffic[s].minute_errors += 1;
            }
            Admission::InService | Admission::Queued => {
                serving.in_flight += 1;
                serving.memory_in_flight += spec.memory_per_request;
                if self.target_groups[tg].counts_in_flight() {
                    self.target_groups[tg].add_in_flight(k);
                }
                self.traffic[s].mem_in_use.add_rate(now, spec.memory_per_request);
                self.traffic[s].in_flight.add_rate(now, 1.0);
                // The completion event already scheduled stays at or before the next completion
                // unless the new request itself finishes first (see `reschedule_completion`).
                if serving.completion_at.is_none() || serving.server.newest_finishes_first() {
                    self.reschedule_completion(t);
                }
            }
        }
    }

    /// Keeps one completion event scheduled per task, at or before the server's next
    /// completion: an arrival can only delay completions, so an early event just finds nothing
    /// done and schedules the next.
    fn reschedule_completion(&mut self, t: usize) {
        let Some(serving) = self.tasks[t].serving.as_mut() else { return };
        let next = serving.server.next_completion();
        match (next, serving.completion_at) {
            (Some(n), Some(at)) if n >= at => {}
            (Some(n), _) => {
                let generation = serving.completion_timer.arm();
                serving.completion_at = Some(n);
                self.queue.schedule(n.max(self.queue.now()), Event::RequestsDone { task: t as u32, generation });
            }
            (None, _) => {}
        }
    }

    pub(super) fn requests_done(&mut self, t: usize) {
        let now = self.now();
        let Some(serving) = self.tasks[t].serving.as_mut() else { return };
        serving.completion_at = None;
        let mut done = std::mem::take(&mut self.completed);
        serving.server.complete_due(now, &mut done);
        self.answer(t, &mut done);
        self.completed = done;
        self.reschedule_completion(t);
    }

    /// Answers completed requests: a 504 past the workload's timeout, else a success whose
    /// response time goes into the latency histograms.
    fn answer(&mut self, t: usize, done: &mut Vec<crate::engine::processor_sharing::Completed>) {
        let now = self.now();
        let Some(serving) = self.tasks[t].serving.as_ref() else { return };
        let (s, tg, fails) = (serving.service as usize, serving.target_group as usize, serving.lacks_credentials);
        let k = if self.target_groups[tg].counts_in_flight() { self.target_slot(tg, t) } else { None };
        for c in done.drain(..) {
            let spec = &self.scenario.workloads[c.id as usize];
            if let Some(serving) = self.tasks[t].serving.as_mut() {
                serving.in_flight -= 1;
                serving.memory_in_flight -= spec.memory_per_request;
            }
            if let Some(k) = k {
                self.target_groups[tg].remove_in_flight(k);
            }
            let traffic = &mut self.traffic[s];
            traffic.mem_in_use.add_rate(now, -spec.memory_per_request);
            traffic.in_flight.add_rate(now, -1.0);
            let response = now - c.arrived;
            if response > spec.timeout || fails {
                traffic.minute_errors += 1;
                continue;
            }
            traffic.record_response(response);
            traffic.response_ms_total += response as f64;
            traffic.wait_ms_total += c.started.saturating_sub(c.arrived) as f64;
        }
    }

    pub(super) fn connect_timeout(&mut self, s: usize) {
        self.traffic[s].minute_errors += 1;
        self.traffic[s].connecting = self.traffic[s].connecting.saturating_sub(1);
    }

    /// Folds the minute's traffic into the sample and the run totals, and starts a new minute.
    pub(super) fn traffic_minute(&mut self, s: usize, sample: &mut ServiceSample) {
        let now = self.now();
        let tasks = std::mem::take(&mut self.services[s].tasks);
        self.traffic[s].task_cpu_pct = None;
        self.traffic[s].task_mem_pct = None;
        let mut serving_tasks = 0u32;
        let fluid = self.fluid();
        let instances = self.cluster.instances.len();
        if self.instance_busy_ms.len() < instances {
            self.instance_busy_ms.resize(instances, 0.0);
        }
        if fluid {
            let traffic = &mut self.traffic[s];
            for c in self.fluid_state.cohort_minutes(s) {
                let reserved_mem = f64::from(self.requirements[c.task_definition].memory.max(1));
                let baseline = f64::from(self.scenario.task_definitions[c.task_definition].app.memory_baseline);
                let cpu_pct = pct(c.work, c.reserved_vcpu * MINUTE as f64);
                let mem_pct = pct(baseline + c.memory_in_flight, reserved_mem);
                let members = c.instances.len() as u32;
                serving_tasks += members;
                // Added member by member, as a task counted alone adds its own, in a register.
                let mut busy = traffic.minute_busy_cpu_ms;
                for &i in c.instances {
                    self.instance_busy_ms[i] += c.work;
                    busy += c.work;
                }
                traffic.minute_busy_cpu_ms = busy;
                StatSet::add_samples(&mut traffic.task_cpu_pct, cpu_pct, members);
                StatSet::add_samples(&mut traffic.task_mem_pct, mem_pct, members);
            }
        }
        for &t in &tasks {
            if fluid && self.fluid_counted_by_cohort(t) {
                continue;
            }
            let minute = if fluid {
                self.fluid_take_minute_work(t)
            } else {
                let task = &mut self.tasks[t];
                task.serving.as_mut().map(|serving| {
                    let work = serving.server.work_done(now);
                    let delta = work - serving.work_accounted;
                    serving.work_accounted = work;
                    super::fluid::MinuteWork {
                        instance: task.instance,
                        task_definition: task.task_definition,
                        work: delta,
                        memory_in_flight: serving.memory_in_flight,
                        reserved_vcpu: serving.reserved_vcpu,
                    }
                })
            };
            let td = match &minute {
                Some(m) => m.task_definition,
                None => self.tasks[t].task_definition,
            };
            let reserved_mem = f64::from(self.requirements[td].memory.max(1));
            let baseline = f64::from(self.scenario.task_definitions[td].app.memory_baseline);
            if let Some(m) = minute {
                serving_tasks += 1;
                self.instance_busy_ms[m.instance] += m.work;
                let traffic = &mut self.traffic[s];
                traffic.minute_busy_cpu_ms += m.work;
                StatSet::add_samples(&mut traffic.task_cpu_pct, pct(m.work, m.reserved_vcpu * MINUTE as f64), 1);
                StatSet::add_samples(&mut traffic.task_mem_pct, pct(baseline + m.memory_in_flight, reserved_mem), 1);
            } else if self.tasks[t].status == TaskStatus::Running {
                // A task without load: idle CPU, its app's baseline memory.
                let traffic = &mut self.traffic[s];
                StatSet::add_samples(&mut traffic.task_cpu_pct, 0.0, 1);
                StatSet::add_samples(&mut traffic.task_mem_pct, pct(baseline, reserved_mem), 1);
            }
        }
        self.services[s].tasks = tasks;
        if fluid {
            self.fluid_cohorts_counted(s);
        }
        let in_flight = self.traffic[s].in_flight.take(now);
        self.traffic[s].in_flight_per_task =
            (serving_tasks > 0).then(|| in_flight / (f64::from(serving_tasks) * MINUTE as f64));
        let traffic = &mut self.traffic[s];
        let reserved_cpu_ms = traffic.reserved_vcpu.take(now);
        let used_mem = traffic.mem_in_use.take(now);
        let reserved_mem = traffic.mem_reserved.take(now);
        sample.requests = traffic.minute_requests;
        sample.errors_5xx = traffic.minute_errors;
        let slo = self.scenario.slo;
        let ps = [50.0, 95.0, 99.0, slo.map_or(99.0, |x| x.percentile)];
        let [p50, p95, p99, p_slo] = if fluid {
            traffic.minute_means.percentiles(ps)
        } else {
            traffic.latency.percentiles_of(&mut traffic.minute_responses, ps)
        };
        let answered = if fluid { traffic.minute_means.count() } else { traffic.minute_responses.len() as u64 };
        (sample.p50_ms, sample.p95_ms, sample.p99_ms) = (p50, p95, p99);
        sample.cpu_util_pct = pct(traffic.minute_busy_cpu_ms, reserved_cpu_ms);
        sample.mem_util_pct = pct(used_mem, reserved_mem);
        if let Some(slo) = slo {
            traffic.slo_minutes_met += u64::from(answered == 0 || p_slo <= slo.threshold);
        }
        traffic.minutes += 1;
        traffic.requests += traffic.minute_requests;
        traffic.errors += traffic.minute_errors;
        traffic.busy_cpu_ms += traffic.minute_busy_cpu_ms;
        traffic.reserved_cpu_ms += reserved_cpu_ms;
        traffic.used_mem += used_mem;
        traffic.reserved_mem += reserved_mem;
        traffic.minute_requests = 0;
        traffic.minute_errors = 0;
        traffic.minute_busy_cpu_ms = 0.0;
        traffic.flush_responses();
        traffic.latency.record_mixture(&traffic.minute_means);
        traffic.minute_means.reset();
        sample.healthy_targets = self.service_healthy_targets(s);
    }

    /// The run's traffic totals for a service's summary row.
    pub(super) fn traffic_summary(&self, s: usize, row: &mut ServiceSummary) {
        let t = &self.traffic[s];
        row.requests = t.requests;
        row.errors_5xx = t.errors;
        row.error_rate = if t.requests == 0 { 0.0 } else { t.errors as f64 / t.requests as f64 };
        let latency = t.latency_so_far();
        let ps = [50.0, 95.0, 99.0];
        let [p50, p95, p99] =
            if self.fluid() { latency.exponential_mixture_percentiles(ps) } else { latency.percentiles(ps) };
        (row.p50_ms, row.p95_ms, row.p99_ms) = (p50, p95, p99);
        let answered = latency.count() as f64;
        row.mean_wait_ms = if answered == 0.0 { 0.0 } else { t.wait_ms_total / answered };
        row.mean_response_ms = if answered == 0.0 { 0.0 } else { t.response_ms_total / answered };
        row.slo_met_pct = if self.scenario.slo.is_none() || t.minutes == 0 {
            100.0
        } else {
            100.0 * t.slo_minutes_met as f64 / t.minutes as f64
        };
        row.cpu_util_pct = pct(t.busy_cpu_ms, t.reserved_cpu_ms);
        row.mem_util_pct = pct(t.used_mem, t.reserved_mem);
        row.healthy_targets = self.service_healthy_targets(s);
    }
}

fn shares_of(td: &crate::model::task_definition::TaskDefinition) -> u32 {
    td.containers.iter().map(|c| c.cpu.max(MIN_CPU_SHARES)).sum()
}

fn pct(part: f64, whole: f64) -> f64 {
    if whole <= 0.0 { 0.0 } else { 100.0 * part / whole }
}

/// A target group's state for the world.
pub(super) fn target_groups(specs: &[crate::model::alb::TargetGroupSpec]) -> Vec<TargetGroup> {
    specs.iter().cloned().map(TargetGroup::new).collect()
}
