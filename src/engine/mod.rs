//! The discrete-event engine: simulated time, the event queue, seeded random streams and
//! distributions. It knows nothing of AWS; the model drives it.
//!
//! Rules it enforces (DESIGN.md, "Rules of the engine"):
//! - time is an integer number of milliseconds and never goes backwards;
//! - events at the same instant pop in the order they were scheduled;
//! - every random draw comes from a named stream derived from the run's seed, so a new draw in
//!   one concern never shifts the sequence of another;
//! - a cancelled timer costs nothing to cancel: a generation counter is checked when it pops.

pub mod dist;
pub mod processor_sharing;
pub mod queue;
pub mod rng;
pub mod time;
pub mod timer;

pub use dist::Distribution;
pub use queue::EventQueue;
pub use rng::{RngStreams, SimRng};
pub use time::{HOUR, MINUTE, SECOND, SimTime, ceil_ms, format_seconds, round_ms, whole_part};
pub use timer::Timer;
