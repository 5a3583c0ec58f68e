//! Completions emulated over readiness: the seed-2 port of an IOCP server to epoll, over any
//! [`Selector`](crate::contract::selector::Selector) (epoll, poll, kqueue).
//!
//! An op is first tried at once as a non-blocking system call. Only if that would block is it
//! *parked* on its descriptor — in the read queue (accept, recv, read, readiness waits) or the
//! write queue (connect, send, write) — and the descriptor watched for readiness. When the
//! selector reports the descriptor, the parked ops of both queues are retried in submission
//! order, each queue stopping at the first that would block; what completed is pushed to the
//! port's queue. An op is never tried while an older one waits in its queue, so ops on one
//! socket complete in order.
//!
//! **Watching.** Where the selector has edge triggering (epoll, kqueue), a descriptor is
//! registered once, edge-triggered, when an op first parks on it, and stays registered until
//! its handle is dropped (its interest only grows): no system call to re-arm it per op.
//! Otherwise (poll) it is armed oneshot for what its parked ops wait for, and re-armed after
//! each event while ops are still parked.
//!
//! **What is known ready.** Each descriptor keeps the directions it may be ready for. An
//! attempt that would block removes its direction; so does a read of a stream socket or pipe
//! that returned fewer bytes than asked (it took everything queued); an event adds what it
//! reports. An op whose direction is not known ready parks without trying (the system call
//! would only say "would block"). Once an event has reported the read side closed (or an
//! error), short reads no longer count: the end of the stream can sit behind the data, with no
//! edge to come for it. This is safe because whatever arrives after the attempt that
//! removed the direction raises a new event: an edge (new data, new room, a peer's close), or
//! the level the oneshot arming finds.
//!
//! Timeouts sit in a heap whose earliest deadline bounds the selector wait. Regular files
//! (which epoll cannot watch, and which never "would block") run on a small thread pool.
//!
//! **Whole writes.** A send on a stream that the kernel takes only part of stays at the head of
//! its write queue with the bytes it sent counted, as if it would block (the socket's buffer is
//! full): the rest goes at the next writable edge, before any op behind it, and the op
//! completes when all of it has gone (or with the error that stopped it). So several sends may
//! be in flight on one socket and the peer gets the bytes in submission order, as with IOCP.
//!
//! State of one op:
//!
//! ```text
//!   submit ─┬─ (tried at once: done) ───────────────────────────────────────► completed
//!           └─ (would block, or an op is ahead in its queue) ─► parked ─┬─ (readiness: done) ─► completed
//!                                                                 ▲      ├─ (part of a whole write sent) ─┐
//!                                                                 │      │                                 │
//!                                                                 └──────┼─────────────────────────────────┘
//!                                                                        └─ cancel, or port closed ──► cancelled
//! ```
//!
//! `cancel` takes an op out of its queue or the heap and completes it with the cancelled
//! error; cancelling the head of a read queue tries the new head at once, since the descriptor
//! was watched for the cancelled op's needs only. Every op completes exactly once: it is
//! removed from where it waits, under the driver's lock, by whichever of readiness and cancel
//! comes first. Closing the port cancels everything parked or timed, and an op submitted after
//! that completes cancelled at once.

mod pool;
mod table;

use std::collections::VecDeque;
use std::io::{self, ErrorKind};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use super::selector::AnySelector;
use super::unix::{fd, ops};
use crate::contract::completion::{Completion, OpId, Pending};
use crate::contract::desc::{Lane, Route};
use crate::contract::driver;
use crate::contract::interest::{Interest, Trigger};
use crate::contract::queue::Queue;
use crate::contract::ready::ReadyEvent;
use crate::contract::source::{HandleKind, OwnedSource, RawSource};
use crate::contract::timers::Timers;
use crate::contract::token::Token;
use crate::error;
use table::FdTable;

struct Parked {
    read: VecDeque<Pending>,
    write: VecDeque<Pending>,
    /// Registered with the selector (possibly disarmed).
    registered: bool,
    /// The interest it is armed for, if armed (edge: registered for; it stays armed).
    armed: Option<Interest>,
    /// The directions it may be ready for (see "What is known ready" in the module docs).
    ready: Interest,
    /// A short read leaves nothing to read (stream sockets, pipes). Turned off for good once
    /// an event reports the read side closed or an error: the end of the stream may then sit
    /// behind the data a short read took, and no edge would announce it.
    drains: bool,
}

impl Default for Parked {
    fn default() -> Parked {
        Parked::new(false)
    }
}

/// The directions an event reports ready: errors and closes wake both queues, as their ops
/// then complete with what the system call says.
fn ready_from(ev: &ReadyEvent) -> Interest {
    let mut ready = Interest::NONE;
    if ev.is_readable() || ev.is_read_closed() || ev.is_error() {
        ready |= Interest::READABLE;
    }
    if ev.is_writable() || ev.is_write_closed() || ev.is_error() {
        ready |= Interest::WRITABLE;
    }
    if ev.is_priority() || ev.is_error() {
        ready |= Interest::PRIORITY;
    }
    ready
}

/// One non-blocking attempt at `p`, unless `ready` says it would block; updates `ready` with
/// what the attempt showed.
fn try_op(p: &mut Pending, ready: &mut Interest, drains: bool) -> io::Result<usize> {
    let waits = p.plan.waits;
    if (*ready & waits).is_empty() {
        return Err(ErrorKind::WouldBlock.into());
    }
    let done = ops::attempt(p);
    match &done.res {
        Err(e) if e.kind() == ErrorKind::WouldBlock => *ready = ready.remove(waits),
        // Not 0: end of stream stays readable, and no edge would come for it.
        Ok(_) if drains && done.short => *ready = ready.remove(Interest::READABLE),
        _ => {}
    }
    done.res
}

impl Parked {
    fn new(drains: bool) -> Parked {
        let ready = Interest::READABLE | Interest::WRITABLE | Interest::PRIORITY;
        Parked { read: VecDeque::new(), write: VecDeque::new(), registered: false, armed: None, ready, drains }
    }

    /// What the heads of its queues wait for (only heads can run: a queue stops at its first
    /// op that would block).
    fn wanted(&self) -> Option<Interest> {
        let head = |q: &VecDeque<Pending>| q.front().map_or(Interest::NONE, |p| p.plan.waits);
        let want = head(&self.read) | head(&self.write);
        (!want.is_empty()).then_some(want)
    }
}

/// What a poll fills: the selector's events, and the completions they bring.
#[derive(Default)]
struct Scratch {
    events: Vec<ReadyEvent>,
    done: Vec<Completion>,
}

#[derive(Default)]
struct State {
    fds: FdTable<Parked>,
    timers: Timers,
    /// The port was closed: what is submitted now completes cancelled.
    closed: bool,
}

/// The emulated completion driver.
pub(crate) struct Driver {
    sel: Arc<AnySelector>,
    /// Edge-triggered, registered once (else oneshot, re-armed per wait).
    edge: bool,
    queue: Arc<Queue>,
    state: Mutex<State>,
    pool: pool::Pool,
    /// The leader's buffers, kept from poll to poll.
    scratch: Mutex<Scratch>,
    /// Timeouts are pending (set under the state lock): without, a poll needs no lock to
    /// know how long it may wait. A timeout added while a poll waits wakes it if it is the
    /// earliest, so a poll that missed the flag's change is not late.
    timing: AtomicBool,
}

impl Driver {
    pub(crate) fn new(sel: AnySelector, queue: Arc<Queue>) -> Driver {
        let edge = sel.edge_triggers();
        let sel = Arc::new(sel);
        let pool = pool::Pool::new(queue.clone(), sel.clone());
        let (state, scratch, timing) = (Mutex::default(), Mutex::default(), AtomicBool::new(false));
        Driver { sel, edge, queue, state, pool, scratch, timing }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Queues completions, waking the leader if no follower can take them.
    fn deliver(&self, done: impl IntoIterator<Item = Completion>) {
        if self.queue.push(done) {
            let _ = self.sel.notify();
        }
    }

    /// Queues one completion (with no list made for it).
    fn deliver_one(&self, c: Completion) {
        self.deliver(Some(c));
    }

    /// Arms `fd` for what its parked ops wait for, if it is not armed for it yet: oneshot for
    /// just that, or edge-triggered for that and whatever it was registered for before.
    fn arm(&self, fd: RawSource, parked: &mut Parked) -> io::Result<()> {
        let Some(want) = parked.wanted() else { return Ok(()) };
        if parked.armed.is_some_and(|armed| armed.add(want) == armed) {
            return Ok(()); // already armed for all of it
        }
        let (want, trigger) = match self.edge {
            true => (parked.armed.unwrap_or(Interest::NONE).add(want), Trigger::Edge),
            false => (want, Trigger::Oneshot),
        };
        let token = Token(fd as usize);
        if parked.registered {
            if let Err(e) = self.sel.reregister(fd, token, want, trigger) {
                // What is armed now is unknown (kqueue may have deleted a filter before the add
                // failed): the next arm must not take it as done.
                parked.armed = None;
                return Err(e);
            }
        } else {
            self.sel.register(fd, token, want, trigger)?;
            parked.registered = true;
        }
        parked.armed = Some(want);
        Ok(())
    }

    /// Arms `fd` for its parked ops; if the selector refuses, they cannot wait, so every op
    /// parked on it fails with the reason.
    fn arm_or_fail(&self, fd: RawSource, parked: &mut Parked, done: &mut Vec<Completion>) {
        if let Err(e) = self.arm(fd, parked) {
            for p in parked.read.drain(..).chain(parked.write.drain(..)) {
                done.push(p.complete(Err(io::Error::new(e.kind(), e.to_string()))));
            }
        }
    }

    /// Retries the parked ops of one queue (the read queue if `read`) in order, up to the first
    /// that would block.
    fn run_queue(parked: &mut Parked, read: bool, done: &mut Vec<Completion>) {
        let q = if read { &mut parked.read } else { &mut parked.write };
        while let Some(front) = q.front_mut() {
            match try_op(front, &mut parked.ready, parked.drains) {
                Err(e) if e.kind() == ErrorKind::WouldBlock => return,
                res => {
                    let p = q.pop_front().expect("front exists");
                    done.push(p.complete(res));
                }
            }
        }
    }

    /// Runs an op on a descriptor's lane: at once if nothing is ahead of it and its direction
    /// may be ready, else parked; delivers what completes (and what fails with the lane).
    fn submit_on(&self, mut p: Pending, fd: RawSource, read: bool) {
        let mut guard = self.lock();
        let st = &mut *guard;
        if st.closed {
            drop(guard);
            return self.deliver_one(p.cancelled());
        }
        let Some(parked) = st.fds.get_or_insert_with(fd, Parked::default) else {
            drop(guard);
            return self.deliver_one(p.complete(Err(io::Error::from_raw_os_error(libc::EBADF))));
        };
        let q = if read { &mut parked.read } else { &mut parked.write };
        if q.is_empty() {
            match try_op(&mut p, &mut parked.ready, parked.drains) {
                Err(e) if e.kind() == ErrorKind::WouldBlock => {}
                res => {
                    drop(guard);
                    return self.deliver_one(p.complete(res));
                }
            }
        }
        let q = if read { &mut parked.read } else { &mut parked.write };
        q.push_back(p);
        let mut failed = Vec::new();
        self.arm_or_fail(fd, parked, &mut failed);
        drop(guard);
        if !failed.is_empty() {
            self.deliver(failed);
        }
    }

    /// Takes the op `id` out of where it waits (its lane's queue, or the timer heap);
    /// cancelling the head of a read queue tries the new head (see the module docs), whose
    /// completions go to `done` too.
    fn take(&self, st: &mut State, id: OpId, done: &mut Vec<Completion>) -> Option<Pending> {
        let seq = id.seq();
        let Some(Lane { fd, read }) = id.lane() else { return st.timers.cancel(seq) };
        let parked = st.fds.get_mut(fd)?;
        let q = if read { &mut parked.read } else { &mut parked.write };
        let at = q.iter().position(|p| p.id.seq() == seq)?;
        let p = q.remove(at)?;
        if at == 0 {
            if read {
                // The reads behind it waited for it, not for readiness: a head waiting for
                // priority data holds back a receive whose data is there, and the descriptor
                // was watched for the head's needs only. Try the new head once now. (A write
                // queue's ops all wait for writability, and a send behind a cancelled connect
                // must not run early.)
                parked.ready |= Interest::READABLE | Interest::PRIORITY;
                Self::run_queue(parked, true, done);
            }
            self.arm_or_fail(fd, parked, done); // for the new head
        }
        Some(p)
    }
}

impl driver::Driver for Driver {
    fn attach(&self, source: &OwnedSource, kind: HandleKind) -> io::Result<()> {
        if kind != HandleKind::File {
            let fd = std::os::fd::AsRawFd::as_raw_fd(source);
            fd::set_nonblocking(fd)?;
            self.lock().fds.insert(fd, Parked::new(kind == HandleKind::Stream));
        }
        Ok(())
    }

    fn detach(&self, fd: RawSource) {
        let mut st = self.lock();
        if let Some(parked) = st.fds.remove(fd) {
            // Ops hold their handle, so nothing is parked on a handle being dropped.
            if parked.registered {
                let _ = self.sel.deregister(fd);
            }
        }
    }

    fn submit(&self, p: Pending, _defer: bool) {
        match p.plan.route {
            Route::Now => self.deliver_one(p.complete(Ok(0))),
            Route::File => self.pool.run(p), // running at once: not cancellable
            Route::Timer(after) => {
                let mut st = self.lock();
                if st.closed {
                    drop(st);
                    return self.deliver_one(p.cancelled());
                }
                let earliest = st.timers.add(p, after);
                self.timing.store(true, Ordering::Relaxed);
                drop(st);
                if earliest {
                    let _ = self.sel.notify(); // the leader may be waiting past the new deadline
                }
            }
            Route::Lane(lane) => self.submit_on(p, lane.fd, lane.read),
        }
    }

    fn cancel(&self, id: OpId) -> io::Result<()> {
        let mut guard = self.lock();
        let mut done = Vec::new();
        let p = self.take(&mut guard, id, &mut done).ok_or_else(error::op_not_found)?;
        done.push(p.cancelled());
        drop(guard);
        self.deliver(done);
        Ok(())
    }

    fn close(&self) {
        let mut guard = self.lock();
        let st = &mut *guard;
        st.closed = true;
        let mut done: Vec<Completion> = st.timers.drain().map(Pending::cancelled).collect();
        for parked in st.fds.values_mut() {
            done.extend(parked.read.drain(..).chain(parked.write.drain(..)).map(Pending::cancelled));
        }
        drop(guard);
        self.deliver(done); // the queue is closed: they are dropped, buffers and all
    }

    fn poll(&self, timeout: Option<Duration>) -> io::Result<()> {
        let wait = match self.timing.load(Ordering::Relaxed) {
            true => self.lock().timers.bound(timeout),
            false => timeout,
        };
        let mut scratch = self.scratch.lock().unwrap_or_else(|p| p.into_inner());
        let Scratch { events, done } = &mut *scratch;
        events.clear();
        self.sel.select(events, 1024, wait)?;
        {
            let mut st = self.lock();
            let st = &mut *st;
            for ev in events.iter() {
                let fd = ev.token().0 as RawSource;
                let Some(parked) = st.fds.get_mut(fd) else { continue };
                if !self.edge {
                    parked.armed = None; // oneshot: the event disarmed it
                }
                parked.ready |= ready_from(ev);
                if ev.is_read_closed() || ev.is_error() {
                    parked.drains = false;
                }
                Self::run_queue(parked, true, done);
                Self::run_queue(parked, false, done);
                self.arm_or_fail(fd, parked, done);
            }
            if self.timing.load(Ordering::Relaxed) {
                st.timers.expire(|p| done.push(p.complete(Ok(0))));
                self.timing.store(!st.timers.is_empty(), Ordering::Relaxed);
            }
        }
        if !done.is_empty() {
            self.deliver(done.drain(..)); // the buffer keeps its room for the next poll
        }
        Ok(())
    }

    fn notify(&self) -> io::Result<()> {
        self.sel.notify()
    }
}
