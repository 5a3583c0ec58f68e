//! Callbacks on a change of length (libevent's `evbuffer_add_cb`).
//!
//! Every operation that changes a buffer's length runs the enabled callbacks once, in the order
//! they were added, **after** the change, with a [`CbInfo`]: the length before, the bytes added
//! and the bytes drained. An operation that changes nothing runs none. A buffer with no
//! callback pays one pointer test per operation: the list lives in a box allocated with the
//! first callback.
//!
//! ```text
//!   Buffer.callbacks: None ──add_callback──► Some(Box<Vec<Entry { id, enabled, f }>>)
//! ```
//!
//! Ids come from one counter for the whole process, so an id from another buffer is never
//! mistaken for one of this buffer's.

use std::fmt;
use std::io;
use std::sync::atomic::AtomicU64;

use super::error;

/// What changed, as a callback sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CbInfo {
    /// The buffer's length before the change.
    pub orig_len: usize,
    /// Bytes added by the change.
    pub added: usize,
    /// Bytes drained by the change.
    pub drained: usize,
}

/// Names a callback of a buffer, to remove or disable it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CallbackId(pub(super) u64);

pub(super) static NEXT_ID: AtomicU64 = AtomicU64::new(1);

pub(super) struct Entry {
    pub(super) id: u64,
    pub(super) enabled: bool,
    pub(super) f: Box<dyn FnMut(&CbInfo)>,
}

/// A buffer's callbacks, in the order they were added.
#[derive(Default)]
pub(super) struct Callbacks {
    pub(super) list: Vec<Entry>,
}

impl Callbacks {
    pub(super) fn run(&mut self, info: &CbInfo) {
        for e in self.list.iter_mut().filter(|e| e.enabled) {
            (e.f)(info);
        }
    }

    pub(super) fn find(&mut self, id: CallbackId) -> io::Result<usize> {
        self.list.iter().position(|e| e.id == id.0).ok_or_else(error::no_callback)
    }

    /// Heap bytes: the box, the list and each closure.
    pub(super) fn heap_bytes(&self) -> usize {
        let closures: usize = self.list.iter().map(|e| std::mem::size_of_val(&*e.f)).sum();
        std::mem::size_of::<Callbacks>() + self.list.capacity() * std::mem::size_of::<Entry>() + closures
    }

    pub(super) fn len(&self) -> usize {
        self.list.len()
    }
}

impl fmt::Debug for Callbacks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Callbacks").field("count", &self.list.len()).finish()
    }
}
