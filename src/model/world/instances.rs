//! Container instances: launch, boot, registration, draining, termination.

use super::*;

impl World<'_> {
    pub(super) fn launch_initial_instances(&mut self) {
        for (g, group) in self.scenario.auto_scaling_groups.iter().enumerate() {
            let mut per_zone = vec![0u32; group.availability_zones.len()];
            for n in 1..=group.desired_capacity {
                let z = launch_availability_zone(&per_zone);
                per_zone[z] += 1;
                let az = group.availability_zones[z];
                self.launch_instance(g, format!("{}-{n}", group.name), az, !group.boot_at_start);
            }
        }
    }

    /// Creates an instance in a zone: registered at once (`already_registered`), or booting.
    pub(super) fn launch_instance(
        &mut self,
        group_index: usize,
        id: String,
        az: usize,
        already_registered: bool,
    ) -> usize {
        let group = &self.scenario.auto_scaling_groups[group_index];
        let itype = &self.scenario.instance_types[group.instance_type];
        let instance = ContainerInstance::new(
            id,
            group_index,
            (group.instance_type, itype),
            az,
            group.reserved_memory,
            group.dynamic_host_port_range,
            self.now(),
        );
        let attributes = group.attributes.clone();
        let i = self.cluster.add_instance(instance, attributes);
        if already_registered {
            self.instance_registered(i);
        } else {
            let detail =
                format!("{} in {}", self.cluster.instance_type_of(i).name, self.cluster.availability_zone_of(i));
            self.record(EventKind::InstanceLaunched, None, None, Some(i), detail);
            let delay = self.scenario.auto_scaling_groups[group_index].boot_time.sample_duration(&mut self.rng.launch);
            let generation = self.cluster.instances[i].timer.arm();
            self.queue.schedule_in(delay, Event::InstanceBooted { instance: i as u32, generation });
        }
        i
    }

    pub(super) fn instance_booted(&mut self, i: usize) {
        let group = self.cluster.instances[i].group;
        self.cluster.instances[i].status = InstanceStatus::Registering;
        let delay =
            self.scenario.auto_scaling_groups[group].agent_registration_time.sample_duration(&mut self.rng.launch);
        let generation = self.cluster.instances[i].timer.arm();
        self.queue.schedule_in(delay, Event::InstanceRegistered { instance: i as u32, generation });
    }

    pub(super) fn instance_registered(&mut self, i: usize) {
        let now = self.now();
        let inst = &mut self.cluster.instances[i];
        inst.status = InstanceStatus::Active;
        inst.registered_at = Some(now);
        let detail = format!(
            "{} in {}: {} CPU units, {} MiB registered",
            self.cluster.instance_type_of(i).name,
            self.cluster.availability_zone_of(i),
            self.cluster.instances[i].registered_cpu,
            self.cluster.instances[i].registered_memory
        );
        self.record(EventKind::InstanceRegistered, None, None, Some(i), detail);
        self.capacity_grew();
    }

    pub(super) fn find_instance(&self, id: &str) -> Option<usize> {
        self.cluster.instances.iter().position(|inst| inst.id == id)
    }

    /// `DRAINING`: no new tasks; the service schedulers replace the instance's tasks within their
    /// deployment limits (ECS-DG:container-instance-draining.md).
    pub(super) fn drain_instance(&mut self, i: usize) {
        if self.cluster.instances[i].status != InstanceStatus::Active {
            return;
        }
        self.cluster.instances[i].status = InstanceStatus::Draining;
        let n = self.cluster.instances[i].tasks.len();
        self.record(
            EventKind::InstanceDraining,
            None,
            None,
            Some(i),
            format!("container instance set to DRAINING with {n} tasks"),
        );
        if n == 0 {
            self.record_drained(i);
        }
        self.request_schedule();
    }

    pub(super) fn record_drained(&mut self, i: usize) {
        self.record(EventKind::InstanceDrained, None, None, Some(i), "every task on the instance has stopped".into());
    }

    pub(super) fn activate_instance(&mut self, i: usize) {
        if self.cluster.instances[i].status != InstanceStatus::Draining {
            return;
        }
        self.cluster.instances[i].status = InstanceStatus::Active;
        self.record(EventKind::InstanceActivated, None, None, Some(i), "container instance set back to ACTIVE".into());
        self.capacity_grew();
    }

    /// The EC2 instance is gone: its tasks stop at once, it leaves the cluster.
    pub(super) fn terminate_instance(&mut self, i: usize) {
        if self.cluster.instances[i].status == InstanceStatus::Inactive {
            return;
        }
        while let Some(&t) = self.cluster.instances[i].tasks.first() {
            let task = &mut self.tasks[t];
            task.desired_running = false;
            if task.stop_reason.is_none() {
                task.stop_reason = Some(StopReason::InstanceTerminated);
            }
            self.finish_stop(t);
        }
        self.cluster.instances[i].status = InstanceStatus::Inactive;
        self.cluster.instances[i].terminated_at = Some(self.now());
        self.cluster.instances[i].timer.cancel();
        self.record(
            EventKind::InstanceTerminated,
            None,
            None,
            Some(i),
            "instance terminated and deregistered (INACTIVE)".into(),
        );
        self.request_schedule();
    }

    pub(super) fn capacity_grew(&mut self) {
        self.capacity_epoch += 1;
        self.request_schedule();
    }
}
