//! `Handle`: a file or socket associated with a completion port.

use std::fmt;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::sync::{Arc, Weak};

/// A socket, pipe or file that joined a [`CompletionPort`](crate::CompletionPort) under a
/// completion key ([`CompletionPort::associate`](crate::CompletionPort::associate)).
///
/// The handle owns the descriptor; ops hold clones of it, so the descriptor stays open (and
/// its number cannot be reused by another file) while any op on it is in flight. It closes
/// when the last clone and the last op are gone.
#[derive(Clone)]
pub struct Handle {
    pub(crate) inner: Arc<HandleInner>,
}

pub(crate) struct HandleInner {
    pub(crate) fd: OwnedFd,
    pub(crate) key: usize,
    /// The port it belongs to.
    pub(crate) port: u64,
    /// A regular file: the emulation runs its I/O on a thread pool (epoll cannot watch it).
    pub(crate) regular_file: bool,
    /// The port, to tell it when the descriptor closes (weak: ops hold handles, the port holds
    /// ops).
    pub(crate) owner: Weak<super::PortShared>,
}

impl Drop for HandleInner {
    fn drop(&mut self) {
        let owner = std::mem::take(&mut self.owner);
        self.detach(&owner);
    }
}

impl Handle {
    /// The completion key it was associated with.
    pub fn key(&self) -> usize {
        self.inner.key
    }
}

impl AsFd for Handle {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.inner.fd.as_fd()
    }
}

impl AsRawFd for Handle {
    fn as_raw_fd(&self) -> RawFd {
        self.inner.fd.as_raw_fd()
    }
}

impl fmt::Debug for Handle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Handle").field("fd", &self.as_raw_fd()).field("key", &self.inner.key).finish()
    }
}
