//! [`Block`]: one owned chunk of a [`Buffer`](super::Buffer)'s bytes.
//!
//! A block is either **owned** bytes in a `Vec<u8>` or a **reference**: a caller's value `T`
//! (`T: AsRef<[u8]>`) kept, untouched, until the block lets it go, then handed to its release
//! function. Both look the same from outside: the live bytes, after a `start` offset that
//! drains (and [`Block::advance`]) move forward.
//!
//! ```text
//!  owned:      Vec<u8> allocation
//!              ┌──────────────┬─────────────────────┬──────────────┐
//!              │ drained      │ live bytes          │ room         │
//!              └──────────────┴─────────────────────┴──────────────┘
//!              0            start              vec.len()     vec.capacity()
//!              (prepend may write back into it)       (add / commit copy into it)
//!
//!  reference:  heap box (fixed address, never touched until drop)
//!              ┌─────────────────────────────┐       ┌────────────────────────────┐
//!              │ Owner { data: T, release: F }│──────►│ bytes of data.as_ref()     │
//!              └─────────────────────────────┘ ptr,len└────────────────────────────┘
//!                                                      0   start          len
//! ```
//!
//! The slice of a reference is taken **once**, when the block is made, and never asked of `T`
//! again, so a `T` whose `as_ref` changes its answer cannot break the buffer's bookkeeping.
//! Dropping the block drops the owner box, whose `Drop` calls `release(data)` exactly once.
#![allow(unsafe_code)]

use std::fmt;
use std::ptr::NonNull;

use crate::io_buf::IoBuf;

/// One owned chunk of bytes: what [`Buffer::pop_block`](super::Buffer::pop_block) hands out
/// and a completion-model send carries.
///
/// Its bytes stay at the same address when the block is moved, and stay valid until it is
/// dropped, so it is a sound [`IoBuf`]. A block made from a reference releases the reference
/// (runs its release function) when it is dropped.
pub struct Block {
    start: usize,
    data: Data,
}

enum Data {
    Owned(Vec<u8>),
    Shared(Shared),
}

/// A caller's value `T` behind a raw heap pointer, and the bytes it lent.
///
/// Invariants: `owner` came from `Box::into_raw` of a `Box<Owner<T, F>>` and is freed only by
/// `Shared::drop`; `ptr`/`len` are the slice `T::as_ref` returned for the boxed value (or an
/// empty dangling slice before that call returned), and nothing writes to the box until drop.
struct Shared {
    owner: NonNull<dyn Send>,
    ptr: NonNull<u8>,
    len: usize,
}

/// The boxed value of a reference block and its release function.
struct Owner<T, F: FnOnce(T)> {
    data: Option<T>,
    release: Option<F>,
}

impl<T, F: FnOnce(T)> Drop for Owner<T, F> {
    fn drop(&mut self) {
        if let (Some(data), Some(release)) = (self.data.take(), self.release.take()) {
            release(data);
        }
    }
}

impl Shared {
    fn new<T, F>(data: T, release: F) -> Shared
    where
        T: AsRef<[u8]> + Send + 'static,
        F: FnOnce(T) + Send + 'static,
    {
        let raw: *mut Owner<T, F> = Box::into_raw(Box::new(Owner { data: Some(data), release: Some(release) }));
        // SAFETY: `Box::into_raw` never returns null.
        let owner: NonNull<dyn Send> = unsafe { NonNull::new_unchecked(raw) };
        // From here on `shared` owns the box: if `as_ref` below panics, dropping `shared`
        // frees the box and releases `data`.
        let mut shared = Shared { owner, ptr: NonNull::dangling(), len: 0 };
        // The shared reference taken here is the only kind of access the box gets until
        // `Shared::drop`, so the slice borrowed from it stays valid (see `as_slice`).
        // SAFETY: `raw` is valid and initialised (it came from `Box::into_raw`), and nothing
        // holds a mutable reference to it.
        let owner_ref: &Owner<T, F> = unsafe { &*raw };
        let bytes: &[u8] = match &owner_ref.data {
            Some(d) => d.as_ref(),
            None => &[],
        };
        shared.ptr = NonNull::from(bytes).cast::<u8>();
        shared.len = bytes.len();
        shared
    }

    fn as_slice(&self) -> &[u8] {
        // `ptr`/`len` is the slice `T::as_ref` returned from a shared borrow of the boxed `T`
        // (or an empty dangling slice). In safe code `as_ref` can only lend bytes the `T` owns
        // (at its fixed heap address, or in its own heap memory), bytes it keeps alive
        // immutably (an `Arc<[u8]>`), or `'static` bytes. The `T` sits in a heap box reached
        // only through the raw `owner` pointer (never retagged by moves, unlike a `Box`).
        // SAFETY: that borrow's bytes stay valid while the `T` is neither moved, mutated nor
        // dropped; it is never accessed mutably and is dropped only in `Shared::drop`, after
        // which this slice is never used.
        unsafe { std::slice::from_raw_parts(self.ptr.as_ptr(), self.len) }
    }

    /// The bytes of the owner box (a zero-sized owner allocates nothing).
    fn heap_bytes(&self) -> usize {
        // SAFETY: `owner` is valid until `drop`; a shared borrow is the same kind of access
        // `new` made, so it disturbs nothing (see `as_slice`).
        std::mem::size_of_val(unsafe { self.owner.as_ref() })
    }
}

impl Drop for Shared {
    fn drop(&mut self) {
        // SAFETY: `owner` came from `Box::into_raw` (invariant) and this is the only place that
        // frees it; `Shared` is not `Clone`, so it runs once. The slice is not used after this.
        drop(unsafe { Box::from_raw(self.owner.as_ptr()) });
    }
}

// SAFETY: `Shared` owns its `T` and `F` exactly as a `Box<Owner<T, F>>` would, and both are
// `Send` (required by `Shared::new`), so moving it to another thread moves their ownership. The
// lent bytes are only read, through `&self`, and are either owned by the `T` (moving with it),
// kept alive immutably by it, or `'static`.
unsafe impl Send for Shared {}

impl Block {
    /// A block lending `data`'s bytes without copying; `release(data)` runs when the block is
    /// dropped.
    pub(super) fn reference<T, F>(data: T, release: F) -> Block
    where
        T: AsRef<[u8]> + Send + 'static,
        F: FnOnce(T) + Send + 'static,
    {
        Block { start: 0, data: Data::Shared(Shared::new(data, release)) }
    }

    /// How many bytes the block holds.
    #[inline]
    pub fn len(&self) -> usize {
        match &self.data {
            Data::Owned(v) => v.len() - self.start,
            Data::Shared(s) => s.len - self.start,
        }
    }

    /// Whether the block holds no bytes.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The block's bytes.
    #[inline]
    pub fn as_slice(&self) -> &[u8] {
        match &self.data {
            Data::Owned(v) => v.get(self.start..).unwrap_or_default(),
            Data::Shared(s) => s.as_slice().get(self.start..).unwrap_or_default(),
        }
    }

    /// Drops the first `n` bytes (all of them if `n` is larger): what a partial send does
    /// before the rest goes back with [`Buffer::push_front_block`](super::Buffer::push_front_block).
    #[inline]
    pub fn advance(&mut self, n: usize) {
        self.start += n.min(self.len());
    }

    /// Room after the bytes that [`append_within`](Self::append_within) can fill without
    /// reallocating (0 for a reference).
    #[inline]
    pub(super) fn room(&self) -> usize {
        match &self.data {
            Data::Owned(v) => v.capacity() - v.len(),
            Data::Shared(_) => 0,
        }
    }

    /// The room at the end, after moving the bytes to the front of the allocation first when
    /// that makes `wanted` bytes fit and costs a small move (the bytes fill at most half).
    pub(super) fn make_room(&mut self, wanted: usize) -> usize {
        if let Data::Owned(v) = &mut self.data {
            let live = v.len() - self.start;
            let room = v.capacity() - v.len();
            if room < wanted && self.start > 0 && live <= v.capacity() / 2 {
                v.drain(..self.start);
                self.start = 0;
            }
        }
        self.room()
    }

    /// Copies as much of `data` as fits into the room at the end; returns how much.
    #[inline]
    pub(super) fn append_within(&mut self, data: &[u8]) -> usize {
        match &mut self.data {
            Data::Owned(v) => {
                let n = data.len().min(v.capacity() - v.len());
                v.extend_from_slice(&data[..n]);
                n
            }
            Data::Shared(_) => 0,
        }
    }

    /// Copies `data` into the drained room before the bytes, if all of it fits.
    pub(super) fn prepend_within(&mut self, data: &[u8]) -> bool {
        match &mut self.data {
            Data::Owned(v) if self.start >= data.len() => {
                let at = self.start - data.len();
                v[at..self.start].copy_from_slice(data);
                self.start = at;
                true
            }
            _ => false,
        }
    }

    /// The allocation's size for owned bytes (0 for a reference): sizes the next block.
    pub(super) fn capacity(&self) -> usize {
        match &self.data {
            Data::Owned(v) => v.capacity(),
            Data::Shared(_) => 0,
        }
    }

    /// Heap bytes this block holds: the allocation, or a reference's owner box.
    pub(super) fn heap_bytes(&self) -> usize {
        match &self.data {
            Data::Owned(v) => v.capacity(),
            Data::Shared(s) => s.heap_bytes(),
        }
    }

    /// The allocation of owned bytes, emptied, for reuse; a reference is released (dropped).
    pub(super) fn into_vec(self) -> Option<Vec<u8>> {
        match self.data {
            Data::Owned(mut v) => {
                v.clear();
                Some(v)
            }
            Data::Shared(_) => None,
        }
    }
}

impl From<Vec<u8>> for Block {
    /// Adopts the vector's bytes (no copy); its spare capacity is kept as room.
    fn from(v: Vec<u8>) -> Block {
        Block { start: 0, data: Data::Owned(v) }
    }
}

impl fmt::Debug for Block {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.data {
            Data::Owned(_) => "owned",
            Data::Shared(_) => "reference",
        };
        f.debug_struct("Block").field("len", &self.len()).field("kind", &kind).finish()
    }
}

// SAFETY: the bytes live in a heap allocation that moving the block does not move: a `Vec`'s
// buffer, or memory lent by a boxed `T` that stays put and alive until the block is dropped
// (see `Shared::as_slice`). `buf_ptr`/`buf_len` are exactly `as_slice`, and the capacity
// claimed is the length, which the allocation certainly holds. Only `&mut self` methods
// (`advance`, and the buffer's internal appends into an owned block's room) change them.
unsafe impl IoBuf for Block {
    fn buf_ptr(&self) -> *const u8 {
        self.as_slice().as_ptr()
    }
    fn buf_len(&self) -> usize {
        self.len()
    }
    fn buf_capacity(&self) -> usize {
        self.len()
    }
}
