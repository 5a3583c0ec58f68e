//! Unix backends: epoll (Linux), kqueue (BSD, Apple), poll (every Unix), and what they share:
//! descriptors, addresses, the wake-up descriptor, ops as system calls, and signal delivery.

pub(crate) mod addr;
#[cfg(epoll)]
pub(crate) mod epoll;
pub(crate) mod fd;
#[cfg(kqueue)]
pub(crate) mod kqueue;
pub(crate) mod notifier;
pub(crate) mod ops;
#[cfg(poll_backend)]
pub(crate) mod poll;
pub(crate) mod signal;
pub(crate) mod stream;
