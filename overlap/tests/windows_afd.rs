//! What is specific to the AFD readiness backend (Windows): no limit on sockets or listeners
//! (seed 1's `WSAWaitForMultipleEvents` stopped at 63), and edge triggering refused. The
//! conformance suites (`reactor_*.rs`) run every common case on `afd` as well.
#![cfg(windows)]

mod util;

use std::collections::HashSet;
use std::io::{ErrorKind, Write};
use std::net::{TcpListener, TcpStream};

use overlap::{Interest, ReactorBackend, ReadyEvents, Token, Trigger};
use util::*;

#[test]
fn a_hundred_listeners_and_a_thousand_sockets() {
    let mut r = reactor(ReactorBackend::Afd);
    let mut listeners = Vec::new();
    for i in 0..100 {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.set_nonblocking(true).unwrap();
        r.registry().register(&l, Token(i), Interest::READABLE, Trigger::Level).unwrap();
        listeners.push(l);
    }
    let mut pairs = Vec::new();
    for i in 0..500 {
        let (a, b) = tcp_pair();
        r.registry().register(&a, Token(1000 + i), Interest::READABLE, Trigger::Oneshot).unwrap();
        r.registry().register(&b, Token(5000 + i), Interest::READABLE, Trigger::Oneshot).unwrap();
        pairs.push((a, b));
    }
    let _clients: Vec<TcpStream> =
        listeners.iter().map(|l| TcpStream::connect(l.local_addr().unwrap()).unwrap()).collect();
    for (a, _) in &pairs {
        (&*a).write_all(b"x").unwrap();
    }
    // Every listener and every `b` side reports readable, each under its own token.
    let mut want: HashSet<usize> = (0..100).chain(5000..5500).collect();
    let mut events = ReadyEvents::with_capacity(1024);
    let deadline = std::time::Instant::now() + PATIENCE;
    while !want.is_empty() {
        assert!(std::time::Instant::now() < deadline, "still waiting for {} sources", want.len());
        r.poll(&mut events, Some(std::time::Duration::from_millis(500))).unwrap();
        for e in events.iter() {
            assert!(e.is_readable(), "{e:?}");
            assert!(e.token().0 < 100 || (5000..5500).contains(&e.token().0), "nothing sent to {e:?}");
            if e.token().0 < 100 {
                // Level-triggered listeners stay readable until accepted.
                let l = &listeners[e.token().0];
                if l.accept().is_ok() {
                    want.remove(&e.token().0);
                }
            } else {
                want.remove(&e.token().0);
            }
        }
    }
}

#[test]
fn edge_triggering_is_refused() {
    let r = reactor(ReactorBackend::Afd);
    let (a, _b) = tcp_pair();
    let e = r.registry().register(&a, Token(1), Interest::READABLE, Trigger::Edge).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unsupported, "{e}");
    // The refusal left nothing behind.
    r.registry().register(&a, Token(1), Interest::READABLE, Trigger::Level).unwrap();
}
