//! Timers: a hierarchical timing wheel — O(1) insert and remove, firing amortised O(1) per
//! timer plus the sort of what one poll fires.
//!
//! Deadlines are kept exactly, as nanoseconds since the wheel's origin (a `u64`); the wheel
//! sorts them coarsely into lists by *tick* (2^20 ns, about 1.05 ms). Six levels of 64 slots
//! each, as in tokio's wheel; level `L` slot `S` holds the timers due in the `S`-th 64^L-tick
//! stretch of the level's current turn:
//!
//! | level    | slot width | one turn (range) |
//! |----------|------------|------------------|
//! | 0        | 1.05 ms    | 67.1 ms          |
//! | 1        | 67.1 ms    | 4.29 s           |
//! | 2        | 4.29 s     | 4.58 min         |
//! | 3        | 4.58 min   | 4.89 h           |
//! | 4        | 4.89 h     | 13.0 days        |
//! | 5        | 13.0 days  | 2.28 years       |
//! | overflow | one list   | to 2^64 ns after the origin (584 years) |
//! | far      | an ordered map | before the origin, or 584 years on and beyond |
//!
//! A timer goes to the level of the highest bit in which its tick differs from the wheel's
//! current tick, so the lists of a level never wrap around: the first occupied slot of the
//! lowest occupied level is always the next list to come due. As time advances, a poll walks
//! the lists it passes: level 0 lists are due whole; a slot of a higher level is *cascaded*,
//! each of its timers due now taken out and the others put on a finer level. A deadline in the
//! current tick, or already past, goes to level 0's slot of the current tick (the *current
//! slot*), which each poll scans for what is due, leaving the rest. The overflow list is looked
//! at again when time reaches the 2.28-year turn of its earliest deadline; deadlines that
//! cannot be written in a `u64` of nanoseconds wait in a B-tree (`far`).
//!
//! What a poll takes out is sorted by (deadline, insertion sequence) before it is handed out:
//! deadline order, and insertion order for equal deadlines, at any resolution. Timers before
//! the origin come first (they are earliest), those 584 years on last. (A node keeps the low
//! 32 bits of its sequence number, widened against the wheel's counter when sorted: equal
//! deadlines of timers inserted 2^32 insertions apart or more may come out of order.)
//!
//! State of one timer:
//!
//! ```text
//!   insert ─┬─ (in the wheel's clock) ──► pending in level L, slot S ◄────────────┐
//!           │                             (L = 0..5, or the overflow list)        │
//!           │                                 │                                   │
//!           │                      (time reaches the slot) ─┬─ deadline later ────┘ cascaded
//!           │                                               └─ deadline ≤ now ──► due ──► fired
//!           └─ (before the origin, or 2^64 ns on) ──► far ──── (deadline ≤ now) ─────────► fired
//!
//!   pending, due or far ── remove ──► removed
//! ```
//!
//! *Due* lasts for one poll: sorted, then handed to the poll's callback one by one (a timer is
//! freed before its callback runs, so a callback that panics loses no other: the rest fire at
//! the next poll). A key is stale once its timer fired or was removed.
//!
//! **Costs.** `insert`: the level from one XOR and a leading-zero count, a node from the slab
//! (lowest chunk with room: four word reads), a push on a list. `remove`: an unlink. A timer
//! moves at most once per level on its way down (and once per 2.28-year turn in the overflow
//! list). Each list remembers its least deadline (`wheel`), so `next_expiration` is O(levels)
//! and exact when the earliest timer is on level 0 (walking that one slot only if its least
//! timer was removed since a poll last scanned it); on a higher level it is the later of the
//! slot's start and that least deadline (which may be stale, hence lower, after removals).
//!
//! **Memory.** A node is 32 bytes for a value of up to 8 bytes (deadline, value, 32-bit
//! sequence number, place, two links), aligned so that it never straddles cache lines, in
//! chunks of 512; chunks are given back as they empty (`slab` says when), and an empty wheel
//! keeps one 16 KiB chunk and its 18 KiB of list heads.
//!
//! **Measured** (`benches/timers.rs` on a 2-core EPYC VM, a million timers pending with
//! deadlines over five minutes): insert 21–29 ns, remove of a random pending timer 165–275 ns,
//! fire 110–160 ns per timer, cascading included; 32.1 bytes per timer. With ten thousand
//! pending (all in cache): 21–28, 12–22 and 50–65 ns. At a million, nearly every node a remove
//! or a walk reaches is a cache and TLB miss (about 200 ns for a dependent one here): a remove
//! pays two rounds of them (the node, then its neighbours); a fired timer about three, one per
//! level it comes down, which the walk overlaps eight at a time (see `wheel`). A `BTreeMap`
//! keyed by (deadline, sequence) takes 600–800 ns to insert and 650–900 ns to remove there
//! (and 57 ns to fire: it paid for the order when inserting).
//!
//! Beside this file: `level` (the level table's arithmetic), `wheel` (the lists, expiring and
//! cascading), `slab` (node storage), `bits` (the set of chunks with room), `far`, `tests`.

mod bits;
mod far;
mod level;
mod slab;
#[cfg(test)]
mod tests;
mod wheel;

use std::fmt;
use std::num::NonZeroU32;
use std::time::{Duration, Instant};

use far::Far;
use slab::{Live, Node, Slab, NIL};
use wheel::{Due, Wheel, DUE, FAR};

/// A poll keeps the capacity of its batch up to this many timers.
const DUE_KEEP: usize = 256;

/// Names one timer; stale after it fired or was removed (then `remove`/`deadline` give None).
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct TimerKey {
    /// The timer's node in the slab.
    index: u32,
    /// The low 32 bits of the timer's insertion sequence number (never 0, which makes an
    /// `Option<TimerKey>` 8 bytes).
    generation: NonZeroU32,
}

/// A hierarchical timing wheel of timers carrying a `T` each (see the module docs).
pub(crate) struct Timers<T> {
    /// Time zero of the wheel's clock.
    origin: Instant,
    /// The wheel's current time: the latest `now` polled.
    time: Instant,
    /// The nodes: every timer's deadline, value and links.
    slab: Slab<T>,
    /// The levels' lists and the wheel's current tick.
    wheel: Wheel,
    /// Timers outside the wheel's clock.
    far: Far,
    /// The batch a poll hands out (kept between polls for its capacity).
    due: Vec<Due>,
    /// The last insertion sequence number given out (nodes keep its low 32 bits).
    seq: u64,
}

/// `at` in nanoseconds since `origin`, if that fits in a `u64`.
#[inline]
fn nanos_since(origin: Instant, at: Instant) -> Option<u64> {
    u64::try_from(at.checked_duration_since(origin)?.as_nanos()).ok()
}

impl<T> Timers<T> {
    /// An empty wheel whose time starts at `origin` (the loop's monotonic clock at creation).
    pub(crate) fn new(origin: Instant) -> Self {
        Timers {
            origin,
            time: origin,
            slab: Slab::new(),
            wheel: Wheel::new(),
            far: Far::default(),
            due: Vec::new(),
            seq: 0,
        }
    }

    /// Adds a timer due at `deadline`: O(1). A deadline at or before the wheel's current time
    /// fires at the next `poll`; one years away (any representable `Instant`) never fires early.
    /// (With all 2^32 − 512 nodes taken, 128 GiB of timers, the value is dropped and the key
    /// returned is stale.)
    pub(crate) fn insert(&mut self, deadline: Instant, value: T) -> TimerKey {
        // A u64 of insertions does not wrap in centuries. Low 32 bits of 0 are skipped.
        self.seq = self.seq.wrapping_add(1);
        if self.seq as u32 == 0 {
            self.seq = self.seq.wrapping_add(1);
        }
        let seq = NonZeroU32::new(self.seq as u32).unwrap_or(NonZeroU32::MIN);
        let index = match nanos_since(self.origin, deadline) {
            Some(d) => {
                let Ok(i) = self.slab.insert(Live { deadline: d, value, seq, place: 0 }) else {
                    return TimerKey { index: NIL, generation: seq };
                };
                self.wheel.link(&mut self.slab, i, d);
                i
            }
            None => {
                let (secs, nanos) = far::encode(self.origin, deadline);
                let Ok(i) = self.slab.insert(Live { deadline: secs, value, seq, place: FAR }) else {
                    return TimerKey { index: NIL, generation: seq };
                };
                if let Some(node) = self.slab.node_mut(i) {
                    node.next = nanos;
                }
                self.far.insert(deadline, self.seq, i);
                i
            }
        };
        TimerKey { index, generation: seq }
    }

    /// The full insertion sequence number whose low 32 bits a node keeps: the latest one given
    /// out with those bits (exact for the last 2^32 insertions).
    #[inline]
    fn full_seq(&self, low: u32) -> u64 {
        self.seq.saturating_sub(u64::from((self.seq as u32).wrapping_sub(low)))
    }

    /// The live node `key` names, if it is not stale.
    #[inline]
    fn node(&self, key: TimerKey) -> Option<(&Node<T>, &Live<T>)> {
        let node = self.slab.node(key.index)?;
        let live = node.live.as_ref()?;
        (live.seq == key.generation).then_some((node, live))
    }

    /// Removes a pending timer: O(1). `None` for a stale key.
    pub(crate) fn remove(&mut self, key: TimerKey) -> Option<T> {
        let (node, live) = self.node(key)?;
        match live.place {
            DUE => {} // left by a poll whose callback panicked: the batch skips freed nodes
            FAR => {
                let at = far::decode(self.origin, live.deadline, node.next);
                let seq = self.full_seq(live.seq.get());
                self.far.remove(at, seq, key.index);
            }
            _ => self.wheel.unlink(&mut self.slab, key.index),
        }
        self.slab.remove(key.index).map(|live| live.value)
    }

    /// A pending timer's deadline (exact, as given).
    pub(crate) fn deadline(&self, key: TimerKey) -> Option<Instant> {
        let (node, live) = self.node(key)?;
        if live.place == FAR {
            far::decode(self.origin, live.deadline, node.next)
        } else {
            self.origin.checked_add(Duration::from_nanos(live.deadline))
        }
    }

    /// A lower bound on the earliest pending deadline, exact when the earliest timer sits in
    /// level 0 (see the module docs); `None` when empty. Waking early is allowed, late is not.
    pub(crate) fn next_expiration(&self) -> Option<Instant> {
        let far = self.far.first();
        if let Some(at) = far.filter(|&at| at < self.origin) {
            return Some(at);
        }
        match self.wheel.next_expiration(&self.slab) {
            // Always representable: no later than a deadline that was given as an `Instant`.
            Some(d) => Some(self.origin.checked_add(Duration::from_nanos(d)).unwrap_or(self.origin)),
            None => far,
        }
    }

    /// Removes every timer with deadline <= `now` and hands each to `f` with its deadline, in
    /// deadline order; equal deadlines in insertion order. Advances the wheel's time to `now` (a `now` earlier
    /// than the wheel's time is treated as the wheel's time).
    pub(crate) fn poll(&mut self, now: Instant, mut f: impl FnMut(TimerKey, Instant, T)) {
        self.time = self.time.max(now);
        let (origin, time) = (self.origin, self.time);
        // Before the origin: earlier than anything in the wheel.
        while let Some((at, seq, i)) = self.far.pop_if(|at| at < origin) {
            fire(&mut self.slab, i, seq, at, &mut f);
        }
        let now_ns = nanos_since(origin, time).unwrap_or(u64::MAX);
        self.wheel.expire(&mut self.slab, now_ns, &mut self.due);
        for k in 0..self.due.len() {
            self.due[k].1 = self.full_seq(self.due[k].1 as u32);
        }
        self.due.sort_unstable_by_key(|&(d, seq, _)| (u128::from(d) << 64) | u128::from(seq));
        for k in 0..self.due.len() {
            let (d, seq, i) = self.due[k];
            // Representable: no later than a deadline that was given as an `Instant`.
            let at = origin.checked_add(Duration::from_nanos(d)).unwrap_or(time);
            fire(&mut self.slab, i, seq, at, &mut f);
        }
        self.due.clear();
        if self.due.capacity() > DUE_KEEP {
            self.due.shrink_to(DUE_KEEP);
        }
        // 584 years on and beyond: later than anything in the wheel.
        while let Some((at, seq, i)) = self.far.pop_if(|at| at <= time) {
            fire(&mut self.slab, i, seq, at, &mut f);
        }
    }

    /// Pending timers.
    pub(crate) fn len(&self) -> usize {
        self.slab.len()
    }

    /// Whether no timer is pending.
    #[cfg(test)]
    pub(crate) fn is_empty(&self) -> bool {
        self.slab.len() == 0
    }

    /// Bytes of heap memory the wheel holds (capacity, not length), for the memory tests.
    pub(crate) fn memory(&self) -> usize {
        self.slab.memory() + self.wheel.memory() + self.far.memory() + self.due.capacity() * size_of::<Due>()
    }

    /// Where a pending timer is: its wheel list id (level × 64 + slot, 384 for the overflow
    /// list) or `DUE`/`FAR` (tests).
    #[cfg(test)]
    fn place(&self, key: TimerKey) -> Option<u16> {
        self.node(key).map(|(_, live)| live.place)
    }

    /// Checks the wheel's invariants and that every live node is accounted for (tests).
    #[cfg(test)]
    fn check(&self) {
        let linked = self.wheel.check(&self.slab);
        let far = self
            .slab
            .live_indices()
            .iter()
            .filter(|&&i| self.slab.node(i).unwrap().live.as_ref().unwrap().place == FAR)
            .count();
        assert_eq!(linked + far, self.len(), "linked {linked} + far {far} vs len");
        assert_eq!(self.slab.live_indices().len(), self.len());
    }
}

/// Frees node `i` if it still holds the timer inserted as `seq`, and hands its value (due at
/// `at`) to `f`.
#[inline]
fn fire<T>(slab: &mut Slab<T>, i: u32, seq: u64, at: Instant, f: &mut impl FnMut(TimerKey, Instant, T)) {
    let Some(generation) = NonZeroU32::new(seq as u32) else { return };
    if let Some(live) = slab.remove_if(i, |live| live.seq == generation) {
        f(TimerKey { index: i, generation }, at, live.value);
    }
}

impl<T> fmt::Debug for Timers<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Timers").field("len", &self.len()).field("time", &self.time).finish_non_exhaustive()
    }
}
