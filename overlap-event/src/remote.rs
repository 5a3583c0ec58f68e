//! `Remote`: what other threads leave for a base (messages of type `M`), the waker that tells
//! its loop, and the flag the loop checks once per iteration without taking a lock. When the
//! base goes, it closes its remote: what was left is dropped, later messages are refused, and
//! the waker (with the reactor it keeps open) goes with it.

use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard};

use crate::wait::Wake;

/// Messages for the loop, and whether there are any.
pub(crate) struct Remote<M> {
    state: Mutex<State<M>>,
    pending: AtomicBool,
}

/// What the lock guards.
struct State<M> {
    queue: Vec<M>,
    /// Wakes the loop; `None` once the base is gone.
    waker: Option<Wake>,
}

impl<M> Remote<M> {
    /// Nothing left yet; `waker` wakes the base's loop.
    pub(crate) fn new(waker: Wake) -> Remote<M> {
        Remote { state: Mutex::new(State { queue: Vec::new(), waker: Some(waker) }), pending: AtomicBool::new(false) }
    }

    fn lock(&self) -> MutexGuard<'_, State<M>> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Leaves `m` and wakes the loop if nothing was pending before; refused (and `m` dropped)
    /// once the base is gone.
    pub(crate) fn push(&self, m: M) -> io::Result<()> {
        let mut st = self.lock();
        if st.waker.is_none() {
            return Err(crate::error::base_gone());
        }
        st.queue.push(m);
        if !self.pending.swap(true, Ordering::AcqRel) {
            st.waker.as_ref().map_or(Ok(()), Wake::wake)?;
        }
        Ok(())
    }

    /// Takes what was left, if anything (no lock taken when nothing was).
    pub(crate) fn take(&self, out: &mut Vec<M>) {
        if !self.pending.load(Ordering::Acquire) {
            return;
        }
        self.pending.store(false, Ordering::Release);
        out.append(&mut self.lock().queue);
    }

    /// The base is gone: drops what was left and the waker, and refuses what comes.
    pub(crate) fn close(&self) {
        let (queue, waker) = {
            let mut st = self.lock();
            (std::mem::take(&mut st.queue), st.waker.take())
        };
        drop((queue, waker)); // outside the lock: a message's drop may take time
    }
}
