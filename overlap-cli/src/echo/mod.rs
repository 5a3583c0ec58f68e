//! `overlap echo-server`: a long-running TCP echo server on either model, for outside load
//! generators (`../shared/bench/`). It binds 127.0.0.1, prints `listening on ADDR`, sets
//! TCP_NODELAY on accepted sockets, and exits cleanly on SIGINT or SIGTERM (Unix; on Windows
//! Ctrl-C ends the process).

mod completion;
mod readiness;

use std::io;
use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;

use socket2::{Domain, Socket, Type};

/// Which model serves.
#[derive(Copy, Clone, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Model {
    /// A `Reactor` per thread, each with its own SO_REUSEPORT listener (on Windows, a clone of
    /// one listener).
    Readiness,
    /// One `CompletionPort`, a pool of worker threads, each completion posting the next op.
    Completion,
}

/// The server's settings.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Port to bind on 127.0.0.1 (0: any free port).
    pub port: u16,
    /// Which model.
    pub model: Model,
    /// A backend name (`epoll`, `poll`, `kqueue` for readiness; also `uring` for completion).
    pub backend: Option<String>,
    /// Worker threads (default: 1 per CPU for readiness, 2 per CPU for completion).
    pub threads: Option<usize>,
}

/// A way to stop a running server from another thread.
pub type Stop = Arc<dyn Fn() + Send + Sync>;

/// A listener on 127.0.0.1:`port` with SO_REUSEPORT, so several can share the port.
pub(crate) fn listener(addr: SocketAddr) -> io::Result<TcpListener> {
    let s = Socket::new(Domain::for_address(addr), Type::STREAM, None)?;
    #[cfg(unix)]
    {
        s.set_reuse_address(true)?;
        s.set_reuse_port(true)?;
    }
    s.bind(&addr.into())?;
    s.listen(1024)?;
    s.set_nonblocking(true)?;
    Ok(s.into())
}

fn cpus() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// Starts the server; returns its address and a function that stops it, and a join handle.
pub fn start(settings: &Settings) -> io::Result<(SocketAddr, Stop, std::thread::JoinHandle<io::Result<()>>)> {
    let addr = SocketAddr::from(([127, 0, 0, 1], settings.port));
    match settings.model {
        Model::Readiness => {
            let backend = settings.backend.as_deref().map(str::parse).transpose()?.unwrap_or_default();
            readiness::start(addr, backend, settings.threads.unwrap_or_else(cpus))
        }
        Model::Completion => {
            let backend = settings.backend.as_deref().map(str::parse).transpose()?;
            completion::start(addr, backend, settings.threads.unwrap_or_else(|| 2 * cpus()))
        }
    }
}

/// `overlap echo-server`: serves until the process is ended (Windows: Ctrl-C).
#[cfg(not(unix))]
pub fn run(settings: &Settings) -> io::Result<()> {
    let (addr, _stop, server) = start(settings)?;
    println!("listening on {addr} ({:?} model)", settings.model);
    server.join().map_err(|_| io::Error::other("the server thread panicked"))?
}

/// `overlap echo-server`: serves until SIGINT or SIGTERM.
#[cfg(unix)]
pub fn run(settings: &Settings) -> io::Result<()> {
    use signal_hook::consts::{SIGINT, SIGTERM};
    let mut signals = signal_hook::iterator::Signals::new([SIGINT, SIGTERM])?;
    let (addr, stop, server) = start(settings)?;
    println!("listening on {addr} ({:?} model)", settings.model);
    let sig = signals.handle();
    let watcher = std::thread::spawn(move || {
        if let Some(s) = signals.forever().next() {
            eprintln!("signal {s}: stopping");
            stop();
        }
    });
    let res = server.join().map_err(|_| io::Error::other("the server thread panicked"))?;
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

    /// 1000 concurrent connections, each echoing three messages, then a clean stop.
    fn thousand_clients(model: Model, backend: &str) {
        let settings = Settings { port: 0, model, backend: Some(backend.into()), threads: Some(2) };
        let (addr, stop, server) = start(&settings).unwrap_or_else(|e| panic!("{model:?}/{backend}: {e}"));
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
        stop();
        server.join().expect("server thread").expect("server result");
    }

    #[test]
    fn echo_1000_clients_every_model_and_backend() {
        for b in overlap::ReactorBackend::available() {
            thousand_clients(Model::Readiness, b.name());
        }
        for b in overlap::PortBackend::available() {
            thousand_clients(Model::Completion, b.name());
        }
    }

    #[test]
    fn unknown_backend_is_a_clear_error() {
        let settings = Settings { port: 0, model: Model::Readiness, backend: Some("select".into()), threads: None };
        let e = start(&settings).err().expect("an error");
        assert_eq!(e.kind(), io::ErrorKind::InvalidInput, "{e}");
    }
}
