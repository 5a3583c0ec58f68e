//! Waiting in a readiness backend: the base's `Reactor`, its registrations and its waker.

use std::io;
use std::time::Duration;

use overlap::{Interest, Reactor, ReactorBackend, ReadyEvents, SignalReceiver, Token, Trigger, Waker};

use super::ready::flags;
use crate::flags::Flags;
use crate::id::Fd;

/// A reactor and the buffer its polls fill.
pub(crate) struct ReactorWait {
    reactor: Reactor,
    ready: ReadyEvents,
}

impl ReactorWait {
    /// A reactor on `backend`.
    pub(crate) fn new(backend: ReactorBackend) -> io::Result<ReactorWait> {
        Ok(ReactorWait {
            reactor: Reactor::builder().backend(backend).build()?,
            ready: ReadyEvents::with_capacity(1024),
        })
    }

    pub(crate) fn backend(&self) -> ReactorBackend {
        self.reactor.backend()
    }

    /// A waker for other threads, under `token`.
    pub(crate) fn waker(&self, token: Token) -> io::Result<Waker> {
        Waker::new(self.reactor.registry(), token)
    }

    pub(crate) fn register(&mut self, fd: Fd, token: Token, interest: Interest, trigger: Trigger) -> io::Result<()> {
        self.reactor.registry().register(&source(fd), token, interest, trigger)
    }

    pub(crate) fn reregister(&mut self, fd: Fd, token: Token, interest: Interest, trigger: Trigger) -> io::Result<()> {
        self.reactor.registry().reregister(&source(fd), token, interest, trigger)
    }

    pub(crate) fn deregister(&mut self, fd: Fd) -> io::Result<()> {
        self.reactor.registry().deregister(&source(fd))
    }

    pub(crate) fn watch_signals(&mut self, rx: &SignalReceiver, token: Token) -> io::Result<()> {
        self.reactor.registry().register(rx, token, Interest::READABLE, Trigger::Level)
    }

    /// Waits at most `timeout`; what became ready goes to `out` as (token, flags).
    pub(crate) fn poll(&mut self, out: &mut Vec<(Token, Flags)>, timeout: Option<Duration>) -> io::Result<()> {
        self.reactor.poll(&mut self.ready, timeout)?;
        for e in self.ready.iter() {
            let what = flags(e.is_readable(), e.is_writable() || e.is_write_closed(), e.is_read_closed(), e.is_error());
            out.push((e.token(), what));
        }
        Ok(())
    }
}

/// `fd` as the reactor takes it.
#[cfg(unix)]
fn source(fd: Fd) -> overlap::SourceFd {
    overlap::SourceFd(fd)
}

/// `fd` as the reactor takes it.
#[cfg(windows)]
fn source(fd: Fd) -> overlap::SourceSocket {
    overlap::SourceSocket(fd)
}
