//! Completion ports and event loops on every OS, in safe Rust.
//!
//! overlap offers the two models network programmers reach for, on every OS, each emulated
//! where the OS offers only the other:
//!
//! - the **readiness** model of libevent and epoll: [`Reactor`] tells you *when* a socket can
//!   be read or written, and you do the I/O;
//! - the **completion** model of Windows I/O completion ports: [`CompletionPort`] takes
//!   [ops](op) that own their buffers, and any number of threads waiting on the port get them
//!   back done, each completion to exactly one of them.
//!
//! # Backends
//!
//! | model | Linux | BSD / macOS | Windows |
//! |---|---|---|---|
//! | readiness ([`Reactor`]) | **epoll** (default), poll | **kqueue** (default, type-checked only), poll | **afd** (emulated over IOCP; tested under Wine) |
//! | completion ([`CompletionPort`]) | **io_uring** (default, probed at run time), emulated over epoll or poll | emulated over kqueue or poll (type-checked only) | **iocp** (native; tested under Wine) |
//!
//! [`ReactorBackend::available`] and [`PortBackend::available`] list what works on this machine;
//! [`ReactorBuilder::backend`] and [`PortBuilder::backend`] force one; `overlap backends` (the
//! CLI) prints the table with the reasons others are missing (io_uring refused by the kernel,
//! say). The emulation is the seed-2 port of an IOCP server to epoll: try the call at once,
//! park it on `WouldBlock`, retry on readiness, in submission order per socket. On Windows the
//! roles swap (seed 1): the completion port is native, and readiness is emulated over it with
//! `IOCTL_AFD_POLL`, the request Winsock's own `select` is built on, with no limit on the
//! number of sockets.
//!
//! # Triggers
//!
//! | trigger | epoll | kqueue | poll | afd |
//! |---|---|---|---|---|
//! | [`Trigger::Level`] | yes | yes | yes | yes (re-polled at the next `poll`) |
//! | [`Trigger::Edge`] | yes (`EPOLLET`) | yes (`EV_CLEAR`) | `Unsupported` (see [`Trigger`]) | `Unsupported` (AFD reports conditions) |
//! | [`Trigger::Oneshot`] | yes (`EPOLLONESHOT`) | yes (`EV_DISPATCH`, per direction) | yes (emulated, exact) | yes |
//!
//! # Portability notes
//!
//! - Events can be spurious: after an event, do the I/O and expect `WouldBlock`.
//! - With `Edge`, read or write until `WouldBlock` before waiting again.
//! - Read-closed (peer half-close) is reported by epoll and by poll on Linux (`EPOLLRDHUP`,
//!   `POLLRDHUP`) and by kqueue (`EV_EOF`); poll on other Unixes reports it only when both
//!   directions are gone, so there a read returning 0 is the sign.
//! - Priority interest (TCP out-of-band data) is not available on kqueue.
//! - `Interest::READ_CLOSED` watches for the peer's close without being woken by data: epoll,
//!   poll on Linux and AFD; kqueue and poll elsewhere refuse it (`Unsupported`) unless
//!   `READABLE` is asked too (which the close satisfies anyway).
//! - epoll refuses regular files (they are always ready): `Unsupported`, with the reason.
//! - On Windows a [`Source`] is a socket (AFD polls sockets only; files and pipes do not even
//!   compile as sources), and a [`CompletionPort`] takes sockets and handles opened for
//!   overlapped I/O (`FILE_FLAG_OVERLAPPED`; a synchronous handle is refused with
//!   `InvalidInput`). An overlapped disk file has no position of its own: an IOCP file op
//!   without [`at`](op::Read::at) runs at a position the driver keeps per handle, taken when
//!   the op is submitted and advanced as ops complete (give offsets when several are in flight).
//!
//! # Example
//!
//! ```
//! use std::io::{Read, Write};
//! use std::net::{TcpListener, TcpStream};
//! use std::time::Duration;
//! use overlap::{ReadyEvents, Interest, Reactor, Token, Trigger};
//!
//! let listener = TcpListener::bind("127.0.0.1:0")?;
//! listener.set_nonblocking(true)?;
//! let mut reactor = Reactor::new()?;
//! reactor.registry().register(&listener, Token(0), Interest::READABLE, Trigger::Level)?;
//!
//! let mut client = TcpStream::connect(listener.local_addr()?)?;
//! client.write_all(b"hello")?;
//!
//! let mut events = ReadyEvents::with_capacity(16);
//! reactor.poll(&mut events, Some(Duration::from_secs(5)))?;
//! assert!(events.iter().any(|e| e.token() == Token(0) && e.is_readable()));
//! let (mut conn, _) = listener.accept()?;
//! let mut buf = [0; 5];
//! conn.read_exact(&mut buf)?;
//! assert_eq!(&buf, b"hello");
//! # Ok::<(), std::io::Error>(())
//! ```
#![deny(missing_docs)]
#![deny(unsafe_code)]

mod contract;
mod error;
mod int_map;
pub mod io;
pub mod op;
mod port;
mod reactor;
pub mod signal;
mod sync;
mod sys;

pub use contract::completion::{Completion, OpId};
pub use contract::interest::{Interest, Trigger};
pub use contract::ready::ReadyEvent;
pub use contract::token::Token;
pub use port::{Associate, CompletionPort, Handle, PortBackend, PortBuilder, SubmitError};
#[cfg(unix)]
pub use reactor::SourceFd;
#[cfg(windows)]
pub use reactor::SourceSocket;
pub use reactor::{Reactor, ReactorBackend, ReactorBuilder, ReadyEvents, Registry, Source, Waker};
pub use signal::SignalReceiver;

/// The owned-buffer traits and result type ops use (from `overlap-buf`).
pub use overlap_buf::{BufResult, IoBuf, IoBufMut};
