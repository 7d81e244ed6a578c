//! # ecsim
//!
//! A deterministic discrete-event simulator of AWS ECS container clusters: EC2 instances in Auto
//! Scaling groups, task definitions, placement, REPLICA and DAEMON services, and the lifecycle
//! of tasks and container instances, minute by minute.
//!
//! ```no_run
//! use ecsim::{Scenario, simulate};
//! let scenario = Scenario::from_path("scenarios/quickstart.toml".as_ref(), &[]).unwrap();
//! let result = simulate(&scenario);
//! println!("{} events", result.events.len());
//! ```
//!
//! Layers (DESIGN.md): [`scenario`] reads and checks TOML; [`engine`] keeps time, the event queue
//! and random streams; [`model`] is the simulated AWS world; [`record`] holds what a run reports;
//! [`output`] turns it into CSV files. The same scenario and seed always give the same bytes.

pub mod cli;
pub mod engine;
pub mod expect;
pub mod explain;
pub mod import;
pub mod model;
pub mod output;
pub mod record;
pub mod scenario;
pub mod sweep;

pub use model::simulate;
pub use record::RunResult;
pub use scenario::{Scenario, ScenarioError};
