//! Putting bytes in: at the end (`add*`), or before the front (`prepend*`, `push_front_block`).
//!
//! ```text
//!   add(&[u8])          copy: tail's room first, the rest into one new block
//!   add_vec(Vec)        adopt as a block (≤ COPY_MAX bytes are copied into the tail's room)
//!   add_block(Block)    adopt as a block
//!   add_reference(T)    adopt T as a reference block (released when drained / dropped)
//!   add_buffer(&mut o)  move all of o's blocks to the end (O(1) into an empty buffer)
//!   prepend(&[u8])      copy: the first block's drained room if it fits, else a new block
//!   prepend_buffer(o)   move all of o's blocks to the front
//!   push_front_block(b) put a popped block back at the front
//! ```
//!
//! Each one checks the freeze flag first, allocates everything it needs before changing
//! anything (an `OutOfMemory` leaves the buffer as it was), then runs the callbacks once.

use std::io;
use std::mem;

use super::block::Block;
use super::chain::alloc;
use super::chain::pass_spare;
use super::chain::Buffer;

/// `add_vec` copies a vector this small into the tail's room instead of adopting it.
const COPY_MAX: usize = 512;

impl Buffer {
    /// Appends a copy of `data`, filling the last block's room first.
    pub fn add(&mut self, data: &[u8]) -> io::Result<()> {
        self.check_end()?;
        if data.is_empty() {
            return Ok(());
        }
        let orig = self.len;
        self.append_bytes(data)?;
        self.notify(orig, data.len(), 0);
        Ok(())
    }

    /// Appends `data`'s bytes without copying, adopting its allocation as a block (a vector
    /// of at most 512 bytes that fits in the last block's room is copied there instead).
    pub fn add_vec(&mut self, data: Vec<u8>) -> io::Result<()> {
        self.check_end()?;
        let n = data.len();
        if n == 0 {
            self.keep_spare(data);
            return Ok(());
        }
        let orig = self.len;
        match self.blocks.back_mut() {
            Some(tail) if n <= COPY_MAX && tail.room() >= n => {
                tail.append_within(&data);
                self.len += n;
                self.keep_spare(data);
            }
            _ => {
                self.reserve_slots(1)?;
                self.blocks.push_back(Block::from(data));
                self.len += n;
            }
        }
        self.notify(orig, n, 0);
        Ok(())
    }

    /// Appends a block without copying (an empty one is dropped).
    pub fn add_block(&mut self, block: Block) -> io::Result<()> {
        self.check_end()?;
        self.insert_block(block, false)
    }

    /// Appends `data`'s bytes without copying; `data` is dropped when its last byte is drained,
    /// when the block carrying it is dropped, or with the buffer (at once if it is empty or the
    /// end is frozen).
    ///
    /// `T` and the release function must be `Send`, so that a block popped from the buffer can
    /// be carried by a completion-model send.
    pub fn add_reference<T: AsRef<[u8]> + Send + 'static>(&mut self, data: T) -> io::Result<()> {
        self.add_reference_with(data, drop)
    }

    /// Like [`add_reference`](Self::add_reference), but `release(data)` runs, exactly once,
    /// where `data` would be dropped (libevent's `evbuffer_add_reference` cleanup function).
    pub fn add_reference_with<T, F>(&mut self, data: T, release: F) -> io::Result<()>
    where
        T: AsRef<[u8]> + Send + 'static,
        F: FnOnce(T) + Send + 'static,
    {
        self.add_block(Block::reference(data, release))
    }

    /// Moves every block of `other` to the end without copying a byte; `other` is empty after.
    /// Fails if this end or `other`'s front is frozen.
    pub fn add_buffer(&mut self, other: &mut Buffer) -> io::Result<()> {
        self.check_end()?;
        other.check_front()?;
        let n = other.len;
        if n == 0 {
            return Ok(());
        }
        if self.blocks.is_empty() {
            mem::swap(&mut self.blocks, &mut other.blocks);
        } else {
            self.reserve_slots(other.blocks.len())?;
            self.blocks.append(&mut other.blocks);
        }
        let orig = self.len;
        self.len += n;
        other.len = 0;
        other.after_removal();
        pass_spare(self, other);
        other.notify(n, 0, n);
        self.notify(orig, n, 0);
        Ok(())
    }

    /// Puts a copy of `data` before the first byte.
    pub fn prepend(&mut self, data: &[u8]) -> io::Result<()> {
        self.check_front()?;
        if data.is_empty() {
            return Ok(());
        }
        let fits = self.blocks.front_mut().is_some_and(|b| b.prepend_within(data));
        if !fits {
            self.reserve_slots(1)?;
            let mut v = alloc(data.len())?;
            v.extend_from_slice(data);
            self.blocks.push_front(Block::from(v));
        }
        let orig = self.len;
        self.len += data.len();
        self.notify(orig, data.len(), 0);
        Ok(())
    }

    /// Moves every block of `other` before the first byte, without copying; `other` is empty
    /// after. Fails if this front or `other`'s front is frozen.
    pub fn prepend_buffer(&mut self, other: &mut Buffer) -> io::Result<()> {
        self.check_front()?;
        other.check_front()?;
        let n = other.len;
        if n == 0 {
            return Ok(());
        }
        if self.blocks.is_empty() {
            mem::swap(&mut self.blocks, &mut other.blocks);
        } else {
            self.reserve_slots(other.blocks.len())?;
            while let Some(b) = other.blocks.pop_back() {
                self.blocks.push_front(b);
            }
        }
        let orig = self.len;
        self.len += n;
        other.len = 0;
        other.after_removal();
        pass_spare(self, other);
        other.notify(n, 0, n);
        self.notify(orig, n, 0);
        Ok(())
    }

    /// Puts a block back before the first byte, without copying: what a failed or partial
    /// send does with the block [`pop_block`](Self::pop_block) gave it. An empty block is
    /// dropped. Fails if the front is frozen (the block is then dropped).
    pub fn push_front_block(&mut self, block: Block) -> io::Result<()> {
        self.check_front()?;
        self.insert_block(block, true)
    }

    /// Puts a non-empty `block` at the front or the end (an empty one is dropped), then runs
    /// the callbacks.
    fn insert_block(&mut self, block: Block, front: bool) -> io::Result<()> {
        let n = block.len();
        if n == 0 {
            return Ok(());
        }
        self.reserve_slots(1)?;
        let orig = self.len;
        if front {
            self.blocks.push_front(block);
        } else {
            self.blocks.push_back(block);
        }
        self.len += n;
        self.notify(orig, n, 0);
        Ok(())
    }

    /// Appends a copy of non-empty `data`: the last block's room first (moving its bytes
    /// down first when that is cheap and makes room), the rest into one new block. Allocates
    /// before changing anything. No freeze check, no callbacks.
    pub(super) fn append_bytes(&mut self, data: &[u8]) -> io::Result<()> {
        let room = self.blocks.back_mut().map_or(0, |b| b.make_room(data.len()));
        if room >= data.len() {
            if let Some(tail) = self.blocks.back_mut() {
                tail.append_within(data);
                self.len += data.len();
                return Ok(());
            }
        }
        let (head, rest) = data.split_at(room.min(data.len()));
        self.reserve_slots(1)?;
        let mut v = self.new_vec(rest.len())?;
        if let Some(tail) = self.blocks.back_mut() {
            tail.append_within(head);
        }
        v.extend_from_slice(rest);
        self.blocks.push_back(Block::from(v));
        self.len += data.len();
        Ok(())
    }
}
