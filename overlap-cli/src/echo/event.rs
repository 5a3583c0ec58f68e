//! The echo server on the event loop (`overlap-event`, libevent's model): an `EventBase` per
//! thread, one thread unless asked for more (then each base has its own SO_REUSEPORT listener,
//! as the readiness model's reactors do; elsewhere a clone of one).
//!
//! A READ|PERSIST event on the non-blocking listener accepts until WouldBlock. Per connection
//! (TCP_NODELAY) a READ|PERSIST event reads (64 KiB) and writes back; what the socket does not
//! take waits, in order, and a WRITE|PERSIST event is pending only while it does; reading pauses
//! (the read event is deleted) while too much waits, and resumes when the output drains
//! (`echoing.rs`). At end of stream or on an error both events are freed, and the socket closes
//! with the last of them. Stopping breaks every base's loop through its handle.

use std::cell::RefCell;
use std::io::{self, ErrorKind};
use std::net::{TcpListener, TcpStream};
use std::rc::Rc;
use std::sync::{mpsc, Arc};
use std::time::Duration;

use overlap::ReactorBackend;
use overlap_event::{BaseHandle, Event, EventBase, EventConfig, Fd, Flags};

use super::echoing::{Echoing, BUF};
use super::running::{self, Running, Stop};

/// How long accepting pauses when the process is out of descriptors (a level-triggered
/// listener would otherwise report the waiting connection again at once, for ever).
const ACCEPT_PAUSE: Duration = Duration::from_millis(100);

/// The read buffer a base's connections share (callbacks never run two at a time).
type Buf = Rc<RefCell<Box<[u8]>>>;

/// The first error that ends a base's loop from a callback.
type Failure = Rc<RefCell<Option<io::Error>>>;

/// A connection: its echo, its two events and which of them are pending.
struct Conn {
    io: Echoing,
    /// The read and write events (`None` once freed).
    events: Option<(Event, Event)>,
    /// The read event is pending (reading is not paused).
    reading: bool,
    /// The write event is pending (output waits).
    writing: bool,
}

/// Serves on `listeners` (one per thread where SO_REUSEPORT exists; elsewhere each thread
/// watches a clone of the first) with an event base per thread. Each base is built on its
/// thread; a base that cannot be built is this call's error.
pub(super) fn start(listeners: Vec<TcpListener>, backend: ReactorBackend, threads: usize) -> io::Result<Running> {
    let first = listeners.first().ok_or_else(|| io::Error::other("no listener"))?;
    let addr = first.local_addr()?;
    let mut bases: Vec<BaseHandle> = Vec::new();
    let mut joins = Vec::new();
    let fail = |bases: &[BaseHandle], joins, e: io::Error| {
        for b in bases {
            let _ = b.loopbreak();
        }
        let _ = running::join_all(joins);
        Err(e)
    };
    let mut each = Vec::with_capacity(threads.max(1));
    for i in 0..threads.max(1) {
        each.push(match listeners.get(i) {
            Some(l) => l.try_clone()?,
            None => first.try_clone()?,
        });
    }
    drop(listeners);
    for listener in each {
        let (ready, started) = mpsc::channel();
        let thread = match running::spawn("overlap-event", move || serve(listener, backend, ready)) {
            Ok(t) => t,
            Err(e) => return fail(&bases, joins, e),
        };
        joins.push(thread);
        match started.recv() {
            Ok(Ok(handle)) => bases.push(handle),
            Ok(Err(e)) => return fail(&bases, joins, e),
            Err(_) => return fail(&bases, joins, io::Error::other("an event thread ended before it served")),
        }
    }
    let stop: Stop = Arc::new(move || {
        for b in &bases {
            let _ = b.loopbreak();
        }
    });
    Ok(Running { addr, stop, threads: joins })
}

/// A thread's loop: builds the base and its listener event, says so (or why not) on `ready`,
/// and runs until stopped.
fn serve(
    listener: TcpListener,
    backend: ReactorBackend,
    ready: mpsc::Sender<io::Result<BaseHandle>>,
) -> io::Result<()> {
    let failed: Failure = Rc::new(RefCell::new(None));
    let mut base = match build(listener, backend, &failed) {
        Ok(base) => base,
        Err(e) => {
            let _ = ready.send(Err(e));
            return Ok(()); // said to `start`, which fails with it
        }
    };
    let _ = ready.send(Ok(base.handle()));
    drop(ready);
    base.dispatch()?;
    let failed = failed.borrow_mut().take();
    failed.map_or(Ok(()), Err)
}

/// A base on `backend` with a READ|PERSIST event on `listener`, which accepts.
fn build(listener: TcpListener, backend: ReactorBackend, failed: &Failure) -> io::Result<EventBase> {
    let mut base = EventBase::with_config(&EventConfig::new().backend(backend))?;
    let buf: Buf = Rc::new(RefCell::new(vec![0u8; BUF].into_boxed_slice()));
    let failed = failed.clone();
    let fd = fd_of(&listener);
    let ev = base.new_event(fd, Flags::READ | Flags::PERSIST, move |base, ev, _| {
        accept_all(base, ev, &listener, &buf, &failed);
    })?;
    base.add(ev, None)?;
    Ok(base)
}

/// Accepts every waiting connection. Out of descriptors, accepting pauses a while; another
/// error of the listener ends the loop with it.
fn accept_all(base: &mut EventBase, ev: Event, listener: &TcpListener, buf: &Buf, failed: &Failure) {
    loop {
        match listener.accept() {
            // A connection that cannot be set up is closed (dropped) and the others served.
            Ok((stream, _)) => drop(open(base, stream, buf)),
            Err(e) if e.kind() == ErrorKind::WouldBlock => return,
            Err(e) if matches!(e.kind(), ErrorKind::Interrupted | ErrorKind::ConnectionAborted) => {}
            Err(e) if out_of_descriptors(&e) => {
                let paused = base.del(ev).and_then(|()| {
                    base.once(None, Flags::TIMEOUT, Some(ACCEPT_PAUSE), move |base, _| drop(base.add(ev, None)))
                });
                if paused.is_err() {
                    let _ = base.add(ev, None); // keep accepting rather than stop for ever
                }
                return;
            }
            Err(e) => {
                failed.borrow_mut().get_or_insert(e);
                base.loopbreak();
                return;
            }
        }
    }
}

/// Whether an accept failed for want of descriptors or buffers (a passing state).
fn out_of_descriptors(e: &io::Error) -> bool {
    #[cfg(unix)]
    let codes = [libc::EMFILE, libc::ENFILE, libc::ENOBUFS, libc::ENOMEM];
    #[cfg(windows)]
    let codes = [10024, 10055]; // WSAEMFILE, WSAENOBUFS
    e.raw_os_error().is_some_and(|c| codes.contains(&c))
}

/// Serves an accepted connection: its read event pending, its write event made.
fn open(base: &mut EventBase, stream: TcpStream, buf: &Buf) -> io::Result<()> {
    stream.set_nonblocking(true)?;
    stream.set_nodelay(true)?;
    let fd = fd_of(&stream);
    let conn = Rc::new(RefCell::new(Conn { io: Echoing::new(stream), events: None, reading: true, writing: false }));
    let (c, b) = (conn.clone(), buf.clone());
    let read = base.new_event(fd, Flags::READ | Flags::PERSIST, move |base, _, _| {
        let mut c = c.borrow_mut();
        let alive = c.io.echo(&mut b.borrow_mut());
        settle(base, &mut c, alive);
    })?;
    let c = conn.clone();
    let write = base.new_event(fd, Flags::WRITE | Flags::PERSIST, move |base, _, _| {
        let mut c = c.borrow_mut();
        let alive = c.io.flush();
        settle(base, &mut c, alive);
    });
    let added = write.and_then(|write| {
        conn.borrow_mut().events = Some((read, write));
        base.add(read, None)
    });
    if let Err(e) = added {
        settle(base, &mut conn.borrow_mut(), false);
        let _ = base.free(read);
        return Err(e);
    }
    Ok(())
}

/// After a callback: the write event pending while output waits, the read event while reading
/// is not paused; if the connection is over (or an event cannot be changed), both freed.
fn settle(base: &mut EventBase, c: &mut Conn, alive: bool) {
    let Some((read, write)) = c.events else { return };
    let toggle = |base: &mut EventBase, ev: Event, on: bool| if on { base.add(ev, None) } else { base.del(ev) };
    let (want_write, want_read) = (c.io.has_pending(), !c.io.is_full());
    let ok = alive
        && (want_write == c.writing || {
            c.writing = want_write;
            toggle(base, write, want_write).is_ok()
        })
        && (want_read == c.reading || {
            c.reading = want_read;
            toggle(base, read, want_read).is_ok()
        });
    if !ok {
        c.events = None;
        let _ = base.free(read);
        let _ = base.free(write);
    }
}

/// The descriptor an event names for a socket.
#[cfg(unix)]
fn fd_of(s: &impl std::os::fd::AsRawFd) -> Fd {
    s.as_raw_fd()
}

/// The descriptor an event names for a socket.
#[cfg(windows)]
fn fd_of(s: &impl std::os::windows::io::AsRawSocket) -> Fd {
    s.as_raw_socket()
}
