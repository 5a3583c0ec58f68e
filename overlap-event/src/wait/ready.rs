//! What a wait reports of a descriptor, as event flags (the same mapping for every method).

use crate::flags::Flags;

/// The event flags for what the kernel reported: readable → READ; writable or the write
/// side closed → WRITE; the peer closed its side → READ and CLOSED; an error → all three
/// (whoever watches learns of it from the call that fails).
pub(crate) fn flags(readable: bool, writable: bool, read_closed: bool, error: bool) -> Flags {
    let mut what = Flags::NONE;
    if readable {
        what |= Flags::READ;
    }
    if writable {
        what |= Flags::WRITE;
    }
    if read_closed {
        what |= Flags::READ | Flags::CLOSED;
    }
    if error {
        what |= Flags::READ | Flags::WRITE | Flags::CLOSED;
    }
    what
}
