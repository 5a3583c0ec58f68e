//! Conformance: readable and writable readiness on sockets, pipes and socketpairs, tokens,
//! batches, reregister and deregister. Every case runs on every available backend.

mod util;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream, UdpSocket};

use overlap::{Interest, ReactorBackend, ReadyEvents, Token, Trigger};
use util::*;

const R: Interest = Interest::READABLE;
const W: Interest = Interest::WRITABLE;
const LEVEL: Trigger = Trigger::Level;

fn tcp_writable_after_connect(b: ReactorBackend) {
    let mut r = reactor(b);
    let (c, _s) = tcp_pair();
    r.registry().register(&c, Token(1), W, LEVEL).unwrap();
    let e = expect_token(&mut r, Token(1), "writable", |e| e.is_writable());
    assert!(!e.is_error() && !e.is_write_closed(), "{e:?}");
}

fn tcp_readable_after_peer_writes(b: ReactorBackend) {
    let mut r = reactor(b);
    let (c, s) = tcp_pair();
    r.registry().register(&s, Token(2), R, LEVEL).unwrap();
    expect_quiet(&mut r, Token(2), "nothing written yet");
    send(&c, b"hello");
    let e = expect_token(&mut r, Token(2), "readable", |e| e.is_readable());
    assert!(!e.is_read_closed() && !e.is_error(), "{e:?}");
    assert_eq!(drain(&s), b"hello");
}

fn socketpair_readable_and_writable(b: ReactorBackend) {
    let mut r = reactor(b);
    let (a, bb) = stream_pair().unwrap();
    a.set_nonblocking(true).unwrap();
    r.registry().register(&a, Token(3), R | W, LEVEL).unwrap();
    let e = expect_token(&mut r, Token(3), "writable", |e| e.is_writable());
    assert!(!e.is_readable(), "nothing was written yet: {e:?}");
    (&bb).write_all(b"x").unwrap();
    let e = expect_token(&mut r, Token(3), "readable", |e| e.is_readable());
    assert!(e.is_writable(), "still writable: {e:?}");
    assert_eq!(drain(&a), b"x");
}

#[cfg(unix)] // AFD polls sockets only
fn pipe_readable(b: ReactorBackend) {
    let mut r = reactor(b);
    let (rd, mut wr) = std::io::pipe().unwrap();
    r.registry().register(&rd, Token(4), R, LEVEL).unwrap();
    expect_quiet(&mut r, Token(4), "empty pipe");
    wr.write_all(b"abc").unwrap();
    expect_token(&mut r, Token(4), "readable", |e| e.is_readable());
    let mut buf = [0; 3];
    (&rd).read_exact(&mut buf).unwrap();
    assert_eq!(&buf, b"abc");
}

#[cfg(unix)] // AFD polls sockets only
fn pipe_writable(b: ReactorBackend) {
    let mut r = reactor(b);
    let (_rd, wr) = std::io::pipe().unwrap();
    r.registry().register(&wr, Token(5), W, LEVEL).unwrap();
    expect_token(&mut r, Token(5), "writable", |e| e.is_writable());
}

#[cfg(unix)] // AFD polls sockets only
fn pipe_writer_closed_is_read_closed(b: ReactorBackend) {
    let mut r = reactor(b);
    let (rd, wr) = std::io::pipe().unwrap();
    r.registry().register(&rd, Token(6), R, LEVEL).unwrap();
    drop(wr);
    let e = expect_token(&mut r, Token(6), "read-closed", |e| e.is_read_closed());
    assert!(!e.is_writable(), "{e:?}");
}

#[cfg(unix)] // AFD polls sockets only
fn pipe_reader_closed_is_write_closed(b: ReactorBackend) {
    let mut r = reactor(b);
    let (rd, wr) = std::io::pipe().unwrap();
    r.registry().register(&wr, Token(7), W, LEVEL).unwrap();
    drop(rd);
    let e = expect_token(&mut r, Token(7), "write-closed", |e| e.is_write_closed());
    assert!(e.is_error(), "a pipe without reader reports an error (EPIPE): {e:?}");
}

fn udp_readable(b: ReactorBackend) {
    let mut r = reactor(b);
    let rx = UdpSocket::bind("127.0.0.1:0").unwrap();
    let tx = UdpSocket::bind("127.0.0.1:0").unwrap();
    rx.set_nonblocking(true).unwrap();
    r.registry().register(&rx, Token(8), R, LEVEL).unwrap();
    expect_quiet(&mut r, Token(8), "no datagram yet");
    tx.send_to(b"dgram", rx.local_addr().unwrap()).unwrap();
    expect_token(&mut r, Token(8), "readable", |e| e.is_readable());
    let mut buf = [0; 16];
    let (n, from) = rx.recv_from(&mut buf).unwrap();
    assert_eq!((&buf[..n], from), (&b"dgram"[..], tx.local_addr().unwrap()));
}

fn listener_readable_on_connect(b: ReactorBackend) {
    let mut r = reactor(b);
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    l.set_nonblocking(true).unwrap();
    r.registry().register(&l, Token(9), R, LEVEL).unwrap();
    expect_quiet(&mut r, Token(9), "no connection yet");
    let _c = TcpStream::connect(l.local_addr().unwrap()).unwrap();
    expect_token(&mut r, Token(9), "acceptable", |e| e.is_readable());
    l.accept().expect("a connection is waiting");
}

fn events_carry_their_tokens(b: ReactorBackend) {
    let mut r = reactor(b);
    let pairs: Vec<_> = (0..4).map(|_| stream_pair().unwrap()).collect();
    for (i, (a, _)) in pairs.iter().enumerate() {
        r.registry().register(a, Token(100 + i), R, LEVEL).unwrap();
    }
    (&pairs[1].1).write_all(b"1").unwrap();
    (&pairs[3].1).write_all(b"3").unwrap();
    let mut seen = std::collections::BTreeSet::new();
    while seen.len() < 2 {
        let e = expect(&mut r, "tokens 101 and 103", |e| e.is_readable() && !seen.contains(&e.token().0));
        assert!([101, 103].contains(&e.token().0), "unexpected {e:?}");
        seen.insert(e.token().0);
    }
    for t in [100, 102] {
        expect_quiet(&mut r, Token(t), "nothing written to it");
    }
}

fn batch_respects_capacity(b: ReactorBackend) {
    let mut r = reactor(b);
    let pairs: Vec<_> = (0..10).map(|_| stream_pair().unwrap()).collect();
    for (i, (a, peer)) in pairs.iter().enumerate() {
        r.registry().register(a, Token(i), R, LEVEL).unwrap();
        (&*peer).write_all(b"!").unwrap();
    }
    let mut events = ReadyEvents::with_capacity(3);
    let mut seen = std::collections::BTreeSet::new();
    let deadline = std::time::Instant::now() + PATIENCE;
    while seen.len() < 10 && std::time::Instant::now() < deadline {
        r.poll(&mut events, Some(std::time::Duration::from_millis(200))).unwrap();
        assert!(events.len() <= 3, "capacity 3, got {}", events.len());
        for e in &events {
            seen.insert(e.token().0);
            let mut buf = [0; 1];
            let _ = (&pairs[e.token().0].0).read(&mut buf);
        }
    }
    assert_eq!(seen.len(), 10, "every ready source reported across batches: {seen:?}");
}

fn reregister_changes_interest(b: ReactorBackend) {
    let mut r = reactor(b);
    let (a, _peer) = stream_pair().unwrap();
    r.registry().register(&a, Token(11), R, LEVEL).unwrap();
    expect_quiet(&mut r, Token(11), "readable interest, nothing to read");
    r.registry().reregister(&a, Token(11), W, LEVEL).unwrap();
    expect_token(&mut r, Token(11), "writable after reregister", |e| e.is_writable());
    r.registry().reregister(&a, Token(11), R, LEVEL).unwrap();
    expect_quiet(&mut r, Token(11), "back to readable only");
}

fn reregister_changes_token(b: ReactorBackend) {
    let mut r = reactor(b);
    let (a, _peer) = stream_pair().unwrap();
    r.registry().register(&a, Token(12), W, LEVEL).unwrap();
    r.registry().reregister(&a, Token(13), W, LEVEL).unwrap();
    let e = expect(&mut r, "writable", |e| e.is_writable());
    assert_eq!(e.token(), Token(13));
    // The old token is free again.
    let (c, _d) = stream_pair().unwrap();
    r.registry().register(&c, Token(12), R, LEVEL).unwrap();
}

fn deregister_stops_events(b: ReactorBackend) {
    let mut r = reactor(b);
    let (a, peer) = stream_pair().unwrap();
    r.registry().register(&a, Token(14), R | W, LEVEL).unwrap();
    expect_token(&mut r, Token(14), "writable", |e| e.is_writable());
    r.registry().deregister(&a).unwrap();
    (&peer).write_all(b"late").unwrap();
    expect_quiet(&mut r, Token(14), "deregistered");
}

fn deregister_then_register_again(b: ReactorBackend) {
    let mut r = reactor(b);
    let (a, peer) = stream_pair().unwrap();
    r.registry().register(&a, Token(15), R, LEVEL).unwrap();
    r.registry().deregister(&a).unwrap();
    r.registry().register(&a, Token(16), R, LEVEL).unwrap();
    (&peer).write_all(b"x").unwrap();
    let e = expect(&mut r, "readable under the new token", |e| e.is_readable());
    assert_eq!(e.token(), Token(16));
}

fn priority_out_of_band(b: ReactorBackend) {
    let mut r = reactor(b);
    let (c, s) = tcp_pair();
    let res = r.registry().register(&s, Token(17), Interest::PRIORITY, LEVEL);
    if b == ReactorBackend::Kqueue {
        assert_eq!(res.unwrap_err().kind(), std::io::ErrorKind::Unsupported);
        return;
    }
    res.unwrap();
    expect_quiet(&mut r, Token(17), "no urgent data yet");
    socket2::SockRef::from(&c).send_out_of_band(b"!").unwrap();
    let e = expect_token(&mut r, Token(17), "priority", |e| e.is_priority());
    assert!(!e.is_error(), "{e:?}");
}

fn many_registries_from_one_reactor(b: ReactorBackend) {
    let mut r = reactor(b);
    let reg = r.registry().clone();
    assert_eq!(reg.backend(), b);
    let (a, peer) = stream_pair().unwrap();
    std::thread::spawn(move || reg.register(&a, Token(18), R, LEVEL).map(|()| a))
        .join()
        .unwrap()
        .map(|a| {
            (&peer).write_all(b"y").unwrap();
            expect_token(&mut r, Token(18), "readable", |e| e.is_readable());
            drop(a);
        })
        .unwrap();
}

fn main() {
    let cases = cases![
        tcp_writable_after_connect,
        tcp_readable_after_peer_writes,
        socketpair_readable_and_writable,
        #[cfg(unix)]
        pipe_readable,
        #[cfg(unix)]
        pipe_writable,
        #[cfg(unix)]
        pipe_writer_closed_is_read_closed,
        #[cfg(unix)]
        pipe_reader_closed_is_write_closed,
        udp_readable,
        listener_readable_on_connect,
        events_carry_their_tokens,
        batch_respects_capacity,
        reregister_changes_interest,
        reregister_changes_token,
        deregister_stops_events,
        deregister_then_register_again,
        priority_out_of_band,
        many_registries_from_one_reactor,
    ];
    run_suite("reactor_io", cases, vec![], false);
}
