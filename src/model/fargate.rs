//! Fargate: capacity without instances. Each task runs in its own micro-VM sized exactly to the
//! task's CPU and memory, which must be one of the documented combinations; it always uses
//! `awsvpc`, takes no placement strategy or constraint, and pulls its images in full every time
//! (ECS-DG:AWS_Fargate.md, ECS-BP:pull-behavior.md; AWS-SEMANTICS.md §8).

use crate::engine::{Distribution, SECOND};

use super::billing::FargatePricing;

/// The memory values (MiB) Fargate accepts with a task CPU value, or None for an invalid CPU
/// (the table of ECS-DG:AWS_Fargate.md, Linux, platform 1.4.0).
pub fn valid_memory(cpu: u32) -> Option<Vec<u32>> {
    let gb = |from: u32, to: u32, step: u32| (from..=to).step_by(step as usize).map(|g| g * 1024).collect::<Vec<_>>();
    match cpu {
        256 => Some(vec![512, 1024, 2048]),
        512 => Some(gb(1, 4, 1)),
        1024 => Some(gb(2, 8, 1)),
        2048 => Some(gb(4, 16, 1)),
        4096 => Some(gb(8, 30, 1)),
        8192 => Some(gb(16, 60, 4)),
        16384 => Some(gb(32, 120, 8)),
        _ => None,
    }
}

/// The CPU values Fargate accepts.
pub const VALID_CPU: [u32; 7] = [256, 512, 1024, 2048, 4096, 8192, 16384];

/// Checks a task size, with a message that lists what would be valid.
pub fn check_size(cpu: u32, memory: u32) -> Result<(), String> {
    let Some(memory_values) = valid_memory(cpu) else {
        let list = VALID_CPU.map(|c| c.to_string()).join(", ");
        return Err(format!("Fargate has no task size with {cpu} CPU units; valid CPU values are {list}"));
    };
    if memory_values.contains(&memory) {
        return Ok(());
    }
    let list = memory_values.iter().map(u32::to_string).collect::<Vec<_>>().join(", ");
    Err(format!(
        "Fargate does not run {cpu} CPU units with {memory} MiB; with {cpu} CPU units the memory is one of {list} (MiB)"
    ))
}

/// The instruction set a Fargate task runs on (`runtimePlatform.cpuArchitecture`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum CpuArchitecture {
    #[default]
    X86_64,
    Arm64,
}

/// Fargate's settings in a scenario.
#[derive(Clone, Debug, PartialEq)]
pub struct FargateSettings {
    /// From the task's creation to the start of its image pull: capacity and the ENI, ms.
    pub provisioning_time: Distribution,
    /// FARGATE_SPOT interruptions per task-hour.
    pub spot_interruption_rate: f64,
    pub pricing: FargatePricing,
}

/// Capacity and the task's ENI before the image pull: 15–30 s [assume: AWS documents no
/// figure; the community reports 30–90 s from PROVISIONING to RUNNING, of which the pull and the
/// app's start are the rest, AWS-SEMANTICS.md §8 and §12].
pub fn default_provisioning_time() -> Distribution {
    Distribution::Uniform { min: (15 * SECOND) as f64, max: (30 * SECOND) as f64 }
}

/// AWS publishes no Fargate Spot interruption rate; the EC2 Spot default is taken (5% of tasks a
/// month) [assume].
pub const DEFAULT_SPOT_INTERRUPTION_RATE: f64 = super::ec2::DEFAULT_SPOT_INTERRUPTION_RATE;

/// The warning before Fargate reclaims a Spot task: SIGTERM now, SIGKILL in 120 s at the latest
/// (ECS-DG:fargate-capacity-providers.md).
pub const SPOT_WARNING: crate::engine::SimTime = 120 * SECOND;

impl Default for FargateSettings {
    fn default() -> Self {
        FargateSettings {
            provisioning_time: default_provisioning_time(),
            spot_interruption_rate: DEFAULT_SPOT_INTERRUPTION_RATE,
            pricing: FargatePricing::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_combinations_are_valid_and_others_are_not() {
        assert!(check_size(256, 512).is_ok());
        assert!(check_size(512, 4096).is_ok());
        assert!(check_size(4096, 30 * 1024).is_ok());
        assert!(check_size(8192, 20 * 1024).is_ok());
        assert!(check_size(8192, 18 * 1024).is_err());
        assert!(check_size(16384, 120 * 1024).is_ok());
        let e = check_size(256, 4096).unwrap_err();
        assert!(e.contains("512, 1024, 2048"), "{e}");
        let e = check_size(1024, 1024).unwrap_err();
        assert!(e.contains("2048, 3072, 4096, 5120, 6144, 7168, 8192"), "{e}");
        let e = check_size(300, 1024).unwrap_err();
        assert!(e.contains("256, 512, 1024"), "{e}");
    }
}
