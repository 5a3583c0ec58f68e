//! Which engine moves a buffered event's bytes, and the calls every engine answers: take a
//! socket and give it up (`attach`, `detach`), bring what is watched or in flight in line
//! with what is enabled (`apply`), flush, restart timeouts (`retime`).

use std::io;
use std::rc::Rc;

use socket2::Socket;

use super::shared::{BufferEvent, Kind, Shared};
use super::what::Flush;
use super::{completion, filter, pair, socket};
use crate::base::EventBase;
use crate::engine::Engine;
use crate::flags::Flags;

/// What drives a buffered event.
#[derive(Copy, Clone, PartialEq, Eq)]
pub(crate) enum Driver {
    /// A socket on the readiness engine (`socket.rs`).
    Socket,
    /// A socket on the completion engine (`completion.rs`).
    Completion,
    Pair,
    Filter,
}

impl Driver {
    /// A socket, on either engine.
    pub(crate) fn is_socket(self) -> bool {
        matches!(self, Driver::Socket | Driver::Completion)
    }
}

/// The driver of `s`.
pub(crate) fn of(s: &Shared) -> Driver {
    let st = s.st.borrow();
    match st.kind {
        Kind::Socket if st.engine == Engine::Completion => Driver::Completion,
        Kind::Socket => Driver::Socket,
        Kind::Pair(_) => Driver::Pair,
        Kind::Filter(_) => Driver::Filter,
    }
}

/// Gives a socket buffered event its socket, on its engine.
pub(crate) fn attach(base: &mut EventBase, shared: &Rc<Shared>, sock: Socket) -> io::Result<()> {
    match of(shared) {
        Driver::Completion => completion::attach(base, shared, sock),
        _ => socket::attach(base, shared, sock),
    }
}

/// Takes a socket buffered event's events and ops away (closing the socket unless it is
/// being freed).
pub(crate) fn detach(base: &mut EventBase, s: &Shared) {
    match of(s) {
        Driver::Completion => completion::detach(base, s),
        _ => socket::detach(base, s),
    }
}

/// Brings a socket buffered event's watches or ops in line with what is enabled.
pub(crate) fn apply_socket(base: &mut EventBase, s: &Shared) {
    match of(s) {
        Driver::Completion => completion::apply(base, s),
        _ => socket::apply(base, s),
    }
}

/// Brings what is watched in line with what is enabled.
pub(crate) fn apply(base: &mut EventBase, bev: &BufferEvent) {
    match of(&bev.0) {
        Driver::Socket => socket::apply(base, &bev.0),
        Driver::Completion => completion::apply(base, &bev.0),
        Driver::Pair => pair::apply(base, bev),
        Driver::Filter => filter::apply(base, bev),
    }
}

/// The timeouts changed: what runs starts again with the new ones.
pub(crate) fn retime(base: &mut EventBase, s: &Shared) {
    match of(s) {
        Driver::Completion => completion::retime(base, s),
        Driver::Socket => socket::retime(base, s),
        _ => {}
    }
}

/// Pushes what can go now; returns whether anything moved.
pub(crate) fn flush(base: &mut EventBase, bev: &BufferEvent, what: Flags, mode: Flush) -> io::Result<bool> {
    match of(&bev.0) {
        Driver::Socket => socket::flush(base, bev, what),
        Driver::Completion => completion::flush(base, bev, what),
        Driver::Pair => Ok(pair::flush(base, bev, what, mode)),
        Driver::Filter => filter::flush(base, bev, what, mode),
    }
}
