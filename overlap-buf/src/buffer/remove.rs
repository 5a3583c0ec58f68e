//! Taking bytes out of the front: drain, remove (copy out + drain), remove_buffer (move to
//! another buffer), pop_block (take the first block, owned).
//!
//! ```text
//!   drain(n):          ┌──────┐ ┌──────┐ ┌──────────┐
//!                      │popped│ │popped│ │░░░│ kept │   whole blocks are popped (allocation
//!                      └──────┘ └──────┘ └──────────┘   to the spare, references released),
//!                      ◄──────────── n ──────►          the last one advanced
//!
//!   remove_buffer(dst, n): the whole blocks move to dst's end as they are; only the block
//!   the boundary cuts is split, by copying its first part into dst.
//! ```
//!
//! Each one checks the front's freeze flag first, then runs the callbacks once (the source's
//! before the destination's).

use std::io;

use super::block::Block;
use super::chain::pass_spare;
use super::chain::Buffer;

impl Buffer {
    /// Drains `min(n, len)` bytes from the front; returns how many.
    pub fn drain(&mut self, n: usize) -> io::Result<usize> {
        self.check_front()?;
        let n = n.min(self.len);
        if n == 0 {
            return Ok(0);
        }
        let orig = self.len;
        self.drain_blocks(n);
        self.after_removal();
        self.notify(orig, 0, n);
        Ok(n)
    }

    /// Copies bytes from the front into `out` and drains them; returns how many.
    pub fn remove(&mut self, out: &mut [u8]) -> io::Result<usize> {
        self.check_front()?;
        let n = self.copyout(out);
        self.drain(n)
    }

    /// Moves up to `n` bytes from the front to `dst`'s end; returns how many. Whole blocks
    /// move without copying; only the block the boundary cuts is split, by copying. Fails if
    /// this front or `dst`'s end is frozen.
    pub fn remove_buffer(&mut self, dst: &mut Buffer, n: usize) -> io::Result<usize> {
        self.check_front()?;
        dst.check_end()?;
        let n = n.min(self.len);
        if n == 0 {
            return Ok(0);
        }
        // Whole blocks that move, and what is left to copy from the next one.
        let mut whole = 0;
        let mut k = 0;
        for b in &self.blocks {
            if whole + b.len() > n {
                break;
            }
            whole += b.len();
            k += 1;
        }
        let part = n - whole;
        // Allocate first: the copied part goes into the room of what will be dst's last
        // block if it fits, else into a new block.
        dst.reserve_slots(k + 1)?;
        let tail_room = match k {
            0 => dst.blocks.back().map_or(0, Block::room),
            _ => self.blocks.get(k - 1).map_or(0, Block::room),
        };
        let fresh = if part > tail_room { Some(dst.new_vec(part)?) } else { None };

        let (orig_src, orig_dst) = (self.len, dst.len);
        for _ in 0..k {
            if let Some(b) = self.blocks.pop_front() {
                self.len -= b.len();
                dst.len += b.len();
                dst.blocks.push_back(b);
            }
        }
        if part > 0 {
            if let Some(front) = self.blocks.front_mut() {
                let bytes = &front.as_slice()[..part];
                match fresh {
                    Some(mut v) => {
                        v.extend_from_slice(bytes);
                        dst.blocks.push_back(Block::from(v));
                    }
                    None => {
                        if let Some(tail) = dst.blocks.back_mut() {
                            tail.append_within(bytes);
                        }
                    }
                }
                front.advance(part);
                self.len -= part;
                dst.len += part;
            }
        }
        self.after_removal();
        pass_spare(dst, self);
        self.notify(orig_src, 0, n);
        dst.notify(orig_dst, n, 0);
        Ok(n)
    }

    /// Takes the first block out, owned and uncopied (what a completion-model send carries);
    /// `None` when the buffer is empty or its front is frozen.
    pub fn pop_block(&mut self) -> Option<Block> {
        if self.frozen_front {
            return None;
        }
        let block = self.blocks.pop_front()?;
        let orig = self.len;
        self.len -= block.len();
        self.after_removal();
        self.notify(orig, 0, block.len());
        Some(block)
    }

    /// Takes back the allocation of a block that left the buffer (a sent block), for the next
    /// reserve or add; its bytes are **not** added. A reference is released.
    pub fn recycle(&mut self, block: Block) {
        self.recycle_block(block);
    }

    /// Removes `n` bytes (at most `len`) from the front blocks, popping the ones emptied;
    /// keeps `len` right at each step (a release that panics leaves it consistent). No freeze
    /// check, no callbacks.
    pub(super) fn drain_blocks(&mut self, n: usize) {
        let mut left = n;
        while left > 0 {
            let Some(front) = self.blocks.front_mut() else { break };
            let flen = front.len();
            if flen > left {
                front.advance(left);
                self.len -= left;
                break;
            }
            left -= flen;
            self.len -= flen;
            if let Some(b) = self.blocks.pop_front() {
                self.recycle_block(b);
            }
        }
    }
}
