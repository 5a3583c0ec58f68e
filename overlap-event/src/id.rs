//! `Event`: the id of an event of a base, and `Fd`: the descriptor an event watches.

use std::fmt;

/// A descriptor as events name it: a raw file descriptor on Unix, a raw socket on Windows.
#[cfg(unix)]
pub type Fd = std::os::fd::RawFd;
/// A descriptor as events name it: a raw file descriptor on Unix, a raw socket on Windows.
#[cfg(windows)]
pub type Fd = std::os::windows::io::RawSocket;

/// An event of an [`EventBase`](crate::EventBase): a small copyable id, made by
/// [`EventBase::new_event`](crate::EventBase::new_event) and friends and valid until
/// [`free`](crate::EventBase::free). After that every call with it fails with `NotFound`
/// (ids are never reused), and a call with an event of another base fails with
/// `InvalidInput`.
#[derive(Copy, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Event {
    pub(crate) base: u32,
    pub(crate) index: u32,
    pub(crate) generation: crate::slab::Gen,
}

impl fmt::Debug for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Event({}.{}#{})", self.base, self.index, self.generation)
    }
}
