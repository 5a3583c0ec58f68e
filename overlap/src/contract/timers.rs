//! Timeouts for every completion driver: a heap of deadlines whose earliest bounds the leader's
//! wait in the kernel. The emulation and IOCP have no timer op; io_uring has one, but a kernel
//! timeout costs a timer interrupt to fire and a system call to cancel (see `uring`).

use crate::int_map::IntMap;
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::time::{Duration, Instant};

use super::completion::Pending;

/// Pending timeout ops by deadline. A cancelled op leaves a stale heap entry behind, dropped
/// when it comes up or when stale entries pile up.
#[derive(Default)]
pub(crate) struct Timers {
    heap: BinaryHeap<Reverse<(Instant, u64)>>,
    /// By their op's number.
    ops: IntMap<u64, Pending>,
}

impl Timers {
    /// Adds a timeout op that fires `after` from now (never, if that is past what an `Instant`
    /// holds). Returns true if it is the earliest deadline now: the leader may be waiting past
    /// it and must be woken.
    pub(crate) fn add(&mut self, p: Pending, after: Duration) -> bool {
        let at = Instant::now().checked_add(after);
        let earliest = self.next_deadline();
        if let Some(at) = at {
            self.heap.push(Reverse((at, p.id.seq())));
        }
        self.ops.insert(p.id.seq(), p);
        if self.heap.len() > 64 && self.heap.len() > 2 * self.ops.len() {
            // Mostly cancelled entries: keep the live ones only.
            let ops = &self.ops;
            let live: Vec<_> = self.heap.drain().filter(|Reverse((_, id))| ops.contains_key(id)).collect();
            self.heap = live.into();
        }
        at.is_some() && earliest.is_none_or(|e| at < Some(e))
    }

    /// Takes a pending timeout out (to complete it cancelled).
    pub(crate) fn cancel(&mut self, seq: u64) -> Option<Pending> {
        self.ops.remove(&seq)
    }

    /// Whether no timeout is pending.
    #[cfg_attr(not(unix), allow(dead_code))] // the emulation's
    pub(crate) fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }

    /// Takes every pending timeout out (for a port being closed).
    pub(crate) fn drain(&mut self) -> impl Iterator<Item = Pending> + '_ {
        self.heap.clear();
        self.ops.drain().map(|(_, p)| p)
    }

    /// The earliest deadline (possibly of a cancelled op: an early wake-up, never a late one).
    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        self.heap.peek().map(|Reverse((at, _))| *at)
    }

    /// How long the leader may wait: `timeout`, cut short by the earliest deadline.
    pub(crate) fn bound(&self, timeout: Option<Duration>) -> Option<Duration> {
        let left = self.next_deadline().map(|d| d.saturating_duration_since(Instant::now()));
        match (timeout, left) {
            (t, None) => t,
            (None, l) => l,
            (Some(t), Some(l)) => Some(t.min(l)),
        }
    }

    /// Hands every op whose deadline is past to `fired`, earliest first.
    pub(crate) fn expire(&mut self, mut fired: impl FnMut(Pending)) {
        if self.heap.is_empty() {
            return; // no clock read on every wait of a port without timers
        }
        let now = Instant::now();
        while let Some(&Reverse((at, id))) = self.heap.peek() {
            if at > now {
                break;
            }
            self.heap.pop();
            if let Some(p) = self.ops.remove(&id) {
                fired(p);
            }
        }
    }
}
