//! "Find the cheapest plan": constraints every replicate must meet, an objective to minimise or
//! maximise, and the Pareto front between two metrics.
//!
//! - A run *meets the constraints* when each holds on its own values.
//! - A point is *feasible* when all its replicates ran and every one met the constraints: one
//!   unlucky seed that breaks the SLO is a plan that breaks it.
//! - The *best* point is the feasible one with the lowest (highest) mean objective. A tie (the
//!   same instances cost the same whatever the task count) goes to the point better on the
//!   Pareto front's other metric, e.g. the lower p99 at the same cost, then to the point listed
//!   first.
//! - The *Pareto front* holds the points, among those whose replicates all ran, that no other
//!   point beats on both metrics' means (at least as good on both, better on one).

use crate::expect::Op;

/// `metric op value`, e.g. `p99_ms <= 250`.
#[derive(Clone, Debug, PartialEq)]
pub struct Constraint {
    pub metric: String,
    pub op: Op,
    pub value: f64,
}

impl Constraint {
    /// Reads `"p99_ms <= 250"`; the message says what is wrong.
    pub fn parse(text: &str) -> Result<Constraint, String> {
        let t = text.trim();
        let end = t.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(t.len());
        let metric = &t[..end];
        if metric.is_empty() {
            return Err(format!("`{text}` does not start with a metric; write e.g. \"p99_ms <= 250\""));
        }
        let Some((op, rest)) = Op::split(&t[end..]) else {
            return Err(format!(
                "`{text}` needs an operator after `{metric}`: one of {}",
                Op::ALL.map(|o| format!("`{o}`")).join(", ")
            ));
        };
        let value: f64 = rest.trim().parse().map_err(|_| format!("`{}` in `{text}` is not a number", rest.trim()))?;
        if !value.is_finite() {
            return Err(format!("`{text}` needs a finite number"));
        }
        Ok(Constraint { metric: metric.to_string(), op, value })
    }

    pub fn holds(&self, x: f64) -> bool {
        self.op.holds(x, self.value)
    }

    /// Which way is better for the metric this constraint bounds: below an upper bound, above a
    /// lower bound.
    pub fn better(&self) -> Option<Direction> {
        match self.op {
            Op::Lt | Op::Le => Some(Direction::Minimize),
            Op::Gt | Op::Ge => Some(Direction::Maximize),
            Op::Eq | Op::Ne => None,
        }
    }
}

impl std::fmt::Display for Constraint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {} {}", self.metric, self.op.as_str(), self.value)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    Minimize,
    Maximize,
}

impl Direction {
    /// The value turned so that lower is better.
    pub fn lower_is_better(self, x: f64) -> f64 {
        match self {
            Direction::Minimize => x,
            Direction::Maximize => -x,
        }
    }

    pub fn verb(self) -> &'static str {
        match self {
            Direction::Minimize => "minimize",
            Direction::Maximize => "maximize",
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Objective {
    pub metric: String,
    pub direction: Direction,
}

/// The index of the best candidate: `candidates` holds, per feasible point, its objective mean
/// and a tie-breaker already turned so that lower is better (0 when there is none). Remaining
/// ties go to the lower index.
pub fn best(candidates: &[Option<(f64, f64)>], direction: Direction) -> Option<usize> {
    let mut best: Option<(usize, f64, f64)> = None;
    for (i, c) in candidates.iter().enumerate() {
        if let Some((x, t)) = c {
            let x = direction.lower_is_better(*x);
            if best.is_none_or(|(_, bx, bt)| x < bx || (x == bx && *t < bt)) {
                best = Some((i, x, *t));
            }
        }
    }
    best.map(|(i, _, _)| i)
}

/// Which points are on the Pareto front of two metrics, both turned so that lower is better;
/// `None` points take no part. O(n²), fine for the thousands of points a sweep has.
pub fn pareto_front(points: &[Option<(f64, f64)>]) -> Vec<bool> {
    points
        .iter()
        .map(|p| {
            let Some((a, b)) = p else { return false };
            !points.iter().flatten().any(|(qa, qb)| qa <= a && qb <= b && (qa < a || qb < b))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constraints_parse_and_hold() {
        let c = Constraint::parse("p99_ms <= 250").unwrap();
        assert_eq!((c.metric.as_str(), c.op, c.value), ("p99_ms", Op::Le, 250.0));
        assert!(c.holds(250.0) && c.holds(10.0) && !c.holds(250.5));
        assert_eq!(c.better(), Some(Direction::Minimize));
        let c = Constraint::parse("pending_task_minutes==0").unwrap();
        assert!(c.holds(0.0) && !c.holds(1.0));
        let c = Constraint::parse("  slo_met_pct >= 99.5 ").unwrap();
        assert_eq!(c.better(), Some(Direction::Maximize));
        assert_eq!(c.to_string(), "slo_met_pct >= 99.5");
        assert!(Constraint::parse("<= 3").unwrap_err().contains("metric"));
        assert!(Constraint::parse("p99_ms 250").unwrap_err().contains("operator"));
        assert!(Constraint::parse("p99_ms <= fast").unwrap_err().contains("not a number"));
    }

    #[test]
    fn best_is_the_lowest_feasible_and_ties_go_to_the_other_metric_then_first() {
        let c = |x: f64| Some((x, 0.0));
        assert_eq!(best(&[c(3.0), None, c(1.0), c(1.0)], Direction::Minimize), Some(2));
        assert_eq!(best(&[c(3.0), None, c(1.0)], Direction::Maximize), Some(0));
        assert_eq!(best(&[None, None], Direction::Minimize), None);
        // Equal cost: the lower tie-breaker (e.g. p99) wins.
        assert_eq!(best(&[Some((1.0, 246.0)), Some((1.0, 188.0)), Some((2.0, 100.0))], Direction::Minimize), Some(1));
    }

    #[test]
    fn pareto_front_keeps_the_undominated() {
        // (cost, p99): B dominates D; A, B, C trade off; E duplicates C and stays with it.
        let pts = [
            Some((1.0, 300.0)), // A
            Some((2.0, 200.0)), // B
            Some((3.0, 100.0)), // C
            Some((2.5, 250.0)), // D: worse than B on both
            Some((3.0, 100.0)), // E
            None,               // failed
        ];
        assert_eq!(pareto_front(&pts), [true, true, true, false, true, false]);
    }
}
