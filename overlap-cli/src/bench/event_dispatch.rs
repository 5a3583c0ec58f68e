//! The dispatch workload on the event loop (`overlap-event`), as the libevent peer of the shared
//! harness (`bench/c/bench_libevent.c`) writes it: one READ|PERSIST event per read end, whose
//! callback reads one byte and passes one on (`chain.rs`); an iteration runs the base one turn
//! at a time (`run_once`, libevent's `EVLOOP_ONCE`) until every byte written was read.
//! `overlap bench dispatch` (the `event/…` paths) and `overlap bench-peer dispatch` run it.
//!
//! Unix only (socketpairs).

use std::cell::{Cell, RefCell};
use std::io::{self, ErrorKind};
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;
use std::rc::Rc;
use std::time::{Duration, Instant};

use overlap::ReactorBackend;
use overlap_event::{Event, EventBase, EventConfig, Flags};

use super::chain::{read_byte, Chain};

/// An event base watching the read ends of a chain.
pub(crate) struct EventChain {
    base: EventBase,
    chain: Rc<RefCell<Chain>>,
    /// The first error a callback met (it stops the loop).
    failed: Rc<RefCell<Option<io::Error>>>,
    /// A timer that fails an iteration that sees no event for so long, if asked for.
    watchdog: Option<(Event, Duration)>,
    /// The watchdog fired.
    stalled: Rc<Cell<bool>>,
}

impl std::fmt::Debug for EventChain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventChain").field("base", &self.base).finish_non_exhaustive()
    }
}

impl EventChain {
    /// A base on `backend` (`None`: the default) with one READ|PERSIST event per read end (the
    /// i-th on pipe i; the event owns it), passing bytes on along `chain`. With `stall`, an
    /// iteration that sees no event for that long fails instead of waiting for ever (a timer
    /// pending during the iteration: the libevent peer has none, so the harness peer asks for
    /// none).
    pub(crate) fn new(
        backend: Option<ReactorBackend>,
        readers: Vec<UnixStream>,
        chain: Chain,
        stall: Option<Duration>,
    ) -> io::Result<EventChain> {
        let config = match backend {
            Some(b) => EventConfig::new().backend(b),
            None => EventConfig::new(),
        };
        let mut base = EventBase::with_config(&config)?;
        let chain = Rc::new(RefCell::new(chain));
        let failed: Rc<RefCell<Option<io::Error>>> = Rc::new(RefCell::new(None));
        for (i, reader) in readers.into_iter().enumerate() {
            let (chain, failed) = (chain.clone(), failed.clone());
            let fd = reader.as_raw_fd();
            let ev = base.new_event(fd, Flags::READ | Flags::PERSIST, move |base, _, _| {
                if let Err(e) = read_byte(&reader).and_then(|n| chain.borrow_mut().read(i, n)) {
                    failed.borrow_mut().get_or_insert(e);
                    base.loopbreak();
                }
            })?;
            base.add(ev, None)?;
        }
        let stalled = Rc::new(Cell::new(false));
        let watchdog = match stall {
            None => None,
            Some(t) => {
                let stalled = stalled.clone();
                Some((base.new_timer(Flags::NONE, move |_, _, _| stalled.set(true))?, t))
            }
        };
        Ok(EventChain { base, chain, failed, watchdog, stalled })
    }

    /// One iteration: starts the chains, then runs the loop until every byte written was read;
    /// the time that took (from after the first writes, as the C peers time it).
    pub(crate) fn iteration(&mut self) -> io::Result<Duration> {
        self.chain.borrow_mut().kick()?;
        if let Some((ev, t)) = self.watchdog {
            self.base.add(ev, Some(t))?;
        }
        let start = Instant::now();
        while !self.chain.borrow().done() {
            self.base.run_once()?;
            if let Some(e) = self.failed.borrow_mut().take() {
                return Err(e);
            }
            if self.stalled.replace(false) {
                let secs = self.watchdog.map_or(0, |(_, t)| t.as_secs());
                return Err(io::Error::new(ErrorKind::TimedOut, format!("no event within {secs} s: a byte was lost")));
            }
        }
        let took = start.elapsed();
        if let Some((ev, _)) = self.watchdog {
            self.base.del(ev)?;
        }
        Ok(took)
    }

    /// The events of the last iteration (A + W once it is done).
    pub(crate) fn events(&self) -> usize {
        self.chain.borrow().events()
    }
}
