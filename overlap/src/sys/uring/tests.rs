//! The io_uring driver's own checks (the conformance suites run every backend through the port).

use std::io::{ErrorKind, Write};
use std::net::UdpSocket;
use std::os::unix::net::UnixStream;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::op::{Recv, RecvFrom, Send, SendTo, Timeout};
use crate::port::Queue;
use crate::sys::Driver as _;
use crate::{Completion, CompletionPort, PortBackend};

const LONG: Option<Duration> = Some(Duration::from_secs(5));

/// A uring port, or `None` (the test passes, saying why) where the kernel refuses io_uring.
fn port() -> Option<CompletionPort> {
    match PortBackend::Uring.check() {
        Ok(()) => Some(CompletionPort::builder().backend(PortBackend::Uring).build().unwrap()),
        Err(e) => {
            assert_eq!(e.kind(), ErrorKind::Unsupported, "{e}");
            eprintln!("io_uring refused here, skipped: {e}");
            None
        }
    }
}

fn next(port: &CompletionPort) -> Completion {
    port.wait(LONG).unwrap().expect("a completion within 5 s")
}

#[test]
fn recv_and_send_over_a_socket_pair() {
    let Some(port) = port() else { return };
    let (a, b) = UnixStream::pair().unwrap();
    let (a, b) = (port.associate(a, 1).unwrap(), port.associate(b, 2).unwrap());
    let mut buf = Vec::with_capacity(16);
    buf.extend_from_slice(b">");
    port.submit(Recv::new(&a, buf), 10).unwrap();
    port.submit(Send::new(&b, b"hello".to_vec()), 20).unwrap();
    let mut got = Vec::new();
    for _ in 0..2 {
        let c = next(&port);
        match c.user_data() {
            10 => {
                assert_eq!(c.key(), 1);
                let (n, recv) = c.into_op::<Recv<Vec<u8>>>().unwrap().unpack();
                assert_eq!(n.unwrap(), 5);
                got = recv.into_buf();
            }
            20 => assert_eq!(c.into_op::<Send<Vec<u8>>>().unwrap().0.unwrap(), 5),
            other => panic!("unexpected user data {other}"),
        }
    }
    assert_eq!(got, b">hello");
}

#[test]
fn datagrams_carry_the_peer() {
    let Some(port) = port() else { return };
    let (x, y) = (UdpSocket::bind("127.0.0.1:0").unwrap(), UdpSocket::bind("127.0.0.1:0").unwrap());
    let (xa, ya) = (x.local_addr().unwrap(), y.local_addr().unwrap());
    let (x, y) = (port.associate(x, 0).unwrap(), port.associate(y, 0).unwrap());
    port.submit(RecvFrom::new(&y, Vec::with_capacity(8)), 1).unwrap();
    port.submit(SendTo::new(&x, b"dgram".to_vec(), ya), 2).unwrap();
    for _ in 0..2 {
        let c = next(&port);
        if c.user_data() == 1 {
            let (n, op) = c.into_op::<RecvFrom<Vec<u8>>>().unwrap().unpack();
            assert_eq!(n.unwrap(), 5);
            assert_eq!(op.peer_addr(), Some(xa));
            assert_eq!(op.into_buf(), b"dgram");
        }
    }
}

#[test]
fn timeout_fires_not_earlier() {
    let Some(port) = port() else { return };
    let start = Instant::now();
    port.submit(Timeout::new(Duration::from_millis(30)), 7).unwrap();
    let c = next(&port);
    assert_eq!((c.user_data(), c.result().as_ref().ok()), (7, Some(&0)), "{c:?}");
    assert!(start.elapsed() >= Duration::from_millis(30));
}

#[test]
fn cancel_parked_recv_and_timeout() {
    let Some(port) = port() else { return };
    let (a, _b) = UnixStream::pair().unwrap();
    let a = port.associate(a, 0).unwrap();
    let recv = port.submit(Recv::new(&a, Vec::with_capacity(32)), 1).unwrap();
    let timer = port.submit(Timeout::new(Duration::from_secs(3600)), 2).unwrap();
    assert_eq!(port.wait(Some(Duration::from_millis(20))).unwrap().map(|c| c.user_data()), None);
    port.cancel(recv).unwrap();
    port.cancel(timer).unwrap();
    for _ in 0..2 {
        let c = next(&port);
        assert!(c.is_cancelled(), "{c:?}");
        if c.user_data() == 1 {
            let (_, op) = c.into_op::<Recv<Vec<u8>>>().unwrap().unpack();
            assert_eq!(op.into_buf().capacity(), 32, "the buffer comes back");
        }
    }
    assert_eq!(port.cancel(recv).unwrap_err().kind(), ErrorKind::NotFound);
}

#[test]
fn ops_on_one_socket_complete_in_order_and_waiting_ones_cancel() {
    let Some(port) = port() else { return };
    let (a, mut b) = UnixStream::pair().unwrap();
    let a = port.associate(a, 0).unwrap();
    let ids: Vec<_> = (0..3).map(|i| port.submit(Recv::new(&a, Vec::with_capacity(2)), i).unwrap()).collect();
    port.cancel(ids[1]).unwrap(); // waits behind ids[0] in its lane: cancelled at once
    let c = next(&port);
    assert!(c.user_data() == 1 && c.is_cancelled(), "{c:?}");
    b.write_all(b"abcd").unwrap();
    for (i, want) in [(0, b"ab"), (2, b"cd")] {
        let c = next(&port);
        assert_eq!(c.user_data(), i);
        let (n, op) = c.into_op::<Recv<Vec<u8>>>().unwrap().unpack();
        assert_eq!((n.unwrap(), op.into_buf()), (2, want.to_vec()));
    }
}

#[test]
fn zero_length_recv_probes_without_consuming() {
    let Some(port) = port() else { return };
    let (a, mut b) = UnixStream::pair().unwrap();
    let a = port.associate(a, 0).unwrap();
    port.submit(Recv::new(&a, Vec::new()), 1).unwrap();
    b.write_all(b"data").unwrap();
    let (n, _) = next(&port).into_op::<Recv<Vec<u8>>>().unwrap().unpack();
    assert_eq!(n.unwrap(), 0);
    port.submit(Recv::new(&a, Vec::with_capacity(8)), 2).unwrap();
    let (n, op) = next(&port).into_op::<Recv<Vec<u8>>>().unwrap().unpack();
    assert_eq!((n.unwrap(), op.into_buf()), (4, b"data".to_vec()), "the probe consumed nothing");
}

#[test]
fn notify_wakes_poll_and_coalesces() {
    if PortBackend::Uring.check().is_err() {
        return;
    }
    let driver = Arc::new(super::Driver::new(Arc::new(Queue::new(1)), false).unwrap());
    for _ in 0..10_000 {
        driver.notify().unwrap(); // one NOP in the ring, not 10 000
    }
    driver.poll(Some(Duration::ZERO)).unwrap();
    let d = driver.clone();
    let waker = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(50));
        d.notify().unwrap();
    });
    let start = Instant::now();
    driver.poll(Some(Duration::from_secs(10))).unwrap();
    assert!(start.elapsed() < Duration::from_secs(5), "notify did not wake the poll");
    waker.join().unwrap();
}

#[test]
fn dropping_the_port_with_ops_in_flight() {
    let Some(port) = port() else { return };
    let (a, _b) = UnixStream::pair().unwrap();
    let a = port.associate(a, 0).unwrap();
    for i in 0..8 {
        port.submit(Recv::new(&a, Vec::with_capacity(64)), i).unwrap();
    }
    let start = Instant::now();
    drop((port, a));
    assert!(start.elapsed() < Duration::from_secs(1), "cancelled and drained, not timed out");
}

#[test]
fn refusals_say_why() {
    for (errno, says) in [(libc::ENOSYS, "ENOSYS"), (libc::EPERM, "EPERM"), (libc::ENOMEM, "RLIMIT_MEMLOCK")] {
        let e = super::probe::setup_refused(std::io::Error::from_raw_os_error(errno));
        assert_eq!(e.kind(), ErrorKind::Unsupported, "{e}");
        assert!(e.to_string().contains(says) && e.to_string().contains("uring"), "{e}");
    }
    let other = super::probe::setup_refused(std::io::Error::from_raw_os_error(libc::EMFILE));
    assert_eq!(other.raw_os_error(), Some(libc::EMFILE), "other errors pass through");
}

/// A single-thread port gets the deferred-completion ring wherever the kernel has it (6.1+);
/// a shared port never does (its submitters and waiters are any threads).
#[test]
fn single_thread_ports_get_single_issuer_rings() {
    if port().is_none() {
        return;
    }
    let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    let mut parts = release.trim().split(|c: char| !c.is_ascii_digit()).filter_map(|p| p.parse::<u32>().ok());
    let version = (parts.next().unwrap_or(0), parts.next().unwrap_or(0));
    let shared = super::ring::Ring::new(8, false).unwrap();
    assert!(!shared.single_issuer());
    let single = super::ring::Ring::new(8, true).unwrap();
    if version >= (6, 1) {
        assert!(single.single_issuer(), "kernel {version:?} has SINGLE_ISSUER and DEFER_TASKRUN");
    } else {
        eprintln!("kernel {version:?}: before 6.1, a single-thread port gets an ordinary ring");
    }
}
