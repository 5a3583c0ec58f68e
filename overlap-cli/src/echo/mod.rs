//! `overlap echo-server`: a long-running TCP echo server on either model or on the event loop
//! (raw events, or buffered events and a listener), for outside load generators
//! (`../shared/bench/`). It binds 127.0.0.1, prints `listening on ADDR`, sets TCP_NODELAY on
//! accepted sockets, and exits cleanly on SIGINT or SIGTERM (Unix; on Windows Ctrl-C ends the
//! process). A port in use is refused unless both servers pass `--reuse-port` (`listen.rs`).
//! What a connection holds is bounded in every model: a client that sends and never reads
//! fills the socket buffers and waits.

mod bases;
mod bufferevent;
mod completion;
mod echoing;
mod event;
mod listen;
mod readiness;
mod running;

use std::io;
use std::net::SocketAddr;

use overlap::{PortBackend, ReactorBackend};
use overlap_event::Method;

use crate::limits::MAX_THREADS;
use listen::Share;
pub use running::Running;

/// Which model serves.
#[derive(Copy, Clone, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Model {
    /// A `Reactor` per thread, each with its own SO_REUSEPORT listener (on Windows, a clone of
    /// one listener).
    Readiness,
    /// One `CompletionPort`, a pool of worker threads, each completion posting the next op.
    Completion,
    /// An `EventBase` (`overlap-event`, libevent's model): READ|PERSIST events on the listener
    /// and on each connection, WRITE|PERSIST while output waits. One thread by default; with
    /// more, a base per thread, each with its own SO_REUSEPORT listener.
    Event,
    /// An `EventBase` with a `Listener` and a `BufferEvent` per connection (`overlap-event`'s
    /// buffered layer, libevent's bufferevents): the read callback moves the input to the
    /// output. Threads as for `event`.
    #[value(name = "bufferevent")]
    BufferEvent,
}

impl Model {
    /// The name as `--model` takes it.
    fn name(self) -> &'static str {
        match self {
            Model::Readiness => "readiness",
            Model::Completion => "completion",
            Model::Event => "event",
            Model::BufferEvent => "bufferevent",
        }
    }
}

/// What moves the bytes of the bufferevent model's buffered events.
#[derive(Copy, Clone, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum EngineArg {
    /// Non-blocking reads and writes when the base says a socket is ready (a readiness
    /// backend: epoll, poll, kqueue, afd).
    Readiness,
    /// Receives into the input and sends of the output on a completion port the base waits
    /// in (uring, epoll, poll, kqueue).
    Completion,
}

/// The server's settings.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Port to bind on 127.0.0.1 (0: any free port).
    pub port: u16,
    /// Which model.
    pub model: Model,
    /// A backend name (`epoll`, `poll`, `kqueue`, `afd` for readiness, event and bufferevent;
    /// `uring`, `iocp`, `epoll`, `poll`, `kqueue` for completion).
    pub backend: Option<String>,
    /// Worker threads, 1 to [`MAX_THREADS`] (default: 1 per CPU for readiness, 2 per CPU for
    /// completion, 1 for event and bufferevent).
    pub threads: Option<usize>,
    /// Share the port with other servers that ask the same (SO_REUSEPORT).
    pub reuse_port: bool,
    /// The bufferevent model's engine (default readiness).
    pub engine: Option<EngineArg>,
}

fn cpus() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// The readiness backend named `name` (else the default), if it runs here (for the readiness,
/// event and bufferevent models).
fn readiness_backend(name: Option<&str>) -> io::Result<ReactorBackend> {
    let backend = match name {
        None => ReactorBackend::default(),
        Some(name) => name.parse().map_err(|e: io::Error| match name.parse::<PortBackend>() {
            Ok(_) => io::Error::new(e.kind(), format!("{e}; {name} is a completion backend (--model completion)")),
            Err(_) => e,
        })?,
    };
    backend.check()?;
    Ok(backend)
}

/// The completion backend named `name` (else `None`: the port picks), if it runs here.
fn completion_backend(name: Option<&str>) -> io::Result<Option<PortBackend>> {
    let Some(name) = name else { return Ok(None) };
    let backend: PortBackend = name.parse().map_err(|e: io::Error| match name.parse::<ReactorBackend>() {
        Ok(_) => io::Error::new(
            e.kind(),
            format!("{e}; {name} is a readiness backend (--model readiness, event or bufferevent)"),
        ),
        Err(_) => e,
    })?;
    backend.check()?;
    Ok(Some(backend))
}

/// Starts the server: the backend is checked first, then the port, then the threads start.
pub fn start(settings: &Settings) -> io::Result<Running> {
    let addr = SocketAddr::from(([127, 0, 0, 1], settings.port));
    let share = if settings.reuse_port { Share::WithOthers } else { Share::Exclusive };
    if settings.engine.is_some() && settings.model != Model::BufferEvent {
        let msg = format!("--engine is for --model bufferevent, not {}", settings.model.name());
        return Err(io::Error::new(io::ErrorKind::InvalidInput, msg));
    }
    let threads = match settings.threads {
        Some(n @ 1..=MAX_THREADS) => n,
        Some(n) => {
            let msg = format!("{n} threads: a server runs 1 to {MAX_THREADS}");
            return Err(io::Error::new(io::ErrorKind::InvalidInput, msg));
        }
        None => match settings.model {
            Model::Readiness => cpus(),
            Model::Completion => 2 * cpus(),
            Model::Event | Model::BufferEvent => 1,
        }
        .min(MAX_THREADS),
    };
    let context = |e: io::Error| match e.kind() {
        io::ErrorKind::AddrInUse | io::ErrorKind::InvalidInput | io::ErrorKind::Unsupported => e,
        kind => io::Error::new(kind, format!("starting {threads} {} thread(s): {e}", settings.model.name())),
    };
    match settings.model {
        Model::Readiness => {
            let backend = readiness_backend(settings.backend.as_deref())?;
            let listeners = listen::bind(addr, threads, share).map_err(context)?;
            readiness::start(listeners, backend, threads).map_err(context)
        }
        Model::Completion => {
            let backend = completion_backend(settings.backend.as_deref())?;
            let listener = listen::bind(addr, 1, share).map_err(context)?.swap_remove(0);
            completion::start(listener, backend, threads).map_err(context)
        }
        Model::Event | Model::BufferEvent => {
            let method = match settings.engine {
                Some(EngineArg::Completion) => {
                    let best = || PortBackend::available().into_iter().next();
                    let none = || io::Error::new(io::ErrorKind::Unsupported, "no completion backend runs here");
                    let port = completion_backend(settings.backend.as_deref())?.or_else(best).ok_or_else(none)?;
                    Method::Port(port)
                }
                _ => Method::Reactor(readiness_backend(settings.backend.as_deref())?),
            };
            let listeners = listen::bind(addr, threads, share).map_err(context)?;
            let (name, build): (_, bases::Build) = match settings.model {
                Model::Event => ("overlap-event", event::build),
                _ => ("overlap-bufferevent", bufferevent::build),
            };
            bases::start(listeners, method, threads, name, build).map_err(context)
        }
    }
}

/// `overlap echo-server`: serves until the process is ended (Windows: Ctrl-C).
#[cfg(not(unix))]
pub fn run(settings: &Settings) -> io::Result<()> {
    let server = start(settings)?;
    println!("listening on {} ({:?} model)", server.addr, settings.model);
    server.join()
}

/// `overlap echo-server`: serves until SIGINT or SIGTERM.
#[cfg(unix)]
pub fn run(settings: &Settings) -> io::Result<()> {
    use signal_hook::consts::{SIGINT, SIGTERM};
    let mut signals = signal_hook::iterator::Signals::new([SIGINT, SIGTERM])?;
    let server = start(settings)?;
    println!("listening on {} ({:?} model)", server.addr, settings.model);
    let sig = signals.handle();
    let stop = server.stop.clone();
    let watcher = std::thread::spawn(move || {
        if let Some(s) = signals.forever().next() {
            eprintln!("signal {s}: stopping");
            stop();
        }
    });
    let res = server.join();
    sig.close();
    let _ = watcher.join();
    res
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};
    use std::net::TcpStream;
    use std::time::Duration;

    fn settings(model: Model, backend: &str) -> Settings {
        Settings { port: 0, model, backend: Some(backend.into()), threads: Some(2), reuse_port: false, engine: None }
    }

    /// 1000 concurrent connections, each echoing three messages, then a clean stop.
    fn thousand_clients(model: Model, backend: &str) {
        thousand_clients_on(settings(model, backend));
    }

    fn thousand_clients_on(settings: Settings) {
        let (model, backend) = (settings.model, settings.backend.clone().unwrap_or_default());
        let server = start(&settings).unwrap_or_else(|e| panic!("{model:?}/{backend}: {e}"));
        let addr = server.addr;
        let clients: Vec<TcpStream> = (0..1000).map(|_| TcpStream::connect(addr).expect("connect")).collect();
        for round in 0..3u8 {
            for (i, mut c) in clients.iter().enumerate() {
                c.write_all(&[round, i as u8, (i >> 8) as u8]).unwrap();
            }
            for (i, mut c) in clients.iter().enumerate() {
                c.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
                let mut got = [0u8; 3];
                c.read_exact(&mut got).unwrap_or_else(|e| panic!("{model:?}/{backend} client {i}: {e}"));
                assert_eq!(got, [round, i as u8, (i >> 8) as u8], "{model:?}/{backend} client {i}");
            }
        }
        drop(clients);
        server.stop_and_join().expect("server result");
    }

    #[test]
    fn echo_1000_clients_every_model_and_backend() {
        for b in overlap::ReactorBackend::available() {
            thousand_clients(Model::Readiness, b.name());
            thousand_clients(Model::Event, b.name());
            thousand_clients(Model::BufferEvent, b.name());
        }
        for b in overlap::PortBackend::available() {
            thousand_clients(Model::Completion, b.name());
            // Also on IOCP under Wine: this case found that Wine fails an AcceptEx with
            // WSAEWOULDBLOCK when another thread's accept took the connection (the two bases
            // share one listening socket there), which ended the accepting base.
            let engine = Some(EngineArg::Completion);
            thousand_clients_on(Settings { engine, ..settings(Model::BufferEvent, b.name()) });
        }
    }

    #[test]
    fn engine_is_for_the_bufferevent_model_and_names_its_backends() {
        let completion = Some(EngineArg::Completion);
        let Err(e) = start(&Settings { engine: completion, ..settings(Model::Event, "epoll") }) else {
            panic!("started")
        };
        assert!(e.to_string().contains("--engine is for --model bufferevent"), "{e}");
        let Err(e) = start(&Settings { engine: completion, ..settings(Model::BufferEvent, "afd") }) else {
            panic!("started")
        };
        assert!(e.to_string().contains("afd"), "{e}"); // not a completion backend (nor available here)
        let e = start(&Settings { engine: completion, ..settings(Model::BufferEvent, "nope") }).err();
        assert!(e.is_some_and(|e| e.kind() == io::ErrorKind::InvalidInput || e.kind() == io::ErrorKind::Unsupported));
    }

    /// Far more than a server with bounded buffers can hold for one connection, with the
    /// socket buffers of both ends (the kernel's receive buffers grow up to tens of MiB).
    #[cfg(unix)]
    const UNBOUNDED: usize = 256 << 20;

    /// A client that sends without reading: the server must stop taking its bytes (its writes
    /// block well before [`UNBOUNDED`]: a write that makes no progress for a second ends the
    /// sending, which on a slow machine only ends it sooner), and once the client reads, it
    /// must get back every byte it sent, in order (reading resumed). Unix only: on Windows a
    /// send that timed out leaves the socket in an undefined state.
    #[cfg(unix)]
    fn never_reading_client(model: Model, backend: &str) {
        let what = format!("{model:?}/{backend}");
        let server = start(&settings(model, backend)).unwrap_or_else(|e| panic!("{what}: {e}"));
        let c = TcpStream::connect(server.addr).expect("connect");
        c.set_write_timeout(Some(Duration::from_secs(1))).unwrap();
        c.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
        let chunk: Vec<u8> = (0..64 * 1024).map(|i| (i % 251) as u8).collect();
        let mut sent = 0usize;
        while sent < UNBOUNDED {
            let at = sent % chunk.len();
            match (&c).write(&chunk[at..]) {
                Ok(n) => sent += n,
                Err(e) if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut) => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => panic!("{what}: writing: {e}"),
            }
        }
        assert!(sent < UNBOUNDED, "{what}: the server took {sent} bytes from a client that never read");
        let mut got = vec![0u8; 64 * 1024];
        let mut back = 0usize;
        while back < sent {
            let want = (sent - back).min(got.len());
            let n = (&c).read(&mut got[..want]).unwrap_or_else(|e| panic!("{what}: {back} of {sent} back: {e}"));
            assert!(n > 0, "{what}: closed after {back} of {sent} bytes");
            let first_bad = (0..n).find(|&k| got[k] != ((back + k) % chunk.len() % 251) as u8);
            assert!(first_bad.is_none(), "{what}: byte {} differs", back + first_bad.unwrap_or(0));
            back += n;
        }
        drop(c);
        server.stop_and_join().expect("server result");
    }

    #[test]
    #[cfg(unix)]
    fn a_client_that_never_reads_cannot_grow_the_server() {
        for b in overlap::ReactorBackend::available() {
            never_reading_client(Model::Readiness, b.name());
            never_reading_client(Model::Event, b.name());
            never_reading_client(Model::BufferEvent, b.name());
        }
        for b in overlap::PortBackend::available() {
            never_reading_client(Model::Completion, b.name());
        }
    }

    #[test]
    fn unknown_backend_is_a_clear_error() {
        let e = start(&settings(Model::Readiness, "select")).expect_err("an error");
        assert_eq!(e.kind(), io::ErrorKind::InvalidInput, "{e}");
    }

    #[test]
    fn thread_counts_out_of_range_are_refused() {
        for threads in [0, MAX_THREADS + 1] {
            let s = Settings { threads: Some(threads), ..settings(Model::Completion, "poll") };
            let e = start(&s).expect_err("an error");
            assert_eq!(e.kind(), io::ErrorKind::InvalidInput, "{e}");
        }
    }
}
