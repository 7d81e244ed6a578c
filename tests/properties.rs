//! Property tests: what must hold for every cluster, task and scenario, not just the examples.
//!
//! 1. Placement (`place`), on random clusters and tasks, placed over and over the way the
//!    simulator applies a placement: no instance gives out more CPU, memory, ENIs or host ports
//!    than it has, nothing lands on a non-ACTIVE instance, constraints and the strategies' order
//!    are honoured, and every failure's reason is true of the closest instance it names.
//! 2. Simulation (`simulate`), on random scenarios written as TOML: every scenario the generator
//!    writes validates; the run's own accounting holds after every event (debug builds check it);
//!    the event log, time series and summary agree with each other; runs are byte-for-byte
//!    deterministic.
//! 3. Parsing: mutated copies of `scenarios/quickstart.toml` are accepted or refused with a
//!    message located in the file, never with a panic.
//!
//! Failures are not persisted to files (`failure_persistence: None`): proptest prints the
//! minimal failing input instead.

use std::collections::{BTreeMap, BTreeSet};

use ecsim::engine::{MINUTE, RngStreams, SECOND};
use ecsim::model::cluster::{Cluster, TaskGroup};
use ecsim::model::cluster_query::Expression;
use ecsim::model::ec2::{
    ContainerInstance, DEFAULT_DYNAMIC_HOST_PORT_RANGE, DEFAULT_RESERVED_PORTS, InstanceStatus, InstanceType,
    MAX_RESERVED_PORTS, builtin_instance_types,
};
use ecsim::model::placement::{
    BinpackField, PlacementConstraint, PlacementFailure, PlacementPolicy, PlacementStrategy, SpreadField, place,
};
use ecsim::model::task_definition::TaskRequirements;
use ecsim::model::{InvariantViolation, simulate_into};
use ecsim::output::{events_csv, summary_csv, timeseries_csv};
use ecsim::record::{EventKind, EventRecord, Recorder, RunResult, ServiceSample};
use ecsim::{Scenario, simulate};
use proptest::prelude::*;
use proptest::sample::{Index, subsequence};
use proptest::test_runner::TestCaseError;

/// Cases per property, for about 5 s of a debug `cargo test` on one core (0.7, 5 and 0.6 ms a
/// case; a simulation case runs three simulations).
const PLACEMENT_CASES: u32 = 2000;
const SIMULATION_CASES: u32 = 768;
const PARSING_CASES: u32 = 2000;

fn config(cases: u32) -> ProptestConfig {
    ProptestConfig { cases, failure_persistence: None, ..ProptestConfig::default() }
}

const AZ_NAMES: [&str; 3] = ["us-east-1a", "us-east-1b", "us-east-1c"];

fn instance_types() -> Vec<InstanceType> {
    builtin_instance_types().into_values().collect()
}

const TYPE_COUNT: usize = 18;

// ================================================================================================
// 1. Placement
// ================================================================================================

/// Tasks of another group already on the instances before the test's task is placed, so that
/// instances start part-full, DRAINING ones hold tasks and static ports collide.
const BACKGROUND: [(u32, u32, &[u16], u16, bool); 4] = [
    (512, 1024, &[80], 0, false),
    (256, 256, &[], 1, false),
    (256, 512, &[], 0, true),
    (128, 128, &[443, 8080], 0, false),
];

fn background_requirements(k: usize) -> TaskRequirements {
    let (cpu, memory, statics, dynamic, eni) = BACKGROUND[k];
    TaskRequirements { cpu, memory, static_host_ports: statics.to_vec(), dynamic_host_ports: dynamic, needs_eni: eni }
}

#[derive(Clone, Debug)]
struct InstanceSpec {
    type_index: usize,
    /// Taken modulo the number of AZs.
    az: usize,
    draining: bool,
    reserved_memory: u32,
    port_range: (u16, u16),
    background: Vec<usize>,
}

/// A `memberOf` expression; instance and AZ numbers are taken modulo what the cluster has.
#[derive(Clone, Debug)]
enum MemberSpec {
    TypeOf(usize),
    TypeOfEither(usize, usize),
    Az(usize),
    NotAz(usize),
    RunningTasksBelow(u32),
}

#[derive(Clone, Debug)]
enum ConstraintSpec {
    Distinct,
    MemberOf(MemberSpec),
}

#[derive(Clone, Debug)]
struct PlacementCase {
    azs: usize,
    instances: Vec<InstanceSpec>,
    req: TaskRequirements,
    strategies: Vec<PlacementStrategy>,
    constraints: Vec<ConstraintSpec>,
    seed: u64,
}

fn port_range() -> impl Strategy<Value = (u16, u16)> {
    // Small ranges make the dynamic range run out; the ones around 8080 hold a static port.
    // None reaches the reserved agent ports 51678-51680 within 200 tasks (see
    // `dynamic_host_ports_never_include_the_reserved_agent_ports`).
    prop_oneof![
        3 => Just(DEFAULT_DYNAMIC_HOST_PORT_RANGE),
        1 => (0u16..8).prop_map(|k| (40000, 40000 + k)),
        1 => (0u16..6, 0u16..6).prop_map(|(below, k)| (8080 - below, 8080 - below + k)),
    ]
}

fn instance_spec() -> impl Strategy<Value = InstanceSpec> {
    (
        0..TYPE_COUNT,
        0..3usize,
        prop::bool::weighted(0.25),
        prop_oneof![3 => Just(0u32), 1 => 0..=1024u32],
        port_range(),
        prop::collection::vec(0..BACKGROUND.len(), 0..=2),
    )
        .prop_map(|(type_index, az, draining, reserved_memory, port_range, background)| InstanceSpec {
            type_index,
            az,
            draining,
            reserved_memory,
            port_range,
            background,
        })
}

fn requirements() -> impl Strategy<Value = TaskRequirements> {
    let cpu = prop_oneof![Just(0u32), 1..=512u32, 0..=4096u32];
    let memory = prop_oneof![6..=1024u32, 6..=16384u32];
    // Sorted and distinct, as a validated task definition gives them; 22 is a reserved port.
    let statics = prop_oneof![
        9 => subsequence(vec![80u16, 443, 8080], 0..=3),
        1 => subsequence(vec![22u16, 80, 443, 8080], 1..=3),
    ];
    (cpu, memory, 0..3u8, statics, 0..=3u16).prop_map(|(cpu, memory, network, statics, dynamic)| match network {
        // bridge
        0 => {
            TaskRequirements { cpu, memory, static_host_ports: statics, dynamic_host_ports: dynamic, needs_eni: false }
        }
        // host: every port is static
        1 => TaskRequirements { cpu, memory, static_host_ports: statics, dynamic_host_ports: 0, needs_eni: false },
        // awsvpc: no host ports, one ENI
        _ => TaskRequirements { cpu, memory, static_host_ports: vec![], dynamic_host_ports: 0, needs_eni: true },
    })
}

fn placement_strategy() -> impl Strategy<Value = PlacementStrategy> {
    prop_oneof![
        Just(PlacementStrategy::Binpack(BinpackField::Cpu)),
        Just(PlacementStrategy::Binpack(BinpackField::Memory)),
        Just(PlacementStrategy::Spread(SpreadField::InstanceId)),
        Just(PlacementStrategy::Spread(SpreadField::Attribute("ecs.availability-zone".into()))),
        Just(PlacementStrategy::Spread(SpreadField::Attribute("ecs.instance-type".into()))),
        Just(PlacementStrategy::Random),
    ]
}

fn constraint_spec() -> impl Strategy<Value = ConstraintSpec> {
    prop_oneof![
        2 => Just(ConstraintSpec::Distinct),
        1 => any::<usize>().prop_map(|k| ConstraintSpec::MemberOf(MemberSpec::TypeOf(k))),
        1 => (any::<usize>(), any::<usize>())
            .prop_map(|(a, b)| ConstraintSpec::MemberOf(MemberSpec::TypeOfEither(a, b))),
        1 => any::<usize>().prop_map(|k| ConstraintSpec::MemberOf(MemberSpec::Az(k))),
        1 => any::<usize>().prop_map(|k| ConstraintSpec::MemberOf(MemberSpec::NotAz(k))),
        1 => (1u32..8).prop_map(|k| ConstraintSpec::MemberOf(MemberSpec::RunningTasksBelow(k))),
    ]
}

fn placement_case() -> impl Strategy<Value = PlacementCase> {
    (
        1..=3usize,
        prop::collection::vec(instance_spec(), 1..=40),
        requirements(),
        prop::collection::vec(placement_strategy(), 0..=4),
        prop::collection::vec(constraint_spec(), 0..=2),
        any::<u64>(),
    )
        .prop_map(|(azs, instances, req, strategies, constraints, seed)| PlacementCase {
            azs,
            instances,
            req,
            strategies,
            constraints,
            seed,
        })
}

/// A `memberOf` expression with names resolved, evaluated here without the query language.
#[derive(Clone, Debug)]
enum Member {
    TypeIn(Vec<String>),
    Az(String),
    NotAz(String),
    RunningTasksBelow(u32),
}

impl Member {
    fn text(&self) -> String {
        match self {
            Member::TypeIn(types) if types.len() == 1 => format!("attribute:ecs.instance-type == {}", types[0]),
            Member::TypeIn(types) => format!("attribute:ecs.instance-type in [{}]", types.join(", ")),
            Member::Az(az) => format!("attribute:ecs.availability-zone == {az}"),
            Member::NotAz(az) => format!("attribute:ecs.availability-zone != {az}"),
            Member::RunningTasksBelow(k) => format!("runningTasksCount < {k}"),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Diagnosis {
    shortfall: Option<usize>,
    unmet: Option<usize>,
}

impl Diagnosis {
    fn fits(self) -> bool {
        self.shortfall.is_none() && self.unmet.is_none()
    }

    /// How close the instance came, as `closest_failure` in placement.rs defines it: instances
    /// that meet every constraint rank above those that do not; then the later the resource
    /// check that fails, the closer; an instance lacking no resource but failing a constraint is
    /// the closest of those failing constraints.
    fn closeness(self) -> (bool, usize) {
        (self.unmet.is_none(), self.shortfall.unwrap_or(4))
    }
}

#[derive(Clone, Debug)]
enum Constraint {
    Distinct,
    MemberOf(Member),
}

/// What the test knows of the cluster independently of the library's counters: every task it
/// put on each instance and the ports each holds.
struct Ledger {
    cpu: Vec<u32>,
    memory: Vec<u32>,
    enis: Vec<u32>,
    /// Host ports held by the instance's tasks, one entry per task port (duplicates would be a bug).
    ports: Vec<Vec<u16>>,
    statics: Vec<usize>,
    /// Tasks of the test's group per instance.
    ours: Vec<u32>,
    /// All tasks per instance.
    tasks: Vec<u32>,
    next_task: usize,
}

struct PlacementWorld {
    cluster: Cluster,
    ledger: Ledger,
    group: TaskGroup,
    constraints: Vec<Constraint>,
}

impl PlacementWorld {
    fn build(case: &PlacementCase) -> Self {
        let types = instance_types();
        let azs: Vec<String> = AZ_NAMES[..case.azs].iter().map(|s| s.to_string()).collect();
        let mut cluster = Cluster::new("props".into(), azs.clone(), types.clone());
        let group = cluster.task_group("service:web");
        let other = cluster.task_group("service:other");
        let n = case.instances.len();
        let ledger = Ledger {
            cpu: vec![0; n],
            memory: vec![0; n],
            enis: vec![0; n],
            ports: vec![Vec::new(); n],
            statics: vec![0; n],
            ours: vec![0; n],
            tasks: vec![0; n],
            next_task: 0,
        };
        for (k, spec) in case.instances.iter().enumerate() {
            let t = spec.type_index;
            let mut inst = ContainerInstance::new(
                format!("i-{k:02}"),
                0,
                (t, &types[t]),
                spec.az % case.azs,
                spec.reserved_memory,
                spec.port_range,
                0,
            );
            inst.status = InstanceStatus::Active;
            inst.registered_at = Some(0);
            cluster.add_instance(inst, BTreeMap::new());
        }
        let mut world = PlacementWorld { cluster, ledger, group, constraints: Vec::new() };
        for (k, spec) in case.instances.iter().enumerate() {
            for &b in &spec.background {
                let req = background_requirements(b);
                if world.diagnose(k, &req, &[]).fits() {
                    world.launch(other, k, &req);
                }
            }
        }
        for (k, spec) in case.instances.iter().enumerate() {
            if spec.draining {
                world.cluster.instances[k].status = InstanceStatus::Draining;
            }
        }
        let type_of = |i: usize| world.cluster.instance_type_of(i % n).name.clone();
        world.constraints = case
            .constraints
            .iter()
            .map(|c| match c {
                ConstraintSpec::Distinct => Constraint::Distinct,
                ConstraintSpec::MemberOf(m) => Constraint::MemberOf(match *m {
                    MemberSpec::TypeOf(i) => Member::TypeIn(vec![type_of(i)]),
                    MemberSpec::TypeOfEither(a, b) => Member::TypeIn(vec![type_of(a), type_of(b)]),
                    MemberSpec::Az(z) => Member::Az(azs[z % azs.len()].clone()),
                    MemberSpec::NotAz(z) => Member::NotAz(azs[z % azs.len()].clone()),
                    MemberSpec::RunningTasksBelow(k) => Member::RunningTasksBelow(k),
                }),
            })
            .collect();
        world
    }

    fn policy(&self, strategies: &[PlacementStrategy]) -> PlacementPolicy {
        let constraints = self
            .constraints
            .iter()
            .map(|c| match c {
                Constraint::Distinct => PlacementConstraint::DistinctInstance,
                Constraint::MemberOf(m) => PlacementConstraint::MemberOf(
                    Expression::parse(&m.text()).unwrap_or_else(|e| panic!("{}: {e}", m.text())),
                ),
            })
            .collect();
        PlacementPolicy::new(constraints, strategies.to_vec())
    }

    fn member_holds(&self, m: &Member, i: usize) -> bool {
        match m {
            Member::TypeIn(types) => types.contains(&self.cluster.instance_type_of(i).name),
            Member::Az(az) => self.cluster.availability_zone_of(i) == az,
            Member::NotAz(az) => self.cluster.availability_zone_of(i) != az,
            Member::RunningTasksBelow(k) => self.ledger.tasks[i] < *k,
        }
    }

    /// Why instance `i` cannot take `req`: the first resource check it fails (0 CPU, 1 memory,
    /// 2 ports, 3 ENI) and the first constraint it does not meet. Both `None`: the task fits.
    fn diagnose(&self, i: usize, req: &TaskRequirements, constraints: &[Constraint]) -> Diagnosis {
        let inst = &self.cluster.instances[i];
        let l = &self.ledger;
        let shortfall = if l.cpu[i] + req.cpu > inst.registered_cpu {
            Some(0)
        } else if l.memory[i] + req.memory > inst.registered_memory {
            Some(1)
        } else if !self.ports_fit(i, req) {
            Some(2)
        } else if req.needs_eni && l.enis[i] + 1 > inst.max_enis - 1 {
            Some(3)
        } else {
            None
        };
        let unmet = constraints.iter().position(|c| match c {
            Constraint::Distinct => l.ours[i] > 0,
            Constraint::MemberOf(m) => !self.member_holds(m, i),
        });
        Diagnosis { shortfall, unmet }
    }

    /// ECS-DG:task_definition_parameters.md: a static host port must be free and not reserved;
    /// at most 100 reserved ports (the 6 defaults and every static one); dynamic ports come from
    /// the range, where static ports also take room.
    fn ports_fit(&self, i: usize, req: &TaskRequirements) -> bool {
        let held = &self.ledger.ports[i];
        let statics = &req.static_host_ports;
        if statics.iter().any(|p| held.contains(p) || DEFAULT_RESERVED_PORTS.contains(p)) {
            return false;
        }
        if !statics.is_empty()
            && DEFAULT_RESERVED_PORTS.len() + self.ledger.statics[i] + statics.len() > MAX_RESERVED_PORTS
        {
            return false;
        }
        let (lo, hi) = self.cluster.instances[i].dynamic_port_range;
        let in_range = |p: &&u16| (lo..=hi).contains(*p);
        let free = usize::from(hi - lo) + 1 - held.iter().filter(in_range).count();
        usize::from(req.dynamic_host_ports) + statics.iter().filter(in_range).count() <= free
    }

    /// Puts a task on instance `i` exactly as the simulator's `launch_task` does.
    fn launch(&mut self, group: TaskGroup, i: usize, req: &TaskRequirements) -> Vec<u16> {
        let task = self.ledger.next_task;
        self.ledger.next_task += 1;
        let inst = &mut self.cluster.instances[i];
        inst.reserved_cpu += req.cpu;
        inst.reserved_memory += req.memory;
        if req.needs_eni {
            inst.enis_in_use += 1;
        }
        let mut ports = Vec::new();
        for &p in &req.static_host_ports {
            inst.take_port(p);
            ports.push(p);
        }
        inst.static_ports_in_use += req.static_host_ports.len();
        for _ in 0..req.dynamic_host_ports {
            let p = inst.allocate_dynamic_port();
            ports.push(p.unwrap_or_else(|| panic!("{}: placement promised a dynamic port but none is left", inst.id)));
        }
        inst.tasks.push(task);
        self.cluster.add_group_task(group, i);
        let l = &mut self.ledger;
        l.cpu[i] += req.cpu;
        l.memory[i] += req.memory;
        l.enis[i] += u32::from(req.needs_eni);
        l.ports[i].extend_from_slice(&ports);
        l.statics[i] += req.static_host_ports.len();
        l.ours[i] += u32::from(group == self.group);
        l.tasks[i] += 1;
        ports
    }

    /// No instance holds more than it registered, and its port table is exactly its tasks' ports.
    fn check_accounting(&self) -> Result<(), TestCaseError> {
        for (i, inst) in self.cluster.instances.iter().enumerate() {
            let l = &self.ledger;
            let id = &inst.id;
            prop_assert_eq!(
                (inst.reserved_cpu, inst.reserved_memory, inst.enis_in_use),
                (l.cpu[i], l.memory[i], l.enis[i])
            );
            prop_assert!(l.cpu[i] <= inst.registered_cpu, "{id}: cpu {}/{}", l.cpu[i], inst.registered_cpu);
            prop_assert!(
                l.memory[i] <= inst.registered_memory,
                "{id}: memory {}/{}",
                l.memory[i],
                inst.registered_memory
            );
            prop_assert!(l.enis[i] < inst.max_enis, "{id}: {} task ENIs with max_enis {}", l.enis[i], inst.max_enis);
            let mut held = l.ports[i].clone();
            held.sort_unstable();
            if let Some(w) = held.windows(2).find(|w| w[0] == w[1]) {
                prop_assert!(false, "{id}: host port {} held twice", w[0]);
            }
            prop_assert_eq!(&held, &inst.ports_in_use, "{}: port table", id);
            prop_assert_eq!(l.statics[i], inst.static_ports_in_use);
            prop_assert!(
                DEFAULT_RESERVED_PORTS.len() + l.statics[i] <= MAX_RESERVED_PORTS,
                "{id}: too many static ports"
            );
            prop_assert_eq!(self.cluster.group_tasks_on(self.group, i), l.ours[i]);
        }
        Ok(())
    }

    fn active(&self, i: usize) -> bool {
        self.cluster.instances[i].status == InstanceStatus::Active
    }

    /// The candidates each strategy in turn would keep (ECS-DG:task-placement-strategies.md), as
    /// far as it can be foreseen: a `random` strategy ends the chain.
    fn expected_picks(&self, req: &TaskRequirements, strategies: &[PlacementStrategy], fits: &[usize]) -> Vec<usize> {
        let mut pool = fits.to_vec();
        for strategy in strategies {
            if pool.len() <= 1 || *strategy == PlacementStrategy::Random {
                break;
            }
            let l = &self.ledger;
            let score = |i: usize| -> u64 {
                let inst = &self.cluster.instances[i];
                match strategy {
                    PlacementStrategy::Binpack(BinpackField::Cpu) => {
                        u64::from(inst.registered_cpu - l.cpu[i] - req.cpu)
                    }
                    PlacementStrategy::Binpack(BinpackField::Memory) => {
                        u64::from(inst.registered_memory - l.memory[i] - req.memory)
                    }
                    PlacementStrategy::Spread(SpreadField::InstanceId) => u64::from(l.ours[i]),
                    PlacementStrategy::Spread(SpreadField::Attribute(name)) => (0..self.cluster.instances.len())
                        .filter(|&j| self.cluster.instances[j].status.is_registered())
                        .filter(|&j| self.cluster.attribute(j, name) == self.cluster.attribute(i, name))
                        .map(|j| u64::from(l.ours[j]))
                        .sum(),
                    PlacementStrategy::Random => unreachable!("a random strategy ends the chain"),
                }
            };
            let best = pool.iter().map(|&i| score(i)).min().unwrap_or(0);
            pool.retain(|&i| score(i) == best);
        }
        pool
    }
}

fn run_placement_case(case: &PlacementCase) -> Result<(), TestCaseError> {
    let mut world = PlacementWorld::build(case);
    world.check_accounting()?;
    let mut policy = world.policy(&case.strategies);
    let mut rng = RngStreams::new(case.seed).stream("placement");
    let req = &case.req;
    let n = world.cluster.instances.len();
    let distinct = world.constraints.iter().any(|c| matches!(c, Constraint::Distinct));
    for step in 0..200 {
        let diagnoses: Vec<Diagnosis> = (0..n).map(|i| world.diagnose(i, req, &world.constraints)).collect();
        let fits: Vec<usize> = (0..n).filter(|&i| world.active(i) && diagnoses[i].fits()).collect();
        match place(&world.cluster, &mut policy, world.group, req, None, &mut rng) {
            Ok(i) => {
                let status = world.cluster.instances[i].status;
                prop_assert!(world.active(i), "step {step}: placed on instance {i}, which is {status:?}");
                prop_assert!(diagnoses[i].fits(), "step {step}: placed on instance {i}: {:?}", diagnoses[i]);
                let best = world.expected_picks(req, &case.strategies, &fits);
                prop_assert!(
                    best.contains(&i),
                    "step {step}: picked {i}; strategies {:?} keep {best:?}",
                    case.strategies
                );
                let ports = world.launch(world.group, i, req);
                let reserved: Vec<u16> = ports.iter().copied().filter(|p| DEFAULT_RESERVED_PORTS.contains(p)).collect();
                prop_assert!(reserved.is_empty(), "step {step}: the task got reserved host ports {reserved:?}");
                world.check_accounting()?;
                if distinct {
                    prop_assert!(world.ledger.ours.iter().all(|&c| c <= 1), "step {step}: distinctInstance broken");
                }
            }
            Err(failure) => {
                prop_assert!(fits.is_empty(), "step {step}: {failure:?} although instances {fits:?} fit");
                let any_active = (0..n).any(|i| world.active(i));
                let Some(closest) = failure.closest() else {
                    prop_assert!(!any_active, "step {step}: NoInstances with an ACTIVE instance");
                    return Ok(());
                };
                prop_assert!(any_active, "step {step}: {failure:?} with no ACTIVE instance");
                prop_assert!(world.active(closest), "step {step}: {failure:?} names a non-ACTIVE instance");
                let d = diagnoses[closest];
                let unmet = d.unmet.map(|c| &world.constraints[c]);
                let reason_is_true = match &failure {
                    PlacementFailure::Cpu { .. } => d.shortfall == Some(0),
                    PlacementFailure::Memory { .. } => d.shortfall == Some(1),
                    PlacementFailure::Ports { .. } => d.shortfall == Some(2),
                    PlacementFailure::Eni { .. } => d.shortfall == Some(3),
                    PlacementFailure::DistinctInstance { .. } => {
                        d.shortfall.is_none() && matches!(unmet, Some(Constraint::Distinct))
                    }
                    PlacementFailure::MemberOf { expression, .. } => {
                        d.shortfall.is_none()
                            && matches!(unmet, Some(Constraint::MemberOf(m)) if m.text() == *expression)
                    }
                    PlacementFailure::NoInstances => unreachable!("has no closest instance"),
                };
                prop_assert!(reason_is_true, "step {step}: {failure:?}, but instance {closest} is {d:?}");
                let best = (0..n).filter(|&i| world.active(i)).map(|i| diagnoses[i].closeness()).max();
                prop_assert_eq!(Some(d.closeness()), best, "step {}: {:?} names a farther instance", step, failure);
                return Ok(());
            }
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(config(PLACEMENT_CASES))]

    #[test]
    fn placement_never_overcommits_and_every_failure_reason_is_true(case in placement_case()) {
        run_placement_case(&case)?;
    }
}

/// ECS reserves ports 22, 2375, 2376 and 51678-51680 on every instance (`DEFAULT_RESERVED_PORTS`;
/// ECS-DG:task_definition_parameters.md), and 51678-51680 lie inside the default dynamic range
/// 32768-60999. A dynamic host port must never be one of them. An agent configured with the
/// range 51670-51690 shows it within a few tasks; with the default range it happens after
/// 18,910 dynamic ports have been handed out on one instance.
#[test]
fn dynamic_host_ports_never_include_the_reserved_agent_ports() {
    let types = instance_types();
    let mut cluster = Cluster::new("c".into(), vec![AZ_NAMES[0].into()], types.clone());
    let group = cluster.task_group("service:web");
    let mut inst = ContainerInstance::new("i-1".into(), 0, (0, &types[0]), 0, 0, (51670, 51690), 0);
    inst.status = InstanceStatus::Active;
    cluster.add_instance(inst, BTreeMap::new());
    let req =
        TaskRequirements { cpu: 0, memory: 6, static_host_ports: vec![], dynamic_host_ports: 1, needs_eni: false };
    let mut policy = PlacementPolicy::new(vec![], vec![]);
    let mut rng = RngStreams::new(1).stream("placement");
    let mut given = Vec::new();
    while let Ok(i) = place(&cluster, &mut policy, group, &req, None, &mut rng) {
        let port = cluster.instances[i].allocate_dynamic_port().expect("place promised a free dynamic port");
        cluster.add_group_task(group, i);
        given.push(port);
    }
    let reserved: Vec<u16> = given.iter().copied().filter(|p| DEFAULT_RESERVED_PORTS.contains(p)).collect();
    assert!(reserved.is_empty(), "dynamic host ports {reserved:?} are reserved ports; all given: {given:?}");
}

// ================================================================================================
// 2. Simulation
// ================================================================================================

/// Ports the generated task definitions map; shared between services so that they collide.
const SIM_PORTS: [u16; 4] = [80, 443, 8080, 9090];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Net {
    Bridge,
    Host,
    Awsvpc,
}

#[derive(Clone, Debug)]
struct GroupSpec {
    type_index: usize,
    capacity: u32,
    boot_at_start: bool,
    /// Bit k: the group uses AZ k (taken modulo the cluster's AZs; no bit left → all AZs).
    zone_mask: u8,
    /// A custom attribute `pool = "<group name>"`, for memberOf and spread.
    pool_attribute: bool,
    /// A short dynamic port range (40000..=40000+k), so that dynamic ports run out.
    short_port_range: Option<u16>,
    reserved_memory: Option<u32>,
}

#[derive(Clone, Debug)]
struct PortSpec {
    port: usize,
    dynamic: bool,
    write_host_port: bool,
}

#[derive(Clone, Debug)]
struct ContainerSpec {
    cpu: u32,
    memory: u32,
    /// 0 `memory`, 1 `memory_reservation`, 2 both, 3 neither (needs task-level memory).
    memory_kind: u8,
    hard_above_soft: u32,
    essential: bool,
    image: usize,
    ports: Vec<PortSpec>,
}

#[derive(Clone, Debug)]
struct TaskDefSpec {
    net: Net,
    cpu: Option<u32>,
    memory: Option<u32>,
    stop_timeout_s: Option<u32>,
    shutdown_s: Option<u32>,
    containers: Vec<ContainerSpec>,
}

/// A constraint of a generated service; numbers are taken modulo the groups or AZs.
#[derive(Clone, Debug)]
enum SimConstraint {
    Distinct,
    TypeOfGroup(usize),
    Az(usize),
    NotAz(usize),
    Pool(usize),
    RunningTasksBelow(u32),
}

#[derive(Clone, Copy, Debug)]
enum SimStrategy {
    BinpackCpu,
    BinpackMemory,
    SpreadInstanceId,
    SpreadHost,
    SpreadAz,
    SpreadType,
    SpreadPool,
    Random,
}

#[derive(Clone, Debug)]
struct ServiceSpec {
    task_definition: usize,
    daemon: bool,
    desired: u32,
    strategies: Option<Vec<SimStrategy>>,
    constraints: Vec<SimConstraint>,
    deployment: Option<(Option<u32>, Option<u32>)>,
}

/// Service and instance numbers are taken modulo what the scenario has.
#[derive(Clone, Debug)]
enum ActionSpec {
    SetDesiredCount(usize, u32),
    StopTasks(usize, u32),
    Drain(usize),
    Activate(usize),
    Terminate(usize),
}

#[derive(Clone, Debug)]
struct ScenarioSpec {
    seed: u64,
    duration_s: u64,
    azs: usize,
    groups: Vec<GroupSpec>,
    task_definitions: Vec<TaskDefSpec>,
    services: Vec<ServiceSpec>,
    /// (time in thousandths of the duration, action)
    actions: Vec<(u64, ActionSpec)>,
}

fn group_spec() -> impl Strategy<Value = GroupSpec> {
    (
        0..TYPE_COUNT,
        1..=8u32,
        any::<bool>(),
        0..8u8,
        any::<bool>(),
        prop::option::weighted(0.2, 0..4u16),
        prop::option::weighted(0.2, 0..=512u32),
    )
        .prop_map(
            |(type_index, capacity, boot_at_start, zone_mask, pool_attribute, short_port_range, reserved_memory)| {
                GroupSpec {
                    type_index,
                    capacity,
                    boot_at_start,
                    zone_mask,
                    pool_attribute,
                    short_port_range,
                    reserved_memory,
                }
            },
        )
}

fn container_spec() -> impl Strategy<Value = ContainerSpec> {
    let port = (0..SIM_PORTS.len(), any::<bool>(), any::<bool>())
        .prop_map(|(port, dynamic, write_host_port)| PortSpec { port, dynamic, write_host_port });
    (
        prop_oneof![2 => Just(0u32), 3 => 0..=512u32, 1 => 0..=2048u32],
        prop_oneof![4 => 6..=512u32, 1 => 6..=4096u32],
        0..4u8,
        1..=512u32,
        prop::bool::weighted(0.8),
        0..3usize,
        prop::collection::vec(port, 0..=2),
    )
        .prop_map(|(cpu, memory, memory_kind, hard_above_soft, essential, image, ports)| ContainerSpec {
            cpu,
            memory,
            memory_kind,
            hard_above_soft,
            essential,
            image,
            ports,
        })
}

fn task_def_spec() -> impl Strategy<Value = TaskDefSpec> {
    (
        prop_oneof![2 => Just(Net::Bridge), 1 => Just(Net::Host), 1 => Just(Net::Awsvpc)],
        prop::option::weighted(0.3, prop_oneof![3 => 128..=1024u32, 1 => 128..=4096u32]),
        prop::option::weighted(0.3, prop_oneof![3 => 6..=1024u32, 1 => 6..=4096u32]),
        prop::option::weighted(0.2, 1..=60u32),
        prop::option::weighted(0.3, 0..=90u32),
        prop::collection::vec(container_spec(), 1..=2),
    )
        .prop_map(|(net, cpu, memory, stop_timeout_s, shutdown_s, containers)| TaskDefSpec {
            net,
            cpu,
            memory,
            stop_timeout_s,
            shutdown_s,
            containers,
        })
}

fn sim_constraint() -> impl Strategy<Value = SimConstraint> {
    prop_oneof![
        3 => Just(SimConstraint::Distinct),
        1 => any::<usize>().prop_map(SimConstraint::TypeOfGroup),
        1 => any::<usize>().prop_map(SimConstraint::Az),
        1 => any::<usize>().prop_map(SimConstraint::NotAz),
        1 => any::<usize>().prop_map(SimConstraint::Pool),
        1 => (1..6u32).prop_map(SimConstraint::RunningTasksBelow),
    ]
}

fn sim_strategy() -> impl Strategy<Value = SimStrategy> {
    prop_oneof![
        Just(SimStrategy::BinpackCpu),
        Just(SimStrategy::BinpackMemory),
        Just(SimStrategy::SpreadInstanceId),
        Just(SimStrategy::SpreadHost),
        Just(SimStrategy::SpreadAz),
        Just(SimStrategy::SpreadType),
        Just(SimStrategy::SpreadPool),
        Just(SimStrategy::Random),
    ]
}

fn service_spec() -> impl Strategy<Value = ServiceSpec> {
    (
        any::<usize>(),
        prop::bool::weighted(0.2),
        0..=15u32,
        prop::option::weighted(0.6, prop::collection::vec(sim_strategy(), 0..=4)),
        prop::collection::vec(sim_constraint(), 0..=2),
        prop::option::weighted(0.5, (prop::option::of(0..=100u32), prop::option::of(1..=200u32))),
    )
        .prop_map(|(task_definition, daemon, desired, strategies, constraints, deployment)| ServiceSpec {
            task_definition,
            daemon,
            desired,
            strategies,
            constraints,
            deployment,
        })
}

fn action_spec() -> impl Strategy<Value = ActionSpec> {
    prop_oneof![
        3 => (any::<usize>(), 0..=15u32).prop_map(|(s, n)| ActionSpec::SetDesiredCount(s, n)),
        2 => (any::<usize>(), 0..=5u32).prop_map(|(s, n)| ActionSpec::StopTasks(s, n)),
        2 => any::<usize>().prop_map(ActionSpec::Drain),
        1 => any::<usize>().prop_map(ActionSpec::Activate),
        1 => any::<usize>().prop_map(ActionSpec::Terminate),
    ]
}

fn scenario_spec() -> impl Strategy<Value = ScenarioSpec> {
    (
        any::<u64>(),
        600..=2400u64,
        1..=3usize,
        prop::collection::vec(group_spec(), 1..=3),
        prop::collection::vec(task_def_spec(), 1..=3),
        prop::collection::vec(service_spec(), 1..=4),
        prop::collection::vec((0..=1000u64, action_spec()), 0..=8),
    )
        .prop_map(|(seed, duration_s, azs, groups, task_definitions, services, actions)| ScenarioSpec {
            seed,
            duration_s,
            azs,
            groups,
            task_definitions,
            services,
            actions,
        })
}

/// A `memberOf` constraint of a rendered scenario, with names resolved, for the event checks.
#[derive(Clone, Debug)]
enum Rule {
    Distinct,
    TypeIs(String),
    Az(String),
    NotAz(String),
    Pool(String),
    RunningTasksBelow(u32),
}

/// What the checks need to know of a rendered scenario.
#[derive(Debug, Default)]
struct Rendered {
    text: String,
    services: Vec<String>,
    daemon: Vec<bool>,
    rules: Vec<Vec<Rule>>,
    /// The REPLICA desired count at the end: the initial one, then each SetDesiredCount in time
    /// order (same-time actions in file order: validation sorts them stably).
    final_desired: Vec<u32>,
    /// Groups whose instances carry `pool = "<group name>"`.
    pooled_groups: BTreeSet<String>,
    instance_count: u32,
}

impl ScenarioSpec {
    /// Writes the scenario as TOML, respecting every rule `validate.rs` enforces: values that
    /// would break one are adjusted here, never filtered out.
    fn render(&self) -> Rendered {
        use std::fmt::Write;
        let types = instance_types();
        let azs: Vec<&str> = AZ_NAMES[..self.azs].to_vec();
        let mut r = Rendered::default();
        let t = &mut r.text;
        let _ =
            writeln!(t, "version = 1\nname = \"prop\"\nseed = {}\nduration = \"{}s\"\n", self.seed, self.duration_s);
        let _ = writeln!(t, "[cluster]\navailability_zones = {:?}\n", azs);
        let group_names: Vec<String> = (1..=self.groups.len()).map(|g| format!("g{g}")).collect();
        let mut instance_ids = Vec::new();
        for (g, spec) in self.groups.iter().enumerate() {
            let name = &group_names[g];
            let itype = &types[spec.type_index];
            let _ =
                writeln!(t, "[[cluster.auto_scaling_groups]]\nname = \"{name}\"\ninstance_type = \"{}\"", itype.name);
            let _ = writeln!(t, "desired_capacity = {}\nboot_at_start = {}", spec.capacity, spec.boot_at_start);
            let zones: Vec<&str> = (0..self.azs).filter(|z| spec.zone_mask & (1 << z) != 0).map(|z| azs[z]).collect();
            if !zones.is_empty() {
                let _ = writeln!(t, "availability_zones = {zones:?}");
            }
            if spec.pool_attribute {
                let _ = writeln!(t, "attributes = {{ pool = \"{name}\" }}");
                r.pooled_groups.insert(name.clone());
            }
            if let Some(k) = spec.short_port_range {
                let _ = writeln!(t, "dynamic_host_port_range = [40000, {}]", 40000 + k);
            }
            if let Some(m) = spec.reserved_memory {
                // Rule: reserved_memory < the memory the type registers (always true up to 512).
                let _ = writeln!(t, "reserved_memory = {m}");
            }
            t.push('\n');
            instance_ids.extend((1..=spec.capacity).map(|n| format!("{name}-{n}")));
        }
        r.instance_count = instance_ids.len() as u32;

        for (k, td) in self.task_definitions.iter().enumerate() {
            let _ = writeln!(t, "[task_definitions.td{k}]");
            let _ = writeln!(
                t,
                "network_mode = \"{}\"",
                match td.net {
                    Net::Bridge => "bridge",
                    Net::Host => "host",
                    Net::Awsvpc => "awsvpc",
                }
            );
            let container_cpu: u32 = td.containers.iter().map(|c| c.cpu).sum();
            // Rule: task-level cpu is 128..=10240 and at least the containers' sum.
            if let Some(cpu) = td.cpu {
                let _ = writeln!(t, "cpu = {}", cpu.max(container_cpu).max(128));
            }
            // Rule: without task-level memory every container needs memory or a reservation.
            let kind = |c: &ContainerSpec| if td.memory.is_none() && c.memory_kind == 3 { 0 } else { c.memory_kind };
            let reserved: u32 = td.containers.iter().map(|c| if kind(c) == 3 { 0 } else { c.memory }).sum();
            // Rule: task-level memory is at least what the containers reserve.
            if let Some(m) = td.memory {
                let _ = writeln!(t, "memory = {}", m.max(reserved));
            }
            if let Some(s) = td.stop_timeout_s {
                let _ = writeln!(t, "stop_timeout = \"{s}s\"");
            }
            if let Some(s) = td.shutdown_s {
                let _ = writeln!(t, "shutdown_time = \"{s}s\"");
            }
            t.push('\n');
            // Rule: a host port appears once per task definition (under host and awsvpc the
            // container port is the host port, or no host port at all).
            let mut used = BTreeSet::new();
            // Rule: at least one essential container.
            let any_essential = td.containers.iter().any(|c| c.essential);
            for (n, c) in td.containers.iter().enumerate() {
                let _ =
                    writeln!(t, "[[task_definitions.td{k}.containers]]\nname = \"c{n}\"\nimage = \"img{}\"", c.image);
                if c.cpu > 0 {
                    let _ = writeln!(t, "cpu = {}", c.cpu);
                }
                match kind(c) {
                    0 => {
                        let _ = writeln!(t, "memory = {}", c.memory);
                    }
                    1 => {
                        let _ = writeln!(t, "memory_reservation = {}", c.memory);
                    }
                    // Rule: memory > memory_reservation.
                    2 => {
                        let _ =
                            writeln!(t, "memory = {}\nmemory_reservation = {}", c.memory + c.hard_above_soft, c.memory);
                    }
                    _ => {}
                }
                if !c.essential && (any_essential || n > 0) {
                    let _ = writeln!(t, "essential = false");
                }
                let mut mappings = Vec::new();
                for p in &c.ports {
                    let port = SIM_PORTS[p.port];
                    match td.net {
                        Net::Bridge => {
                            if p.dynamic || !used.insert(port) {
                                mappings.push(if p.write_host_port {
                                    format!("{{ container_port = {port}, host_port = 0 }}")
                                } else {
                                    format!("{{ container_port = {port} }}")
                                });
                            } else {
                                mappings.push(format!("{{ container_port = {port}, host_port = {port} }}"));
                            }
                        }
                        Net::Host | Net::Awsvpc => {
                            if used.insert(port) {
                                mappings.push(if p.write_host_port {
                                    format!("{{ container_port = {port}, host_port = {port} }}")
                                } else {
                                    format!("{{ container_port = {port} }}")
                                });
                            }
                        }
                    }
                }
                if !mappings.is_empty() {
                    let _ = writeln!(t, "port_mappings = [{}]", mappings.join(", "));
                }
                t.push('\n');
            }
        }

        let group_type = |g: usize| types[self.groups[g % self.groups.len()].type_index].name.clone();
        for (k, svc) in self.services.iter().enumerate() {
            let name = format!("s{k}");
            let _ = writeln!(
                t,
                "[services.{name}]\ntask_definition = \"td{}\"",
                svc.task_definition % self.task_definitions.len()
            );
            if svc.daemon {
                // Rules: a DAEMON service takes no desired_count and no placement_strategy.
                let _ = writeln!(t, "scheduling_strategy = \"DAEMON\"");
            } else {
                let _ = writeln!(t, "desired_count = {}", svc.desired);
                if let Some(list) = &svc.strategies {
                    let items: Vec<&str> = list
                        .iter()
                        .map(|s| match s {
                            SimStrategy::BinpackCpu => r#"{ type = "binpack", field = "cpu" }"#,
                            SimStrategy::BinpackMemory => r#"{ type = "binpack", field = "MEMORY" }"#,
                            SimStrategy::SpreadInstanceId => r#"{ type = "spread", field = "instanceId" }"#,
                            SimStrategy::SpreadHost => r#"{ type = "spread", field = "host" }"#,
                            SimStrategy::SpreadAz => {
                                r#"{ type = "spread", field = "attribute:ecs.availability-zone" }"#
                            }
                            SimStrategy::SpreadType => r#"{ type = "spread", field = "attribute:ecs.instance-type" }"#,
                            SimStrategy::SpreadPool => r#"{ type = "spread", field = "attribute:pool" }"#,
                            SimStrategy::Random => r#"{ type = "random" }"#,
                        })
                        .collect();
                    let _ = writeln!(t, "placement_strategy = [{}]", items.join(", "));
                }
            }
            let rules: Vec<Rule> = svc
                .constraints
                .iter()
                .map(|c| match *c {
                    SimConstraint::Distinct => Rule::Distinct,
                    SimConstraint::TypeOfGroup(g) => Rule::TypeIs(group_type(g)),
                    SimConstraint::Az(z) => Rule::Az(azs[z % azs.len()].to_string()),
                    SimConstraint::NotAz(z) => Rule::NotAz(azs[z % azs.len()].to_string()),
                    SimConstraint::Pool(g) => Rule::Pool(group_names[g % group_names.len()].clone()),
                    SimConstraint::RunningTasksBelow(n) => Rule::RunningTasksBelow(n),
                })
                .collect();
            if !rules.is_empty() {
                let items: Vec<String> = rules
                    .iter()
                    .map(|rule| match rule {
                        Rule::Distinct => r#"{ type = "distinctInstance" }"#.to_string(),
                        Rule::TypeIs(ty) => member_of(&format!("attribute:ecs.instance-type == {ty}")),
                        Rule::Az(az) => member_of(&format!("attribute:ecs.availability-zone == {az}")),
                        Rule::NotAz(az) => member_of(&format!("attribute:ecs.availability-zone != {az}")),
                        Rule::Pool(g) => member_of(&format!("attribute:pool == {g}")),
                        Rule::RunningTasksBelow(n) => member_of(&format!("runningTasksCount < {n}")),
                    })
                    .collect();
                let _ = writeln!(t, "placement_constraints = [{}]", items.join(", "));
            }
            if let Some((min, max)) = svc.deployment {
                // Rules: minimum_healthy_percent ≤ 100; maximum_percent > 0 and ≥ the minimum
                // (the REPLICA default minimum is 100); a DAEMON's maximum_percent is 100.
                let min_effective = min.unwrap_or(if svc.daemon { 0 } else { 100 });
                let max = max.map(|m| if svc.daemon { 100 } else { m.max(min_effective).max(1) });
                let mut keys = Vec::new();
                if let Some(m) = min {
                    keys.push(format!("minimum_healthy_percent = {m}"));
                }
                if let Some(m) = max {
                    keys.push(format!("maximum_percent = {m}"));
                }
                let _ = writeln!(t, "deployment_configuration = {{ {} }}", keys.join(", "));
            }
            t.push('\n');
            r.services.push(name);
            r.daemon.push(svc.daemon);
            r.rules.push(rules);
            r.final_desired.push(if svc.daemon { 0 } else { svc.desired });
        }

        let mut desired_changes: Vec<(u64, Option<(usize, u32)>)> = Vec::new();
        for (permille, a) in &self.actions {
            let at = self.duration_s * permille / 1000;
            let n = self.services.len();
            let (line, set) = match *a {
                ActionSpec::SetDesiredCount(s, count) => {
                    // Rule: a DAEMON service has no desired count to set; use the next REPLICA
                    // service, or stop tasks when there is none.
                    match (0..n).map(|k| (s + k) % n).find(|&k| !self.services[k].daemon) {
                        Some(k) => (
                            format!("set_desired_count = {{ service = \"s{k}\", desired_count = {count} }}"),
                            Some((k, count)),
                        ),
                        None => (format!("stop_tasks = {{ service = \"s{}\", count = {} }}", s % n, count % 6), None),
                    }
                }
                ActionSpec::StopTasks(s, count) => {
                    (format!("stop_tasks = {{ service = \"s{}\", count = {count} }}", s % n), None)
                }
                ActionSpec::Drain(i) => {
                    (format!("drain_instance = {{ instance = \"{}\" }}", instance_ids[i % instance_ids.len()]), None)
                }
                ActionSpec::Activate(i) => {
                    (format!("activate_instance = {{ instance = \"{}\" }}", instance_ids[i % instance_ids.len()]), None)
                }
                ActionSpec::Terminate(i) => (
                    format!("terminate_instance = {{ instance = \"{}\" }}", instance_ids[i % instance_ids.len()]),
                    None,
                ),
            };
            let _ = writeln!(t, "[[actions]]\nat = \"{at}s\"\n{line}\n");
            desired_changes.push((at, set));
        }
        desired_changes.sort_by_key(|a| a.0);
        for (_, set) in desired_changes {
            if let Some((s, count)) = set {
                r.final_desired[s] = count;
            }
        }
        r
    }
}

fn member_of(expression: &str) -> String {
    format!("{{ type = \"memberOf\", expression = \"{expression}\" }}")
}

#[derive(Clone, Debug)]
struct LiveTask {
    service: usize,
    instance: String,
    /// No `task_stopping` yet: the task is PROVISIONING, PENDING or RUNNING.
    desired: bool,
}

/// The group an instance belongs to: its id is `<group>-<n>`.
fn group_of(instance: &str) -> &str {
    instance.rsplit_once('-').map_or(instance, |(g, _)| g)
}

/// Replays the event log and checks it against the rules, the time series and the summary.
fn check_run(r: &Rendered, duration_s: u64, result: &RunResult) -> Result<(), TestCaseError> {
    let n_services = r.services.len();
    let duration = duration_s * SECOND;
    let mut status: BTreeMap<String, InstanceStatus> = BTreeMap::new();
    // Instance → (type, AZ), from `instance_registered`.
    let mut facts: BTreeMap<String, (String, String)> = BTreeMap::new();
    let mut live: BTreeMap<String, LiveTask> = BTreeMap::new();
    let mut seen_tasks = BTreeSet::new();
    let (mut placed, mut stopped) = (vec![0u64; n_services], vec![0u64; n_services]);
    let mut last = 0;
    for e in &result.events {
        let at = format!("event at {} ms ({:?} {} {} {})", e.time, e.kind, e.service, e.task, e.instance);
        prop_assert!(last <= e.time && e.time <= duration, "{at}: out of order or after the end");
        last = e.time;
        let state = status.get(&e.instance).copied();
        match e.kind {
            EventKind::InstanceLaunched => {
                prop_assert!(state.is_none(), "{at}: launched twice");
                status.insert(e.instance.clone(), InstanceStatus::Launching);
            }
            EventKind::InstanceRegistered => {
                prop_assert!(
                    matches!(state, None | Some(InstanceStatus::Launching)),
                    "{at}: registered from {state:?}"
                );
                status.insert(e.instance.clone(), InstanceStatus::Active);
                let parsed = e.detail.split_once(" in ").and_then(|(ty, rest)| Some((ty, rest.split_once(':')?.0)));
                let Some((ty, az)) = parsed else {
                    return Err(TestCaseError::fail(format!("{at}: cannot read type and AZ from {:?}", e.detail)));
                };
                facts.insert(e.instance.clone(), (ty.to_string(), az.to_string()));
            }
            EventKind::InstanceDraining => {
                prop_assert_eq!(state, Some(InstanceStatus::Active), "{}", at);
                status.insert(e.instance.clone(), InstanceStatus::Draining);
            }
            EventKind::InstanceActivated => {
                prop_assert_eq!(state, Some(InstanceStatus::Draining), "{}", at);
                status.insert(e.instance.clone(), InstanceStatus::Active);
            }
            EventKind::InstanceDrained => {
                prop_assert_eq!(state, Some(InstanceStatus::Draining), "{}", at);
                prop_assert!(!live.values().any(|t| t.instance == e.instance), "{at}: drained with tasks left");
            }
            EventKind::InstanceTerminated => {
                prop_assert!(!live.values().any(|t| t.instance == e.instance), "{at}: terminated with tasks left");
                status.insert(e.instance.clone(), InstanceStatus::Inactive);
            }
            EventKind::TaskPlaced => {
                let s = r.services.iter().position(|x| *x == e.service).expect("a known service");
                prop_assert_eq!(state, Some(InstanceStatus::Active), "{}: placed on a non-ACTIVE instance", at);
                prop_assert!(seen_tasks.insert(e.task.clone()), "{at}: task id used twice");
                let on_instance: Vec<&LiveTask> = live.values().filter(|t| t.instance == e.instance).collect();
                let mine = on_instance.iter().filter(|t| t.service == s).count();
                prop_assert!(!r.daemon[s] || mine == 0, "{at}: a second task of a DAEMON service on one instance");
                let (ty, az) = &facts[&e.instance];
                for rule in &r.rules[s] {
                    let holds = match rule {
                        Rule::Distinct => mine == 0,
                        Rule::TypeIs(t) => ty == t,
                        Rule::Az(z) => az == z,
                        Rule::NotAz(z) => az != z,
                        Rule::Pool(g) => group_of(&e.instance) == g && r.pooled_groups.contains(g),
                        Rule::RunningTasksBelow(k) => (on_instance.len() as u32) < *k,
                    };
                    prop_assert!(
                        holds,
                        "{at}: placed against {rule:?} ({ty} in {az}, {} tasks there)",
                        on_instance.len()
                    );
                }
                live.insert(e.task.clone(), LiveTask { service: s, instance: e.instance.clone(), desired: true });
                placed[s] += 1;
            }
            EventKind::TaskRunning => {
                prop_assert!(live.get(&e.task).is_some_and(|t| t.desired), "{at}: not a live task");
            }
            EventKind::TaskStopping => {
                let task = live.get_mut(&e.task);
                prop_assert!(task.as_ref().is_some_and(|t| t.desired), "{at}: not a live task");
                if let Some(t) = task {
                    t.desired = false;
                }
            }
            EventKind::TaskStopped => {
                let Some(task) = live.remove(&e.task) else {
                    return Err(TestCaseError::fail(format!("{at}: stopped a task that is not live")));
                };
                stopped[task.service] += 1;
            }
            _ => {}
        }
    }
    for t in live.values() {
        let state = status.get(&t.instance).copied();
        prop_assert!(
            matches!(state, Some(InstanceStatus::Active | InstanceStatus::Draining)),
            "a task still lives on {} ({state:?})",
            t.instance
        );
    }

    // The time series: one row per service per simulated minute, minute-major.
    let minutes = duration_s / 60;
    prop_assert_eq!(result.timeseries.len() as u64, minutes * n_services as u64, "timeseries rows");
    for (k, row) in result.timeseries.iter().enumerate() {
        prop_assert_eq!(row.time, (k / n_services + 1) as u64 * MINUTE, "row {} time", k);
        prop_assert_eq!(row.service, k % n_services, "row {} service", k);
        prop_assert!(row.unplaced <= row.pending, "row {k}: unplaced {} > pending {}", row.unplaced, row.pending);
        prop_assert!(row.instances <= r.instance_count && row.hosts <= r.instance_count, "row {k}: {row:?}");
    }

    // The summary, against the replayed log.
    prop_assert_eq!(result.summary.len(), n_services);
    let active = status.values().filter(|&&s| s == InstanceStatus::Active).count() as u32;
    for (s, sum) in result.summary.iter().enumerate() {
        let name = &r.services[s];
        prop_assert_eq!(&sum.service, name);
        prop_assert_eq!((sum.tasks_started, sum.tasks_stopped), (placed[s], stopped[s]), "{}: started/stopped", name);
        prop_assert!(sum.tasks_stopped <= sum.tasks_started, "{name}: stopped more than started");
        prop_assert!(sum.unplaced <= sum.pending, "{name}: unplaced > pending");
        // `pending` is PROVISIONING + PENDING tasks plus the unplaced ones, so no task counts twice:
        // running + placed-pending ≤ tasks not yet STOPPED. Equality holds with the STOPPING ones
        // left out, since a task asked to stop before RUNNING is STOPPED at once.
        let not_stopped = sum.tasks_started - sum.tasks_stopped;
        let counted = u64::from(sum.running + (sum.pending - sum.unplaced));
        prop_assert!(counted <= not_stopped, "{name}: running + pending counts {counted} of {not_stopped} tasks");
        let mine: Vec<&LiveTask> = live.values().filter(|t| t.service == s).collect();
        let desired_live = mine.iter().filter(|t| t.desired).count() as u64;
        prop_assert_eq!(counted, desired_live, "{}: running + placed-pending vs live tasks not stopping", name);
        let hosts: BTreeSet<&str> = mine.iter().map(|t| t.instance.as_str()).collect();
        prop_assert_eq!(sum.hosts as usize, hosts.len(), "{}: hosts", name);
        prop_assert_eq!(sum.instances, active, "{}: ACTIVE instances", name);
        let on = |st: InstanceStatus| mine.iter().filter(|t| t.desired && status[&t.instance] == st).count() as u32;
        let (keep, replacing) = (on(InstanceStatus::Active), on(InstanceStatus::Draining));
        // After every scheduler pass a service keeps at most `desired` tasks on ACTIVE instances
        // (REPLICA: scale-in stops the excess and `start` ≤ desired − kept; DAEMON: one per ACTIVE
        // instance it counted). Whatever raises that number (an instance back to ACTIVE, a lower
        // desired count) asks for a pass at the same instant, which runs before the end. So only
        // tasks still being replaced, on DRAINING instances, can take `running` past `desired`.
        prop_assert!(keep <= sum.desired, "{name}: {keep} tasks kept on ACTIVE instances, desired {}", sum.desired);
        prop_assert!(
            sum.running <= sum.desired + replacing,
            "{name}: running {} > desired {} + {replacing} being replaced",
            sum.running,
            sum.desired
        );
        if !r.daemon[s] {
            prop_assert_eq!(sum.desired, r.final_desired[s], "{}: desired count at the end", name);
        }
        let pending_minutes: u64 =
            result.timeseries.iter().filter(|x| x.service == s).map(|x| u64::from(x.pending)).sum();
        prop_assert_eq!(sum.pending_task_minutes, pending_minutes, "{}: pending task-minutes", name);
    }
    Ok(())
}

/// Keeps what a run reports, and fails the run when simulated time stands still: more than
/// `INSTANT_LIMIT` events at one instant means the schedulers loop without end (a run of these
/// sizes emits a few hundred events at its busiest instant).
#[derive(Default)]
struct StuckClockGuard {
    events: Vec<EventRecord>,
    samples: Vec<ServiceSample>,
    instant: u64,
    at_instant: usize,
}

const INSTANT_LIMIT: usize = 5_000;

impl Recorder for StuckClockGuard {
    fn event(&mut self, event: EventRecord) {
        if event.time == self.instant {
            self.at_instant += 1;
        } else {
            (self.instant, self.at_instant) = (event.time, 1);
        }
        if self.at_instant > INSTANT_LIMIT {
            let tail: Vec<String> = self.events[self.events.len() - 6..]
                .iter()
                .map(|e| format!("  {:?} {} {} {}: {}", e.kind, e.service, e.task, e.instance, e.detail))
                .collect();
            panic!(
                "simulated time stands still: {INSTANT_LIMIT} events at t = {} ms, the last:\n{}",
                event.time,
                tail.join("\n")
            );
        }
        self.events.push(event);
    }

    fn sample(&mut self, sample: ServiceSample) {
        self.samples.push(sample);
    }
}

/// Runs a scenario checking the accounting after every event (as `simulate` does in debug
/// builds), returning a violation instead of panicking, and failing if the clock stops.
fn run_guarded(scenario: &Scenario) -> Result<RunResult, InvariantViolation> {
    let mut recorder = StuckClockGuard::default();
    let summary = simulate_into(scenario, &mut recorder, true)?;
    Ok(RunResult {
        scenario: scenario.name.clone(),
        seed: scenario.seed,
        services: scenario.services.iter().map(|s| s.name.clone()).collect(),
        timeseries: recorder.samples,
        events: recorder.events,
        summary,
    })
}

/// Every event but placement failures, whose reason names the closest instance.
fn lifecycle(r: &RunResult) -> Vec<String> {
    r.events
        .iter()
        .filter(|e| e.kind != EventKind::PlacementFailed)
        .map(|e| format!("{} {:?} {} {} {}: {}", e.time, e.kind, e.service, e.task, e.instance, e.detail))
        .collect()
}

type CsvWriter = fn(&RunResult) -> Vec<u8>;

fn with_text(text: &str) -> impl Fn(TestCaseError) -> TestCaseError + '_ {
    move |e| TestCaseError::fail(format!("{e}\n--- scenario ---\n{text}"))
}

proptest! {
    #![proptest_config(config(SIMULATION_CASES))]

    #[test]
    fn generated_scenarios_validate_keep_their_books_and_replay_byte_for_byte(spec in scenario_spec()) {
        let r = spec.render();
        let scenario = Scenario::from_str_named("prop.toml", r.text.clone(), &[])
            .unwrap_or_else(|e| panic!("the generator broke a validation rule: {e}\n--- scenario ---\n{}", r.text));
        let first = run_guarded(&scenario).map_err(|v| with_text(&r.text)(TestCaseError::fail(v.to_string())))?;
        let second = simulate(&scenario);
        let files: [(&str, CsvWriter); 3] =
            [("timeseries", timeseries_csv), ("events", events_csv), ("summary", summary_csv)];
        for (file, csv) in files {
            let why = format!("{file}.csv differs between two runs\n--- scenario ---\n{}", r.text);
            prop_assert!(csv(&first) == csv(&second), "{why}");
        }
        check_run(&r, spec.duration_s, &first).map_err(with_text(&r.text))?;

        // Constraints bind together: listing them in another order may change which unmet one
        // a placement failure names (and so which repeats are suppressed), nothing else.
        let mut reordered = spec.clone();
        for svc in &mut reordered.services {
            svc.constraints.reverse();
        }
        let rr = reordered.render();
        let scenario = Scenario::from_str_named("prop.toml", rr.text.clone(), &[])
            .unwrap_or_else(|e| panic!("the generator broke a validation rule: {e}\n--- scenario ---\n{}", rr.text));
        let other = run_guarded(&scenario).map_err(|v| with_text(&rr.text)(TestCaseError::fail(v.to_string())))?;
        let why = format!("reversing the constraints changed the run\n--- scenario ---\n{}", r.text);
        prop_assert!(timeseries_csv(&first) == timeseries_csv(&other), "timeseries.csv: {why}");
        prop_assert!(summary_csv(&first) == summary_csv(&other), "summary.csv: {why}");
        prop_assert_eq!(lifecycle(&first), lifecycle(&other), "events: {}", why);
    }
}

/// Two instances that register a few seconds apart, a DAEMON service allowed only where fewer
/// than 2 tasks run, and a REPLICA service with one task per instance. Each instance then holds
/// 2 tasks with the daemon's own: every scheduler pass stops the daemon task on one instance
/// (still PROVISIONING, so STOPPED at once, which counts as capacity freed and asks for another
/// pass at the same instant) and places one on the other, out of phase, for ever. `simulate`
/// never returns; with one instance, or both registered at t = 0, the run ends.
const DAEMON_LIVELOCK: &str = r#"
name = "daemon-livelock"
duration = "10m"

[cluster]
availability_zones = ["us-east-1a"]

[[cluster.auto_scaling_groups]]
name = "g"
instance_type = "m5.large"
desired_capacity = 2
boot_at_start = true

[task_definitions.agent]
[[task_definitions.agent.containers]]
name = "agent"
image = "agent"
memory = 64

[task_definitions.web]
[[task_definitions.web.containers]]
name = "web"
image = "web"
memory = 64

[services.agent]
task_definition = "agent"
scheduling_strategy = "DAEMON"
placement_constraints = [{ type = "memberOf", expression = "runningTasksCount < 2" }]

[services.web]
task_definition = "web"
desired_count = 2
placement_constraints = [{ type = "distinctInstance" }]
"#;

#[test]
fn a_daemon_whose_own_task_breaks_its_constraint_does_not_stop_the_clock() {
    let scenario = Scenario::from_str_named("daemon-livelock.toml", DAEMON_LIVELOCK.into(), &[]).expect("valid");
    let result = run_guarded(&scenario).unwrap_or_else(|v| panic!("{v}"));
    assert_eq!(result.timeseries.len(), 2 * 10, "one row per service per minute");
}

/// One instance, a DAEMON service with `distinctInstance` and `memberOf runningTasksCount < 2`,
/// and one task of another service beside it, so that the instance stops meeting the memberOf
/// constraint once the daemon's task runs.
fn daemon_with_constraints(constraints: &str) -> RunResult {
    let text = format!(
        r#"
name = "daemon-order"
duration = "10m"

[cluster]
availability_zones = ["us-east-1a"]

[[cluster.auto_scaling_groups]]
name = "g"
instance_type = "m5.large"
desired_capacity = 1

[task_definitions.agent]
[[task_definitions.agent.containers]]
name = "agent"
image = "agent"
memory = 64

[task_definitions.web]
[[task_definitions.web.containers]]
name = "web"
image = "web"
memory = 64

[services.agent]
task_definition = "agent"
scheduling_strategy = "DAEMON"
placement_constraints = [{constraints}]

[services.web]
task_definition = "web"
desired_count = 1
"#
    );
    let scenario = Scenario::from_str_named("daemon-order.toml", text, &[]).expect("valid");
    run_guarded(&scenario).unwrap_or_else(|v| panic!("{v}"))
}

/// Constraints bind together (ECS-DG:task-placement-constraints.md): their order can change which
/// unmet one a failure names, but nothing else. The DAEMON pass drops the first unmet constraint
/// when it is `distinctInstance` (the daemon's own task fails it), which hides any unmet
/// constraint listed after it: the daemon task that the other order stops is kept.
#[test]
fn daemon_placement_constraints_bind_whatever_their_order() {
    let distinct = r#"{ type = "distinctInstance" }"#;
    let member = r#"{ type = "memberOf", expression = "runningTasksCount < 2" }"#;
    let member_first = daemon_with_constraints(&format!("{member}, {distinct}"));
    let distinct_first = daemon_with_constraints(&format!("{distinct}, {member}"));
    let (a, b) = (lifecycle(&member_first), lifecycle(&distinct_first));
    let k = a.iter().zip(&b).position(|(x, y)| x != y).unwrap_or(a.len().min(b.len()));
    let started = |r: &RunResult| r.summary[0].tasks_started;
    assert!(
        a == b,
        "the runs part at event {k}: memberOf first {:?}, distinctInstance first {:?}; the daemon started {} tasks \
         with memberOf listed first, {} with distinctInstance first",
        a.get(k),
        b.get(k),
        started(&member_first),
        started(&distinct_first)
    );
    assert_eq!(timeseries_csv(&member_first), timeseries_csv(&distinct_first));
}

// ================================================================================================
// 3. Parsing
// ================================================================================================

const QUICKSTART: &str = include_str!("../scenarios/quickstart.toml");

#[derive(Clone, Debug)]
enum Mutation {
    DeleteLine(Index),
    DuplicateLine(Index),
    /// Replace the first line with a copy of the second.
    ReplaceLine(Index, Index),
    NumberToString(Index, &'static str),
    NegateNumber(Index),
    InsertLine(Index, &'static str, &'static str),
}

const INSERTED_KEYS: [&str; 16] = [
    "desired_count",
    "seed",
    "name",
    "cpu",
    "memory",
    "network_mode",
    "instance_type",
    "bogus_key",
    "at",
    "version",
    "duration",
    "availability_zones",
    "placement_strategy",
    "[services.extra]",
    "[[actions]]",
    "[task_definitions.web]",
];

const INSERTED_VALUES: [&str; 12] = [
    "1",
    "-5",
    "0",
    "\"x\"",
    "true",
    "[1, 2]",
    "{ a = 1 }",
    "\"60m\"",
    "1.5",
    "\"\"",
    "99999999999999999999",
    "[{ type = \"binpack\" }]",
];

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        any::<Index>().prop_map(Mutation::DeleteLine),
        any::<Index>().prop_map(Mutation::DuplicateLine),
        (any::<Index>(), any::<Index>()).prop_map(|(a, b)| Mutation::ReplaceLine(a, b)),
        (any::<Index>(), prop::sample::select(vec!["\"abc\"", "\"42\"", "\"\"", "\"-1\""]))
            .prop_map(|(i, s)| Mutation::NumberToString(i, s)),
        any::<Index>().prop_map(Mutation::NegateNumber),
        (any::<Index>(), prop::sample::select(INSERTED_KEYS.to_vec()), prop::sample::select(INSERTED_VALUES.to_vec()))
            .prop_map(|(i, k, v)| Mutation::InsertLine(i, k, v)),
    ]
}

/// Byte ranges of the runs of ASCII digits in `text`.
fn numbers(text: &str) -> Vec<std::ops::Range<usize>> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i].is_ascii_digit() {
            let start = i;
            while i < bytes.len() && bytes[i].is_ascii_digit() {
                i += 1;
            }
            out.push(start..i);
        } else {
            i += 1;
        }
    }
    out
}

fn apply(text: &str, m: &Mutation) -> String {
    let inserted: String;
    let mut lines: Vec<&str> = text.lines().collect();
    match m {
        Mutation::DeleteLine(i) if !lines.is_empty() => {
            lines.remove(i.index(lines.len()));
        }
        Mutation::DuplicateLine(i) if !lines.is_empty() => {
            let k = i.index(lines.len());
            lines.insert(k, lines[k]);
        }
        Mutation::ReplaceLine(a, b) if !lines.is_empty() => {
            let (a, b) = (a.index(lines.len()), b.index(lines.len()));
            lines[a] = lines[b];
        }
        Mutation::NumberToString(i, _) | Mutation::NegateNumber(i) => {
            let found = numbers(text);
            if found.is_empty() {
                return text.to_string();
            }
            let r = found[i.index(found.len())].clone();
            let with = match m {
                Mutation::NumberToString(_, s) => s.to_string(),
                _ => format!("-{}", &text[r.clone()]),
            };
            return format!("{}{with}{}", &text[..r.start], &text[r.end..]);
        }
        Mutation::InsertLine(i, key, value) => {
            inserted = if key.starts_with('[') { key.to_string() } else { format!("{key} = {value}") };
            lines.insert(i.index(lines.len() + 1), &inserted);
        }
        _ => {}
    }
    let mut out = lines.join("\n");
    out.push('\n');
    out
}

/// Whether `message` locates the problem as `name:LINE:COL` with LINE within the text.
fn located_in_file(message: &str, name: &str, line_count: usize) -> bool {
    let prefix = format!("{name}:");
    message.match_indices(&prefix).any(|(at, _)| {
        let rest = &message[at + prefix.len()..];
        let mut parts = rest.splitn(3, ':');
        let line = parts.next().and_then(|l| l.parse::<usize>().ok());
        let column = parts.next().and_then(|c| c.parse::<usize>().ok());
        matches!((line, column), (Some(l), Some(c)) if (1..=line_count + 1).contains(&l) && c >= 1)
    })
}

#[test]
fn quickstart_parses_unmutated() {
    Scenario::from_str_named("quickstart.toml", QUICKSTART.into(), &[]).unwrap_or_else(|e| panic!("{e}"));
}

proptest! {
    #![proptest_config(config(PARSING_CASES))]

    #[test]
    fn mutated_scenarios_are_refused_with_a_location_never_a_panic(
        mutations in prop::collection::vec(mutation(), 1..=4)
    ) {
        let text = mutations.iter().fold(QUICKSTART.to_string(), |t, m| apply(&t, m));
        if let Err(e) = Scenario::from_str_named("quickstart.toml", text.clone(), &[]) {
            let message = e.to_string();
            prop_assert!(
                located_in_file(&message, "quickstart.toml", text.lines().count()) || message.contains("--set"),
                "the error does not say where:\n{message}\n--- text ---\n{text}"
            );
        }
    }
}
