//! Conformance of the completion model: every op's success and error paths, buffers coming
//! back on success and error, the zero-length receive as a readiness probe, ordering of ops on
//! one socket, posts and timeouts. Every case runs on every available completion backend.

mod util;

use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, UdpSocket};
use std::time::{Duration, Instant};

use overlap::op::{
    Accept, Connect, PollReady, Read as ReadOp, Recv, RecvFrom, Send, SendTo, SendVectored, Timeout, Write as WriteOp,
};
use overlap::{Completion, CompletionPort, Interest, PortBackend};
use util::*;

fn recv_result(c: Completion) -> (std::io::Result<usize>, Vec<u8>) {
    let (res, op) = c.into_op::<Recv<Vec<u8>>>().expect("a Recv").unpack();
    (res, op.into_buf())
}

fn unix_pair(port: &CompletionPort) -> (overlap::Handle, Stream) {
    let (a, b) = stream_pair().unwrap();
    (port.associate(a, 1).unwrap(), b)
}

fn recv_gets_data(b: PortBackend) {
    let port = port(b);
    let (h, mut peer) = unix_pair(&port);
    port.submit(Recv::new(&h, Vec::with_capacity(64)), 11).unwrap();
    port_quiet(&port, "nothing sent yet");
    peer.write_all(b"hello").unwrap();
    let c = next(&port, "the recv");
    assert_eq!((c.key(), c.user_data()), (1, 11));
    let (n, buf) = recv_result(c);
    assert_eq!((n.unwrap(), buf.as_slice()), (5, &b"hello"[..]));
}

fn recv_appends_after_existing_bytes(b: PortBackend) {
    let port = port(b);
    let (h, mut peer) = unix_pair(&port);
    peer.write_all(b"world").unwrap();
    let mut buf = Vec::with_capacity(32);
    buf.extend_from_slice(b"hello ");
    port.submit(Recv::new(&h, buf), 0).unwrap();
    let (n, buf) = recv_result(next(&port, "the recv"));
    assert_eq!(n.unwrap(), 5);
    assert_eq!(buf, b"hello world");
}

fn recv_eof_is_zero(b: PortBackend) {
    let port = port(b);
    let (h, peer) = unix_pair(&port);
    port.submit(Recv::new(&h, Vec::with_capacity(8)), 0).unwrap();
    drop(peer);
    let (n, buf) = recv_result(next(&port, "end of stream"));
    assert_eq!(n.unwrap(), 0);
    assert!(buf.is_empty() && buf.capacity() >= 8, "the buffer comes back as it went");
}

fn recv_reset_is_error_with_buffer(b: PortBackend) {
    let port = port(b);
    let (c, s) = tcp_pair();
    let h = port.associate(s, 2).unwrap();
    port.submit(Recv::new(&h, Vec::with_capacity(16)), 0).unwrap();
    socket2::SockRef::from(&c).set_linger(Some(Duration::ZERO)).unwrap();
    drop(c);
    let (n, buf) = recv_result(next(&port, "the reset"));
    assert_eq!(n.unwrap_err().kind(), ErrorKind::ConnectionReset);
    assert_eq!(buf.capacity(), 16, "the buffer comes back on error");
}

fn zero_length_recv_is_a_readiness_probe(b: PortBackend) {
    let port = port(b);
    let (h, mut peer) = unix_pair(&port);
    port.submit(Recv::new(&h, Vec::new()), 1).unwrap();
    port_quiet(&port, "no data: the probe waits");
    peer.write_all(b"abc").unwrap();
    let (n, buf) = recv_result(next(&port, "the probe"));
    assert_eq!((n.unwrap(), buf.len()), (0, 0));
    // The data is still there.
    port.submit(Recv::new(&h, Vec::with_capacity(8)), 2).unwrap();
    let (n, buf) = recv_result(next(&port, "the real recv"));
    assert_eq!((n.unwrap(), buf.as_slice()), (3, &b"abc"[..]));
}

fn zero_length_recv_reports_a_reset(b: PortBackend) {
    let port = port(b);
    let (c, s) = tcp_pair();
    let h = port.associate(s, 0).unwrap();
    port.submit(Recv::new(&h, Vec::new()), 0).unwrap();
    socket2::SockRef::from(&c).set_linger(Some(Duration::ZERO)).unwrap();
    drop(c);
    let (res, buf) = recv_result(next(&port, "the probe on a reset socket"));
    assert_eq!(res.unwrap_err().kind(), ErrorKind::ConnectionReset, "[{b}] the same answer on every backend");
    assert!(buf.is_empty());
}

/// Windows: std's pipes are synchronous handles, which IOCP cannot run without blocking the
/// submitter; `windows_iocp` checks that `associate` refuses them.
#[cfg(unix)]
fn pipe_ignores_offsets(b: PortBackend) {
    let port = port(b);
    let (r, w) = std::io::pipe().unwrap();
    let (rh, wh) = (port.associate(r, 1).unwrap(), port.associate(w, 2).unwrap());
    port.submit(WriteOp::new(&wh, b"abc".to_vec()).at(1000), 0).unwrap();
    assert_eq!(next(&port, "write").into_op::<WriteOp<Vec<u8>>>().unwrap().0.unwrap(), 3);
    port.submit(ReadOp::new(&rh, Vec::with_capacity(8)).at(77), 0).unwrap();
    let (n, op) = next(&port, "read").into_op::<ReadOp<Vec<u8>>>().unwrap().unpack();
    assert_eq!((n.unwrap(), op.into_buf()), (3, b"abc".to_vec()), "[{b}] a pipe has no position");
}

fn send_and_send_vectored(b: PortBackend) {
    let port = port(b);
    let (h, mut peer) = unix_pair(&port);
    port.submit(Send::new(&h, b"one ".to_vec()), 1).unwrap();
    let c = next(&port, "the send");
    let (n, op) = c.into_op::<Send<Vec<u8>>>().unwrap().unpack();
    assert_eq!(n.unwrap(), 4);
    assert_eq!(op.into_buf(), b"one ");
    let parts: Vec<&'static [u8]> = vec![b"two ", b"three"];
    port.submit(SendVectored::new(&h, parts), 2).unwrap();
    let (n, op) = next(&port, "the gathered send").into_op::<SendVectored<&'static [u8]>>().unwrap().unpack();
    assert_eq!(n.unwrap(), 9);
    assert_eq!(op.into_bufs().len(), 2);
    let mut got = [0u8; 13];
    peer.read_exact(&mut got).unwrap();
    assert_eq!(&got, b"one two three");
}

/// A completion handler posts the next op on the same handle by taking it out of the op that
/// completed (`into_parts`, `with_handle`): the echo of the seed's server.
fn next_op_takes_the_handle_of_the_last(b: PortBackend) {
    let port = port(b);
    let (h, mut peer) = unix_pair(&port);
    port.submit(Recv::new(&h, Vec::with_capacity(16)), 1).unwrap();
    drop(h); // the ops carry it from here on
    peer.write_all(b"echo me").unwrap();
    let (n, recv) = next(&port, "the recv").into_op::<Recv<Vec<u8>>>().unwrap().unpack();
    assert_eq!(n.unwrap(), 7);
    let (h, buf) = recv.into_parts();
    assert_eq!(h.key(), 1);
    port.submit(Send::with_handle(h, buf), 2).unwrap();
    let (n, send) = next(&port, "the send").into_op::<Send<Vec<u8>>>().unwrap().unpack();
    assert_eq!(n.unwrap(), 7);
    let mut got = [0u8; 7];
    peer.read_exact(&mut got).unwrap();
    assert_eq!(&got, b"echo me", "[{b}]");
    let (h, mut buf) = send.into_parts();
    buf.clear();
    port.submit(Recv::with_handle(h, buf), 3).unwrap();
    drop(peer); // the last op holds the only handle: it sees the end of the stream
    let (n, recv) = next(&port, "end of stream").into_op::<Recv<Vec<u8>>>().unwrap().unpack();
    assert_eq!((n.unwrap(), recv.into_buf().capacity() >= 16), (0, true), "[{b}]");
}

fn send_to_reset_peer_fails(b: PortBackend) {
    let port = port(b);
    let (c, s) = tcp_pair();
    let h = port.associate(s, 0).unwrap();
    socket2::SockRef::from(&c).set_linger(Some(Duration::ZERO)).unwrap();
    drop(c);
    // The reset may take a moment to arrive: send until a send fails (bounded).
    let deadline = Instant::now() + PATIENCE;
    loop {
        assert!(Instant::now() < deadline, "[{b}] sends to a reset peer kept succeeding");
        port.submit(Send::new(&h, vec![1u8; 1024]), 0).unwrap();
        let (res, op) = next(&port, "the send").into_op::<Send<Vec<u8>>>().unwrap().unpack();
        assert_eq!(op.into_buf().len(), 1024, "buffer back");
        if let Err(e) = res {
            assert!(matches!(e.kind(), ErrorKind::ConnectionReset | ErrorKind::BrokenPipe), "{e}");
            return;
        }
    }
}

fn accept_and_connect(b: PortBackend) {
    let port = port(b);
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    let lh = port.associate(l, 10).unwrap();
    port.submit(Accept::new(&lh), 1).unwrap();
    let sock = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    let ch = port.associate(std::net::TcpStream::from(sock), 20).unwrap();
    port.submit(Connect::new(&ch, addr), 2).unwrap();
    let mut accepted = None;
    let mut connected = false;
    for _ in 0..2 {
        let c = next(&port, "accept and connect");
        match c.user_data() {
            1 => {
                assert_eq!(c.key(), 10);
                let (res, op) = c.into_op::<Accept>().unwrap().unpack();
                res.unwrap();
                assert!(op.peer_addr().is_some_and(|a| a.ip().is_loopback()), "{:?}", op.peer_addr());
                accepted = op.into_tcp_stream();
            }
            2 => {
                assert_eq!(c.key(), 20);
                c.into_op::<Connect>().unwrap().0.unwrap();
                connected = true;
            }
            other => panic!("unexpected completion {other}"),
        }
    }
    assert!(connected);
    let mut s = accepted.expect("an accepted socket");
    // The accepted socket works: send through the connected handle, read it here.
    port.submit(Send::new(&ch, b"ping".to_vec()), 3).unwrap();
    next(&port, "send").into_op::<Send<Vec<u8>>>().unwrap().0.unwrap();
    s.set_nonblocking(false).unwrap();
    let mut got = [0u8; 4];
    s.read_exact(&mut got).unwrap();
    assert_eq!(&got, b"ping");
}

fn connect_refused(b: PortBackend) {
    let port = port(b);
    let closed: SocketAddr = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let sock = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    let h = port.associate(std::net::TcpStream::from(sock), 0).unwrap();
    port.submit(Connect::new(&h, closed), 0).unwrap();
    let err = next(&port, "the refused connect").into_op::<Connect>().unwrap().0.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ConnectionRefused, "{err}");
}

/// A connect on a socket that is already connected fails (EISCONN, WSAEISCONN) on every
/// backend, as io_uring and IOCP report it.
fn connect_on_a_connected_socket_fails(b: PortBackend) {
    let port = port(b);
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    let s = std::net::TcpStream::connect(addr).unwrap();
    let _accepted = l.accept().unwrap();
    let h = port.associate(s, 0).unwrap();
    port.submit(Connect::new(&h, addr), 0).unwrap();
    let err = next(&port, "the second connect").into_op::<Connect>().unwrap().0.unwrap_err();
    #[cfg(unix)]
    let eisconn = libc::EISCONN;
    #[cfg(windows)]
    let eisconn = 10056; // WSAEISCONN
    assert_eq!(err.raw_os_error(), Some(eisconn), "[{b}] {err}");
}

fn accept_on_a_non_listener_fails(b: PortBackend) {
    let port = port(b);
    let (h, _peer) = unix_pair(&port);
    port.submit(Accept::new(&h), 0).unwrap();
    let (res, mut op) = next(&port, "the failed accept").into_op::<Accept>().unwrap().unpack();
    assert!(res.is_err(), "accept on a connected stream socket fails");
    assert!(op.take_socket().is_none());
}

fn udp_send_to_and_recv_from(b: PortBackend) {
    let port = port(b);
    let rx = UdpSocket::bind("127.0.0.1:0").unwrap();
    let tx = UdpSocket::bind("127.0.0.1:0").unwrap();
    let (rx_addr, tx_addr) = (rx.local_addr().unwrap(), tx.local_addr().unwrap());
    let rxh = port.associate(rx, 1).unwrap();
    let txh = port.associate(tx, 2).unwrap();
    port.submit(RecvFrom::new(&rxh, Vec::with_capacity(64)), 1).unwrap();
    port.submit(SendTo::new(&txh, b"datagram".to_vec(), rx_addr), 2).unwrap();
    for _ in 0..2 {
        let c = next(&port, "udp");
        match c.user_data() {
            1 => {
                let (n, op) = c.into_op::<RecvFrom<Vec<u8>>>().unwrap().unpack();
                assert_eq!(n.unwrap(), 8);
                assert_eq!(op.peer_addr(), Some(tx_addr));
                assert_eq!(op.into_buf(), b"datagram");
            }
            _ => assert_eq!(c.into_op::<SendTo<Vec<u8>>>().unwrap().0.unwrap(), 8),
        }
    }
}

fn file_read_write_at_offsets(b: PortBackend) {
    let port = port(b);
    let path = std::env::temp_dir().join(format!("overlap-port-file-{}-{b}", std::process::id()));
    let mut opts = std::fs::OpenOptions::new();
    opts.read(true).write(true).create(true).truncate(true);
    #[cfg(windows)]
    std::os::windows::fs::OpenOptionsExt::custom_flags(&mut opts, 0x4000_0000); // FILE_FLAG_OVERLAPPED
    let f = opts.open(&path).unwrap();
    std::fs::remove_file(&path).unwrap();
    let h = port.associate(f, 5).unwrap();
    port.submit(WriteOp::new(&h, b"0123456789".to_vec()).at(0), 1).unwrap();
    assert_eq!(next(&port, "write").into_op::<WriteOp<Vec<u8>>>().unwrap().0.unwrap(), 10);
    port.submit(WriteOp::new(&h, b"AB".to_vec()).at(4), 2).unwrap();
    assert_eq!(next(&port, "write at 4").into_op::<WriteOp<Vec<u8>>>().unwrap().0.unwrap(), 2);
    port.submit(ReadOp::new(&h, Vec::with_capacity(6)).at(2), 3).unwrap();
    let (n, op) = next(&port, "read at 2").into_op::<ReadOp<Vec<u8>>>().unwrap().unpack();
    assert_eq!(n.unwrap(), 6);
    assert_eq!(op.into_buf(), b"23AB67");
    port.submit(ReadOp::new(&h, Vec::with_capacity(6)).at(100), 4).unwrap();
    let (n, op) = next(&port, "read past the end").into_op::<ReadOp<Vec<u8>>>().unwrap().unpack();
    assert_eq!((n.unwrap(), op.into_buf().len()), (0, 0));
}

/// Unix only: see `pipe_ignores_offsets`.
#[cfg(unix)]
fn pipe_read_and_write(b: PortBackend) {
    let port = port(b);
    let (r, w) = std::io::pipe().unwrap();
    let rh = port.associate(r, 1).unwrap();
    let wh = port.associate(w, 2).unwrap();
    port.submit(ReadOp::new(&rh, Vec::with_capacity(16)), 1).unwrap();
    port_quiet(&port, "empty pipe");
    port.submit(WriteOp::new(&wh, b"through".to_vec()), 2).unwrap();
    let mut got = None;
    for _ in 0..2 {
        let c = next(&port, "pipe");
        if c.user_data() == 1 {
            let (n, op) = c.into_op::<ReadOp<Vec<u8>>>().unwrap().unpack();
            assert_eq!(n.unwrap(), 7);
            got = Some(op.into_buf());
        }
    }
    assert_eq!(got.unwrap(), b"through");
}

fn poll_ready_op(b: PortBackend) {
    let port = port(b);
    let (h, mut peer) = unix_pair(&port);
    port.submit(PollReady::new(&h, Interest::WRITABLE), 1).unwrap();
    let (res, op) = next(&port, "writable").into_op::<PollReady>().unwrap().unpack();
    res.unwrap();
    assert!(op.is_writable());
    port.submit(PollReady::new(&h, Interest::READABLE), 2).unwrap();
    port_quiet(&port, "not readable yet");
    peer.write_all(b"x").unwrap();
    let (res, op) = next(&port, "readable").into_op::<PollReady>().unwrap().unpack();
    res.unwrap();
    assert!(op.is_readable() && !op.is_error());
}

fn poll_ready_for_either_direction(b: PortBackend) {
    let port = port(b);
    let (a, _peer) = stream_pair().unwrap();
    let h = port.associate(a, 0).unwrap();
    // Not readable, but writable: a wait for either completes, reporting writable.
    port.submit(PollReady::new(&h, Interest::READABLE | Interest::WRITABLE), 1).unwrap();
    let (res, op) = next(&port, "readable or writable").into_op::<PollReady>().unwrap().unpack();
    res.unwrap();
    assert!(op.is_writable() && !op.is_readable(), "[{b}]");
}

/// A handle associated for polling carries `PollReady` alone (a receive on it is refused,
/// the op given back); the same socket joins the port for its own ops through a duplicate
/// (on IOCP a socket joins a port once: the polling handle leaves it out), and both work.
fn polling_handle_carries_polls_alone(b: PortBackend) {
    let port = port(b);
    let (a, mut peer) = stream_pair().unwrap();
    let dup = a.try_clone().unwrap();
    let poll = port.associate_for_polling(a, 0).unwrap();
    let err = port.submit(Recv::new(&poll, Vec::with_capacity(8)), 1).unwrap_err();
    assert_eq!(err.error.kind(), ErrorKind::InvalidInput, "[{b}] {}", err.error);
    assert!(err.op.into_buf().capacity() >= 8, "[{b}] the op came back with its buffer");
    let io = port.associate(dup, 0).unwrap();
    peer.write_all(b"ready").unwrap();
    port.submit(PollReady::new(&poll, Interest::READABLE), 2).unwrap();
    let (res, op) = next(&port, "readable").into_op::<PollReady>().unwrap().unpack();
    res.unwrap();
    assert!(op.is_readable(), "[{b}]");
    port.submit(Recv::new(&io, Vec::with_capacity(16)), 3).unwrap();
    let (res, op) = next(&port, "received").into_op::<Recv<Vec<u8>>>().unwrap().unpack();
    assert_eq!(res.unwrap(), 5, "[{b}]");
    assert_eq!(op.into_buf(), b"ready");
}

fn many_cancelled_timeouts_leave_timers_working(b: PortBackend) {
    let port = port(b);
    for i in 0..5_000 {
        let id = port.submit(Timeout::new(Duration::from_secs(3600)), i).unwrap();
        port.cancel(id).unwrap();
    }
    let mut cancelled = 0;
    while let Some(c) = port.wait(Some(Duration::ZERO)).unwrap() {
        assert!(c.is_cancelled());
        cancelled += 1;
        if cancelled == 5_000 {
            break;
        }
    }
    while cancelled < 5_000 {
        assert!(next(&port, "cancelled timeouts").is_cancelled());
        cancelled += 1;
    }
    port.submit(Timeout::new(Duration::from_millis(5)), 7).unwrap();
    assert_eq!(next(&port, "a live timeout after the churn").user_data(), 7);
}

fn priority_wait_is_not_woken_by_ordinary_data(b: PortBackend) {
    let port = port(b);
    let (c, s) = tcp_pair();
    let h = port.associate(s, 0).unwrap();
    let res = port.submit(PollReady::new(&h, Interest::PRIORITY), 1);
    if b == PortBackend::Uring {
        // Documented: io_uring's POLL_ADD did not report urgent data here; refused, not hung.
        assert_eq!(res.unwrap_err().error.kind(), ErrorKind::Unsupported);
        return;
    }
    res.unwrap();
    (&c).write_all(b"ordinary").unwrap();
    port_quiet(&port, "ordinary data is not priority data");
    socket2::SockRef::from(&c).send_out_of_band(b"!").unwrap();
    let (res, _op) = next(&port, "the priority wait").into_op::<PollReady>().unwrap().unpack();
    res.unwrap();
}

fn timeout_op_is_not_early(b: PortBackend) {
    let port = port(b);
    let start = Instant::now();
    port.submit(Timeout::new(Duration::from_millis(30)), 9).unwrap();
    let c = next(&port, "the timeout");
    assert!(start.elapsed() >= Duration::from_millis(30), "[{b}] early: {:?}", start.elapsed());
    assert_eq!((c.key(), c.user_data()), (0, 9));
    assert_eq!(c.into_op::<Timeout>().unwrap().0.unwrap(), 0);
}

fn timeouts_fire_in_deadline_order(b: PortBackend) {
    let port = port(b);
    // 200 ms apart: a submitting thread stalled for less than that keeps the order.
    for (ms, tag) in [(600u64, 3usize), (200, 1), (400, 2)] {
        port.submit(Timeout::new(Duration::from_millis(ms)), tag).unwrap();
    }
    let order: Vec<usize> = (0..3).map(|_| next(&port, "timeouts").user_data()).collect();
    assert_eq!(order, vec![1, 2, 3]);
}

fn wait_timeout_is_not_early(b: PortBackend) {
    let port = port(b);
    for t in [Duration::from_micros(1), Duration::from_millis(2), Duration::from_millis(30)] {
        let start = Instant::now();
        assert!(port.wait(Some(t)).unwrap().is_none());
        assert!(start.elapsed() >= t, "[{b}] wait({t:?}) returned after {:?}", start.elapsed());
    }
    assert!(port.wait(Some(Duration::ZERO)).unwrap().is_none());
}

fn post_carries_key_data_and_value(b: PortBackend) {
    let port = port(b);
    let id = port.post(42, 7, 1234).unwrap();
    let c = next(&port, "the post");
    assert_eq!((c.id(), c.key(), c.user_data()), (id, 42, 7));
    assert_eq!(c.result().as_ref().unwrap(), &1234);
    let err = port.cancel(id).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound, "a delivered post cannot be cancelled: {err}");
}

fn ops_on_one_socket_keep_their_order(b: PortBackend) {
    let port = port(b);
    let (a, peer) = datagram_pair().unwrap();
    let h = port.associate(a, 0).unwrap();
    for i in 0..8usize {
        port.submit(Recv::new(&h, Vec::with_capacity(16)), i).unwrap();
    }
    for i in 0..8u8 {
        peer.send(&[i; 3]).unwrap();
    }
    for _ in 0..8 {
        let c = next(&port, "recvs");
        let i = c.user_data();
        let (n, buf) = recv_result(c);
        assert_eq!(n.unwrap(), 3);
        assert_eq!(buf, vec![i as u8; 3], "[{b}] recv {i} got another datagram");
    }
    let (s, mut rd) = stream_pair().unwrap();
    let h = port.associate(s, 0).unwrap();
    for i in 0..8u8 {
        port.submit(Send::new(&h, vec![b'a' + i; 100]), 0).unwrap();
    }
    for _ in 0..8 {
        next(&port, "sends").into_op::<Send<Vec<u8>>>().unwrap().0.unwrap();
    }
    let mut all = vec![0u8; 800];
    rd.read_exact(&mut all).unwrap();
    for (i, chunk) in all.chunks(100).enumerate() {
        assert!(chunk.iter().all(|&c| c == b'a' + i as u8), "[{b}] sends arrived out of order");
    }
}

/// A receive that took less than its buffer holds emptied a stream: the next one waits for
/// new data, which wakes it; one that filled its buffer leaves the rest for the next; the end
/// of the stream is reported to every receive after it, not once.
fn short_reads_then_more_data_and_eof(b: PortBackend) {
    let port = port(b);
    let (h, mut peer) = unix_pair(&port);
    port.submit(Recv::new(&h, Vec::with_capacity(64)), 1).unwrap();
    port_quiet(&port, "nothing sent yet");
    peer.write_all(b"abc").unwrap();
    assert_eq!(recv_result(next(&port, "the first bytes")).1, b"abc");
    port.submit(Recv::new(&h, Vec::with_capacity(64)), 2).unwrap();
    port_quiet(&port, "a short read took everything");
    peer.write_all(b"defg").unwrap();
    assert_eq!(recv_result(next(&port, "bytes after a short read")).1, b"defg");
    peer.write_all(b"0123456789").unwrap();
    for want in [&b"0123"[..], b"4567", b"89"] {
        port.submit(Recv::new(&h, Vec::with_capacity(4)), 3).unwrap();
        assert_eq!(recv_result(next(&port, "the rest, a buffer at a time")).1, want);
    }
    drop(peer);
    for _ in 0..2 {
        port.submit(Recv::new(&h, Vec::with_capacity(64)), 4).unwrap();
        assert_eq!(recv_result(next(&port, "end of stream")).0.unwrap(), 0);
    }
}

/// Data and the end of the stream arriving together, while a receive waits: the short read
/// takes the data, and the end of the stream still reaches the next receive.
fn eof_right_behind_the_last_data(b: PortBackend) {
    let port = port(b);
    let (h, mut peer) = unix_pair(&port);
    port.submit(Recv::new(&h, Vec::with_capacity(64)), 1).unwrap();
    port_quiet(&port, "nothing sent yet");
    peer.write_all(b"xyz").unwrap();
    drop(peer);
    assert_eq!(recv_result(next(&port, "the last data")).1, b"xyz");
    port.submit(Recv::new(&h, Vec::with_capacity(64)), 2).unwrap();
    assert_eq!(recv_result(next(&port, "the end of stream behind it")).0.unwrap(), 0);
}

/// A datagram shorter than the buffer says nothing about the next one: it is still queued.
fn datagrams_queued_behind_a_short_one(b: PortBackend) {
    let port = port(b);
    let (a, peer) = datagram_pair().unwrap();
    let h = port.associate(a, 0).unwrap();
    port.submit(Recv::new(&h, Vec::with_capacity(64)), 1).unwrap();
    port_quiet(&port, "nothing sent yet");
    peer.send(b"one").unwrap();
    peer.send(b"two").unwrap();
    assert_eq!(recv_result(next(&port, "the first datagram")).1, b"one");
    port.submit(Recv::new(&h, Vec::with_capacity(64)), 2).unwrap();
    assert_eq!(recv_result(next(&port, "the second datagram, already queued")).1, b"two");
}

/// Waits with a zero timeout only look, and still find what finished (io_uring's deferred
/// completion work, on single-thread ports, runs only inside a wait).
fn zero_timeout_waits_find_completions(b: PortBackend) {
    let port = port(b);
    let (h, mut peer) = unix_pair(&port);
    port.submit(Recv::new(&h, Vec::with_capacity(8)), 1).unwrap();
    assert!(port.wait(Some(Duration::ZERO)).unwrap().is_none());
    peer.write_all(b"hi").unwrap();
    let deadline = Instant::now() + PATIENCE;
    let c = loop {
        if let Some(c) = port.wait(Some(Duration::ZERO)).unwrap() {
            break c;
        }
        assert!(Instant::now() < deadline, "[{b}] zero-timeout waits never found the recv");
        std::thread::yield_now();
    };
    assert_eq!(recv_result(c).1, b"hi");
}

fn half_close_then_recv(b: PortBackend) {
    let port = port(b);
    let (c, s) = tcp_pair();
    let h = port.associate(s, 0).unwrap();
    (&c).write_all(b"bye").unwrap();
    c.shutdown(Shutdown::Write).unwrap();
    port.submit(Recv::new(&h, Vec::with_capacity(16)), 0).unwrap();
    let (n, buf) = recv_result(next(&port, "data before EOF"));
    assert_eq!((n.unwrap(), buf.as_slice()), (3, &b"bye"[..]));
    port.submit(Recv::new(&h, Vec::with_capacity(16)), 0).unwrap();
    assert_eq!(recv_result(next(&port, "EOF")).0.unwrap(), 0);
    // Our direction still works.
    port.submit(Send::new(&h, b"ok".to_vec()), 0).unwrap();
    next(&port, "send").into_op::<Send<Vec<u8>>>().unwrap().0.unwrap();
    let mut got = [0u8; 2];
    c.set_nonblocking(false).unwrap();
    (&c).read_exact(&mut got).unwrap();
    assert_eq!(&got, b"ok");
}

fn foreign_handle_is_refused_with_the_op(b: PortBackend) {
    let port_a = port(b);
    let port_b = port(b);
    let (h, _peer) = unix_pair(&port_a);
    let err = port_b.submit(Recv::new(&h, Vec::with_capacity(5)), 0).unwrap_err();
    assert_eq!(err.error.kind(), ErrorKind::InvalidInput, "{}", err.error);
    assert_eq!(err.op.into_buf().capacity(), 5, "the op and its buffer come back");
}

fn bad_wait_and_backend_inputs(b: PortBackend) {
    let port = port(b);
    let (h, _peer) = unix_pair(&port);
    let none = Interest::READABLE & Interest::WRITABLE;
    let e = port.submit(PollReady::new(&h, none), 0).unwrap_err();
    assert_eq!(e.error.kind(), ErrorKind::InvalidInput, "an empty readiness wait: {}", e.error);
    let e = port.submit(PollReady::new(&h, Interest::READ_CLOSED), 0).unwrap_err();
    assert_eq!(e.error.kind(), ErrorKind::Unsupported, "READ_CLOSED is for registrations: {}", e.error);
    let e = port.submit(ReadOp::new(&h, Vec::with_capacity(4)).at(u64::MAX), 0).unwrap_err();
    assert_eq!(e.error.kind(), ErrorKind::InvalidInput, "{}", e.error);
    assert_eq!(e.op.into_buf().capacity(), 4, "the op comes back with its buffer");
    let e = port.wait_many(&mut Vec::new(), 0, Some(Duration::ZERO)).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
    let e = "select".parse::<PortBackend>().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
    assert!(e.to_string().contains("uring"), "{e}");
}

fn deferred_ops_start_at_the_next_wait(b: PortBackend) {
    let port = port(b);
    let (h, mut peer) = unix_pair(&port);
    for i in 0..3u8 {
        port.submit_deferred(Send::new(&h, vec![i; 4]), i as usize).unwrap();
    }
    port.submit_deferred(Recv::new(&h, Vec::with_capacity(8)), 9).unwrap();
    // The wait hands the deferred ops to the kernel: the sends complete, in order.
    for i in 0..3 {
        let c = next(&port, "a deferred send");
        assert_eq!((c.user_data(), *c.result().as_ref().unwrap()), (i, 4), "[{b}]");
    }
    let mut got = [0u8; 12];
    peer.read_exact(&mut got).unwrap();
    assert_eq!(got, [0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2]);
    peer.write_all(b"back").unwrap();
    let (n, buf) = recv_result(next(&port, "the deferred recv"));
    assert_eq!((n.unwrap(), buf.as_slice()), (4, &b"back"[..]));
}

fn deferred_ops_start_at_flush(b: PortBackend) {
    let port = port(b);
    let (h, mut peer) = unix_pair(&port);
    port.submit_deferred(Send::new(&h, b"flushed".to_vec()), 1).unwrap();
    port.flush().unwrap();
    port.flush().unwrap(); // nothing left: no harm
                           // Nobody waits on the port: the flush alone must have started the send.
    peer.set_read_timeout(Some(PATIENCE)).unwrap();
    let mut got = [0u8; 7];
    peer.read_exact(&mut got).expect("the flushed send arrives without a wait");
    assert_eq!(&got, b"flushed");
    assert_eq!(*next(&port, "the send").result().as_ref().unwrap(), 7);
}

fn main() {
    let cases = cases![
        next_op_takes_the_handle_of_the_last,
        connect_on_a_connected_socket_fails,
        deferred_ops_start_at_the_next_wait,
        deferred_ops_start_at_flush,
        recv_gets_data,
        recv_appends_after_existing_bytes,
        recv_eof_is_zero,
        recv_reset_is_error_with_buffer,
        zero_length_recv_is_a_readiness_probe,
        zero_length_recv_reports_a_reset,
        #[cfg(unix)]
        pipe_ignores_offsets,
        send_and_send_vectored,
        send_to_reset_peer_fails,
        accept_and_connect,
        connect_refused,
        accept_on_a_non_listener_fails,
        udp_send_to_and_recv_from,
        file_read_write_at_offsets,
        #[cfg(unix)]
        pipe_read_and_write,
        poll_ready_op,
        poll_ready_for_either_direction,
        polling_handle_carries_polls_alone,
        priority_wait_is_not_woken_by_ordinary_data,
        many_cancelled_timeouts_leave_timers_working,
        timeout_op_is_not_early,
        timeouts_fire_in_deadline_order,
        wait_timeout_is_not_early,
        post_carries_key_data_and_value,
        ops_on_one_socket_keep_their_order,
        half_close_then_recv,
        zero_timeout_waits_find_completions,
        short_reads_then_more_data_and_eof,
        datagrams_queued_behind_a_short_one,
        eof_right_behind_the_last_data,
        foreign_handle_is_refused_with_the_op,
        bad_wait_and_backend_inputs,
    ];
    run_port_suite_also_single("port_ops", cases, vec![], false);
}
