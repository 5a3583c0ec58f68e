//! The echo server on the readiness model: one `Reactor` per thread, edge-triggered.

use std::collections::HashMap;
use std::io::{self, ErrorKind};
use std::net::TcpListener;
use std::sync::Arc;

use overlap::{Interest, Reactor, ReactorBackend, ReadyEvents, Token, Trigger, Waker};

use super::echoing::{Echoing, BUF};
use super::running::{self, Running, Stop};

const LISTENER: Token = Token(0);
const STOP: Token = Token(1);

/// A connection: its echo, and its interest.
struct Conn {
    io: Echoing,
    /// Registered for writable too (only while bytes wait to be written back: a
    /// level-triggered writable interest on an idle socket would wake every poll).
    writing: bool,
}

/// Serves on `listeners` (one per thread where SO_REUSEPORT exists; elsewhere each thread
/// watches a clone of the first) with a `Reactor` per thread.
pub(super) fn start(listeners: Vec<TcpListener>, backend: ReactorBackend, threads: usize) -> io::Result<Running> {
    let first = listeners.first().ok_or_else(|| io::Error::other("no listener"))?;
    let addr = first.local_addr()?;
    // poll(2) and AFD see levels only.
    let trigger =
        if matches!(backend, ReactorBackend::Poll | ReactorBackend::Afd) { Trigger::Level } else { Trigger::Edge };
    let mut wakers = Vec::new();
    let mut loops = Vec::new();
    for i in 0..threads.max(1) {
        let listener = match listeners.get(i) {
            Some(l) => l.try_clone()?,
            None => first.try_clone()?,
        };
        let reactor = Reactor::builder().backend(backend).build()?;
        reactor.registry().register(&listener, LISTENER, Interest::READABLE, trigger)?;
        wakers.push(Waker::new(reactor.registry(), STOP)?);
        loops.push((reactor, listener));
    }
    drop(listeners);
    let stop: Stop = Arc::new(move || {
        for w in &wakers {
            let _ = w.wake();
        }
    });
    let mut handles = Vec::with_capacity(loops.len());
    for (reactor, listener) in loops {
        match running::spawn("overlap-reactor", move || serve(reactor, listener, trigger)) {
            Ok(h) => handles.push(h),
            Err(e) => {
                stop();
                let _ = running::join_all(handles);
                return Err(e);
            }
        }
    }
    Ok(Running { addr, stop, threads: handles })
}

fn serve(mut reactor: Reactor, listener: TcpListener, trigger: Trigger) -> io::Result<()> {
    let mut conns: HashMap<Token, Conn> = HashMap::new();
    let mut next = 2usize;
    let mut events = ReadyEvents::with_capacity(1024);
    let mut buf = vec![0u8; BUF];
    loop {
        reactor.poll(&mut events, None)?;
        for ev in &events {
            match ev.token() {
                STOP => return Ok(()),
                LISTENER => loop {
                    match listener.accept() {
                        Ok((stream, _)) => {
                            stream.set_nonblocking(true)?;
                            stream.set_nodelay(true)?;
                            let token = Token(next);
                            next += 1;
                            reactor.registry().register(&stream, token, Interest::READABLE, trigger)?;
                            conns.insert(token, Conn { io: Echoing::new(stream), writing: false });
                        }
                        Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                        Err(e) if is_transient(&e) => break, // EMFILE and friends: try again later
                        Err(e) => return Err(e),
                    }
                },
                token => {
                    let Some(conn) = conns.get_mut(&token) else { continue };
                    let alive = conn.io.echo(&mut buf) && {
                        let want_write = conn.io.has_pending();
                        want_write == conn.writing || {
                            let interest =
                                if want_write { Interest::READABLE | Interest::WRITABLE } else { Interest::READABLE };
                            conn.writing = want_write;
                            reactor.registry().reregister(&conn.io.stream, token, interest, trigger).is_ok()
                        }
                    };
                    if !alive {
                        let _ = reactor.registry().deregister(&conn.io.stream);
                        conns.remove(&token);
                    }
                }
            }
        }
    }
}

fn is_transient(e: &io::Error) -> bool {
    matches!(e.raw_os_error(), Some(code) if code == 24 || code == 23 || code == 103)
    // EMFILE ENFILE ECONNABORTED
}
