//! The event queue: events ordered by (time, sequence), so simultaneous events run first-in
//! first-out and every run replays in the same order. An event's sequence number is taken
//! when it is scheduled, or earlier as a [`Ticket`] by a component that holds its events back
//! in order (a link's wire) and schedules each in turn.
//!
//! A 4-ary heap of 16-byte keys points into a slab that holds the events. A key is the event's
//! time and a word that packs its sequence number (high bits, so it orders ties) with its slab
//! slot (low bits, so the key finds its event); the events never move while the heap sifts.
//! Cancelling a timer frees its slab slot at once; its heap key becomes stale (the slot no
//! longer carries its sequence number) and is skipped when it surfaces. A 4-ary heap is half
//! as deep as a binary one and its four children share a cache line, which measured faster
//! than `BinaryHeap` on the churn and pile-up workloads (see `benches/engine.rs`). A popped
//! root stays open until the next push fills it: an event that schedules its successor (a
//! link's next arrival, usually among the earliest) then sinks from the root a level or two,
//! where refilling with the last key and pushing at the end would each have sifted.
//!
//! Events due [`FAR`] or more after they are scheduled (retransmission and idle timers, most
//! cancelled long before they are due) wait in an unsorted list instead, and join the heap a
//! batch at a time when the earliest of them comes due: the heap stays as small as what is
//! about to happen, and a cancelled far event never enters it.

use super::time::SimTime;

/// Bits of a key's tie word that hold the slab slot: at most 2^24 (16.7 million) events pending
/// at once, and 2^40 (10^12) events scheduled over a run.
const SLOT_BITS: u32 = 24;
const SLOT_MASK: u64 = (1 << SLOT_BITS) - 1;
/// Children per heap node.
const ARITY: usize = 4;
/// Events due this many nanoseconds (4.2 ms) or more after they are scheduled wait in the far
/// list: past the next arrivals on short links, short of most timers.
const FAR: u64 = 1 << 22;
/// A refill moves at least this fraction (one in so many) of the far list into the heap, so
/// each pass over the list pays for itself however sparse its times are.
const REFILL_SHARE: usize = 16;

/// Names a scheduled event so it can be cancelled. Stale ids (fired or cancelled) are harmless.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct TimerId {
    slot: u32,
    generation: u32,
}

/// An event's place among events at the same time, taken when the event is made: a component
/// that keeps events of its own in order (packets along a link) takes a ticket for each and
/// schedules it later, and the event still runs exactly where it would have run had it been
/// scheduled at once.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
pub struct Ticket(u64);

/// A heap entry, `time << 64 | seq << SLOT_BITS | slot`: one integer comparison orders by
/// time, then sequence.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
struct Key(u128);

impl Key {
    /// Later than every real key (whose slot is below [`SLOT_MASK`]).
    const NONE: Key = Key(u128::MAX);

    fn new(time: u64, seq: u64, slot: u32) -> Key {
        Key(u128::from(time) << 64 | u128::from(seq << SLOT_BITS | u64::from(slot)))
    }

    fn time(self) -> SimTime {
        SimTime::from_nanos((self.0 >> 64) as u64)
    }

    fn slot(self) -> usize {
        (self.0 as u64 & SLOT_MASK) as usize
    }

    fn seq(self) -> u64 {
        self.0 as u64 >> SLOT_BITS
    }
}

/// The one pending wakeup of a timer owner that reports its next deadline after every change
/// (see [`EventQueue::alarm_by`]).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Alarm {
    id: TimerId,
    at: SimTime,
}

impl Alarm {
    /// When it fires.
    pub fn at(&self) -> SimTime {
        self.at
    }
}

struct Slot<E> {
    /// Bumped on every release, so a [`TimerId`] names one use of the slot.
    generation: u32,
    /// Sequence number of the pending event's key; a key with another is stale.
    seq: u64,
    event: Option<E>,
}

/// A discrete-event queue with cancellable entries.
pub struct EventQueue<E> {
    heap: Vec<Key>,
    /// The root was popped and not yet refilled: the next push sinks from there, which spares
    /// a sift for each event that schedules the next one (a link's next arrival).
    hole: bool,
    /// Keys of events due [`FAR`] or more after they were scheduled, in no order.
    far: Vec<Key>,
    /// The earliest key in `far`, or [`Key::NONE`].
    far_min: Key,
    /// `far_min`'s time in nanoseconds: a heap key due earlier is the earliest of all.
    far_time: u64,
    slots: Vec<Slot<E>>,
    free: Vec<u32>,
    next_seq: u64,
    now: SimTime,
    live: usize,
}

impl<E> Default for EventQueue<E> {
    fn default() -> Self {
        Self::new()
    }
}

impl<E> EventQueue<E> {
    /// An empty queue at time zero.
    pub fn new() -> Self {
        EventQueue {
            heap: Vec::new(),
            hole: false,
            far: Vec::new(),
            far_min: Key::NONE,
            far_time: u64::MAX,
            slots: Vec::new(),
            free: Vec::new(),
            next_seq: 0,
            now: SimTime::ZERO,
            live: 0,
        }
    }

    /// The time of the event most recently popped (the simulation clock).
    pub fn now(&self) -> SimTime {
        self.now
    }

    /// Number of events waiting (cancelled ones excluded).
    pub fn len(&self) -> usize {
        self.live
    }

    /// True when no event waits.
    pub fn is_empty(&self) -> bool {
        self.live == 0
    }

    /// Schedules `event` at `at`. A time in the past is a bug in the caller: debug builds
    /// panic; release builds run the event now, after what is already due now.
    pub fn schedule(&mut self, at: SimTime, event: E) -> TimerId {
        let t = self.ticket();
        self.schedule_ticket(at, t, event)
    }

    /// The next place in the order of simultaneous events, for [`EventQueue::schedule_ticket`].
    pub fn ticket(&mut self) -> Ticket {
        self.next_seq += 1;
        Ticket(self.next_seq - 1)
    }

    /// Schedules `event` at `at` in the place `ticket` holds among events at that time. The
    /// caller schedules its tickets' events in the order the events are due and never one
    /// that the queue has passed: each must be due after the last event popped, in time or,
    /// at the same time, by ticket.
    pub fn schedule_ticket(&mut self, at: SimTime, ticket: Ticket, event: E) -> TimerId {
        debug_assert!(at >= self.now, "scheduled at {at}, before now {}", self.now);
        let time = at.max(self.now);
        let seq = ticket.0;
        let slot = match self.free.pop() {
            Some(i) => {
                let s = &mut self.slots[i as usize];
                s.seq = seq;
                s.event = Some(event);
                i
            }
            None => {
                assert!(
                    (self.slots.len() as u64) < SLOT_MASK,
                    "more than {SLOT_MASK} events pending at once"
                );
                self.slots.push(Slot {
                    generation: 0,
                    seq,
                    event: Some(event),
                });
                (self.slots.len() - 1) as u32
            }
        };
        assert!(
            seq >> (64 - SLOT_BITS) == 0,
            "more than 2^40 events scheduled"
        );
        let key = Key::new(time.as_nanos(), seq, slot);
        if time.as_nanos() - self.now.as_nanos() >= FAR {
            self.far.push(key);
            if key < self.far_min {
                self.set_far_min(key);
            }
        } else {
            self.push(key);
        }
        self.live += 1;
        TimerId {
            slot,
            generation: self.slots[slot as usize].generation,
        }
    }

    /// Makes `alarm` fire no later than `at`: an earlier time replaces the pending event, a
    /// later one keeps it (its owner, woken early, finds nothing due and reports its deadline
    /// again), which spares a cancel and a push on every deadline that moves later.
    pub fn alarm_by(&mut self, alarm: &mut Option<Alarm>, at: SimTime, event: E) {
        if alarm.is_some_and(|a| a.at <= at) {
            return;
        }
        let id = self.schedule(at, event);
        if let Some(old) = alarm.replace(Alarm { id, at }) {
            self.cancel(old.id);
        }
    }

    /// Cancels `alarm`'s pending event, if any.
    pub fn disarm(&mut self, alarm: &mut Option<Alarm>) {
        if let Some(a) = alarm.take() {
            self.cancel(a.id);
        }
    }

    /// Cancels a pending event and returns it; `None` if it already ran or was cancelled.
    pub fn cancel(&mut self, id: TimerId) -> Option<E> {
        let slot = self.slots.get_mut(id.slot as usize)?;
        if slot.generation != id.generation {
            return None;
        }
        let event = slot.event.take()?;
        self.release(id.slot);
        self.maybe_compact();
        Some(event)
    }

    /// Removes and returns the earliest event, advancing the clock to its time.
    pub fn pop(&mut self) -> Option<(SimTime, E)> {
        let at = self.peek_time()?;
        Some((at, self.pop_peeked()))
    }

    /// Removes the earliest event, which [`EventQueue::peek_time`] has just found (nothing
    /// scheduled or cancelled since), advancing the clock to its time: a caller that peeks to
    /// decide whether to go on spares a second search.
    #[inline]
    pub fn pop_peeked(&mut self) -> E {
        debug_assert!(!self.hole, "pop_peeked without peek_time");
        let key = self.heap[0];
        if self.heap.len() == 1 {
            self.heap.clear();
        } else {
            self.hole = true;
        }
        let slot = &mut self.slots[key.slot()];
        debug_assert_eq!(slot.seq, key.seq(), "pop_peeked without peek_time");
        let event = slot
            .event
            .take()
            .expect("peek_time found the event pending");
        self.release(key.slot() as u32);
        self.now = key.time();
        event
    }

    /// The time of the earliest pending event, if any.
    #[inline]
    pub fn peek_time(&mut self) -> Option<SimTime> {
        while let Some(key) = self.top() {
            if self.is_current(key) {
                return Some(key.time());
            }
            self.pop_key();
        }
        None
    }

    fn is_current(&self, key: Key) -> bool {
        let slot = &self.slots[key.slot()];
        slot.seq == key.seq() && slot.event.is_some()
    }

    fn release(&mut self, index: u32) {
        let slot = &mut self.slots[index as usize];
        slot.generation = slot.generation.wrapping_add(1);
        // No key carries this sequence number once its event is gone.
        slot.seq = u64::MAX;
        self.free.push(index);
        self.live -= 1;
    }

    /// Drops stale keys once they outnumber live ones, so cancel-heavy workloads stay bounded.
    /// A small floor keeps the heap near its live size: a connection's released socket leaves
    /// its retransmission wakeup's key for up to a second, and every pop sifts through them.
    fn maybe_compact(&mut self) {
        let stale = self.heap.len() + self.far.len() - self.live;
        if stale > 64 && stale > self.live {
            self.fill_hole();
            let mut heap = std::mem::take(&mut self.heap);
            heap.retain(|&k| self.is_current(k));
            // A sorted array is a valid heap; sorting beats re-sifting for this rare rebuild.
            heap.sort_unstable();
            self.heap = heap;
            self.drop_stale_far();
        }
    }

    /// Drops the far list's stale keys and finds its earliest.
    fn drop_stale_far(&mut self) {
        let mut far = std::mem::take(&mut self.far);
        far.retain(|&k| self.is_current(k));
        self.set_far_min(far.iter().copied().min().unwrap_or(Key::NONE));
        self.far = far;
    }

    fn set_far_min(&mut self, key: Key) {
        self.far_min = key;
        self.far_time = (key.0 >> 64) as u64;
    }

    /// Moves the far list's earliest keys into the heap: those due within [`FAR`] of the
    /// earliest, or the earliest [`REFILL_SHARE`]th of the list if fewer are.
    fn refill(&mut self) {
        self.drop_stale_far();
        if self.far.is_empty() {
            return;
        }
        let first = self.far_min;
        let window = u128::from(first.time().as_nanos().saturating_add(FAR)) << 64;
        let mut limit = Key(window.max(first.0 + 1));
        let share = self.far.len() / REFILL_SHARE;
        if share > 0 && self.far.iter().filter(|&&k| k < limit).count() < share {
            self.far.select_nth_unstable(share);
            limit = self.far[share];
        }
        let mut far = std::mem::take(&mut self.far);
        far.retain(|&k| {
            let near = k < limit;
            if near {
                self.push(k);
            }
            !near
        });
        self.set_far_min(far.iter().copied().min().unwrap_or(Key::NONE));
        self.far = far;
    }

    /// Adds a key: into the popped root's hole, sinking below any earlier child, or at the end,
    /// climbing while its parent is later.
    #[inline]
    fn push(&mut self, key: Key) {
        if self.hole {
            self.hole = false;
            self.sink(key);
            return;
        }
        let heap = &mut self.heap;
        let mut i = heap.len();
        heap.push(key);
        while i > 0 {
            let parent = (i - 1) / ARITY;
            if heap[parent] <= key {
                break;
            }
            heap[i] = heap[parent];
            i = parent;
        }
        heap[i] = key;
    }

    /// The earliest key, the popped root's hole refilled first if need be, and the far list's
    /// earliest keys moved into the heap once they are the earliest of all.
    #[inline]
    fn top(&mut self) -> Option<Key> {
        self.fill_hole();
        match self.heap.first() {
            Some(&k) if k.time().as_nanos() < self.far_time => Some(k),
            _ => self.top_far(),
        }
    }

    /// [`EventQueue::top`] when the far list may hold the earliest key (rare: kept out of line).
    #[cold]
    #[inline(never)]
    fn top_far(&mut self) -> Option<Key> {
        if self.far_min < self.heap.first().copied().unwrap_or(Key::NONE) {
            self.refill();
        }
        self.heap.first().copied()
    }

    /// Removes the earliest key, leaving its place open for the next push.
    fn pop_key(&mut self) -> Option<Key> {
        let top = self.top()?;
        if self.heap.len() == 1 {
            self.heap.clear();
        } else {
            self.hole = true;
        }
        Some(top)
    }

    /// Closes the root's hole, if open, with the last key.
    fn fill_hole(&mut self) {
        if self.hole {
            self.hole = false;
            // A hole is never the only entry (see `pop_key`).
            let last = self.heap.pop().expect("a hole has keys after it");
            self.sink(last);
        }
    }

    /// Puts `key` in the root's hole and sinks it below any earlier child.
    fn sink(&mut self, key: Key) {
        let heap = &mut self.heap[..];
        let n = heap.len();
        let mut i = 0;
        loop {
            let first = ARITY * i + 1;
            let (child, k) = if first + ARITY <= n {
                // A full family, compared as a tournament: keys are unique, so no ties.
                let c = &heap[first..first + ARITY];
                let (a, ka) = if c[1] < c[0] { (1, c[1]) } else { (0, c[0]) };
                let (b, kb) = if c[3] < c[2] { (3, c[3]) } else { (2, c[2]) };
                if kb < ka {
                    (first + b, kb)
                } else {
                    (first + a, ka)
                }
            } else if first < n {
                let mut m = first;
                for c in first + 1..n {
                    if heap[c] < heap[m] {
                        m = c;
                    }
                }
                (m, heap[m])
            } else {
                break;
            };
            if k >= key {
                break;
            }
            heap[i] = k;
            i = child;
        }
        heap[i] = key;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::Duration;

    fn t(ms: u64) -> SimTime {
        SimTime::ZERO + Duration::from_millis(ms)
    }

    #[test]
    fn an_event_scheduled_late_runs_where_its_ticket_puts_it() {
        // A link takes a ticket for each packet it sends and schedules the next arrival only
        // when the one before it has arrived; the order must be as if all were scheduled at once.
        let mut q = EventQueue::new();
        let first = q.ticket();
        let second = q.ticket();
        q.schedule(t(5), "timer");
        q.schedule_ticket(t(5), first, "packet 1");
        assert_eq!(q.pop(), Some((t(5), "packet 1")));
        // Scheduled after "timer", at the same time, but its ticket is older.
        q.schedule_ticket(t(5), second, "packet 2");
        assert_eq!(q.pop(), Some((t(5), "packet 2")));
        assert_eq!(q.pop(), Some((t(5), "timer")));
        assert_eq!(q.pop(), None);
    }

    #[test]
    fn pops_in_time_order_and_ties_first_in_first_out() {
        let mut q = EventQueue::new();
        q.schedule(t(5), "late");
        q.schedule(t(1), "first-at-1");
        q.schedule(t(1), "second-at-1");
        q.schedule(t(3), "middle");
        let order: Vec<_> = std::iter::from_fn(|| q.pop().map(|(_, e)| e)).collect();
        assert_eq!(order, ["first-at-1", "second-at-1", "middle", "late"]);
        assert_eq!(q.now(), t(5));
    }

    #[test]
    fn cancelled_events_never_fire_and_stale_ids_are_harmless() {
        let mut q = EventQueue::new();
        let a = q.schedule(t(1), 'a');
        q.schedule(t(2), 'b');
        assert_eq!(q.cancel(a), Some('a'));
        assert_eq!(q.cancel(a), None);
        // The freed slot is reused; the old id must not cancel the new event.
        q.schedule(t(3), 'c');
        assert_eq!(q.cancel(a), None);
        assert_eq!(q.len(), 2);
        assert_eq!(q.pop(), Some((t(2), 'b')));
        assert_eq!(q.pop(), Some((t(3), 'c')));
        assert_eq!(q.pop(), None);
    }

    #[test]
    #[cfg_attr(debug_assertions, should_panic(expected = "before now"))]
    fn scheduling_in_the_past_is_a_bug_caught_in_debug_and_run_now_in_release() {
        let mut q = EventQueue::new();
        q.schedule(t(10), 1);
        q.pop();
        q.schedule(t(10), 2);
        q.schedule(t(4), 3);
        assert_eq!(q.pop(), Some((t(10), 2)));
        assert_eq!(q.pop(), Some((t(10), 3)));
    }

    #[test]
    fn an_alarm_moves_only_earlier_and_fires_once() {
        let mut q = EventQueue::new();
        let mut alarm = None;
        q.alarm_by(&mut alarm, t(50), "first");
        // A later deadline keeps the pending event; an earlier one replaces it.
        q.alarm_by(&mut alarm, t(80), "later");
        q.alarm_by(&mut alarm, t(20), "earlier");
        assert_eq!(alarm.map(|a| a.at()), Some(t(20)));
        assert_eq!(q.len(), 1);
        assert_eq!(q.pop(), Some((t(20), "earlier")));
        // Once fired the owner forgets it, and the next request schedules afresh.
        alarm = None;
        q.alarm_by(&mut alarm, t(90), "next");
        q.disarm(&mut alarm);
        assert_eq!(q.pop(), None);
    }

    #[test]
    fn heavy_cancellation_keeps_the_heap_bounded() {
        let mut q = EventQueue::new();
        for i in 0..100_000u64 {
            let id = q.schedule(t(1_000 + i), i);
            q.cancel(id);
        }
        q.schedule(t(1), 7);
        assert!(
            q.heap.len() + q.far.len() < 10_000,
            "kept {} and {} stale keys",
            q.heap.len(),
            q.far.len()
        );
        assert_eq!(q.pop(), Some((t(1), 7)));
        assert_eq!(q.pop(), None);
    }

    #[test]
    fn matches_a_sorted_map_under_random_schedules_cancels_and_pops() {
        // Few distinct times, so ties are common.
        matches_a_sorted_map(|r| r % 50);
    }

    #[test]
    fn matches_a_sorted_map_with_far_events_dense_and_sparse() {
        // Near events among far ones, some far ones bunched (a refill moves them by window),
        // some spread over minutes (a refill moves the earliest share).
        matches_a_sorted_map(|r| match r % 8 {
            0 => FAR + r % 1_000,
            1 => FAR * 3 + r % (FAR * 4),
            2 => r * 100,
            _ => r % (FAR / 2),
        });
    }

    #[test]
    fn a_far_event_runs_in_its_place_among_near_ones() {
        let mut q = EventQueue::new();
        let far = SimTime::from_nanos(FAR);
        q.schedule(far, "far");
        let cancelled = q.schedule(far + Duration::from_nanos(FAR), "cancelled");
        q.schedule(SimTime::from_nanos(FAR - 1), "near, just before");
        assert_eq!(q.far.len(), 2);
        assert_eq!(
            q.pop(),
            Some((SimTime::from_nanos(FAR - 1), "near, just before"))
        );
        // Now near: it joins the heap, behind the far event scheduled at that time before it.
        q.schedule(far, "same time, scheduled later");
        assert_eq!(q.cancel(cancelled), Some("cancelled"));
        assert_eq!(q.pop(), Some((far, "far")));
        assert_eq!(q.pop(), Some((far, "same time, scheduled later")));
        assert_eq!(q.pop(), None);
    }

    /// Random schedules (each `delay(r)` nanoseconds ahead for a random `r`), cancels and pops
    /// give what a sorted map gives.
    fn matches_a_sorted_map(delay: impl Fn(u64) -> u64) {
        use std::collections::BTreeMap;
        let mut q = EventQueue::new();
        let mut model: BTreeMap<(SimTime, u64), u64> = BTreeMap::new();
        let mut ids = Vec::new();
        let mut x = 7u64;
        let mut rand = |n: u64| {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (x >> 33) % n
        };
        for n in 0..200_000u64 {
            match rand(10) {
                0..=4 => {
                    let at = q.now() + Duration::from_nanos(delay(rand(u64::MAX >> 34)));
                    ids.push((q.schedule(at, n), at, n));
                    model.insert((at, n), n);
                }
                5..=6 if !ids.is_empty() => {
                    let (id, at, m) = ids.swap_remove(rand(ids.len() as u64) as usize);
                    assert_eq!(q.cancel(id), model.remove(&(at, m)));
                }
                _ => {
                    let want = model.pop_first().map(|((at, _), e)| (at, e));
                    assert_eq!(q.pop(), want);
                }
            }
            assert_eq!(q.len(), model.len());
        }
    }
}
