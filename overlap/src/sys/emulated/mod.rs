//! Completions emulated over readiness: the seed-2 port of an IOCP server to epoll, over any
//! [`Selector`](super::Selector) (epoll, poll, kqueue).
//!
//! An op is first tried at once as a non-blocking system call. Only if that would block is it
//! *parked* on its descriptor — in the read queue (accept, recv, read, readiness waits) or the
//! write queue (connect, send, write) — and the descriptor armed for readiness, oneshot. When
//! the selector reports the descriptor, the parked ops of both queues are retried in submission
//! order, each queue stopping at the first that would block; what completed is pushed to the
//! port's queue, and the descriptor is re-armed if anything is still parked. An op is never
//! tried while an older one waits in its queue, so ops on one socket complete in order.
//!
//! Timeouts sit in a heap whose earliest deadline bounds the selector wait. Regular files
//! (which epoll cannot watch, and which never "would block") run on a small thread pool.
//!
//! State of one op: `submitted → completed` (at once), or `submitted → parked → completed`
//! (readiness), or `parked → cancelled` (`cancel` takes it out of its queue or the heap and
//! completes it with the cancelled error). Every op completes exactly once: it is removed from
//! where it waits, under the driver's lock, by whichever of readiness and cancel comes first.

mod pool;

use std::collections::{HashMap, VecDeque};
use std::io::{self, ErrorKind};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use super::unix::ops;
use super::{AnySelector, RawSource, Timers};
use crate::op::Desc;
use crate::port::{Pending, Queue};
use crate::{error, Event, Interest, OpId, Token, Trigger};

/// Where an op in flight waits.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Place {
    Read(RawSource),
    Write(RawSource),
    Timer,
}

#[derive(Default)]
struct Parked {
    read: VecDeque<Pending>,
    write: VecDeque<Pending>,
    /// Registered with the selector (possibly disarmed).
    registered: bool,
    /// The interest it is armed for, if armed.
    armed: Option<Interest>,
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

impl Parked {
    fn wanted(&mut self) -> Option<Interest> {
        let want = need(self.read.front_mut(), Interest::READABLE) | need(self.write.front_mut(), Interest::WRITABLE);
        (!want.is_empty()).then_some(want)
    }
}

#[derive(Default)]
struct State {
    fds: HashMap<RawSource, Parked>,
    timers: Timers,
    places: HashMap<OpId, Place>,
}

/// The emulated completion driver.
pub(crate) struct Driver {
    sel: Arc<AnySelector>,
    queue: Arc<Queue>,
    state: Mutex<State>,
    pool: pool::Pool,
    /// The leader's event buffer.
    events: Mutex<Vec<Event>>,
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
        let sel = Arc::new(sel);
        let pool = pool::Pool::new(queue.clone(), sel.clone());
        Driver { sel, queue, state: Mutex::default(), pool, events: Mutex::default() }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Queues completions, waking the leader if no follower can take them.
    fn deliver(&self, done: Vec<crate::Completion>) {
        if self.queue.push(done) {
            let _ = self.sel.notify();
        }
    }

    /// Arms `fd` for what its parked ops wait for (oneshot), if it is not armed for it yet.
    fn arm(&self, fd: RawSource, parked: &mut Parked) -> io::Result<()> {
        let Some(want) = parked.wanted() else { return Ok(()) };
        if parked.armed.is_some_and(|armed| armed.add(want) == armed) {
            return Ok(()); // already armed for all of it
        }
        let token = Token(fd as usize);
        if parked.registered {
            self.sel.reregister(fd, token, want, Trigger::Oneshot)?;
        } else {
            self.sel.register(fd, token, want, Trigger::Oneshot)?;
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
        places: &mut HashMap<OpId, Place>,
        done: &mut Vec<crate::Completion>,
    ) {
        if let Err(e) = self.arm(fd, parked) {
            for p in parked.read.drain(..).chain(parked.write.drain(..)) {
                places.remove(&p.id);
                done.push(p.complete(Err(io::Error::new(e.kind(), e.to_string()))));
            }
        }
    }

    /// Retries the parked ops of one queue in order, up to the first that would block.
    fn run_queue(q: &mut VecDeque<Pending>, places: &mut HashMap<OpId, Place>, done: &mut Vec<crate::Completion>) {
        while let Some(front) = q.front_mut() {
            match ops::attempt(&mut *front.op) {
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
            super::set_nonblocking(std::os::fd::AsRawFd::as_raw_fd(source))?;
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
        let mut done = Vec::new();
        match route(&mut p) {
            Route::Now => done.push(p.complete(Ok(0))),
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
                let mut st = self.lock();
                let st = &mut *st;
                let parked = st.fds.entry(fd).or_default();
                let q = if read { &mut parked.read } else { &mut parked.write };
                let res = if q.is_empty() { ops::attempt(&mut *p.op) } else { Err(ErrorKind::WouldBlock.into()) };
                match res {
                    Err(e) if e.kind() == ErrorKind::WouldBlock => {
                        st.places.insert(p.id, if read { Place::Read(fd) } else { Place::Write(fd) });
                        q.push_back(p);
                        self.arm_or_fail(fd, parked, &mut st.places, &mut done);
                    }
                    res => done.push(p.complete(res)),
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
        let p = match st.places.get(&id).copied() {
            None => return Err(error::op_not_found()),
            Some(Place::Timer) => st.timers.cancel(id),
            Some(Place::Read(fd)) | Some(Place::Write(fd)) => st.fds.get_mut(&fd).and_then(|parked| {
                let q = if st.places[&id] == Place::Read(fd) { &mut parked.read } else { &mut parked.write };
                q.iter().position(|p| p.id == id).and_then(|i| q.remove(i))
            }),
        };
        st.places.remove(&id);
        drop(guard);
        let p = p.ok_or_else(error::op_not_found)?;
        self.deliver(vec![p.cancelled()]);
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
                parked.armed = None; // oneshot: the event disarmed it
                Self::run_queue(&mut parked.read, &mut st.places, &mut done);
                Self::run_queue(&mut parked.write, &mut st.places, &mut done);
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
