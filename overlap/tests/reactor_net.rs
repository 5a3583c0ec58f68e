//! Conformance: TCP and UDP life cycles: peer close, half-close, EOF with data pending, reset,
//! refused connects, writes to a reset peer, and an accept-and-echo server with many clients.
//! Every case runs on every available backend.

mod util;

use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::time::Duration;

use overlap::{Interest, ReactorBackend, Token, Trigger};
use socket2::{Domain, SockRef, Socket, Type};
use util::*;

const R: Interest = Interest::READABLE;
const W: Interest = Interest::WRITABLE;
const LEVEL: Trigger = Trigger::Level;

/// A loopback address where nothing listens (bound once, then closed).
fn closed_port() -> SocketAddr {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap()
}

fn peer_close_is_read_closed(b: ReactorBackend) {
    let mut r = reactor(b);
    let (c, s) = tcp_pair();
    r.registry().register(&s, Token(1), R, LEVEL).unwrap();
    expect_quiet(&mut r, Token(1), "connected, idle");
    drop(c);
    let e = expect_token(&mut r, Token(1), "read-closed", |e| e.is_read_closed());
    assert!(e.is_readable(), "a read will not block (it returns 0): {e:?}");
    assert_eq!((&s).read(&mut [0; 8]).unwrap(), 0, "end of stream");
}

fn half_close_keeps_the_other_direction(b: ReactorBackend) {
    let mut r = reactor(b);
    let (c, s) = tcp_pair();
    r.registry().register(&s, Token(2), R, LEVEL).unwrap();
    r.registry().register(&c, Token(3), R, LEVEL).unwrap();
    c.shutdown(Shutdown::Write).unwrap();
    let e = expect_token(&mut r, Token(2), "read-closed after the peer's shutdown(Write)", |e| e.is_read_closed());
    assert!(!e.is_error(), "a half-close is not an error: {e:?}");
    assert_eq!((&s).read(&mut [0; 8]).unwrap(), 0);
    // The other direction still works.
    send(&s, b"reply");
    expect_token(&mut r, Token(3), "the reply", |e| e.is_readable());
    assert_eq!(recv_exact(&mut r, &c, 5), b"reply");
}

/// Whether `b` can watch for the peer's close alone (`Interest::READ_CLOSED`).
fn watches_close_alone(b: ReactorBackend) -> bool {
    matches!(b, ReactorBackend::Epoll | ReactorBackend::Afd)
        || b == ReactorBackend::Poll && cfg!(any(target_os = "linux", target_os = "android"))
}

fn read_closed_alone_ignores_data_and_reports_the_close(b: ReactorBackend) {
    let mut r = reactor(b);
    let (c, s) = tcp_pair();
    let res = r.registry().register(&s, Token(6), Interest::READ_CLOSED, LEVEL);
    if !watches_close_alone(b) {
        let e = res.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Unsupported, "{e}");
        // With READABLE it is implied, so accepted everywhere.
        r.registry().register(&s, Token(6), R | Interest::READ_CLOSED, LEVEL).unwrap();
        return;
    }
    res.unwrap();
    send(&c, b"data");
    expect_quiet(&mut r, Token(6), "data alone does not wake a READ_CLOSED registration");
    if b == ReactorBackend::Afd {
        // Wine's AFD reports the FIN only once the data before it is read (see
        // eof_with_data_pending): read it first there.
        assert_eq!(drain(&s), b"data");
    }
    drop(c);
    let e = expect_token(&mut r, Token(6), "read-closed", |e| e.is_read_closed());
    assert!(!e.is_writable(), "writable was not asked for: {e:?}");
    if b != ReactorBackend::Afd {
        assert_eq!(drain(&s), b"data", "the data before the close is still there");
    }
    assert_eq!((&s).read(&mut [0; 8]).unwrap(), 0, "end of stream");
}

fn read_closed_alone_reports_a_half_close(b: ReactorBackend) {
    if !watches_close_alone(b) {
        return; // refused there (read_closed_alone_ignores_data_and_reports_the_close)
    }
    let mut r = reactor(b);
    let (c, s) = tcp_pair();
    r.registry().register(&s, Token(7), Interest::READ_CLOSED | W, LEVEL).unwrap();
    expect_token(&mut r, Token(7), "writable", |e| e.is_writable() && !e.is_read_closed());
    r.registry().reregister(&s, Token(7), Interest::READ_CLOSED, LEVEL).unwrap();
    expect_quiet(&mut r, Token(7), "connected, idle");
    c.shutdown(Shutdown::Write).unwrap();
    let e = expect_token(&mut r, Token(7), "read-closed after shutdown(Write)", |e| e.is_read_closed());
    assert!(!e.is_error(), "a half-close is not an error: {e:?}");
    send(&s, b"still open");
    assert_eq!(recv_exact(&mut r, &c, 10), b"still open", "the other direction works");
}

fn eof_with_data_pending(b: ReactorBackend) {
    let mut r = reactor(b);
    let (c, s) = tcp_pair();
    r.registry().register(&s, Token(4), R, LEVEL).unwrap();
    send(&c, b"last words");
    drop(c);
    if b == ReactorBackend::Afd {
        // Windows' AFD reports the FIN (AFD_POLL_DISCONNECT) with the data still unread; Wine's
        // was seen to report it only once the data is read. Both: readable first, the data
        // intact, and read-closed by the time it is drained.
        expect_token(&mut r, Token(4), "readable", |e| e.is_readable());
        assert_eq!(drain(&s), b"last words", "data before the end of stream is not lost");
        expect_token(&mut r, Token(4), "read-closed", |e| e.is_read_closed());
        return;
    }
    expect_token(&mut r, Token(4), "readable and read-closed", |e| e.is_readable() && e.is_read_closed());
    assert_eq!(drain(&s), b"last words", "data before the end of stream is not lost");
}

fn reset_is_error(b: ReactorBackend) {
    let mut r = reactor(b);
    let (c, s) = tcp_pair();
    r.registry().register(&s, Token(5), R, LEVEL).unwrap();
    SockRef::from(&c).set_linger(Some(Duration::ZERO)).unwrap();
    drop(c); // RST
    let e = expect_token(&mut r, Token(5), "error after RST", |e| e.is_error());
    assert!(e.is_read_closed() && e.is_write_closed(), "a reset closes both directions: {e:?}");
    match (&s).read(&mut [0; 8]) {
        Err(err) => assert_eq!(err.kind(), ErrorKind::ConnectionReset, "{err}"),
        // Windows fails the read with WSAECONNRESET; Wine 8 was seen to return the end of the
        // stream instead (the poll above did report the reset as an error).
        Ok(0) if b == ReactorBackend::Afd => {}
        Ok(n) => panic!("[{b}] a read after a reset returned {n} bytes"),
    }
}

fn write_to_reset_peer(b: ReactorBackend) {
    let mut r = reactor(b);
    let (c, s) = tcp_pair();
    r.registry().register(&s, Token(6), W, LEVEL).unwrap();
    SockRef::from(&c).set_linger(Some(Duration::ZERO)).unwrap();
    drop(c);
    let e = expect_token(&mut r, Token(6), "write-closed after RST", |e| e.is_write_closed());
    assert!(e.is_error(), "{e:?}");
    let err = (&s).write(b"into the void").unwrap_err();
    assert!(
        matches!(err.kind(), ErrorKind::ConnectionReset | ErrorKind::BrokenPipe),
        "a write to a reset connection fails: {err}"
    );
}

fn connect_refused_is_error(b: ReactorBackend) {
    let mut r = reactor(b);
    let sock = Socket::new(Domain::IPV4, Type::STREAM, None).unwrap();
    sock.set_nonblocking(true).unwrap();
    match sock.connect(&closed_port().into()) {
        Err(e) if e.raw_os_error() == Some(IN_PROGRESS) => {}
        other => panic!("[{b}] a non-blocking loopback connect should be in progress: {other:?}"),
    }
    r.registry().register(&sock, Token(7), W, LEVEL).unwrap();
    let e = expect_token(&mut r, Token(7), "the refused connect", |e| e.is_error());
    assert!(e.is_write_closed(), "{e:?}");
    let so_error = sock.take_error().unwrap().expect("SO_ERROR is set");
    assert_eq!(so_error.kind(), ErrorKind::ConnectionRefused, "{so_error}");
}

fn connect_completes_writable(b: ReactorBackend) {
    let mut r = reactor(b);
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let sock = Socket::new(Domain::IPV4, Type::STREAM, None).unwrap();
    sock.set_nonblocking(true).unwrap();
    match sock.connect(&l.local_addr().unwrap().into()) {
        Ok(()) => {}
        Err(e) if e.raw_os_error() == Some(IN_PROGRESS) => {}
        Err(e) => panic!("connect: {e}"),
    }
    r.registry().register(&sock, Token(8), W, LEVEL).unwrap();
    let e = expect_token(&mut r, Token(8), "connected", |e| e.is_writable());
    assert!(!e.is_error(), "{e:?}");
    assert!(sock.take_error().unwrap().is_none());
    assert!(sock.peer_addr().is_ok(), "connected");
}

fn udp_port_unreachable_is_error(b: ReactorBackend) {
    let mut r = reactor(b);
    let target = UdpSocket::bind("127.0.0.1:0").unwrap();
    let addr = target.local_addr().unwrap();
    drop(target);
    let s = UdpSocket::bind("127.0.0.1:0").unwrap();
    s.set_nonblocking(true).unwrap();
    s.connect(addr).unwrap();
    r.registry().register(&s, Token(9), R, LEVEL).unwrap();
    s.send(b"anyone?").unwrap();
    let e = expect_token(&mut r, Token(9), "ICMP port unreachable", |e| e.is_error());
    let err = s.recv(&mut [0; 8]).unwrap_err();
    if b == ReactorBackend::Afd {
        // Windows names the ICMP port unreachable WSAECONNRESET (ConnectionReset); Wine 8 was
        // seen to report the error event but then WSAEWOULDBLOCK on the read.
        assert!(matches!(err.kind(), ErrorKind::ConnectionReset | ErrorKind::WouldBlock), "{err} after {e:?}");
        return;
    }
    assert_eq!(err.kind(), ErrorKind::ConnectionRefused, "{err}");
}

/// A reactor-driven echo server with `n` blocking clients; every client gets its bytes back.
fn echo_with_clients(b: ReactorBackend, n: usize, edge: bool) {
    let mut r = reactor(b);
    // poll and AFD refuse Edge (asserted in reactor_trigger and reactor_errors), so there the
    // edge variant of this case is the level one again: counted, but not an edge test there.
    let trigger = if edge && !matches!(b, ReactorBackend::Poll | ReactorBackend::Afd) { Trigger::Edge } else { LEVEL };
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    l.set_nonblocking(true).unwrap();
    let addr = l.local_addr().unwrap();
    r.registry().register(&l, Token(0), R, trigger).unwrap();
    let clients: Vec<_> = (0..n)
        .map(|i| {
            std::thread::spawn(move || {
                let mut c = TcpStream::connect(addr).unwrap();
                c.set_read_timeout(Some(PATIENCE)).unwrap();
                let msg = format!("client {i} says hello");
                c.write_all(msg.as_bytes()).unwrap();
                let mut back = vec![0; msg.len()];
                c.read_exact(&mut back).unwrap();
                assert_eq!(back, msg.as_bytes());
            })
        })
        .collect();
    let mut conns: Vec<Option<TcpStream>> = Vec::new();
    let mut finished = 0;
    let deadline = std::time::Instant::now() + PATIENCE;
    let mut events = overlap::ReadyEvents::with_capacity(256);
    while finished < n {
        assert!(std::time::Instant::now() < deadline, "[{b}] echo: {finished} of {n} clients done");
        r.poll(&mut events, Some(Duration::from_millis(200))).unwrap();
        for e in &events {
            if e.token() == Token(0) {
                loop {
                    match l.accept() {
                        Ok((s, _)) => {
                            s.set_nonblocking(true).unwrap();
                            conns.push(Some(s));
                            let t = Token(conns.len());
                            r.registry().register(conns[t.0 - 1].as_ref().unwrap(), t, R, trigger).unwrap();
                        }
                        Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                        Err(e) => panic!("accept: {e}"),
                    }
                }
                continue;
            }
            let slot = &mut conns[e.token().0 - 1];
            let Some(s) = slot.as_ref() else { continue };
            let data = drain(s);
            if !data.is_empty() {
                (&*s).write_all(&data).unwrap();
            }
            if e.is_read_closed() {
                r.registry().deregister(s).unwrap();
                *slot = None;
                finished += 1;
            }
        }
    }
    for c in clients {
        c.join().unwrap();
    }
}

fn echo_64_clients_level(b: ReactorBackend) {
    echo_with_clients(b, 64, false);
}

fn echo_64_clients_edge(b: ReactorBackend) {
    echo_with_clients(b, 64, true);
}

fn main() {
    let cases = cases![
        peer_close_is_read_closed,
        half_close_keeps_the_other_direction,
        read_closed_alone_ignores_data_and_reports_the_close,
        read_closed_alone_reports_a_half_close,
        eof_with_data_pending,
        reset_is_error,
        write_to_reset_peer,
        connect_refused_is_error,
        connect_completes_writable,
        udp_port_unreachable_is_error,
        echo_64_clients_level,
        echo_64_clients_edge,
    ];
    run_suite("reactor_net", cases, vec![], false);
}
