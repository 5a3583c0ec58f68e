//! Conformance: the cross-thread handle (libevent's `thread/*`: activating events and
//! breaking the loop from other threads), on every available backend.

mod util;

use std::cell::Cell;
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use overlap_event::{Flags, LoopEnd, LoopFlags, Method};
use util::*;

fn loopbreak_from_another_thread(b: Method) {
    let mut base = base(b);
    let h = base.handle();
    let t = std::thread::spawn(move || h.loopbreak().unwrap());
    let flags = LoopFlags { no_exit_on_empty: true, ..LoopFlags::default() };
    let dog = Watchdog::new(&base);
    let end = base.run(flags).unwrap();
    t.join().unwrap();
    assert!(!dog.fired());
    assert_eq!(end, LoopEnd::Break);
    assert!(base.got_break());
}

fn run_closures_on_the_loop(b: Method) {
    let mut base = base(b);
    let h = base.handle();
    let count = Arc::new(AtomicUsize::new(0));
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let (h, count) = (h.clone(), count.clone());
            std::thread::spawn(move || {
                for _ in 0..1000 {
                    let c = count.clone();
                    h.run(move |_| {
                        c.fetch_add(1, Ordering::SeqCst);
                    })
                    .unwrap();
                }
            })
        })
        .collect();
    let c = count.clone();
    let stopper = std::thread::spawn(move || {
        for t in threads {
            t.join().unwrap();
        }
        // After every closure: the loop runs them in order, so this one comes last.
        h.run(move |base| {
            assert_eq!(c.load(Ordering::SeqCst), 4000);
            base.loopbreak();
        })
        .unwrap();
    });
    let dog = Watchdog::new(&base);
    let end = base.run(LoopFlags { no_exit_on_empty: true, ..LoopFlags::default() }).unwrap();
    stopper.join().unwrap();
    assert!(!dog.fired());
    assert_eq!(end, LoopEnd::Break);
    assert_eq!(count.load(Ordering::SeqCst), 4000);
}

fn activate_from_another_thread(b: Method) {
    let mut base = base(b);
    let got = Rc::new(Cell::new(Flags::NONE));
    let g = got.clone();
    let ev = base
        .new_timer(Flags::NONE, move |base, _, fired| {
            g.set(fired);
            base.loopbreak();
        })
        .unwrap();
    let h = base.handle();
    let t = std::thread::spawn(move || h.activate(ev, Flags::READ).unwrap());
    let dog = Watchdog::new(&base);
    let end = base.run(LoopFlags { no_exit_on_empty: true, ..LoopFlags::default() }).unwrap();
    t.join().unwrap();
    assert!(!dog.fired());
    assert_eq!(end, LoopEnd::Break);
    assert_eq!(got.get(), Flags::READ);
}

fn a_handle_outliving_its_base_is_harmless(b: Method) {
    let base = base(b);
    let h = base.handle();
    drop(base);
    let _ = h.loopbreak();
    let _ = h.run(|_| panic!("ran on a base that is gone"));
}

fn main() {
    run_suite(
        "event_thread",
        cases![
            loopbreak_from_another_thread,
            run_closures_on_the_loop,
            activate_from_another_thread,
            a_handle_outliving_its_base_is_harmless
        ],
    );
}
