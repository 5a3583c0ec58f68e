//! What a base waits in: a readiness backend ([`ReactorWait`]) or a completion port
//! ([`PortWait`], readiness emulated over completions), behind one set of calls, and how
//! other threads wake it ([`Wake`]).

mod port;
mod reactor;
mod ready;

use std::io;
use std::time::Duration;

use overlap::{CompletionPort, Interest, SignalReceiver, Token, Trigger, Waker};

use crate::flags::Flags;
use crate::id::Fd;
use crate::method::Method;
use port::{PortWait, WAKE_DATA};
use reactor::ReactorWait;

/// The base's wait.
pub(crate) enum Wait {
    Reactor(ReactorWait),
    Port(PortWait),
}

impl Wait {
    /// Opens `method`.
    pub(crate) fn open(method: Method) -> io::Result<Wait> {
        Ok(match method {
            Method::Reactor(b) => Wait::Reactor(ReactorWait::new(b)?),
            Method::Port(p) => Wait::Port(PortWait::new(p)?),
        })
    }

    pub(crate) fn method(&self) -> Method {
        match self {
            Wait::Reactor(r) => Method::Reactor(r.backend()),
            Wait::Port(p) => Method::Port(p.backend()),
        }
    }

    /// How other threads wake this wait (`token`: what a reactor's waker reports).
    pub(crate) fn wake(&self, token: Token) -> io::Result<Wake> {
        Ok(match self {
            Wait::Reactor(r) => Wake::Waker(r.waker(token)?),
            Wait::Port(p) => Wake::Port(p.port()),
        })
    }

    pub(crate) fn register(&mut self, fd: Fd, token: Token, interest: Interest, trigger: Trigger) -> io::Result<()> {
        match self {
            Wait::Reactor(r) => r.register(fd, token, interest, trigger),
            Wait::Port(p) => p.register(fd, token, interest, trigger),
        }
    }

    pub(crate) fn reregister(&mut self, fd: Fd, token: Token, interest: Interest, trigger: Trigger) -> io::Result<()> {
        match self {
            Wait::Reactor(r) => r.reregister(fd, token, interest, trigger),
            Wait::Port(p) => p.reregister(fd, token, interest, trigger),
        }
    }

    pub(crate) fn deregister(&mut self, fd: Fd) -> io::Result<()> {
        match self {
            Wait::Reactor(r) => r.deregister(fd),
            Wait::Port(p) => p.deregister(fd),
        }
    }

    pub(crate) fn watch_signals(&mut self, rx: &SignalReceiver, token: Token) -> io::Result<()> {
        match self {
            Wait::Reactor(r) => r.watch_signals(rx, token),
            Wait::Port(p) => p.watch_signals(rx, token),
        }
    }

    /// The one kernel wait of an iteration: at most `timeout`; what is ready goes to `out`.
    pub(crate) fn poll(&mut self, out: &mut Vec<(Token, Flags)>, timeout: Option<Duration>) -> io::Result<()> {
        match self {
            Wait::Reactor(r) => r.poll(out, timeout),
            Wait::Port(p) => p.poll(out, timeout),
        }
    }
}

/// Wakes a base's wait from another thread.
pub(crate) enum Wake {
    /// The reactor's waker.
    Waker(Waker),
    /// A completion posted to the port.
    Port(CompletionPort),
}

impl Wake {
    pub(crate) fn wake(&self) -> io::Result<()> {
        match self {
            Wake::Waker(w) => w.wake(),
            Wake::Port(p) => p.post(0, WAKE_DATA, 0).map(|_| ()),
        }
    }
}
