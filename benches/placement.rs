//! Placement throughput of `ecsim::model::placement::place`.
//!
//! Each iteration places 10,000 tasks, one after the other, on a cluster of 1,000 ACTIVE
//! m5.xlarge container instances spread round-robin over three Availability Zones. The task is
//! a bridge-mode task of 256 CPU units and 512 MiB with one dynamic host port. Every placement
//! is applied to the chosen instance as the simulator applies it (CPU, memory, a dynamic port,
//! the task on the instance, the count of the task group), so later placements see earlier
//! ones. Three policies:
//!
//! - `binpack_memory`: `binpack(memory)`;
//! - `spread_az_instance`: `spread(attribute:ecs.availability-zone)` then `spread(instanceId)`,
//!   the service scheduler's default;
//! - `spread_member_of`: the same spreads with the constraint
//!   `memberOf(attribute:ecs.instance-type =~ m5.*)`.
//!
//! The cluster, policy and placement stream are built fresh for every iteration, outside the
//! timed part (`iter_batched`). Throughput is placements per second.
//!
//! Run with `cargo bench --bench placement`. Results land in `target/criterion/placement/`; the
//! median is `median.point_estimate` in `target/criterion/placement/<bench>/new/estimates.json`.

use std::collections::BTreeMap;
use std::time::Duration;

use criterion::{BatchSize, Criterion, SamplingMode, Throughput, criterion_group, criterion_main};
use ecsim::engine::{RngStreams, SimRng};
use ecsim::model::cluster::{Cluster, TaskGroup};
use ecsim::model::cluster_query::Expression;
use ecsim::model::ec2::{ContainerInstance, DEFAULT_DYNAMIC_HOST_PORT_RANGE, InstanceStatus, builtin_instance_types};
use ecsim::model::placement::{
    BinpackField, PlacementConstraint, PlacementPolicy, PlacementStrategy, SpreadField, place,
};
use ecsim::model::task_definition::TaskRequirements;

const INSTANCES: usize = 1_000;
const TASKS: usize = 10_000;
const AVAILABILITY_ZONES: [&str; 3] = ["us-east-1a", "us-east-1b", "us-east-1c"];

/// A benchmark name and the policy it places under.
type PolicyCase = (&'static str, fn() -> PlacementPolicy);

/// Everything one iteration mutates.
struct Fixture {
    cluster: Cluster,
    group: TaskGroup,
    policy: PlacementPolicy,
    rng: SimRng,
}

/// 1,000 ACTIVE m5.xlarge instances over three AZs, and the task group `service:bench`.
fn fixture(policy: PlacementPolicy) -> Fixture {
    let m5_xlarge = builtin_instance_types().remove("m5.xlarge").expect("m5.xlarge is a built-in type");
    let zones = AVAILABILITY_ZONES.iter().map(|z| z.to_string()).collect();
    let mut cluster = Cluster::new("bench".into(), zones, vec![m5_xlarge]);
    let group = cluster.task_group("service:bench");
    for i in 0..INSTANCES {
        let mut instance = ContainerInstance::new(
            format!("i-{i:05}"),
            0,
            (0, &cluster.instance_types[0]),
            i % AVAILABILITY_ZONES.len(),
            0,
            DEFAULT_DYNAMIC_HOST_PORT_RANGE,
            0,
        );
        instance.status = InstanceStatus::Active;
        instance.registered_at = Some(0);
        cluster.add_instance(instance, BTreeMap::new());
    }
    Fixture { cluster, group, policy, rng: RngStreams::new(1).stream("placement") }
}

/// A bridge task: 256 CPU units, 512 MiB, one dynamic host port.
fn bridge_task() -> TaskRequirements {
    TaskRequirements { cpu: 256, memory: 512, static_host_ports: Vec::new(), dynamic_host_ports: 1, needs_eni: false }
}

fn spread_az_instance() -> Vec<PlacementStrategy> {
    vec![
        PlacementStrategy::Spread(SpreadField::Attribute("ecs.availability-zone".into())),
        PlacementStrategy::Spread(SpreadField::InstanceId),
    ]
}

fn binpack_memory() -> PlacementPolicy {
    PlacementPolicy::new(Vec::new(), vec![PlacementStrategy::Binpack(BinpackField::Memory)])
}

fn spread() -> PlacementPolicy {
    PlacementPolicy::new(Vec::new(), spread_az_instance())
}

fn spread_member_of() -> PlacementPolicy {
    let expression = Expression::parse("attribute:ecs.instance-type =~ m5.*").expect("a valid expression");
    PlacementPolicy::new(vec![PlacementConstraint::MemberOf(expression)], spread_az_instance())
}

/// Places `TASKS` tasks one by one, applying each reservation as the simulator does. Returns the
/// fixture so that dropping it is not timed.
fn place_all(mut f: Fixture, req: &TaskRequirements) -> Fixture {
    for task in 0..TASKS {
        let i = place(&f.cluster, &mut f.policy, f.group, req, None, &mut f.rng).expect("every task fits");
        let instance = &mut f.cluster.instances[i];
        instance.reserved_cpu += req.cpu;
        instance.reserved_memory += req.memory;
        for _ in 0..req.dynamic_host_ports {
            instance.allocate_dynamic_port().expect("a free dynamic port");
        }
        instance.tasks.push(task);
        f.cluster.add_group_task(f.group, i);
    }
    f
}

fn placement(c: &mut Criterion) {
    let req = bridge_task();
    let policies: [PolicyCase; 3] =
        [("binpack_memory", binpack_memory), ("spread_az_instance", spread), ("spread_member_of", spread_member_of)];

    // Not timed: check once that each policy spreads or packs as it should, so the numbers
    // below measure what they claim to. An m5.xlarge holds 16 such tasks (4096 CPU units).
    for (name, policy) in &policies {
        let f = place_all(fixture(policy()), &req);
        let used = f.cluster.instances.iter().filter(|inst| !inst.tasks.is_empty()).count();
        let most = f.cluster.instances.iter().map(|inst| inst.tasks.len()).max().unwrap_or(0);
        if *name == "binpack_memory" {
            assert_eq!((used, most), (TASKS / 16, 16), "{name}: binpack should fill instances one by one");
        } else {
            assert_eq!(used, INSTANCES, "{name}: spread should use every instance");
            assert!(most <= TASKS / INSTANCES + 1, "{name}: spread left {most} tasks on one instance");
        }
    }

    let mut group = c.benchmark_group("placement");
    group
        .throughput(Throughput::Elements(TASKS as u64))
        .sampling_mode(SamplingMode::Flat)
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(5));
    for (name, policy) in policies {
        group.bench_function(name, |b| {
            b.iter_batched(|| fixture(policy()), |f| place_all(f, &req), BatchSize::PerIteration);
        });
    }
    group.finish();
}

criterion_group!(benches, placement);
criterion_main!(benches);
