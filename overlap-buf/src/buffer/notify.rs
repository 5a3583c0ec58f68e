//! The callback calls of a [`Buffer`](super::Buffer): add, remove, enable, and the run after
//! every change of length (the list itself is in `callbacks.rs`).

use std::io;
use std::sync::atomic::Ordering;

use super::callbacks::{CallbackId, CbInfo, Entry, NEXT_ID};
use super::chain::Buffer;
use super::error;

impl Buffer {
    /// Adds a callback that runs after every change of length (not when nothing changed), with
    /// the length before, the bytes added and the bytes drained. It starts enabled.
    pub fn add_callback<F: FnMut(&CbInfo) + 'static>(&mut self, f: F) -> CallbackId {
        let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
        let cbs = self.callbacks.get_or_insert_with(Box::default);
        cbs.list.reserve_exact(1); // most buffers have one or two: no room for four
        cbs.list.push(Entry { id, enabled: true, f: Box::new(f) });
        CallbackId(id)
    }

    /// Removes a callback (dropping its closure); `NotFound` for an unknown or removed id.
    pub fn remove_callback(&mut self, id: CallbackId) -> io::Result<()> {
        let cbs = self.callbacks.as_deref_mut().ok_or_else(error::no_callback)?;
        let i = cbs.find(id)?;
        cbs.list.remove(i);
        if cbs.list.is_empty() {
            self.callbacks = None;
        }
        Ok(())
    }

    /// Enables or disables a callback (a disabled one is kept but not run); `NotFound` for an
    /// unknown or removed id.
    pub fn set_callback_enabled(&mut self, id: CallbackId, on: bool) -> io::Result<()> {
        let cbs = self.callbacks.as_deref_mut().ok_or_else(error::no_callback)?;
        let i = cbs.find(id)?;
        cbs.list[i].enabled = on;
        Ok(())
    }

    /// Runs the callbacks for a change (none when nothing changed or none is set).
    #[inline]
    pub(super) fn notify(&mut self, orig_len: usize, added: usize, drained: usize) {
        if let Some(cbs) = self.callbacks.as_deref_mut() {
            if added != 0 || drained != 0 {
                cbs.run(&CbInfo { orig_len, added, drained });
            }
        }
    }
}
