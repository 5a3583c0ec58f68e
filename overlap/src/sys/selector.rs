//! [`AnySelector`]: the readiness backend chosen at run time, among those compiled for the
//! target. An enum, so calls are a match, not a virtual call.

use std::io;
use std::time::Duration;

use crate::contract::interest::{Interest, Trigger};
use crate::contract::ready::ReadyEvent;
use crate::contract::selector::Selector;
use crate::contract::source::RawSource;
use crate::contract::token::Token;

/// The backend chosen at run time.
#[derive(Debug)]
pub(crate) enum AnySelector {
    #[cfg(epoll)]
    Epoll(super::unix::epoll::Selector),
    #[cfg(kqueue)]
    Kqueue(super::unix::kqueue::Selector),
    #[cfg(poll_backend)]
    Poll(super::unix::poll::Selector),
    #[cfg(windows)]
    Afd(super::windows::afd::Selector),
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
