//! The servers of the `bulk` workload: sinks that read what one connection sends and discard
//! it, each on its own thread, one read of the cell's size per readiness report
//! (level-triggered), so that the paths make the same system calls and differ only in what
//! runs around them:
//!
//! | path | how it reads |
//! |---|---|
//! | `raw-epoll` | `recv` into a fixed buffer on a raw epoll loop (`sys/bulk_floor.rs`) |
//! | `reactor/…` | `recv` into a fixed buffer when a `Reactor` reports the socket readable |
//! | `event/…` | `recv` into a fixed buffer from a READ\|PERSIST event's callback |
//! | `bufferevent/…` | a `BufferEvent` reads into its input (`set_max_io(read, read)`), its read callback drains it |
//! | `bufferevent-completion/…` | the same on the completion engine: each receive, of up to `read` bytes, straight into the input |

use std::cell::RefCell;
use std::io::{self, ErrorKind, Read};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::rc::Rc;
use std::sync::mpsc;

use overlap::{Interest, Reactor, ReactorBackend, ReadyEvents, Token, Trigger, Waker};
use overlap_event::{BufferEvent, EventBase, EventConfig, Flags, Listener, ListenerOptions, What};

use super::path::Path;
use super::server::Server;
#[cfg(epoll)]
use super::{echo::floor_server, sys};

/// The first error a callback met (it ends the loop).
type Failure = Rc<RefCell<Option<io::Error>>>;

/// Starts `path`'s sink on 127.0.0.1, reading `read` bytes at a time.
pub(crate) fn start(path: Path, read: usize) -> io::Result<Server> {
    let bind = || {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        listener.set_nonblocking(true)?;
        Ok::<_, io::Error>(listener)
    };
    match path {
        #[cfg(epoll)]
        Path::Floor => floor_server(sys::bulk_floor::sink(read)?),
        Path::Reactor(b) => reactor(bind()?, b, read),
        Path::Event(b) => {
            let listener = bind()?;
            on_own_base(EventConfig::new().backend(b), move |base, failed| events(base, listener, read, failed))
        }
        Path::BufferEvent(b) => {
            let listener = bind()?;
            on_own_base(EventConfig::new().backend(b), move |base, _| buffered(base, listener, read))
        }
        Path::BufferEventPort(b) => {
            let listener = bind()?;
            on_own_base(EventConfig::new().port(b), move |base, _| buffered(base, listener, read))
        }
        _ => Err(io::Error::new(ErrorKind::Unsupported, format!("no bulk sink on {path}"))),
    }
}

/// Reads once from `s` into `buf`: false when the connection is over (end of stream or an
/// error).
fn read_once(s: &TcpStream, buf: &mut [u8]) -> bool {
    match (&*s).read(buf) {
        Ok(0) => false,
        Ok(_) => true,
        Err(e) => matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::Interrupted),
    }
}

/// A `Reactor` watching the listener and the connection, level-triggered; a waker stops it.
fn reactor(listener: TcpListener, backend: ReactorBackend, read: usize) -> io::Result<Server> {
    const LISTENER: Token = Token(0);
    const STOP: Token = Token(1);
    const CONN: Token = Token(2);
    let addr = listener.local_addr()?;
    let mut reactor = Reactor::builder().backend(backend).build()?;
    reactor.registry().register(&listener, LISTENER, Interest::READABLE, Trigger::Level)?;
    let waker = Waker::new(reactor.registry(), STOP)?;
    let thread = std::thread::spawn(move || -> io::Result<()> {
        let mut conn: Option<TcpStream> = None;
        let mut events = ReadyEvents::with_capacity(8);
        let mut buf = vec![0u8; read.max(1)];
        loop {
            reactor.poll(&mut events, None)?;
            for ev in &events {
                match ev.token() {
                    STOP => return Ok(()),
                    LISTENER => match listener.accept() {
                        Ok((s, _)) if conn.is_none() => {
                            s.set_nonblocking(true)?;
                            reactor.registry().register(&s, CONN, Interest::READABLE, Trigger::Level)?;
                            conn = Some(s);
                        }
                        Ok(_) => {} // one at a time: this one is closed
                        Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::ConnectionAborted) => {}
                        Err(e) => return Err(e),
                    },
                    _ => {
                        let Some(s) = conn.as_ref() else { continue };
                        if !read_once(s, &mut buf) {
                            let _ = reactor.registry().deregister(s);
                            conn = None;
                        }
                    }
                }
            }
        }
    });
    let stop = Box::new(move || {
        waker.wake()?;
        thread.join().map_err(|_| io::Error::other("a bulk sink panicked"))?
    });
    Ok(Server { addr, stop })
}

/// Runs an event base made with `config` on its own thread, set up by `setup` there (bases stay on the
/// thread that built them); its handle breaks the loop to stop it.
fn on_own_base<F>(config: EventConfig, setup: F) -> io::Result<Server>
where
    F: FnOnce(&mut EventBase, &Failure) -> io::Result<SocketAddr> + Send + 'static,
{
    let (ready, started) = mpsc::channel();
    let thread = std::thread::spawn(move || -> io::Result<()> {
        let failed: Failure = Rc::default();
        let built =
            EventBase::with_config(&config).and_then(|mut base| setup(&mut base, &failed).map(|addr| (base, addr)));
        let mut base = match built {
            Ok((base, addr)) => {
                let _ = ready.send(Ok((base.handle(), addr)));
                base
            }
            Err(e) => {
                let _ = ready.send(Err(e));
                return Ok(()); // said to the starting thread, which fails with it
            }
        };
        base.dispatch()?;
        let failed = failed.borrow_mut().take();
        failed.map_or(Ok(()), Err)
    });
    let (handle, addr) = match started.recv() {
        Ok(res) => res?,
        Err(_) => return Err(io::Error::other("a bulk sink ended before it served")),
    };
    let stop = Box::new(move || {
        handle.loopbreak()?;
        thread.join().map_err(|_| io::Error::other("a bulk sink panicked"))?
    });
    Ok(Server { addr, stop })
}

/// Raw events: a READ|PERSIST event on the listener accepts; one on the connection reads once
/// into a fixed buffer per callback, and frees itself (closing the socket) at the end.
fn events(base: &mut EventBase, listener: TcpListener, read: usize, failed: &Failure) -> io::Result<SocketAddr> {
    let addr = listener.local_addr()?;
    let buf = Rc::new(RefCell::new(vec![0u8; read.max(1)]));
    let failed = failed.clone();
    let fd = fd_of(&listener);
    let accept = base.new_event(fd, Flags::READ | Flags::PERSIST, move |base, _, _| match listener.accept() {
        Ok((s, _)) => {
            let buf = buf.clone();
            let fd = fd_of(&s);
            let conn = s.set_nonblocking(true).and_then(|()| {
                base.new_event(fd, Flags::READ | Flags::PERSIST, move |base, ev, _| {
                    if !read_once(&s, &mut buf.borrow_mut()) {
                        let _ = base.free(ev);
                    }
                })
            });
            if let Err(e) = conn.and_then(|ev| base.add(ev, None)) {
                failed.borrow_mut().get_or_insert(e);
                base.loopbreak();
            }
        }
        Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::ConnectionAborted) => {}
        Err(e) => {
            failed.borrow_mut().get_or_insert(e);
            base.loopbreak();
        }
    })?;
    base.add(accept, None)?;
    Ok(addr)
}

/// Buffered events: a `Listener` accepts; each connection's `BufferEvent` reads at most `read`
/// bytes at a time into its input, and its read callback drains it. It frees itself at the end.
fn buffered(base: &mut EventBase, listener: TcpListener, read: usize) -> io::Result<SocketAddr> {
    let addr = listener.local_addr()?;
    Listener::from_socket(base, listener, ListenerOptions::new(), move |base, _, sock, _| {
        let Ok(bev) = BufferEvent::socket(base, sock) else { return };
        bev.on_read(|_, bev| {
            let mut input = bev.input();
            let n = input.len();
            let _ = input.drain(n);
        });
        bev.on_event(|base, bev, what| {
            if what.intersects(What::EOF | What::ERROR) {
                let _ = bev.free(base);
            }
        });
        if bev.set_max_io(read.max(1), read.max(1)).and_then(|()| bev.enable(base, Flags::READ)).is_err() {
            let _ = bev.free(base);
        }
    })?;
    Ok(addr)
}

/// The descriptor an event names for a socket.
#[cfg(unix)]
fn fd_of(s: &impl std::os::fd::AsRawFd) -> overlap_event::Fd {
    s.as_raw_fd()
}

/// The descriptor an event names for a socket.
#[cfg(windows)]
fn fd_of(s: &impl std::os::windows::io::AsRawSocket) -> overlap_event::Fd {
    s.as_raw_socket()
}
