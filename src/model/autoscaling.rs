//! Application Auto Scaling for ECS services: a scalable target (min and max of the desired
//! count), target tracking and step scaling policies driven by CloudWatch alarms, cooldowns,
//! and scheduled actions (AAS:application-auto-scaling-target-tracking.md,
//! AAS:application-auto-scaling-step-scaling-policies.md,
//! AAS:application-auto-scaling-scheduled-scaling.md; AWS-SEMANTICS.md §4).

use crate::engine::{MINUTE, SECOND, SimTime};

use super::cloudwatch::{AlarmSpec, Comparison, MissingData, Statistic};

/// The metrics a policy can follow: a service's, or an Auto Scaling group's.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum ScalingMetric {
    /// ECS `CPUUtilization`: average over the service's tasks, %.
    CpuUtilization,
    /// ECS `MemoryUtilization`, %.
    MemoryUtilization,
    /// ALB `RequestCount` of the service's target group, per minute.
    RequestCount,
    /// ALB `RequestCountPerTarget`: requests per minute over the healthy targets.
    RequestCountPerTarget,
    /// A custom metric from the workload: requests in flight per running task, averaged over the
    /// minute.
    InFlightRequestsPerTask,
    /// EC2 `CPUUtilization` of an Auto Scaling group: the CPU its instances' tasks keep busy over
    /// the instances' vCPUs, averaged over the instances (`ASGAverageCPUUtilization`).
    GroupCpuUtilization,
    /// ECS `CPUReservation` of the group's instances: reserved over registered CPU, %.
    GroupCpuReservation,
    /// ECS `MemoryReservation` of the group's instances, %.
    GroupMemoryReservation,
}

impl ScalingMetric {
    pub const ALL: [ScalingMetric; 8] = [
        ScalingMetric::CpuUtilization,
        ScalingMetric::MemoryUtilization,
        ScalingMetric::RequestCount,
        ScalingMetric::RequestCountPerTarget,
        ScalingMetric::InFlightRequestsPerTask,
        ScalingMetric::GroupCpuUtilization,
        ScalingMetric::GroupCpuReservation,
        ScalingMetric::GroupMemoryReservation,
    ];

    /// The metrics of a service, and of an Auto Scaling group.
    pub const SERVICE: [ScalingMetric; 5] = [
        ScalingMetric::CpuUtilization,
        ScalingMetric::MemoryUtilization,
        ScalingMetric::RequestCount,
        ScalingMetric::RequestCountPerTarget,
        ScalingMetric::InFlightRequestsPerTask,
    ];
    pub const GROUP: [ScalingMetric; 3] =
        [ScalingMetric::GroupCpuUtilization, ScalingMetric::GroupCpuReservation, ScalingMetric::GroupMemoryReservation];

    pub fn name(self) -> &'static str {
        match self {
            ScalingMetric::CpuUtilization => "CPUUtilization",
            ScalingMetric::MemoryUtilization => "MemoryUtilization",
            ScalingMetric::RequestCount => "RequestCount",
            ScalingMetric::RequestCountPerTarget => "RequestCountPerTarget",
            ScalingMetric::InFlightRequestsPerTask => "InFlightRequestsPerTask",
            ScalingMetric::GroupCpuUtilization => "CPUUtilization",
            ScalingMetric::GroupCpuReservation => "CPUReservation",
            ScalingMetric::GroupMemoryReservation => "MemoryReservation",
        }
    }

    /// A service metric by name.
    pub fn service_metric(name: &str) -> Option<ScalingMetric> {
        ScalingMetric::SERVICE.into_iter().find(|m| m.name() == name)
    }

    /// An Auto Scaling group metric by name.
    pub fn group_metric(name: &str) -> Option<ScalingMetric> {
        ScalingMetric::GROUP.into_iter().find(|m| m.name() == name)
    }
}

/// The predefined metrics of target tracking for ECS services
/// (AAS:application-auto-scaling-target-tracking.md).
pub fn predefined_metric(name: &str) -> Option<(ScalingMetric, Statistic)> {
    match name {
        "ECSServiceAverageCPUUtilization" => Some((ScalingMetric::CpuUtilization, Statistic::Average)),
        "ECSServiceAverageMemoryUtilization" => Some((ScalingMetric::MemoryUtilization, Statistic::Average)),
        "ALBRequestCountPerTarget" => Some((ScalingMetric::RequestCountPerTarget, Statistic::Sum)),
        _ => None,
    }
}

pub const PREDEFINED_METRICS: [&str; 3] =
    ["ECSServiceAverageCPUUtilization", "ECSServiceAverageMemoryUtilization", "ALBRequestCountPerTarget"];

/// The predefined target tracking metric of EC2 Auto Scaling used here: the group's average CPU.
pub fn predefined_group_metric(name: &str) -> Option<(ScalingMetric, Statistic)> {
    (name == "ASGAverageCPUUtilization").then_some((ScalingMetric::GroupCpuUtilization, Statistic::Average))
}

/// Both cooldowns default to 300 s for ECS services (API TargetTrackingScalingPolicyConfiguration,
/// live doc; AWS-SEMANTICS.md §4.3). Step scaling's `Cooldown` is taken to default the same
/// [3rd, AWS-SEMANTICS.md §4.4].
pub const DEFAULT_COOLDOWN: SimTime = 300 * SECOND;

/// The alarms AAS creates for a target tracking policy: AlarmHigh, 3 datapoints of 3 one-minute
/// periods above the target, and AlarmLow, 15 of 15 below 90% of it (widely observed, not in the
/// AWS text: AWS-SEMANTICS.md §4.3 and §12). Scale-in happens only when the metric is "usually
/// more than 10%" below the target.
pub const ALARM_HIGH_DATAPOINTS: u32 = 3;
pub const ALARM_LOW_DATAPOINTS: u32 = 15;
pub const SCALE_IN_FRACTION: f64 = 0.9;

#[derive(Clone, Debug, PartialEq)]
pub struct TargetTrackingPolicy {
    pub name: String,
    pub metric: ScalingMetric,
    pub statistic: Statistic,
    pub target_value: f64,
    pub scale_out_cooldown: SimTime,
    pub scale_in_cooldown: SimTime,
    pub disable_scale_in: bool,
}

impl TargetTrackingPolicy {
    /// The high and (unless scale-in is disabled) low alarms, named as AAS and EC2 Auto Scaling
    /// name them (`resource` is `service/<name>` or the group's name). Over a metric published
    /// every `period`, the alarms keep the same spans, three minutes and fifteen, in whole
    /// periods [assume: the alarms of a group with basic five-minute monitoring are not
    /// documented; one and three five-minute periods keep the spans].
    pub fn alarms(&self, resource: &str, period: SimTime) -> (AlarmSpec, Option<AlarmSpec>) {
        let period = period.max(MINUTE);
        let periods = |datapoints: u32| (u64::from(datapoints) * MINUTE).div_ceil(period) as u32;
        let base = |suffix: &str, comparison, threshold, n| AlarmSpec {
            name: format!("TargetTracking-{resource}-{suffix}-{}", self.name),
            statistic: self.statistic,
            period,
            evaluation_periods: n,
            datapoints_to_alarm: n,
            threshold,
            comparison,
            treat_missing_data: MissingData::Missing,
        };
        let high =
            base("AlarmHigh", Comparison::GreaterThanThreshold, self.target_value, periods(ALARM_HIGH_DATAPOINTS));
        let low = (!self.disable_scale_in).then(|| {
            base(
                "AlarmLow",
                Comparison::LessThanThreshold,
                self.target_value * SCALE_IN_FRACTION,
                periods(ALARM_LOW_DATAPOINTS),
            )
        });
        (high, low)
    }
}

/// The capacity target tracking asks for: proportional to the metric, `ceil(current × metric /
/// target)`. Rounding up keeps capacity on both sides: scale-out rounds the new capacity up and
/// scale-in rounds the reduction down (AAS: "rounding is conservative"; the exact formula is not
/// documented, AWS-SEMANTICS.md §12).
pub fn target_tracking_capacity(current: u32, metric: f64, target: f64) -> u32 {
    if target <= 0.0 || !metric.is_finite() {
        return current;
    }
    let raw = f64::from(current.max(1)) * metric / target;
    // A whisker of tolerance so that 8 × 100.00001/50 = 16.00001, float noise of a saturated
    // task, does not become 17.
    (raw * (1.0 - 1e-6)).ceil().max(0.0) as u32
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AdjustmentType {
    ChangeInCapacity,
    PercentChangeInCapacity,
    ExactCapacity,
}

/// One step: bounds relative to the alarm threshold (`None` is −∞ or +∞), and the adjustment.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StepAdjustment {
    pub lower: Option<f64>,
    pub upper: Option<f64>,
    pub adjustment: i64,
}

#[derive(Clone, Debug, PartialEq)]
pub struct StepScalingPolicy {
    pub name: String,
    pub metric: ScalingMetric,
    pub alarm: AlarmSpec,
    pub adjustment_type: AdjustmentType,
    pub steps: Vec<StepAdjustment>,
    pub min_adjustment_magnitude: Option<u32>,
    pub cooldown: SimTime,
    pub metric_aggregation_type: Statistic,
}

impl StepScalingPolicy {
    /// The step for a metric value. Above the threshold a step's lower bound is inclusive and
    /// its upper bound exclusive; below the threshold the reverse (AAS step scaling docs).
    pub fn step_for(&self, value: f64) -> Option<&StepAdjustment> {
        let d = value - self.alarm.threshold;
        self.steps.iter().find(|s| {
            let lo = s.lower.unwrap_or(f64::NEG_INFINITY);
            let hi = s.upper.unwrap_or(f64::INFINITY);
            if d >= 0.0 { lo <= d && d < hi } else { lo < d && d <= hi }
        })
    }

    /// The capacity this policy asks for at `current` when its alarm fires with `value`.
    pub fn capacity(&self, current: u32, value: f64) -> Option<u32> {
        let step = self.step_for(value)?;
        Some(apply_adjustment(current, self.adjustment_type, step.adjustment, self.min_adjustment_magnitude))
    }
}

/// Applies a step adjustment. `PercentChangeInCapacity` rounds as documented: results above 1
/// are rounded down, between 0 and 1 become 1, between 0 and −1 become −1, below −1 are rounded
/// toward zero; `MinAdjustmentMagnitude` then sets the least change (example: 25% of 4 = 1,
/// raised to 2).
pub fn apply_adjustment(current: u32, kind: AdjustmentType, adjustment: i64, min_magnitude: Option<u32>) -> u32 {
    let current_i = i64::from(current);
    let new = match kind {
        AdjustmentType::ExactCapacity => adjustment,
        AdjustmentType::ChangeInCapacity => current_i + adjustment,
        AdjustmentType::PercentChangeInCapacity => {
            let raw = current_i as f64 * adjustment as f64 / 100.0;
            let mut change = if raw > 1.0 {
                raw.floor()
            } else if raw > 0.0 {
                1.0
            } else if raw > -1.0 && raw < 0.0 {
                -1.0
            } else {
                raw.ceil()
            } as i64;
            if let Some(m) = min_magnitude
                && change != 0
                && change.unsigned_abs() < u64::from(m)
            {
                change = change.signum() * i64::from(m);
            }
            current_i + change
        }
    };
    new.clamp(0, i64::from(u32::MAX)) as u32
}

/// What a policy asks for at one evaluation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Proposal {
    pub policy: usize,
    pub capacity: u32,
    /// Whether a scale-out alarm asked (a high alarm never scales in, a low one never out).
    pub scale_out: bool,
}

/// A policy's cooldown state.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Cooldowns {
    /// The last scale-out: when, and the capacity it set.
    pub scaled_out: Option<(SimTime, u32)>,
    /// The capacity before that scale-out.
    pub before_scale_out: u32,
    pub scaled_in: Option<SimTime>,
}

impl Cooldowns {
    /// The capacity a target tracking policy scales from. Within the scale-out cooldown the
    /// metric still shows the capacity before the last scale-out, and the capacity that scale-out
    /// added counts as already present: the new capacity is computed from the old one, and goes
    /// through only if larger than what the last scale-out set (API
    /// TargetTrackingScalingPolicyConfiguration, ScaleOutCooldown: "the capacity that has been
    /// added by the previous scale out event ... is calculated as part of the desired capacity
    /// for the next scale out"; "won't increase the desired capacity again unless either a larger
    /// scale out is triggered or the cooldown period ends").
    pub fn scaling_base(&self, now: SimTime, out_cooldown: SimTime, current: u32) -> u32 {
        match self.scaled_out {
            Some((at, _)) if now < at + out_cooldown => self.before_scale_out,
            _ => current,
        }
    }
}

/// Why an evaluation changed nothing although a policy asked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Held {
    /// Within the scale-out cooldown and not larger than the capacity set then.
    ScaleOutCooldown,
    ScaleInCooldown,
    /// A simple scaling policy of an Auto Scaling group: the group's last scaling activity has
    /// not completed yet (its cooldown starts when it does).
    ActivityInProgress,
    /// A simple scaling policy of an Auto Scaling group: the group's cooldown, which started
    /// when its last scaling activity completed, runs until `until`.
    GroupCooldown {
        completed_at: SimTime,
        until: SimTime,
    },
    /// Another target tracking policy does not want to scale in.
    NotAllAgree,
    AtMaximum(u32),
    AtMinimum(u32),
}

/// The decision of one evaluation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    Set { capacity: u32, by: Vec<usize>, scale_out: bool },
    Held { wanted: u32, by: usize, why: Held },
    Nothing,
}

/// Combines the policies' proposals (AAS:application-auto-scaling-target-tracking.md, "multiple
/// policies"): scale out if any policy asks, to the largest capacity asked; scale in only if
/// every target tracking policy that may scale in asks, to the largest of their capacities.
///
/// Cooldowns: within a policy's scale-out cooldown only a larger scale-out than the last goes
/// through (capacity added during the cooldown counts as present); within its scale-in cooldown
/// no scale-in; a scale-out ends the scale-in cooldowns. The result is clamped to [min, max].
pub fn decide(
    now: SimTime,
    current: u32,
    (min, max): (u32, u32),
    proposals: &[Proposal],
    cooldowns: &[(Cooldowns, SimTime, SimTime)],
    scale_in_voters: &[usize],
) -> Decision {
    let clamp = |c: u32| c.clamp(min, max);
    let out: Vec<&Proposal> = proposals.iter().filter(|p| p.scale_out && p.capacity > current).collect();
    if !out.is_empty() {
        let mut allowed: Vec<&Proposal> = Vec::new();
        let mut held = None;
        for p in out {
            let (cd, out_cooldown, _) = cooldowns[p.policy];
            match cd.scaled_out {
                Some((at, set)) if now < at + out_cooldown && p.capacity <= set => {
                    held.get_or_insert((p.capacity, p.policy, Held::ScaleOutCooldown));
                }
                _ => allowed.push(p),
            }
        }
        let Some(best) = allowed.iter().map(|p| p.capacity).max() else {
            let (wanted, by, why) = held.unwrap_or((current, 0, Held::ScaleOutCooldown));
            return Decision::Held { wanted, by, why };
        };
        let capacity = clamp(best);
        let by: Vec<usize> = allowed.iter().filter(|p| p.capacity == best).map(|p| p.policy).collect();
        if capacity <= current {
            return Decision::Held { wanted: best, by: by[0], why: Held::AtMaximum(max) };
        }
        return Decision::Set { capacity, by, scale_out: true };
    }
    let ins: Vec<&Proposal> = proposals.iter().filter(|p| !p.scale_out && p.capacity < current).collect();
    if ins.is_empty() {
        return Decision::Nothing;
    }
    if scale_in_voters.iter().any(|&v| !ins.iter().any(|p| p.policy == v)) {
        return Decision::Held { wanted: ins[0].capacity, by: ins[0].policy, why: Held::NotAllAgree };
    }
    for p in &ins {
        let (cd, _, in_cooldown) = cooldowns[p.policy];
        if let Some(at) = cd.scaled_in
            && now < at + in_cooldown
        {
            return Decision::Held { wanted: p.capacity, by: p.policy, why: Held::ScaleInCooldown };
        }
    }
    let best = ins.iter().map(|p| p.capacity).max().unwrap_or(current);
    let capacity = clamp(best);
    let by: Vec<usize> = ins.iter().filter(|p| p.capacity == best).map(|p| p.policy).collect();
    if capacity >= current {
        return Decision::Held { wanted: best, by: by[0], why: Held::AtMinimum(min) };
    }
    Decision::Set { capacity, by, scale_out: false }
}

/// EC2 Auto Scaling's cooldown for simple scaling policies
/// (ASG:ec2-auto-scaling-scaling-cooldowns.md): "After your Auto Scaling group launches or
/// terminates instances, it waits for a cooldown period to end before any further scaling
/// activities initiated by simple scaling policies can start."
///
/// - It belongs to the group, not to a policy or a direction: after a scale-out, a scale-in by
///   a simple policy waits too, and the other way round.
/// - It starts "when the last instance finishes launching or terminating": while the activity
///   is in progress, simple policies wait as well. Behind a load balancer a terminating
///   instance finishes when its connection draining (the deregistration delay) is over.
/// - Its length is the cooldown of the policy that started the activity (a policy-specific
///   cooldown overrides the group's default).
/// - Step and target tracking policies ignore it (they have instance warmup instead), and so do
///   scheduled actions.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SimpleCooldown {
    /// The last activity a simple policy started: its cooldown, and when it completed (`None`
    /// while it is in progress).
    last: Option<(SimTime, Option<SimTime>)>,
}

impl SimpleCooldown {
    /// A simple policy started a scaling activity whose cooldown is `cooldown`.
    pub fn started(&mut self, cooldown: SimTime) {
        self.last = Some((cooldown, None));
    }

    pub fn in_progress(&self) -> bool {
        matches!(self.last, Some((_, None)))
    }

    /// The activity in progress completed at `at`: the cooldown runs from now.
    pub fn completed(&mut self, at: SimTime) {
        if let Some((cooldown, None)) = self.last {
            self.last = Some((cooldown, Some(at)));
        }
    }

    /// Why a simple policy may not start an activity at `now`, if it may not.
    pub fn holds(&self, now: SimTime) -> Option<Held> {
        match self.last {
            Some((_, None)) => Some(Held::ActivityInProgress),
            Some((cooldown, Some(done))) if now < done + cooldown => {
                Some(Held::GroupCooldown { completed_at: done, until: done + cooldown })
            }
            _ => None,
        }
    }
}

/// [`decide`] for an Auto Scaling group's simple scaling policies: while the group's
/// [`SimpleCooldown`] holds, a policy that asks for a change is held back whatever the
/// direction; otherwise the proposals combine as for any policies (the policies themselves
/// keep no cooldown of their own).
pub fn decide_simple(
    now: SimTime,
    current: u32,
    bounds: (u32, u32),
    proposals: &[Proposal],
    cooldowns: &[(Cooldowns, SimTime, SimTime)],
    group: &SimpleCooldown,
) -> Decision {
    if let Some(why) = group.holds(now)
        && let Some(p) = proposals.iter().find(|p| p.capacity != current)
    {
        return Decision::Held { wanted: p.capacity, by: p.policy, why };
    }
    decide(now, current, bounds, proposals, cooldowns, &[])
}

/// A service's scalable target and its policies (`ecs:service:DesiredCount`).
#[derive(Clone, Debug, PartialEq)]
pub struct ServiceScaling {
    pub min_capacity: u32,
    pub max_capacity: u32,
    pub target_tracking: Vec<TargetTrackingPolicy>,
    pub step_scaling: Vec<StepScalingPolicy>,
    pub scheduled: Vec<ScheduledAction>,
}

/// When a scheduled action fires.
#[derive(Clone, Debug, PartialEq)]
pub enum Schedule {
    At(SimTime),
    /// Every interval from the start of the run.
    Rate(SimTime),
    Cron(Cron),
}

/// A scheduled action: new min and/or max capacity (AAS:application-auto-scaling-scheduled-scaling.md).
#[derive(Clone, Debug, PartialEq)]
pub struct ScheduledAction {
    pub name: String,
    pub schedule: Schedule,
    pub min_capacity: Option<u32>,
    pub max_capacity: Option<u32>,
    /// EC2 Auto Scaling scheduled actions may also set the desired capacity (AAS ones for
    /// services set only the bounds).
    pub desired_capacity: Option<u32>,
}

impl Schedule {
    /// The first firing strictly after `after` (or at 0 for the first call with `None`), within
    /// `until`.
    pub fn next(&self, after: Option<SimTime>, until: SimTime) -> Option<SimTime> {
        match self {
            Schedule::At(t) => (after.is_none_or(|a| *t > a) && *t <= until).then_some(*t),
            Schedule::Rate(every) => {
                let next = match after {
                    None => 0,
                    Some(a) => (a / every + 1) * every,
                };
                (next <= until && *every > 0).then_some(next)
            }
            Schedule::Cron(c) => c.next(after, until),
        }
    }
}

/// A cron expression in AWS's six fields (minutes, hours, day of month, month, day of week,
/// year), evaluated on the simulated clock, which starts on Monday 1 January 2024 at 00:00 UTC
/// [assume: the simulation has no calendar of its own]. Supports `*`, `?`, numbers, lists,
/// ranges and `/` steps; day-of-week 1–7 is Sunday–Saturday as in AWS, names `MON`–`SUN` too.
#[derive(Clone, Debug, PartialEq)]
pub struct Cron {
    pub text: String,
    minutes: Vec<bool>,
    hours: Vec<bool>,
    days_of_month: Vec<bool>,
    months: Vec<bool>,
    days_of_week: Vec<bool>,
    dom_any: bool,
    dow_any: bool,
}

impl Cron {
    pub fn parse(text: &str) -> Result<Cron, String> {
        let inner = text.trim();
        let inner = inner.strip_prefix("cron(").and_then(|s| s.strip_suffix(')')).unwrap_or(inner);
        let fields: Vec<&str> = inner.split_whitespace().collect();
        if !(5..=6).contains(&fields.len()) {
            return Err(format!(
                "`{text}` needs 6 fields (minutes hours day-of-month month day-of-week year), e.g. cron(0 8 * * ? *)"
            ));
        }
        let field = |i: usize, lo: u32, hi: u32, names: &[&str]| parse_cron_field(fields[i], lo, hi, names);
        let dows = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];
        let months = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"];
        Ok(Cron {
            text: text.to_string(),
            minutes: field(0, 0, 59, &[])?,
            hours: field(1, 0, 23, &[])?,
            days_of_month: field(2, 1, 31, &[])?,
            months: field(3, 1, 12, &months)?,
            days_of_week: field(4, 1, 7, &dows)?,
            dom_any: matches!(fields[2], "*" | "?"),
            dow_any: matches!(fields[4], "*" | "?"),
        })
    }

    fn matches(&self, t: SimTime) -> bool {
        let minute_of_run = t / MINUTE;
        let (minute, hour) = ((minute_of_run % 60) as usize, ((minute_of_run / 60) % 24) as usize);
        let day = minute_of_run / (24 * 60);
        let (month, dom) = calendar_2024(day);
        // 1 January 2024 is a Monday: AWS day-of-week 2.
        let dow = ((day + 1) % 7) as usize + 1;
        let day_ok = match (self.dom_any, self.dow_any) {
            (true, true) => true,
            (false, true) => self.days_of_month[dom],
            (true, false) => self.days_of_week[dow],
            (false, false) => self.days_of_month[dom] || self.days_of_week[dow],
        };
        self.minutes[minute] && self.hours[hour] && self.months[month] && day_ok
    }

    fn next(&self, after: Option<SimTime>, until: SimTime) -> Option<SimTime> {
        let mut t = match after {
            None => 0,
            Some(a) => (a / MINUTE + 1) * MINUTE,
        };
        while t <= until {
            if self.matches(t) {
                return Some(t);
            }
            t += MINUTE;
        }
        None
    }
}

/// Month (1–12) and day of month (1–31) of day `day` counted from 1 January 2024, repeating the
/// leap year 2024's calendar.
fn calendar_2024(day: u64) -> (usize, usize) {
    const LENGTHS: [u64; 12] = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    let mut d = day % 366;
    for (m, len) in LENGTHS.iter().enumerate() {
        if d < *len {
            return (m + 1, d as usize + 1);
        }
        d -= len;
    }
    (12, 31)
}

fn parse_cron_field(field: &str, lo: u32, hi: u32, names: &[&str]) -> Result<Vec<bool>, String> {
    let mut set = vec![false; hi as usize + 1];
    let value = |s: &str| -> Result<u32, String> {
        if let Some(i) = names.iter().position(|n| n.eq_ignore_ascii_case(s)) {
            return Ok(i as u32 + lo);
        }
        s.parse::<u32>().map_err(|_| format!("`{s}` is not a number in cron field `{field}`"))
    };
    for part in field.split(',') {
        let (range, step) = match part.split_once('/') {
            Some((r, s)) => (r, s.parse::<u32>().map_err(|_| format!("bad step `{s}` in `{field}`"))?),
            None => (part, 1),
        };
        let (a, b) = match range {
            "*" | "?" => (lo, hi),
            r => match r.split_once('-') {
                Some((a, b)) => (value(a)?, value(b)?),
                None => {
                    let v = value(r)?;
                    (v, if step > 1 { hi } else { v })
                }
            },
        };
        if a < lo || b > hi || a > b || step == 0 {
            return Err(format!("`{part}` is out of range {lo}-{hi} in cron field `{field}`"));
        }
        let mut v = a;
        while v <= b {
            set[v as usize] = true;
            v += step;
        }
    }
    Ok(set)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn target_tracking_is_proportional_and_rounds_up() {
        // 4 tasks at 75% for a 50% target → 6; at 80% → 6.4 → 7.
        assert_eq!(target_tracking_capacity(4, 75.0, 50.0), 6);
        assert_eq!(target_tracking_capacity(4, 80.0, 50.0), 7);
        // Tripled load on 4 tasks at a 50% target with 150% utilization → 12.
        assert_eq!(target_tracking_capacity(4, 150.0, 50.0), 12);
        // Scale-in: 10 tasks at 20% for 50% → 4.
        assert_eq!(target_tracking_capacity(10, 20.0, 50.0), 4);
    }

    #[test]
    fn percent_change_rounds_as_documented() {
        // 25% of 4 = 1, raised to MinAdjustmentMagnitude 2 → 6.
        assert_eq!(apply_adjustment(4, AdjustmentType::PercentChangeInCapacity, 25, Some(2)), 6);
        // 30% of 11 = 3.3 → 3 → 14; 10% of 10 = 1 → 11 (the AAS worked example).
        assert_eq!(apply_adjustment(11, AdjustmentType::PercentChangeInCapacity, 30, None), 14);
        assert_eq!(apply_adjustment(10, AdjustmentType::PercentChangeInCapacity, 10, None), 11);
        // 0 < x < 1 → 1; −1 < x < 0 → −1; x < −1 toward zero.
        assert_eq!(apply_adjustment(3, AdjustmentType::PercentChangeInCapacity, 10, None), 4);
        assert_eq!(apply_adjustment(3, AdjustmentType::PercentChangeInCapacity, -10, None), 2);
        assert_eq!(apply_adjustment(10, AdjustmentType::PercentChangeInCapacity, -25, None), 8);
        assert_eq!(apply_adjustment(5, AdjustmentType::ExactCapacity, 9, None), 9);
        assert_eq!(apply_adjustment(5, AdjustmentType::ChangeInCapacity, -2, None), 3);
    }

    fn step_policy() -> StepScalingPolicy {
        // The AAS worked example: threshold 50; +10% for 60–70, +30% for ≥ 70.
        StepScalingPolicy {
            name: "steps".into(),
            metric: ScalingMetric::CpuUtilization,
            alarm: AlarmSpec {
                name: "a".into(),
                statistic: Statistic::Average,
                period: MINUTE,
                evaluation_periods: 1,
                datapoints_to_alarm: 1,
                threshold: 50.0,
                comparison: Comparison::GreaterThanOrEqualToThreshold,
                treat_missing_data: MissingData::Missing,
            },
            adjustment_type: AdjustmentType::PercentChangeInCapacity,
            steps: vec![
                StepAdjustment { lower: Some(0.0), upper: Some(10.0), adjustment: 0 },
                StepAdjustment { lower: Some(10.0), upper: Some(20.0), adjustment: 10 },
                StepAdjustment { lower: Some(20.0), upper: None, adjustment: 30 },
            ],
            min_adjustment_magnitude: None,
            cooldown: DEFAULT_COOLDOWN,
            metric_aggregation_type: Statistic::Average,
        }
    }

    #[test]
    fn the_documented_step_example_goes_to_11_then_14() {
        let p = step_policy();
        assert_eq!(p.capacity(10, 65.0), Some(11));
        assert_eq!(p.capacity(11, 75.0), Some(14));
        // Bounds: 60 is in the second step (lower inclusive above the threshold), 70 in the third.
        assert_eq!(p.step_for(60.0).map(|s| s.adjustment), Some(10));
        assert_eq!(p.step_for(70.0).map(|s| s.adjustment), Some(30));
    }

    fn cd(out: Option<(SimTime, u32)>, inn: Option<SimTime>) -> (Cooldowns, SimTime, SimTime) {
        (Cooldowns { scaled_out: out, before_scale_out: 0, scaled_in: inn }, DEFAULT_COOLDOWN, DEFAULT_COOLDOWN)
    }

    #[test]
    fn scale_out_cooldown_lets_only_a_larger_step_through() {
        let p = |c| Proposal { policy: 0, capacity: c, scale_out: true };
        let now = 1_000_000;
        let within = Cooldowns { scaled_out: Some((now - 60_000, 8)), before_scale_out: 4, scaled_in: None };
        assert_eq!(within.scaling_base(now, DEFAULT_COOLDOWN, 8), 4);
        assert_eq!(within.scaling_base(now + DEFAULT_COOLDOWN, DEFAULT_COOLDOWN, 8), 8);
        let last = Some((now - 60_000, 8));
        // Asking for 8 again within the cooldown: held. Asking for 10: goes through.
        assert_eq!(
            decide(now, 6, (1, 20), &[p(8)], &[cd(last, None)], &[]),
            Decision::Held { wanted: 8, by: 0, why: Held::ScaleOutCooldown }
        );
        assert_eq!(
            decide(now, 6, (1, 20), &[p(10)], &[cd(last, None)], &[]),
            Decision::Set { capacity: 10, by: vec![0], scale_out: true }
        );
        // After the cooldown, 8 goes through.
        let old = Some((now - 400_000, 8));
        assert_eq!(
            decide(now, 6, (1, 20), &[p(8)], &[cd(old, None)], &[]),
            Decision::Set { capacity: 8, by: vec![0], scale_out: true }
        );
    }

    #[test]
    fn the_maximum_holds_a_scale_out_back() {
        let p = Proposal { policy: 0, capacity: 14, scale_out: true };
        assert_eq!(
            decide(0, 10, (1, 10), &[p], &[cd(None, None)], &[]),
            Decision::Held { wanted: 14, by: 0, why: Held::AtMaximum(10) }
        );
        assert_eq!(
            decide(0, 8, (1, 10), &[p], &[cd(None, None)], &[]),
            Decision::Set { capacity: 10, by: vec![0], scale_out: true }
        );
    }

    #[test]
    fn several_policies_scale_out_if_any_and_in_only_if_all() {
        let a = Proposal { policy: 0, capacity: 9, scale_out: true };
        let b = Proposal { policy: 1, capacity: 12, scale_out: true };
        let cds = [cd(None, None), cd(None, None)];
        assert_eq!(
            decide(0, 8, (1, 20), &[a, b], &cds, &[0, 1]),
            Decision::Set { capacity: 12, by: vec![1], scale_out: true }
        );
        let a_in = Proposal { policy: 0, capacity: 4, scale_out: false };
        assert_eq!(
            decide(0, 8, (1, 20), &[a_in], &cds, &[0, 1]),
            Decision::Held { wanted: 4, by: 0, why: Held::NotAllAgree }
        );
        let b_in = Proposal { policy: 1, capacity: 6, scale_out: false };
        assert_eq!(
            decide(0, 8, (1, 20), &[a_in, b_in], &cds, &[0, 1]),
            Decision::Set { capacity: 6, by: vec![1], scale_out: false }
        );
    }

    #[test]
    fn a_simple_policy_waits_for_the_group_activity_and_its_cooldown_in_both_directions() {
        // ASG:ec2-auto-scaling-scaling-cooldowns.md, with Elastic Beanstalk's 360 s: a scale-out
        // decided at 16:00 whose instance is in service at 16:50 holds every simple policy
        // until 16:50 + 360 s = 22:50; a scale-in asked at 21:00 is held, at 22:50 it goes.
        let m = |min: u64, s: u64| (min * 60 + s) * 1000;
        let mut g = SimpleCooldown::default();
        assert_eq!(g.holds(m(16, 0)), None);
        g.started(360_000);
        assert_eq!(g.holds(m(16, 30)), Some(Held::ActivityInProgress));
        g.completed(m(16, 50));
        let until = m(22, 50);
        assert_eq!(g.holds(m(21, 0)), Some(Held::GroupCooldown { completed_at: m(16, 50), until }));
        assert_eq!(g.holds(until), None);
        let scale_in = Proposal { policy: 1, capacity: 1, scale_out: false };
        let none = [(Cooldowns::default(), 0, 0); 2];
        assert_eq!(
            decide_simple(m(21, 0), 2, (1, 4), &[scale_in], &none, &g),
            Decision::Held { wanted: 1, by: 1, why: Held::GroupCooldown { completed_at: m(16, 50), until } }
        );
        assert_eq!(
            decide_simple(m(23, 0), 2, (1, 4), &[scale_in], &none, &g),
            Decision::Set { capacity: 1, by: vec![1], scale_out: false }
        );
        // A second completion does not move the cooldown: only a new activity does.
        g.completed(m(30, 0));
        assert_eq!(g.holds(m(23, 0)), None);
    }

    #[test]
    fn cron_fires_at_eight_every_weekday() {
        let c = Cron::parse("cron(0 8 ? * MON-FRI *)").unwrap();
        // Day 0 is Monday 1 January 2024.
        assert_eq!(c.next(None, 10 * 24 * 60 * MINUTE), Some(8 * 60 * MINUTE));
        let friday = 4 * 24 * 60 * MINUTE + 8 * 60 * MINUTE;
        let monday = 7 * 24 * 60 * MINUTE + 8 * 60 * MINUTE;
        assert_eq!(c.next(Some(friday), 10 * 24 * 60 * MINUTE), Some(monday));
        assert!(Cron::parse("cron(0 25 * * ? *)").is_err());
        assert!(Cron::parse("0 8 *").is_err());
    }

    #[test]
    fn rate_and_at_schedules() {
        assert_eq!(Schedule::Rate(5 * MINUTE).next(Some(7 * MINUTE), 60 * MINUTE), Some(10 * MINUTE));
        assert_eq!(Schedule::At(30 * MINUTE).next(None, 60 * MINUTE), Some(30 * MINUTE));
        assert_eq!(Schedule::At(30 * MINUTE).next(Some(30 * MINUTE), 60 * MINUTE), None);
    }
}
