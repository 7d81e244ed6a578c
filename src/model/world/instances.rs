//! Container instances: launch, boot, registration, draining, termination.

use super::*;

impl World<'_> {
    pub(super) fn launch_initial_instances(&mut self) {
        self.filling_groups = true;
        for g in 0..self.scenario.auto_scaling_groups.len() {
            let already_registered = !self.scenario.auto_scaling_groups[g].boot_at_start;
            self.fill_group(g, already_registered);
        }
        self.filling_groups = false;
    }

    /// Creates an instance of the group in a zone, of the given type and purchase option:
    /// registered at once (`already_registered`), or booting.
    pub(super) fn launch_instance(
        &mut self,
        group_index: usize,
        (type_index, lifecycle, weight): (usize, Lifecycle, u32),
        az: usize,
        already_registered: bool,
    ) -> usize {
        let group = &self.scenario.auto_scaling_groups[group_index];
        let itype = &self.scenario.instance_types[type_index];
        self.groups[group_index].next_number += 1;
        let id = format!("{}-{}", group.name, self.groups[group_index].next_number);
        let mut instance = ContainerInstance::new(
            id,
            group_index,
            (type_index, itype),
            az,
            group.reserved_memory,
            group.dynamic_host_port_range,
            self.now(),
        );
        instance.lifecycle = lifecycle;
        instance.price_per_hour = match lifecycle {
            Lifecycle::OnDemand => itype.on_demand_price,
            Lifecycle::Spot => itype.spot_price,
        };
        instance.weight = weight;
        instance.protected_from_scale_in = group.new_instances_protected_from_scale_in;
        instance.dedicated_to = self.group_dedication.get(group_index).copied().flatten();
        let attributes = group.attributes.clone();
        let i = self.cluster.add_instance(instance, attributes);
        if lifecycle == Lifecycle::Spot {
            self.schedule_spot_interruption(i);
        }
        if already_registered {
            self.instance_registered(i);
        } else {
            let detail = format!(
                "{} {} in {} (group {})",
                self.cluster.instance_type_of(i).name,
                lifecycle.as_str(),
                self.cluster.availability_zone_of(i),
                self.scenario.auto_scaling_groups[group_index].name
            );
            self.record(EventKind::InstanceLaunched, None, None, Some(i), detail);
            let delay = self.scenario.auto_scaling_groups[group_index].boot_time.sample_duration(&mut self.rng.launch);
            let generation = self.cluster.instances[i].timer.arm();
            self.queue.schedule_in(delay, Event::InstanceBooted { instance: i as u32, generation });
        }
        i
    }

    pub(super) fn instance_booted(&mut self, i: usize) {
        let group = self.cluster.instances[i].group;
        self.set_instance_status(i, InstanceStatus::Registering);
        let delay =
            self.scenario.auto_scaling_groups[group].agent_registration_time.sample_duration(&mut self.rng.launch);
        let generation = self.cluster.instances[i].timer.arm();
        self.queue.schedule_in(delay, Event::InstanceRegistered { instance: i as u32, generation });
        // In service for its group: a simple scaling activity may be complete.
        self.check_group_activity(group);
    }

    pub(super) fn instance_registered(&mut self, i: usize) {
        let now = self.now();
        self.set_instance_status(i, InstanceStatus::Active);
        self.cluster.instances[i].registered_at = Some(now);
        let detail = format!(
            "{} in {}: {} CPU units, {} MiB registered",
            self.cluster.instance_type_of(i).name,
            self.cluster.availability_zone_of(i),
            self.cluster.instances[i].registered_cpu,
            self.cluster.instances[i].registered_memory
        );
        self.record(EventKind::InstanceRegistered, None, None, Some(i), detail);
        self.capacity_grew();
        // A replacement for an instance EC2 warned about is in service: the old one goes; and a
        // group that waited for its launches to finish may now scale in.
        let g = self.cluster.instances[i].group;
        if !self.filling_groups {
            self.retire_at_risk(g);
            self.reconcile_group(g);
        }
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
        self.set_instance_status(i, InstanceStatus::Draining);
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
        self.terminate_if_retiring(i);
    }

    pub(super) fn activate_instance(&mut self, i: usize) {
        if self.cluster.instances[i].status != InstanceStatus::Draining {
            return;
        }
        self.set_instance_status(i, InstanceStatus::Active);
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
            self.task_state_changed(t);
            self.finish_stop(t);
        }
        if self.cluster.instances[i].fargate {
            // A Fargate task's micro-VM went with its task (an Availability Zone outage).
            self.request_schedule();
            return;
        }
        self.set_instance_status(i, InstanceStatus::Inactive);
        self.cluster.instances[i].terminated_at = Some(self.now());
        self.instance_billing_changed(i);
        self.cluster.instances[i].timer.cancel();
        let group = self.cluster.instances[i].group;
        self.record(
            EventKind::InstanceTerminated,
            None,
            None,
            Some(i),
            "instance terminated and deregistered (INACTIVE)".into(),
        );
        self.request_schedule();
        // The group replaces what it lost.
        self.reconcile_group(group);
        self.check_group_activity(group);
    }

    pub(super) fn capacity_grew(&mut self) {
        self.capacity_epoch += 1;
        self.request_schedule();
    }
}
