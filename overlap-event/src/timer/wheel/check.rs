//! The wheel's invariants, checked by the tests.

use super::super::level::{list_for, OVERFLOW, SLOTS};
use super::super::slab::{Slab, NIL};
use super::{Wheel, CHAINS};

impl Wheel {
    /// Checks the links, the occupancy bits, the `min`s and that every node sits in the list
    /// the level table gives it; returns the number of linked nodes.
    pub(in super::super) fn check<T>(&self, slab: &Slab<T>) -> usize {
        let mut count = 0;
        for (id, list) in self.lists.iter().enumerate() {
            if id < OVERFLOW {
                let bit = (self.occupied[id / SLOTS] >> (id % SLOTS)) & 1 == 1;
                assert_eq!(bit, !list.is_empty(), "occupancy of list {id}");
            }
            let mut min = u64::MAX;
            for (chain, &head) in list.heads.iter().enumerate() {
                let (mut prev, mut i) = (NIL, head);
                while i != NIL {
                    let node = slab.node(i).expect("linked node exists");
                    let live = node.live.as_ref().expect("linked node is live");
                    let d = live.deadline;
                    assert_eq!(i as usize % CHAINS, chain, "chain of node {i}");
                    assert_eq!(node.prev, prev, "back link in list {id}");
                    assert_eq!(usize::from(live.place), id, "place of node {i}");
                    assert_eq!(list_for(self.now, d), id, "node {i} (deadline {d}) at tick {}", self.now);
                    min = min.min(d);
                    count += 1;
                    (prev, i) = (i, node.next);
                }
            }
            if !list.is_empty() {
                assert!(list.min <= min, "list {id}: min {} above {min}", list.min);
                assert!(list.stale || list.min == min, "list {id}: min {} is not {min}", list.min);
            }
        }
        count
    }
}
