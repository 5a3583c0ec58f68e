//! The echo server on the completion model: the seed-2 program. One port; a listener with
//! several accepts outstanding; a pool of threads in `wait`; each completion posts the next op
//! (accept → recv → send → recv …). With one thread, the port is a single-thread one.

use std::io;
use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::sync::Arc;
use std::time::Duration;

use overlap::op::{Accept, Recv, Send as SendOp, Timeout};
use overlap::{BufResult, Completion, CompletionPort, Handle, PortBackend};

use super::running::{self, Running, Stop};

const ACCEPT: usize = 1;
const RECV: usize = 2;
const SEND: usize = 3;
const QUIT: usize = 4;
/// A pause after the system ran out of descriptors, before accepting again.
const RETRY_ACCEPT: usize = 5;
/// Accepts kept outstanding on the listener.
const ACCEPTS: usize = 16;
const BUF: usize = 16 * 1024;

/// Serves on `listener` with one port and `threads` workers (one: a single-thread port).
pub(super) fn start(listener: TcpListener, backend: Option<PortBackend>, threads: usize) -> io::Result<Running> {
    let addr = listener.local_addr()?;
    if threads <= 1 {
        return start_single(listener, addr, backend);
    }
    let port = builder(backend).build()?;
    let lh = port.associate(listener, 0)?;
    for _ in 0..ACCEPTS {
        port.submit(Accept::new(&lh), ACCEPT)?;
    }
    let p2 = port.clone();
    // One QUIT, relayed by each worker as it leaves: a worker taking a batch could otherwise
    // swallow several QUITs and leave others waiting for ever.
    let stop: Stop = Arc::new(move || {
        let _ = p2.post(0, QUIT, 0);
    });
    let mut workers = Vec::with_capacity(threads);
    for _ in 0..threads {
        let (port, lh) = (port.clone(), lh.clone());
        match running::spawn("overlap-worker", move || worker(&port, &lh)) {
            Ok(w) => workers.push(w),
            Err(e) => {
                stop();
                let _ = running::join_all(workers);
                return Err(e);
            }
        }
    }
    Ok(Running { addr, stop, threads: workers })
}

fn builder(backend: Option<PortBackend>) -> overlap::PortBuilder {
    let b = CompletionPort::builder();
    match backend {
        Some(backend) => b.backend(backend),
        None => b,
    }
}

/// One worker on a single-thread port, built on the worker's own thread (on io_uring the
/// kernel then runs completion work only inside that thread's waits). Only that thread may
/// post, so `stop` wakes it with a loopback datagram, for which a `Recv` is kept outstanding.
fn start_single(listener: TcpListener, addr: SocketAddr, backend: Option<PortBackend>) -> io::Result<Running> {
    let wake_rx = UdpSocket::bind("127.0.0.1:0")?;
    let wake_tx = UdpSocket::bind("127.0.0.1:0")?;
    wake_tx.connect(wake_rx.local_addr()?)?;
    wake_rx.connect(wake_tx.local_addr()?)?; // only our own datagram stops it
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    let server = running::spawn("overlap-worker", move || {
        let setup = || -> io::Result<_> {
            let port = builder(backend).single_thread(true).build()?;
            let lh = port.associate(listener, 0)?;
            for _ in 0..ACCEPTS {
                port.submit(Accept::new(&lh), ACCEPT)?;
            }
            let wake = port.associate(wake_rx, 0)?;
            port.submit(Recv::new(&wake, Vec::with_capacity(1)), QUIT)?;
            Ok((port, lh))
        };
        match setup() {
            Ok((port, lh)) => {
                let _ = ready_tx.send(Ok(()));
                worker(&port, &lh)
            }
            Err(e) => {
                let _ = ready_tx.send(Err(e));
                Ok(()) // reported by `start`
            }
        }
    })?;
    ready_rx.recv().map_err(|_| io::Error::other("the server thread panicked while starting"))??;
    let stop: Stop = Arc::new(move || {
        let _ = wake_tx.send(&[1]);
    });
    Ok(Running { addr, stop, threads: vec![server] })
}

fn worker(port: &CompletionPort, listener: &Handle) -> io::Result<()> {
    let mut batch = Vec::with_capacity(64);
    loop {
        batch.clear();
        port.wait_many(&mut batch, 64, None)?;
        let mut quit = false;
        for c in batch.drain(..) {
            match c.user_data() {
                QUIT => quit = true,
                _ => handle(port, listener, c),
            }
        }
        if quit {
            port.post(0, QUIT, 0)?; // wake the next worker
            return Ok(());
        }
    }
}

/// Runs one completion and posts what comes next. A failure ends that connection only. The next
/// ops are deferred: the worker waits on the port right after the batch, and that wait hands
/// them all to the kernel at once (one `io_uring_enter` on io_uring).
fn handle(port: &CompletionPort, listener: &Handle, c: Completion) {
    match c.user_data() {
        ACCEPT => {
            let Ok(BufResult(res, mut op)) = c.into_op::<Accept>() else { return };
            match res {
                Err(e) if out_of_descriptors(&e) => {
                    // Out of descriptors: pause this accept instead of failing in a loop.
                    let _ = port.submit_deferred(Timeout::new(Duration::from_millis(50)), RETRY_ACCEPT);
                    return;
                }
                _ => {
                    let _ = port.submit_deferred(Accept::new(listener), ACCEPT);
                    // keep accepts outstanding
                }
            }
            if let Some(sock) = op.take_socket() {
                let stream = TcpStream::from(sock);
                let _ = stream.set_nodelay(true); // may fail on a connection already reset
                if let Ok(h) = port.associate(stream, 0) {
                    let _ = port.submit_deferred(Recv::new(&h, Vec::with_capacity(BUF)), RECV);
                }
            }
        }
        RETRY_ACCEPT => {
            let _ = port.submit_deferred(Accept::new(listener), ACCEPT);
        }
        // The next op takes the handle of the one that completed (no reference count touched).
        RECV => {
            let Ok(BufResult(res, op)) = c.into_op::<Recv<Vec<u8>>>() else { return };
            if let Ok(1..) = res {
                let (h, buf) = op.into_parts();
                let _ = port.submit_deferred(SendOp::with_handle(h, buf), SEND);
            } // end of stream or error: dropping the op drops the connection
        }
        SEND => {
            // A send on a stream completes whole (or fails): then the buffer takes the next
            // message.
            let Ok(BufResult(Ok(_), op)) = c.into_op::<SendOp<Vec<u8>>>() else { return };
            let (h, mut buf) = op.into_parts();
            buf.clear();
            let _ = port.submit_deferred(Recv::with_handle(h, buf), RECV);
        }
        _ => {}
    }
}

/// EMFILE/ENFILE (Windows: WSAEMFILE, WSAENOBUFS).
fn out_of_descriptors(e: &io::Error) -> bool {
    #[cfg(unix)]
    let codes = [libc::EMFILE, libc::ENFILE];
    #[cfg(windows)]
    let codes = [10024, 10055];
    #[cfg(not(any(unix, windows)))]
    let codes: [i32; 0] = [];
    e.raw_os_error().is_some_and(|c| codes.contains(&c))
}
