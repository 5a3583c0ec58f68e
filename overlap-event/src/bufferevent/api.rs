//! The public calls of [`BufferEvent`]: making one (socket, pair, filter), callbacks,
//! enable and disable, the buffers, connect, flush, what it is. Its settings are in
//! `settings.rs`, its end in `lifetime.rs`.

use std::io;
use std::net::SocketAddr;
use std::rc::Rc;

use overlap_buf::Buffer;
use socket2::Socket;

use super::engine::apply;
use super::guard::BufferGuard;
use super::shared::{Bits, BufferEvent, Callbacks, Shared, State};
use super::socket::fd_of;
use super::what::{Flush, What};
use crate::base::EventBase;
use crate::engine::Engine;
use crate::error::freed;
use crate::flags::Flags;
use crate::id::Fd;
use crate::method::Method;

impl BufferEvent {
    /// A buffered event with no socket yet: [`connect`](BufferEvent::connect) makes one
    /// (libevent's `bufferevent_socket_new` with `-1`).
    pub fn new(base: &mut EventBase) -> io::Result<BufferEvent> {
        let shared = Rc::new(Shared {
            base: base.id,
            input: Default::default(),
            output: Default::default(),
            bits: Default::default(),
            read_ev: Default::default(),
            write_ev: Default::default(),
            sock: Default::default(),
            st: std::cell::RefCell::new(State::new(base.engine())),
            cbs: Default::default(),
            limits: Default::default(),
            deferred: base.deferred.clone(),
            spares: base.spares.clone(),
        });
        install_hooks(&shared);
        Ok(BufferEvent(shared))
    }

    /// A buffered event on `sock`, connected or not (`TcpStream`, `socket2::Socket`, ...);
    /// it is made non-blocking. Reading and writing start when enabled (writing is enabled
    /// from the start, reading is not, as in libevent). [`free`](BufferEvent::free) closes
    /// the socket; [`into_socket`](BufferEvent::into_socket) gives it back instead.
    pub fn socket<S: Into<Socket>>(base: &mut EventBase, sock: S) -> io::Result<BufferEvent> {
        let engine = base.engine();
        BufferEvent::socket_with(base, sock, engine)
    }

    /// Like [`socket`](BufferEvent::socket), on `engine` rather than the base's
    /// ([`EventBase::engine`]). The completion engine needs a base that waits in a completion
    /// port (else `Unsupported`).
    pub fn socket_with<S: Into<Socket>>(base: &mut EventBase, sock: S, engine: Engine) -> io::Result<BufferEvent> {
        let bev = BufferEvent::new_with(base, engine)?;
        super::engine::attach(base, &bev.0, sock.into())?;
        bev.0.set(Bits::WRITE, true);
        Ok(bev)
    }

    /// Like [`new`](BufferEvent::new), on `engine` rather than the base's: the socket a
    /// [`connect`](BufferEvent::connect) makes is driven by it.
    pub fn new_with(base: &mut EventBase, engine: Engine) -> io::Result<BufferEvent> {
        if engine == Engine::Completion {
            if let Method::Reactor(b) = base.backend() {
                return Err(crate::error::completion_needs_port(&b.to_string()));
            }
        }
        let bev = BufferEvent::new(base)?;
        bev.0.st.borrow_mut().engine = engine;
        Ok(bev)
    }

    /// The engine that drives its socket (a pair's or filter's: that it would use).
    pub fn engine(&self) -> Engine {
        self.0.st.borrow().engine
    }

    /// Two buffered events joined in this process, no socket between them
    /// (`bufferevent_pair_new`): what one writes arrives in the other's input, moved (not
    /// copied) in the same iteration of the loop. Writing is enabled on both, reading on
    /// neither.
    pub fn pair(base: &mut EventBase) -> io::Result<(BufferEvent, BufferEvent)> {
        super::pair::new(base)
    }

    /// The other end of a pair, while both live (`bufferevent_pair_get_partner`).
    pub fn partner(&self) -> Option<BufferEvent> {
        super::pair::partner(&self.0)
    }

    /// A filter over `under` (`bufferevent_filter_new`): what `under` reads passes through
    /// `input` into this buffered event's input; what is written here passes through `output`
    /// into `under`'s output. The filter takes over `under`'s callbacks and passes its events
    /// (CONNECTED, EOF, ERROR, TIMEOUT) on; an EOF from below comes after every byte read
    /// before it has gone through `input`. With `free_under`, freeing the filter frees
    /// `under` too (`BEV_OPT_CLOSE_ON_FREE`); otherwise `under` is left with no callbacks.
    ///
    /// The filter's read high watermark is the `limit` given to `input`. An `input` that
    /// moves whole units (records, blocks) and stops with less room left than a unit is run
    /// once more with the whole watermark as its limit, so the filter's input may pass its
    /// high watermark by less than the watermark itself (else the rest would wait below for
    /// ever once the peer stopped sending).
    pub fn filter<I, O>(
        base: &mut EventBase,
        under: &BufferEvent,
        input: I,
        output: O,
        free_under: bool,
    ) -> io::Result<BufferEvent>
    where
        I: FnMut(&mut Buffer, &mut Buffer, Option<usize>, Flush) -> super::filter_fn::FilterResult + 'static,
        O: FnMut(&mut Buffer, &mut Buffer, Option<usize>, Flush) -> super::filter_fn::FilterResult + 'static,
    {
        under.check(base)?;
        super::filter::new(base, under, Box::new(input), Box::new(output), free_under)
    }

    /// The buffered event below a filter (`bufferevent_get_underlying`).
    pub fn underlying(&self) -> Option<BufferEvent> {
        super::filter::under(&self.0)
    }

    /// Sets the read callback: it runs when data came in and the input holds at least the
    /// read low watermark. It replaces the one before (also from inside a callback).
    pub fn on_read<F: FnMut(&mut EventBase, &BufferEvent) + 'static>(&self, f: F) {
        if self.is_freed() {
            return; // dropped: a freed buffered event runs nothing (and keeps nothing alive)
        }
        let mut cbs = self.0.cbs.borrow_mut();
        cbs.read = Some(Box::new(f));
        cbs.generation[0] = cbs.generation[0].wrapping_add(1);
    }

    /// Sets the write callback: it runs when a write left the output at or below the write
    /// low watermark (0 by default: when everything was sent).
    pub fn on_write<F: FnMut(&mut EventBase, &BufferEvent) + 'static>(&self, f: F) {
        if self.is_freed() {
            return; // dropped: a freed buffered event runs nothing (and keeps nothing alive)
        }
        let mut cbs = self.0.cbs.borrow_mut();
        cbs.write = Some(Box::new(f));
        cbs.generation[1] = cbs.generation[1].wrapping_add(1);
    }

    /// Sets the event callback: connected, EOF, error, timeout (see [`What`]).
    pub fn on_event<F: FnMut(&mut EventBase, &BufferEvent, What) + 'static>(&self, f: F) {
        if self.is_freed() {
            return; // dropped: a freed buffered event runs nothing (and keeps nothing alive)
        }
        let mut cbs = self.0.cbs.borrow_mut();
        cbs.event = Some(Box::new(f));
        cbs.generation[2] = cbs.generation[2].wrapping_add(1);
    }

    /// Removes all three callbacks.
    pub fn clear_callbacks(&self) {
        let mut cbs = self.0.cbs.borrow_mut();
        let generation = cbs.generation.map(|g| g.wrapping_add(1));
        *cbs = Callbacks { generation, ..Callbacks::default() };
    }

    /// Starts reading (`READ`) and/or writing (`WRITE`) (libevent's `bufferevent_enable`).
    pub fn enable(&self, base: &mut EventBase, what: Flags) -> io::Result<()> {
        self.check(base)?;
        let s = &self.0;
        if what.contains(Flags::READ) {
            s.set(Bits::READ, true);
        }
        if what.contains(Flags::WRITE) {
            s.set(Bits::WRITE, true);
        }
        apply(base, self);
        Ok(())
    }

    /// Stops reading and/or writing; what is buffered stays.
    pub fn disable(&self, base: &mut EventBase, what: Flags) -> io::Result<()> {
        self.check(base)?;
        let s = &self.0;
        if what.contains(Flags::READ) {
            s.set(Bits::READ, false);
        }
        if what.contains(Flags::WRITE) {
            s.set(Bits::WRITE, false);
        }
        apply(base, self);
        Ok(())
    }

    /// What is enabled (`READ`, `WRITE`).
    pub fn enabled(&self) -> Flags {
        let bits = self.0.bits();
        let mut f = Flags::NONE;
        if bits.has(Bits::READ) {
            f |= Flags::READ;
        }
        if bits.has(Bits::WRITE) {
            f |= Flags::WRITE;
        }
        f
    }

    /// The input buffer: what came in and was not taken yet (borrowed: do not hold it across
    /// a call that borrows it again). Draining it below the high watermark resumes reading
    /// when the borrow ends.
    pub fn input(&self) -> BufferGuard<'_> {
        BufferGuard::new(&self.0, true)
    }

    /// The output buffer: what waits to be sent (borrowed, as the input). What is added goes
    /// out in this iteration of the loop.
    pub fn output(&self) -> BufferGuard<'_> {
        BufferGuard::new(&self.0, false)
    }

    /// Adds `data` to the output (libevent's `bufferevent_write`).
    pub fn write(&self, data: &[u8]) -> io::Result<()> {
        self.alive()?;
        self.output().add(data)
    }

    /// Moves all of `buf` to the output, no byte copied (`bufferevent_write_buffer`).
    pub fn write_buffer(&self, buf: &mut Buffer) -> io::Result<()> {
        self.alive()?;
        self.output().add_buffer(buf)
    }

    /// Takes up to `out.len()` bytes from the input (`bufferevent_read`).
    pub fn read(&self, out: &mut [u8]) -> io::Result<usize> {
        self.input().remove(out)
    }

    /// Moves all of the input to `buf` (`bufferevent_read_buffer`).
    pub fn read_buffer(&self, buf: &mut Buffer) -> io::Result<()> {
        buf.add_buffer(&mut self.input())
    }

    /// Connects to `addr`, making a socket if there is none
    /// (`bufferevent_socket_connect`). The event callback gets CONNECTED, or ERROR (also for
    /// a refusal), or WRITING|TIMEOUT after the write timeout. Reading starts once connected.
    /// After a connect that failed or timed out, the socket stays (for its error) until the
    /// next `connect`, which makes a new one: a socket cannot connect twice.
    pub fn connect(&self, base: &mut EventBase, addr: SocketAddr) -> io::Result<()> {
        self.check(base)?;
        self.socket_engine()?;
        if self.0.bits().has(Bits::CONNECTING) {
            return Err(crate::error::connecting());
        }
        self.0.set(Bits::WRITE, true);
        super::dial::start(base, self, addr)
    }

    /// Resolves `host` off the loop thread, then connects to its addresses in turn
    /// (`bufferevent_socket_connect_hostname`). A name that does not resolve ends in the
    /// event callback with ERROR ([`error`](BufferEvent::error) says why).
    pub fn connect_hostname(&self, base: &mut EventBase, host: &str, port: u16) -> io::Result<()> {
        self.check(base)?;
        self.socket_engine()?;
        if self.0.bits().has(Bits::CONNECTING) {
            return Err(crate::error::connecting());
        }
        if host.is_empty() || host.contains('\0') {
            return Err(crate::error::bad_host());
        }
        self.0.set(Bits::WRITE, true);
        super::dial::hostname(base, self, host, port)
    }

    /// Pushes what can go now (`bufferevent_flush`); returns whether anything moved. For a
    /// socket every mode writes what the socket takes; a pair moves its output to the other
    /// end (`Finished` also tells the other end EOF); a filter runs its filters with `mode`
    /// (`Flush` and `Finished` make them give up what they hold back) and flushes the
    /// buffered event below it.
    pub fn flush(&self, base: &mut EventBase, what: Flags, mode: Flush) -> io::Result<bool> {
        self.check(base)?;
        super::engine::flush(base, self, what, mode)
    }

    /// The last error: a failed read, write or connect, or a name that did not resolve (for
    /// a filter, that of the buffered event below when it has none of its own).
    pub fn error(&self) -> Option<io::Error> {
        let own = self.0.st.borrow().error.as_ref().map(copy_error);
        own.or_else(|| self.underlying().and_then(|u| u.error()))
    }

    /// The socket's descriptor, if it has one (a filter's is that of the buffered event
    /// below).
    pub fn fd(&self) -> Option<Fd> {
        match self.0.socket() {
            Some(s) => Some(fd_of(&s)),
            None => self.underlying().and_then(|u| u.fd()),
        }
    }

    /// Whether it was freed.
    pub fn is_freed(&self) -> bool {
        self.0.bits().has(Bits::FREED)
    }

    /// Connecting is for buffered events on sockets.
    pub(crate) fn socket_engine(&self) -> io::Result<()> {
        if super::engine::of(&self.0).is_socket() {
            Ok(())
        } else {
            Err(crate::error::not_a_socket("connect"))
        }
    }

    pub(crate) fn alive(&self) -> io::Result<()> {
        if self.0.bits().has(Bits::FREED) {
            return Err(freed());
        }
        Ok(())
    }

    /// It is alive and of `base`.
    pub(crate) fn check(&self, base: &EventBase) -> io::Result<()> {
        self.alive()?;
        if self.0.base != base.id {
            return Err(crate::error::foreign_event());
        }
        Ok(())
    }
}

/// The buffers' callbacks that drive the engine: output grew → write; input drained while
/// reading is suspended → read.
fn install_hooks(shared: &Rc<Shared>) {
    let weak = Rc::downgrade(shared);
    shared.output.borrow_mut().add_callback(move |info| {
        if info.added == 0 {
            return;
        }
        if let Some(s) = weak.upgrade() {
            let bits = s.bits();
            if bits.has(Bits::WRITE) && !bits.has(Bits::CONNECTING) {
                s.queue_write();
            }
        }
    });
    let weak = Rc::downgrade(shared);
    shared.input.borrow_mut().add_callback(move |info| {
        if info.drained == 0 {
            return;
        }
        if let Some(s) = weak.upgrade() {
            if s.bits().has(Bits::SUSPENDED) {
                s.queue_read();
            }
        }
    });
}

fn copy_error(e: &io::Error) -> io::Error {
    match e.raw_os_error() {
        Some(code) => io::Error::from_raw_os_error(code),
        None => io::Error::new(e.kind(), e.to_string()),
    }
}
