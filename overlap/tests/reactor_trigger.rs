//! Conformance: level, edge and oneshot semantics and re-arming. Every case runs on every
//! available backend; the poll backend must refuse edge triggering with `Unsupported`.

mod util;

use std::io::{ErrorKind, Write};

use overlap::{Interest, Reactor, ReactorBackend, Token, Trigger};
use util::*;

const R: Interest = Interest::READABLE;
const W: Interest = Interest::WRITABLE;

/// A non-blocking socketpair: (watched end, peer).
fn pair() -> (Stream, Stream) {
    let (a, b) = stream_pair().unwrap();
    a.set_nonblocking(true).unwrap();
    (a, b)
}

/// Registers with `Edge`; returns false (after checking the refusal) where the backend cannot.
fn register_edge(r: &Reactor, s: &Stream, t: Token, i: Interest) -> bool {
    let res = r.registry().register(s, t, i, Trigger::Edge);
    if matches!(r.backend(), ReactorBackend::Poll | ReactorBackend::Afd) {
        let e = res.expect_err("poll and AFD must refuse edge triggering");
        assert_eq!(e.kind(), ErrorKind::Unsupported, "{e}");
        assert!(e.to_string().contains("Edge"), "the error names the trigger: {e}");
        return false;
    }
    res.unwrap();
    true
}

fn level_repeats_until_drained(b: ReactorBackend) {
    let mut r = reactor(b);
    let (a, peer) = pair();
    r.registry().register(&a, Token(1), R, Trigger::Level).unwrap();
    (&peer).write_all(b"data").unwrap();
    for round in 0..3 {
        let e = expect_token(&mut r, Token(1), &format!("level event, round {round}"), |e| e.is_readable());
        assert!(!e.is_read_closed(), "{e:?}");
    }
    assert_eq!(drain(&a), b"data");
    expect_quiet(&mut r, Token(1), "drained");
}

fn level_writable_repeats(b: ReactorBackend) {
    let mut r = reactor(b);
    let (a, _peer) = pair();
    r.registry().register(&a, Token(2), W, Trigger::Level).unwrap();
    for round in 0..3 {
        expect_token(&mut r, Token(2), &format!("writable, round {round}"), |e| e.is_writable());
    }
}

fn edge_reports_once(b: ReactorBackend) {
    let mut r = reactor(b);
    let (a, peer) = pair();
    if !register_edge(&r, &a, Token(3), R) {
        return;
    }
    (&peer).write_all(b"data").unwrap();
    expect_token(&mut r, Token(3), "the edge", |e| e.is_readable());
    expect_quiet(&mut r, Token(3), "not drained, but no new edge");
}

fn edge_again_after_drain_and_new_data(b: ReactorBackend) {
    let mut r = reactor(b);
    let (a, peer) = pair();
    if !register_edge(&r, &a, Token(4), R) {
        return;
    }
    for round in 0..3u8 {
        (&peer).write_all(&[round]).unwrap();
        expect_token(&mut r, Token(4), &format!("edge {round}"), |e| e.is_readable());
        assert_eq!(drain(&a), vec![round]);
        expect_quiet(&mut r, Token(4), "drained");
    }
}

fn edge_writable_once(b: ReactorBackend) {
    let mut r = reactor(b);
    let (a, _peer) = pair();
    if !register_edge(&r, &a, Token(5), W) {
        return;
    }
    expect_token(&mut r, Token(5), "the writable edge", |e| e.is_writable());
    expect_quiet(&mut r, Token(5), "still writable, no new edge");
}

fn edge_writable_again_after_buffer_drains(b: ReactorBackend) {
    let mut r = reactor(b);
    let (a, peer) = pair();
    if !register_edge(&r, &a, Token(6), W) {
        return;
    }
    expect_token(&mut r, Token(6), "writable", |e| e.is_writable());
    // Fill the socket buffer until it would block, then let the peer drain it.
    let chunk = [7u8; 4096];
    let mut written = 0usize;
    loop {
        match (&a).write(&chunk) {
            Ok(n) => written += n,
            Err(e) if e.kind() == ErrorKind::WouldBlock => break,
            Err(e) => panic!("write: {e}"),
        }
    }
    assert!(written > 0);
    peer.set_nonblocking(false).unwrap();
    let mut sink = vec![0u8; written];
    std::io::Read::read_exact(&mut &peer, &mut sink).unwrap();
    expect_token(&mut r, Token(6), "writable edge after the buffer drained", |e| e.is_writable());
}

fn oneshot_reports_once(b: ReactorBackend) {
    let mut r = reactor(b);
    let (a, peer) = pair();
    r.registry().register(&a, Token(7), R, Trigger::Oneshot).unwrap();
    (&peer).write_all(b"data").unwrap();
    expect_token(&mut r, Token(7), "the one shot", |e| e.is_readable());
    expect_quiet(&mut r, Token(7), "disarmed after one event");
    (&peer).write_all(b"more").unwrap();
    expect_quiet(&mut r, Token(7), "disarmed, even with new data");
}

fn oneshot_rearms_on_reregister(b: ReactorBackend) {
    let mut r = reactor(b);
    let (a, peer) = pair();
    r.registry().register(&a, Token(8), R, Trigger::Oneshot).unwrap();
    (&peer).write_all(b"data").unwrap();
    for round in 0..3 {
        expect_token(&mut r, Token(8), &format!("shot {round}"), |e| e.is_readable());
        expect_quiet(&mut r, Token(8), "disarmed");
        r.registry().reregister(&a, Token(8), R, Trigger::Oneshot).unwrap();
    }
}

fn oneshot_writable(b: ReactorBackend) {
    let mut r = reactor(b);
    let (a, _peer) = pair();
    r.registry().register(&a, Token(9), W, Trigger::Oneshot).unwrap();
    expect_token(&mut r, Token(9), "writable once", |e| e.is_writable());
    expect_quiet(&mut r, Token(9), "disarmed");
    r.registry().reregister(&a, Token(9), W, Trigger::Oneshot).unwrap();
    expect_token(&mut r, Token(9), "writable after re-arm", |e| e.is_writable());
}

fn reregister_switches_trigger(b: ReactorBackend) {
    let mut r = reactor(b);
    let (a, peer) = pair();
    r.registry().register(&a, Token(10), R, Trigger::Oneshot).unwrap();
    (&peer).write_all(b"x").unwrap();
    expect_token(&mut r, Token(10), "oneshot", |e| e.is_readable());
    expect_quiet(&mut r, Token(10), "disarmed");
    r.registry().reregister(&a, Token(10), R, Trigger::Level).unwrap();
    for _ in 0..2 {
        expect_token(&mut r, Token(10), "level again", |e| e.is_readable());
    }
    r.registry().reregister(&a, Token(10), R, Trigger::Oneshot).unwrap();
    expect_token(&mut r, Token(10), "oneshot again", |e| e.is_readable());
    expect_quiet(&mut r, Token(10), "disarmed again");
}

fn triggers_mix_in_one_reactor(b: ReactorBackend) {
    let mut r = reactor(b);
    let (l, lp) = pair();
    let (o, op) = pair();
    r.registry().register(&l, Token(11), R, Trigger::Level).unwrap();
    r.registry().register(&o, Token(12), R, Trigger::Oneshot).unwrap();
    (&lp).write_all(b"l").unwrap();
    (&op).write_all(b"o").unwrap();
    expect_token(&mut r, Token(12), "oneshot source", |e| e.is_readable());
    expect_token(&mut r, Token(11), "level source", |e| e.is_readable());
    expect_token(&mut r, Token(11), "level source again", |e| e.is_readable());
    expect_quiet(&mut r, Token(12), "oneshot source disarmed");
}

fn oneshot_disarmed_source_can_be_deregistered(b: ReactorBackend) {
    let mut r = reactor(b);
    let (a, peer) = pair();
    r.registry().register(&a, Token(13), R, Trigger::Oneshot).unwrap();
    (&peer).write_all(b"x").unwrap();
    expect_token(&mut r, Token(13), "shot", |e| e.is_readable());
    r.registry().deregister(&a).unwrap();
    r.registry().register(&a, Token(14), R, Trigger::Level).unwrap();
    expect_token(&mut r, Token(14), "registered afresh", |e| e.is_readable());
}

fn main() {
    let cases = cases![
        level_repeats_until_drained,
        level_writable_repeats,
        edge_reports_once,
        edge_again_after_drain_and_new_data,
        edge_writable_once,
        edge_writable_again_after_buffer_drains,
        oneshot_reports_once,
        oneshot_rearms_on_reregister,
        oneshot_writable,
        reregister_switches_trigger,
        triggers_mix_in_one_reactor,
        oneshot_disarmed_source_can_be_deregistered,
    ];
    run_suite("reactor_trigger", cases, vec![], false);
}
