//! `Method`: what an [`EventBase`](crate::EventBase) waits in (libevent's
//! `event_base_get_method`): a readiness backend, or a completion port whose readiness waits
//! (`PollReady` ops) stand in for one — libevent's readiness model emulated over completions,
//! the first seed's design.

use std::fmt;

use overlap::{PortBackend, ReactorBackend};

/// What a base waits in.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum Method {
    /// A readiness backend (epoll, kqueue, poll, AFD).
    Reactor(ReactorBackend),
    /// A completion port (io_uring, IOCP, or the emulation over a readiness backend): events
    /// on descriptors are readiness waits submitted to it, and its completions arrive in the
    /// same wait.
    Port(PortBackend),
}

impl Method {
    /// Every method that works here: the readiness backends, then the completion ports.
    pub fn available() -> Vec<Method> {
        let mut all: Vec<Method> = ReactorBackend::available().into_iter().map(Method::Reactor).collect();
        all.extend(PortBackend::available().into_iter().map(Method::Port));
        all
    }

    /// The readiness backend, if the base waits in one.
    pub fn reactor(self) -> Option<ReactorBackend> {
        match self {
            Method::Reactor(b) => Some(b),
            Method::Port(_) => None,
        }
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Method::Reactor(b) => write!(f, "{b}"),
            Method::Port(p) => write!(f, "port/{p}"),
        }
    }
}

impl PartialEq<ReactorBackend> for Method {
    fn eq(&self, other: &ReactorBackend) -> bool {
        *self == Method::Reactor(*other)
    }
}

impl From<ReactorBackend> for Method {
    fn from(b: ReactorBackend) -> Method {
        Method::Reactor(b)
    }
}

impl From<PortBackend> for Method {
    fn from(p: PortBackend) -> Method {
        Method::Port(p)
    }
}
