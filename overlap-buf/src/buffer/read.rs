//! Looking at the bytes without taking them: copyout, chunks, peek, io_slices, to_vec, and
//! pullup (which rearranges blocks so the first bytes are contiguous).
//!
//! ```text
//!   peek(pos, len):   ┌────────┐ ┌───────────┐ ┌────────┐
//!                     │   [····│ │···········│ │···)    │  → 3 slices, in order
//!                     └────────┘ └───────────┘ └────────┘
//!                         pos                     pos+len
//!
//!   pullup(n), the first block cannot hold n:    pullup(n), it can (owned, with room):
//!     new block ◄── copy n bytes ── blocks          first block ◄── copy the rest of n
//!     (blocks emptied by the copy are popped)       from the following blocks
//! ```

use std::collections::vec_deque;
use std::io::{self, IoSlice};

use super::block::Block;
use super::chain::Buffer;

/// The bytes in `[pos, pos + len)` of a chain, as slices (see [`Buffer::peek`]).
struct Peek<'a> {
    blocks: vec_deque::Iter<'a, Block>,
    skip: usize,
    left: usize,
}

impl<'a> Iterator for Peek<'a> {
    type Item = &'a [u8];

    #[inline]
    fn next(&mut self) -> Option<&'a [u8]> {
        while self.left > 0 {
            let b = self.blocks.next()?.as_slice();
            if self.skip >= b.len() {
                self.skip -= b.len();
                continue;
            }
            let b = &b[self.skip..];
            self.skip = 0;
            let s = &b[..self.left.min(b.len())];
            self.left -= s.len();
            return Some(s);
        }
        None
    }
}

impl Buffer {
    /// Copies bytes from the front into `out`, leaving them; returns how many.
    pub fn copyout(&self, out: &mut [u8]) -> usize {
        self.copyout_from(0, out)
    }

    /// Copies bytes from position `pos` on into `out`, leaving them; returns how many (0 when
    /// `pos >= len`).
    pub fn copyout_from(&self, pos: usize, out: &mut [u8]) -> usize {
        let mut n = 0;
        for s in self.peek(pos, out.len()) {
            out[n..n + s.len()].copy_from_slice(s);
            n += s.len();
        }
        n
    }

    /// The blocks' bytes in order, as non-empty slices.
    pub fn chunks(&self) -> impl Iterator<Item = &[u8]> {
        self.blocks.iter().map(Block::as_slice)
    }

    /// The bytes in `[pos, pos + len)` (cut at the end of the buffer), as non-empty slices.
    pub fn peek(&self, pos: usize, len: usize) -> impl Iterator<Item = &[u8]> {
        Peek { blocks: self.blocks.iter(), skip: pos, left: len }
    }

    /// Fills `out` with the first blocks' bytes, at most `max_bytes` in all (the last slice is
    /// cut to fit), for a gathered write; returns `(slices filled, bytes covered)`.
    pub fn io_slices<'a>(&'a self, out: &mut [IoSlice<'a>], max_bytes: usize) -> (usize, usize) {
        let mut count = 0;
        let mut bytes = 0;
        for (slot, s) in out.iter_mut().zip(self.peek(0, max_bytes)) {
            *slot = IoSlice::new(s);
            count += 1;
            bytes += s.len();
        }
        (count, bytes)
    }

    /// A copy of every byte (one allocation of `len` bytes, which, like any `Vec`, aborts if
    /// memory runs out).
    pub fn to_vec(&self) -> Vec<u8> {
        let mut v = Vec::with_capacity(self.len);
        for s in self.chunks() {
            v.extend_from_slice(s);
        }
        v
    }

    /// Makes the first `min(n, len)` bytes contiguous (copying only when they span blocks)
    /// and returns them. The length does not change, so no callback runs.
    pub fn pullup(&mut self, n: usize) -> io::Result<&[u8]> {
        let n = n.min(self.len);
        if self.blocks.front().is_some_and(|b| b.len() < n) {
            self.gather_front(n)?;
        }
        Ok(self.blocks.front().map_or(&[][..], |b| &b.as_slice()[..n]))
    }

    /// Puts the first `n` bytes (more than the first block holds) into one block.
    fn gather_front(&mut self, n: usize) -> io::Result<()> {
        let Some(mut first) = self.blocks.pop_front() else { return Ok(()) };
        self.len -= first.len();
        let need = n - first.len();
        if first.make_room(need) < need {
            // No room: a new block gets all n bytes; `first` goes back, to be copied from.
            let mut v = match self.new_vec(n) {
                Ok(v) => v,
                Err(e) => {
                    self.len += first.len();
                    self.blocks.push_front(first);
                    return Err(e);
                }
            };
            v.extend_from_slice(first.as_slice());
            for s in self.peek(0, need) {
                v.extend_from_slice(s);
            }
            self.drain_blocks(need);
            self.recycle_block(first);
            first = Block::from(v);
        } else {
            for s in self.peek(0, need) {
                first.append_within(s);
            }
            self.drain_blocks(need);
        }
        self.len += first.len();
        self.blocks.push_front(first);
        Ok(())
    }
}
