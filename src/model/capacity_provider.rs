//! Capacity providers: an Auto Scaling group that ECS scales itself from the tasks waiting for
//! it (managed scaling, driven by CapacityProviderReservation), protects from scale-in while it
//! runs tasks (managed termination protection) and drains before termination (managed
//! draining); and the capacity provider strategy that spreads a service's tasks over providers
//! (ECS-DG:cluster-auto-scaling.md, ECS-DG:cluster-capacity-providers.md; AWS-SEMANTICS.md §6).

use crate::engine::{SECOND, SimTime};

use super::task_definition::TaskRequirements;

/// Managed scaling (API ManagedScaling; defaults from the CloudFormation reference).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ManagedScaling {
    /// The CapacityProviderReservation to keep: 1–100, default 100.
    pub target_capacity: u32,
    /// Default 1.
    pub minimum_scaling_step_size: u32,
    /// Default 10,000.
    pub maximum_scaling_step_size: u32,
    /// While an instance launched this recently is warming up, no further scale-out: default
    /// 300 s.
    pub instance_warmup_period: SimTime,
}

impl Default for ManagedScaling {
    fn default() -> Self {
        ManagedScaling {
            target_capacity: 100,
            minimum_scaling_step_size: 1,
            maximum_scaling_step_size: 10_000,
            instance_warmup_period: 300 * SECOND,
        }
    }
}

/// What a capacity provider provides.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProviderKind {
    /// An Auto Scaling group's instances (index into the scenario's groups).
    AutoScalingGroup(usize),
    /// The predefined `FARGATE` provider.
    Fargate,
    /// The predefined `FARGATE_SPOT` provider: Fargate capacity AWS may take back.
    FargateSpot,
}

/// The predefined providers' names (ECS-DG:fargate-capacity-providers.md).
pub const FARGATE: &str = "FARGATE";
pub const FARGATE_SPOT: &str = "FARGATE_SPOT";

#[derive(Clone, Debug, PartialEq)]
pub struct CapacityProvider {
    pub name: String,
    pub kind: ProviderKind,
    pub managed_scaling: Option<ManagedScaling>,
    pub managed_termination_protection: bool,
    /// On by default for new capacity providers (live doc, AWS-SEMANTICS.md §6).
    pub managed_draining: bool,
}

impl CapacityProvider {
    /// The Auto Scaling group behind the provider, if it is one.
    pub fn group(&self) -> Option<usize> {
        match self.kind {
            ProviderKind::AutoScalingGroup(g) => Some(g),
            ProviderKind::Fargate | ProviderKind::FargateSpot => None,
        }
    }

    pub fn is_fargate(&self) -> bool {
        self.group().is_none()
    }

    /// The predefined Fargate providers every cluster can use.
    pub fn fargate(spot: bool) -> CapacityProvider {
        CapacityProvider {
            name: if spot { FARGATE_SPOT } else { FARGATE }.to_string(),
            kind: if spot { ProviderKind::FargateSpot } else { ProviderKind::Fargate },
            managed_scaling: None,
            managed_termination_protection: false,
            managed_draining: false,
        }
    }
}

/// One entry of a service's capacity provider strategy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StrategyItem {
    /// Index into the scenario's capacity providers.
    pub provider: usize,
    /// Tasks this provider runs before any weight applies (one provider at most sets it).
    pub base: u32,
    /// The relative share after the base.
    pub weight: u32,
}

/// The provider for the next task of a service, given how many of its tasks each provider of
/// the strategy already has: the base first, then the provider whose count ÷ weight is lowest,
/// the earlier in the strategy on a tie (ECS-DG:cluster-capacity-providers.md; the tie rule is
/// an [assume], AWS-SEMANTICS.md §6). Weight-0 providers take no task beyond their base.
pub fn next_provider(strategy: &[StrategyItem], counts: &[u32]) -> Option<usize> {
    if let Some(k) = strategy.iter().position(|s| s.base > 0)
        && counts[k] < strategy[k].base
    {
        return Some(k);
    }
    let mut best: Option<(usize, u64, u64)> = None;
    for (k, s) in strategy.iter().enumerate() {
        if s.weight == 0 {
            continue;
        }
        // Compare count_k / weight_k as fractions: beyond the base only.
        let beyond = u64::from(counts[k].saturating_sub(s.base));
        let better = match best {
            None => true,
            Some((_, b_count, b_weight)) => beyond * b_weight < b_count * u64::from(s.weight),
        };
        if better {
            best = Some((k, beyond, u64::from(s.weight)));
        }
    }
    best.map(|(k, _, _)| k)
}

/// CapacityProviderReservation = M / N × 100, with M the instances the provider's tasks need and
/// N the instances in the group; 200 when tasks wait on an empty group, 100 when both are zero
/// (AWS-SEMANTICS.md §6).
pub fn reservation(needed: u32, in_group: u32) -> f64 {
    match (needed, in_group) {
        (0, 0) => 100.0,
        (_, 0) => 200.0,
        (m, n) => 100.0 * f64::from(m) / f64::from(n),
    }
}

/// What an instance of the group offers to a task, for the binpack estimate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InstanceShape {
    pub cpu: u32,
    pub memory: u32,
    /// awsvpc tasks that fit (ENIs beyond the primary).
    pub enis: u32,
}

/// How many fresh instances of `shape` the waiting tasks need, binpacked first-fit decreasing
/// over CPU, memory, ENIs and static host ports (ECS-DG:cluster-auto-scaling.md: "ECS binpacks
/// over vCPU, memory, ENIs, ports"). Tasks that fit no instance of the shape are left out, as
/// ECS leaves them out of the estimate.
pub fn instances_needed(waiting: &[&TaskRequirements], shape: InstanceShape) -> u32 {
    struct Bin {
        cpu: u32,
        memory: u32,
        enis: u32,
        ports: Vec<u16>,
    }
    let mut tasks: Vec<&TaskRequirements> = waiting
        .iter()
        .copied()
        .filter(|t| t.cpu <= shape.cpu && t.memory <= shape.memory && (!t.needs_eni || shape.enis > 0))
        .collect();
    tasks.sort_by_key(|t| std::cmp::Reverse((t.memory, t.cpu)));
    let mut bins: Vec<Bin> = Vec::new();
    for t in tasks {
        let fits = |b: &Bin| {
            b.cpu >= t.cpu
                && b.memory >= t.memory
                && (!t.needs_eni || b.enis > 0)
                && t.static_host_ports.iter().all(|p| !b.ports.contains(p))
        };
        let k = match bins.iter().position(fits) {
            Some(k) => k,
            None => {
                bins.push(Bin { cpu: shape.cpu, memory: shape.memory, enis: shape.enis, ports: Vec::new() });
                bins.len() - 1
            }
        };
        let b = &mut bins[k];
        b.cpu -= t.cpu;
        b.memory -= t.memory;
        b.enis -= u32::from(t.needs_eni);
        b.ports.extend_from_slice(&t.static_host_ports);
    }
    bins.len() as u32
}

/// The instances to add when the reservation is above the target: enough to bring it to the
/// target, `ceil(M × 100 / target) − N`, but at least the minimum step and at most the maximum
/// (ECS-DG:cluster-auto-scaling.md, scale-out).
pub fn scale_out_step(needed: u32, in_group: u32, ms: &ManagedScaling) -> u32 {
    let wanted = (u64::from(needed) * 100).div_ceil(u64::from(ms.target_capacity.max(1))) as u32;
    let need = wanted.saturating_sub(in_group);
    if need < ms.minimum_scaling_step_size {
        ms.minimum_scaling_step_size
    } else {
        need.min(ms.maximum_scaling_step_size)
    }
}

/// The group size to scale in to when the reservation has stayed below the target: the size
/// target tracking asks for, `ceil(N × reservation / target)`, removing at least one instance
/// and at most half of them in one step (ECS-DG:cluster-auto-scaling.md: "more than 1 but less
/// than 50%" per step).
pub fn scale_in_size(in_group: u32, reservation: f64, ms: &ManagedScaling) -> u32 {
    let wanted = super::autoscaling::target_tracking_capacity(in_group, reservation, f64::from(ms.target_capacity));
    let surplus = in_group.saturating_sub(wanted);
    let step = surplus.min((in_group / 2).max(1));
    in_group - step
}

/// What ECS sees of a provider's group at a minute.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GroupUse {
    /// N: instances in the group, booting ones included.
    pub in_group: u32,
    /// Instances running at least one non-daemon task.
    pub busy: u32,
    /// Instances launched but not yet registered with the cluster.
    pub booting: u32,
}

/// The CapacityProviderReservation ECS publishes for a minute
/// (ECS-DG:managed-scaling-behavior.md, ECS-DG:cluster-auto-scaling.md; AWS-SEMANTICS.md §6).
/// `needed` is None when no task waits for the provider, else the fresh instances the waiting
/// tasks need (0 when none of them fits the group's smallest type).
///
/// - M counts the busy instances, plus what the waiting tasks need; instances still booting are
///   taken to be on their way to the waiting tasks, so M counts at least those [assume: the
///   docs do not say how launches in flight enter M; counting them keeps a second scale-out
///   from asking for the same tasks again].
/// - When the waiting tasks all fit no instance type, the value stays at the target.
/// - With tasks waiting on an empty group, 200.
/// - When M calls for more instances, the value published makes the group's target tracking
///   policy add the scale-out step, `ceil(N × value / target) = N + step`, so that the minimum
///   and maximum step sizes hold.
pub fn published_reservation(group: GroupUse, needed: Option<u32>, ms: &ManagedScaling) -> f64 {
    let n = group.in_group;
    let m = match needed {
        None => group.busy,
        Some(0) => return f64::from(ms.target_capacity),
        Some(k) => group.busy + k.max(group.booting),
    };
    if n == 0 {
        return reservation(m, 0);
    }
    let wanted = (u64::from(m) * 100).div_ceil(u64::from(ms.target_capacity.max(1)));
    if wanted > u64::from(n) {
        let step = scale_out_step(m, n, ms);
        f64::from(n + step) * f64::from(ms.target_capacity) / f64::from(n)
    } else {
        reservation(m, n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(cpu: u32, memory: u32) -> TaskRequirements {
        TaskRequirements { cpu, memory, ..Default::default() }
    }

    #[test]
    fn reservation_is_needed_over_present() {
        // All instances full and nothing waiting: 100. Two of ten empty: 80. Tasks waiting on an
        // empty group: 200.
        assert_eq!(reservation(10, 10), 100.0);
        assert_eq!(reservation(8, 10), 80.0);
        assert_eq!(reservation(3, 0), 200.0);
        assert_eq!(reservation(0, 0), 100.0);
        assert_eq!(reservation(12, 10), 120.0);
    }

    #[test]
    fn waiting_tasks_are_binpacked_onto_fresh_instances() {
        // m5.large shape (2048 CPU, 7985 MiB): five tasks of 1024/2048 → 2 per instance by CPU
        // → 3 instances.
        let shape = InstanceShape { cpu: 2048, memory: 7985, enis: 2 };
        let tasks: Vec<TaskRequirements> = (0..5).map(|_| req(1024, 2048)).collect();
        let refs: Vec<&TaskRequirements> = tasks.iter().collect();
        assert_eq!(instances_needed(&refs, shape), 3);
        // A task bigger than the instance is left out of the estimate.
        let huge = req(4096, 100);
        assert_eq!(instances_needed(&[&huge], shape), 0);
        // Static ports: two tasks on port 80 need two instances.
        let mut p = req(128, 128);
        p.static_host_ports = vec![80];
        assert_eq!(instances_needed(&[&p, &p], shape), 2);
    }

    #[test]
    fn scale_out_steps_respect_the_limits() {
        let ms = ManagedScaling::default();
        // 10 instances, 13 needed at target 100 → add 3.
        assert_eq!(scale_out_step(13, 10, &ms), 3);
        // At target 80 → ceil(13/0.8) = 17 → add 7.
        assert_eq!(scale_out_step(13, 10, &ManagedScaling { target_capacity: 80, ..ms }), 7);
        // A minimum step of 2 when 1 is needed; a maximum of 4 when 7 are.
        assert_eq!(scale_out_step(11, 10, &ManagedScaling { minimum_scaling_step_size: 2, ..ms }), 2);
        assert_eq!(scale_out_step(17, 10, &ManagedScaling { maximum_scaling_step_size: 4, ..ms }), 4);
        // Tasks waiting on an empty group: M instances.
        assert_eq!(scale_out_step(2, 0, &ms), 2);
    }

    #[test]
    fn scale_in_removes_at_most_half() {
        let ms = ManagedScaling::default();
        // Two of ten instances busy (20%): target tracking wants 2, half of 10 goes at most.
        assert_eq!(scale_in_size(10, 20.0, &ms), 5);
        // Two of ten empty (80%): 8.
        assert_eq!(scale_in_size(10, 80.0, &ms), 8);
        // The last, empty instance goes.
        assert_eq!(scale_in_size(1, 0.0, &ms), 0);
    }

    #[test]
    fn the_published_reservation_follows_the_documented_cases() {
        let ms = ManagedScaling::default();
        let g = |in_group, busy, booting| GroupUse { in_group, busy, booting };
        // No instances and tasks waiting: 200, which target tracking turns into 2 instances.
        assert_eq!(published_reservation(g(0, 0, 0), Some(3), &ms), 200.0);
        assert_eq!(crate::model::autoscaling::target_tracking_capacity(0, 200.0, 100.0), 2);
        // All instances full, nothing waiting: 100, nothing to do.
        assert_eq!(published_reservation(g(4, 4, 0), None, &ms), 100.0);
        // Partly used: 3 of 4 busy, nothing waiting: 75.
        assert_eq!(published_reservation(g(4, 3, 0), None, &ms), 75.0);
        // Full, and the waiting tasks need 2 more instances: (4 + 2) / 4 = 150.
        assert_eq!(published_reservation(g(4, 4, 0), Some(2), &ms), 150.0);
        // The step limits show in the value: a minimum of 3 publishes (4 + 3) / 4 = 175, a
        // maximum of 1 publishes 125.
        let min3 = ManagedScaling { minimum_scaling_step_size: 3, ..ms };
        assert_eq!(published_reservation(g(4, 4, 0), Some(2), &min3), 175.0);
        let max1 = ManagedScaling { maximum_scaling_step_size: 1, ..ms };
        assert_eq!(published_reservation(g(4, 4, 0), Some(2), &max1), 125.0);
        // Two instances already booting for the waiting tasks that need 2: M = 4 + 2 = N.
        assert_eq!(published_reservation(g(6, 4, 2), Some(2), &ms), 100.0);
        // Waiting tasks that fit no instance type: the value stays at the target.
        assert_eq!(published_reservation(g(4, 1, 0), Some(0), &ManagedScaling { target_capacity: 90, ..ms }), 90.0);
        // At target 80, 4 busy of 4: ceil(4 / 0.8) = 5 → step 1 → 5 × 80 / 4 = 100.
        let t80 = ManagedScaling { target_capacity: 80, ..ms };
        assert_eq!(published_reservation(g(4, 4, 0), None, &t80), 100.0);
        assert_eq!(crate::model::autoscaling::target_tracking_capacity(4, 100.0, 80.0), 5);
    }

    #[test]
    fn base_then_weights_split_ten_tasks() {
        // Base 2 on FARGATE, then FARGATE:FARGATE_SPOT 1:3: tasks 1-2 on the first, then one in
        // four on it: 2 + 2 = 4 and 6.
        let s = [StrategyItem { provider: 0, base: 2, weight: 1 }, StrategyItem { provider: 1, base: 0, weight: 3 }];
        let mut counts = [0u32, 0];
        for _ in 0..10 {
            let k = next_provider(&s, &counts).unwrap();
            counts[k] += 1;
        }
        assert_eq!(counts, [4, 6]);
        // Weights 1:4 give one task on A for every four on B.
        let s = [StrategyItem { provider: 0, base: 0, weight: 1 }, StrategyItem { provider: 1, base: 0, weight: 4 }];
        let mut counts = [0u32, 0];
        for _ in 0..10 {
            let k = next_provider(&s, &counts).unwrap();
            counts[k] += 1;
        }
        assert_eq!(counts, [2, 8]);
        // All weights 0 and no base: nowhere.
        assert_eq!(next_provider(&[StrategyItem { provider: 0, base: 0, weight: 0 }], &[0]), None);
    }
}
