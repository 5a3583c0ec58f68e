//! The synchronisation primitives of the cross-thread parts, swapped for loom's under
//! `cfg(loom)` so that the loom models explore their interleavings (`.ci/loom`).
//!
//! Loom runs every thread of a model on one OS thread, so thread identity and thread-locals
//! come from here too: `std::thread::current().id()` would be the same for all of them.

#[cfg(loom)]
pub(crate) use loom::sync::{Condvar, Mutex, MutexGuard};
#[cfg(loom)]
pub(crate) use loom::thread::ThreadId;
#[cfg(loom)]
pub(crate) use loom::thread_local;
#[cfg(not(loom))]
pub(crate) use std::sync::{Condvar, Mutex, MutexGuard};
#[cfg(not(loom))]
pub(crate) use std::thread::ThreadId;
#[cfg(not(loom))]
pub(crate) use std::thread_local;

/// The id of the calling thread (a loom model thread's own id under `cfg(loom)`). Kept in a
/// thread-local: `std::thread::current()` clones the thread's handle (two atomic operations),
/// and a port asks on every submit and wait.
pub(crate) fn current_thread() -> ThreadId {
    #[cfg(loom)]
    return loom::thread::current().id();
    #[cfg(not(loom))]
    {
        std::thread_local! {
            static ID: ThreadId = std::thread::current().id();
        }
        // While the thread-locals are being torn down, ask the slow way.
        ID.try_with(|id| *id).unwrap_or_else(|_| std::thread::current().id())
    }
}
