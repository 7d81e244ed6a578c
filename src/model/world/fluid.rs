//! The fluid fidelity: requests as flows, for clusters too large to simulate request by request.
//!
//! Every second each workload's expected arrivals (the rate integrated over the second) are
//! split evenly over the routable targets of its target group, as the ALB spreads them. Each
//! task then serves its share as a fluid queue: it completes at most its full-CPU throughput
//! (`capacity × 1000 / mean service time` requests per second), the rest waits as a backlog,
//! past `max_concurrency + queue_limit` refused with a 503. A task without a backlog answers in
//! the mean response time of its queue at the offered load: M/G/1 processor sharing
//! (`(S/c) / (1 − ρ)`) when one request may use all its CPU, M/M/k (Erlang C) when requests are
//! capped at a fraction of it; with a backlog, the backlog's wait comes on top. Response times
//! are taken to be exponential around that mean for the percentiles [assume: exact for M/M/1
//! FCFS; processor sharing has the same mean]. Everything else (health checks, scaling,
//! placement, deployments, billing) stays event by event.
//!
//! Tasks of a target group that are in the same state get the same share and so stay in the
//! same state: such a [`Cohort`] is served as one, a second costing the same for 5 tasks or 500.

use super::*;

use crate::model::task_definition::TaskDefinition;
use crate::model::workload::Workload;

/// The fluid step.
pub(super) const FLUID_STEP: SimTime = crate::engine::SECOND;

/// A workload's fractional arrivals carried to the next second.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct FluidCarry {
    arrivals: f64,
    /// The workload's rate as the last second left it.
    rate: crate::model::workload::SineStepper,
}

/// Fractional counts of a service carried to the next second, so that the integer counts the
/// outputs show add up to the fluid totals.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct FluidCounts {
    errors: f64,
    answered: f64,
}

/// The fluid fidelity's state.
#[derive(Debug, Default)]
pub(super) struct FluidState {
    carry: Vec<FluidCarry>,
    counts: Vec<FluidCounts>,
    /// Each task's fluid queue, by task: kept apart from the task's `Serving` (a box each) so
    /// that a second of a thousand tasks reads one dense array.
    tasks: Vec<FluidTask>,
    /// Which workload's requests each target group serves.
    tg_workload: Vec<Option<usize>>,
    /// The tasks left with a backlog by their last second.
    backlogged: Vec<usize>,
    /// By target group: its tasks that share one state.
    cohorts: Vec<Cohort>,
    /// By task: whether the last minute's count found it in its cohort, where it still is (see
    /// `Cohort::counted`). A byte per task, so that the minute's count finds the tasks it counts
    /// by cohort without reading their queues.
    counted_by_cohort: Vec<bool>,
    /// By task: a mark that a split leaves on the tasks it looks at, so that it tells members
    /// staying from members leaving without searching its lists (see `fluid_split`).
    split_marks: Vec<u64>,
    /// Splits made so far: each marks with its own numbers, and no mark needs clearing.
    splits: u64,
}

/// The candidates of one target group (the targets the ALB sends new requests to), split into
/// the tasks that share one fluid state, served as one, and the others, served one by one.
///
/// Every candidate gets the same share of a second, so tasks in the same state (the same task
/// definition, capacity, backlog, requests and memory in flight) leave the second in the same
/// state: once in, a task stays until it is no longer a candidate (its target drains or turns
/// unhealthy), its capacity changes, or it stops. It then leaves, taking the shared state as
/// its own. New candidates start single and join once a second leaves them in the cohort's state:
/// the members still share every second alike, whatever the number of candidates it is split
/// over.
#[derive(Debug, Default)]
struct Cohort {
    /// The target group's version the split was made at; `None` when it must be made again.
    version: Option<u64>,
    /// The target group's candidacy version the split was made at (see `fluid_split`).
    candidacy: Option<u64>,
    /// Whether `singles` are in candidate order, as a split leaves them; a cohort founded
    /// anew puts its old members after them.
    singles_in_candidate_order: bool,
    members: Vec<usize>,
    /// Candidates not in the cohort.
    singles: Vec<usize>,
    /// The members' shared state; `work` is what each member did since the cohort formed.
    state: FluidTask,
    task_definition: usize,
    /// The members' service, and each member's instance, in `members`' order.
    service: usize,
    member_instances: Vec<usize>,
    /// The first `counted` members were members at the last minute's count, when the cohort
    /// had done `work_counted`: each of them has done the cohort's work since, so the minute's
    /// count works their statistics out once for all. A member counted so keeps no count of its
    /// own: it is `work + work_counted - cohort_work_at_join`, taken when it leaves.
    counted: usize,
    work_counted: f64,
    /// The last seconds worked out for the members, by what they depend on: the share of a
    /// second changes by a request or so from one second to the next, so the same few recur.
    seconds: [Option<(Key, Second)>; 4],
}

impl FluidState {
    /// Service `s`'s minute, cohort by cohort, for the members that were in their cohort at the
    /// last minute's count; the others are counted one by one.
    pub(super) fn cohort_minutes(&self, s: usize) -> impl Iterator<Item = CohortMinute<'_>> {
        self.cohorts.iter().filter(move |c| c.service == s && c.counted > 0).map(|c| CohortMinute {
            task_definition: c.task_definition,
            work: c.state.work - c.work_counted,
            memory_in_flight: c.state.memory,
            reserved_vcpu: c.state.reserved_vcpu,
            instances: &c.member_instances[..c.counted],
        })
    }
}

impl Cohort {
    /// The members for which `stays` is false leave, each taking the shared state as its own;
    /// those that leave with a backlog go to `backlogged`, to be served as singles.
    fn release(
        &mut self,
        tasks: &mut [FluidTask],
        counted_by_cohort: &mut [bool],
        backlogged: &mut Vec<usize>,
        mut stays: impl FnMut(usize) -> bool,
    ) {
        let (mut kept, mut counted) = (0, 0);
        for k in 0..self.members.len() {
            let t = self.members[k];
            if stays(t) {
                self.members[kept] = t;
                self.member_instances[kept] = self.member_instances[k];
                kept += 1;
                counted += usize::from(k < self.counted);
                continue;
            }
            counted_by_cohort[t] = false;
            let work_counted = (k < self.counted).then_some(self.work_counted);
            if tasks[t].leave_cohort(&self.state, work_counted) {
                backlogged.push(t);
            }
        }
        self.members.truncate(kept);
        self.member_instances.truncate(kept);
        self.counted = counted;
        if kept == 0 {
            self.state = FluidTask::default();
        }
    }

    /// Tasks `founders`, single and alike, become the cohort's members, the state of the first
    /// its shared state; the cohort must have none.
    fn found(&mut self, tg: usize, service: usize, founders: &[usize], tasks: &mut [FluidTask]) {
        debug_assert!(self.members.is_empty());
        let first = tasks[founders[0]];
        self.task_definition = first.task_definition;
        self.service = service;
        self.state = FluidTask { work: 0.0, cohort: None, ..first };
        self.counted = 0;
        for &t in founders {
            tasks[t].cohort = Some(tg);
            tasks[t].cohort_work_at_join = 0.0;
            self.members.push(t);
            self.member_instances.push(tasks[t].instance);
        }
    }
}

/// The members of a cohort that the minute counts as one, and what each of them did.
pub(super) struct CohortMinute<'a> {
    pub(super) task_definition: usize,
    /// CPU-ms of work each did since the last minute's count.
    pub(super) work: f64,
    pub(super) memory_in_flight: f64,
    pub(super) reserved_vcpu: f64,
    /// Their instances, one per member.
    pub(super) instances: &'a [usize],
}

/// A task's fluid queue.
///
/// Laid out on cache-line boundaries, what a second reads and writes first: the cohort splits
/// read and write hundreds of these at a time, scattered over the array, and one that straddles
/// a third line costs a third miss.
#[derive(Clone, Copy, Debug)]
#[repr(C, align(64))]
pub(super) struct FluidTask {
    /// Whether the task serves (registered with a target group and not stopped).
    serving: bool,
    /// Whether the targets' security group admits the load balancer.
    reachable: bool,
    /// When the application answers requests.
    ready_at: SimTime,
    /// The vCPUs it may use.
    capacity: f64,
    /// Requests waiting beyond what it served.
    backlog: f64,
    /// Requests in flight (Little's law) and the MiB they hold.
    in_flight: f64,
    pub(super) memory: f64,
    /// CPU-ms of work done.
    pub(super) work: f64,
    /// When it was last served, so a second serves each task once.
    last_served: SimTime,
    /// The target group whose cohort the task is in, and the cohort's `work` when it joined:
    /// while in, its backlog, requests and memory in flight are the cohort's, and its work its
    /// own plus what the cohort did since.
    cohort: Option<usize>,
    cohort_work_at_join: f64,
    /// The task's instance and task definition, and the vCPUs its reservation stands for when
    /// it registered, copied here so that the minute's count reads this dense array and not
    /// every task.
    instance: usize,
    task_definition: usize,
    reserved_vcpu: f64,
    /// Work already counted into the service's busy time: the task's `Serving::work_accounted`
    /// while it serves, handed back to it when it stops.
    work_accounted: f64,
}

impl Default for FluidTask {
    fn default() -> Self {
        FluidTask {
            serving: false,
            reachable: false,
            ready_at: 0,
            capacity: 0.0,
            backlog: 0.0,
            in_flight: 0.0,
            memory: 0.0,
            work: 0.0,
            last_served: SimTime::MAX,
            cohort: None,
            cohort_work_at_join: 0.0,
            instance: 0,
            task_definition: 0,
            reserved_vcpu: 0.0,
            work_accounted: 0.0,
        }
    }
}

impl FluidTask {
    /// A member leaving its cohort takes the cohort's shared state as its own (its work counted
    /// from when it joined) and is single again; whether it leaves with a backlog, to be served
    /// as a single. `work_counted` is the cohort's work at the last minute's count if that count
    /// took this member with the cohort: what was counted then becomes its own count.
    /// Whether a task in this state and one in `other`'s live through a second alike: what the
    /// second's queueing depends on and what it leaves behind.
    fn alike(&self, other: &FluidTask) -> bool {
        (self.task_definition, self.capacity, self.backlog, self.in_flight, self.memory)
            == (other.task_definition, other.capacity, other.backlog, other.in_flight, other.memory)
    }

    fn leave_cohort(&mut self, shared: &FluidTask, work_counted: Option<f64>) -> bool {
        if let Some(work_counted) = work_counted {
            self.work_accounted = self.work + work_counted - self.cohort_work_at_join;
        }
        self.backlog = shared.backlog;
        self.in_flight = shared.in_flight;
        self.memory = shared.memory;
        self.work += shared.work - self.cohort_work_at_join;
        self.last_served = shared.last_served;
        self.cohort = None;
        self.backlog > 0.0
    }
}

/// A serving task's minute for the CPU and memory statistics.
pub(super) struct MinuteWork {
    pub(super) instance: usize,
    pub(super) task_definition: usize,
    /// CPU-ms of work done since the last minute's count.
    pub(super) work: f64,
    /// MiB held by the requests in flight.
    pub(super) memory_in_flight: f64,
    /// The denominator of the task's CPU utilization.
    pub(super) reserved_vcpu: f64,
}

/// One second of one task with no backlog, which every such task of a group shares: the ALB
/// gives them the same share, so the queueing formulas are worked out once per group and second.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Key {
    workload: usize,
    task_definition: usize,
    capacity: u64,
    backlog: u64,
    offered: u64,
}

#[derive(Clone, Copy, Debug)]
struct Second {
    served: f64,
    backlog: f64,
    refused: f64,
    response: f64,
    /// The part of the response spent waiting rather than served at full speed, ms.
    wait: f64,
    in_flight: f64,
    /// The share of the served requests answered after the ALB's timeout.
    late: f64,
}

/// What a batch of tasks' seconds add to their service, applied once.
#[derive(Debug, Default)]
struct Batch {
    errors: f64,
    in_flight_delta: f64,
    memory_delta: f64,
    /// Answered requests and their response time, ms, gathered while the response is the same.
    answered: f64,
    response: f64,
    wait: f64,
}

/// The mean response time, ms, of a task of `capacity` vCPUs whose requests use at most `cap`
/// vCPU each and take `mean_s` CPU-ms, at offered load `rho` (< 1).
pub(super) fn mean_response_ms(capacity: f64, cap: f64, mean_s: f64, rho: f64) -> f64 {
    let rho = rho.clamp(0.0, 0.999);
    if cap >= capacity || capacity <= 0.0 {
        return (mean_s / capacity.max(1e-9)) / (1.0 - rho);
    }
    let k = (capacity / cap).round().max(1.0) as u32;
    let s = mean_s / cap;
    let a = rho * f64::from(k);
    s + erlang_c(k, a) * s / (f64::from(k) * (1.0 - rho))
}

/// Erlang C: the probability that an arrival waits in M/M/k with offered load `a` Erlangs.
fn erlang_c(k: u32, a: f64) -> f64 {
    // Erlang B by its recurrence, then C from B.
    let mut b = 1.0;
    for n in 1..=k {
        b = a * b / (f64::from(n) + a * b);
    }
    let rho = a / f64::from(k);
    if rho >= 1.0 { 1.0 } else { b / (1.0 - rho * (1.0 - b)) }
}

impl Batch {
    /// `members` tasks that were in `task`'s state live through `second` alike: their shared
    /// state becomes the second's, their counts go into the batch. Returns the requests they
    /// answered, which the caller records with the second's response time.
    fn settle(
        &mut self,
        task: &mut FluidTask,
        second: &Second,
        members: f64,
        spec: &Workload,
        td: &TaskDefinition,
    ) -> f64 {
        let mean_s = spec.service_time.mean().max(1e-6);
        task.backlog = second.backlog;
        task.work += second.served * mean_s;
        self.in_flight_delta += members * (second.in_flight - task.in_flight);
        task.in_flight = second.in_flight;
        let memory = second.in_flight * spec.memory_per_request;
        self.memory_delta += members * (memory - task.memory);
        task.memory = memory;
        self.errors += members * second.refused;
        if crate::model::iam::missing_credentials(td.calls_aws_apis, td.task_role.as_ref()) {
            self.errors += members * second.served;
            return 0.0;
        }
        let late = second.served * second.late;
        self.errors += members * late;
        members * (second.served - late)
    }

    /// Requests answered in `second` into the batch, which goes to the histograms first when it
    /// holds requests answered in another time.
    fn answer(
        &mut self,
        second: &Second,
        answered: f64,
        counts: &mut FluidCounts,
        traffic: &mut traffic::ServiceTraffic,
    ) {
        if answered <= 0.0 {
            return;
        }
        if self.answered > 0.0 && (self.response, self.wait) != (second.response, second.wait) {
            self.record(counts, traffic);
        }
        self.response = second.response;
        self.wait = second.wait;
        self.answered += answered;
    }

    /// The batch's answered requests into the latency histograms, whole ones only: the fraction
    /// waits for the next.
    fn record(&mut self, counts: &mut FluidCounts, traffic: &mut traffic::ServiceTraffic) {
        let answered = std::mem::take(&mut self.answered);
        if answered <= 0.0 {
            return;
        }
        let (whole, k) = crate::engine::whole_part(counts.answered + answered);
        counts.answered = counts.answered + answered - whole;
        if k > 0 {
            let response = self.response;
            let ms = crate::engine::round_ms(response);
            traffic.minute_means.record_n(ms, k);
            traffic.response_ms_total += response * whole;
            traffic.wait_ms_total += self.wait * whole;
        }
    }
}

impl World<'_> {
    pub(super) fn start_fluid(&mut self) {
        let fluid = &mut self.fluid_state;
        fluid.carry = vec![FluidCarry::default(); self.scenario.workloads.len()];
        fluid.counts = vec![FluidCounts::default(); self.scenario.services.len()];
        // Which workload's requests each target group serves (a blue/green service's second
        // group serves its workload too).
        fluid.tg_workload = vec![None; self.target_groups.len()];
        fluid.cohorts = (0..self.target_groups.len()).map(|_| Cohort::default()).collect();
        for (w, spec) in self.scenario.workloads.iter().enumerate() {
            fluid.tg_workload[spec.target_group] = Some(w);
            if let Some(s) = self.workloads[w].service
                && let Some(bg) = self.scenario.services[s].blue_green
            {
                fluid.tg_workload[bg.green_target_group] = Some(w);
            }
        }
        if !self.scenario.workloads.is_empty() && FLUID_STEP <= self.scenario.duration {
            self.queue.schedule(FLUID_STEP, Event::FluidTick);
        }
    }

    /// One second of every workload's traffic.
    pub(super) fn fluid_tick(&mut self) {
        let now = self.now();
        let from = now - FLUID_STEP;
        for tg in 0..self.target_groups.len() {
            if self.fluid_state.tg_workload[tg].is_some() {
                self.fluid_split(tg);
            }
        }
        let backlogged = std::mem::take(&mut self.fluid_state.backlogged);
        for w in 0..self.scenario.workloads.len() {
            let Some(s) = self.workloads[w].service else { continue };
            let spec = &self.scenario.workloads[w];
            let carry = &mut self.fluid_state.carry[w];
            let expected =
                spec.arrivals.expected_arrivals_stepping(from.max(spec.start), now.max(spec.start), &mut carry.rate);
            let total = carry.arrivals + expected;
            let (n, whole) = crate::engine::whole_part(total);
            carry.arrivals = total - n;
            self.traffic[s].minute_requests += whole;
            let mut tg = spec.target_group;
            let mut to_replacement = 0.0;
            if self.scenario.services[s].blue_green.is_some() {
                tg = self.services[s].production_target_group.unwrap_or(tg);
                if let Some((to, percent)) = self.services[s].replacement_traffic {
                    to_replacement = n * f64::from(percent) / 100.0;
                    self.fluid_route(s, w, to, to_replacement);
                }
            }
            self.fluid_route(s, w, tg, n - to_replacement);
        }
        // Tasks and cohorts that got nothing this second (draining, say) still work off their
        // backlog.
        for tg in 0..self.fluid_state.cohorts.len() {
            let cohort = &self.fluid_state.cohorts[tg];
            if cohort.members.is_empty() || cohort.state.backlog <= 0.0 || cohort.state.last_served == now {
                continue;
            }
            let Some(w) = self.fluid_state.tg_workload[tg] else { continue };
            let Some(s) = self.workloads[w].service else { continue };
            let mut batch = Batch::default();
            self.fluid_serve_cohort(s, w, tg, 0.0, &mut batch);
            self.fluid_apply(s, &mut batch);
        }
        for t in backlogged {
            let waiting = self.fluid_task(t).is_some_and(|x| x.serving && x.cohort.is_none() && x.backlog > 0.0);
            if !waiting || self.fluid_served_now(t) {
                continue;
            }
            let Some(w) = self.task_target_group(t).and_then(|g| self.fluid_state.tg_workload[g]) else { continue };
            let s = self.tasks[t].service;
            let mut batch = Batch::default();
            let mut memo = None;
            self.fluid_serve(s, w, t, 0.0, &mut memo, &mut batch);
            self.fluid_apply(s, &mut batch);
        }
        self.fluid_flush_counts();
        let next = now + FLUID_STEP;
        if next <= self.scenario.duration {
            self.queue.schedule(next, Event::FluidTick);
        }
    }

    fn fluid_served_now(&self, t: usize) -> bool {
        self.fluid_task(t).is_some_and(|x| x.last_served == self.now())
    }

    /// Task `t`'s fluid queue, if it ever served; while it is in a cohort, its own part only.
    fn fluid_task(&self, t: usize) -> Option<&FluidTask> {
        self.fluid_state.tasks.get(t)
    }

    /// The CPU-ms of work task `t` has done, and the MiB its requests hold.
    pub(super) fn fluid_work_and_memory(&self, t: usize) -> (f64, f64) {
        let Some(task) = self.fluid_task(t) else { return (0.0, 0.0) };
        match task.cohort {
            Some(tg) => {
                let shared = &self.fluid_state.cohorts[tg].state;
                (task.work + shared.work - task.cohort_work_at_join, shared.memory)
            }
            None => (task.work, task.memory),
        }
    }

    /// Task `t` starts serving (its target is registered): its queue starts empty.
    pub(super) fn fluid_register(&mut self, t: usize) {
        let Some(serving) = self.tasks[t].serving.as_ref() else { return };
        let tasks = &mut self.fluid_state.tasks;
        if tasks.len() <= t {
            tasks.resize(t + 1, FluidTask::default());
            self.fluid_state.counted_by_cohort.resize(t + 1, false);
            self.fluid_state.split_marks.resize(t + 1, 0);
        }
        tasks[t] = FluidTask {
            serving: true,
            reachable: serving.reachable,
            ready_at: serving.ready_at,
            capacity: serving.server.capacity(),
            instance: self.tasks[t].instance,
            task_definition: self.tasks[t].task_definition,
            reserved_vcpu: serving.reserved_vcpu,
            work_accounted: serving.work_accounted,
            ..FluidTask::default()
        };
    }

    /// Task `t`'s work since the last minute's count, which this minute counts, or `None` if it
    /// does not serve.
    pub(super) fn fluid_take_minute_work(&mut self, t: usize) -> Option<MinuteWork> {
        let task = self.fluid_state.tasks.get(t).filter(|x| x.serving)?;
        let (instance, task_definition) = (task.instance, task.task_definition);
        // Only a task without task-level CPU has its reservation changed after it registers:
        // it shares its instance's CPU by shares (see `refresh_instance_cpu`).
        let reserved_vcpu = if self.scenario.task_definitions[task_definition].cpu.is_some() {
            task.reserved_vcpu
        } else {
            self.tasks[t].serving.as_ref().map_or(task.reserved_vcpu, |x| x.reserved_vcpu)
        };
        let (work, memory_in_flight) = self.fluid_work_and_memory(t);
        let task = &mut self.fluid_state.tasks[t];
        let delta = work - task.work_accounted;
        task.work_accounted = work;
        Some(MinuteWork { instance, task_definition, work: delta, memory_in_flight, reserved_vcpu })
    }

    /// Whether the minute's count takes task `t` with its cohort (see `FluidState::cohort_minutes`).
    pub(super) fn fluid_counted_by_cohort(&self, t: usize) -> bool {
        self.fluid_state.counted_by_cohort.get(t).copied().unwrap_or(false)
    }

    /// Service `s`'s minute is counted: from now on its cohorts' members are counted as one,
    /// those of task definitions with task-level CPU only, whose reservation stays the one they
    /// registered with (see `fluid_take_minute_work`).
    pub(super) fn fluid_cohorts_counted(&mut self, s: usize) {
        let fluid = &mut self.fluid_state;
        for c in fluid.cohorts.iter_mut().filter(|c| c.service == s && !c.members.is_empty()) {
            if self.scenario.task_definitions[c.task_definition].cpu.is_none() {
                continue;
            }
            for &t in &c.members[c.counted..] {
                fluid.counted_by_cohort[t] = true;
            }
            c.counted = c.members.len();
            c.work_counted = c.state.work;
        }
    }

    /// Task `t` may now use `capacity` vCPUs.
    pub(super) fn fluid_set_capacity(&mut self, t: usize, capacity: f64) {
        if self.fluid_state.tasks.get(t).is_some_and(|x| x.capacity != capacity) {
            self.fluid_leave_cohort(t);
            self.fluid_state.tasks[t].capacity = capacity;
        }
    }

    /// Task `t` takes its cohort's state as its own and leaves it; the cohort is split again
    /// before its next second, since the task is no longer like the others.
    fn fluid_leave_cohort(&mut self, t: usize) {
        let fluid = &mut self.fluid_state;
        let Some(tg) = fluid.tasks.get(t).and_then(|x| x.cohort) else { return };
        let cohort = &mut fluid.cohorts[tg];
        cohort.version = None;
        cohort.candidacy = None;
        cohort.release(&mut fluid.tasks, &mut fluid.counted_by_cohort, &mut fluid.backlogged, |x| x != t);
    }

    /// Splits group `tg`'s candidates into its cohort and singles again if they changed since the
    /// last split: members that are still candidates stay, the others leave (as
    /// `fluid_leave_cohort` has one leave), and every other candidate is single.
    ///
    /// A cluster scaling all day changes a group's candidates every minute or so. Dissolving
    /// the cohort at each change would serve all its tasks one by one for a second and count them
    /// one by one for a minute; a change keeps the cohort, at the cost of a pass over dense marks.
    ///
    /// Most changes to a group's targets leave its candidates as they are (a target turning
    /// healthy was a candidate since its first passed check; one leaving was draining): then a
    /// split would find every member staying and the singles as they are, and is skipped, unless
    /// the singles are out of candidate order, which a split puts right.
    fn fluid_split(&mut self, tg: usize) {
        let group = &self.target_groups[tg];
        let (version, candidacy) = (group.version(), group.candidacy_version());
        let cohort = &mut self.fluid_state.cohorts[tg];
        if cohort.version == Some(version) {
            return;
        }
        if cohort.candidacy == Some(candidacy) && cohort.singles_in_candidate_order {
            cohort.version = Some(version);
            return;
        }
        let fluid = &mut self.fluid_state;
        fluid.splits += 1;
        let (member, staying) = (2 * fluid.splits, 2 * fluid.splits + 1);
        let cohort = &mut fluid.cohorts[tg];
        let marks = &mut fluid.split_marks;
        for &t in &cohort.members {
            marks[t] = member;
        }
        cohort.singles.clear();
        for t in self.target_groups[tg].candidate_tasks() {
            match marks.get_mut(t) {
                Some(mark) if *mark == member => *mark = staying,
                _ => cohort.singles.push(t),
            }
        }
        cohort.release(&mut fluid.tasks, &mut fluid.counted_by_cohort, &mut fluid.backlogged, |t| marks[t] == staying);
        cohort.version = Some(version);
        cohort.candidacy = Some(candidacy);
        cohort.singles_in_candidate_order = true;
    }

    /// Spreads `n` requests of workload `w` over the candidates of group `tg`, as the ALB does,
    /// and a 503 for each when there is none.
    fn fluid_route(&mut self, s: usize, w: usize, tg: usize, n: f64) {
        if n <= 0.0 {
            return;
        }
        // The second began by splitting every group that serves a workload, this one among them.
        debug_assert_eq!(self.fluid_state.cohorts[tg].version, Some(self.target_groups[tg].version()));
        let cohort = &self.fluid_state.cohorts[tg];
        let candidates = cohort.members.len() + cohort.singles.len();
        if candidates == 0 {
            self.fluid_state.counts[s].errors += n;
            return;
        }
        let share = n / candidates as f64;
        let mut batch = Batch::default();
        self.fluid_serve_cohort(s, w, tg, share, &mut batch);
        self.fluid_serve_singles(s, w, tg, share, &mut batch);
        self.fluid_apply(s, &mut batch);
    }

    /// One second of group `tg`'s cohort, each member offered `offered` new requests.
    fn fluid_serve_cohort(&mut self, s: usize, w: usize, tg: usize, offered: f64, batch: &mut Batch) {
        let now = self.now();
        let cohort = &mut self.fluid_state.cohorts[tg];
        if cohort.members.is_empty() {
            return;
        }
        let spec = &self.scenario.workloads[w];
        let td = &self.scenario.task_definitions[cohort.task_definition];
        let shared = &mut cohort.state;
        shared.last_served = now;
        let key = Key {
            workload: w,
            task_definition: cohort.task_definition,
            capacity: shared.capacity.to_bits(),
            backlog: shared.backlog.to_bits(),
            offered: offered.to_bits(),
        };
        let slot = &mut cohort.seconds[(key.offered ^ key.offered >> 29) as usize % 4];
        let second = match *slot {
            Some((k, second)) if k == key => second,
            _ => {
                let second = fluid_second(spec, td, shared.capacity, shared.backlog, offered);
                *slot = Some((key, second));
                second
            }
        };
        let answered = batch.settle(shared, &second, cohort.members.len() as f64, spec, td);
        batch.answer(&second, answered, &mut self.fluid_state.counts[s], &mut self.traffic[s]);
    }

    /// One second of group `tg`'s singles, each offered `offered` new requests, into `batch`, as
    /// `fluid_serve` serves one; then those that came out of it in the cohort's state join the
    /// cohort. Both in one pass: when many tasks turn healthy at once they are all single for a
    /// second, and their seconds are all alike.
    ///
    /// The cohort is the largest group of alike tasks: when more singles came out of the second
    /// alike than the cohort has members (the cohort is empty, or its members still work off a
    /// backlog the others never had), the members leave and those singles become the cohort.
    fn fluid_serve_singles(&mut self, s: usize, w: usize, tg: usize, offered: f64, batch: &mut Batch) {
        if self.fluid_state.cohorts[tg].singles.is_empty() {
            return;
        }
        let now = self.now();
        let spec = &self.scenario.workloads[w];
        let task_definitions = &self.scenario.task_definitions;
        let traffic = &mut self.traffic[s];
        let FluidState { tasks, counts, backlogged, cohorts, counted_by_cohort, .. } = &mut self.fluid_state;
        let counts = &mut counts[s];
        let cohort = &mut cohorts[tg];
        let mut singles = std::mem::take(&mut cohort.singles);
        // The last second worked out, by task definition, capacity and backlog.
        let mut memo: Option<((usize, u64, u64), Second)> = None;
        // The singles alike with the first served that did not join, and its state.
        let mut rivals = Vec::new();
        let mut rival: Option<FluidTask> = None;
        singles.retain(|&t| {
            let Some(task) = tasks.get_mut(t).filter(|x| x.serving) else {
                batch.errors += offered;
                return true;
            };
            task.last_served = now;
            if !task.reachable || now < task.ready_at {
                // Dropped by the security group (a 504) or refused by an app not yet listening (502).
                batch.errors += offered;
                return true;
            }
            let td = task.task_definition;
            let key = (td, task.capacity.to_bits(), task.backlog.to_bits());
            let second = match memo {
                Some((k, second)) if k == key => second,
                _ => {
                    let second = fluid_second(spec, &task_definitions[td], task.capacity, task.backlog, offered);
                    memo = Some((key, second));
                    second
                }
            };
            let answered = batch.settle(task, &second, 1.0, spec, &task_definitions[td]);
            if second.backlog > 0.0 {
                backlogged.push(t);
            }
            batch.answer(&second, answered, counts, traffic);
            if !cohort.members.is_empty() && task.alike(&cohort.state) {
                task.cohort = Some(tg);
                task.cohort_work_at_join = cohort.state.work;
                cohort.members.push(t);
                cohort.member_instances.push(task.instance);
                return false;
            }
            if rival.is_none_or(|r| task.alike(&r)) {
                rival.get_or_insert(*task);
                rivals.push(t);
            }
            true
        });
        if rivals.len() > cohort.members.len() {
            cohort.singles_in_candidate_order &= cohort.members.is_empty();
            singles.extend_from_slice(&cohort.members);
            cohort.release(tasks, counted_by_cohort, backlogged, |_| false);
            cohort.found(tg, self.billed_tasks[rivals[0]].service(), &rivals, tasks);
            singles.retain(|&t| tasks.get(t).is_none_or(|x| x.cohort != Some(tg)));
        }
        cohort.singles = singles;
    }

    /// One second of task `t` of service `s` with `offered` new requests, into `batch`; `memo`
    /// holds the last second worked out, which the next task reuses when it is in the same state.
    fn fluid_serve(
        &mut self,
        s: usize,
        w: usize,
        t: usize,
        offered: f64,
        memo: &mut Option<(Key, Second)>,
        batch: &mut Batch,
    ) {
        let now = self.now();
        let spec = &self.scenario.workloads[w];
        let fluid = &mut self.fluid_state;
        let Some(task) = fluid.tasks.get_mut(t).filter(|x| x.serving) else {
            batch.errors += offered;
            return;
        };
        let td_index = task.task_definition;
        let td = &self.scenario.task_definitions[td_index];
        task.last_served = now;
        if !task.reachable || now < task.ready_at {
            // Dropped by the security group (a 504) or refused by an app not yet listening (502).
            batch.errors += offered;
            return;
        }
        let key = Key {
            workload: w,
            task_definition: td_index,
            capacity: task.capacity.to_bits(),
            backlog: task.backlog.to_bits(),
            offered: offered.to_bits(),
        };
        let second = match *memo {
            Some((k, second)) if k == key => second,
            _ => {
                let second = fluid_second(spec, td, task.capacity, task.backlog, offered);
                *memo = Some((key, second));
                second
            }
        };
        let answered = batch.settle(task, &second, 1.0, spec, td);
        if second.backlog > 0.0 {
            fluid.backlogged.push(t);
        }
        batch.answer(&second, answered, &mut fluid.counts[s], &mut self.traffic[s]);
    }

    /// A batch's counts into its service.
    fn fluid_apply(&mut self, s: usize, batch: &mut Batch) {
        let now = self.now();
        let traffic = &mut self.traffic[s];
        let counts = &mut self.fluid_state.counts[s];
        batch.record(counts, traffic);
        counts.errors += batch.errors;
        if batch.in_flight_delta != 0.0 {
            traffic.in_flight.add_rate(now, batch.in_flight_delta);
        }
        if batch.memory_delta != 0.0 {
            traffic.mem_in_use.add_rate(now, batch.memory_delta);
        }
        *batch = Batch::default();
    }

    /// Whole errors to the minute's count; the fractions wait for the next second.
    fn fluid_flush_counts(&mut self) {
        for (s, counts) in self.fluid_state.counts.iter_mut().enumerate() {
            let (e, whole) = crate::engine::whole_part(counts.errors);
            counts.errors -= e;
            self.traffic[s].minute_errors += whole;
        }
    }

    /// A task stops serving: what it still held (queued and in flight) is cut off; its work
    /// stays for the last count.
    pub(super) fn fluid_stop(&mut self, t: usize) {
        let now = self.now();
        let s = self.tasks[t].service;
        self.fluid_leave_cohort(t);
        let Some(task) = self.fluid_state.tasks.get_mut(t).filter(|x| x.serving) else { return };
        if let Some(serving) = self.tasks[t].serving.as_mut() {
            serving.work_accounted = task.work_accounted;
        }
        let (in_flight, backlog, memory) = (task.in_flight, task.backlog, task.memory);
        *task = FluidTask { work: task.work, ..FluidTask::default() };
        self.fluid_state.counts[s].errors += backlog;
        let traffic = &mut self.traffic[s];
        traffic.in_flight.add_rate(now, -in_flight);
        traffic.mem_in_use.add_rate(now, -memory);
    }
}

impl World<'_> {
    /// Fluid fidelity only: each cohort's members are exactly the tasks that say they are in it,
    /// once each; a task's fluid queue serves while the task does, on the task's instance; and
    /// per service the requests in flight that the traffic integrates are those
    /// its tasks hold (within float rounding: the cohorts add theirs as members × the change).
    pub(super) fn check_fluid(&self) -> Result<(), (String, String)> {
        if !self.fluid() {
            return Ok(());
        }
        let fluid = &self.fluid_state;
        let mut claimed = vec![0u32; fluid.tasks.len()];
        for (tg, cohort) in fluid.cohorts.iter().enumerate() {
            // A split taken as current (made, or skipped as changing nothing) holds every
            // candidate once, as member or single; singles in candidate order unless the cohort
            // was founded anew since.
            if cohort.version == Some(self.target_groups[tg].version()) {
                let candidates = self.target_groups[tg].candidate_tasks_now();
                let mut held: Vec<usize> = cohort.members.iter().chain(&cohort.singles).copied().collect();
                held.sort_unstable();
                let mut sorted = candidates.clone();
                sorted.sort_unstable();
                let singles_in_order: Vec<usize> =
                    candidates.iter().copied().filter(|t| cohort.singles.contains(t)).collect();
                if held != sorted || (cohort.singles_in_candidate_order && singles_in_order != cohort.singles) {
                    let name = &self.scenario.target_groups[tg].name;
                    return Err((
                        format!("target group {name}"),
                        format!(
                            "its cohort holds members {:?} and singles {:?} but its candidates are {candidates:?}",
                            cohort.members, cohort.singles
                        ),
                    ));
                }
            }
            let instances: Vec<usize> = cohort.members.iter().map(|&t| fluid.tasks[t].instance).collect();
            if cohort.member_instances != instances || cohort.counted > cohort.members.len() {
                let name = &self.scenario.target_groups[tg].name;
                return Err((
                    format!("target group {name}"),
                    format!(
                        "cohort keeps {} members' instances and counts {} members by the cohort, of {} members",
                        cohort.member_instances.len(),
                        cohort.counted,
                        cohort.members.len()
                    ),
                ));
            }
            for (k, &t) in cohort.members.iter().enumerate() {
                if fluid.counted_by_cohort[t] != (k < cohort.counted) {
                    return Err((
                        format!("task {}", self.tasks[t].id),
                        "the minute's count would take it with its cohort or not, against the cohort".into(),
                    ));
                }
            }
            for &t in &cohort.members {
                claimed[t] += 1;
                if fluid.tasks[t].cohort != Some(tg) {
                    let name = &self.scenario.target_groups[tg].name;
                    return Err((
                        format!("target group {name}"),
                        format!("cohort lists task {} that is not in it", self.tasks[t].id),
                    ));
                }
            }
        }
        let mut held = vec![0.0; self.services.len()];
        for (t, task) in fluid.tasks.iter().enumerate() {
            if task.cohort.is_none() && fluid.counted_by_cohort[t] {
                return Err((
                    format!("task {}", self.tasks[t].id),
                    "the minute's count would take it with a cohort it is not in".into(),
                ));
            }
            let copied =
                (task.instance, task.task_definition) == (self.tasks[t].instance, self.tasks[t].task_definition);
            if task.serving != self.tasks[t].serving.is_some() || (task.serving && !copied) {
                return Err((
                    format!("task {}", self.tasks[t].id),
                    "its fluid queue disagrees with the task on whether it serves, or where".into(),
                ));
            }
            if task.cohort.is_some() && claimed[t] != 1 {
                return Err((
                    format!("task {}", self.tasks[t].id),
                    format!("in a cohort that lists it {} times", claimed[t]),
                ));
            }
            if task.serving {
                held[self.tasks[t].service] += match task.cohort {
                    Some(tg) => fluid.cohorts[tg].state.in_flight,
                    None => task.in_flight,
                };
            }
        }
        for (s, &held) in held.iter().enumerate() {
            let integrated = self.traffic[s].in_flight.rate();
            if (integrated - held).abs() > 1e-6 * held.abs().max(1.0) {
                return Err((
                    format!("service {}", self.services[s].name),
                    format!("{integrated} requests in flight integrated but its tasks hold {held}"),
                ));
            }
        }
        Ok(())
    }

    /// For the invariant tests: a cohort forgets one of its members. False if none has any.
    #[cfg(test)]
    pub(super) fn fluid_tamper_cohort(&mut self) -> bool {
        let Some(cohort) = self.fluid_state.cohorts.iter_mut().find(|c| !c.members.is_empty()) else { return false };
        cohort.members.pop();
        cohort.member_instances.pop();
        cohort.counted = cohort.counted.min(cohort.members.len());
        true
    }

    /// For the invariant tests: a cohort's member is listed as a single too. False if no cohort
    /// has a member.
    #[cfg(test)]
    pub(super) fn fluid_tamper_singles(&mut self) -> bool {
        let Some(cohort) = self.fluid_state.cohorts.iter_mut().find(|c| !c.members.is_empty()) else { return false };
        cohort.singles.push(cohort.members[0]);
        true
    }
}

/// One second of a task of `capacity` vCPUs that starts it with `backlog` requests waiting and is
/// offered `offered` more: it completes at most its full-CPU throughput, the rest waits, past
/// `max_concurrency + queue_limit` refused.
fn fluid_second(spec: &Workload, td: &TaskDefinition, capacity: f64, backlog: f64, offered: f64) -> Second {
    let mean_s = spec.service_time.mean().max(1e-6);
    let limit = f64::from(td.app.max_concurrency.saturating_add(td.app.queue_limit));
    let throughput = capacity * 1000.0 / mean_s;
    let step_s = FLUID_STEP as f64 / 1000.0;
    let pending = backlog + offered;
    let served = pending.min(throughput * step_s);
    let mut backlog = pending - served;
    let mut refused = 0.0;
    if backlog > limit {
        refused = backlog - limit;
        backlog = limit;
    }
    let rho = if throughput > 0.0 { offered / (throughput * step_s) } else { 1.0 };
    let mut response = mean_response_ms(capacity, td.app.request_cpu_cap, mean_s, rho);
    if backlog > 1e-9 {
        response += backlog / throughput.max(1e-9) * 1000.0;
    }
    let in_flight = served / step_s * response / 1000.0 + backlog;
    // Responses later than the ALB's timeout are 504s: the exponential tail past it.
    let late = (-(spec.timeout as f64) / response.max(1e-9)).exp();
    let wait = (response - mean_s / td.app.request_cpu_cap.min(capacity).max(1e-9)).max(0.0);
    Second { served, backlog, refused, response, wait, in_flight, late }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::MemoryRecorder;

    /// One service behind a load balancer in fluid fidelity, its tasks of a quarter vCPU serving
    /// 100 ms requests (2.5 requests/s each at full speed), scaled by `actions`.
    fn scenario(desired_count: u32, rate: f64, actions: &str) -> Scenario {
        let text = format!(
            r#"
version = 1
name = "cohorts"
duration = "6m"
fidelity = "fluid"
[cluster]
availability_zones = ["us-east-1a"]
[[cluster.auto_scaling_groups]]
name = "g"
instance_type = "m5.xlarge"
desired_capacity = 2
boot_time = "0s"
[task_definitions.t]
cpu = 256
memory = 512
app = {{ ready_time = "1s" }}
[[task_definitions.t.containers]]
name = "app"
image = "app:1"
port_mappings = [{{ container_port = 80, host_port = 0 }}]
[target_groups.t]
health_check = {{ interval = "5s", timeout = "2s", healthy_threshold = 2 }}
[services.web]
task_definition = "t"
desired_count = {desired_count}
load_balancer = {{ target_group = "t", container_name = "app", container_port = 80 }}
[workloads.w]
target_group = "t"
arrivals = {{ pattern = "constant", rate = {rate} }}
service_time = "100ms"
{actions}
"#
        );
        Scenario::from_str_named("cohorts.toml", text, &[]).unwrap_or_else(|e| panic!("{e}"))
    }

    /// Runs `world` event by event up to `until`, checking the fluid books after each.
    fn run_until(world: &mut World<'_>, until: SimTime) {
        world.step_until(until, |w| w.check_fluid()).unwrap_or_else(|e| panic!("{e:?}"));
    }

    /// Each member of target group 0's cohort, with the cohort's work when it joined and its
    /// own work before: both stay as they are while it stays in.
    fn members(world: &World<'_>) -> Vec<(usize, f64, f64)> {
        let fluid = &world.fluid_state;
        let of = |t: usize| (t, fluid.tasks[t].cohort_work_at_join, fluid.tasks[t].work);
        fluid.cohorts[0].members.iter().map(|&t| of(t)).collect()
    }

    #[test]
    fn a_cohort_keeps_its_members_when_targets_join_and_leave() {
        // Four tasks at 2 requests/s each all share one state by the end of the first minute.
        // Two more join at 2 min (healthy after two checks 5 s apart) and three leave at 4 min:
        // the members from before each change stay, joined when they first joined.
        let actions = r#"
[[actions]]
at = "2m"
set_desired_count = { service = "web", desired_count = 6 }
[[actions]]
at = "4m"
set_desired_count = { service = "web", desired_count = 3 }
"#;
        let s = scenario(4, 8.0, actions);
        let mut recorder = MemoryRecorder::default();
        let mut w = World::new(&s, &mut recorder);
        run_until(&mut w, 2 * MINUTE - 1);
        let before = members(&w);
        assert_eq!(before.len(), 4, "{before:?}");
        run_until(&mut w, 4 * MINUTE - 1);
        let grown = members(&w);
        assert_eq!(grown.len(), 6, "{grown:?}");
        assert_eq!(grown[..4], before[..], "the first four stayed");
        run_until(&mut w, 6 * MINUTE);
        let after = members(&w);
        assert_eq!(after.len(), 3, "{after:?}");
        assert!(after.iter().all(|m| grown.contains(m)), "{after:?} stayed from {grown:?}");
        assert!(w.fluid_state.cohorts[0].singles.is_empty());
    }

    #[test]
    fn the_cohort_is_the_largest_group_of_alike_tasks() {
        // One task alone takes 6 requests/s, more than its 2.5/s: it builds a backlog. Three more
        // join at 1 min; at 1.5 requests/s each the four work it off at 1 request/s. Meanwhile
        // the three without a backlog are the cohort and the first is single; once its backlog
        // is gone (at most 60 × 3.5 = 210 requests, gone within 210 s) it is in their state and
        // joins them.
        let actions = r#"
[[actions]]
at = "1m"
set_desired_count = { service = "web", desired_count = 4 }
"#;
        let s = scenario(1, 6.0, actions);
        let mut recorder = MemoryRecorder::default();
        let mut w = World::new(&s, &mut recorder);
        run_until(&mut w, MINUTE - 1);
        let founders = members(&w);
        assert_eq!(founders.len(), 1, "{founders:?}");
        assert!(w.fluid_state.cohorts[0].state.backlog > 50.0);
        let first = founders[0].0;
        run_until(&mut w, 2 * MINUTE);
        let cohort = &w.fluid_state.cohorts[0];
        assert_eq!(cohort.members.len(), 3, "{:?}", cohort.members);
        assert!(!cohort.members.contains(&first) && cohort.singles == [first]);
        assert!(w.fluid_state.tasks[first].backlog > 0.0 && cohort.state.backlog == 0.0);
        run_until(&mut w, 6 * MINUTE);
        let cohort = &w.fluid_state.cohorts[0];
        assert_eq!(cohort.members.len(), 4, "{:?}", cohort.members);
        assert!(cohort.members.contains(&first));
    }

    #[test]
    fn the_queueing_formulas_match_the_textbook() {
        // M/G/1-PS, one vCPU, 100 ms requests at ρ = 0.5: 100 / 0.5 = 200 ms.
        assert!((mean_response_ms(1.0, 1.0, 100.0, 0.5) - 200.0).abs() < 1e-9);
        // M/M/4 with requests capped at one vCPU of four, S = 100 ms, ρ = 0.8 (a = 3.2 Erlangs):
        // Erlang C = 0.5964, W = C × S / (k (1 − ρ)) = 0.5964 × 100 / 0.8 = 74.55 ms, T = 174.6.
        let t = mean_response_ms(4.0, 1.0, 100.0, 0.8);
        assert!((t - 174.55).abs() < 0.1, "{t}");
        // Light load: the service time itself.
        assert!((mean_response_ms(4.0, 1.0, 100.0, 0.0) - 100.0).abs() < 1e-9);
    }
}
