//! The completion queue every waiter of a port shares, and who drives the kernel.
//!
//! Many threads may wait on one port (the seed's pool of 2 × CPU workers). Finished ops go to
//! one FIFO queue; each is taken by exactly one waiter. At most one waiter at a time — the
//! *leader* — drives the driver (`epoll_wait`, `io_uring_enter`); the others — *followers* —
//! sleep on a condition variable, so N waiters never make N kernel waits. When the leader's
//! driver pushes completions, a follower is woken to take them while the leader goes on; when
//! the leader returns, a follower may become the next leader.
//!
//! A completion pushed from outside the leader (a post, an op that completed at submission, the
//! file thread pool) wakes a follower; if there is none, the caller must wake the leader out of
//! the kernel (`push` returns true for that).
//!
//! **Concurrency limit** (IOCP's `NumberOfConcurrentThreads`): a thread that took completions
//! holds a *slot* until it waits again; while `limit` threads hold slots, completions stay
//! queued. A thread that stops waiting keeps its slot, as on Windows until it exits.

use std::collections::VecDeque;
use std::io;
use std::thread::ThreadId;
use std::time::{Duration, Instant};

use super::completion::Completion;
use crate::sync::{Condvar, Mutex, MutexGuard};

#[derive(Default)]
struct State {
    ready: VecDeque<Completion>,
    /// The thread driving the driver, if any.
    leader: Option<ThreadId>,
    /// Followers asleep on the condition variable.
    idle: usize,
    /// Threads holding a concurrency slot.
    active: Vec<ThreadId>,
}

/// The shared completion queue (see the module docs).
pub(crate) struct Queue {
    state: Mutex<State>,
    cond: Condvar,
    limit: usize,
}

fn current() -> ThreadId {
    std::thread::current().id()
}

impl Queue {
    pub(crate) fn new(limit: usize) -> Queue {
        Queue { state: Mutex::new(State::default()), cond: Condvar::new(), limit: limit.max(1) }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Queues finished ops. Returns true if the caller must wake the leader out of the kernel
    /// (a leader is blocked, it is not this thread, and no follower is there to take them).
    pub(crate) fn push(&self, done: impl IntoIterator<Item = Completion>) -> bool {
        let mut st = self.lock();
        let before = st.ready.len();
        st.ready.extend(done);
        if st.ready.len() == before {
            return false;
        }
        if st.idle > 0 {
            self.cond.notify_one();
            return false;
        }
        st.leader.is_some_and(|l| l != current())
    }

    /// Waits for up to `max` completions (at least one unless `timeout` passes first), driving
    /// the kernel with `drive(timeout)` when no other thread does.
    pub(crate) fn wait(
        &self,
        out: &mut Vec<Completion>,
        max: usize,
        timeout: Option<Duration>,
        drive: impl Fn(Option<Duration>) -> io::Result<()>,
    ) -> io::Result<usize> {
        let me = current();
        let start = Instant::now();
        let deadline = timeout.and_then(|t| start.checked_add(t));
        let forever = timeout.is_some() && deadline.is_none(); // too large for an Instant
        let mut st = self.lock();
        if let Some(i) = st.active.iter().position(|t| *t == me) {
            st.active.swap_remove(i);
            self.cond.notify_one(); // a waiter may have been held back by the limit
        }
        loop {
            if !st.ready.is_empty() && st.active.len() < self.limit {
                let n = max.min(st.ready.len());
                out.extend(st.ready.drain(..n));
                st.active.push(me);
                if !st.ready.is_empty() && st.idle > 0 {
                    self.cond.notify_one();
                }
                return Ok(n);
            }
            let left = match deadline {
                None if timeout.is_none() || forever => None,
                None => Some(Duration::ZERO),
                Some(d) => Some(d.saturating_duration_since(Instant::now())),
            };
            if left == Some(Duration::ZERO) && timeout != Some(Duration::ZERO) {
                return Ok(0);
            }
            if st.leader.is_none() && st.ready.is_empty() {
                st.leader = Some(me);
                drop(st);
                let res = drive(left);
                st = self.lock();
                st.leader = None;
                if st.idle > 0 {
                    self.cond.notify_one(); // the next leader, or a taker of what was pushed
                }
                res?;
                if timeout == Some(Duration::ZERO) && st.ready.is_empty() {
                    return Ok(0);
                }
                continue;
            }
            if timeout == Some(Duration::ZERO) {
                return Ok(0);
            }
            st.idle += 1;
            st = match left {
                None => self.cond.wait(st).unwrap_or_else(|p| p.into_inner()),
                Some(l) => self.cond.wait_timeout(st, l).unwrap_or_else(|p| p.into_inner()).0,
            };
            st.idle -= 1;
        }
    }

    /// Everything still queued (for a port being dropped).
    pub(crate) fn drain(&self) -> Vec<Completion> {
        self.lock().ready.drain(..).collect()
    }
}
