//! The simulation's own accounting, checked after every event in debug builds and tests, and in
//! release with `ecsim run --check-invariants` ([`simulate_checked`](super::simulate_checked)):
//!
//! - no instance reserves more CPU, memory or ENIs than it registered, or other than its tasks
//!   need; no host port is held twice on one instance;
//! - every task is in exactly one state and counted once: a task not STOPPED is on its
//!   instance's list and its service's list, a stopped one on neither; every target is a live
//!   task of its group's service;
//! - every request that arrived is answered (a success or a 5xx: rejected, refused, timed out,
//!   cut off) or still in flight, per service, and the requests a task counts in flight are the
//!   ones its server holds. This is for the request fidelity: under `fidelity = "fluid"` requests are fractional
//!   flows integrated second by second (see `fluid.rs`), not objects to count; there, a
//!   cohort's members are the tasks that say they are in it, and a service's requests in flight
//!   are what its tasks hold;
//! - what is kept per service as tasks come and go (the instances it occupies and what it
//!   reserves on them) is what its tasks add up to, billing's and the counts' copies of each
//!   task are the task's, and the weights billing keeps for an instance are what its tasks give;
//! - billing never decreases: no service's cost, nor the instant instances are billed to;
//! - simulated time never goes backwards: not between checks, and no event waits in the past.
//!
//! A violation is a bug in ecsim; it stops the run with the event, the entity and the time.

use super::*;

/// A broken invariant of the simulation's own accounting: a bug, reported with the event that
/// broke it, the entity and the time.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("invariant broken at t={} s after {event}: {entity}: {problem}", format_seconds(*time))]
pub struct InvariantViolation {
    pub time: SimTime,
    pub event: String,
    pub entity: String,
    pub problem: String,
}

/// What the checks remember from one to the next: the time and the bills they last saw.
#[derive(Debug, Default)]
pub(super) struct Watch {
    time: SimTime,
    billed_until: SimTime,
    /// Per service, its total and idle cost at the last check.
    costs: Vec<(f64, f64)>,
}

type Problem = (String, String);

impl World<'_> {
    /// Checks every invariant; `after` names the event just handled.
    pub(super) fn check_invariants(&mut self, after: &str) -> Result<(), InvariantViolation> {
        let found = self
            .check_clock()
            .and_then(|()| self.check_instances_and_tasks())
            .and_then(|()| self.check_targets())
            .and_then(|()| self.check_requests())
            .and_then(|()| self.check_fluid())
            .and_then(|()| self.check_footprints())
            .and_then(|()| self.check_instance_weights())
            .and_then(|()| self.check_billing());
        match found {
            Ok(()) => {
                self.watch.time = self.now();
                self.watch.billed_until = self.billed_until;
                self.watch.costs.clear();
                self.watch.costs.extend(self.costs.iter().map(|c| (c.total, c.idle)));
                Ok(())
            }
            Err((entity, problem)) => {
                Err(InvariantViolation { time: self.now(), event: after.to_string(), entity, problem })
            }
        }
    }

    /// Simulated time never goes backwards: now is no earlier than at the last check, and no
    /// event is due before now.
    fn check_clock(&self) -> Result<(), Problem> {
        let now = self.now();
        if now < self.watch.time {
            return Err(("clock".into(), format!("time went back from {} ms to {now} ms", self.watch.time)));
        }
        if let Some(next) = self.queue.peek_time()
            && next < now
        {
            return Err(("clock".into(), format!("an event is due at {next} ms, before now ({now} ms)")));
        }
        Ok(())
    }

    /// No instance holds more than it registered or other than its tasks reserve, no host port
    /// is held twice, every task not STOPPED is on exactly its instance's list and its
    /// service's list, and stopped tasks on none.
    fn check_instances_and_tasks(&self) -> Result<(), Problem> {
        let mut on_instance = vec![0u32; self.tasks.len()];
        for (i, inst) in self.cluster.instances.iter().enumerate() {
            let who = || format!("instance {}", inst.id);
            let (mut cpu, mut mem, mut enis, mut statics) = (0u32, 0u32, 0u32, 0usize);
            let mut ports: Vec<u16> = Vec::new();
            for &t in &inst.tasks {
                let task = &self.tasks[t];
                let req = &self.requirements[task.task_definition];
                if task.instance != i || task.status == TaskStatus::Stopped {
                    return Err((
                        who(),
                        format!("lists task {} ({}) that is not live on it", task.id, task.status.as_str()),
                    ));
                }
                on_instance[t] += 1;
                cpu += req.cpu;
                mem += req.memory;
                enis += u32::from(req.needs_eni);
                statics += task.static_ports;
                ports.extend_from_slice(&task.host_ports);
            }
            if (cpu, mem, enis) != (inst.reserved_cpu, inst.reserved_memory, inst.enis_in_use) {
                return Err((
                    who(),
                    format!(
                        "reserves cpu {} mem {} enis {} but its tasks need cpu {cpu} mem {mem} enis {enis}",
                        inst.reserved_cpu, inst.reserved_memory, inst.enis_in_use
                    ),
                ));
            }
            if cpu > inst.registered_cpu || mem > inst.registered_memory || enis > inst.max_enis.saturating_sub(1) {
                return Err((
                    who(),
                    format!(
                        "over-committed: cpu {cpu}/{}, memory {mem}/{}, enis {enis}/{}",
                        inst.registered_cpu,
                        inst.registered_memory,
                        inst.max_enis.saturating_sub(1)
                    ),
                ));
            }
            ports.sort_unstable();
            if let Some(w) = ports.windows(2).find(|w| w[0] == w[1]) {
                return Err((who(), format!("host port {} is held by two tasks", w[0])));
            }
            if ports != inst.ports_in_use || statics != inst.static_ports_in_use {
                return Err((who(), "its port table does not match its tasks' ports".into()));
            }
        }
        let mut in_service = vec![0u32; self.tasks.len()];
        for (s, svc) in self.services.iter().enumerate() {
            for &t in &svc.tasks {
                in_service[t] += 1;
                if self.tasks[t].service != s {
                    return Err((
                        format!("service {}", svc.name),
                        format!("lists task {} of another service", self.tasks[t].id),
                    ));
                }
            }
        }
        for (t, task) in self.tasks.iter().enumerate() {
            let expected = u32::from(task.status != TaskStatus::Stopped);
            if on_instance[t] != expected || in_service[t] != expected {
                return Err((
                    format!("task {}", task.id),
                    format!(
                        "{} but listed on {} instances and {} services",
                        task.status.as_str(),
                        on_instance[t],
                        in_service[t]
                    ),
                ));
            }
            if task.status == TaskStatus::Running && task.started_at.is_none() {
                return Err((format!("task {}", task.id), "RUNNING without a start time".into()));
            }
        }
        Ok(())
    }

    /// Every target is a live task of its group's service.
    fn check_targets(&self) -> Result<(), Problem> {
        for (g, group) in self.target_groups.iter().enumerate() {
            for target in group.targets() {
                let task = &self.tasks[target.task];
                let owner = self.task_target_group(target.task);
                if owner != Some(g) || task.status == TaskStatus::Stopped || task.serving.is_none() {
                    return Err((
                        format!("target group {}", group.spec.name),
                        format!("holds task {} ({}) that does not belong there", task.id, task.status.as_str()),
                    ));
                }
            }
        }
        Ok(())
    }

    /// Request fidelity only: per service, the requests that arrived are those answered
    /// (successes and 5xx) and those in flight (held by its tasks, or waiting out a connection
    /// timeout); and the requests a task counts in flight are exactly those its server holds.
    fn check_requests(&self) -> Result<(), Problem> {
        if self.fluid() {
            return Ok(());
        }
        let mut held = vec![0u64; self.services.len()];
        for task in &self.tasks {
            if let Some(serving) = &task.serving {
                if serving.in_flight != serving.server.jobs() {
                    return Err((
                        format!("task {}", task.id),
                        format!(
                            "counts {} requests in flight but its server holds {}",
                            serving.in_flight,
                            serving.server.jobs()
                        ),
                    ));
                }
                held[task.service] += u64::from(serving.in_flight);
            }
        }
        for (s, traffic) in self.traffic.iter().enumerate() {
            let arrived = traffic.requests + traffic.minute_requests;
            let (ok, errors) = (traffic.answered(), traffic.errors + traffic.minute_errors);
            let in_flight = held[s] + traffic.connecting;
            if arrived != ok + errors + in_flight {
                return Err((
                    format!("service {}", self.services[s].name),
                    format!(
                        "{arrived} requests arrived but {ok} succeeded, {errors} failed and {in_flight} are in \
                         flight ({} in its tasks, {} connecting)",
                        held[s], traffic.connecting
                    ),
                ));
            }
        }
        Ok(())
    }

    /// Billing never decreases: each service's total and idle cost, and the instant the
    /// instances are billed to (never past now).
    fn check_billing(&self) -> Result<(), Problem> {
        if self.billed_until < self.watch.billed_until || self.billed_until > self.now() {
            return Err((
                "billing".into(),
                format!(
                    "instances are billed up to {} ms, after {} ms at the last check, at {} ms",
                    self.billed_until,
                    self.watch.billed_until,
                    self.now()
                ),
            ));
        }
        for (s, cost) in self.costs.iter().enumerate() {
            let (total, idle) = self.watch.costs.get(s).copied().unwrap_or_default();
            // Written so that NaN fails too.
            if !(cost.total >= total && cost.idle >= idle && cost.total.is_finite() && cost.idle.is_finite()) {
                return Err((
                    format!("service {}", self.services[s].name),
                    format!("its bill went from {total} USD ({idle} idle) to {} USD ({} idle)", cost.total, cost.idle),
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::MemoryRecorder;

    const SCENARIO: &str = r#"
version = 1
name = "invariants"
duration = "3m"
[cluster]
availability_zones = ["us-east-1a"]
[[cluster.auto_scaling_groups]]
name = "g"
instance_type = "m5.large"
desired_capacity = 2
boot_time = "0s"
[task_definitions.t]
cpu = 256
memory = 512
app = { ready_time = "1s" }
[[task_definitions.t.containers]]
name = "app"
image = "app:1"
port_mappings = [{ container_port = 80, host_port = 0 }]
[target_groups.t]
health_check = { interval = "5s", timeout = "2s", healthy_threshold = 2 }
[services.web]
task_definition = "t"
desired_count = 2
load_balancer = { target_group = "t", container_name = "app", container_port = 80 }
[workloads.w]
target_group = "t"
arrivals = { pattern = "constant", rate = 4 }
service_time = "100ms"
"#;

    fn scenario(sets: &[&str]) -> Scenario {
        let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
        Scenario::from_str_named("invariants.toml", SCENARIO.into(), &sets).unwrap_or_else(|e| panic!("{e}"))
    }

    /// Runs the world to its end, invariants checked all along, and hands it over for breaking.
    fn after_a_run(scenario: &Scenario, then: impl FnOnce(&mut World<'_>)) {
        let mut recorder = MemoryRecorder::default();
        let mut world = World::new(scenario, &mut recorder);
        world.check_invariants("the initial placement").unwrap();
        world.run(true).unwrap();
        world.bill();
        world.check_invariants("the end").unwrap();
        then(&mut world);
    }

    fn broken(world: &mut World<'_>) -> InvariantViolation {
        world.check_invariants("the test's tampering").expect_err("the tampering went unnoticed")
    }

    #[test]
    fn a_run_keeps_its_books() {
        after_a_run(&scenario(&[]), |w| {
            let t = &w.traffic[0];
            assert!(t.requests >= 600 && t.answered() > 500, "{} requests, {} answered", t.requests, t.answered());
            assert!(w.costs[0].total > 0.0);
        });
    }

    #[test]
    fn a_request_counted_twice_or_lost_is_caught() {
        let s = scenario(&[]);
        after_a_run(&s, |w| {
            w.traffic[0].minute_errors += 1;
            let v = broken(w);
            assert_eq!((v.entity.as_str(), v.event.as_str()), ("service web", "the test's tampering"));
            assert!(v.problem.contains("requests arrived but"), "{v}");
            assert_eq!(v.time, 3 * MINUTE);
        });
        after_a_run(&s, |w| {
            w.traffic[0].minute_requests += 1;
            assert!(broken(w).problem.contains("requests arrived but"));
        });
        // A task that claims a request no one sent.
        after_a_run(&s, |w| {
            let t = w.tasks.iter().position(|t| t.serving.is_some()).unwrap();
            w.tasks[t].serving.as_mut().unwrap().in_flight += 1;
            let v = broken(w);
            assert_eq!(v.entity, format!("task {}", w.tasks[t].id));
            assert!(v.problem.contains("but its server holds"), "{v}");
        });
        // A connection the security group dropped that never times out.
        after_a_run(&s, |w| {
            w.traffic[0].connecting += 1;
            assert!(broken(w).problem.contains("1 connecting"));
        });
    }

    #[test]
    fn fluid_requests_are_not_counted_one_by_one() {
        after_a_run(&scenario(&["fidelity=\"fluid\""]), |w| {
            w.traffic[0].minute_errors += 1;
            assert_eq!(w.check_invariants("fluid"), Ok(()));
        });
    }

    /// A cohort that loses count of a member, and a split that holds a candidate twice.
    #[test]
    fn a_fluid_cohort_that_loses_or_doubles_a_member_is_caught() {
        let s = scenario(&["fidelity=\"fluid\""]);
        for (doubled, problem) in [(false, "cohort"), (true, "but its candidates are")] {
            after_a_run(&s, |w| {
                let tampered = if doubled { w.fluid_tamper_singles() } else { w.fluid_tamper_cohort() };
                assert!(tampered, "no cohort formed");
                let v = broken(w);
                assert!(v.problem.contains(problem), "{}", v.problem);
            });
        }
    }

    #[test]
    fn fluid_requests_in_flight_that_no_task_holds_are_caught() {
        let s = scenario(&["fidelity=\"fluid\""]);
        after_a_run(&s, |w| {
            let now = w.now();
            w.traffic[0].in_flight.add_rate(now, 1.0);
            let v = broken(w);
            assert_eq!(v.entity, "service web");
            assert!(v.problem.contains("in flight"), "{}", v.problem);
        });
    }

    #[test]
    fn instance_weights_that_billing_keeps_stale_are_caught() {
        after_a_run(&scenario(&[]), |w| {
            let i = w.instance_weights.iter().position(|x| x.as_ref().is_some_and(|x| x.weights().next().is_some()));
            let i = i.expect("an instance with tasks");
            let doubled: Vec<(usize, f64)> =
                w.instance_weights[i].as_ref().unwrap().weights().map(|(s, x)| (s, 2.0 * x)).collect();
            w.instance_weights[i] = Some(billing::InstanceWeights::new(&doubled));
            let v = broken(w);
            assert!(v.entity.starts_with("instance "), "{v}");
            assert!(v.problem.contains("billing keeps its weights"), "{v}");
        });
    }

    /// An instance left in the bulk after its tasks changed, or out of it with its rates still
    /// in the sums, would be billed at rates it no longer has.
    #[test]
    fn a_bulk_that_drifts_from_its_instances_is_caught() {
        after_a_run(&scenario(&[]), |w| {
            let i = w.in_steady.iter().position(|&x| x).expect("an instance billed in bulk");
            w.in_steady[i] = false;
            let v = broken(w);
            assert!(v.problem.contains("the bulk's rates"), "{v}");
        });
        after_a_run(&scenario(&[]), |w| {
            let i = w.in_steady.iter().position(|&x| x).expect("an instance billed in bulk");
            w.instance_weights[i] = None;
            let v = broken(w);
            assert!(v.problem.contains("billed in bulk"), "{v}");
        });
    }

    #[test]
    fn an_instance_billing_forgets_or_copies_stale_is_caught() {
        after_a_run(&scenario(&[]), |w| {
            w.instances_to_bill.remove(0);
            let v = broken(w);
            assert!(v.problem.contains("dropped it before settling"), "{v}");
        });
        after_a_run(&scenario(&[]), |w| {
            w.cluster.instances[0].terminated_at = Some(w.now());
            let v = broken(w);
            assert!(v.problem.contains("billing's copy"), "{v}");
        });
    }

    #[test]
    fn a_bill_that_decreases_is_caught() {
        let s = scenario(&[]);
        after_a_run(&s, |w| {
            w.costs[0].total -= 0.000_001;
            let v = broken(w);
            assert_eq!(v.entity, "service web");
            assert!(v.problem.contains("its bill went from"), "{v}");
        });
        after_a_run(&s, |w| {
            w.costs[0].idle = f64::NAN;
            assert_eq!(broken(w).entity, "service web");
        });
        after_a_run(&s, |w| {
            w.billed_until -= 1;
            let v = broken(w);
            assert_eq!(v.entity, "billing");
        });
    }

    #[test]
    fn time_that_goes_back_is_caught() {
        let s = scenario(&[]);
        after_a_run(&s, |w| {
            // As if the last check had been later than now.
            w.watch.time = w.now() + 1;
            let v = broken(w);
            assert_eq!(v.entity, "clock");
            assert_eq!(v.problem, format!("time went back from {} ms to {} ms", 3 * MINUTE + 1, 3 * MINUTE));
        });
    }

    #[test]
    fn a_violation_stops_the_run_with_the_event() {
        // An instance that reserves more than its tasks from the start: the first check after
        // the first event reports it, with the event.
        let s = scenario(&[]);
        let mut recorder = MemoryRecorder::default();
        let mut world = World::new(&s, &mut recorder);
        world.cluster.instances[0].reserved_cpu += 1;
        let v = world.run(true).unwrap_err();
        assert!(v.entity.starts_with("instance "), "{v}");
        assert!(v.problem.contains("reserves cpu"), "{v}");
        assert!(!v.event.is_empty() && v.event != "the initial placement", "{v}");
        assert!(v.to_string().starts_with("invariant broken at t=0.000 s after "), "{v}");
    }
}
