//! Micro-benchmarks of the hot paths, each on every backend that works here (names read like
//! `timeout_add_cancel/uring`):
//!
//! - `timeout_add_cancel`: submit a far `Timeout`, cancel it, reap its cancelled completion;
//! - `post_wait`: `post` a completion and `wait` for it (the cheapest round trip through a port);
//! - `send_recv_64`: a 64-byte `Send` and a 64-byte `Recv` on a connected loopback TCP pair;
//! - `waker_wake_poll`: `Waker::wake`, then the `poll` that reports it.
//!
//! Run with `cargo bench -p overlap --bench micro` (add `-- --quick` for a shorter run, or a
//! filter such as `-- send_recv`). Only the portable public API is used, so this also builds on
//! Windows and the BSDs.

use std::hint::black_box;
use std::io;
use std::net::{TcpListener, TcpStream};
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use overlap::op::{Recv, Send, Timeout};
use overlap::{Completion, CompletionPort, PortBackend, Reactor, ReactorBackend, ReadyEvents, Token, Waker};

/// How long a benchmark waits for a completion or an event that must come before it gives up.
const PATIENCE: Duration = Duration::from_secs(10);

/// Bytes per `Send` and per `Recv` in `send_recv_64`.
const MSG: usize = 64;

/// Short runs: these are round trips of a few microseconds at most.
fn config() -> Criterion {
    Criterion::default()
        .sample_size(20)
        .measurement_time(Duration::from_secs(1))
        .warm_up_time(Duration::from_millis(300))
}

/// A port on `b`.
fn port(b: PortBackend) -> CompletionPort {
    let port = CompletionPort::builder().backend(b).build().unwrap_or_else(|e| panic!("open port on {b}: {e}"));
    assert_eq!(port.backend(), b);
    port
}

/// The next completion, which must come within `PATIENCE`.
fn reap(port: &CompletionPort) -> Completion {
    match port.wait(Some(PATIENCE)) {
        Ok(Some(c)) => c,
        Ok(None) => panic!("[{}] no completion within {PATIENCE:?}", port.backend()),
        Err(e) => panic!("[{}] wait: {e}", port.backend()),
    }
}

/// Submit a one-hour `Timeout`, cancel it, and reap its cancelled completion.
fn timeout_add_cancel(c: &mut Criterion) {
    let mut group = c.benchmark_group("timeout_add_cancel");
    for b in PortBackend::available() {
        let port = port(b);
        group.bench_function(b.name(), |bench| {
            bench.iter(|| {
                let id = port.submit(Timeout::new(Duration::from_secs(3600)), 1).expect("submit timeout");
                port.cancel(id).expect("cancel timeout");
                let done = reap(&port);
                assert!(done.id() == id && done.is_cancelled(), "[{b}] expected the cancelled timeout: {done:?}");
                black_box(done)
            })
        });
    }
    group.finish();
}

/// `post` a completion and `wait` for it.
fn post_wait(c: &mut Criterion) {
    let mut group = c.benchmark_group("post_wait");
    for b in PortBackend::available() {
        let port = port(b);
        group.bench_function(b.name(), |bench| {
            bench.iter(|| {
                let id = port.post(7, 1, 42).expect("post");
                let done = reap(&port);
                assert!(done.id() == id, "[{b}] expected the posted completion: {done:?}");
                black_box(done)
            })
        });
    }
    group.finish();
}

/// A connected loopback TCP pair (blocking, no Nagle delay), from the standard library only.
fn tcp_pair() -> io::Result<(TcpStream, TcpStream)> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let client = TcpStream::connect(listener.local_addr()?)?;
    let (server, _) = listener.accept()?;
    client.set_nodelay(true)?;
    server.set_nodelay(true)?;
    Ok((client, server))
}

/// User data of the `Send` of `send_recv_64`.
const SEND: usize = 1;
/// User data of the `Recv` of `send_recv_64`.
const RECV: usize = 2;

/// A 64-byte `Send` on one end and a 64-byte `Recv` on the other, both submitted, both reaped.
/// The buffers go round and round (no allocation per iteration besides the boxed ops).
fn send_recv_64(c: &mut Criterion) {
    let mut group = c.benchmark_group("send_recv_64");
    for b in PortBackend::available() {
        let port = port(b);
        let (client, server) = tcp_pair().expect("loopback TCP pair");
        let tx = port.associate(client, 1).expect("associate client");
        let rx = port.associate(server, 2).expect("associate server");
        let mut out = Some(vec![0x5a_u8; MSG]);
        let mut inb = Some(Vec::with_capacity(MSG));
        group.bench_function(b.name(), |bench| {
            bench.iter(|| {
                let recv_buf: Vec<u8> = inb.take().expect("receive buffer");
                port.submit(Recv::new(&rx, recv_buf), RECV).map_err(io::Error::from).expect("submit recv");
                let send_buf = out.take().expect("send buffer");
                port.submit(Send::new(&tx, send_buf), SEND).map_err(io::Error::from).expect("submit send");
                let mut pending = 2;
                while pending > 0 {
                    let done = reap(&port);
                    match done.user_data() {
                        SEND => {
                            let (n, op) = done.into_op::<Send<Vec<u8>>>().expect("a Send").unpack();
                            assert_eq!(n.expect("send"), MSG, "[{b}] short send");
                            out = Some(op.into_buf());
                            pending -= 1;
                        }
                        RECV => {
                            let (n, op) = done.into_op::<Recv<Vec<u8>>>().expect("a Recv").unpack();
                            let n = n.expect("recv");
                            assert!(n > 0, "[{b}] the peer closed");
                            let mut buf = op.into_buf();
                            if buf.len() < MSG {
                                // TCP may split the message: receive the rest.
                                port.submit(Recv::new(&rx, buf), RECV).map_err(io::Error::from).expect("submit recv");
                            } else {
                                buf.clear();
                                inb = Some(buf);
                                pending -= 1;
                            }
                        }
                        other => panic!("[{b}] unexpected completion {other}"),
                    }
                }
            })
        });
    }
    group.finish();
}

/// `Waker::wake`, then a `poll` that returns the wake event.
fn waker_wake_poll(c: &mut Criterion) {
    let mut group = c.benchmark_group("waker_wake_poll");
    for b in ReactorBackend::available() {
        let mut reactor = Reactor::builder().backend(b).build().unwrap_or_else(|e| panic!("open reactor on {b}: {e}"));
        let waker = Waker::new(reactor.registry(), Token(0)).expect("waker");
        let mut events = ReadyEvents::with_capacity(8);
        group.bench_function(b.name(), |bench| {
            bench.iter(|| {
                waker.wake().expect("wake");
                reactor.poll(&mut events, Some(PATIENCE)).expect("poll");
                assert!(events.iter().any(|e| e.token() == Token(0)), "[{b}] no wake event: {events:?}");
                black_box(events.len())
            })
        });
    }
    group.finish();
}

/// The group, in a private module: `criterion_group!` makes an undocumented `pub fn`, which
/// `missing_docs` (denied workspace-wide) would refuse at the crate root.
mod group {
    use super::*;

    criterion_group! {
        name = micro;
        config = config();
        targets = timeout_add_cancel, post_wait, send_recv_64, waker_wake_poll
    }
}
criterion_main!(group::micro);
