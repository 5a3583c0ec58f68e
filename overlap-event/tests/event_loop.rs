//! Conformance: the loop and re-entrancy (libevent's `main/loopexit`, `loopbreak`,
//! `free_active_base`, `del_inside_callback`, `active_later`, `priorities`,
//! `priority_active_inversion`, `event_once`, `bad_reentrant`), on every available backend.

mod util;

use std::cell::Cell;
use std::io::ErrorKind;
use std::rc::Rc;
use std::time::{Duration, Instant};

use overlap_event::{Event, EventConfig, Flags, LoopEnd, Method, ReactorBackend};
use util::*;

fn no_events_returns_at_once(b: Method) {
    let mut base = base(b);
    assert_eq!(base.dispatch().unwrap(), LoopEnd::NoEvents);
    assert_eq!(base.run_once().unwrap(), LoopEnd::NoEvents);
    assert_eq!(base.run_nonblocking().unwrap(), LoopEnd::NoEvents);
}

fn loopexit_without_delay_ends_after_the_active_callbacks(b: Method) {
    let mut base = base(b);
    let ran = log::<u32>();
    let r = ran.clone();
    let keep = base.new_timer(Flags::PERSIST, |_, _, _| {}).unwrap();
    base.add(keep, Some(Duration::from_secs(3600))).unwrap();
    let a = base
        .new_timer(Flags::NONE, move |base, _, _| {
            r.borrow_mut().push(1);
            base.loopexit(None).unwrap();
        })
        .unwrap();
    let r = ran.clone();
    let c = base.new_timer(Flags::NONE, move |_, _, _| r.borrow_mut().push(2)).unwrap();
    base.activate(a, Flags::TIMEOUT).unwrap();
    base.activate(c, Flags::TIMEOUT).unwrap();
    assert_eq!(dispatch(&mut base), LoopEnd::Exit);
    assert!(base.got_exit() && !base.got_break());
    assert_eq!(*ran.borrow(), vec![1, 2], "the callbacks already active ran");
}

fn loopexit_with_delay(b: Method) {
    let mut base = base(b);
    let keep = base.new_timer(Flags::PERSIST, |_, _, _| {}).unwrap();
    base.add(keep, Some(Duration::from_secs(3600))).unwrap();
    let start = Instant::now();
    base.loopexit(Some(Duration::from_millis(30))).unwrap();
    assert_eq!(dispatch(&mut base), LoopEnd::Exit);
    assert!(start.elapsed() >= Duration::from_millis(30));
    assert!(base.got_exit());
    // A new loop starts afresh.
    base.loopexit(Some(Duration::ZERO)).unwrap();
    assert_eq!(dispatch(&mut base), LoopEnd::Exit);
}

fn loopbreak_stops_after_the_current_callback(b: Method) {
    let mut base = base(b);
    let ran = log::<u32>();
    let r = ran.clone();
    let a = base
        .new_timer(Flags::NONE, move |base, _, _| {
            r.borrow_mut().push(1);
            base.loopbreak();
        })
        .unwrap();
    let r = ran.clone();
    let c = base.new_timer(Flags::NONE, move |_, _, _| r.borrow_mut().push(2)).unwrap();
    base.activate(a, Flags::TIMEOUT).unwrap();
    base.activate(c, Flags::TIMEOUT).unwrap();
    assert_eq!(dispatch(&mut base), LoopEnd::Break);
    assert!(base.got_break() && !base.got_exit());
    assert_eq!(*ran.borrow(), vec![1], "nothing ran after the break");
    assert_eq!(base.pending(c, Flags::TIMEOUT).unwrap().0, Flags::TIMEOUT, "the other stays active");
    assert_eq!(dispatch(&mut base), LoopEnd::NoEvents);
    assert_eq!(*ran.borrow(), vec![1, 2], "and runs in the next loop");
}

fn free_self_inside_callback(b: Method) {
    let mut base = base(b);
    let n = Rc::new(Cell::new(0));
    let c = n.clone();
    let ev = base
        .new_timer(Flags::PERSIST, move |base, ev, _| {
            c.set(c.get() + 1);
            base.free(ev).unwrap();
            assert_eq!(base.free(ev).unwrap_err().kind(), ErrorKind::NotFound);
        })
        .unwrap();
    base.add(ev, Some(Duration::from_millis(1))).unwrap();
    assert_eq!(dispatch(&mut base), LoopEnd::NoEvents);
    assert_eq!(n.get(), 1);
    assert_eq!(base.num_events(), 0);
}

fn freeing_another_active_event_keeps_it_from_running(b: Method) {
    let mut base = base(b);
    let victim_ran = Rc::new(Cell::new(false));
    let v = victim_ran.clone();
    let victim = base.new_timer(Flags::NONE, move |_, _, _| v.set(true)).unwrap();
    let killer = base.new_timer(Flags::NONE, move |base, _, _| base.free(victim).unwrap()).unwrap();
    base.activate(killer, Flags::TIMEOUT).unwrap();
    base.activate(victim, Flags::TIMEOUT).unwrap();
    dispatch(&mut base);
    assert!(!victim_ran.get(), "freed in the iteration it was active in, it must not run");
}

fn deleting_another_active_event_keeps_it_from_running(b: Method) {
    let mut base = base(b);
    let victim_ran = Rc::new(Cell::new(false));
    let v = victim_ran.clone();
    let victim = base.new_timer(Flags::NONE, move |_, _, _| v.set(true)).unwrap();
    let killer = base.new_timer(Flags::NONE, move |base, _, _| base.del(victim).unwrap()).unwrap();
    base.activate(killer, Flags::TIMEOUT).unwrap();
    base.activate(victim, Flags::TIMEOUT).unwrap();
    dispatch(&mut base);
    assert!(!victim_ran.get());
    assert_eq!(base.pending(victim, Flags::TIMEOUT).unwrap().0, Flags::NONE);
}

fn readding_self_from_callback(b: Method) {
    let mut base = base(b);
    let n = Rc::new(Cell::new(0));
    let c = n.clone();
    let ev = base
        .new_timer(Flags::NONE, move |base, ev, _| {
            c.set(c.get() + 1);
            if c.get() < 10 {
                base.add(ev, Some(Duration::ZERO)).unwrap();
            }
        })
        .unwrap();
    base.add(ev, Some(Duration::ZERO)).unwrap();
    dispatch(&mut base);
    assert_eq!(n.get(), 10);
}

fn activate_runs_the_callback_with_the_flags(b: Method) {
    let mut base = base(b);
    let got = log::<Flags>();
    let g = got.clone();
    let ev = base.new_timer(Flags::NONE, move |_, _, fired| g.borrow_mut().push(fired)).unwrap();
    base.activate(ev, Flags::READ).unwrap();
    base.activate(ev, Flags::WRITE).unwrap(); // joined, one run
    assert_eq!(base.pending(ev, Flags::READ | Flags::WRITE).unwrap().0, Flags::READ | Flags::WRITE);
    dispatch(&mut base);
    assert_eq!(*got.borrow(), vec![Flags::READ | Flags::WRITE]);
}

fn active_later_runs_in_the_next_iteration(b: Method) {
    let mut base = base(b);
    let order = log::<&str>();
    let o = order.clone();
    let later = base.new_timer(Flags::NONE, move |_, _, _| o.borrow_mut().push("later")).unwrap();
    let o = order.clone();
    let now = base
        .new_timer(Flags::NONE, move |base, _, _| {
            o.borrow_mut().push("first");
            base.activate_later(later, Flags::TIMEOUT).unwrap();
        })
        .unwrap();
    let o = order.clone();
    let same = base.new_timer(Flags::NONE, move |_, _, _| o.borrow_mut().push("same iteration")).unwrap();
    base.activate(now, Flags::TIMEOUT).unwrap();
    base.activate(same, Flags::TIMEOUT).unwrap();
    // As libevent's EVLOOP_ONCE, which counts events active later as active: the loop goes
    // round once more for it, and returns when nothing is left active.
    assert_eq!(base.run_once().unwrap(), LoopEnd::Done);
    assert_eq!(*order.borrow(), vec!["first", "same iteration", "later"]);
    assert_eq!(base.num_active(), 0);
}

fn priorities_run_lowest_number_first(b: Method) {
    let mut base = base_with(b, EventConfig::new().priorities(3));
    assert_eq!(base.priorities(), 3);
    let order = log::<usize>();
    let mut evs = Vec::new();
    for p in [2usize, 0, 1] {
        let o = order.clone();
        let ev = base.new_timer(Flags::NONE, move |_, _, _| o.borrow_mut().push(p)).unwrap();
        assert_eq!(base.priority(ev).unwrap(), 1, "events start in the middle");
        base.set_priority(ev, p).unwrap();
        evs.push(ev);
    }
    for ev in &evs {
        base.activate(*ev, Flags::TIMEOUT).unwrap();
    }
    dispatch(&mut base);
    assert_eq!(*order.borrow(), vec![0, 1, 2]);
}

fn a_busy_high_priority_starves_lower_ones(b: Method) {
    // libevent's priority_active_inversion: a priority-0 event that re-activates itself runs
    // every iteration; the priority-1 event waits until it stops.
    let mut base = base_with(b, EventConfig::new().priorities(2));
    let order = log::<&str>();
    let o = order.clone();
    let n = Rc::new(Cell::new(0));
    let c = n.clone();
    let busy = base
        .new_timer(Flags::NONE, move |base, ev, _| {
            o.borrow_mut().push("busy");
            c.set(c.get() + 1);
            if c.get() < 5 {
                base.activate_later(ev, Flags::TIMEOUT).unwrap();
            }
        })
        .unwrap();
    base.set_priority(busy, 0).unwrap();
    let o = order.clone();
    let low = base.new_timer(Flags::NONE, move |_, _, _| o.borrow_mut().push("low")).unwrap();
    base.set_priority(low, 1).unwrap();
    base.activate(busy, Flags::TIMEOUT).unwrap();
    base.activate(low, Flags::TIMEOUT).unwrap();
    dispatch(&mut base);
    assert_eq!(*order.borrow(), vec!["busy", "busy", "busy", "busy", "busy", "low"]);
}

fn max_dispatch_callbacks_lets_timers_in(b: Method) {
    // One priority whose callbacks keep activating each other would starve a timer; with a
    // bound of 2 callbacks per pass, the loop looks at timers between passes.
    let mut base = base_with(b, EventConfig::new().max_dispatch(None, Some(2), 0));
    let timer_ran = Rc::new(Cell::new(false));
    let t = timer_ran.clone();
    let timer = base.new_timer(Flags::NONE, move |_, _, _| t.set(true)).unwrap();
    base.add(timer, Some(Duration::from_millis(20))).unwrap();
    let runs = Rc::new(Cell::new(0u32));
    let (r, tr) = (runs.clone(), timer_ran.clone());
    let spin = base
        .new_timer(Flags::NONE, move |base, ev, _| {
            r.set(r.get() + 1);
            if !tr.get() {
                base.activate(ev, Flags::TIMEOUT).unwrap(); // same priority: same pass
            }
        })
        .unwrap();
    base.activate(spin, Flags::TIMEOUT).unwrap();
    dispatch(&mut base);
    assert!(timer_ran.get());
    assert!(runs.get() >= 2);
}

fn once_runs_once_and_frees_itself(b: Method) {
    let mut base = base(b);
    let n = Rc::new(Cell::new(0));
    let c = n.clone();
    base.once(None, Flags::TIMEOUT, Some(Duration::from_millis(1)), move |_, fired| {
        assert_eq!(fired, Flags::TIMEOUT);
        c.set(c.get() + 1);
    })
    .unwrap();
    let c = n.clone();
    base.once(None, Flags::NONE, None, move |_, _| c.set(c.get() + 10)).unwrap();
    assert_eq!(base.num_events(), 2);
    dispatch(&mut base);
    assert_eq!(n.get(), 11);
    assert_eq!(base.num_events(), 0, "once events free themselves");
    let err = base.once(None, Flags::PERSIST, None, |_, _| {}).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
}

fn dispatch_from_a_callback_is_refused(b: Method) {
    let mut base = base(b);
    let seen = Rc::new(Cell::new(None));
    let s = seen.clone();
    let ev = base.new_timer(Flags::NONE, move |base, _, _| s.set(Some(base.dispatch().unwrap_err().kind()))).unwrap();
    base.activate(ev, Flags::TIMEOUT).unwrap();
    dispatch(&mut base);
    assert_eq!(seen.get(), Some(ErrorKind::WouldBlock));
}

fn bad_input_is_refused(b: Method) {
    let mut base = base_with(b, EventConfig::new().priorities(2));
    let ev = base.new_timer(Flags::NONE, |_, _, _| {}).unwrap();
    assert_eq!(base.set_priority(ev, 2).unwrap_err().kind(), ErrorKind::InvalidInput);
    base.activate(ev, Flags::TIMEOUT).unwrap();
    let err = base.set_priority(ev, 0).unwrap_err();
    assert!(err.to_string().contains("active"), "{err}");
    base.free(ev).unwrap();
    for e in [base.add(ev, None), base.del(ev), base.activate(ev, Flags::READ), base.free(ev)] {
        assert_eq!(e.unwrap_err().kind(), ErrorKind::NotFound);
    }
    assert_eq!(base.pending(ev, Flags::READ).unwrap_err().kind(), ErrorKind::NotFound);
    let mut other = self::base(b);
    let foreign: Event = other.new_timer(Flags::NONE, |_, _, _| {}).unwrap();
    assert_eq!(base.add(foreign, None).unwrap_err().kind(), ErrorKind::InvalidInput);
    assert_eq!(base.new_timer(Flags::READ, |_, _, _| {}).unwrap_err().kind(), ErrorKind::InvalidInput);
    assert_eq!(base.new_event(0, Flags::SIGNAL, |_, _, _| {}).unwrap_err().kind(), ErrorKind::InvalidInput);
    for n in [0, 257] {
        let err = overlap_event::EventBase::with_config(&EventConfig::new().method(b).priorities(n)).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{n} priorities: {err}");
    }
    assert_eq!(base.loopexit(Some(Duration::MAX)).unwrap_err().kind(), ErrorKind::InvalidInput);
    assert_eq!(Flags::from_bits(0x4000), None);
}

fn features_and_config(b: Method) {
    let base = base(b);
    let f = base.features();
    assert_eq!(
        f.contains(overlap_event::Features::EDGE_TRIGGERED),
        matches!(b.reactor(), Some(ReactorBackend::Epoll | ReactorBackend::Kqueue))
    );
    if let Some(r) = b.reactor() {
        let err = overlap_event::EventBase::with_config(&EventConfig::new().backend(r).avoid(r)).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Unsupported);
        assert!(err.to_string().contains("avoided"), "{err}");
    }
    if !f.contains(overlap_event::Features::EDGE_TRIGGERED) {
        let err = overlap_event::EventBase::with_config(
            &EventConfig::new().method(b).require(overlap_event::Features::EDGE_TRIGGERED),
        )
        .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Unsupported, "{err}");
    }
}

fn many_events_added_and_freed_leave_nothing(b: Method) {
    let mut base = base(b);
    let (a, _peer) = pair();
    for round in 0..10 {
        let mut evs = Vec::new();
        for i in 0..10_000 {
            let ev = if i % 2 == 0 {
                base.new_event(fd(&a), Flags::READ, |_, _, _| {}).unwrap()
            } else {
                base.new_timer(Flags::NONE, |_, _, _| {}).unwrap()
            };
            base.add(ev, Some(Duration::from_secs(60))).unwrap();
            evs.push(ev);
        }
        assert_eq!(base.num_pending(), 10_000, "round {round}");
        for ev in evs {
            base.free(ev).unwrap();
        }
        assert_eq!((base.num_events(), base.num_pending(), base.num_active()), (0, 0, 0));
    }
    assert_eq!(base.run_nonblocking().unwrap(), LoopEnd::NoEvents);
}

fn main() {
    run_suite(
        "event_loop",
        cases![
            no_events_returns_at_once,
            loopexit_without_delay_ends_after_the_active_callbacks,
            loopexit_with_delay,
            loopbreak_stops_after_the_current_callback,
            free_self_inside_callback,
            freeing_another_active_event_keeps_it_from_running,
            deleting_another_active_event_keeps_it_from_running,
            readding_self_from_callback,
            activate_runs_the_callback_with_the_flags,
            active_later_runs_in_the_next_iteration,
            priorities_run_lowest_number_first,
            a_busy_high_priority_starves_lower_ones,
            max_dispatch_callbacks_lets_timers_in,
            once_runs_once_and_frees_itself,
            dispatch_from_a_callback_is_refused,
            bad_input_is_refused,
            features_and_config,
            many_events_added_and_freed_leave_nothing,
        ],
    );
}
