//! The io_uring floor: the shared bench's `echo_uring.c` written directly on io_uring (the
//! `io-uring` crate's bindings), nothing of overlap in between. One thread, one ring with
//! `SINGLE_ISSUER | DEFER_TASKRUN` where the kernel has them, a multishot accept (one accept
//! per SQE before Linux 5.19), and per connection one receive, then one send, then the next
//! receive; one `io_uring_enter` per loop. `port/uring` is reported against this as well as
//! against raw epoll.
#![allow(unsafe_code)]

use std::io::{self, ErrorKind};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::fd::{AsRawFd, FromRawFd, RawFd};
use std::sync::Arc;
use std::thread::JoinHandle;

use io_uring::{cqueue, opcode, squeue, types, IoUring};

use super::raw_epoll::EventFd;

/// Receive buffer per connection.
const BUF: usize = 16 * 1024;
/// The low bits of the user data: what the op is; the rest is the connection's slot.
const ACCEPT: u64 = 0;
const RECV: u64 = 1;
const SEND: u64 = 2;
const STOP: u64 = 3;
const CANCEL: u64 = 4;
const KIND: u64 = 7;

/// One connection; boxed, so the buffer the kernel writes stays put while the table grows.
struct Conn {
    stream: TcpStream,
    buf: Box<[u8]>,
    len: usize,
    off: usize,
    /// The user data of its op in flight (each connection has exactly one).
    op: u64,
}

/// The server's state, owned by its thread.
struct Server {
    ring: IoUring,
    listener: TcpListener,
    stop: Arc<EventFd>,
    /// Where the stop read lands.
    stop_buf: Box<u64>,
    conns: Vec<Option<Box<Conn>>>,
    free: Vec<usize>,
    /// Ops the kernel holds (the multishot accept counts once).
    inflight: usize,
    /// Multishot accept (Linux 5.19); off after the kernel refuses it.
    multishot: bool,
}

fn ring() -> io::Result<IoUring> {
    let mut plain = IoUring::builder();
    plain.setup_cqsize(8192);
    let mut fast = plain.clone();
    fast.setup_single_issuer().setup_defer_taskrun();
    match fast.build(2048) {
        Err(e) if e.raw_os_error() == Some(libc::EINVAL) => plain.build(2048),
        res => res,
    }
}

/// A single-threaded io_uring echo server on 127.0.0.1; returns its address, a stop signal and
/// its thread. `Unsupported` where the kernel refuses io_uring.
pub(crate) fn echo_server() -> io::Result<(SocketAddr, Arc<EventFd>, JoinHandle<io::Result<()>>)> {
    start(true)
}

/// [`echo_server`], with multishot accept or one accept per SQE from the start.
fn start(multishot: bool) -> io::Result<(SocketAddr, Arc<EventFd>, JoinHandle<io::Result<()>>)> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let addr = listener.local_addr()?;
    let stop = Arc::new(EventFd::new()?);
    let stop2 = stop.clone();
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    let thread = std::thread::spawn(move || {
        // The ring is made on the thread that uses it: a single-issuer ring belongs to it.
        let server = match ring() {
            Ok(ring) => Server {
                ring,
                listener,
                stop: stop2,
                stop_buf: Box::new(0),
                conns: Vec::new(),
                free: Vec::new(),
                inflight: 0,
                multishot,
            },
            Err(e) => {
                let _ = ready_tx.send(Err(io::Error::new(ErrorKind::Unsupported, format!("io_uring: {e}"))));
                return Ok(());
            }
        };
        let _ = ready_tx.send(Ok(()));
        server.run()
    });
    ready_rx.recv().map_err(|_| io::Error::other("the io_uring floor panicked while starting"))??;
    Ok((addr, stop, thread))
}

impl Server {
    /// Queues `entry`, submitting what is queued to make room if the queue is full.
    fn push(&mut self, entry: squeue::Entry) -> io::Result<()> {
        loop {
            // SAFETY: every entry points only into memory that outlives its CQE: a `Conn` box
            // (its buffer), which is dropped only after its op's CQE, or `stop_buf`; and
            // `drain` waits for every op's CQE before the server (and its boxes) goes.
            if unsafe { self.ring.submission().push(&entry) }.is_ok() {
                return Ok(());
            }
            self.ring.submit()?;
        }
    }

    fn arm_accept(&mut self) -> io::Result<()> {
        let fd = types::Fd(self.listener.as_raw_fd());
        let entry = if self.multishot {
            opcode::AcceptMulti::new(fd).build()
        } else {
            opcode::Accept::new(fd, std::ptr::null_mut(), std::ptr::null_mut()).build()
        };
        let entry = entry.user_data(ACCEPT);
        self.push(entry)?;
        self.inflight += 1;
        Ok(())
    }

    fn recv(&mut self, slot: usize) -> io::Result<()> {
        let Some(c) = self.conns[slot].as_mut() else { return Ok(()) };
        c.op = (slot as u64) << 3 | RECV;
        let entry =
            opcode::Recv::new(types::Fd(c.stream.as_raw_fd()), c.buf.as_mut_ptr(), BUF as u32).build().user_data(c.op);
        self.push(entry)?;
        self.inflight += 1;
        Ok(())
    }

    fn send(&mut self, slot: usize) -> io::Result<()> {
        let Some(c) = self.conns[slot].as_mut() else { return Ok(()) };
        c.op = (slot as u64) << 3 | SEND;
        let rest = &c.buf[c.off..c.len];
        let entry = opcode::Send::new(types::Fd(c.stream.as_raw_fd()), rest.as_ptr(), rest.len() as u32)
            .flags(libc::MSG_NOSIGNAL)
            .build()
            .user_data(c.op);
        self.push(entry)?;
        self.inflight += 1;
        Ok(())
    }

    fn close(&mut self, slot: usize) {
        self.conns[slot] = None;
        self.free.push(slot);
    }

    fn adopt(&mut self, fd: RawFd) -> io::Result<()> {
        // SAFETY: a successful accept CQE carries a new descriptor that nothing else owns.
        let stream = unsafe { TcpStream::from_raw_fd(fd) };
        stream.set_nodelay(true)?;
        let conn = Box::new(Conn { stream, buf: vec![0; BUF].into_boxed_slice(), len: 0, off: 0, op: 0 });
        let slot = match self.free.pop() {
            Some(slot) => {
                self.conns[slot] = Some(conn);
                slot
            }
            None => {
                self.conns.push(Some(conn));
                self.conns.len() - 1
            }
        };
        self.recv(slot)
    }

    /// Waits for at least one CQE, then takes them all as (user data, result, flags).
    fn reap(&mut self, out: &mut Vec<(u64, i32, u32)>) -> io::Result<()> {
        match self.ring.submit_and_wait(1) {
            Err(e) if matches!(e.raw_os_error(), Some(libc::EINTR | libc::EAGAIN | libc::EBUSY)) => {}
            Err(e) => return Err(e),
            Ok(_) => {}
        }
        out.clear();
        out.extend(self.ring.completion().map(|e| (e.user_data(), e.result(), e.flags())));
        Ok(())
    }

    fn run(mut self) -> io::Result<()> {
        let entry = opcode::Read::new(types::Fd(self.stop.raw()), (&mut *self.stop_buf as *mut u64).cast(), 8)
            .build()
            .user_data(STOP);
        self.push(entry)?;
        self.inflight += 1;
        self.arm_accept()?;
        let mut cqes = Vec::with_capacity(1024);
        let res = self.serve(&mut cqes);
        if let Err(e) = self.drain(&mut cqes) {
            // Ops may still be in flight: leak what the kernel may write rather than free it.
            std::mem::forget(std::mem::take(&mut self.conns));
            std::mem::forget(std::mem::replace(&mut self.stop_buf, Box::new(0)));
            return Err(e);
        }
        res
    }

    /// Serves until the stop signal or the first error. A batch is always accounted whole (every
    /// CQE taken off the ring settles its op), so `drain` never waits for a CQE already taken.
    fn serve(&mut self, cqes: &mut Vec<(u64, i32, u32)>) -> io::Result<()> {
        let mut stopping = false;
        let mut failed = None;
        while !stopping {
            self.reap(cqes)?;
            for &(user_data, res, flags) in cqes.iter() {
                if failed.is_some() {
                    self.discard(user_data, res, flags);
                    continue;
                }
                self.settle(user_data, flags);
                if user_data & KIND == STOP {
                    stopping = true; // the rest of the batch still counts
                } else if let Err(e) = self.complete(user_data, res, flags) {
                    failed = Some(e);
                    stopping = true;
                }
            }
        }
        failed.map_or(Ok(()), Err)
    }

    /// One op's CQE is in: it no longer counts as held by the kernel (a multishot accept
    /// that goes on still does).
    fn settle(&mut self, user_data: u64, flags: u32) {
        match user_data & KIND {
            ACCEPT if cqueue::more(flags) => {}
            CANCEL => {}
            _ => self.inflight -= 1,
        }
    }

    /// Settles a CQE without acting on it; a connection it accepted is closed at once.
    fn discard(&mut self, user_data: u64, res: i32, flags: u32) {
        self.settle(user_data, flags);
        if user_data & KIND == ACCEPT && res >= 0 {
            // SAFETY: a new descriptor nothing else owns: closed at once.
            drop(unsafe { TcpStream::from_raw_fd(res) });
        }
    }

    /// Acts on a settled CQE: adopts a connection, sends what was received, receives again.
    fn complete(&mut self, user_data: u64, res: i32, flags: u32) -> io::Result<()> {
        let slot = (user_data >> 3) as usize;
        match user_data & KIND {
            ACCEPT => {
                if res >= 0 {
                    self.adopt(res)?;
                }
                if !cqueue::more(flags) {
                    if res == -libc::EINVAL {
                        if !self.multishot {
                            return Err(io::Error::from_raw_os_error(libc::EINVAL));
                        }
                        // Multishot accept came with Linux 5.19; before, one accept per SQE.
                        self.multishot = false;
                    }
                    self.arm_accept()?;
                }
            }
            RECV => match res {
                n if n > 0 => {
                    if let Some(c) = self.conns[slot].as_mut() {
                        (c.len, c.off) = (n as usize, 0);
                    }
                    self.send(slot)?;
                }
                _ => self.close(slot), // end of stream or error
            },
            SEND => {
                let Some(c) = self.conns[slot].as_mut() else { return Ok(()) };
                if res < 0 {
                    self.close(slot);
                    return Ok(());
                }
                c.off += res as usize;
                if c.off < c.len {
                    self.send(slot)?;
                } else {
                    self.recv(slot)?;
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// Cancels every op in flight and waits for all their CQEs, so no buffer goes while the
    /// kernel may still write into it.
    fn drain(&mut self, cqes: &mut Vec<(u64, i32, u32)>) -> io::Result<()> {
        // Cancelling an op that is not in flight (ENOENT) is harmless; the accept is armed
        // unless serving failed while re-arming it, and the stop read is still in flight when
        // serving failed.
        let mut targets: Vec<u64> = self.conns.iter().flatten().map(|c| c.op).collect();
        targets.extend([ACCEPT, STOP]);
        for target in targets {
            self.push(opcode::AsyncCancel::new(target).build().user_data(CANCEL))?;
        }
        while self.inflight > 0 {
            self.reap(cqes)?;
            for &(user_data, res, flags) in cqes.iter() {
                self.discard(user_data, res, flags);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::io::{Read, Write};

    use super::*;

    /// Both accept paths adopt every connection and echo on it; stopping drains and joins.
    #[test]
    fn echoes_with_multishot_and_single_accepts() {
        for multishot in [true, false] {
            let (addr, stop, thread) = match start(multishot) {
                Err(e) if e.kind() == ErrorKind::Unsupported => {
                    eprintln!("skipped: the kernel refuses io_uring ({e})");
                    return;
                }
                res => res.unwrap(),
            };
            let mut clients: Vec<TcpStream> = (0..8).map(|_| TcpStream::connect(addr).unwrap()).collect();
            for (i, c) in clients.iter_mut().enumerate() {
                c.set_read_timeout(Some(std::time::Duration::from_secs(30))).unwrap();
                let msg = [i as u8; 100];
                c.write_all(&msg).unwrap();
                let mut back = [0; 100];
                c.read_exact(&mut back).unwrap();
                assert_eq!(back, msg, "multishot {multishot}: connection {i} echoes");
            }
            drop(clients.pop()); // one ends before the server does
            stop.signal();
            thread.join().unwrap().unwrap();
        }
    }
}
