//! What the cluster costs: EC2 instances billed per second while they run, with Linux's
//! one-minute minimum; Fargate tasks billed per second for their vCPU and memory from the start
//! of their image pull to their stop, with the same minimum; and how an instance's cost is
//! shared among the services on it.
//!
//! The built-in prices are us-east-1's: EC2 on-demand Linux prices are in the instance type
//! table (`ec2::builtin_instance_types`, with Spot at 40% of on-demand), Fargate's in
//! [`FargatePricing`]. A scenario overrides either.

use crate::engine::{HOUR, SECOND, SimTime};

/// Linux on-demand instances are billed per second with a 60-second minimum
/// (ASG:ec2-auto-scaling-termination-policies.md for per-second billing; the minimum from the
/// AWS billing pages, AWS-SEMANTICS.md §5).
pub const MINIMUM_BILLED: SimTime = 60 * SECOND;

/// Fargate's prices, USD (us-east-1, Linux; AWS-SEMANTICS.md §8 from third-party copies of
/// https://aws.amazon.com/fargate/pricing/).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FargatePricing {
    pub x86_vcpu_hour: f64,
    pub x86_gb_hour: f64,
    pub arm_vcpu_hour: f64,
    pub arm_gb_hour: f64,
    /// Fargate Spot's price as a fraction off Fargate's: "up to 70%" cheaper, taken as 70%.
    pub spot_discount: f64,
}

impl Default for FargatePricing {
    fn default() -> Self {
        FargatePricing {
            x86_vcpu_hour: 0.04048,
            x86_gb_hour: 0.004445,
            arm_vcpu_hour: 0.03238,
            arm_gb_hour: 0.00356,
            spot_discount: 0.7,
        }
    }
}

impl FargatePricing {
    /// What a task of `cpu` units and `memory` MiB costs per hour.
    pub fn task_per_hour(&self, cpu: u32, memory: u32, arm: bool, spot: bool) -> f64 {
        let (vcpu_hour, gb_hour) =
            if arm { (self.arm_vcpu_hour, self.arm_gb_hour) } else { (self.x86_vcpu_hour, self.x86_gb_hour) };
        let full = f64::from(cpu) / 1024.0 * vcpu_hour + f64::from(memory) / 1024.0 * gb_hour;
        if spot { full * (1.0 - self.spot_discount) } else { full }
    }
}

/// The cost of `ms` of an instance at `price_per_hour` USD.
pub fn cost(price_per_hour: f64, ms: SimTime) -> f64 {
    price_per_hour * ms as f64 / HOUR as f64
}

/// The time billed for an instance that ran `ran` ms: whole seconds, rounded up, and at least
/// the one-minute minimum.
pub fn billed(ran: SimTime) -> SimTime {
    ran.div_ceil(SECOND).saturating_mul(SECOND).max(MINIMUM_BILLED)
}

/// Splits an instance's cost among the services on it, all of it.
///
/// A service's weight on an instance is the mean of its shares of the instance's registered CPU
/// and memory. The reserved part of the cost goes to each service by its weight; the idle part
/// (capacity paid for but reserved by nobody) goes to the services on the instance in proportion
/// to their weights, or, on an instance with no task, to every service by its weight across the
/// cluster (`cluster_weights`), or evenly when nothing runs anywhere. So the services' costs add
/// up to what the cluster costs, and each also knows how much of it was idle [assume: AWS bills
/// instances, not services; this is the usual full-absorption allocation].
///
/// `weights` lists only the services the instance hosts, in service order: a cluster has many
/// services and an instance few. `cluster_weights` is read only when they add up to nothing.
pub fn allocate(cost: f64, weights: &CostWeights, cluster_weights: &[f64], to: &mut [f64], idle_to: &mut [f64]) {
    let total = weights.total;
    let idle = cost * (1.0 - total.min(1.0));
    for &(s, w, _) in &weights.weights {
        to[s] += cost * w;
    }
    if total > 0.0 {
        for &(s, _, share) in &weights.weights {
            to[s] += idle * share;
            idle_to[s] += idle * share;
        }
        return;
    }
    let total: f64 = cluster_weights.iter().sum();
    let n = to.len();
    for s in 0..n {
        let share = if total > 0.0 { cluster_weights[s] / total } else { 1.0 / n as f64 };
        to[s] += idle * share;
        idle_to[s] += idle * share;
    }
}

/// An instance's weights in its cost by service, for [`allocate`], with their sum and each one's
/// share of the sum worked out once: they change only when the instance's tasks do, while its
/// cost is shared out every minute.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CostWeights {
    /// (service, weight, share of the total), in service order.
    weights: Vec<(usize, f64, f64)>,
    total: f64,
}

impl CostWeights {
    pub fn new(weights: &[(usize, f64)]) -> Self {
        let total: f64 = weights.iter().map(|&(_, w)| w).sum();
        let share = |w: f64| if total > 0.0 { w / total } else { 0.0 };
        CostWeights { weights: weights.iter().map(|&(s, w)| (s, w, share(w))).collect(), total }
    }

    /// Each service's weight, in service order.
    pub fn weights(&self) -> impl Iterator<Item = (usize, f64)> + '_ {
        self.weights.iter().map(|&(s, w, _)| (s, w))
    }

    /// Whether the weights add up to nothing, so that the instance's cost goes to the cluster's
    /// services (see [`allocate`]).
    pub fn is_idle(&self) -> bool {
        self.total <= 0.0
    }
}

/// The cost per millisecond, by service, of the instances billed in bulk: those that ran all
/// of the last bill's interval with tasks on them, and whose tasks and termination have not
/// changed since. Their shares are the same minute after minute, so a bill adds the sums
/// times the interval instead of sharing out each instance's cost again (a thousand instances
/// a minute); an instance leaves the bulk when its tasks change or it terminates, and is
/// billed alone until it has run a whole interval as it is.
///
/// The sums follow the instances in and out, so they carry the rounding of every change since
/// the run began: about 10⁻¹³ of the rate after a day of scaling, far below the outputs'
/// digits. A service left with no instance in the bulk has its sums set back to zero exactly.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SteadyRates {
    /// USD per ms going to each service, and the part of it that pays for idle capacity.
    to: Vec<f64>,
    idle: Vec<f64>,
    /// Instances in the bulk that give each service a share.
    members: Vec<u32>,
}

impl SteadyRates {
    pub fn new(services: usize) -> Self {
        SteadyRates { to: vec![0.0; services], idle: vec![0.0; services], members: vec![0; services] }
    }

    /// Each service's rate from an instance of `weights` (not idle) at `price_per_hour`: what
    /// [`allocate`] gives it of a cost, per ms.
    fn rates(weights: &CostWeights, price_per_hour: f64) -> impl Iterator<Item = (usize, f64, f64)> + '_ {
        let per_ms = price_per_hour / HOUR as f64;
        let idle = per_ms * (1.0 - weights.total.min(1.0));
        weights.weights.iter().map(move |&(s, w, share)| (s, per_ms * w + idle * share, idle * share))
    }

    /// An instance joins the bulk.
    pub fn join(&mut self, weights: &CostWeights, price_per_hour: f64) {
        debug_assert!(!weights.is_idle(), "an idle instance's cost follows the cluster's weights");
        for (s, to, idle) in Self::rates(weights, price_per_hour) {
            self.to[s] += to;
            self.idle[s] += idle;
            self.members[s] += 1;
        }
    }

    /// An instance that joined with `weights` and `price_per_hour` leaves the bulk.
    pub fn leave(&mut self, weights: &CostWeights, price_per_hour: f64) {
        for (s, to, idle) in Self::rates(weights, price_per_hour) {
            self.members[s] -= 1;
            if self.members[s] == 0 {
                (self.to[s], self.idle[s]) = (0.0, 0.0);
            } else {
                self.to[s] -= to;
                self.idle[s] -= idle;
            }
        }
    }

    /// `ms` of the bulk into each service's cost and idle cost.
    pub fn bill(&self, ms: SimTime, to: &mut [f64], idle_to: &mut [f64]) {
        let ms = ms as f64;
        for (s, (&rate, &idle)) in self.to.iter().zip(&self.idle).enumerate() {
            to[s] += rate * ms;
            idle_to[s] += idle * ms;
        }
    }

    /// Whether `other`, the same instances' rates summed afresh, is within the rounding that
    /// following them in and out leaves (see the type's doc comment).
    pub fn matches(&self, other: &SteadyRates) -> bool {
        let close = |a: &[f64], b: &[f64]| a.iter().zip(b).all(|(x, y)| (x - y).abs() <= 1e-9 * x.abs().max(y.abs()));
        self.members == other.members && close(&self.to, &other.to) && close(&self.idle, &other.idle)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The bulk's rates times an interval give what sharing each instance's cost gives, and
    /// leaving undoes joining.
    #[test]
    fn the_bulk_bills_what_sharing_each_instance_bills() {
        let instances: [(&[(usize, f64)], f64); 3] =
            [(&[(0, 0.5), (1, 0.25)], 0.096), (&[(1, 0.75), (2, 0.5)], 0.192), (&[(2, 0.125)], 0.0384)];
        let ms = 60 * SECOND;
        let (mut to, mut idle) = (vec![0.0; 3], vec![0.0; 3]);
        let mut bulk = SteadyRates::new(3);
        for (row, price) in instances {
            let weights = CostWeights::new(row);
            allocate(cost(price, ms), &weights, &[], &mut to, &mut idle);
            bulk.join(&weights, price);
        }
        let (mut bulk_to, mut bulk_idle) = (vec![0.0; 3], vec![0.0; 3]);
        bulk.bill(ms, &mut bulk_to, &mut bulk_idle);
        for s in 0..3 {
            assert!((bulk_to[s] - to[s]).abs() < 1e-15, "service {s}: {} against {}", bulk_to[s], to[s]);
            assert!((bulk_idle[s] - idle[s]).abs() < 1e-15, "service {s}");
        }
        // By hand, service 0: half of an m5.large minute plus 2/3 of its idle quarter:
        // 0.096/60 × (0.5 + 0.25 × 2/3) = 0.0010667.
        assert!((bulk_to[0] - 0.096 / 60.0 * (0.5 + 0.25 * 2.0 / 3.0)).abs() < 1e-15);
        // The second instance is full past its capacity (1.25): nothing of it is idle.
        bulk.leave(&CostWeights::new(instances[0].0), instances[0].1);
        bulk.leave(&CostWeights::new(instances[2].0), instances[2].1);
        let mut alone = SteadyRates::new(3);
        alone.join(&CostWeights::new(instances[1].0), instances[1].1);
        assert!(bulk.matches(&alone));
        assert_eq!(bulk.to[0], 0.0, "a service with no instance left is back to zero exactly");
        bulk.leave(&CostWeights::new(instances[1].0), instances[1].1);
        assert_eq!(bulk, SteadyRates::new(3));
    }

    #[test]
    fn an_hour_of_m5_large_costs_its_hourly_price() {
        assert!((cost(0.096, HOUR) - 0.096).abs() < 1e-12);
    }

    #[test]
    fn billing_rounds_up_to_seconds_with_a_one_minute_minimum() {
        // A 30-second instance is billed 60 s; 61.2 s is billed 62 s.
        assert_eq!(billed(30 * SECOND), 60 * SECOND);
        assert_eq!(billed(61_200), 62 * SECOND);
        assert_eq!(billed(2 * HOUR), 2 * HOUR);
        // 90 minutes of an m5.large: 1.5 × $0.096 = $0.144.
        assert!((cost(0.096, billed(90 * 60 * SECOND)) - 0.144).abs() < 1e-12);
    }

    #[test]
    fn fargate_tasks_are_priced_by_vcpu_and_memory_per_second() {
        let p = FargatePricing::default();
        // 1 vCPU, 2 GB, x86: 0.04048 + 2 × 0.004445 = $0.04937/h.
        let hourly = p.task_per_hour(1024, 2048, false, false);
        assert!((hourly - 0.04937).abs() < 1e-12);
        // A task of one minute is billed one minute: $0.04937 / 60.
        assert!((cost(hourly, billed(60 * SECOND)) - 0.04937 / 60.0).abs() < 1e-12);
        // 61 seconds is billed 61 seconds; 30 seconds is billed the minimum of 60.
        assert!((cost(hourly, billed(61 * SECOND)) - 0.04937 * 61.0 / 3600.0).abs() < 1e-12);
        assert!((cost(hourly, billed(30 * SECOND)) - 0.04937 / 60.0).abs() < 1e-12);
        // Graviton: 0.5 vCPU, 1 GB: 0.5 × 0.03238 + 0.00356 = $0.01975/h; on Spot 30% of it.
        assert!((p.task_per_hour(512, 1024, true, false) - 0.01975).abs() < 1e-12);
        assert!((p.task_per_hour(512, 1024, true, true) - 0.01975 * 0.3).abs() < 1e-12);
    }

    #[test]
    fn a_spot_instance_for_ninety_minutes() {
        // m5.large Spot at 40% of $0.096: $0.0384/h × 1.5 h = $0.0576.
        let spot = 0.096 * crate::model::ec2::DEFAULT_SPOT_DISCOUNT;
        assert!((cost(spot, billed(90 * 60 * SECOND)) - 0.0576).abs() < 1e-12);
    }

    #[test]
    fn allocation_adds_up_and_separates_idle() {
        // Service 0 reserves 50% of the instance, service 1 25%: 25% is idle, shared 2:1.
        let (mut to, mut idle) = (vec![0.0; 2], vec![0.0; 2]);
        allocate(1.0, &CostWeights::new(&[(0, 0.5), (1, 0.25)]), &[0.5, 0.25], &mut to, &mut idle);
        assert!((to[0] + to[1] - 1.0).abs() < 1e-12);
        assert!((idle[0] - 0.25 * 2.0 / 3.0).abs() < 1e-12);
        assert!((to[0] - (0.5 + 0.25 * 2.0 / 3.0)).abs() < 1e-12);
        // An empty instance's cost goes to the services by their cluster-wide weight.
        let (mut to, mut idle) = (vec![0.0; 2], vec![0.0; 2]);
        allocate(1.0, &CostWeights::new(&[]), &[0.1, 0.3], &mut to, &mut idle);
        assert!((to[1] - 0.75).abs() < 1e-12 && (idle[0] - 0.25).abs() < 1e-12);
        // Nothing runs anywhere: evenly.
        let (mut to, mut idle) = (vec![0.0; 2], vec![0.0; 2]);
        allocate(1.0, &CostWeights::new(&[]), &[0.0, 0.0], &mut to, &mut idle);
        assert_eq!(to, vec![0.5, 0.5]);
    }

    /// The short list must share out exactly what the full row does, to the last bit: the
    /// request fidelity's costs are compared byte for byte across versions.
    #[test]
    fn sharing_by_the_short_list_matches_the_full_row_bit_for_bit() {
        let n = 7;
        let rows: [&[(usize, f64)]; 5] =
            [&[(1, 0.1875), (4, 0.0625), (6, 0.3)], &[(0, 0.7), (3, 0.6)], &[(2, 1.0 / 3.0)], &[(5, 0.0)], &[]];
        for cluster_weights in [vec![0.1, 0.0, 0.25, 0.0, 0.5, 0.0, 1.0 / 7.0], vec![0.0; n]] {
            let (mut to, mut idle) = (vec![0.013; n], vec![0.0; n]);
            let (mut full_to, mut full_idle) = (to.clone(), idle.clone());
            for (k, row) in rows.iter().enumerate() {
                let cost = 0.096 * (k + 1) as f64 / 60.0;
                allocate(cost, &CostWeights::new(row), &cluster_weights, &mut to, &mut idle);
                let mut full = vec![0.0; n];
                for &(s, w) in row.iter() {
                    full[s] = w;
                }
                allocate_full_row(cost, &full, &cluster_weights, &mut full_to, &mut full_idle);
            }
            let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&to), bits(&full_to));
            assert_eq!(bits(&idle), bits(&full_idle));
        }
    }

    /// The allocation over a full row of weights, one per service, zeros included: the rule as
    /// first written, kept as the reference the short list must match to the last bit.
    fn allocate_full_row(cost: f64, weights: &[f64], cluster_weights: &[f64], to: &mut [f64], idle_to: &mut [f64]) {
        let used: f64 = weights.iter().sum::<f64>().min(1.0);
        let idle = cost * (1.0 - used);
        for (s, w) in weights.iter().enumerate() {
            to[s] += cost * w;
        }
        let (basis, total) = if used > 0.0 {
            (weights, weights.iter().sum::<f64>())
        } else {
            (cluster_weights, cluster_weights.iter().sum::<f64>())
        };
        let n = to.len();
        for s in 0..n {
            let share = if total > 0.0 { basis[s] / total } else { 1.0 / n as f64 };
            to[s] += idle * share;
            idle_to[s] += idle * share;
        }
    }
}
