//! What one buffered event is, behind its handles: its buffers, its state, its callbacks.
//!
//! The hot bits (what is enabled, armed, queued) are a `Cell`, so that the output buffer's
//! callback — which runs while the user holds the buffer — can read and set them without a
//! borrow. The rest is a `RefCell` that only the engine borrows, never across a user callback.

use std::cell::{Cell, RefCell};
use std::io;
use std::net::SocketAddr;
use std::num::NonZeroUsize;
use std::rc::{Rc, Weak};
use std::time::Duration;

use overlap::{Handle, OpId};
use overlap_buf::{Block, Buffer};
use socket2::Socket;

use super::filter_fn::FilterFn;
use super::rate::Limits;
use super::what::What;
use crate::base::EventBase;
use crate::deferred::{Deferred, Later};
use crate::engine::Engine;
use crate::id::Event;
use crate::spares::Spares;
use crate::wait::Ticket;

/// A read or write callback.
pub(crate) type DataCb = Box<dyn FnMut(&mut EventBase, &BufferEvent)>;
/// An event callback.
pub(crate) type EventCb = Box<dyn FnMut(&mut EventBase, &BufferEvent, What)>;

/// The engine's bits.
#[derive(Copy, Clone, PartialEq, Eq, Default)]
pub(crate) struct Bits(u32);

impl Bits {
    /// The user enabled reading.
    pub(crate) const READ: Bits = Bits(0x01);
    /// The user enabled writing.
    pub(crate) const WRITE: Bits = Bits(0x02);
    /// The read event is added (the base watches the socket for reading).
    pub(crate) const READ_ARMED: Bits = Bits(0x04);
    /// The write event is added.
    pub(crate) const WRITE_ARMED: Bits = Bits(0x08);
    /// A write run is queued (the write event activated, through the deferred queue).
    pub(crate) const WRITE_QUEUED: Bits = Bits(0x10);
    /// Reading stopped at the high watermark.
    pub(crate) const SUSPENDED: Bits = Bits(0x20);
    /// A read run is queued (the input drained below the high watermark).
    pub(crate) const READ_QUEUED: Bits = Bits(0x40);
    /// A connect is under way (or a name is being resolved).
    pub(crate) const CONNECTING: Bits = Bits(0x80);
    /// Freed: every call fails, no callback runs.
    pub(crate) const FREED: Bits = Bits(0x100);
    /// Reading ended (EOF or a read error): the read side is done.
    pub(crate) const READ_DONE: Bits = Bits(0x200);
    /// Reading waits for rate-limit tokens.
    pub(crate) const READ_HELD: Bits = Bits(0x400);
    /// Writing waits for rate-limit tokens.
    pub(crate) const WRITE_HELD: Bits = Bits(0x800);
    /// The base refused to watch the socket for reading (or writing): the next read run
    /// reports the error.
    pub(crate) const READ_BROKEN: Bits = Bits(0x1000);
    pub(crate) const WRITE_BROKEN: Bits = Bits(0x2000);
    /// An end of stream waits for the bytes before it: a pair's end flushed with
    /// `Flush::Finished` while its output could not all move yet (the other end hears EOF once
    /// it has, `pair.rs`), or a filter whose buffered event below reached EOF with input the
    /// filter could not take yet (the filter's user hears EOF once it has, `filter.rs`).
    pub(crate) const FINISHING: Bits = Bits(0x4000);
    /// The socket's connect failed or timed out: it cannot connect again (`dial.rs`), so the
    /// next `connect` makes a new one.
    pub(crate) const DIAL_SPENT: Bits = Bits(0x8000);
    /// An engine run is calling the user's callbacks (the readiness engine's read run, the
    /// completion engine's run of its completions): output they add is written when the run
    /// ends, not by a write run queued for the next iteration (one event run and one loop
    /// iteration fewer per message; libevent's IOCP engine starts its writes from the
    /// output's callback too).
    pub(crate) const IN_RUN: Bits = Bits(0x1_0000);
    /// Output was added during `IN_RUN`: the end of the run writes it.
    pub(crate) const WRITE_SOON: Bits = Bits(0x2_0000);

    pub(crate) fn has(self, b: Bits) -> bool {
        self.0 & b.0 != 0
    }
    pub(crate) fn with(self, b: Bits, on: bool) -> Bits {
        if on {
            Bits(self.0 | b.0)
        } else {
            Bits(self.0 & !b.0)
        }
    }
}

/// Watermarks: the read low one (the read callback waits for that much), the read high one
/// (reading stops at it), the write low one (the write callback runs when the output drains
/// to it).
#[derive(Copy, Clone, Debug, Default)]
pub(crate) struct Marks {
    pub(crate) read_low: usize,
    pub(crate) read_high: Option<NonZeroUsize>,
    pub(crate) write_low: usize,
}

impl Marks {
    /// The read high watermark (`None`: no limit).
    pub(crate) fn high(&self) -> Option<usize> {
        self.read_high.map(NonZeroUsize::get)
    }
}

/// What moves a buffered event's bytes.
#[derive(Default)]
pub(crate) enum Kind {
    /// A socket, on readiness (`socket.rs`).
    #[default]
    Socket,
    /// One end of an in-process pair: the other end (`pair.rs`).
    Pair(Weak<Shared>),
    /// A filter over another buffered event (`filter.rs`).
    Filter(Box<FilterState>),
}

/// The first read asks for this much; a read that fills it doubles it, up to `max_read`.
pub(crate) const FIRST_READ: usize = 4096;
/// The default most one read takes (libevent's `MAX_SINGLE_READ_DEFAULT`).
pub(crate) const MAX_READ: usize = 16384 * 16;
/// The default most one write sends.
pub(crate) const MAX_WRITE: usize = 16384 * 16;
/// The most `set_max_io` allows for one read or write.
pub(crate) const MAX_IO: usize = 64 << 20;

/// What only the engine borrows, never while a buffer or a callback is in use.
#[derive(Default)]
pub(crate) struct State {
    pub(crate) kind: Kind,
    /// The read and write timeouts, if either is set (boxed: most buffered events have none).
    pub(crate) timeouts: Option<Box<[Option<Duration>; 2]>>,
    pub(crate) marks: Marks,
    /// The last error (a failed read, write or connect; a name that did not resolve).
    pub(crate) error: Option<io::Error>,
    /// How much the next read asks for (grows while reads fill it, up to `max_read`).
    read_size: u32,
    max_read: u32,
    max_write: u32,
    /// A connect under way (boxed: most buffered events never connect, or did long ago).
    pub(crate) dial: Option<Box<Dial>>,
    pub(crate) priority: Option<u8>,
    /// The engine of a socket buffered event.
    pub(crate) engine: Engine,
    /// The completion engine's ops (while it has a socket).
    pub(crate) ops: Option<Box<Ops>>,
}

/// What the completion engine keeps for a buffered event with a socket (`completion.rs`).
pub(crate) struct Ops {
    /// The port's handle on a duplicate of the socket.
    pub(crate) handle: Handle,
    /// The internal event the base runs when an op of this buffered event completed.
    pub(crate) done_ev: Event,
    /// The receive in flight, and how much room it has.
    pub(crate) recv: Option<(Flying, u32)>,
    /// The sends in flight, in the order submitted (with their sequence numbers).
    pub(crate) sends: Vec<(Flying, u32)>,
    pub(crate) next_seq: u32,
    /// Bytes in the sends in flight.
    pub(crate) sending: u32,
    /// A send failed (boxed: sends seldom fail).
    pub(crate) failed: Option<Box<Failed>>,
    /// Receives carry room: the peer spoke and has not gone quiet since (otherwise a
    /// zero-length probe waits for it to speak).
    pub(crate) spoke: bool,
    /// The idle check is armed on the read run's timer (no read timeout is running).
    pub(crate) idle_watch: bool,
    /// Data came since the idle check was armed.
    pub(crate) heard: bool,
    /// The read (write) timeout is running.
    pub(crate) read_timed: bool,
    pub(crate) write_timed: bool,
    /// `done_ev` is kept pending (the loop waits for these ops).
    pub(crate) kept: bool,
}

/// An op of the completion engine in flight: its id (to cancel it) and the ticket its
/// completion is taken with when `done_ev` runs.
#[derive(Copy, Clone)]
pub(crate) struct Flying {
    pub(crate) id: OpId,
    pub(crate) ticket: Ticket,
}

/// What failed sends left: their blocks (with their sequence numbers), put back in the
/// output in order when the last send is in, and the first error.
pub(crate) struct Failed {
    pub(crate) unsent: Vec<(u32, Block)>,
    pub(crate) error: io::Error,
}

impl Failed {
    /// The state of a first failed send, with its error.
    pub(crate) fn new(error: io::Error) -> Box<Failed> {
        Box::new(Failed { unsent: Vec::new(), error })
    }
}

/// What a connect under way keeps.
#[derive(Default)]
pub(crate) struct Dial {
    /// Addresses still to try for `connect_hostname`.
    pub(crate) next_addrs: Vec<SocketAddr>,
    /// A connect that failed at once, reported from the loop (libevent reports it from the
    /// loop too, never from `connect`).
    pub(crate) failed: bool,
    /// The internal event that delivers a resolver's answer.
    pub(crate) resolve_ev: Option<Event>,
    /// The event that waits for a connect to finish (writable, or the write timeout).
    pub(crate) connect_ev: Option<Event>,
}

impl State {
    /// A state on `engine` with the default read and write sizes.
    pub(crate) fn new(engine: Engine) -> State {
        let mut st = State { engine, ..State::default() };
        st.set_read_size(FIRST_READ);
        st.set_max_io(MAX_READ, MAX_WRITE);
        st
    }

    /// How much the next read asks for.
    pub(crate) fn read_size(&self) -> usize {
        self.read_size as usize
    }

    /// The most one read takes.
    pub(crate) fn max_read(&self) -> usize {
        self.max_read as usize
    }

    /// The most one write sends.
    pub(crate) fn max_write(&self) -> usize {
        self.max_write as usize
    }

    /// Sets the next read's size (at most [`MAX_IO`], which a `u32` holds).
    pub(crate) fn set_read_size(&mut self, n: usize) {
        self.read_size = n.min(MAX_IO) as u32;
    }

    /// Sets the most one read takes and one write sends (each at most `MAX_IO`); the next
    /// read's size stays within the first.
    pub(crate) fn set_max_io(&mut self, read: usize, write: usize) {
        self.max_read = read.min(MAX_IO) as u32;
        self.max_write = write.min(MAX_IO) as u32;
        self.read_size = self.read_size.min(self.max_read);
    }

    /// The read timeout.
    pub(crate) fn read_timeout(&self) -> Option<Duration> {
        self.timeouts.as_ref().and_then(|t| t[0])
    }

    /// The write timeout.
    pub(crate) fn write_timeout(&self) -> Option<Duration> {
        self.timeouts.as_ref().and_then(|t| t[1])
    }

    /// Sets both timeouts (`None`: none).
    pub(crate) fn set_timeouts(&mut self, read: Option<Duration>, write: Option<Duration>) {
        self.timeouts = (read.is_some() || write.is_some()).then(|| Box::new([read, write]));
    }

    /// The connect state, made on first use.
    pub(crate) fn dial(&mut self) -> &mut Dial {
        self.dial.get_or_insert_with(Box::default)
    }

    /// The internal events of a connect (resolver, connect), taken out.
    pub(crate) fn take_dial_events(&mut self) -> [Option<Event>; 2] {
        match self.dial.as_mut() {
            Some(d) => [d.resolve_ev.take(), d.connect_ev.take()],
            None => [None, None],
        }
    }
}

/// The user's callbacks; a callback is taken out while it runs. Each has a generation,
/// counting the times it was set or cleared, so that one replaced while it ran is not put
/// back over its replacement.
#[derive(Default)]
pub(crate) struct Callbacks {
    pub(crate) read: Option<DataCb>,
    pub(crate) write: Option<DataCb>,
    pub(crate) event: Option<EventCb>,
    /// Generations of read, write, event.
    pub(crate) generation: [u16; 3],
}

/// `BufferEvent` (libevent's `bufferevent`): a socket with an input and an output
/// [`Buffer`], and callbacks when data came in, when the output drained, and when something
/// happened (connected, EOF, error, timeout).
///
/// ```text
///            enable(READ)                              the user's read callback
///   socket ──► read event ─► recv into reserved input space ─► (input ≥ low watermark)
///                 ▲   └─ input ≥ high watermark: stop reading ─┐
///                 └──────── input drained below it: resume ◄────┘
///
///   output.add(..) ─► write run queued (deferred: this iteration, no system call)
///                       └─► send what the output holds ─┬─ all of it: done (write callback
///                                                       │   once output ≤ low watermark)
///                                                       └─ not all: watch for writable,
///                                                           send the rest then
/// ```
///
/// A handle is a cheap clone (`Rc`): callbacks get `&BufferEvent` and may keep clones. A
/// buffered event with a socket lives until [`free`](BufferEvent::free) (which closes the
/// socket), whether or not the user keeps a handle: its base holds it, as libevent's does.
/// Freeing it inside its own callback is allowed: nothing of it runs afterwards. After
/// `free`, every call on a remaining clone fails with `NotFound`. (One with no socket yet is
/// dropped with its last handle.)
#[derive(Clone)]
pub struct BufferEvent(pub(crate) Rc<Shared>);

impl std::fmt::Debug for BufferEvent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BufferEvent")
            .field("input", &self.0.input.try_borrow().map(|b| b.len()).ok())
            .field("output", &self.0.output.try_borrow().map(|b| b.len()).ok())
            .finish_non_exhaustive()
    }
}

/// A filter's own state.
pub(crate) struct FilterState {
    pub(crate) under: BufferEvent,
    pub(crate) input: Option<FilterFn>,
    pub(crate) output: Option<FilterFn>,
    /// Free the buffered event below with the filter.
    pub(crate) free_under: bool,
}

/// One buffered event.
pub(crate) struct Shared {
    pub(crate) base: u32,
    pub(crate) input: RefCell<Buffer>,
    pub(crate) output: RefCell<Buffer>,
    pub(crate) bits: Cell<Bits>,
    pub(crate) read_ev: Cell<Option<Event>>,
    pub(crate) write_ev: Cell<Option<Event>>,
    /// The socket (an `Rc`, so the engine holds it only for a system call, and a `free` from
    /// a callback never finds it borrowed).
    pub(crate) sock: Cell<Option<Rc<Socket>>>,
    pub(crate) st: RefCell<State>,
    pub(crate) cbs: RefCell<Callbacks>,
    /// Rate limits, if any (boxed: most buffered events have none).
    pub(crate) limits: Cell<Option<Box<Limits>>>,
    pub(crate) deferred: Rc<Deferred>,
    /// The base's pool of read allocations.
    pub(crate) spares: Rc<Spares>,
}

impl Shared {
    pub(crate) fn bits(&self) -> Bits {
        self.bits.get()
    }
    pub(crate) fn set(&self, b: Bits, on: bool) {
        self.bits.set(self.bits.get().with(b, on));
    }

    /// Runs `f` on the rate limits, taken out of their cell meanwhile (`f` must not reach
    /// them through `self` again).
    #[inline]
    pub(crate) fn with_limits<R>(&self, f: impl FnOnce(&mut Option<Box<Limits>>) -> R) -> R {
        let mut lim = self.limits.take();
        let r = f(&mut lim);
        self.limits.set(lim);
        r
    }

    /// The socket, for one system call.
    pub(crate) fn socket(&self) -> Option<Rc<Socket>> {
        let sock = self.sock.take();
        let copy = sock.clone();
        self.sock.set(sock);
        copy
    }

    /// Queues a run of the write event in this iteration (no system call), unless one is
    /// queued or the event is armed (the kernel will say when there is room).
    pub(crate) fn queue_write(&self) {
        let bits = self.bits();
        if bits.has(Bits::WRITE_QUEUED) || bits.has(Bits::WRITE_ARMED) || bits.has(Bits::FREED) {
            return;
        }
        if bits.has(Bits::IN_RUN) {
            self.set(Bits::WRITE_SOON, true); // the run writes it when it ends
            return;
        }
        if let Some(ev) = self.write_ev.get() {
            self.set(Bits::WRITE_QUEUED, true);
            self.deferred.push(Later::Activate(ev, crate::flags::Flags::WRITE));
        }
    }

    /// Queues a run of the read event (reading resumes below the high watermark).
    pub(crate) fn queue_read(&self) {
        let bits = self.bits();
        if bits.has(Bits::READ_QUEUED) || bits.has(Bits::FREED) {
            return;
        }
        if let Some(ev) = self.read_ev.get() {
            self.set(Bits::READ_QUEUED, true);
            self.deferred.push(Later::Activate(ev, crate::flags::Flags::READ));
        }
    }
}

impl Shared {
    /// Runs `f` as an engine run that calls the user's callbacks (`IN_RUN`); whether output
    /// was added meanwhile, to be written now.
    pub(crate) fn in_run(&self, f: impl FnOnce()) -> bool {
        self.set(Bits::IN_RUN, true);
        f();
        let soon = self.bits().has(Bits::WRITE_SOON);
        self.set(Bits::IN_RUN, false);
        self.set(Bits::WRITE_SOON, false);
        soon && !self.bits().has(Bits::FREED)
    }
}

impl Drop for Shared {
    /// Dropped without `free`: the base frees its events after the callback that dropped the
    /// last handle, then closes the socket (so a reused descriptor number is never touched).
    fn drop(&mut self) {
        if self.bits.get().has(Bits::FREED) {
            return;
        }
        let st = self.st.get_mut();
        let [resolve, connect] = st.take_dial_events();
        for ev in [self.read_ev.take(), self.write_ev.take(), resolve, connect].into_iter().flatten() {
            self.deferred.push(Later::Free(ev));
        }
        if let Some(sock) = self.sock.get_mut().take() {
            self.deferred.push(Later::Release(Box::new(sock)));
        }
    }
}
