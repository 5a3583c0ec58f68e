//! The echo server on the completion model: the seed-2 program. One port; a listener with
//! several accepts outstanding; a pool of threads in `wait`; each completion posts the next op
//! (accept → recv → send → recv …).

use std::io::{self, ErrorKind};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;

use overlap::op::{Accept, Recv, Send as SendOp};
use overlap::{Completion, CompletionPort, Handle, PortBackend};

use super::Stop;

const ACCEPT: usize = 1;
const RECV: usize = 2;
const SEND: usize = 3;
const QUIT: usize = 4;
/// Accepts kept outstanding on the listener.
const ACCEPTS: usize = 16;
const BUF: usize = 16 * 1024;

pub(super) fn start(
    addr: SocketAddr,
    backend: Option<PortBackend>,
    threads: usize,
) -> io::Result<(SocketAddr, Stop, std::thread::JoinHandle<io::Result<()>>)> {
    let port = match backend {
        Some(b) => CompletionPort::builder().backend(b).build()?,
        None => CompletionPort::new()?,
    };
    let listener = super::listener(addr)?;
    let addr = listener.local_addr()?;
    let lh = port.associate(listener, 0)?;
    for _ in 0..ACCEPTS {
        port.submit(Accept::new(&lh), ACCEPT)?;
    }
    let threads = threads.max(1);
    let p2 = port.clone();
    // One QUIT, relayed by each worker as it leaves: a worker taking a batch could otherwise
    // swallow several QUITs and leave others waiting for ever.
    let stop: Stop = Arc::new(move || {
        let _ = p2.post(0, QUIT, 0);
    });
    let server = std::thread::spawn(move || {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                let port = port.clone();
                std::thread::spawn(move || worker(&port))
            })
            .collect();
        let mut res = Ok(());
        for w in workers {
            res = res.and(w.join().map_err(|_| io::Error::other("a worker panicked"))?);
        }
        res
    });
    Ok((addr, stop, server))
}

fn worker(port: &CompletionPort) -> io::Result<()> {
    let mut batch = Vec::with_capacity(64);
    loop {
        batch.clear();
        port.wait_many(&mut batch, 64, None)?;
        let mut quit = false;
        for c in batch.drain(..) {
            match c.user_data() {
                QUIT => quit = true,
                _ => handle(port, c)?,
            }
        }
        if quit {
            port.post(0, QUIT, 0)?; // wake the next worker
            return Ok(());
        }
    }
}

/// Runs one completion and posts what comes next.
fn handle(port: &CompletionPort, c: Completion) -> io::Result<()> {
    match c.user_data() {
        ACCEPT => {
            let (res, mut op) = c.into_op::<Accept>().map_err(|_| mismatch())?.unpack();
            port.submit(Accept::new(op.handle()), ACCEPT)?; // keep the accepts outstanding
            if res.is_ok() {
                if let Some(sock) = op.take_socket() {
                    let stream = TcpStream::from(sock);
                    stream.set_nodelay(true)?;
                    let h = port.associate(stream, 0)?;
                    port.submit(Recv::new(&h, Vec::with_capacity(BUF)), RECV)?;
                }
            }
        }
        RECV => {
            let (res, op) = c.into_op::<Recv<Vec<u8>>>().map_err(|_| mismatch())?.unpack();
            match res {
                Ok(n) if n > 0 => {
                    let h = op.handle().clone();
                    port.submit(SendOp::new(&h, op.into_buf()), SEND)?;
                }
                _ => {} // end of stream or error: dropping the op drops the connection
            }
        }
        SEND => {
            let (res, op) = c.into_op::<SendOp<Vec<u8>>>().map_err(|_| mismatch())?.unpack();
            let h: Handle = op.handle().clone();
            let mut buf = op.into_buf();
            match res {
                Ok(n) if n < buf.len() => {
                    buf.drain(..n); // a partial send: send the rest
                    port.submit(SendOp::new(&h, buf), SEND)?;
                }
                Ok(_) => {
                    buf.clear();
                    port.submit(Recv::new(&h, buf), RECV)?;
                }
                Err(_) => {}
            }
        }
        _ => {}
    }
    Ok(())
}

fn mismatch() -> io::Error {
    io::Error::new(ErrorKind::InvalidData, "a completion's op is not the one its user data names")
}
