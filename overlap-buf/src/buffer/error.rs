//! Every error a [`Buffer`](super::Buffer) returns, with its message, in one place.
//!
//! | error | kind | when |
//! |---|---|---|
//! | [`frozen_front`] | `PermissionDenied` | drain, remove, prepend, pop, readln on a frozen front |
//! | [`frozen_end`] | `PermissionDenied` | add, reserve, commit on a frozen end |
//! | [`out_of_memory`] | `OutOfMemory` | an allocation failed or its size overflowed |
//! | [`no_callback`] | `NotFound` | an unknown or removed [`CallbackId`](super::CallbackId) |
//! | [`line_too_long`] | `InvalidData` | `readln_max` found no end of line within its limit |

use std::io::{Error, ErrorKind};

/// The front of the buffer is frozen: nothing may be taken from it or put before it.
pub(crate) fn frozen_front() -> Error {
    Error::new(ErrorKind::PermissionDenied, "buffer: the front is frozen")
}

/// The end of the buffer is frozen: nothing may be added to it.
pub(crate) fn frozen_end() -> Error {
    Error::new(ErrorKind::PermissionDenied, "buffer: the end is frozen")
}

/// An allocation failed, or the size asked for does not fit in memory at all.
pub(crate) fn out_of_memory() -> Error {
    Error::new(ErrorKind::OutOfMemory, "buffer: out of memory (allocation failed or size too large)")
}

/// The callback id is unknown to this buffer (never added here, or removed).
pub(crate) fn no_callback() -> Error {
    Error::new(ErrorKind::NotFound, "buffer: no such callback")
}

/// A line longer than the limit, with no end of line in sight.
pub(crate) fn line_too_long() -> Error {
    Error::new(ErrorKind::InvalidData, "buffer: line longer than the limit")
}
