//! Scaling policies while the simulation runs, for services (Application Auto Scaling) and for
//! Auto Scaling groups (EC2 Auto Scaling's own policies): the minute's CloudWatch datapoints, the
//! alarms that read them after the publication delay, the policies they invoke, and scheduled
//! actions. Both kinds of scalable target share one mechanism; they differ in their metrics and
//! in what "capacity" is (a desired count of tasks, a desired capacity of instances).

use super::*;

use crate::model::autoscaling::{
    Cooldowns, DEFAULT_COOLDOWN, Decision, Held, Proposal, ScalingMetric, ServiceScaling, decide, decide_simple,
    target_tracking_capacity,
};
use crate::model::cloudwatch::{Alarm, AlarmState, MetricSeries, StatSet, last_visible_minute};

/// What a set of policies scales.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Scalable {
    Service(u32),
    Group(u32),
}

impl Scalable {
    fn service(self) -> Option<usize> {
        match self {
            Scalable::Service(s) => Some(s as usize),
            Scalable::Group(_) => None,
        }
    }
}

/// One scaling policy's alarms and cooldowns.
struct PolicyState {
    name: String,
    kind: &'static str,
    metric: ScalingMetric,
    /// The high (or only) alarm, and for target tracking the low one.
    alarm: Alarm,
    low: Option<Alarm>,
    cooldowns: Cooldowns,
    out_cooldown: SimTime,
    in_cooldown: SimTime,
    target_tracking: Option<f64>,
    step: Option<usize>,
}

/// Which of a policy's alarms invoked it, and the datapoint that alarm saw. Every minute an
/// alarm stays in ALARM invokes its policy again, but the event tells only of the policy
/// whose capacity is taken: the text is written for that one alone.
#[derive(Clone, Copy, Debug)]
struct Cause {
    low: bool,
    value: f64,
}

impl PolicyState {
    fn cause_text(&self, cause: Option<Cause>) -> String {
        let Some(Cause { low, value }) = cause else { return String::new() };
        let alarm = match &self.low {
            Some(a) if low => a,
            _ => &self.alarm,
        };
        format!(
            "monitor alarm {} in state ALARM triggered policy {} ({}, {} {:.1})",
            alarm.spec.name,
            self.name,
            self.kind,
            self.metric.name(),
            value
        )
    }
}

/// A scalable target while the simulation runs.
pub(super) struct Scaling {
    target: Scalable,
    /// The bounds of a service's scalable target (a group keeps its own min and max).
    min: u32,
    max: u32,
    series: Vec<MetricSeries>,
    policies: Vec<PolicyState>,
    /// The value the first policy's alarm last saw, for the time series.
    pub(super) seen: Option<f64>,
    pub(super) alarms_in_alarm: u32,
    /// The step policies are EC2 Auto Scaling simple scaling policies (an Elastic Beanstalk
    /// environment's): no cooldown of their own, the group's instead (`SimpleCooldown`).
    simple: bool,
}

impl Scaling {
    /// `resource` names the target in alarm names; `period` is how often its metrics are
    /// published; target tracking's scale-out cooldown is `warmup` for a group (EC2 Auto Scaling
    /// counts new instances once warmed up instead of using cooldowns) and the policy's own for a
    /// service. `simple`: the step policies are a group's simple scaling policies.
    fn new(
        target: Scalable,
        resource: &str,
        spec: &ServiceScaling,
        period: SimTime,
        warmup: Option<SimTime>,
        simple: bool,
    ) -> Scaling {
        let mut policies = Vec::new();
        for p in &spec.target_tracking {
            let (high, low) = p.alarms(resource, period);
            policies.push(PolicyState {
                name: p.name.clone(),
                kind: "TargetTracking",
                metric: p.metric,
                alarm: Alarm::new(high),
                low: low.map(Alarm::new),
                cooldowns: Cooldowns::default(),
                out_cooldown: warmup.unwrap_or(p.scale_out_cooldown),
                // A group's target tracking has no cooldowns of its own, but "scale-in activities
                // can also be delayed when an Auto Scaling group is in a cooldown period" (the
                // group's default cooldown, 300 s; live ec2-auto-scaling-scaling-cooldowns page):
                // taken as 300 s after each scale-in, from the decision [assume: AWS does not
                // say more]. Without it an AlarmLow on a five-minute metric, invoked every
                // minute, would shrink the group again each minute on the same stale datapoint.
                in_cooldown: if warmup.is_some() { DEFAULT_COOLDOWN } else { p.scale_in_cooldown },
                target_tracking: Some(p.target_value),
                step: None,
            });
        }
        for (k, p) in spec.step_scaling.iter().enumerate() {
            policies.push(PolicyState {
                name: p.name.clone(),
                kind: "StepScaling",
                metric: p.metric,
                alarm: Alarm::new(p.alarm.clone()),
                low: None,
                cooldowns: Cooldowns::default(),
                out_cooldown: if simple { 0 } else { p.cooldown },
                in_cooldown: if simple { 0 } else { p.cooldown },
                target_tracking: None,
                step: Some(k),
            });
        }
        Scaling {
            target,
            min: spec.min_capacity,
            max: spec.max_capacity,
            series: vec![MetricSeries::default(); ScalingMetric::ALL.len()],
            policies,
            seen: None,
            alarms_in_alarm: 0,
            simple,
        }
    }
}

fn metric_index(m: ScalingMetric) -> usize {
    ScalingMetric::ALL.iter().position(|x| *x == m).unwrap_or(0)
}

impl<'a> World<'a> {
    pub(super) fn start_scaling(&mut self) {
        for (s, def) in self.scenario.services.iter().enumerate() {
            let target = Scalable::Service(s as u32);
            let scaling = def
                .auto_scaling
                .as_ref()
                .map(|spec| Scaling::new(target, &format!("service/{}", def.name), spec, MINUTE, None, false));
            self.scaling.push(scaling);
            self.schedule_first_actions(target);
        }
        for (g, def) in self.scenario.auto_scaling_groups.iter().enumerate() {
            let target = Scalable::Group(g as u32);
            // Without a default instance warmup EC2 Auto Scaling takes the cooldown's 300 s
            // (ASG:ec2-auto-scaling-default-instance-warmup.md, as-scaling-target-tracking.md).
            let warmup = def.default_instance_warmup.unwrap_or(DEFAULT_COOLDOWN);
            // An Elastic Beanstalk environment's trigger makes simple scaling policies
            // (EB:environments-cfg-autoscaling-triggers.md; `beanstalk::ScalingTrigger`).
            let simple = def.beanstalk_environment.is_some();
            let scaling = def
                .scaling
                .as_ref()
                .map(|spec| Scaling::new(target, &def.name, spec, def.metric_period, Some(warmup), simple));
            self.group_scaling.push(scaling);
            self.schedule_first_actions(target);
        }
    }

    fn scaling_spec(&self, target: Scalable) -> Option<&'a ServiceScaling> {
        let scenario: &'a Scenario = self.scenario;
        match target {
            Scalable::Service(s) => scenario.services[s as usize].auto_scaling.as_ref(),
            Scalable::Group(g) => scenario.auto_scaling_groups[g as usize].scaling.as_ref(),
        }
    }

    fn schedule_first_actions(&mut self, target: Scalable) {
        let Some(spec) = self.scaling_spec(target) else { return };
        for (a, action) in spec.scheduled.iter().enumerate() {
            if let Some(t) = action.schedule.next(None, self.scenario.duration) {
                self.queue.schedule(t, Event::ScheduledScaling { target, action: a as u32 });
            }
        }
    }

    /// A target's current capacity and its bounds.
    fn capacity(&self, target: Scalable) -> (u32, u32, u32) {
        match target {
            Scalable::Service(s) => {
                let bounds = self.scaling[s as usize].as_ref().map_or((0, u32::MAX), |x| (x.min, x.max));
                (self.services[s as usize].desired_count, bounds.0, bounds.1)
            }
            Scalable::Group(g) => {
                let st = &self.groups[g as usize];
                (st.desired, st.min, st.max)
            }
        }
    }

    /// Publishes the minute that just ended for every scaled service, then lets the alarms see
    /// what is visible by now and the policies act.
    pub(super) fn autoscale(&mut self, rows: &[ServiceSample]) {
        let now = self.now();
        let Some(minute) = (now / MINUTE).checked_sub(1) else { return };
        let visible = last_visible_minute(now, self.scenario.publish_delay);
        for (s, row) in rows.iter().enumerate() {
            let Some(mut scaling) = self.scaling[s].take() else { continue };
            let t = &self.traffic[s];
            let points = [
                t.task_cpu_pct,
                t.task_mem_pct,
                Some(StatSet::single(row.requests as f64)),
                (row.healthy_targets > 0)
                    .then(|| StatSet::single(row.requests as f64 / f64::from(row.healthy_targets))),
                t.in_flight_per_task.map(StatSet::single),
            ];
            for (k, p) in points.into_iter().enumerate() {
                scaling.series[k].put(minute as usize, p);
            }
            self.evaluate_policies(&mut scaling, visible);
            self.scaling[s] = Some(scaling);
        }
        for g in 0..self.groups.len() {
            let Some(mut scaling) = self.group_scaling[g].take() else { continue };
            let points = self.group_metrics(g);
            for (m, p) in ScalingMetric::GROUP.into_iter().zip(points) {
                scaling.series[metric_index(m)].put(minute as usize, p);
            }
            // EC2 publishes an instance's CPU every five minutes under basic monitoring: the
            // alarms see a period once it is complete.
            let period = (self.scenario.auto_scaling_groups[g].metric_period / MINUTE).max(1) as usize;
            let visible = visible.and_then(|v| ((v + 1) / period * period).checked_sub(1));
            self.evaluate_policies(&mut scaling, visible);
            self.group_scaling[g] = Some(scaling);
        }
        self.instance_busy_ms.iter_mut().for_each(|b| *b = 0.0);
    }

    /// The minute's metrics of a group, in `ScalingMetric::GROUP` order: EC2 CPUUtilization
    /// averaged over its instances in service (past the default instance warmup, when set:
    /// ASG:ec2-auto-scaling-default-instance-warmup.md), and the ECS CPU and memory reservation
    /// of its registered instances.
    fn group_metrics(&self, g: usize) -> [Option<StatSet>; 3] {
        let now = self.now();
        let warmup = self.scenario.auto_scaling_groups[g].default_instance_warmup.unwrap_or(0);
        let (mut cpu, mut reserved_cpu, mut registered_cpu, mut reserved_mem, mut registered_mem) =
            (Vec::new(), 0u64, 0u64, 0u64, 0u64);
        for (i, inst) in self.cluster.instances.iter().enumerate() {
            if inst.group != g || matches!(inst.status, InstanceStatus::Launching | InstanceStatus::Inactive) {
                continue;
            }
            if now >= inst.launched_at + warmup {
                let vcpus = f64::from(self.cluster.instance_type_of(i).vcpu.max(1));
                let busy = self.instance_busy_ms.get(i).copied().unwrap_or(0.0);
                cpu.push((100.0 * busy / (vcpus * MINUTE as f64)).min(100.0));
            }
            if inst.status.is_registered() {
                reserved_cpu += u64::from(inst.reserved_cpu);
                registered_cpu += u64::from(inst.registered_cpu);
                reserved_mem += u64::from(inst.reserved_memory);
                registered_mem += u64::from(inst.registered_memory);
            }
        }
        let pct = |used: u64, total: u64| (total > 0).then(|| StatSet::single(100.0 * used as f64 / total as f64));
        [StatSet::of(cpu), pct(reserved_cpu, registered_cpu), pct(reserved_mem, registered_mem)]
    }

    /// One evaluation, every minute: each alarm judges the datapoints visible now, and every
    /// alarm in ALARM invokes its policy again, whether its state just changed or not, and
    /// whatever its period: "the alarm continues to invoke the action once per minute that the
    /// alarm remains in the new state" for Auto Scaling actions, the one exception to actions
    /// running only on a change of state (CloudWatch alarm-actions docs, "Auto Scaling
    /// actions"; AWS knowledge center "autoscaling-policy-cloudwatch-alarm"). So an alarm on a
    /// five-minute period (a group's basic monitoring, Elastic Beanstalk's trigger) invokes its
    /// policy five times on one datapoint: the cooldowns, not the period, keep a policy from
    /// scaling on the same reading twice (a service's metrics have a new datapoint every minute
    /// anyway). A group's target tracking on a five-minute metric may so scale on stale data, as
    /// AWS warns for basic monitoring (ASG:as-scaling-target-tracking.md).
    fn evaluate_policies(&mut self, scaling: &mut Scaling, visible: Option<usize>) {
        let now = self.now();
        let target = scaling.target;
        let service = target.service();
        let (current, min, max) = match target {
            // The service's bounds live in its (taken) scaling state.
            Scalable::Service(s) => (self.services[s as usize].desired_count, scaling.min, scaling.max),
            Scalable::Group(_) => self.capacity(target),
        };
        let spec = self.scaling_spec(target);
        let mut proposals = Vec::new();
        let mut voters = Vec::new();
        let mut in_alarm = 0;
        let mut transitions = Vec::new();
        let mut causes: Vec<Option<Cause>> = Vec::new();
        for (k, p) in scaling.policies.iter_mut().enumerate() {
            let series = &scaling.series[metric_index(p.metric)];
            let high = p.alarm.evaluate(series, visible);
            if k == 0 {
                scaling.seen = high.latest;
            }
            if let Some(from) = high.changed_from {
                transitions.push((p.alarm.spec.name.clone(), from, high.state, high.latest));
            }
            in_alarm += u32::from(high.state == AlarmState::Alarm);
            let mut cause = None;
            let invoked = visible.is_some();
            if high.state == AlarmState::Alarm
                && invoked
                && let Some(v) = high.latest
            {
                // Within a scale-out cooldown both kinds of policy scale from the capacity before
                // the last scale-out (for step scaling, "the second trigger adds only the
                // difference", AAS step scaling docs).
                let base = p.cooldowns.scaling_base(now, p.out_cooldown, current);
                let capacity = match (p.target_tracking, p.step) {
                    (Some(target), _) => target_tracking_capacity(base, v, target),
                    (None, Some(i)) => {
                        let step = spec.map(|a| &a.step_scaling[i]);
                        let step_base =
                            if step.is_some_and(|x| x.alarm.comparison.watches_above()) { base } else { current };
                        step.and_then(|x| x.capacity(step_base, v)).unwrap_or(current)
                    }
                    _ => current,
                };
                // A step policy's alarm may watch for a low metric: its steps then remove capacity.
                let scale_out = p.target_tracking.is_some() || p.alarm.spec.comparison.watches_above();
                proposals.push(Proposal { policy: k, capacity, scale_out });
                cause = Some(Cause { low: false, value: v });
            }
            if let Some(low) = p.low.as_mut() {
                let e = low.evaluate(series, visible);
                if let Some(from) = e.changed_from {
                    transitions.push((low.spec.name.clone(), from, e.state, e.latest));
                }
                in_alarm += u32::from(e.state == AlarmState::Alarm);
                voters.push(k);
                if e.state == AlarmState::Alarm
                    && invoked
                    && high.state != AlarmState::Alarm
                    && let (Some(v), Some(target)) = (e.latest, p.target_tracking)
                {
                    let capacity = target_tracking_capacity(current, v, target);
                    proposals.push(Proposal { policy: k, capacity, scale_out: false });
                    cause = Some(Cause { low: true, value: v });
                }
            }
            causes.push(cause);
        }
        scaling.alarms_in_alarm = in_alarm;
        for (name, from, to, latest) in transitions {
            let value = latest.map_or_else(|| "no datapoint".to_string(), |v| format!("latest datapoint {v:.2}"));
            let detail = format!("Alarm {name} changed from {} to {} ({value})", from.as_str(), to.as_str());
            self.record(EventKind::AlarmStateChanged, service, None, None, detail);
        }
        // Scale-in waits while a deployment replaces tasks (ECS-DG:service-auto-scaling.md).
        if service.is_some_and(|s| self.deploying(s)) {
            proposals.retain(|p| p.scale_out);
        }
        let cooldowns: Vec<(Cooldowns, SimTime, SimTime)> =
            scaling.policies.iter().map(|p| (p.cooldowns, p.out_cooldown, p.in_cooldown)).collect();
        let group_simple = match target {
            Scalable::Group(g) if scaling.simple => Some(g as usize),
            _ => None,
        };
        let decision = match group_simple {
            Some(g) => decide_simple(now, current, (min, max), &proposals, &cooldowns, &self.groups[g].simple_cooldown),
            None => decide(now, current, (min, max), &proposals, &cooldowns, &voters),
        };
        match decision {
            Decision::Nothing => {}
            Decision::Set { capacity, by, scale_out } => {
                for &k in &by {
                    let c = &mut scaling.policies[k].cooldowns;
                    if scale_out {
                        c.scaled_out = Some((now, capacity));
                        c.before_scale_out = current;
                    } else {
                        c.scaled_in = Some(now);
                    }
                }
                if scale_out {
                    // A scale-out ends every scale-in cooldown.
                    for p in &mut scaling.policies {
                        p.cooldowns.scaled_in = None;
                    }
                }
                let cause = by.first().map_or(String::new(), |&k| scaling.policies[k].cause_text(causes[k]));
                if let Some(g) = group_simple {
                    // The activity's cooldown is the policy's (Elastic Beanstalk gives both its
                    // policies the group's): it starts once the activity completes.
                    let cooldown = by
                        .first()
                        .and_then(|&k| scaling.policies[k].step)
                        .and_then(|i| spec.map(|a| a.step_scaling[i].cooldown))
                        .unwrap_or(DEFAULT_COOLDOWN);
                    self.groups[g].simple_cooldown.started(cooldown);
                    self.set_capacity(target, capacity, &cause);
                    self.check_group_activity(g);
                } else {
                    self.set_capacity(target, capacity, &cause);
                }
            }
            Decision::Held { wanted, by, why } => {
                let policy = &scaling.policies[by].name;
                let reason = match why {
                    Held::ScaleOutCooldown => {
                        "the scale-out cooldown is in effect and the new capacity is not larger".to_string()
                    }
                    Held::ScaleInCooldown => "the scale-in cooldown is in effect".to_string(),
                    Held::ActivityInProgress => {
                        "the group's last scaling activity is still in progress (its cooldown starts when the last instance finishes launching or terminating)".to_string()
                    }
                    Held::GroupCooldown { completed_at, until } => format!(
                        "the group's cooldown is in effect until {} (its last scaling activity completed at {})",
                        clock(until),
                        clock(completed_at)
                    ),
                    Held::NotAllAgree => "not every target tracking policy wants to scale in".to_string(),
                    Held::AtMaximum(m) => format!("the maximum capacity is {m}"),
                    Held::AtMinimum(m) => format!("the minimum capacity is {m}"),
                };
                let what = match target {
                    Scalable::Service(_) => "a desired count".to_string(),
                    Scalable::Group(g) => {
                        format!("group {} a desired capacity", self.scenario.auto_scaling_groups[g as usize].name)
                    }
                };
                let detail =
                    format!("Policy {policy} wanted {what} of {wanted} (now {current}); nothing changed: {reason}");
                self.record(EventKind::ScalingHeld, service, None, None, detail);
            }
        }
    }

    fn set_capacity(&mut self, target: Scalable, capacity: u32, cause: &str) {
        match target {
            Scalable::Service(s) => {
                let s = s as usize;
                let before = self.services[s].desired_count;
                self.services[s].desired_count = capacity;
                let detail = format!(
                    "Successfully set desired count to {capacity} (from {before}). Change successfully fulfilled by ecs. Cause: {cause}"
                );
                self.record(EventKind::ScalingActivity, Some(s), None, None, detail);
                self.request_service_schedule(s);
            }
            Scalable::Group(g) => self.set_group_desired(g as usize, capacity, cause),
        }
    }

    /// A scheduled action sets min and/or max (and for a group, perhaps the desired capacity);
    /// the capacity moves into the new bounds at once
    /// (AAS:application-auto-scaling-scheduled-scaling.md, ASG:ec2-auto-scaling-scheduled-scaling.md).
    pub(super) fn scheduled_scaling(&mut self, target: Scalable, a: usize) {
        let Some(spec) = self.scaling_spec(target) else { return };
        let action = &spec.scheduled[a];
        let (current, mut min, mut max) = self.capacity(target);
        if let Some(m) = action.min_capacity {
            min = m;
        }
        if let Some(m) = action.max_capacity {
            max = m;
        }
        // A new minimum above the maximum raises the maximum too, and vice versa.
        if min > max {
            match action.min_capacity {
                Some(_) => max = min,
                None => min = max,
            }
        }
        match target {
            Scalable::Service(s) => {
                if let Some(x) = self.scaling[s as usize].as_mut() {
                    (x.min, x.max) = (min, max);
                }
            }
            Scalable::Group(g) => {
                let st = &mut self.groups[g as usize];
                (st.min, st.max) = (min, max);
            }
        }
        let name = action.name.clone();
        let next = action.schedule.next(Some(self.now()), self.scenario.duration);
        let mut detail = format!("Scheduled action {name} set min capacity {min} and max capacity {max}");
        if let Scalable::Group(g) = target {
            detail = format!("Auto Scaling group {}: {detail}", self.scenario.auto_scaling_groups[g as usize].name);
        }
        if let Some(d) = action.desired_capacity {
            detail.push_str(&format!(" and desired capacity {d}"));
        }
        self.record(EventKind::ScheduledAction, target.service(), None, None, detail);
        let wanted = action.desired_capacity.unwrap_or(current).clamp(min, max);
        if wanted != current {
            let cause = match action.desired_capacity {
                Some(d) => format!("scheduled action {name} set the desired capacity to {d}"),
                None => format!("scheduled action {name} set the capacity bounds to [{min}, {max}]"),
            };
            self.set_capacity(target, wanted, &cause);
        }
        if let Some(t) = next {
            self.queue.schedule(t, Event::ScheduledScaling { target, action: a as u32 });
        }
    }
}

/// A time of the run as minutes and seconds (`22:54`), as `ecsim explain` prints it.
fn clock(t: SimTime) -> String {
    let seconds = t / crate::engine::SECOND;
    format!("{:02}:{:02}", seconds / 60, seconds % 60)
}
