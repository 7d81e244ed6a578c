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
