//! What a base waits in: a readiness backend ([`ReactorWait`]) or a completion port
//! ([`PortWait`], readiness emulated over completions), behind one set of calls, and how
//! other threads wake it ([`Wake`]).

mod port;
mod reactor;
mod ready;
mod routes;
mod wake_pipe;

use std::io;
use std::time::Duration;

use overlap::op::Op;
use overlap::{Completion, Handle, Interest, OpId, SignalReceiver, SubmitError, Token, Trigger, Waker};

use crate::flags::Flags;
use crate::id::{Event, Fd};
use crate::method::Method;
use port::PortWait;
use reactor::ReactorWait;
pub(crate) use routes::Ticket;

/// Bytes the route of one op in flight takes in the base.
pub(crate) const ROUTE_BYTES: usize = routes::Routes::SLOT_BYTES;

/// The base's wait.
pub(crate) enum Wait {
    Reactor(ReactorWait),
    Port(Box<PortWait>),
}

impl Wait {
    /// Opens `method`.
    pub(crate) fn open(method: Method) -> io::Result<Wait> {
        Ok(match method {
            Method::Reactor(b) => Wait::Reactor(ReactorWait::new(b)?),
            Method::Port(p) => Wait::Port(Box::new(PortWait::new(p)?)),
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
            Wait::Port(p) => Wake::Pipe(p.waker()),
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

/// The base's own ops (the completion engine's), on a port only.
impl Wait {
    /// The port, if the base waits in one.
    pub(crate) fn port(&mut self) -> Option<&mut PortWait> {
        match self {
            Wait::Reactor(_) => None,
            Wait::Port(p) => Some(p),
        }
    }

    /// A handle of the port on a duplicate of `fd`.
    pub(crate) fn associate(&mut self, fd: Fd) -> io::Result<Handle> {
        match self.port() {
            Some(p) => p.associate(fd),
            None => Err(crate::error::completion_needs_port(&self.method().to_string())),
        }
    }

    /// Starts `op`; its completion fires `ev`, whose callback takes it with the ticket.
    pub(crate) fn submit<O: Op>(&mut self, op: O, ev: Event) -> Result<(OpId, Ticket), SubmitError<O>> {
        match self {
            Wait::Port(p) => p.submit(op, ev),
            Wait::Reactor(r) => {
                let error = crate::error::completion_needs_port(&r.backend().to_string());
                Err(SubmitError { error, op })
            }
        }
    }

    /// Cancels `op`, whose route is `ticket` (and with `wait`, waits for it and returns its
    /// completion).
    pub(crate) fn cancel(&mut self, op: OpId, ticket: Ticket, wait: bool) -> Option<Completion> {
        self.port().and_then(|p| p.cancel(op, ticket, wait))
    }

    /// The completion of the op `ticket` names, if it came.
    pub(crate) fn take_done(&mut self, ticket: Ticket) -> Option<Completion> {
        self.port().and_then(|p| p.take_done(ticket))
    }

    /// Forgets the route `ticket` names, with its completion if it came.
    pub(crate) fn forget(&mut self, ticket: Ticket) {
        if let Some(p) = self.port() {
            p.forget(ticket);
        }
    }

    /// Starts the ops held back for the next wait.
    pub(crate) fn flush(&mut self) -> io::Result<()> {
        match self.port() {
            Some(p) => p.flush(),
            None => Ok(()),
        }
    }

    /// The base's ops in flight (or completed, not taken yet), and the bytes their routes
    /// hold (none on a readiness backend).
    pub(crate) fn ops(&self) -> (usize, usize) {
        match self {
            Wait::Port(p) => p.ops(),
            Wait::Reactor(_) => (0, 0),
        }
    }

    /// The events whose ops completed in the last poll.
    pub(crate) fn take_fired(&mut self, out: &mut Vec<(Event, Ticket)>) {
        if let Some(p) = self.port() {
            p.take_fired(out);
        }
    }
}

/// Wakes a base's wait from another thread.
pub(crate) enum Wake {
    /// The reactor's waker.
    Waker(Waker),
    /// A byte written to the port's wake pipe.
    Pipe(wake_pipe::PipeWaker),
}

impl Wake {
    pub(crate) fn wake(&self) -> io::Result<()> {
        match self {
            Wake::Waker(w) => w.wake(),
            Wake::Pipe(p) => p.wake(),
        }
    }
}
