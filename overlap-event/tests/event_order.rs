//! Conformance: what runs when, and what the calls refuse (libevent's `main/priorities`,
//! `priority_active_inversion`, `active_later`, `common_timeout`, `event_once`,
//! `event_pending`, `loopexit_multiple`, `bad_reentrant`, `event_base_new_with_config` with
//! `max_dispatch_interval`, and `timer_huge_timeout` from libuv), on every available backend.

mod util;

use std::io::ErrorKind;
use std::time::{Duration, Instant};

use overlap_event::{Event, EventBase, EventConfig, Flags, LoopEnd, LoopFlags, Method};
use util::*;

const HOUR: Duration = Duration::from_secs(3600);

/// A timer that keeps the loop from running out of events (an hour away).
fn keep_alive(base: &mut EventBase) -> Event {
    let ev = base.new_timer(Flags::NONE, |_, _, _| panic!("the keep-alive timer fired")).unwrap();
    base.add(ev, Some(HOUR)).unwrap();
    ev
}

/// A timer event that logs `name` when it runs.
fn logger(base: &mut EventBase, order: &Log<&'static str>, name: &'static str) -> Event {
    let o = order.clone();
    base.new_timer(Flags::NONE, move |_, _, _| o.borrow_mut().push(name)).unwrap()
}

fn timer_ties_run_by_priority_then_in_the_order_added(b: Method) {
    // Added from a callback, the timers share one cached time, so their deadlines are equal
    // to the nanosecond and expire in one iteration: priority 0 runs first, and within a
    // priority, the order added.
    let mut base = base_with(b, EventConfig::new().priorities(3));
    let order = log::<(usize, u32)>();
    let o = order.clone();
    let setup = base
        .new_timer(Flags::NONE, move |base, _, _| {
            for i in 0..30u32 {
                let p = [2usize, 0, 1][i as usize % 3];
                let o = o.clone();
                let ev = base.new_timer(Flags::NONE, move |_, _, _| o.borrow_mut().push((p, i))).unwrap();
                base.set_priority(ev, p).unwrap();
                base.add(ev, Some(Duration::from_millis(5))).unwrap();
            }
        })
        .unwrap();
    base.activate(setup, Flags::TIMEOUT).unwrap();
    assert_eq!(dispatch(&mut base), LoopEnd::NoEvents);
    let got = order.borrow().clone();
    let mut want = got.clone();
    want.sort(); // by priority, then by i (the order added)
    assert_eq!(got.len(), 30);
    assert_eq!(got, want);
}

fn a_hundred_thousand_equal_timeouts_fire_in_the_order_added(b: Method) {
    // libevent's common timeouts: many timers of one duration, added in one iteration (one
    // deadline for all), fire in the order added, every one of them.
    const N: u32 = 100_000;
    let mut base = base(b);
    let order = log::<u32>();
    let o = order.clone();
    let setup = base
        .new_timer(Flags::NONE, move |base, _, _| {
            for i in 0..N {
                let o = o.clone();
                let ev = base.new_timer(Flags::NONE, move |_, _, _| o.borrow_mut().push(i)).unwrap();
                base.add(ev, Some(Duration::from_millis(10))).unwrap();
            }
        })
        .unwrap();
    base.activate(setup, Flags::TIMEOUT).unwrap();
    assert_eq!(dispatch(&mut base), LoopEnd::NoEvents);
    let order = order.borrow();
    assert_eq!(order.len(), N as usize);
    if let Some(i) = (1..order.len()).find(|&i| order[i - 1] > order[i]) {
        panic!("[{b}] timer {} fired before timer {}", order[i - 1], order[i]);
    }
    assert_eq!((base.num_events(), base.num_pending()), (N as usize + 1, 0), "fired: not pending, not freed");
}

fn timers_cancelled_by_an_earlier_timer_of_their_iteration_do_not_run(b: Method) {
    let mut base = base(b);
    let order = log::<&str>();
    let o = order.clone();
    let evs = std::rc::Rc::new(std::cell::RefCell::new(Vec::<Event>::new()));
    let e = evs.clone();
    let setup = base
        .new_timer(Flags::NONE, move |base, _, _| {
            // Equal deadlines: they expire together, in this order.
            let o2 = o.clone();
            let e2 = e.clone();
            let first = base
                .new_timer(Flags::NONE, move |base, _, _| {
                    o2.borrow_mut().push("first");
                    let (deleted, freed) = (e2.borrow()[1], e2.borrow()[2]);
                    assert_eq!(base.pending(deleted, Flags::TIMEOUT).unwrap().0, Flags::TIMEOUT, "active");
                    base.del(deleted).unwrap();
                    base.free(freed).unwrap();
                })
                .unwrap();
            let deleted = logger(base, &o, "deleted");
            let freed = logger(base, &o, "freed");
            let last = logger(base, &o, "last");
            for ev in [first, deleted, freed, last] {
                base.add(ev, Some(Duration::from_millis(5))).unwrap();
                e.borrow_mut().push(ev);
            }
        })
        .unwrap();
    base.activate(setup, Flags::TIMEOUT).unwrap();
    assert_eq!(dispatch(&mut base), LoopEnd::NoEvents);
    assert_eq!(*order.borrow(), vec!["first", "last"]);
    let deleted = evs.borrow()[1];
    assert_eq!(base.pending(deleted, Flags::TIMEOUT).unwrap(), (Flags::NONE, None));
    assert_eq!((base.num_pending(), base.num_active()), (0, 0));
    // Deleted, not gone: it can be added again, and runs.
    base.add(deleted, Some(Duration::ZERO)).unwrap();
    assert_eq!(dispatch(&mut base), LoopEnd::NoEvents);
    assert_eq!(*order.borrow(), vec!["first", "last", "deleted"]);
}

fn inside_its_callback_only_a_persistent_event_is_still_pending(b: Method) {
    let mut base = base(b);
    let (a, mut peer) = pair();
    std::io::Write::write_all(&mut peer, b"x").unwrap();
    let seen = log::<(&str, Flags, bool)>();
    let s = seen.clone();
    let once = base
        .new_event(fd(&a), Flags::READ, move |base, ev, _| {
            let (flags, due) = base.pending(ev, Flags::READ | Flags::TIMEOUT).unwrap();
            s.borrow_mut().push(("once", flags, due.is_some()));
        })
        .unwrap();
    let s = seen.clone();
    let persist = base
        .new_event(fd(&a), Flags::READ | Flags::PERSIST, move |base, ev, _| {
            let (flags, due) = base.pending(ev, Flags::READ | Flags::TIMEOUT).unwrap();
            // Fired by READ: its timeout starts again from now.
            assert!(due.unwrap() >= base.now() + Duration::from_secs(59), "the timeout is re-armed from now");
            s.borrow_mut().push(("persist", flags, due.is_some()));
            base.del(ev).unwrap();
        })
        .unwrap();
    base.add(once, Some(Duration::from_secs(60))).unwrap();
    base.add(persist, Some(Duration::from_secs(60))).unwrap();
    assert_eq!(dispatch(&mut base), LoopEnd::NoEvents);
    let mut seen = seen.borrow().clone();
    seen.sort_by_key(|(name, _, _)| *name);
    assert_eq!(seen, vec![("once", Flags::NONE, false), ("persist", Flags::READ | Flags::TIMEOUT, true)]);
}

fn activating_a_pending_event_keeps_it_pending(b: Method) {
    let mut base = base(b);
    let (a, _peer) = pair(); // nothing to read: only the activation makes it run
    let got = log::<Flags>();
    let g = got.clone();
    let ev = base.new_event(fd(&a), Flags::READ | Flags::PERSIST, move |_, _, fired| g.borrow_mut().push(fired));
    let ev = ev.unwrap();
    base.add(ev, Some(HOUR)).unwrap();
    let due = base.pending(ev, Flags::TIMEOUT).unwrap().1.unwrap();
    base.activate(ev, Flags::WRITE).unwrap();
    let all = Flags::READ | Flags::WRITE | Flags::TIMEOUT;
    assert_eq!(base.pending(ev, all).unwrap().0, all, "pending (READ, TIMEOUT) and active (WRITE)");
    assert_eq!((base.num_pending(), base.num_active()), (1, 1));
    assert_eq!(base.run_once().unwrap(), LoopEnd::Done);
    assert_eq!(*got.borrow(), vec![Flags::WRITE]);
    let (flags, due2) = base.pending(ev, all).unwrap();
    assert_eq!(flags, Flags::READ | Flags::TIMEOUT, "still watching, still timed, no longer active");
    assert!(due2.unwrap() >= due, "the timeout starts again when it runs");
    assert_eq!((base.num_pending(), base.num_active()), (1, 0));
    // A non-persistent event activated while pending runs once and is then deleted (as libevent).
    let single = base.new_event(fd(&a), Flags::READ, |_, _, _| {}).unwrap();
    base.add(single, Some(HOUR)).unwrap();
    base.activate(single, Flags::READ).unwrap();
    assert_eq!(base.run_once().unwrap(), LoopEnd::Done);
    assert_eq!(base.pending(single, all).unwrap().0, Flags::NONE);
    assert_eq!(base.num_pending(), 1, "only the persistent one is left");
}

fn activate_later_twice_runs_once_with_the_flags_joined(b: Method) {
    let mut base = base(b);
    let order = log::<(&str, Flags)>();
    let o = order.clone();
    let twice = base.new_timer(Flags::NONE, move |_, _, fired| o.borrow_mut().push(("twice", fired))).unwrap();
    let o = order.clone();
    let first = base
        .new_timer(Flags::NONE, move |base, _, _| {
            o.borrow_mut().push(("first", Flags::NONE));
            base.activate_later(twice, Flags::READ).unwrap();
            base.activate_later(twice, Flags::WRITE).unwrap();
            assert_eq!(base.num_active(), 1, "one activation, pending for the next iteration");
            assert_eq!(base.pending(twice, Flags::READ | Flags::WRITE).unwrap().0, Flags::READ | Flags::WRITE);
        })
        .unwrap();
    base.activate(first, Flags::TIMEOUT).unwrap();
    assert_eq!(dispatch(&mut base), LoopEnd::NoEvents);
    assert_eq!(*order.borrow(), vec![("first", Flags::NONE), ("twice", Flags::READ | Flags::WRITE)]);
}

fn activate_promotes_an_event_active_later_to_now(b: Method) {
    // libevent's event_active on an event that is active later moves it to the run queue now
    // (`event_callback_activate_nolock_`): it runs in this iteration, in the place of that
    // activation.
    let mut base = base(b);
    let order = log::<&str>();
    let promoted = logger(&mut base, &order, "promoted");
    let other = logger(&mut base, &order, "other");
    base.activate_later(promoted, Flags::READ).unwrap();
    base.activate(promoted, Flags::WRITE).unwrap();
    base.activate(other, Flags::TIMEOUT).unwrap();
    assert_eq!(base.num_active(), 2);
    assert_eq!(dispatch(&mut base), LoopEnd::NoEvents);
    assert_eq!(*order.borrow(), vec!["promoted", "other"]);
}

fn once_runs_for_whichever_comes_first(b: Method) {
    let mut base = base(b);
    let (a, mut peer) = pair();
    // The descriptor first: ready now, an hour's timeout.
    std::io::Write::write_all(&mut peer, b"x").unwrap();
    let got = log::<Flags>();
    let g = got.clone();
    base.once(Some(fd(&a)), Flags::READ, Some(HOUR), move |_, fired| g.borrow_mut().push(fired)).unwrap();
    assert_eq!((base.num_events(), base.num_pending()), (1, 1));
    assert_eq!(dispatch(&mut base), LoopEnd::NoEvents, "the timeout went with the event");
    assert_eq!(*got.borrow(), vec![Flags::READ]);
    assert_eq!(base.num_events(), 0);
    // The timeout first: a descriptor with nothing to write... to read.
    let (quiet, _quiet_peer) = pair();
    let start = Instant::now();
    let g = got.clone();
    base.once(Some(fd(&quiet)), Flags::READ, Some(Duration::from_millis(5)), move |_, fired| {
        g.borrow_mut().push(fired)
    })
    .unwrap();
    assert_eq!(dispatch(&mut base), LoopEnd::NoEvents, "the descriptor went with the event");
    assert!(start.elapsed() >= Duration::from_millis(5));
    assert_eq!(*got.borrow(), vec![Flags::READ, Flags::TIMEOUT]);
    assert_eq!(base.num_events(), 0);
    // Neither descriptor is watched any more; a new event on one is watched afresh (its byte
    // is still unread).
    let n = counter();
    let c = n.clone();
    let ev = base.new_event(fd(&a), Flags::READ, move |_, _, _| c.set(c.get() + 1)).unwrap();
    base.add(ev, None).unwrap();
    assert_eq!(dispatch(&mut base), LoopEnd::NoEvents);
    assert_eq!(n.get(), 1);
}

fn once_refusals_leave_no_event(b: Method) {
    let mut base = base(b);
    let (a, _peer) = pair();
    // A descriptor that cannot be open (beyond the process's limit on Unix; closed on Windows).
    #[cfg(unix)]
    let dead: overlap_event::Fd = 1 << 30;
    #[cfg(windows)]
    let dead = {
        let (x, _y) = pair();
        fd(&x)
    };
    let cases: Vec<(&str, std::io::Result<()>)> = vec![
        ("PERSIST", base.once(Some(fd(&a)), Flags::READ | Flags::PERSIST, None, |_, _| panic!("ran"))),
        ("SIGNAL", base.once(None, Flags::SIGNAL, None, |_, _| panic!("ran"))),
        ("READ without a descriptor", base.once(None, Flags::READ, None, |_, _| panic!("ran"))),
        ("Duration::MAX", base.once(None, Flags::TIMEOUT, Some(Duration::MAX), |_, _| panic!("ran"))),
        (
            "Duration::MAX on a descriptor",
            base.once(Some(fd(&a)), Flags::READ, Some(Duration::MAX), |_, _| panic!("ran")),
        ),
        ("a closed descriptor", base.once(Some(dead), Flags::READ, None, |_, _| panic!("ran"))),
    ];
    for (what, res) in cases {
        let err = res.expect_err(what);
        if what != "a closed descriptor" {
            assert_eq!(err.kind(), ErrorKind::InvalidInput, "{what}: {err}");
        }
        assert_eq!((base.num_events(), base.num_pending()), (0, 0), "{what} left an event behind");
    }
    assert_eq!(base.run_nonblocking().unwrap(), LoopEnd::NoEvents);
}

fn pending_reports_what_and_when(b: Method) {
    let mut base = base(b);
    let (a, _peer) = pair();
    let all = Flags::READ | Flags::WRITE | Flags::TIMEOUT | Flags::SIGNAL | Flags::CLOSED;
    let ev = base.new_event(fd(&a), Flags::READ | Flags::WRITE, |_, _, _| {}).unwrap();
    assert_eq!(base.pending(ev, all).unwrap(), (Flags::NONE, None), "made, not added");
    let before = Instant::now();
    base.add(ev, Some(Duration::from_secs(10))).unwrap();
    let after = Instant::now();
    let (flags, due) = base.pending(ev, all).unwrap();
    assert_eq!(flags, Flags::READ | Flags::WRITE | Flags::TIMEOUT);
    let due = due.unwrap();
    assert!(due >= before + Duration::from_secs(10) && due <= after + Duration::from_secs(10), "due at add + 10 s");
    assert_eq!(base.pending(ev, Flags::READ).unwrap(), (Flags::READ, None), "the time only when TIMEOUT is asked");
    assert_eq!(base.pending(ev, Flags::TIMEOUT).unwrap(), (Flags::TIMEOUT, Some(due)));
    assert_eq!(base.pending(ev, Flags::SIGNAL | Flags::CLOSED).unwrap(), (Flags::NONE, None));
    base.add(ev, None).unwrap();
    assert_eq!(base.pending(ev, Flags::TIMEOUT).unwrap().1, Some(due), "re-added without a timeout: kept");
    base.del(ev).unwrap();
    assert_eq!(base.pending(ev, all).unwrap(), (Flags::NONE, None));
    base.add(ev, None).unwrap();
    assert_eq!(base.pending(ev, all).unwrap(), (Flags::READ | Flags::WRITE, None), "no timeout after a delete");
    base.free(ev).unwrap();
    // After firing: a one-shot timer is not pending; a persistent one is, one period on.
    let one = base.new_timer(Flags::NONE, |_, _, _| {}).unwrap();
    let period = Duration::from_millis(5);
    let first_due = std::rc::Rc::new(std::cell::Cell::new(None::<Instant>));
    let f = first_due.clone();
    let persist = base
        .new_timer(Flags::PERSIST, move |base, ev, _| {
            let (flags, due) = base.pending(ev, Flags::TIMEOUT).unwrap();
            assert_eq!(flags, Flags::TIMEOUT);
            // One period after it was due (or after now, had the loop fallen a period behind).
            let due = due.unwrap();
            assert!(due == f.get().unwrap() + period || due == base.now() + period, "due one period on");
            base.del(ev).unwrap();
        })
        .unwrap();
    base.add(one, Some(Duration::ZERO)).unwrap();
    base.add(persist, Some(period)).unwrap();
    first_due.set(base.pending(persist, Flags::TIMEOUT).unwrap().1);
    assert_eq!(dispatch(&mut base), LoopEnd::NoEvents);
    assert_eq!(base.pending(one, all).unwrap(), (Flags::NONE, None));
    assert_eq!(base.pending(persist, all).unwrap(), (Flags::NONE, None));
}

fn set_priority_is_refused_while_active_and_out_of_range(b: Method) {
    let mut base = base_with(b, EventConfig::new().priorities(4));
    let order = log::<&str>();
    let ev = logger(&mut base, &order, "ev");
    assert_eq!(base.priority(ev).unwrap(), 2, "events start in the middle");
    for p in [4, 255, usize::MAX] {
        let err = base.set_priority(ev, p).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{p}: {err}");
    }
    assert_eq!(base.priority(ev).unwrap(), 2, "a refused change changes nothing");
    base.activate_later(ev, Flags::TIMEOUT).unwrap();
    assert_eq!(base.set_priority(ev, 0).unwrap_err().kind(), ErrorKind::InvalidInput, "active later is active");
    assert_eq!(dispatch(&mut base), LoopEnd::NoEvents);
    base.set_priority(ev, 3).unwrap();
    assert_eq!(base.priority(ev).unwrap(), 3, "allowed again once it ran");
    // Pending (not active), its priority may change, and decides where it runs.
    let (a, mut peer) = pair();
    std::io::Write::write_all(&mut peer, b"x").unwrap();
    let o = order.clone();
    let first_added = base.new_event(fd(&a), Flags::READ, move |_, _, _| o.borrow_mut().push("first added"));
    let first_added = first_added.unwrap();
    let o = order.clone();
    let second_added = base.new_event(fd(&a), Flags::READ, move |_, _, _| o.borrow_mut().push("second added"));
    let second_added = second_added.unwrap();
    base.add(first_added, None).unwrap();
    base.add(second_added, None).unwrap();
    base.set_priority(first_added, 1).unwrap();
    base.set_priority(second_added, 0).unwrap();
    assert_eq!(dispatch(&mut base), LoopEnd::NoEvents);
    assert_eq!(*order.borrow(), vec!["ev", "second added", "first added"]);
}

fn an_event_activated_for_a_lower_priority_waits_for_the_higher_one(b: Method) {
    let mut base = base_with(b, EventConfig::new().priorities(3));
    let order = log::<&str>();
    let low = logger(&mut base, &order, "low (2)");
    let mid = logger(&mut base, &order, "mid (1)");
    let high2 = logger(&mut base, &order, "high (0), activated by high");
    base.set_priority(low, 2).unwrap();
    base.set_priority(mid, 1).unwrap();
    base.set_priority(high2, 0).unwrap();
    let o = order.clone();
    let high = base
        .new_timer(Flags::NONE, move |base, _, _| {
            o.borrow_mut().push("high (0)");
            base.activate(low, Flags::TIMEOUT).unwrap();
            base.activate(mid, Flags::TIMEOUT).unwrap();
            base.activate(high2, Flags::TIMEOUT).unwrap();
        })
        .unwrap();
    base.set_priority(high, 0).unwrap();
    base.activate(high, Flags::TIMEOUT).unwrap();
    assert_eq!(dispatch(&mut base), LoopEnd::NoEvents);
    assert_eq!(*order.borrow(), vec!["high (0)", "high (0), activated by high", "mid (1)", "low (2)"]);
}

fn priority_active_inversion(b: Method) {
    // libevent's main/priority_active_inversion, to the letter: 8 priorities; event 0 (priority
    // 4) activates event 1 (priority 4) and then event 2 (priority 0). Event 2 runs next,
    // before event 1, although activated after it: a callback that activates a higher priority
    // ends its queue's pass (libevent's `event_continue`).
    let mut base = base_with(b, EventConfig::new().priorities(8));
    let order = log::<usize>();
    let evs = std::rc::Rc::new(std::cell::Cell::new(None::<(Event, Event)>));
    let mut ids = Vec::new();
    for i in 0..3usize {
        let (o, e) = (order.clone(), evs.clone());
        let ev = base
            .new_timer(Flags::NONE, move |base, _, _| {
                o.borrow_mut().push(i);
                if o.borrow().len() == 1 {
                    let (one, two) = e.get().unwrap();
                    base.activate(one, Flags::READ).unwrap();
                    base.activate(two, Flags::TIMEOUT).unwrap();
                }
            })
            .unwrap();
        ids.push(ev);
    }
    base.set_priority(ids[0], 4).unwrap();
    base.set_priority(ids[1], 4).unwrap();
    base.set_priority(ids[2], 0).unwrap();
    evs.set(Some((ids[1], ids[2])));
    base.activate(ids[0], Flags::WRITE).unwrap();
    assert_eq!(dispatch(&mut base), LoopEnd::NoEvents);
    assert_eq!(*order.borrow(), vec![0, 2, 1]);
}

fn max_dispatch_callbacks_bound_only_priorities_from_limit_after(b: Method) {
    // One callback per pass for priority 1 and beyond; priority 0 unbounded. Each first callback
    // adds a zero timer at priority 0: it runs as soon as the loop looks at timers again.
    let mut base = base_with(b, EventConfig::new().priorities(2).max_dispatch(None, Some(1), 1));
    let order = log::<&str>();
    let add_first = |base: &mut EventBase, p: usize, names: [&'static str; 4]| {
        let o = order.clone();
        let first = base
            .new_timer(Flags::NONE, move |base, _, _| {
                o.borrow_mut().push(names[0]);
                let o = o.clone();
                let t = base.new_timer(Flags::NONE, move |_, _, _| o.borrow_mut().push(names[3])).unwrap();
                base.set_priority(t, 0).unwrap();
                base.add(t, Some(Duration::ZERO)).unwrap();
            })
            .unwrap();
        base.set_priority(first, p).unwrap();
        base.activate(first, Flags::TIMEOUT).unwrap();
        for name in &names[1..3] {
            let ev = logger(base, &order, name);
            base.set_priority(ev, p).unwrap();
            base.activate(ev, Flags::TIMEOUT).unwrap();
        }
    };
    add_first(&mut base, 0, ["a1", "a2", "a3", "timer after a1"]);
    add_first(&mut base, 1, ["b1", "b2", "b3", "timer after b1"]);
    assert_eq!(dispatch(&mut base), LoopEnd::NoEvents);
    assert_eq!(*order.borrow(), vec!["a1", "a2", "a3", "timer after a1", "b1", "timer after b1", "b2", "b3"]);
}

fn max_dispatch_interval_looks_at_timers_between_callbacks(b: Method) {
    // An interval of zero: the loop looks at timers and the kernel after every callback of
    // the bounded priorities (here all), so a timer due meanwhile runs between them.
    let mut base = base_with(b, EventConfig::new().priorities(2).max_dispatch(Some(Duration::ZERO), None, 0));
    let order = log::<&str>();
    let o = order.clone();
    let first = base
        .new_timer(Flags::NONE, move |base, _, _| {
            o.borrow_mut().push("b1");
            let o = o.clone();
            let t = base.new_timer(Flags::NONE, move |_, _, _| o.borrow_mut().push("timer")).unwrap();
            base.set_priority(t, 0).unwrap();
            base.add(t, Some(Duration::ZERO)).unwrap();
        })
        .unwrap();
    base.set_priority(first, 1).unwrap();
    base.activate(first, Flags::TIMEOUT).unwrap();
    for name in ["b2", "b3"] {
        let ev = logger(&mut base, &order, name);
        base.set_priority(ev, 1).unwrap();
        base.activate(ev, Flags::TIMEOUT).unwrap();
    }
    assert_eq!(dispatch(&mut base), LoopEnd::NoEvents);
    assert_eq!(*order.borrow(), vec!["b1", "timer", "b2", "b3"]);
}

fn loopexit_twice_keeps_the_earlier_time(b: Method) {
    for (first, second) in [(Duration::from_millis(10), HOUR), (HOUR, Duration::from_millis(10))] {
        let mut base = base(b);
        keep_alive(&mut base);
        let start = Instant::now();
        base.loopexit(Some(first)).unwrap();
        base.loopexit(Some(second)).unwrap();
        assert_eq!(dispatch(&mut base), LoopEnd::Exit, "{first:?} then {second:?}");
        assert!(start.elapsed() >= Duration::from_millis(10), "not before the earlier time");
        assert!(base.got_exit());
    }
    // From a callback: a later time does not push back an earlier one, `None` brings it
    // forward to now.
    let mut base = base(b);
    keep_alive(&mut base);
    let ev = base
        .new_timer(Flags::NONE, |base, _, _| {
            base.loopexit(Some(HOUR)).unwrap();
            base.loopexit(None).unwrap();
            base.loopexit(Some(HOUR)).unwrap();
        })
        .unwrap();
    base.activate(ev, Flags::TIMEOUT).unwrap();
    assert_eq!(dispatch(&mut base), LoopEnd::Exit);
}

fn loopexit_before_the_loop_stops_the_next_loop_after_its_callbacks(b: Method) {
    let mut base = base(b);
    let keep = keep_alive(&mut base);
    let order = log::<&str>();
    let ev = logger(&mut base, &order, "active");
    base.activate(ev, Flags::TIMEOUT).unwrap();
    base.loopexit(None).unwrap();
    assert_eq!(dispatch(&mut base), LoopEnd::Exit);
    assert_eq!(*order.borrow(), vec!["active"], "the callbacks active when it started ran first");
    // Spent: the next loop runs until it runs out of events.
    let o = order.clone();
    let last = base
        .new_timer(Flags::NONE, move |base, _, _| {
            o.borrow_mut().push("timer");
            base.free(keep).unwrap();
        })
        .unwrap();
    base.add(last, Some(Duration::from_millis(5))).unwrap();
    assert_eq!(dispatch(&mut base), LoopEnd::NoEvents);
    assert!(!base.got_exit());
    assert_eq!(*order.borrow(), vec!["active", "timer"]);
}

fn loopbreak_outside_the_loop_does_nothing(b: Method) {
    let mut base = base(b);
    let order = log::<&str>();
    let ev = logger(&mut base, &order, "ran");
    base.add(ev, Some(Duration::from_millis(1))).unwrap();
    base.loopbreak();
    base.loopbreak();
    assert_eq!(dispatch(&mut base), LoopEnd::NoEvents);
    assert!(!base.got_break());
    assert_eq!(*order.borrow(), vec!["ran"]);
}

fn nonblocking_and_once_with_nothing_ready(b: Method) {
    let mut base = base(b);
    let (a, _peer) = pair();
    let read = base.new_event(fd(&a), Flags::READ, |_, _, _| panic!("nothing to read")).unwrap();
    base.add(read, None).unwrap();
    let far = base.new_timer(Flags::NONE, |_, _, _| panic!("an hour has not passed")).unwrap();
    base.add(far, Some(HOUR)).unwrap();
    let dog = Watchdog::new(&base);
    for _ in 0..3 {
        assert_eq!(base.run_nonblocking().unwrap(), LoopEnd::Done, "nothing ready: done at once");
    }
    assert!(!dog.fired());
    drop(dog);
    assert_eq!((base.num_pending(), base.num_active()), (2, 0));
    // `run_once` blocks until something runs: here a timer, not before it is due.
    let order = log::<&str>();
    let soon = logger(&mut base, &order, "soon");
    let start = Instant::now();
    base.add(soon, Some(Duration::from_millis(10))).unwrap();
    let dog = Watchdog::new(&base);
    assert_eq!(base.run_once().unwrap(), LoopEnd::Done);
    assert!(!dog.fired());
    assert!(start.elapsed() >= Duration::from_millis(10));
    assert_eq!(*order.borrow(), vec!["soon"]);
    assert_eq!(base.num_pending(), 2, "the others are still waiting");
}

fn nonblocking_returns_with_a_persistent_event_still_ready(b: Method) {
    // `run_nonblocking` runs what is ready now and returns (its docs, and libevent's for
    // EVLOOP_NONBLOCK), even if a persistent event is ready again when its callback is done.
    let mut base = base(b);
    let (a, mut peer) = pair();
    std::io::Write::write_all(&mut peer, b"never read").unwrap();
    let n = counter();
    let c = n.clone();
    let ev = base
        .new_event(fd(&a), Flags::READ | Flags::PERSIST, move |base, _, _| {
            c.set(c.get() + 1);
            if c.get() == 1000 {
                base.loopbreak(); // keeps the test from spinning for ever
            }
        })
        .unwrap();
    base.add(ev, None).unwrap();
    let end = base.run_nonblocking().unwrap();
    assert_eq!((end, n.get()), (LoopEnd::Done, 1), "[{b}] run_nonblocking kept running a ready event");
}

fn every_loop_entry_is_refused_inside_a_callback(b: Method) {
    let mut base = base(b);
    let order = log::<&str>();
    let o = order.clone();
    let ev = base
        .new_timer(Flags::NONE, move |base, _, _| {
            let flags = LoopFlags { no_exit_on_empty: true, ..LoopFlags::default() };
            for res in [base.run_once(), base.run_nonblocking(), base.run(flags), base.dispatch()] {
                let err = res.unwrap_err();
                assert_eq!(err.kind(), ErrorKind::WouldBlock, "{err}");
                assert!(err.to_string().contains("already running"), "{err}");
            }
            o.borrow_mut().push("refused");
        })
        .unwrap();
    let after = logger(&mut base, &order, "after");
    base.activate(ev, Flags::TIMEOUT).unwrap();
    base.activate(after, Flags::TIMEOUT).unwrap();
    assert_eq!(dispatch(&mut base), LoopEnd::NoEvents, "the refusals did not disturb the loop");
    assert!(!base.got_exit() && !base.got_break());
    assert_eq!(*order.borrow(), vec!["refused", "after"]);
}

fn foreign_and_freed_events_are_refused_by_every_call(b: Method) {
    let mut base = base_with(b, EventConfig::new().priorities(2));
    let mut other = self::base(b);
    let foreign = other.new_timer(Flags::PERSIST, |_, _, _| {}).unwrap();
    other.add(foreign, Some(HOUR)).unwrap();
    let freed = base.new_timer(Flags::NONE, |_, _, _| {}).unwrap();
    base.free(freed).unwrap();
    for (ev, kind) in [(foreign, ErrorKind::InvalidInput), (freed, ErrorKind::NotFound)] {
        let results: Vec<(&str, Option<std::io::Error>)> = vec![
            ("add", base.add(ev, None).err()),
            ("del", base.del(ev).err()),
            ("activate", base.activate(ev, Flags::READ).err()),
            ("activate_later", base.activate_later(ev, Flags::READ).err()),
            ("pending", base.pending(ev, Flags::TIMEOUT).err()),
            ("set_priority", base.set_priority(ev, 0).err()),
            ("priority", base.priority(ev).err()),
            ("flags", base.flags(ev).err()),
            ("free", base.free(ev).err()),
        ];
        for (call, err) in results {
            let err = err.unwrap_or_else(|| panic!("{call}({ev:?}) was accepted"));
            assert_eq!(err.kind(), kind, "{call}: {err}");
        }
    }
    assert_eq!((base.num_events(), base.num_pending(), base.num_active()), (0, 0, 0));
    // The other base's event was not touched.
    assert_eq!(other.pending(foreign, Flags::TIMEOUT).unwrap().0, Flags::TIMEOUT);
    assert_eq!((other.num_events(), other.num_pending(), other.num_active()), (1, 1, 0));
    assert_eq!(other.flags(foreign).unwrap(), Flags::PERSIST);
}

fn an_unrepresentable_timeout_is_refused_and_changes_nothing(b: Method) {
    let mut base = base(b);
    let (a, mut peer) = pair();
    let ev = base.new_event(fd(&a), Flags::READ, |_, _, _| panic!("it was never added")).unwrap();
    let err = base.add(ev, Some(Duration::MAX)).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
    assert!(err.to_string().contains("too large"), "{err}");
    assert_eq!(base.pending(ev, Flags::READ | Flags::TIMEOUT).unwrap(), (Flags::NONE, None));
    assert_eq!(base.num_pending(), 0);
    std::io::Write::write_all(&mut peer, b"x").unwrap();
    assert_eq!(dispatch(&mut base), LoopEnd::NoEvents, "the descriptor was not registered");
    // Pending already (without a timeout): it stays as it was.
    let n = counter();
    let c = n.clone();
    let watching = base.new_event(fd(&a), Flags::READ | Flags::PERSIST, move |base, ev, _| {
        c.set(c.get() + 1);
        base.del(ev).unwrap();
    });
    let watching = watching.unwrap();
    base.add(watching, None).unwrap();
    assert!(base.add(watching, Some(Duration::MAX)).is_err());
    assert_eq!(base.pending(watching, Flags::READ | Flags::TIMEOUT).unwrap(), (Flags::READ, None));
    assert_eq!(dispatch(&mut base), LoopEnd::NoEvents);
    assert_eq!(n.get(), 1);
    // A loopexit that far is refused too, and no exit is scheduled.
    assert_eq!(base.loopexit(Some(Duration::MAX)).unwrap_err().kind(), ErrorKind::InvalidInput);
    let t = base.new_timer(Flags::NONE, |_, _, _| {}).unwrap();
    base.add(t, Some(Duration::ZERO)).unwrap();
    assert_eq!(dispatch(&mut base), LoopEnd::NoEvents);
}

fn timeouts_of_years_are_pending_with_the_right_due_time(b: Method) {
    // Across the wheel's ranges: a year (level 5), three years (the overflow list), 600 years
    // (past the wheel's clock), beside a timer of milliseconds that must not be held up.
    let mut base = base(b);
    let year = Duration::from_secs(365 * 86_400);
    let mut far = Vec::new();
    for d in [year, 3 * year, 600 * year] {
        let ev = base.new_timer(Flags::NONE, |_, _, _| panic!("a timeout of years fired")).unwrap();
        let before = Instant::now();
        base.add(ev, Some(d)).unwrap();
        let after = Instant::now();
        let (flags, due) = base.pending(ev, Flags::TIMEOUT).unwrap();
        assert_eq!(flags, Flags::TIMEOUT);
        let due = due.unwrap();
        assert!(due >= before + d && due <= after + d, "{d:?}: due at add + {d:?}");
        far.push((ev, due));
    }
    let order = log::<&str>();
    let soon = logger(&mut base, &order, "soon");
    let start = Instant::now();
    base.add(soon, Some(Duration::from_millis(5))).unwrap();
    let dog = Watchdog::new(&base);
    assert_eq!(base.run_once().unwrap(), LoopEnd::Done);
    assert!(!dog.fired());
    assert!(start.elapsed() >= Duration::from_millis(5));
    assert_eq!(*order.borrow(), vec!["soon"]);
    for (ev, due) in far {
        assert_eq!(base.pending(ev, Flags::TIMEOUT).unwrap(), (Flags::TIMEOUT, Some(due)), "unchanged by the loop");
        base.free(ev).unwrap();
    }
    assert_eq!(base.run_nonblocking().unwrap(), LoopEnd::NoEvents);
}

fn main() {
    run_suite(
        "event_order",
        cases![
            timer_ties_run_by_priority_then_in_the_order_added,
            a_hundred_thousand_equal_timeouts_fire_in_the_order_added,
            timers_cancelled_by_an_earlier_timer_of_their_iteration_do_not_run,
            inside_its_callback_only_a_persistent_event_is_still_pending,
            activating_a_pending_event_keeps_it_pending,
            activate_later_twice_runs_once_with_the_flags_joined,
            once_runs_for_whichever_comes_first,
            once_refusals_leave_no_event,
            pending_reports_what_and_when,
            set_priority_is_refused_while_active_and_out_of_range,
            an_event_activated_for_a_lower_priority_waits_for_the_higher_one,
            max_dispatch_callbacks_bound_only_priorities_from_limit_after,
            max_dispatch_interval_looks_at_timers_between_callbacks,
            loopexit_twice_keeps_the_earlier_time,
            loopexit_before_the_loop_stops_the_next_loop_after_its_callbacks,
            loopbreak_outside_the_loop_does_nothing,
            nonblocking_and_once_with_nothing_ready,
            every_loop_entry_is_refused_inside_a_callback,
            foreign_and_freed_events_are_refused_by_every_call,
            an_unrepresentable_timeout_is_refused_and_changes_nothing,
            timeouts_of_years_are_pending_with_the_right_due_time,
            nonblocking_returns_with_a_persistent_event_still_ready,
            priority_active_inversion,
            activate_promotes_an_event_active_later_to_now,
        ],
    );
}
