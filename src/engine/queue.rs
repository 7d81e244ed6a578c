//! The future event list: a priority queue ordered by (time, insertion sequence).
//!
//! Ties at the same millisecond pop in the order they were scheduled (FIFO), which is what
//! makes a run reproducible: no float and no hash order ever decides which event goes first.
//! The structure is a binary heap behind a small interface, so it can be replaced by a
//! monotone integer queue without touching the model.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use super::time::SimTime;

struct Entry<E> {
    time: SimTime,
    seq: u64,
    event: E,
}

impl<E> PartialEq for Entry<E> {
    fn eq(&self, other: &Self) -> bool {
        self.time == other.time && self.seq == other.seq
    }
}

impl<E> Eq for Entry<E> {}

impl<E> PartialOrd for Entry<E> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl<E> Ord for Entry<E> {
    /// Reversed, so that `BinaryHeap` (a max-heap) pops the earliest (time, seq) first.
    fn cmp(&self, other: &Self) -> Ordering {
        (other.time, other.seq).cmp(&(self.time, self.seq))
    }
}

/// Events of type `E` waiting for their time. `E` is meant to be a small `Copy` enum of ids.
pub struct EventQueue<E> {
    heap: BinaryHeap<Entry<E>>,
    now: SimTime,
    next_seq: u64,
}

impl<E> Default for EventQueue<E> {
    fn default() -> Self {
        Self::new()
    }
}

impl<E> EventQueue<E> {
    pub fn new() -> Self {
        Self::with_capacity(0)
    }

    pub fn with_capacity(capacity: usize) -> Self {
        EventQueue { heap: BinaryHeap::with_capacity(capacity), now: 0, next_seq: 0 }
    }

    /// The time of the event popped last (0 before the first pop).
    pub fn now(&self) -> SimTime {
        self.now
    }

    /// Schedules `event` at `at`. A time in the past is a caller's bug; it is moved to `now`
    /// so that simulated time can never run backwards.
    pub fn schedule(&mut self, at: SimTime, event: E) {
        debug_assert!(at >= self.now, "event scheduled in the past: {at} < {}", self.now);
        let time = at.max(self.now);
        let seq = self.next_seq;
        self.next_seq += 1;
        self.heap.push(Entry { time, seq, event });
    }

    /// Schedules `event` `delay` milliseconds from now.
    pub fn schedule_in(&mut self, delay: SimTime, event: E) {
        self.schedule(self.now.saturating_add(delay), event);
    }

    /// Removes the earliest event and advances the clock to its time.
    pub fn pop(&mut self) -> Option<(SimTime, E)> {
        let entry = self.heap.pop()?;
        self.now = entry.time;
        Some((entry.time, entry.event))
    }

    /// The time of the next event, without removing it.
    pub fn peek_time(&self) -> Option<SimTime> {
        self.heap.peek().map(|e| e.time)
    }

    pub fn len(&self) -> usize {
        self.heap.len()
    }

    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pops_in_time_order() {
        let mut q = EventQueue::new();
        q.schedule(30, 'c');
        q.schedule(10, 'a');
        q.schedule(20, 'b');
        let order: Vec<_> = std::iter::from_fn(|| q.pop()).collect();
        assert_eq!(order, vec![(10, 'a'), (20, 'b'), (30, 'c')]);
    }

    #[test]
    fn ties_pop_in_insertion_order() {
        let mut q = EventQueue::new();
        for i in 0..100u32 {
            q.schedule(5, i);
        }
        q.schedule(1, 1000);
        assert_eq!(q.pop(), Some((1, 1000)));
        let ties: Vec<u32> = std::iter::from_fn(|| q.pop()).map(|(_, e)| e).collect();
        assert_eq!(ties, (0..100).collect::<Vec<_>>());
    }

    #[test]
    fn events_scheduled_while_running_keep_fifo_at_equal_time() {
        let mut q = EventQueue::new();
        q.schedule(10, "first");
        q.schedule(10, "second");
        let (t, e) = q.pop().unwrap();
        assert_eq!((t, e), (10, "first"));
        q.schedule_in(0, "third");
        assert_eq!(q.pop(), Some((10, "second")));
        assert_eq!(q.pop(), Some((10, "third")));
    }

    #[test]
    fn clock_follows_pops_and_never_runs_backwards() {
        let mut q = EventQueue::new();
        q.schedule(100, ());
        q.pop();
        assert_eq!(q.now(), 100);
        q.schedule_in(50, ());
        assert_eq!(q.peek_time(), Some(150));
        q.pop();
        assert_eq!(q.now(), 150);
        assert!(q.is_empty());
    }
}
