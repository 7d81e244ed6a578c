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
        g
    }

    pub fn add_instance(&mut self, instance: ContainerInstance, attributes: BTreeMap<String, String>) -> usize {
        let index = self.instances.len();
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

    pub fn add_group_task(&mut self, group: TaskGroup, instance: usize) {
        self.group_tasks[group][instance] += 1;
    }

    pub fn remove_group_task(&mut self, group: TaskGroup, instance: usize) {
        let c = &mut self.group_tasks[group][instance];
        *c = c.saturating_sub(1);
    }

    /// Whether a task of `group` may go on the instance at all: a container instance of the
    /// cluster (not a Fargate task's micro-VM) that is not dedicated to another task group (an
    /// Elastic Beanstalk environment's instances run only its task).
    pub fn admits(&self, instance: usize, group: TaskGroup) -> bool {
        let inst = &self.instances[instance];
        !inst.fargate && inst.dedicated_to.is_none_or(|g| g == group)
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
