//! `ReadyEvent`: one readiness report of a selector, as `Reactor::poll` hands it out.

use super::token::Token;

/// Readiness flags carried by a [`ReadyEvent`] (internal bit layout).
pub(crate) mod flags {
    pub const READABLE: u8 = 1;
    pub const WRITABLE: u8 = 2;
    pub const PRIORITY: u8 = 4;
    pub const ERROR: u8 = 8;
    pub const READ_CLOSED: u8 = 16;
    pub const WRITE_CLOSED: u8 = 32;
}

/// One readiness event: a token and what happened to its source.
///
/// Several flags can be set at once (a peer that resets a connection gives readable, error,
/// read-closed and write-closed together). On kqueue the read and write sides of one source
/// arrive as two events with the same token.
#[derive(Copy, Clone, PartialEq, Eq)]
pub struct ReadyEvent {
    token: Token,
    flags: u8,
}

impl ReadyEvent {
    pub(crate) const fn new(token: Token, flags: u8) -> ReadyEvent {
        ReadyEvent { token, flags }
    }

    /// The token the source was registered with.
    pub fn token(&self) -> Token {
        self.token
    }
    /// A read will not block: data, or the end of the stream, is there.
    pub fn is_readable(&self) -> bool {
        self.flags & flags::READABLE != 0
    }
    /// A write will not block.
    pub fn is_writable(&self) -> bool {
        self.flags & flags::WRITABLE != 0
    }
    /// Priority (TCP out-of-band) data is there.
    pub fn is_priority(&self) -> bool {
        self.flags & flags::PRIORITY != 0
    }
    /// The source has an error pending (`SO_ERROR`; a refused connect, a reset).
    pub fn is_error(&self) -> bool {
        self.flags & flags::ERROR != 0
    }
    /// The peer shut down its write side (or the connection is gone): reads will reach the end.
    pub fn is_read_closed(&self) -> bool {
        self.flags & flags::READ_CLOSED != 0
    }
    /// The write side is closed: the peer is gone or the pipe's reader closed.
    pub fn is_write_closed(&self) -> bool {
        self.flags & flags::WRITE_CLOSED != 0
    }
}

impl std::fmt::Debug for ReadyEvent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReadyEvent")
            .field("token", &self.token)
            .field("readable", &self.is_readable())
            .field("writable", &self.is_writable())
            .field("priority", &self.is_priority())
            .field("error", &self.is_error())
            .field("read_closed", &self.is_read_closed())
            .field("write_closed", &self.is_write_closed())
            .finish()
    }
}
