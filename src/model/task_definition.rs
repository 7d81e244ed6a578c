//! Task definitions: containers, their CPU and memory, port mappings and the network mode, and
//! what one task of the definition reserves on a container instance.

use crate::engine::{SECOND, SimTime};

/// How a task's containers reach the network (ECS-DG:task_definition_parameters.md `networkMode`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NetworkMode {
    /// Docker's bridge: a container port maps to a static or dynamic host port.
    Bridge,
    /// The host's network stack: container ports are host ports.
    Host,
    /// The task gets its own ENI: no host ports, one ENI per task.
    Awsvpc,
}

impl NetworkMode {
    pub fn as_str(self) -> &'static str {
        match self {
            NetworkMode::Bridge => "bridge",
            NetworkMode::Host => "host",
            NetworkMode::Awsvpc => "awsvpc",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PortMapping {
    pub container_port: u16,
    /// `None` (or 0 in the scenario file) asks for a dynamic host port under bridge mode.
    pub host_port: Option<u16>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ContainerDefinition {
    pub name: String,
    /// Index into the scenario's images.
    pub image: usize,
    /// CPU units (Docker CPU shares); 0 when unset.
    pub cpu: u32,
    /// Hard limit, MiB.
    pub memory: Option<u32>,
    /// Soft limit, MiB.
    pub memory_reservation: Option<u32>,
    pub essential: bool,
    pub port_mappings: Vec<PortMapping>,
}

impl ContainerDefinition {
    /// Memory this container takes from the instance: `memoryReservation` if set, otherwise
    /// `memory` (ECS-DG:task_definition_parameters.md, container `memory`).
    pub fn memory_to_reserve(&self) -> u32 {
        self.memory_reservation.or(self.memory).unwrap_or(0)
    }
}

/// How the application inside a task serves requests: an ecsim extension of the task definition,
/// since AWS knows nothing of it but a simulation of load must.
#[derive(Clone, Debug, PartialEq)]
pub struct AppProfile {
    /// Requests served at once; more wait in a FIFO queue. `u32::MAX`: no limit.
    pub max_concurrency: u32,
    /// Requests that may wait; past it the app answers 503. `u32::MAX`: no limit.
    pub queue_limit: u32,
    /// From RUNNING until the app answers health checks and requests, ms.
    pub ready_time: crate::engine::Distribution,
    /// Memory the app uses when idle, MiB.
    pub memory_baseline: u32,
    /// The most CPU one request can use at a time, vCPUs (a single-threaded handler: 1).
    pub request_cpu_cap: f64,
    /// Whether the app answers its health checks (false: a broken build).
    pub healthy: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub struct TaskDefinition {
    pub family: String,
    pub revision: u32,
    pub network_mode: NetworkMode,
    /// Task-level CPU units, optional on EC2.
    pub cpu: Option<u32>,
    /// Task-level memory, MiB, optional on EC2.
    pub memory: Option<u32>,
    pub containers: Vec<ContainerDefinition>,
    /// Time between SIGTERM and SIGKILL. The agent's `ECS_CONTAINER_STOP_TIMEOUT` default is
    /// 30 s on EC2 (ECS-DG:task_definition_parameters.md `stopTimeout`; AGENT).
    pub stop_timeout: SimTime,
    pub app: AppProfile,
    /// The role ECS or Fargate uses on the task's behalf: image pulls from ECR, logs, secrets.
    pub execution_role: Option<super::iam::Role>,
    /// The role the application's containers get credentials for.
    pub task_role: Option<super::iam::Role>,
    /// The application calls AWS APIs (an ecsim extension): without a task role its requests
    /// fail.
    pub calls_aws_apis: bool,
    /// `runtimePlatform.cpuArchitecture`, which sets the Fargate price.
    pub cpu_architecture: super::fargate::CpuArchitecture,
}

/// The default `stopTimeout` on EC2.
pub const DEFAULT_STOP_TIMEOUT: SimTime = 30 * SECOND;

/// What one task reserves on the instance that runs it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TaskRequirements {
    pub cpu: u32,
    pub memory: u32,
    /// Host ports that must be free on the instance, sorted.
    pub static_host_ports: Vec<u16>,
    /// Host ports the agent assigns from the dynamic range.
    pub dynamic_host_ports: u16,
    /// awsvpc tasks need an ENI of their own.
    pub needs_eni: bool,
}

impl TaskDefinition {
    /// `family:revision`, the way ECS names a task definition.
    pub fn arn_name(&self) -> String {
        format!("{}:{}", self.family, self.revision)
    }

    /// The resources one task reserves.
    ///
    /// CPU: the task-level value if set, otherwise the sum of the containers' CPU units.
    /// Memory: the task-level value if set, otherwise the sum over containers of
    /// `memoryReservation`, or `memory` where no reservation is given. Task-level memory takes
    /// precedence over container settings (ECS-DG:memory-management.md, "memory resource
    /// determination"; ECS-DG:task_definition_parameters.md).
    ///
    /// Ports: under bridge mode a `host_port` of 0 or none is dynamic; under host mode every
    /// container port is a host port; under awsvpc ports live on the task's own ENI and take
    /// nothing from the instance (ECS-DG:task_definition_parameters.md `portMappings`).
    pub fn requirements(&self) -> TaskRequirements {
        let cpu = self.cpu.unwrap_or_else(|| self.containers.iter().map(|c| c.cpu).sum());
        let memory = self.memory.unwrap_or_else(|| self.containers.iter().map(|c| c.memory_to_reserve()).sum());
        let mut static_host_ports = Vec::new();
        let mut dynamic_host_ports = 0u16;
        for mapping in self.containers.iter().flat_map(|c| &c.port_mappings) {
            match self.network_mode {
                NetworkMode::Bridge => match mapping.host_port {
                    Some(port) if port != 0 => static_host_ports.push(port),
                    _ => dynamic_host_ports += 1,
                },
                NetworkMode::Host => static_host_ports.push(mapping.container_port),
                NetworkMode::Awsvpc => {}
            }
        }
        static_host_ports.sort_unstable();
        TaskRequirements {
            cpu,
            memory,
            static_host_ports,
            dynamic_host_ports,
            needs_eni: self.network_mode == NetworkMode::Awsvpc,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn container(
        cpu: u32,
        memory: Option<u32>,
        reservation: Option<u32>,
        ports: &[(u16, Option<u16>)],
    ) -> ContainerDefinition {
        ContainerDefinition {
            name: "c".into(),
            image: 0,
            cpu,
            memory,
            memory_reservation: reservation,
            essential: true,
            port_mappings: ports
                .iter()
                .map(|&(container_port, host_port)| PortMapping { container_port, host_port })
                .collect(),
        }
    }

    fn taskdef(
        mode: NetworkMode,
        cpu: Option<u32>,
        memory: Option<u32>,
        containers: Vec<ContainerDefinition>,
    ) -> TaskDefinition {
        TaskDefinition {
            family: "web".into(),
            revision: 1,
            network_mode: mode,
            cpu,
            memory,
            containers,
            stop_timeout: DEFAULT_STOP_TIMEOUT,
            app: AppProfile {
                max_concurrency: u32::MAX,
                queue_limit: u32::MAX,
                ready_time: crate::engine::Distribution::Fixed(0.0),
                memory_baseline: 0,
                request_cpu_cap: 1.0,
                healthy: true,
            },
            execution_role: None,
            task_role: None,
            calls_aws_apis: false,
            cpu_architecture: Default::default(),
        }
    }

    #[test]
    fn container_reservation_wins_over_hard_limit() {
        // Documented example: container1 memory 1024 / reservation 512, container2 memory 512
        // → 512 + 512 = 1024 MiB reserved.
        let td = taskdef(
            NetworkMode::Bridge,
            None,
            None,
            vec![container(256, Some(1024), Some(512), &[]), container(128, Some(512), None, &[])],
        );
        let r = td.requirements();
        assert_eq!(r.memory, 1024);
        assert_eq!(r.cpu, 384);
    }

    #[test]
    fn task_level_values_take_precedence() {
        // Documented example: task memory 2048 with a container of 1024/512 → 2048 reserved.
        let td = taskdef(NetworkMode::Bridge, Some(1024), Some(2048), vec![container(256, Some(1024), Some(512), &[])]);
        let r = td.requirements();
        assert_eq!((r.cpu, r.memory), (1024, 2048));
    }

    #[test]
    fn ports_follow_the_network_mode() {
        let ports = [(80, Some(80)), (8080, Some(0)), (9090, None)];
        let bridge =
            taskdef(NetworkMode::Bridge, None, Some(512), vec![container(0, None, None, &ports)]).requirements();
        assert_eq!(bridge.static_host_ports, vec![80]);
        assert_eq!(bridge.dynamic_host_ports, 2);
        assert!(!bridge.needs_eni);

        let host =
            taskdef(NetworkMode::Host, None, Some(512), vec![container(0, None, None, &[(9090, None), (80, None)])])
                .requirements();
        assert_eq!(host.static_host_ports, vec![80, 9090]);

        let awsvpc =
            taskdef(NetworkMode::Awsvpc, None, Some(512), vec![container(0, None, None, &ports)]).requirements();
        assert!(awsvpc.static_host_ports.is_empty());
        assert_eq!(awsvpc.dynamic_host_ports, 0);
        assert!(awsvpc.needs_eni);
    }
}
