//! [`Lanes`]: the ops waiting behind the one in flight, per lane, for the drivers that keep one
//! op of a lane in the kernel at a time (io_uring for every socket and pipe, whose kernel would
//! wake parked ops in no particular order; IOCP for whole writes, which Wine's `WSASend` may
//! complete in part).
//!
//! ```text
//!   enter ─┬─ (lane free: now busy) ──► the caller starts it ───────────────┐
//!          └─ (lane busy) ──► waiting ──(next, when the op ahead is done)──► started
//!                               └── cancel / drain ──► out, never started
//!   again: an op in flight goes back to the head of its lane (the rest of a whole write)
//! ```
//!
//! A lane is busy from `enter` (when it returns the op) until `next` finds nothing waiting, or
//! `free` is called with nothing waiting.

use std::collections::VecDeque;
use std::hash::Hash;

use super::completion::Pending;
use crate::int_map::IntMap;

/// The waiting ops of every busy lane `K`.
pub(crate) struct Lanes<K> {
    /// A lane is in the map while it is busy.
    lanes: IntMap<K, VecDeque<Pending>>,
    /// The lane of each waiting op, by op number.
    waiting: IntMap<u64, K>,
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
        match self.lanes.get_mut(&k) {
            Some(q) => {
                self.waiting.insert(p.id.seq(), k);
                q.push_back(p);
                None
            }
            None => {
                self.lanes.insert(k, VecDeque::new());
                Some(p)
            }
        }
    }

    /// `p`, which was in flight on busy lane `k`, goes again before the ops behind it.
    pub(crate) fn again(&mut self, k: K, p: Pending) {
        self.waiting.insert(p.id.seq(), k);
        self.lanes.entry(k).or_default().push_front(p);
    }

    /// Whether ops wait on lane `k`.
    #[cfg_attr(windows, allow(dead_code))] // io_uring frees a lane before it holds a slot
    pub(crate) fn has_waiting(&self, k: K) -> bool {
        self.lanes.get(&k).is_some_and(|q| !q.is_empty())
    }

    /// The op in flight on lane `k` is done and nothing waits: the lane is free.
    #[cfg_attr(windows, allow(dead_code))] // io_uring frees a lane before it holds a slot
    pub(crate) fn free(&mut self, k: K) {
        if !self.has_waiting(k) {
            self.lanes.remove(&k);
        }
    }

    /// The op in flight on lane `k` is done: the next op to start (the lane stays busy), or
    /// none (the lane is free).
    pub(crate) fn next(&mut self, k: K) -> Option<Pending> {
        let next = self.lanes.get_mut(&k).and_then(VecDeque::pop_front);
        match &next {
            Some(p) => {
                self.waiting.remove(&p.id.seq());
            }
            None => {
                self.lanes.remove(&k);
            }
        }
        next
    }

    /// Every op waiting on lane `k`, which is free afterwards (its ops cannot start).
    #[cfg_attr(windows, allow(dead_code))] // io_uring frees a lane before it holds a slot
    pub(crate) fn take_lane(&mut self, k: K) -> Vec<Pending> {
        let q = self.lanes.remove(&k).unwrap_or_default();
        for p in &q {
            self.waiting.remove(&p.id.seq());
        }
        q.into()
    }

    /// Takes the waiting op numbered `seq` out, if there is one.
    pub(crate) fn cancel(&mut self, seq: u64) -> Option<Pending> {
        let k = self.waiting.remove(&seq)?;
        let q = self.lanes.get_mut(&k)?;
        let at = q.iter().position(|p| p.id.seq() == seq)?;
        q.remove(at)
    }

    /// Every waiting op, of every lane (lanes stay busy while their op is in flight).
    pub(crate) fn drain(&mut self) -> Vec<Pending> {
        self.waiting.clear();
        self.lanes.values_mut().flat_map(|q| q.drain(..)).collect()
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
        assert!(lanes.has_waiting(3) && !lanes.has_waiting(4));
        assert_eq!(lanes.cancel(3).map(|p| p.id.seq()), Some(3));
        assert!(lanes.cancel(3).is_none(), "taken once");
        assert_eq!(lanes.next(3).map(|p| p.id.seq()), Some(2));
        lanes.again(3, test_pending(2)); // the rest of a whole write
        assert_eq!(lanes.next(3).map(|p| p.id.seq()), Some(2));
        assert!(lanes.next(3).is_none(), "nothing waits: the lane is free");
        assert!(lanes.enter(3, test_pending(5)).is_some(), "a free lane starts at once again");
        lanes.free(4);
        assert!(lanes.enter(4, test_pending(6)).is_some());
        assert!(lanes.enter(4, test_pending(7)).is_none());
        assert_eq!(lanes.drain().len(), 1);
        assert!(lanes.cancel(7).is_none());
    }
}
