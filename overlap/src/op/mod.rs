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
mod sealed;

pub use file::{Read, Write};
pub use misc::{Nop, PollReady, Timeout};
pub use net::{Accept, Connect, Recv, RecvFrom, Send, SendTo, SendVectored};
pub use sealed::Op;
