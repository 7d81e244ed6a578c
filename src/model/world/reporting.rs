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
        let mut hosts: Vec<usize> = Vec::new();
        let primary = svc.primary();
        let (mut primary_running, mut primary_healthy, mut active_running, mut active_healthy) = (0, 0, 0, 0);
        let (mut reserved_cpu, mut reserved_mem) = (0.0, 0.0);
        for &t in &svc.tasks {
            let task = &self.tasks[t];
            if task.status == TaskStatus::Running {
                let healthy = u32::from(task.is_healthy());
                if task.deployment == primary {
                    primary_running += 1;
                    primary_healthy += healthy;
                } else {
                    active_running += 1;
                    active_healthy += healthy;
                }
            }
            match task.status {
                TaskStatus::Running if task.desired_running => running += 1,
                TaskStatus::Provisioning | TaskStatus::Pending => starting += 1,
                TaskStatus::Running | TaskStatus::Deactivating | TaskStatus::Stopping => stopping += 1,
                TaskStatus::Stopped => {}
            }
            if !self.cluster.instances[task.instance].fargate {
                hosts.push(task.instance);
                // CPUReservation and MemoryReservation are "only supported for tasks hosted on
                // an Amazon EC2 instance" (ECS-DG:cloudwatch-metrics.md, available metrics): a
                // Fargate task reserves nothing of the cluster's instances.
                let r = &self.requirements[task.task_definition];
                reserved_cpu += f64::from(r.cpu);
                reserved_mem += f64::from(r.memory);
            }
        }
        hosts.sort_unstable();
        hosts.dedup();
        let pct = |used: f64, total: u64| if total == 0 { 0.0 } else { 100.0 * used / total as f64 };
        ServiceSample {
            time: self.now(),
            service: s,
            desired: svc.desired_count,
            running,
            pending: starting + svc.unplaced,
            unplaced: svc.unplaced,
            stopping,
            hosts: hosts.len() as u32,
            instances: cluster.active,
            cpu_reserved_pct: pct(reserved_cpu, cluster.cpu),
            mem_reserved_pct: pct(reserved_mem, cluster.memory),
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
