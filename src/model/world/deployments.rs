//! Deployments of a service: starting one, counting the circuit breaker's failures, rolling
//! back, and completing.

use super::*;

use crate::model::deployment::{Deployment, DeploymentStatus, RolloutState};

impl World<'_> {
    /// UpdateService: a new PRIMARY deployment of `task_definition`; the previous deployments
    /// become ACTIVE and the scheduler replaces their tasks within the deployment limits.
    pub(super) fn start_deployment(&mut self, s: usize, task_definition: usize, reason: String) {
        // Under blue/green the replacement task set goes to the target group production traffic
        // is not on.
        let target_group = match (self.scenario.services[s].load_balancer, self.scenario.services[s].blue_green) {
            (Some(lb), Some(bg)) => Some(if self.services[s].production_target_group == Some(lb.target_group) {
                bg.green_target_group
            } else {
                lb.target_group
            }),
            (lb, _) => lb.map(|lb| lb.target_group),
        };
        let svc = &mut self.services[s];
        for d in &mut svc.deployments {
            if d.status == DeploymentStatus::Primary {
                d.status = DeploymentStatus::Active;
            }
        }
        let number = svc.deployments.len() as u32 + 1;
        svc.deployments.push(Deployment {
            number,
            task_definition,
            status: DeploymentStatus::Primary,
            rollout: RolloutState::InProgress,
            failures: 0,
            reason: reason.clone(),
            target_group,
        });
        svc.task_definition = task_definition;
        // A new deployment resets the service throttle (ECS-DG:service-throttle-logic.md).
        svc.throttle.reset();
        svc.failed_at_epoch = None;
        svc.last_failure_event = None;
        svc.steady = false;
        svc.blocked = false;
        svc.shifting = false;
        let others: Vec<String> = svc
            .deployments
            .iter()
            .filter(|d| d.status == DeploymentStatus::Active)
            .map(|d| format!("{} ACTIVE", d.id()))
            .collect();
        let detail = format!(
            "service {} deployment ecs-svc/{number} ({}) PRIMARY, IN_PROGRESS: {reason}{}",
            svc.name,
            self.scenario.task_definitions[task_definition].arn_name(),
            if others.is_empty() { String::new() } else { format!("; {}", others.join(", ")) }
        );
        self.record(EventKind::DeploymentStarted, Some(s), None, None, detail);
        self.request_service_schedule(s);
    }

    /// Whether a deployment is replacing tasks of another: Service Auto Scaling does not scale
    /// in then (ECS-DG:service-auto-scaling.md).
    pub(super) fn deploying(&self, s: usize) -> bool {
        let svc = &self.services[s];
        svc.deployments[svc.primary()].rollout == RolloutState::InProgress
            && svc.deployments.iter().any(|d| d.status == DeploymentStatus::Active)
    }

    /// A task of a deployment failed: it stopped before RUNNING, or failed its health checks.
    /// With the circuit breaker on, the PRIMARY deployment's failures count toward its threshold
    /// and, when they reach it, the deployment FAILS, launches nothing more, and rolls back to
    /// the last deployment that completed if the breaker says so
    /// (ECS-DG:deployment-circuit-breaker.md).
    pub(super) fn deployment_task_failed(&mut self, t: usize) {
        let (s, d) = (self.tasks[t].service, self.tasks[t].deployment);
        let Some(breaker) = self.services[s].deployment_configuration.circuit_breaker else { return };
        let svc = &mut self.services[s];
        if d != svc.primary() || svc.deployments[d].rollout != RolloutState::InProgress {
            return;
        }
        svc.deployments[d].failures += 1;
        let threshold = breaker.threshold(svc.desired_count);
        if svc.deployments[d].failures < threshold {
            return;
        }
        svc.deployments[d].rollout = RolloutState::Failed;
        let id = svc.deployments[d].id();
        let target = svc.deployments[..d].iter().rev().find(|x| x.rollout == RolloutState::Completed).cloned();
        let detail = format!(
            "service {} deployment {id} deployment failed: the deployment circuit breaker counted {} failed tasks (threshold {threshold}){}",
            svc.name,
            svc.deployments[d].failures,
            match (&target, breaker.rollback) {
                (Some(x), true) => format!(
                    "; rolling back to {} ({})",
                    x.id(),
                    self.scenario.task_definitions[x.task_definition].arn_name()
                ),
                (None, true) => "; no completed deployment to roll back to".to_string(),
                (_, false) => "; rollback is off: the deployment launches no new tasks".to_string(),
            }
        );
        self.record(EventKind::DeploymentFailed, Some(s), None, None, detail);
        if let (Some(x), true) = (target, breaker.rollback) {
            self.start_deployment(s, x.task_definition, format!("rollback: deployment {id} failed"));
            // The rollback deployment takes over the tasks of the deployment it returns to: they
            // run its task definition and keep serving, while the failed deployment's tasks are
            // replaced [assume: AWS documents the rollback as a new deployment of the last
            // completed one, not whether that one's tasks are replaced again].
            let (new, old) = (self.services[s].primary(), x.number as usize - 1);
            for k in 0..self.services[s].tasks.len() {
                let t = self.services[s].tasks[k];
                if self.tasks[t].deployment == old {
                    self.tasks[t].deployment = new;
                    self.task_state_changed(t);
                }
            }
            self.services[s].deployments[old].status = DeploymentStatus::Inactive;
        }
    }

    /// The PRIMARY deployment is COMPLETED once its tasks run healthy at the desired count and
    /// no task of another deployment is left; the others become INACTIVE.
    pub(super) fn check_deployment_done(&mut self, s: usize, counts: &TaskCounts) {
        let svc = &self.services[s];
        let p = svc.primary();
        if svc.deployments[p].rollout != RolloutState::InProgress {
            return;
        }
        if self.scenario.services[s].blue_green.is_some() && self.services[s].deployments.len() > 1 {
            self.blue_green_progress(s, counts);
        }
        let svc = &self.services[s];
        let others_left = svc.tasks.iter().any(|&t| self.tasks[t].deployment != p);
        let done = !others_left
            && counts.replace == 0
            && counts.keep == svc.desired_count
            && counts.keep_healthy == counts.keep
            && svc.unplaced == 0;
        if !done {
            return;
        }
        let svc = &mut self.services[s];
        svc.deployments[p].rollout = RolloutState::Completed;
        for d in &mut svc.deployments[..p] {
            d.status = DeploymentStatus::Inactive;
        }
        let detail = format!("service {} deployment {} completed.", svc.name, svc.deployments[p].id());
        self.record(EventKind::DeploymentCompleted, Some(s), None, None, detail);
    }
}

impl World<'_> {
    /// Under blue/green, a task of the original task set while the replacement is deployed: the
    /// scheduler neither counts nor replaces it; CodeDeploy removes the whole set at the end.
    pub(super) fn parked(&self, t: usize) -> bool {
        let task = self.task_states[t];
        let s = self.billed_tasks[t].service();
        let svc = &self.services[s];
        self.scenario.services[s].blue_green.is_some()
            && task.class.desired_running
            && task.deployment() != svc.primary()
            && svc.deployments[task.deployment()].status == DeploymentStatus::Active
    }

    /// Install done: once the replacement task set runs healthy at full size, CodeDeploy starts
    /// shifting production traffic by its configuration (CD:deployment-steps-ecs.md:
    /// Install, then AllowTraffic).
    fn blue_green_progress(&mut self, s: usize, counts: &TaskCounts) {
        let svc = &self.services[s];
        if svc.shifting || counts.keep_healthy < svc.desired_count {
            return;
        }
        let Some(bg) = self.scenario.services[s].blue_green else { return };
        self.services[s].shifting = true;
        let detail = format!(
            "CodeDeploy: the replacement task set ({} tasks of {}) is healthy; shifting production traffic: {}",
            counts.keep_healthy,
            self.scenario.task_definitions[self.services[s].task_definition].arn_name(),
            bg.routing
        );
        self.record(EventKind::TrafficShifted, Some(s), None, None, detail);
        for (k, (offset, _)) in bg.routing.steps().into_iter().enumerate() {
            self.queue.schedule_in(offset, Event::TrafficShift { service: s as u32, step: k as u32 });
        }
    }

    /// One step of the shift: the replacement's share of production traffic.
    pub(super) fn traffic_shift(&mut self, s: usize, step: usize) {
        let Some(bg) = self.scenario.services[s].blue_green else { return };
        let Some((_, percent)) = bg.routing.steps().get(step).copied() else { return };
        let p = self.services[s].primary();
        let Some(to) = self.services[s].deployments[p].target_group else { return };
        self.services[s].replacement_traffic = Some((to, percent));
        let from =
            self.services[s].production_target_group.map_or("", |g| self.scenario.target_groups[g].name.as_str());
        let detail = format!(
            "CodeDeploy shifted {percent}% of production traffic to the replacement task set (target group {}); {}% stays on the original (target group {from})",
            self.scenario.target_groups[to].name,
            100 - percent
        );
        self.record(EventKind::TrafficShifted, Some(s), None, None, detail);
        if percent >= 100 {
            self.queue.schedule_in(bg.termination_wait, Event::TerminateOriginal { service: s as u32 });
        }
    }

    /// After the termination wait, the original task set is deleted: its tasks deregister,
    /// drain and stop, and the replacement's target group is production from now on.
    pub(super) fn terminate_original(&mut self, s: usize) {
        let p = self.services[s].primary();
        self.services[s].production_target_group = self.services[s].deployments[p].target_group;
        self.services[s].replacement_traffic = None;
        let originals: Vec<usize> = self.services[s].tasks.iter().copied().filter(|&t| self.parked(t)).collect();
        let detail = format!("CodeDeploy terminated the original task set ({} tasks)", originals.len());
        self.record(EventKind::TrafficShifted, Some(s), None, None, detail);
        for t in originals {
            self.stop_task(t, StopReason::Deployment);
        }
        self.request_service_schedule(s);
    }
}
