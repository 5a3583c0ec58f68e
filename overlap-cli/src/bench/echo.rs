//! The echo workload: ping-pong over loopback TCP, one message in flight per connection, the
//! same load client (on its own thread, pinned to CPU 1 where there is one) for every server.

use std::io::{self, ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use overlap::{Interest, Reactor, ReadyEvents, Token, Trigger};

use super::report::{Figure, Sample};
use super::{sys, Cell, Path};
use crate::echo::{Model, Settings};

/// The echo cells: every connection count and size, on every path.
pub(crate) fn cells(paths: &[Path], conns: &[usize], sizes: &[usize]) -> Vec<Cell> {
    let mut cells = Vec::new();
    for &n in conns {
        for &size in sizes {
            for &path in paths {
                let setting = format!("{n} conns × {size} B");
                cells.push(Cell { workload: "echo", setting, path, run, conns: n, size });
            }
        }
    }
    cells
}

/// A running server and how to stop it.
pub(crate) struct Server {
    pub(crate) addr: SocketAddr,
    pub(crate) stop: Box<dyn FnOnce() -> io::Result<()>>,
}

pub(crate) fn start(path: Path) -> io::Result<Server> {
    match path {
        #[cfg(target_os = "linux")]
        Path::Floor => floor_server(sys::raw_epoll::echo_server()?),
        #[cfg(target_os = "linux")]
        Path::FloorUring => floor_server(sys::raw_uring::echo_server()?),
        #[cfg(not(target_os = "linux"))]
        Path::Floor | Path::FloorUring => Err(io::ErrorKind::Unsupported.into()),
        Path::Reactor(b) => overlap_server(Model::Readiness, b.name()),
        Path::Port(b) => overlap_server(Model::Completion, b.name()),
        Path::Peer(name) => super::peers::echo_server(name),
    }
}

/// A raw floor server (its address, the eventfd that stops it, its thread) as a `Server`.
#[cfg(target_os = "linux")]
fn floor_server(
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

fn overlap_server(model: Model, backend: &str) -> io::Result<Server> {
    let settings = Settings { port: 0, model, backend: Some(backend.into()), threads: Some(1) };
    let (addr, stop, thread) = crate::echo::start(&settings)?;
    let stop = Box::new(move || {
        stop();
        thread.join().map_err(|_| io::Error::other("the server panicked"))?
    });
    Ok(Server { addr, stop })
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
    got: usize,
    sent_at: Instant,
}

/// Writes all of `msg` to a non-blocking socket (its buffer has room for one message; a short
/// write only waits for the kernel to take the rest).
pub(crate) fn send_all(mut s: impl Write, mut msg: &[u8]) -> io::Result<()> {
    while !msg.is_empty() {
        match s.write(msg) {
            Ok(n) => msg = &msg[n..],
            Err(e) if e.kind() == ErrorKind::WouldBlock => std::thread::yield_now(),
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Opens `conns` connections and keeps one `size`-byte message in flight on each for `secs`
/// (the first quarter is warm-up, not counted).
fn client(addr: SocketAddr, conns: usize, size: usize, secs: Duration) -> io::Result<Sample> {
    let mut reactor = Reactor::new()?;
    let trigger = Trigger::Level;
    let mut all = Vec::with_capacity(conns);
    for i in 0..conns {
        let stream = TcpStream::connect(addr)?;
        stream.set_nodelay(true)?;
        stream.set_nonblocking(true)?;
        reactor.registry().register(&stream, Token(i), Interest::READABLE, trigger)?;
        all.push(Conn { stream, got: 0, sent_at: Instant::now() });
    }
    let msg = vec![0x5a_u8; size];
    let mut buf = vec![0u8; 64 * 1024];
    for c in &mut all {
        send_all(&c.stream, &msg)?;
        c.sent_at = Instant::now();
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
            let c = &mut all[ev.token().0];
            loop {
                match (&c.stream).read(&mut buf) {
                    Ok(0) => return Err(io::Error::new(ErrorKind::UnexpectedEof, "the server closed a connection")),
                    Ok(n) => c.got += n,
                    Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                    Err(e) => return Err(e),
                }
            }
            while c.got >= size {
                c.got -= size;
                if now >= measure_from {
                    rtts.push(now.duration_since(c.sent_at).as_micros().min(u32::MAX as u128) as u32);
                }
                send_all(&c.stream, &msg)?;
                c.sent_at = Instant::now();
            }
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
