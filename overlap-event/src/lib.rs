//! libevent's programming model — an event base, events on descriptors, timers, signals,
//! priorities — in safe Rust, on every readiness backend of [`overlap`].
//!
//! ```
//! use std::time::Duration;
//! use overlap_event::{EventBase, Flags};
//!
//! let mut base = EventBase::new()?;
//! let tick = base.new_timer(Flags::PERSIST, |base, ev, fired| {
//!     assert!(fired.contains(Flags::TIMEOUT));
//!     base.free(ev).unwrap(); // the last event: the loop ends
//! })?;
//! base.add(tick, Some(Duration::from_millis(1)))?;
//! base.dispatch()?;
//! # Ok::<(), std::io::Error>(())
//! ```
//!
//! # Backends
//!
//! | backend | where | ET | any descriptor | CLOSED without READ |
//! |---|---|---|---|---|
//! | epoll | Linux (default) | yes | no regular files | yes (`EPOLLRDHUP`) |
//! | kqueue | BSD, macOS (type-checked) | yes | yes | no (`Unsupported`) |
//! | poll | every Unix | no (`Unsupported`) | yes | Linux only (`POLLRDHUP`) |
//! | afd | Windows (tested under Wine) | no (`Unsupported`) | sockets only | yes |
//! | port/uring, port/epoll, port/poll, port/iocp ([`EventConfig::port`]) | Linux (and Unix: the emulated ports); Windows (IOCP, tested under Wine) | no (`Unsupported`) | as the port (sockets alone on IOCP) | no (`Unsupported`) |
//!
//! [`EventBase::features`] says the same at run time (`EV_FEATURE_*`); an [`EventConfig`]
//! can require or avoid them. [`EventBase::backend`] says which [`Method`] a base waits in.
//!
//! A base on a completion port waits in the port alone: each watched descriptor has one
//! readiness op (`PollReady`) in flight on a duplicate of it, submitted again before each
//! wait (so events are level-triggered and never stale), and the port's other completions
//! arrive in the same wait — libevent's readiness model emulated over completions, the
//! first seed's design, on every OS. Delete an event before closing its descriptor (libevent's
//! rule): its wait holds a duplicate until then.
//!
//! Signal events: on Unix any catchable signal (sigaction and a self-pipe); on Windows
//! `SIGINT` (Ctrl-C) and `SIGBREAK` (Ctrl-Break). Every base watching a signal gets each
//! arrival (libevent gives it to the last base only), and each event on it runs once per
//! arrival. The signal's earlier disposition comes back when no event watches it.
//!
//! # Buffered I/O
//!
//! [`BufferEvent`] (libevent's `bufferevent`) reads a socket into an input [`Buffer`] and
//! sends what is added to its output, with read, write and event callbacks ([`What`]:
//! CONNECTED, EOF, ERROR, TIMEOUT), watermarks, timeouts, `connect` and `connect_hostname`,
//! rate limits ([`RateLimit`], [`RateGroup`]); [`BufferEvent::pair`] joins two in one process
//! and [`BufferEvent::filter`] puts a transform over one. [`Listener`] (`evconnlistener`)
//! accepts connections and backs off when descriptors run out.
//!
//! | engine | what moves the bytes | where |
//! |---|---|---|
//! | readiness | non-blocking reads into reserved input space and gathered writes, on the events of the base | every backend above |
//! | completion ([`Engine`]) | one receive straight into reserved input space and sends of the output's blocks (up to 8 in flight, each whole), carried out by the port the base waits in; a zero-length probe until the peer first speaks, and again once it has been quiet for a second | port/uring, port/epoll, port/poll, port/iocp (the default there) |
//! | pair | blocks moved between the two ends' buffers | everywhere |
//! | filter | the user's transforms, over any of these | everywhere |
//!
//! Both socket engines run on one base (one kernel wait per iteration, no helper thread):
//! [`EventConfig::engine`] picks the base's, [`BufferEvent::socket_with`] one buffered
//! event's. On the completion engine the output's length leaves out the bytes in sends in
//! flight (the write callback waits for them), and a receive in flight holds its room (4 KiB
//! after a short read, up to the read size after a full one) until the connection has been
//! quiet for a second. An idle buffered event holds under 1 KiB on either engine
//! ([`BufferEvent::memory`]).
//!
//! A buffered event or listener lives until it is freed (its base holds it), as libevent's
//! do; freeing one from its own callback is allowed.
//!
//! # Costs
//!
//! Timers are a hierarchical timing wheel: O(1) add and cancel at any duration, firing in
//! deadline order with ties in the order added. A pending timer takes 96 bytes (its event,
//! 64, and its wheel node, 32); an idle event on a descriptor about 80 (its event and a
//! 16-byte entry in the descriptor table). The tables give memory back after mass deletion
//! ([`EventBase::memory`]). `benches/event_loop.rs` and `benches/timers.rs` measure them.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod active;
mod base;
mod bufferevent;
mod config;
mod deferred;
mod engine;
mod error;
mod events;
mod fdmap;
mod flags;
mod handle;
mod id;
mod listener;
mod method;
mod remote;
mod run;
mod signals;
mod slab;
mod slot;
mod spares;
mod timer;
mod wait;

pub use base::EventBase;
pub use bufferevent::{BufferEvent, BufferGuard, FilterFn, FilterResult, Flush, RateGroup, RateLimit, What};
pub use config::{EventConfig, MAX_PRIORITIES};
pub use engine::Engine;
pub use flags::{Features, Flags};
pub use handle::BaseHandle;
pub use id::{Event, Fd};
pub use listener::{Listener, ListenerOptions};
pub use method::Method;
pub use overlap::{PortBackend, ReactorBackend};
/// The chained byte buffer of buffered events (from `overlap-buf`).
pub use overlap_buf::{Buffer, Eol};

/// The README's examples (the core's and the event loop's), compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
struct ReadmeDoctests;
pub use run::{LoopEnd, LoopFlags};
