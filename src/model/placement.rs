//! Task placement on EC2 capacity, as ECS does it (ECS-DG:task-placement.md):
//! 1. keep the instances with enough CPU, memory, ports and ENIs for the task;
//! 2. keep those that satisfy every placement constraint;
//! 3. order them by the placement strategies, each acting on the candidates the previous one
//!    rated best;
//! 4. pick one, breaking any remaining tie with the seeded placement stream.
//!
//! A task that fits nowhere gets the reason ECS reports for the *closest matching* instance (see
//! [`closest_failure`] for how closeness is ranked).

use rand::RngExt;

use super::cluster::{Cluster, TaskGroup};
use super::cluster_query::Expression;
use super::ec2::{DEFAULT_RESERVED_PORTS, InstanceStatus, MAX_RESERVED_PORTS};
use super::task_definition::TaskRequirements;
use crate::engine::SimRng;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinpackField {
    Cpu,
    Memory,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SpreadField {
    /// `instanceId` (or its alias `host`).
    InstanceId,
    /// `attribute:<name>`, e.g. `attribute:ecs.availability-zone`.
    Attribute(String),
}

/// A placement strategy (ECS-DG:task-placement-strategies.md).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PlacementStrategy {
    /// The instance with the least of `field` left that still fits the task.
    Binpack(BinpackField),
    /// Even numbers of the group's tasks over the values of `field`.
    Spread(SpreadField),
    Random,
}

impl PlacementStrategy {
    /// The service scheduler's default when a service names no strategy: prefer the AZ with the
    /// fewest of the service's tasks, then the instance with the fewest (ECS-DG:ecs_services.md,
    /// "Replica"), which is spread on the AZ attribute followed by spread on instanceId.
    pub fn service_default() -> Vec<PlacementStrategy> {
        vec![
            PlacementStrategy::Spread(SpreadField::Attribute("ecs.availability-zone".into())),
            PlacementStrategy::Spread(SpreadField::InstanceId),
        ]
    }
}

impl std::fmt::Display for PlacementStrategy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PlacementStrategy::Binpack(BinpackField::Cpu) => write!(f, "binpack(cpu)"),
            PlacementStrategy::Binpack(BinpackField::Memory) => write!(f, "binpack(memory)"),
            PlacementStrategy::Spread(SpreadField::InstanceId) => write!(f, "spread(instanceId)"),
            PlacementStrategy::Spread(SpreadField::Attribute(a)) => write!(f, "spread(attribute:{a})"),
            PlacementStrategy::Random => write!(f, "random"),
        }
    }
}

/// A placement constraint (ECS-DG:task-placement-constraints.md). Constraints bind; strategies
/// are best effort.
#[derive(Clone, Debug)]
pub enum PlacementConstraint {
    /// Each task of the group on a different instance.
    DistinctInstance,
    /// Only instances matching a cluster-query expression.
    MemberOf(Expression),
}

/// Why a task could not be placed, as ECS reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PlacementFailure {
    /// No container instance is registered in the cluster.
    NoInstances,
    Cpu {
        closest: usize,
    },
    Memory {
        closest: usize,
    },
    /// A static host port is taken, the reserved-port limit is reached, or the dynamic range is
    /// exhausted.
    Ports {
        closest: usize,
    },
    Eni {
        closest: usize,
    },
    DistinctInstance {
        closest: usize,
    },
    MemberOf {
        closest: usize,
        expression: String,
    },
}

impl PlacementFailure {
    /// The failure reason code (ECS API `failures[].reason`). `RESOURCE:PORTS` is the code seen
    /// in client code for port collisions; no AWS text names it (AWS-SEMANTICS.md §1.5).
    pub fn reason(&self) -> &'static str {
        match self {
            PlacementFailure::NoInstances => "RESOURCE:NO_INSTANCES",
            PlacementFailure::Cpu { .. } => "RESOURCE:CPU",
            PlacementFailure::Memory { .. } => "RESOURCE:MEMORY",
            PlacementFailure::Ports { .. } => "RESOURCE:PORTS",
            PlacementFailure::Eni { .. } => "RESOURCE:ENI",
            PlacementFailure::DistinctInstance { .. } => "CONSTRAINT:distinctInstance",
            PlacementFailure::MemberOf { .. } => "CONSTRAINT:memberOf",
        }
    }

    pub fn closest(&self) -> Option<usize> {
        match *self {
            PlacementFailure::NoInstances => None,
            PlacementFailure::Cpu { closest }
            | PlacementFailure::Memory { closest }
            | PlacementFailure::Ports { closest }
            | PlacementFailure::Eni { closest }
            | PlacementFailure::DistinctInstance { closest }
            | PlacementFailure::MemberOf { closest, .. } => Some(closest),
        }
    }

    /// The service event, in the words of ECS-DG:service-event-messages.md. The CPU and port
    /// sentences are documented; the memory, ENI and constraint sentences follow their pattern.
    pub fn service_event(&self, service: &str, cluster: &Cluster) -> String {
        let head = format!(
            "service {service} was unable to place a task because no container instance met all of its requirements."
        );
        let id = |i: usize| cluster.instances[i].id.as_str();
        match self {
            PlacementFailure::NoInstances => {
                format!("{head} Reason: No Container Instances were found in your cluster.")
            }
            PlacementFailure::Cpu { closest } => format!(
                "{head} The closest matching container-instance {} has insufficient CPU units available.",
                id(*closest)
            ),
            PlacementFailure::Memory { closest } => format!(
                "{head} The closest matching container-instance {} has insufficient memory available.",
                id(*closest)
            ),
            PlacementFailure::Ports { closest } => format!(
                "{head} The closest matching container-instance {} is already using a port required by your task.",
                id(*closest)
            ),
            PlacementFailure::Eni { closest } => format!(
                "{head} The closest matching container-instance {} has no available ENI attachment points.",
                id(*closest)
            ),
            PlacementFailure::DistinctInstance { closest } => format!(
                "{head} The closest matching container-instance {} already runs a task of this group (distinctInstance).",
                id(*closest)
            ),
            PlacementFailure::MemberOf { closest, expression } => format!(
                "{head} The closest matching container-instance {} does not match the memberOf constraint \"{expression}\".",
                id(*closest)
            ),
        }
    }
}

/// The constraints and strategies of one task group, with a cache of the constraint results that
/// cannot change while an instance lives (attribute-only `memberOf` expressions).
pub struct PlacementPolicy {
    pub constraints: Vec<PlacementConstraint>,
    pub strategies: Vec<PlacementStrategy>,
    /// `static_results[c][i]`: 0 unknown, 1 false, 2 true.
    static_results: Vec<Vec<u8>>,
}

impl PlacementPolicy {
    pub fn new(constraints: Vec<PlacementConstraint>, strategies: Vec<PlacementStrategy>) -> Self {
        let static_results = vec![Vec::new(); constraints.len()];
        PlacementPolicy { constraints, strategies, static_results }
    }

    /// Whether instance `i` satisfies constraint `c` for a task of `group`.
    fn satisfies(&mut self, c: usize, cluster: &Cluster, group: TaskGroup, i: usize) -> bool {
        match &self.constraints[c] {
            PlacementConstraint::DistinctInstance => cluster.group_tasks_on(group, i) == 0,
            PlacementConstraint::MemberOf(expr) => {
                if !expr.is_static() {
                    return expr.eval(&cluster.facts(i));
                }
                self.static_result(c, cluster, i)
            }
        }
    }

    /// A static expression's result on an instance, computed once.
    fn static_result(&mut self, c: usize, cluster: &Cluster, i: usize) -> bool {
        let PlacementConstraint::MemberOf(expr) = &self.constraints[c] else { return true };
        let cache = &mut self.static_results[c];
        if cache.len() <= i {
            cache.resize(cluster.instances.len().max(i + 1), 0);
        }
        if cache[i] == 0 {
            cache[i] = if expr.eval(&cluster.facts(i)) { 2 } else { 1 };
        }
        cache[i] == 2
    }

    /// Whether instance `i` satisfies every constraint, and the first one it fails.
    pub fn first_unmet(&mut self, cluster: &Cluster, group: TaskGroup, i: usize) -> Option<usize> {
        (0..self.constraints.len()).find(|&c| !self.satisfies(c, cluster, group, i))
    }

    /// Whether an instance that already runs one task of `group` still meets the constraints,
    /// judged without that task: `distinctInstance` holds by itself, and the task does not count
    /// toward `runningTasksCount` or `task:group`. A DAEMON service keeps its task on an instance
    /// exactly while this holds.
    pub fn still_met_with_own_task(&mut self, cluster: &Cluster, group: TaskGroup, i: usize) -> bool {
        (0..self.constraints.len()).all(|c| match &self.constraints[c] {
            PlacementConstraint::DistinctInstance => true,
            PlacementConstraint::MemberOf(expr) if !expr.is_static() => expr.eval(&cluster.facts_without(i, group)),
            PlacementConstraint::MemberOf(_) => self.static_result(c, cluster, i),
        })
    }
}

/// The resource a task lacks on an instance, in the order step 1 checks them. The later the
/// check that fails, the closer the instance came.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Shortfall {
    Cpu,
    Memory,
    Ports,
    Eni,
}

impl Shortfall {
    fn failure(self, closest: usize) -> PlacementFailure {
        match self {
            Shortfall::Cpu => PlacementFailure::Cpu { closest },
            Shortfall::Memory => PlacementFailure::Memory { closest },
            Shortfall::Ports => PlacementFailure::Ports { closest },
            Shortfall::Eni => PlacementFailure::Eni { closest },
        }
    }
}

fn resource_check(cluster: &Cluster, i: usize, req: &TaskRequirements) -> Result<(), Shortfall> {
    let inst = &cluster.instances[i];
    if inst.cpu_available() < req.cpu {
        return Err(Shortfall::Cpu);
    }
    if inst.memory_available() < req.memory {
        return Err(Shortfall::Memory);
    }
    if !ports_fit(cluster, i, req) {
        return Err(Shortfall::Ports);
    }
    if req.needs_eni && inst.enis_available() == 0 {
        return Err(Shortfall::Eni);
    }
    Ok(())
}

/// Static ports must be free and not among the reserved defaults; the static ports held, the
/// defaults included, may not pass the limit of 100; dynamic ports need room in the range.
fn ports_fit(cluster: &Cluster, i: usize, req: &TaskRequirements) -> bool {
    let inst = &cluster.instances[i];
    let statics = &req.static_host_ports;
    if statics.iter().any(|&p| inst.port_in_use(p) || DEFAULT_RESERVED_PORTS.contains(&p)) {
        return false;
    }
    if !statics.is_empty()
        && DEFAULT_RESERVED_PORTS.len() + inst.static_ports_in_use + statics.len() > MAX_RESERVED_PORTS
    {
        return false;
    }
    let (lo, hi) = inst.dynamic_port_range;
    let statics_in_range = statics.iter().filter(|&&p| (lo..=hi).contains(&p)).count();
    usize::from(req.dynamic_host_ports) + statics_in_range <= inst.dynamic_ports_free()
}

/// Checks one instance for a task, with the reason it does not fit: used by the DAEMON
/// scheduler, which places on a given instance.
pub fn check_instance(
    cluster: &Cluster,
    policy: &mut PlacementPolicy,
    group: TaskGroup,
    req: &TaskRequirements,
    i: usize,
) -> Result<(), PlacementFailure> {
    resource_check(cluster, i, req).map_err(|short| short.failure(i))?;
    match policy.first_unmet(cluster, group, i) {
        None => Ok(()),
        Some(c) => Err(constraint_failure(policy, c, i)),
    }
}

fn constraint_failure(policy: &PlacementPolicy, c: usize, closest: usize) -> PlacementFailure {
    match &policy.constraints[c] {
        PlacementConstraint::DistinctInstance => PlacementFailure::DistinctInstance { closest },
        PlacementConstraint::MemberOf(e) => PlacementFailure::MemberOf { closest, expression: e.text().to_string() },
    }
}

/// Picks an ACTIVE instance for one task of `group`, or says why none fits. With
/// `only_asg`, only instances of that Auto Scaling group qualify (a capacity provider's).
pub fn place(
    cluster: &Cluster,
    policy: &mut PlacementPolicy,
    group: TaskGroup,
    req: &TaskRequirements,
    only_asg: Option<usize>,
    rng: &mut SimRng,
) -> Result<usize, PlacementFailure> {
    let mut candidates: Vec<usize> = Vec::new();
    for i in 0..cluster.instances.len() {
        if cluster.instances[i].status == InstanceStatus::Active
            && cluster.admits(i, group)
            && only_asg.is_none_or(|g| cluster.instances[i].group == g)
            && resource_check(cluster, i, req).is_ok()
            && policy.first_unmet(cluster, group, i).is_none()
        {
            candidates.push(i);
        }
    }
    if candidates.is_empty() {
        return Err(closest_failure(cluster, policy, group, req, only_asg));
    }
    for strategy in &policy.strategies {
        if candidates.len() == 1 {
            break;
        }
        keep_best(cluster, group, req, strategy, &mut candidates, rng);
    }
    let pick = if candidates.len() == 1 { 0 } else { rng.random_range(0..candidates.len()) };
    Ok(candidates[pick])
}

/// Why no ACTIVE instance fits, told from the closest one.
///
/// AWS names "the closest matching container-instance" without defining closeness. The model
/// ranks instances that satisfy the constraints above those that do not, since constraints are
/// binding and the user chose them; among equals, the later the resource check that fails (CPU,
/// memory, ports, ENI), the closer. Ties go to the first instance in launch order [assume].
fn closest_failure(
    cluster: &Cluster,
    policy: &mut PlacementPolicy,
    group: TaskGroup,
    req: &TaskRequirements,
    only_asg: Option<usize>,
) -> PlacementFailure {
    let mut closest: Option<((bool, u8), PlacementFailure)> = None;
    for i in 0..cluster.instances.len() {
        if cluster.instances[i].status != InstanceStatus::Active
            || !cluster.admits(i, group)
            || only_asg.is_some_and(|g| cluster.instances[i].group != g)
        {
            continue;
        }
        let unmet = policy.first_unmet(cluster, group, i);
        let (rank, failure) = match (resource_check(cluster, i, req), unmet) {
            (Err(short), _) => ((unmet.is_none(), short as u8), short.failure(i)),
            (Ok(()), Some(c)) => ((false, u8::MAX), constraint_failure(policy, c, i)),
            (Ok(()), None) => continue,
        };
        if closest.as_ref().is_none_or(|(best, _)| rank > *best) {
            closest = Some((rank, failure));
        }
    }
    closest.map_or(PlacementFailure::NoInstances, |(_, f)| f)
}

/// Keeps the candidates a strategy rates best (lowest score).
fn keep_best(
    cluster: &Cluster,
    group: TaskGroup,
    req: &TaskRequirements,
    strategy: &PlacementStrategy,
    candidates: &mut Vec<usize>,
    rng: &mut SimRng,
) {
    let scores: Vec<u64> = match strategy {
        PlacementStrategy::Binpack(BinpackField::Cpu) => {
            candidates.iter().map(|&i| u64::from(cluster.instances[i].cpu_available() - req.cpu)).collect()
        }
        PlacementStrategy::Binpack(BinpackField::Memory) => {
            candidates.iter().map(|&i| u64::from(cluster.instances[i].memory_available() - req.memory)).collect()
        }
        PlacementStrategy::Spread(SpreadField::InstanceId) => {
            candidates.iter().map(|&i| u64::from(cluster.group_tasks_on(group, i))).collect()
        }
        PlacementStrategy::Spread(SpreadField::Attribute(name)) => spread_scores(cluster, group, name, candidates),
        // A random strategy orders candidates by a fresh draw each; the final tie-break is random
        // too, so drawing one winner here is the same distribution at lower cost.
        PlacementStrategy::Random => {
            let pick = candidates[rng.random_range(0..candidates.len())];
            candidates.clear();
            candidates.push(pick);
            return;
        }
    };
    let best = scores.iter().copied().min().unwrap_or(0);
    let mut k = 0;
    candidates.retain(|_| {
        let keep = scores[k] == best;
        k += 1;
        keep
    });
}

/// For `spread(attribute:name)`: each candidate's score is the number of the group's tasks on
/// registered instances sharing its value of the attribute. Instances without the attribute
/// form a value of their own.
fn spread_scores(cluster: &Cluster, group: TaskGroup, name: &str, candidates: &[usize]) -> Vec<u64> {
    if name == "ecs.availability-zone" {
        let mut per_az = vec![0u64; cluster.availability_zones.len()];
        for (i, inst) in cluster.instances.iter().enumerate() {
            if inst.status.is_registered() {
                per_az[inst.availability_zone] += u64::from(cluster.group_tasks_on(group, i));
            }
        }
        return candidates.iter().map(|&i| per_az[cluster.instances[i].availability_zone]).collect();
    }
    let mut per_value: Vec<(Option<&str>, u64)> = Vec::new();
    for (i, inst) in cluster.instances.iter().enumerate() {
        let n = cluster.group_tasks_on(group, i);
        if !inst.status.is_registered() || n == 0 {
            continue;
        }
        let v = cluster.attribute(i, name);
        match per_value.iter_mut().find(|(k, _)| *k == v) {
            Some((_, c)) => *c += u64::from(n),
            None => per_value.push((v, u64::from(n))),
        }
    }
    candidates
        .iter()
        .map(|&i| {
            let v = cluster.attribute(i, name);
            per_value.iter().find(|(k, _)| *k == v).map_or(0, |(_, c)| *c)
        })
        .collect()
}

/// A task the scheduler may stop when it scales in.
#[derive(Clone, Copy, Debug)]
pub struct StopCandidate {
    pub task: usize,
    pub instance: usize,
    /// Whether the task has reached RUNNING.
    pub running: bool,
}

/// Chooses `n` tasks of `group` to stop when a service scales in.
///
/// The strategies pick tasks as documented (ECS-DG:task-placement-strategies.md,
/// ECS-DG:ecs_services.md): `spread` stops tasks where the field's value holds the most tasks,
/// keeping the spread even; `binpack` stops the task on the instance with the most of the
/// resource left; `random` at random; any remaining tie is broken at random. Tasks not yet
/// RUNNING go first: stopping them costs no capacity that serves [assume; AWS does not say].
pub fn choose_tasks_to_stop(
    cluster: &Cluster,
    group: TaskGroup,
    strategies: &[PlacementStrategy],
    candidates: &[StopCandidate],
    n: usize,
    rng: &mut SimRng,
) -> Vec<usize> {
    let mut left: Vec<StopCandidate> = candidates.to_vec();
    // Tasks of the group per instance, less those already chosen.
    let mut removed: Vec<(usize, u64)> = Vec::new();
    let count_on = |removed: &[(usize, u64)], i: usize| {
        u64::from(cluster.group_tasks_on(group, i))
            .saturating_sub(removed.iter().find(|(r, _)| *r == i).map_or(0, |(_, c)| *c))
    };
    let mut chosen = Vec::with_capacity(n);
    while chosen.len() < n && !left.is_empty() {
        let mut pool: Vec<usize> = (0..left.len()).collect();
        let keep_lowest = |pool: &mut Vec<usize>, score: &dyn Fn(&StopCandidate) -> u64| {
            let best = pool.iter().map(|&k| score(&left[k])).min().unwrap_or(0);
            pool.retain(|&k| score(&left[k]) == best);
        };
        keep_lowest(&mut pool, &|c| u64::from(c.running));
        for strategy in strategies {
            if pool.len() <= 1 {
                break;
            }
            match strategy {
                PlacementStrategy::Binpack(BinpackField::Cpu) => {
                    keep_lowest(&mut pool, &|c| u64::MAX - u64::from(cluster.instances[c.instance].cpu_available()))
                }
                PlacementStrategy::Binpack(BinpackField::Memory) => {
                    keep_lowest(&mut pool, &|c| u64::MAX - u64::from(cluster.instances[c.instance].memory_available()))
                }
                PlacementStrategy::Spread(SpreadField::InstanceId) => {
                    keep_lowest(&mut pool, &|c| u64::MAX - count_on(&removed, c.instance))
                }
                PlacementStrategy::Spread(SpreadField::Attribute(name)) => {
                    let mut per_value: Vec<(Option<&str>, u64)> = Vec::new();
                    for (j, inst) in cluster.instances.iter().enumerate() {
                        if !inst.status.is_registered() {
                            continue;
                        }
                        let (v, c) = (cluster.attribute(j, name), count_on(&removed, j));
                        match per_value.iter_mut().find(|(k, _)| *k == v) {
                            Some((_, n)) => *n += c,
                            None => per_value.push((v, c)),
                        }
                    }
                    let value_count = |i: usize| {
                        let v = cluster.attribute(i, name);
                        per_value.iter().find(|(k, _)| *k == v).map_or(0, |(_, c)| *c)
                    };
                    keep_lowest(&mut pool, &|c| u64::MAX - value_count(c.instance));
                }
                PlacementStrategy::Random => {
                    let k = pool[rng.random_range(0..pool.len())];
                    pool = vec![k];
                }
            }
        }
        let k = if pool.len() == 1 { pool[0] } else { pool[rng.random_range(0..pool.len())] };
        let victim = left.swap_remove(k);
        match removed.iter_mut().find(|(r, _)| *r == victim.instance) {
            Some((_, c)) => *c += 1,
            None => removed.push((victim.instance, 1)),
        }
        chosen.push(victim.task);
    }
    chosen
}
