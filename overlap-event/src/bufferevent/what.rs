//! `What`: what a buffered event's event callback is told (libevent's `BEV_EVENT_*` bits),
//! and `Flush`, how hard a flush pushes (`BEV_NORMAL`, `BEV_FLUSH`, `BEV_FINISHED`).

use std::fmt;
use std::ops::{BitOr, BitOrAssign};

/// What happened to a [`BufferEvent`](crate::BufferEvent), as its event callback is told.
/// The bits are libevent's.
#[derive(Copy, Clone, PartialEq, Eq, Hash, Default)]
pub struct What(u8);

impl What {
    /// Nothing.
    pub const NONE: What = What(0);
    /// It happened while reading (`BEV_EVENT_READING`).
    pub const READING: What = What(0x01);
    /// It happened while writing (`BEV_EVENT_WRITING`).
    pub const WRITING: What = What(0x02);
    /// The peer closed its side: nothing more will be read (`BEV_EVENT_EOF`).
    pub const EOF: What = What(0x10);
    /// An error; [`BufferEvent::error`](crate::BufferEvent::error) tells which
    /// (`BEV_EVENT_ERROR`).
    pub const ERROR: What = What(0x20);
    /// A read or write timeout passed (`BEV_EVENT_TIMEOUT`).
    pub const TIMEOUT: What = What(0x40);
    /// A connect finished (`BEV_EVENT_CONNECTED`).
    pub const CONNECTED: What = What(0x80);

    /// The raw bits (libevent's values).
    pub const fn bits(self) -> u8 {
        self.0
    }
    /// Whether every bit of `other` is set.
    pub const fn contains(self, other: What) -> bool {
        self.0 & other.0 == other.0
    }
    /// Whether any bit of `other` is set.
    pub const fn intersects(self, other: What) -> bool {
        self.0 & other.0 != 0
    }
}

impl BitOr for What {
    type Output = What;
    fn bitor(self, rhs: What) -> What {
        What(self.0 | rhs.0)
    }
}

impl BitOrAssign for What {
    fn bitor_assign(&mut self, rhs: What) {
        self.0 |= rhs.0;
    }
}

impl fmt::Debug for What {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const NAMES: [(What, &str); 6] = [
            (What::READING, "READING"),
            (What::WRITING, "WRITING"),
            (What::EOF, "EOF"),
            (What::ERROR, "ERROR"),
            (What::TIMEOUT, "TIMEOUT"),
            (What::CONNECTED, "CONNECTED"),
        ];
        let names: Vec<&str> = NAMES.iter().filter(|(w, _)| self.contains(*w)).map(|(_, n)| *n).collect();
        if names.is_empty() {
            f.write_str("NONE")
        } else {
            f.write_str(&names.join("|"))
        }
    }
}

/// How hard [`BufferEvent::flush`](crate::BufferEvent::flush) pushes.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Default)]
pub enum Flush {
    /// Write what can go now (`BEV_NORMAL`).
    #[default]
    Normal,
    /// Push everything through, even what a filter would hold back (`BEV_FLUSH`).
    Flush,
    /// As `Flush`, and nothing more will come: a filter may finish its stream
    /// (`BEV_FINISHED`).
    Finished,
}
