//! The future event list: a monotone priority queue ordered by (time, insertion sequence).
//!
//! Ties at the same millisecond pop in the order they were scheduled (FIFO), which is what
//! makes a run reproducible: no float and no hash order ever decides which event goes first.
//!
//! # Structure: a radix heap
//!
//! Simulated time is an integer that never goes backwards, so the queue is a *radix heap*
//! (Ahuja, Mehlhorn, Orlin and Tarjan, 1990) rather than a comparison heap. Every pending
//! event is kept relative to `now`, the time of the event popped last:
//!
//! - events at exactly `now` sit in `front`, a FIFO;
//! - an event at `t > now` sits in bucket `k = 63 - (t ^ now).leading_zeros()`, the highest bit
//!   in which `t` differs from `now`. Every event of bucket `k` is earlier than every event of
//!   bucket `k + 1`, but a bucket is not sorted by time.
//!
//! `pop` takes from `front`. When `front` is empty, the lowest non-empty bucket is emptied: `now`
//! advances to its minimum (kept per bucket, so it is known without a scan) and each of its
//! events moves to `front` or to a strictly lower bucket. An event only ever moves down, so it
//! is moved at most once per bucket below the one it was filed in (a few times in practice, at
//! most 64); a move is an append to a `Vec`, with no comparison against other events. The
//! buckets above the emptied one keep their index, because the new `now` shares their high bits
//! with the old one. An event alone in the lowest bucket is simply taken from it: it is the
//! earliest, and the buckets above keep their index for the same reason. No sequence number is
//! stored, so a pending event is its time and its payload.
//!
//! # Why FIFO needs no sequence number
//!
//! Two events with the same time always share a bucket, because the bucket is a function of the
//! time and `now` alone. Each bucket is in scheduling order: a new event is appended, and a
//! bucket being emptied is the lowest non-empty one, so its events are appended, in order, to
//! buckets that were empty. Hence events with equal times reach `front` in the order they were
//! scheduled, and an event scheduled at `now` is appended behind them, as the (time, sequence)
//! order requires.
//!
//! # Costs
//!
//! `schedule` is O(1); `pop` is O(1) amortised per bucket an event falls through; `peek_time` is
//! O(1): `now` if `front` is not empty, else the minimum of the lowest non-empty bucket, found
//! with one `trailing_zeros` on a bit set of non-empty buckets.

use std::collections::VecDeque;

use super::time::SimTime;

/// Buckets for events later than `now`: one per bit of a `SimTime`.
const BUCKETS: usize = SimTime::BITS as usize;

/// A pending event later than `now`.
struct Entry<E> {
    time: SimTime,
    event: E,
}

/// The events whose time first differs from `now` at one given bit, in scheduling order.
struct Bucket<E> {
    entries: Vec<Entry<E>>,
    /// The earliest time in `entries`, or `SimTime::MAX` if it is empty. Kept beside the entries
    /// so that a push touches one cache line of bookkeeping.
    min: SimTime,
}

impl<E> Bucket<E> {
    #[inline]
    fn push(&mut self, time: SimTime, event: E) {
        self.entries.push(Entry { time, event });
        self.min = self.min.min(time);
    }
}

/// Events of type `E` waiting for their time. `E` is meant to be a small `Copy` enum of ids.
pub struct EventQueue<E> {
    /// Events at exactly `now`, in scheduling order.
    front: VecDeque<E>,
    /// `buckets[k]` holds the events whose time first differs from `now` at bit `k`, counted
    /// from the least significant.
    buckets: [Bucket<E>; BUCKETS],
    /// Bit `k` is set if and only if `buckets[k]` is not empty.
    occupied: u64,
    /// Pending events in `front` and in all buckets.
    len: usize,
    /// The time of the event popped last (0 before the first pop); the base of the buckets.
    now: SimTime,
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

    /// A queue whose `front` holds `capacity` events before it grows. The buckets grow on
    /// demand and then keep their storage, so a steady-state run does not allocate.
    pub fn with_capacity(capacity: usize) -> Self {
        EventQueue {
            front: VecDeque::with_capacity(capacity),
            buckets: std::array::from_fn(|_| Bucket { entries: Vec::new(), min: SimTime::MAX }),
            occupied: 0,
            len: 0,
            now: 0,
        }
    }

    /// The time of the event popped last (0 before the first pop).
    pub fn now(&self) -> SimTime {
        self.now
    }

    /// Schedules `event` at `at`. A time in the past is a caller's bug; it is moved to `now`
    /// so that simulated time can never run backwards.
    #[inline]
    pub fn schedule(&mut self, at: SimTime, event: E) {
        debug_assert!(at >= self.now, "event scheduled in the past: {at} < {}", self.now);
        self.len += 1;
        if at <= self.now {
            // Zero-delay events (and clamped past ones) skip the buckets.
            self.front.push_back(event);
        } else {
            let k = bucket_of(at, self.now);
            self.buckets[k].push(at, event);
            self.occupied |= 1 << k;
        }
    }

    /// Schedules `event` `delay` milliseconds from now.
    #[inline]
    pub fn schedule_in(&mut self, delay: SimTime, event: E) {
        self.schedule(self.now.saturating_add(delay), event);
    }

    /// Removes the earliest event and advances the clock to its time.
    #[inline]
    pub fn pop(&mut self) -> Option<(SimTime, E)> {
        if self.front.is_empty() {
            if self.occupied == 0 {
                return None;
            }
            let j = self.occupied.trailing_zeros() as usize;
            if self.buckets[j].entries.len() == 1 {
                // Alone in the lowest bucket, the event is the earliest and no other shares its
                // time (equal times share a bucket): it is taken without passing through
                // `front`, and there is nothing to redistribute.
                let Entry { time, event } = self.buckets[j].entries.pop()?;
                self.buckets[j].min = SimTime::MAX;
                self.occupied &= !(1 << j);
                self.now = time;
                self.len -= 1;
                return Some((time, event));
            }
            self.advance();
        }
        let event = self.front.pop_front()?;
        self.len -= 1;
        Some((self.now, event))
    }

    /// With `front` empty, advances `now` to the earliest pending time and redistributes the
    /// lowest non-empty bucket, which holds it: its events at the new `now` go to `front`, the
    /// others to lower buckets (all empty, since this one was the lowest).
    fn advance(&mut self) {
        debug_assert!(self.front.is_empty() && self.occupied != 0);
        let j = self.occupied.trailing_zeros() as usize;
        let now = std::mem::replace(&mut self.buckets[j].min, SimTime::MAX);
        self.now = now;
        let mut occupied = self.occupied & !(1 << j);
        // Taken out and put back, so that the bucket keeps its storage.
        let mut moving = std::mem::take(&mut self.buckets[j].entries);
        for Entry { time, event } in moving.drain(..) {
            if time == now {
                self.front.push_back(event);
            } else {
                let k = bucket_of(time, now);
                self.buckets[k].push(time, event);
                occupied |= 1 << k;
            }
        }
        self.buckets[j].entries = moving;
        self.occupied = occupied;
    }

    /// The time of the next event, without removing it.
    #[inline]
    pub fn peek_time(&self) -> Option<SimTime> {
        if !self.front.is_empty() {
            Some(self.now)
        } else if self.occupied != 0 {
            Some(self.buckets[self.occupied.trailing_zeros() as usize].min)
        } else {
            None
        }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

/// The bucket of an event at `time > now`: the highest bit in which the two differ.
#[inline]
fn bucket_of(time: SimTime, now: SimTime) -> usize {
    debug_assert!(time > now);
    // `leading_zeros` is at most 63 for a non-zero value, so this is `63 - leading_zeros`; the
    // mask only tells the compiler that the index is in bounds.
    ((SimTime::BITS - 1) ^ (time ^ now).leading_zeros()) as usize & (BUCKETS - 1)
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

    #[test]
    fn empty_queue_pops_and_peeks_nothing() {
        let mut q: EventQueue<u32> = EventQueue::default();
        assert_eq!(q.peek_time(), None);
        assert_eq!(q.pop(), None);
        assert_eq!((q.len(), q.is_empty(), q.now()), (0, true, 0));
    }

    #[test]
    fn events_at_time_zero_pop_before_the_first_advance() {
        let mut q = EventQueue::with_capacity(4);
        q.schedule(7, "later");
        q.schedule(0, "a");
        q.schedule_in(0, "b");
        assert_eq!(q.peek_time(), Some(0));
        assert_eq!(q.pop(), Some((0, "a")));
        assert_eq!(q.pop(), Some((0, "b")));
        assert_eq!(q.peek_time(), Some(7));
        assert_eq!(q.pop(), Some((7, "later")));
        assert_eq!(q.now(), 7);
    }

    /// Equal times scheduled before and after the clock moved land in different buckets at
    /// first; they must still pop in scheduling order.
    #[test]
    fn ties_scheduled_across_advances_keep_fifo() {
        let mut q = EventQueue::new();
        q.schedule(1_000, 0);
        q.schedule(1_000, 1);
        q.schedule(3, 100);
        q.schedule(1_000, 2);
        assert_eq!(q.pop(), Some((3, 100)));
        q.schedule(1_000, 3);
        q.schedule(999, 101);
        q.schedule(1_000, 4);
        assert_eq!(q.pop(), Some((999, 101)));
        q.schedule(1_000, 5);
        q.schedule_in(1, 6);
        assert_eq!(q.pop(), Some((1_000, 0)));
        q.schedule_in(0, 7);
        let rest: Vec<u32> = std::iter::from_fn(|| q.pop()).map(|(t, e)| if t == 1_000 { e } else { 99 }).collect();
        assert_eq!(rest, (1..8).collect::<Vec<_>>());
    }

    #[test]
    fn peek_time_is_the_time_of_the_next_pop_and_len_counts() {
        let mut q = EventQueue::new();
        for (k, t) in [50u64, 3, 1 << 40, 50, 7, 6, 1 << 20, 3].into_iter().enumerate() {
            q.schedule(t, k);
        }
        assert_eq!(q.len(), 8);
        let mut popped = 0;
        while let Some(t) = q.peek_time() {
            let (time, _) = q.pop().unwrap();
            popped += 1;
            assert_eq!(time, t);
            assert_eq!(q.now(), t);
            assert_eq!(q.len(), 8 - popped);
        }
        assert!(q.is_empty());
        assert_eq!(q.now(), 1 << 40);
    }

    /// Times at the top of the range use the highest bucket; `schedule_in` saturates.
    #[test]
    fn extreme_times_order_correctly_and_saturate() {
        let mut q = EventQueue::new();
        q.schedule(SimTime::MAX, 'z');
        q.schedule(SimTime::MAX - 1, 'y');
        q.schedule(1 << 63, 'x');
        q.schedule((1 << 63) - 1, 'w');
        assert_eq!(q.pop(), Some(((1 << 63) - 1, 'w')));
        assert_eq!(q.pop(), Some((1 << 63, 'x')));
        q.schedule_in(SimTime::MAX, 'v');
        assert_eq!(q.pop(), Some((SimTime::MAX - 1, 'y')));
        assert_eq!(q.pop(), Some((SimTime::MAX, 'z')));
        assert_eq!(q.pop(), Some((SimTime::MAX, 'v')));
        assert_eq!(q.pop(), None);
    }

    /// Events need not be `Copy`; the queue moves them and drops what is left.
    #[test]
    fn owns_non_copy_events() {
        let mut q = EventQueue::new();
        for k in 0..20u64 {
            q.schedule(k * 37 % 11, format!("event {k}"));
        }
        let (t, first) = q.pop().unwrap();
        assert_eq!((t, first.as_str()), (0, "event 0"));
        assert_eq!(q.len(), 19);
        drop(q);
    }

    /// A time in the past is a bug caught by the debug assertion; in release it is clamped to
    /// `now` and pops behind the events already due at `now`.
    #[test]
    #[cfg_attr(debug_assertions, should_panic(expected = "event scheduled in the past"))]
    fn past_times_are_clamped_to_now() {
        let mut q = EventQueue::new();
        q.schedule(10, 'a');
        q.schedule(10, 'b');
        q.schedule(20, 'd');
        assert_eq!(q.pop(), Some((10, 'a')));
        q.schedule(5, 'c');
        assert_eq!(q.pop(), Some((10, 'b')));
        assert_eq!(q.pop(), Some((10, 'c')));
        assert_eq!(q.pop(), Some((20, 'd')));
    }

    mod reference {
        use std::cmp::Reverse;
        use std::collections::BinaryHeap;

        use proptest::prelude::*;

        use super::*;

        #[derive(Clone, Debug)]
        enum Op {
            /// `schedule_in(delay)`.
            In(SimTime),
            /// `schedule(now + delay)`.
            At(SimTime),
            /// `schedule` at the time of the `k`-th pending event (modulo their number), to make
            /// ties with events scheduled long before.
            Tie(usize),
            Pop,
        }

        fn delay() -> impl Strategy<Value = SimTime> {
            prop_oneof![
                3 => Just(0),
                4 => 0..8u64,
                3 => 0..1_000u64,
                2 => 0..(1u64 << 24),
                1 => any::<u64>(),
                1 => Just(SimTime::MAX),
            ]
        }

        fn op() -> impl Strategy<Value = Op> {
            prop_oneof![
                3 => delay().prop_map(Op::In),
                2 => delay().prop_map(Op::At),
                2 => any::<usize>().prop_map(Op::Tie),
                5 => Just(Op::Pop),
            ]
        }

        /// The specification: a binary heap of (time, sequence), ties broken by sequence.
        #[derive(Default)]
        struct Reference {
            heap: BinaryHeap<Reverse<(SimTime, u64)>>,
            now: SimTime,
            next_seq: u64,
        }

        impl Reference {
            fn schedule(&mut self, at: SimTime) -> u64 {
                let seq = self.next_seq;
                self.next_seq += 1;
                self.heap.push(Reverse((at.max(self.now), seq)));
                seq
            }

            fn pop(&mut self) -> Option<(SimTime, u64)> {
                let Reverse((t, seq)) = self.heap.pop()?;
                self.now = t;
                Some((t, seq))
            }
        }

        proptest! {
            #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

            /// Over random interleavings of schedules (at now, soon, far, at the time of an
            /// event already pending, at the end of time) and pops, the queue pops exactly what
            /// the reference pops, and agrees on `now`, `peek_time` and `len` throughout.
            #[test]
            fn pops_like_a_binary_heap_of_time_and_sequence(
                ops in proptest::collection::vec(op(), 0..400),
            ) {
                let mut q = EventQueue::new();
                let mut r = Reference::default();
                for op in ops {
                    match op {
                        Op::In(d) => {
                            let seq = r.schedule(r.now.saturating_add(d));
                            q.schedule_in(d, seq);
                        }
                        Op::At(d) => {
                            let at = q.now().saturating_add(d);
                            let seq = r.schedule(at);
                            q.schedule(at, seq);
                        }
                        Op::Tie(k) => {
                            let times: Vec<SimTime> = r.heap.iter().map(|e| e.0.0).collect();
                            let at = if times.is_empty() { r.now } else { times[k % times.len()] };
                            let seq = r.schedule(at);
                            q.schedule(at, seq);
                        }
                        Op::Pop => prop_assert_eq!(q.pop(), r.pop()),
                    }
                    prop_assert_eq!(q.now(), r.now);
                    prop_assert_eq!(q.peek_time(), r.heap.peek().map(|e| e.0.0));
                    prop_assert_eq!(q.len(), r.heap.len());
                    prop_assert_eq!(q.is_empty(), r.heap.is_empty());
                }
                while let Some(expected) = r.pop() {
                    prop_assert_eq!(q.pop(), Some(expected));
                }
                prop_assert_eq!(q.pop(), None);
            }

            /// Many events at few distinct times, drained in bursts: the hold model's steady
            /// state with heavy ties.
            #[test]
            fn heavy_ties_pop_in_scheduling_order(
                times in proptest::collection::vec(0..16u64, 1..300),
                delays in proptest::collection::vec(0..4u64, 0..300),
            ) {
                let mut q = EventQueue::new();
                let mut r = Reference::default();
                for t in times {
                    let seq = r.schedule(t);
                    q.schedule(t, seq);
                }
                for d in delays {
                    prop_assert_eq!(q.pop(), r.pop());
                    let seq = r.schedule(r.now + d);
                    q.schedule_in(d, seq);
                }
                let rest: Vec<_> = std::iter::from_fn(|| q.pop()).collect();
                let expected: Vec<_> = std::iter::from_fn(|| r.pop()).collect();
                prop_assert_eq!(rest, expected);
            }
        }
    }
}
