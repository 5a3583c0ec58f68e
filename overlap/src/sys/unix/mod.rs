//! Unix backends: epoll (Linux), kqueue (BSD, Apple), poll (every Unix).

#[cfg(epoll)]
pub(crate) mod epoll;
mod fd;
#[cfg(kqueue)]
pub(crate) mod kqueue;
mod notifier;
#[cfg(poll_backend)]
pub(crate) mod poll;

pub(crate) use fd::{file_id, FileId, RawSource};
