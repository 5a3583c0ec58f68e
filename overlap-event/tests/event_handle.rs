//! Conformance: reaching a base from other threads through its `BaseHandle` (libevent's
//! `thread/*`: many threads activating one event, `no_events` with
//! `EVLOOP_NO_EXIT_ON_EMPTY`, loopexit from another thread; and what a handle does once its base
//! is gone), on every available backend.

mod util;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use overlap_event::{Flags, LoopEnd, LoopFlags, Method};
use util::*;

const NO_EXIT: LoopFlags = LoopFlags { once: false, nonblock: false, no_exit_on_empty: true };

/// Runs the loop with `flags` under a watchdog.
fn run_guarded(base: &mut overlap_event::EventBase, flags: LoopFlags) -> LoopEnd {
    let dog = Watchdog::new(base);
    let end = base.run(flags).expect("run");
    assert!(!dog.fired(), "[{}] the loop ran for {PATIENCE:?}", base.backend());
    end
}

fn many_threads_activate_one_event(b: Method) {
    const PER_THREAD: usize = 2000;
    let mut base = base(b);
    let runs = log::<Flags>();
    let r = runs.clone();
    let ev = base.new_timer(Flags::NONE, move |_, _, fired| r.borrow_mut().push(fired)).unwrap();
    let h = base.handle();
    let flags = [Flags::READ, Flags::WRITE, Flags::TIMEOUT, Flags::CLOSED];
    let sent = Arc::new(AtomicUsize::new(0));
    let threads: Vec<_> = flags
        .iter()
        .map(|&f| {
            let (h, sent) = (h.clone(), sent.clone());
            std::thread::spawn(move || {
                for _ in 0..PER_THREAD {
                    h.activate(ev, f).unwrap();
                    sent.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    let stopper = std::thread::spawn(move || {
        for t in threads {
            t.join().unwrap();
        }
        // After every activation (one queue, in order): stop once what is active has run.
        h.loopexit(None).unwrap();
    });
    assert_eq!(run_guarded(&mut base, NO_EXIT), LoopEnd::Exit);
    stopper.join().unwrap();
    let runs = runs.borrow();
    let total = flags.len() * PER_THREAD;
    assert_eq!(sent.load(Ordering::Relaxed), total);
    assert!(!runs.is_empty() && runs.len() <= total, "{} runs for {total} activations", runs.len());
    let union = runs.iter().fold(Flags::NONE, |a, f| a | *f);
    assert_eq!(union, Flags::READ | Flags::WRITE | Flags::TIMEOUT | Flags::CLOSED, "every thread's flags arrived");
    assert!(runs.iter().all(|f| !f.is_empty()));
    println!("[{b}] {total} activations from 4 threads: {} runs (the others joined)", runs.len());
    assert_eq!(base.num_active(), 0);
}

fn closures_from_each_thread_run_in_the_order_sent(b: Method) {
    const PER_THREAD: u32 = 2000;
    let mut base = base(b);
    let h = base.handle();
    let seen = Arc::new(Mutex::new(Vec::<(usize, u32)>::new()));
    let threads: Vec<_> = (0..4usize)
        .map(|t| {
            let (h, seen) = (h.clone(), seen.clone());
            std::thread::spawn(move || {
                for i in 0..PER_THREAD {
                    let seen = seen.clone();
                    h.run(move |_| seen.lock().unwrap().push((t, i))).unwrap();
                }
            })
        })
        .collect();
    let stopper = std::thread::spawn(move || {
        for t in threads {
            t.join().unwrap();
        }
        h.run(|base| base.loopbreak()).unwrap();
    });
    assert_eq!(run_guarded(&mut base, NO_EXIT), LoopEnd::Break);
    stopper.join().unwrap();
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 4 * PER_THREAD as usize, "every closure ran, before the last one");
    for t in 0..4 {
        let mine: Vec<u32> = seen.iter().filter(|(s, _)| *s == t).map(|(_, i)| *i).collect();
        assert_eq!(mine, (0..PER_THREAD).collect::<Vec<_>>(), "thread {t}'s closures ran out of order");
    }
}

fn loopexit_through_the_handle_with_a_delay(b: Method) {
    // The delay counts from the loop's cached time when the request is taken, which may be a
    // little older than the request (as in libevent); it is never older than the base.
    let made = Instant::now();
    let mut base = base(b);
    let h = base.handle();
    let delay = Duration::from_millis(30);
    let t = std::thread::spawn(move || h.loopexit(Some(delay)).unwrap());
    assert_eq!(run_guarded(&mut base, NO_EXIT), LoopEnd::Exit);
    t.join().unwrap();
    assert!(made.elapsed() >= delay, "stopped {:?} after the base was made, before the delay", made.elapsed());
    assert!(base.got_exit() && !base.got_break());
    // Without a delay: once what is active has run (here an event activated by the same
    // thread just before).
    let ran = counter();
    let r = ran.clone();
    let ev = base.new_timer(Flags::NONE, move |_, _, _| r.set(r.get() + 1)).unwrap();
    let h = base.handle();
    let t = std::thread::spawn(move || {
        h.activate(ev, Flags::TIMEOUT).unwrap();
        h.loopexit(None).unwrap();
    });
    assert_eq!(run_guarded(&mut base, NO_EXIT), LoopEnd::Exit);
    t.join().unwrap();
    assert_eq!(ran.get(), 1);
}

fn no_exit_on_empty_waits_for_an_event_added_from_another_thread(b: Method) {
    let mut base = base(b);
    assert_eq!(base.dispatch().unwrap(), LoopEnd::NoEvents, "without the flag an empty loop ends");
    let h = base.handle();
    let t = std::thread::spawn(move || {
        h.run(|base| {
            let ev = base
                .new_timer(Flags::NONE, |base, ev, fired| {
                    assert_eq!(fired, Flags::TIMEOUT);
                    base.free(ev).unwrap();
                    base.loopbreak();
                })
                .unwrap();
            base.add(ev, Some(Duration::from_millis(5))).unwrap();
        })
        .unwrap();
    });
    assert_eq!(run_guarded(&mut base, NO_EXIT), LoopEnd::Break, "the timer added from the thread ran");
    t.join().unwrap();
    assert_eq!(base.num_events(), 0);
}

fn a_handle_activating_a_freed_event_is_ignored(b: Method) {
    let mut base = base(b);
    let old = base.new_timer(Flags::NONE, |_, _, _| panic!("freed")).unwrap();
    base.free(old).unwrap();
    // Likely in the freed one's place, with a new generation.
    let fresh = base.new_timer(Flags::NONE, |_, _, _| panic!("activated through a stale id")).unwrap();
    let mut other = self::base(b);
    let foreign = other.new_timer(Flags::NONE, |_, _, _| panic!("another base's event")).unwrap();
    let h = base.handle();
    let t = std::thread::spawn(move || {
        h.activate(old, Flags::READ).unwrap();
        h.activate(foreign, Flags::READ).unwrap();
        h.run(|base| base.loopexit(None).unwrap()).unwrap();
    });
    assert_eq!(run_guarded(&mut base, NO_EXIT), LoopEnd::Exit);
    t.join().unwrap();
    assert_eq!(base.num_active(), 0);
    assert_eq!(base.pending(fresh, Flags::READ).unwrap().0, Flags::NONE);
    assert_eq!(other.num_active(), 0);
}

fn requests_to_a_dropped_base_are_not_run_and_are_freed(b: Method) {
    let mut base = base(b);
    let ev = base.new_timer(Flags::NONE, |_, _, _| {}).unwrap();
    let h = base.handle();
    let h2 = h.clone();
    drop(base);
    let token = Arc::new(());
    let t = {
        let token = token.clone();
        std::thread::spawn(move || {
            // Whatever each returns, none panics.
            let _ = h2.run(move |_| {
                let _keep = token;
                panic!("ran on a base that is gone");
            });
            let _ = h2.activate(ev, Flags::READ);
            let _ = h2.loopexit(Some(Duration::from_secs(1)));
            let _ = h2.loopbreak();
        })
    };
    t.join().expect("a handle to a dropped base panicked");
    let _ = h.loopbreak();
    drop(h);
    assert_eq!(Arc::strong_count(&token), 1, "the closure was kept after the last handle went");
}

fn a_timer_added_through_the_handle_as_the_loop_starts_is_not_early(b: Method) {
    // A closure sent before the loop starts runs at the top of its first iteration. A timer it
    // adds must count from then, not from the time the base cached when it last ran (here:
    // when it was made, 100 ms before; the sleep is the base sitting idle, not a wait for
    // anything).
    let mut base = base(b);
    let h = base.handle();
    std::thread::sleep(Duration::from_millis(100));
    let waited = Arc::new(Mutex::new(None::<Duration>));
    let w = waited.clone();
    h.run(move |base| {
        let added = Instant::now();
        let ev = base
            .new_timer(Flags::NONE, move |base, _, _| {
                *w.lock().unwrap() = Some(added.elapsed());
                base.loopbreak();
            })
            .unwrap();
        base.add(ev, Some(Duration::from_millis(30))).unwrap();
    })
    .unwrap();
    assert_eq!(run_guarded(&mut base, NO_EXIT), LoopEnd::Break);
    let waited = waited.lock().unwrap().unwrap();
    assert!(waited >= Duration::from_millis(30), "[{b}] a 30 ms timer fired {waited:?} after it was added");
}

fn a_handle_to_a_dropped_base_reports_an_error(b: Method) {
    // What the handle is asked once its base is gone cannot be done: it says so.
    let mut base = base(b);
    let ev = base.new_timer(Flags::NONE, |_, _, _| {}).unwrap();
    let h = base.handle();
    drop(base);
    assert!(h.run(|_| {}).is_err(), "[{b}] run on a dropped base returned Ok");
    assert!(h.activate(ev, Flags::READ).is_err(), "[{b}] activate on a dropped base returned Ok");
    assert!(h.loopbreak().is_err(), "[{b}] loopbreak on a dropped base returned Ok");
    assert!(h.loopexit(None).is_err(), "[{b}] loopexit on a dropped base returned Ok");
}

fn main() {
    run_suite(
        "event_handle",
        cases![
            many_threads_activate_one_event,
            closures_from_each_thread_run_in_the_order_sent,
            loopexit_through_the_handle_with_a_delay,
            no_exit_on_empty_waits_for_an_event_added_from_another_thread,
            a_handle_activating_a_freed_event_is_ignored,
            requests_to_a_dropped_base_are_not_run_and_are_freed,
            a_timer_added_through_the_handle_as_the_loop_starts_is_not_early,
            a_handle_to_a_dropped_base_reports_an_error,
        ],
    );
}
