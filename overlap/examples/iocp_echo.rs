//! The seed-2 program in overlap: an IOCP echo server, as one would write it on Windows, running
//! on Linux (io_uring, or completions emulated over epoll/poll).
//!
//! | Win32 | overlap |
//! |---|---|
//! | `CreateIoCompletionPort(INVALID_HANDLE_VALUE, ..)` | `CompletionPort::new()` |
//! | `CreateIoCompletionPort(socket, port, key, 0)` | `port.associate(socket, key)` |
//! | `AcceptEx` / `WSARecv` / `WSASend` with an OVERLAPPED | `port.submit(op, user_data)` |
//! | `GetQueuedCompletionStatus` in 2 × CPU threads | `port.wait(None)` in 2 × CPU threads |
//! | `PostQueuedCompletionStatus` | `port.post(key, user_data, value)` |
//!
//! One port; a listener with several accepts outstanding; 2 × CPU worker threads waiting on the
//! port; each completion posts the next op (accept → recv → send → recv …). Clients run in the
//! same process and the program ends by itself:
//!
//! ```text
//! cargo run --release -p overlap --example iocp_echo -- [uring|epoll|poll] [clients] [round-trips]
//! ```

use std::io::{self, ErrorKind, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::{Duration, Instant};

use overlap::op::{Accept, Recv, Send as SendOp};
use overlap::{Completion, CompletionPort, PortBackend};

// What each op is, carried as its user data (the per-op state of an IOCP program).
const ACCEPT: usize = 1;
const RECV: usize = 2;
const SEND: usize = 3;
const QUIT: usize = 4;

fn main() -> io::Result<()> {
    let mut args = std::env::args().skip(1);
    let port = match args.next() {
        Some(name) => CompletionPort::builder().backend(name.parse::<PortBackend>()?).build()?,
        None => CompletionPort::new()?,
    };
    let clients: usize = args.next().map_or(Ok(16), |s| s.parse()).map_err(invalid)?;
    let trips: usize = args.next().map_or(Ok(1000), |s| s.parse()).map_err(invalid)?;

    let listener = TcpListener::bind("127.0.0.1:0")?;
    let addr = listener.local_addr()?;
    let listener = port.associate(listener, 0)?;
    for _ in 0..8 {
        port.submit(Accept::new(&listener), ACCEPT)?; // several accepts outstanding
    }

    let threads = 2 * std::thread::available_parallelism().map_or(1, |n| n.get());
    let workers: Vec<_> = (0..threads)
        .map(|_| {
            let port = port.clone();
            std::thread::spawn(move || -> io::Result<()> {
                loop {
                    let c = port.wait(None)?.expect("no timeout, so a completion");
                    if c.user_data() == QUIT {
                        return Ok(());
                    }
                    next_op(&port, c)?;
                }
            })
        })
        .collect();

    let start = Instant::now();
    let load: Vec<_> = (0..clients).map(|_| std::thread::spawn(move || client(addr, trips))).collect();
    for c in load {
        c.join().expect("client")?;
    }
    let took = start.elapsed();

    for _ in 0..threads {
        port.post(0, QUIT, 0)?; // one QUIT per worker; `wait` takes one completion at a time
    }
    for w in workers {
        w.join().expect("worker")?;
    }
    let total = clients * trips;
    println!(
        "{}: {threads} workers, {clients} clients x {trips} round trips = {total} echoes in {took:.2?} ({:.0}/s)",
        port.backend(),
        total as f64 / took.as_secs_f64()
    );
    Ok(())
}

/// Handles one completion by posting the op that follows it.
fn next_op(port: &CompletionPort, c: Completion) -> io::Result<()> {
    match c.user_data() {
        ACCEPT => {
            let (res, mut accept) = c.into_op::<Accept>().expect("an Accept").unpack();
            port.submit(Accept::new(accept.handle()), ACCEPT)?;
            if let (Ok(_), Some(sock)) = (res, accept.take_socket()) {
                let conn = port.associate(sock, 0)?;
                port.submit(Recv::new(&conn, Vec::with_capacity(4096)), RECV)?;
            }
        }
        RECV => {
            let (res, recv) = c.into_op::<Recv<Vec<u8>>>().expect("a Recv").unpack();
            if let Ok(1..) = res {
                // The send takes the receive's handle and buffer: the echo.
                let (conn, buf) = recv.into_parts();
                port.submit(SendOp::with_handle(conn, buf), SEND)?;
            } // 0 bytes (the client left) or an error: dropping the op closes the connection
        }
        SEND => {
            // A send on a stream completes whole, as an overlapped WSASend does (or fails: then
            // dropping the op closes the connection).
            let (res, send) = c.into_op::<SendOp<Vec<u8>>>().expect("a Send").unpack();
            if res.is_ok() {
                let (conn, mut buf) = send.into_parts();
                buf.clear();
                port.submit(Recv::with_handle(conn, buf), RECV)?;
            }
        }
        _ => {}
    }
    Ok(())
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
