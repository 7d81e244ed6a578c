//! Elastic Beanstalk's multi-container Docker environments (the ECS platform branch, which reads
//! `Dockerrun.aws.json` v2): the environment's Auto Scaling group scales instances, and every
//! instance runs exactly one copy of the task the Dockerrun file defines, started by Elastic
//! Beanstalk with no ECS service (EB:create_deploy_docker_ecs.md; AWS-SEMANTICS.md §9).
//!
//! The simulation builds an environment from parts it already has: a group dedicated to the
//! environment, one task per instance placed as a DAEMON service places it, and the group's two
//! CloudWatch alarms from the environment's scaling trigger, each invoking a simple scaling
//! policy.

use crate::engine::{MINUTE, SECOND, SimTime};

use super::autoscaling::{AdjustmentType, ScalingMetric, StepAdjustment, StepScalingPolicy};
use super::cloudwatch::{AlarmSpec, Comparison, MissingData, Statistic};

/// The environment's scaling trigger (namespace `aws:autoscaling:trigger`,
/// EB:environments-cfg-autoscaling-triggers.md).
#[derive(Clone, Debug, PartialEq)]
pub struct ScalingTrigger {
    pub measure_name: ScalingMetric,
    pub statistic: Statistic,
    /// How often CloudWatch measures the metric (`Period`, default 5 minutes).
    pub period: SimTime,
    /// `EvaluationPeriods`, default 1.
    pub evaluation_periods: u32,
    /// How long the metric must stay past a threshold (`BreachDuration`, default 5 minutes).
    pub breach_duration: SimTime,
    pub upper_threshold: f64,
    /// `UpperBreachScaleIncrement`, default 1.
    pub upper_breach_scale_increment: i64,
    pub lower_threshold: f64,
    /// `LowerBreachScaleIncrement`, default −1.
    pub lower_breach_scale_increment: i64,
}

/// `Period` and `BreachDuration` default to 5 minutes, `EvaluationPeriods` to 1, the increments
/// to +1 and −1 (the aws:autoscaling:trigger option table).
pub const DEFAULT_PERIOD: SimTime = 5 * MINUTE;
pub const DEFAULT_BREACH_DURATION: SimTime = 5 * MINUTE;

/// The environment's Auto Scaling group waits this long after a scaling activity
/// (`aws:autoscaling:asg` `Cooldown`, default 360 s).
pub const DEFAULT_COOLDOWN: SimTime = 360 * SECOND;

impl ScalingTrigger {
    /// How many periods an alarm must see past its threshold: the trigger's evaluation periods,
    /// and at least enough periods to cover the breach duration [assume: EB documents both
    /// options without saying how they combine].
    pub fn periods(&self) -> u32 {
        let by_duration = self.breach_duration.div_ceil(self.period.max(MINUTE)) as u32;
        self.evaluation_periods.max(by_duration).max(1)
    }

    /// The two policies: add instances when the metric stays above the upper threshold, remove
    /// when it stays below the lower one. Each is a simple scaling policy: one step covering
    /// every breach, followed by the group's cooldown.
    pub fn policies(&self, environment: &str, cooldown: SimTime) -> Vec<StepScalingPolicy> {
        let n = self.periods();
        let policy = |name: &str, comparison, threshold, adjustment| StepScalingPolicy {
            name: format!("awseb-{environment}-{name}"),
            metric: self.measure_name,
            alarm: AlarmSpec {
                name: format!("awseb-{environment}-AWSEB{name}Alarm"),
                statistic: self.statistic,
                period: self.period,
                evaluation_periods: n,
                datapoints_to_alarm: n,
                threshold,
                comparison,
                treat_missing_data: MissingData::Missing,
            },
            adjustment_type: AdjustmentType::ChangeInCapacity,
            steps: vec![StepAdjustment { lower: None, upper: None, adjustment }],
            min_adjustment_magnitude: None,
            cooldown,
            metric_aggregation_type: self.statistic,
        };
        vec![
            policy(
                "ScaleUpPolicy",
                Comparison::GreaterThanThreshold,
                self.upper_threshold,
                self.upper_breach_scale_increment,
            ),
            policy(
                "ScaleDownPolicy",
                Comparison::LessThanThreshold,
                self.lower_threshold,
                self.lower_breach_scale_increment,
            ),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trigger() -> ScalingTrigger {
        ScalingTrigger {
            measure_name: ScalingMetric::GroupCpuUtilization,
            statistic: Statistic::Average,
            period: 2 * MINUTE,
            evaluation_periods: 3,
            breach_duration: 2 * MINUTE,
            upper_threshold: 80.0,
            upper_breach_scale_increment: 1,
            lower_threshold: 20.0,
            lower_breach_scale_increment: -1,
        }
    }

    #[test]
    fn the_knowledge_center_example_needs_three_two_minute_periods() {
        // "CPU above 80% for three consecutive periods of two minutes adds one instance".
        let p = trigger().policies("web-env", DEFAULT_COOLDOWN);
        assert_eq!(p.len(), 2);
        let up = &p[0].alarm;
        assert_eq!((up.period, up.evaluation_periods, up.datapoints_to_alarm), (2 * MINUTE, 3, 3));
        assert_eq!((up.threshold, up.comparison), (80.0, Comparison::GreaterThanThreshold));
        assert_eq!(p[0].capacity(2, 95.0), Some(3));
        assert_eq!(p[1].capacity(3, 5.0), Some(2));
    }

    #[test]
    fn a_breach_duration_longer_than_the_periods_adds_periods() {
        let t = ScalingTrigger { evaluation_periods: 1, breach_duration: 10 * MINUTE, period: 5 * MINUTE, ..trigger() };
        assert_eq!(t.periods(), 2);
    }
}
