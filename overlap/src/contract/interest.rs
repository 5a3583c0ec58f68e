//! `Interest` (what to watch for) and `Trigger` (how readiness is reported).

use std::fmt;
use std::ops::{BitAnd, BitOr, BitOrAssign};

/// The readiness a registration asks for: any union of readable, writable, priority and
/// read-closed.
///
/// Errors, hang-ups and read-closed are always reported, whatever the interest (the kernels
/// report them unasked). An empty interest (`Interest::READABLE & Interest::WRITABLE`) is
/// rejected by `register` with `InvalidInput`.
#[derive(Copy, Clone, PartialEq, Eq, Hash)]
pub struct Interest(u8);

impl Interest {
    /// Readable: a read will not block (data, end of stream or an error is there).
    pub const READABLE: Interest = Interest(1);
    /// Writable: a write will not block.
    pub const WRITABLE: Interest = Interest(2);
    /// Priority data: TCP out-of-band data (`EPOLLPRI`, `POLLPRI`).
    pub const PRIORITY: Interest = Interest(4);
    /// The peer closed its side (end of stream) or the connection is gone, without being woken
    /// by data that arrives before (`EPOLLRDHUP` alone, `POLLRDHUP`, AFD's disconnect): what
    /// libevent's `EV_CLOSED` watches. The event reports it as `is_read_closed` (and readable:
    /// a read returns the end of the stream at once). For a `Reactor` registration only, on
    /// epoll, poll on Linux and AFD; kqueue (whose read filter fires for data too), poll
    /// elsewhere and `PollReady` ops refuse it with `Unsupported`.
    pub const READ_CLOSED: Interest = Interest(8);

    /// Nothing (only for internal unions; registering it is an error).
    pub(crate) const NONE: Interest = Interest(0);

    /// Whether nothing is asked for.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }
    /// Whether readable readiness is asked for.
    pub const fn is_readable(self) -> bool {
        self.0 & 1 != 0
    }
    /// Whether writable readiness is asked for.
    pub const fn is_writable(self) -> bool {
        self.0 & 2 != 0
    }
    /// Whether priority readiness is asked for.
    pub const fn is_priority(self) -> bool {
        self.0 & 4 != 0
    }
    /// Whether the peer's close is asked for (without readable).
    pub const fn is_read_closed(self) -> bool {
        self.0 & 8 != 0
    }
    /// The union of two interests.
    pub const fn add(self, other: Interest) -> Interest {
        Interest(self.0 | other.0)
    }
    /// This interest without `other` (may be empty).
    pub const fn remove(self, other: Interest) -> Interest {
        Interest(self.0 & !other.0)
    }
}

impl BitOr for Interest {
    type Output = Interest;
    fn bitor(self, rhs: Interest) -> Interest {
        self.add(rhs)
    }
}

impl BitOrAssign for Interest {
    fn bitor_assign(&mut self, rhs: Interest) {
        *self = self.add(rhs);
    }
}

impl BitAnd for Interest {
    type Output = Interest;
    fn bitand(self, rhs: Interest) -> Interest {
        Interest(self.0 & rhs.0)
    }
}

impl fmt::Debug for Interest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names = [(1, "READABLE"), (2, "WRITABLE"), (4, "PRIORITY"), (8, "READ_CLOSED")];
        let mut first = true;
        for (bit, name) in names {
            if self.0 & bit != 0 {
                if !first {
                    f.write_str(" | ")?;
                }
                f.write_str(name)?;
                first = false;
            }
        }
        if first {
            f.write_str("(empty)")?;
        }
        Ok(())
    }
}

/// How readiness is reported for a registration.
///
/// | trigger | reported | epoll | kqueue | poll |
/// |---|---|---|---|---|
/// | `Level` | at every `poll` while the source is ready | yes | yes | yes |
/// | `Edge` | when the source *becomes* ready; drain it until `WouldBlock` | yes | yes (`EV_CLEAR`) | `Unsupported` |
/// | `Oneshot` | once, then disarmed until `reregister` | yes | yes, per direction | yes |
///
/// The poll backend refuses `Edge` rather than fake it: poll(2) only sees levels, and without
/// owning the reads and writes it cannot tell "still ready because not drained" from "drained,
/// then new data came", so any emulation either loses edges or turns into level triggering.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, Default)]
pub enum Trigger {
    /// Reported at every poll while ready (the libevent and poll(2) default).
    #[default]
    Level,
    /// Reported when the source becomes ready (`EPOLLET`, `EV_CLEAR`).
    Edge,
    /// Reported once, then disarmed until `reregister` (`EPOLLONESHOT`, `EV_DISPATCH`).
    Oneshot,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interest_algebra() {
        let rw = Interest::READABLE | Interest::WRITABLE;
        assert!(rw.is_readable() && rw.is_writable() && !rw.is_priority());
        assert!((Interest::READABLE & Interest::WRITABLE).is_empty());
        assert_eq!(rw.remove(Interest::WRITABLE), Interest::READABLE);
        assert_eq!(format!("{rw:?}"), "READABLE | WRITABLE");
        assert_eq!(format!("{:?}", rw.remove(rw)), "(empty)");
    }
}
