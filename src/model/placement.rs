//! Task placement on EC2 capacity, as ECS does it (ECS-DG:task-placement.md):
//! 1. keep the instances with enough CPU, memory, ports and ENIs for the task;
//! 2. keep those that satisfy every placement constraint;
//! 3. order them by the placement strategies, each acting on the candidates the previous one
//!    rated best;
//! 4. pick one, breaking any remaining tie with the seeded placement stream.
//!
//! A task that fits nowhere gets the reason ECS reports for the *closest matching* instance (see
//! [`closest_failure`] for how closeness is ranked).

use std::cmp::Ordering;

use rand::RngExt;

use super::cluster::{self, Cluster, TaskGroup};
use super::cluster_query::Expression;
use super::ec2::{ContainerInstance, DEFAULT_RESERVED_PORTS, InstanceStatus, MAX_RESERVED_PORTS};
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
/// cannot change while an instance lives (attribute-only `memberOf` expressions), and the buffers
/// [`place`] reuses so that placing a task allocates nothing.
///
/// Both lists are read when the policy is made and must not change afterwards.
pub struct PlacementPolicy {
    pub constraints: Vec<PlacementConstraint>,
    pub strategies: Vec<PlacementStrategy>,
    static_results: StaticResults,
    /// What the strategies rank candidates by, in order, up to the first `random` one.
    ranks: Vec<Rank>,
    scratch: Scratch,
}

/// The results of the static `memberOf` constraints, per instance.
struct StaticResults {
    /// `is_static[c]`: constraint `c` is a `memberOf` whose result never changes.
    is_static: Vec<bool>,
    /// `results[c][i]`: 0 unknown, 1 false, 2 true.
    results: Vec<Vec<u8>>,
    /// `all_met[i]`: whether instance `i` meets every static constraint, for every instance the
    /// last placement saw. Instances are only ever added to the cluster, never renumbered.
    all_met: Vec<bool>,
}

impl StaticResults {
    fn new(constraints: &[PlacementConstraint]) -> Self {
        let is_static =
            constraints.iter().map(|c| matches!(c, PlacementConstraint::MemberOf(e) if e.is_static())).collect();
        StaticResults { is_static, results: vec![Vec::new(); constraints.len()], all_met: Vec::new() }
    }

    /// Constraint `c`'s result on an instance, computed once.
    fn get(&mut self, c: usize, expr: &Expression, cluster: &Cluster, i: usize) -> bool {
        let cache = &mut self.results[c];
        if cache.len() <= i {
            cache.resize(cluster.instances.len().max(i + 1), 0);
        }
        if cache[i] == 0 {
            cache[i] = if expr.eval(&cluster.facts(i)) { 2 } else { 1 };
        }
        cache[i] == 2
    }

    /// Settles `all_met` for the instances added since the last call.
    fn settle(&mut self, constraints: &[PlacementConstraint], cluster: &Cluster) {
        for i in self.all_met.len()..cluster.instances.len() {
            let met = constraints.iter().enumerate().all(|(c, constraint)| match constraint {
                PlacementConstraint::MemberOf(expr) if self.is_static[c] => self.get(c, expr, cluster, i),
                _ => true,
            });
            self.all_met.push(met);
        }
    }
}

/// What one strategy ranks candidates by, least first.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Rank {
    CpuLeft,
    MemoryLeft,
    /// The group's tasks on the instance.
    GroupTasksOnInstance,
    /// The group's tasks on registered instances in the instance's Availability Zone: the
    /// service scheduler's default spread, read from the cluster's count per zone.
    GroupTasksInZone,
    /// The group's tasks on registered instances with the instance's value of the strategy's
    /// attribute.
    GroupTasksWithValue,
}

impl Rank {
    /// The ranks of `strategies`, up to the first `random` one. A random strategy orders the
    /// candidates by a fresh draw each, which is the same distribution as drawing one winner
    /// among those ranked best so far; the final tie-break makes that very draw, so the
    /// strategies after a random one never act and the draw is made once, by the tie-break.
    fn of(strategies: &[PlacementStrategy]) -> Vec<Rank> {
        strategies
            .iter()
            .map_while(|strategy| match strategy {
                PlacementStrategy::Binpack(BinpackField::Cpu) => Some(Rank::CpuLeft),
                PlacementStrategy::Binpack(BinpackField::Memory) => Some(Rank::MemoryLeft),
                PlacementStrategy::Spread(SpreadField::InstanceId) => Some(Rank::GroupTasksOnInstance),
                PlacementStrategy::Spread(SpreadField::Attribute(name)) if name == AVAILABILITY_ZONE => {
                    Some(Rank::GroupTasksInZone)
                }
                PlacementStrategy::Spread(SpreadField::Attribute(_)) => Some(Rank::GroupTasksWithValue),
                PlacementStrategy::Random => None,
            })
            .collect()
    }
}

/// The built-in attribute naming an instance's Availability Zone.
const AVAILABILITY_ZONE: &str = "ecs.availability-zone";

/// Working space of one placement, kept between placements for its capacity.
#[derive(Default)]
struct Scratch {
    /// The candidates the ranks rate best so far.
    candidates: Vec<usize>,
    /// Their score under each rank after the one the scan rates by first.
    best: Vec<u64>,
    /// The group's tasks on registered instances, per Availability Zone.
    per_zone: Vec<u64>,
    /// The group's tasks on instances not registered, per zone.
    unregistered: Vec<u64>,
    /// The zones, fewest of the group's tasks first.
    zones: Vec<usize>,
}

impl PlacementPolicy {
    pub fn new(constraints: Vec<PlacementConstraint>, strategies: Vec<PlacementStrategy>) -> Self {
        let static_results = StaticResults::new(&constraints);
        let ranks = Rank::of(&strategies);
        PlacementPolicy { constraints, strategies, static_results, ranks, scratch: Scratch::default() }
    }

    /// Whether instance `i` satisfies every constraint, and the first one it fails.
    pub fn first_unmet(&mut self, cluster: &Cluster, group: TaskGroup, i: usize) -> Option<usize> {
        (0..self.constraints.len())
            .find(|&c| !satisfies(&self.constraints, &mut self.static_results, c, cluster, group, i))
    }

    /// Whether an instance that already runs one task of `group` still meets the constraints,
    /// judged without that task: `distinctInstance` holds by itself, and the task does not count
    /// toward `runningTasksCount` or `task:group`. A DAEMON service keeps its task on an instance
    /// exactly while this holds.
    pub fn still_met_with_own_task(&mut self, cluster: &Cluster, group: TaskGroup, i: usize) -> bool {
        let cache = &mut self.static_results;
        self.constraints.iter().enumerate().all(|(c, constraint)| match constraint {
            PlacementConstraint::DistinctInstance => true,
            PlacementConstraint::MemberOf(expr) if cache.is_static[c] => cache.get(c, expr, cluster, i),
            PlacementConstraint::MemberOf(expr) => expr.eval(&cluster.facts_without(i, group)),
        })
    }
}

/// Whether instance `i` satisfies constraint `c` for a task of `group`.
fn satisfies(
    constraints: &[PlacementConstraint],
    cache: &mut StaticResults,
    c: usize,
    cluster: &Cluster,
    group: TaskGroup,
    i: usize,
) -> bool {
    match &constraints[c] {
        PlacementConstraint::MemberOf(expr) if cache.is_static[c] => cache.get(c, expr, cluster, i),
        constraint => satisfies_as_it_stands(constraint, cluster, group, i),
    }
}

/// Whether instance `i` satisfies a constraint for a task of `group`, judged afresh.
fn satisfies_as_it_stands(constraint: &PlacementConstraint, cluster: &Cluster, group: TaskGroup, i: usize) -> bool {
    match constraint {
        PlacementConstraint::DistinctInstance => cluster.group_tasks_on(group, i) == 0,
        PlacementConstraint::MemberOf(expr) => expr.eval(&cluster.facts(i)),
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

#[inline(always)]
fn resource_check(inst: &ContainerInstance, req: &TaskRequirements) -> Result<(), Shortfall> {
    if inst.cpu_available() < req.cpu {
        return Err(Shortfall::Cpu);
    }
    if inst.memory_available() < req.memory {
        return Err(Shortfall::Memory);
    }
    if !ports_fit(inst, req) {
        return Err(Shortfall::Ports);
    }
    if req.needs_eni && inst.enis_available() == 0 {
        return Err(Shortfall::Eni);
    }
    Ok(())
}

/// Static ports must be free and not among the reserved defaults; the static ports held, the
/// defaults included, may not pass the limit of 100; dynamic ports need room in the range.
#[inline(always)]
fn ports_fit(inst: &ContainerInstance, req: &TaskRequirements) -> bool {
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
    let needed = usize::from(req.dynamic_host_ports);
    // Fewer ports are held or reserved in the range than are held or reserved at all: when even
    // those leave room, the count of free ports, a search in the held ones, can be skipped.
    if needed + statics.len() + inst.ports_in_use.len() + DEFAULT_RESERVED_PORTS.len() <= usize::from(hi - lo) + 1 {
        return true;
    }
    let statics_in_range = statics.iter().filter(|&&p| (lo..=hi).contains(&p)).count();
    needed + statics_in_range <= inst.dynamic_ports_free()
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
    resource_check(&cluster.instances[i], req).map_err(|short| short.failure(i))?;
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

/// What the ranks of one placement score candidates by.
struct Scores<'a> {
    cluster: &'a Cluster,
    req: &'a TaskRequirements,
    /// The group's tasks per instance.
    group_tasks: &'a [u32],
    /// The group's tasks on registered instances per zone.
    per_zone: &'a [u64],
    /// For each `GroupTasksWithValue` rank, by its position: its attribute and the group's tasks
    /// per value.
    tallies: &'a [(usize, &'a str, ValueTally<'a>)],
}

/// Runs `$body` with `$score` bound to the scoring function of rank `$k`: matching the rank once
/// rather than per candidate lets each loop compile to the one score it computes.
macro_rules! with_score {
    ($scores:expr, $k:expr, $rank:expr, |$score:ident| $body:expr) => {
        match $rank {
            Rank::CpuLeft => {
                let $score = |_: usize, inst: &ContainerInstance| $scores.cpu_left(inst);
                $body
            }
            Rank::MemoryLeft => {
                let $score = |_: usize, inst: &ContainerInstance| $scores.memory_left(inst);
                $body
            }
            Rank::GroupTasksOnInstance => {
                let $score = |i: usize, _: &ContainerInstance| $scores.on_instance(i);
                $body
            }
            Rank::GroupTasksInZone => {
                let $score = |_: usize, inst: &ContainerInstance| $scores.in_zone(inst);
                $body
            }
            Rank::GroupTasksWithValue => {
                let $score = |i: usize, _: &ContainerInstance| $scores.with_value($k, i);
                $body
            }
        }
    };
}

/// Runs `$body` with `$first` bound to the score of rank `$k` as a scan rates by it first: `None`
/// for an instance without the CPU or memory for the task when the rank packs by either, since
/// such an instance is no candidate and, leaving least of the resource, would otherwise rate best.
macro_rules! with_first {
    ($scores:expr, $k:expr, $rank:expr, |$first:ident| $body:expr) => {
        match $rank {
            Rank::CpuLeft => {
                let $first = |_: usize, inst: &ContainerInstance| {
                    $scores.has_cpu_and_memory(inst).then(|| $scores.cpu_left(inst))
                };
                $body
            }
            Rank::MemoryLeft => {
                let $first = |_: usize, inst: &ContainerInstance| {
                    $scores.has_cpu_and_memory(inst).then(|| $scores.memory_left(inst))
                };
                $body
            }
            rank => with_score!($scores, $k, rank, |score| {
                let $first = |i: usize, inst: &ContainerInstance| Some(score(i, inst));
                $body
            }),
        }
    };
}

/// Runs a scan of `$instances` that rates by the ranks after the first, the first rating them
/// all alike.
macro_rules! scan_from_second {
    ($finder:expr, $instances:expr, $found:expr, $scores:expr, $ranks:expr) => {
        match $ranks.get(1) {
            None => $finder.scan($instances, &mut $found, &$scores, $ranks, 1, |_, _| Some(0)),
            Some(rank) => {
                with_first!($scores, 1, rank, |first| $finder.scan($instances, &mut $found, &$scores, $ranks, 1, first))
            }
        }
    };
}

/// Instance `i`'s score under each rank. On an instance the task does not fit, the score means
/// nothing (what is left saturates at zero): the instance is no candidate.
impl Scores<'_> {
    fn has_cpu_and_memory(&self, inst: &ContainerInstance) -> bool {
        inst.cpu_available() >= self.req.cpu && inst.memory_available() >= self.req.memory
    }

    fn cpu_left(&self, inst: &ContainerInstance) -> u64 {
        u64::from(inst.cpu_available().saturating_sub(self.req.cpu))
    }

    fn memory_left(&self, inst: &ContainerInstance) -> u64 {
        u64::from(inst.memory_available().saturating_sub(self.req.memory))
    }

    fn on_instance(&self, i: usize) -> u64 {
        u64::from(self.group_tasks[i])
    }

    fn in_zone(&self, inst: &ContainerInstance) -> u64 {
        self.per_zone[inst.availability_zone]
    }

    /// Under rank `k`, whichever it is.
    #[inline(always)]
    fn of(&self, k: usize, rank: Rank, i: usize, inst: &ContainerInstance) -> u64 {
        with_score!(self, k, rank, |score| score(i, inst))
    }

    /// Under rank `k`, which spreads over an attribute.
    #[inline(never)]
    fn with_value(&self, k: usize, i: usize) -> u64 {
        let Some((_, name, tally)) = self.tallies.iter().find(|(j, ..)| *j == k) else { return 0 };
        let value = self.cluster.attribute(i, name);
        tally.iter().find(|(v, _)| *v == value).map_or(0, |(_, n)| *n)
    }
}

/// Picks an ACTIVE instance for one task of `group`, or says why none fits. With
/// `only_asg`, only instances of that Auto Scaling group qualify (a capacity provider's).
///
/// Steps 1 to 3 run as one pass over the instances that keeps only the candidates the strategies
/// rate best so far. Keeping, strategy after strategy, the candidates one rates best keeps
/// exactly those whose scores, compared strategy by strategy, are least; they are put in instance
/// order, so step 4 draws among the same candidates, in the same order, as ranking all of them
/// strategy by strategy does.
///
/// The zone spread counts the group's tasks on registered instances per zone: the cluster's
/// count over all instances of the zone, less those on instances not registered. When it is the
/// first strategy, every instance of a zone scores the same under it, so the pass visits the
/// zones fewest tasks first, a set of equal zones at a time, and stops at the first set that
/// holds a candidate: the zones after it score more whatever their instances.
pub fn place(
    cluster: &Cluster,
    policy: &mut PlacementPolicy,
    group: TaskGroup,
    req: &TaskRequirements,
    only_asg: Option<usize>,
    rng: &mut SimRng,
) -> Result<usize, PlacementFailure> {
    let PlacementPolicy { constraints, strategies, static_results, ranks, scratch } = policy;
    let tallies: Vec<(usize, &str, ValueTally)> = strategies
        .iter()
        .zip(ranks.iter())
        .enumerate()
        .filter_map(|(k, (strategy, rank))| match (strategy, rank) {
            (PlacementStrategy::Spread(SpreadField::Attribute(name)), Rank::GroupTasksWithValue) => {
                Some((k, name.as_str(), value_tally(cluster, group, name)))
            }
            _ => None,
        })
        .collect();
    let group_tasks = cluster.group_task_counts(group);
    static_results.settle(constraints, cluster);
    let is_static = &static_results.is_static[..];
    let finder = Finder {
        cluster,
        group,
        req,
        only_asg,
        constraints,
        is_static,
        static_met: is_static.contains(&true).then_some(&static_results.all_met[..]),
        any_dynamic: is_static.contains(&false),
    };
    let Scratch { candidates, best, per_zone, unregistered, zones } = scratch;
    per_zone.clear();
    if ranks.contains(&Rank::GroupTasksInZone) {
        let all = cluster.group_tasks_per_zone(group);
        unregistered.clear();
        unregistered.resize(all.len(), 0);
        for (inst, &n) in cluster.instances.iter().zip(group_tasks) {
            if n > 0 && !inst.status.is_registered() {
                unregistered[inst.availability_zone] += u64::from(n);
            }
        }
        per_zone.extend(all.iter().zip(unregistered.iter()).map(|(&a, &u)| a.saturating_sub(u)));
    }
    let scores = Scores { cluster, req, group_tasks, per_zone, tallies: &tallies };
    let mut found = Found { candidates, best, least: u64::MAX };
    found.clear();
    if ranks.first() == Some(&Rank::GroupTasksInZone) {
        zones.clear();
        zones.extend(0..per_zone.len());
        zones.sort_by_key(|&z| per_zone[z]);
        let mut from = 0;
        while from < zones.len() {
            let tie = per_zone[zones[from]];
            let to = from + zones[from..].iter().take_while(|&&z| per_zone[z] == tie).count();
            found.clear();
            // One zone's instances from its list; several zones' in one pass, which keeps them
            // in instance order.
            if to - from == 1 {
                let instances = cluster.instances_in_zone(zones[from]).iter().copied();
                scan_from_second!(finder, instances, found, scores, ranks);
            } else {
                let instances = (0..cluster.instances.len())
                    .filter(|&i| per_zone.get(cluster.instances[i].availability_zone) == Some(&tie));
                scan_from_second!(finder, instances, found, scores, ranks);
            }
            if !found.candidates.is_empty() {
                break;
            }
            from = to;
        }
    } else {
        let instances = 0..cluster.instances.len();
        match ranks.first() {
            None => finder.scan(instances, &mut found, &scores, ranks, 0, |_, _| Some(0)),
            Some(rank) => {
                with_first!(scores, 0, rank, |first| finder.scan(instances, &mut found, &scores, ranks, 0, first))
            }
        }
    }
    let candidates = &found.candidates;
    let picked = match candidates.len() {
        0 => None,
        1 => Some(candidates[0]),
        n => Some(candidates[rng.random_range(0..n)]),
    };
    picked.ok_or_else(|| closest_failure(cluster, policy, group, req, only_asg))
}

/// The candidates a scan rates best so far.
struct Found<'a> {
    candidates: &'a mut Vec<usize>,
    /// Their scores under the ranks after the one the scan rates by first.
    best: &'a mut Vec<u64>,
    /// Their score under the rank the scan rates by first.
    least: u64,
}

impl Found<'_> {
    fn clear(&mut self) {
        self.candidates.clear();
        self.best.clear();
        self.least = u64::MAX;
    }
}

/// Finds the candidates for one task.
struct Finder<'a> {
    cluster: &'a Cluster,
    group: TaskGroup,
    req: &'a TaskRequirements,
    only_asg: Option<usize>,
    constraints: &'a [PlacementConstraint],
    /// Which constraints are static.
    is_static: &'a [bool],
    /// Whether each instance meets the static constraints, if there are any.
    static_met: Option<&'a [bool]>,
    /// Whether some constraint is not static.
    any_dynamic: bool,
}

impl Finder<'_> {
    /// Adds to `found` the candidates among `instances` that rate best under `ranks[from..]`,
    /// dropping those that rate worse. `first` is the score under `ranks[from]`, if any, or
    /// `None` when the instance cannot hold the task whatever it scores.
    ///
    /// An instance is compared with the best so far rank by rank, each score read only when the
    /// ranks before it tie. One that scores more is dropped whether the task fits or not, so the
    /// scores go first: they are quicker to read than the fit.
    #[inline(always)]
    fn scan(
        &self,
        instances: impl Iterator<Item = usize>,
        found: &mut Found<'_>,
        scores: &Scores<'_>,
        ranks: &[Rank],
        from: usize,
        first: impl Fn(usize, &ContainerInstance) -> Option<u64>,
    ) {
        let Found { candidates, best, least } = found;
        let (candidates, best) = (&mut **candidates, &mut **best);
        let mut least_so_far = *least;
        for i in instances {
            let inst = &self.cluster.instances[i];
            if inst.status != InstanceStatus::Active {
                continue;
            }
            let Some(score) = first(i, inst) else { continue };
            if score > least_so_far {
                continue;
            }
            let mut order =
                if score < least_so_far || candidates.is_empty() { Ordering::Less } else { Ordering::Equal };
            let mut k = from + 1;
            while order == Ordering::Equal && k < ranks.len() {
                order = scores.of(k, ranks[k], i, inst).cmp(&best[k - from - 1]);
                k += 1;
            }
            if order == Ordering::Greater {
                continue;
            }
            if !(resource_check(inst, self.req).is_ok()
                && eligible(inst, self.group, self.only_asg)
                && self.meets_constraints(i))
            {
                continue;
            }
            if order == Ordering::Less {
                least_so_far = score;
                best.clear();
                best.extend((from + 1..ranks.len()).map(|k| scores.of(k, ranks[k], i, inst)));
                candidates.clear();
            }
            candidates.push(i);
        }
        *least = least_so_far;
    }

    /// Whether instance `i` meets every constraint: the static ones as settled, the others
    /// judged now.
    #[inline(always)]
    fn meets_constraints(&self, i: usize) -> bool {
        self.static_met.is_none_or(|met| met[i])
            && (!self.any_dynamic
                || self
                    .constraints
                    .iter()
                    .zip(self.is_static)
                    .all(|(c, &is_static)| is_static || satisfies_as_it_stands(c, self.cluster, self.group, i)))
    }
}

/// Whether a task of `group` may be placed on the instance at all, whatever it needs: an ACTIVE
/// container instance open to the group, of the Auto Scaling group asked for if any.
#[inline(always)]
fn eligible(inst: &ContainerInstance, group: TaskGroup, only_asg: Option<usize>) -> bool {
    inst.status == InstanceStatus::Active && cluster::admits(inst, group) && only_asg.is_none_or(|g| inst.group == g)
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
        if !eligible(&cluster.instances[i], group, only_asg) {
            continue;
        }
        let unmet = policy.first_unmet(cluster, group, i);
        let (rank, failure) = match (resource_check(&cluster.instances[i], req), unmet) {
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

/// The group's tasks on registered instances per value of an attribute, for
/// `spread(attribute:name)`. Instances without the attribute form a value of their own.
type ValueTally<'c> = Vec<(Option<&'c str>, u64)>;

fn value_tally<'c>(cluster: &'c Cluster, group: TaskGroup, name: &str) -> ValueTally<'c> {
    let mut per_value: ValueTally = Vec::new();
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
    per_value
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
///
/// Each strategy keeps the tasks it rates worst to keep among those the strategies before it
/// kept, so the tasks left for the draw are those whose scores, compared strategy by strategy up
/// to the first `random` one, are least; `random` draws one of them, which is the draw a final
/// tie-break makes. Every task on an instance scores the same under every strategy, so the
/// scores are compared per instance, and the draw picks among the tasks of the instances that
/// score least, in the order of the tasks still left.
pub fn choose_tasks_to_stop(
    cluster: &Cluster,
    group: TaskGroup,
    strategies: &[PlacementStrategy],
    candidates: &[StopCandidate],
    n: usize,
    rng: &mut SimRng,
) -> Vec<usize> {
    let mut left: Vec<StopCandidate> = candidates.to_vec();
    // Tasks of the group already chosen, by instance.
    let mut removed = vec![0u64; cluster.instances.len()];
    let count_on = |removed: &[u64], i: usize| u64::from(cluster.group_tasks_on(group, i)).saturating_sub(removed[i]);
    // Each attribute spread's tasks per value of the attribute over the registered instances,
    // counted once and kept up to date as tasks are chosen: the cluster does not change while
    // the victims are picked, so counting again for each victim would find the same.
    // The strategies that compare scores: those before the first `random` one.
    let ranked = strategies.iter().position(|s| *s == PlacementStrategy::Random).unwrap_or(strategies.len());
    let mut spreads: Vec<AttributeTally> = strategies[..ranked]
        .iter()
        .map(|strategy| match strategy {
            PlacementStrategy::Spread(SpreadField::Attribute(name)) => AttributeTally::new(cluster, group, name),
            _ => AttributeTally::default(),
        })
        .collect();
    // The instances the candidates run on, and for each candidate left, its instance's place
    // among them.
    let mut hosts: Vec<usize> = Vec::new();
    let mut host_of_instance = vec![usize::MAX; cluster.instances.len()];
    let mut host_of: Vec<usize> = left
        .iter()
        .map(|c| {
            if host_of_instance[c.instance] == usize::MAX {
                host_of_instance[c.instance] = hosts.len();
                hosts.push(c.instance);
            }
            host_of_instance[c.instance]
        })
        .collect();
    // Per host, its candidates left that are not RUNNING and those that are.
    let mut left_on = vec![[0usize; 2]; hosts.len()];
    for (c, &h) in left.iter().zip(&host_of) {
        left_on[h][usize::from(c.running)] += 1;
    }
    let mut not_running = left.iter().filter(|c| !c.running).count();
    // Per host, its score under each ranking strategy, a row per host: what the strategies would
    // read for each of its tasks. Only choosing a task changes a score, and only those of its
    // instance and of the instances sharing its attribute values, so only those are worked out
    // again.
    let score = |removed: &[u64], spreads: &[AttributeTally], k: usize, i: usize| -> u64 {
        match &strategies[k] {
            PlacementStrategy::Binpack(BinpackField::Cpu) => u64::MAX - u64::from(cluster.instances[i].cpu_available()),
            PlacementStrategy::Binpack(BinpackField::Memory) => {
                u64::MAX - u64::from(cluster.instances[i].memory_available())
            }
            PlacementStrategy::Spread(SpreadField::InstanceId) => u64::MAX - count_on(removed, i),
            PlacementStrategy::Spread(SpreadField::Attribute(_)) => u64::MAX - spreads[k].tasks_with_value_of(i),
            PlacementStrategy::Random => unreachable!("only the strategies before the first random one rank"),
        }
    };
    // A row of `width` scores per host; with no ranking strategy, one score that ties them all.
    let width = ranked.max(1);
    let mut scores: Vec<u64> = hosts
        .iter()
        .flat_map(|&i| (0..width).map(move |k| (k, i)))
        .map(|(k, i)| if k < ranked { score(&removed, &spreads, k, i) } else { 0 })
        .collect();
    // Per attribute spread, each host's value.
    let host_values: Vec<Vec<Option<usize>>> =
        spreads.iter().map(|tally| hosts.iter().map(|&i| tally.value_of(i)).collect()).collect();
    let mut least: Vec<usize> = Vec::new();
    let mut least_scores: Vec<u64> = Vec::with_capacity(width);
    let mut in_least = vec![false; hosts.len()];
    let mut chosen = Vec::with_capacity(n);
    while chosen.len() < n && !left.is_empty() {
        let running = usize::from(not_running == 0);
        // The hosts whose scores, strategy by strategy, are least.
        least.clear();
        least_scores.clear();
        for (h, (on, row)) in left_on.iter().zip(scores.chunks_exact(width)).enumerate() {
            if on[running] == 0 {
                continue;
            }
            match row.cmp(&least_scores) {
                Ordering::Less if !least.is_empty() => {
                    least_scores.copy_from_slice(row);
                    least.clear();
                    least.push(h);
                }
                Ordering::Equal => least.push(h),
                _ if least.is_empty() => {
                    least_scores.extend_from_slice(row);
                    least.push(h);
                }
                _ => {}
            }
        }
        let pool: usize = least.iter().map(|&h| left_on[h][running]).sum();
        let nth = if pool == 1 { 0 } else { rng.random_range(0..pool) };
        for &h in &least {
            in_least[h] = true;
        }
        let k = left
            .iter()
            .zip(&host_of)
            .enumerate()
            .filter(|(_, (c, h))| usize::from(c.running) == running && in_least[**h])
            .nth(nth)
            .map(|(k, _)| k)
            .expect("the pool counts the tasks left on its hosts");
        for &h in &least {
            in_least[h] = false;
        }
        let victim = left.swap_remove(k);
        let h = host_of.swap_remove(k);
        left_on[h][usize::from(victim.running)] -= 1;
        if !victim.running {
            not_running -= 1;
        }
        let i = victim.instance;
        let tallied = count_on(&removed, i) > 0 && cluster.instances[i].status.is_registered();
        if tallied {
            for tally in &mut spreads {
                tally.remove_one(i);
            }
        }
        removed[i] += 1;
        for (k, strategy) in strategies[..ranked].iter().enumerate() {
            match strategy {
                PlacementStrategy::Spread(SpreadField::InstanceId) => {
                    scores[h * width + k] = score(&removed, &spreads, k, i);
                }
                PlacementStrategy::Spread(SpreadField::Attribute(_)) if tallied => {
                    let tally = &spreads[k];
                    if let Some(v) = tally.value_of(i) {
                        let new = u64::MAX - tally.tasks[v];
                        for (row, &value) in scores.chunks_exact_mut(width).zip(&host_values[k]) {
                            if value == Some(v) {
                                row[k] = new;
                            }
                        }
                    }
                }
                _ => {}
            }
        }
        chosen.push(victim.task);
    }
    chosen
}

/// For a spread on an attribute while choosing tasks to stop: the group's tasks on the
/// registered instances per value of the attribute, and each instance's value.
#[derive(Debug, Default)]
struct AttributeTally {
    /// Per distinct value, the group's tasks.
    tasks: Vec<u64>,
    /// Per instance, its value's index in `tasks`; `None` when no registered instance has it.
    value: Vec<Option<usize>>,
}

impl AttributeTally {
    fn new(cluster: &Cluster, group: TaskGroup, name: &str) -> Self {
        if name == AVAILABILITY_ZONE {
            // An instance's zone is its value: zones are compared by index, each standing for
            // the first zone of its name.
            let zones = &cluster.availability_zones;
            let first_named: Vec<usize> =
                zones.iter().map(|z| zones.iter().position(|x| x == z).unwrap_or(0)).collect();
            AttributeTally::by(cluster, group, |j| first_named[cluster.instances[j].availability_zone])
        } else {
            let of: Vec<Option<&str>> = (0..cluster.instances.len()).map(|j| cluster.attribute(j, name)).collect();
            AttributeTally::by(cluster, group, |j| of[j])
        }
    }

    /// The tally of the values `value_of` gives each instance.
    fn by<V: PartialEq>(cluster: &Cluster, group: TaskGroup, value_of: impl Fn(usize) -> V) -> Self {
        let mut values: Vec<V> = Vec::new();
        let mut tasks = Vec::new();
        for (j, inst) in cluster.instances.iter().enumerate() {
            if !inst.status.is_registered() {
                continue;
            }
            let v = value_of(j);
            let index = values.iter().position(|x| *x == v).unwrap_or_else(|| {
                values.push(v);
                tasks.push(0);
                values.len() - 1
            });
            tasks[index] += u64::from(cluster.group_tasks_on(group, j));
        }
        let value = (0..cluster.instances.len())
            .map(|j| {
                let v = value_of(j);
                values.iter().position(|x| *x == v)
            })
            .collect();
        AttributeTally { tasks, value }
    }

    /// The index in `tasks` of the instance's value, if a registered instance has it.
    fn value_of(&self, instance: usize) -> Option<usize> {
        self.value.get(instance).copied().flatten()
    }

    fn tasks_with_value_of(&self, instance: usize) -> u64 {
        self.value_of(instance).map_or(0, |v| self.tasks[v])
    }

    /// A task of the group on registered instance `instance` is chosen.
    fn remove_one(&mut self, instance: usize) {
        if let Some(Some(v)) = self.value.get(instance).copied() {
            self.tasks[v] -= 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::engine::RngStreams;
    use crate::model::ec2::builtin_instance_types;

    /// Placement as the rules read: every candidate first, then each strategy in turn keeps those
    /// it rates best, the zone spread adding up the group's tasks over the registered instances
    /// afresh. `place` must pick as this does and draw from the placement stream as this does.
    fn place_by_the_rules(
        cluster: &Cluster,
        policy: &mut PlacementPolicy,
        group: TaskGroup,
        req: &TaskRequirements,
        only_asg: Option<usize>,
        rng: &mut SimRng,
    ) -> Result<usize, PlacementFailure> {
        let fits = |inst: &ContainerInstance| {
            let (lo, hi) = inst.dynamic_port_range;
            let statics = &req.static_host_ports;
            let statics_in_range = statics.iter().filter(|&&p| (lo..=hi).contains(&p)).count();
            inst.cpu_available() >= req.cpu
                && inst.memory_available() >= req.memory
                && !statics.iter().any(|&p| inst.port_in_use(p) || DEFAULT_RESERVED_PORTS.contains(&p))
                && (statics.is_empty()
                    || DEFAULT_RESERVED_PORTS.len() + inst.static_ports_in_use + statics.len() <= MAX_RESERVED_PORTS)
                && usize::from(req.dynamic_host_ports) + statics_in_range <= inst.dynamic_ports_free()
                && !(req.needs_eni && inst.enis_available() == 0)
        };
        let mut candidates: Vec<usize> = (0..cluster.instances.len())
            .filter(|&i| {
                let inst = &cluster.instances[i];
                inst.status == InstanceStatus::Active
                    && cluster.admits(i, group)
                    && only_asg.is_none_or(|g| inst.group == g)
                    && fits(inst)
                    && policy.first_unmet(cluster, group, i).is_none()
            })
            .collect();
        if candidates.is_empty() {
            return Err(closest_failure(cluster, policy, group, req, only_asg));
        }
        for strategy in &policy.strategies {
            if candidates.len() == 1 {
                break;
            }
            let score = |i: usize| -> u64 {
                let inst = &cluster.instances[i];
                let same_value = |name: &str| {
                    let value = cluster.attribute(i, name);
                    (0..cluster.instances.len())
                        .filter(|&j| cluster.instances[j].status.is_registered() && cluster.attribute(j, name) == value)
                        .map(|j| u64::from(cluster.group_tasks_on(group, j)))
                        .sum()
                };
                match strategy {
                    PlacementStrategy::Binpack(BinpackField::Cpu) => u64::from(inst.cpu_available() - req.cpu),
                    PlacementStrategy::Binpack(BinpackField::Memory) => u64::from(inst.memory_available() - req.memory),
                    PlacementStrategy::Spread(SpreadField::InstanceId) => u64::from(cluster.group_tasks_on(group, i)),
                    PlacementStrategy::Spread(SpreadField::Attribute(name)) => same_value(name),
                    PlacementStrategy::Random => unreachable!("drawn below"),
                }
            };
            if *strategy == PlacementStrategy::Random {
                let pick = candidates[rng.random_range(0..candidates.len())];
                candidates = vec![pick];
                continue;
            }
            let best = candidates.iter().map(|&i| score(i)).min().unwrap_or(0);
            candidates.retain(|&i| score(i) == best);
        }
        let pick = if candidates.len() == 1 { 0 } else { rng.random_range(0..candidates.len()) };
        Ok(candidates[pick])
    }

    const ZONES: [&str; 3] = ["us-east-1a", "us-east-1b", "us-east-1c"];
    const STATUSES: [InstanceStatus; 5] = [
        InstanceStatus::Launching,
        InstanceStatus::Registering,
        InstanceStatus::Active,
        InstanceStatus::Draining,
        InstanceStatus::Inactive,
    ];

    /// Scale-in as the rules read: for every task chosen, each strategy in turn keeps the
    /// candidates it rates worst to keep, an attribute spread adding up the group's tasks left
    /// per value over the registered instances afresh. `choose_tasks_to_stop` must choose as this
    /// does and draw from the placement stream as this does.
    fn stop_by_the_rules(
        cluster: &Cluster,
        group: TaskGroup,
        strategies: &[PlacementStrategy],
        candidates: &[StopCandidate],
        n: usize,
        rng: &mut SimRng,
    ) -> Vec<usize> {
        let mut left: Vec<StopCandidate> = candidates.to_vec();
        let mut removed: Vec<(usize, u64)> = Vec::new();
        let count_on = |removed: &[(usize, u64)], i: usize| {
            u64::from(cluster.group_tasks_on(group, i))
                .saturating_sub(removed.iter().find(|(r, _)| *r == i).map_or(0, |(_, c)| *c))
        };
        let mut chosen = Vec::new();
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
                    PlacementStrategy::Binpack(BinpackField::Memory) => keep_lowest(&mut pool, &|c| {
                        u64::MAX - u64::from(cluster.instances[c.instance].memory_available())
                    }),
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

    #[derive(Clone, Debug)]
    struct InstanceSpec {
        zone: usize,
        /// Index into `instance_types()`.
        instance_type: usize,
        status: usize,
        asg: usize,
        /// A dynamic port range of three free ports, so that ports run out.
        narrow_ports: bool,
        dedicated_to: Option<TaskGroup>,
        rack: Option<&'static str>,
    }

    #[derive(Clone, Debug)]
    enum Step {
        /// Places a task of the group; `small` picks the requirements, `asg` the only group.
        Place { group: TaskGroup, small: bool, only_asg: Option<usize> },
        /// Stops a task of the group on the instance, if it runs one.
        Stop { group: TaskGroup, instance: usize },
        /// The instance changes status: registers, drains, deregisters.
        Status { instance: usize, status: usize },
    }

    fn instance_types() -> Vec<crate::model::ec2::InstanceType> {
        let mut all = builtin_instance_types();
        ["m5.large", "c5.large"].iter().map(|name| all.remove(*name).expect("a built-in type")).collect()
    }

    fn instance_spec() -> impl Strategy<Value = InstanceSpec> {
        (
            0..ZONES.len(),
            0..2usize,
            prop_oneof![4 => Just(2usize), 1 => 0..STATUSES.len()],
            0..2usize,
            any::<bool>(),
            prop_oneof![6 => Just(None), 1 => (0..2usize).prop_map(Some)],
            prop_oneof![Just(None), Just(Some("a")), Just(Some("b"))],
        )
            .prop_map(|(zone, instance_type, status, asg, narrow_ports, dedicated_to, rack)| InstanceSpec {
                zone,
                instance_type,
                status,
                asg,
                narrow_ports,
                dedicated_to,
                rack,
            })
    }

    fn step(instances: usize) -> impl Strategy<Value = Step> {
        prop_oneof![
            6 => (0..2usize, any::<bool>(), prop_oneof![3 => Just(None), 1 => (0..2usize).prop_map(Some)])
                .prop_map(|(group, small, only_asg)| Step::Place { group, small, only_asg }),
            2 => (0..2usize, 0..instances).prop_map(|(group, instance)| Step::Stop { group, instance }),
            1 => (0..instances, 0..STATUSES.len()).prop_map(|(instance, status)| Step::Status { instance, status }),
        ]
    }

    fn strategy() -> impl Strategy<Value = PlacementStrategy> {
        prop_oneof![
            1 => Just(PlacementStrategy::Binpack(BinpackField::Cpu)),
            1 => Just(PlacementStrategy::Binpack(BinpackField::Memory)),
            1 => Just(PlacementStrategy::Spread(SpreadField::InstanceId)),
            3 => Just(PlacementStrategy::Spread(SpreadField::Attribute(AVAILABILITY_ZONE.into()))),
            1 => Just(PlacementStrategy::Spread(SpreadField::Attribute("rack".into()))),
            1 => Just(PlacementStrategy::Spread(SpreadField::Attribute("ecs.instance-type".into()))),
            1 => Just(PlacementStrategy::Random),
        ]
    }

    fn constraints() -> impl Strategy<Value = Vec<&'static str>> {
        proptest::collection::vec(
            prop_oneof![
                Just("distinctInstance"),
                Just("attribute:ecs.instance-type == m5.large"),
                Just("attribute:rack exists"),
                Just("runningTasksCount < 3"),
                Just("not(task:group == service:b)"),
            ],
            0..3,
        )
    }

    fn policy(constraints: &[&str], strategies: &[PlacementStrategy]) -> PlacementPolicy {
        let constraints = constraints
            .iter()
            .map(|text| match *text {
                "distinctInstance" => PlacementConstraint::DistinctInstance,
                text => PlacementConstraint::MemberOf(Expression::parse(text).expect("a valid expression")),
            })
            .collect();
        PlacementPolicy::new(constraints, strategies.to_vec())
    }

    fn cluster(specs: &[InstanceSpec]) -> Cluster {
        let zones = ZONES.iter().map(|z| z.to_string()).collect();
        let mut cluster = Cluster::new("c".into(), zones, instance_types());
        for name in ["service:a", "service:b"] {
            cluster.task_group(name);
        }
        for (k, spec) in specs.iter().enumerate() {
            // The narrow range holds the agent's reserved ports 51678-51680 and three others.
            let ports = if spec.narrow_ports { (51677, 51682) } else { (32768, 60999) };
            let itype = &cluster.instance_types[spec.instance_type];
            let mut inst =
                ContainerInstance::new(format!("i-{k}"), spec.asg, (spec.instance_type, itype), spec.zone, 0, ports, 0);
            inst.status = STATUSES[spec.status];
            inst.dedicated_to = spec.dedicated_to;
            let attributes = spec.rack.map(|r| ("rack".to_string(), r.to_string())).into_iter().collect();
            cluster.add_instance(inst, attributes);
        }
        cluster
    }

    fn requirements(small: bool) -> TaskRequirements {
        let (cpu, memory) = if small { (256, 512) } else { (1024, 3072) };
        TaskRequirements { cpu, memory, static_host_ports: Vec::new(), dynamic_host_ports: 1, needs_eni: false }
    }

    /// Runs the steps, placing each task both ways, and checks the two agree on every pick and
    /// failure and leave the placement stream in the same state.
    fn agree(
        specs: &[InstanceSpec],
        constraints: &[&str],
        strategies: &[PlacementStrategy],
        steps: &[Step],
    ) -> Result<(), TestCaseError> {
        let mut cluster = cluster(specs);
        let (mut fast, mut rules) = (policy(constraints, strategies), policy(constraints, strategies));
        let mut rng = RngStreams::new(7).stream("placement");
        for step in steps {
            match *step {
                Step::Place { group, small, only_asg } => {
                    let req = requirements(small);
                    let mut rules_rng = rng.clone();
                    let expected = place_by_the_rules(&cluster, &mut rules, group, &req, only_asg, &mut rules_rng);
                    let got = place(&cluster, &mut fast, group, &req, only_asg, &mut rng);
                    prop_assert_eq!(&got, &expected, "placing for group {} after {:?}", group, steps);
                    prop_assert!(rng == rules_rng, "the placement stream was drawn differently");
                    if let Ok(i) = got {
                        let inst = &mut cluster.instances[i];
                        inst.reserved_cpu += req.cpu;
                        inst.reserved_memory += req.memory;
                        inst.allocate_dynamic_port().expect("place promised a dynamic port");
                        inst.tasks.push(group);
                        cluster.add_group_task(group, i);
                    }
                }
                Step::Stop { group, instance } => {
                    let inst = &mut cluster.instances[instance];
                    if let Some(k) = inst.tasks.iter().position(|&g| g == group) {
                        inst.tasks.remove(k);
                        cluster.remove_group_task(group, instance);
                    }
                }
                Step::Status { instance, status } => cluster.instances[instance].status = STATUSES[status],
            }
        }
        // Then each group scales in by about half, twice, from the tasks the steps left: the
        // counts kept up to date while choosing must match counting afresh for each task.
        for group in 0..2 {
            let candidates: Vec<StopCandidate> = cluster
                .instances
                .iter()
                .enumerate()
                .flat_map(|(i, inst)| inst.tasks.iter().filter(move |&&g| g == group).map(move |_| i))
                .enumerate()
                .map(|(task, instance)| StopCandidate { task, instance, running: task % 3 != 0 })
                .collect();
            for n in [candidates.len() / 2 + 1, candidates.len()] {
                let mut rules_rng = rng.clone();
                let expected = stop_by_the_rules(&cluster, group, strategies, &candidates, n, &mut rules_rng);
                let got = choose_tasks_to_stop(&cluster, group, strategies, &candidates, n, &mut rng);
                prop_assert_eq!(&got, &expected, "scaling group {} in by {} after {:?}", group, n, steps);
                prop_assert!(rng == rules_rng, "the placement stream was drawn differently");
            }
        }
        Ok(())
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

        /// The one-pass placement picks what ranking every candidate strategy by strategy picks,
        /// with the same draws, through registrations and deregistrations of instances that run
        /// the group's tasks; and scale-in chooses as the rules do.
        #[test]
        fn one_pass_placement_picks_as_the_rules_do(
            (specs, steps) in proptest::collection::vec(instance_spec(), 1..10)
                .prop_flat_map(|specs| {
                    let n = specs.len();
                    (Just(specs), proptest::collection::vec(step(n), 1..60))
                }),
            constraints in constraints(),
            strategies in proptest::collection::vec(strategy(), 0..4),
        ) {
            agree(&specs, &constraints, &strategies, &steps)?;
        }
    }

    /// The service scheduler's default on a larger cluster, where every zone ties now and then
    /// and a zone's instance deregisters with tasks on it.
    #[test]
    fn zone_spread_counts_only_registered_instances() {
        let specs: Vec<InstanceSpec> = (0..30)
            .map(|k| InstanceSpec {
                zone: k % ZONES.len(),
                instance_type: 0,
                status: 2,
                asg: 0,
                narrow_ports: false,
                dedicated_to: None,
                rack: None,
            })
            .collect();
        let mut steps = vec![Step::Place { group: 0, small: true, only_asg: None }; 40];
        steps.push(Step::Status { instance: 0, status: 4 });
        steps.push(Step::Status { instance: 3, status: 3 });
        steps.extend(vec![Step::Place { group: 0, small: true, only_asg: None }; 20]);
        steps.push(Step::Status { instance: 0, status: 2 });
        steps.extend(vec![Step::Place { group: 0, small: true, only_asg: None }; 20]);
        agree(&specs, &[], &PlacementStrategy::service_default(), &steps).expect("the same picks");
    }
}
