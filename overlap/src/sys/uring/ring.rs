//! The ring behind locks: room in the submission queue for any thread, the wait and the drain
//! of the completion queue for the leader.
//!
//! The `io-uring` crate hands out one view of each queue at a time (`submission_shared` and
//! `completion_shared` are `unsafe` for that); each view here lives only under its own lock.
//! `io_uring_enter` itself needs no lock: the kernel serialises submissions, and a submitter
//! may enter while the leader waits.
#![allow(unsafe_code)]

use std::io::{self, ErrorKind};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use io_uring::types::{SubmitArgs, Timespec};
use io_uring::{squeue, IoUring, SubmissionQueue};

use crate::error;

/// How long a submitter waits for room in a full submission queue before giving up.
const SQ_PATIENCE: Duration = Duration::from_secs(1);

pub(super) struct Ring {
    ring: IoUring,
    /// Held while a `SubmissionQueue` view exists.
    sq: Mutex<()>,
    /// Held while a `CompletionQueue` view exists.
    cq: Mutex<()>,
}

/// Room for one entry in the submission queue, held under its lock.
pub(super) struct Slot<'a> {
    // Dropped first: publishes the new tail to the kernel, then the lock goes.
    sq: SubmissionQueue<'a>,
    _lock: MutexGuard<'a, ()>,
}

impl Slot<'_> {
    /// Queues `entry`; the kernel may take it as soon as the slot is gone.
    ///
    /// # Safety
    ///
    /// Everything `entry` points at stays valid, and is neither moved nor accessed by Rust
    /// code, until the entry's CQE has been drained (or for ever, if it never comes).
    pub(super) unsafe fn push(mut self, entry: &squeue::Entry) {
        // SAFETY: the caller keeps the entry's memory alive until its CQE (this function's
        // contract); `self.sq` is the only submission queue view (its lock is held).
        let pushed = unsafe { self.sq.push(entry) };
        pushed.expect("a slot is a free entry, reserved under the submission lock");
    }
}

fn lock(m: &Mutex<()>) -> MutexGuard<'_, ()> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Errors of `io_uring_enter` that only mean "not now" (or, for a wait, "time is up").
fn transient(e: &io::Error) -> bool {
    matches!(e.raw_os_error(), Some(libc::EINTR | libc::EAGAIN | libc::EBUSY | libc::ETIME))
}

impl Ring {
    /// A ring of `entries` submission slots (for one thread only if `single_issuer`).
    pub(super) fn new(entries: u32, single_issuer: bool) -> io::Result<Ring> {
        Ok(Ring { ring: super::probe::build(entries, single_issuer)?, sq: Mutex::new(()), cq: Mutex::new(()) })
    }

    /// Reserves a free submission queue entry, submitting what is queued to make room; fails
    /// if the queue stays full for [`SQ_PATIENCE`].
    pub(super) fn reserve(&self) -> io::Result<Slot<'_>> {
        let mut start = None; // the clock is read only if the queue is full
        loop {
            let guard = lock(&self.sq);
            // SAFETY: submission queue views are made only here, under `self.sq`, which the
            // slot keeps until the view is gone: no other view exists.
            let sq = unsafe { self.ring.submission_shared() };
            if !sq.is_full() {
                return Ok(Slot { sq, _lock: guard });
            }
            drop(sq);
            drop(guard);
            match self.ring.submit() {
                Ok(n) if n > 0 => continue,
                Err(e) if !transient(&e) => return Err(e),
                _ => {}
            }
            if start.get_or_insert_with(Instant::now).elapsed() >= SQ_PATIENCE {
                return Err(error::uring_queue_full());
            }
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    /// Hands what is queued to the kernel. A failure leaves the entries in the ring, where the
    /// next `io_uring_enter` (the leader's wait, another submit) takes them.
    pub(super) fn kick(&self) {
        while let Err(e) = self.ring.submit() {
            if e.kind() != ErrorKind::Interrupted {
                break;
            }
        }
    }

    /// Whether the kernel took `IORING_SETUP_SINGLE_ISSUER` (and with it `DEFER_TASKRUN`).
    #[cfg(test)]
    pub(super) fn single_issuer(&self) -> bool {
        self.ring.params().is_setup_single_issuer()
    }

    /// Hands the kernel what is queued, if anything is (no system call otherwise).
    pub(super) fn kick_pending(&self) {
        let guard = lock(&self.sq);
        // SAFETY: submission queue views are made only under `self.sq` (see `reserve`).
        let sq = unsafe { self.ring.submission_shared() };
        let pending = !sq.is_empty();
        // The view goes before the lock: dropping it stores the tail it read, which must not
        // overwrite a tail another submitter moved after the lock went (a block's tail
        // expression would keep a temporary view alive past the guard).
        drop(sq);
        drop(guard);
        if pending {
            self.kick();
        }
    }

    /// Submits what is queued and waits for at least one CQE, at most `timeout` (`None`: for
    /// ever). Early returns (a signal, time up) are not errors.
    pub(super) fn wait(&self, timeout: Option<Duration>) -> io::Result<()> {
        let submitter = self.ring.submitter();
        let res = match timeout {
            Some(t) => {
                let ts = Timespec::from(t.min(Duration::from_secs(i64::MAX as u64)));
                submitter.submit_with_args(1, &SubmitArgs::new().timespec(&ts))
            }
            None => submitter.submit_with_args(1, &SubmitArgs::new()),
        };
        match res {
            Err(e) if !transient(&e) => Err(e),
            _ => Ok(()),
        }
    }

    /// Appends every CQE the kernel posted, as (user data, result), and frees their entries.
    pub(super) fn drain(&self, out: &mut Vec<(u64, i32)>) {
        let _guard = lock(&self.cq);
        // SAFETY: completion queue views are made only here, under `self.cq`, held until the
        // view is dropped: no other view exists.
        let cq = unsafe { self.ring.completion_shared() };
        out.extend(cq.map(|e| (e.user_data(), e.result())));
    }
}
