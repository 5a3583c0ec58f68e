//! What an op asks of the kernel, in the terms every driver understands.
//!
//! An op (in `op/`) describes itself as a [`Desc`] that borrows its buffers and addresses; a
//! driver turns that into a system call, an SQE or an overlapped call, and hands back what the
//! kernel produced besides a byte count as an [`Output`]. How a driver runs an op — at once,
//! as a timer, on a file, or in the ordered lane of a socket's direction — is its [`Route`],
//! derived once from the description and the handle's kind when the op is submitted.

use std::any::{Any, TypeId};
use std::net::SocketAddr;
use std::time::Duration;

use overlap_buf::{IoBuf, IoBufMut};

use super::addr::SockAddrBuf;
use super::interest::Interest;
use super::source::{HandleKind, OwnedSocket, RawSource};

/// What an op asks of the kernel. The references point into the op itself, which a driver
/// keeps boxed and untouched while the kernel uses them.
#[allow(missing_debug_implementations)]
pub enum Desc<'a> {
    Nop,
    Accept { fd: RawSource, addr: &'a mut SockAddrBuf },
    Connect { fd: RawSource, addr: &'a SockAddrBuf },
    Recv { fd: RawSource, buf: &'a mut dyn IoBufMut },
    Send { fd: RawSource, buf: &'a dyn IoBuf },
    SendVectored { fd: RawSource, bufs: &'a dyn BufList },
    RecvFrom { fd: RawSource, buf: &'a mut dyn IoBufMut, addr: &'a mut SockAddrBuf },
    SendTo { fd: RawSource, buf: &'a dyn IoBuf, addr: &'a SockAddrBuf },
    Read { fd: RawSource, buf: &'a mut dyn IoBufMut, offset: Option<u64> },
    Write { fd: RawSource, buf: &'a dyn IoBuf, offset: Option<u64> },
    Timeout { after: Duration },
    PollReady { fd: RawSource, interest: Interest },
}

/// The buffers of a gathered send, read in place: no list is collected per attempt.
pub trait BufList: Send {
    /// How many buffers.
    fn count(&self) -> usize;
    /// Buffer `i` (`i < count()`).
    fn buf(&self, i: usize) -> &dyn IoBuf;
}

impl<B: IoBuf + Send> BufList for Vec<B> {
    fn count(&self) -> usize {
        self.len()
    }
    fn buf(&self, i: usize) -> &dyn IoBuf {
        &self[i]
    }
}

/// One direction of one descriptor: the ops in a lane complete in submission order.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct Lane {
    pub(crate) fd: RawSource,
    /// Reads (accepts, receives, readiness waits for reading) rather than writes (connects,
    /// sends).
    pub(crate) read: bool,
}

/// Where a driver runs an op (see the module docs).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) enum Route {
    /// Done at once, with no system call (a post).
    Now,
    /// A timeout: done after this long.
    Timer(Duration),
    /// I/O on a regular file: never "not ready", no order to keep.
    File,
    /// I/O on a socket or pipe, in its lane.
    Lane(Lane),
}

/// How a driver runs an op: derived once, when it is submitted, from its description and the
/// kind of its handle ([`Desc::plan`]).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) struct Plan {
    pub(crate) route: Route,
    /// The readiness it waits for when it would block: its lane's direction, or a readiness
    /// wait's own interest.
    pub(crate) waits: Interest,
    /// A transfer of bytes on a stream (a receive, read, send or write on a stream socket or
    /// pipe): it must neither overtake nor be overtaken by another of its lane. (Accepts,
    /// connects and readiness waits are not transfers.)
    pub(crate) ordered: bool,
    /// An ordered write: it goes on after a short transfer until every byte has gone (or an
    /// error), before the next op of its lane starts.
    pub(crate) whole: bool,
}

impl Plan {
    /// The plan of a post: done at once.
    pub(crate) const NOW: Plan = Plan { route: Route::Now, waits: Interest::NONE, ordered: false, whole: false };
}

impl Desc<'_> {
    /// How the op runs on a handle of `kind` (`None`: it has no handle): the one place that
    /// says which ops read, which write, and which must complete whole.
    pub(crate) fn plan(&self, kind: Option<HandleKind>) -> Plan {
        let route = self.route(kind.unwrap_or(HandleKind::Other));
        let waits = match (self, route) {
            (Desc::PollReady { interest, .. }, _) => *interest,
            (_, Route::Lane(Lane { read: true, .. })) => Interest::READABLE,
            (_, Route::Lane(Lane { read: false, .. })) => Interest::WRITABLE,
            _ => Interest::NONE,
        };
        let write = matches!(self, Desc::Send { .. } | Desc::SendVectored { .. } | Desc::Write { .. });
        let ordered =
            kind == Some(HandleKind::Stream) && (write || matches!(self, Desc::Recv { .. } | Desc::Read { .. }));
        Plan { route, waits, ordered, whole: ordered && write }
    }

    /// The descriptor the op works on (`None` for no-ops and timeouts).
    #[cfg_attr(not(windows), allow(dead_code))]
    pub(crate) fn fd(&self) -> Option<RawSource> {
        match *self {
            Desc::Accept { fd, .. }
            | Desc::Connect { fd, .. }
            | Desc::Recv { fd, .. }
            | Desc::Send { fd, .. }
            | Desc::SendVectored { fd, .. }
            | Desc::RecvFrom { fd, .. }
            | Desc::SendTo { fd, .. }
            | Desc::Read { fd, .. }
            | Desc::Write { fd, .. }
            | Desc::PollReady { fd, .. } => Some(fd),
            Desc::Nop | Desc::Timeout { .. } => None,
        }
    }

    /// Where the op runs on a handle of `kind`.
    fn route(&self, kind: HandleKind) -> Route {
        let lane = |fd, read| Route::Lane(Lane { fd, read });
        match *self {
            Desc::Nop => Route::Now,
            Desc::Timeout { after } => Route::Timer(after),
            Desc::Read { .. } | Desc::Write { .. } if kind == HandleKind::File => Route::File,
            Desc::Accept { fd, .. } | Desc::Recv { fd, .. } | Desc::RecvFrom { fd, .. } | Desc::Read { fd, .. } => {
                lane(fd, true)
            }
            Desc::PollReady { fd, interest } => lane(fd, interest.is_readable() || interest.is_priority()),
            Desc::Connect { fd, .. }
            | Desc::Send { fd, .. }
            | Desc::SendVectored { fd, .. }
            | Desc::SendTo { fd, .. }
            | Desc::Write { fd, .. } => lane(fd, false),
        }
    }

    /// The bytes a write has to send in all (`None` for ops that send nothing).
    #[cfg_attr(windows, allow(dead_code))] // IOCP's writes complete whole by themselves
    pub(crate) fn write_len(&self) -> Option<usize> {
        match self {
            Desc::Send { buf, .. } | Desc::Write { buf, .. } | Desc::SendTo { buf, .. } => Some(buf.buf_len()),
            Desc::SendVectored { bufs, .. } => Some((0..bufs.count()).map(|i| bufs.buf(i).buf_len()).sum()),
            _ => None,
        }
    }
}

/// What a driver hands back to an op besides the byte count.
#[allow(missing_debug_implementations)]
pub enum Output {
    Accepted(OwnedSocket, Option<SocketAddr>),
    Peer(Option<SocketAddr>),
    Ready(u8),
}

/// The driver-facing side of an op (sealed: only the ops of `op/` implement it).
pub trait OpCode: Send + 'static {
    /// What to ask the kernel.
    fn describe(&mut self) -> Desc<'_>;
    /// Takes what the kernel produced besides the byte count.
    fn set_output(&mut self, _out: Output) {}
    /// The op as `Any`, for [`Completion::into_op`](crate::Completion::into_op).
    fn into_any(self: Box<Self>) -> Box<dyn Any + Send>;
    /// The concrete op type (`Any::type_id` on a `dyn OpCode` would name the trait object).
    fn op_type(&self) -> TypeId;
}
