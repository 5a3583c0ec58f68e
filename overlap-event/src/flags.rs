//! `Flags` (what an event watches for and what fired, libevent's `EV_*` bits) and `Features`
//! (what a backend can do, libevent's `EV_FEATURE_*`).

use std::fmt;
use std::ops::{BitAnd, BitAndAssign, BitOr, BitOrAssign, Not};

/// What an event watches for, and what made it fire. The bits are libevent's, so that its C
/// interface maps onto them one to one.
#[derive(Copy, Clone, PartialEq, Eq, Hash, Default)]
pub struct Flags(u16);

impl Flags {
    /// Nothing.
    pub const NONE: Flags = Flags(0);
    /// The event's timeout passed (`EV_TIMEOUT`).
    pub const TIMEOUT: Flags = Flags(0x01);
    /// The descriptor is readable (`EV_READ`).
    pub const READ: Flags = Flags(0x02);
    /// The descriptor is writable (`EV_WRITE`).
    pub const WRITE: Flags = Flags(0x04);
    /// The signal arrived (`EV_SIGNAL`).
    pub const SIGNAL: Flags = Flags(0x08);
    /// The event stays pending after it fires (`EV_PERSIST`).
    pub const PERSIST: Flags = Flags(0x10);
    /// Edge-triggered (`EV_ET`): reported once per change, not while the condition lasts.
    pub const ET: Flags = Flags(0x20);
    /// The peer closed the connection (or its write side), reported without reading the data
    /// in front of it (`EV_CLOSED`).
    pub const CLOSED: Flags = Flags(0x80);

    /// What an event on a descriptor can watch.
    pub(crate) const IO: Flags = Flags(0x02 | 0x04 | 0x80);
    /// Every bit an event may be made with.
    pub(crate) const ALL: Flags = Flags(0x01 | 0x02 | 0x04 | 0x08 | 0x10 | 0x20 | 0x80);

    /// The raw bits (libevent's values).
    pub const fn bits(self) -> u16 {
        self.0
    }
    /// Flags from libevent's bits; `None` if a bit is not one of the above.
    pub const fn from_bits(bits: u16) -> Option<Flags> {
        if bits & !Flags::ALL.0 != 0 {
            return None;
        }
        Some(Flags(bits))
    }
    /// Whether no bit is set.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }
    /// Whether every bit of `other` is set.
    pub const fn contains(self, other: Flags) -> bool {
        self.0 & other.0 == other.0
    }
    /// Whether any bit of `other` is set.
    pub const fn intersects(self, other: Flags) -> bool {
        self.0 & other.0 != 0
    }
}

impl BitOr for Flags {
    type Output = Flags;
    fn bitor(self, rhs: Flags) -> Flags {
        Flags(self.0 | rhs.0)
    }
}
impl BitOrAssign for Flags {
    fn bitor_assign(&mut self, rhs: Flags) {
        self.0 |= rhs.0;
    }
}
impl BitAnd for Flags {
    type Output = Flags;
    fn bitand(self, rhs: Flags) -> Flags {
        Flags(self.0 & rhs.0)
    }
}
impl BitAndAssign for Flags {
    fn bitand_assign(&mut self, rhs: Flags) {
        self.0 &= rhs.0;
    }
}
impl Not for Flags {
    type Output = Flags;
    fn not(self) -> Flags {
        Flags(!self.0 & Flags::ALL.0)
    }
}

impl fmt::Debug for Flags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names = [
            (Flags::TIMEOUT, "TIMEOUT"),
            (Flags::READ, "READ"),
            (Flags::WRITE, "WRITE"),
            (Flags::SIGNAL, "SIGNAL"),
            (Flags::PERSIST, "PERSIST"),
            (Flags::ET, "ET"),
            (Flags::CLOSED, "CLOSED"),
        ];
        let mut first = true;
        for (flag, name) in names {
            if self.contains(flag) {
                f.write_str(if first { "" } else { "|" })?;
                f.write_str(name)?;
                first = false;
            }
        }
        if first {
            f.write_str("NONE")?;
        }
        Ok(())
    }
}

/// What a backend can do, to require or avoid when a base is built (libevent's
/// `EV_FEATURE_*`).
#[derive(Copy, Clone, PartialEq, Eq, Hash, Default)]
pub struct Features(u8);

impl Features {
    /// Nothing asked for.
    pub const NONE: Features = Features(0);
    /// Edge triggering ([`Flags::ET`]): epoll, kqueue (`EV_FEATURE_ET`).
    pub const EDGE_TRIGGERED: Features = Features(0x01);
    /// Adding, deleting and reporting one event costs O(1), not O(descriptors): epoll, kqueue,
    /// afd (`EV_FEATURE_O1`).
    pub const O1: Features = Features(0x02);
    /// Any descriptor, not only sockets: poll (`EV_FEATURE_FDS`; epoll refuses regular files).
    pub const FDS: Features = Features(0x04);
    /// [`Flags::CLOSED`] without [`Flags::READ`] (`EV_FEATURE_EARLY_CLOSE`): the peer's close
    /// is watched alone, data arriving does not wake the loop (epoll, poll on Linux, AFD;
    /// elsewhere such an event is refused with `Unsupported`).
    pub const EARLY_CLOSE: Features = Features(0x08);

    /// The raw bits (libevent's values).
    pub const fn bits(self) -> u8 {
        self.0
    }
    /// Whether every feature of `other` is here.
    pub const fn contains(self, other: Features) -> bool {
        self.0 & other.0 == other.0
    }
}

impl BitOr for Features {
    type Output = Features;
    fn bitor(self, rhs: Features) -> Features {
        Features(self.0 | rhs.0)
    }
}

impl fmt::Debug for Features {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names = [
            (Features::EDGE_TRIGGERED, "EDGE_TRIGGERED"),
            (Features::O1, "O1"),
            (Features::FDS, "FDS"),
            (Features::EARLY_CLOSE, "EARLY_CLOSE"),
        ];
        let set: Vec<&str> = names.iter().filter(|(x, _)| self.contains(*x)).map(|(_, n)| *n).collect();
        if set.is_empty() {
            f.write_str("NONE")
        } else {
            f.write_str(&set.join("|"))
        }
    }
}
