//! Operations without a buffer: timeouts, readiness waits and posted completions.

use std::time::Duration;

use super::sealed::{op_any, private::Sealed, Op};
use crate::contract::desc::{Desc, OpCode, Output};
use crate::contract::interest::Interest;
use crate::contract::ready::flags;
use crate::port::handle::Handle;

/// Completes with `Ok(0)` after a delay (never earlier); completion key 0.
#[derive(Debug, Clone)]
pub struct Timeout {
    after: Duration,
}

impl Timeout {
    /// A timeout of `after`.
    pub fn new(after: Duration) -> Timeout {
        Timeout { after }
    }
}

impl Sealed for Timeout {
    fn handle(&self) -> Option<&Handle> {
        None
    }
}

impl OpCode for Timeout {
    fn describe(&mut self) -> Desc<'_> {
        Desc::Timeout { after: self.after }
    }
    op_any!();
}
impl Op for Timeout {}

/// Waits until a handle is ready for `interest`, as an op (io_uring `POLL_ADD`, AFD poll).
///
/// On io_uring a wait for `PRIORITY` is refused (`Unsupported`): its `POLL_ADD` was not seen
/// to report TCP urgent data. An empty interest is refused everywhere (`InvalidInput`).
#[derive(Debug)]
pub struct PollReady {
    handle: Handle,
    interest: Interest,
    ready: u8,
}

impl PollReady {
    /// A readiness wait on `handle`.
    pub fn new(handle: &Handle, interest: Interest) -> PollReady {
        PollReady { handle: handle.clone(), interest, ready: 0 }
    }
    /// The handle the op works on.
    pub fn handle(&self) -> &Handle {
        &self.handle
    }
    /// Readable (or the end of the stream) was reported.
    pub fn is_readable(&self) -> bool {
        self.ready & flags::READABLE != 0
    }
    /// Writable was reported.
    pub fn is_writable(&self) -> bool {
        self.ready & flags::WRITABLE != 0
    }
    /// An error or hang-up was reported.
    pub fn is_error(&self) -> bool {
        self.ready & (flags::ERROR | flags::READ_CLOSED | flags::WRITE_CLOSED) != 0
    }
}

impl Sealed for PollReady {
    fn handle(&self) -> Option<&Handle> {
        Some(&self.handle)
    }
}

impl OpCode for PollReady {
    fn describe(&mut self) -> Desc<'_> {
        Desc::PollReady { fd: self.handle.raw(), interest: self.interest }
    }
    fn set_output(&mut self, out: Output) {
        if let Output::Ready(f) = out {
            self.ready = f;
        }
    }
    op_any!();
}
impl Op for PollReady {}

/// The op of a completion made by [`CompletionPort::post`](crate::CompletionPort::post).
#[derive(Debug, Clone, Copy, Default)]
pub struct Nop;

impl Sealed for Nop {
    fn handle(&self) -> Option<&Handle> {
        None
    }
}

impl OpCode for Nop {
    fn describe(&mut self) -> Desc<'_> {
        Desc::Nop
    }
    op_any!();
}
impl Op for Nop {}
