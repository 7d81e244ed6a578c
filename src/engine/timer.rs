//! Cancellable timers by generation counter.
//!
//! An entity that waits for something (a task pulling its image, an instance booting) holds a
//! `Timer`. Arming it returns the generation to put in the scheduled event; cancelling or
//! re-arming bumps the generation, so the old event, when it pops, is recognised as stale and
//! ignored. Nothing is ever searched for or removed from the queue.

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Timer {
    generation: u32,
}

impl Timer {
    /// Invalidates any event scheduled before and returns the generation for the next one.
    pub fn arm(&mut self) -> u32 {
        self.generation = self.generation.wrapping_add(1);
        self.generation
    }

    /// Invalidates any event scheduled before.
    pub fn cancel(&mut self) {
        self.generation = self.generation.wrapping_add(1);
    }

    /// Whether an event carrying `generation` is still the one this timer waits for.
    pub fn is_current(&self, generation: u32) -> bool {
        self.generation == generation
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::EventQueue;

    #[test]
    fn cancelled_events_are_recognised_when_they_pop() {
        let mut timer = Timer::default();
        let mut q = EventQueue::new();
        let g1 = timer.arm();
        q.schedule(10, g1);
        timer.cancel();
        let g2 = timer.arm();
        q.schedule(20, g2);
        let fired: Vec<u32> = std::iter::from_fn(|| q.pop()).map(|(_, g)| g).filter(|&g| timer.is_current(g)).collect();
        assert_eq!(fired, vec![g2]);
    }

    #[test]
    fn rearming_invalidates_the_previous_event() {
        let mut timer = Timer::default();
        let first = timer.arm();
        let second = timer.arm();
        assert!(!timer.is_current(first));
        assert!(timer.is_current(second));
    }
}
