//! [`Lanes`]: the ops waiting behind the one in flight, per lane, for the drivers that keep one
//! op of a lane in the kernel at a time (io_uring for every socket and pipe, whose kernel would
//! wake parked ops in no particular order; IOCP for receives and sends on streams, which Wine
//! may complete in part or out of order).
//!
//! ```text
//!   enter ─┬─ (lane free: now busy) ──► the caller starts it ───────────────┐
//!          └─ (lane busy) ──► waiting ──(next, when the op ahead is done)──► started
//!                               └── cancel / drain ──► out, never started
//!   again: an op in flight goes back to the head of its lane (the rest of a whole write)
//! ```
//!
//! A lane is busy from `enter` (when it returns the op) until `next` or `done` finds nothing
//! waiting. Its entry stays when it is free (a socket's next op
//! finds it without an insertion), until the driver `forget`s its descriptor.

use std::collections::VecDeque;
use std::hash::Hash;

use super::completion::Pending;
use crate::int_map::IntMap;

/// The waiting ops of every busy lane `K`.
pub(crate) struct Lanes<K> {
    lanes: IntMap<K, Lane>,
    /// The lane of each waiting op, by op number.
    waiting: IntMap<u64, K>,
}

/// One lane: whether an op of it is in flight, and the ops waiting behind that one.
#[derive(Default)]
struct Lane {
    busy: bool,
    queue: VecDeque<Pending>,
}

impl<K> Default for Lanes<K> {
    fn default() -> Lanes<K> {
        Lanes { lanes: IntMap::default(), waiting: IntMap::default() }
    }
}

impl<K: Copy + Eq + Hash> Lanes<K> {
    /// `p` joins lane `k`: back to the caller to start at once if the lane was free (it is busy
    /// now), else it waits.
    pub(crate) fn enter(&mut self, k: K, p: Pending) -> Option<Pending> {
        let lane = self.lanes.entry(k).or_default();
        if !lane.busy {
            lane.busy = true;
            return Some(p);
        }
        self.waiting.insert(p.id.seq(), k);
        lane.queue.push_back(p);
        None
    }

    /// `p`, which was in flight on busy lane `k`, goes again before the ops behind it.
    pub(crate) fn again(&mut self, k: K, p: Pending) {
        self.waiting.insert(p.id.seq(), k);
        let lane = self.lanes.entry(k).or_default();
        lane.busy = true;
        lane.queue.push_front(p);
    }

    /// The op in flight on lane `k` is done: true if ops wait behind it (the lane stays busy,
    /// for `next` to start one once the caller can), else the lane is free.
    #[cfg_attr(windows, allow(dead_code))] // io_uring frees a lane before it holds a slot
    pub(crate) fn done(&mut self, k: K) -> bool {
        let Some(lane) = self.lanes.get_mut(&k) else { return false };
        lane.busy = !lane.queue.is_empty();
        lane.busy
    }

    /// The op in flight on lane `k` is done: the next op to start (the lane stays busy), or
    /// none (the lane is free).
    pub(crate) fn next(&mut self, k: K) -> Option<Pending> {
        let lane = self.lanes.get_mut(&k)?;
        let next = lane.queue.pop_front();
        match &next {
            Some(p) => {
                self.waiting.remove(&p.id.seq());
            }
            None => lane.busy = false,
        }
        next
    }

    /// Every op waiting on lane `k`, which is free afterwards (its ops cannot start).
    #[cfg_attr(windows, allow(dead_code))] // io_uring frees a lane before it holds a slot
    pub(crate) fn take_lane(&mut self, k: K) -> Vec<Pending> {
        let Some(lane) = self.lanes.get_mut(&k) else { return Vec::new() };
        lane.busy = false;
        let q = std::mem::take(&mut lane.queue);
        for p in &q {
            self.waiting.remove(&p.id.seq());
        }
        q.into()
    }

    /// Drops the entry of lane `k` (its descriptor is closing: nothing of it is in flight or
    /// waiting, since ops hold their handle).
    pub(crate) fn forget(&mut self, k: K) {
        self.lanes.remove(&k);
    }

    /// Takes the waiting op numbered `seq` out, if there is one.
    pub(crate) fn cancel(&mut self, seq: u64) -> Option<Pending> {
        let k = self.waiting.remove(&seq)?;
        let q = &mut self.lanes.get_mut(&k)?.queue;
        let at = q.iter().position(|p| p.id.seq() == seq)?;
        q.remove(at)
    }

    /// Every waiting op, of every lane (lanes stay busy while their op is in flight).
    pub(crate) fn drain(&mut self) -> Vec<Pending> {
        self.waiting.clear();
        self.lanes.values_mut().flat_map(|lane| lane.queue.drain(..)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::Lanes;
    use crate::contract::completion::test_pending;

    #[test]
    fn a_lane_runs_one_op_at_a_time_in_order() {
        let mut lanes = Lanes::<i32>::default();
        assert!(lanes.enter(3, test_pending(1)).is_some(), "a free lane starts its op");
        assert!(lanes.enter(3, test_pending(2)).is_none() && lanes.enter(3, test_pending(3)).is_none());
        assert!(lanes.enter(4, test_pending(4)).is_some(), "lanes are independent");
        assert!(lanes.done(3) && lanes.enter(3, test_pending(8)).is_none(), "ops wait: still busy");
        assert_eq!(lanes.cancel(8).map(|p| p.id.seq()), Some(8));
        assert_eq!(lanes.cancel(3).map(|p| p.id.seq()), Some(3));
        assert!(lanes.cancel(3).is_none(), "taken once");
        assert_eq!(lanes.next(3).map(|p| p.id.seq()), Some(2));
        lanes.again(3, test_pending(2)); // the rest of a whole write
        assert_eq!(lanes.next(3).map(|p| p.id.seq()), Some(2));
        assert!(lanes.next(3).is_none(), "nothing waits: the lane is free");
        assert!(lanes.enter(3, test_pending(5)).is_some(), "a free lane starts at once again");
        assert!(!lanes.done(4), "nothing waits: free");
        assert!(lanes.enter(4, test_pending(6)).is_some());
        assert!(lanes.enter(4, test_pending(7)).is_none());
        assert_eq!(lanes.drain().len(), 1);
        assert!(lanes.cancel(7).is_none());
        assert!(lanes.next(4).is_none());
        lanes.forget(4);
        lanes.forget(3);
        assert!(lanes.lanes.is_empty() && lanes.waiting.is_empty(), "nothing left of forgotten lanes");
    }
}
