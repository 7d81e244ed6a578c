//! Billing the instances minute by minute and sharing the cost among the services.

use super::*;

use crate::model::billing;

/// One service's share of the cluster's cost.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct ServiceCost {
    pub(super) minute: f64,
    pub(super) total: f64,
    pub(super) idle: f64,
}

/// What billing reads of a task, which never changes once it is placed: kept in one dense
/// array apart from the tasks, so that each minute's bill does not read every task.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct BilledTask {
    service: u32,
    task_definition: u32,
}

impl BilledTask {
    pub(super) fn of(task: &Task) -> Self {
        BilledTask { service: task.service as u32, task_definition: task.task_definition as u32 }
    }

    pub(super) fn service(self) -> usize {
        self.service as usize
    }
}

impl World<'_> {
    /// Bills every instance for the time since the last bill, up to now, and shares it out.
    ///
    /// An instance hosts a handful of tasks of a handful of services, so its weights are kept
    /// as a short list of (service, weight) rather than one entry per service, which is what
    /// [`billing::allocate`] takes: sharing its cost out touches only the services it hosts.
    pub(super) fn bill(&mut self) {
        let (from, now) = (self.billed_until, self.now());
        if now <= from {
            return;
        }
        self.billed_until = now;
        let n = self.services.len();
        // Per instance, its services' weights in service order, `start[i]..start[i + 1]`.
        let mut weights: Vec<(usize, f64)> = Vec::new();
        let mut start = Vec::with_capacity(self.cluster.instances.len() + 1);
        let mut cluster_weights = vec![0.0; n];
        // A Fargate micro-VM is its task's, all of it: once the task has stopped, the rest of
        // its last minute and the one-minute minimum settled at its end are still its service's
        // cost, not capacity left idle for the cluster to absorb.
        let fargate_ended =
            |vm: &ContainerInstance| vm.fargate && vm.tasks.is_empty() && vm.terminated_at.is_some_and(|t| t > from);
        // Looking among every task ever run is needed only when such a micro-VM exists.
        let mut ended: Vec<(usize, usize)> = Vec::new();
        if self.cluster.instances.iter().any(fargate_ended) {
            ended.extend(
                self.tasks
                    .iter()
                    .filter(|task| fargate_ended(&self.cluster.instances[task.instance]))
                    .map(|task| (task.instance, task.service)),
            );
            ended.sort_unstable();
            ended.dedup();
        }
        // Every instance's tasks, gathered first: each instance keeps its list apart in memory,
        // and copying them in a loop that does nothing else lets their loads overlap.
        let mut hosted: Vec<usize> = Vec::with_capacity(self.billed_tasks.len());
        let mut hosted_end = Vec::with_capacity(self.cluster.instances.len());
        for inst in &self.cluster.instances {
            hosted.extend_from_slice(&inst.tasks);
            hosted_end.push(hosted.len());
        }
        let mut ended = ended.into_iter().peekable();
        for (i, inst) in self.cluster.instances.iter().enumerate() {
            let first = weights.len();
            start.push(first);
            while let Some((_, s)) = ended.next_if(|&(j, _)| j == i) {
                weights.push((s, 1.0));
            }
            let from = if i == 0 { 0 } else { hosted_end[i - 1] };
            // An instance's tasks are mostly of one task definition: its weight is worked out
            // once for a run of them.
            let mut last: Option<(u32, f64)> = None;
            for &t in &hosted[from..hosted_end[i]] {
                let task = self.billed_tasks[t];
                let service = task.service as usize;
                let w = match last {
                    Some((td, w)) if td == task.task_definition => w,
                    _ => {
                        let req = &self.requirements[task.task_definition as usize];
                        let w = (f64::from(req.cpu) / f64::from(inst.registered_cpu.max(1))
                            + f64::from(req.memory) / f64::from(inst.registered_memory.max(1)))
                            / 2.0;
                        last = Some((task.task_definition, w));
                        w
                    }
                };
                match weights[first..].iter_mut().find(|(s, _)| *s == service) {
                    Some((_, x)) => *x += w,
                    None => weights.push((service, w)),
                }
                if !inst.fargate {
                    // An empty instance's cost goes to the services that run on instances.
                    cluster_weights[service] += w;
                }
            }
            if weights.len() - first > 1 {
                weights[first..].sort_unstable_by_key(|&(s, _)| s);
            }
        }
        start.push(weights.len());
        if cluster_weights.iter().all(|&w| w == 0.0) {
            // No task runs on any instance: an empty instance's cost goes evenly to the services
            // that run on instances (README, "Billing": idle cost goes "to the services that run
            // on instances"), never to a Fargate service, whose tasks no instance ever hosts.
            // Without any such service, `allocate` shares it evenly among all, so that the
            // services' costs still add up to the bill.
            for (w, def) in cluster_weights.iter_mut().zip(&self.scenario.services) {
                *w = if def.fargate { 0.0 } else { 1.0 };
            }
        }
        let mut to = vec![0.0; n];
        let mut idle = vec![0.0; n];
        for (i, inst) in self.cluster.instances.iter().enumerate() {
            let end = inst.terminated_at.unwrap_or(now).min(now);
            let mut ms = end.saturating_sub(inst.launched_at.max(from));
            if let Some(t) = inst.terminated_at
                && t > from
                && t <= now
            {
                // Billed per second with a one-minute minimum: settle the rest at termination.
                let ran = t - inst.launched_at;
                ms += billing::billed(ran) - ran;
            }
            if ms == 0 || n == 0 {
                continue;
            }
            let price = inst.price_per_hour;
            billing::allocate(
                billing::cost(price, ms),
                &weights[start[i]..start[i + 1]],
                &cluster_weights,
                &mut to,
                &mut idle,
            );
        }
        for s in 0..n {
            let c = &mut self.costs[s];
            c.minute += to[s];
            c.total += to[s];
            c.idle += idle[s];
        }
    }
}
