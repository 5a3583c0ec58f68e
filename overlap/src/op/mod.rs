//! Operations for a [`CompletionPort`](crate::CompletionPort): each owns its buffer while the
//! kernel (or the emulation) uses it, and comes back whole in the [`Completion`](crate::Completion).
//!
//! | op | what it does | Linux syscall (emulated) | io_uring | IOCP |
//! |---|---|---|---|---|
//! | [`Accept`] | accept a connection | `accept4` | `ACCEPT` | `AcceptEx` |
//! | [`Connect`] | connect a socket | `connect` | `CONNECT` | `ConnectEx` |
//! | [`Recv`] | receive into the buffer's spare capacity | `recv` | `RECV` | `WSARecv` |
//! | [`Send`] | send the buffer's bytes | `send` | `SEND` | `WSASend` |
//! | [`SendVectored`] | send several buffers in one call | `sendmsg` | `SENDMSG` | `WSASend` |
//! | [`RecvFrom`] | receive a datagram and its sender | `recvfrom` | `RECVMSG` | `WSARecvFrom` |
//! | [`SendTo`] | send a datagram | `sendto` | `SENDMSG` | `WSASendTo` |
//! | [`Read`] / [`Write`] | file or pipe I/O, at an offset or not | `pread`/`read` (a thread pool for regular files) | `READ`/`WRITE` | `ReadFile`/`WriteFile` |
//! | [`Timeout`] | complete after a delay | a timer heap | the same heap (bounds `io_uring_enter`) | the same heap (bounds `GetQueuedCompletionStatusEx`) |
//! | [`PollReady`] | wait for readiness, as an op | `poll` | `POLL_ADD` | AFD poll |
//!
//! A [`Recv`] whose buffer has no spare capacity is a **readiness probe** (the seed-1 trick of
//! zero-byte overlapped reads): it completes with `Ok(0)` once data (or the end of the stream)
//! is there, without consuming anything.

mod file;
mod misc;
mod net;

use std::any::Any;
use std::net::SocketAddr;
use std::time::Duration;

use overlap_buf::{IoBuf, IoBufMut};

pub use file::{Read, Write};
pub use misc::{Nop, PollReady, Timeout};
pub use net::{Accept, Connect, Recv, RecvFrom, Send, SendTo, SendVectored};

use crate::sys::{OwnedSocket, RawSource as RawFd, SockAddrBuf};
use crate::{Handle, Interest};

/// An operation a [`CompletionPort`](crate::CompletionPort) can run. Sealed: the ops of this
/// module are the ones there are.
pub trait Op: private::OpCode {}

pub(crate) mod private {
    use super::*;

    /// What an op asks of the kernel, described for whichever driver runs it. The references point
    /// into the op itself, which a driver keeps boxed and untouched while the kernel uses them.
    #[allow(missing_debug_implementations)]
    pub enum Desc<'a> {
        Nop,
        Accept { fd: RawFd, addr: &'a mut SockAddrBuf },
        Connect { fd: RawFd, addr: &'a SockAddrBuf },
        Recv { fd: RawFd, buf: &'a mut dyn IoBufMut },
        Send { fd: RawFd, buf: &'a dyn IoBuf },
        SendVectored { fd: RawFd, bufs: Vec<&'a dyn IoBuf> },
        RecvFrom { fd: RawFd, buf: &'a mut dyn IoBufMut, addr: &'a mut SockAddrBuf },
        SendTo { fd: RawFd, buf: &'a dyn IoBuf, addr: &'a SockAddrBuf },
        Read { fd: RawFd, buf: &'a mut dyn IoBufMut, offset: Option<u64> },
        Write { fd: RawFd, buf: &'a dyn IoBuf, offset: Option<u64> },
        Timeout { after: Duration },
        PollReady { fd: RawFd, interest: Interest },
    }

    impl Desc<'_> {
        /// The descriptor the op works on (`None` for no-ops and timeouts).
        #[cfg_attr(not(windows), allow(dead_code))]
        pub fn fd(&self) -> Option<RawFd> {
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
    }

    /// What a driver hands back to an op besides the byte count.
    #[allow(missing_debug_implementations)]
    pub enum Output {
        Accepted(OwnedSocket, Option<SocketAddr>),
        Peer(Option<SocketAddr>),
        Ready(u8),
    }

    /// The driver-facing side of an op.
    pub trait OpCode: std::marker::Send + 'static {
        /// The handle the op works on (`None` for timeouts and posts).
        fn handle(&self) -> Option<&Handle>;
        /// What to ask the kernel.
        fn describe(&mut self) -> Desc<'_>;
        /// Takes what the kernel produced besides the byte count.
        fn set_output(&mut self, _out: Output) {}
        /// The op as `Any`, for [`Completion::into_op`](crate::Completion::into_op).
        fn into_any(self: Box<Self>) -> Box<dyn Any + std::marker::Send>;
        /// The concrete op type (`Any::type_id` on a `dyn OpCode` would name the trait object).
        fn op_type(&self) -> std::any::TypeId;
    }
}

pub(crate) use private::{Desc, OpCode, Output};

/// Implements the sealed traits' boilerplate for an op type.
macro_rules! op_any {
    () => {
        fn into_any(self: Box<Self>) -> Box<dyn std::any::Any + std::marker::Send> {
            self
        }
        fn op_type(&self) -> std::any::TypeId {
            std::any::TypeId::of::<Self>()
        }
    };
}
pub(crate) use op_any;
