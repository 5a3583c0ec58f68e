//! The echo server on the event loop (`overlap-event`, libevent's model): an `EventBase` per
//! thread (`bases.rs`), one thread unless asked for more (then each base has its own
//! SO_REUSEPORT listener, as the readiness model's reactors do; elsewhere a clone of one).
//!
//! A READ|PERSIST event on the non-blocking listener accepts until WouldBlock. Per connection
//! (TCP_NODELAY) a READ|PERSIST event reads (64 KiB) and writes back; what the socket does not
//! take waits, in order, and a WRITE|PERSIST event is pending only while it does; reading pauses
//! (the read event is deleted) while too much waits, and resumes when the output drains
//! (`echoing.rs`). At end of stream or on an error both events are freed, and the socket closes
//! with the last of them.

use std::cell::RefCell;
use std::io::{self, ErrorKind};
use std::net::{TcpListener, TcpStream};
use std::rc::Rc;
use std::time::Duration;

use overlap_event::Method;
use overlap_event::{Event, EventBase, EventConfig, Fd, Flags};

use super::bases::{out_of_descriptors, Failure};
use super::echoing::{Echoing, BUF};

/// How long accepting pauses when the process is out of descriptors (a level-triggered
/// listener would otherwise report the waiting connection again at once, for ever).
const ACCEPT_PAUSE: Duration = Duration::from_millis(100);

/// The read buffer a base's connections share (callbacks never run two at a time).
type Buf = Rc<RefCell<Box<[u8]>>>;

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

/// A base on `backend` with a READ|PERSIST event on `listener`, which accepts.
pub(super) fn build(listener: TcpListener, backend: Method, failed: &Failure) -> io::Result<EventBase> {
    let mut base = EventBase::with_config(&EventConfig::new().method(backend))?;
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
