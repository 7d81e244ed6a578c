//! The cluster as placement sees it: container instances, their attributes, and how many tasks
//! of each task group every instance runs.

use std::collections::BTreeMap;

use super::cluster_query::InstanceFacts;
use super::ec2::{ContainerInstance, InstanceType};

/// Tasks of a service belong to the task group named after the service; standalone tasks to
/// `family:<family>` (ECS-DG:task-groups.md). Groups are numbered in the order they are defined.
pub type TaskGroup = usize;

/// The ECS agent version the simulated instances report, for `agentVersion` queries.
pub const AGENT_VERSION: &str = "1.86.0";

pub struct Cluster {
    pub name: String,
    pub availability_zones: Vec<String>,
    pub instance_types: Vec<InstanceType>,
    pub instances: Vec<ContainerInstance>,
    /// Custom attributes per instance (`attribute:<name>` in queries), from its group.
    pub custom_attributes: Vec<BTreeMap<String, String>>,
    group_names: Vec<String>,
    group_index: BTreeMap<String, TaskGroup>,
    /// `group_tasks[g][i]`: non-stopped tasks of group `g` on instance `i`.
    group_tasks: Vec<Vec<u32>>,
    /// `zone_tasks[g][z]`: the sum of `group_tasks[g][i]` over the instances `i` in Availability
    /// Zone `z`, whatever their status, kept as tasks come and go so that the zone spread need not
    /// add them up per placement. An instance's zone is fixed at launch.
    zone_tasks: Vec<Vec<u64>>,
    /// `zone_instances[z]`: the instances launched in Availability Zone `z`, in launch order. An
    /// instance's zone is fixed at launch and instances are never renumbered, so placement can
    /// visit only the zones the zone spread rates best.
    zone_instances: Vec<Vec<usize>>,
}

impl Cluster {
    pub fn new(name: String, availability_zones: Vec<String>, instance_types: Vec<InstanceType>) -> Self {
        Cluster {
            name,
            availability_zones,
            instance_types,
            instances: Vec::new(),
            custom_attributes: Vec::new(),
            group_names: Vec::new(),
            group_index: BTreeMap::new(),
            group_tasks: Vec::new(),
            zone_tasks: Vec::new(),
            zone_instances: Vec::new(),
        }
    }

    /// Registers a task group and returns its number; the same name gives the same number.
    pub fn task_group(&mut self, name: &str) -> TaskGroup {
        if let Some(&g) = self.group_index.get(name) {
            return g;
        }
        let g = self.group_names.len();
        self.group_names.push(name.to_string());
        self.group_index.insert(name.to_string(), g);
        self.group_tasks.push(vec![0; self.instances.len()]);
        self.zone_tasks.push(vec![0; self.availability_zones.len()]);
        g
    }

    pub fn add_instance(&mut self, instance: ContainerInstance, attributes: BTreeMap<String, String>) -> usize {
        let index = self.instances.len();
        let zone = instance.availability_zone;
        if self.zone_instances.len() <= zone {
            self.zone_instances.resize(zone + 1, Vec::new());
        }
        self.zone_instances[zone].push(index);
        self.instances.push(instance);
        self.custom_attributes.push(attributes);
        for counts in &mut self.group_tasks {
            counts.push(0);
        }
        index
    }

    pub fn group_tasks_on(&self, group: TaskGroup, instance: usize) -> u32 {
        self.group_tasks[group][instance]
    }

    /// The non-stopped tasks of `group` on every instance, by instance.
    pub fn group_task_counts(&self, group: TaskGroup) -> &[u32] {
        &self.group_tasks[group]
    }

    /// The non-stopped tasks of `group` per Availability Zone, on every instance of the zone
    /// whether registered or not.
    pub fn group_tasks_per_zone(&self, group: TaskGroup) -> &[u64] {
        &self.zone_tasks[group]
    }

    /// The instances in Availability Zone `zone`, whatever their status, in launch order.
    pub fn instances_in_zone(&self, zone: usize) -> &[usize] {
        self.zone_instances.get(zone).map_or(&[], Vec::as_slice)
    }

    /// Whether every instance is listed under its zone, once, in launch order, and nothing else
    /// is: the zone index mirrors the instances' zones.
    pub fn zone_index_matches(&self) -> bool {
        let zones = self
            .zone_instances
            .len()
            .max(self.instances.iter().map(|inst| inst.availability_zone + 1).max().unwrap_or(0));
        (0..zones).all(|z| {
            self.instances_in_zone(z)
                .iter()
                .copied()
                .eq((0..self.instances.len()).filter(|&i| self.instances[i].availability_zone == z))
        })
    }

    pub fn add_group_task(&mut self, group: TaskGroup, instance: usize) {
        self.group_tasks[group][instance] += 1;
        self.zone_tasks[group][self.instances[instance].availability_zone] += 1;
    }

    pub fn remove_group_task(&mut self, group: TaskGroup, instance: usize) {
        let c = &mut self.group_tasks[group][instance];
        if *c > 0 {
            *c -= 1;
            self.zone_tasks[group][self.instances[instance].availability_zone] -= 1;
        }
    }

    /// Whether a task of `group` may go on the instance at all: a container instance of the
    /// cluster (not a Fargate task's micro-VM) that is not dedicated to another task group (an
    /// Elastic Beanstalk environment's instances run only its task).
    pub fn admits(&self, instance: usize, group: TaskGroup) -> bool {
        admits(&self.instances[instance], group)
    }

    pub fn instance_type_of(&self, instance: usize) -> &InstanceType {
        &self.instance_types[self.instances[instance].instance_type]
    }

    pub fn availability_zone_of(&self, instance: usize) -> &str {
        &self.availability_zones[self.instances[instance].availability_zone]
    }

    /// An attribute's value on an instance: the built-in `ecs.*` attributes
    /// (ECS-DG:task-placement-constraints.md) or a custom one from the instance's group.
    pub fn attribute(&self, instance: usize, name: &str) -> Option<&str> {
        match name {
            "ecs.availability-zone" => Some(self.availability_zone_of(instance)),
            "ecs.instance-type" => Some(&self.instance_type_of(instance).name),
            "ecs.cpu-architecture" => Some(self.instance_type_of(instance).architecture.as_str()),
            "ecs.os-type" => Some("linux"),
            "ecs.os-family" => Some("LINUX"),
            _ => self.custom_attributes[instance].get(name).map(String::as_str),
        }
    }

    /// A view of one instance for cluster-query expressions.
    pub fn facts(&self, instance: usize) -> InstanceView<'_> {
        InstanceView { cluster: self, instance, without: None }
    }

    /// A view of one instance as if one task of `group` were not on it: how a DAEMON service
    /// judges whether an instance still meets its constraints, since its own task must not count
    /// against them.
    pub fn facts_without(&self, instance: usize, group: TaskGroup) -> InstanceView<'_> {
        InstanceView { cluster: self, instance, without: Some(group) }
    }
}

/// [`Cluster::admits`], for an instance at hand.
#[inline]
pub fn admits(inst: &ContainerInstance, group: TaskGroup) -> bool {
    !inst.fargate && inst.dedicated_to.is_none_or(|g| g == group)
}

pub struct InstanceView<'a> {
    cluster: &'a Cluster,
    instance: usize,
    /// One task of this group is left out of the counts.
    without: Option<TaskGroup>,
}

impl InstanceFacts for InstanceView<'_> {
    fn attribute(&self, name: &str) -> Option<&str> {
        self.cluster.attribute(self.instance, name)
    }

    fn ec2_instance_id(&self) -> &str {
        &self.cluster.instances[self.instance].id
    }

    fn agent_connected(&self) -> bool {
        self.cluster.instances[self.instance].status.is_registered()
    }

    fn agent_version(&self) -> &str {
        AGENT_VERSION
    }

    fn running_tasks_count(&self) -> u32 {
        let n = self.cluster.instances[self.instance].tasks.len() as u32;
        n - u32::from(self.without.is_some() && n > 0)
    }

    fn has_task_in_group(&self, group: &str) -> bool {
        self.cluster.group_index.get(group).is_some_and(|&g| {
            let n = self.cluster.group_tasks[g][self.instance];
            n > u32::from(self.without == Some(g))
        })
    }

    fn has_any_task(&self) -> bool {
        self.running_tasks_count() > 0
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::model::ec2::{InstanceStatus, builtin_instance_types};

    #[derive(Clone, Debug)]
    enum Op {
        Launch { zone: usize },
        Add { group: TaskGroup, instance: usize },
        Remove { group: TaskGroup, instance: usize },
        Deregister { instance: usize },
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            1 => (0..3usize).prop_map(|zone| Op::Launch { zone }),
            4 => (0..2usize, 0..8usize).prop_map(|(group, instance)| Op::Add { group, instance }),
            3 => (0..2usize, 0..8usize).prop_map(|(group, instance)| Op::Remove { group, instance }),
            1 => (0..8usize).prop_map(|instance| Op::Deregister { instance }),
        ]
    }

    proptest! {
        /// Each zone's count of a group's tasks is the sum over the zone's instances, registered
        /// or not, after any mix of launches, tasks started and stopped (more stops than tasks
        /// included) and deregistrations.
        #[test]
        fn tasks_per_zone_match_a_recount(ops in proptest::collection::vec(op(), 0..80)) {
            let zones = vec!["a".to_string(), "b".to_string(), "c".to_string()];
            let itype = builtin_instance_types().remove("m5.large").expect("a built-in type");
            let mut cluster = Cluster::new("c".into(), zones, vec![itype]);
            let groups = [cluster.task_group("service:a"), cluster.task_group("service:b")];
            for op in ops {
                let n = cluster.instances.len();
                match op {
                    Op::Launch { zone } => {
                        let itype = &cluster.instance_types[0];
                        let inst = ContainerInstance::new(format!("i-{n}"), 0, (0, itype), zone, 0, (32768, 60999), 0);
                        cluster.add_instance(inst, BTreeMap::new());
                    }
                    Op::Add { group, instance } if instance < n => cluster.add_group_task(groups[group], instance),
                    Op::Remove { group, instance } if instance < n => cluster.remove_group_task(groups[group], instance),
                    Op::Deregister { instance } if instance < n => {
                        cluster.instances[instance].status = InstanceStatus::Inactive;
                    }
                    _ => {}
                }
                for &g in &groups {
                    let mut recount = [0u64; 3];
                    for (i, inst) in cluster.instances.iter().enumerate() {
                        recount[inst.availability_zone] += u64::from(cluster.group_tasks_on(g, i));
                    }
                    prop_assert_eq!(cluster.group_tasks_per_zone(g), &recount[..]);
                }
                prop_assert!(cluster.zone_index_matches(), "the zone index lost track of an instance");
            }
        }
    }

    /// The zone index check notices an instance listed under a zone it is not in.
    #[test]
    fn zone_index_check_notices_a_moved_instance() {
        let zones = vec!["a".to_string(), "b".to_string()];
        let itype = builtin_instance_types().remove("m5.large").expect("a built-in type");
        let mut cluster = Cluster::new("c".into(), zones, vec![itype]);
        for (n, zone) in [0, 1, 0].into_iter().enumerate() {
            let itype = &cluster.instance_types[0];
            let inst = ContainerInstance::new(format!("i-{n}"), 0, (0, itype), zone, 0, (32768, 60999), 0);
            cluster.add_instance(inst, BTreeMap::new());
        }
        assert!(cluster.zone_index_matches());
        assert_eq!(cluster.instances_in_zone(0), &[0, 2]);
        assert_eq!(cluster.instances_in_zone(1), &[1]);
        assert_eq!(cluster.instances_in_zone(2), &[] as &[usize]);
        cluster.instances[2].availability_zone = 1;
        assert!(!cluster.zone_index_matches());
    }
}
