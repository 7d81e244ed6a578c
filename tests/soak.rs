//! Long runs (ignored by default; run them in release):
//!
//! ```text
//! cargo test --release --test soak -- --include-ignored --nocapture
//! ```
//!
//! - `a_week_of_diurnal_traffic_keeps_its_books_in_bounded_memory`: a week of diurnal traffic
//!   on a 200-instance cluster with target tracking, the invariants checked after every event,
//!   and memory that does not grow with the traffic: the peak heap (counted by the allocator)
//!   and the peak resident set (`VmHWM`) of a day and of a week, the outputs (events and
//!   per-minute rows) aside, differ by less than 768 KiB (1 MiB of RSS) per simulated day.
//! - `bytes_per_instance_task_and_request`: the heap one instance, one task and one request in
//!   flight take, from runs of two sizes, held to the prices `scenario::limits` refuses
//!   scenarios by.
//!
//! The tests of this file measure the whole process's memory, so they run one at a time.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use ecsim::Scenario;
use ecsim::record::{EventRecord, Recorder, ServiceSample, ServiceSummary};
use ecsim::scenario::limits::{BYTES_PER_INSTANCE, BYTES_PER_REQUEST, BYTES_PER_TASK};

/// The system allocator, counting the bytes in use and their peak.
struct Counting;

static IN_USE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            let now = IN_USE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(now, Ordering::Relaxed);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        IN_USE.fetch_sub(layout.size(), Ordering::Relaxed);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            if new_size >= layout.size() {
                let now = IN_USE.fetch_add(new_size - layout.size(), Ordering::Relaxed) + new_size - layout.size();
                PEAK.fetch_max(now, Ordering::Relaxed);
            } else {
                IN_USE.fetch_sub(layout.size() - new_size, Ordering::Relaxed);
            }
        }
        p
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// One measurement at a time: the counters are the process's.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// Counts the outputs and keeps none, so that what is measured is the simulation's own state.
#[derive(Default)]
struct Discard {
    events: u64,
    samples: u64,
}

impl Recorder for Discard {
    fn event(&mut self, _: EventRecord) {
        self.events += 1;
    }

    fn sample(&mut self, _: ServiceSample) {
        self.samples += 1;
    }
}

/// What one run took.
struct Measured {
    wall: Duration,
    /// Peak heap during the run, above what was in use before it, bytes.
    heap: usize,
    /// Peak resident set of the process during the run (`VmHWM`), if it could be reset first.
    rss: Option<u64>,
    summary: Vec<ServiceSummary>,
    events: u64,
}

/// `VmHWM` of this process, bytes.
fn vm_hwm() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse::<u64>().ok().map(|kib| kib * 1024)
}

/// Resets `VmHWM` to the current resident set (Linux ≥ 4.0).
fn reset_vm_hwm() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

/// Runs a scenario into a [`Discard`] recorder, the invariants checked after every event, and
/// measures it.
fn measure(scenario: &Scenario) -> Measured {
    let rss_reset = reset_vm_hwm();
    let base = IN_USE.load(Ordering::Relaxed);
    PEAK.store(base, Ordering::Relaxed);
    let start = Instant::now();
    let mut recorder = Discard::default();
    let summary = ecsim::model::simulate_into(scenario, &mut recorder, true).unwrap_or_else(|v| panic!("{v}"));
    let wall = start.elapsed();
    let heap = PEAK.load(Ordering::Relaxed) - base;
    let rss = if rss_reset { vm_hwm() } else { None };
    let _ = recorder.samples;
    Measured { wall, heap, rss, summary, events: recorder.events }
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1u64 << 20) as f64
}

/// The soak scenario: 200 m5.large (400 vCPU), one service of 1-vCPU tasks behind an ALB,
/// scaled by target tracking at 50% CPU between 20 and 380 tasks; diurnal traffic of 12
/// requests per second on average (2 at night, 22 at the peak), each 8 s of CPU: 16 to 176
/// vCPU of work, so 32 to 352 tasks at the target.
const SOAK: &str = r#"
version = 1
name = "soak"
description = "A week of diurnal traffic on 200 instances with target tracking."
seed = 7
duration = "1d"

[cluster]
availability_zones = ["us-east-1a", "us-east-1b", "us-east-1c"]

[[cluster.auto_scaling_groups]]
name = "ecs"
instance_type = "m5.large"
desired_capacity = 200

[task_definitions.web]
network_mode = "bridge"
cpu = 1024
memory = 2048
app = { ready_time = "10s", memory_baseline = 500 }

[[task_definitions.web.containers]]
name = "app"
image = "123456789012.dkr.ecr.us-east-1.amazonaws.com/web:1"
memory_reservation = 2048
port_mappings = [{ container_port = 8080, host_port = 0 }]

[target_groups.web]
health_check = { interval = "30s", healthy_threshold = 3 }
deregistration_delay = "30s"

[services.web]
task_definition = "web"
desired_count = 40
load_balancer = { target_group = "web", container_name = "app", container_port = 8080 }
placement_strategy = [{ type = "spread", field = "attribute:ecs.availability-zone" }, { type = "binpack", field = "cpu" }]

[services.web.auto_scaling]
min_capacity = 20
max_capacity = 380
target_tracking = [{ name = "cpu50", predefined_metric = "ECSServiceAverageCPUUtilization", target_value = 50 }]

[workloads.web]
target_group = "web"
arrivals = { pattern = "diurnal", mean = 12, amplitude = 10, period = "24h", phase = "6h" }
service_time = { dist = "exponential", mean = "8s" }
memory_per_request = 1
"#;

fn soak(duration: &str) -> Scenario {
    Scenario::from_str_named("soak.toml", SOAK.into(), &[format!("duration=\"{duration}\"")])
        .unwrap_or_else(|e| panic!("{e}"))
}

#[test]
#[ignore = "a week of simulated time: run in release with --include-ignored"]
fn a_week_of_diurnal_traffic_keeps_its_books_in_bounded_memory() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let day = measure(&soak("1d"));
    let week = measure(&soak("7d"));
    for (label, m) in [("1 day", &day), ("7 days", &week)] {
        let s = &m.summary[0];
        println!(
            "soak {label}: {:.1} s wall, peak heap {:.1} MiB, peak RSS {}, {} requests ({} 5xx), desired {}, \
             {} events recorded",
            m.wall.as_secs_f64(),
            mib(m.heap as u64),
            m.rss.map_or_else(
                || "not measured (VmHWM cannot be reset here)".to_string(),
                |r| format!("{:.1} MiB", mib(r))
            ),
            s.requests,
            s.errors_5xx,
            s.desired,
            m.events,
        );
    }
    // The week carried its traffic: about 12 requests per second, few errors.
    let s = &week.summary[0];
    let expected = 12.0 * 7.0 * 86_400.0;
    assert!((s.requests as f64 - expected).abs() < 0.01 * expected, "{} requests", s.requests);
    assert!(s.error_rate < 0.02, "error rate {}", s.error_rate);
    // Memory does not grow with the traffic: the six days after the first add 6.2 million
    // requests and less than 4 MiB, well under a byte a request. It does grow with simulated
    // time, slowly: Service Auto Scaling keeps each metric's datapoint of every minute of the
    // run (about 0.4 MiB a day here), and the world keeps every task it ever launched (about
    // 330 bytes each). Both are bounded by the run's length, at most 366 days.
    let per_day = (week.heap as f64 - day.heap as f64) / 6.0;
    println!("soak: the peak heap grows by {:.2} MiB per simulated day", per_day / (1u64 << 20) as f64);
    assert!(per_day < 768.0 * 1024.0, "the peak heap grows by {per_day:.0} bytes per simulated day");
    if let (Some(d), Some(w)) = (day.rss, week.rss) {
        let per_day = (w as f64 - d as f64) / 6.0;
        assert!(per_day < 1024.0 * 1024.0, "the peak RSS grows by {per_day:.0} bytes per simulated day");
    }
}

/// A scenario for measuring: `instances` m5.large, a service of `tasks` small tasks behind an
/// ALB, and from 5 minutes on `rate` requests per second of ten hours each, so that every
/// request stays in flight.
fn sized(instances: u32, tasks: u32, rate: u32) -> Scenario {
    let text = format!(
        r#"
version = 1
name = "sized"
duration = "10m"
[cluster]
availability_zones = ["us-east-1a", "us-east-1b"]
[[cluster.auto_scaling_groups]]
name = "ecs"
instance_type = "m5.large"
desired_capacity = {instances}
[task_definitions.web]
network_mode = "bridge"
cpu = 128
memory = 256
[[task_definitions.web.containers]]
name = "app"
image = "web:1"
memory_reservation = 256
port_mappings = [{{ container_port = 8080, host_port = 0 }}]
[target_groups.web]
[services.web]
task_definition = "web"
desired_count = {tasks}
load_balancer = {{ target_group = "web", container_name = "app", container_port = 8080 }}
[workloads.web]
target_group = "web"
arrivals = {{ pattern = "constant", rate = {rate} }}
service_time = "10h"
timeout = "11h"
start = "5m"
"#
    );
    Scenario::from_str_named("sized.toml", text, &[]).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
#[ignore = "measures the model's bytes per entity: run in release with --include-ignored"]
fn bytes_per_instance_task_and_request() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let per = |small: &Scenario, large: &Scenario, count: u64| {
        let (a, b) = (measure(small).heap as u64, measure(large).heap as u64);
        b.saturating_sub(a) / count
    };
    // 1,000 more instances (and no more tasks).
    let instance = per(&sized(100, 10, 1), &sized(1_100, 10, 1), 1_000);
    // 1,000 more tasks, each with its target and its server, on the same instances.
    let task = per(&sized(300, 200, 1), &sized(300, 1_200, 1), 1_000);
    // 400 more requests a second for five minutes, none answered: about 120,000 more in flight.
    let (small, large) = (sized(20, 20, 100), sized(20, 20, 500));
    let (a, b) = (measure(&small), measure(&large));
    let held = |m: &Measured| m.summary[0].requests - m.summary[0].errors_5xx;
    // Poisson arrivals: about 30,000 and 150,000, none refused or answered.
    let about = |n: u64, expected: f64| (n as f64 - expected).abs() < 0.02 * expected;
    assert!(about(held(&a), 30_000.0) && about(held(&b), 150_000.0), "{} and {} held", held(&a), held(&b));
    let request = (b.heap as u64).saturating_sub(a.heap as u64) / (held(&b) - held(&a));
    println!(
        "bytes per instance {instance} (priced at {BYTES_PER_INSTANCE}), per task {task} (priced at \
         {BYTES_PER_TASK}), per request in flight {request} (priced at {BYTES_PER_REQUEST})"
    );
    assert!(instance > 0 && instance <= BYTES_PER_INSTANCE, "an instance takes {instance} bytes");
    assert!(task > 0 && task <= BYTES_PER_TASK, "a task takes {task} bytes");
    assert!(request > 0 && request <= BYTES_PER_REQUEST, "a request in flight takes {request} bytes");
}
