//! The echo workload: ping-pong over loopback TCP, one message in flight per connection, the
//! same load client (on its own thread, pinned to CPU 1 where there is one) for every server.
//! The client never blocks on a write: a message larger than the sockets buffer goes out in
//! pieces as the server echoes the start of it back.

use std::io::{self, ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use overlap::{Interest, Reactor, ReadyEvents, Token, Trigger};

use super::cell::{Cell, FEW_FDS};
use super::human::bytes;
use super::path::Path;
use super::sample::{Figure, Sample};
use super::server::Server;
use super::{peers, sys};
use crate::echo::{EngineArg, Model, Settings};

/// The echo cells: every connection count and size, on every path (the event loop's serve with
/// `echo-server --model event` and `--model bufferevent`).
pub(crate) fn cells(paths: &[Path], conns: &[usize], sizes: &[usize]) -> Vec<Cell> {
    let mut cells = Vec::new();
    for &n in conns {
        for &size in sizes {
            for &path in paths {
                let setting = format!("{n} conns × {}", bytes(size));
                // Both ends of every connection are in this process.
                let fds = 2 * n + FEW_FDS;
                cells.push(Cell { workload: "echo", setting, path, run, conns: n, size, fds });
            }
        }
    }
    cells
}

/// Starts `path`'s echo server on 127.0.0.1 (one thread).
pub(crate) fn start(path: Path) -> io::Result<Server> {
    match path {
        #[cfg(epoll)]
        Path::Floor => floor_server(sys::raw_epoll::echo_server()?),
        #[cfg(uring)]
        Path::FloorUring => floor_server(sys::raw_uring::echo_server()?),
        #[cfg(not(epoll))]
        Path::Floor => Err(io::ErrorKind::Unsupported.into()),
        #[cfg(not(uring))]
        Path::FloorUring => Err(io::ErrorKind::Unsupported.into()),
        Path::Reactor(b) => overlap_server(Model::Readiness, b.name(), None),
        Path::Event(b) => overlap_server(Model::Event, b.name(), None),
        Path::BufferEvent(b) => overlap_server(Model::BufferEvent, b.name(), None),
        Path::BufferEventPort(b) => overlap_server(Model::BufferEvent, b.name(), Some(EngineArg::Completion)),
        Path::Port(b) => overlap_server(Model::Completion, b.name(), None),
        Path::Peer(name) => peers::echo_server(name),
    }
}

/// A raw floor server (its address, the eventfd that stops it, its thread) as a `Server`.
#[cfg(epoll)]
pub(crate) fn floor_server(
    (addr, stop, thread): (
        SocketAddr,
        std::sync::Arc<sys::raw_epoll::EventFd>,
        std::thread::JoinHandle<io::Result<()>>,
    ),
) -> io::Result<Server> {
    let stop = Box::new(move || {
        stop.signal();
        thread.join().map_err(|_| io::Error::other("a floor server panicked"))?
    });
    Ok(Server { addr, stop })
}

fn overlap_server(model: Model, backend: &str, engine: Option<EngineArg>) -> io::Result<Server> {
    let settings =
        Settings { port: 0, model, backend: Some(backend.into()), threads: Some(1), reuse_port: false, engine };
    let running = crate::echo::start(&settings)?;
    Ok(Server { addr: running.addr, stop: Box::new(move || running.stop_and_join()) })
}

fn run(cell: &Cell, secs: Duration) -> io::Result<Sample> {
    let server = start(cell.path)?;
    let (addr, conns, size) = (server.addr, cell.conns, cell.size);
    let client = std::thread::spawn(move || {
        sys::pin_to(1);
        client(addr, conns, size, secs)
    });
    let res = client.join().map_err(|_| io::Error::other("the load client panicked"))?;
    (server.stop)()?;
    res
}

/// One connection of the load client.
struct Conn {
    stream: TcpStream,
    /// Bytes of the echo received and not yet counted as a whole message.
    got: usize,
    /// Bytes of the message in flight written so far.
    sent: usize,
    /// When the last byte of the message in flight was written.
    sent_at: Instant,
    /// Registered for writable too (while a message is only partly written).
    writing: bool,
}

impl Conn {
    /// Writes what the socket takes of the rest of `msg`; notes the time when it is all out.
    fn push(&mut self, msg: &[u8]) -> io::Result<()> {
        while self.sent < msg.len() {
            match (&self.stream).write(&msg[self.sent..]) {
                Ok(0) => return Err(io::Error::new(ErrorKind::WriteZero, "the socket took no byte")),
                Ok(n) => {
                    self.sent += n;
                    if self.sent == msg.len() {
                        self.sent_at = Instant::now();
                    }
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => return Ok(()),
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// Starts the next message.
    fn send(&mut self, msg: &[u8]) -> io::Result<()> {
        self.sent = 0;
        self.push(msg)
    }

    /// Registers for writable too while the message is partly written (levels: the socket is
    /// writable again as soon as the server has read some).
    fn update_interest(&mut self, reactor: &Reactor, token: Token, size: usize) -> io::Result<()> {
        let want = self.sent < size;
        if want != self.writing {
            let interest = if want { Interest::READABLE | Interest::WRITABLE } else { Interest::READABLE };
            reactor.registry().reregister(&self.stream, token, interest, Trigger::Level)?;
            self.writing = want;
        }
        Ok(())
    }
}

/// Opens `conns` connections and keeps one `size`-byte message in flight on each for `secs`
/// (the first quarter is warm-up, not counted).
fn client(addr: SocketAddr, conns: usize, size: usize, secs: Duration) -> io::Result<Sample> {
    let mut reactor = Reactor::new()?;
    let mut all = Vec::with_capacity(conns);
    for i in 0..conns {
        let stream = TcpStream::connect(addr)?;
        stream.set_nodelay(true)?;
        stream.set_nonblocking(true)?;
        reactor.registry().register(&stream, Token(i), Interest::READABLE, Trigger::Level)?;
        all.push(Conn { stream, got: 0, sent: 0, sent_at: Instant::now(), writing: false });
    }
    let msg = vec![0x5a_u8; size];
    let mut buf = vec![0u8; 64 * 1024];
    for (i, c) in all.iter_mut().enumerate() {
        c.send(&msg)?;
        c.update_interest(&reactor, Token(i), size)?;
    }
    let start = Instant::now();
    let (measure_from, end) = (start + secs / 4, start + secs / 4 + secs);
    let mut rtts: Vec<u32> = Vec::new();
    let mut events = ReadyEvents::with_capacity(1024);
    loop {
        reactor.poll(&mut events, Some(Duration::from_millis(100)))?;
        let now = Instant::now();
        if now >= end {
            break;
        }
        for ev in &events {
            let token = ev.token();
            let c = &mut all[token.0];
            loop {
                match (&c.stream).read(&mut buf) {
                    Ok(0) => return Err(io::Error::new(ErrorKind::UnexpectedEof, "the server closed a connection")),
                    Ok(n) => c.got += n,
                    Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                    Err(e) if e.kind() == ErrorKind::Interrupted => {}
                    Err(e) => return Err(e),
                }
            }
            c.push(&msg)?;
            // The echo of a message is whole only once all of it was written.
            while c.sent == size && c.got >= size {
                c.got -= size;
                if now >= measure_from {
                    rtts.push(now.duration_since(c.sent_at).as_micros().min(u32::MAX as u128) as u32);
                }
                c.send(&msg)?;
            }
            c.update_interest(&reactor, token, size)?;
        }
    }
    let msgs = rtts.len() as f64;
    rtts.sort_unstable();
    let pct = |p: f64| rtts.get(((rtts.len() as f64 * p) as usize).min(rtts.len().saturating_sub(1))).copied();
    Ok(Sample {
        figures: vec![
            Figure::higher("msgs/s", msgs / secs.as_secs_f64()),
            Figure::lower("p50 µs", pct(0.50).unwrap_or(0) as f64),
            Figure::lower("p99 µs", pct(0.99).unwrap_or(0) as f64),
        ],
    })
}
