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
