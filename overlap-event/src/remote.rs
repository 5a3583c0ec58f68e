//! `Remote`: what other threads leave for a base (messages of type `M`), and the flag the
//! loop checks once per iteration without taking a lock.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

/// Messages for the loop, and whether there are any.
pub(crate) struct Remote<M> {
    queue: Mutex<Vec<M>>,
    pending: AtomicBool,
}

impl<M> Remote<M> {
    /// Nothing left yet.
    pub(crate) fn new() -> Remote<M> {
        Remote { queue: Mutex::new(Vec::new()), pending: AtomicBool::new(false) }
    }
    /// Leaves `m`; true if the loop must be woken (nothing was pending before).
    pub(crate) fn push(&self, m: M) -> bool {
        self.queue.lock().unwrap_or_else(|p| p.into_inner()).push(m);
        !self.pending.swap(true, Ordering::AcqRel)
    }
    /// Takes what was left, if anything (no lock taken when nothing was).
    pub(crate) fn take(&self, out: &mut Vec<M>) {
        if !self.pending.load(Ordering::Acquire) {
            return;
        }
        self.pending.store(false, Ordering::Release);
        out.append(&mut self.queue.lock().unwrap_or_else(|p| p.into_inner()));
    }
}
