//! The synchronisation primitives of the cross-thread parts, swapped for loom's under
//! `cfg(loom)` so that the loom models explore their interleavings.

#[cfg(loom)]
pub(crate) use loom::sync::{Condvar, Mutex, MutexGuard};
#[cfg(not(loom))]
pub(crate) use std::sync::{Condvar, Mutex, MutexGuard};
