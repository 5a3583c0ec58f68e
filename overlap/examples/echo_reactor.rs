//! A readiness-model echo server on one `Reactor`, with its own clients, that ends by itself.
//!
//! ```text
//! cargo run --release -p overlap --example echo_reactor -- [epoll|poll] [clients] [round-trips]
//! ```
//!
//! The server binds 127.0.0.1 on a free port and echoes with edge triggering (level on poll,
//! which has no edges); each client thread sends 64-byte messages and checks every echo.

use std::collections::HashMap;
use std::io::{self, ErrorKind, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::{Duration, Instant};

use overlap::{Interest, Reactor, ReactorBackend, ReadyEvents, Token, Trigger, Waker};

const LISTENER: Token = Token(0);
const STOP: Token = Token(1);

fn main() -> io::Result<()> {
    let mut args = std::env::args().skip(1);
    let backend = match args.next() {
        Some(name) => name.parse::<ReactorBackend>()?,
        None => ReactorBackend::default(),
    };
    let clients: usize = args.next().map_or(Ok(16), |s| s.parse()).map_err(invalid)?;
    let trips: usize = args.next().map_or(Ok(1000), |s| s.parse()).map_err(invalid)?;

    let mut reactor = Reactor::builder().backend(backend).build()?;
    // poll(2) and AFD see levels only.
    let trigger =
        if matches!(backend, ReactorBackend::Poll | ReactorBackend::Afd) { Trigger::Level } else { Trigger::Edge };
    let listener = TcpListener::bind("127.0.0.1:0")?;
    listener.set_nonblocking(true)?;
    let addr = listener.local_addr()?;
    reactor.registry().register(&listener, LISTENER, Interest::READABLE, trigger)?;
    let stop = Waker::new(reactor.registry(), STOP)?;

    let start = Instant::now();
    let workers: Vec<_> = (0..clients).map(|_| std::thread::spawn(move || client(addr, trips))).collect();
    let waiter = std::thread::spawn(move || {
        let results: Vec<io::Result<()>> = workers.into_iter().map(|w| w.join().expect("client")).collect();
        stop.wake().expect("wake");
        results
    });

    let mut conns: HashMap<Token, TcpStream> = HashMap::new();
    let mut next = 2;
    let mut events = ReadyEvents::with_capacity(256);
    let mut buf = vec![0u8; 64 * 1024];
    'serve: loop {
        reactor.poll(&mut events, None)?;
        for event in &events {
            match event.token() {
                STOP => break 'serve,
                LISTENER => loop {
                    match listener.accept() {
                        Ok((s, _)) => {
                            s.set_nonblocking(true)?;
                            s.set_nodelay(true)?;
                            let token = Token(next);
                            next += 1;
                            reactor.registry().register(&s, token, Interest::READABLE, trigger)?;
                            conns.insert(token, s);
                        }
                        Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                        Err(e) => return Err(e),
                    }
                },
                token => {
                    let Some(s) = conns.get(&token) else { continue };
                    if !echo(s, &mut buf)? {
                        reactor.registry().deregister(s)?;
                        conns.remove(&token);
                    }
                }
            }
        }
    }
    for r in waiter.join().expect("waiter") {
        r?;
    }
    let took = start.elapsed();
    let total = clients * trips;
    println!(
        "{backend}: {clients} clients x {trips} round trips = {total} echoes in {:.2?} ({:.0}/s)",
        took,
        total as f64 / took.as_secs_f64()
    );
    Ok(())
}

/// Echoes what is there; false once the peer has closed.
fn echo(mut s: &TcpStream, buf: &mut [u8]) -> io::Result<bool> {
    loop {
        match s.read(buf) {
            Ok(0) => return Ok(false),
            Ok(n) => s.write_all(&buf[..n])?, // small echoes fit the socket buffer
            Err(e) if e.kind() == ErrorKind::WouldBlock => return Ok(true),
            Err(e) if e.kind() == ErrorKind::ConnectionReset => return Ok(false),
            Err(e) => return Err(e),
        }
    }
}

fn client(addr: std::net::SocketAddr, trips: usize) -> io::Result<()> {
    let mut s = TcpStream::connect(addr)?;
    s.set_nodelay(true)?;
    s.set_read_timeout(Some(Duration::from_secs(30)))?;
    let mut msg = [0u8; 64];
    let mut back = [0u8; 64];
    for i in 0..trips {
        msg[..8].copy_from_slice(&(i as u64).to_le_bytes());
        s.write_all(&msg)?;
        s.read_exact(&mut back)?;
        if back != msg {
            return Err(io::Error::new(ErrorKind::InvalidData, "echo differs"));
        }
    }
    Ok(())
}

fn invalid(e: std::num::ParseIntError) -> io::Error {
    io::Error::new(ErrorKind::InvalidInput, e)
}
