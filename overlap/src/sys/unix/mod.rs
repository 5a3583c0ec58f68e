//! Unix backends: epoll (Linux), kqueue (BSD, Apple), poll (every Unix).

mod addr;
#[cfg(epoll)]
pub(crate) mod epoll;
mod fd;
#[cfg(kqueue)]
pub(crate) mod kqueue;
mod notifier;
pub(crate) mod ops;
#[cfg(poll_backend)]
pub(crate) mod poll;

pub(crate) use addr::SockAddrBuf;
pub(crate) use fd::{drains_on_short_read, file_id, is_regular_file, set_nonblocking, FileId, RawSource};

/// What a [`Handle`](crate::Handle) owns: a file descriptor.
pub(crate) type OwnedSource = std::os::fd::OwnedFd;
/// What an accept hands over.
pub(crate) type OwnedSocket = std::os::fd::OwnedFd;
