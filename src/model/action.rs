//! Scripted actions: what an operator (or a script) does to the cluster at a given time.

use crate::engine::SimTime;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// `UpdateService --desired-count`.
    SetDesiredCount { service: usize, desired_count: u32 },
    /// `StopTask` on `count` of the service's tasks, chosen at random.
    StopTasks { service: usize, count: u32 },
    /// `UpdateContainerInstancesState --status DRAINING`.
    DrainInstance { instance: String },
    /// `UpdateContainerInstancesState --status ACTIVE`.
    ActivateInstance { instance: String },
    /// `TerminateInstanceInAutoScalingGroup`: the instance and its tasks are gone at once; the
    /// group replaces it unless its desired capacity is decremented.
    TerminateInstance { instance: String, should_decrement_desired_capacity: bool },
    /// `UpdateService --task-definition`: a new deployment of another task definition (revision).
    UpdateService { service: usize, task_definition: usize },
    /// `UpdateService --force-new-deployment`: a new deployment of the same task definition.
    ForceNewDeployment { service: usize },
    /// `SetDesiredCapacity` on an Auto Scaling group.
    SetDesiredCapacity { group: usize, desired_capacity: u32 },
    /// EC2 sends a Spot instance its two-minute interruption notice.
    InterruptSpot { instance: String },
    /// An Availability Zone fails for a while: its instances and their tasks are lost and no
    /// instance launches into it until it recovers.
    AzOutage { zone: usize, duration: SimTime },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScheduledAction {
    pub at: SimTime,
    pub action: Action,
}
