//! Conformance of the worker-pool model (the seed's 2 × CPU threads in
//! `GetQueuedCompletionStatus`): many threads waiting on one port, every completion delivered
//! to exactly one of them, posts from many threads, the concurrency limit, batches.
//! Every case runs on every available completion backend.

mod util;

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Barrier, Mutex};
use std::time::{Duration, Instant};

use overlap::op::{Recv, Send as SendOp, Timeout};
use overlap::{CompletionPort, Handle, OpId, PortBackend};
use util::*;

const QUIT: usize = usize::MAX;
const SEND: usize = 1;
const RECV: usize = 2;

/// Runs `f` on `n` threads that each loop on `port.wait` until they take a `QUIT` post.
fn workers(
    n: usize,
    port: &CompletionPort,
    f: impl Fn(overlap::Completion) + Send + Sync + 'static,
) -> Vec<std::thread::JoinHandle<()>> {
    let f = Arc::new(f);
    (0..n)
        .map(|_| {
            let port = port.clone();
            let f = f.clone();
            std::thread::spawn(move || loop {
                let Some(c) = port.wait(Some(PATIENCE)).expect("wait") else {
                    panic!("[{}] a worker waited {PATIENCE:?} for nothing", port.backend());
                };
                if c.user_data() == QUIT {
                    return;
                }
                f(c);
            })
        })
        .collect()
}

fn quit(port: &CompletionPort, threads: Vec<std::thread::JoinHandle<()>>) {
    for _ in &threads {
        port.post(0, QUIT, 0).unwrap();
    }
    for t in threads {
        t.join().expect("worker");
    }
}

fn eight_threads_100k_ops_on_256_sockets(b: PortBackend) {
    const PAIRS: usize = 128; // 256 sockets
    const ROUNDS: usize = 391; // 2 ops a round: 128 * 391 * 2 = 100,096 ops
    let port = port(b);
    let pairs: Vec<(Handle, Handle)> = (0..PAIRS)
        .map(|i| {
            let (a, z) = datagram_pair().unwrap();
            (port.associate(a, i).unwrap(), port.associate(z, i).unwrap())
        })
        .collect();
    let pairs = Arc::new(pairs);
    let seen: Arc<Mutex<HashSet<OpId>>> = Arc::default();
    let rounds: Arc<Vec<AtomicUsize>> = Arc::new((0..PAIRS).map(|_| AtomicUsize::new(1)).collect());
    let completed = Arc::new(AtomicUsize::new(0));
    let submitted = Arc::new(AtomicUsize::new(0));
    let submit_round = {
        let port = port.clone();
        let submitted = submitted.clone();
        move |pairs: &[(Handle, Handle)], i: usize, round: usize| {
            let msg = format!("{i}:{round}").into_bytes();
            port.submit(Recv::new(&pairs[i].1, Vec::with_capacity(32)), RECV).unwrap();
            port.submit(SendOp::new(&pairs[i].0, msg), SEND).unwrap();
            submitted.fetch_add(2, Ordering::SeqCst);
        }
    };
    for i in 0..PAIRS {
        submit_round(&pairs, i, 1);
    }
    let threads = {
        let (pairs, seen, rounds, completed) = (pairs.clone(), seen.clone(), rounds.clone(), completed.clone());
        workers(8, &port, move |c| {
            assert!(seen.lock().unwrap().insert(c.id()), "{:?} delivered twice", c.id());
            let i = c.key();
            if c.user_data() == RECV {
                let (n, op) = c.into_op::<Recv<Vec<u8>>>().expect("a Recv").unpack();
                let round = rounds[i].load(Ordering::SeqCst);
                assert_eq!(n.expect("recv"), op.into_buf().len());
                if round < ROUNDS {
                    rounds[i].store(round + 1, Ordering::SeqCst);
                    submit_round(&pairs, i, round + 1);
                }
            } else {
                c.into_op::<SendOp<Vec<u8>>>().expect("a Send").0.expect("send");
            }
            completed.fetch_add(1, Ordering::SeqCst);
        })
    };
    let want = PAIRS * ROUNDS * 2;
    until(b, "all ops completed", || completed.load(Ordering::SeqCst) >= want);
    quit(&port, threads);
    assert_eq!(submitted.load(Ordering::SeqCst), want);
    assert_eq!(completed.load(Ordering::SeqCst), want, "every op completed exactly once");
    assert_eq!(seen.lock().unwrap().len(), want);
}

fn posts_from_many_threads(b: PortBackend) {
    let port = port(b);
    let got: Arc<Mutex<HashSet<(usize, usize)>>> = Arc::default();
    let g2 = got.clone();
    let threads = workers(4, &port, move |c| {
        assert!(g2.lock().unwrap().insert((c.key(), c.user_data())), "delivered twice: {c:?}");
        assert_eq!(c.result().as_ref().unwrap(), &(c.key() * 1_000_000 + c.user_data()));
    });
    let posters: Vec<_> = (0..8)
        .map(|k| {
            let port = port.clone();
            std::thread::spawn(move || {
                for i in 0..5_000 {
                    port.post(k, i, k * 1_000_000 + i).unwrap();
                }
            })
        })
        .collect();
    for p in posters {
        p.join().unwrap();
    }
    until(b, "40,000 posts taken", || got.lock().unwrap().len() == 40_000);
    quit(&port, threads);
}

fn concurrency_limit_is_observed(b: PortBackend) {
    let port = CompletionPort::builder().backend(b).concurrency(2).build().unwrap();
    assert_eq!(port.concurrency(), 2);
    let running = Arc::new(AtomicUsize::new(0));
    let most = Arc::new(AtomicUsize::new(0));
    let taken = Arc::new(AtomicUsize::new(0));
    let (r2, m2, t2) = (running.clone(), most.clone(), taken.clone());
    let threads = workers(8, &port, move |_c| {
        let now = r2.fetch_add(1, Ordering::SeqCst) + 1;
        m2.fetch_max(now, Ordering::SeqCst);
        // Work a little while holding the slot, so that overlaps would show.
        let until = Instant::now() + Duration::from_micros(50);
        while Instant::now() < until {
            std::hint::spin_loop();
        }
        r2.fetch_sub(1, Ordering::SeqCst);
        t2.fetch_add(1, Ordering::SeqCst);
    });
    for i in 0..2_000 {
        port.post(0, i, 0).unwrap();
    }
    until(b, "2000 posts taken", || taken.load(Ordering::SeqCst) == 2_000);
    quit(&port, threads);
    let most = most.load(Ordering::SeqCst);
    assert!((1..=2).contains(&most), "[{b}] {most} threads ran at once with a limit of 2");
}

fn wait_many_takes_a_batch(b: PortBackend) {
    let port = port(b);
    for i in 0..10 {
        port.post(1, i, i).unwrap();
    }
    let mut out = Vec::new();
    let n = port.wait_many(&mut out, 4, Some(PATIENCE)).unwrap();
    assert_eq!((n, out.len()), (4, 4));
    let n = port.wait_many(&mut out, 100, Some(PATIENCE)).unwrap();
    assert_eq!((n, out.len()), (6, 10), "appends the rest");
    let order: Vec<usize> = out.iter().map(|c| c.user_data()).collect();
    assert_eq!(order, (0..10).collect::<Vec<_>>(), "posts come out in order");
    assert_eq!(port.wait_many(&mut out, 10, Some(Duration::from_millis(5))).unwrap(), 0);
}

fn many_waiters_time_out_empty(b: PortBackend) {
    let port = port(b);
    let go = Arc::new(Barrier::new(6));
    let threads: Vec<_> = (0..6)
        .map(|_| {
            let port = port.clone();
            let go = go.clone();
            std::thread::spawn(move || {
                go.wait();
                let start = Instant::now();
                let got = port.wait(Some(Duration::from_millis(40))).unwrap();
                (got.is_none(), start.elapsed())
            })
        })
        .collect();
    for t in threads {
        let (empty, took) = t.join().unwrap();
        assert!(empty, "nothing was posted");
        assert!(took >= Duration::from_millis(40), "[{b}] a waiter timed out early: {took:?}");
    }
}

fn post_wakes_a_blocked_leader(b: PortBackend) {
    let port = port(b);
    let started = Arc::new(AtomicBool::new(false));
    let (p2, s2) = (port.clone(), started.clone());
    let waiter = std::thread::spawn(move || {
        s2.store(true, Ordering::SeqCst);
        p2.wait(None).unwrap().map(|c| c.user_data())
    });
    until(b, "the waiter started", || started.load(Ordering::SeqCst));
    port.post(0, 99, 0).unwrap();
    let got = within_patience("a waiter blocked with no timeout", move || waiter.join().unwrap());
    assert_eq!(got, Some(99));
}

/// A leader blocked with no timeout behind a far timer wakes for an earlier one submitted from
/// another thread (the timer heap bounds the wait by the earliest deadline it saw), over several
/// rounds so that some submissions land while the leader is in the kernel.
fn earlier_timeout_wakes_a_blocked_leader(b: PortBackend) {
    let port = port(b);
    let far = port.submit(Timeout::new(Duration::from_secs(3600)), 1).unwrap();
    for round in 0..20usize {
        let started = Arc::new(AtomicBool::new(false));
        let (p2, s2) = (port.clone(), started.clone());
        let waiter = std::thread::spawn(move || {
            s2.store(true, Ordering::SeqCst);
            p2.wait(None).unwrap().map(|c| (c.user_data(), c.is_cancelled()))
        });
        until(b, "the waiter started", || started.load(Ordering::SeqCst));
        port.submit(Timeout::new(Duration::from_millis(1)), 100 + round).unwrap();
        let got = within_patience("a leader blocked behind a far timer", move || waiter.join().unwrap());
        assert_eq!(got, Some((100 + round, false)), "[{b}] round {round}: the near timer fires first");
    }
    port.cancel(far).unwrap();
    let c = next(&port, "the cancelled far timer");
    assert!(c.is_cancelled() && c.user_data() == 1, "[{b}] {c:?}");
}

/// A thread defers an op while another thread leads, blocked in the kernel: the follower's own
/// wait hands the op over, so it does not wait for the leader to wake.
fn deferred_op_of_a_follower_starts(b: PortBackend) {
    let port = port(b);
    let leader = {
        let port = port.clone();
        std::thread::spawn(move || port.wait(Some(PATIENCE)).map(|c| c.map(|c| c.user_data())))
    };
    // Likely gives the other thread the lead; not a synchronisation: if this thread leads
    // instead, the case holds all the same.
    std::thread::sleep(Duration::from_millis(50));
    let (a, mut peer) = stream_pair().unwrap();
    let h = port.associate(a, 0).unwrap();
    port.submit_deferred(SendOp::new(&h, b"ping".to_vec()), 7).unwrap();
    // Once the bytes are out, a post (98) ends this thread's wait if the other thread took the
    // send's completion. If this thread went to sleep without handing the send over, its wait
    // ends only by its timeout (shorter than the other thread's, whose own timeout would flush
    // the send too): `None`.
    let reader = {
        let port = port.clone();
        std::thread::spawn(move || {
            peer.set_read_timeout(Some(PATIENCE)).unwrap();
            let mut got = [0u8; 4];
            std::io::Read::read_exact(&mut peer, &mut got).expect("the deferred send went out");
            port.post(0, 98, 0).unwrap();
            got
        })
    };
    let me = port.wait(Some(PATIENCE / 2)).unwrap().map(|c| c.user_data());
    assert!(me.is_some(), "[{b}] the deferred send started while this thread waited as a follower");
    assert_eq!(&reader.join().unwrap(), b"ping");
    port.post(0, 99, 0).unwrap(); // releases whichever thread still waits
    let other = leader.join().unwrap().unwrap();
    let mut seen = vec![me, other];
    if !seen.contains(&Some(7)) {
        seen.push(Some(next(&port, "the deferred send").user_data()));
    }
    assert!(seen.contains(&Some(7)), "[{b}] the deferred send completed: {seen:?}");
}

/// A single-thread port refuses every call from another thread, with the op back, and goes
/// on working on its own.
fn single_thread_port_refuses_other_threads(b: PortBackend) {
    let port = CompletionPort::builder().backend(b).single_thread(true).build().unwrap();
    assert!(port.is_single_thread());
    let (a, mut peer) = stream_pair().unwrap();
    let h = port.associate(a, 3).unwrap();
    let timer = port.submit(Timeout::new(Duration::from_secs(3600)), 9).unwrap();
    let (p2, h2) = (port.clone(), h.clone());
    let refused = std::thread::spawn(move || {
        let (extra, _) = stream_pair().unwrap();
        let kinds = [
            p2.submit(Recv::new(&h2, Vec::with_capacity(8)), 1).map(drop).unwrap_err().error.kind(),
            p2.submit_deferred(Recv::new(&h2, Vec::with_capacity(8)), 1).map(drop).unwrap_err().error.kind(),
            p2.post(0, 1, 2).unwrap_err().kind(),
            p2.wait(Some(Duration::ZERO)).unwrap_err().kind(),
            p2.cancel(timer).unwrap_err().kind(),
            p2.flush().unwrap_err().kind(),
            p2.associate(extra, 0).map(drop).unwrap_err().kind(),
        ];
        let back = p2.submit(SendOp::new(&h2, b"kept".to_vec()), 1).map(drop).unwrap_err().op.into_buf();
        (kinds, back)
    })
    .join()
    .unwrap();
    assert_eq!(refused.0, [std::io::ErrorKind::InvalidInput; 7], "[{b}]");
    assert_eq!(refused.1, b"kept", "[{b}] the refused op comes back with its buffer");
    port_quiet(&port, "nothing refused was queued");
    port.submit_deferred(SendOp::new(&h, b"ping".to_vec()), 5).unwrap();
    port.submit(Recv::new(&h, Vec::with_capacity(8)), 6).unwrap();
    assert_eq!(next(&port, "the send").user_data(), 5);
    let mut got = [0u8; 4];
    std::io::Read::read_exact(&mut peer, &mut got).unwrap();
    std::io::Write::write_all(&mut peer, b"pong").unwrap();
    let c = next(&port, "the recv");
    assert_eq!((c.key(), c.user_data()), (3, 6));
    port.post(1, 2, 3).unwrap();
    assert_eq!(next(&port, "the post").user_data(), 2);
    port.cancel(timer).unwrap();
    let c = next(&port, "the cancelled timer");
    assert!(c.is_cancelled() && c.user_data() == 9, "[{b}] {c:?}");
}

/// Closing the port releases every thread blocked in `wait` (IOCP's `CloseHandle` on the port),
/// and every later call fails the same way; the op of a refused submit comes back.
fn close_releases_every_waiter(b: PortBackend) {
    let port = port(b);
    let started = Arc::new(AtomicUsize::new(0));
    let waiters: Vec<_> = (0..4)
        .map(|i| {
            let (port, started) = (port.clone(), started.clone());
            std::thread::spawn(move || {
                started.fetch_add(1, Ordering::SeqCst);
                // Two wait with no timeout, two with a long one.
                let timeout = if i % 2 == 0 { None } else { Some(PATIENCE * 10) };
                port.wait(timeout).map(|c| c.map(|c| c.user_data()))
            })
        })
        .collect();
    // Some may not be in `wait` yet when the port closes: they find it closed (the case holds
    // either way).
    until(b, "the waiters started", || started.load(Ordering::SeqCst) == 4);
    assert!(!port.is_closed());
    port.close().unwrap();
    assert!(port.is_closed());
    for w in waiters {
        let res = within_patience("a waiter of a closed port", move || w.join().unwrap());
        let e = res.expect_err("a waiter of a closed port returns an error");
        assert_eq!(e.kind(), std::io::ErrorKind::BrokenPipe, "[{b}] {e}");
    }
    let (a, _peer) = stream_pair().unwrap();
    let (x, _y) = stream_pair().unwrap();
    let kind = |r: std::io::Result<()>| r.unwrap_err().kind();
    assert_eq!(kind(port.wait(Some(Duration::ZERO)).map(drop)), std::io::ErrorKind::BrokenPipe);
    assert_eq!(kind(port.wait(None).map(drop)), std::io::ErrorKind::BrokenPipe, "[{b}] no hang after close");
    assert_eq!(kind(port.post(0, 1, 2).map(drop)), std::io::ErrorKind::BrokenPipe);
    assert_eq!(kind(port.associate(a, 0).map(drop)), std::io::ErrorKind::BrokenPipe);
    assert_eq!(kind(port.flush()), std::io::ErrorKind::BrokenPipe);
    let refused = port.submit(Timeout::new(Duration::from_secs(1)), 0).map(drop).unwrap_err();
    assert_eq!(refused.error.kind(), std::io::ErrorKind::BrokenPipe);
    let _op: Timeout = refused.op; // the op comes back
    drop(x);
    port.close().unwrap(); // closing twice is not an error
}

fn main() {
    let cases = cases![
        deferred_op_of_a_follower_starts,
        eight_threads_100k_ops_on_256_sockets,
        posts_from_many_threads,
        concurrency_limit_is_observed,
        wait_many_takes_a_batch,
        many_waiters_time_out_empty,
        post_wakes_a_blocked_leader,
        earlier_timeout_wakes_a_blocked_leader,
        single_thread_port_refuses_other_threads,
        close_releases_every_waiter,
    ];
    run_port_suite("port_threads", cases, vec![], false);
}
