//! Loom models of the completion queue's cross-thread parts (`.ci/loom`).
//!
//! Every model runs the real [`Queue`] (its mutex, condition variable, thread ids and
//! thread-local slot guard are loom's under `cfg(loom)`, see `crate::sync`) against a mock
//! kernel: [`Kernel::poll`] is the `drive` closure and [`Kernel::notify`] the `wake` one, like
//! the emulated driver's `poll` and `notify`. The mock never returns from a blocking poll
//! spuriously, so a lost wake-up is a thread blocked for ever, which loom reports as a
//! deadlock. Loom has no clock: waiters use `timeout = None` (block) or `Some(ZERO)` (poll).
//!
//! Run with `RUSTFLAGS="--cfg loom" cargo test -p overlap --lib --release port::queue::loom_model`
//! (`.ci/loom` does, with `LOOM_MAX_PREEMPTIONS=2`).

use std::collections::{HashMap, VecDeque};
use std::io;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use loom::sync::{Condvar, Mutex};
use loom::thread;

use super::Queue;
use crate::contract::completion::{test_pending, Completion, OpId, Pending};

/// Explores `model` with loom, under the preemption bound `LOOM_MAX_PREEMPTIONS` if set, else
/// `bound`, and prints how many interleavings that took (see them with `--nocapture`).
fn check(bound: usize, model: impl Fn() + Sync + Send + 'static) {
    let mut b = loom::model::Builder::new();
    if b.preemption_bound.is_none() {
        b.preemption_bound = Some(bound);
    }
    let bound = b.preemption_bound;
    let runs = Arc::new(AtomicUsize::new(0));
    let counted = runs.clone();
    let start = std::time::Instant::now();
    b.check(move || {
        counted.fetch_add(1, Ordering::Relaxed);
        model();
    });
    let name = std::thread::current().name().unwrap_or("model").to_owned();
    println!(
        "{name}: {} interleavings, preemption bound {bound:?}, {:.2?}",
        runs.load(Ordering::Relaxed),
        start.elapsed()
    );
}

fn pending(id: u64) -> Pending {
    test_pending(id)
}

fn completion(id: u64) -> Completion {
    pending(id).complete(Ok(0))
}

fn ids(cs: &[Completion]) -> Vec<u64> {
    cs.iter().map(|c| c.id().seq()).collect()
}

/// A kernel wait (`epoll_wait` with its waker): blocks until notified or until an op the
/// kernel finished is there to reap; notifications are sticky, like an eventfd's.
#[derive(Default)]
struct Kernel {
    st: Mutex<KernelState>,
    cond: Condvar,
}

#[derive(Default)]
struct KernelState {
    notified: bool,
    /// Ops the kernel finished that no poll has reaped yet.
    finished: Vec<Completion>,
}

impl Kernel {
    /// The `drive` closure: reaps what the kernel finished and pushes it to the queue (like
    /// `Driver::poll` then `deliver`), blocking first when `timeout` is `None`.
    fn poll(&self, queue: &Queue, timeout: Option<Duration>) -> io::Result<()> {
        assert!(matches!(timeout, None | Some(Duration::ZERO)), "loom has no clock");
        let mut k = self.st.lock().unwrap();
        while timeout.is_none() && !k.notified && k.finished.is_empty() {
            k = self.cond.wait(k).unwrap();
        }
        k.notified = false;
        let done = std::mem::take(&mut k.finished);
        drop(k);
        if !done.is_empty() && queue.push(done) {
            self.notify()?;
        }
        Ok(())
    }

    /// The `wake` closure (and the queue's waker): wakes a poll, or the next one.
    fn notify(&self) -> io::Result<()> {
        self.st.lock().unwrap().notified = true;
        self.cond.notify_all();
        Ok(())
    }

    /// The kernel finishes an op (a socket became ready): the next poll reaps it.
    fn finish(&self, c: Completion) {
        self.st.lock().unwrap().finished.push(c);
        self.cond.notify_all();
    }
}

/// A queue and its mock kernel, as a port holds them.
struct Port {
    queue: Arc<Queue>,
    kernel: Arc<Kernel>,
}

impl Port {
    fn new(limit: usize) -> Arc<Port> {
        let queue = Arc::new(Queue::new(limit));
        let kernel = Arc::new(Kernel::default());
        let k = Arc::downgrade(&kernel);
        queue.set_waker(move || {
            if let Some(k) = k.upgrade() {
                let _ = k.notify();
            }
        });
        Arc::new(Port { queue, kernel })
    }

    /// `CompletionPort::wait_many`.
    fn wait(&self, max: usize, timeout: Option<Duration>) -> Vec<Completion> {
        let mut out = Vec::new();
        let n = self
            .queue
            .wait(&mut out, max, timeout, |t| self.kernel.poll(&self.queue, t), || self.kernel.notify(), || ())
            .expect("the mock kernel does not fail");
        assert_eq!(n, out.len());
        assert!(n <= max);
        if timeout.is_none() {
            assert!(n > 0, "a wait without timeout returned nothing");
        }
        out
    }

    /// `CompletionPort::post` (and any `deliver` from outside the leader).
    fn post(&self, cs: Vec<Completion>) {
        if self.queue.push(cs) {
            self.kernel.notify().unwrap();
        }
    }

    /// What nobody took: still queued, or finished in the kernel and not reaped yet.
    fn left(&self) -> Vec<u64> {
        let mut left = ids(&self.queue.drain());
        left.extend(ids(&std::mem::take(&mut self.kernel.st.lock().unwrap().finished)));
        left
    }
}

impl Port {
    /// `CompletionPort::close`: closes the queue and wakes a leader out of the kernel.
    fn close(&self) {
        if self.queue.close() {
            self.kernel.notify().unwrap();
        }
    }

    /// A wait that may find the port closed: its completions, or `None` for the closed error.
    fn wait_or_closed(&self, timeout: Option<Duration>) -> Option<Vec<Completion>> {
        let mut out = Vec::new();
        match self.queue.wait(
            &mut out,
            1,
            timeout,
            |t| self.kernel.poll(&self.queue, t),
            || self.kernel.notify(),
            || (),
        ) {
            Ok(_) => Some(out),
            Err(e) => {
                assert_eq!(e.kind(), io::ErrorKind::BrokenPipe, "{e}");
                assert!(out.is_empty());
                None
            }
        }
    }
}

/// A latch: `arrive` blocks until `n` threads have arrived. Waiters that arrive after taking
/// their completions keep their slots and stay off the port, so a hand-off they owe is not
/// made for them by the slot release of a thread that ends.
struct Latch {
    arrived: Mutex<usize>,
    cond: Condvar,
    n: usize,
}

impl Latch {
    fn new(n: usize) -> Arc<Latch> {
        Arc::new(Latch { arrived: Mutex::new(0), cond: Condvar::new(), n })
    }

    fn arrive(&self) {
        let mut a = self.arrived.lock().unwrap();
        *a += 1;
        self.cond.notify_all();
        while *a < self.n {
            a = self.cond.wait(a).unwrap();
        }
    }
}

/// Sorted ids of everything taken and left, which must be each of `expected` exactly once.
fn assert_exactly_once(mut got: Vec<u64>, expected: &[u64]) {
    got.sort_unstable();
    assert_eq!(got, expected, "a completion was lost or delivered twice");
}

/// (a) Exactly-once delivery: two waiters each wait for one completion while a third thread
/// posts two, one at a time. Both waiters return (no lost wake-up, whether a waiter is the
/// leader in the kernel or a follower when a post lands) and each id is delivered once.
#[test]
fn exactly_once_two_waiters_two_posts() {
    check(2, || {
        let port = Port::new(4);
        let waiters: Vec<_> = (0..2)
            .map(|_| {
                let port = port.clone();
                thread::spawn(move || ids(&port.wait(1, None)))
            })
            .collect();
        port.post(vec![completion(1)]);
        port.post(vec![completion(2)]);
        let mut got: Vec<u64> = waiters.into_iter().flat_map(|w| w.join().unwrap()).collect();
        got.extend(port.left());
        assert_exactly_once(got, &[1, 2]);
    });
}

/// (a) Exactly-once delivery to three waiters of a batch of three posted while they wait: a
/// push wakes only one, so a waiter that takes one of a batch must hand the rest off. The
/// waiters wait for each other before they end (see [`Latch`]).
#[test]
fn exactly_once_three_waiters_one_batch() {
    check(2, || {
        let port = Port::new(4);
        let latch = Latch::new(3);
        let waiters: Vec<_> = (0..3)
            .map(|_| {
                let port = port.clone();
                let latch = latch.clone();
                thread::spawn(move || {
                    let got = ids(&port.wait(1, None));
                    latch.arrive();
                    got
                })
            })
            .collect();
        port.post(vec![completion(1), completion(2), completion(3)]);
        let mut got: Vec<u64> = waiters.into_iter().flat_map(|w| w.join().unwrap()).collect();
        got.extend(port.left());
        assert_exactly_once(got, &[1, 2, 3]);
    });
}

/// (a') Exactly-once delivery of a batch the kernel finished: the leader's poll pushes both,
/// takes one (`max = 1`) and must hand the other off to the follower.
#[test]
fn exactly_once_kernel_batch_handed_off() {
    check(2, || {
        let port = Port::new(4);
        let waiters: Vec<_> = (0..2)
            .map(|_| {
                let port = port.clone();
                thread::spawn(move || ids(&port.wait(1, None)))
            })
            .collect();
        port.kernel.finish(completion(1));
        port.kernel.finish(completion(2));
        let mut got: Vec<u64> = waiters.into_iter().flat_map(|w| w.join().unwrap()).collect();
        got.extend(port.left());
        assert_exactly_once(got, &[1, 2]);
    });
}

/// (a) Leadership handed over: the leader's poll delivers one op (pushed from inside `drive`
/// once the other waiter sleeps as a follower), the leader takes it and leaves the port with
/// no leader; the follower must be woken to lead (by the push's hand-off or the taker's), for
/// the second op is reaped only by a kernel poll. Both waiters stay (see [`Latch`]).
#[test]
fn exactly_once_leadership_handed_over() {
    check(2, || {
        let port = Port::new(4);
        let latch = Latch::new(2);
        let first = Arc::new(Mutex::new(true));
        let waiters: Vec<_> = (0..2)
            .map(|_| {
                let port = port.clone();
                let latch = latch.clone();
                let first = first.clone();
                thread::spawn(move || {
                    let drive = |t| {
                        if !std::mem::take(&mut *first.lock().unwrap()) {
                            return port.kernel.poll(&port.queue, t);
                        }
                        while port.queue.lock().idle == 0 {
                            thread::yield_now(); // until the other waiter sleeps as a follower
                        }
                        assert!(!port.queue.push([completion(1)]), "the leader pushed");
                        Ok(())
                    };
                    let mut out = Vec::new();
                    port.queue.wait(&mut out, 1, None, drive, || port.kernel.notify(), || ()).unwrap();
                    latch.arrive();
                    ids(&out)
                })
            })
            .collect();
        port.kernel.finish(completion(2));
        let mut got: Vec<u64> = waiters.into_iter().flat_map(|w| w.join().unwrap()).collect();
        got.extend(port.left());
        assert_exactly_once(got, &[1, 2]);
    });
}

/// (a'') A waiter that polls (`Some(ZERO)`) beside a blocking one, with a batch posted at
/// once: the poller may take one or none, the blocking waiter one, and nothing is lost.
#[test]
fn exactly_once_poller_and_blocking_waiter() {
    check(2, || {
        let port = Port::new(4);
        let blocking = {
            let port = port.clone();
            thread::spawn(move || ids(&port.wait(1, None)))
        };
        let poller = {
            let port = port.clone();
            thread::spawn(move || ids(&port.wait(1, Some(Duration::ZERO))))
        };
        port.post(vec![completion(1), completion(2)]);
        let mut got = blocking.join().unwrap();
        assert_eq!(got.len(), 1);
        got.extend(poller.join().unwrap());
        got.extend(port.left());
        assert_exactly_once(got, &[1, 2]);
    });
}

/// (b) Leader wake-up: the only waiter leads, blocked in the kernel; another thread posts.
/// The post must see that the leader is in the kernel and wake it (`push` returns true), or
/// land before the leader goes in; either way the waiter returns with it.
#[test]
fn leader_woken_out_of_the_kernel() {
    check(3, || {
        let port = Port::new(1);
        let waiter = {
            let port = port.clone();
            thread::spawn(move || ids(&port.wait(1, None)))
        };
        port.post(vec![completion(1)]);
        assert_eq!(waiter.join().unwrap(), [1]);
        assert!(port.left().is_empty());
    });
}

/// (b') A leader that only polls (`Some(ZERO)`) and leaves empty-handed must not leave a
/// follower asleep with nobody driving the kernel: ops the kernel finishes afterwards are
/// reaped only by a leader's poll.
#[test]
fn polling_leader_hands_the_kernel_over() {
    check(2, || {
        let port = Port::new(4);
        let blocking = {
            let port = port.clone();
            thread::spawn(move || ids(&port.wait(1, None)))
        };
        let poller = {
            let port = port.clone();
            thread::spawn(move || ids(&port.wait(1, Some(Duration::ZERO))))
        };
        port.kernel.finish(completion(1));
        port.kernel.finish(completion(2));
        let mut got = blocking.join().unwrap();
        got.extend(poller.join().unwrap());
        got.extend(port.left());
        assert_exactly_once(got, &[1, 2]);
    });
}

/// (c) Concurrency limit 1: two waiters, two completions. A waiter holds its slot from the
/// return of `wait` until it waits again or ends (the thread-local guard gives the slot back
/// and hands off, waking the leader out of the kernel through the queue's waker if need be);
/// at no point do two threads hold one. (`running` is a loom atomic, so that loom may switch
/// threads while one of them runs.)
#[test]
fn concurrency_limit_one() {
    check(2, || {
        let port = Port::new(1);
        let running = Arc::new(loom::sync::atomic::AtomicUsize::new(0));
        let waiters: Vec<_> = (0..2)
            .map(|_| {
                let port = port.clone();
                let running = running.clone();
                thread::spawn(move || {
                    let got = ids(&port.wait(1, None));
                    assert_eq!(running.fetch_add(1, Ordering::SeqCst), 0, "two threads hold the only slot");
                    running.fetch_sub(1, Ordering::SeqCst);
                    got // the slot goes back when this thread ends
                })
            })
            .collect();
        port.post(vec![completion(1), completion(2)]);
        let got: Vec<u64> = waiters.into_iter().flat_map(|w| w.join().unwrap()).collect();
        assert_exactly_once(got, &[1, 2]);
    });
}

/// (c') Concurrency limit 1, the slot given back by waiting again: one thread takes a
/// completion and polls again (which gives its slot back first), while another waits; three
/// completions, so the other always has one (it may get it only when the first thread ends).
#[test]
fn concurrency_limit_one_slot_back_on_next_wait() {
    check(2, || {
        let port = Port::new(1);
        let running = Arc::new(loom::sync::atomic::AtomicUsize::new(0));
        let twice = {
            let port = port.clone();
            let running = running.clone();
            thread::spawn(move || {
                let mut got = ids(&port.wait(1, None));
                assert_eq!(running.fetch_add(1, Ordering::SeqCst), 0, "two threads hold the only slot");
                running.fetch_sub(1, Ordering::SeqCst);
                let again = ids(&port.wait(1, Some(Duration::ZERO)));
                if !again.is_empty() {
                    assert_eq!(running.fetch_add(1, Ordering::SeqCst), 0, "two threads hold the only slot");
                    running.fetch_sub(1, Ordering::SeqCst);
                }
                got.extend(again);
                got
            })
        };
        let once = {
            let port = port.clone();
            let running = running.clone();
            thread::spawn(move || {
                let got = ids(&port.wait(1, None));
                assert_eq!(running.fetch_add(1, Ordering::SeqCst), 0, "two threads hold the only slot");
                running.fetch_sub(1, Ordering::SeqCst);
                got
            })
        };
        port.post(vec![completion(1), completion(2), completion(3)]);
        let mut got = twice.join().unwrap();
        got.extend(once.join().unwrap());
        got.extend(port.left());
        assert_exactly_once(got, &[1, 2, 3]);
    });
}

/// Where a parked op of the emulated driver waits (`sys::emulated::Place`, one fd).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Place {
    Read,
}

/// The emulated driver's state for one descriptor: its read queue of parked ops and the
/// `places` index, under the driver's lock.
#[derive(Default)]
struct Driver {
    st: Mutex<DriverState>,
}

#[derive(Default)]
struct DriverState {
    read: VecDeque<Pending>,
    places: HashMap<OpId, Place>,
    /// The socket is readable and the selector has not reported it yet (oneshot: once).
    event: bool,
}

impl Driver {
    /// Parks ops on a socket that is (or will be, to the selector) readable.
    fn park(&self, ps: impl IntoIterator<Item = Pending>) {
        let mut st = self.st.lock().unwrap();
        for p in ps {
            st.places.insert(p.id, Place::Read);
            st.read.push_back(p);
        }
        st.event = true;
    }

    /// The leader's `drive`: `Driver::poll`. The selector reports the socket once; then
    /// `run_queue` completes the parked ops in order (all of them: the socket is ready) and
    /// `deliver` pushes them, as the leader. Without an event, a blocking kernel wait.
    fn poll(&self, port: &Port, timeout: Option<Duration>) -> io::Result<()> {
        let mut guard = self.st.lock().unwrap();
        if !std::mem::take(&mut guard.event) {
            drop(guard);
            return port.kernel.poll(&port.queue, timeout);
        }
        let st = &mut *guard;
        let mut done = Vec::new();
        while let Some(p) = st.read.pop_front() {
            st.places.remove(&p.id);
            done.push(p.complete(Ok(5)));
        }
        drop(guard);
        if !done.is_empty() && port.queue.push(done) {
            port.kernel.notify()?;
        }
        Ok(())
    }

    /// `Driver::cancel`, step for step.
    fn cancel(&self, port: &Port, id: OpId) -> io::Result<()> {
        let mut guard = self.st.lock().unwrap();
        let st = &mut *guard;
        let p = match st.places.get(&id).copied() {
            None => return Err(crate::error::op_not_found()),
            Some(Place::Read) => st.read.iter().position(|p| p.id == id).and_then(|i| st.read.remove(i)),
        };
        st.places.remove(&id);
        drop(guard);
        let p = p.ok_or_else(crate::error::op_not_found)?;
        if port.queue.push([p.cancelled()]) {
            port.kernel.notify().unwrap();
        }
        Ok(())
    }
}

/// (d) Cancel against completion: an op parked on a socket is raced by readiness (reaped in
/// the leader's `drive`, as the emulated driver's `poll` does) and by `cancel` from another
/// thread. Exactly one completion comes out — cancelled iff `cancel` returned `Ok`, with the
/// op's result iff `cancel` said `NotFound` — and the waiter gets it (a cancel that lands
/// while the leader is in the kernel wakes it).
#[test]
fn cancel_against_readiness() {
    check(2, || {
        let port = Port::new(2);
        let driver = Arc::new(Driver::default());
        driver.park([pending(1)]);
        let waiter = {
            let port = port.clone();
            let driver = driver.clone();
            thread::spawn(move || {
                let mut out = Vec::new();
                let drive = |t| driver.poll(&port, t);
                let n = port.queue.wait(&mut out, 4, None, drive, || port.kernel.notify(), || ()).unwrap();
                assert_eq!(n, 1);
                out
            })
        };
        let cancelled = driver.cancel(&port, OpId::new(0, 1));
        let out = waiter.join().unwrap();
        assert_eq!(ids(&out), [1]);
        assert!(port.left().is_empty(), "the op completed twice");
        match cancelled {
            Ok(()) => assert!(out[0].is_cancelled(), "cancel said Ok but the op completed"),
            Err(e) => {
                assert_eq!(e.kind(), io::ErrorKind::NotFound);
                assert_eq!(out[0].result().as_ref().ok(), Some(&5), "cancel lost but the op did not complete");
            }
        }
        assert!(driver.st.lock().unwrap().places.is_empty());
    });
}

/// (d') Cancel against completion with two waiters and two parked ops, one cancelled: every
/// op completes once, and the cancelled one is cancelled iff `cancel` said so.
#[test]
fn cancel_against_readiness_two_waiters() {
    check(2, || {
        let port = Port::new(2);
        let driver = Arc::new(Driver::default());
        driver.park([pending(1), pending(2)]);
        let waiters: Vec<_> = (0..2)
            .map(|_| {
                let port = port.clone();
                let driver = driver.clone();
                thread::spawn(move || {
                    let mut out = Vec::new();
                    let drive = |t| driver.poll(&port, t);
                    port.queue.wait(&mut out, 1, None, drive, || port.kernel.notify(), || ()).unwrap();
                    out
                })
            })
            .collect();
        let cancelled = driver.cancel(&port, OpId::new(0, 2));
        let out: Vec<Completion> = waiters.into_iter().flat_map(|w| w.join().unwrap()).collect();
        assert!(port.left().is_empty(), "an op completed twice");
        assert_exactly_once(ids(&out), &[1, 2]);
        let two = out.iter().find(|c| c.id() == OpId::new(0, 2)).unwrap();
        assert_eq!(cancelled.is_ok(), two.is_cancelled());
        assert!(out.iter().find(|c| c.id() == OpId::new(0, 1)).unwrap().result().is_ok());
    });
}

/// (e) Closing releases every waiter: two threads wait with no timeout (one leads in the
/// kernel, one sleeps as a follower, or either not yet started) while a third closes the port
/// after posting one completion. Every waiter returns — with the post or the closed error,
/// never a hang — the post is delivered at most once, and a later wait fails at once.
#[test]
fn close_releases_the_leader_and_the_followers() {
    check(2, || {
        let port = Port::new(4);
        let waiters: Vec<_> = (0..2)
            .map(|_| {
                let port = port.clone();
                thread::spawn(move || port.wait_or_closed(None).map(|cs| ids(&cs)))
            })
            .collect();
        port.post(vec![completion(1)]);
        port.close();
        let got: Vec<Option<Vec<u64>>> = waiters.into_iter().map(|w| w.join().unwrap()).collect();
        let taken: Vec<u64> = got.iter().flatten().flatten().copied().collect();
        assert!(taken.len() <= 1 && taken.iter().all(|&id| id == 1), "{got:?}");
        assert!(port.wait_or_closed(None).is_none(), "a wait after the close fails at once");
        assert!(port.left().is_empty(), "the close dropped what was queued");
    });
}
