//! Application Load Balancer target groups: health checks, the states of a target, which
//! targets receive requests, and deregistration draining (ALB:target-group-health-checks.md,
//! ALB:load-balancer-target-groups.md).

use rand::RngExt;

use crate::engine::{SECOND, SimRng, SimTime};

/// A target group's health check (ALB:target-group-health-checks.md; defaults for instance and
/// ip targets over HTTP).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HealthCheck {
    /// 5–300 s, default 30 s.
    pub interval: SimTime,
    /// 2–120 s, default 5 s; a target that does not answer within it fails the check.
    pub timeout: SimTime,
    /// Consecutive successes to become healthy: 2–10, default 5.
    pub healthy_threshold: u32,
    /// Consecutive failures to become unhealthy: 2–10, default 2.
    pub unhealthy_threshold: u32,
}

impl Default for HealthCheck {
    fn default() -> Self {
        HealthCheck { interval: 30 * SECOND, timeout: 5 * SECOND, healthy_threshold: 5, unhealthy_threshold: 2 }
    }
}

/// How the load balancer picks a target for each request (ALB:load-balancer-target-groups.md,
/// `load_balancing.algorithm.type`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Algorithm {
    /// The default: each routable target in turn.
    RoundRobin,
    /// The routable target with the fewest requests in flight.
    LeastOutstandingRequests,
    /// A routable target at random (ALB's `weighted_random` with equal weights).
    Random,
}

/// `deregistration_delay.timeout_seconds`: 300 s by default, 0–3600.
pub const DEFAULT_DEREGISTRATION_DELAY: SimTime = 300 * SECOND;

/// The ALB's connection timeout to a target: a target that never accepts the connection (for
/// example blocked by its security group) costs the client a 504 after 10 s
/// (ALB:load-balancer-troubleshooting.md, HTTP 504).
pub const CONNECTION_TIMEOUT: SimTime = 10 * SECOND;

/// The ALB idle timeout, 60 s by default: a request unanswered this long gets a 504
/// (ALB:application-load-balancers.md, "Connection idle timeout").
pub const DEFAULT_IDLE_TIMEOUT: SimTime = 60 * SECOND;

#[derive(Clone, Debug, PartialEq)]
pub struct TargetGroupSpec {
    pub name: String,
    pub health_check: HealthCheck,
    pub deregistration_delay: SimTime,
    pub algorithm: Algorithm,
}

/// A target's state as `DescribeTargetHealth` reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TargetState {
    /// Registered, the initial health checks not yet decided.
    Initial,
    Healthy,
    Unhealthy,
    /// Deregistering: no new requests; in-flight ones finish.
    Draining,
}

impl TargetState {
    pub fn as_str(self) -> &'static str {
        match self {
            TargetState::Initial => "initial",
            TargetState::Healthy => "healthy",
            TargetState::Unhealthy => "unhealthy",
            TargetState::Draining => "draining",
        }
    }
}

/// One registered target: a task's port.
#[derive(Clone, Copy, Debug)]
pub struct Target {
    pub task: usize,
    pub port: u16,
    pub state: TargetState,
    /// Whether the target has passed a health check since it registered: a new target receives
    /// traffic only after passing one (ALB:target-group-health-checks.md).
    pub passed_once: bool,
    pub consecutive_successes: u32,
    pub consecutive_failures: u32,
    pub in_flight: u32,
}

/// What one health-check result changed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transition {
    None,
    BecameHealthy,
    BecameUnhealthy,
}

impl Target {
    pub fn new(task: usize, port: u16) -> Self {
        Target {
            task,
            port,
            state: TargetState::Initial,
            passed_once: false,
            consecutive_successes: 0,
            consecutive_failures: 0,
            in_flight: 0,
        }
    }

    /// Applies one health-check result: `healthy_threshold` successes in a row make the target
    /// healthy, `unhealthy_threshold` failures in a row unhealthy.
    pub fn record_check(&mut self, success: bool, hc: &HealthCheck) -> Transition {
        if self.state == TargetState::Draining {
            return Transition::None;
        }
        if success {
            self.passed_once = true;
            self.consecutive_failures = 0;
            self.consecutive_successes += 1;
            if self.state != TargetState::Healthy && self.consecutive_successes >= hc.healthy_threshold {
                self.state = TargetState::Healthy;
                return Transition::BecameHealthy;
            }
        } else {
            self.consecutive_successes = 0;
            self.consecutive_failures += 1;
            if self.state != TargetState::Unhealthy && self.consecutive_failures >= hc.unhealthy_threshold {
                self.state = TargetState::Unhealthy;
                return Transition::BecameUnhealthy;
            }
        }
        Transition::None
    }

    /// Whether the load balancer sends it new requests while some target is healthy: it must
    /// have passed a check, and be neither unhealthy nor draining.
    pub fn routable(&self) -> bool {
        self.passed_once && matches!(self.state, TargetState::Initial | TargetState::Healthy)
    }
}

/// The targets of one target group and the routing state.
///
/// The targets change only through the methods here, so that the list of targets a request may
/// go to is worked out once per change rather than once per request.
#[derive(Clone, Debug)]
pub struct TargetGroup {
    pub spec: TargetGroupSpec,
    targets: Vec<Target>,
    next: usize,
    /// The slots of the targets new requests go to, ascending; stale when `changed`.
    candidates: Vec<usize>,
    /// Round robin: where in `candidates` the next turn is, while they have not changed since
    /// the last pick (then it is the first candidate at or after `next`, found without a search).
    cursor: Option<usize>,
    changed: bool,
    /// Counts the changes to the targets, which may change the candidates' slots.
    version: u64,
    /// Counts the changes to which tasks are candidates, so that a reader keeping its own view
    /// of them (the fluid fidelity's) knows when to refresh it. Most changes leave them as they
    /// are: a target that turns healthy was a candidate from its first passed check, and one
    /// that leaves the group was draining, no candidate.
    candidacy: u64,
    /// How many targets are routable: when none is, the group fails open (see `pick`).
    routable: usize,
}

impl TargetGroup {
    pub fn new(spec: TargetGroupSpec) -> Self {
        TargetGroup {
            spec,
            targets: Vec::new(),
            next: 0,
            candidates: Vec::new(),
            cursor: None,
            changed: true,
            version: 0,
            candidacy: 0,
            routable: 0,
        }
    }

    pub fn targets(&self) -> &[Target] {
        &self.targets
    }

    pub fn target(&self, k: usize) -> &Target {
        &self.targets[k]
    }

    fn mark_changed(&mut self) {
        self.changed = true;
        self.cursor = None;
        self.version += 1;
    }

    /// Changes whenever the targets new requests go to may have changed.
    pub fn version(&self) -> u64 {
        self.version
    }

    /// Changes whenever the tasks new requests go to may have changed (see `candidate_tasks`).
    pub fn candidacy_version(&self) -> u64 {
        self.candidacy
    }

    /// Whether `target` is a candidate while the group has `routable` routable targets.
    fn is_candidate(target: &Target, routable: usize) -> bool {
        if routable > 0 { target.routable() } else { target.state != TargetState::Draining }
    }

    /// Applies `change` to the target in slot `k` (`None`: a target added at the end), which
    /// returns the target as it was (or was added) and as it is (`None` once removed), and
    /// counts a change of candidacy when the target's changed or the group's fail-open state did.
    fn change_candidacy(&mut self, change: impl FnOnce(&mut Vec<Target>) -> (Option<Target>, Option<Target>)) {
        let routable_before = self.routable;
        let (before, after) = change(&mut self.targets);
        let routable = |t: Option<Target>| usize::from(t.is_some_and(|t| t.routable()));
        self.routable = self.routable + routable(after) - routable(before);
        let candidate = |t: Option<Target>, routable| t.is_some_and(|t| Self::is_candidate(&t, routable));
        let fails_open = |routable| routable == 0;
        if fails_open(routable_before) != fails_open(self.routable)
            || candidate(before, routable_before) != candidate(after, self.routable)
        {
            self.candidacy += 1;
        }
    }

    /// Registers a target (at the end of the list).
    pub fn add(&mut self, target: Target) {
        self.change_candidacy(|targets| {
            targets.push(target);
            (None, Some(target))
        });
        self.mark_changed();
    }

    /// Records a health check of the target in slot `k`. Most checks change nothing about where
    /// requests go (a healthy target passing again), and leave the candidates as they are.
    pub fn record_check(&mut self, k: usize, success: bool, hc: &HealthCheck) -> Transition {
        let before = self.targets[k].routable();
        let mut transition = Transition::None;
        self.change_candidacy(|targets| {
            let was = targets[k];
            transition = targets[k].record_check(success, hc);
            (Some(was), Some(targets[k]))
        });
        if transition != Transition::None || self.targets[k].routable() != before {
            self.mark_changed();
        }
        transition
    }

    /// Starts deregistering the target in slot `k`: it takes no new requests.
    pub fn set_draining(&mut self, k: usize) {
        self.change_candidacy(|targets| {
            let was = targets[k];
            targets[k].state = TargetState::Draining;
            (Some(was), Some(targets[k]))
        });
        self.mark_changed();
    }

    /// Whether the group keeps its targets' requests in flight: only least outstanding requests
    /// routes by them, and keeping them costs the answer of every request a look at its target
    /// (on a large cluster, a cache miss).
    pub fn counts_in_flight(&self) -> bool {
        self.spec.algorithm == Algorithm::LeastOutstandingRequests
    }

    /// A request sent to, or answered by, the target in slot `k` (see `counts_in_flight`).
    pub fn add_in_flight(&mut self, k: usize) {
        self.targets[k].in_flight += 1;
    }

    pub fn remove_in_flight(&mut self, k: usize) {
        let t = &mut self.targets[k];
        t.in_flight = t.in_flight.saturating_sub(1);
    }

    pub fn find(&self, task: usize) -> Option<usize> {
        self.targets.iter().position(|t| t.task == task)
    }

    pub fn healthy_count(&self) -> u32 {
        self.targets.iter().filter(|t| t.state == TargetState::Healthy).count() as u32
    }

    /// The target for the next request, or `None` when the group has no target to send it to
    /// (the ALB answers 503).
    ///
    /// Requests go to routable targets. When none is routable but some are registered and not
    /// draining, the ALB fails open and routes to all of them (ALB:target-group-health-checks.md:
    /// "If all targets are unhealthy, the load balancer routes requests to all targets").
    pub fn pick(&mut self, rng: &mut SimRng) -> Option<usize> {
        self.refresh_candidates();
        if self.candidates.is_empty() {
            return None;
        }
        let k = match self.spec.algorithm {
            Algorithm::RoundRobin => {
                // The first candidate at or after the cursor, so that targets joining or leaving do
                // not reset the rotation.
                let at = self.cursor.unwrap_or_else(|| self.candidates.partition_point(|&k| k < self.next));
                let at = if at < self.candidates.len() { at } else { 0 };
                let k = self.candidates[at];
                self.next = k + 1;
                self.cursor = Some(at + 1);
                k
            }
            Algorithm::LeastOutstandingRequests => {
                self.candidates.iter().copied().min_by_key(|&k| (self.targets[k].in_flight, k)).unwrap_or(0)
            }
            Algorithm::Random => self.candidates[rng.random_range(0..self.candidates.len())],
        };
        Some(k)
    }

    /// The tasks of the targets new requests go to, in slot order: the routable ones, or when
    /// none is routable but some are registered and not draining, all of those (the ALB fails
    /// open, see [`TargetGroup::pick`]).
    pub fn candidate_tasks(&mut self) -> impl Iterator<Item = usize> + '_ {
        self.refresh_candidates();
        let this = &*self;
        this.candidates.iter().map(|&k| this.targets[k].task)
    }

    fn refresh_candidates(&mut self) {
        if self.changed {
            self.changed = false;
            candidate_slots(&self.targets, &mut self.candidates);
        }
    }

    /// [`TargetGroup::candidate_tasks`] worked out afresh, for checks.
    pub fn candidate_tasks_now(&self) -> Vec<usize> {
        let mut slots = Vec::new();
        candidate_slots(&self.targets, &mut slots);
        slots.into_iter().map(|k| self.targets[k].task).collect()
    }

    pub fn remove(&mut self, k: usize) -> Target {
        let mut removed = None;
        self.change_candidacy(|targets| {
            removed = Some(targets.remove(k));
            (removed, None)
        });
        let t = removed.expect("removed above");
        self.mark_changed();
        if self.next > k {
            self.next -= 1;
        }
        t
    }
}

/// The slots of the candidates among `targets` into `slots`: the routable ones, or when none is,
/// all that are not draining (the ALB fails open, see [`TargetGroup::pick`]).
fn candidate_slots(targets: &[Target], slots: &mut Vec<usize>) {
    slots.clear();
    slots.extend((0..targets.len()).filter(|&k| targets[k].routable()));
    if slots.is_empty() {
        slots.extend((0..targets.len()).filter(|&k| targets[k].state != TargetState::Draining));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::RngStreams;

    fn group(algorithm: Algorithm, n: usize) -> TargetGroup {
        let mut g = TargetGroup::new(TargetGroupSpec {
            name: "tg".into(),
            health_check: HealthCheck::default(),
            deregistration_delay: DEFAULT_DEREGISTRATION_DELAY,
            algorithm,
        });
        for i in 0..n {
            let mut t = Target::new(i, 32768 + i as u16);
            t.record_check(true, &HealthCheck::default());
            g.add(t);
        }
        g
    }

    #[test]
    fn default_thresholds_take_five_checks_to_healthy_and_two_to_unhealthy() {
        // ECS-BP:load-balancer-healthcheck.md: 30 s × 5 = 150 s to healthy with the defaults.
        let hc = HealthCheck::default();
        let mut t = Target::new(0, 80);
        for _ in 0..4 {
            assert_eq!(t.record_check(true, &hc), Transition::None);
        }
        assert!(t.passed_once && t.state == TargetState::Initial);
        assert_eq!(t.record_check(true, &hc), Transition::BecameHealthy);
        assert_eq!(t.record_check(false, &hc), Transition::None);
        assert_eq!(t.record_check(false, &hc), Transition::BecameUnhealthy);
        assert_eq!(t.record_check(true, &hc), Transition::None);
    }

    /// The candidacy version moves whenever the candidate tasks do, and stays through the
    /// changes of a target's life that leave them as they are; when the group stops or starts
    /// failing open it moves, whether the candidates change or not.
    #[test]
    fn the_candidacy_version_moves_when_the_candidates_do() {
        let hc = HealthCheck { healthy_threshold: 2, unhealthy_threshold: 2, ..HealthCheck::default() };
        let mut g = group(Algorithm::RoundRobin, 0);
        let step = |g: &mut TargetGroup, change: &dyn Fn(&mut TargetGroup), candidates_move: bool, moves: bool| {
            let before: Vec<usize> = g.candidate_tasks().collect();
            let version = g.candidacy_version();
            change(g);
            let after: Vec<usize> = g.candidate_tasks().collect();
            assert_eq!(before != after, candidates_move, "{before:?} -> {after:?}");
            assert_eq!(g.candidacy_version() != version, moves, "{before:?} -> {after:?}");
        };
        // The first target is a candidate at once: the group fails open.
        step(&mut g, &|g| g.add(Target::new(0, 80)), true, true);
        // Its first passed check makes it routable (the group no longer fails open), its second
        // healthy: the same candidate either way.
        step(&mut g, &|g| _ = g.record_check(0, true, &hc), false, true);
        step(&mut g, &|g| _ = g.record_check(0, true, &hc), false, false);
        // A second target is no candidate until it passes a check.
        step(&mut g, &|g| g.add(Target::new(1, 81)), false, false);
        step(&mut g, &|g| _ = g.record_check(1, true, &hc), true, true);
        // Two failed checks make the first unhealthy, no longer a candidate.
        step(&mut g, &|g| _ = g.record_check(0, false, &hc), false, false);
        step(&mut g, &|g| _ = g.record_check(0, false, &hc), true, true);
        // The second drains: none is routable, so the group fails open to the unhealthy first.
        step(&mut g, &|g| g.set_draining(1), true, true);
        // The draining target leaves: the candidates stay.
        step(&mut g, &|g| _ = g.remove(1), false, false);
        step(&mut g, &|g| _ = g.remove(0), true, true);
    }

    #[test]
    fn a_new_target_gets_traffic_only_after_its_first_passed_check() {
        let mut g = group(Algorithm::RoundRobin, 1);
        g.add(Target::new(1, 80));
        let mut rng = RngStreams::new(1).stream("t");
        for _ in 0..5 {
            assert_eq!(g.pick(&mut rng), Some(0));
        }
    }

    #[test]
    fn round_robin_takes_turns() {
        let mut g = group(Algorithm::RoundRobin, 3);
        let mut rng = RngStreams::new(1).stream("t");
        let picks: Vec<usize> = (0..6).filter_map(|_| g.pick(&mut rng)).collect();
        assert_eq!(picks, vec![0, 1, 2, 0, 1, 2]);
    }

    #[test]
    fn round_robin_keeps_its_turn_when_targets_join_and_leave() {
        let mut g = group(Algorithm::RoundRobin, 4);
        let mut rng = RngStreams::new(1).stream("t");
        assert_eq!((g.pick(&mut rng), g.pick(&mut rng)), (Some(0), Some(1)));
        // Slot 2 drains: the turn passes to slot 3, then wraps.
        g.set_draining(2);
        assert_eq!((g.pick(&mut rng), g.pick(&mut rng)), (Some(3), Some(0)));
        // Slot 0 leaves: the others shift down a slot, and the turn stays with the target after
        // the one that had it (now slot 0).
        g.remove(0);
        assert_eq!((g.pick(&mut rng), g.pick(&mut rng)), (Some(0), Some(2)));
        // A new target joins at the end and gets its turn after the others.
        let mut t = Target::new(9, 9000);
        t.record_check(true, &HealthCheck::default());
        g.add(t);
        let picks: Vec<usize> = (0..4).filter_map(|_| g.pick(&mut rng)).collect();
        assert_eq!(picks, vec![3, 0, 2, 3]);
    }

    #[test]
    fn least_outstanding_requests_prefers_the_idlest() {
        let mut g = group(Algorithm::LeastOutstandingRequests, 3);
        g.targets[0].in_flight = 4;
        g.targets[1].in_flight = 1;
        g.targets[2].in_flight = 2;
        let mut rng = RngStreams::new(1).stream("t");
        assert_eq!(g.pick(&mut rng), Some(1));
    }

    #[test]
    fn all_unhealthy_fails_open_and_draining_targets_get_nothing() {
        let mut g = group(Algorithm::RoundRobin, 2);
        let hc = HealthCheck::default();
        let mut rng = RngStreams::new(1).stream("t");
        assert_eq!(g.pick(&mut rng), Some(0));
        for k in 0..2 {
            g.record_check(k, false, &hc);
            g.record_check(k, false, &hc);
        }
        assert!(g.pick(&mut rng).is_some());
        for k in 0..2 {
            g.set_draining(k);
        }
        assert_eq!(g.pick(&mut rng), None);
    }
}
