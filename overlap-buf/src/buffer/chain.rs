//! The [`Buffer`] itself: its chain of blocks, length, spare allocation, callbacks and
//! freezing, and what its other files share (the block policy, the spare, allocation). The
//! operations are in the sibling files, by what they do; the module docs draw the chain.

use std::collections::VecDeque;
use std::fmt;
use std::io;
use std::mem;

use super::block::Block;
use super::callbacks::Callbacks;
use super::error;

/// Block slots an empty chain keeps (more are freed when it empties).
const KEEP_SLOTS: usize = 8;

/// A queue of bytes in a chain of blocks: libevent's `evbuffer` (see the module docs).
#[derive(Default)]
pub struct Buffer {
    pub(super) blocks: VecDeque<Block>,
    pub(super) len: usize,
    pub(super) spare: Vec<u8>,
    pub(super) callbacks: Option<Box<Callbacks>>,
    pub(super) frozen_front: bool,
    pub(super) frozen_end: bool,
}

impl Buffer {
    /// The smallest block `add` allocates for small data.
    pub const BLOCK_MIN: usize = 1024;
    /// The largest block `add` allocates for small data; data this large or larger gets a
    /// block of exactly its size. Also the least room [`reserve`](Self::reserve) hands out.
    pub const BLOCK_MAX: usize = 4096;
    /// The largest allocation a buffer keeps for reuse once it is emptied: reads of this size
    /// reuse one allocation forever.
    pub const SPARE_MAX: usize = 4096;

    /// An empty buffer; allocates nothing.
    pub fn new() -> Buffer {
        Buffer::default()
    }

    /// How many bytes the buffer holds.
    #[inline]
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the buffer holds no bytes.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// How many blocks hold the bytes (none is empty).
    pub fn block_count(&self) -> usize {
        self.blocks.len()
    }

    /// Heap bytes this buffer holds: its blocks' allocations (a reference counts its owner
    /// box, not the caller's bytes), the chain's slots, the spare allocation and callbacks.
    pub fn memory(&self) -> usize {
        let blocks: usize = self.blocks.iter().map(Block::heap_bytes).sum();
        let chain = self.blocks.capacity() * mem::size_of::<Block>();
        let cbs = self.callbacks.as_deref().map_or(0, Callbacks::heap_bytes);
        blocks + chain + self.spare.capacity() + cbs
    }

    /// Frees what the buffer keeps for reuse: the spare allocation, and the chain's slots when
    /// it holds no block.
    pub fn shrink(&mut self) {
        self.spare = Vec::new();
        if self.blocks.is_empty() {
            self.blocks = VecDeque::new();
        } else {
            self.blocks.shrink_to_fit();
        }
    }

    /// Gives back what an idle buffer need not keep: the spare allocation, and an empty
    /// chain's room beyond one slot (one slot stays: a buffer that holds one block at a time
    /// then allocates nothing per block). [`shrink`](Self::shrink) frees everything.
    pub fn trim(&mut self) {
        self.spare = Vec::new();
        if self.blocks.is_empty() && self.blocks.capacity() > 1 {
            self.blocks = VecDeque::new();
        }
    }

    /// Takes the allocation the buffer keeps for its next reserve (an empty `Vec` if it
    /// keeps none), so that an owner of many buffers can pool them while the buffer is idle.
    pub fn take_spare(&mut self) -> Vec<u8> {
        mem::take(&mut self.spare)
    }

    /// Hands the buffer an allocation for its next reserve (its bytes are cleared; it is kept
    /// only if it is at most [`SPARE_MAX`](Self::SPARE_MAX) and larger than the one kept).
    pub fn give_spare(&mut self, v: Vec<u8>) {
        self.keep_spare(v);
    }

    /// How many bytes the allocation kept for the next reserve holds (0: none).
    pub fn spare_capacity(&self) -> usize {
        self.spare.capacity()
    }

    /// Freezes the front (`true`: nothing taken from or put before it) or the end (`false`:
    /// nothing added); see the module docs for what each refuses.
    pub fn freeze(&mut self, front: bool) {
        self.set_frozen(front, true);
    }

    /// Undoes [`freeze`](Self::freeze) for the front (`true`) or the end (`false`).
    pub fn unfreeze(&mut self, front: bool) {
        self.set_frozen(front, false);
    }

    /// Whether the front (`true`) or the end (`false`) is frozen.
    pub fn is_frozen(&self, front: bool) -> bool {
        if front {
            self.frozen_front
        } else {
            self.frozen_end
        }
    }

    pub(super) fn set_frozen(&mut self, front: bool, on: bool) {
        if front {
            self.frozen_front = on;
        } else {
            self.frozen_end = on;
        }
    }

    #[inline]
    pub(super) fn check_front(&self) -> io::Result<()> {
        if self.frozen_front {
            return Err(error::frozen_front());
        }
        Ok(())
    }

    #[inline]
    pub(super) fn check_end(&self) -> io::Result<()> {
        if self.frozen_end {
            return Err(error::frozen_end());
        }
        Ok(())
    }

    /// An empty allocation for at least `needed` bytes: the spare if it is large enough,
    /// else a new one sized by the block policy (see the module docs).
    pub(super) fn new_vec(&mut self, needed: usize) -> io::Result<Vec<u8>> {
        if needed <= self.spare.capacity() {
            return Ok(mem::take(&mut self.spare));
        }
        let cap = if needed >= Self::BLOCK_MAX {
            needed
        } else {
            let last = self.blocks.back().map_or(0, Block::capacity);
            last.saturating_mul(2).clamp(Self::BLOCK_MIN, Self::BLOCK_MAX).max(needed)
        };
        alloc(cap)
    }

    /// Room in the chain for `n` more blocks. An empty chain gets room for exactly one (a
    /// buffer that holds a block at a time, as most do, then never reallocates its chain,
    /// and keeps 40 bytes for it rather than 160); more grow as a `VecDeque` grows.
    pub(super) fn reserve_slots(&mut self, n: usize) -> io::Result<()> {
        let res =
            if self.blocks.capacity() == 0 { self.blocks.try_reserve_exact(n) } else { self.blocks.try_reserve(n) };
        res.map_err(|_| error::out_of_memory())
    }

    /// Keeps an emptied allocation as the spare if it is the best one to keep.
    #[inline]
    pub(super) fn keep_spare(&mut self, mut v: Vec<u8>) {
        if v.capacity() <= Self::SPARE_MAX && v.capacity() > self.spare.capacity() {
            v.clear();
            self.spare = v;
        }
    }

    /// Lets a block go: its allocation may become the spare; a reference is released.
    #[inline]
    pub(super) fn recycle_block(&mut self, block: Block) {
        if let Some(v) = block.into_vec() {
            self.keep_spare(v);
        }
    }

    /// After bytes left: an empty chain with many slots gives them back.
    #[inline]
    pub(super) fn after_removal(&mut self) {
        if self.blocks.is_empty() && self.blocks.capacity() > KEEP_SLOTS {
            self.blocks = VecDeque::new();
        }
    }
}

/// Hands `from`'s spare allocation to `to` when `to` has none (data flowed from `to` to
/// `from`: the allocations go back the other way).
pub(super) fn pass_spare(from: &mut Buffer, to: &mut Buffer) {
    if to.spare.capacity() == 0 && from.spare.capacity() != 0 {
        mem::swap(&mut to.spare, &mut from.spare);
    }
}

/// A new empty vector with room for exactly `cap` bytes, or `OutOfMemory`.
pub(super) fn alloc(cap: usize) -> io::Result<Vec<u8>> {
    let mut v = Vec::new();
    v.try_reserve_exact(cap).map_err(|_| error::out_of_memory())?;
    Ok(v)
}

impl fmt::Debug for Buffer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Buffer")
            .field("len", &self.len)
            .field("blocks", &self.blocks.len())
            .field("spare", &self.spare.capacity())
            .field("callbacks", &self.callbacks.as_deref().map_or(0, Callbacks::len))
            .field("frozen_front", &self.frozen_front)
            .field("frozen_end", &self.frozen_end)
            .finish()
    }
}
