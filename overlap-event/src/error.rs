//! The event loop's error messages, in one place. Every public error is an `io::Error`.

use std::io::{Error, ErrorKind};

pub(crate) fn freed_event() -> Error {
    Error::new(ErrorKind::NotFound, "the event was freed (or belongs to a base that no longer exists)")
}
pub(crate) fn foreign_event() -> Error {
    Error::new(ErrorKind::InvalidInput, "the event belongs to another event base")
}
pub(crate) fn bad_flags(bits: u16) -> Error {
    Error::new(ErrorKind::InvalidInput, format!("unknown event flags {bits:#x}"))
}
pub(crate) fn signal_with_io() -> Error {
    Error::new(ErrorKind::InvalidInput, "a signal event cannot also watch READ, WRITE or CLOSED")
}
pub(crate) fn io_without_fd() -> Error {
    Error::new(ErrorKind::InvalidInput, "READ, WRITE and CLOSED need a descriptor")
}
pub(crate) fn et_mix(fd: i64) -> Error {
    Error::new(
        ErrorKind::InvalidInput,
        format!("descriptor {fd} has both edge-triggered (ET) and level-triggered events; libevent refuses that too"),
    )
}
pub(crate) fn unsupported(what: &str, backend: &str) -> Error {
    Error::new(ErrorKind::Unsupported, format!("{what} is not available on the {backend} backend"))
}
pub(crate) fn priority_range(p: usize, n: usize) -> Error {
    Error::new(ErrorKind::InvalidInput, format!("priority {p} is out of range: this base has {n} (0 to {})", n - 1))
}
pub(crate) fn priorities_count(n: usize, max: usize) -> Error {
    Error::new(ErrorKind::InvalidInput, format!("{n} priorities: a base has 1 to {max}"))
}
pub(crate) fn priority_while_active() -> Error {
    Error::new(ErrorKind::InvalidInput, "the priority of an active event cannot change (libevent refuses it too)")
}
pub(crate) fn reentrant() -> Error {
    Error::new(
        ErrorKind::WouldBlock,
        "the event base is already running (a loop was started from one of its callbacks)",
    )
}
pub(crate) fn no_backend(reasons: &str) -> Error {
    Error::new(ErrorKind::Unsupported, format!("no backend satisfies the configuration: {reasons}"))
}
pub(crate) fn too_many_events() -> Error {
    Error::new(ErrorKind::OutOfMemory, "a base holds at most 2^32 events at a time")
}
pub(crate) fn bad_signal(signo: i32) -> Error {
    Error::new(ErrorKind::InvalidInput, format!("signal number {signo} is out of range"))
}
pub(crate) fn timeout_overflow() -> Error {
    Error::new(
        ErrorKind::InvalidInput,
        "the timeout is too large for the clock (more than the monotonic clock can hold)",
    )
}
pub(crate) fn closed_fd(fd: i64, e: &Error) -> Error {
    Error::new(e.kind(), format!("descriptor {fd} cannot be watched: {e}"))
}

pub(crate) fn base_gone() -> Error {
    Error::new(ErrorKind::BrokenPipe, "the event base this handle reaches is gone")
}

pub(crate) fn freed() -> Error {
    Error::new(ErrorKind::NotFound, "the buffered event was freed")
}
pub(crate) fn busy() -> Error {
    Error::new(ErrorKind::WouldBlock, "the socket is in use by a system call")
}
pub(crate) fn bad_watermark(why: &str) -> Error {
    Error::new(ErrorKind::InvalidInput, why.to_owned())
}
pub(crate) fn zero_io_size() -> Error {
    Error::new(ErrorKind::InvalidInput, "a read or write size of 0 would never move a byte")
}
pub(crate) fn connecting() -> Error {
    Error::new(ErrorKind::InvalidInput, "a connect is already under way")
}
pub(crate) fn bad_host() -> Error {
    Error::new(ErrorKind::InvalidInput, "the host name is empty or holds a NUL")
}
pub(crate) fn no_address() -> Error {
    Error::new(ErrorKind::NotFound, "the host name resolved to no address")
}
pub(crate) fn resolve_timeout() -> Error {
    Error::new(ErrorKind::TimedOut, "the host name did not resolve in time")
}
pub(crate) fn listener_freed() -> Error {
    Error::new(ErrorKind::NotFound, "the listener was freed")
}
pub(crate) fn not_inet() -> Error {
    Error::new(ErrorKind::InvalidInput, "the socket's address is not an internet address")
}
pub(crate) fn not_a_socket(what: &str) -> Error {
    Error::new(
        ErrorKind::Unsupported,
        format!("{what} needs a buffered event on a socket (or a filter over one), not a pair"),
    )
}
pub(crate) fn bad_rate(why: &str) -> Error {
    Error::new(ErrorKind::InvalidInput, format!("rate limit refused: {why}"))
}
pub(crate) fn io_size_too_large(max: usize) -> Error {
    Error::new(ErrorKind::InvalidInput, format!("a read or write size over {max} bytes"))
}
pub(crate) fn unknown_engine(name: &str) -> Error {
    Error::new(ErrorKind::InvalidInput, format!("unknown engine {name:?}: readiness or completion"))
}
pub(crate) fn completion_needs_port(method: &str) -> Error {
    Error::new(
        ErrorKind::Unsupported,
        format!(
            "the completion engine needs a base that waits in a completion port \
             (EventConfig::port); this one waits in {method}"
        ),
    )
}
