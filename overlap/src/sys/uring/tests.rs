//! The io_uring driver's own checks, below the port: wake-ups, the refusal messages, the ring's
//! setup. (What the driver does for ops is checked through the port by the conformance suites,
//! `tests/port_*.rs`, on every backend.)

use std::io::ErrorKind;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::contract::driver::Driver as _;
use crate::contract::queue::Queue;

/// Whether the kernel lets this process have io_uring; says so when it does not (the check
/// then passes without running: there is nothing to run it on).
fn uring_here() -> bool {
    match super::probe() {
        Ok(()) => true,
        Err(e) => {
            assert_eq!(e.kind(), ErrorKind::Unsupported, "{e}");
            eprintln!("io_uring refused here, skipped: {e}");
            false
        }
    }
}

#[test]
fn notify_wakes_poll_and_coalesces() {
    if !uring_here() {
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
    if !uring_here() {
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
