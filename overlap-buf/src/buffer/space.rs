//! [`Space`]: room reserved for a read, owned by whoever fills it.
//!
//! ```text
//!   Buffer::reserve(n) ──► Space (heap, ≥ n bytes, not zero-filled)
//!                          ┌───────────────┬──────────────────────────┐
//!                          │ written (len) │ room (uninitialised)     │
//!                          └───────────────┴──────────────────────────┘
//!                          0              len                     capacity
//!   a recv writes at buf_mut_ptr() + len, then set_buf_len(len + n)
//!   Buffer::commit(space) ──► the written bytes join the buffer's end
//! ```
//!
//! A `Space` is a `Vec<u8>` underneath: moving it does not move its bytes, so a completion-model
//! receive may own it while the kernel writes into it.
#![allow(unsafe_code)]

use std::fmt;
use std::mem::MaybeUninit;

use crate::io_buf::{IoBuf, IoBufMut};

/// Reserved room for a read, from [`Buffer::reserve`](super::Buffer::reserve); give it back
/// with [`Buffer::commit`](super::Buffer::commit).
///
/// Its length counts the bytes written so far (0 when reserved); its capacity is the room.
/// It is an [`IoBufMut`]: a receive writes at `buf_mut_ptr() + buf_len()` and then calls
/// `set_buf_len`. The memory is **not** zero-filled.
pub struct Space {
    vec: Vec<u8>,
    /// The most the room may hold ([`limit`](Space::limit)); the allocation's size otherwise.
    cap: usize,
}

impl Space {
    /// Wraps an allocation, emptied (its capacity is the room).
    pub(super) fn from_vec(mut vec: Vec<u8>) -> Space {
        vec.clear();
        let cap = vec.capacity();
        Space { vec, cap }
    }

    /// The allocation with the written bytes.
    pub(super) fn into_vec(self) -> Vec<u8> {
        self.vec
    }

    /// How many bytes have been written.
    #[inline]
    pub fn len(&self) -> usize {
        self.vec.len()
    }

    /// Whether nothing has been written yet.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.vec.is_empty()
    }

    /// How many bytes the room holds in all (written or not).
    #[inline]
    pub fn capacity(&self) -> usize {
        self.cap
    }

    /// Holds the room to `n` bytes in all (written or not; no less than what is written
    /// already): a receive into it asks for no more, whatever the allocation's size (what a
    /// read under a high watermark or a rate limit wants). It never grows the room.
    pub fn limit(&mut self, n: usize) {
        self.cap = n.clamp(self.vec.len(), self.vec.capacity());
    }

    /// The bytes written so far.
    #[inline]
    pub fn filled(&self) -> &[u8] {
        &self.vec
    }

    /// The room not yet written, to fill before [`set_len`](Self::set_len).
    #[inline]
    pub fn spare_capacity_mut(&mut self) -> &mut [MaybeUninit<u8>] {
        let room = self.cap - self.vec.len();
        &mut self.vec.spare_capacity_mut()[..room]
    }

    /// Copies as much of `data` as the room holds (never reallocates); returns how much.
    #[inline]
    pub fn extend_from_slice(&mut self, data: &[u8]) -> usize {
        let n = data.len().min(self.cap - self.vec.len());
        self.vec.extend_from_slice(&data[..n]);
        n
    }

    /// Forgets the written bytes, keeping the room.
    pub fn clear(&mut self) {
        self.vec.clear();
    }

    /// Marks the first `len` bytes as written.
    ///
    /// # Safety
    ///
    /// `len <= capacity()`, and the first `len` bytes have been written (through
    /// [`spare_capacity_mut`](Self::spare_capacity_mut) or `buf_mut_ptr`).
    pub unsafe fn set_len(&mut self, len: usize) {
        // SAFETY: forwarded from the caller.
        unsafe { self.vec.set_len(len) }
    }
}

impl fmt::Debug for Space {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Space").field("len", &self.len()).field("capacity", &self.capacity()).finish()
    }
}

// SAFETY: the bytes are a `Vec<u8>`'s heap buffer, which moving the `Space` does not move;
// `as_ptr` and `len` describe it exactly, and `cap` is never more than its capacity.
unsafe impl IoBuf for Space {
    fn buf_ptr(&self) -> *const u8 {
        self.vec.as_ptr()
    }
    fn buf_len(&self) -> usize {
        self.vec.len()
    }
    fn buf_capacity(&self) -> usize {
        self.cap
    }
}

// SAFETY: `as_mut_ptr` is the same allocation as `as_ptr`, writable for `capacity` bytes, and
// `set_buf_len` sets the `Vec`'s length, under the caller's promise.
unsafe impl IoBufMut for Space {
    fn buf_mut_ptr(&mut self) -> *mut u8 {
        self.vec.as_mut_ptr()
    }
    unsafe fn set_buf_len(&mut self, len: usize) {
        debug_assert!(len <= self.cap);
        // SAFETY: the caller promises `len <= capacity` and that those bytes are written.
        unsafe { self.vec.set_len(len) }
    }
}
