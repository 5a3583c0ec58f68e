//! `Waker`: wakes a blocked `poll` from any thread.

use std::io;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use super::registry::Registry;
use super::shared::Shared;
use crate::contract::token::Token;

/// Wakes a [`Reactor`](crate::Reactor)'s `poll` from any thread; `Clone + Send + Sync`.
///
/// A wake shows up as one readable event with the waker's token. Wakes are never lost: one made
/// before the poll starts is reported by it. Many wakes before a poll reports them coalesce into
/// one event, and only the first of them makes a system call.
///
/// A reactor has at most one waker (clone it to share it); its token is reserved while any
/// clone lives.
#[derive(Debug, Clone)]
pub struct Waker {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    shared: Arc<Shared>,
    token: Token,
}

impl Waker {
    /// Creates the reactor's waker, reporting under `token`.
    ///
    /// # Errors
    ///
    /// `AlreadyExists` if the reactor has a waker or `token` is registered; `InvalidInput` for
    /// the reserved token.
    pub fn new(registry: &Registry, token: Token) -> io::Result<Waker> {
        let shared = registry.shared.clone();
        shared.table().add_waker(&shared.selector, token)?;
        Ok(Waker { inner: Arc::new(Inner { shared, token }) })
    }

    /// Wakes the reactor's current or next `poll`.
    pub fn wake(&self) -> io::Result<()> {
        let shared = &self.inner.shared;
        if shared.wake.swap(self.inner.token.0 + 1, Ordering::AcqRel) != 0 {
            return Ok(()); // already pending: the poll that reports it is woken already
        }
        shared.selector.notify().inspect_err(|_| shared.wake.store(0, Ordering::Release))
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        // A wake still pending is reported all the same (it carries the token).
        self.shared.table().remove_waker();
    }
}
