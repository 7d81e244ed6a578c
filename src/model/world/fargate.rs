//! Fargate tasks while the simulation runs: each runs in a micro-VM of its own, sized to the
//! task and billed per second from its image pull to its stop; FARGATE_SPOT tasks may be
//! reclaimed with a two-minute warning (ECS-DG:AWS_Fargate.md,
//! ECS-DG:fargate-capacity-providers.md; AWS-SEMANTICS.md §8).
//!
//! The micro-VM is kept among the cluster's instances, flagged `fargate`, so that everything a
//! task needs of its host (reservations, the ENI, CPU for its requests, the image pull, billing)
//! works unchanged; placement, DAEMON services, capacity providers and the instance counts in
//! the outputs never see it.

use super::*;

use crate::model::capacity_provider::ProviderKind;
use crate::model::fargate::{CpuArchitecture, SPOT_WARNING};

impl World<'_> {
    /// The instance type entry the micro-VMs point at (for names; their size is the task's).
    pub(super) fn add_fargate_type(&mut self) -> usize {
        self.cluster.instance_types.push(crate::model::ec2::InstanceType {
            name: "FARGATE".into(),
            vcpu: 1,
            memory_mib: 1,
            max_enis: 2,
            on_demand_price: 0.0,
            architecture: crate::model::ec2::CpuArchitecture::X86_64,
            registered_memory_mib: None,
            spot_price: 0.0,
            spot_interruption_rate: 0.0,
            spot_interruption_rate_by_zone: Vec::new(),
        });
        self.cluster.instance_types.len() - 1
    }

    /// Starts a task of service `s` on Fargate provider `p`, in the Availability Zone (among
    /// those up) where the service has the fewest live tasks, the first such on a tie: Fargate
    /// balances a service's tasks across zones (ECS-DG:ecs_services.md). False when no zone is
    /// up.
    pub(super) fn launch_fargate_task(&mut self, s: usize, p: usize) -> bool {
        let zones = self.cluster.availability_zones.len();
        let mut per_zone = vec![0u32; zones];
        for &t in &self.services[s].tasks {
            if self.tasks[t].desired_running {
                per_zone[self.cluster.instances[self.tasks[t].instance].availability_zone] += 1;
            }
        }
        let Some(zone) = (0..zones).filter(|&z| !self.zones_down[z]).min_by_key(|&z| (per_zone[z], z)) else {
            return false;
        };
        let spot = self.scenario.capacity_providers[p].kind == ProviderKind::FargateSpot;
        let td = self.services[s].task_definition;
        let (cpu, memory) = (self.requirements[td].cpu, self.requirements[td].memory);
        let arm = self.scenario.task_definitions[td].cpu_architecture == CpuArchitecture::Arm64;
        let now = self.now();
        let itype = &self.cluster.instance_types[self.fargate_type];
        let mut vm = ContainerInstance::new(
            String::new(),
            usize::MAX,
            (self.fargate_type, itype),
            zone,
            0,
            crate::model::ec2::DEFAULT_DYNAMIC_HOST_PORT_RANGE,
            now,
        );
        vm.fargate = true;
        vm.status = InstanceStatus::Active;
        vm.registered_at = Some(now);
        vm.registered_cpu = cpu;
        vm.registered_memory = memory;
        vm.max_enis = 2;
        vm.lifecycle = if spot { Lifecycle::Spot } else { Lifecycle::OnDemand };
        vm.price_per_hour = self.scenario.fargate.pricing.task_per_hour(cpu, memory, arm, spot);
        let i = self.cluster.add_instance(vm, Default::default());
        let t = self.tasks.len();
        self.launch_task(s, i, Some(p));
        if spot {
            self.schedule_fargate_spot_interruption(t);
        }
        true
    }

    fn schedule_fargate_spot_interruption(&mut self, t: usize) {
        let rate = self.scenario.fargate.spot_interruption_rate;
        if rate <= 0.0 {
            return;
        }
        let hours = Distribution::Exponential { mean: 1.0 / rate }.sample(&mut self.rng.spot);
        let at = self.now().saturating_add((hours * HOUR as f64).min(u64::MAX as f64 / 2.0) as SimTime);
        if at <= self.scenario.duration {
            self.queue.schedule(at, Event::FargateSpotInterruption { task: t as u32 });
        }
    }

    /// Fargate takes back a Spot task's capacity: the task gets SIGTERM now (its target
    /// deregisters, its service starts a replacement) and is stopped two minutes later at the
    /// latest. Its stop reason is "Your Spot Task was interrupted."
    pub(super) fn fargate_spot_interruption(&mut self, t: usize) {
        if !self.tasks[t].desired_running || self.tasks[t].status == TaskStatus::Stopped {
            return;
        }
        let s = self.tasks[t].service;
        self.record(
            EventKind::SpotInterruption,
            Some(s),
            Some(t),
            None,
            "Fargate Spot interruption: SIGTERM now, the task is stopped within 2 minutes (stopCode TerminationNotice)"
                .into(),
        );
        self.stop_task(t, StopReason::SpotInterruption);
        self.queue.schedule_in(SPOT_WARNING, Event::FargateReclaim { task: t as u32 });
    }

    /// The warning is over: whatever still runs is killed.
    pub(super) fn fargate_reclaim(&mut self, t: usize) {
        if self.tasks[t].status != TaskStatus::Stopped {
            self.finish_stop(t);
        }
    }

    /// A Fargate task has stopped: its micro-VM is gone, and billing for it ends.
    pub(super) fn release_fargate_vm(&mut self, i: usize) {
        let now = self.now();
        let vm = &mut self.cluster.instances[i];
        if vm.fargate && vm.tasks.is_empty() && vm.status != InstanceStatus::Inactive {
            vm.status = InstanceStatus::Inactive;
            vm.terminated_at = Some(now);
            vm.timer.cancel();
            self.instance_billing_changed(i);
        }
    }
}
