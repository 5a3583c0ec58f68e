//! Conformance: signal events (libevent's `signal/*`: simple, multiple events, switching base,
//! arriving while processing, restore, free in callback), on every available backend. Signals
//! are process-wide, so the cases run one at a time.

mod util;

use std::io::ErrorKind;

use overlap_event::{Flags, Method};
use util::*;

#[cfg(unix)]
mod unix {
    use std::cell::Cell;
    use std::rc::Rc;

    use overlap_event::{Flags, LoopEnd, Method};

    use crate::util::*;

    /// Sends `sig` to this process.
    #[allow(unsafe_code)] // test code: the one libc call that sends a signal
    fn raise(sig: i32) {
        // SAFETY: kill(2) on our own pid with a valid signal number; no memory is involved.
        assert_eq!(unsafe { libc::kill(libc::getpid(), sig) }, 0);
    }

    pub fn a_signal_runs_its_event(b: Method) {
        let mut base = base(b);
        let got = Rc::new(Cell::new(Flags::NONE));
        let g = got.clone();
        let ev = base.new_signal(libc::SIGUSR1, Flags::NONE, move |_, _, fired| g.set(fired)).unwrap();
        base.add(ev, None).unwrap();
        assert_eq!(base.pending(ev, Flags::SIGNAL).unwrap().0, Flags::SIGNAL);
        raise(libc::SIGUSR1);
        assert_eq!(dispatch(&mut base), LoopEnd::NoEvents, "non-persistent: deleted after it ran");
        assert_eq!(got.get(), Flags::SIGNAL);
    }

    pub fn two_events_on_one_signal_both_run(b: Method) {
        let mut base = base(b);
        let n = Rc::new(Cell::new(0));
        for _ in 0..2 {
            let c = n.clone();
            let ev = base.new_signal(libc::SIGUSR2, Flags::NONE, move |_, _, _| c.set(c.get() + 1)).unwrap();
            base.add(ev, None).unwrap();
        }
        raise(libc::SIGUSR2);
        dispatch(&mut base);
        assert_eq!(n.get(), 2);
    }

    pub fn every_base_watching_gets_it(b: Method) {
        let mut one = base(b);
        let mut two = base(b);
        let (n1, n2) = (Rc::new(Cell::new(0)), Rc::new(Cell::new(0)));
        let c = n1.clone();
        let e1 = one.new_signal(libc::SIGUSR1, Flags::NONE, move |_, _, _| c.set(c.get() + 1)).unwrap();
        let c = n2.clone();
        let e2 = two.new_signal(libc::SIGUSR1, Flags::NONE, move |_, _, _| c.set(c.get() + 1)).unwrap();
        one.add(e1, None).unwrap();
        two.add(e2, None).unwrap();
        raise(libc::SIGUSR1);
        dispatch(&mut one);
        dispatch(&mut two);
        assert_eq!((n1.get(), n2.get()), (1, 1));
    }

    pub fn a_signal_during_a_callback_is_not_lost(b: Method) {
        let mut base = base(b);
        let n = Rc::new(Cell::new(0));
        let c = n.clone();
        let ev = base
            .new_signal(libc::SIGUSR1, Flags::PERSIST, move |base, ev, _| {
                c.set(c.get() + 1);
                if c.get() == 1 {
                    raise(libc::SIGUSR1); // arrives while this callback runs
                } else {
                    base.free(ev).unwrap();
                }
            })
            .unwrap();
        base.add(ev, None).unwrap();
        raise(libc::SIGUSR1);
        dispatch(&mut base);
        assert_eq!(n.get(), 2);
    }

    pub fn freeing_the_last_signal_event_stops_catching(b: Method) {
        let mut base = base(b);
        let ev = base.new_signal(libc::SIGUSR2, Flags::PERSIST, |_, _, _| panic!("freed event ran")).unwrap();
        base.add(ev, None).unwrap();
        base.free(ev).unwrap();
        // Caught by another base's event only.
        let mut other = self::base(b);
        let hit = Rc::new(Cell::new(false));
        let h = hit.clone();
        let e2 = other.new_signal(libc::SIGUSR2, Flags::NONE, move |_, _, _| h.set(true)).unwrap();
        other.add(e2, None).unwrap();
        raise(libc::SIGUSR2);
        dispatch(&mut other);
        assert!(hit.get());
        assert_eq!(base.run_nonblocking().unwrap(), LoopEnd::NoEvents);
    }
}

fn bad_signal_numbers_are_refused(b: Method) {
    let mut base = base(b);
    for signo in [0, -1, 128, 1000] {
        let err = base.new_signal(signo, Flags::NONE, |_, _, _| {}).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{signo}: {err}");
    }
    #[cfg(unix)]
    for signo in [libc::SIGKILL, libc::SIGSTOP, libc::SIGSEGV] {
        let ev = base.new_signal(signo, Flags::NONE, |_, _, _| {}).unwrap();
        let err = base.add(ev, None).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{signo}: {err}");
        assert_eq!(base.num_pending(), 0);
    }
    assert_eq!(base.new_signal(2, Flags::READ, |_, _, _| {}).unwrap_err().kind(), ErrorKind::InvalidInput);
}

fn main() {
    #[allow(unused_mut)]
    let mut cases = cases![bad_signal_numbers_are_refused];
    #[cfg(unix)]
    {
        use unix::*;
        cases.extend(cases![
            a_signal_runs_its_event,
            two_events_on_one_signal_both_run,
            every_base_watching_gets_it,
            a_signal_during_a_callback_is_not_lost,
            freeing_the_last_signal_event_stops_catching,
        ]);
    }
    run_suite_with("event_signal", cases, true);
}
