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

impl World<'_> {
    /// Bills every instance for the time since the last bill, up to now, and shares it out.
    pub(super) fn bill(&mut self) {
        let (from, now) = (self.billed_until, self.now());
        if now <= from {
            return;
        }
        self.billed_until = now;
        let n = self.services.len();
        let mut weights = vec![0.0; n * self.cluster.instances.len()];
        let mut cluster_weights = vec![0.0; n];
        // A Fargate micro-VM is its task's, all of it: once the task has stopped, the rest of
        // its last minute and the one-minute minimum settled at its end are still its service's
        // cost, not capacity left idle for the cluster to absorb.
        let fargate_ended =
            |vm: &ContainerInstance| vm.fargate && vm.tasks.is_empty() && vm.terminated_at.is_some_and(|t| t > from);
        // Looking among every task ever run is needed only when such a micro-VM exists.
        if self.cluster.instances.iter().any(fargate_ended) {
            for task in &self.tasks {
                if fargate_ended(&self.cluster.instances[task.instance]) {
                    weights[task.instance * n + task.service] = 1.0;
                }
            }
        }
        for (i, inst) in self.cluster.instances.iter().enumerate() {
            for &t in &inst.tasks {
                let task = &self.tasks[t];
                let req = &self.requirements[task.task_definition];
                let w = (f64::from(req.cpu) / f64::from(inst.registered_cpu.max(1))
                    + f64::from(req.memory) / f64::from(inst.registered_memory.max(1)))
                    / 2.0;
                weights[i * n + task.service] += w;
                if !inst.fargate {
                    // An empty instance's cost goes to the services that run on instances.
                    cluster_weights[task.service] += w;
                }
            }
        }
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
                &weights[i * n..(i + 1) * n],
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
