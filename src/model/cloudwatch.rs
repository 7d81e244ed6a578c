//! CloudWatch: one-minute metric datapoints published after a delay, and alarms that judge the
//! latest of them, datapoint by datapoint.
//!
//! ECS publishes service metrics every minute, one datapoint aggregating the minute
//! (ECS-DG:cloudwatch-metrics.md). A datapoint for the minute [t, t+60 s) becomes visible at
//! t + 60 s + the publication delay. An alarm looks at its last `evaluation_periods` periods and
//! goes to ALARM when at least `datapoints_to_alarm` of them breach the threshold ("M out of N"),
//! with missing datapoints treated as the alarm says
//! (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/AlarmThatSendsEmail.html,
//! "Evaluating an alarm" and "Configuring how CloudWatch alarms treat missing data").

use crate::engine::{MINUTE, SimTime};

/// One period's statistics: enough for Average, Sum, Minimum, Maximum and SampleCount.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StatSet {
    pub sum: f64,
    pub count: f64,
    pub min: f64,
    pub max: f64,
}

impl StatSet {
    /// A datapoint whose samples are `values` (one per task, say).
    pub fn of(values: impl IntoIterator<Item = f64>) -> Option<StatSet> {
        let mut s: Option<StatSet> = None;
        for v in values {
            s = Some(match s {
                None => StatSet { sum: v, count: 1.0, min: v, max: v },
                Some(x) => StatSet { sum: x.sum + v, count: x.count + 1.0, min: x.min.min(v), max: x.max.max(v) },
            });
        }
        s
    }

    /// `values` samples of `v` more in the datapoint `set` (tasks that spent the minute alike,
    /// say): the sum, count, minimum and maximum of as many single samples, in one step.
    pub fn add_samples(set: &mut Option<StatSet>, v: f64, values: u32) {
        if values == 0 {
            return;
        }
        let n = f64::from(values);
        let sum = if values == 1 { v } else { v * n };
        *set = Some(match *set {
            None => StatSet { sum, count: n, min: v, max: v },
            Some(x) => StatSet { sum: x.sum + sum, count: x.count + n, min: x.min.min(v), max: x.max.max(v) },
        });
    }

    /// A single-valued datapoint (a count, a sum already taken).
    pub fn single(v: f64) -> StatSet {
        StatSet { sum: v, count: 1.0, min: v, max: v }
    }

    fn merge(self, o: StatSet) -> StatSet {
        StatSet {
            sum: self.sum + o.sum,
            count: self.count + o.count,
            min: self.min.min(o.min),
            max: self.max.max(o.max),
        }
    }

    pub fn value(&self, statistic: Statistic) -> f64 {
        match statistic {
            Statistic::Average => {
                if self.count > 0.0 {
                    self.sum / self.count
                } else {
                    0.0
                }
            }
            Statistic::Sum => self.sum,
            Statistic::Minimum => self.min,
            Statistic::Maximum => self.max,
            Statistic::SampleCount => self.count,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Statistic {
    Average,
    Sum,
    Minimum,
    Maximum,
    SampleCount,
}

/// One metric: a datapoint per minute (or none, when nothing was measured).
#[derive(Clone, Debug, Default)]
pub struct MetricSeries {
    /// `points[m]`: the minute [m·60 s, (m+1)·60 s).
    points: Vec<Option<StatSet>>,
}

impl MetricSeries {
    /// Records the datapoint of minute `m` (minutes are recorded in order).
    pub fn put(&mut self, minute: usize, point: Option<StatSet>) {
        if self.points.len() <= minute {
            self.points.resize(minute + 1, None);
        }
        self.points[minute] = point;
    }

    /// The statistic over the period of `period_minutes` ending with minute `last`, if any
    /// datapoint in it exists.
    fn period(&self, last: usize, period_minutes: usize, statistic: Statistic) -> Option<f64> {
        let first = (last + 1).saturating_sub(period_minutes);
        let mut acc: Option<StatSet> = None;
        for m in first..=last {
            if let Some(Some(p)) = self.points.get(m) {
                acc = Some(acc.map_or(*p, |a| a.merge(*p)));
            }
        }
        acc.map(|a| a.value(statistic))
    }
}

/// The comparison an alarm applies to `value` and its threshold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Comparison {
    GreaterThanOrEqualToThreshold,
    GreaterThanThreshold,
    LessThanThreshold,
    LessThanOrEqualToThreshold,
}

impl Comparison {
    pub fn breaches(self, value: f64, threshold: f64) -> bool {
        match self {
            Comparison::GreaterThanOrEqualToThreshold => value >= threshold,
            Comparison::GreaterThanThreshold => value > threshold,
            Comparison::LessThanThreshold => value < threshold,
            Comparison::LessThanOrEqualToThreshold => value <= threshold,
        }
    }

    /// Whether the alarm watches for values above its threshold (a scale-out alarm).
    pub fn watches_above(self) -> bool {
        matches!(self, Comparison::GreaterThanOrEqualToThreshold | Comparison::GreaterThanThreshold)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Comparison::GreaterThanOrEqualToThreshold => ">=",
            Comparison::GreaterThanThreshold => ">",
            Comparison::LessThanThreshold => "<",
            Comparison::LessThanOrEqualToThreshold => "<=",
        }
    }
}

/// `TreatMissingData`: what a period without a datapoint counts as.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MissingData {
    /// The default: it is left out; with no datapoint at all the alarm has INSUFFICIENT_DATA.
    Missing,
    NotBreaching,
    Breaching,
    /// The alarm keeps its state.
    Ignore,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AlarmState {
    Ok,
    Alarm,
    InsufficientData,
}

impl AlarmState {
    pub fn as_str(self) -> &'static str {
        match self {
            AlarmState::Ok => "OK",
            AlarmState::Alarm => "ALARM",
            AlarmState::InsufficientData => "INSUFFICIENT_DATA",
        }
    }
}

/// How an alarm judges its metric.
#[derive(Clone, Debug, PartialEq)]
pub struct AlarmSpec {
    pub name: String,
    pub statistic: Statistic,
    /// A whole number of minutes.
    pub period: SimTime,
    pub evaluation_periods: u32,
    pub datapoints_to_alarm: u32,
    pub threshold: f64,
    pub comparison: Comparison,
    pub treat_missing_data: MissingData,
}

/// The outcome of one evaluation.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Evaluation {
    pub state: AlarmState,
    /// The state before, when it changed.
    pub changed_from: Option<AlarmState>,
    /// The most recent period's value, if it has a datapoint.
    pub latest: Option<f64>,
}

/// An alarm's state over time.
#[derive(Clone, Debug)]
pub struct Alarm {
    pub spec: AlarmSpec,
    pub state: AlarmState,
}

impl Alarm {
    pub fn new(spec: AlarmSpec) -> Self {
        Alarm { spec, state: AlarmState::InsufficientData }
    }

    /// Evaluates the alarm on the datapoints visible now: the periods that ended at or before
    /// minute `last_visible` (inclusive), the last N of them.
    pub fn evaluate(&mut self, series: &MetricSeries, last_visible: Option<usize>) -> Evaluation {
        let before = self.state;
        let Some(last) = last_visible else {
            return Evaluation { state: self.state, changed_from: None, latest: None };
        };
        let period_minutes = (self.spec.period / MINUTE).max(1) as usize;
        let n = self.spec.evaluation_periods as usize;
        let m = self.spec.datapoints_to_alarm;
        let (mut breaching, mut missing) = (0u32, 0u32);
        let mut latest = None;
        for k in 0..n {
            // Period k ends `k` periods before the last visible minute.
            let Some(end) = last.checked_sub(k * period_minutes) else {
                missing += 1;
                continue;
            };
            if end + 1 < period_minutes {
                missing += 1;
                continue;
            }
            match series.period(end, period_minutes, self.spec.statistic) {
                Some(v) => {
                    if k == 0 {
                        latest = Some(v);
                    }
                    breaching += u32::from(self.spec.comparison.breaches(v, self.spec.threshold));
                }
                None => match self.spec.treat_missing_data {
                    MissingData::Breaching => breaching += 1,
                    MissingData::NotBreaching => {}
                    MissingData::Missing | MissingData::Ignore => missing += 1,
                },
            }
        }
        let state = if breaching >= m {
            AlarmState::Alarm
        } else if missing > 0 && self.spec.treat_missing_data == MissingData::Ignore {
            self.state
        } else if missing as usize == n {
            AlarmState::InsufficientData
        } else {
            AlarmState::Ok
        };
        self.state = state;
        Evaluation { state, changed_from: (state != before).then_some(before), latest }
    }
}

/// The last minute whose datapoint is visible at `now`, given the publication delay.
pub fn last_visible_minute(now: SimTime, delay: SimTime) -> Option<usize> {
    let published_through = now.checked_sub(delay)?;
    // Minute m ends at (m+1)·60 s.
    (published_through / MINUTE).checked_sub(1).map(|m| m as usize)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series(values: &[Option<f64>]) -> MetricSeries {
        let mut s = MetricSeries::default();
        for (m, v) in values.iter().enumerate() {
            s.put(m, v.map(StatSet::single));
        }
        s
    }

    fn alarm(n: u32, m: u32, threshold: f64, missing: MissingData) -> Alarm {
        Alarm::new(AlarmSpec {
            name: "a".into(),
            statistic: Statistic::Average,
            period: MINUTE,
            evaluation_periods: n,
            datapoints_to_alarm: m,
            threshold,
            comparison: Comparison::GreaterThanThreshold,
            treat_missing_data: missing,
        })
    }

    #[test]
    fn three_of_three_needs_three_breaching_minutes_in_a_row() {
        let s = series(&[Some(40.0), Some(80.0), Some(80.0), Some(80.0)]);
        let mut a = alarm(3, 3, 50.0, MissingData::Missing);
        assert_eq!(a.evaluate(&s, Some(1)).state, AlarmState::Ok);
        assert_eq!(a.evaluate(&s, Some(2)).state, AlarmState::Ok);
        let e = a.evaluate(&s, Some(3));
        assert_eq!((e.state, e.changed_from, e.latest), (AlarmState::Alarm, Some(AlarmState::Ok), Some(80.0)));
    }

    #[test]
    fn m_out_of_n_tolerates_a_dip() {
        // 2 out of 3: high, low, high → ALARM.
        let s = series(&[Some(80.0), Some(10.0), Some(80.0)]);
        let mut a = alarm(3, 2, 50.0, MissingData::Missing);
        assert_eq!(a.evaluate(&s, Some(2)).state, AlarmState::Alarm);
    }

    #[test]
    fn just_under_the_threshold_never_alarms() {
        let s = series(&[Some(50.0); 20]);
        let mut a = alarm(3, 3, 50.0, MissingData::Missing);
        for last in 0..20 {
            assert_ne!(a.evaluate(&s, Some(last)).state, AlarmState::Alarm);
        }
    }

    #[test]
    fn no_data_is_insufficient_data_unless_treated_otherwise() {
        let s = series(&[None, None, None]);
        assert_eq!(alarm(3, 3, 50.0, MissingData::Missing).evaluate(&s, Some(2)).state, AlarmState::InsufficientData);
        assert_eq!(alarm(3, 3, 50.0, MissingData::Breaching).evaluate(&s, Some(2)).state, AlarmState::Alarm);
        assert_eq!(alarm(3, 3, 50.0, MissingData::NotBreaching).evaluate(&s, Some(2)).state, AlarmState::Ok);
    }

    #[test]
    fn statistics_read_a_stat_set() {
        let p = StatSet::of([10.0, 30.0, 50.0]).unwrap();
        assert_eq!(p.value(Statistic::Average), 30.0);
        assert_eq!(p.value(Statistic::Minimum), 10.0);
        assert_eq!(p.value(Statistic::Maximum), 50.0);
        assert_eq!(p.value(Statistic::Sum), 90.0);
        assert_eq!(p.value(Statistic::SampleCount), 3.0);
    }

    #[test]
    fn samples_added_by_count_are_as_many_single_samples() {
        // Four tasks at 20% CPU counted as one group, then one at 60% and one at 5%: average
        // (4 × 20 + 60 + 5) / 6 = 24.17, minimum 5, maximum 60.
        let mut set = None;
        StatSet::add_samples(&mut set, 20.0, 4);
        StatSet::add_samples(&mut set, 60.0, 1);
        StatSet::add_samples(&mut set, 5.0, 1);
        StatSet::add_samples(&mut set, 99.0, 0);
        let set = set.unwrap();
        assert_eq!(Some(set), StatSet::of([20.0, 20.0, 20.0, 20.0, 60.0, 5.0]));
        assert!((set.value(Statistic::Average) - 145.0 / 6.0).abs() < 1e-12);
        assert_eq!((set.min, set.max, set.count), (5.0, 60.0, 6.0));
    }

    #[test]
    fn five_minute_periods_merge_their_minutes() {
        let s = series(&[Some(10.0), Some(10.0), Some(10.0), Some(10.0), Some(110.0)]);
        let mut a = alarm(1, 1, 25.0, MissingData::Missing);
        a.spec.period = 5 * MINUTE;
        // Average of 10,10,10,10,110 = 30 > 25.
        assert_eq!(a.evaluate(&s, Some(4)).state, AlarmState::Alarm);
    }

    #[test]
    fn visibility_follows_the_publication_delay() {
        // The minute [0, 60 s) is visible at 60 s + delay.
        assert_eq!(last_visible_minute(119_999, MINUTE), None);
        assert_eq!(last_visible_minute(120_000, MINUTE), Some(0));
        assert_eq!(last_visible_minute(60_000, 0), Some(0));
    }
}
