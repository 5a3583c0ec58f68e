//! Entry storage: nodes in fixed chunks of 512, named by a `u32` index, with no allocation per
//! timer and memory given back when chunks empty.
//!
//! Index `i` is node `i % 512` of chunk `i / 512`. A key is an index, so a node never moves;
//! what can be given back is a whole chunk once none of its nodes is live. So:
//!
//! - a chunk's free nodes form a list through their `next` field (most recently freed
//!   first), and a chunk that was never full hands out its untouched nodes in order;
//! - a new entry goes into the **lowest** chunk with room (a [`BitTree`] of such chunks), so
//!   live entries gather in low chunks, and as timers are removed and added again (the usual
//!   life of timeouts) the high chunks drain;
//! - a chunk whose last live node is freed gives its block back at once (one block is kept as
//!   a spare, so a wheel that goes from one timer to none and back allocates nothing);
//!   empty chunks at the end of the table leave the table, which shrinks when it is under a
//!   quarter full. A wheel that empties keeps only the spare block.
//!
//! Removing a scattered 90 % of a million timers leaves most chunks with a few live nodes and
//! gives back little at first; removing them by age (oldest or newest first) gives back
//! nearly all of it, and the scattered case recovers as the survivors are re-armed.
//!
//! Stale keys need no per-node generation that outlives the node: a key carries the low 32
//! bits of its timer's insertion sequence number, which the live node keeps, so a stale key
//! never matches a node that was freed, given back or reused (unless exactly a multiple of 2^32
//! timers were inserted in between).

use std::num::NonZeroU32;

use super::bits::BitTree;

/// Bits of an index that name a node inside its chunk.
const CHUNK_BITS: u32 = 9;
/// Nodes per chunk.
const CHUNK: usize = 1 << CHUNK_BITS;
/// Chunks at most: the index `u32::MAX` stays unused, as the links' "none".
const MAX_CHUNKS: usize = (1 << (32 - CHUNK_BITS)) - 1;
/// "No node", in links and free lists.
pub(super) const NIL: u32 = u32::MAX;

/// What a live node holds besides its links.
#[derive(Debug)]
pub(super) struct Live<T> {
    /// The deadline in ns since the origin (for a timer outside the wheel's clock: the whole
    /// seconds of its distance from the origin, see `far`).
    pub(super) deadline: u64,
    /// The caller's value.
    pub(super) value: T,
    /// The low 32 bits of the insertion sequence number (never 0): the key's generation, and
    /// the order of equal deadlines.
    pub(super) seq: NonZeroU32,
    /// Where the timer is: a wheel list id, `DUE` or `FAR` (see `wheel`).
    pub(super) place: u16,
}

/// One timer's storage: 32 bytes for a value of up to 8 bytes, aligned so that a node never
/// straddles two cache lines (a walk of the wheel's lists costs one miss per node).
#[derive(Debug)]
#[repr(align(32))]
pub(super) struct Node<T> {
    /// `None` while the node is free.
    pub(super) live: Option<Live<T>>,
    /// Next node in the node's list (wheel list, or its chunk's free list).
    pub(super) next: u32,
    /// Previous node in the node's wheel list.
    pub(super) prev: u32,
}

/// A block of nodes, allocated and freed as a whole.
type Block<T> = Box<[Node<T>; CHUNK]>;

/// One chunk of the table.
#[derive(Debug)]
struct Chunk<T> {
    /// The nodes, while any is live.
    block: Option<Block<T>>,
    /// Live nodes in the chunk.
    live: u16,
    /// Nodes `fresh..` have never been handed out since the block was attached.
    fresh: u16,
    /// Head of the free list of nodes below `fresh` (an index inside the chunk).
    free: u32,
}

/// The node storage (see the module docs).
#[derive(Debug)]
pub(super) struct Slab<T> {
    /// The chunk table: chunk `c` holds indices `512 c ..`.
    chunks: Vec<Chunk<T>>,
    /// Chunks with room for another entry, attached or not.
    room: BitTree,
    /// An empty block kept for the next chunk that needs one.
    spare: Option<Block<T>>,
    /// Live nodes.
    len: usize,
}

/// Splits an index into chunk and node.
#[inline]
fn split(i: u32) -> (usize, usize) {
    ((i >> CHUNK_BITS) as usize, i as usize & (CHUNK - 1))
}

impl<T> Slab<T> {
    /// An empty slab, holding no memory.
    pub(super) fn new() -> Self {
        Slab { chunks: Vec::new(), room: BitTree::default(), spare: None, len: 0 }
    }

    /// Live nodes.
    #[inline]
    pub(super) fn len(&self) -> usize {
        self.len
    }

    /// The node at `i`, live or free; `None` where no block is attached.
    #[inline]
    pub(super) fn node(&self, i: u32) -> Option<&Node<T>> {
        let (c, n) = split(i);
        self.chunks.get(c)?.block.as_deref().map(|b| &b[n])
    }

    /// The node at `i`, mutably.
    #[inline]
    pub(super) fn node_mut(&mut self, i: u32) -> Option<&mut Node<T>> {
        let (c, n) = split(i);
        self.chunks.get_mut(c)?.block.as_deref_mut().map(|b| &mut b[n])
    }

    /// Stores `live` in a free node (lowest chunk with room first) and returns its index, or
    /// gives `live` back when all 2^32 − 512 indices are taken.
    pub(super) fn insert(&mut self, live: Live<T>) -> Result<u32, Live<T>> {
        let c = match self.room.first() {
            Some(c) => c,
            None if self.chunks.len() < MAX_CHUNKS => {
                self.chunks.push(Chunk { block: None, live: 0, fresh: 0, free: NIL });
                self.room.insert(self.chunks.len() - 1);
                self.chunks.len() - 1
            }
            None => return Err(live),
        };
        let Some(chunk) = self.chunks.get_mut(c) else { return Err(live) };
        let block = chunk.block.get_or_insert_with(|| self.spare.take().unwrap_or_else(new_block));
        let n = if chunk.free != NIL {
            let n = chunk.free as usize & (CHUNK - 1);
            chunk.free = block[n].next;
            n
        } else if (chunk.fresh as usize) < CHUNK {
            let n = chunk.fresh as usize;
            chunk.fresh += 1;
            n
        } else {
            // Not reachable: a chunk without a free node is not in `room`.
            self.room.remove(c);
            return self.insert(live);
        };
        block[n] = Node { live: Some(live), next: NIL, prev: NIL };
        chunk.live += 1;
        if chunk.free == NIL && chunk.fresh as usize == CHUNK {
            self.room.remove(c);
        }
        self.len += 1;
        Ok(((c << CHUNK_BITS) | n) as u32)
    }

    /// Frees the live node at `i` and returns what it held; `None` if it is not live.
    pub(super) fn remove(&mut self, i: u32) -> Option<Live<T>> {
        self.remove_if(i, |_| true)
    }

    /// Frees the live node at `i` if `take` says so of it, and returns what it held.
    #[inline]
    pub(super) fn remove_if(&mut self, i: u32, take: impl FnOnce(&Live<T>) -> bool) -> Option<Live<T>> {
        let (c, n) = split(i);
        let chunk = self.chunks.get_mut(c)?;
        let block = chunk.block.as_deref_mut()?;
        if !take(block[n].live.as_ref()?) {
            return None;
        }
        let live = block[n].live.take()?;
        block[n].next = chunk.free;
        chunk.free = n as u32;
        if chunk.live as usize == CHUNK {
            self.room.insert(c);
        }
        chunk.live -= 1;
        self.len -= 1;
        if chunk.live == 0 {
            let block = chunk.block.take();
            chunk.fresh = 0;
            chunk.free = NIL;
            if self.spare.is_none() {
                self.spare = block;
            }
            self.trim();
        }
        Some(live)
    }

    /// Drops empty chunks from the end of the table, and shrinks the table.
    fn trim(&mut self) {
        while self.chunks.last().is_some_and(|c| c.block.is_none()) {
            self.chunks.pop();
            self.room.remove(self.chunks.len());
        }
        self.room.fit(self.chunks.len());
        if self.chunks.capacity() > 4 * self.chunks.len().max(16) {
            self.chunks.shrink_to(2 * self.chunks.len());
        }
    }

    /// Bytes of heap memory held: attached blocks, the spare, the table and the room set.
    pub(super) fn memory(&self) -> usize {
        let blocks = self.chunks.iter().filter(|c| c.block.is_some()).count() + usize::from(self.spare.is_some());
        blocks * size_of::<[Node<T>; CHUNK]>() + self.chunks.capacity() * size_of::<Chunk<T>>() + self.room.memory()
    }

    /// Every live node's index, chunk by chunk (tests and invariant checks).
    #[cfg(test)]
    pub(super) fn live_indices(&self) -> Vec<u32> {
        let mut out = Vec::new();
        for (c, chunk) in self.chunks.iter().enumerate() {
            if let Some(block) = &chunk.block {
                for (n, node) in block.iter().enumerate() {
                    if node.live.is_some() {
                        out.push(((c << CHUNK_BITS) | n) as u32);
                    }
                }
            }
        }
        out
    }
}

/// A block of free nodes.
fn new_block<T>() -> Block<T> {
    Box::new(std::array::from_fn(|_| Node { live: None, next: NIL, prev: NIL }))
}
