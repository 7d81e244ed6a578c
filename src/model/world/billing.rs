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

/// What billing reads of an instance, kept in one dense array apart from the instances: each
/// minute's bill reads every instance not yet settled, a thousand of them, and an instance
/// spans several cache lines.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) struct BilledInstance {
    launched_at: SimTime,
    terminated_at: Option<SimTime>,
    price_per_hour: f64,
    fargate: bool,
}

impl BilledInstance {
    pub(super) fn of(inst: &ContainerInstance) -> Self {
        BilledInstance {
            launched_at: inst.launched_at,
            terminated_at: inst.terminated_at,
            price_per_hour: inst.price_per_hour,
            fargate: inst.fargate,
        }
    }
}

/// An instance's weights in its cost: per service it hosts, in service order, what its tasks
/// reserve of the instance's CPU and memory (the mean of the two fractions).
///
/// An instance hosts a handful of tasks of a handful of services, so its weights are a short
/// list of (service, weight) rather than one entry per service, which is what
/// [`billing::allocate`] takes: sharing its cost out touches only the services it hosts. They
/// change only when its tasks do, a few instances a minute of a thousand, so they are kept from
/// one bill to the next rather than worked out again from every task each minute.
pub(super) type InstanceWeights = billing::CostWeights;

impl World<'_> {
    /// Instance `i`'s tasks changed: billing works its weights out again, and bills it alone
    /// until it has run a whole interval with them.
    pub(super) fn instance_tasks_changed(&mut self, i: usize) {
        self.leave_steady(i);
        if let Some(w) = self.instance_weights.get_mut(i) {
            *w = None;
        }
    }

    /// Instance `i`'s launch or termination time changed: billing's copy follows, and bills it
    /// alone from now on. An instance billing has not seen yet is copied at the next bill.
    pub(super) fn instance_billing_changed(&mut self, i: usize) {
        self.leave_steady(i);
        if let Some(billed) = self.billed_instances.get_mut(i) {
            *billed = BilledInstance::of(&self.cluster.instances[i]);
        }
    }

    /// Instance `i` leaves the bulk, if it is in it, with the weights and price it joined with.
    fn leave_steady(&mut self, i: usize) {
        if !self.in_steady.get(i).copied().unwrap_or(false) {
            return;
        }
        self.in_steady[i] = false;
        let weights = self.instance_weights[i].as_ref().expect("an instance in the bulk keeps its weights");
        self.steady_rates.leave(weights, self.billed_instances[i].price_per_hour);
    }

    /// Instance `i`'s weights, from its tasks.
    pub(super) fn work_out_instance_weights(&self, i: usize) -> InstanceWeights {
        let inst = &self.cluster.instances[i];
        let mut weights: Vec<(usize, f64)> = Vec::new();
        // An instance's tasks are mostly of one task definition: its weight is worked out once
        // for a run of them.
        let mut last: Option<(u32, f64)> = None;
        for &t in &inst.tasks {
            let task = self.billed_tasks[t];
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
            match weights.iter_mut().find(|(s, _)| *s == task.service()) {
                Some((_, x)) => *x += w,
                None => weights.push((task.service(), w)),
            }
        }
        weights.sort_unstable_by_key(|&(s, _)| s);
        InstanceWeights::new(&weights)
    }

    /// Every instance's weights that billing keeps are those its tasks give now, its copy of
    /// every instance is the instance's, and every instance it has yet to settle is listed.
    pub(super) fn check_instance_weights(&self) -> Result<(), (String, String)> {
        for (i, kept) in self.instance_weights.iter().enumerate() {
            let Some(kept) = kept else { continue };
            let given = self.work_out_instance_weights(i);
            if *kept != given {
                return Err((
                    format!("instance {}", self.cluster.instances[i].id),
                    format!("billing keeps its weights as {kept:?} but its tasks give {given:?}"),
                ));
            }
        }
        for (i, billed) in self.billed_instances.iter().enumerate() {
            let inst = &self.cluster.instances[i];
            if *billed != BilledInstance::of(inst) {
                return Err((format!("instance {}", inst.id), format!("billing's copy {billed:?} differs from it")));
            }
            let unsettled = inst.terminated_at.is_none_or(|t| t > self.billed_until);
            if unsettled && self.instances_to_bill.binary_search(&i).is_err() {
                return Err((format!("instance {}", inst.id), "billing has dropped it before settling it".into()));
            }
        }
        let mut recounted = billing::SteadyRates::new(self.services.len());
        for (i, _) in self.in_steady.iter().enumerate().filter(|&(_, &x)| x) {
            let inst = &self.cluster.instances[i];
            let billed = &self.billed_instances[i];
            let weights = self.instance_weights[i].as_ref().filter(|w| !w.is_idle());
            let Some(weights) = weights.filter(|_| !billed.fargate && billed.terminated_at.is_none()) else {
                return Err((
                    format!("instance {}", inst.id),
                    "billed in bulk, but terminated, a Fargate micro-VM, or without weights".into(),
                ));
            };
            recounted.join(weights, billed.price_per_hour);
        }
        if !self.steady_rates.matches(&recounted) {
            return Err((
                "billing".into(),
                format!("the bulk's rates are {:?} but its instances add up to {recounted:?}", self.steady_rates),
            ));
        }
        Ok(())
    }

    /// What every instance's tasks weigh, per service, across the cluster: where an instance's
    /// cost goes when it hosts no task. When no task runs on any instance, an empty instance's
    /// cost goes evenly to the services that run on instances (README, "Billing": idle cost goes
    /// "to the services that run on instances"), never to a Fargate service, whose tasks no
    /// instance ever hosts. Without any such service, `allocate` shares it evenly among all, so
    /// that the services' costs still add up to the bill.
    fn cluster_weights(&self, instances: &[usize]) -> Vec<f64> {
        let mut cluster_weights = vec![0.0; self.services.len()];
        for &i in instances {
            if self.billed_instances[i].fargate {
                continue;
            }
            for (s, w) in self.instance_weights[i].iter().flat_map(|x| x.weights()) {
                cluster_weights[s] += w;
            }
        }
        if cluster_weights.iter().all(|&w| w == 0.0) {
            for (w, def) in cluster_weights.iter_mut().zip(&self.scenario.services) {
                *w = if def.fargate { 0.0 } else { 1.0 };
            }
        }
        cluster_weights
    }

    /// Bills every instance for the time since the last bill, up to now, and shares it out by
    /// the instances' weights.
    ///
    /// Only instances not settled yet are read: those still running, or terminated since the
    /// last bill (then settled). Instances terminated before it, and the micro-VMs of Fargate
    /// tasks long stopped, cost nothing more and hold no task, so they weigh nothing either.
    pub(super) fn bill(&mut self) {
        let (from, now) = (self.billed_until, self.now());
        if now <= from {
            return;
        }
        self.billed_until = now;
        for i in self.billed_instances.len()..self.cluster.instances.len() {
            self.billed_instances.push(BilledInstance::of(&self.cluster.instances[i]));
            self.instances_to_bill.push(i);
        }
        let n = self.services.len();
        let to_bill = std::mem::take(&mut self.instances_to_bill);
        // A Fargate micro-VM is its task's, all of it: once the task has stopped, the rest of
        // its last minute and the one-minute minimum settled at its end are still its service's
        // cost, not capacity left idle for the cluster to absorb.
        let fargate_ended = |i: usize| {
            let vm = &self.billed_instances[i];
            vm.fargate && vm.terminated_at.is_some_and(|t| t > from) && self.cluster.instances[i].tasks.is_empty()
        };
        // Looking among every task ever run is needed only when such a micro-VM exists.
        let mut ended: Vec<(usize, usize)> = Vec::new();
        if to_bill.iter().any(|&i| fargate_ended(i)) {
            ended.extend(
                self.tasks.iter().filter(|task| fargate_ended(task.instance)).map(|task| (task.instance, task.service)),
            );
            ended.sort_unstable();
            ended.dedup();
        }
        self.instance_weights.resize(self.cluster.instances.len(), None);
        for &i in &to_bill {
            if self.instance_weights[i].is_none() {
                self.instance_weights[i] = Some(self.work_out_instance_weights(i));
            }
        }
        let mut cluster_weights: Option<Vec<f64>> = None;
        let mut to = vec![0.0; n];
        let mut idle = vec![0.0; n];
        // The bulk ran the whole interval as it was at the last bill.
        self.steady_rates.bill(now - from, &mut to, &mut idle);
        self.in_steady.resize(self.cluster.instances.len(), false);
        for &i in &to_bill {
            if self.in_steady[i] {
                continue;
            }
            let inst = self.billed_instances[i];
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
            let first = ended.partition_point(|&(j, _)| j < i);
            let ended_here: Vec<(usize, f64)> =
                ended[first..].iter().take_while(|&&(j, _)| j == i).map(|&(_, s)| (s, 1.0)).collect();
            let ended_weights;
            let weights = if ended_here.is_empty() {
                // Every instance's weights were worked out above.
                self.instance_weights[i].as_ref().expect("weights worked out above")
            } else {
                ended_weights = InstanceWeights::new(&ended_here);
                &ended_weights
            };
            let cluster = if weights.is_idle() {
                &cluster_weights.get_or_insert_with(|| self.cluster_weights(&to_bill))[..]
            } else {
                &[]
            };
            billing::allocate(billing::cost(inst.price_per_hour, ms), weights, cluster, &mut to, &mut idle);
            // Running on with tasks, it runs the next interval as it is unless something changes.
            if !inst.fargate && inst.terminated_at.is_none() && !weights.is_idle() && ended_here.is_empty() {
                self.steady_rates.join(weights, inst.price_per_hour);
                self.in_steady[i] = true;
            }
        }
        for s in 0..n {
            let c = &mut self.costs[s];
            c.minute += to[s];
            c.total += to[s];
            c.idle += idle[s];
        }
        self.instances_to_bill = to_bill;
        self.instances_to_bill.retain(|&i| self.billed_instances[i].terminated_at.is_none_or(|t| t > now));
    }
}
