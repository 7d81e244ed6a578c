//! Per-minute samples and the end-of-run summary.

use super::*;

#[derive(Clone, Copy, Debug, Default)]
pub(super) struct ClusterCapacity {
    cpu: u64,
    memory: u64,
    active: u32,
}

impl World<'_> {
    /// The CPU units and MiB registered by the cluster's instances (not Fargate's), and how many
    /// are ACTIVE: the same for every service's row, so worked out once per sample.
    fn cluster_capacity(&self) -> ClusterCapacity {
        let mut c = ClusterCapacity::default();
        for inst in self.cluster.instances.iter().filter(|inst| !inst.fargate) {
            if inst.status.is_registered() {
                c.cpu += u64::from(inst.registered_cpu);
                c.memory += u64::from(inst.registered_memory);
            }
            c.active += u32::from(inst.status == InstanceStatus::Active);
        }
        c
    }

    pub(super) fn service_sample(&self, s: usize, cluster: ClusterCapacity) -> ServiceSample {
        let svc = &self.services[s];
        let (mut running, mut starting, mut stopping) = (0, 0, 0);
        let primary = svc.primary();
        let (mut primary_running, mut primary_healthy, mut active_running, mut active_healthy) = (0, 0, 0, 0);
        for (deployment, class, n) in self.task_tallies[s].classes() {
            let is_running = class.status == TaskStatus::Running;
            let healthy = if class.healthy { n } else { 0 };
            let running_n = if is_running { n } else { 0 };
            if deployment == primary {
                primary_running += running_n;
                primary_healthy += healthy;
            } else {
                active_running += running_n;
                active_healthy += healthy;
            }
            match class.status {
                TaskStatus::Provisioning | TaskStatus::Pending => starting += n,
                TaskStatus::Running if class.desired_running => running += n,
                TaskStatus::Running | TaskStatus::Deactivating | TaskStatus::Stopping => stopping += n,
                TaskStatus::Stopped => {}
            }
        }
        let footprint = svc.footprint;
        let pct = |used: f64, total: u64| if total == 0 { 0.0 } else { 100.0 * used / total as f64 };
        ServiceSample {
            time: self.now(),
            service: s,
            desired: svc.desired_count,
            running,
            pending: starting + svc.unplaced,
            unplaced: svc.unplaced,
            stopping,
            hosts: footprint.hosts,
            instances: cluster.active,
            cpu_reserved_pct: pct(footprint.reserved_cpu as f64, cluster.cpu),
            mem_reserved_pct: pct(footprint.reserved_memory as f64, cluster.memory),
            primary_revision: self.scenario.task_definitions[svc.task_definition].revision,
            primary_running,
            primary_healthy,
            active_running,
            active_healthy,
            ..ServiceSample::default()
        }
    }

    pub(super) fn sample(&mut self) {
        self.bill();
        let mut rows = Vec::with_capacity(self.services.len());
        let cluster = self.cluster_capacity();
        for s in 0..self.services.len() {
            let mut row = self.service_sample(s, cluster);
            self.traffic_minute(s, &mut row);
            row.cost_usd = std::mem::take(&mut self.costs[s].minute);
            row.cumulative_cost_usd = self.costs[s].total;
            rows.push(row);
        }
        // The alarms act at the minute's end, so the row shows the desired count they set.
        self.autoscale(&rows);
        self.cluster_autoscale();
        for (s, mut row) in rows.into_iter().enumerate() {
            row.desired = self.services[s].desired_count;
            row.capacity_provider_reservation = self.service_reservation(s);
            if let Some(scaling) = &self.scaling[s] {
                row.scaling_metric = scaling.seen.unwrap_or(0.0);
                row.alarms_in_alarm = scaling.alarms_in_alarm;
            }
            self.services[s].pending_task_minutes += u64::from(row.pending);
            self.recorder.sample(row);
        }
    }

    pub(super) fn summary(&self) -> Vec<ServiceSummary> {
        let cluster = self.cluster_capacity();
        (0..self.services.len())
            .map(|s| {
                let x = self.service_sample(s, cluster);
                let svc = &self.services[s];
                let mut row = ServiceSummary {
                    service: svc.name.clone(),
                    scheduling_strategy: svc.scheduling_strategy.as_str(),
                    desired: x.desired,
                    running: x.running,
                    pending: x.pending,
                    unplaced: x.unplaced,
                    placement_failures: svc.placement_failures,
                    tasks_started: svc.tasks_started,
                    tasks_stopped: svc.tasks_stopped,
                    instances: x.instances,
                    hosts: x.hosts,
                    cpu_reserved_pct: x.cpu_reserved_pct,
                    mem_reserved_pct: x.mem_reserved_pct,
                    pending_task_minutes: svc.pending_task_minutes,
                    ..ServiceSummary::default()
                };
                self.traffic_summary(s, &mut row);
                row.cost_usd = self.costs[s].total;
                row.idle_cost_usd = self.costs[s].idle;
                row.cost_per_million_requests =
                    if row.requests == 0 { 0.0 } else { row.cost_usd * 1e6 / row.requests as f64 };
                row
            })
            .collect()
    }
}

impl World<'_> {
    /// Each service's footprint, kept as its tasks come and go, is what its tasks not yet
    /// STOPPED add up to, and billing's and the counts' copies of each task are the task's.
    pub(super) fn check_footprints(&self) -> Result<(), (String, String)> {
        for svc in &self.services {
            let mut hosts: Vec<usize> = Vec::new();
            let mut expected = crate::model::service::InstanceFootprint::default();
            for &t in &svc.tasks {
                let task = &self.tasks[t];
                if self.cluster.instances[task.instance].fargate {
                    continue;
                }
                hosts.push(task.instance);
                let r = &self.requirements[task.task_definition];
                expected.reserved_cpu += u64::from(r.cpu);
                expected.reserved_memory += u64::from(r.memory);
            }
            hosts.sort_unstable();
            hosts.dedup();
            expected.hosts = hosts.len() as u32;
            if svc.footprint != expected {
                return Err((
                    format!("service {}", svc.name),
                    format!("its footprint is kept as {:?} but its tasks add up to {expected:?}", svc.footprint),
                ));
            }
        }
        if let Some(t) =
            (0..self.tasks.len()).find(|&t| self.billed_tasks[t] != billing::BilledTask::of(&self.tasks[t]))
        {
            return Err((format!("task {}", self.tasks[t].id), "billing's copy of the task differs".into()));
        }
        if let Some(t) =
            (0..self.tasks.len()).find(|&t| self.task_states[t] != tasks::TaskState::of(&self.tasks[t], &self.cluster))
        {
            return Err((
                format!("task {}", self.tasks[t].id),
                format!("the counts' copy {:?} differs from the task", self.task_states[t]),
            ));
        }
        for i in 0..self.cluster.instances.len() {
            let (kept, held) = (self.replica_tasks_on.get(i).copied().unwrap_or(0), self.recount_replica_tasks(i));
            if kept != held {
                return Err((
                    format!("instance {}", self.cluster.instances[i].id),
                    format!("{kept} REPLICA tasks counted on it but it holds {held}"),
                ));
            }
        }
        for (s, svc) in self.services.iter().enumerate() {
            let healthy = self.recount_healthy_targets(s);
            if self.traffic[s].healthy_targets != healthy {
                return Err((
                    format!("service {}", svc.name),
                    format!(
                        "{} healthy targets kept but {healthy} in its target groups",
                        self.traffic[s].healthy_targets
                    ),
                ));
            }
            let recounted = tasks::TaskTally::of(&svc.tasks, &self.task_states);
            if self.task_tallies[s] != recounted {
                return Err((
                    format!("service {}", svc.name),
                    format!("its tasks are tallied as {:?} but count up to {recounted:?}", self.task_tallies[s]),
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

    /// Two services that scale out and in on three instances, behind a load balancer.
    const SCENARIO: &str = r#"
version = 1
name = "hosts"
duration = "20m"
[cluster]
availability_zones = ["us-east-1a", "us-east-1b"]
[[cluster.auto_scaling_groups]]
name = "g"
instance_type = "m5.large"
desired_capacity = 3
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
desired_count = 6
load_balancer = { target_group = "t", container_name = "app", container_port = 80 }
[services.worker]
task_definition = "t"
desired_count = 2
[workloads.w]
target_group = "t"
arrivals = { pattern = "constant", rate = 20 }
service_time = "100ms"
[[actions]]
at = "5m"
set_desired_count = { service = "web", desired_count = 2 }
[[actions]]
at = "10m"
set_desired_count = { service = "worker", desired_count = 5 }
"#;

    /// Runs the scenario event by event, checking the footprints after each, and returns the
    /// check of the world as it ends after `tamper`.
    fn run_checking_footprints(fidelity: &str, tamper: impl FnOnce(&mut World<'_>)) -> Result<(), (String, String)> {
        let sets = [format!("fidelity=\"{fidelity}\"")];
        let scenario = Scenario::from_str_named("hosts.toml", SCENARIO.into(), &sets).unwrap_or_else(|e| panic!("{e}"));
        let mut recorder = MemoryRecorder::default();
        let mut world = World::new(&scenario, &mut recorder);
        world.step_until(scenario.duration, |w| w.check_footprints().and_then(|()| w.check_fluid()))?;
        assert!(world.services.iter().all(|svc| svc.tasks_stopped > 0 || svc.tasks_started > 2));
        tamper(&mut world);
        world.check_footprints()
    }

    #[test]
    fn footprints_add_up_through_scaling() {
        for fidelity in ["request", "fluid"] {
            assert_eq!(run_checking_footprints(fidelity, |_| {}), Ok(()), "{fidelity}");
        }
    }

    #[test]
    fn a_footprint_that_drifts_is_caught() {
        let lost_host = run_checking_footprints("request", |w| w.services[0].footprint.hosts -= 1);
        assert!(lost_host.is_err());
        let lost_memory = run_checking_footprints("request", |w| w.services[1].footprint.reserved_memory += 1);
        assert!(lost_memory.is_err());
    }

    #[test]
    fn a_task_state_copy_that_drifts_is_caught() {
        for fidelity in ["request", "fluid"] {
            let missed_stop = run_checking_footprints(fidelity, |w| {
                let t = w.services[0].tasks[0];
                w.task_states[t].class.desired_running = false;
            });
            assert!(missed_stop.is_err(), "{fidelity}");
            let missed_health = run_checking_footprints(fidelity, |w| {
                let t = w.services[0].tasks[0];
                w.task_states[t].class.healthy = !w.task_states[t].class.healthy;
            });
            assert!(missed_health.is_err(), "{fidelity}");
            let missed_target = run_checking_footprints(fidelity, |w| w.traffic[0].healthy_targets += 1);
            assert!(missed_target.is_err(), "{fidelity}");
            let missed_drain = run_checking_footprints(fidelity, |w| {
                let i = w.tasks[w.services[0].tasks[0]].instance;
                w.cluster.instances[i].status = InstanceStatus::Draining;
            });
            assert!(missed_drain.is_err(), "{fidelity}");
        }
    }

    /// Managed termination protection reads the count of REPLICA tasks on each instance.
    #[test]
    fn a_replica_task_count_that_drifts_is_caught() {
        let lost = run_checking_footprints("request", |w| {
            let i = w.tasks[w.services[0].tasks[0]].instance;
            w.replica_tasks_on[i] -= 1;
        });
        assert!(lost.is_err());
    }
}
