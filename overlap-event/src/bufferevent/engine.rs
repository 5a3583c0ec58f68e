//! Which engine moves a buffered event's bytes, and the calls every engine answers: bring
//! what is watched in line with what is enabled (`apply`), flush, and (through their events)
//! read and write runs.

use super::shared::{BufferEvent, Kind, Shared};
use super::what::Flush;
use super::{filter, pair, socket};
use crate::base::EventBase;
use crate::flags::Flags;

/// The engines.
#[derive(Copy, Clone, PartialEq, Eq)]
pub(crate) enum Engine {
    Socket,
    Pair,
    Filter,
}

/// The engine of `s`.
pub(crate) fn of(s: &Shared) -> Engine {
    match s.st.borrow().kind {
        Kind::Socket => Engine::Socket,
        Kind::Pair(_) => Engine::Pair,
        Kind::Filter(_) => Engine::Filter,
    }
}

/// Brings what is watched in line with what is enabled.
pub(crate) fn apply(base: &mut EventBase, bev: &BufferEvent) {
    match of(&bev.0) {
        Engine::Socket => socket::apply(base, &bev.0),
        Engine::Pair => pair::apply(base, bev),
        Engine::Filter => filter::apply(base, bev),
    }
}

/// Pushes what can go now; returns whether anything moved.
pub(crate) fn flush(base: &mut EventBase, bev: &BufferEvent, what: Flags, mode: Flush) -> std::io::Result<bool> {
    match of(&bev.0) {
        Engine::Socket => socket::flush(base, bev, what),
        Engine::Pair => Ok(pair::flush(base, bev, what, mode)),
        Engine::Filter => filter::flush(base, bev, what, mode),
    }
}
