//! The backends: one file per mechanism, each implementing one trait of `contract/`.
//!
//! A readiness backend implements [`Selector`](crate::contract::selector::Selector)
//! (`unix/epoll.rs`, `unix/poll.rs`, `unix/kqueue.rs`, `windows/afd.rs`); a completion backend
//! implements [`Driver`](crate::contract::driver::Driver) (`uring/`, `emulated/`,
//! `windows/iocp.rs`). [`AnySelector`](selector::AnySelector) and
//! [`AnyDriver`](driver::AnyDriver) are the run-time choice among those compiled for the
//! target. All `unsafe` code of the crate is in the leaf files under this module, and nothing
//! here names the models above (`reactor/`, `port/`, `op/`).

pub(crate) mod driver;
#[cfg(unix)]
pub(crate) mod emulated;
pub(crate) mod selector;
#[cfg(unix)]
pub(crate) mod unix;
#[cfg(uring)]
pub(crate) mod uring;
#[cfg(windows)]
pub(crate) mod windows;

// What the models above use of the backends' helpers, under one name on every platform.
#[cfg(unix)]
pub(crate) use unix::fd::{file_id, handle_kind, FileId};
#[cfg(unix)]
pub(crate) use unix::stream;
#[cfg(windows)]
pub(crate) use windows::identity::{file_id, handle_kind, FileId};
#[cfg(windows)]
pub(crate) use windows::stream;
