//! A readiness echo server on the event loop, with its own clients, that ends by itself: the
//! libevent way (a persistent read event on the listener, one per connection, a write event
//! only while output is pending).
//!
//! ```text
//! cargo run --release -p overlap-event --example echo_server -- [epoll|poll|afd|kqueue] [clients] [round-trips]
//! ```
//!
//! Each client thread sends 64-byte messages and checks every echo; when all are done, one of
//! them stops the loop through a `BaseHandle`.

use std::cell::RefCell;
use std::io::{self, ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::rc::Rc;
use std::time::Instant;

use overlap_event::{EventBase, EventConfig, Fd, Flags, ReactorBackend};

/// One connection: its socket, what is left to write, and its two events.
struct Conn {
    stream: TcpStream,
    out: Vec<u8>,
    read_ev: Option<overlap_event::Event>,
    write_ev: Option<overlap_event::Event>,
}

type Shared = Rc<RefCell<Conn>>;

fn main() -> io::Result<()> {
    let mut args = std::env::args().skip(1);
    let mut config = EventConfig::new();
    if let Some(name) = args.next() {
        config = config.backend(name.parse::<ReactorBackend>()?);
    }
    let clients: usize = args.next().map_or(Ok(16), |s| s.parse()).map_err(invalid)?;
    let trips: usize = args.next().map_or(Ok(1000), |s| s.parse()).map_err(invalid)?;

    let mut base = EventBase::with_config(&config)?;
    let listener = TcpListener::bind("127.0.0.1:0")?;
    listener.set_nonblocking(true)?;
    let addr = listener.local_addr()?;
    let lfd = fd(&listener);
    let accept = base.new_event(lfd, Flags::READ | Flags::PERSIST, move |base, _, _| loop {
        match listener.accept() {
            Ok((s, _)) => {
                if let Err(e) = open(base, s) {
                    eprintln!("echo_server: a connection failed: {e}");
                }
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => break,
            Err(e) => {
                eprintln!("echo_server: accept: {e}");
                break;
            }
        }
    })?;
    base.add(accept, None)?;

    let start = Instant::now();
    let handle = base.handle();
    let workers: Vec<_> = (0..clients).map(|_| std::thread::spawn(move || client(addr, trips))).collect();
    let waiter = std::thread::spawn(move || {
        let results: Vec<io::Result<()>> = workers.into_iter().map(|w| w.join().expect("client")).collect();
        handle.loopbreak().expect("stop the loop");
        results
    });
    base.dispatch()?;
    for r in waiter.join().expect("waiter") {
        r?;
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "{} clients x {trips} round trips on the event loop ({}): {:.0} round trips/s",
        clients,
        base.backend(),
        (clients * trips) as f64 / secs
    );
    Ok(())
}

/// Starts serving `s`: a persistent read event; the write event is made now, added only while
/// output is pending.
fn open(base: &mut EventBase, s: TcpStream) -> io::Result<()> {
    s.set_nonblocking(true)?;
    s.set_nodelay(true)?;
    let sfd = fd(&s);
    let conn: Shared = Rc::new(RefCell::new(Conn { stream: s, out: Vec::new(), read_ev: None, write_ev: None }));
    let c = conn.clone();
    let read_ev = base.new_event(sfd, Flags::READ | Flags::PERSIST, move |base, _, _| on_read(base, &c))?;
    let c = conn.clone();
    let write_ev = base.new_event(sfd, Flags::WRITE | Flags::PERSIST, move |base, _, _| on_write(base, &c))?;
    {
        let mut c = conn.borrow_mut();
        c.read_ev = Some(read_ev);
        c.write_ev = Some(write_ev);
    }
    base.add(read_ev, None)
}

/// Echoes what arrived; on a short write, stops reading until the rest is out.
fn on_read(base: &mut EventBase, conn: &Shared) {
    let mut buf = [0u8; 64 * 1024];
    let mut c = conn.borrow_mut();
    let n = match c.stream.read(&mut buf) {
        Ok(0) => return close(base, c),
        Ok(n) => n,
        Err(e) if e.kind() == ErrorKind::WouldBlock => return,
        Err(_) => return close(base, c),
    };
    let sent = match c.stream.write(&buf[..n]) {
        Ok(k) => k,
        Err(e) if e.kind() == ErrorKind::WouldBlock => 0,
        Err(_) => return close(base, c),
    };
    if sent < n {
        c.out.extend_from_slice(&buf[sent..n]);
        let (r, w) = (c.read_ev, c.write_ev);
        drop(c);
        let _ = r.map(|r| base.del(r));
        let _ = w.map(|w| base.add(w, None));
    }
}

/// Writes what is pending; once it is all out, reads again.
fn on_write(base: &mut EventBase, conn: &Shared) {
    let mut c = conn.borrow_mut();
    let c = &mut *c;
    match c.stream.write(&c.out) {
        Ok(k) => {
            c.out.drain(..k);
        }
        Err(e) if e.kind() == ErrorKind::WouldBlock => return,
        Err(_) => {
            let (r, w) = (c.read_ev.take(), c.write_ev.take());
            let _ = r.map(|r| base.free(r));
            let _ = w.map(|w| base.free(w));
            return;
        }
    }
    if c.out.is_empty() {
        let _ = c.write_ev.map(|w| base.del(w));
        let _ = c.read_ev.map(|r| base.add(r, None));
    }
}

/// Frees both events; the socket closes when the last callback holding it goes.
fn close(base: &mut EventBase, mut c: std::cell::RefMut<'_, Conn>) {
    let (r, w) = (c.read_ev.take(), c.write_ev.take());
    drop(c);
    let _ = r.map(|r| base.free(r));
    let _ = w.map(|w| base.free(w));
}

/// One client: `trips` 64-byte messages, each echo checked.
fn client(addr: SocketAddr, trips: usize) -> io::Result<()> {
    let mut s = TcpStream::connect(addr)?;
    s.set_nodelay(true)?;
    let mut msg = [0u8; 64];
    let mut back = [0u8; 64];
    for i in 0..trips {
        msg.fill((i % 251) as u8);
        s.write_all(&msg)?;
        s.read_exact(&mut back)?;
        if back != msg {
            return Err(io::Error::other(format!("round trip {i}: the echo differs")));
        }
    }
    Ok(())
}

#[cfg(unix)]
fn fd(s: &impl std::os::fd::AsRawFd) -> Fd {
    s.as_raw_fd()
}

#[cfg(windows)]
fn fd(s: &impl std::os::windows::io::AsRawSocket) -> Fd {
    s.as_raw_socket()
}

fn invalid(e: std::num::ParseIntError) -> io::Error {
    io::Error::new(ErrorKind::InvalidInput, e)
}
