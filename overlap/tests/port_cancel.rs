//! Conformance of cancellation and teardown: cancel before, during and after completion (each
//! op completes exactly once, with its buffer), and dropping a port with ops in flight (no
//! leaked buffer, no leaked descriptor, no hang). Every case runs on every available
//! completion backend, one at a time (the leak checks count this process's descriptors).
#![allow(unsafe_code)] // `Counted` implements the buffer traits, which are unsafe to implement

mod util;

use std::io::{ErrorKind, Read, Write};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use overlap::op::{Accept, PollReady, Recv, Send, Timeout};
use overlap::{CompletionPort, Interest, PortBackend};
use overlap_buf::{IoBuf, IoBufMut};
use util::*;

/// A buffer that counts how many of its kind are alive, to prove none is leaked.
struct Counted {
    bytes: Vec<u8>,
    live: Arc<AtomicUsize>,
}

impl Counted {
    fn new(cap: usize, live: &Arc<AtomicUsize>) -> Counted {
        live.fetch_add(1, Ordering::SeqCst);
        Counted { bytes: Vec::with_capacity(cap), live: live.clone() }
    }
}

impl Drop for Counted {
    fn drop(&mut self) {
        self.live.fetch_sub(1, Ordering::SeqCst);
    }
}

// SAFETY: delegates to the inner Vec, whose heap allocation does not move with `Counted`.
unsafe impl IoBuf for Counted {
    fn buf_ptr(&self) -> *const u8 {
        self.bytes.buf_ptr()
    }
    fn buf_len(&self) -> usize {
        self.bytes.buf_len()
    }
    fn buf_capacity(&self) -> usize {
        self.bytes.buf_capacity()
    }
}

// SAFETY: delegates to the inner Vec.
unsafe impl IoBufMut for Counted {
    fn buf_mut_ptr(&mut self) -> *mut u8 {
        self.bytes.buf_mut_ptr()
    }
    unsafe fn set_buf_len(&mut self, len: usize) {
        // SAFETY: the caller's promise, passed on.
        unsafe { self.bytes.set_buf_len(len) }
    }
}

fn cancel_before_completion(b: PortBackend) {
    let port = port(b);
    let (a, _peer) = stream_pair().unwrap();
    let h = port.associate(a, 3).unwrap();
    let mut buf = Vec::with_capacity(32);
    buf.extend_from_slice(b"kept");
    let id = port.submit(Recv::new(&h, buf), 77).unwrap();
    port_quiet(&port, "nothing to receive");
    port.cancel(id).unwrap();
    let c = next(&port, "the cancelled recv");
    assert_eq!((c.id(), c.key(), c.user_data()), (id, 3, 77));
    assert!(c.is_cancelled(), "{c:?}");
    let (res, op) = c.into_op::<Recv<Vec<u8>>>().unwrap().unpack();
    assert_eq!(res.unwrap_err().kind(), ErrorKind::Interrupted);
    let buf = op.into_buf();
    assert_eq!((buf.as_slice(), buf.capacity()), (&b"kept"[..], 32), "the buffer comes back untouched");
    assert_eq!(port.cancel(id).unwrap_err().kind(), ErrorKind::NotFound, "cancelled twice");
    port_quiet(&port, "exactly one completion");
}

fn cancel_after_completion_is_not_found(b: PortBackend) {
    let port = port(b);
    let (a, mut peer) = stream_pair().unwrap();
    let h = port.associate(a, 0).unwrap();
    peer.write_all(b"data").unwrap();
    let id = port.submit(Recv::new(&h, Vec::with_capacity(8)), 0).unwrap();
    let c = next(&port, "the recv");
    assert!(!c.is_cancelled());
    let e = port.cancel(id).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound, "{e}");
}

fn cancel_racing_completion_completes_once(b: PortBackend) {
    let port = port(b);
    let (a, peer) = datagram_pair().unwrap();
    let h = port.associate(a, 0).unwrap();
    let peer = Arc::new(peer);
    let (mut cancelled, mut finished) = (0, 0);
    for round in 0..200u32 {
        let id = port.submit(Recv::new(&h, Vec::with_capacity(8)), round as usize).unwrap();
        let p2 = peer.clone();
        let writer = std::thread::spawn(move || p2.send(&round.to_le_bytes()).unwrap());
        let cancel = port.cancel(id);
        writer.join().unwrap();
        let c = next(&port, "the raced recv");
        assert_eq!(c.id(), id);
        if c.is_cancelled() {
            cancel.expect("a cancelled op was cancelled by us");
            cancelled += 1;
            // The datagram is still queued: consume it so the next round starts clean.
            port.submit(Recv::new(&h, Vec::with_capacity(8)), 0).unwrap();
            let (n, op) = next(&port, "the leftover").into_op::<Recv<Vec<u8>>>().unwrap().unpack();
            assert_eq!((n.unwrap(), op.into_buf()), (4, round.to_le_bytes().to_vec()));
        } else {
            let (n, op) = c.into_op::<Recv<Vec<u8>>>().unwrap().unpack();
            assert_eq!((n.unwrap(), op.into_buf()), (4, round.to_le_bytes().to_vec()));
            if let Err(e) = cancel {
                assert_eq!(e.kind(), ErrorKind::NotFound);
            }
            finished += 1;
        }
        assert!(port.wait(Some(Duration::ZERO)).unwrap().is_none(), "[{b}] round {round}: a second completion");
    }
    assert_eq!(cancelled + finished, 200);
}

fn cancel_timeout(b: PortBackend) {
    let port = port(b);
    let id = port.submit(Timeout::new(Duration::from_secs(3600)), 5).unwrap();
    let other = port.submit(Timeout::new(Duration::from_millis(10)), 6).unwrap();
    port.cancel(id).unwrap();
    let mut got = [next(&port, "timeouts"), next(&port, "timeouts")];
    got.sort_by_key(|c| c.user_data());
    assert!(got[0].is_cancelled() && got[0].id() == id, "{:?}", got[0]);
    assert!(!got[1].is_cancelled() && got[1].id() == other, "{:?}", got[1]);
}

fn cancel_accept(b: PortBackend) {
    let port = port(b);
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let h = port.associate(l, 0).unwrap();
    let id = port.submit(Accept::new(&h), 0).unwrap();
    port.cancel(id).unwrap();
    let c = next(&port, "the cancelled accept");
    assert!(c.is_cancelled());
    assert!(c.into_op::<Accept>().unwrap().1.take_socket().is_none());
}

/// `pairs` stream pairs with one end on `port` and four receives in flight on it, each into a
/// buffer counted in `live`; the other ends.
fn receives_in_flight(port: &CompletionPort, pairs: usize, live: &Arc<AtomicUsize>) -> Vec<Stream> {
    let mut peers = Vec::new();
    for i in 0..pairs {
        let (a, p) = stream_pair().unwrap();
        let h = port.associate(a, i).unwrap();
        for _ in 0..4 {
            port.submit(Recv::new(&h, Counted::new(128, live)), i).unwrap();
        }
        peers.push(p);
    }
    peers
}

fn drop_port_with_ops_in_flight(b: PortBackend) {
    let live = Arc::new(AtomicUsize::new(0));
    let fds_before = open_fds();
    {
        let port = port(b);
        let peers = receives_in_flight(&port, 64, &live);
        for i in 0..8 {
            port.submit(Timeout::new(Duration::from_secs(3600)), i).unwrap();
        }
        // Some completed and never taken, too.
        (&peers[0]).write_all(b"unclaimed").unwrap();
        port.post(1, 2, 3).unwrap();
        assert_eq!(live.load(Ordering::SeqCst), 256);
        let p2 = port.clone();
        drop(port);
        if p2.is_single_thread() {
            drop(p2); // on its own thread, as a single-thread port must be (the drain is bounded)
        } else {
            within_patience("dropping a port with ops in flight", move || drop(p2));
        }
    }
    assert_eq!(live.load(Ordering::SeqCst), 0, "[{b}] buffers of ops in flight leaked");
    assert_eq!(open_fds(), fds_before, "[{b}] descriptors leaked");
}

fn dropped_handle_closes_its_descriptor(b: PortBackend) {
    let port = port(b);
    let before = open_fds();
    for _ in 0..100 {
        let (a, mut peer) = stream_pair().unwrap();
        let h = port.associate(a, 0).unwrap();
        port.submit(Recv::new(&h, Vec::with_capacity(4)), 0).unwrap();
        drop(h); // the op still holds it
        peer.write_all(b"1").unwrap();
        next(&port, "the recv").into_op::<Recv<Vec<u8>>>().unwrap().0.unwrap();
    }
    assert_eq!(open_fds(), before, "[{b}] handles leaked descriptors");
    // And the port still works with reused descriptor numbers.
    let (a, mut peer) = stream_pair().unwrap();
    let h = port.associate(a, 9).unwrap();
    port.submit(Recv::new(&h, Vec::with_capacity(4)), 0).unwrap();
    peer.write_all(b"2").unwrap();
    assert_eq!(next(&port, "after reuse").key(), 9);
}

fn ports_open_and_close(b: PortBackend) {
    let before = open_fds();
    for _ in 0..100 {
        let p: CompletionPort = port(b);
        p.post(0, 0, 0).unwrap();
        drop(p);
    }
    assert_eq!(open_fds(), before, "[{b}] ports leaked descriptors");
}

/// Cancelling the op at the head of a socket's queue lets the op behind it run. A priority wait
/// holds a receive back (the emulation runs a socket's reads in order, and watches the
/// descriptor for what its head waits for: priority data) while ordinary data arrives, which
/// therefore wakes nothing; after the cancel no new readiness comes, so the receive must be
/// tried (or watched for) at once. (IOCP runs both at once: the receive completes first there.)
fn cancelled_head_lets_the_next_op_run(b: PortBackend) {
    let port = port(b);
    let (c, s) = tcp_pair();
    let h = port.associate(s, 0).unwrap();
    let res = port.submit(PollReady::new(&h, Interest::PRIORITY), 1);
    if b == PortBackend::Uring {
        // Documented: io_uring refuses priority waits (see port_ops).
        assert_eq!(res.map(drop).unwrap_err().error.kind(), ErrorKind::Unsupported);
        return;
    }
    let head = res.unwrap();
    port.submit(Recv::new(&h, Vec::with_capacity(16)), 2).unwrap();
    (&c).write_all(b"hi").unwrap();
    let mut got: Vec<_> = port.wait(Some(Duration::from_millis(200))).unwrap().into_iter().collect();
    port.cancel(head).unwrap();
    while got.len() < 2 {
        got.push(next(&port, "the cancelled head and the receive behind it"));
    }
    got.sort_by_key(|c| c.user_data());
    let mut got = got.into_iter();
    let first = got.next().unwrap();
    assert!(first.is_cancelled() && first.user_data() == 1, "[{b}] {first:?}");
    let (res, op) = got.next().unwrap().into_op::<Recv<Vec<u8>>>().unwrap().unpack();
    assert_eq!(res.unwrap(), 2, "[{b}]");
    assert_eq!(op.into_buf(), b"hi", "[{b}]");
}

/// An op id names an op of one port: another port refuses it, even when an op of its own has
/// the same number, and that op goes on untouched.
fn foreign_op_id_is_refused(b: PortBackend) {
    let (pa, pb) = (port(b), port(b));
    let (a, mut a_peer) = stream_pair().unwrap();
    let (z, mut z_peer) = stream_pair().unwrap();
    let (ha, hz) = (pa.associate(a, 1).unwrap(), pb.associate(z, 2).unwrap());
    // Several ops each, so the two ports' numbers overlap whatever they count from.
    let ids_a: Vec<_> = (0..4).map(|i| pa.submit(Recv::new(&ha, Vec::with_capacity(8)), i).unwrap()).collect();
    let ids_b: Vec<_> = (0..4).map(|i| pb.submit(Recv::new(&hz, Vec::with_capacity(8)), i).unwrap()).collect();
    for id in &ids_a {
        let e = pb.cancel(*id).unwrap_err();
        assert!(matches!(e.kind(), ErrorKind::NotFound | ErrorKind::InvalidInput), "[{b}] {e}");
    }
    for id in &ids_b {
        let e = pa.cancel(*id).unwrap_err();
        assert!(matches!(e.kind(), ErrorKind::NotFound | ErrorKind::InvalidInput), "[{b}] {e}");
    }
    port_quiet(&pb, "port B's ops were not cancelled by port A's ids");
    port_quiet(&pa, "port A's ops were not cancelled by port B's ids");
    // Every op is still there and completes with data, in order.
    a_peer.write_all(b"abcd").unwrap();
    z_peer.write_all(b"wxyz").unwrap();
    for (port, want) in [(&pa, b"abcd"), (&pb, b"wxyz")] {
        let mut got = Vec::new();
        while got.len() < want.len() {
            let c = next(port, "a receive");
            assert!(!c.is_cancelled(), "[{b}] {c:?}");
            let (res, op) = c.into_op::<Recv<Vec<u8>>>().unwrap().unpack();
            res.unwrap();
            got.extend(op.into_buf());
        }
        assert_eq!(&got, want, "[{b}]");
    }
    // Ids of posts and of completed ops are stale: refused too.
    let post = pa.post(0, 0, 0).unwrap();
    next(&pa, "the post");
    assert_eq!(pa.cancel(post).unwrap_err().kind(), ErrorKind::NotFound);
    assert!(pb.cancel(post).is_err());
}

/// Closing a port with ops in flight: they never complete (waits return the closed error), and
/// once the port is dropped nothing is left — no buffer, no descriptor — on every backend.
fn close_with_ops_in_flight(b: PortBackend) {
    let live = Arc::new(AtomicUsize::new(0));
    let fds_before = open_fds();
    {
        let port = port(b);
        let peers = receives_in_flight(&port, 16, &live);
        port.submit(Timeout::new(Duration::from_secs(3600)), 99).unwrap();
        (&peers[0]).write_all(b"done before the close").unwrap();
        port.post(1, 2, 3).unwrap();
        port.close().unwrap();
        let e = port.wait(Some(Duration::ZERO)).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::BrokenPipe, "[{b}] {e}");
        // Data arriving after the close completes nothing. (The write may fail: where the
        // cancelled ops were dropped at once, their handles closed the sockets.)
        let _ = (&peers[1]).write_all(b"after");
        assert_eq!(port.wait(Some(QUIET)).unwrap_err().kind(), ErrorKind::BrokenPipe);
        if port.is_single_thread() {
            drop(port);
        } else {
            within_patience("dropping a closed port", move || drop(port));
        }
        drop(peers);
    }
    assert_eq!(live.load(Ordering::SeqCst), 0, "[{b}] buffers of ops in flight at the close leaked");
    assert_eq!(open_fds(), fds_before, "[{b}] descriptors leaked");
}

/// Cancelling an op that waits behind another on the same socket takes it out at once; the ops
/// around it complete in order.
fn cancel_an_op_queued_behind_another(b: PortBackend) {
    let port = port(b);
    let (a, mut peer) = stream_pair().unwrap();
    let h = port.associate(a, 0).unwrap();
    let ids: Vec<_> = (0..3).map(|i| port.submit(Recv::new(&h, Vec::with_capacity(2)), i).unwrap()).collect();
    port.cancel(ids[1]).unwrap();
    let c = next(&port, "the cancelled middle receive");
    assert!(c.user_data() == 1 && c.is_cancelled(), "[{b}] {c:?}");
    peer.write_all(b"ab").unwrap();
    let c = next(&port, "the first receive");
    assert_eq!(c.user_data(), 0, "[{b}]");
    peer.write_all(b"cd").unwrap();
    let c = next(&port, "the third receive");
    assert_eq!(c.user_data(), 2, "[{b}]");
    let (n, op) = c.into_op::<Recv<Vec<u8>>>().unwrap().unpack();
    assert_eq!((n.unwrap(), op.into_buf()), (2, b"cd".to_vec()), "[{b}]");
    assert_eq!(port.cancel(ids[1]).unwrap_err().kind(), ErrorKind::NotFound);
}

/// A stream send cancelled after part of it went completes cancelled, and says how much went
/// (`transferred`): exactly what the peer gets, the first bytes of its buffer.
fn cancelled_send_says_what_went(b: PortBackend) {
    const LEN: usize = 8 << 20;
    const READ_FIRST: usize = 100 << 10;
    let port = port(b);
    let (a, z) = tcp_pair();
    socket2::SockRef::from(&a).set_send_buffer_size(16 << 10).unwrap();
    socket2::SockRef::from(&z).set_recv_buffer_size(64 << 10).unwrap();
    z.set_nonblocking(false).unwrap();
    z.set_read_timeout(Some(PATIENCE)).unwrap();
    let data: Vec<u8> = (0..LEN).map(|i| (i % 251) as u8).collect();
    let h = port.associate(a, 1).unwrap();
    let id = port.submit(Send::new(&h, data), 9).unwrap();
    // Part of it went: the peer reads that much (while the port runs, as an emulated port
    // sends only while it is waited on), then nothing more until the cancel is done.
    let reader = std::thread::spawn(move || {
        let mut z = z;
        let mut got = vec![0; READ_FIRST];
        z.read_exact(&mut got).map(|_| (z, got))
    });
    while !reader.is_finished() {
        assert!(port.wait(Some(Duration::from_millis(5))).unwrap().is_none(), "[{b}] the send completed");
    }
    let (mut z, mut got) = reader.join().unwrap().unwrap();
    port.cancel(id).unwrap();
    let c = next(&port, "the cancelled send");
    assert!(c.is_cancelled(), "[{b}] an 8 MiB send to a peer that stopped reading: {c:?}");
    let went = c.transferred();
    assert!((READ_FIRST..LEN).contains(&went), "[{b}] {went} bytes went");
    let (_, op) = c.into_op::<Send<Vec<u8>>>().unwrap().unpack();
    assert_eq!(op.into_buf().len(), LEN, "[{b}] the buffer comes back whole");
    drop(h); // the last handle: the socket closes, the peer reads to its end
    z.read_to_end(&mut got).unwrap();
    assert_eq!(got.len(), went, "[{b}] the peer got what the completion says went");
    assert!(got.iter().enumerate().all(|(i, &x)| x == (i % 251) as u8), "[{b}] the first bytes, in order");
}

fn main() {
    let cases = cases![
        cancelled_send_says_what_went,
        cancelled_head_lets_the_next_op_run,
        cancel_before_completion,
        cancel_after_completion_is_not_found,
        cancel_racing_completion_completes_once,
        cancel_timeout,
        cancel_accept,
        drop_port_with_ops_in_flight,
        dropped_handle_closes_its_descriptor,
        ports_open_and_close,
        foreign_op_id_is_refused,
        close_with_ops_in_flight,
        cancel_an_op_queued_behind_another,
    ];
    run_port_suite_also_single("port_cancel", cases, vec![], true);
}
