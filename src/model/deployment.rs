//! Service deployments under the rolling update (`ECS`) controller: each deployment runs one
//! task definition; the newest is PRIMARY, the ones it replaces are ACTIVE until their tasks
//! are gone; its rollout is IN_PROGRESS, then COMPLETED, or FAILED when the deployment circuit
//! breaker trips (ECS-DG:deployment-type-ecs.md, ECS-DG:deployment-circuit-breaker.md).

/// `status` of a deployment in DescribeServices.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeploymentStatus {
    Primary,
    Active,
    Inactive,
}

impl DeploymentStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            DeploymentStatus::Primary => "PRIMARY",
            DeploymentStatus::Active => "ACTIVE",
            DeploymentStatus::Inactive => "INACTIVE",
        }
    }
}

/// `rolloutState` of a deployment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RolloutState {
    InProgress,
    Completed,
    Failed,
}

impl RolloutState {
    pub fn as_str(self) -> &'static str {
        match self {
            RolloutState::InProgress => "IN_PROGRESS",
            RolloutState::Completed => "COMPLETED",
            RolloutState::Failed => "FAILED",
        }
    }
}

/// `deploymentCircuitBreaker` of a service's deployment configuration.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CircuitBreaker {
    pub rollback: bool,
    /// The least failure threshold: 3 in the current API, 10 in the June 2023 documentation
    /// (AWS-SEMANTICS.md §2.3).
    pub minimum_threshold: u32,
}

/// The current API's minimum threshold (API_ServiceDeploymentCircuitBreaker, live doc).
pub const DEFAULT_MINIMUM_THRESHOLD: u32 = 3;
/// The maximum threshold.
pub const MAXIMUM_THRESHOLD: u32 = 200;

impl CircuitBreaker {
    /// The failure threshold: half the desired count rounded up, within [minimum, 200]
    /// (ECS-DG:deployment-circuit-breaker.md: desired 1 → 10, 25 → 13, 400 → 200 with the
    /// documented minimum of 10).
    pub fn threshold(&self, desired: u32) -> u32 {
        desired.div_ceil(2).clamp(self.minimum_threshold, MAXIMUM_THRESHOLD.max(self.minimum_threshold))
    }
}

/// One deployment of a service.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Deployment {
    /// `ecs-svc/<n>`: n counts the service's deployments from 1.
    pub number: u32,
    pub task_definition: usize,
    pub status: DeploymentStatus,
    pub rollout: RolloutState,
    /// Failures the circuit breaker counted: tasks that did not reach RUNNING, and RUNNING tasks
    /// that failed their health checks.
    pub failures: u32,
    /// Why the deployment started (a rollback names the failed one).
    pub reason: String,
    /// The target group its tasks register with: the service's, or under blue/green the one its
    /// task set uses.
    pub target_group: Option<usize>,
}

impl Deployment {
    pub fn id(&self) -> String {
        format!("ecs-svc/{}", self.number)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thresholds_follow_the_documented_table() {
        let legacy = CircuitBreaker { rollback: true, minimum_threshold: 10 };
        assert_eq!(legacy.threshold(1), 10);
        assert_eq!(legacy.threshold(25), 13);
        assert_eq!(legacy.threshold(400), 200);
        assert_eq!(legacy.threshold(800), 200);
        let current = CircuitBreaker { rollback: true, minimum_threshold: DEFAULT_MINIMUM_THRESHOLD };
        assert_eq!(current.threshold(1), 3);
        assert_eq!(current.threshold(6), 3);
        assert_eq!(current.threshold(9), 5);
    }
}

/// How CodeDeploy moves production traffic from the original task set to the replacement
/// (CD:deployment-configurations.md).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TrafficRouting {
    AllAtOnce,
    /// `percentage` first, the rest `interval` later.
    Canary {
        percentage: u32,
        interval: SimTime,
    },
    /// `percentage` more every `interval` until all of it.
    Linear {
        percentage: u32,
        interval: SimTime,
    },
}

impl TrafficRouting {
    /// The predefined configurations, by name (with or without `CodeDeployDefault.`).
    pub fn predefined(name: &str) -> Option<TrafficRouting> {
        let minute = crate::engine::MINUTE;
        Some(match name.strip_prefix("CodeDeployDefault.").unwrap_or(name) {
            "ECSAllAtOnce" => TrafficRouting::AllAtOnce,
            "ECSLinear10PercentEvery1Minutes" => TrafficRouting::Linear { percentage: 10, interval: minute },
            "ECSLinear10PercentEvery3Minutes" => TrafficRouting::Linear { percentage: 10, interval: 3 * minute },
            "ECSCanary10Percent5Minutes" => TrafficRouting::Canary { percentage: 10, interval: 5 * minute },
            "ECSCanary10Percent15Minutes" => TrafficRouting::Canary { percentage: 10, interval: 15 * minute },
            _ => return None,
        })
    }

    pub const PREDEFINED: [&'static str; 5] = [
        "ECSAllAtOnce",
        "ECSLinear10PercentEvery1Minutes",
        "ECSLinear10PercentEvery3Minutes",
        "ECSCanary10Percent5Minutes",
        "ECSCanary10Percent15Minutes",
    ];

    /// The shifts: (time after the shifting starts, share of production traffic on the
    /// replacement, %).
    pub fn steps(&self) -> Vec<(SimTime, u32)> {
        match *self {
            TrafficRouting::AllAtOnce => vec![(0, 100)],
            TrafficRouting::Canary { percentage, interval } => vec![(0, percentage.min(100)), (interval, 100)],
            TrafficRouting::Linear { percentage, interval } => {
                let p = percentage.clamp(1, 100);
                (1..=100u32.div_ceil(p)).map(|k| (u64::from(k - 1) * interval, (k * p).min(100))).collect()
            }
        }
    }
}

impl std::fmt::Display for TrafficRouting {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let minutes = |t: SimTime| t / crate::engine::MINUTE;
        match *self {
            TrafficRouting::AllAtOnce => write!(f, "all at once"),
            TrafficRouting::Canary { percentage, interval } => {
                write!(f, "canary, {percentage}% then the rest after {} min", minutes(interval))
            }
            TrafficRouting::Linear { percentage, interval } => {
                write!(f, "linear, {percentage}% every {} min", minutes(interval))
            }
        }
    }
}

/// A service deployed blue/green by CodeDeploy: the second target group, how traffic shifts,
/// and how long the original task set lives after the shift (TerminationWaitTimeInMinutes).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BlueGreen {
    pub green_target_group: usize,
    pub routing: TrafficRouting,
    pub termination_wait: SimTime,
}

use crate::engine::SimTime;

#[cfg(test)]
mod routing_tests {
    use super::*;
    use crate::engine::MINUTE;

    #[test]
    fn predefined_configurations_shift_as_documented() {
        let canary = TrafficRouting::predefined("CodeDeployDefault.ECSCanary10Percent5Minutes").unwrap();
        assert_eq!(canary.steps(), vec![(0, 10), (5 * MINUTE, 100)]);
        let linear = TrafficRouting::predefined("ECSLinear10PercentEvery3Minutes").unwrap();
        let steps = linear.steps();
        assert_eq!(steps.len(), 10);
        assert_eq!(steps[1], (3 * MINUTE, 20));
        assert_eq!(steps[9], (27 * MINUTE, 100));
        assert_eq!(TrafficRouting::AllAtOnce.steps(), vec![(0, 100)]);
        assert!(TrafficRouting::predefined("ECSCanary50Percent").is_none());
        // A custom linear 30%: 30, 60, 90, 100.
        let custom = TrafficRouting::Linear { percentage: 30, interval: MINUTE };
        assert_eq!(custom.steps().iter().map(|s| s.1).collect::<Vec<_>>(), vec![30, 60, 90, 100]);
    }
}
