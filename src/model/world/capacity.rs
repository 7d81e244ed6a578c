//! ECS cluster auto scaling while the simulation runs: each minute, every capacity provider with
//! managed scaling publishes its CapacityProviderReservation; the target tracking policy ECS
//! puts on the provider's Auto Scaling group reads it through two alarms and sets the group's
//! desired capacity (ECS-DG:cluster-auto-scaling.md, ECS-DG:managed-scaling-behavior.md;
//! AWS-SEMANTICS.md §6).

use super::*;

use crate::model::autoscaling::target_tracking_capacity;
use crate::model::capacity_provider::{
    GroupUse, InstanceShape, ManagedScaling, instances_needed, published_reservation, scale_in_size,
};
use crate::model::cloudwatch::{
    Alarm, AlarmSpec, AlarmState, Comparison, MetricSeries, MissingData, StatSet, Statistic, last_visible_minute,
};

/// The alarms ECS creates: AlarmHigh, one datapoint above the target; AlarmLow, fifteen
/// datapoints of fifteen below it; neither can be changed (aws/containers-roadmap#638 and #1220,
/// AWS-SEMANTICS.md §6). The low alarm's threshold is the target itself: the documented example
/// scales in at 98 against a target of 100.
const ALARM_HIGH_DATAPOINTS: u32 = 1;
const ALARM_LOW_DATAPOINTS: u32 = 15;

/// A capacity provider's managed scaling while the simulation runs.
pub(super) struct ManagedScalingState {
    series: MetricSeries,
    high: Alarm,
    low: Alarm,
    /// The value published for the last minute, for the time series.
    pub(super) latest: f64,
    /// The minute of the last scaling action: the alarms act again only on datapoints of the
    /// minutes since, which see the group as that action left it [assume: ECS documents one
    /// scale-in step per minute, not how a datapoint from before a step is treated; acting on it
    /// again would count the removed instances twice].
    last_action: Option<usize>,
    /// A scale-out held by the warmup was reported (once per hold).
    held_reported: bool,
}

impl ManagedScalingState {
    fn new(provider: &str, group: &str, ms: &ManagedScaling) -> Self {
        let alarm = |suffix: &str, comparison, n| {
            Alarm::new(AlarmSpec {
                name: format!("TargetTracking-{group}-{suffix}-{provider}"),
                statistic: Statistic::Average,
                period: MINUTE,
                evaluation_periods: n,
                datapoints_to_alarm: n,
                threshold: f64::from(ms.target_capacity),
                comparison,
                treat_missing_data: MissingData::Missing,
            })
        };
        ManagedScalingState {
            series: MetricSeries::default(),
            high: alarm("AlarmHigh", Comparison::GreaterThanThreshold, ALARM_HIGH_DATAPOINTS),
            low: alarm("AlarmLow", Comparison::LessThanThreshold, ALARM_LOW_DATAPOINTS),
            latest: 100.0,
            last_action: None,
            held_reported: false,
        }
    }
}

impl World<'_> {
    pub(super) fn start_managed_scaling(&mut self) {
        self.managed = self
            .scenario
            .capacity_providers
            .iter()
            .map(|cp| {
                let group = &self.scenario.auto_scaling_groups[cp.group()?].name;
                cp.managed_scaling.as_ref().map(|ms| ManagedScalingState::new(&cp.name, group, ms))
            })
            .collect();
    }

    /// What an instance of the group offers a waiting task, for ECS's estimate: the largest
    /// type's resources (the count), and the smallest's (the guard: a task that does not fit the
    /// smallest type is left out). Each fresh instance will also run the DAEMON services' tasks
    /// [assume: the docs do not say; a daemon task takes its share of every instance, whatever
    /// its own placement constraints].
    fn provider_shapes(&self, g: usize) -> (InstanceShape, InstanceShape) {
        let spec = &self.scenario.auto_scaling_groups[g];
        let types: Vec<usize> = match &spec.mixed_instances_policy {
            Some(m) => m.overrides.iter().map(|o| o.0).collect(),
            None => vec![spec.instance_type],
        };
        let (mut d_cpu, mut d_mem, mut d_eni) = (0u32, 0u32, 0u32);
        let dedicated = self.group_dedication.get(g).copied().flatten();
        for (s, svc) in self.services.iter().enumerate() {
            // An Elastic Beanstalk environment's task runs only on its own group, and nothing
            // else runs there.
            let here = match dedicated {
                Some(d) => d == svc.group,
                None => !self.group_dedication.contains(&Some(svc.group)),
            };
            if svc.scheduling_strategy == SchedulingStrategy::Daemon && here {
                let r = &self.requirements[self.scenario.services[s].task_definition];
                d_cpu += r.cpu;
                d_mem += r.memory;
                d_eni += u32::from(r.needs_eni);
            }
        }
        let shape = |t: usize| {
            let it = &self.scenario.instance_types[t];
            InstanceShape {
                cpu: it.registered_cpu().saturating_sub(d_cpu),
                memory: it.registered_memory().saturating_sub(spec.reserved_memory).saturating_sub(d_mem),
                enis: it.max_enis.saturating_sub(1).saturating_sub(d_eni),
            }
        };
        let shapes: Vec<InstanceShape> = types.into_iter().map(shape).collect();
        let fold = |f: fn(u32, u32) -> u32| InstanceShape {
            cpu: shapes.iter().map(|s| s.cpu).reduce(f).unwrap_or(0),
            memory: shapes.iter().map(|s| s.memory).reduce(f).unwrap_or(0),
            enis: shapes.iter().map(|s| s.enis).reduce(f).unwrap_or(0),
        };
        (fold(u32::max), fold(u32::min))
    }

    /// The provider's reservation for the minute that just ended, from the group's instances and
    /// the tasks waiting for it.
    fn capacity_provider_reservation(&self, p: usize, ms: &ManagedScaling) -> (f64, GroupUse) {
        let Some(g) = self.scenario.capacity_providers[p].group() else {
            return (100.0, GroupUse { in_group: 0, busy: 0, booting: 0 });
        };
        let mut group = GroupUse { in_group: 0, busy: 0, booting: 0 };
        for (i, inst) in self.cluster.instances.iter().enumerate() {
            if inst.group != g || inst.status == InstanceStatus::Inactive || inst.terminating {
                continue;
            }
            group.in_group += 1;
            group.booting += u32::from(!inst.status.is_registered());
            group.busy += u32::from(self.runs_replica_tasks(i));
        }
        let mut waiting: Vec<&TaskRequirements> = Vec::new();
        for (s, svc) in self.services.iter().enumerate() {
            let n = svc.waiting.get(p).copied().unwrap_or(0);
            let r = &self.requirements[self.services[s].task_definition];
            waiting.extend(std::iter::repeat_n(r, n as usize));
        }
        let needed = (!waiting.is_empty()).then(|| {
            let (largest, smallest) = self.provider_shapes(g);
            let fits = |t: &&TaskRequirements| {
                t.cpu <= smallest.cpu && t.memory <= smallest.memory && (!t.needs_eni || smallest.enis > 0)
            };
            let compatible: Vec<&TaskRequirements> = waiting.iter().copied().filter(fits).collect();
            instances_needed(&compatible, largest)
        });
        (published_reservation(group, needed, ms), group)
    }

    /// Publishes each managed provider's reservation for the minute that just ended, lets its
    /// alarms see what is visible and sets the group's desired capacity.
    pub(super) fn cluster_autoscale(&mut self) {
        let now = self.now();
        // A group above its desired capacity because its instances were protected tries again:
        // ECS lifts managed termination protection once an instance runs no non-daemon task.
        for g in 0..self.groups.len() {
            self.reconcile_group(g);
        }
        let Some(minute) = (now / MINUTE).checked_sub(1) else { return };
        let visible = last_visible_minute(now, self.scenario.publish_delay);
        for p in 0..self.managed.len() {
            let Some(mut state) = self.managed[p].take() else { continue };
            let cp = &self.scenario.capacity_providers[p];
            let Some(ms) = cp.managed_scaling else { continue };
            let (value, group) = self.capacity_provider_reservation(p, &ms);
            state.latest = value;
            state.series.put(minute as usize, Some(StatSet::single(value)));
            let high = state.high.evaluate(&state.series, visible);
            let low = state.low.evaluate(&state.series, visible);
            for (alarm, e) in [(&state.high, &high), (&state.low, &low)] {
                if let Some(from) = e.changed_from {
                    let seen =
                        e.latest.map_or_else(|| "no datapoint".to_string(), |v| format!("latest datapoint {v:.2}"));
                    let detail = format!(
                        "Alarm {} on CapacityProviderReservation changed from {} to {} ({seen})",
                        alarm.spec.name,
                        from.as_str(),
                        e.state.as_str()
                    );
                    self.record(EventKind::AlarmStateChanged, None, None, None, detail);
                }
            }
            let fresh = visible.is_some_and(|v| state.last_action.is_none_or(|a| v >= a));
            let acted = if !fresh {
                false
            } else if high.state == AlarmState::Alarm
                && let Some(v) = high.latest
            {
                self.managed_scale_out(p, &mut state, v, group, &ms)
            } else if low.state == AlarmState::Alarm
                && let Some(v) = low.latest
            {
                self.managed_scale_in(p, v, group, &ms)
            } else {
                false
            };
            if acted {
                state.last_action = Some((now / MINUTE) as usize);
            }
            self.managed[p] = Some(state);
        }
    }

    /// AlarmHigh: target tracking raises the desired capacity to `ceil(N × value / target)`,
    /// unless an instance launched within the warmup period blocks further scale-out
    /// (ECS-DG:cluster-auto-scaling.md).
    /// Returns whether the desired capacity changed.
    fn managed_scale_out(
        &mut self,
        p: usize,
        state: &mut ManagedScalingState,
        value: f64,
        group: GroupUse,
        ms: &ManagedScaling,
    ) -> bool {
        let now = self.now();
        let cp = &self.scenario.capacity_providers[p];
        let Some(g) = cp.group() else { return false };
        let warming = self.cluster.instances.iter().any(|inst| {
            inst.group == g
                && inst.status != InstanceStatus::Inactive
                && now < inst.launched_at + ms.instance_warmup_period
        });
        if warming {
            if !state.held_reported {
                state.held_reported = true;
                let detail = format!(
                    "Capacity provider {}: CapacityProviderReservation {value:.1} is above the target {}, but an instance is within its {} s warmup: no further scale-out yet",
                    cp.name,
                    ms.target_capacity,
                    ms.instance_warmup_period / crate::engine::SECOND
                );
                self.record(EventKind::CapacityProviderScaling, None, None, None, detail);
            }
            return false;
        }
        state.held_reported = false;
        let current = self.groups[g].desired;
        let wanted = target_tracking_capacity(group.in_group, value, f64::from(ms.target_capacity));
        if wanted <= current {
            return false;
        }
        let detail = format!(
            "Capacity provider {}: CapacityProviderReservation {value:.1} > target {} with {} instances ({} running tasks, {} booting): scale out to {wanted}",
            cp.name, ms.target_capacity, group.in_group, group.busy, group.booting
        );
        self.record(EventKind::CapacityProviderScaling, None, None, None, detail);
        let cause = format!(
            "CapacityProviderReservation {value:.1} above target {} (capacity provider {})",
            ms.target_capacity, cp.name
        );
        self.set_group_desired(g, wanted, &cause);
        true
    }

    /// AlarmLow: fifteen minutes below the target, so some instances run no non-daemon task; the
    /// group shrinks, at most by half a step (ECS-DG:cluster-auto-scaling.md).
    fn managed_scale_in(&mut self, p: usize, value: f64, group: GroupUse, ms: &ManagedScaling) -> bool {
        let cp = &self.scenario.capacity_providers[p];
        let Some(g) = cp.group() else { return false };
        let wanted = scale_in_size(group.in_group, value, ms);
        if wanted >= self.groups[g].desired {
            return false;
        }
        let detail = format!(
            "Capacity provider {}: CapacityProviderReservation {value:.1} < target {} for 15 minutes with {} instances ({} running tasks): scale in to {wanted}",
            cp.name, ms.target_capacity, group.in_group, group.busy
        );
        self.record(EventKind::CapacityProviderScaling, None, None, None, detail);
        let cause = format!(
            "CapacityProviderReservation {value:.1} below target {} (capacity provider {})",
            ms.target_capacity, cp.name
        );
        self.set_group_desired(g, wanted, &cause);
        true
    }

    /// The reservation a service's first capacity provider published last, for its time series.
    pub(super) fn service_reservation(&self, s: usize) -> f64 {
        self.scenario.services[s]
            .capacity_provider_strategy
            .first()
            .and_then(|item| self.managed.get(item.provider))
            .and_then(|m| m.as_ref())
            .map_or(0.0, |m| m.latest)
    }
}
