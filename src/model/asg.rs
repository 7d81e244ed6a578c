//! EC2 Auto Scaling groups: where the cluster's instances come from, over which Availability
//! Zones, and how long each takes from launch to a registered container instance.

use std::collections::BTreeMap;

use crate::engine::{Distribution, SECOND};

#[derive(Clone, Debug)]
pub struct AutoScalingGroup {
    pub name: String,
    /// Index into the scenario's instance types.
    pub instance_type: usize,
    pub desired_capacity: u32,
    /// Indices into the cluster's Availability Zones.
    pub availability_zones: Vec<usize>,
    /// Custom container-instance attributes, for `memberOf` and `spread`.
    pub attributes: BTreeMap<String, String>,
    /// From EC2 launch to a booted OS with the ECS agent starting, ms.
    pub boot_time: Distribution,
    /// From agent start to `RegisterContainerInstance`, ms.
    pub agent_registration_time: Distribution,
    /// Whether the initial instances boot during the run (true) or are already registered
    /// when it starts (false).
    pub boot_at_start: bool,
    /// `ECS_RESERVED_MEMORY`, MiB taken off the registered memory (agent default 0).
    pub reserved_memory: u32,
    /// The agent's dynamic host port range.
    pub dynamic_host_port_range: (u16, u16),
    pub min_size: u32,
    pub max_size: u32,
    /// Several instance types, on-demand and Spot; without it every instance is the launch
    /// template's type, on-demand.
    pub mixed_instances_policy: Option<MixedInstancesPolicy>,
    pub termination_policies: Vec<TerminationPolicy>,
    pub new_instances_protected_from_scale_in: bool,
    /// New instances leave the group's CPU metric out until warmed up; scaling policies scale
    /// from the capacity before a scale-out meanwhile. Off (None) by default
    /// (ASG:ec2-auto-scaling-default-instance-warmup.md).
    pub default_instance_warmup: Option<SimTime>,
    /// Replace a Spot instance as soon as EC2 recommends a rebalance, before it is interrupted.
    pub capacity_rebalance: bool,
    /// The agent's `ECS_ENABLE_SPOT_INSTANCE_DRAINING`: a Spot instance goes DRAINING at its
    /// interruption notice (default false, AGENT).
    pub spot_instance_draining: bool,
    /// The period of the group's EC2 metrics: 300 s (basic monitoring, the EC2 default) or 60 s
    /// (detailed).
    pub metric_period: SimTime,
    /// The group's own scaling policies, on its metrics.
    pub scaling: Option<super::autoscaling::ServiceScaling>,
    /// The container instance role (`ecsInstanceRole` with AmazonEC2ContainerServiceforEC2Role
    /// unless the scenario says otherwise): it pulls from ECR when a task has no execution role.
    pub instance_role: Option<super::iam::Role>,
    /// An Elastic Beanstalk environment's group: only its environment's task runs here.
    pub beanstalk_environment: Option<String>,
}

/// EC2 boot until the agent starts: 40–80 s. With the agent's registration (20–40 s) this gives
/// the 60–120 s from launch to registration that AWS-SEMANTICS.md §5/§12 suggests; AWS does not
/// document the figure [assume].
pub fn default_boot_time() -> Distribution {
    Distribution::Uniform { min: (40 * SECOND) as f64, max: (80 * SECOND) as f64 }
}

/// Agent start until the instance is registered and ACTIVE: 20–40 s [assume], see
/// [`default_boot_time`].
pub fn default_agent_registration_time() -> Distribution {
    Distribution::Uniform { min: (20 * SECOND) as f64, max: (40 * SECOND) as f64 }
}

/// The Availability Zone for the next launch: the enabled zone with the fewest instances of the
/// group, the first such in the group's list on a tie (ASG:auto-scaling-benefits.md, "Instance
/// distribution").
pub fn launch_availability_zone(instances_per_zone: &[u32]) -> usize {
    instances_per_zone.iter().enumerate().min_by_key(|&(i, &n)| (n, i)).map_or(0, |(i, _)| i)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn launches_go_to_the_emptiest_zone() {
        assert_eq!(launch_availability_zone(&[2, 1, 1]), 1);
        assert_eq!(launch_availability_zone(&[0, 0, 0]), 0);
        assert_eq!(launch_availability_zone(&[3, 3, 2]), 2);
    }

    #[test]
    fn seven_launches_over_three_zones_balance() {
        let mut per_zone = [0u32; 3];
        for _ in 0..7 {
            let z = launch_availability_zone(&per_zone);
            per_zone[z] += 1;
        }
        assert_eq!(per_zone, [3, 2, 2]);
    }
}

/// How the group chooses which instance to terminate when it scales in, after balancing the
/// Availability Zones (ASG:ec2-auto-scaling-termination-policies.md).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TerminationPolicy {
    /// Oldest launch template, then closest to the next instance hour, then at random.
    Default,
    OldestInstance,
    NewestInstance,
    OldestLaunchTemplate,
    ClosestToNextInstanceHour,
}

impl TerminationPolicy {
    pub const NAMES: [&'static str; 5] =
        ["Default", "OldestInstance", "NewestInstance", "OldestLaunchTemplate", "ClosestToNextInstanceHour"];

    pub fn from_name(name: &str) -> Option<TerminationPolicy> {
        Some(match name {
            "Default" => TerminationPolicy::Default,
            "OldestInstance" => TerminationPolicy::OldestInstance,
            "NewestInstance" => TerminationPolicy::NewestInstance,
            "OldestLaunchTemplate" => TerminationPolicy::OldestLaunchTemplate,
            "ClosestToNextInstanceHour" => TerminationPolicy::ClosestToNextInstanceHour,
            _ => return None,
        })
    }
}

/// What the termination policies know of a candidate instance.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TerminationCandidate {
    pub index: usize,
    pub zone: usize,
    pub launched_at: SimTime,
    /// Which launch template version launched it (higher is newer).
    pub template_version: u32,
    pub protected: bool,
}

/// Chooses the instance to terminate on scale-in (ASG:ec2-auto-scaling-termination-policies.md):
/// first the Availability Zone with the most instances that has an unprotected one, then the
/// policies in order, each keeping the instances it prefers; a remaining tie goes to the lowest
/// `tie_break` draw (random in the world). Protected instances are never chosen.
pub fn choose_termination(
    candidates: &[TerminationCandidate],
    policies: &[TerminationPolicy],
    now: SimTime,
    tie_break: &mut dyn FnMut(usize) -> usize,
) -> Option<usize> {
    let open: Vec<&TerminationCandidate> = candidates.iter().filter(|c| !c.protected).collect();
    let zones_with_open: Vec<usize> = open.iter().map(|c| c.zone).collect();
    let per_zone = |z: usize| candidates.iter().filter(|c| c.zone == z).count();
    let busiest = zones_with_open.iter().copied().max_by_key(|&z| (per_zone(z), std::cmp::Reverse(z)))?;
    let mut pool: Vec<&TerminationCandidate> = open.into_iter().filter(|c| c.zone == busiest).collect();
    let keep_min = |pool: &mut Vec<&TerminationCandidate>, key: &dyn Fn(&TerminationCandidate) -> u64| {
        let best = pool.iter().map(|c| key(c)).min().unwrap_or(0);
        pool.retain(|c| key(c) == best);
    };
    // Time left to the next whole hour of running: the less, the closer.
    let to_next_hour = |c: &TerminationCandidate| {
        let up = now.saturating_sub(c.launched_at) % crate::engine::HOUR;
        crate::engine::HOUR - up
    };
    for policy in policies {
        if pool.len() <= 1 {
            break;
        }
        match policy {
            TerminationPolicy::Default => {
                keep_min(&mut pool, &|c| u64::from(c.template_version));
                keep_min(&mut pool, &to_next_hour);
            }
            TerminationPolicy::OldestInstance => keep_min(&mut pool, &|c| c.launched_at),
            TerminationPolicy::NewestInstance => keep_min(&mut pool, &|c| u64::MAX - c.launched_at),
            TerminationPolicy::OldestLaunchTemplate => keep_min(&mut pool, &|c| u64::from(c.template_version)),
            TerminationPolicy::ClosestToNextInstanceHour => keep_min(&mut pool, &to_next_hour),
        }
    }
    let k = if pool.len() == 1 { 0 } else { tie_break(pool.len()) };
    Some(pool[k].index)
}

use crate::engine::SimTime;

/// Spot or on-demand: how an instance is bought and billed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lifecycle {
    OnDemand,
    Spot,
}

impl Lifecycle {
    pub fn as_str(self) -> &'static str {
        match self {
            Lifecycle::OnDemand => "on-demand",
            Lifecycle::Spot => "spot",
        }
    }
}

/// How a mixed-instances group picks Spot pools (ASG:ec2-auto-scaling-mixed-instances-groups.md).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SpotAllocationStrategy {
    /// The cheapest pool per unit of capacity.
    LowestPrice,
    /// The pool least likely to be interrupted.
    CapacityOptimized,
    /// Low interruption risk and low price together (the recommended default).
    PriceCapacityOptimized,
}

/// A mixed instances policy: instance types with weights, and the split between on-demand and
/// Spot capacity.
#[derive(Clone, Debug, PartialEq)]
pub struct MixedInstancesPolicy {
    /// (instance type index, weight in capacity units), in priority order.
    pub overrides: Vec<(usize, u32)>,
    pub on_demand_base_capacity: u32,
    pub on_demand_percentage_above_base: u32,
    pub spot_allocation_strategy: SpotAllocationStrategy,
}

impl MixedInstancesPolicy {
    /// Whether the next unit of capacity is on-demand: until the base is met, yes; above it, as
    /// long as the on-demand share of the capacity above the base stays under the percentage.
    pub fn next_is_on_demand(&self, on_demand_units: u32, spot_units: u32) -> bool {
        if on_demand_units < self.on_demand_base_capacity {
            return true;
        }
        let above_od = on_demand_units - self.on_demand_base_capacity;
        let above_total = above_od + spot_units + 1;
        u64::from(above_od) * 100 < u64::from(self.on_demand_percentage_above_base) * u64::from(above_total)
    }
}

#[cfg(test)]
mod capacity_tests {
    use super::*;
    use crate::engine::{HOUR, MINUTE};

    fn c(index: usize, zone: usize, launched_min: u64) -> TerminationCandidate {
        TerminationCandidate { index, zone, launched_at: launched_min * MINUTE, template_version: 1, protected: false }
    }

    #[test]
    fn the_default_policy_balances_zones_first_then_the_next_instance_hour() {
        // Three AZs, the first unbalanced with three instances: the victim comes from it, and of
        // its instances (running 60, 50 and 80 minutes) the one closest to its next full hour of
        // billing: 50 minutes in, 10 to go.
        let now = 2 * HOUR;
        let group = [c(0, 0, 60), c(1, 0, 70), c(2, 0, 40), c(3, 1, 0), c(4, 2, 0)];
        let mut never = |_n: usize| -> usize { panic!("no tie expected") };
        assert_eq!(choose_termination(&group, &[TerminationPolicy::Default], now, &mut never), Some(1));
    }

    #[test]
    fn protected_instances_are_never_chosen_and_policies_apply_in_order() {
        let now = 3 * HOUR;
        let mut group = vec![c(0, 0, 10), c(1, 0, 20), c(2, 0, 30)];
        group[0].protected = true;
        let mut first = |_n: usize| 0;
        assert_eq!(choose_termination(&group, &[TerminationPolicy::OldestInstance], now, &mut first), Some(1));
        assert_eq!(choose_termination(&group, &[TerminationPolicy::NewestInstance], now, &mut first), Some(2));
        for g in &mut group {
            g.protected = true;
        }
        assert_eq!(choose_termination(&group, &[TerminationPolicy::Default], now, &mut first), None);
    }

    #[test]
    fn on_demand_base_then_percentage_above_it() {
        // Base 2, 25% on-demand above it: units 1-2 on-demand, then 1 in 4 on-demand.
        let p = MixedInstancesPolicy {
            overrides: vec![(0, 1)],
            on_demand_base_capacity: 2,
            on_demand_percentage_above_base: 25,
            spot_allocation_strategy: SpotAllocationStrategy::LowestPrice,
        };
        let (mut od, mut spot) = (0, 0);
        let mut kinds = String::new();
        for _ in 0..10 {
            if p.next_is_on_demand(od, spot) {
                od += 1;
                kinds.push('O');
            } else {
                spot += 1;
                kinds.push('S');
            }
        }
        assert_eq!(kinds, "OOOSSSOSSS");
        assert_eq!((od, spot), (4, 6));
    }
}
