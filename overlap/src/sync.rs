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

/// The id of the calling thread (a loom model thread's own id under `cfg(loom)`).
pub(crate) fn current_thread() -> ThreadId {
    #[cfg(loom)]
    return loom::thread::current().id();
    #[cfg(not(loom))]
    return std::thread::current().id();
}
