//! Raw throughput of the future event list, `ecsim::engine::EventQueue`.
//!
//! - `event_queue/schedule_pop_1e6`: schedule 10⁶ small `Copy` events at pseudo-random times
//!   (uniform over one simulated hour, from the seeded stream `"bench"`), then pop them all.
//!   The queue starts at the simulator's own capacity (1024), so its growth is part of the cost.
//!   Throughput is events (one schedule plus one pop each) per second.
//! - `hold/{ecsim_queue,binary_heap}/N`: the classic *hold* model. The queue holds N pending
//!   events (N = 10³, 10⁵, 10⁶); one hold operation pops the earliest event and schedules it
//!   again at now + an exponential delay (mean one simulated minute). The same hold loop on a
//!   bare `BinaryHeap<Reverse<(time, seq, payload)>>` runs under the same keys (initial times and
//!   delays are drawn once, outside the timed loop), so the ratio ecsim-queue / bare-heap of each
//!   N can be read off one run. Throughput is hold operations per second; the queues stay filled
//!   between samples, so what is measured is the steady state.
//!
//! Run with `cargo bench --bench engine` (one group only: `cargo bench --bench engine -- hold`).
//! Results land in `target/criterion/`; the median is `median.point_estimate` in
//! `target/criterion/<group>/<bench>/new/estimates.json`.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, SamplingMode, Throughput, criterion_group, criterion_main};
use ecsim::engine::{Distribution, EventQueue, HOUR, MINUTE, RngStreams, SimTime};

/// Events scheduled and popped by `schedule_pop_1e6`.
const EVENTS: usize = 1_000_000;

/// Hold operations per timed iteration; also the number of pre-drawn delays, which every
/// iteration walks through once.
const HOLD_OPS: usize = 1 << 16;

/// Pending events in the hold model.
const PENDING: [usize; 3] = [1_000, 100_000, 1_000_000];

/// A small `Copy` event, shaped like the simulator's own (ids and a timer generation).
#[derive(Clone, Copy, Debug)]
enum Event {
    Arrival { service: u32 },
    TaskStarted { task: u32, generation: u32 },
}

impl Event {
    fn id(self) -> u64 {
        match self {
            Event::Arrival { service } => u64::from(service),
            Event::TaskStarted { task, generation } => u64::from(task) ^ (u64::from(generation) << 32),
        }
    }
}

/// `n` draws from `dist`, in whole milliseconds, from the bench's seeded stream.
fn draws(dist: &Distribution, stream: &str, n: usize) -> Vec<SimTime> {
    let mut rng = RngStreams::new(1).stream(stream);
    (0..n).map(|_| dist.sample_duration(&mut rng)).collect()
}

fn schedule_then_pop(c: &mut Criterion) {
    let uniform = Distribution::uniform(0.0, HOUR as f64).expect("valid uniform");
    let times = draws(&uniform, "bench", EVENTS);

    let mut group = c.benchmark_group("event_queue");
    group
        .throughput(Throughput::Elements(EVENTS as u64))
        .sampling_mode(SamplingMode::Flat)
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4));
    group.bench_function("schedule_pop_1e6", |b| {
        b.iter(|| {
            let mut queue = EventQueue::with_capacity(1024);
            for (k, &t) in times.iter().enumerate() {
                let k = k as u32;
                let event = if k.is_multiple_of(4) {
                    Event::Arrival { service: k }
                } else {
                    Event::TaskStarted { task: k, generation: k >> 2 }
                };
                queue.schedule(t, event);
            }
            let mut checksum = 0u64;
            while let Some((t, event)) = queue.pop() {
                checksum = checksum.wrapping_add(t ^ event.id());
            }
            checksum
        });
    });
    group.finish();
}

fn hold(c: &mut Criterion) {
    let exponential = Distribution::exponential(MINUTE as f64).expect("valid exponential");
    let delays = draws(&exponential, "bench-delays", HOLD_OPS);

    let mut group = c.benchmark_group("hold");
    group
        .throughput(Throughput::Elements(HOLD_OPS as u64))
        .sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    for n in PENDING {
        let initial = draws(&exponential, "bench", n);

        let mut queue = EventQueue::with_capacity(n + 1);
        for (k, &t) in initial.iter().enumerate() {
            queue.schedule(t, k as u32);
        }
        group.bench_with_input(BenchmarkId::new("ecsim_queue", n), &n, |b, _| {
            b.iter(|| {
                for &delay in &delays {
                    let (_, event) = queue.pop().expect("the hold model never empties the queue");
                    queue.schedule_in(delay, event);
                }
                queue.now()
            });
        });
        drop(queue);

        let mut heap: BinaryHeap<Reverse<(u64, u64, u32)>> = BinaryHeap::with_capacity(n + 1);
        let mut seq = 0u64;
        for (k, &t) in initial.iter().enumerate() {
            heap.push(Reverse((t, seq, k as u32)));
            seq += 1;
        }
        group.bench_with_input(BenchmarkId::new("binary_heap", n), &n, |b, _| {
            b.iter(|| {
                let mut now = 0;
                for &delay in &delays {
                    let Reverse((t, _, event)) = heap.pop().expect("the hold model never empties the heap");
                    now = t;
                    heap.push(Reverse((t + delay, seq, event)));
                    seq += 1;
                }
                now
            });
        });
    }
    group.finish();
}

criterion_group!(benches, schedule_then_pop, hold);
criterion_main!(benches);
