//! Completions from the kernel itself: io_uring (Linux 5.11+), probed at run time.
//!
//! Each op becomes one submission queue entry (SQE) whose user data is the op's id; the
//! kernel posts one completion queue entry (CQE) per op, carrying that id and the raw result,
//! which [`ops::finish`](super::unix::ops::finish) turns into the op's outcome. The kernel
//! waits for readiness itself; an op goes again in two cases only (back at the head of its
//! lane, before anything behind it): a whole write the kernel took in part (sent with
//! `MSG_WAITALL`, which kernels before 5.18 ignore), and an op answered `EAGAIN`, which happens
//! on a non-blocking socket after a spurious wake-up (the kernel retries such an op on a
//! worker thread, where `O_NONBLOCK` makes it fail instead of wait).
//!
//! **Order.** The kernel wakes the ops parked on one socket in no particular order (several
//! receives: the last one armed gets the first datagram), while a port completes the ops of
//! one socket in submission order, as IOCP does. So ops on a socket or pipe go through a
//! *lane* per descriptor and direction — reads (accept, receives, readiness waits) and writes
//! (connect, sends) — and only the oldest op of a lane is in the kernel; its CQE starts the
//! next. Regular files and no-ops have no lane.
//!
//! **Timeouts** are not the kernel's `IORING_OP_TIMEOUT`: they sit in the same user-space heap
//! as the emulation's and IOCP's ([`Timers`]), whose earliest deadline bounds the leader's
//! wait. A kernel timeout costs an SQE, a timer interrupt when it fires and an `ASYNC_CANCEL`
//! (a system call) to cancel; measured here, 17 µs per zero-length timeout fired and 2 µs per
//! cancel, against well under 1 µs for the heap (as tokio, monoio and compio keep theirs).
//!
//! Threads: any thread submits, cancels and posts. The submission queue is behind a lock; a
//! submitter pushes its entry and enters the kernel right away (`io_uring_enter` from several
//! threads at once, and beside the leader's wait, is what the kernel expects). Only the port's
//! leader waits (`io_uring_enter` with `GETEVENTS` and a timeout, `EXT_ARG`) and drains the
//! completion queue, then pushes what finished to the port's queue. [`notify`](Driver::notify)
//! wakes it with a `NOP` of its own (one at a time: a storm of notifies is one entry).
//!
//! While an op is in flight, the in-flight table owns it (boxed: the pointers its SQE holds into
//! its buffer and address stay valid) and a [`sqe::Side`] with whatever else the SQE points at
//! (iovecs, `msghdr`). The entry goes in the table *before* its SQE is visible to the
//! kernel, so its CQE always finds it, and both happen under the submission lock and the state
//! lock, so a cancel that finds the op in flight queues its `ASYNC_CANCEL` behind the op's SQE,
//! and an op is always either waiting in its lane or in flight, never between.
//!
//! State of one op:
//!
//! ```text
//!   submit ─┬─ (its lane is free, or it has none) ──────────────────────────┬─► in flight
//!           └─► waiting in its lane ── (the op ahead of it completed) ───────┘
//!                   └── cancel ──────────────────────────────────────► cancelled
//!
//!   in flight ── CQE ───────────────────────────────────────────────► completed
//!       ├── CQE: part of a whole write, or EAGAIN ──► waiting, at the head of its lane
//!       ├── cancel ──► cancel requested ──┬─ CQE -ECANCELED ─────────► cancelled
//!       │                                 └─ CQE with its result ────► completed (it raced)
//!       └── port dropped ──► cancel requested ──┬─ CQE within 2 s ───► cancelled and dropped
//!                                               └─ none ─────────────► leaked, never freed
//! ```
//!
//! (Ops still waiting in a lane when the port is dropped never reached the kernel: dropped.
//! Closing the port does the same, completing them cancelled, and cancels those in flight.)
//!
//! An op whose SQE cannot be queued at all (the submission queue stays full) completes at once
//! with that error. Every op completes exactly once: its entry leaves the table only when its
//! own CQE is reaped.
//!
//! Beside this file: `probe` (why the kernel may refuse io_uring), `ring` (the queues behind
//! their locks: the `unsafe` of the `io-uring` crate), `sqe` (an op as an SQE, a CQE as its
//! outcome).
#![allow(unsafe_code)]

mod probe;
mod ring;
mod sqe;
#[cfg(test)]
mod tests;

use crate::int_map::IntMap;
use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use io_uring::{opcode, squeue};

pub(crate) use probe::probe;

use super::unix::fd;
use crate::contract::completion::{Completion, OpId, Pending};
use crate::contract::desc::{Desc, Lane, Route};
use crate::contract::driver;
use crate::contract::lanes::Lanes;
use crate::contract::queue::Queue;
use crate::contract::source::{HandleKind, OwnedSource, RawSource};
use crate::contract::timers::Timers;
use crate::error;

/// Submission queue slots (the completion queue has 4× as many; the kernel keeps overflow).
const ENTRIES: u32 = 256;
/// User data of the wake-up `NOP` (op ids count up from 1 and never get here).
const WAKE: u64 = u64::MAX;
/// User data of `ASYNC_CANCEL` entries, whose own completions say nothing we need.
const CANCEL: u64 = u64::MAX - 1;
/// How long dropping the driver waits for the cancelled ops' completions.
const DRAIN_PATIENCE: Duration = Duration::from_secs(2);

/// The lane `p` waits in, if any (see "Order" in the module docs): files and no-ops have none.
fn lane(p: &Pending) -> Option<Lane> {
    match p.plan.route {
        Route::Lane(lane) => Some(lane),
        Route::Now | Route::Timer(_) | Route::File => None,
    }
}

/// An op the kernel owns.
struct InFlight {
    pending: Pending,
    side: sqe::Side,
    lane: Option<Lane>,
    /// A cancel (or closing the port) asked for it: it does not go again.
    cancelled: bool,
}

impl InFlight {
    fn complete(mut self, res: i32) -> Completion {
        let p = &mut self.pending;
        let result = match res {
            // A whole write's last part: the result counts every part. A cancelled one that
            // went in part (the kernel reports that part, not -ECANCELED) is cancelled, with
            // the part in `sent`.
            0.. if p.plan.whole => {
                p.sent += res as usize;
                match self.cancelled && p.sent < p.op.describe().write_len().unwrap_or(0) {
                    true => Err(error::cancelled()),
                    false => Ok(p.sent),
                }
            }
            _ if self.cancelled && res == -libc::EAGAIN => Err(error::cancelled()),
            _ => sqe::outcome(p, &self.side, res),
        };
        self.pending.complete(result)
    }

    /// Whether the op must go again before anything behind it in its lane: a whole write the
    /// kernel took only part of (`res` bytes of what was left, counted here), or an op the
    /// kernel answered `EAGAIN`. The latter happens on a non-blocking socket: after a spurious
    /// wake-up (a peer's FIN wakes a send that waits for room), the kernel runs the retry on a
    /// worker thread, where the socket's `O_NONBLOCK` makes it fail instead of wait. A new
    /// submission waits for readiness again. (Not a connect: its `EAGAIN` means no local port
    /// is free.)
    fn goes_again(&mut self, res: i32) -> bool {
        if self.cancelled {
            return false;
        }
        let p = &mut self.pending;
        if res == -libc::EAGAIN {
            return !matches!(p.op.describe(), Desc::Connect { .. });
        }
        if !p.plan.whole || res < 0 {
            return false;
        }
        let total = p.op.describe().write_len().unwrap_or(0);
        if p.sent + res as usize >= total {
            return false;
        }
        p.sent += res as usize;
        true
    }
}

#[derive(Default)]
struct State {
    /// Ops in flight, by id (their SQE's user data).
    inflight: IntMap<u64, InFlight>,
    /// The ops waiting behind the one in flight, per lane.
    lanes: Lanes<Lane>,
    /// Pending timeouts.
    timers: Timers,
    /// The port was closed: what is submitted now completes cancelled.
    closed: bool,
    /// The leader may be in `io_uring_enter`, waiting no longer than the earliest deadline it
    /// saw: a timeout that comes earlier must wake it.
    leader_waiting: bool,
}

/// The io_uring completion driver.
pub(crate) struct Driver {
    /// Its submission lock is taken before `state`.
    ring: ring::Ring,
    state: Mutex<State>,
    queue: Arc<Queue>,
    /// A wake-up `NOP` is in the ring and its CQE not reaped yet.
    wake_pending: AtomicBool,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Driver {
    /// Opens a ring, or says (`Unsupported`) why the kernel refuses io_uring here.
    /// A driver over a new ring; `single_issuer`: only the calling thread will use it (see
    /// [`PortBuilder::single_thread`](crate::PortBuilder::single_thread)).
    pub(crate) fn new(queue: Arc<Queue>, single_issuer: bool) -> io::Result<Driver> {
        probe()?;
        Ok(Driver {
            ring: ring::Ring::new(ENTRIES, single_issuer)?,
            state: Mutex::default(),
            queue,
            wake_pending: AtomicBool::new(false),
        })
    }

    /// Drains the completion queue: the ops it finished, completed.
    fn reap(&self) -> Vec<Completion> {
        let mut cqes = Vec::new();
        self.ring.drain(&mut cqes);
        let mut finished = Vec::with_capacity(cqes.len());
        let mut next_in_lane = Vec::new();
        {
            let mut guard = lock(&self.state);
            let st = &mut *guard;
            for (user_data, res) in cqes {
                match user_data {
                    WAKE => self.wake_pending.store(false, Ordering::Release),
                    CANCEL => {} // the target's own CQE says how it ended
                    id => {
                        let op = st.inflight.remove(&id);
                        debug_assert!(op.is_some(), "a CQE for op {id}, which is not in flight");
                        let Some(mut op) = op else { continue };
                        if let Some(lane) = op.lane.filter(|_| !st.closed && op.goes_again(res)) {
                            // Back at the head of its lane (where a cancel finds it), started
                            // again below.
                            st.lanes.again(lane, op.pending);
                            next_in_lane.push(lane);
                            continue;
                        }
                        if let Some(lane) = op.lane {
                            // A lane with nothing waiting is free here, without the submission
                            // queue; one with ops waiting starts the next below.
                            if st.lanes.done(lane) {
                                next_in_lane.push(lane);
                            }
                        }
                        finished.push((op, res));
                    }
                }
            }
        }
        let done = finished.into_iter().map(|(op, res)| op.complete(res)).collect();
        for lane in next_in_lane {
            self.advance(lane);
        }
        done
    }

    /// Hands `p` to the kernel through `slot` (`st` is the locked state).
    fn start(slot: ring::Slot<'_>, st: &mut State, mut p: Pending, lane: Option<Lane>) {
        let (entry, side) = sqe::prepare(&mut p);
        let entry = entry.user_data(p.id.seq());
        // In the table before the kernel can see the entry: its CQE must find it.
        st.inflight.insert(p.id.seq(), InFlight { pending: p, side, lane, cancelled: false });
        // The entry points into the op and into `side`, both boxed (moving them into the table
        // moved the boxes, not what they point at); nothing touches them until `reap` removes
        // them after this entry's CQE, and `Drop` leaks what never got one.
        // SAFETY: what the entry points at stays alive and unmoved until its CQE (above).
        unsafe { slot.push(&entry) };
    }

    /// The op in flight on `lane` completed: starts the next one waiting there, or closes it.
    fn advance(&self, lane: Lane) {
        let slot = self.ring.reserve();
        let mut guard = lock(&self.state);
        let st = &mut *guard;
        let Some(next) = st.lanes.next(lane) else { return };
        match slot {
            Ok(slot) => {
                Self::start(slot, st, next, Some(lane));
                drop(guard);
                self.ring.kick();
            }
            Err(e) => {
                // Fail the whole lane: starting the op after a failed send would leave a hole
                // in the byte stream.
                let failed: Vec<Completion> = std::iter::once(next)
                    .chain(st.lanes.take_lane(lane))
                    .map(|p| p.complete(Err(io::Error::new(e.kind(), e.to_string()))))
                    .collect();
                drop(guard);
                self.deliver(failed);
            }
        }
    }

    /// Queues completions, waking the leader if no follower can take them.
    fn deliver(&self, done: Vec<Completion>) {
        if self.queue.push(done) {
            let _ = driver::Driver::notify(self);
        }
    }

    /// Queues an entry that points at nothing (wake-ups, cancels).
    fn push_plain(&self, entry: squeue::Entry) -> io::Result<()> {
        let slot = self.ring.reserve()?;
        // SAFETY: NOP and ASYNC_CANCEL entries point at no memory (a cancel names its target by
        // user data).
        unsafe { slot.push(&entry) };
        self.ring.kick();
        Ok(())
    }
}

impl driver::Driver for Driver {
    fn attach(&self, source: &OwnedSource, kind: HandleKind) -> io::Result<()> {
        // The ops need nothing registered. Non-blocking as `associate` promises; the kernel
        // waits for readiness itself either way.
        if kind != HandleKind::File {
            fd::set_nonblocking(std::os::fd::AsRawFd::as_raw_fd(source))?;
        }
        Ok(())
    }

    fn detach(&self, fd: RawSource) {
        // Ops hold their handle, so no op is in flight on a descriptor being closed: only its
        // lanes' entries are left.
        let mut st = lock(&self.state);
        st.lanes.forget(Lane { fd, read: true });
        st.lanes.forget(Lane { fd, read: false });
    }

    fn submit(&self, p: Pending, defer: bool) {
        if let Route::Timer(after) = p.plan.route {
            let mut st = lock(&self.state);
            if st.closed {
                drop(st);
                return self.deliver(vec![p.cancelled()]);
            }
            let wake = st.timers.add(p, after) && st.leader_waiting;
            drop(st);
            if wake {
                let _ = driver::Driver::notify(self); // the leader may wait past the new deadline
            }
            return;
        }
        let lane = lane(&p);
        let slot = match self.ring.reserve() {
            Ok(slot) => slot,
            Err(e) => return self.deliver(vec![p.complete(Err(e))]),
        };
        let mut guard = lock(&self.state);
        let st = &mut *guard;
        if st.closed {
            drop(guard);
            return self.deliver(vec![p.cancelled()]);
        }
        let p = match lane {
            // An older op of the lane is in flight: this one starts after it (the slot goes
            // back unused).
            Some(lane) => match st.lanes.enter(lane, p) {
                Some(p) => p,
                None => return,
            },
            None => p,
        };
        Self::start(slot, st, p, lane);
        drop(guard);
        if !defer {
            self.ring.kick();
        }
    }

    fn flush(&self) {
        self.ring.kick_pending();
    }

    fn cancel(&self, id: OpId) -> io::Result<()> {
        let seq = id.seq();
        let mut guard = lock(&self.state);
        let st = &mut *guard;
        if let Some(p) = st.timers.cancel(seq) {
            drop(guard);
            self.deliver(vec![p.cancelled()]);
            return Ok(());
        }
        if let Some(op) = st.inflight.get_mut(&seq) {
            op.cancelled = true;
            drop(guard);
            // If the op completes meanwhile, the cancel's CQE says ENOENT and the op's says how
            // it ended: it still completes exactly once.
            return self.push_plain(opcode::AsyncCancel::new(seq).build().user_data(CANCEL));
        }
        let p = st.lanes.cancel(seq).ok_or_else(error::op_not_found)?;
        drop(guard);
        self.deliver(vec![p.cancelled()]);
        Ok(())
    }

    fn poll(&self, timeout: Option<Duration>) -> io::Result<()> {
        let bound = {
            // Under the lock that `submit` adds timeouts under: a timeout added after this
            // sees `leader_waiting` and wakes the wait; one added before bounds it.
            let mut st = lock(&self.state);
            st.leader_waiting = true;
            st.timers.bound(timeout)
        };
        let waited = self.ring.wait(bound);
        let mut fired = Vec::new();
        {
            let mut st = lock(&self.state);
            st.leader_waiting = false;
            st.timers.expire(|p| fired.push(p.complete(Ok(0))));
        }
        let mut done = self.reap();
        done.append(&mut fired);
        if !done.is_empty() {
            self.deliver(done);
        }
        waited
    }

    fn close(&self) {
        let mut guard = lock(&self.state);
        let st = &mut *guard;
        st.closed = true;
        // Never in the kernel: cancelled now. In flight: cancelled by the kernel; their CQEs
        // are reaped by whoever still drives the ring, or by `Drop`.
        let mut done: Vec<Completion> = st.timers.drain().map(Pending::cancelled).collect();
        done.extend(st.lanes.drain().into_iter().map(Pending::cancelled));
        let ids: Vec<u64> = st.inflight.keys().copied().collect();
        st.inflight.values_mut().for_each(|op| op.cancelled = true);
        drop(guard);
        for id in ids {
            let _ = self.push_plain(opcode::AsyncCancel::new(id).build().user_data(CANCEL));
        }
        self.deliver(done); // the queue is closed: they are dropped, buffers and all
    }

    fn notify(&self) -> io::Result<()> {
        if self.wake_pending.swap(true, Ordering::AcqRel) {
            return Ok(()); // a wake-up is already on its way
        }
        let res = self.push_plain(opcode::Nop::new().build().user_data(WAKE));
        if res.is_err() {
            self.wake_pending.store(false, Ordering::Release);
        }
        res
    }
}

impl Drop for Driver {
    /// The kernel may still write into the buffers of ops in flight: cancel them all, wait (at
    /// most [`DRAIN_PATIENCE`]) for their CQEs and drop them; leak whatever the kernel still
    /// holds after that rather than free memory it may write. The ring closes afterwards.
    fn drop(&mut self) {
        let st = self.state.get_mut().unwrap_or_else(|p| p.into_inner());
        // Never in the kernel: dropped now (and no lane will start another op, nor a whole write
        // go again).
        st.closed = true;
        drop(st.lanes.drain());
        let ids: Vec<u64> = st.inflight.keys().copied().collect();
        for id in ids {
            let _ = self.push_plain(opcode::AsyncCancel::new(id).build().user_data(CANCEL));
        }
        let deadline = Instant::now() + DRAIN_PATIENCE;
        while !lock(&self.state).inflight.is_empty() {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            if self.ring.wait(Some(left.min(Duration::from_millis(100)))).is_err() {
                break;
            }
            drop(self.reap()); // nobody waits on the port any more: buffers and sockets go now
        }
        // Leaked on purpose: the kernel may still write into these buffers (and read the side
        // boxes) until it tears the ring down, after this returns.
        for (_, op) in lock(&self.state).inflight.drain() {
            std::mem::forget(op);
        }
    }
}
