//! Conformance: no descriptor leaks. Counts this process's open descriptors before and after
//! a 1000-connection churn through a reactor, and after opening and dropping 200 reactors
//! (with wakers). Every case runs on every available backend, one at a time (nothing else may
//! open descriptors while a case counts them).

mod util;

use std::io::{ErrorKind, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::{Duration, Instant};

use overlap::{Interest, ReactorBackend, ReadyEvents, Token, Trigger, Waker};
use util::*;

fn thousand_connection_churn(b: ReactorBackend) {
    let before = open_fds();
    {
        let mut r = reactor(b);
        let _w = Waker::new(r.registry(), Token(usize::MAX - 1)).unwrap();
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.set_nonblocking(true).unwrap();
        r.registry().register(&l, Token(0), Interest::READABLE, Trigger::Level).unwrap();
        let mut events = ReadyEvents::with_capacity(64);
        for i in 0..1_000 {
            let c = TcpStream::connect(l.local_addr().unwrap()).unwrap();
            let deadline = Instant::now() + PATIENCE;
            let s = loop {
                match l.accept() {
                    Ok((s, _)) => break s,
                    Err(e) if e.kind() == ErrorKind::WouldBlock => {
                        assert!(Instant::now() < deadline, "[{b}] connection {i} never accepted");
                        r.poll(&mut events, Some(Duration::from_millis(100))).unwrap();
                    }
                    Err(e) => panic!("accept: {e}"),
                }
            };
            s.set_nonblocking(true).unwrap();
            r.registry().register(&s, Token(1), Interest::READABLE, Trigger::Oneshot).unwrap();
            (&c).write_all(b"p").unwrap();
            expect_token(&mut r, Token(1), "the byte", |e| e.is_readable());
            let mut byte = [0u8];
            (&s).read_exact(&mut byte).unwrap();
            if i % 2 == 0 {
                r.registry().deregister(&s).unwrap();
            } // odd ones are dropped while registered: that must not leak either
        }
    }
    let after = open_fds();
    assert_eq!(before, after, "[{b}] descriptors open before and after the churn");
}

fn reactors_open_and_close(b: ReactorBackend) {
    let before = open_fds();
    for _ in 0..200 {
        let r = reactor(b);
        let w = Waker::new(r.registry(), Token(1)).unwrap();
        w.wake().unwrap();
        let reg = r.registry().clone();
        drop(r);
        drop(reg);
        drop(w);
    }
    assert_eq!(before, open_fds(), "[{b}] reactors leaked descriptors");
}

fn main() {
    let cases = cases![thousand_connection_churn, reactors_open_and_close];
    run_suite("reactor_fdleak", cases, vec![], true);
}
