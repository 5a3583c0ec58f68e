//! [`Selector`]: what a readiness backend does (epoll, kqueue, poll, AFD).

use std::io;
use std::time::Duration;

use super::interest::{Interest, Trigger};
use super::ready::ReadyEvent;
use super::source::RawSource;
use super::token::Token;

/// A readiness backend. It lives in one file named by its mechanism (`sys/unix/epoll.rs`,
/// `sys/unix/poll.rs`, `sys/unix/kqueue.rs`, `sys/windows/afd.rs`) and keeps this contract:
///
/// - `register` adds a source under a token; the source is already known to be open and not
///   registered with this selector (the reactor's registration table checks that first);
/// - `reregister` replaces interest, trigger and token of a registered source and re-arms a
///   oneshot registration; `NotFound` if the kernel no longer knows the source;
/// - `deregister` removes a source; no event for it is reported by a `select` that *starts*
///   afterwards;
/// - `select` waits at most `timeout` (rounded **up** to the backend's resolution; `None` waits
///   for ever), appends at most `max` events and says whether the internal notifier fired; it
///   may return early and empty (a signal, a notification), which the reactor turns into a
///   longer wait, so callers never see an early timeout. When more level-triggered sources are
///   ready than `max`, successive selects report different ones, so that each is reported
///   within ⌈ready / max⌉ selects;
/// - `notify` makes a blocked `select` (or the next one) return; many notifies may coalesce.
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
