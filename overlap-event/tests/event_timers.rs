//! Conformance: timers (libevent's `main/common_timeout`, `persistent_timeout`,
//! `persistent_timeout_jump`, `event_remove_timeout`, `test-time`), on every available backend.

mod util;

use std::cell::Cell;
use std::rc::Rc;
use std::time::{Duration, Instant};

use overlap_event::{Flags, LoopEnd, Method};
use util::*;

fn timers_fire_in_deadline_order(b: Method) {
    let mut base = base(b);
    let order = log::<u32>();
    for (i, ms) in [(0u32, 30u64), (1, 10), (2, 20), (3, 0), (4, 25)] {
        let o = order.clone();
        let ev = base.new_timer(Flags::NONE, move |_, _, fired| {
            assert_eq!(fired, Flags::TIMEOUT);
            o.borrow_mut().push(i);
        });
        base.add(ev.unwrap(), Some(Duration::from_millis(ms))).unwrap();
    }
    assert_eq!(dispatch(&mut base), LoopEnd::NoEvents);
    assert_eq!(*order.borrow(), vec![3, 1, 2, 4, 0]);
}

fn equal_deadlines_fire_in_the_order_added(b: Method) {
    let mut base = base(b);
    let order = log::<u32>();
    let at = Duration::from_millis(5);
    for i in 0..1000u32 {
        let o = order.clone();
        let ev = base.new_timer(Flags::NONE, move |_, _, _| o.borrow_mut().push(i)).unwrap();
        base.add(ev, Some(at)).unwrap();
    }
    // Added outside the loop, all at the same instant: ties keep their order.
    dispatch(&mut base);
    assert_eq!(*order.borrow(), (0..1000).collect::<Vec<_>>());
}

fn a_timer_never_fires_early(b: Method) {
    let mut base = base(b);
    let start = Instant::now();
    let fired_at = Rc::new(Cell::new(None));
    let f = fired_at.clone();
    let ev = base.new_timer(Flags::NONE, move |_, _, _| f.set(Some(Instant::now()))).unwrap();
    base.add(ev, Some(Duration::from_millis(30))).unwrap();
    dispatch(&mut base);
    let at = fired_at.get().expect("fired");
    assert!(at.duration_since(start) >= Duration::from_millis(30), "fired after {:?}", at.duration_since(start));
}

fn persistent_timer_is_rearmed_from_its_due_time(b: Method) {
    let mut base = base(b);
    let period = Duration::from_millis(20);
    let dues = log::<Instant>();
    let d = dues.clone();
    let ev = base
        .new_timer(Flags::PERSIST, move |base, ev, _| {
            let (_, due) = base.pending(ev, Flags::TIMEOUT).unwrap();
            d.borrow_mut().push(due.expect("re-armed before the callback runs"));
            if d.borrow().len() == 5 {
                base.free(ev).unwrap();
            }
        })
        .unwrap();
    base.add(ev, Some(period)).unwrap();
    let first = base.pending(ev, Flags::TIMEOUT).unwrap().1.unwrap();
    dispatch(&mut base);
    let dues = dues.borrow();
    assert_eq!(dues.len(), 5);
    for (i, due) in dues.iter().enumerate() {
        // No drift: each due time is the first plus whole periods (unless the loop fell a
        // whole period behind, which a loaded machine may do: then it is later, never earlier).
        let ideal = first + period * (i as u32 + 1);
        assert!(*due >= ideal, "due {i} is early");
        if *due > ideal {
            assert!(
                *due >= ideal + period / 2,
                "due {i} drifted by less than a period: re-armed from the callback, not the schedule"
            );
        }
    }
}

fn persistent_timeout_jump_reschedules_from_now(b: Method) {
    let mut base = base(b);
    let period = Duration::from_millis(10);
    let n = Rc::new(Cell::new(0));
    let c = n.clone();
    let ev = base
        .new_timer(Flags::PERSIST, move |base, ev, _| {
            c.set(c.get() + 1);
            if c.get() == 1 {
                std::thread::sleep(Duration::from_millis(60)); // a slow callback: several periods missed
                return;
            }
            let (_, due) = base.pending(ev, Flags::TIMEOUT).unwrap();
            assert!(due.unwrap() > base.now(), "the next run is in the future, not a burst of missed ones");
            base.free(ev).unwrap();
        })
        .unwrap();
    base.add(ev, Some(period)).unwrap();
    dispatch(&mut base);
    assert_eq!(n.get(), 2);
}

fn huge_timeout_stays_pending(b: Method) {
    let mut base = base(b);
    let ev = base.new_timer(Flags::NONE, |_, _, _| panic!("a timeout of 100 years fired")).unwrap();
    let years = Duration::from_secs(100 * 365 * 86_400);
    base.add(ev, Some(years)).unwrap();
    let (flags, due) = base.pending(ev, Flags::TIMEOUT).unwrap();
    assert_eq!(flags, Flags::TIMEOUT);
    assert!(due.unwrap() > Instant::now() + years - Duration::from_secs(60));
    assert_eq!(base.run_nonblocking().unwrap(), LoopEnd::Done);
    let err = base.add(ev, Some(Duration::MAX)).unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput, "{err}");
    assert_eq!(base.pending(ev, Flags::TIMEOUT).unwrap().1, due, "a refused add keeps the old timeout");
    base.free(ev).unwrap();
    assert_eq!(base.run_nonblocking().unwrap(), LoopEnd::NoEvents);
}

fn readding_replaces_the_timeout_and_none_keeps_it(b: Method) {
    let mut base = base(b);
    let ev = base.new_timer(Flags::NONE, |_, _, _| {}).unwrap();
    base.add(ev, Some(Duration::from_secs(100))).unwrap();
    let first = base.pending(ev, Flags::TIMEOUT).unwrap().1.unwrap();
    base.add(ev, Some(Duration::from_secs(200))).unwrap();
    let second = base.pending(ev, Flags::TIMEOUT).unwrap().1.unwrap();
    assert!(second >= first + Duration::from_secs(99));
    base.add(ev, None).unwrap();
    assert_eq!(base.pending(ev, Flags::TIMEOUT).unwrap().1, Some(second));
    assert_eq!(base.num_pending(), 1);
}

fn deleting_removes_the_timeout(b: Method) {
    let mut base = base(b);
    let ev = base.new_timer(Flags::NONE, |_, _, _| panic!("deleted timer fired")).unwrap();
    base.add(ev, Some(Duration::from_millis(1))).unwrap();
    base.del(ev).unwrap();
    assert_eq!(base.pending(ev, Flags::TIMEOUT).unwrap(), (Flags::NONE, None));
    assert_eq!(dispatch(&mut base), LoopEnd::NoEvents);
}

fn a_deleted_event_forgets_its_timeout(b: Method) {
    // Added with a timeout, deleted, added again without one: a persistent read event that
    // fires must not come back with the old timeout.
    let mut base = base(b);
    let (mut a, c) = pair();
    let reads = Rc::new(Cell::new(0u32));
    let r = reads.clone();
    let mut c2 = c.try_clone().unwrap();
    let ev = base
        .new_event(fd(&c), Flags::READ | Flags::PERSIST, move |base, ev, what| {
            assert_eq!(what, Flags::READ);
            let mut byte = [0u8; 1];
            std::io::Read::read(&mut c2, &mut byte).unwrap();
            r.set(r.get() + 1);
            assert_eq!(base.pending(ev, Flags::TIMEOUT).unwrap(), (Flags::NONE, None), "no timeout came back");
            base.free(ev).unwrap();
        })
        .unwrap();
    base.add(ev, Some(Duration::from_secs(100))).unwrap();
    base.del(ev).unwrap();
    base.add(ev, None).unwrap();
    assert_eq!(base.pending(ev, Flags::TIMEOUT).unwrap(), (Flags::NONE, None));
    std::io::Write::write_all(&mut a, b"x").unwrap();
    assert_eq!(dispatch(&mut base), LoopEnd::NoEvents);
    assert_eq!(reads.get(), 1);
}

fn a_persistent_event_fired_by_io_counts_its_timeout_from_then(b: Method) {
    // libevent's `persistent_timeout` with I/O: each read pushes the timeout back.
    let mut base = base(b);
    let (mut a, c) = pair();
    let log = log::<Flags>();
    let l = log.clone();
    let mut c2 = c.try_clone().unwrap();
    let ev = base
        .new_event(fd(&c), Flags::READ | Flags::PERSIST, move |base, ev, what| {
            l.borrow_mut().push(what);
            if what.contains(Flags::READ) {
                let mut byte = [0u8; 1];
                std::io::Read::read(&mut c2, &mut byte).unwrap();
                let due = base.pending(ev, Flags::TIMEOUT).unwrap().1.expect("timed again");
                assert!(due >= base.now() + Duration::from_secs(99), "counted from this run, not from the add");
            } else {
                base.free(ev).unwrap();
            }
        })
        .unwrap();
    base.add(ev, Some(Duration::from_secs(100))).unwrap();
    std::io::Write::write_all(&mut a, b"x").unwrap();
    base.run_once().unwrap();
    assert_eq!(*log.borrow(), vec![Flags::READ]);
    // Now a short timeout: it fires, with TIMEOUT, and is timed again before the callback.
    base.add(ev, Some(Duration::from_millis(5))).unwrap();
    assert_eq!(dispatch(&mut base), LoopEnd::NoEvents);
    assert_eq!(*log.borrow(), vec![Flags::READ, Flags::TIMEOUT]);
}

fn many_timers_with_one_duration(b: Method) {
    // libevent's common timeouts: 100k timers of one duration, half cancelled.
    let mut base = base(b);
    let fired = Rc::new(Cell::new(0u32));
    let mut evs = Vec::new();
    for _ in 0..100_000 {
        let f = fired.clone();
        let ev = base.new_timer(Flags::NONE, move |_, _, _| f.set(f.get() + 1)).unwrap();
        base.add(ev, Some(Duration::from_millis(20))).unwrap();
        evs.push(ev);
    }
    for ev in evs.iter().step_by(2) {
        base.free(*ev).unwrap();
    }
    assert_eq!(base.num_pending(), 50_000);
    dispatch(&mut base);
    assert_eq!(fired.get(), 50_000);
    assert_eq!(base.num_pending(), 0);
}

fn zero_timeout_fires_at_the_next_iteration(b: Method) {
    let mut base = base(b);
    let n = Rc::new(Cell::new(0));
    let c = n.clone();
    let ev = base.new_timer(Flags::NONE, move |_, _, _| c.set(c.get() + 1)).unwrap();
    base.add(ev, Some(Duration::ZERO)).unwrap();
    // As libevent's EVLOOP_NONBLOCK: it runs what is due, looks again, finds nothing left.
    assert_eq!(base.run_nonblocking().unwrap(), LoopEnd::NoEvents);
    assert_eq!(n.get(), 1);
}

fn main() {
    run_suite(
        "event_timers",
        cases![
            timers_fire_in_deadline_order,
            equal_deadlines_fire_in_the_order_added,
            a_timer_never_fires_early,
            persistent_timer_is_rearmed_from_its_due_time,
            persistent_timeout_jump_reschedules_from_now,
            huge_timeout_stays_pending,
            readding_replaces_the_timeout_and_none_keeps_it,
            deleting_removes_the_timeout,
            a_deleted_event_forgets_its_timeout,
            a_persistent_event_fired_by_io_counts_its_timeout_from_then,
            many_timers_with_one_duration,
            zero_timeout_fires_at_the_next_iteration,
        ],
    );
}
