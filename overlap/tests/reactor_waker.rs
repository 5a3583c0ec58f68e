//! Conformance: the waker, timeouts, and registration from other threads while `poll` is
//! blocked. Every case runs on every available backend.

mod util;

use std::io::{ErrorKind, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use overlap::{Interest, ReactorBackend, ReadyEvents, Token, Trigger, Waker};
use util::*;

const WAKE: Token = Token(1000);

fn wake_before_poll_is_not_lost(b: ReactorBackend) {
    let mut r = reactor(b);
    let w = Waker::new(r.registry(), WAKE).unwrap();
    w.wake().unwrap();
    let e = expect_token(&mut r, WAKE, "the early wake", |e| e.is_readable());
    assert!(!e.is_error());
}

fn wakes_coalesce(b: ReactorBackend) {
    let mut r = reactor(b);
    let w = Waker::new(r.registry(), WAKE).unwrap();
    for _ in 0..100 {
        w.wake().unwrap();
    }
    let got = poll_once(&mut r, PATIENCE);
    assert_eq!(got.iter().filter(|e| e.token() == WAKE).count(), 1, "100 wakes, one event: {got:?}");
    let mut events = ReadyEvents::with_capacity(8);
    r.poll(&mut events, Some(Duration::ZERO)).unwrap();
    assert!(events.is_empty(), "nothing left after the coalesced wake: {events:?}");
}

fn wake_unblocks_infinite_poll(b: ReactorBackend) {
    let mut r = reactor(b);
    let w = Waker::new(r.registry(), WAKE).unwrap();
    let started = Arc::new(Barrier::new(2));
    let s2 = started.clone();
    let t = std::thread::spawn(move || {
        s2.wait();
        w.wake().unwrap();
    });
    started.wait();
    let got = within_patience("poll(None) with a wake", move || {
        let mut events = ReadyEvents::with_capacity(8);
        r.poll(&mut events, None).unwrap();
        events.iter().map(|e| e.token()).collect::<Vec<_>>()
    });
    assert_eq!(got, vec![WAKE]);
    t.join().unwrap();
}

fn waker_from_8_threads_10k_each(b: ReactorBackend) {
    let mut r = reactor(b);
    let w = Waker::new(r.registry(), WAKE).unwrap();
    let done = Arc::new(AtomicBool::new(false));
    let threads: Vec<_> = (0..8)
        .map(|_| {
            let w = w.clone();
            std::thread::spawn(move || {
                for _ in 0..10_000 {
                    w.wake().expect("wake");
                }
            })
        })
        .collect();
    let d2 = done.clone();
    let joiner = std::thread::spawn(move || {
        for t in threads {
            t.join().unwrap();
        }
        d2.store(true, Ordering::Release);
    });
    let mut seen = 0usize;
    let mut events = ReadyEvents::with_capacity(16);
    let deadline = Instant::now() + PATIENCE;
    // Polls at least once after the wakers are done (they may all finish before the first poll).
    loop {
        assert!(Instant::now() < deadline, "[{b}] waker threads did not finish");
        let finished = done.load(Ordering::Acquire);
        r.poll(&mut events, Some(Duration::from_millis(100))).unwrap();
        for e in &events {
            assert_eq!(e.token(), WAKE, "only the waker is registered");
            assert!(events.len() == 1, "one wake event per poll at most: {events:?}");
            seen += 1;
        }
        if finished {
            break;
        }
    }
    joiner.join().unwrap();
    assert!((1..=80_000).contains(&seen), "wake events seen while waking: {seen}");
    // Whatever is still pending is reported once, then a fresh wake is seen: none lost.
    r.poll(&mut events, Some(Duration::ZERO)).unwrap();
    assert!(events.len() <= 1);
    w.wake().unwrap();
    expect_token(&mut r, WAKE, "the final wake", |_| true);
    r.poll(&mut events, Some(Duration::ZERO)).unwrap();
    assert!(events.is_empty(), "no stray wake left: {events:?}");
}

fn waker_token_is_reserved(b: ReactorBackend) {
    let r = reactor(b);
    let w = Waker::new(r.registry(), WAKE).unwrap();
    let (a, _p) = stream_pair().unwrap();
    let e = r.registry().register(&a, WAKE, Interest::READABLE, Trigger::Level).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::AlreadyExists, "{e}");
    let e = Waker::new(r.registry(), Token(5)).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::AlreadyExists, "one waker per reactor: {e}");
    drop(w);
    r.registry().register(&a, WAKE, Interest::READABLE, Trigger::Level).unwrap();
    let e = Waker::new(r.registry(), WAKE).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::AlreadyExists, "token now held by a source: {e}");
    Waker::new(r.registry(), Token(6)).unwrap();
}

fn waker_clone_keeps_token(b: ReactorBackend) {
    let mut r = reactor(b);
    let w = Waker::new(r.registry(), WAKE).unwrap();
    let w2 = w.clone();
    drop(w);
    w2.wake().unwrap();
    expect_token(&mut r, WAKE, "wake through the clone", |_| true);
}

fn timeout_is_not_early(b: ReactorBackend) {
    let mut r = reactor(b);
    let mut events = ReadyEvents::with_capacity(8);
    for t in [Duration::from_micros(1), Duration::from_micros(1500), Duration::from_millis(30)] {
        let start = Instant::now();
        r.poll(&mut events, Some(t)).unwrap();
        let took = start.elapsed();
        assert!(events.is_empty());
        assert!(took >= t, "[{b}] poll({t:?}) returned after only {took:?}");
    }
}

fn timeout_not_early_with_registered_idle_sources(b: ReactorBackend) {
    let mut r = reactor(b);
    let (a, _p) = stream_pair().unwrap();
    r.registry().register(&a, Token(1), Interest::READABLE, Trigger::Level).unwrap();
    let mut events = ReadyEvents::with_capacity(8);
    let t = Duration::from_millis(20);
    let start = Instant::now();
    r.poll(&mut events, Some(t)).unwrap();
    assert!(events.is_empty() && start.elapsed() >= t, "[{b}] early or spurious: {events:?}");
}

fn zero_timeout_does_not_block(b: ReactorBackend) {
    let r = reactor(b);
    let got = within_patience("poll(Some(ZERO))", move || {
        let mut r = r;
        let mut events = ReadyEvents::with_capacity(8);
        r.poll(&mut events, Some(Duration::ZERO)).unwrap();
        events.len()
    });
    assert_eq!(got, 0);
}

fn zero_timeout_reports_ready_sources(b: ReactorBackend) {
    let mut r = reactor(b);
    let (a, _p) = stream_pair().unwrap();
    r.registry().register(&a, Token(2), Interest::WRITABLE, Trigger::Level).unwrap();
    // A ready source is reported by a non-blocking poll (the kernel may need a moment to
    // report a fresh registration, so retry a bounded number of times).
    let deadline = Instant::now() + PATIENCE;
    let mut events = ReadyEvents::with_capacity(8);
    loop {
        r.poll(&mut events, Some(Duration::ZERO)).unwrap();
        if events.iter().any(|e| e.token() == Token(2) && e.is_writable()) {
            break;
        }
        assert!(Instant::now() < deadline, "[{b}] never reported");
    }
}

fn huge_timeout_is_woken(b: ReactorBackend) {
    let mut r = reactor(b);
    let w = Waker::new(r.registry(), WAKE).unwrap();
    let go = Arc::new(Barrier::new(2));
    let g2 = go.clone();
    let t = std::thread::spawn(move || {
        g2.wait();
        w.wake().unwrap();
    });
    let got = within_patience("poll(Some(Duration::MAX))", move || {
        let mut events = ReadyEvents::with_capacity(8);
        go.wait();
        r.poll(&mut events, Some(Duration::MAX)).unwrap();
        events.iter().map(|e| e.token()).collect::<Vec<_>>()
    });
    assert_eq!(got, vec![WAKE]);
    t.join().unwrap();
}

fn register_during_blocked_poll(b: ReactorBackend) {
    let mut r = reactor(b);
    let reg = r.registry().clone();
    let (a, peer) = stream_pair().unwrap();
    (&peer).write_all(b"ready before registration").unwrap();
    let go = Arc::new(Barrier::new(2));
    let g2 = go.clone();
    let t = std::thread::spawn(move || {
        g2.wait();
        // Give the poller a chance to block first; correctness does not depend on it.
        std::thread::yield_now();
        reg.register(&a, Token(3), Interest::READABLE, Trigger::Level).unwrap();
        (a, peer)
    });
    let got = within_patience("a poll blocked with no source", move || {
        let mut events = ReadyEvents::with_capacity(8);
        go.wait();
        r.poll(&mut events, None).unwrap();
        events.iter().map(|e| (e.token(), e.is_readable())).collect::<Vec<_>>()
    });
    assert_eq!(got, vec![(Token(3), true)]);
    drop(t.join().unwrap());
}

fn deregister_during_blocked_poll(b: ReactorBackend) {
    let mut r = reactor(b);
    let reg = r.registry().clone();
    let w = Waker::new(r.registry(), WAKE).unwrap();
    let (a, peer) = stream_pair().unwrap();
    reg.register(&a, Token(4), Interest::READABLE, Trigger::Level).unwrap();
    let go = Arc::new(Barrier::new(2));
    let g2 = go.clone();
    let t = std::thread::spawn(move || {
        g2.wait();
        reg.deregister(&a).unwrap();
        (&peer).write_all(b"after deregister").unwrap();
        w.wake().unwrap();
        (a, peer)
    });
    let got = within_patience("a poll blocked on a source deregistered meanwhile", move || {
        let mut events = ReadyEvents::with_capacity(8);
        go.wait();
        let mut tokens = Vec::new();
        while !tokens.contains(&WAKE) {
            r.poll(&mut events, None).unwrap();
            tokens.extend(events.iter().map(|e| e.token()));
        }
        tokens
    });
    assert!(!got.contains(&Token(4)), "[{b}] event for a deregistered source: {got:?}");
    drop(t.join().unwrap());
}

fn registrations_from_many_threads(b: ReactorBackend) {
    let mut r = reactor(b);
    let pairs: Vec<_> = (0..64).map(|_| stream_pair().unwrap()).collect();
    let pairs = Arc::new(pairs);
    let threads: Vec<_> = (0..4)
        .map(|k| {
            let reg = r.registry().clone();
            let pairs = pairs.clone();
            std::thread::spawn(move || {
                for i in (k..64).step_by(4) {
                    reg.register(&pairs[i].0, Token(i), Interest::READABLE, Trigger::Level).unwrap();
                    (&pairs[i].1).write_all(b"!").unwrap();
                }
            })
        })
        .collect();
    let mut seen = std::collections::BTreeSet::new();
    let deadline = Instant::now() + PATIENCE;
    let mut events = ReadyEvents::with_capacity(64);
    while seen.len() < 64 {
        assert!(Instant::now() < deadline, "[{b}] saw only {} of 64", seen.len());
        r.poll(&mut events, Some(Duration::from_millis(100))).unwrap();
        seen.extend(events.iter().map(|e| e.token().0));
    }
    for t in threads {
        t.join().unwrap();
    }
}

fn main() {
    let cases = cases![
        wake_before_poll_is_not_lost,
        wakes_coalesce,
        wake_unblocks_infinite_poll,
        waker_from_8_threads_10k_each,
        waker_token_is_reserved,
        waker_clone_keeps_token,
        timeout_is_not_early,
        timeout_not_early_with_registered_idle_sources,
        zero_timeout_does_not_block,
        zero_timeout_reports_ready_sources,
        huge_timeout_is_woken,
        register_during_blocked_poll,
        deregister_during_blocked_poll,
        registrations_from_many_threads,
    ];
    run_suite("reactor_waker", cases, vec![], false);
}
