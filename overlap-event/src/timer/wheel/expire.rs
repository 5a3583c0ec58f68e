//! The walk a poll makes: every list whose time has come, in time order, each timer in it
//! taken out if due and otherwise put on a finer level; then the current slot.

use super::super::level::{SLOTS, TICK_SHIFT};
use super::super::slab::{Slab, NIL};
use super::{Due, Wheel, CHAINS, DUE, GATHER};

impl Wheel {
    /// Takes out every timer due at `now` (ns), pushing each to `due` (unsorted), and
    /// advances the wheel to `now`'s tick, cascading what it passes to finer levels.
    pub(in super::super) fn expire<T>(&mut self, slab: &mut Slab<T>, now: u64, due: &mut Vec<Due>) {
        let target = now >> TICK_SHIFT;
        let mut batch = [NIL; GATHER];
        while let Some((id, start)) = self.next_list() {
            // The level-0 slot of `target` itself may hold timers later than `now`: it is
            // scanned below instead of being emptied.
            if start > target || (id < SLOTS && start == target) {
                break;
            }
            self.now = self.now.max(start);
            // The chains are walked side by side, a node of each in turn, gathering a batch of
            // indices (a loop small enough to keep a miss per chain in flight); then the batch,
            // now in cache, is expired or cascaded.
            let mut chains = self.take(id);
            loop {
                let mut n = 0;
                while n + CHAINS <= GATHER && chains != [NIL; CHAINS] {
                    for chain in &mut chains {
                        if *chain == NIL {
                            continue;
                        }
                        if let Some(node) = slab.node(*chain) {
                            batch[n] = *chain;
                            n += 1;
                            *chain = node.next;
                        } else {
                            *chain = NIL;
                        }
                    }
                }
                if n == 0 {
                    break;
                }
                for &i in &batch[..n] {
                    let Some(live) = slab.node_mut(i).and_then(|n| n.live.as_mut()) else { continue };
                    let d = live.deadline;
                    if d <= now {
                        live.place = DUE;
                        due.push((d, u64::from(live.seq.get()), i));
                    } else {
                        // Lands on a finer level (or back in the overflow list, a turn on).
                        self.link(slab, i, d);
                    }
                }
            }
        }
        self.now = self.now.max(target);
        self.scan_current(slab, now, due);
    }

    /// Takes the due timers out of the current slot (level 0, the current tick), leaving the
    /// later ones, and makes the slot's `min` exact.
    fn scan_current<T>(&mut self, slab: &mut Slab<T>, now: u64, due: &mut Vec<Due>) {
        let id = (self.now % SLOTS as u64) as usize;
        let list = self.lists[id];
        if list.is_empty() || (list.min > now && !list.stale) {
            return;
        }
        let mut min = u64::MAX;
        for mut i in list.heads {
            while let Some(node) = slab.node(i) {
                let next = node.next;
                if let Some(live) = &node.live {
                    let (d, seq) = (live.deadline, u64::from(live.seq.get()));
                    if d <= now {
                        self.unlink(slab, i);
                        if let Some(live) = slab.node_mut(i).and_then(|n| n.live.as_mut()) {
                            live.place = DUE;
                        }
                        due.push((d, seq, i));
                    } else {
                        min = min.min(d);
                    }
                }
                i = next;
            }
        }
        let list = &mut self.lists[id];
        list.min = min;
        list.stale = false;
    }
}
