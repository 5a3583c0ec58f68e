//! [`AnyDriver`]: the completion backend chosen at run time. An enum, so calls are a match, not
//! a virtual call.

use std::io;
use std::time::Duration;

use crate::contract::completion::{OpId, Pending};
use crate::contract::driver::Driver;
use crate::contract::source::{HandleKind, OwnedSource, RawSource};

/// The completion backend chosen at run time. One per port, made once and never moved
/// after: the size of the largest variant (the io_uring driver, with its ring) costs nothing.
#[allow(clippy::large_enum_variant)]
pub(crate) enum AnyDriver {
    #[cfg(uring)]
    Uring(super::uring::Driver),
    #[cfg(unix)]
    Emulated(super::emulated::Driver),
    #[cfg(windows)]
    Iocp(super::windows::iocp::Driver),
}

/// Forwards a call to whichever driver `self` holds.
macro_rules! drive {
    ($self:ident, $d:ident => $call:expr) => {
        match $self {
            #[cfg(uring)]
            AnyDriver::Uring($d) => $call,
            #[cfg(unix)]
            AnyDriver::Emulated($d) => $call,
            #[cfg(windows)]
            AnyDriver::Iocp($d) => $call,
        }
    };
}

impl Driver for AnyDriver {
    fn attach(&self, source: &OwnedSource, kind: HandleKind) -> io::Result<()> {
        drive!(self, d => d.attach(source, kind))
    }
    fn attach_for_polling(&self, source: &OwnedSource, kind: HandleKind) -> io::Result<()> {
        drive!(self, d => d.attach_for_polling(source, kind))
    }
    fn detach(&self, fd: RawSource) {
        drive!(self, d => d.detach(fd))
    }
    fn submit(&self, op: Pending, defer: bool) {
        drive!(self, d => d.submit(op, defer))
    }
    fn flush(&self) {
        drive!(self, d => d.flush())
    }
    fn cancel(&self, id: OpId) -> io::Result<()> {
        drive!(self, d => d.cancel(id))
    }
    fn close(&self) {
        drive!(self, d => d.close())
    }
    fn poll(&self, timeout: Option<Duration>) -> io::Result<()> {
        drive!(self, d => d.poll(timeout))
    }
    fn notify(&self) -> io::Result<()> {
        drive!(self, d => d.notify())
    }
}
