//! The backends, behind one internal trait per model.
//!
//! A readiness backend implements [`Selector`]; it lives in one file named by its mechanism
//! (`unix/epoll.rs`, `unix/poll.rs`, `unix/kqueue.rs`, `windows/afd.rs`); a completion backend
//! implements [`Driver`] (`uring/`, `emulated/`, `windows/iocp.rs`). All `unsafe` code of the crate is in the
//! leaf files under this module. [`AnySelector`] is the run-time choice among the backends
//! compiled for the target: an enum, so calls are a match, not a virtual call.
//!
//! The contract every `Selector` keeps:
//! - `register` adds a source under a token; the source is already known to be open and not
//!   registered with this selector (the reactor's registration table checks that first);
//! - `reregister` replaces interest, trigger and token of a registered source and re-arms a
//!   oneshot registration; `NotFound` if the kernel no longer knows the source;
//! - `deregister` removes a source; no event for it is reported by a `select` that *starts*
//!   afterwards;
//! - `select` waits at most `timeout` (rounded **up** to the backend's resolution; `None` waits
//!   for ever), appends at most `max` events and says whether the internal notifier fired; it
//!   may return early and empty (a signal, a notification), which the reactor turns into a
//!   longer wait, so callers never see an early timeout;
//! - `notify` makes a blocked `select` (or the next one) return; many notifies may coalesce.

use std::io;
use std::time::Duration;

use crate::{Interest, ReadyEvent, Token, Trigger};

#[cfg(unix)]
pub(crate) mod emulated;
mod timers;
#[cfg(unix)]
pub(crate) mod unix;
#[cfg(uring)]
pub(crate) mod uring;
#[cfg(windows)]
pub(crate) mod windows;

#[cfg(unix)]
pub(crate) use unix::{
    drains_on_short_read, file_id, is_regular_file, set_nonblocking, FileId, OwnedSocket, OwnedSource, RawSource,
    SockAddrBuf,
};
#[cfg(windows)]
pub(crate) use windows::{file_id, FileId, OwnedSocket, OwnedSource, RawSource, SockAddrBuf};

pub(crate) use timers::Timers;

/// A readiness backend (see the module docs for the contract).
pub(crate) trait Selector: Send + Sync + Sized {
    /// Opens the kernel object(s) behind the backend.
    fn new() -> io::Result<Self>;
    /// Starts watching `source`.
    fn register(&self, source: RawSource, token: Token, interest: Interest, trigger: Trigger) -> io::Result<()>;
    /// Changes what `source` is watched for, and re-arms it.
    fn reregister(&self, source: RawSource, token: Token, interest: Interest, trigger: Trigger) -> io::Result<()>;
    /// Stops watching `source`.
    fn deregister(&self, source: RawSource) -> io::Result<()>;
    /// Waits for readiness; returns whether the notifier fired.
    fn select(&self, out: &mut Vec<ReadyEvent>, max: usize, timeout: Option<Duration>) -> io::Result<bool>;
    /// Wakes a blocked (or the next) `select`.
    fn notify(&self) -> io::Result<()>;
}

/// The backend chosen at run time.
#[derive(Debug)]
pub(crate) enum AnySelector {
    #[cfg(epoll)]
    Epoll(unix::epoll::Selector),
    #[cfg(kqueue)]
    Kqueue(unix::kqueue::Selector),
    #[cfg(poll_backend)]
    Poll(unix::poll::Selector),
    #[cfg(windows)]
    Afd(windows::afd::Selector),
}

/// Forwards a call to whichever backend `self` holds.
macro_rules! dispatch {
    ($self:ident, $s:ident => $call:expr) => {
        match $self {
            #[cfg(epoll)]
            AnySelector::Epoll($s) => $call,
            #[cfg(kqueue)]
            AnySelector::Kqueue($s) => $call,
            #[cfg(poll_backend)]
            AnySelector::Poll($s) => $call,
            #[cfg(windows)]
            AnySelector::Afd($s) => $call,
        }
    };
}

impl AnySelector {
    /// Opens `backend`, or says why it cannot be had here.
    pub(crate) fn open(backend: crate::ReactorBackend) -> io::Result<AnySelector> {
        use crate::ReactorBackend;
        match backend {
            #[cfg(epoll)]
            ReactorBackend::Epoll => Ok(AnySelector::Epoll(Selector::new()?)),
            #[cfg(kqueue)]
            ReactorBackend::Kqueue => Ok(AnySelector::Kqueue(Selector::new()?)),
            #[cfg(poll_backend)]
            ReactorBackend::Poll => Ok(AnySelector::Poll(Selector::new()?)),
            #[cfg(windows)]
            ReactorBackend::Afd => Ok(AnySelector::Afd(Selector::new()?)),
            #[allow(unreachable_patterns)]
            other => Err(crate::error::backend_unavailable(other, other.not_here_reason())),
        }
    }

    pub(crate) fn register(&self, fd: RawSource, t: Token, i: Interest, tr: Trigger) -> io::Result<()> {
        dispatch!(self, s => s.register(fd, t, i, tr))
    }
    pub(crate) fn reregister(&self, fd: RawSource, t: Token, i: Interest, tr: Trigger) -> io::Result<()> {
        dispatch!(self, s => s.reregister(fd, t, i, tr))
    }
    pub(crate) fn deregister(&self, fd: RawSource) -> io::Result<()> {
        dispatch!(self, s => s.deregister(fd))
    }
    pub(crate) fn select(&self, out: &mut Vec<ReadyEvent>, max: usize, timeout: Option<Duration>) -> io::Result<bool> {
        dispatch!(self, s => s.select(out, max, timeout))
    }
    pub(crate) fn notify(&self) -> io::Result<()> {
        dispatch!(self, s => s.notify())
    }
    /// Whether the selector supports [`Trigger::Edge`] (epoll, kqueue).
    #[cfg(unix)]
    pub(crate) fn edge_triggers(&self) -> bool {
        match self {
            #[cfg(poll_backend)]
            AnySelector::Poll(_) => false,
            #[allow(unreachable_patterns)]
            _ => true,
        }
    }
}

/// A completion backend: runs ops and pushes their completions into the port's queue.
///
/// - `attach`/`detach`: a handle joins the port / its last clone is gone (cancel what is
///   parked on it, forget the descriptor);
/// - `submit` never fails by itself: an op that cannot run completes with its error; with
///   `defer`, the driver may keep the op from the kernel until the next `flush` or `poll`
///   (io_uring: one `io_uring_enter` for a batch; the others start it at once);
/// - `cancel`: the op completes (later, or before returning) with the cancelled error, exactly
///   once; `NotFound` if it is no longer in flight;
/// - `poll`: only the port's leader calls it, waiting at most `timeout`; it may return early;
/// - `notify`: makes a blocked `poll` return.
pub(crate) trait Driver: Send + Sync {
    fn attach(&self, source: &OwnedSource, regular_file: bool) -> io::Result<()>;
    fn detach(&self, fd: RawSource);
    fn submit(&self, op: crate::port::Pending, defer: bool);
    /// Hands the kernel what `submit` deferred.
    fn flush(&self) {}
    fn cancel(&self, id: crate::OpId) -> io::Result<()>;
    fn poll(&self, timeout: Option<Duration>) -> io::Result<()>;
    fn notify(&self) -> io::Result<()>;
}

/// The completion backend chosen at run time. One per port, made once and never moved
/// after: the size of the largest variant (the io_uring driver, with its ring) costs nothing.
#[allow(clippy::large_enum_variant)]
pub(crate) enum AnyDriver {
    #[cfg(uring)]
    Uring(uring::Driver),
    #[cfg(unix)]
    Emulated(emulated::Driver),
    #[cfg(windows)]
    Iocp(windows::iocp::Driver),
}

/// Forwards a call to whichever driver `self` holds.
macro_rules! drive {
    ($self:ident, $d:ident => $call:expr) => {
        match $self {
            #[cfg(uring)]
            AnyDriver::Uring($d) => $call,
            #[cfg(unix)]
            AnyDriver::Emulated($d) => $call,
            #[cfg(windows)]
            AnyDriver::Iocp($d) => $call,
        }
    };
}

impl Driver for AnyDriver {
    fn attach(&self, source: &OwnedSource, regular_file: bool) -> io::Result<()> {
        drive!(self, d => d.attach(source, regular_file))
    }
    fn detach(&self, fd: RawSource) {
        drive!(self, d => d.detach(fd))
    }
    fn submit(&self, op: crate::port::Pending, defer: bool) {
        drive!(self, d => d.submit(op, defer))
    }
    fn flush(&self) {
        drive!(self, d => d.flush())
    }
    fn cancel(&self, id: crate::OpId) -> io::Result<()> {
        drive!(self, d => d.cancel(id))
    }
    fn poll(&self, timeout: Option<Duration>) -> io::Result<()> {
        drive!(self, d => d.poll(timeout))
    }
    fn notify(&self) -> io::Result<()> {
        drive!(self, d => d.notify())
    }
}
