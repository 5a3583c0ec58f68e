//! Every error message overlap makes up itself, in one place.
//!
//! OS errors pass through as `io::Error::from_raw_os_error` (converted in `sys/` only); these
//! are the errors for misuse and missing capabilities, each with a kind a caller can match on.

use std::fmt::{Debug, Display};
use std::io::{Error, ErrorKind};

pub(crate) fn reserved_token() -> Error {
    Error::new(ErrorKind::InvalidInput, "Token(usize::MAX) is reserved by the reactor")
}

pub(crate) fn empty_interest() -> Error {
    Error::new(ErrorKind::InvalidInput, "the interest is empty: ask for readable, writable, priority or read-closed")
}

pub(crate) fn zero_capacity() -> Error {
    Error::new(ErrorKind::InvalidInput, "ReadyEvents::with_capacity(0) can hold no event")
}

pub(crate) fn token_in_use(token: impl Debug) -> Error {
    Error::new(ErrorKind::AlreadyExists, format!("{token:?} is already registered with this reactor"))
}

pub(crate) fn fd_in_use(fd: impl Display) -> Error {
    Error::new(ErrorKind::AlreadyExists, format!("source {fd} is already registered with this reactor"))
}

pub(crate) fn not_registered(fd: impl Display) -> Error {
    Error::new(ErrorKind::NotFound, format!("source {fd} is not registered with this reactor"))
}

pub(crate) fn waker_exists() -> Error {
    Error::new(ErrorKind::AlreadyExists, "this reactor already has a waker; clone it instead")
}

pub(crate) fn not_open(fd: impl Display) -> Error {
    #[cfg(unix)]
    let what = "an open file descriptor (EBADF)";
    #[cfg(windows)]
    let what = "an open socket (WSAENOTSOCK)";
    Error::new(ErrorKind::InvalidInput, format!("source {fd} is not {what}"))
}

#[cfg_attr(not(epoll), allow(dead_code))]
pub(crate) fn not_pollable(backend: &str, fd: impl Display) -> Error {
    Error::new(
        ErrorKind::Unsupported,
        format!(
            "{backend} cannot watch source {fd}: regular files and directories are always ready \
             (EPERM); read them directly, use the poll backend, or a CompletionPort"
        ),
    )
}

pub(crate) fn trigger_unsupported(backend: &str, trigger: impl Debug) -> Error {
    Error::new(
        ErrorKind::Unsupported,
        format!(
            "the {backend} backend cannot do {trigger:?} triggering: it sees only levels (poll(2), \
             AFD), so edges would be lost or turn into levels; use Level or Oneshot, or epoll/kqueue"
        ),
    )
}

#[cfg_attr(windows, allow(dead_code))]
pub(crate) fn read_closed_unsupported(backend: &str) -> Error {
    Error::new(
        ErrorKind::Unsupported,
        format!("the {backend} backend cannot watch for the peer's close alone (READ_CLOSED); watch READABLE"),
    )
}

pub(crate) fn read_closed_op() -> Error {
    Error::new(
        ErrorKind::Unsupported,
        "READ_CLOSED is a Reactor interest; a PollReady op waits for READABLE, which the end of a stream satisfies",
    )
}

#[cfg_attr(not(kqueue), allow(dead_code))]
pub(crate) fn priority_unsupported(backend: &str) -> Error {
    Error::new(ErrorKind::Unsupported, format!("the {backend} backend cannot watch for priority data"))
}

pub(crate) fn unknown_backend(name: &str, known: &[&str]) -> Error {
    Error::new(ErrorKind::InvalidInput, format!("unknown backend {name:?}; known: {}", known.join(", ")))
}

pub(crate) fn backend_unavailable(backend: &str, why: &str) -> Error {
    Error::new(ErrorKind::Unsupported, format!("the {backend} backend is not available here: {why}"))
}

/// The payload of a cancelled op's error, so `is_cancelled` does not compare strings.
#[derive(Debug)]
struct Cancelled;

impl std::fmt::Display for Cancelled {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the operation was cancelled")
    }
}

impl std::error::Error for Cancelled {}

/// A cancelled op's error: kind `Interrupted`, message "the operation was cancelled".
pub(crate) fn cancelled() -> Error {
    Error::new(ErrorKind::Interrupted, Cancelled)
}

/// Whether `e` is a cancelled op's error.
pub(crate) fn is_cancelled(e: &Error) -> bool {
    e.get_ref().is_some_and(|inner| inner.is::<Cancelled>())
}

pub(crate) fn poll_only_handle() -> Error {
    Error::new(ErrorKind::InvalidInput, "the op's handle was associated for readiness waits (PollReady) alone")
}

pub(crate) fn foreign_handle() -> Error {
    Error::new(ErrorKind::InvalidInput, "the op's handle was associated with another completion port")
}

pub(crate) fn zero_max() -> Error {
    Error::new(ErrorKind::InvalidInput, "wait_many with max = 0 can return no completion")
}

pub(crate) fn wrong_thread() -> Error {
    Error::new(
        ErrorKind::InvalidInput,
        "this completion port was built single_thread: only the thread that built it may use it",
    )
}

pub(crate) fn foreign_op() -> Error {
    Error::new(ErrorKind::InvalidInput, "the op id was given by another completion port")
}

/// The payload of the error every call on a closed port returns.
#[derive(Debug)]
struct PortClosed;

impl std::fmt::Display for PortClosed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the completion port is closed")
    }
}

impl std::error::Error for PortClosed {}

/// What every call on a closed port returns: kind `BrokenPipe`, "the completion port is
/// closed".
pub(crate) fn port_closed() -> Error {
    Error::new(ErrorKind::BrokenPipe, PortClosed)
}

pub(crate) fn op_not_found() -> Error {
    Error::new(ErrorKind::NotFound, "no such op in flight: it completed already, or was never submitted here")
}

pub(crate) fn unknown_port_backend(name: &str, known: &[&str]) -> Error {
    Error::new(ErrorKind::InvalidInput, format!("unknown completion backend {name:?}; known: {}", known.join(", ")))
}

pub(crate) fn backend_unavailable_port(backend: &str, why: &str) -> Error {
    Error::new(ErrorKind::Unsupported, format!("the {backend} completion backend is not available here: {why}"))
}

#[cfg_attr(not(uring), allow(dead_code))]
pub(crate) fn uring_queue_full() -> Error {
    Error::new(
        ErrorKind::ResourceBusy,
        "the io_uring submission queue stayed full: the op was not submitted (too many submitters \
         at once while no thread waits on the port)",
    )
}

#[cfg_attr(not(windows), allow(dead_code))]
pub(crate) fn synchronous_handle() -> Error {
    Error::new(
        ErrorKind::InvalidInput,
        "the handle was opened for synchronous I/O: every call on it would block the submitting \
         thread; open it with FILE_FLAG_OVERLAPPED (OpenOptionsExt::custom_flags(0x40000000))",
    )
}

pub(crate) fn offset_too_large() -> Error {
    Error::new(ErrorKind::InvalidInput, "a file offset must be at most i64::MAX")
}

pub(crate) fn priority_unsupported_port(backend: &str) -> Error {
    Error::new(ErrorKind::Unsupported, format!("the {backend} completion backend cannot wait for priority data"))
}

pub(crate) fn signal_invalid(signo: i32) -> Error {
    Error::new(ErrorKind::InvalidInput, format!("{signo} is not a signal number on this system"))
}

#[cfg_attr(not(unix), allow(dead_code))]
pub(crate) fn signal_uncatchable(signo: i32, name: &str) -> Error {
    Error::new(
        ErrorKind::InvalidInput,
        format!("signal {signo} ({name}) cannot be caught: the kernel never lets a program handle SIGKILL or SIGSTOP"),
    )
}

#[cfg_attr(not(unix), allow(dead_code))]
pub(crate) fn signal_fault(signo: i32, name: &str) -> Error {
    Error::new(
        ErrorKind::InvalidInput,
        format!(
            "signal {signo} ({name}) is a synchronous fault: the faulting instruction runs again as soon as \
             the handler returns, before an event loop could see the signal, so the program would hang; \
             leave it to its default action"
        ),
    )
}

#[cfg_attr(not(unix), allow(dead_code))]
pub(crate) fn signal_receivers_full(limit: usize) -> Error {
    Error::new(
        ErrorKind::QuotaExceeded,
        format!(
            "at most {limit} SignalReceivers can be alive in a process at once (the signal handler's \
             table is fixed: a handler cannot allocate); drop one, or share one among event loops"
        ),
    )
}

#[cfg_attr(not(windows), allow(dead_code))]
pub(crate) fn signal_unsupported(signo: i32) -> Error {
    Error::new(
        ErrorKind::Unsupported,
        format!(
            "signal {signo} cannot be caught on Windows: only SIGINT (2, Ctrl+C) and SIGBREAK (21, \
             Ctrl+Break) arrive there, as console control events"
        ),
    )
}
