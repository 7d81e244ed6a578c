//! EC2 instance types and container instances: what an instance registers with ECS, and the
//! states it goes through from launch to deregistration.

use std::collections::BTreeMap;

use crate::engine::{SimTime, Timer};

/// The processor architecture, exposed to placement as `attribute:ecs.cpu-architecture`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CpuArchitecture {
    X86_64,
    Arm64,
}

impl CpuArchitecture {
    pub fn as_str(self) -> &'static str {
        match self {
            CpuArchitecture::X86_64 => "x86_64",
            CpuArchitecture::Arm64 => "arm64",
        }
    }
}

/// One EC2 instance type, as far as ECS placement and billing need it.
#[derive(Clone, Debug, PartialEq)]
pub struct InstanceType {
    pub name: String,
    pub vcpu: u32,
    /// Installed memory, MiB.
    pub memory_mib: u32,
    /// The most network interfaces the type can attach, primary included. With awsvpc each
    /// task needs its own ENI, so `max_enis - 1` awsvpc tasks fit (ECS-DG:container-instance-eni.md).
    pub max_enis: u32,
    /// On-demand Linux price, USD per hour.
    pub on_demand_price: f64,
    pub architecture: CpuArchitecture,
    /// Memory the ECS agent registers, MiB, when set explicitly; see [`InstanceType::registered_memory`].
    pub registered_memory_mib: Option<u32>,
    /// Spot price, USD per hour.
    pub spot_price: f64,
    /// Spot interruptions per instance-hour.
    pub spot_interruption_rate: f64,
    /// The rate in given Availability Zones (cluster zone index, rate), overriding the type's:
    /// each type in each zone is its own Spot pool.
    pub spot_interruption_rate_by_zone: Vec<(usize, f64)>,
}

/// Spot prices run at 35–50% of on-demand in AWS's own examples (AWS-SEMANTICS.md §8): the
/// built-in table takes 40% [assume].
pub const DEFAULT_SPOT_DISCOUNT: f64 = 0.4;

/// AWS's Spot Instance Advisor puts most pools in its lowest band, "<5%" interruptions a month:
/// 5% over 730 hours, per instance-hour [assume].
pub const DEFAULT_SPOT_INTERRUPTION_RATE: f64 = 0.05 / 730.0;

impl InstanceType {
    /// Spot interruptions per instance-hour for an instance of this type in `zone`.
    pub fn spot_interruption_rate_in(&self, zone: usize) -> f64 {
        self.spot_interruption_rate_by_zone
            .iter()
            .find(|(z, _)| *z == zone)
            .map_or(self.spot_interruption_rate, |x| x.1)
    }

    /// CPU units registered with ECS: 1024 per vCPU (ECS-DG:service-event-messages.md).
    pub fn registered_cpu(&self) -> u32 {
        self.vcpu * 1024
    }

    /// Memory registered with ECS, before `ECS_RESERVED_MEMORY` is taken off.
    ///
    /// The agent registers less than the installed memory because of kernel and platform
    /// overhead; the documented example is an m4.large, 8192 MiB installed, registering about
    /// 7985 MiB (ECS-DG:memory-management.md). Unless the scenario gives the figure for a type,
    /// the same ratio (7985/8192, about 2.5% off) is applied to every type.
    pub fn registered_memory(&self) -> u32 {
        self.registered_memory_mib.unwrap_or_else(|| (u64::from(self.memory_mib) * 7985 / 8192) as u32)
    }
}

/// The built-in instance types (us-east-1, Linux, on-demand).
///
/// vCPU, memory and ENI limits are EC2's published specifications
/// (https://docs.aws.amazon.com/ec2/latest/instancetypes/gp.html and the per-family pages).
/// Prices are the us-east-1 on-demand Linux prices from the AWS price list; those for m5.large,
/// m5.xlarge, c5.large, c6g.large and t3.medium match AWS-SEMANTICS.md §8. Scenarios override
/// any field or add types under `[instance_types."name"]`.
pub fn builtin_instance_types() -> BTreeMap<String, InstanceType> {
    use CpuArchitecture::{Arm64, X86_64};
    let table: [(&str, u32, u32, u32, f64, CpuArchitecture); 18] = [
        ("t3.small", 2, 2048, 3, 0.0208, X86_64),
        ("t3.medium", 2, 4096, 3, 0.0416, X86_64),
        ("t3.large", 2, 8192, 3, 0.0832, X86_64),
        ("m5.large", 2, 8192, 3, 0.096, X86_64),
        ("m5.xlarge", 4, 16384, 4, 0.192, X86_64),
        ("m5.2xlarge", 8, 32768, 4, 0.384, X86_64),
        ("m5.4xlarge", 16, 65536, 8, 0.768, X86_64),
        ("c5.large", 2, 4096, 3, 0.085, X86_64),
        ("c5.xlarge", 4, 8192, 4, 0.17, X86_64),
        ("c5.2xlarge", 8, 16384, 4, 0.34, X86_64),
        ("r5.large", 2, 16384, 3, 0.126, X86_64),
        ("r5.xlarge", 4, 32768, 4, 0.252, X86_64),
        ("m6g.large", 2, 8192, 3, 0.077, Arm64),
        ("m6g.xlarge", 4, 16384, 4, 0.154, Arm64),
        ("c6g.large", 2, 4096, 3, 0.068, Arm64),
        ("c6g.xlarge", 4, 8192, 4, 0.136, Arm64),
        ("r6g.large", 2, 16384, 3, 0.1008, Arm64),
        ("m7g.large", 2, 8192, 3, 0.0816, Arm64),
    ];
    table
        .into_iter()
        .map(|(name, vcpu, memory_mib, max_enis, on_demand_price, architecture)| {
            (
                name.to_string(),
                InstanceType {
                    name: name.to_string(),
                    vcpu,
                    memory_mib,
                    max_enis,
                    on_demand_price,
                    architecture,
                    registered_memory_mib: None,
                    spot_price: on_demand_price * DEFAULT_SPOT_DISCOUNT,
                    spot_interruption_rate: DEFAULT_SPOT_INTERRUPTION_RATE,
                    spot_interruption_rate_by_zone: Vec::new(),
                },
            )
        })
        .collect()
}

/// The ECS agent's default dynamic host port range on Linux: the kernel's ephemeral range,
/// 32768–60999, read from `/proc/sys/net/ipv4/ip_local_port_range` (ECS-DG:task_definition_parameters.md
/// `hostPort`; AGENT `ECS_DYNAMIC_HOST_PORT_RANGE`).
pub const DEFAULT_DYNAMIC_HOST_PORT_RANGE: (u16, u16) = (32768, 60999);

/// Host ports ECS reserves on every instance: SSH, the Docker daemon and the agent
/// (ECS-DG:task_definition_parameters.md, "reserved ports").
pub const DEFAULT_RESERVED_PORTS: [u16; 6] = [22, 2375, 2376, 51678, 51679, 51680];

/// At most 100 reserved ports per instance, the defaults and every static host port of a running
/// task included; dynamically assigned ports do not count (ECS-DG:task_definition_parameters.md).
pub const MAX_RESERVED_PORTS: usize = 100;

/// Where a container instance is in its life, from EC2 launch to deregistration.
///
/// `Launching` and `Registering` are EC2 and agent start-up, before ECS knows the instance;
/// `Active` and `Draining` are ECS's container-instance statuses; `Inactive` is a deregistered
/// or terminated instance (ECS-DG:ECS_instances.md).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InstanceStatus {
    Launching,
    Registering,
    Active,
    Draining,
    Inactive,
}

impl InstanceStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            InstanceStatus::Launching => "LAUNCHING",
            InstanceStatus::Registering => "REGISTERING",
            InstanceStatus::Active => "ACTIVE",
            InstanceStatus::Draining => "DRAINING",
            InstanceStatus::Inactive => "INACTIVE",
        }
    }

    /// Registered with the cluster: tasks can run on it.
    pub fn is_registered(self) -> bool {
        matches!(self, InstanceStatus::Active | InstanceStatus::Draining)
    }
}

/// A running EC2 instance and, once its agent registers, an ECS container instance.
#[derive(Clone, Debug)]
pub struct ContainerInstance {
    pub id: String,
    pub group: usize,
    pub instance_type: usize,
    pub availability_zone: usize,
    pub status: InstanceStatus,
    pub launched_at: SimTime,
    pub registered_at: Option<SimTime>,
    /// When EC2 terminated the instance; billing stops here.
    pub terminated_at: Option<SimTime>,
    /// On-demand or Spot.
    pub lifecycle: super::asg::Lifecycle,
    /// What it costs per hour: the on-demand or the Spot price of its type.
    pub price_per_hour: f64,
    /// Capacity units it counts for in its group (the mixed instances policy's weight).
    pub weight: u32,
    /// Scale-in protection: the group will not choose it when it scales in.
    pub protected_from_scale_in: bool,
    /// The group has chosen it for termination (it drains first under managed draining).
    pub terminating: bool,
    /// A Spot instance EC2 has warned about (a rebalance recommendation or an interruption
    /// notice): the group counts it out and replaces it.
    pub at_risk: bool,
    /// A Fargate task's micro-VM rather than an EC2 instance: sized to its one task, never
    /// shared, not a container instance of the cluster.
    pub fargate: bool,
    /// Instances of an Elastic Beanstalk environment run only that environment's task.
    pub dedicated_to: Option<super::cluster::TaskGroup>,
    pub registered_cpu: u32,
    pub registered_memory: u32,
    pub max_enis: u32,
    pub reserved_cpu: u32,
    pub reserved_memory: u32,
    /// ENIs in use by awsvpc tasks (the primary ENI is not counted here).
    pub enis_in_use: u32,
    /// Host ports held: static ports of running tasks and dynamically assigned ones, sorted.
    pub ports_in_use: Vec<u16>,
    /// How many of `ports_in_use` are static (count toward the reserved-port limit).
    pub static_ports_in_use: usize,
    pub dynamic_port_range: (u16, u16),
    /// Reserved ports inside the dynamic range, never handed out (fixed per instance).
    reserved_in_dynamic_range: usize,
    /// Next dynamic port to try: the agent hands ports out in turn through its range.
    pub next_dynamic_port: u16,
    /// Non-stopped tasks on the instance.
    pub tasks: Vec<usize>,
    /// Images already pulled, so later tasks only check the manifest.
    pub cached_images: Vec<usize>,
    pub timer: Timer,
}

impl ContainerInstance {
    /// A freshly launched instance of a type, in an Availability Zone, with nothing reserved.
    pub fn new(
        id: String,
        group: usize,
        instance_type: (usize, &InstanceType),
        availability_zone: usize,
        reserved_memory: u32,
        dynamic_port_range: (u16, u16),
        launched_at: SimTime,
    ) -> Self {
        let (type_index, itype) = instance_type;
        ContainerInstance {
            id,
            group,
            instance_type: type_index,
            availability_zone,
            status: InstanceStatus::Launching,
            launched_at,
            registered_at: None,
            terminated_at: None,
            lifecycle: super::asg::Lifecycle::OnDemand,
            price_per_hour: itype.on_demand_price,
            weight: 1,
            protected_from_scale_in: false,
            terminating: false,
            at_risk: false,
            fargate: false,
            dedicated_to: None,
            registered_cpu: itype.registered_cpu(),
            registered_memory: itype.registered_memory().saturating_sub(reserved_memory),
            max_enis: itype.max_enis,
            reserved_cpu: 0,
            reserved_memory: 0,
            enis_in_use: 0,
            ports_in_use: Vec::new(),
            static_ports_in_use: 0,
            dynamic_port_range,
            reserved_in_dynamic_range: DEFAULT_RESERVED_PORTS
                .iter()
                .filter(|&&p| (dynamic_port_range.0..=dynamic_port_range.1).contains(&p))
                .count(),
            next_dynamic_port: dynamic_port_range.0,
            tasks: Vec::new(),
            cached_images: Vec::new(),
            timer: Timer::default(),
        }
    }

    pub fn cpu_available(&self) -> u32 {
        self.registered_cpu.saturating_sub(self.reserved_cpu)
    }

    pub fn memory_available(&self) -> u32 {
        self.registered_memory.saturating_sub(self.reserved_memory)
    }

    /// ENIs left for awsvpc tasks: the limit minus the primary ENI minus those in use.
    pub fn enis_available(&self) -> u32 {
        self.max_enis.saturating_sub(1).saturating_sub(self.enis_in_use)
    }

    pub fn port_in_use(&self, port: u16) -> bool {
        self.ports_in_use.binary_search(&port).is_ok()
    }

    /// Free ports in the dynamic range, counted without allocating. The reserved ports (the
    /// agent's 51678–51680 fall inside the default range) are never handed out.
    pub fn dynamic_ports_free(&self) -> usize {
        let (lo, hi) = self.dynamic_port_range;
        let range = usize::from(hi - lo) + 1;
        let lo_idx = self.ports_in_use.partition_point(|&p| p < lo);
        let hi_idx = self.ports_in_use.partition_point(|&p| p <= hi);
        range - (hi_idx - lo_idx) - self.reserved_in_dynamic_range
    }

    pub fn take_port(&mut self, port: u16) {
        if let Err(pos) = self.ports_in_use.binary_search(&port) {
            self.ports_in_use.insert(pos, port);
        }
    }

    pub fn release_port(&mut self, port: u16) {
        if let Ok(pos) = self.ports_in_use.binary_search(&port) {
            self.ports_in_use.remove(pos);
        }
    }

    /// The next free port of the dynamic range, in turn from the last one handed out.
    pub fn allocate_dynamic_port(&mut self) -> Option<u16> {
        let (lo, hi) = self.dynamic_port_range;
        let span = u32::from(hi - lo) + 1;
        let start = self.next_dynamic_port.clamp(lo, hi);
        for i in 0..span {
            let port = (u32::from(start - lo) + i) % span + u32::from(lo);
            let port = port as u16;
            if !self.port_in_use(port) && !DEFAULT_RESERVED_PORTS.contains(&port) {
                self.take_port(port);
                self.next_dynamic_port = if port == hi { lo } else { port + 1 };
                return Some(port);
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registered_memory_reproduces_the_documented_m4_large() {
        let m4 = InstanceType {
            name: "m4.large".into(),
            vcpu: 2,
            memory_mib: 8192,
            max_enis: 2,
            on_demand_price: 0.1,
            architecture: CpuArchitecture::X86_64,
            registered_memory_mib: None,
            spot_price: 0.04,
            spot_interruption_rate: 0.0,
            spot_interruption_rate_by_zone: Vec::new(),
        };
        assert_eq!(m4.registered_memory(), 7985);
        assert_eq!(m4.registered_cpu(), 2048);
    }

    #[test]
    fn builtin_table_has_the_required_types() {
        let t = builtin_instance_types();
        for name in [
            "t3.medium",
            "m5.large",
            "m5.xlarge",
            "m5.2xlarge",
            "c5.large",
            "c5.xlarge",
            "r5.large",
            "m6g.large",
            "c6g.large",
        ] {
            assert!(t.contains_key(name), "{name} missing");
        }
        assert_eq!(t["c5.large"].max_enis, 3);
        assert_eq!(t["m5.large"].on_demand_price, 0.096);
        assert_eq!(t["m6g.large"].architecture, CpuArchitecture::Arm64);
    }
}
