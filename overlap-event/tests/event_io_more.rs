//! Conformance: more events on descriptors (libevent's `main/multiple`, `persistent_active`,
//! `test-eof`, `test-weof`, `et/et_multiple_events`, `main/event_closed_fd_poll`, libuv's
//! `poll_duplex` and `tcp_write_to_half_open_connection`), on every available backend.

mod util;

use std::io::{ErrorKind, Read, Write};
use std::time::Duration;

use overlap_event::{Event, Features, Flags, LoopEnd, Method};
use util::*;

fn two_readers_and_a_writer_on_one_descriptor(b: Method) {
    let mut base = base(b);
    let (mut a, mut peer) = pair();
    peer.write_all(b"data").unwrap();
    let got = log::<(&str, Flags)>();
    let mut events = Vec::new();
    for (name, what) in [("r1", Flags::READ | Flags::PERSIST), ("r2", Flags::READ), ("w", Flags::WRITE)] {
        let g = got.clone();
        let ev = base.new_event(fd(&a), what, move |_, _, fired| g.borrow_mut().push((name, fired))).unwrap();
        base.add(ev, None).unwrap();
        events.push(ev);
    }
    // One iteration on epoll and poll; AFD (under Wine at least) may report the two sides in
    // two polls.
    let dog = Watchdog::new(&base);
    while got.borrow().iter().filter(|(name, _)| *name != "r1").count() < 2 && !dog.fired() {
        assert_eq!(base.run_once().unwrap(), LoopEnd::Done);
    }
    drop(dog);
    let mut first = got.borrow().clone();
    first.sort_by_key(|(name, _)| *name);
    first.dedup(); // r1 is persistent: level-triggered, it runs every iteration the data is there
    assert_eq!(first, vec![("r1", Flags::READ), ("r2", Flags::READ), ("w", Flags::WRITE)], "each with its own");
    let [r1, r2, w] = events[..] else { unreachable!() };
    assert_eq!(base.pending(r1, Flags::READ).unwrap().0, Flags::READ, "persistent: still watching");
    assert_eq!(base.pending(r2, Flags::READ).unwrap().0, Flags::NONE);
    assert_eq!(base.pending(w, Flags::WRITE).unwrap().0, Flags::NONE);
    assert_eq!(base.num_pending(), 1);
    // Drained, and with the writer gone, nothing fires although the socket is writable. (AFD
    // may still hand over a readiness it saw before the drain: a stale READ, which a reader
    // must take anyway, as mio documents spurious events.)
    assert_eq!(drain(&mut a), (4, false));
    got.borrow_mut().clear();
    assert_eq!(base.run_nonblocking().unwrap(), LoopEnd::Done);
    assert!(got.borrow().iter().all(|(name, _)| *name == "r1"), "a deleted event ran: {:?}", got.borrow());
    if cfg!(unix) {
        assert!(got.borrow().is_empty(), "[{b}] READ with nothing to read: {:?}", got.borrow());
    }
    // New data: the remaining reader alone.
    got.borrow_mut().clear();
    peer.write_all(b"more").unwrap();
    assert_eq!(base.run_once().unwrap(), LoopEnd::Done);
    assert_eq!(*got.borrow(), vec![("r1", Flags::READ)]);
    base.del(r1).unwrap();
    assert_eq!(dispatch(&mut base), LoopEnd::NoEvents);
}

fn write_becomes_ready_after_the_peer_drains(b: Method) {
    let mut base = base(b);
    let (mut a, peer) = pair();
    let filled = fill(&mut a);
    assert!(filled > 0);
    let wrote = counter();
    let w = wrote.clone();
    let mut a2 = a.try_clone().unwrap();
    let writer = base.new_event(fd(&a), Flags::WRITE, move |_, _, fired| {
        assert!(fired.contains(Flags::WRITE), "{fired:?}");
        w.set(a2.write(b"after the drain").expect("writable when reported"));
    });
    let writer = writer.unwrap();
    base.add(writer, None).unwrap();
    #[cfg(unix)]
    {
        // The buffer is full: not writable (Unix sockets report writable only with room).
        assert_eq!(base.run_nonblocking().unwrap(), LoopEnd::Done);
        assert_eq!(wrote.get(), 0, "[{b}] WRITE fired on a full buffer");
    }
    let drained = counter();
    let d = drained.clone();
    let mut p2 = peer.try_clone().unwrap();
    let drainer = base.new_event(fd(&peer), Flags::READ | Flags::PERSIST, move |base, ev, _| {
        d.set(d.get() + drain(&mut p2).0);
        if base.pending(writer, Flags::WRITE).unwrap().0.is_empty() {
            base.del(ev).unwrap(); // the writer ran: done
        }
    });
    base.add(drainer.unwrap(), None).unwrap();
    assert_eq!(dispatch(&mut base), LoopEnd::NoEvents);
    assert!(wrote.get() > 0, "the writer wrote");
    assert!(drained.get() > 0, "the reader drained");
    drop(peer);
}

fn read_write_persistent_event_deleted_from_its_callback(b: Method) {
    let mut base = base(b);
    let (a, mut peer) = pair();
    peer.write_all(b"abc").unwrap();
    let got = log::<Flags>();
    let g = got.clone();
    let mut a2 = a.try_clone().unwrap();
    let ev = base
        .new_event(fd(&a), Flags::READ | Flags::WRITE | Flags::PERSIST, move |base, ev, fired| {
            g.borrow_mut().push(fired);
            if fired.contains(Flags::READ) {
                drain(&mut a2);
            }
            if fired.contains(Flags::WRITE) {
                a2.write_all(b".").unwrap();
            }
            if g.borrow().len() == 5 {
                base.del(ev).unwrap();
                assert_eq!(base.pending(ev, Flags::READ | Flags::WRITE).unwrap().0, Flags::NONE);
            }
        })
        .unwrap();
    base.add(ev, None).unwrap();
    assert_eq!(dispatch(&mut base), LoopEnd::NoEvents, "deleted from its callback: nothing left");
    let got = got.borrow().clone();
    assert_eq!(got.len(), 5);
    assert_eq!(got[0], Flags::READ | Flags::WRITE, "both ready at first: one callback with both");
    assert!(got[1..].iter().all(|f| *f == Flags::WRITE), "then writable only (drained): {got:?}");
    // Ready for both again, but deleted: nothing runs.
    peer.write_all(b"more").unwrap();
    assert_eq!(base.run_nonblocking().unwrap(), LoopEnd::NoEvents);
    assert_eq!(drain(&mut peer).0, 5, "what the callback wrote arrived");
}

fn eof_and_half_close_are_read_events(b: Method) {
    let mut base = base(b);
    // The peer closes with nothing sent: READ, and read() says the stream ended.
    let (a, peer) = pair();
    drop(peer);
    let got = log::<(&str, Flags, usize)>();
    let g = got.clone();
    let mut a2 = a.try_clone().unwrap();
    let ev = base.new_event(fd(&a), Flags::READ, move |_, _, fired| {
        let mut buf = [0u8; 8];
        g.borrow_mut().push(("closed", fired, a2.read(&mut buf).unwrap()));
    });
    base.add(ev.unwrap(), None).unwrap();
    // The peer shuts down its write side only: READ with the end of the stream here, and
    // this side can still write to it.
    let (c, peer2) = pair();
    peer2.shutdown(std::net::Shutdown::Write).unwrap();
    let (g, g2) = (got.clone(), got.clone());
    let mut c2 = c.try_clone().unwrap();
    let ev = base.new_event(fd(&c), Flags::READ, move |_, _, fired| {
        let mut buf = [0u8; 8];
        g.borrow_mut().push(("half-closed", fired, c2.read(&mut buf).unwrap()));
        c2.write_all(b"still open").unwrap();
    });
    base.add(ev.unwrap(), None).unwrap();
    let mut p2 = peer2.try_clone().unwrap();
    let mut received = Vec::new();
    let reader = base.new_event(fd(&peer2), Flags::READ | Flags::PERSIST, move |base, ev, _| {
        let mut buf = [0u8; 64];
        match p2.read(&mut buf) {
            Ok(n) => received.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == ErrorKind::WouldBlock => {}
            Err(e) => panic!("read: {e}"),
        }
        if received.len() == 10 {
            assert_eq!(received, b"still open");
            g2.borrow_mut().push(("peer read", Flags::READ, received.len()));
            base.del(ev).unwrap();
        }
    });
    base.add(reader.unwrap(), None).unwrap();
    assert_eq!(dispatch(&mut base), LoopEnd::NoEvents);
    let mut got = got.borrow().clone();
    got.sort_by_key(|(name, _, _)| *name);
    assert_eq!(got, vec![("closed", Flags::READ, 0), ("half-closed", Flags::READ, 0), ("peer read", Flags::READ, 10)]);
}

fn hundreds_of_pairs_each_fire_once_in_one_dispatch(b: Method) {
    let n_pairs = if cfg!(windows) { 100 } else { 500 };
    let mut base = base(b);
    let pairs: Vec<_> = (0..n_pairs).map(|_| pair()).collect();
    let runs = std::rc::Rc::new(std::cell::RefCell::new(vec![0u32; n_pairs]));
    let iterations = log::<std::time::Instant>();
    for (i, (a, peer)) in pairs.iter().enumerate() {
        let (r, it) = (runs.clone(), iterations.clone());
        let ev = base
            .new_event(fd(a), Flags::READ, move |base, _, fired| {
                assert_eq!(fired, Flags::READ);
                r.borrow_mut()[i] += 1;
                let now = base.now();
                if it.borrow().last() != Some(&now) {
                    it.borrow_mut().push(now);
                }
            })
            .unwrap();
        base.add(ev, Some(Duration::from_secs(60))).unwrap();
        (&*peer).write_all(&[i as u8]).unwrap();
    }
    assert_eq!(base.num_pending(), n_pairs);
    assert_eq!(dispatch(&mut base), LoopEnd::NoEvents);
    let runs = runs.borrow();
    assert!(runs.iter().all(|&n| n == 1), "every event ran once: {:?}", runs.iter().filter(|&&n| n != 1).count());
    println!("[{b}] {n_pairs} pairs fired in {} iteration(s)", iterations.borrow().len());
    assert_eq!((base.num_pending(), base.num_active()), (0, 0));
}

fn deleted_then_closed_descriptor_leaves_no_trace(b: Method) {
    let mut base = base(b);
    let (a, mut peer) = pair();
    peer.write_all(b"ready").unwrap();
    let deleted = base.new_event(fd(&a), Flags::READ, |_, _, _| panic!("deleted, then closed")).unwrap();
    let freed = base.new_event(fd(&a), Flags::WRITE, |_, _, _| panic!("freed, then closed")).unwrap();
    base.add(deleted, Some(Duration::from_secs(60))).unwrap();
    base.add(freed, None).unwrap();
    base.del(deleted).unwrap();
    base.free(freed).unwrap();
    drop(a);
    drop(peer);
    assert_eq!(dispatch(&mut base), LoopEnd::NoEvents);
    base.del(deleted).unwrap();
    base.free(deleted).unwrap();
    // The descriptor numbers come back (on Unix, the lowest free ones: likely the same): new
    // events on the new sockets are watched, and only they run.
    let (c, mut peer2) = pair();
    let n = counter();
    let k = n.clone();
    let ev = base.new_event(fd(&c), Flags::READ, move |_, _, _| k.set(k.get() + 1)).unwrap();
    base.add(ev, None).unwrap();
    peer2.write_all(b"x").unwrap();
    assert_eq!(dispatch(&mut base), LoopEnd::NoEvents);
    assert_eq!(n.get(), 1);
}

fn readding_after_del_watches_again(b: Method) {
    let mut base = base(b);
    let (a, mut peer) = pair();
    let got = log::<Vec<u8>>();
    let g = got.clone();
    let mut a2 = a.try_clone().unwrap();
    let ev = base
        .new_event(fd(&a), Flags::READ, move |base, ev, _| {
            let mut buf = [0u8; 8];
            let n = a2.read(&mut buf).unwrap();
            g.borrow_mut().push(buf[..n].to_vec());
            if g.borrow().len() == 1 {
                base.add(ev, None).unwrap(); // re-added from its own callback
            }
        })
        .unwrap();
    base.add(ev, None).unwrap();
    base.del(ev).unwrap();
    base.add(ev, None).unwrap();
    peer.write_all(b"1").unwrap();
    assert_eq!(base.run_once().unwrap(), LoopEnd::Done);
    assert_eq!(base.pending(ev, Flags::READ).unwrap().0, Flags::READ, "re-added");
    assert_eq!(base.run_nonblocking().unwrap(), LoopEnd::Done, "nothing to read yet");
    assert_eq!(got.borrow().len(), 1);
    peer.write_all(b"2").unwrap();
    assert_eq!(dispatch(&mut base), LoopEnd::NoEvents);
    assert_eq!(*got.borrow(), vec![b"1".to_vec(), b"2".to_vec()]);
}

fn edge_triggered_fires_again_only_after_new_data(b: Method) {
    let mut base = base(b);
    let (a, mut peer) = pair();
    let n = counter();
    let c = n.clone();
    let ev: Event = base
        .new_event(fd(&a), Flags::READ | Flags::ET | Flags::PERSIST, move |_, _, fired| {
            assert_eq!(fired, Flags::READ);
            c.set(c.get() + 1);
        })
        .unwrap();
    if !base.features().contains(Features::EDGE_TRIGGERED) {
        let err = base.add(ev, None).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Unsupported, "{err}");
        assert_eq!(base.num_pending(), 0);
        println!("skipped: {b} has no edge triggering (and refuses ET, as it must)");
        return;
    }
    base.add(ev, None).unwrap();
    peer.write_all(b"a").unwrap();
    assert_eq!(base.run_once().unwrap(), LoopEnd::Done);
    assert_eq!(n.get(), 1);
    for _ in 0..3 {
        assert_eq!(base.run_nonblocking().unwrap(), LoopEnd::Done);
    }
    assert_eq!(n.get(), 1, "the unread byte is no new edge");
    peer.write_all(b"b").unwrap();
    assert_eq!(base.run_once().unwrap(), LoopEnd::Done);
    assert_eq!(n.get(), 2, "new data: a new edge");
    let mut a = a;
    assert_eq!(drain(&mut a), (2, false), "both bytes were left for us");
    base.del(ev).unwrap();
}

fn write_event_fires_when_the_peer_is_gone(b: Method) {
    let mut base = base(b);
    let (a, peer) = pair();
    drop(peer);
    let got = log::<(Flags, Option<ErrorKind>)>();
    let g = got.clone();
    let mut a2 = a.try_clone().unwrap();
    let ev = base.new_event(fd(&a), Flags::WRITE, move |_, _, fired| {
        g.borrow_mut().push((fired, a2.write(b"to no one").err().map(|e| e.kind())));
    });
    base.add(ev.unwrap(), None).unwrap();
    assert_eq!(dispatch(&mut base), LoopEnd::NoEvents);
    let got = got.borrow();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].0, Flags::WRITE);
    #[cfg(unix)]
    assert_eq!(got[0].1, Some(ErrorKind::BrokenPipe), "the write fails (and SIGPIPE is ignored)");
}

fn main() {
    run_suite(
        "event_io_more",
        cases![
            two_readers_and_a_writer_on_one_descriptor,
            write_becomes_ready_after_the_peer_drains,
            read_write_persistent_event_deleted_from_its_callback,
            eof_and_half_close_are_read_events,
            hundreds_of_pairs_each_fire_once_in_one_dispatch,
            deleted_then_closed_descriptor_leaves_no_trace,
            readding_after_del_watches_again,
            edge_triggered_fires_again_only_after_new_data,
            write_event_fires_when_the_peer_is_gone,
        ],
    );
}
