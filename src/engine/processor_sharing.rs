//! A processor-sharing server with a concurrency limit and a FIFO queue: how an ECS task serves
//! HTTP requests with its CPUs.
//!
//! The server has `c` CPUs and serves at most `concurrency_limit` jobs at once. With `n` jobs in
//! service each progresses at the same rate
//!
//! ```text
//! r(n) = min(per_job_cap, c / n)      CPU-ms of work per ms
//! ```
//!
//! (one request uses at most `per_job_cap` CPUs, 1 by default). Jobs beyond the limit wait in a
//! FIFO queue of at most `queue_limit`; an arrival finding it full is rejected.
//!
//! **Virtual time.** Because every job in service progresses at the same rate, one number
//! describes them all: the attained service `V(t) = ∫ r(n(s)) ds`, the work any job in service
//! since the start would have received. A job entering at `V_e` with `w` CPU-ms of work is done
//! when `V = V_e + w`, so the jobs sit in a min-heap keyed by `V_e + w`, and the next completion
//! is at
//!
//! ```text
//! t* = t + (min key − V) / r(n)
//! ```
//!
//! `V` is advanced lazily (`V += r · Δt`) only when something happens: an arrival, a completion, a
//! capacity change. Arrivals and completions therefore cost O(log n), and no job in service is
//! ever rescanned. The work done grows at `n · r(n) = min(n · per_job_cap, c)` CPU-ms per ms.
//!
//! Time is integer milliseconds at the interface, but inside, `V` and the completion instants are
//! `f64`: a job that finishes at 333.3 ms frees its share from 333.3 ms, not from 334, and
//! rounding never accumulates. [`ProcessorSharing::next_completion`] reports the first whole
//! millisecond at or after the exact instant, for the caller's event queue.
//!
//! Every call that takes `now` first brings the server up to `now`, completing at their exact
//! instants the jobs that finished meanwhile (and starting queued jobs in their slots). Jobs
//! completed that way by [`ProcessorSharing::arrive`], [`ProcessorSharing::set_capacity`] or
//! [`ProcessorSharing::work_done`] are held until the next [`ProcessorSharing::complete_due`], so
//! the caller may process events of one millisecond in any order without losing a job or
//! serving a finished one longer than it should be.
//!
//! Nonsense inputs never panic: negative or NaN work counts as zero (such a job completes at
//! once, even with no capacity); a NaN or non-positive capacity or per-job cap means no progress
//! and `next_completion` is `None`; +∞ capacity is clamped to 10^15 CPUs; a job of +∞ work holds
//! its slot until `clear`; a `now` earlier than one seen before is taken as the latest instant
//! seen (time never runs backwards).

use std::collections::VecDeque;

use super::time::SimTime;

/// The caller's name for a job (e.g. a request number). The server never interprets it, so ids
/// need not be unique.
pub type JobId = u64;

/// A request uses at most one vCPU at a time unless told otherwise.
pub const DEFAULT_PER_JOB_CAP: f64 = 1.0;

/// A job whose exact completion instant is at most this far (ms) after `now` counts as done at
/// `now`. It absorbs float noise (a job due at exactly 105 ms computed as 105.000000001 must not
/// be reported at 106) and is far below the millisecond resolution of the interface. The same
/// test is used by `next_completion` and `complete_due`, so calling the latter at the time the
/// former gave always completes the job.
const TOLERANCE_MS: f64 = 1e-3;

/// Capacities above this (including +∞) are clamped to it, so that the rate times any elapsed
/// time stays finite. 10^15 CPUs is infinite for every practical purpose.
const MAX_CAPACITY: f64 = 1e15;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Admission {
    InService,
    Queued,
    Rejected,
}

/// A finished job: the caller knows the completion time (the `now` it passed to `complete_due`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Completed {
    pub id: JobId,
    pub arrived: SimTime,
    /// When it entered service: the arrival time if a slot was free, otherwise the first whole
    /// millisecond at or after the exact instant its slot was freed.
    pub started: SimTime,
}

/// A job in service.
#[derive(Clone, Copy, Debug)]
struct Serving {
    /// `V` at which the job is done: `V` at entry plus its work.
    finish: f64,
    /// Admission order, breaking ties between equal keys so that the order never depends on
    /// the heap's internals.
    seq: u64,
    id: JobId,
    arrived: SimTime,
    started: SimTime,
}

impl Serving {
    /// Whether `self` completes before `other`: the smaller (finish, seq) first.
    ///
    /// Keys are never NaN or -0.0 (work is sanitized to be at least +0.0 and `V` starts at +0.0
    /// and only grows), so the plain float comparison orders them as `total_cmp` would.
    fn before(&self, other: &Serving) -> bool {
        self.finish < other.finish || (self.finish == other.finish && self.seq < other.seq)
    }
}

/// Jobs in service held inline before they move to an allocation of their own.
const INLINE_JOBS: usize = 8;

/// The jobs in service, earliest (finish, seq) first out. A task usually serves a handful of
/// requests at once, so up to [`INLINE_JOBS`] live inline, in the server itself: the server is
/// reached through the task, and the address of an allocation of its own would be one more cache
/// miss to wait for, per request, on a cluster of thousands of tasks. Inline, the jobs are kept
/// sorted latest first: a pop takes the last one, and a push moves the earlier ones up a place
/// (a few short moves, and one mispredicted branch where it stops, where a heap's or a scan's
/// comparisons of random keys mispredict at every level). Beyond, they form a binary min-heap in
/// `spilled`, O(log n) per push and pop. `len` comes first, beside the server's other hot fields
/// (see the layout there).
#[derive(Debug)]
#[repr(C)]
struct JobsInService {
    len: u32,
    /// The jobs while at most `INLINE_JOBS` are in service: the first `len`, latest first.
    inline: [Serving; INLINE_JOBS],
    /// All the jobs, as a heap, while more are in service.
    spilled: Vec<Serving>,
}

impl Default for JobsInService {
    fn default() -> Self {
        let none = Serving { finish: 0.0, seq: 0, id: 0, arrived: 0, started: 0 };
        JobsInService { len: 0, inline: [none; INLINE_JOBS], spilled: Vec::new() }
    }
}

impl JobsInService {
    fn len(&self) -> usize {
        self.len as usize
    }

    fn is_empty(&self) -> bool {
        self.len == 0
    }

    fn peek(&self) -> Option<&Serving> {
        match self.len() {
            0 => None,
            n if n <= INLINE_JOBS => Some(&self.inline[n - 1]),
            _ => self.spilled.first(),
        }
    }

    fn push(&mut self, job: Serving) {
        let n = self.len();
        self.len += 1;
        if n < INLINE_JOBS {
            let mut k = n;
            while k > 0 && self.inline[k - 1].before(&job) {
                self.inline[k] = self.inline[k - 1];
                k -= 1;
            }
            self.inline[k] = job;
            return;
        }
        if n == INLINE_JOBS {
            for &inline in &self.inline {
                self.spilled.push(inline);
                let last = self.spilled.len() - 1;
                sift_up(&mut self.spilled, last);
            }
        }
        self.spilled.push(job);
        sift_up(&mut self.spilled, n);
    }

    /// Takes the earliest job.
    fn pop(&mut self) -> Option<Serving> {
        let n = self.len().checked_sub(1)?;
        self.len = n as u32;
        if n < INLINE_JOBS {
            return Some(self.inline[n]);
        }
        let top = pop_heap(&mut self.spilled);
        if n == INLINE_JOBS {
            self.inline.copy_from_slice(&self.spilled);
            self.spilled.clear();
            self.inline.sort_unstable_by(|a, b| b.finish.total_cmp(&a.finish).then(b.seq.cmp(&a.seq)));
        }
        top
    }
}

/// Takes the earliest job of a binary min-heap: the last one fills the root's place, the hole at
/// the root goes down to the bottom along the earlier children (one comparison a level), and the
/// moved job rises from there, usually not far (as `std`'s `BinaryHeap::pop` does).
fn pop_heap(heap: &mut Vec<Serving>) -> Option<Serving> {
    let last = heap.pop()?;
    let n = heap.len();
    if n == 0 {
        return Some(last);
    }
    let top = std::mem::replace(&mut heap[0], last);
    let mut hole = 0;
    let mut child = 1;
    while child + 1 < n {
        if heap[child + 1].before(&heap[child]) {
            child += 1;
        }
        heap[hole] = heap[child];
        hole = child;
        child = 2 * hole + 1;
    }
    if child + 1 == n {
        heap[hole] = heap[child];
        hole = child;
    }
    heap[hole] = last;
    sift_up(heap, hole);
    Some(top)
}

/// Moves the job at `k` up while it completes before its parent.
fn sift_up(heap: &mut [Serving], mut k: usize) {
    let job = heap[k];
    while k > 0 {
        let parent = (k - 1) / 2;
        if !job.before(&heap[parent]) {
            break;
        }
        heap[k] = heap[parent];
        k = parent;
    }
    heap[k] = job;
}

/// A job waiting for a slot.
#[derive(Clone, Copy, Debug)]
struct Waiting {
    id: JobId,
    arrived: SimTime,
    work: f64,
}

/// A processor-sharing server with `capacity` CPUs, at most `concurrency_limit` jobs in service
/// and at most `queue_limit` waiting. See the module documentation.
///
/// Laid out in declaration order, so that what every arrival and completion reads shares one
/// cache line (the scalars up to `capacity`, 64 bytes), and the per-job cap, the count of jobs
/// in service and the first job the next (see the layout test); the queue and the held
/// completions, read only when they are not empty, come last.
#[derive(Debug)]
#[repr(C)]
pub struct ProcessorSharing {
    /// The latest instant the server was brought up to; `attained` and `work_done` are exact as
    /// of this instant. At every public call's boundary the internal clock is this whole
    /// millisecond; fractional instants exist only while completions are processed.
    now: SimTime,
    /// `V`: the service each job in service since the start of the busy period has received.
    /// Reset to zero whenever the server empties, so it never grows large enough to lose
    /// precision over a long run.
    attained: f64,
    /// `r(n)` for the jobs now in service (see `rate`): worked out when `n` or the capacity
    /// changes rather than at each of the several reads per request, a division each.
    rate: f64,
    /// CPU-ms of work done since creation.
    work_done: f64,
    next_seq: u64,
    /// How many jobs `finished` holds.
    held: u32,
    /// The most jobs that each progress at the full `per_job_cap` (see `full_speed_jobs`), so
    /// that `r(n)` needs no division while the server is not saturated.
    full_speed_jobs: u32,
    concurrency_limit: u32,
    queue_limit: u32,
    capacity: f64,
    per_job_cap: f64,
    serving: JobsInService,
    /// Never holds a job while a slot is free: a queued job starts the instant one frees.
    waiting: VecDeque<Waiting>,
    /// Jobs completed while bringing the server up to date but not yet handed out by
    /// `complete_due`.
    finished: Vec<Completed>,
}

/// Capacity and per-job cap: NaN or non-positive means no progress.
fn sanitize_rate(x: f64) -> f64 {
    if x > 0.0 { x } else { 0.0 }
}

/// Negative or NaN work counts as zero; +∞ is kept (the job never completes until cleared).
fn sanitize_work(work: f64) -> f64 {
    if work > 0.0 { work } else { 0.0 }
}

/// The largest `n` for which `min(capacity / n, per_job_cap)`, as computed in floating point, is
/// `per_job_cap`: up to that many jobs in service each progress at the full cap. Rounding is
/// monotonic, so the `n` that qualify are exactly `1..=` the result; the float quotient is
/// checked at the boundary rather than trusted to `capacity / per_job_cap`.
fn full_speed_jobs(capacity: f64, per_job_cap: f64) -> u32 {
    if per_job_cap <= 0.0 || capacity < per_job_cap {
        return 0;
    }
    let fits = |n: u32| capacity / f64::from(n) >= per_job_cap;
    // Saturating float-to-int conversion: +∞ and huge quotients give u32::MAX.
    let mut n = (capacity / per_job_cap) as u32;
    while n < u32::MAX && fits(n + 1) {
        n += 1;
    }
    while n > 0 && !fits(n) {
        n -= 1;
    }
    n
}

/// The first whole millisecond at or after `t` (saturating; `t` is never NaN here).
fn ceil_ms(t: f64) -> SimTime {
    if t <= 0.0 { 0 } else { super::time::ceil_ms(t) }
}

impl ProcessorSharing {
    /// A server with `capacity` CPUs, each job using at most `per_job_cap` CPUs
    /// ([`DEFAULT_PER_JOB_CAP`] normally, `f64::INFINITY` for none), serving at most
    /// `concurrency_limit` jobs at once (`u32::MAX` for no limit; 0 serves nothing) and queueing
    /// at most `queue_limit` more (`u32::MAX` for no limit, 0 for none).
    pub fn new(capacity: f64, per_job_cap: f64, concurrency_limit: u32, queue_limit: u32) -> Self {
        let capacity = sanitize_rate(capacity).min(MAX_CAPACITY);
        let per_job_cap = sanitize_rate(per_job_cap);
        ProcessorSharing {
            capacity,
            per_job_cap,
            full_speed_jobs: full_speed_jobs(capacity, per_job_cap),
            concurrency_limit,
            queue_limit,
            now: 0,
            attained: 0.0,
            work_done: 0.0,
            next_seq: 0,
            held: 0,
            rate: 0.0,
            serving: JobsInService::default(),
            waiting: VecDeque::new(),
            finished: Vec::new(),
        }
    }

    /// A job arrives at `now` with `work` CPU-ms (the time it would take on one dedicated vCPU;
    /// negative or NaN counts as zero, and a zero-work job completes at once even with no
    /// capacity). Jobs that finished by `now` are completed first, so their slots are free.
    pub fn arrive(&mut self, now: SimTime, id: JobId, work: f64) -> Admission {
        self.advance(now, None);
        let work = sanitize_work(work);
        if self.has_free_slot() {
            debug_assert!(self.waiting.is_empty());
            self.start(id, self.now, self.now, work);
            Admission::InService
        } else if (self.waiting.len() as u64) < u64::from(self.queue_limit) {
            self.waiting.push_back(Waiting { id, arrived: self.now, work });
            Admission::Queued
        } else {
            Admission::Rejected
        }
    }

    /// When the next job completes, if any is in service: its exact instant rounded up to a
    /// whole millisecond, never before the latest `now` seen. `None` if nothing is in service or
    /// nothing progresses (no capacity, or only jobs of infinite work). If a job already finished
    /// but was not yet collected, this is the latest `now`: call `complete_due` then.
    pub fn next_completion(&self) -> Option<SimTime> {
        if self.held > 0 {
            return Some(self.now);
        }
        let top = self.serving.peek()?;
        let at = self.finish_instant(self.now as f64, top.finish)?;
        Some(ceil_ms(at - TOLERANCE_MS).max(self.now))
    }

    /// Completes every job whose work is done by `now` (within a microsecond, `TOLERANCE_MS`),
    /// each at its exact instant so the others speed up from then on, admits queued jobs FIFO
    /// into the freed slots, and appends the completed jobs to `out` in completion order (ties in
    /// admission order). Calling it later than `next_completion` said is harmless: the result is
    /// the same except that the caller observes the completions later.
    pub fn complete_due(&mut self, now: SimTime, out: &mut Vec<Completed>) {
        if self.held > 0 {
            self.held = 0;
            out.append(&mut self.finished);
        }
        self.advance(now, Some(out));
    }

    /// Changes the number of CPUs from `now` on (NaN or negative: 0, jobs stop progressing).
    pub fn set_capacity(&mut self, now: SimTime, capacity: f64) {
        self.advance(now, None);
        self.capacity = sanitize_rate(capacity).min(MAX_CAPACITY);
        self.full_speed_jobs = full_speed_jobs(self.capacity, self.per_job_cap);
        self.refresh_rate();
    }

    /// Removes every job in service and queued (e.g. when the task is killed) and appends their
    /// ids to `out`, in service first (soonest to finish first), then the queue in FIFO order.
    /// It has no `now`, so it does not bring the server up to date: call `complete_due(now)`
    /// first, so that jobs that finished before the kill count as completed. Jobs already
    /// completed but not yet collected are not removed; `complete_due` still hands them out.
    pub fn clear(&mut self, out: &mut Vec<JobId>) {
        while let Some(job) = self.serving.pop() {
            out.push(job.id);
        }
        out.extend(self.waiting.drain(..).map(|w| w.id));
        self.attained = 0.0;
        self.refresh_rate();
    }

    /// Whether the job admitted last is in service and the first to finish: the only way an
    /// arrival brings the next completion forward, since it otherwise just slows the jobs in
    /// service down (or waits).
    pub fn newest_finishes_first(&self) -> bool {
        self.serving.peek().is_some_and(|job| job.seq + 1 == self.next_seq)
    }

    /// The CPUs the server has now.
    pub fn capacity(&self) -> f64 {
        self.capacity
    }

    pub fn in_service(&self) -> u32 {
        self.serving.len() as u32
    }

    pub fn queued(&self) -> u32 {
        self.waiting.len() as u32
    }

    /// Every job the server holds: in service, queued, and completed but not yet handed out by
    /// `complete_due`.
    pub fn jobs(&self) -> u32 {
        (self.serving.len() + self.waiting.len() + self.finished.len()) as u32
    }

    /// CPU-milliseconds of work done since creation, up to `now`. Utilisation over an interval is
    /// the difference of two readings over capacity × length. Jobs removed by `clear` keep the
    /// work they had received.
    pub fn work_done(&mut self, now: SimTime) -> f64 {
        self.advance(now, None);
        self.work_done
    }

    /// The rate at which each job in service progresses, in CPU-ms per ms.
    fn rate(&self) -> f64 {
        self.rate
    }

    fn refresh_rate(&mut self) {
        self.rate = match self.serving.len() {
            0 => 0.0,
            n if n <= self.full_speed_jobs as usize => self.per_job_cap,
            // c / 1 is c exactly.
            1 => self.capacity.min(self.per_job_cap),
            n => (self.capacity / n as f64).min(self.per_job_cap),
        };
    }

    fn has_free_slot(&self) -> bool {
        (self.serving.len() as u64) < u64::from(self.concurrency_limit)
    }

    /// The exact instant a job with key `finish` completes, given that `V` is current at `from`
    /// and the number in service does not change before. `None` if it never does.
    fn finish_instant(&self, from: f64, finish: f64) -> Option<f64> {
        let remaining = finish - self.attained;
        if remaining <= 0.0 {
            return Some(from);
        }
        let rate = self.rate();
        if rate <= 0.0 {
            return None;
        }
        // A job at the full default cap of one vCPU is the common case: dividing by 1 is exact,
        // so skipping the division changes no bit.
        let at = from + if rate == 1.0 { remaining } else { remaining / rate };
        at.is_finite().then_some(at)
    }

    /// Whether the job with key `finish` certainly completes after `end` (past the tolerance),
    /// `V` being current at `t`: a multiplication that settles most calls, where
    /// `finish_instant`'s answer would take a division. The margin of one more tolerance covers
    /// the rounding of both forms while the instants are below 10^12 ms (31 years); beyond that,
    /// or when unsure, it answers `false` and the exact test decides.
    fn surely_after(&self, finish: f64, t: f64, end: f64) -> bool {
        end < 1e12 && finish - self.attained > self.rate() * (end - t + 2.0 * TOLERANCE_MS)
    }

    fn start(&mut self, id: JobId, arrived: SimTime, started: SimTime, work: f64) {
        let finish = self.attained + work;
        self.serving.push(Serving { finish, seq: self.next_seq, id, arrived, started });
        self.next_seq += 1;
        self.refresh_rate();
    }

    /// Brings the server from `self.now` up to `now`: completes, at their exact instants, the
    /// jobs that finish by then, filling each freed slot from the queue at that instant, then
    /// advances `V` to `now`.
    ///
    /// The completed jobs go to `out`, or without one are held for the next `complete_due`.
    fn advance(&mut self, now: SimTime, mut out: Option<&mut Vec<Completed>>) {
        let now = now.max(self.now);
        let end = now as f64;
        let mut t = self.now as f64;
        while let Some(&top) = self.serving.peek() {
            if self.surely_after(top.finish, t, end) {
                break;
            }
            let Some(at) = self.finish_instant(t, top.finish) else { break };
            if at - TOLERANCE_MS > end {
                break;
            }
            // Within the tolerance the job may be due a hair after `now`; it completes at `now`.
            // (max/min rather than clamp, which panics on NaN; `t <= end` holds anyway.)
            let at = at.max(t).min(end);
            let target = top.finish.max(self.attained);
            self.work_done += self.serving.len() as f64 * (target - self.attained);
            self.attained = target;
            t = at;
            // Only a server with every slot taken can have a queue.
            let was_full = !self.has_free_slot();
            self.serving.pop();
            self.refresh_rate();
            let done = Completed { id: top.id, arrived: top.arrived, started: top.started };
            match out.as_deref_mut() {
                Some(out) => out.push(done),
                None => {
                    self.finished.push(done);
                    self.held += 1;
                }
            }
            if self.serving.is_empty() {
                self.attained = 0.0;
            }
            if was_full {
                let started = ceil_ms(at - TOLERANCE_MS).min(now);
                while self.has_free_slot() {
                    let Some(w) = self.waiting.pop_front() else { break };
                    self.start(w.id, w.arrived, started.max(w.arrived), w.work);
                }
            }
        }
        if end > t {
            let n = self.serving.len() as f64;
            let dv = self.rate() * (end - t);
            self.work_done += n * dv;
            self.attained += dv;
        }
        self.now = now;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{Distribution, RngStreams};

    const UNLIMITED: u32 = u32::MAX;

    /// The layout the request path counts on: the scalars every arrival and completion reads in
    /// one cache line, the per-job cap, the count of jobs in service and the first job in the
    /// next.
    #[test]
    fn hot_fields_fill_two_cache_lines() {
        use std::mem::offset_of;
        assert_eq!(offset_of!(ProcessorSharing, capacity), 56);
        let first_job = offset_of!(ProcessorSharing, serving) + offset_of!(JobsInService, inline);
        assert!(first_job + std::mem::size_of::<Serving>() <= 128, "first job ends at {first_job} + 40");
    }

    /// The rate without a division is the rate with one, to the bit, for every `n`: capacities
    /// and caps around the boundary `n · cap = capacity`, fractional ones, zero and huge.
    #[test]
    fn rate_kept_without_division_equals_the_formula() {
        let streams = RngStreams::new(11);
        let mut rng = streams.stream("rates");
        let mut cases: Vec<(f64, f64)> = vec![
            (8.0, 1.0),
            (0.375, 1.0),
            (0.1 * 3.0, 0.1),
            (1.0, 1.0 / 3.0),
            (0.0, 1.0),
            (1e15, 1e-6),
            (1e15, f64::INFINITY),
            (2.0, 0.0),
        ];
        for _ in 0..2000 {
            let cap = f64::from(rand::RngExt::random_range(&mut rng, 1..40u32)) / 10.0;
            let n = f64::from(rand::RngExt::random_range(&mut rng, 1..20u32));
            let nudge = f64::from(rand::RngExt::random_range(&mut rng, 0..3u32)) - 1.0;
            let capacity = n * cap;
            cases.push((capacity + nudge * capacity * f64::EPSILON, cap));
        }
        for (capacity, cap) in cases {
            let mut ps = ProcessorSharing::new(capacity, cap, UNLIMITED, 0);
            for n in 1..=40u64 {
                ps.arrive(0, n, f64::INFINITY);
                let expected = (sanitize_rate(capacity).min(MAX_CAPACITY) / n as f64).min(sanitize_rate(cap));
                assert_eq!(ps.rate().to_bits(), expected.to_bits(), "capacity {capacity}, cap {cap}, n {n}");
            }
        }
    }

    /// The multiplication that skips the division never claims "after" for a job the exact test
    /// would complete by `end`.
    #[test]
    fn surely_after_never_contradicts_the_exact_instant() {
        let streams = RngStreams::new(5);
        let mut rng = streams.stream("instants");
        for _ in 0..100_000 {
            let capacity = f64::from(rand::RngExt::random_range(&mut rng, 1..64u32)) / 8.0;
            let mut ps = ProcessorSharing::new(capacity, 1.0, UNLIMITED, 0);
            let jobs = rand::RngExt::random_range(&mut rng, 1..6u32);
            let start: SimTime = rand::RngExt::random_range(&mut rng, 0..10_000_000_000);
            for id in 0..jobs {
                let work = f64::from(rand::RngExt::random_range(&mut rng, 0..4_000u32)) / 7.0;
                ps.arrive(start, u64::from(id), work);
            }
            let t = start as f64;
            let finish = ps.serving.peek().unwrap().finish;
            let exact = ps.finish_instant(t, finish).unwrap();
            // Ends around the exact instant, where the two tests could disagree.
            for delta in [-2.0, -1.0, -1e-3, 0.0, 1e-3, 1.0] {
                let end = (exact + delta).floor().max(t);
                if ps.surely_after(finish, t, end) {
                    assert!(exact - TOLERANCE_MS > end, "exact {exact}, end {end}");
                }
            }
        }
    }

    /// The inline heap pops in (finish, seq) order whatever the order of pushes, ties included,
    /// past its inline capacity too.
    #[test]
    fn in_service_pops_in_finish_then_admission_order() {
        let streams = RngStreams::new(7);
        let mut rng = streams.stream("heap");
        for n in [0, 1, 2, 3, 4, 5, 9, 40] {
            let mut heap = JobsInService::default();
            let mut jobs = Vec::new();
            for seq in 0..n {
                // Few distinct keys, so that ties are frequent.
                let finish = f64::from(rand::RngExt::random_range(&mut rng, 0..5u32));
                let job = Serving { finish, seq, id: seq, arrived: 0, started: 0 };
                heap.push(job);
                jobs.push(job);
            }
            jobs.sort_by(|a, b| a.finish.total_cmp(&b.finish).then(a.seq.cmp(&b.seq)));
            let popped: Vec<u64> = std::iter::from_fn(|| heap.pop()).map(|j| j.seq).collect();
            assert_eq!(popped, jobs.iter().map(|j| j.seq).collect::<Vec<_>>(), "n = {n}");
        }
    }

    /// Pushes and pops interleaved at random, the number held wandering across the inline
    /// capacity both ways, always give the earliest (finish, seq) job of those held.
    #[test]
    fn in_service_interleaved_across_the_inline_capacity() {
        let streams = RngStreams::new(9);
        let mut rng = streams.stream("interleaved");
        let mut heap = JobsInService::default();
        let mut held: Vec<Serving> = Vec::new();
        for seq in 0..20_000u64 {
            // Pushes win slightly while few are held, pops while many: the count drifts around
            // the inline capacity.
            let push_odds = if held.len() < INLINE_JOBS { 60 } else { 40 };
            if rand::RngExt::random_range(&mut rng, 0..100u32) < push_odds {
                let finish = f64::from(rand::RngExt::random_range(&mut rng, 0..6u32));
                let job = Serving { finish, seq, id: seq, arrived: 0, started: 0 };
                heap.push(job);
                held.push(job);
            } else {
                let expected = held
                    .iter()
                    .enumerate()
                    .min_by(|a, b| a.1.finish.total_cmp(&b.1.finish).then(a.1.seq.cmp(&b.1.seq)))
                    .map(|(k, _)| k);
                let got = heap.pop().map(|j| j.seq);
                assert_eq!(got, expected.map(|k| held.remove(k).seq), "after {seq} steps");
            }
            assert_eq!(heap.len(), held.len());
            let earliest =
                held.iter().map(|j| (j.finish, j.seq)).min_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
            assert_eq!(heap.peek().map(|j| (j.finish, j.seq)), earliest);
        }
    }

    fn drain(ps: &mut ProcessorSharing, now: SimTime) -> Vec<Completed> {
        let mut out = Vec::new();
        ps.complete_due(now, &mut out);
        out
    }

    /// Runs every completion to the end, returning (completion time, job) in order.
    fn run_to_end(ps: &mut ProcessorSharing) -> Vec<(SimTime, Completed)> {
        let mut all = Vec::new();
        let mut out = Vec::new();
        while let Some(t) = ps.next_completion() {
            ps.complete_due(t, &mut out);
            assert!(!out.is_empty(), "next_completion {t} completed nothing");
            all.extend(out.drain(..).map(|c| (t, c)));
        }
        all
    }

    #[derive(Debug, Default)]
    struct Stats {
        jobs: u64,
        sum_wait: f64,
        sum_response: f64,
    }

    impl Stats {
        fn mean_wait(&self) -> f64 {
            self.sum_wait / self.jobs as f64
        }
        fn mean_response(&self) -> f64 {
            self.sum_response / self.jobs as f64
        }
    }

    /// Poisson arrivals and exponential work through `ps`, driven by hand: the next arrival or
    /// the next completion, whichever is first. Every job must be admitted.
    fn simulate(ps: &mut ProcessorSharing, seed: u64, jobs: u64, mean_gap: f64, mean_work: f64) -> Stats {
        let streams = RngStreams::new(seed);
        let mut gaps = streams.stream("arrivals");
        let mut works = streams.stream("work");
        let gap = Distribution::exponential(mean_gap).unwrap();
        let work = Distribution::exponential(mean_work).unwrap();
        let mut clock = gap.sample(&mut gaps);
        let mut next_arrival = Some(clock.round() as SimTime);
        let mut id = 0;
        let mut stats = Stats::default();
        let mut out = Vec::new();
        loop {
            let next_completion = ps.next_completion();
            match next_arrival {
                Some(ta) if next_completion.is_none_or(|tc| tc > ta) => {
                    assert_ne!(ps.arrive(ta, id, work.sample(&mut works)), Admission::Rejected);
                    id += 1;
                    next_arrival = (id < jobs).then(|| {
                        clock += gap.sample(&mut gaps);
                        clock.round() as SimTime
                    });
                }
                _ => {
                    let Some(tc) = next_completion else { break };
                    ps.complete_due(tc, &mut out);
                    for c in out.drain(..) {
                        stats.jobs += 1;
                        stats.sum_wait += (c.started - c.arrived) as f64;
                        stats.sum_response += (tc - c.arrived) as f64;
                    }
                }
            }
        }
        assert_eq!(stats.jobs, jobs);
        stats
    }

    /// The probability that an arrival waits in M/M/c with offered load `a` = λ/μ (Erlang C).
    fn erlang_c(c: u32, a: f64) -> f64 {
        let mut term = 1.0; // a^k / k!
        let mut below = 0.0;
        for k in 0..c {
            below += term;
            term *= a / f64::from(k + 1);
        }
        let top = term * f64::from(c) / (f64::from(c) - a);
        top / (below + top)
    }

    #[test]
    fn mm1_ps_mean_response_is_s_over_one_minus_rho() {
        // ρ = 0.5, S = 1000 ms: E[T] = 2000 ms. 300,000 jobs: over 30 seeds the relative standard
        // deviation of the mean was 0.6%, and rounding completions up to whole ms adds at most
        // 0.05%. Tolerance 3% (5σ).
        let (s, rho) = (1000.0, 0.5);
        let mut ps = ProcessorSharing::new(1.0, 1.0, UNLIMITED, 0);
        let stats = simulate(&mut ps, 11, 300_000, s / rho, s);
        let expected = s / (1.0 - rho);
        let measured = stats.mean_response();
        println!("M/M/1-PS: mean response {measured:.1} ms, expected {expected:.1} ms");
        assert!((measured / expected - 1.0).abs() < 0.03, "mean response {measured}, expected {expected}");
        assert_eq!(stats.mean_wait(), 0.0, "nobody waits with unlimited concurrency");
    }

    #[test]
    fn mmc_mean_wait_matches_erlang_c() {
        // c = 4, ρ = 0.7, S = 1000 ms: P(wait) = C(4, 2.8) ≈ 0.429, Wq = C·S/(c − a) ≈ 357 ms.
        // The mean wait is a noisy statistic (most jobs wait 0, busy periods correlate them):
        // over 30 seeds of 300,000 jobs its relative standard deviation was 2.1%, so this runs
        // 1,500,000 jobs (about 1%) for a 3% tolerance on Wq to sit at 3σ. Tolerance 3% on Wq and
        // on Wq + S (whose deviation is under 0.3% here).
        let (c, s, rho) = (4u32, 1000.0, 0.7);
        let a = rho * f64::from(c);
        let mut ps = ProcessorSharing::new(f64::from(c), 1.0, c, UNLIMITED);
        let stats = simulate(&mut ps, 12, 1_500_000, s / a, s);
        let wq = erlang_c(c, a) * s / (f64::from(c) - a);
        let (w, r) = (stats.mean_wait(), stats.mean_response());
        println!("M/M/4: mean wait {w:.1} ms (Erlang C {wq:.1}), mean response {r:.1} ms (expected {:.1})", wq + s);
        assert!((w / wq - 1.0).abs() < 0.03, "mean wait {w}, Erlang C {wq}");
        assert!((r / (wq + s) - 1.0).abs() < 0.03, "mean response {r}, expected {}", wq + s);
    }

    #[test]
    fn two_jobs_on_four_cpus_each_run_at_one_cpu() {
        let mut ps = ProcessorSharing::new(4.0, 1.0, UNLIMITED, 0);
        assert_eq!(ps.arrive(0, 1, 1000.0), Admission::InService);
        assert_eq!(ps.arrive(0, 2, 1000.0), Admission::InService);
        assert_eq!(ps.next_completion(), Some(1000));
        let done = run_to_end(&mut ps);
        assert_eq!(done.iter().map(|&(t, c)| (t, c.id)).collect::<Vec<_>>(), [(1000, 1), (1000, 2)]);
        assert_eq!(ps.work_done(1000), 2000.0);
    }

    #[test]
    fn eight_jobs_on_four_cpus_each_run_at_half_a_cpu() {
        let mut ps = ProcessorSharing::new(4.0, 1.0, UNLIMITED, 0);
        for id in 0..8 {
            ps.arrive(0, id, 1000.0);
        }
        assert_eq!(ps.next_completion(), Some(2000));
        assert_eq!(ps.work_done(1000), 4000.0, "all four CPUs busy");
        let done = run_to_end(&mut ps);
        assert_eq!(done.len(), 8);
        assert!(done.iter().all(|&(t, _)| t == 2000));
        assert_eq!(done.iter().map(|(_, c)| c.id).collect::<Vec<_>>(), (0..8).collect::<Vec<_>>());
    }

    #[test]
    fn rate_is_min_of_cap_and_share_as_jobs_leave() {
        // 4 CPUs, works 100, 200, ..., 800 at t = 0. By hand, V and t:
        // n=8 r=1/2: V 0→100 at t=200;  n=7 r=4/7: V→200 at 375;  n=6 r=2/3: V→300 at 525;
        // n=5 r=4/5: V→400 at 650;  n=4..1 r=1 (the per-job cap): 750, 850, 950, 1050.
        let mut ps = ProcessorSharing::new(4.0, 1.0, UNLIMITED, 0);
        for id in 1..=8 {
            ps.arrive(0, id, 100.0 * id as f64);
        }
        let done = run_to_end(&mut ps);
        let expected = [(200, 1), (375, 2), (525, 3), (650, 4), (750, 5), (850, 6), (950, 7), (1050, 8)];
        assert_eq!(done.iter().map(|&(t, c)| (t, c.id)).collect::<Vec<_>>(), expected);
        assert!((ps.work_done(1050) - 3600.0).abs() < 1e-9);
    }

    #[test]
    fn no_per_job_cap_gives_one_job_all_cpus() {
        let mut ps = ProcessorSharing::new(4.0, f64::INFINITY, UNLIMITED, 0);
        ps.arrive(0, 1, 1000.0);
        assert_eq!(ps.next_completion(), Some(250));
    }

    #[test]
    fn arrivals_beyond_limits_are_rejected_and_queued_jobs_start_fifo() {
        let mut ps = ProcessorSharing::new(1.0, 1.0, 2, 2);
        let admissions: Vec<_> = (1..=5).map(|id| ps.arrive(0, id, 100.0)).collect();
        use Admission::*;
        assert_eq!(admissions, [InService, InService, Queued, Queued, Rejected]);
        assert_eq!((ps.in_service(), ps.queued()), (2, 2));
        // Two at half a CPU finish at 200; jobs 3 and 4 start then and finish at 400.
        let done = run_to_end(&mut ps);
        let got: Vec<_> = done.iter().map(|&(t, c)| (t, c.id, c.started)).collect();
        assert_eq!(got, [(200, 1, 0), (200, 2, 0), (400, 3, 200), (400, 4, 200)]);
        assert_eq!((ps.in_service(), ps.queued()), (0, 0));

        // One slot, no queue: the second arrival is rejected while the first is served.
        let mut ps = ProcessorSharing::new(1.0, 1.0, 1, 0);
        assert_eq!(ps.arrive(0, 1, 100.0), InService);
        assert_eq!(ps.arrive(50, 2, 100.0), Rejected);
        assert_eq!(ps.arrive(100, 3, 100.0), InService, "the first job's slot is free at 100");
        assert_eq!(drain(&mut ps, 100).len(), 1);

        // FIFO, not shortest first: with one slot the queue keeps arrival order.
        let mut ps = ProcessorSharing::new(1.0, 1.0, 1, UNLIMITED);
        for (id, work) in [(1, 300.0), (2, 200.0), (3, 100.0)] {
            ps.arrive(0, id, work);
        }
        let got: Vec<_> = run_to_end(&mut ps).iter().map(|&(t, c)| (t, c.id, c.started)).collect();
        assert_eq!(got, [(300, 1, 0), (500, 2, 300), (600, 3, 500)]);
    }

    #[test]
    fn capacity_change_mid_service_moves_the_completion() {
        // One job of 1000 CPU-ms on 1 CPU; at 400 ms the capacity halves: the remaining 600
        // take 1200 ms, so it completes at 1600.
        let mut ps = ProcessorSharing::new(1.0, 1.0, UNLIMITED, 0);
        ps.arrive(0, 1, 1000.0);
        assert_eq!(ps.next_completion(), Some(1000));
        ps.set_capacity(400, 0.5);
        assert_eq!(ps.next_completion(), Some(1600));
        assert!(drain(&mut ps, 1599).is_empty());
        assert_eq!(drain(&mut ps, 1600).len(), 1);

        // Two jobs (300 and 1000) share 1 CPU: V = 50 at 100 ms, when capacity becomes 3; each
        // then runs at its cap of 1: the first finishes at 100 + 250 = 350, the second alone at
        // 350 + (1000 − 300) = 1050.
        let mut ps = ProcessorSharing::new(1.0, 1.0, UNLIMITED, 0);
        ps.arrive(0, 1, 300.0);
        ps.arrive(0, 2, 1000.0);
        ps.set_capacity(100, 3.0);
        let got: Vec<_> = run_to_end(&mut ps).iter().map(|&(t, c)| (t, c.id)).collect();
        assert_eq!(got, [(350, 1), (1050, 2)]);

        // A fractional instant is rounded up: 100 CPU-ms on 0.3 CPU take 333.3 ms.
        let mut ps = ProcessorSharing::new(0.3, 1.0, UNLIMITED, 0);
        ps.arrive(0, 1, 100.0);
        assert_eq!(ps.next_completion(), Some(334));
        assert!(drain(&mut ps, 333).is_empty());

        // No capacity: nothing progresses until it comes back. 200 CPU-ms: 100 done by 100 ms,
        // nothing from 100 to 500, the rest from 500 to 600.
        let mut ps = ProcessorSharing::new(1.0, 1.0, UNLIMITED, 0);
        ps.arrive(0, 1, 200.0);
        ps.set_capacity(100, 0.0);
        assert_eq!(ps.next_completion(), None);
        assert!(drain(&mut ps, 10_000).is_empty());
        ps.set_capacity(10_000, 1.0);
        assert_eq!(ps.next_completion(), Some(10_100));
        assert_eq!(ps.work_done(10_100), 200.0);
    }

    #[test]
    fn late_calls_complete_each_job_at_its_exact_instant() {
        // One slot, three jobs of 100: they finish at 100, 200, 300 whatever the caller's delay,
        // and each queued job starts when its predecessor finished.
        let mut ps = ProcessorSharing::new(1.0, 1.0, 1, UNLIMITED);
        for id in 1..=3 {
            ps.arrive(0, id, 100.0);
        }
        let done = drain(&mut ps, 1000);
        let got: Vec<_> = done.iter().map(|c| (c.id, c.started)).collect();
        assert_eq!(got, [(1, 0), (2, 100), (3, 200)]);
        assert_eq!(ps.work_done(1000), 300.0);

        // A completion in the middle of a millisecond frees its share from that instant: on 1
        // CPU, jobs of 50 and 200 share until V = 50 at t = 100, then the second runs alone and
        // finishes at 250, even if nobody collects the first until 240.
        let mut ps = ProcessorSharing::new(1.0, 1.0, UNLIMITED, 0);
        ps.arrive(0, 1, 50.0);
        ps.arrive(0, 2, 200.0);
        assert_eq!(drain(&mut ps, 240).len(), 1);
        assert_eq!(ps.next_completion(), Some(250));
    }

    #[test]
    fn an_arrival_before_the_due_completion_is_collected_still_sees_the_freed_slot() {
        // Events of one millisecond in either order: the arrival at 100 is processed before the
        // completion due at 100. The finished job is held for complete_due and the slot is free.
        let mut ps = ProcessorSharing::new(1.0, 1.0, 1, 0);
        ps.arrive(0, 1, 100.0);
        assert_eq!(ps.arrive(100, 2, 100.0), Admission::InService);
        assert_eq!(ps.next_completion(), Some(100));
        assert_eq!(drain(&mut ps, 100).iter().map(|c| c.id).collect::<Vec<_>>(), [1]);
        assert_eq!(ps.next_completion(), Some(200));
    }

    #[test]
    fn every_admitted_job_completes_once_and_work_is_conserved() {
        // Random arrivals and log-normal work through 3 slots and a queue of 5, with capacity
        // changing at random and the caller sometimes late; plus odd work (0, NaN, negative).
        let streams = RngStreams::new(5);
        let mut rng = streams.stream("conservation");
        let gap = Distribution::exponential(40.0).unwrap();
        let work = Distribution::lognormal_mean_sigma(100.0, 1.0).unwrap();
        let delay = Distribution::uniform(0.0, 30.0).unwrap();
        let capacity = Distribution::uniform(0.0, 4.0).unwrap();
        let mut ps = ProcessorSharing::new(2.0, 1.0, 3, 5);
        let jobs = 50_000u64;
        let mut work_of = vec![f64::NAN; jobs as usize];
        let mut completions = vec![0u32; jobs as usize];
        let mut rejected = 0;
        let mut t: SimTime = 0;
        let mut out = Vec::new();
        for id in 0..jobs {
            t += gap.sample_duration(&mut rng);
            // Collect what is due, sometimes late, before the arrival.
            while let Some(tc) = ps.next_completion().filter(|&tc| tc <= t) {
                let at = (tc + delay.sample_duration(&mut rng)).min(t);
                ps.complete_due(at, &mut out);
            }
            if id % 97 == 0 {
                ps.set_capacity(t, capacity.sample(&mut rng));
            }
            let w = match id % 1000 {
                1 => 0.0,
                2 => f64::NAN,
                3 => -5.0,
                _ => work.sample(&mut rng),
            };
            match ps.arrive(t, id, w) {
                Admission::Rejected => rejected += 1,
                _ => work_of[id as usize] = sanitize_work(w),
            }
            for c in out.drain(..) {
                completions[c.id as usize] += 1;
                assert!(c.arrived <= c.started && c.started <= t);
            }
        }
        ps.set_capacity(t, 1.0);
        for (_, c) in run_to_end(&mut ps) {
            completions[c.id as usize] += 1;
        }
        let mut sum = 0.0;
        for id in 0..jobs as usize {
            let admitted = !work_of[id].is_nan();
            assert_eq!(completions[id], u32::from(admitted), "job {id}");
            if admitted {
                sum += work_of[id];
            }
        }
        let end = ps.work_done(u64::MAX / 2);
        println!("conservation: {rejected} rejected of {jobs}; work done {end:.3}, sum of work {sum:.3}");
        assert!(rejected > 0, "the test should exercise rejection");
        assert!((end - sum).abs() <= 1e-9 * sum, "work done {end}, sum of completed work {sum}");
    }

    #[test]
    fn clear_removes_every_job_in_service_and_queued() {
        let mut ps = ProcessorSharing::new(1.0, 1.0, 2, 3);
        for id in 1..=6 {
            ps.arrive(0, id, 100.0 * id as f64);
        }
        assert_eq!(ps.work_done(50), 50.0);
        let mut ids = Vec::new();
        ps.clear(&mut ids);
        assert_eq!(ids, [1, 2, 3, 4, 5]);
        assert_eq!((ps.in_service(), ps.queued(), ps.next_completion()), (0, 0, None));
        // The server is usable afterwards and kept the work done before.
        assert_eq!(ps.work_done(100), 50.0);
        ps.arrive(100, 7, 100.0);
        assert_eq!(ps.next_completion(), Some(200));
    }

    #[test]
    fn nonsense_inputs_do_not_panic() {
        // NaN capacity and cap mean no progress; zero-work jobs still complete at once.
        let mut ps = ProcessorSharing::new(f64::NAN, f64::NAN, 2, 1);
        assert_eq!(ps.arrive(0, 1, 100.0), Admission::InService);
        assert_eq!(ps.next_completion(), None);
        assert_eq!(ps.arrive(0, 2, f64::NAN), Admission::InService);
        assert_eq!(ps.next_completion(), Some(0));
        assert_eq!(drain(&mut ps, 0).iter().map(|c| c.id).collect::<Vec<_>>(), [2]);

        // Infinite capacity is clamped to a finite one; infinite work never completes.
        let mut ps = ProcessorSharing::new(f64::INFINITY, f64::INFINITY, UNLIMITED, 0);
        ps.arrive(0, 1, f64::INFINITY);
        ps.arrive(0, 2, 1e9);
        assert_eq!(ps.next_completion(), Some(0));
        assert_eq!(drain(&mut ps, 0).len(), 1);
        assert_eq!(ps.next_completion(), None);
        assert!(ps.work_done(10).is_finite());

        // No slots: everything queues or is rejected, nothing ever completes.
        let mut ps = ProcessorSharing::new(1.0, 1.0, 0, 1);
        assert_eq!(ps.arrive(0, 1, 1.0), Admission::Queued);
        assert_eq!(ps.arrive(0, 2, 1.0), Admission::Rejected);
        assert_eq!(ps.next_completion(), None);

        // Time running backwards is taken as the latest instant seen.
        let mut ps = ProcessorSharing::new(1.0, 1.0, UNLIMITED, 0);
        ps.arrive(100, 1, 100.0);
        ps.arrive(50, 2, 100.0);
        assert_eq!(ps.next_completion(), Some(300));
        let done = drain(&mut ps, 10);
        assert!(done.is_empty());
        assert_eq!(run_to_end(&mut ps).iter().map(|(_, c)| c.arrived).collect::<Vec<_>>(), [100, 100]);

        // A huge time does not overflow.
        let mut ps = ProcessorSharing::new(1e-12, 1.0, UNLIMITED, 0);
        ps.arrive(0, 1, 1e12);
        assert_eq!(ps.next_completion(), Some(SimTime::MAX));
    }

    #[test]
    fn a_hundred_thousand_concurrent_jobs_cost_log_n_each() {
        // All in service at once: a rescan per event would be 10^10 steps; the heap is fast.
        let n = 100_000u64;
        let mut ps = ProcessorSharing::new(8.0, 1.0, UNLIMITED, 0);
        for id in 0..n {
            ps.arrive(id / 100, id, 1000.0 + (id % 997) as f64);
        }
        let done = run_to_end(&mut ps);
        assert_eq!(done.len() as u64, n);
        assert!(done.windows(2).all(|w| w[0].0 <= w[1].0));
    }
}
