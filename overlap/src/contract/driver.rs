//! [`Driver`]: what a completion backend does (io_uring, IOCP, the emulation over readiness).

use std::io;
use std::time::Duration;

use super::completion::{OpId, Pending};
use super::source::{HandleKind, OwnedSource, RawSource};

/// A completion backend: runs ops and pushes their completions into the port's queue
/// ([`Queue`](super::queue::Queue), which it is given when it is made). It never reaches up
/// into the port: everything it needs comes in the [`Pending`] op (its description, its
/// route, its progress), and everything it produces goes out as a `Completion`.
///
/// - `attach`/`detach`: a handle joins the port / its last clone is gone (forget the
///   descriptor; ops hold their handle, so nothing of it is in flight then);
/// - `submit` never fails by itself: an op that cannot run completes with its error; with
///   `defer`, the driver may keep the op from the kernel until the next `flush` or `poll`
///   (io_uring: one `io_uring_enter` for a batch; the others start it at once). A whole write
///   (`Pending::whole`) completes only when every byte has gone or with an error, and the next
///   op of its lane starts only then;
/// - `cancel`: the op `id` completes (later, or before returning) with the cancelled error,
///   exactly once; `NotFound` if it is no longer in flight (the id says the op's number and,
///   for an op in a lane, which lane it waits in);
/// - `close`: the port is closed: every op in flight completes cancelled (or is released
///   under the driver's drop rules, where the kernel still owns it), and ops submitted later
///   complete cancelled at once;
/// - `poll`: only the port's leader calls it, waiting at most `timeout`; it may return early;
/// - `notify`: makes a blocked `poll` return.
pub(crate) trait Driver: Send + Sync {
    fn attach(&self, source: &OwnedSource, kind: HandleKind) -> io::Result<()>;
    /// Like `attach`, for a handle that only ever carries readiness waits (`PollReady`): a
    /// driver whose polls do not go through the handle itself (IOCP polls through its own AFD
    /// handle) leaves the handle out of its port, so that the same socket can still join it
    /// for other ops through another handle.
    fn attach_for_polling(&self, source: &OwnedSource, kind: HandleKind) -> io::Result<()> {
        self.attach(source, kind)
    }
    fn detach(&self, fd: RawSource);
    fn submit(&self, op: Pending, defer: bool);
    /// Hands the kernel what `submit` deferred.
    fn flush(&self) {}
    fn cancel(&self, id: OpId) -> io::Result<()>;
    fn close(&self);
    fn poll(&self, timeout: Option<Duration>) -> io::Result<()>;
    fn notify(&self) -> io::Result<()>;
}
