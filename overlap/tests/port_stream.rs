//! Conformance of stream sends under pipelining: a `Send` or `SendVectored` on a stream socket
//! completes whole (or with an error), as an overlapped `WSASend` does, so several may be in
//! flight on one socket and the peer gets every byte in submission order.
//!
//! Each case pushes 64 MiB each way through one loopback TCP connection with a small
//! `SO_SNDBUF`, four sends and four receives in flight per direction, op sizes drawn from 1 B
//! to 256 KiB, and checks every byte on the far side against the pattern the sender used.
//! Every case runs on every available completion backend, one at a time.

mod util;

use std::collections::BTreeMap;
use std::net::{Shutdown, TcpStream};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Instant;

use overlap::op::{Recv, Send as SendOp, SendVectored};
use overlap::{Completion, CompletionPort, Handle, PortBackend};
use util::*;

/// Bytes each way.
const TOTAL: u64 = 64 << 20;
/// Ops of each kind in flight per direction.
const IN_FLIGHT: usize = 4;
/// The largest op.
const MAX_OP: u64 = 256 << 10;
const QUIT: usize = usize::MAX;
/// The send buffer each socket asks for (the kernel may round it up).
const SNDBUF: usize = 16 << 10;

/// A small deterministic generator (xorshift64*), one per side, so a failure can be replayed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    /// An op size from 1 B to 256 KiB: half uniform, half spread over the powers of two (so
    /// that tiny ops are common too).
    fn size(&mut self) -> u64 {
        let r = self.next();
        if r & 1 == 0 {
            1 + (r >> 1) % MAX_OP
        } else {
            1 + (r >> 8) % (1 << ((r >> 1) % 19))
        }
    }
}

/// The byte stream of direction `dir`: `len` bytes from `off`, eight at a time from a hash of
/// their position, so any hole, repeat or swap shows.
fn pattern(dir: u64, off: u64, len: usize) -> Vec<u8> {
    let mix = |w: u64| {
        let mut z = w.wrapping_add(dir << 56).wrapping_add(0x9e37_79b9_7f4a_7c15);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    };
    let skip = (off % 8) as usize;
    let mut out = Vec::with_capacity(len + 16);
    let mut w = off / 8;
    while out.len() < skip + len {
        out.extend_from_slice(&mix(w).to_le_bytes());
        w += 1;
    }
    out.drain(..skip);
    out.truncate(len);
    out
}

/// One end of the connection: what it sends (direction `me`) and what it receives.
struct Side {
    me: u64,
    handle: Handle,
    /// A clone of the socket, to shut its write side down after the last send.
    shut: TcpStream,
    rng: Rng,
    /// Next byte to hand to a send, and bytes whose send completed.
    send_off: u64,
    sent: u64,
    sends: usize,
    /// Receives by submission number; completions are checked in that order.
    recv_seq: u64,
    checked_seq: u64,
    arrived: BTreeMap<u64, Vec<u8>>,
    received: u64,
    recvs: usize,
    eof: bool,
}

#[derive(Default)]
struct Shared {
    done: usize,
    failure: Option<String>,
}

struct Test {
    port: CompletionPort,
    /// One thread handles every completion: they must come in submission order per socket.
    in_order: bool,
    sides: [Mutex<Side>; 2],
    shared: Mutex<Shared>,
    cond: Condvar,
}

/// user_data: `seq << 2 | side << 1 | is_recv`.
fn tag(seq: u64, side: usize, recv: bool) -> usize {
    ((seq as usize) << 2) | (side << 1) | recv as usize
}

impl Test {
    /// Tops up the side's sends (under its lock, so submission order is offset order).
    fn send_more(&self, i: usize, s: &mut Side) {
        while s.sends < IN_FLIGHT && s.send_off < TOTAL {
            let len = s.rng.size().min(TOTAL - s.send_off);
            let data = pattern(s.me, s.send_off, len as usize);
            let parts = (s.rng.next() % 4) as usize; // 0: a Send; else a SendVectored of 1-3 parts
            let res = if parts == 0 {
                self.port.submit(SendOp::new(&s.handle, data), tag(s.send_off, i, false)).map(drop).map_err(|e| e.error)
            } else {
                let mut bufs = Vec::new();
                let mut rest = data;
                for _ in 1..parts {
                    let cut = (s.rng.next() % (rest.len() as u64 + 1)) as usize; // empty parts too
                    let tail = rest.split_off(cut);
                    bufs.push(rest);
                    rest = tail;
                }
                bufs.push(rest);
                self.port
                    .submit(SendVectored::new(&s.handle, bufs), tag(s.send_off, i, false))
                    .map(drop)
                    .map_err(|e| e.error)
            };
            res.expect("submit a send");
            s.send_off += len;
            s.sends += 1;
        }
    }

    /// Tops up the side's receives.
    fn recv_more(&self, i: usize, s: &mut Side) {
        while s.recvs < IN_FLIGHT && !s.eof {
            let cap = s.rng.size() as usize;
            self.port.submit(Recv::new(&s.handle, Vec::with_capacity(cap)), tag(s.recv_seq, i, true)).expect("recv");
            s.recv_seq += 1;
            s.recvs += 1;
        }
    }

    fn start(&self) {
        for (i, side) in self.sides.iter().enumerate() {
            let mut s = side.lock().unwrap();
            self.recv_more(i, &mut s);
            self.send_more(i, &mut s);
        }
    }

    /// Handles one completion; returns true once this side has sent and received everything.
    fn handle(&self, c: Completion) -> bool {
        let b = self.port.backend();
        let (seq, i, recv) = ((c.user_data() >> 2) as u64, (c.user_data() >> 1) & 1, c.user_data() & 1 == 1);
        let mut s = self.sides[i].lock().unwrap();
        if !recv {
            let (res, len) = match c.into_op::<SendOp<Vec<u8>>>() {
                Ok(r) => (r.0, r.1.into_buf().len()),
                Err(c) => {
                    let (res, op) = c.into_op::<SendVectored<Vec<u8>>>().expect("a send").unpack();
                    (res, op.into_bufs().iter().map(Vec::len).sum())
                }
            };
            let n = res.unwrap_or_else(|e| panic!("[{b}] the send at {seq} failed: {e}"));
            assert_eq!(n, len, "[{b}] side {i}: the send of {len} bytes at offset {seq} completed short");
            s.sent += len as u64;
            s.sends -= 1;
            self.send_more(i, &mut s);
            if s.sent == TOTAL && s.sends == 0 {
                s.shut.shutdown(Shutdown::Write).expect("shutdown");
            }
        } else {
            let (res, op) = c.into_op::<Recv<Vec<u8>>>().expect("a recv").unpack();
            let n = res.unwrap_or_else(|e| panic!("[{b}] receive {seq} failed: {e}"));
            let mut buf = op.into_buf();
            assert_eq!(n, buf.len());
            buf.shrink_to_fit();
            s.recvs -= 1;
            if self.in_order {
                assert_eq!(seq, s.checked_seq, "[{b}] side {i}: receive {seq} completed before an older one");
            }
            s.arrived.insert(seq, buf);
            // Receives complete in submission order, but another thread may hold an older one
            // while this one is handled: later ones wait for it (a bound, not a timing: a
            // receive that never completes shows here instead of as a hang).
            assert!(
                s.arrived.len() <= 4096,
                "[{b}] side {i}: receive {} has not been handled, but {} later ones have",
                s.checked_seq,
                s.arrived.len()
            );
            // Receives complete in submission order; check them in that order.
            while let Some(chunk) = {
                let at = s.checked_seq;
                s.arrived.remove(&at)
            } {
                s.checked_seq += 1;
                if chunk.is_empty() {
                    assert_eq!(s.received, TOTAL, "[{b}] side {i}: end of stream after {} bytes", s.received);
                    s.eof = true;
                    continue;
                }
                let from = 1 - s.me;
                assert!(s.received + chunk.len() as u64 <= TOTAL, "[{b}] side {i}: more bytes than were sent");
                let want = pattern(from, s.received, chunk.len());
                if chunk != want {
                    let at = chunk.iter().zip(&want).position(|(a, b)| a != b).unwrap_or(0);
                    panic!(
                        "[{b}] side {i}: byte {} of the stream differs (a hole, repeat or swap)",
                        s.received + at as u64
                    );
                }
                s.received += chunk.len() as u64;
            }
            self.recv_more(i, &mut s);
        }
        s.eof && s.recvs == 0 && s.sent == TOTAL && s.sends == 0
    }

    fn fail(&self, msg: String) {
        let mut sh = self.shared.lock().unwrap();
        sh.failure.get_or_insert(msg);
        self.cond.notify_all();
    }

    fn finished_side(&self) {
        let mut sh = self.shared.lock().unwrap();
        sh.done += 1;
        self.cond.notify_all();
    }
}

fn panic_message(p: Box<dyn std::any::Any + Send>) -> String {
    p.downcast_ref::<String>().cloned().or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string())).unwrap_or_default()
}

/// A loopback TCP connection with small send buffers, both ends on `port`; `in_order`: one
/// thread will handle the completions.
fn setup(port: CompletionPort, in_order: bool) -> Arc<Test> {
    let (a, z) = tcp_pair();
    let side = |me: u64, s: TcpStream| {
        // A small send buffer: large sends go in many parts. (The receive buffer keeps its
        // size: a tiny TCP window waits on delayed acknowledgements and crawls.)
        socket2::SockRef::from(&s).set_send_buffer_size(SNDBUF).unwrap();
        let shut = s.try_clone().unwrap();
        let handle = port.associate(s, me as usize).unwrap();
        let rng = Rng(0x5eed_0000 + me);
        Mutex::new(Side {
            me,
            handle,
            shut,
            rng,
            send_off: 0,
            sent: 0,
            sends: 0,
            recv_seq: 0,
            checked_seq: 0,
            arrived: BTreeMap::new(),
            received: 0,
            recvs: 0,
            eof: false,
        })
    };
    let sides = [side(0, a), side(1, z)];
    Arc::new(Test { port, in_order, sides, shared: Mutex::default(), cond: Condvar::new() })
}

/// 64 MiB each way with `threads` worker threads waiting on the port.
fn pipelined_stream(b: PortBackend, threads: usize) {
    let t = setup(port(b), threads == 1);
    let workers: Vec<_> = (0..threads)
        .map(|_| {
            let t = t.clone();
            std::thread::spawn(move || {
                let run = catch_unwind(AssertUnwindSafe(|| loop {
                    let c = t.port.wait(Some(PATIENCE)).expect("wait");
                    let c = c.unwrap_or_else(|| panic!("[{b}] a worker waited {PATIENCE:?} for nothing"));
                    if c.user_data() == QUIT {
                        return;
                    }
                    if t.handle(c) {
                        t.finished_side();
                    }
                }));
                if let Err(p) = run {
                    t.fail(panic_message(p));
                }
            })
        })
        .collect();
    t.start();
    let deadline = Instant::now() + PATIENCE * 6;
    let mut sh = t.shared.lock().unwrap();
    while sh.done < 2 && sh.failure.is_none() {
        let left = deadline.saturating_duration_since(Instant::now());
        assert!(!left.is_zero(), "[{b}] {threads} threads: the transfer did not finish in time");
        sh = t.cond.wait_timeout(sh, left).unwrap().0;
    }
    let failure = sh.failure.take();
    drop(sh);
    for _ in 0..threads {
        t.port.post(0, QUIT, 0).unwrap();
    }
    for w in workers {
        w.join().unwrap();
    }
    if let Some(f) = failure {
        panic!("{f}");
    }
}

fn pipelined_stream_1_thread(b: PortBackend) {
    pipelined_stream(b, 1);
}

fn pipelined_stream_4_threads(b: PortBackend) {
    pipelined_stream(b, 4);
}

fn pipelined_stream_8_threads(b: PortBackend) {
    pipelined_stream(b, 8);
}

/// The same on a single-thread port, driven by the thread that built it.
fn pipelined_stream_single_thread_port(b: PortBackend) {
    let port = CompletionPort::builder().backend(b).single_thread(true).build().unwrap();
    let t = setup(port, true);
    t.start();
    let mut finished = 0;
    while finished < 2 {
        if t.handle(next(&t.port, "the transfer")) {
            finished += 1;
        }
    }
}

/// Several writes in flight on a pipe arrive whole and in order too (a pipe is a stream).
#[cfg(unix)]
fn pipe_writes_complete_whole(b: PortBackend) {
    use overlap::op::Write as WriteOp;
    use std::io::Read;
    let port = port(b);
    let (mut r, w) = std::io::pipe().unwrap();
    let wh = port.associate(w, 0).unwrap();
    const LEN: usize = 1 << 20; // larger than a pipe's buffer (64 KiB)
    let reader = std::thread::spawn(move || {
        let mut all = Vec::new();
        r.read_to_end(&mut all).unwrap();
        all
    });
    for k in 0..8u8 {
        port.submit(WriteOp::new(&wh, vec![k; LEN]), k as usize).unwrap();
    }
    drop(wh); // the ops hold the handle: the pipe closes after the last write
    for k in 0..8 {
        let (res, op) = next(&port, "a write").into_op::<WriteOp<Vec<u8>>>().unwrap().unpack();
        assert_eq!(res.unwrap(), LEN, "[{b}] write {k} completed short");
        drop(op);
    }
    let all = reader.join().unwrap();
    assert_eq!(all.len(), 8 * LEN, "[{b}]");
    for (k, chunk) in all.chunks(LEN).enumerate() {
        assert!(chunk.iter().all(|&x| x == k as u8), "[{b}] write {k} is not whole and in its place");
    }
}

/// Gathered sends of more buffers than one system call takes (64 per `sendmsg` in the
/// emulation, 1024 per entry on io_uring, any count on IOCP) complete whole: a few buffers
/// over each limit, tiny ones (the kernel takes each batch at once) and 4 KiB ones (the
/// socket's buffer fills part way), four in flight; the peer gets every byte in order.
fn many_buffers_in_one_gathered_send(b: PortBackend) {
    let port = port(b);
    let (a, z) = tcp_pair();
    let reader = std::thread::spawn(move || {
        z.set_nonblocking(false).unwrap();
        z.set_read_timeout(Some(PATIENCE)).unwrap();
        let mut all = Vec::new();
        std::io::Read::read_to_end(&mut &z, &mut all).map(|_| all)
    });
    let h = port.associate(a, 0).unwrap();
    let mut want = Vec::new();
    let mut k = 0u32;
    let mut parts = |n: usize, size: usize| -> Vec<Vec<u8>> {
        (0..n)
            .map(|_| {
                k += 1;
                (0..size).map(|i| (k as usize * 7 + i) as u8).collect::<Vec<u8>>()
            })
            .inspect(|p| want.extend_from_slice(p))
            .collect()
    };
    let sends = [parts(129, 3), parts(1025, 3), parts(2000, 3), parts(1100, 4096)];
    let lens: Vec<usize> = sends.iter().map(|s| s.iter().map(Vec::len).sum()).collect();
    let mut ids = Vec::new();
    for (i, bufs) in sends.into_iter().enumerate() {
        ids.push(port.submit(SendVectored::new(&h, bufs), i).unwrap());
    }
    for (i, len) in lens.iter().enumerate() {
        let c = next(&port, "a gathered send");
        assert_eq!(c.user_data(), i, "[{b}] in order");
        let (res, _) = c.into_op::<SendVectored<Vec<u8>>>().unwrap().unpack();
        assert_eq!(res.unwrap_or_else(|e| panic!("[{b}] send {i}: {e}")), *len, "[{b}] send {i} whole");
    }
    drop(h); // the socket closes: the peer reads to the end
    let all = reader.join().unwrap().unwrap();
    assert_eq!(all.len(), want.len(), "[{b}]");
    let first_bad = all.iter().zip(&want).position(|(x, y)| x != y);
    assert!(first_bad.is_none(), "[{b}] the stream differs from byte {first_bad:?} on");
}

/// Datagram sends keep their semantics: each gathered send is one datagram.
fn datagram_send_vectored_is_one_datagram(b: PortBackend) {
    let port = port(b);
    let (a, z) = datagram_pair().unwrap();
    let h = port.associate(a, 0).unwrap();
    let parts: Vec<Vec<u8>> = vec![b"ab".to_vec(), b"cde".to_vec(), Vec::new(), b"f".to_vec()];
    port.submit(SendVectored::new(&h, parts), 1).unwrap();
    let (res, _) = next(&port, "the datagram").into_op::<SendVectored<Vec<u8>>>().unwrap().unpack();
    assert_eq!(res.unwrap(), 6);
    let mut buf = [0u8; 16];
    let n = z.recv(&mut buf).unwrap();
    assert_eq!(&buf[..n], b"abcdef", "[{b}]");
}

fn main() {
    let cases = cases![
        pipelined_stream_1_thread,
        pipelined_stream_4_threads,
        pipelined_stream_8_threads,
        pipelined_stream_single_thread_port,
        #[cfg(unix)]
        pipe_writes_complete_whole,
        datagram_send_vectored_is_one_datagram,
        many_buffers_in_one_gathered_send,
    ];
    run_port_suite("port_stream", cases, vec![], true);
}
