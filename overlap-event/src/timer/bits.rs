//! A set of small integers that finds its least member in four word reads: 64-ary levels of
//! bitmaps, each bit of a level saying whether the matching word below it is non-zero.
//!
//! The slab keeps one bit per chunk (the chunk has room for another entry), so the lowest
//! chunk with room is found in constant time and new entries gather at low indices.

/// Levels of the tree: 64^4 = 2^24 members, more than the slab has chunks.
const DEPTH: usize = 4;

/// The set (see the module docs). `words[0]` holds one bit per member.
#[derive(Debug, Default)]
pub(super) struct BitTree {
    /// Level 0: members; level `k + 1`: one bit per word of level `k`, set while it is non-zero.
    words: [Vec<u64>; DEPTH],
}

impl BitTree {
    /// Adds `i` to the set.
    pub(super) fn insert(&mut self, mut i: usize) {
        for level in &mut self.words {
            let (w, bit) = (i / 64, i % 64);
            if level.len() <= w {
                level.resize(w + 1, 0);
            }
            let Some(word) = level.get_mut(w) else { return };
            let was = *word;
            *word |= 1 << bit;
            if was != 0 {
                return; // the levels above already know this word is non-zero
            }
            i = w;
        }
    }

    /// Takes `i` out of the set.
    pub(super) fn remove(&mut self, mut i: usize) {
        for level in &mut self.words {
            let (w, bit) = (i / 64, i % 64);
            let Some(word) = level.get_mut(w) else { return };
            *word &= !(1 << bit);
            if *word != 0 {
                return;
            }
            i = w;
        }
    }

    /// The least member, if any.
    #[inline]
    pub(super) fn first(&self) -> Option<usize> {
        let mut i = 0;
        for level in self.words.iter().rev() {
            let word = *level.get(i)?;
            if word == 0 {
                return None;
            }
            i = i * 64 + word.trailing_zeros() as usize;
        }
        Some(i)
    }

    /// Gives back the words past member `n` (every member must be below `n`).
    pub(super) fn fit(&mut self, n: usize) {
        let mut words = n;
        for level in &mut self.words {
            words = words.div_ceil(64);
            level.truncate(words);
            if level.capacity() > 4 * level.len().max(16) {
                level.shrink_to(2 * level.len());
            }
        }
    }

    /// Bytes of heap memory held.
    pub(super) fn memory(&self) -> usize {
        self.words.iter().map(|l| l.capacity() * 8).sum()
    }
}
