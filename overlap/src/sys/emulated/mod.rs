//! Completions emulated over readiness: the seed-2 port of an IOCP server to epoll, over any
//! [`Selector`](super::Selector) (epoll, poll, kqueue).
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
//! State of one op: `submitted → completed` (at once), or `submitted → parked → completed`
//! (readiness), or `parked → cancelled` (`cancel` takes it out of its queue or the heap and
//! completes it with the cancelled error; cancelling the head of a read queue tries the new
//! head at once, since the descriptor was watched for the cancelled op's needs only). Every op
//! completes exactly once: it is removed from where it waits, under the driver's lock, by
//! whichever of readiness and cancel comes first.

mod pool;

use crate::int_map::IntMap;
use std::collections::VecDeque;
use std::io::{self, ErrorKind};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use super::unix::ops;
use super::{AnySelector, RawSource, Timers};
use crate::op::Desc;
use crate::port::{Pending, Queue};
use crate::{error, Interest, OpId, ReadyEvent, Token, Trigger};

/// Where an op in flight waits.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Place {
    Read(RawSource),
    Write(RawSource),
    Timer,
}

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

/// What the op at the head of a queue waits for: its direction, or a readiness wait's own
/// interest (only heads can run: a queue stops at its first op that would block).
fn need(head: Option<&mut Pending>, direction: Interest) -> Interest {
    match head.map(|p| p.op.describe()) {
        None => Interest::NONE,
        Some(Desc::PollReady { interest, .. }) => interest,
        Some(_) => direction,
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

/// One non-blocking attempt at `p` (from the read queue if `read`), unless `ready` says it
/// would block; updates `ready` with what the attempt showed.
fn try_op(p: &mut Pending, read: bool, ready: &mut Interest, drains: bool) -> io::Result<usize> {
    let direction = need(Some(p), if read { Interest::READABLE } else { Interest::WRITABLE });
    if (*ready & direction).is_empty() {
        return Err(ErrorKind::WouldBlock.into());
    }
    let asked = match p.op.describe() {
        Desc::Recv { buf, .. } | Desc::Read { buf, .. } => buf.buf_capacity() - buf.buf_len(),
        _ => 0,
    };
    let res = ops::attempt(&mut *p.op);
    match &res {
        Err(e) if e.kind() == ErrorKind::WouldBlock => *ready = ready.remove(direction),
        // Not 0: end of stream stays readable, and no edge would come for it.
        Ok(n) if drains && *n > 0 && *n < asked => *ready = ready.remove(Interest::READABLE),
        _ => {}
    }
    res
}

impl Parked {
    fn new(drains: bool) -> Parked {
        let ready = Interest::READABLE | Interest::WRITABLE | Interest::PRIORITY;
        Parked { read: VecDeque::new(), write: VecDeque::new(), registered: false, armed: None, ready, drains }
    }

    fn wanted(&mut self) -> Option<Interest> {
        let want = need(self.read.front_mut(), Interest::READABLE) | need(self.write.front_mut(), Interest::WRITABLE);
        (!want.is_empty()).then_some(want)
    }
}

#[derive(Default)]
struct State {
    fds: IntMap<RawSource, Parked>,
    timers: Timers,
    places: IntMap<OpId, Place>,
}

/// The emulated completion driver.
pub(crate) struct Driver {
    sel: Arc<AnySelector>,
    /// Edge-triggered, registered once (else oneshot, re-armed per wait).
    edge: bool,
    queue: Arc<Queue>,
    state: Mutex<State>,
    pool: pool::Pool,
    /// The leader's event buffer.
    events: Mutex<Vec<ReadyEvent>>,
}

/// How an op runs here.
enum Route {
    Now,
    Timer(Duration),
    Pool,
    /// A descriptor, and the read (true) or write queue.
    Fd(RawSource, bool),
}

fn route(p: &mut Pending) -> Route {
    let regular = p.op.handle().is_some_and(|h| h.inner.regular_file);
    match p.op.describe() {
        Desc::Nop => Route::Now,
        Desc::Timeout { after } => Route::Timer(after),
        Desc::Read { .. } | Desc::Write { .. } if regular => Route::Pool,
        Desc::Accept { fd, .. } | Desc::Recv { fd, .. } | Desc::RecvFrom { fd, .. } | Desc::Read { fd, .. } => {
            Route::Fd(fd, true)
        }
        Desc::PollReady { fd, interest } => Route::Fd(fd, interest.is_readable() || interest.is_priority()),
        Desc::Connect { fd, .. }
        | Desc::Send { fd, .. }
        | Desc::SendVectored { fd, .. }
        | Desc::SendTo { fd, .. }
        | Desc::Write { fd, .. } => Route::Fd(fd, false),
    }
}

impl Driver {
    pub(crate) fn new(sel: AnySelector, queue: Arc<Queue>) -> Driver {
        let edge = sel.edge_triggers();
        let sel = Arc::new(sel);
        let pool = pool::Pool::new(queue.clone(), sel.clone());
        Driver { sel, edge, queue, state: Mutex::default(), pool, events: Mutex::default() }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Queues completions, waking the leader if no follower can take them.
    fn deliver(&self, done: impl IntoIterator<Item = crate::Completion>) {
        if self.queue.push(done) {
            let _ = self.sel.notify();
        }
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
    fn arm_or_fail(
        &self,
        fd: RawSource,
        parked: &mut Parked,
        places: &mut IntMap<OpId, Place>,
        done: &mut Vec<crate::Completion>,
    ) {
        if let Err(e) = self.arm(fd, parked) {
            for p in parked.read.drain(..).chain(parked.write.drain(..)) {
                places.remove(&p.id);
                done.push(p.complete(Err(io::Error::new(e.kind(), e.to_string()))));
            }
        }
    }

    /// Retries the parked ops of one queue (the read queue if `read`) in order, up to the first
    /// that would block.
    fn run_queue(parked: &mut Parked, read: bool, places: &mut IntMap<OpId, Place>, done: &mut Vec<crate::Completion>) {
        let q = if read { &mut parked.read } else { &mut parked.write };
        while let Some(front) = q.front_mut() {
            match try_op(front, read, &mut parked.ready, parked.drains) {
                Err(e) if e.kind() == ErrorKind::WouldBlock => return,
                res => {
                    let p = q.pop_front().expect("front exists");
                    places.remove(&p.id);
                    done.push(p.complete(res));
                }
            }
        }
    }
}

impl super::Driver for Driver {
    fn attach(&self, source: &super::OwnedSource, regular_file: bool) -> io::Result<()> {
        if !regular_file {
            let fd = std::os::fd::AsRawFd::as_raw_fd(source);
            super::set_nonblocking(fd)?;
            self.lock().fds.insert(fd, Parked::new(super::drains_on_short_read(fd)));
        }
        Ok(())
    }

    fn detach(&self, fd: RawSource) {
        let mut st = self.lock();
        if let Some(parked) = st.fds.remove(&fd) {
            // Ops hold their handle, so nothing is parked on a handle being dropped.
            if parked.registered {
                let _ = self.sel.deregister(fd);
            }
        }
    }

    fn submit(&self, mut p: Pending, _defer: bool) {
        let mut done = Vec::new(); // only for ops failed with their descriptor (no allocation else)
        match route(&mut p) {
            Route::Now => return self.deliver(Some(p.complete(Ok(0)))),
            Route::Pool => self.pool.run(p), // running at once: not cancellable
            Route::Timer(after) => {
                let mut st = self.lock();
                st.places.insert(p.id, Place::Timer);
                let earliest = st.timers.add(p, after);
                drop(st);
                if earliest {
                    let _ = self.sel.notify(); // the leader may be waiting past the new deadline
                }
            }
            Route::Fd(fd, read) => {
                let mut guard = self.lock();
                let st = &mut *guard;
                let parked = st.fds.entry(fd).or_default();
                let behind = if read { !parked.read.is_empty() } else { !parked.write.is_empty() };
                let res = match behind {
                    true => Err(ErrorKind::WouldBlock.into()),
                    false => try_op(&mut p, read, &mut parked.ready, parked.drains),
                };
                match res {
                    Err(e) if e.kind() == ErrorKind::WouldBlock => {
                        st.places.insert(p.id, if read { Place::Read(fd) } else { Place::Write(fd) });
                        if read {
                            parked.read.push_back(p)
                        } else {
                            parked.write.push_back(p)
                        }
                        self.arm_or_fail(fd, parked, &mut st.places, &mut done);
                    }
                    res => {
                        drop(guard);
                        return self.deliver(Some(p.complete(res)));
                    }
                }
            }
        }
        if !done.is_empty() {
            self.deliver(done);
        }
    }

    fn cancel(&self, id: OpId) -> io::Result<()> {
        let mut guard = self.lock();
        let st = &mut *guard;
        let mut done = Vec::new();
        let p = match st.places.remove(&id) {
            None => return Err(error::op_not_found()),
            Some(Place::Timer) => st.timers.cancel(id),
            Some(place @ (Place::Read(fd) | Place::Write(fd))) => st.fds.get_mut(&fd).and_then(|parked| {
                let read = place == Place::Read(fd);
                let q = if read { &mut parked.read } else { &mut parked.write };
                let at = q.iter().position(|p| p.id == id)?;
                let p = q.remove(at)?;
                if at == 0 {
                    done.push(p.cancelled());
                    if read {
                        // The reads behind it waited for it, not for readiness: a head waiting
                        // for priority data holds back a receive whose data is there, and the
                        // descriptor was watched for the head's needs only. Try the new head
                        // once now. (A write queue's ops all wait for writability, and a send
                        // behind a cancelled connect must not run early.)
                        parked.ready |= Interest::READABLE | Interest::PRIORITY;
                        Self::run_queue(parked, read, &mut st.places, &mut done);
                    }
                    self.arm_or_fail(fd, parked, &mut st.places, &mut done); // for the new head
                    return None;
                }
                Some(p)
            }),
        };
        drop(guard);
        if let Some(p) = p {
            done.push(p.cancelled());
        } else if done.is_empty() {
            return Err(error::op_not_found());
        }
        self.deliver(done);
        Ok(())
    }

    fn poll(&self, timeout: Option<Duration>) -> io::Result<()> {
        let wait = self.lock().timers.bound(timeout);
        let mut events = self.events.lock().unwrap_or_else(|p| p.into_inner());
        events.clear();
        self.sel.select(&mut events, 1024, wait)?;
        let mut done = Vec::new();
        {
            let mut st = self.lock();
            let st = &mut *st;
            for ev in events.iter() {
                let fd = ev.token().0 as RawSource;
                let Some(parked) = st.fds.get_mut(&fd) else { continue };
                if !self.edge {
                    parked.armed = None; // oneshot: the event disarmed it
                }
                parked.ready |= ready_from(ev);
                if ev.is_read_closed() || ev.is_error() {
                    parked.drains = false;
                }
                Self::run_queue(parked, true, &mut st.places, &mut done);
                Self::run_queue(parked, false, &mut st.places, &mut done);
                self.arm_or_fail(fd, parked, &mut st.places, &mut done);
            }
            let places = &mut st.places;
            st.timers.expire(|p| {
                places.remove(&p.id);
                done.push(p.complete(Ok(0)));
            });
        }
        drop(events);
        if !done.is_empty() {
            self.deliver(done);
        }
        Ok(())
    }

    fn notify(&self) -> io::Result<()> {
        self.sel.notify()
    }
}
