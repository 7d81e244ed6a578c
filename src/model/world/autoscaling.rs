//! Service Auto Scaling while the simulation runs: the minute's CloudWatch datapoints, the
//! alarms that read them after the publication delay, the policies they invoke, and scheduled
//! actions.

use super::*;

use crate::model::autoscaling::{
    Cooldowns, Decision, Held, Proposal, ServiceMetric, ServiceScaling, target_tracking_capacity,
};
use crate::model::cloudwatch::{Alarm, AlarmState, MetricSeries, StatSet, last_visible_minute};

/// One scaling policy's alarms and cooldowns.
struct PolicyState {
    name: String,
    kind: &'static str,
    metric: ServiceMetric,
    /// The high (or only) alarm, and for target tracking the low one.
    alarm: Alarm,
    low: Option<Alarm>,
    cooldowns: Cooldowns,
    out_cooldown: SimTime,
    in_cooldown: SimTime,
    target_tracking: Option<f64>,
    step: Option<usize>,
}

/// A service's scalable target while the simulation runs.
pub(super) struct Scaling {
    min: u32,
    max: u32,
    series: Vec<MetricSeries>,
    policies: Vec<PolicyState>,
    /// The value the first policy's alarm last saw, for the time series.
    pub(super) seen: Option<f64>,
    pub(super) alarms_in_alarm: u32,
}

impl Scaling {
    pub(super) fn new(service: &str, spec: &ServiceScaling) -> Scaling {
        let mut policies = Vec::new();
        for p in &spec.target_tracking {
            let (high, low) = p.alarms(service);
            policies.push(PolicyState {
                name: p.name.clone(),
                kind: "TargetTracking",
                metric: p.metric,
                alarm: Alarm::new(high),
                low: low.map(Alarm::new),
                cooldowns: Cooldowns::default(),
                out_cooldown: p.scale_out_cooldown,
                in_cooldown: p.scale_in_cooldown,
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
                out_cooldown: p.cooldown,
                in_cooldown: p.cooldown,
                target_tracking: None,
                step: Some(k),
            });
        }
        Scaling {
            min: spec.min_capacity,
            max: spec.max_capacity,
            series: vec![MetricSeries::default(); ServiceMetric::ALL.len()],
            policies,
            seen: None,
            alarms_in_alarm: 0,
        }
    }
}

fn metric_index(m: ServiceMetric) -> usize {
    ServiceMetric::ALL.iter().position(|x| *x == m).unwrap_or(0)
}

impl World<'_> {
    pub(super) fn start_scaling(&mut self) {
        for (s, def) in self.scenario.services.iter().enumerate() {
            self.scaling.push(def.auto_scaling.as_ref().map(|spec| Scaling::new(&def.name, spec)));
            if let Some(spec) = &def.auto_scaling {
                for (a, action) in spec.scheduled.iter().enumerate() {
                    if let Some(t) = action.schedule.next(None, self.scenario.duration) {
                        self.queue.schedule(t, Event::ScheduledScaling { service: s as u32, action: a as u32 });
                    }
                }
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
                StatSet::of(t.task_cpu_pct.iter().copied()),
                StatSet::of(t.task_mem_pct.iter().copied()),
                Some(StatSet::single(row.requests as f64)),
                (row.healthy_targets > 0)
                    .then(|| StatSet::single(row.requests as f64 / f64::from(row.healthy_targets))),
                t.in_flight_per_task.map(StatSet::single),
            ];
            for (k, p) in points.into_iter().enumerate() {
                scaling.series[k].put(minute as usize, p);
            }
            self.evaluate_policies(s, &mut scaling, visible);
            self.scaling[s] = Some(scaling);
        }
    }

    fn evaluate_policies(&mut self, s: usize, scaling: &mut Scaling, visible: Option<usize>) {
        let now = self.now();
        let current = self.services[s].desired_count;
        let mut proposals = Vec::new();
        let mut voters = Vec::new();
        let mut in_alarm = 0;
        let mut transitions = Vec::new();
        let mut causes: Vec<String> = Vec::new();
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
            let mut cause = String::new();
            if high.state == AlarmState::Alarm
                && let Some(v) = high.latest
            {
                // Within a scale-out cooldown both kinds of policy scale from the capacity before
                // the last scale-out (for step scaling, "the second trigger adds only the
                // difference", AAS step scaling docs).
                let base = p.cooldowns.scaling_base(now, p.out_cooldown, current);
                let capacity = match (p.target_tracking, p.step) {
                    (Some(target), _) => target_tracking_capacity(base, v, target),
                    (None, Some(i)) => {
                        let spec = self.scenario.services[s].auto_scaling.as_ref().map(|a| &a.step_scaling[i]);
                        let step_base =
                            if spec.is_some_and(|x| x.alarm.comparison.watches_above()) { base } else { current };
                        spec.and_then(|x| x.capacity(step_base, v)).unwrap_or(current)
                    }
                    _ => current,
                };
                // A step policy's alarm may watch for a low metric: its steps then remove capacity.
                let scale_out = p.target_tracking.is_some() || p.alarm.spec.comparison.watches_above();
                proposals.push(Proposal { policy: k, capacity, scale_out });
                cause = format!(
                    "monitor alarm {} in state ALARM triggered policy {} ({}, {} {:.1})",
                    p.alarm.spec.name,
                    p.name,
                    p.kind,
                    p.metric.name(),
                    v
                );
            }
            if let Some(low) = p.low.as_mut() {
                let e = low.evaluate(series, visible);
                if let Some(from) = e.changed_from {
                    transitions.push((low.spec.name.clone(), from, e.state, e.latest));
                }
                in_alarm += u32::from(e.state == AlarmState::Alarm);
                voters.push(k);
                if e.state == AlarmState::Alarm
                    && high.state != AlarmState::Alarm
                    && let (Some(v), Some(target)) = (e.latest, p.target_tracking)
                {
                    let capacity = target_tracking_capacity(current, v, target);
                    proposals.push(Proposal { policy: k, capacity, scale_out: false });
                    cause = format!(
                        "monitor alarm {} in state ALARM triggered policy {} ({}, {} {:.1})",
                        low.spec.name,
                        p.name,
                        p.kind,
                        p.metric.name(),
                        v
                    );
                }
            }
            causes.push(cause);
        }
        scaling.alarms_in_alarm = in_alarm;
        for (name, from, to, latest) in transitions {
            let value = latest.map_or_else(|| "no datapoint".to_string(), |v| format!("latest datapoint {v:.2}"));
            let detail = format!("Alarm {name} changed from {} to {} ({value})", from.as_str(), to.as_str());
            self.record(EventKind::AlarmStateChanged, Some(s), None, None, detail);
        }
        // Scale-in waits while a deployment replaces tasks (ECS-DG:service-auto-scaling.md).
        if self.deploying(s) {
            proposals.retain(|p| p.scale_out);
        }
        let cooldowns: Vec<(Cooldowns, SimTime, SimTime)> =
            scaling.policies.iter().map(|p| (p.cooldowns, p.out_cooldown, p.in_cooldown)).collect();
        match crate::model::autoscaling::decide(
            now,
            current,
            (scaling.min, scaling.max),
            &proposals,
            &cooldowns,
            &voters,
        ) {
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
                let cause = by.first().map_or(String::new(), |&k| causes[k].clone());
                self.set_desired_count(s, capacity, &cause);
            }
            Decision::Held { wanted, by, why } => {
                let policy = &scaling.policies[by].name;
                let reason = match why {
                    Held::ScaleOutCooldown => {
                        "the scale-out cooldown is in effect and the new capacity is not larger".to_string()
                    }
                    Held::ScaleInCooldown => "the scale-in cooldown is in effect".to_string(),
                    Held::NotAllAgree => "not every target tracking policy wants to scale in".to_string(),
                    Held::AtMaximum(m) => format!("the maximum capacity is {m}"),
                    Held::AtMinimum(m) => format!("the minimum capacity is {m}"),
                };
                let detail = format!(
                    "Policy {policy} wanted a desired count of {wanted} (now {current}); nothing changed: {reason}"
                );
                self.record(EventKind::ScalingHeld, Some(s), None, None, detail);
            }
        }
    }

    fn set_desired_count(&mut self, s: usize, capacity: u32, cause: &str) {
        let before = self.services[s].desired_count;
        self.services[s].desired_count = capacity;
        let detail = format!(
            "Successfully set desired count to {capacity} (from {before}). Change successfully fulfilled by ecs. Cause: {cause}"
        );
        self.record(EventKind::ScalingActivity, Some(s), None, None, detail);
        self.request_schedule();
    }

    /// A scheduled action sets min and/or max; the desired count moves into the new bounds at
    /// once (AAS:application-auto-scaling-scheduled-scaling.md).
    pub(super) fn scheduled_scaling(&mut self, s: usize, a: usize) {
        let Some(spec) = self.scenario.services[s].auto_scaling.as_ref() else { return };
        let action = &spec.scheduled[a];
        let Some(scaling) = self.scaling[s].as_mut() else { return };
        if let Some(min) = action.min_capacity {
            scaling.min = min;
        }
        if let Some(max) = action.max_capacity {
            scaling.max = max;
        }
        // A new minimum above the maximum raises the maximum too, and vice versa.
        if scaling.min > scaling.max {
            match action.min_capacity {
                Some(_) => scaling.max = scaling.min,
                None => scaling.min = scaling.max,
            }
        }
        let (min, max) = (scaling.min, scaling.max);
        let name = action.name.clone();
        let next = action.schedule.next(Some(self.now()), self.scenario.duration);
        let detail = format!("Scheduled action {name} set min capacity {min} and max capacity {max}");
        self.record(EventKind::ScheduledAction, Some(s), None, None, detail);
        let current = self.services[s].desired_count;
        let clamped = current.clamp(min, max);
        if clamped != current {
            self.set_desired_count(
                s,
                clamped,
                &format!("scheduled action {name} set the capacity bounds to [{min}, {max}]"),
            );
        }
        if let Some(t) = next {
            self.queue.schedule(t, Event::ScheduledScaling { service: s as u32, action: a as u32 });
        }
    }
}
