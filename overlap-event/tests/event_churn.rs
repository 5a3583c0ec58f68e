//! Conformance: churn and leaks (libevent's `test-fdleak`, `main/many_events`, libevent#1800's
//! "memory is never given back"): events made, added and freed by the hundred thousand, a
//! million timers added and cancelled, what one idle event costs, descriptors given back with
//! the base, on every available backend. The cases run one at a time: they count the
//! process's open descriptors, which the other cases would change under them.

mod util;

use std::cell::Cell;
use std::io::{ErrorKind, Write};
use std::rc::Rc;
use std::time::{Duration, Instant};

use overlap_event::{Event, EventBase, Flags, LoopEnd, Method};
use util::*;

/// What a base keeps once every event is gone may exceed a fresh base's by this much (the
/// tables keep a floor of room so that a busy base does not shrink and grow all the time).
const KEEP: usize = 256 * 1024;

/// How many connected pairs the cases that spread events over descriptors make (loopback TCP
/// pairs under Wine come slowly).
const PAIRS: usize = if cfg!(windows) { 100 } else { 1000 };

fn kib(n: usize) -> f64 {
    n as f64 / 1024.0
}

fn hundred_thousand_events_made_added_and_freed_leave_nothing(b: Method) {
    #[cfg(target_os = "linux")]
    let fds_before = open_fds();
    let mut base = base(b);
    let empty = base.memory();
    // A hundred events per descriptor (adding to a descriptor costs in proportion to the events
    // on it, as it does in libevent's evmap).
    let pairs: Vec<_> = (0..PAIRS).map(|_| pair()).collect();
    let mut evs = Vec::with_capacity(100_000);
    for i in 0..100_000usize {
        let (a, _) = &pairs[i % pairs.len()];
        let ev = match i % 3 {
            0 => base.new_timer(Flags::NONE, |_, _, _| panic!("a freed timer ran")).unwrap(),
            1 => base.new_event(fd(a), Flags::READ, |_, _, _| panic!("a freed read event ran")).unwrap(),
            _ => base.new_event(fd(a), Flags::WRITE, |_, _, _| panic!("a freed write event ran")).unwrap(),
        };
        // Timers need a timeout to be pending; half the descriptors' events get one too.
        let timeout = (i % 3 == 0 || i % 2 == 0).then(|| Duration::from_secs(60 + (i % 1000) as u64));
        base.add(ev, timeout).unwrap();
        evs.push(ev);
    }
    assert_eq!((base.num_events(), base.num_pending()), (100_000, 100_000));
    let peak = base.memory();
    for ev in evs {
        base.free(ev).unwrap();
    }
    assert_eq!((base.num_events(), base.num_pending(), base.num_active()), (0, 0, 0));
    let after = base.memory();
    println!(
        "[{b}] 100k events: empty base {:.1} KiB, peak {:.1} KiB, after freeing {:.1} KiB",
        kib(empty),
        kib(peak),
        kib(after)
    );
    assert!(after <= empty + KEEP, "[{b}] {after} bytes kept after freeing everything (empty base: {empty})");
    assert!(after * 10 < peak, "[{b}] {after} of {peak} bytes kept");
    // Nothing is registered any more: the write events on always-writable sockets do not fire.
    assert_eq!(base.run_nonblocking().unwrap(), LoopEnd::NoEvents);
    // And a descriptor that had many events is watched afresh.
    let (a, mut peer) = pairs.into_iter().next().unwrap();
    let n = counter();
    let c = n.clone();
    let ev = base.new_event(fd(&a), Flags::READ, move |_, _, _| c.set(c.get() + 1)).unwrap();
    base.add(ev, None).unwrap();
    peer.write_all(b"x").unwrap();
    assert_eq!(dispatch(&mut base), LoopEnd::NoEvents);
    assert_eq!(n.get(), 1);
    drop(base);
    drop((a, peer));
    #[cfg(target_os = "linux")]
    assert_eq!(open_fds(), fds_before, "[{b}] descriptors leaked");
}

fn a_million_timers_added_and_cancelled_give_the_memory_back(b: Method) {
    const N: usize = 1_000_000;
    let mut base = base(b);
    let empty = base.memory();
    let start = Instant::now();
    let mut evs = Vec::with_capacity(N);
    for i in 0..N {
        let ev = base.new_timer(Flags::NONE, |_, _, _| panic!("a cancelled timer ran")).unwrap();
        // Deadlines spread over every level of the wheel: 1 ms to about 11 days.
        base.add(ev, Some(Duration::from_millis(1 + (i as u64 * 7919) % 1_000_000_000))).unwrap();
        evs.push(ev);
    }
    let peak = base.memory();
    // Cancel in an order unlike the insertion's: every other one, then the rest backwards.
    for ev in evs.iter().step_by(2) {
        base.del(*ev).unwrap();
    }
    for ev in evs.iter().skip(1).step_by(2).rev() {
        base.del(*ev).unwrap();
    }
    assert_eq!(base.num_pending(), 0);
    let deleted = base.memory();
    for ev in evs {
        base.free(ev).unwrap();
    }
    let after = base.memory();
    println!(
        "[{b}] 1M timers in {:?}: empty {:.1} KiB, peak {:.1} KiB, all deleted {:.1} KiB, all freed {:.1} KiB",
        start.elapsed(),
        kib(empty),
        kib(peak),
        kib(deleted),
        kib(after)
    );
    assert_eq!((base.num_events(), base.num_pending()), (0, 0));
    assert!(deleted < peak, "[{b}] deleting a million timers gave nothing back");
    assert!(after <= 2 * empty || after <= empty + KEEP, "[{b}] {after} bytes kept (empty base: {empty})");
    assert_eq!(base.run_nonblocking().unwrap(), LoopEnd::NoEvents, "no cancelled timer is left to fire");
}

fn add_and_delete_churn_on_one_descriptor_pair(b: Method) {
    let mut base = base(b);
    let (a, mut peer) = pair();
    peer.write_all(b"ready").unwrap(); // readable and writable all along
    let empty = base.memory();
    let evs: Vec<Event> = (0..100)
        .map(|i| {
            let what = if i % 2 == 0 { Flags::READ } else { Flags::WRITE | Flags::PERSIST };
            base.new_event(fd(&a), what, |_, _, _| panic!("a deleted event ran")).unwrap()
        })
        .collect();
    for round in 0..1000 {
        for ev in &evs {
            base.add(*ev, None).unwrap();
        }
        assert_eq!(base.num_pending(), 100, "round {round}");
        // Half deleted in the order added, half backwards, so the descriptor's list is cut
        // at both ends.
        for ev in evs[..50].iter().chain(evs[50..].iter().rev()) {
            base.del(*ev).unwrap();
        }
        assert_eq!(base.num_pending(), 0, "round {round}");
        assert_eq!(base.run_nonblocking().unwrap(), LoopEnd::NoEvents, "round {round}: a stale registration fired");
    }
    for ev in evs {
        base.free(ev).unwrap();
    }
    let after = base.memory();
    println!("[{b}] 100k adds on one pair: empty {:.1} KiB, after {:.1} KiB", kib(empty), kib(after));
    assert!(after <= empty + KEEP, "[{b}] {after} bytes kept (empty base: {empty})");
    // The descriptor is still watched correctly: one event, one run.
    let n = counter();
    let c = n.clone();
    let ev = base.new_event(fd(&a), Flags::READ, move |_, _, fired| {
        assert_eq!(fired, Flags::READ);
        c.set(c.get() + 1);
    });
    base.add(ev.unwrap(), None).unwrap();
    assert_eq!(dispatch(&mut base), LoopEnd::NoEvents);
    assert_eq!(n.get(), 1);
}

fn an_idle_event_costs_little_memory(b: Method) {
    const N: usize = 100 * PAIRS;
    const LIMIT: usize = 256;
    let pairs: Vec<_> = (0..PAIRS).map(|_| pair()).collect();
    let measure = |what: &str, make: &dyn Fn(&mut EventBase, usize) -> Event| {
        let mut base = base(b);
        let empty = base.memory();
        let evs: Vec<Event> = (0..N).map(|i| make(&mut base, i)).collect();
        assert_eq!(base.num_pending(), N);
        let per = (base.memory() - empty) / N;
        println!("[{b}] an idle {what}: {per} bytes (of the base's tables, over {N})");
        assert!(per <= LIMIT, "[{b}] an idle {what} costs {per} bytes (limit {LIMIT})");
        for ev in evs {
            base.free(ev).unwrap();
        }
        per
    };
    let io = measure("read event on a descriptor", &|base, i| {
        let ev = base.new_event(fd(&pairs[i % pairs.len()].0), Flags::READ, |_, _, _| {}).unwrap();
        base.add(ev, None).unwrap();
        ev
    });
    let timer = measure("timer", &|base, i| {
        let ev = base.new_timer(Flags::NONE, |_, _, _| {}).unwrap();
        base.add(ev, Some(Duration::from_secs(60 + i as u64 % 600))).unwrap();
        ev
    });
    let both = measure("read event with a timeout", &|base, i| {
        let ev = base.new_event(fd(&pairs[i % pairs.len()].0), Flags::READ, |_, _, _| {}).unwrap();
        base.add(ev, Some(Duration::from_secs(60 + i as u64 % 600))).unwrap();
        ev
    });
    assert!(both >= timer.max(io), "a timeout adds to an event's cost");
}

fn a_burst_of_activations_gives_its_queue_back(b: Method) {
    const N: usize = 100_000;
    let mut base = base(b);
    let ran = counter();
    let evs: Vec<Event> = (0..N)
        .map(|_| {
            let r = ran.clone();
            base.new_timer(Flags::NONE, move |_, _, _| r.set(r.get() + 1)).unwrap()
        })
        .collect();
    let idle = base.memory();
    for ev in &evs {
        base.activate(*ev, Flags::TIMEOUT).unwrap();
    }
    assert_eq!(base.num_active(), N);
    let queued = base.memory();
    assert!(queued > idle, "the run queue holds the activations");
    assert_eq!(dispatch(&mut base), LoopEnd::NoEvents);
    assert_eq!(ran.get(), N);
    let after = base.memory();
    println!(
        "[{b}] {N} activations: idle {:.1} KiB, queued {:.1} KiB, after {:.1} KiB",
        kib(idle),
        kib(queued),
        kib(after)
    );
    assert!(after <= idle + 64 * 1024, "[{b}] the run queue kept {} bytes", after - idle);
    // The same again, for the next iteration: the later list is given back too.
    for ev in &evs {
        base.activate_later(*ev, Flags::READ).unwrap();
    }
    assert_eq!(dispatch(&mut base), LoopEnd::NoEvents);
    assert_eq!(ran.get(), 2 * N);
    assert!(base.memory() <= idle + 64 * 1024, "[{b}] after a second burst: {} bytes", base.memory());
}

fn a_busy_loop_holds_its_memory_steady(b: Method) {
    // A persistent zero timer, an event that re-activates itself for the next iteration, and a
    // persistent read event on a descriptor that stays readable: ten thousand iterations.
    let mut base = base(b);
    let (a, mut peer) = pair();
    peer.write_all(b"always readable").unwrap();
    let iterations = counter();
    let at_100 = Rc::new(Cell::new(0usize));
    let (it, mark) = (iterations.clone(), at_100.clone());
    let ticker = base
        .new_timer(Flags::PERSIST, move |base, _, _| {
            it.set(it.get() + 1);
            if it.get() == 100 {
                mark.set(base.memory());
            }
            if it.get() == 10_000 {
                base.loopbreak();
            }
        })
        .unwrap();
    base.add(ticker, Some(Duration::ZERO)).unwrap();
    let spins = counter();
    let s = spins.clone();
    let spinner = base.new_timer(Flags::NONE, move |base, ev, _| {
        s.set(s.get() + 1);
        base.activate_later(ev, Flags::TIMEOUT).unwrap();
    });
    base.activate(spinner.unwrap(), Flags::TIMEOUT).unwrap();
    let reads = counter();
    let r = reads.clone();
    let reader = base.new_event(fd(&a), Flags::READ | Flags::PERSIST, move |_, _, _| r.set(r.get() + 1)).unwrap();
    base.add(reader, Some(Duration::from_secs(3600))).unwrap();
    assert_eq!(dispatch(&mut base), LoopEnd::Break);
    assert_eq!(iterations.get(), 10_000);
    assert!(spins.get() >= 9_000 && reads.get() >= 9_000, "{} spins, {} reads", spins.get(), reads.get());
    let (m100, end) = (at_100.get(), base.memory());
    println!("[{b}] busy loop: {:.1} KiB at iteration 100, {:.1} KiB at 10000", kib(m100), kib(end));
    assert!(end <= m100 + 4096, "[{b}] the loop grew from {m100} to {end} bytes");
}

fn stale_ids_stay_refused_through_churn(b: Method) {
    let mut base = base(b);
    let (a, _peer) = pair();
    let old = base.new_event(fd(&a), Flags::READ, |_, _, _| {}).unwrap();
    base.free(old).unwrap();
    // A hundred thousand events come and go; their indices are reused, the old one's too.
    let mut last = None;
    for _ in 0..100_000 {
        let ev = base.new_timer(Flags::NONE, |_, _, _| {}).unwrap();
        if let Some(prev) = last.replace(ev) {
            base.free(prev).unwrap();
        }
    }
    let live = last.unwrap();
    assert_ne!(live, old);
    base.add(live, Some(Duration::from_secs(60))).unwrap();
    assert_eq!(base.add(old, None).unwrap_err().kind(), ErrorKind::NotFound);
    assert_eq!(base.del(old).unwrap_err().kind(), ErrorKind::NotFound);
    assert_eq!(base.activate(old, Flags::READ).unwrap_err().kind(), ErrorKind::NotFound);
    assert_eq!(base.set_priority(old, 0).unwrap_err().kind(), ErrorKind::NotFound);
    assert_eq!(base.free(old).unwrap_err().kind(), ErrorKind::NotFound);
    assert_eq!(base.flags(old).unwrap_err().kind(), ErrorKind::NotFound);
    // The live event, perhaps in the old one's place, was not touched by any of that.
    assert_eq!(base.pending(live, Flags::TIMEOUT).unwrap().0, Flags::TIMEOUT);
    assert_eq!((base.num_events(), base.num_pending(), base.num_active()), (1, 1, 0));
    assert_eq!(base.flags(live).unwrap(), Flags::NONE);
}

fn bases_made_and_dropped_give_their_descriptors_back(b: Method) {
    #[cfg(target_os = "linux")]
    let fds_before = open_fds();
    let (a, mut peer) = pair();
    peer.write_all(b"x").unwrap();
    for i in 0..200 {
        let mut base = base(b);
        let ev = base.new_event(fd(&a), Flags::READ | Flags::PERSIST, |_, _, _| {}).unwrap();
        base.add(ev, Some(Duration::from_secs(60))).unwrap();
        let t = base.new_timer(Flags::NONE, |_, _, _| {}).unwrap();
        base.add(t, Some(Duration::from_secs(60))).unwrap();
        let handle = base.handle();
        if i % 2 == 0 {
            assert_eq!(base.run_once().unwrap(), LoopEnd::Done, "the read event ran");
        }
        drop(base); // with its events pending
        drop(handle);
    }
    drop((a, peer));
    #[cfg(target_os = "linux")]
    assert_eq!(open_fds(), fds_before, "[{b}] 200 bases leaked descriptors");
}

fn main() {
    run_suite_with(
        "event_churn",
        cases![
            hundred_thousand_events_made_added_and_freed_leave_nothing,
            a_million_timers_added_and_cancelled_give_the_memory_back,
            add_and_delete_churn_on_one_descriptor_pair,
            an_idle_event_costs_little_memory,
            a_burst_of_activations_gives_its_queue_back,
            a_busy_loop_holds_its_memory_steady,
            stale_ids_stay_refused_through_churn,
            bases_made_and_dropped_give_their_descriptors_back,
        ],
        true,
    );
}
