//! The completion queue every waiter of a port shares, and who drives the kernel.
//!
//! Many threads may wait on one port (the seed's pool of 2 × CPU workers). Finished ops go to
//! one FIFO queue; each is taken by exactly one waiter. At most one waiter at a time — the
//! *leader* — drives the driver (`epoll_wait`, `io_uring_enter`); the others — *followers* —
//! sleep on a condition variable, so N waiters never make N kernel waits. When the leader's
//! driver pushes completions, a follower is woken to take them while the leader goes on; when
//! the leader returns, a follower may become the next leader.
//!
//! **Hand-off rule.** Whoever leaves the lock with completions still queued (a push, a waiter
//! that took only part of them), or leaves the port without a leader, hands off: it wakes one
//! sleeping follower, *claiming* it (`idle` counts only followers nobody has woken yet, so a
//! wake-up is never spent on a thread that is already coming); if there is none, and a leader
//! sits in the kernel, the leader is woken out of the kernel (`push` returns true for that, and
//! `wait` calls its `wake`).
//!
//! **Closing** (IOCP's `CloseHandle` on the port): every waiter, asleep or in the kernel, and
//! every later wait returns the closed error; completions still queued, and any pushed later,
//! are dropped (with their buffers).
//!
//! **Concurrency limit** (IOCP's `NumberOfConcurrentThreads`): a thread that took completions
//! holds a *slot* until it waits again or exits (a thread-local guard gives the slot back when
//! the thread ends, as Windows does); while `limit` threads hold slots, completions stay queued.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::io;
use std::sync::{Arc, OnceLock, Weak};
use std::time::{Duration, Instant};

use super::completion::Completion;
use crate::sync::{current_thread, thread_local, Condvar, Mutex, MutexGuard, ThreadId};

#[cfg(all(test, loom))]
#[path = "loom_model.rs"]
mod loom_model;

#[derive(Default)]
struct State {
    ready: VecDeque<Completion>,
    /// The thread driving the driver, if any.
    leader: Option<ThreadId>,
    /// Followers asleep on the condition variable that nobody has woken yet.
    idle: usize,
    /// Followers woken (claimed) but not yet running.
    wakeups: usize,
    /// Threads holding a concurrency slot.
    active: Vec<ThreadId>,
    /// The port was closed.
    closed: bool,
}

/// The shared completion queue (see the module docs).
pub(crate) struct Queue {
    state: Mutex<State>,
    cond: Condvar,
    limit: usize,
    /// Only one thread ever waits (a single-thread port): no slots to keep.
    single: bool,
    /// Wakes a leader out of the kernel, for hand-offs made where no caller can (a thread
    /// exiting with a slot). Set once the driver exists.
    waker: OnceLock<Box<dyn Fn() + Send + Sync>>,
}

/// The queues in which the current thread holds a slot; gives them back when the thread ends.
struct Held {
    id: ThreadId,
    queues: Vec<Weak<Queue>>,
}

impl Drop for Held {
    fn drop(&mut self) {
        for q in self.queues.drain(..).filter_map(|w| w.upgrade()) {
            q.release(self.id);
        }
    }
}

#[cfg(not(loom))]
thread_local! {
    #[allow(clippy::missing_const_for_thread_local)] // it is const; clippy 1.96 misreads the macro
    static HELD: RefCell<Option<Held>> = const { RefCell::new(None) };
}
// Loom's `thread_local!` (which runs the destructor when a model thread ends) takes no
// `const { .. }` initializer.
#[cfg(loom)]
thread_local! {
    static HELD: RefCell<Option<Held>> = RefCell::new(None);
}

/// Remembers that this thread holds a slot in `q` (once per queue).
fn remember(q: &Arc<Queue>) {
    let _ = HELD.try_with(|h| {
        let mut h = h.borrow_mut();
        let held = h.get_or_insert_with(|| Held { id: current_thread(), queues: Vec::new() });
        let known = |w: &Weak<Queue>| std::ptr::eq(w.as_ptr(), Arc::as_ptr(q));
        if held.queues.last().is_some_and(known) {
            return; // the common case: this thread waits on one port, again
        }
        held.queues.retain(|w| w.strong_count() > 0);
        match held.queues.iter().position(known) {
            Some(i) => {
                let w = held.queues.remove(i);
                held.queues.push(w); // last, for the check above
            }
            None => held.queues.push(Arc::downgrade(q)),
        }
    });
}

impl Queue {
    /// A queue any number of threads wait on (the drivers' and the queue's own tests).
    #[cfg(test)]
    pub(crate) fn new(limit: usize) -> Queue {
        Queue::with_threads(limit, false)
    }

    /// A queue only one thread waits on (`single`), or any number (then at most `limit` of
    /// them hold slots at a time).
    pub(crate) fn with_threads(limit: usize, single: bool) -> Queue {
        let state = Mutex::new(State::default());
        Queue { state, cond: Condvar::new(), limit: limit.max(1), single, waker: OnceLock::new() }
    }

    /// Sets how to wake a leader out of the kernel (see `waker`).
    pub(crate) fn set_waker(&self, wake: impl Fn() + Send + Sync + 'static) {
        let _ = self.waker.set(Box::new(wake));
    }

    /// Gives back the slot of a thread that ended.
    fn release(&self, id: ThreadId) {
        let mut st = self.lock();
        let Some(i) = st.active.iter().position(|t| *t == id) else { return };
        st.active.swap_remove(i);
        if !st.ready.is_empty() && self.hand_off(&mut st, id) {
            drop(st);
            if let Some(wake) = self.waker.get() {
                wake();
            }
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Wakes one unclaimed follower; else says whether a leader in the kernel must be woken
    /// (`me` is the calling thread, passed in because `release` runs in a thread-local
    /// destructor, where `std::thread::current()` may no longer work).
    fn hand_off(&self, st: &mut State, me: ThreadId) -> bool {
        if st.idle > 0 {
            st.idle -= 1;
            st.wakeups += 1;
            self.cond.notify_one();
            return false;
        }
        st.leader.is_some_and(|l| l != me) && !st.ready.is_empty()
    }

    /// A waiter returns with nothing: if it leaves the port without a leader and nothing
    /// queued, a sleeping follower must take the kernel over (else ops the kernel finishes are
    /// reaped by nobody until the next push). With completions queued the waiter leaves, the
    /// concurrency limit holds them (it would have taken them), and whoever frees a slot hands
    /// off.
    fn leave_empty_handed(&self, st: &mut State, me: ThreadId) {
        if st.leader.is_none() && st.ready.is_empty() && self.hand_off(st, me) {
            unreachable!("no leader to wake");
        }
    }

    /// Queues finished ops. Returns true if the caller must wake the leader out of the kernel
    /// (a leader is blocked, it is not this thread, and no follower is there to take them).
    pub(crate) fn push(&self, done: impl IntoIterator<Item = Completion>) -> bool {
        let mut done = done.into_iter();
        let Some(first) = done.next() else { return false };
        let mut st = self.lock();
        if st.closed {
            drop(st);
            drop((first, done.collect::<Vec<_>>())); // buffers go, outside the lock
            return false;
        }
        st.ready.push_back(first);
        for c in done {
            st.ready.push_back(c);
        }
        if st.idle == 0 && st.leader.is_none() {
            return false; // nobody to hand off to (and no thread id needed to know it)
        }
        self.hand_off(&mut st, current_thread())
    }

    /// Closes the queue (see "Closing" in the module docs): wakes every sleeping waiter and
    /// drops what is queued. Returns true if a leader may be in the kernel (the caller wakes it)
    /// and false if the queue was closed already.
    pub(crate) fn close(&self) -> bool {
        let mut st = self.lock();
        if st.closed {
            return false;
        }
        st.closed = true;
        let dropped: Vec<Completion> = st.ready.drain(..).collect();
        let leader = st.leader.is_some();
        self.cond.notify_all();
        drop(st);
        drop(dropped);
        leader
    }

    /// Waits for up to `max` completions (at least one unless `timeout` passes first), driving
    /// the kernel with `drive(timeout)` when no other thread does, and waking a leader out of
    /// the kernel with `wake()` when the hand-off rule says so. `flush()` hands the kernel what
    /// submitters deferred: called whenever this thread leaves or sleeps without driving (a
    /// driving thread's own entry into the kernel takes them).
    pub(crate) fn wait(
        self: &Arc<Self>,
        out: &mut Vec<Completion>,
        max: usize,
        timeout: Option<Duration>,
        drive: impl Fn(Option<Duration>) -> io::Result<()>,
        wake: impl Fn() -> io::Result<()>,
        flush: impl Fn(),
    ) -> io::Result<usize> {
        let me = current_thread();
        let deadline = timeout.and_then(|t| Instant::now().checked_add(t)); // no clock for `None`
        let forever = timeout.is_some() && deadline.is_none(); // too large for an Instant
        let mut st = self.lock();
        if self.single {
            // One thread: the slot it holds limits nobody.
        } else if let Some(i) = st.active.iter().position(|t| *t == me) {
            st.active.swap_remove(i); // this thread is done with what it took last time
        }
        loop {
            if st.closed {
                return Err(crate::error::port_closed());
            }
            if !st.ready.is_empty() && st.active.len() < self.limit {
                let n = max.min(st.ready.len());
                out.reserve(n);
                for _ in 0..n {
                    out.push(st.ready.pop_front().expect("n is at most the length"));
                }
                if !self.single {
                    st.active.push(me);
                    remember(self);
                }
                let leftover = !st.ready.is_empty() || st.leader.is_none();
                let wake_leader = leftover && self.hand_off(&mut st, me);
                drop(st);
                flush();
                if wake_leader {
                    // The completions are taken: they are returned whatever happens. A leader
                    // that could not be woken finds the rest at its next return from the kernel.
                    let _ = wake();
                }
                return Ok(n);
            }
            let left = match deadline {
                None if timeout.is_none() || forever => None,
                None => Some(Duration::ZERO),
                Some(d) => Some(d.saturating_duration_since(Instant::now())),
            };
            let polled_once = timeout == Some(Duration::ZERO);
            if left == Some(Duration::ZERO) && !polled_once {
                // Timed out; perhaps just after leading, or woken (claimed) to lead.
                self.leave_empty_handed(&mut st, me);
                drop(st);
                flush();
                return Ok(0);
            }
            if st.leader.is_none() && st.ready.is_empty() {
                st.leader = Some(me);
                drop(st);
                let leading = Leading { queue: self, me };
                let res = drive(left);
                drop(leading);
                st = self.lock();
                st.leader = None;
                if let Err(e) = res {
                    if self.hand_off(&mut st, me) {
                        unreachable!("no leader after this one stepped down");
                    }
                    return Err(e);
                }
                if polled_once && st.ready.is_empty() {
                    self.leave_empty_handed(&mut st, me);
                    return Ok(0);
                }
                continue;
            }
            if polled_once {
                drop(st);
                flush();
                return Ok(0);
            }
            // Sleeping as a follower: what this thread deferred must not wait for the leader.
            drop(st);
            flush();
            st = self.lock();
            let can_take = !st.ready.is_empty() && st.active.len() < self.limit;
            let can_lead = st.leader.is_none() && st.ready.is_empty();
            if can_take || can_lead || st.closed {
                continue; // things changed while the lock was let go
            }
            st.idle += 1;
            st = match left {
                None => self.cond.wait(st).unwrap_or_else(|p| p.into_inner()),
                Some(l) => self.cond.wait_timeout(st, l).unwrap_or_else(|p| p.into_inner()).0,
            };
            // Woken by a hand-off (claimed: `wakeups`) or by the timeout / spuriously (`idle`).
            if st.wakeups > 0 {
                st.wakeups -= 1;
            } else {
                st.idle -= 1;
            }
        }
    }

    /// Everything still queued (for a port being dropped).
    pub(crate) fn drain(&self) -> Vec<Completion> {
        self.lock().ready.drain(..).collect()
    }
}

/// Steps a leader down if `drive` panics (a panicking leader would otherwise stay "in the
/// kernel" for ever, and every waiter would sleep as its follower).
struct Leading<'a> {
    queue: &'a Queue,
    me: ThreadId,
}

impl Drop for Leading<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            let mut st = self.queue.lock();
            st.leader = None;
            let _ = self.queue.hand_off(&mut st, self.me);
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use std::sync::mpsc;
    use std::sync::{Arc, Condvar, Mutex};
    use std::thread;
    use std::time::Duration;

    use super::Queue;
    use crate::contract::completion::{test_completion, Completion};

    /// A kernel wait for ops the kernel finishes: only a poll reaps them (see loom_model.rs).
    #[derive(Default)]
    struct Kernel {
        finished: Mutex<(bool, Vec<Completion>)>,
        cond: Condvar,
    }

    impl Kernel {
        fn poll(&self, queue: &Queue, timeout: Option<Duration>) -> std::io::Result<()> {
            let mut k = self.finished.lock().unwrap();
            if !k.0 && k.1.is_empty() {
                k = match timeout {
                    None => self.cond.wait_while(k, |k| !k.0 && k.1.is_empty()).unwrap(),
                    Some(t) => self.cond.wait_timeout_while(k, t, |k| !k.0 && k.1.is_empty()).unwrap().0,
                };
            }
            k.0 = false;
            let done = std::mem::take(&mut k.1);
            drop(k);
            if !done.is_empty() && queue.push(done) {
                self.notify()?;
            }
            Ok(())
        }

        fn notify(&self) -> std::io::Result<()> {
            self.finished.lock().unwrap().0 = true;
            self.cond.notify_all();
            Ok(())
        }
    }

    /// A leader whose timeout passes leaves the port without a leader: a follower asleep
    /// meanwhile must take the kernel over, or what the kernel finishes next is never reaped.
    #[test]
    fn timed_out_leader_hands_the_kernel_over() {
        let queue = Arc::new(Queue::new(4));
        let kernel = Arc::new(Kernel::default());
        // The leader's kernel wait lasts until the test lets it go, then to its timeout.
        let (go, gone) = mpsc::channel::<()>();
        let leader = {
            let queue = queue.clone();
            thread::spawn(move || {
                let mut out = Vec::new();
                let drive = |t: Option<Duration>| {
                    gone.recv().unwrap();
                    thread::sleep(t.expect("a timeout"));
                    Ok(())
                };
                queue.wait(&mut out, 1, Some(Duration::from_millis(20)), drive, || Ok(()), || ()).unwrap();
                out
            })
        };
        while queue.lock().leader.is_none() {
            thread::sleep(Duration::from_millis(1));
        }
        let (tx, rx) = mpsc::channel();
        let follower = {
            let (queue, kernel) = (queue.clone(), kernel.clone());
            thread::spawn(move || {
                let mut out = Vec::new();
                queue.wait(&mut out, 1, None, |t| kernel.poll(&queue, t), || kernel.notify(), || ()).unwrap();
                tx.send(out.len()).unwrap();
            })
        };
        while queue.lock().idle == 0 {
            thread::sleep(Duration::from_millis(1));
        }
        go.send(()).unwrap();
        assert!(leader.join().unwrap().is_empty(), "the leader timed out");
        let c = test_completion(1);
        kernel.finished.lock().unwrap().1.push(c);
        kernel.cond.notify_all();
        assert_eq!(rx.recv_timeout(Duration::from_secs(10)), Ok(1), "nobody reaped the kernel");
        follower.join().unwrap();
    }
}
