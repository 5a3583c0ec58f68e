//! `Slab`: the base's events, by index, with a generation that makes an id of a freed event
//! stale for ever (ids are never reused: the generation counts every insertion), and memory
//! given back after mass removal (libevent never shrinks its tables: libevent#1800).

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::num::NonZeroU64;

/// A generation: never 0, so that an `Option<Event>` costs no more than an `Event`.
pub(crate) type Gen = NonZeroU64;

/// Entries by index; vacant ones are listed for reuse, lowest first, so that the tail empties
/// and can be given back. The list may hold stale indices (past the end after a shrink, or
/// listed twice): an index is used only if it is in range and vacant.
pub(crate) struct Slab<T> {
    entries: Vec<Option<(Gen, T)>>,
    free: BinaryHeap<Reverse<u32>>,
    len: usize,
    /// The generation of the next insertion (every insertion gets a new one).
    next_gen: Gen,
}

/// Below this many entries the slab does not bother shrinking.
const SHRINK_FLOOR: usize = 1024;

impl<T> Slab<T> {
    /// An empty slab.
    pub(crate) fn new() -> Slab<T> {
        Slab { entries: Vec::new(), free: BinaryHeap::new(), len: 0, next_gen: Gen::MIN }
    }

    /// Stores `value`; returns its index and generation, or `None` if 2³² entries are live.
    pub(crate) fn insert(&mut self, value: T) -> Option<(u32, Gen)> {
        let generation = self.next_gen;
        let mut reuse = None;
        while let Some(Reverse(i)) = self.free.pop() {
            if matches!(self.entries.get(i as usize), Some(None)) {
                reuse = Some(i);
                break;
            }
        }
        let index = match reuse {
            Some(i) => i,
            None => {
                let i = u32::try_from(self.entries.len()).ok()?;
                self.entries.push(None);
                i
            }
        };
        self.next_gen = self.next_gen.saturating_add(1);
        self.entries[index as usize] = Some((generation, value));
        self.len += 1;
        Some((index, generation))
    }

    /// The entry `index` if it holds generation `generation`.
    pub(crate) fn get(&self, index: u32, generation: Gen) -> Option<&T> {
        match self.entries.get(index as usize) {
            Some(Some((g, v))) if *g == generation => Some(v),
            _ => None,
        }
    }

    /// The entry `index` if it holds generation `generation`, mutably.
    pub(crate) fn get_mut(&mut self, index: u32, generation: Gen) -> Option<&mut T> {
        match self.entries.get_mut(index as usize) {
            Some(Some((g, v))) if *g == generation => Some(v),
            _ => None,
        }
    }

    /// The entry at `index`, whatever its generation, with the generation.
    pub(crate) fn get_at(&self, index: u32) -> Option<(Gen, &T)> {
        match self.entries.get(index as usize) {
            Some(Some((g, v))) => Some((*g, v)),
            _ => None,
        }
    }

    /// The entry at `index`, whatever its generation, with the generation, mutably.
    pub(crate) fn get_at_mut(&mut self, index: u32) -> Option<(Gen, &mut T)> {
        match self.entries.get_mut(index as usize) {
            Some(Some((g, v))) => Some((*g, v)),
            _ => None,
        }
    }

    /// Takes the entry out; shrinks the storage when it is less than a quarter full.
    pub(crate) fn remove(&mut self, index: u32, generation: Gen) -> Option<T> {
        let slot = self.entries.get_mut(index as usize)?;
        if !matches!(slot, Some((g, _)) if *g == generation) {
            return None;
        }
        let (_, value) = slot.take()?;
        self.free.push(Reverse(index));
        self.len -= 1;
        let tail_free = matches!(self.entries.last(), Some(None));
        if tail_free && self.entries.len() > SHRINK_FLOOR && self.len < self.entries.len() / 4 {
            self.shrink();
        }
        Some(value)
    }

    /// Live entries.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Bytes of storage held (capacity).
    pub(crate) fn memory(&self) -> usize {
        self.entries.capacity() * std::mem::size_of::<Option<(Gen, T)>>() + self.free.capacity() * 4
    }

    /// Drops the vacant tail (a cost proportional to what it drops); once that halved the
    /// entries, gives the memory back and clears the free list of what is past the end (a cost
    /// paid for by the removals that emptied them).
    fn shrink(&mut self) {
        let before = self.entries.len();
        while matches!(self.entries.last(), Some(None)) {
            self.entries.pop();
        }
        if self.entries.len() <= before / 2 {
            let end = self.entries.len() as u32;
            self.free.retain(|&Reverse(i)| i < end);
            self.entries.shrink_to(self.entries.len().max(SHRINK_FLOOR / 2) * 2);
            self.free.shrink_to(self.free.len() * 2);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Slab;

    #[test]
    fn stale_ids_stay_stale() {
        let mut s = Slab::new();
        let (i, g) = s.insert(1).unwrap();
        assert_eq!(s.remove(i, g), Some(1));
        let (j, h) = s.insert(2).unwrap();
        assert_eq!(i, j, "the index is reused");
        assert_ne!(g, h, "with a new generation");
        assert_eq!(s.get(i, g), None);
        assert_eq!(s.remove(i, g), None);
        assert_eq!(s.get(j, h), Some(&2));
    }

    #[test]
    fn memory_comes_back_after_mass_removal() {
        let mut s = Slab::new();
        let ids: Vec<_> = (0..100_000u64).map(|v| s.insert(v).unwrap()).collect();
        let peak = s.memory();
        for &(i, g) in &ids {
            s.remove(i, g).unwrap();
        }
        assert_eq!(s.len(), 0);
        assert!(s.memory() < peak / 20, "{} of {peak} bytes kept", s.memory());
    }
}
