//! Conformance at scale: 10,000 registered sockets, large ready batches, registration churn.
//! Every case runs on every available backend, one case at a time (they need thousands of
//! descriptors each).

mod util;

use std::collections::BTreeSet;
use std::io::Write;
use std::time::{Duration, Instant};

use overlap::{Interest, ReactorBackend, ReadyEvents, Token, Trigger};
use util::*;

fn pairs(n: usize) -> Vec<(Stream, Stream)> {
    let limit = raise_fd_limit();
    assert!(limit as usize > 2 * n + 64, "this case needs {} descriptors; the hard limit is {limit}", 2 * n + 64);
    (0..n).map(|_| stream_pair().expect("socketpair")).collect()
}

fn ten_thousand_registered_sockets(b: ReactorBackend) {
    let mut r = reactor(b);
    let ps = pairs(5_000);
    for (i, (a, c)) in ps.iter().enumerate() {
        r.registry().register(a, Token(2 * i), Interest::READABLE, Trigger::Level).unwrap();
        r.registry().register(c, Token(2 * i + 1), Interest::READABLE, Trigger::Level).unwrap();
    }
    // Make 100 scattered sockets readable: writing to one end makes the other readable.
    let mut want = BTreeSet::new();
    for k in 0..100 {
        let i = (k * 4_999) % 5_000;
        if k % 2 == 0 {
            (&ps[i].1).write_all(b"x").unwrap();
            want.insert(2 * i);
        } else {
            (&ps[i].0).write_all(b"x").unwrap();
            want.insert(2 * i + 1);
        }
    }
    let mut seen = BTreeSet::new();
    let mut events = ReadyEvents::with_capacity(1024);
    let deadline = Instant::now() + PATIENCE;
    while seen.len() < want.len() {
        assert!(Instant::now() < deadline, "[{b}] saw {} of {} ready sockets", seen.len(), want.len());
        r.poll(&mut events, Some(Duration::from_millis(200))).unwrap();
        for e in &events {
            assert!(want.contains(&e.token().0), "[{b}] event for an idle socket: {e:?}");
            assert!(e.is_readable(), "{e:?}");
            seen.insert(e.token().0);
        }
    }
    for (a, c) in &ps {
        r.registry().deregister(a).unwrap();
        r.registry().deregister(c).unwrap();
    }
    r.poll(&mut events, Some(Duration::from_millis(50))).unwrap();
    assert!(events.is_empty(), "[{b}] everything was deregistered: {events:?}");
}

fn a_thousand_ready_in_one_poll(b: ReactorBackend) {
    let mut r = reactor(b);
    let ps = pairs(1_000);
    for (i, (a, c)) in ps.iter().enumerate() {
        r.registry().register(a, Token(i), Interest::READABLE, Trigger::Level).unwrap();
        (&*c).write_all(b"!").unwrap();
    }
    // All are ready before the poll: one poll with room for them all returns them all
    // (epoll fetches in batches of 256 and must keep going while there is room).
    let mut events = ReadyEvents::with_capacity(1024);
    r.poll(&mut events, Some(PATIENCE)).unwrap();
    let tokens: BTreeSet<usize> = events.iter().map(|e| e.token().0).collect();
    assert_eq!(tokens.len(), 1_000, "[{b}] one poll returned {} distinct of 1000", tokens.len());
    assert_eq!(events.len(), 1_000, "no duplicates");
}

/// More level-triggered sources ready than `ReadyEvents` holds: each poll reports a different part
/// of them, so every one is reported within ⌈ready / capacity⌉ full polls (as epoll's ready
/// list does), never the same ones over and over.
fn ready_sources_take_turns(b: ReactorBackend) {
    for (n, cap) in [(2, 1), (3_000, 256)] {
        let mut r = reactor(b);
        let ps = pairs(n);
        for (i, (a, c)) in ps.iter().enumerate() {
            r.registry().register(a, Token(i), Interest::READABLE, Trigger::Level).unwrap();
            (&*c).write_all(b"!").unwrap();
        }
        // First every source is known ready: each was reported once (AFD learns readiness from
        // polls that complete on their own time, and takes at most 1024 a poll).
        let mut all = ReadyEvents::with_capacity(n);
        let mut known = BTreeSet::new();
        let deadline = Instant::now() + PATIENCE;
        while known.len() < n {
            assert!(Instant::now() < deadline, "[{b}] {n} sources never all ready");
            r.poll(&mut all, Some(Duration::from_millis(100))).unwrap();
            known.extend(all.iter().map(|e| e.token().0));
        }
        // Then polls of `cap`: only full ones count (a poll may return before the backend knows
        // all are ready again, which is not starvation).
        let needed = n.div_ceil(cap);
        let mut events = ReadyEvents::with_capacity(cap);
        let (mut seen, mut full) = (BTreeSet::new(), 0);
        while seen.len() < n {
            assert!(
                full < needed,
                "[{b}] {full} full polls of capacity {cap} reported {} of {n} ready sources",
                seen.len()
            );
            assert!(Instant::now() < deadline, "[{b}] timed out: {} of {n} reported", seen.len());
            r.poll(&mut events, Some(PATIENCE)).unwrap();
            full += usize::from(events.len() == cap);
            seen.extend(events.iter().map(|e| e.token().0));
        }
    }
}

fn registration_churn(b: ReactorBackend) {
    let mut r = reactor(b);
    let (a, c) = stream_pair().unwrap();
    for i in 0..10_000 {
        r.registry().register(&a, Token(i), Interest::READABLE, Trigger::Oneshot).unwrap();
        r.registry().reregister(&a, Token(i + 1), Interest::WRITABLE, Trigger::Level).unwrap();
        r.registry().deregister(&a).unwrap();
    }
    r.registry().register(&a, Token(7), Interest::READABLE, Trigger::Level).unwrap();
    (&c).write_all(b"z").unwrap();
    expect_token(&mut r, Token(7), "readable after churn", |e| e.is_readable());
}

fn main() {
    let cases = cases![
        ten_thousand_registered_sockets,
        a_thousand_ready_in_one_poll,
        ready_sources_take_turns,
        registration_churn
    ];
    run_suite("reactor_scale", cases, vec![], true);
}
