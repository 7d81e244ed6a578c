//! The simulated AWS world, one module per AWS concept. Nothing here does I/O, reads the clock
//! or spawns threads: the model is driven by the engine and reports into a recorder.

pub mod action;
pub mod alb;
pub mod asg;
pub mod autoscaling;
pub mod beanstalk;
pub mod billing;
pub mod capacity_provider;
pub mod cloudwatch;
pub mod cluster;
pub mod cluster_query;
pub mod deployment;
pub mod ec2;
pub mod fargate;
pub mod iam;
pub mod image;
pub mod placement;
pub mod service;
pub mod task;
pub mod task_definition;
pub mod workload;
mod world;

pub use world::{InvariantViolation, simulate, simulate_checked, simulate_into};
