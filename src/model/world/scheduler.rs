//! The service schedulers: REPLICA and DAEMON passes, placement failures, steady state.

use super::*;

impl World<'_> {
    /// DAEMON services first: their tasks launch first and stop last (ECS-DG:ecs_services.md).
    ///
    /// A REPLICA service is passed when something of its own changed, when the cluster changed,
    /// or while it has tasks it could not place; DAEMON services, which follow the instances,
    /// every time.
    pub(super) fn run_schedulers(&mut self) {
        let all = std::mem::take(&mut self.schedule_all);
        let asked = self.schedule_services.clone();
        self.schedule_services.fill(false);
        for s in 0..self.services.len() {
            if self.services[s].scheduling_strategy == SchedulingStrategy::Daemon {
                self.daemon_pass(s);
            }
        }
        for (s, asked) in asked.into_iter().enumerate() {
            if self.services[s].scheduling_strategy == SchedulingStrategy::Replica
                && (all || asked || self.services[s].unplaced > 0)
            {
                self.replica_pass(s);
            }
        }
    }

    /// Whether a live task is one the scheduler keeps: of the PRIMARY deployment, on an ACTIVE
    /// instance. The others are replaced: older deployments' tasks, and those on DRAINING
    /// instances (ECS-DG:deployment-type-ecs.md, ECS-DG:container-instance-draining.md).
    pub(super) fn kept(&self, t: usize) -> bool {
        let task = self.task_states[t];
        task.deployment() == self.services[self.billed_tasks[t].service()].primary() && task.class.on_active_instance
    }

    pub(super) fn counts(&self, s: usize) -> TaskCounts {
        let mut c = TaskCounts::default();
        // Only a blue/green service parks tasks, which the tally does not tell apart: its tasks
        // are counted one by one.
        if self.scenario.services[s].blue_green.is_some() {
            for &t in &self.services[s].tasks {
                if !self.parked(t) {
                    count_into(&mut c, self.task_states[t].class, self.kept(t), 1);
                }
            }
            return c;
        }
        let primary = self.services[s].primary();
        for (deployment, class, n) in self.task_tallies[s].classes() {
            count_into(&mut c, class, deployment == primary && class.on_active_instance, n);
        }
        c
    }

    pub(super) fn replica_pass(&mut self, s: usize) {
        let desired = self.services[s].desired_count;
        let config = self.services[s].deployment_configuration;
        let counts = self.counts(s);
        let changes_before = self.task_changes;
        let mut plan = replica_plan(desired, config, counts);
        let primary = self.services[s].primary();
        if self.services[s].deployments[primary].rollout == crate::model::deployment::RolloutState::Failed {
            // A FAILED deployment launches no new tasks, and the tasks it would have replaced
            // keep serving (ECS-DG:deployment-circuit-breaker.md).
            plan.start = 0;
            plan.stop_healthy_replace = 0;
            plan.stop_unhealthy_replace = 0;
        }

        if plan.scale_in > 0 {
            let candidates: Vec<StopCandidate> = self.services[s]
                .tasks
                .iter()
                .copied()
                .filter(|&t| self.tasks[t].desired_running && self.kept(t))
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

        let mut replaced: Vec<usize> = Vec::new();
        if counts.replace > 0 {
            replaced.extend(
                self.services[s]
                    .tasks
                    .iter()
                    .copied()
                    .filter(|&t| self.tasks[t].desired_running && !self.kept(t) && !self.parked(t)),
            );
        }
        let mut unhealthy_to_stop = plan.stop_unhealthy_replace;
        let mut healthy_to_stop = plan.stop_healthy_replace;
        for t in replaced {
            let reason = if self.cluster.instances[self.tasks[t].instance].status == InstanceStatus::Active {
                StopReason::Deployment
            } else {
                StopReason::InstanceDraining
            };
            if !self.tasks[t].is_healthy() {
                if unhealthy_to_stop > 0 {
                    unhealthy_to_stop -= 1;
                    self.stop_task(t, reason);
                }
            } else if healthy_to_stop > 0 {
                healthy_to_stop -= 1;
                self.stop_task(t, reason);
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
        let mut counts = if self.task_changes == changes_before { counts } else { self.counts(s) };
        let rollout = self.services[s].deployments[primary].rollout;
        self.check_deployment_done(s, &counts);
        if self.services[s].deployments[primary].rollout != rollout {
            // A completed deployment's task set is no longer parked: it counts again.
            counts = self.counts(s);
        }
        self.check_steady_state(s, &counts);
    }

    /// Places `n` new tasks of a service. With a capacity provider strategy each task is
    /// assigned a provider by base and weight and placed on that provider's group only (or on
    /// Fargate); tasks that fit nowhere wait (in PROVISIONING, for the provider to add capacity).
    /// Without one, the scheduler stops at the first task that fits nowhere. While the service
    /// throttle holds, nothing starts.
    pub(super) fn start_replicas(&mut self, s: usize, n: u32) {
        let providers = self.scenario.capacity_providers.len();
        self.services[s].unplaced = 0;
        self.services[s].waiting = vec![0; providers];
        if n == 0 || self.services[s].throttle.holds(self.now()) {
            return;
        }
        let retry = self.services[s].failed_at_epoch != Some(self.capacity_epoch);
        let (td, group) = (self.services[s].task_definition, self.services[s].group);
        let strategy = self.scenario.services[s].capacity_provider_strategy.clone();
        if strategy.is_empty() {
            if !retry {
                self.services[s].unplaced = n;
                return;
            }
            for k in 0..n {
                let result = placement::place(
                    &self.cluster,
                    &mut self.services[s].placement,
                    group,
                    &self.requirements[td],
                    None,
                    &mut self.rng.placement,
                );
                match result {
                    Ok(i) => self.launch_task(s, i, None),
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
            return;
        }
        let mut counts: Vec<u32> = strategy
            .iter()
            .map(|item| {
                self.services[s]
                    .tasks
                    .iter()
                    .filter(|&&t| self.tasks[t].desired_running && self.tasks[t].provider == Some(item.provider))
                    .count() as u32
            })
            .collect();
        let mut full = vec![!retry; strategy.len()];
        let mut first_failure = None;
        for _ in 0..n {
            let Some(k) = crate::model::capacity_provider::next_provider(&strategy, &counts) else {
                self.services[s].unplaced += 1;
                continue;
            };
            counts[k] += 1;
            let p = strategy[k].provider;
            if self.scenario.capacity_providers[p].is_fargate() {
                if self.launch_fargate_task(s, p) {
                    continue;
                }
            } else if !full[k] {
                let only = self.scenario.capacity_providers[p].group();
                let result = placement::place(
                    &self.cluster,
                    &mut self.services[s].placement,
                    group,
                    &self.requirements[td],
                    only,
                    &mut self.rng.placement,
                );
                match result {
                    Ok(i) => {
                        self.launch_task(s, i, Some(p));
                        continue;
                    }
                    Err(failure) => {
                        full[k] = true;
                        first_failure.get_or_insert(failure);
                    }
                }
            }
            self.services[s].waiting[p] += 1;
            self.services[s].unplaced += 1;
            if retry {
                self.services[s].placement_failures += 1;
            }
        }
        if self.services[s].unplaced == 0 {
            self.services[s].failed_at_epoch = None;
            self.services[s].last_failure_event = None;
        } else {
            self.services[s].failed_at_epoch = Some(self.capacity_epoch);
            if let Some(f) = first_failure {
                self.report_placement_failure(s, &f);
            }
        }
    }

    /// Records a placement failure, unless the same message went out less than six hours ago.
    pub(super) fn report_placement_failure(&mut self, s: usize, failure: &PlacementFailure) {
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
    pub(super) fn daemon_pass(&mut self, s: usize) {
        let group = self.services[s].group;
        let td = self.services[s].task_definition;
        let mut desired = 0;
        let mut unplaced = 0;
        let mut failure = None;
        for i in 0..self.cluster.instances.len() {
            if !self.cluster.admits(i, group) {
                continue;
            }
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
                    if self.services[s].throttle.holds(self.now()) {
                        continue;
                    }
                    match placement::check_instance(
                        &self.cluster,
                        &mut self.services[s].placement,
                        group,
                        &self.requirements[td],
                        i,
                    ) {
                        Ok(()) => self.launch_task(s, i, None),
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
        let counts = self.counts(s);
        self.check_steady_state(s, &counts);
    }

    /// "service X has reached a steady state." when every desired task runs and is healthy, with
    /// nothing pending, stopping or waiting to be replaced.
    pub(super) fn check_steady_state(&mut self, s: usize, c: &TaskCounts) {
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
}

/// `n` live tasks of `class` into the scheduler's counts; `kept` if the scheduler keeps them
/// (see [`World::kept`]).
fn count_into(c: &mut TaskCounts, class: tasks::TaskClass, kept: bool, n: u32) {
    let healthy = if class.healthy { n } else { 0 };
    if !class.desired_running {
        c.stopping += n;
    } else if kept {
        c.keep += n;
        c.keep_healthy += healthy;
    } else {
        c.replace += n;
        c.replace_healthy += healthy;
    }
}
