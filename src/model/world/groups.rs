//! Auto Scaling groups while the simulation runs: keeping the desired capacity, choosing what to
//! launch (type, on-demand or Spot, zone) and what to terminate, Spot interruptions and
//! rebalance recommendations, and Availability Zone outages.

use super::*;

use rand::RngExt;

use crate::model::alb::TargetState;
use crate::model::asg::{SpotAllocationStrategy, TerminationCandidate, choose_termination};
use crate::model::autoscaling::SimpleCooldown;

/// A group while the simulation runs.
#[derive(Clone, Debug)]
pub(super) struct GroupState {
    pub(super) desired: u32,
    pub(super) min: u32,
    pub(super) max: u32,
    /// Instances are numbered `<group>-<n>` in launch order.
    pub(super) next_number: u32,
    /// A launch failed because every zone of the group is down (reported once).
    pub(super) launch_failed: bool,
    /// Scale-in was held because every instance is protected (reported once).
    pub(super) scale_in_held: bool,
    /// The group is bringing itself to its desired capacity: the terminations it makes on the
    /// way do not start another round.
    reconciling: bool,
    /// The cooldown its simple scaling policies wait for (an Elastic Beanstalk environment's).
    pub(super) simple_cooldown: SimpleCooldown,
}

impl GroupState {
    pub(super) fn new(spec: &crate::model::asg::AutoScalingGroup) -> Self {
        GroupState {
            desired: spec.desired_capacity,
            min: spec.min_size,
            max: spec.max_size,
            next_number: 0,
            launch_failed: false,
            scale_in_held: false,
            reconciling: false,
            simple_cooldown: SimpleCooldown::default(),
        }
    }
}

/// A group's instances that count toward its capacity, as a launch decision reads them.
struct LiveTally {
    /// By the cluster's zone index.
    per_zone: Vec<u32>,
    on_demand: u32,
    spot: u32,
    units: u32,
}

impl LiveTally {
    fn add(&mut self, inst: &ContainerInstance) {
        self.per_zone[inst.availability_zone] += 1;
        match inst.lifecycle {
            Lifecycle::OnDemand => self.on_demand += inst.weight,
            Lifecycle::Spot => self.spot += inst.weight,
        }
        self.units += inst.weight;
    }
}

/// A Spot instance gets a rebalance recommendation this long before its interruption notice,
/// when EC2 sees the risk coming [assume: EC2 says only that the recommendation "can arrive
/// sooner" than the two-minute notice].
const REBALANCE_LEAD: SimTime = 10 * MINUTE;

/// EC2's warning before it interrupts a Spot instance (ASG:ec2-auto-scaling-capacity-rebalancing.md).
const SPOT_NOTICE: SimTime = 2 * MINUTE;

impl World<'_> {
    /// Whether an instance counts toward its group's capacity: alive, not chosen for termination,
    /// not at risk of interruption.
    fn counts_in_group(&self, i: usize) -> bool {
        let inst = &self.cluster.instances[i];
        inst.status != InstanceStatus::Inactive && !inst.terminating && !inst.at_risk
    }

    /// The instances that count toward group `g`'s capacity, in launch order.
    fn group_members(&self, g: usize) -> impl Iterator<Item = usize> + '_ {
        (0..self.cluster.instances.len())
            .filter(move |&i| self.cluster.instances[i].group == g && self.counts_in_group(i))
    }

    fn group_instances(&self, g: usize) -> Vec<usize> {
        self.group_members(g).collect()
    }

    /// The capacity provider a group backs, if any.
    pub(super) fn provider_of_group(&self, g: usize) -> Option<usize> {
        self.scenario.capacity_providers.iter().position(|cp| cp.group() == Some(g))
    }

    /// Whether an instance runs a task of a REPLICA service (managed termination protection
    /// keeps such instances, ECS-DG:cluster-auto-scaling.md). Asked of every instance each
    /// minute, so counted as tasks come and go rather than read off each instance's tasks.
    pub(super) fn runs_replica_tasks(&self, i: usize) -> bool {
        self.replica_tasks_on.get(i).is_some_and(|&n| n > 0)
    }

    /// Service `s`'s task came to (`change` 1) or left (−1) instance `i`.
    pub(super) fn count_replica_task(&mut self, s: usize, i: usize, change: i32) {
        if self.services[s].scheduling_strategy != SchedulingStrategy::Replica {
            return;
        }
        if self.replica_tasks_on.len() <= i {
            self.replica_tasks_on.resize(i + 1, 0);
        }
        self.replica_tasks_on[i] = self.replica_tasks_on[i].saturating_add_signed(change);
    }

    /// `runs_replica_tasks` as read off the instance's tasks, for the invariant checks.
    pub(super) fn recount_replica_tasks(&self, i: usize) -> u32 {
        let tasks = &self.cluster.instances[i].tasks;
        tasks
            .iter()
            .filter(|&&t| self.services[self.tasks[t].service].scheduling_strategy == SchedulingStrategy::Replica)
            .count() as u32
    }

    /// What a launch decision reads of a group's instances that count toward its capacity: how
    /// many are in each zone, and their capacity units on demand and on Spot.
    fn live_tally(&self, g: usize) -> LiveTally {
        let mut tally =
            LiveTally { per_zone: vec![0; self.cluster.availability_zones.len()], on_demand: 0, spot: 0, units: 0 };
        for (i, inst) in self.cluster.instances.iter().enumerate() {
            if inst.group != g || !self.counts_in_group(i) {
                continue;
            }
            tally.add(inst);
        }
        tally
    }

    /// Launches instances until the group holds its desired capacity, at start. While the groups
    /// fill, a launch changes no other instance, so the tally follows the launches.
    pub(super) fn fill_group(&mut self, g: usize, already_registered: bool) {
        let mut tally = self.live_tally(g);
        let mut units = tally.units;
        while units < self.groups[g].desired {
            match self.launch_for_group(g, already_registered, &mut tally) {
                Some(w) => units += w,
                None => break,
            }
        }
    }

    /// Launches one instance for the group: its type and purchase option from the mixed
    /// instances policy, its zone the group's enabled zone with the fewest instances among those
    /// up. `tally` is the group's (see `live_tally`), and counts the new instance in. Returns
    /// its weight, or None when no zone is up.
    fn launch_for_group(&mut self, g: usize, already_registered: bool, tally: &mut LiveTally) -> Option<u32> {
        let spec = &self.scenario.auto_scaling_groups[g];
        let up: Vec<usize> =
            (0..spec.availability_zones.len()).filter(|&k| !self.zones_down[spec.availability_zones[k]]).collect();
        if up.is_empty() {
            if !self.groups[g].launch_failed {
                self.groups[g].launch_failed = true;
                let detail = format!(
                    "Launching a new EC2 instance for group {} failed: none of its Availability Zones is available",
                    spec.name
                );
                self.record(EventKind::GroupScaling, None, None, None, detail);
            }
            return None;
        }
        self.groups[g].launch_failed = false;
        let per_zone: Vec<u32> = up.iter().map(|&k| tally.per_zone[spec.availability_zones[k]]).collect();
        let zone = spec.availability_zones[up[launch_availability_zone(&per_zone)]];
        let choice = match &spec.mixed_instances_policy {
            None => (spec.instance_type, Lifecycle::OnDemand, 1),
            Some(m) => {
                if m.next_is_on_demand(tally.on_demand, tally.spot) {
                    // On-demand: the "prioritized" strategy, the first type listed.
                    (m.overrides[0].0, Lifecycle::OnDemand, m.overrides[0].1)
                } else {
                    let (t, w) = self.spot_pool(&m.overrides, m.spot_allocation_strategy);
                    (t, Lifecycle::Spot, w)
                }
            }
        };
        let i = self.launch_instance(g, choice, zone, already_registered);
        if self.counts_in_group(i) {
            tally.add(&self.cluster.instances[i]);
        }
        Some(choice.2)
    }

    /// The Spot pool a launch uses (ASG:ec2-auto-scaling-mixed-instances-groups.md):
    /// lowest-price takes the cheapest per capacity unit; capacity-optimized the one least
    /// likely to be interrupted; price-capacity-optimized the cheapest among the pools whose
    /// interruption rate is within twice the lowest [assume: AWS describes it as "lowest priced
    /// of the pools with the highest capacity availability"].
    fn spot_pool(&self, overrides: &[(usize, u32)], strategy: SpotAllocationStrategy) -> (usize, u32) {
        let types = &self.scenario.instance_types;
        let per_unit = |&(t, w): &(usize, u32)| types[t].spot_price / f64::from(w);
        let rate = |&(t, _): &(usize, u32)| types[t].spot_interruption_rate;
        let best = |pool: &mut dyn Iterator<Item = &(usize, u32)>, key: &dyn Fn(&(usize, u32)) -> f64| {
            pool.fold(None::<&(usize, u32)>, |acc, x| match acc {
                Some(a) if key(a) <= key(x) => Some(a),
                _ => Some(x),
            })
            .copied()
        };
        let chosen = match strategy {
            SpotAllocationStrategy::LowestPrice => best(&mut overrides.iter(), &per_unit),
            SpotAllocationStrategy::CapacityOptimized => best(&mut overrides.iter(), &rate),
            SpotAllocationStrategy::PriceCapacityOptimized => {
                let lowest = overrides.iter().map(rate).fold(f64::INFINITY, f64::min);
                best(&mut overrides.iter().filter(|o| rate(o) <= 2.0 * lowest), &per_unit)
            }
        };
        chosen.unwrap_or(overrides[0])
    }

    /// Brings the group to its desired capacity: launches what is missing, terminates what is
    /// too much. On scale-in the termination policies choose among unprotected instances (with
    /// managed termination protection, instances running replica tasks are protected); with
    /// managed draining the chosen instance drains first. While an instance of the group is still
    /// booting, scale-in waits, so that rebalancing launches before it terminates
    /// (ASG:auto-scaling-benefits.md).
    pub(super) fn reconcile_group(&mut self, g: usize) {
        if g >= self.groups.len() || self.groups[g].reconciling {
            return;
        }
        self.groups[g].reconciling = true;
        self.bring_to_desired(g);
        self.groups[g].reconciling = false;
    }

    fn bring_to_desired(&mut self, g: usize) {
        // Asked of every group each minute, and most minutes a group is at its desired capacity:
        // its units are summed in one pass, and its instances listed only for a scale-in.
        let existing = self.cluster.instances.len();
        let mut units: u32 = self.group_members(g).map(|i| self.cluster.instances[i].weight).sum();
        if units < self.groups[g].desired {
            // A booting launch changes no other instance, so the tally follows the launches.
            let mut tally = self.live_tally(g);
            while units < self.groups[g].desired {
                match self.launch_for_group(g, false, &mut tally) {
                    Some(w) => units += w,
                    None => return,
                }
            }
        }
        if units <= self.groups[g].desired {
            self.groups[g].scale_in_held = false;
            return;
        }
        // The instances that counted before any launch above: a launch that overshoots (a
        // weighted type) is not a candidate for the scale-in that follows it.
        let mut live = self.group_instances(g);
        live.retain(|&i| i < existing);
        if live.iter().any(|&i| !self.cluster.instances[i].status.is_registered()) {
            return;
        }
        let provider = self.provider_of_group(g).map(|p| &self.scenario.capacity_providers[p]);
        let mtp = provider.is_some_and(|p| p.managed_termination_protection);
        let draining = provider.is_some_and(|p| p.managed_draining);
        let policies = self.scenario.auto_scaling_groups[g].termination_policies.clone();
        let mut candidates: Vec<TerminationCandidate> = live
            .iter()
            .map(|&i| {
                let inst = &self.cluster.instances[i];
                TerminationCandidate {
                    index: i,
                    zone: inst.availability_zone,
                    launched_at: inst.launched_at,
                    template_version: 1,
                    protected: inst.protected_from_scale_in || (mtp && self.runs_replica_tasks(i)),
                }
            })
            .collect();
        while units > self.groups[g].desired {
            let now = self.now();
            let rng = &mut self.rng.launch;
            let Some(victim) = choose_termination(&candidates, &policies, now, &mut |n| rng.random_range(0..n)) else {
                if !self.groups[g].scale_in_held {
                    self.groups[g].scale_in_held = true;
                    let detail = format!(
                        "group {} holds {units} capacity units for a desired capacity of {}: every remaining instance is protected from scale-in",
                        self.scenario.auto_scaling_groups[g].name, self.groups[g].desired
                    );
                    self.record(EventKind::GroupScaling, None, None, None, detail);
                }
                return;
            };
            candidates.retain(|c| c.index != victim);
            units -= self.cluster.instances[victim].weight;
            self.retire(victim, draining);
        }
    }

    /// Takes an instance out of its group: drained first when ECS manages the draining (the
    /// termination lifecycle hook); deregistered from the load balancer first when the group
    /// is attached to one; terminated at once otherwise.
    ///
    /// ECS itself does not drain an instance its group terminates unless managed draining (or a
    /// lifecycle hook of one's own) is set: its tasks stop with it, and the targets ECS
    /// registered for them (task targets: the service's load balancer) vanish with them. That
    /// holds for every group whose tasks come from ECS services. A group attached to a target
    /// group is different: EC2 Auto Scaling registered the *instances* there, and on scale-in it
    /// deregisters the instance and waits for the deregistration delay (connection draining,
    /// "WaitingForELBConnectionDraining") before it terminates it; the cooldown starts after
    /// that (ASG:ec2-auto-scaling-scaling-cooldowns.md: "If the group is behind an Elastic Load
    /// Balancing load balancer, it will wait for the terminating instances to deregister").
    /// Elastic Beanstalk attaches its environment's group to the environment's load balancer,
    /// which sends traffic to port 80 of the instances (EB:create_deploy_docker_ecs.md), so an
    /// environment's instance stops taking new requests, finishes those in flight for the
    /// delay, and only then goes, its task with it.
    fn retire(&mut self, i: usize, drain_first: bool) {
        self.cluster.instances[i].terminating = true;
        if drain_first && self.cluster.instances[i].status == InstanceStatus::Active {
            self.drain_instance(i);
        } else if self.cluster.instances[i].status != InstanceStatus::Draining {
            match self.deregister_instance(i) {
                Some(delay) => self.queue.schedule_in(delay, Event::Terminate { instance: i as u32 }),
                None => self.terminate_instance(i),
            }
        }
    }

    /// The target group an Auto Scaling group is attached to (its instances are the targets):
    /// an Elastic Beanstalk environment's, whose load balancer sends traffic to its instances.
    fn attached_target_group(&self, g: usize) -> Option<usize> {
        let env = self.scenario.auto_scaling_groups[g].beanstalk_environment.as_ref()?;
        let service = self.scenario.services.iter().find(|s| &s.name == env)?;
        service.load_balancer.map(|lb| lb.target_group)
    }

    /// EC2 Auto Scaling deregisters a terminating instance from the target group its group is
    /// attached to: the instance's targets drain (no new requests; those in flight finish)
    /// for the deregistration delay, which it returns. The group waits that long even when
    /// nothing is in flight [3rd: AWS re:Post, "the ALB will wait even if there are no more
    /// critical processes running on your instance"]. None when the group has no target group.
    fn deregister_instance(&mut self, i: usize) -> Option<SimTime> {
        let g = self.cluster.instances[i].group;
        let tg = self.attached_target_group(g)?;
        let spec = &self.scenario.target_groups[tg];
        let delay = spec.deregistration_delay;
        let detail = format!(
            "Auto Scaling group {} deregisters instance {} from target-group {} before terminating it (WaitingForELBConnectionDraining, {} s delay)",
            self.scenario.auto_scaling_groups[g].name,
            self.cluster.instances[i].id,
            spec.name,
            format_seconds(delay)
        );
        let tasks = self.cluster.instances[i].tasks.clone();
        for t in tasks {
            if self.task_target_group(t) != Some(tg) {
                continue;
            }
            let Some(k) = self.target_groups[tg].find(t) else { continue };
            if self.target_groups[tg].target(k).state == TargetState::Draining {
                continue;
            }
            self.change_target(tg, k, |group| group.set_draining(k));
            if let Some(serving) = self.tasks[t].serving.as_mut() {
                serving.health_timer.cancel();
            }
            let s = self.tasks[t].service;
            self.record(EventKind::TargetDraining, Some(s), Some(t), Some(i), detail.clone());
        }
        Some(delay)
    }

    /// A simple scaling activity is complete once no instance of the group is still launching
    /// (the instance is InService once booted [assume: EC2 Auto Scaling does not wait for the
    /// ECS agent]) or terminating (draining, or deregistering from the load balancer), and no
    /// scale-in is still waiting: the group's cooldown starts then
    /// (ASG:ec2-auto-scaling-scaling-cooldowns.md, "when the last instance finishes launching
    /// or terminating"). Launches and terminations the group makes meanwhile for its own sake
    /// (Spot replacements) count as part of the activity.
    pub(super) fn check_group_activity(&mut self, g: usize) {
        if g >= self.groups.len() || !self.groups[g].simple_cooldown.in_progress() {
            return;
        }
        let mut units = 0;
        for (i, inst) in self.cluster.instances.iter().enumerate() {
            if inst.group != g || inst.status == InstanceStatus::Inactive {
                continue;
            }
            if inst.status == InstanceStatus::Launching || inst.terminating {
                return;
            }
            if self.counts_in_group(i) {
                units += inst.weight;
            }
        }
        if units > self.groups[g].desired {
            return;
        }
        let now = self.now();
        self.groups[g].simple_cooldown.completed(now);
    }

    /// Once a replacement registers, instances EC2 recommended rebalancing are retired.
    pub(super) fn retire_at_risk(&mut self, g: usize) {
        let draining = self.provider_of_group(g).is_some_and(|p| self.scenario.capacity_providers[p].managed_draining);
        let at_risk: Vec<usize> = (0..self.cluster.instances.len())
            .filter(|&i| {
                let inst = &self.cluster.instances[i];
                inst.group == g && inst.at_risk && !inst.terminating && inst.status != InstanceStatus::Inactive
            })
            .collect();
        for i in at_risk {
            self.retire(i, draining);
        }
    }

    /// A drained instance chosen for termination is terminated.
    pub(super) fn terminate_if_retiring(&mut self, i: usize) {
        if self.cluster.instances[i].terminating && self.cluster.instances[i].status != InstanceStatus::Inactive {
            self.queue.schedule(self.now(), Event::Terminate { instance: i as u32 });
        }
    }

    pub(super) fn set_group_desired(&mut self, g: usize, desired: u32, cause: &str) {
        let clamped = desired.clamp(self.groups[g].min, self.groups[g].max);
        let before = self.groups[g].desired;
        if clamped == before {
            return;
        }
        self.groups[g].desired = clamped;
        let detail = format!(
            "Auto Scaling group {}: desired capacity {before} -> {clamped}. Cause: {cause}",
            self.scenario.auto_scaling_groups[g].name
        );
        self.record(EventKind::GroupScaling, None, None, None, detail);
        self.reconcile_group(g);
    }

    // ----- Spot ------------------------------------------------------------------------------

    /// Draws when EC2 will interrupt a new Spot instance, from its type's rate per
    /// instance-hour, and schedules the notice (and, with capacity rebalancing, the
    /// recommendation before it).
    pub(super) fn schedule_spot_interruption(&mut self, i: usize) {
        let rate =
            self.cluster.instance_type_of(i).spot_interruption_rate_in(self.cluster.instances[i].availability_zone);
        if rate <= 0.0 {
            return;
        }
        let hours = Distribution::Exponential { mean: 1.0 / rate }.sample(&mut self.rng.spot);
        let at = self.now().saturating_add((hours * HOUR as f64).min(u64::MAX as f64 / 2.0) as SimTime);
        if at > self.scenario.duration {
            return;
        }
        let g = self.cluster.instances[i].group;
        if self.scenario.auto_scaling_groups[g].capacity_rebalance {
            let rec = at.saturating_sub(REBALANCE_LEAD).max(self.now());
            self.queue.schedule(rec, Event::Rebalance { instance: i as u32 });
        }
        self.queue.schedule(at, Event::SpotNotice { instance: i as u32 });
    }

    /// The two-minute interruption notice. With the agent's Spot draining on, the instance goes
    /// DRAINING now and its service tasks move elsewhere; otherwise they die with it
    /// (ECS-DG:container-instance-spot.md).
    pub(super) fn spot_notice(&mut self, i: usize) {
        let inst = &self.cluster.instances[i];
        if inst.status == InstanceStatus::Inactive || inst.lifecycle != Lifecycle::Spot {
            return;
        }
        let g = inst.group;
        let draining = self.scenario.auto_scaling_groups[g].spot_instance_draining;
        let detail = format!(
            "EC2 Spot Instance interruption notice: the instance is interrupted in 2 minutes{}",
            if draining { "; the agent sets it to DRAINING (ECS_ENABLE_SPOT_INSTANCE_DRAINING)" } else { "" }
        );
        self.record(EventKind::SpotInterruption, None, None, Some(i), detail);
        if draining {
            self.drain_instance(i);
        }
        self.queue.schedule_in(SPOT_NOTICE, Event::Terminate { instance: i as u32 });
    }

    /// A rebalance recommendation: with capacity rebalancing the group launches a replacement
    /// now and retires this instance once the replacement is in service
    /// (ASG:ec2-auto-scaling-capacity-rebalancing.md).
    pub(super) fn rebalance_recommendation(&mut self, i: usize) {
        let inst = &self.cluster.instances[i];
        if inst.status == InstanceStatus::Inactive || inst.terminating {
            return;
        }
        let g = inst.group;
        self.record(
            EventKind::RebalanceRecommendation,
            None,
            None,
            Some(i),
            "EC2 instance rebalance recommendation: the group launches a replacement first".into(),
        );
        self.cluster.instances[i].at_risk = true;
        self.reconcile_group(g);
    }

    // ----- Availability Zone outages ---------------------------------------------------------

    /// A zone fails: its instances and their tasks are lost at once, and the groups launch their
    /// replacements in the other zones.
    pub(super) fn az_outage(&mut self, zone: usize, duration: SimTime) {
        self.zones_down[zone] = true;
        let name = self.cluster.availability_zones[zone].clone();
        let lost: Vec<usize> = (0..self.cluster.instances.len())
            .filter(|&i| {
                self.cluster.instances[i].availability_zone == zone
                    && self.cluster.instances[i].status != InstanceStatus::Inactive
            })
            .collect();
        let detail = format!(
            "Availability Zone {name} is unavailable for {} s: {} instances lost",
            duration / crate::engine::SECOND,
            lost.len()
        );
        self.record(EventKind::AzOutage, None, None, None, detail);
        for i in lost {
            self.terminate_instance(i);
        }
        self.queue.schedule_in(duration, Event::AzRecovered { zone: zone as u32 });
    }

    /// The zone is back: each group launches into it until its zones are balanced again, then
    /// terminates the surplus from the fullest zones (AZRebalance launches before it terminates).
    pub(super) fn az_recovered(&mut self, zone: usize) {
        self.zones_down[zone] = false;
        let name = self.cluster.availability_zones[zone].clone();
        self.record(EventKind::AzRecovered, None, None, None, format!("Availability Zone {name} is available again"));
        for g in 0..self.groups.len() {
            let spec = &self.scenario.auto_scaling_groups[g];
            let Some(k) = spec.availability_zones.iter().position(|&z| z == zone) else { continue };
            let live = self.group_instances(g);
            let zones = spec.availability_zones.len() as u32;
            let fair = (live.len() as u32) / zones;
            let here = live
                .iter()
                .filter(|&&i| self.cluster.instances[i].availability_zone == spec.availability_zones[k])
                .count() as u32;
            for _ in here..fair {
                let choice = (spec.instance_type, Lifecycle::OnDemand, 1);
                let choice = match &spec.mixed_instances_policy {
                    Some(m) => (m.overrides[0].0, Lifecycle::OnDemand, m.overrides[0].1),
                    None => choice,
                };
                self.launch_instance(g, choice, zone, false);
            }
            self.reconcile_group(g);
        }
    }
}
