//! The wheel's lists: intrusive doubly-linked lists of slab nodes, one per slot of each level
//! plus the overflow list, with the walk that expires and cascades them as time advances.
//!
//! **Chains.** A list is eight chains, node `i` in chain `i % 8`, and a walk follows the eight
//! side by side. Walking one linked list is a chain of dependent loads, and with a million
//! timers pending nearly every node it reaches is a cache miss (a random pointer chase over
//! 40 MB costs about 200 ns a node on the machine this was measured on, 24 ns with eight
//! chases interleaved). The walk first gathers a batch of indices from the eight chains in a
//! loop small enough to keep a miss per chain in flight, then expires or cascades the batch
//! from cache. With a million timers pending this made firing about three times faster.
//!
//! Each list keeps the least deadline it has held since it was last scanned (`min`): exact
//! until the node holding it is removed, a lower bound after that (`stale`). That is what makes
//! [`Wheel::next_expiration`] exact for level 0 without walking a slot on every call.
//!
//! Beside this file: `expire` (the walk a poll makes), and the invariant check of the tests.

#[cfg(test)]
mod check;
mod expire;

use super::level::{list_for, list_start, turn_start, LEVELS, LISTS, OVERFLOW, SLOTS, TICK_SHIFT};
use super::slab::{Slab, NIL};

/// `Live::place` of a timer taken out of the wheel by a poll, about to be handed out.
pub(super) const DUE: u16 = LISTS as u16;
/// `Live::place` of a timer outside the wheel's clock (see `far`).
pub(super) const FAR: u16 = LISTS as u16 + 1;

/// A timer a poll takes out: (deadline, insertion sequence, node index), sorted as is. The
/// wheel gives the sequence number's low 32 bits, which the poll widens before sorting.
pub(super) type Due = (u64, u64, u32);

/// Chains per list (see the module docs).
const CHAINS: usize = 8;
/// Nodes a walk gathers before it processes them.
const GATHER: usize = 128;

/// One list's chains and what is known of its deadlines.
#[derive(Clone, Copy, Debug)]
struct List {
    /// First node of each chain, or `NIL`.
    heads: [u32; CHAINS],
    /// The least deadline in the list (see the module docs); meaningless while it is empty.
    min: u64,
    /// Whether `min`'s node may have been removed (then `min` is only a lower bound).
    stale: bool,
}

impl List {
    /// Whether every chain is empty.
    #[inline]
    fn is_empty(&self) -> bool {
        self.heads == [NIL; CHAINS]
    }
}

/// The lists, their occupancy and the wheel's current tick.
#[derive(Debug)]
pub(super) struct Wheel {
    /// Level `L` slot `S` is list `64 L + S`; the overflow list is last.
    lists: Box<[List; LISTS]>,
    /// Per level, a bit per non-empty slot.
    occupied: [u64; LEVELS],
    /// The current tick: the wheel has expired everything due before it.
    now: u64,
}

impl Wheel {
    /// An empty wheel at tick 0.
    pub(super) fn new() -> Self {
        let empty = List { heads: [NIL; CHAINS], min: u64::MAX, stale: false };
        Wheel { lists: Box::new([empty; LISTS]), occupied: [0; LEVELS], now: 0 }
    }

    /// Puts the live node `i`, due at `d` (ns), at the front of its chain of the list it
    /// belongs in.
    #[inline]
    pub(super) fn link<T>(&mut self, slab: &mut Slab<T>, i: u32, d: u64) {
        let id = list_for(self.now, d);
        let list = &mut self.lists[id];
        let chain = i as usize % CHAINS;
        let head = list.heads[chain];
        if let Some(node) = slab.node_mut(i) {
            node.next = head;
            node.prev = NIL;
            if let Some(live) = &mut node.live {
                live.place = id as u16;
            }
        }
        if head != NIL {
            if let Some(node) = slab.node_mut(head) {
                node.prev = i;
            }
        }
        if head == NIL && list.is_empty() {
            list.min = d;
            list.stale = false;
            if id < OVERFLOW {
                self.occupied[id / SLOTS] |= 1 << (id % SLOTS);
            }
        } else {
            list.min = list.min.min(d);
        }
        list.heads[chain] = i;
    }

    /// Takes node `i` out of its list (it must be in one).
    #[inline]
    pub(super) fn unlink<T>(&mut self, slab: &mut Slab<T>, i: u32) {
        let Some(node) = slab.node(i) else { return };
        let Some(live) = &node.live else { return };
        let (next, prev, id, d) = (node.next, node.prev, usize::from(live.place), live.deadline);
        let Some(list) = self.lists.get_mut(id) else { return };
        if prev == NIL {
            let head = &mut list.heads[i as usize % CHAINS];
            if *head == i {
                *head = next;
            }
        } else if let Some(p) = slab.node_mut(prev) {
            p.next = next;
        }
        if next != NIL {
            if let Some(n) = slab.node_mut(next) {
                n.prev = prev;
            }
        }
        // Only a node alone in its chain can leave the whole list empty.
        if prev == NIL && next == NIL && list.is_empty() {
            if id < OVERFLOW {
                self.occupied[id / SLOTS] &= !(1 << (id % SLOTS));
            }
        } else if d <= list.min {
            list.stale = true;
        }
    }

    /// Detaches list `id` whole and returns its chains.
    fn take(&mut self, id: usize) -> [u32; CHAINS] {
        if id < OVERFLOW {
            self.occupied[id / SLOTS] &= !(1 << (id % SLOTS));
        }
        std::mem::replace(&mut self.lists[id].heads, [NIL; CHAINS])
    }

    /// The list that comes due first and its start tick: the first non-empty slot of the
    /// lowest non-empty level, else the overflow list (at the turn of its least deadline).
    #[inline]
    fn next_list(&self) -> Option<(usize, u64)> {
        for (level, &bits) in self.occupied.iter().enumerate() {
            if bits != 0 {
                let id = level * SLOTS + bits.trailing_zeros() as usize;
                return Some((id, list_start(id, self.now)));
            }
        }
        let overflow = &self.lists[OVERFLOW];
        (!overflow.is_empty()).then(|| (OVERFLOW, turn_start(overflow.min)))
    }

    /// A lower bound on the earliest deadline in the wheel (ns), exact when it is on level 0
    /// or its list's `min` is not stale.
    pub(super) fn next_expiration<T>(&self, slab: &Slab<T>) -> Option<u64> {
        let (id, start) = self.next_list()?;
        let list = &self.lists[id];
        if id < SLOTS {
            // Level 0: exact. The current slot may hold deadlines before its start.
            return Some(if list.stale { scan_min(slab, list.heads) } else { list.min });
        }
        if id == OVERFLOW {
            return Some(list.min);
        }
        // Every deadline in a slot of a higher level lies in that slot.
        Some(list.min.max(start << TICK_SHIFT))
    }

    /// Bytes of heap memory held (the lists).
    pub(super) fn memory(&self) -> usize {
        size_of::<[List; LISTS]>()
    }
}

/// The least deadline in the chains starting at `heads`.
fn scan_min<T>(slab: &Slab<T>, heads: [u32; CHAINS]) -> u64 {
    let mut min = u64::MAX;
    for mut i in heads {
        while let Some(node) = slab.node(i) {
            if let Some(live) = &node.live {
                min = min.min(live.deadline);
            }
            i = node.next;
        }
    }
    min
}
