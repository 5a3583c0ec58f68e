//! `Shared`: the state a reactor, its registries and its waker share.

use std::sync::atomic::AtomicUsize;
use std::sync::{Mutex, MutexGuard};

use super::backend::ReactorBackend;
use super::registrations::Table;
use crate::sys::selector::AnySelector;

/// State shared by a reactor, its registries and its waker.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) selector: AnySelector,
    pub(crate) backend: ReactorBackend,
    pub(crate) table: Mutex<Table>,
    /// A wake not yet reported: 0 for none, else the waker's token + 1 (the reserved token
    /// `usize::MAX` is never a waker's, so this cannot overflow). Set by `Waker::wake`,
    /// taken by the poll that reports it; it carries its token so that a wake made just
    /// before the last waker clone is dropped is still reported.
    pub(crate) wake: AtomicUsize,
}

impl Shared {
    pub(crate) fn table(&self) -> MutexGuard<'_, Table> {
        // The table is updated only after the backend call succeeded, so a panic elsewhere
        // cannot leave it half-written: poisoning carries no information here.
        self.table.lock().unwrap_or_else(|p| p.into_inner())
    }
}
