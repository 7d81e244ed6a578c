//! `ecsim explain`: what happened in a run and why, as a timeline in the words of the ECS
//! console. A pure function of the scenario and its [`RunResult`]: no I/O, no clock.
//!
//! How the timeline is built from `events.csv` and `timeseries.csv`:
//!
//! 1. Events of one minute that say the same thing about the same service become one line, as
//!    the console says "(service web) has started 4 tasks: (task a) (task b) …" and "(service
//!    web) registered 4 targets in (target-group web)".
//! 2. A message that repeats is shown once, with how often it repeated and until when, as long
//!    as its cause is not resolved (the service has not reached a steady state since) and six
//!    hours have not passed: ECS suppresses repeated service events the same way
//!    (ECS-DG:service-event-messages.md). Repeating messages are the problems: a task that
//!    cannot be placed, a target that fails its health checks, a scaling policy held back, a
//!    deployment that cannot move, and the life of every task started only to fail again.
//! 3. A minute in which nothing notable happened is one summary line (desired, running and
//!    pending tasks, healthy targets, p99, errors, instances); quiet minutes that look alike in
//!    a row share one line.
//! 4. The first placement failure of each kind, the first unreachable target and the first
//!    draining of a service carry a "why" worked out from the scenario: the task's reservation
//!    against what an instance registers, the host ports, the security group's rule, the
//!    deregistration delay.
//!
//! The timeline ends with each service's state at the end of the run and, when the scenario has
//! `[[expect]]` tables, whether each holds.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use crate::engine::{HOUR, MINUTE, SECOND, SimTime};
use crate::record::{EventKind, EventRecord, RunResult, ServiceSample};
use crate::scenario::Scenario;

/// ECS shows a suppressed message again after this long even if its cause persists.
const REPEAT_WINDOW: SimTime = 6 * HOUR;

/// Lines are wrapped at this width, continuation lines indented under the text.
const WIDTH: usize = 100;

/// Lists of tasks or instances longer than this end in "and N more".
const MAX_ITEMS: usize = 8;

/// The timeline of a run, in words, as printed by `ecsim explain`.
pub fn explain(scenario: &Scenario, result: &RunResult) -> String {
    let clock = Clock::for_duration(scenario.duration);
    let mut lines = group_events(scenario, result);
    let suppressed = suppress_repeats(&mut lines);
    add_reasons(scenario, result, &mut lines);

    let mut out = String::new();
    header(scenario, &mut out);
    let _ = writeln!(
        out,
        "\nTimeline ({} since the start; repeated messages are shown once, as the ECS console does)",
        clock.unit()
    );
    let quiet = QuietMinutes::new(scenario, result);
    let minutes = scenario.duration / MINUTE;
    let mut next = 0; // index into `lines`
    let mut pending_quiet: Option<QuietRun> = None;
    for m in 0..=minutes {
        let (start, end) = (m * MINUTE, (m + 1) * MINUTE);
        let mut any = false;
        while next < lines.len() && lines[next].time < end {
            if !lines[next].suppressed {
                if let Some(run) = pending_quiet.take() {
                    quiet.write(&run, &clock, &mut out);
                }
                lines[next].write(&clock, &mut out);
                any = true;
            }
            next += 1;
        }
        // The row at the end of the minute describes it; a minute past the end has none.
        if !any && end <= scenario.duration && start < scenario.duration {
            let hidden = suppressed.get(&m).copied().unwrap_or(0);
            match pending_quiet.as_mut() {
                Some(run) if run.follows(&quiet, end, hidden) => run.extend(end, hidden),
                _ => {
                    if let Some(run) = pending_quiet.take() {
                        quiet.write(&run, &clock, &mut out);
                    }
                    pending_quiet = Some(QuietRun::new(&quiet, end, hidden));
                }
            }
        }
    }
    if let Some(run) = pending_quiet.take() {
        quiet.write(&run, &clock, &mut out);
    }
    footer(scenario, result, &clock, &mut out);
    out
}

// ----- time --------------------------------------------------------------------------------

/// Prints simulated times as `mm:ss`, or `h:mm:ss` for runs of an hour or more.
struct Clock {
    hours: bool,
    width: usize,
}

impl Clock {
    fn for_duration(duration: SimTime) -> Clock {
        let hours = duration >= HOUR;
        let width = if hours { format!("{}", duration / HOUR).len() + 6 } else { 5 };
        Clock { hours, width }
    }

    /// The width of the time column: room for a range of two times.
    fn column(&self) -> usize {
        2 * self.width + 1
    }

    fn unit(&self) -> &'static str {
        if self.hours { "h:mm:ss" } else { "mm:ss" }
    }

    fn at(&self, t: SimTime) -> String {
        let s = t / SECOND;
        if self.hours {
            format!("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
        } else {
            format!("{:02}:{:02}", s / 60, s % 60)
        }
    }
}

// ----- grouping ------------------------------------------------------------------------------

/// One line of the timeline: a group of events that say the same thing.
#[derive(Debug)]
struct Line {
    time: SimTime,
    kind: EventKind,
    service: String,
    text: String,
    /// Lines under the text: why it happened.
    notes: Vec<String>,
    /// Lines with the same key repeat one another (see [`suppress_repeats`]).
    key: Option<String>,
    /// Hidden as a repeat of an earlier line.
    suppressed: bool,
    /// How many later lines repeated this one, and when the last did.
    repeats: u64,
    last_repeat: SimTime,
    /// What the line needs to explain itself: the events it stands for.
    first_detail: String,
    first_task: String,
}

impl Line {
    fn write(&self, clock: &Clock, out: &mut String) {
        let stamp = format!("  {:<w$}  ", clock.at(self.time), w = clock.column());
        let indent = " ".repeat(stamp.chars().count());
        let mut text = self.text.clone();
        if self.repeats > 0 {
            let _ = write!(
                text,
                " [repeated {} more time{} until {}]",
                self.repeats,
                plural(self.repeats),
                clock.at(self.last_repeat)
            );
        }
        wrap(&stamp, &indent, &text, out);
        let note_indent = format!("{indent}  ");
        for note in &self.notes {
            wrap(&note_indent, &format!("{note_indent}  "), note, out);
        }
    }
}

/// Where one event goes: its line is keyed by service, kind, what distinguishes the message
/// (a target group, a stop reason), and whether it belongs to a task that only fails.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct GroupKey {
    service: String,
    kind: EventKind,
    variant: String,
    churn: bool,
}

struct Group<'a> {
    key: GroupKey,
    events: Vec<&'a EventRecord>,
}

fn group_events(scenario: &Scenario, result: &RunResult) -> Vec<Line> {
    let churn = churn_flags(&result.events);
    let stopping: BTreeSet<(&str, &str)> = result
        .events
        .iter()
        .filter(|e| e.kind == EventKind::TaskStopping)
        .map(|e| (e.service.as_str(), e.task.as_str()))
        .collect();
    let mut lines = Vec::new();
    let mut groups: Vec<Group> = Vec::new();
    let mut index: BTreeMap<GroupKey, usize> = BTreeMap::new();
    let mut minute = 0;
    for (i, e) in result.events.iter().enumerate() {
        if e.time / MINUTE != minute {
            flush(scenario, &mut groups, &mut index, &mut lines);
            minute = e.time / MINUTE;
        }
        // A task that stops without being asked to (its instance went away) says so when it is
        // STOPPED; one that was asked to said so when it began STOPPING.
        if e.kind == EventKind::TaskStopped && stopping.contains(&(e.service.as_str(), e.task.as_str())) {
            continue;
        }
        let key = GroupKey {
            service: e.service.clone(),
            kind: e.kind,
            variant: variant(scenario, e).unwrap_or_else(|| format!("#{i}")),
            churn: churn[i],
        };
        match index.get(&key) {
            Some(&g) => groups[g].events.push(e),
            None => {
                index.insert(key.clone(), groups.len());
                groups.push(Group { key, events: vec![e] });
            }
        }
    }
    flush(scenario, &mut groups, &mut index, &mut lines);
    lines
}

fn flush(scenario: &Scenario, groups: &mut Vec<Group>, index: &mut BTreeMap<GroupKey, usize>, lines: &mut Vec<Line>) {
    for g in groups.drain(..) {
        lines.push(render(scenario, &g));
    }
    index.clear();
}

/// What makes events of one kind say the same thing, or `None` for kinds whose events each
/// get their own line.
fn variant(scenario: &Scenario, e: &EventRecord) -> Option<String> {
    use EventKind::*;
    Some(match e.kind {
        TaskPlaced => e.detail.split(" placed on ").next().unwrap_or("").to_string(),
        TaskRunning => String::new(),
        TaskStopping | TaskStopped => e.detail.clone(),
        TargetRegistered | TargetHealthy | TargetDeregistered => target_group(&e.detail).unwrap_or_default(),
        TargetDraining => format!("{} {}", target_group(&e.detail).unwrap_or_default(), last_parenthesis(&e.detail)),
        TargetUnhealthy => format!("{} {}", target_group(&e.detail).unwrap_or_default(), unhealthy_reason(&e.detail)),
        InstanceLaunched | InstanceRegistered | InstanceDraining | InstanceActivated | InstanceDrained
        | InstanceTerminated => without_zone(scenario, &e.detail).0,
        _ => return None,
    })
}

/// Marks the events of tasks that only fail, from the moment their service starts failing
/// (a target fails its health checks, a task stops for failing) until it reaches a steady state
/// again: the events of the tasks that fail, and of every task started meanwhile. Their
/// starts, registrations and stops repeat one another.
fn churn_flags(events: &[EventRecord]) -> Vec<bool> {
    let failed: BTreeSet<(&str, &str)> = events
        .iter()
        .filter(|e| matches!(e.kind, EventKind::TaskStopping | EventKind::TaskStopped) && is_failure(&e.detail))
        .map(|e| (e.service.as_str(), e.task.as_str()))
        .collect();
    let mut failing: BTreeSet<&str> = BTreeSet::new();
    let mut started_failing: BTreeSet<(&str, &str)> = BTreeSet::new();
    let mut flags = Vec::with_capacity(events.len());
    for e in events {
        let service = e.service.as_str();
        let fails = match e.kind {
            EventKind::TargetUnhealthy => true,
            EventKind::TaskStopping | EventKind::TaskStopped => is_failure(&e.detail),
            kind => kind.as_str() == "image_pull_failed",
        };
        if fails {
            failing.insert(service);
        }
        if e.kind == EventKind::SteadyState {
            failing.remove(service);
        }
        if e.kind == EventKind::TaskPlaced && failing.contains(service) {
            started_failing.insert((service, e.task.as_str()));
        }
        let task = (service, e.task.as_str());
        flags.push(
            !e.task.is_empty()
                && failing.contains(service)
                && (failed.contains(&task) || started_failing.contains(&task)),
        );
    }
    flags
}

/// Kinds whose messages say that something keeps going wrong: ECS repeats them until the cause
/// is resolved, and so would the timeline.
const REPEATING: [&str; 4] = ["scaling_held", "deployment_blocked", "image_pull_failed", "service_throttled"];

/// A stop reason that says the task failed rather than that something stopped it.
fn is_failure(reason: &str) -> bool {
    reason.contains("health checks")
        || reason.contains("CannotPullContainer")
        || reason.contains("Essential container")
        || reason.contains("exited")
}

fn render(scenario: &Scenario, g: &Group) -> Line {
    use EventKind::*;
    let first = g.events[0];
    let n = g.events.len() as u64;
    let svc = &g.key.service;
    let tasks = || items(g.events.iter().map(|e| format!("(task {})", e.task)), " ");
    let tg = || target_group(&first.detail).unwrap_or_default();
    let text = match g.key.kind {
        TaskPlaced => {
            // Where each went: the instance, or FARGATE, as the detail names it.
            let on = counted(g.events.iter().map(|e| placed_on(e)).filter(|x| !x.is_empty()));
            let on = if on.is_empty() { String::new() } else { format!(", on {on}") };
            let td = if g.key.variant.is_empty() { String::new() } else { format!(" of {}", g.key.variant) };
            format!("(service {svc}) has started {n} task{}{td}: {}{on}.", plural(n), tasks())
        }
        TaskRunning => format!("(service {svc}) {n} task{} reached RUNNING: {}.", plural(n), tasks()),
        TaskStopping => {
            format!("(service {svc}) has stopped {n} running task{}: {}. Reason: {}", plural(n), tasks(), first.detail)
        }
        TaskStopped => format!("(service {svc}) {n} task{} STOPPED: {}. Reason: {}", plural(n), tasks(), first.detail),
        TargetRegistered => format!("(service {svc}) registered {n} target{} in (target-group {}).", plural(n), tg()),
        TargetHealthy => {
            let are = if n == 1 { "is" } else { "are" };
            format!("(service {svc}) {n} target{} {are} healthy in (target-group {}): {}.", plural(n), tg(), tasks())
        }
        TargetUnhealthy => {
            let reason = unhealthy_reason(&first.detail);
            if n == 1 {
                let which = unhealthy_target(&first.detail);
                format!("(service {svc}) {which} is unhealthy in (target-group {}) due to (reason {reason}).", tg())
            } else {
                let which = items(g.events.iter().map(|e| unhealthy_target(&e.detail)), ", ");
                format!(
                    "(service {svc}) {n} targets are unhealthy in (target-group {}) due to (reason {reason}): {which}.",
                    tg()
                )
            }
        }
        // EC2 Auto Scaling deregistering an instance of a group attached to the target group:
        // the detail is already the message.
        TargetDraining if first.detail.starts_with("Auto Scaling group") => {
            let detail = first.detail.replace(".000 s delay", " s deregistration delay");
            format!(
                "{detail}: the target{} of (service {svc}) drain{}: {}.",
                plural(n),
                if n == 1 { "s" } else { "" },
                tasks()
            )
        }
        TargetDraining => {
            let delay = last_parenthesis(&first.detail).replace(".000 s delay", " s deregistration delay");
            format!(
                "(service {svc}) has begun draining connections on {n} task{}: {}; deregistering {n} target{} in (target-group {}) ({delay}).",
                plural(n),
                tasks(),
                plural(n),
                tg()
            )
        }
        TargetDeregistered => format!("(service {svc}) deregistered {n} target{}: {}.", plural(n), tasks()),
        InstanceLaunched => instances(scenario, g, "EC2 launched {n} instance{s}", Detail::Whole),
        InstanceRegistered => instances(scenario, g, "{n} container instance{s} registered (ACTIVE)", Detail::Whole),
        InstanceDraining => instances(scenario, g, "{n} container instance{s} set to DRAINING", Detail::From(" with ")),
        InstanceActivated => instances(scenario, g, "{n} container instance{s} set back to ACTIVE", Detail::None),
        InstanceDrained => {
            instances(scenario, g, "{n} container instance{s} drained (every task stopped)", Detail::None)
        }
        InstanceTerminated => instances(scenario, g, "{n} instance{s} terminated (INACTIVE)", Detail::None),
        PlacementFailed => match first.detail.split_once(" - ") {
            Some((code, message)) => format!("{message} [{code}]"),
            None => first.detail.clone(),
        },
        DesiredCountChanged => format!("(service {svc}) {}", first.detail),
        // A group's own policies and scheduled actions are EC2 Auto Scaling's; a service's are
        // Application Auto Scaling's.
        ScalingActivity | ScalingHeld | ScheduledAction if svc.is_empty() => {
            format!("EC2 Auto Scaling: {}", first.detail)
        }
        ScalingActivity | ScalingHeld | ScheduledAction => {
            format!("Application Auto Scaling (service {svc}): {}", first.detail)
        }
        AlarmStateChanged => format!("CloudWatch: {}", first.detail),
        SpotInterruption | RebalanceRecommendation if !first.instance.is_empty() => {
            format!("{}: {}", first.instance, first.detail)
        }
        SpotInterruption | RebalanceRecommendation => {
            format!("(service {svc}) (task {}): {}", first.task, first.detail)
        }
        // Steady states, deployments, traffic shifts, groups, capacity providers and anything
        // newer: the detail is already the message; name the service if it does not.
        _ if svc.is_empty() || first.detail.contains(&format!("service {svc}")) => first.detail.clone(),
        _ => format!("(service {svc}) {}", first.detail),
    };
    let key = if g.key.churn {
        // A kind whose events each have a line repeats when its message does.
        let what = if g.key.variant.starts_with('#') { digits_out(&first.detail) } else { g.key.variant.clone() };
        Some(format!("churn|{}|{what}", g.key.kind.as_str()))
    } else {
        match g.key.kind {
            PlacementFailed => Some(format!("placement|{}", first.detail.split(" - ").next().unwrap_or(""))),
            TargetUnhealthy => Some(format!("unhealthy|{}", g.key.variant)),
            TaskStopping | TaskStopped if is_failure(&first.detail) => Some(format!("failed|{}", first.detail)),
            kind if REPEATING.contains(&kind.as_str()) => {
                Some(format!("{}|{}", kind.as_str(), digits_out(&first.detail)))
            }
            _ => None,
        }
    };
    Line {
        time: first.time,
        kind: g.key.kind,
        service: svc.clone(),
        text,
        notes: Vec::new(),
        key,
        suppressed: false,
        repeats: 0,
        last_repeat: first.time,
        first_detail: first.detail.clone(),
        first_task: first.task.clone(),
    }
}

/// How much of an instance event's detail its line keeps.
enum Detail {
    Whole,
    /// The part from this text on ("with 3 tasks").
    From(&'static str),
    None,
}

/// "4 container instances registered (ACTIVE): web-1 (us-east-1a), … — m5.large: …"; `head`
/// says `{n}` for the count and `{s}` for a plural's s.
fn instances(scenario: &Scenario, g: &Group, head: &str, keep: Detail) -> String {
    let n = g.events.len() as u64;
    let (detail, _) = without_zone(scenario, &g.events[0].detail);
    let detail = match keep {
        Detail::Whole => detail,
        Detail::From(marker) => detail.find(marker).map_or(String::new(), |at| detail[at + 1..].to_string()),
        Detail::None => String::new(),
    };
    let list = items(
        g.events.iter().map(|e| match without_zone(scenario, &e.detail).1 {
            Some(zone) => format!("{} ({zone})", e.instance),
            None => e.instance.clone(),
        }),
        ", ",
    );
    let head = if n == 1 {
        capitalize_first(&head.replace("{n} ", "").replace("{s}", ""))
    } else {
        head.replace("{n}", &n.to_string()).replace("{s}", "s")
    };
    if detail.is_empty() { format!("{head}: {list}.") } else { format!("{head}: {list} — {detail}") }
}

fn capitalize_first(s: &str) -> String {
    let mut c = s.chars();
    c.next().map_or_else(String::new, |f| f.to_uppercase().chain(c).collect())
}

// ----- repeats -------------------------------------------------------------------------------

/// Hides every line that repeats an earlier one with the same key, for the same service, since
/// that service last reached a steady state and within six hours; counts the repeats on the
/// line shown. Returns how many lines each minute hid.
fn suppress_repeats(lines: &mut [Line]) -> BTreeMap<SimTime, u64> {
    let mut shown: BTreeMap<(String, String), (usize, SimTime)> = BTreeMap::new();
    let mut hidden: BTreeMap<SimTime, u64> = BTreeMap::new();
    for i in 0..lines.len() {
        if lines[i].kind == EventKind::SteadyState {
            let service = lines[i].service.clone();
            shown.retain(|(s, _), _| *s != service);
        }
        let Some(key) = lines[i].key.clone() else { continue };
        let slot = (lines[i].service.clone(), key);
        match shown.get(&slot) {
            Some(&(first, at)) if lines[i].time - at < REPEAT_WINDOW => {
                lines[i].suppressed = true;
                lines[first].repeats += 1;
                lines[first].last_repeat = lines[i].time;
                *hidden.entry(lines[i].time / MINUTE).or_default() += 1;
            }
            _ => {
                shown.insert(slot, (i, lines[i].time));
            }
        }
    }
    hidden
}

// ----- why -----------------------------------------------------------------------------------

/// Adds a "why" under the first line of each kind of trouble that the scenario explains.
fn add_reasons(scenario: &Scenario, result: &RunResult, lines: &mut [Line]) {
    let mut explained: BTreeSet<(String, String)> = BTreeSet::new();
    for line in lines.iter_mut().filter(|l| !l.suppressed) {
        let (topic, note) = match line.kind {
            EventKind::PlacementFailed => {
                let code = line.first_detail.split(" - ").next().unwrap_or("").to_string();
                let instances = instances_at(result, line.time);
                (code.clone(), placement_reason(scenario, &line.service, &code, instances))
            }
            EventKind::TargetUnhealthy => ("unreachable".to_string(), security_group_reason(scenario, line)),
            EventKind::TargetDraining => ("draining".to_string(), draining_reason(scenario, &line.first_detail)),
            _ => continue,
        };
        if let Some(note) = note
            && explained.insert((line.service.clone(), topic))
        {
            line.notes.push(format!("why: {note}"));
        }
    }
}

fn placement_reason(scenario: &Scenario, service: &str, code: &str, instances: Option<u32>) -> Option<String> {
    let def = scenario.services.iter().find(|s| s.name == service)?;
    let td = scenario.task_definitions.get(def.task_definition)?;
    let req = td.requirements();
    let types = instance_types(scenario);
    match code {
        "RESOURCE:CPU" if req.cpu > 0 => {
            let each = types
                .iter()
                .map(|t| {
                    format!("{} registers {} (room for {})", t.name, t.registered_cpu(), t.registered_cpu() / req.cpu)
                })
                .collect::<Vec<_>>()
                .join(", ");
            Some(format!(
                "each task of {service} reserves {} CPU units and an instance registers 1024 per vCPU: {each}; the tasks that fit are running and the rest wait for CPU that only more instances bring.",
                req.cpu
            ))
        }
        "RESOURCE:MEMORY" if req.memory > 0 => {
            let each = types
                .iter()
                .map(|t| {
                    format!(
                        "{} registers {} MiB (room for {})",
                        t.name,
                        t.registered_memory(),
                        t.registered_memory() / req.memory
                    )
                })
                .collect::<Vec<_>>()
                .join(", ");
            Some(format!(
                "each task of {service} reserves {} MiB (memoryReservation where set, otherwise memory, summed over its containers): {each}.",
                req.memory
            ))
        }
        "RESOURCE:PORTS" if !req.static_host_ports.is_empty() => {
            let ports = req.static_host_ports.iter().map(u16::to_string).collect::<Vec<_>>().join(", ");
            let on = instances.map_or(String::new(), |n| {
                format!(", and the cluster has {n} ACTIVE instance{}", plural(u64::from(n)))
            });
            Some(format!(
                "each task of {service} maps host port {ports}; one task per instance can hold a host port{on}. With host_port = 0 (dynamic) the agent gives each task its own port."
            ))
        }
        "RESOURCE:ENI" if req.needs_eni => {
            let each = types
                .iter()
                .map(|t| format!("{} has {} ENIs (room for {})", t.name, t.max_enis, t.max_enis.saturating_sub(1)))
                .collect::<Vec<_>>()
                .join(", ");
            Some(format!(
                "each awsvpc task of {service} needs an ENI of its own and the instance's primary ENI is taken: {each}."
            ))
        }
        _ => None,
    }
}

fn security_group_reason(scenario: &Scenario, line: &Line) -> Option<String> {
    let ranges = scenario.alb_ingress.as_ref()?;
    if !line.first_detail.contains("timed out") {
        return None;
    }
    let admitted = ranges
        .iter()
        .map(|&(a, b)| if a == b { a.to_string() } else { format!("{a}–{b}") })
        .collect::<Vec<_>>()
        .join(", ");
    let port = line.first_detail.split("(port ").nth(1).and_then(|s| s.split(')').next()).unwrap_or("?");
    Some(format!(
        "the targets' security group admits the ALB on {} {admitted} only, and task {} listens on port {port}: the health checks time out. With dynamic host ports the rule must cover the ephemeral range (32768–60999).",
        if ranges.len() == 1 && ranges[0].0 == ranges[0].1 { "port" } else { "ports" },
        line.first_task
    ))
}

fn draining_reason(scenario: &Scenario, detail: &str) -> Option<String> {
    let tg = target_group(detail)?;
    let spec = scenario.target_groups.iter().find(|t| t.name == tg)?;
    let s = spec.deregistration_delay / SECOND;
    let then = if detail.starts_with("Auto Scaling group") {
        "the group terminates the instance, and its task with it, only when the delay is over"
    } else {
        "ECS stops the task only when the delay is over"
    };
    Some(format!(
        "the target group's deregistration delay is {s} s{}: the ALB sends no new requests to a draining target and lets those in flight finish, and {then}.",
        if s == 300 { " (the default)" } else { "" }
    ))
}

/// The instance types the scenario's groups launch (the launch template's type).
fn instance_types(scenario: &Scenario) -> Vec<&crate::model::ec2::InstanceType> {
    let mut seen = BTreeSet::new();
    scenario
        .auto_scaling_groups
        .iter()
        .filter_map(|g| scenario.instance_types.get(g.instance_type))
        .filter(|t| seen.insert(t.name.clone()))
        .collect()
}

/// ACTIVE instances in the cluster at the end of the minute holding `t`.
fn instances_at(result: &RunResult, t: SimTime) -> Option<u32> {
    result.timeseries.iter().find(|r| r.time > t).or(result.timeseries.last()).map(|r| r.instances)
}

// ----- quiet minutes -------------------------------------------------------------------------

/// The per-minute rows, by time, for the summary lines of quiet minutes.
struct QuietMinutes<'a> {
    services: &'a [String],
    rows: BTreeMap<SimTime, Vec<&'a ServiceSample>>,
    /// Services that ever received requests, and those behind a load balancer.
    with_requests: Vec<bool>,
    with_targets: Vec<bool>,
}

/// Consecutive quiet minutes that look alike: from the row at `from` to the row at `to`.
struct QuietRun {
    from: SimTime,
    to: SimTime,
    hidden: u64,
    /// What the first minute looked like (see [`QuietMinutes::keys`]).
    loose: Vec<u64>,
    strict: Vec<u64>,
}

impl<'a> QuietMinutes<'a> {
    fn new(scenario: &'a Scenario, result: &'a RunResult) -> QuietMinutes<'a> {
        let mut rows: BTreeMap<SimTime, Vec<&ServiceSample>> = BTreeMap::new();
        for r in &result.timeseries {
            rows.entry(r.time).or_default().push(r);
        }
        let n = result.services.len();
        let mut with_requests = vec![false; n];
        for r in &result.timeseries {
            if r.requests > 0 && r.service < n {
                with_requests[r.service] = true;
            }
        }
        let with_targets = result
            .services
            .iter()
            .map(|name| scenario.services.iter().any(|s| &s.name == name && s.load_balancer.is_some()))
            .collect();
        QuietMinutes { services: &result.services, rows, with_requests, with_targets }
    }

    /// The rows that give the task and instance counts of the quiet minute ending at `t`: those
    /// at its start, since the row at its end already shows what happens at that instant (the
    /// next minute's first events), except for the first minute, which has no row at its start.
    fn counts(&self, t: SimTime) -> Option<&Vec<&'a ServiceSample>> {
        self.rows.get(&(t - MINUTE)).or_else(|| self.rows.get(&t))
    }

    /// What must stay the same for quiet minutes to share a line: the desired count, the
    /// healthy targets, the instances and whether requests failed (`loose`), and also the
    /// running and pending tasks (`strict`), unless repeats were hidden: while tasks fail and
    /// are replaced, those two move all the time, and the churn reads best as one line with
    /// ranges.
    fn keys(&self, t: SimTime) -> (Vec<u64>, Vec<u64>) {
        let (mut loose, mut strict) = (Vec::new(), Vec::new());
        for r in self.counts(t).into_iter().flatten() {
            loose.extend([
                r.service as u64,
                u64::from(r.desired),
                u64::from(r.healthy_targets),
                u64::from(r.instances),
            ]);
            strict.extend([u64::from(r.running), u64::from(r.pending)]);
        }
        for r in self.rows.get(&t).into_iter().flatten() {
            loose.push(u64::from(r.errors_5xx > 0));
        }
        (loose, strict)
    }

    fn write(&self, run: &QuietRun, clock: &Clock, out: &mut String) {
        // Counts from the rows at the minutes' starts, traffic from the rows at their ends.
        let mut counts: Vec<&ServiceSample> = Vec::new();
        let mut t = run.from;
        while t <= run.to {
            counts.extend(self.counts(t).into_iter().flatten().copied());
            t += MINUTE;
        }
        let traffic: Vec<&ServiceSample> =
            self.rows.range(run.from..=run.to).flat_map(|(_, r)| r.iter().copied()).collect();
        let mut parts = Vec::new();
        for (i, name) in self.services.iter().enumerate() {
            let mine: Vec<&ServiceSample> = counts.iter().copied().filter(|x| x.service == i).collect();
            if mine.is_empty() {
                continue;
            }
            let mut s = format!(
                "{name}: desired {}, running {}, pending {}",
                range(mine.iter().map(|r| u64::from(r.desired))),
                range(mine.iter().map(|r| u64::from(r.running))),
                range(mine.iter().map(|r| u64::from(r.pending)))
            );
            if self.with_targets.get(i).copied().unwrap_or(false) {
                let _ = write!(s, ", {} healthy", range(mine.iter().map(|r| u64::from(r.healthy_targets))));
            }
            if self.with_requests.get(i).copied().unwrap_or(false) {
                let served: Vec<&&ServiceSample> =
                    traffic.iter().filter(|x| x.service == i && x.requests > x.errors_5xx).collect();
                let requests: u64 = traffic.iter().filter(|x| x.service == i).map(|x| x.requests).sum();
                let errors: u64 = traffic.iter().filter(|x| x.service == i).map(|x| x.errors_5xx).sum();
                if !served.is_empty() {
                    let _ = write!(s, ", p99 {} ms", range(served.iter().map(|r| r.p99_ms)));
                } else if requests > 0 {
                    s.push_str(", no successful response");
                } else {
                    s.push_str(", no requests");
                }
                let _ = write!(s, ", {errors} error{}", plural(errors));
            }
            parts.push(s);
        }
        let instances = range(counts.iter().map(|r| u64::from(r.instances)));
        let mut text = format!("{} · {instances} instances", parts.join(" · "));
        if run.hidden > 0 {
            let _ = write!(text, " · {} repeated message{} hidden", run.hidden, plural(run.hidden));
        }
        // The run covers the minutes from one before its first row to its last row.
        let span = format!("{}–{}", clock.at(run.from - MINUTE), clock.at(run.to));
        let stamp = format!("  {span:<w$}  ", w = clock.column());
        let indent = " ".repeat(stamp.chars().count());
        wrap(&stamp, &indent, &text, out);
    }
}

/// "4", or "2–4" when the values vary.
fn range(values: impl Iterator<Item = u64>) -> String {
    let (lo, hi) = values.fold((u64::MAX, 0), |(lo, hi), v| (lo.min(v), hi.max(v)));
    match (lo, hi) {
        (u64::MAX, _) => "0".to_string(),
        (lo, hi) if lo == hi => lo.to_string(),
        (lo, hi) => format!("{lo}–{hi}"),
    }
}

impl QuietRun {
    fn new(q: &QuietMinutes, t: SimTime, hidden: u64) -> QuietRun {
        let (loose, strict) = q.keys(t);
        QuietRun { from: t, to: t, hidden, loose, strict }
    }

    /// Whether the quiet minute ending at `t` directly follows the run and looks alike.
    fn follows(&self, q: &QuietMinutes, t: SimTime, hidden: u64) -> bool {
        let (loose, strict) = q.keys(t);
        t == self.to + MINUTE && loose == self.loose && (strict == self.strict || self.hidden > 0 || hidden > 0)
    }

    fn extend(&mut self, t: SimTime, hidden: u64) {
        self.to = t;
        self.hidden += hidden;
    }
}

// ----- header and footer ---------------------------------------------------------------------

fn header(scenario: &Scenario, out: &mut String) {
    let title = if scenario.description.is_empty() {
        scenario.name.clone()
    } else {
        format!("{}: {}", scenario.name, scenario.description)
    };
    wrap("", "", &title, out);
    let minutes = scenario.duration / MINUTE;
    let _ = writeln!(out, "Seed {}, {} simulated.", scenario.seed, span(scenario.duration, minutes));
    for g in &scenario.auto_scaling_groups {
        let t = scenario.instance_types.get(g.instance_type);
        let kind = t.map_or_else(String::new, |t| {
            format!(" × {} ({} CPU units, {} MiB registered each)", t.name, t.registered_cpu(), t.registered_memory())
        });
        let bounds =
            if g.min_size != g.max_size { format!(", min {} max {}", g.min_size, g.max_size) } else { String::new() };
        wrap("", "  ", &format!("Auto Scaling group {}: {}{kind}{bounds}", g.name, g.desired_capacity), out);
    }
    for s in &scenario.services {
        let td = scenario.task_definitions.get(s.task_definition);
        let mut text = format!("Service {} ({}", s.name, s.scheduling_strategy.as_str());
        if s.scheduling_strategy == crate::model::service::SchedulingStrategy::Replica {
            let _ = write!(text, ", desired {}", s.desired_count);
        }
        text.push(')');
        if let Some(td) = td {
            let req = td.requirements();
            let _ = write!(text, ": {} reserves {} CPU units and {} MiB", td.arn_name(), req.cpu, req.memory);
            if !req.static_host_ports.is_empty() {
                let ports = req.static_host_ports.iter().map(u16::to_string).collect::<Vec<_>>().join(", ");
                let _ = write!(text, ", host port {ports}");
            } else if req.dynamic_host_ports > 0 {
                text.push_str(", dynamic host ports");
            }
        }
        if let Some(lb) = &s.load_balancer
            && let Some(tg) = scenario.target_groups.get(lb.target_group)
        {
            let _ = write!(text, "; behind target group {}", tg.name);
        }
        if let Some(a) = &s.auto_scaling {
            let _ = write!(text, "; Service Auto Scaling {}–{}", a.min_capacity, a.max_capacity);
        }
        if let Some(how) = capacity_text(scenario, s) {
            text.push_str("; ");
            text.push_str(&how);
        }
        wrap("", "  ", &text, out);
    }
}

/// Where a service's tasks run, as declared: `launch_type = "FARGATE"` (which the scenario
/// keeps as a strategy of the one FARGATE provider, to the same effect), or its capacity
/// provider strategy. None for the EC2 launch type, the default.
fn capacity_text(scenario: &Scenario, s: &crate::model::service::ServiceDefinition) -> Option<String> {
    let name = |i: &crate::model::capacity_provider::StrategyItem| {
        scenario.capacity_providers.get(i.provider).map_or("?", |p| p.name.as_str())
    };
    match s.capacity_provider_strategy.as_slice() {
        [] => None,
        [only] if s.fargate && name(only) == crate::model::capacity_provider::FARGATE && only.base == 0 => {
            Some("on Fargate".to_string())
        }
        items => {
            let list = items
                .iter()
                .map(|i| {
                    let base = if i.base > 0 { format!(" base {}", i.base) } else { String::new() };
                    format!("{}{base} weight {}", name(i), i.weight)
                })
                .collect::<Vec<_>>()
                .join(", ");
            let on = if s.fargate { "on Fargate, " } else { "" };
            Some(format!("{on}capacity provider strategy {list}"))
        }
    }
}

fn span(duration: SimTime, minutes: SimTime) -> String {
    if !duration.is_multiple_of(MINUTE) {
        format!("{} s", duration / SECOND)
    } else if minutes >= 120 && minutes.is_multiple_of(60) {
        format!("{} hours", minutes / 60)
    } else {
        format!("{minutes} minute{}", plural(minutes))
    }
}

fn footer(scenario: &Scenario, result: &RunResult, clock: &Clock, out: &mut String) {
    let _ = writeln!(out, "\nAt the end ({})", clock.at(scenario.duration));
    for s in &result.summary {
        let mut text = format!(
            "{}: desired {}, running {}, pending {} ({} unplaced); tasks started {}, stopped {}; placement failures {}",
            s.service,
            s.desired,
            s.running,
            s.pending,
            s.unplaced,
            s.tasks_started,
            s.tasks_stopped,
            s.placement_failures
        );
        if s.requests > 0 {
            let _ = write!(
                text,
                "; {} requests, p99 {} ms, {} errors ({:.2}%)",
                s.requests,
                s.p99_ms,
                s.errors_5xx,
                100.0 * s.error_rate
            );
            if scenario.slo.is_some() {
                let _ = write!(text, ", SLO met in {:.1}% of minutes", s.slo_met_pct);
            }
        }
        let _ = write!(text, "; cost ${:.2}", s.cost_usd);
        wrap("  ", "    ", &text, out);
    }
    if scenario.expectations.is_empty() {
        return;
    }
    let outcomes: Vec<_> = scenario.expectations.iter().map(|e| e.evaluate(result)).collect();
    let failing = outcomes.iter().filter(|o| !o.holds).count();
    let _ = writeln!(out, "\nExpectations: {} of {} hold", outcomes.len() - failing, outcomes.len());
    for o in &outcomes {
        let mark = if o.holds { "ok  " } else { "FAIL" };
        wrap(&format!("  {mark}  "), "        ", &format!("{} — {}", o.why, o.report), out);
    }
}

// ----- text helpers --------------------------------------------------------------------------

fn plural(n: u64) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// Joins up to [`MAX_ITEMS`] items, then says how many more there are.
fn items(it: impl Iterator<Item = String>, sep: &str) -> String {
    let all: Vec<String> = it.collect();
    let mut s = all.iter().take(MAX_ITEMS).cloned().collect::<Vec<_>>().join(sep);
    if all.len() > MAX_ITEMS {
        let _ = write!(s, "{sep}and {} more", all.len() - MAX_ITEMS);
    }
    s
}

/// "web-1 ×2, web-2": each distinct item once, in order of first appearance, with its count.
fn counted(it: impl Iterator<Item = String>) -> String {
    let mut order: Vec<(String, u64)> = Vec::new();
    for x in it {
        match order.iter_mut().find(|(y, _)| *y == x) {
            Some((_, n)) => *n += 1,
            None => order.push((x, 1)),
        }
    }
    items(order.into_iter().map(|(x, n)| if n > 1 { format!("{x} ×{n}") } else { x }), ", ")
}

/// Where a task was placed: "web:1 placed on web-4 (us-east-1b), …" → "web-4"; "FARGATE" for
/// a Fargate task.
fn placed_on(e: &EventRecord) -> String {
    match e.detail.split(" placed on ").nth(1) {
        Some(rest) => rest.split([' ', ',']).next().unwrap_or("").to_string(),
        None => e.instance.clone(),
    }
}

/// The target group a load balancer event names: "… in target-group web (port 32768)".
fn target_group(detail: &str) -> Option<String> {
    let rest = detail.split("target-group ").nth(1)?;
    let name = rest.split([' ', ',', ';']).next()?.trim_end_matches(['.', ')']);
    (!name.is_empty()).then(|| name.to_string())
}

/// "(reason Request timed out)" → "Request timed out".
fn unhealthy_reason(detail: &str) -> String {
    detail.split("(reason ").nth(1).and_then(|s| s.split(')').next()).unwrap_or("").to_string()
}

/// "service web (instance web-1) (port 32768) is unhealthy …" → "(instance web-1) (port 32768)".
fn unhealthy_target(detail: &str) -> String {
    match (detail.find("(instance "), detail.find(" is unhealthy")) {
        (Some(a), Some(b)) if a < b => detail[a..b].to_string(),
        _ => String::new(),
    }
}

fn last_parenthesis(detail: &str) -> String {
    match (detail.rfind('('), detail.rfind(')')) {
        (Some(a), Some(b)) if a < b => detail[a + 1..b].to_string(),
        _ => String::new(),
    }
}

/// Takes the Availability Zone out of an instance event's detail: ("m5.large: 2048 CPU units",
/// Some("us-east-1a")).
fn without_zone(scenario: &Scenario, detail: &str) -> (String, Option<String>) {
    for zone in &scenario.availability_zones {
        for pattern in [format!(" in {zone}"), format!(" ({zone})"), zone.clone()] {
            if let Some(at) = detail.find(&pattern) {
                let rest = format!("{}{}", &detail[..at], &detail[at + pattern.len()..]);
                return (rest, Some(zone.clone()));
            }
        }
    }
    (detail.to_string(), None)
}

/// Numbers replaced by `#`, so that "wanted 21 (now 20)" and "wanted 23 (now 20)" match.
fn digits_out(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut in_number = false;
    for c in s.chars() {
        if c.is_ascii_digit() || (in_number && c == '.') {
            if !in_number {
                out.push('#');
            }
            in_number = true;
        } else {
            in_number = false;
            out.push(c);
        }
    }
    out
}

/// Writes `text` after `first`, wrapped at [`WIDTH`], continuation lines after `indent`.
fn wrap(first: &str, indent: &str, text: &str, out: &mut String) {
    let mut line = first.to_string();
    let mut len = first.chars().count();
    let mut empty = true;
    for word in words(text) {
        let w = word.chars().count();
        if !empty && len + 1 + w > WIDTH {
            out.push_str(&line);
            out.push('\n');
            line = indent.to_string();
            len = indent.chars().count();
            empty = true;
        }
        if !empty {
            line.push(' ');
            len += 1;
        }
        line.push_str(&word);
        len += w;
        empty = false;
    }
    out.push_str(&line);
    out.push('\n');
}

/// The words of `text`, a short parenthesis such as "(task web-4)" kept as one word so that a
/// line never breaks inside it.
fn words(text: &str) -> Vec<String> {
    const GLUE: usize = 32;
    let mut out: Vec<String> = Vec::new();
    let mut open = 0i32;
    for w in text.split(' ').filter(|w| !w.is_empty()) {
        let glue = open > 0 && out.last().is_some_and(|last| last.chars().count() + 1 + w.chars().count() <= GLUE);
        match out.last_mut() {
            Some(last) if glue => {
                last.push(' ');
                last.push_str(w);
            }
            _ => {
                out.push(w.to_string());
                open = 0;
            }
        }
        open += w.matches('(').count() as i32 - w.matches(')').count() as i32;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::ServiceSample;

    const SCENARIO: &str = r#"
name = "t"
duration = "10m"
[cluster]
availability_zones = ["us-east-1a", "us-east-1b"]
[[cluster.auto_scaling_groups]]
name = "web"
instance_type = "c5.large"
desired_capacity = 2
[task_definitions.web]
cpu = 1024
memory = 512
[[task_definitions.web.containers]]
name = "app"
image = "app:1"
memory = 512
port_mappings = [{ container_port = 80, host_port = 80 }]
[services.web]
task_definition = "web"
desired_count = 3
"#;

    fn scenario() -> Scenario {
        Scenario::from_str_named("t.toml", SCENARIO.to_string(), &[]).unwrap()
    }

    fn event(s: f64, kind: EventKind, task: &str, instance: &str, detail: &str) -> EventRecord {
        EventRecord {
            time: (s * 1000.0) as SimTime,
            kind,
            service: if kind.as_str().starts_with("instance") { String::new() } else { "web".into() },
            task: task.into(),
            instance: instance.into(),
            detail: detail.into(),
        }
    }

    fn rows(minutes: u64, running: u32) -> Vec<ServiceSample> {
        (1..=minutes)
            .map(|m| ServiceSample {
                time: m * MINUTE,
                service: 0,
                desired: 3,
                running,
                pending: 3 - running,
                instances: 2,
                ..ServiceSample::default()
            })
            .collect()
    }

    /// The explanation with its lines unwrapped, so that tests need not know where lines break.
    fn flat(scenario: &Scenario, r: &RunResult) -> String {
        explain(scenario, r).split_whitespace().collect::<Vec<_>>().join(" ")
    }

    fn result(events: Vec<EventRecord>, timeseries: Vec<ServiceSample>) -> RunResult {
        RunResult { services: vec!["web".into()], events, timeseries, ..RunResult::default() }
    }

    const PORTS: &str = "RESOURCE:PORTS - service web was unable to place a task because no container instance met all of its requirements. The closest matching container-instance web-1 is already using a port required by your task.";

    #[test]
    fn tasks_started_in_one_minute_are_one_line_in_the_consoles_words() {
        let events = vec![
            event(0.0, EventKind::TaskPlaced, "web-1", "web-1", "web:1 placed on web-1 (us-east-1a), host ports 80"),
            event(0.0, EventKind::TaskPlaced, "web-2", "web-2", "web:1 placed on web-2 (us-east-1b), host ports 80"),
            event(5.0, EventKind::TaskRunning, "web-1", "web-1", "RUNNING 5.000 after placement"),
            event(6.0, EventKind::TaskRunning, "web-2", "web-2", "RUNNING 6.000 after placement"),
        ];
        let text = flat(&scenario(), &result(events, rows(10, 2)));
        assert!(
            text.contains("(service web) has started 2 tasks of web:1: (task web-1) (task web-2), on web-1, web-2."),
            "{text}"
        );
        assert!(text.contains("(service web) 2 tasks reached RUNNING"), "{text}");
    }

    #[test]
    fn a_repeated_failure_is_shown_once_until_the_service_is_steady() {
        let events = vec![
            event(0.0, EventKind::PlacementFailed, "", "web-1", PORTS),
            event(60.0, EventKind::PlacementFailed, "", "web-1", PORTS),
            event(120.0, EventKind::PlacementFailed, "", "web-1", PORTS),
            event(180.0, EventKind::SteadyState, "", "", "service web has reached a steady state."),
            event(240.0, EventKind::PlacementFailed, "", "web-1", PORTS),
        ];
        let text = flat(&scenario(), &result(events, rows(10, 2)));
        assert_eq!(text.matches("was unable to place a task").count(), 2, "{text}");
        assert!(text.contains("[RESOURCE:PORTS] [repeated 2 more times until 02:00]"), "{text}");
        // The why comes once per service and reason, with the scenario's numbers.
        assert_eq!(text.matches("why: each task of web maps host port 80").count(), 1, "{text}");
        assert!(text.contains("the cluster has 2 ACTIVE instances"), "{text}");
    }

    #[test]
    fn a_suppressed_message_comes_back_after_six_hours() {
        let scenario = Scenario::from_str_named("t.toml", SCENARIO.replace("\"10m\"", "\"8h\""), &[]).unwrap();
        let events = (0..8).map(|h| event(h as f64 * 3600.0, EventKind::PlacementFailed, "", "web-1", PORTS)).collect();
        let text = flat(&scenario, &result(events, rows(480, 2)));
        assert_eq!(text.matches("was unable to place a task").count(), 2, "{text}");
        assert!(text.contains("[repeated 5 more times until 5:00:00]"), "{text}");
        assert!(text.contains("6:00:00"), "{text}");
    }

    #[test]
    fn tasks_that_only_fail_are_told_once() {
        let mut events = Vec::new();
        for cycle in 0..5 {
            let t = f64::from(cycle) * 60.0;
            let task = format!("web-{cycle}");
            events.push(event(
                t,
                EventKind::TaskPlaced,
                &task,
                "web-1",
                "web:1 placed on web-1 (us-east-1a), host ports 80",
            ));
            events.push(event(t + 20.0, EventKind::TargetUnhealthy, &task, "web-1", "service web (instance web-1) (port 80) is unhealthy in target-group web due to (reason Health checks failed)."));
            events.push(event(t + 30.0, EventKind::TaskStopping, &task, "web-1", "Task failed ELB health checks"));
        }
        let text = flat(&scenario(), &result(events, rows(10, 1)));
        assert_eq!(text.matches("is unhealthy in (target-group web)").count(), 1, "{text}");
        assert_eq!(text.matches("Reason: Task failed ELB health checks").count(), 1, "{text}");
        assert!(text.contains("[repeated 4 more times until 04:30]"), "{text}");
        // The first task was started before anything failed; its replacements repeat each other.
        assert!(
            text.contains(
                "(service web) has started 1 task of web:1: (task web-1), on web-1. [repeated 3 more times until 04:00]"
            ),
            "{text}"
        );
    }

    #[test]
    fn quiet_minutes_that_look_alike_share_a_line() {
        let events = vec![event(
            0.0,
            EventKind::InstanceRegistered,
            "",
            "web-1",
            "c5.large in us-east-1a: 2048 CPU units, 3892 MiB registered",
        )];
        let mut ts = rows(10, 3);
        (ts[6].running, ts[6].pending) = (2, 1);
        let text = flat(&scenario(), &result(events, ts));
        assert!(
            text.contains("Container instance registered (ACTIVE): web-1 (us-east-1a) — c5.large: 2048 CPU units"),
            "{text}"
        );
        // Minute 1 to 7 from the rows at their starts (60 s to 360 s), then the row at 420 s.
        assert!(text.contains("01:00–07:00 web: desired 3, running 3, pending 0 · 2 instances"), "{text}");
        assert!(text.contains("07:00–08:00 web: desired 3, running 2, pending 1 · 2 instances"), "{text}");
        assert!(text.contains("08:00–10:00 web: desired 3, running 3, pending 0 · 2 instances"), "{text}");
    }

    #[test]
    fn a_real_run_reads_as_ecs_would_say_it() {
        let s = scenario();
        let text = flat(&s, &crate::simulate(&s));
        assert!(text.starts_with("t Seed 1, 10 minutes simulated."), "{text}");
        // Two c5.large of 2048 CPU units hold two tasks of 1024 each, but port 80 allows one
        // each: the third task cannot be placed.
        assert!(text.contains("is already using a port required by your task. [RESOURCE:PORTS]"), "{text}");
        assert!(text.contains("web: desired 3, running 2, pending 1 (1 unplaced)"), "{text}");
    }

    #[test]
    fn the_header_says_where_a_service_runs_as_declared() {
        // `launch_type = "FARGATE"` is no capacity provider strategy; a strategy is listed; a
        // service of the EC2 launch type says neither.
        let text = format!(
            "{SCENARIO}[capacity_providers.cp]\nauto_scaling_group = \"web\"\n[task_definitions.api]\nnetwork_mode = \"awsvpc\"\ncpu = 256\nmemory = 512\n[[task_definitions.api.containers]]\nname = \"api\"\nimage = \"app:1\"\n[services.api]\ntask_definition = \"api\"\ndesired_count = 1\nlaunch_type = \"FARGATE\"\n[services.mix]\ntask_definition = \"api\"\ndesired_count = 1\ncapacity_provider_strategy = [{{ capacity_provider = \"FARGATE\", base = 1, weight = 1 }}, {{ capacity_provider = \"FARGATE_SPOT\", weight = 3 }}]\n[services.ec2]\ntask_definition = \"web\"\ndesired_count = 0\ncapacity_provider_strategy = [{{ capacity_provider = \"cp\", weight = 1 }}]\n"
        );
        let s = Scenario::from_str_named("t.toml", text, &[]).unwrap();
        let mut out = String::new();
        header(&s, &mut out);
        let out = out.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(
            out.contains("Service api (REPLICA, desired 1): api:1 reserves 256 CPU units and 512 MiB; on Fargate"),
            "{out}"
        );
        assert!(!out.contains("api:1 reserves 256 CPU units and 512 MiB; on Fargate; capacity"), "{out}");
        assert!(
            out.contains("; on Fargate, capacity provider strategy FARGATE base 1 weight 1, FARGATE_SPOT weight 3"),
            "{out}"
        );
        assert!(out.contains("; capacity provider strategy cp weight 1"), "{out}");
        assert!(!out.contains("a capacity provider strategy"), "{out}");
        assert!(
            out.contains(
                "Service web (REPLICA, desired 3): web:1 reserves 1024 CPU units and 512 MiB, host port 80 Service"
            ),
            "{out}"
        );
    }

    #[test]
    fn group_scaling_is_ec2_auto_scaling_and_service_scaling_application_auto_scaling() {
        let s = scenario();
        let mut held = event(
            60.0,
            EventKind::ScalingHeld,
            "",
            "",
            "Policy up wanted group g a desired capacity of 3 (now 2); nothing changed: the group's cooldown is in effect until 06:50 (its last scaling activity completed at 00:50)",
        );
        held.service = String::new();
        let service = event(120.0, EventKind::ScalingActivity, "", "", "Successfully set desired count to 4 (from 3).");
        let text = flat(&s, &result(vec![held, service], rows(3, 3)));
        assert!(text.contains("EC2 Auto Scaling: Policy up wanted group g"), "{text}");
        assert!(text.contains("Application Auto Scaling (service web): Successfully set desired count to 4"), "{text}");
    }

    #[test]
    fn text_helpers() {
        assert_eq!(digits_out("wanted 21 (now 20.5)"), "wanted # (now #)");
        assert_eq!(
            target_group("registered 1 targets in target-group web-green (port 32768)").as_deref(),
            Some("web-green")
        );
        assert_eq!(target_group("deregistered 1 targets"), None);
        assert_eq!(range([3, 1, 2].into_iter()), "1–3");
        assert_eq!(range([2, 2].into_iter()), "2");
        assert_eq!(words("a (task web-1) b"), ["a", "(task web-1)", "b"]);
        let s = scenario();
        assert_eq!(
            without_zone(&s, "m5.large in us-east-1b: x"),
            ("m5.large: x".to_string(), Some("us-east-1b".to_string()))
        );
        let mut out = String::new();
        wrap("> ", "  ", &"word ".repeat(40), &mut out);
        assert!(out.lines().all(|l| l.chars().count() <= WIDTH), "{out}");
        assert!(out.lines().skip(1).all(|l| l.starts_with("  word")), "{out}");
        let c = Clock::for_duration(2 * HOUR);
        assert_eq!((c.at(3_725_000), c.column()), ("1:02:05".to_string(), 15));
    }
}
