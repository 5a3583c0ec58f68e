//! Timers on the event loop (`overlap-event`), phase by phase, as the libevent peer of the shared
//! harness (`bench/c/timers_libevent.c`) runs them: the timer events are made up front, untimed
//! (libevent's peer `evtimer_assign`s its array before timing); then armed with `add`, cancelled
//! with `del`, and fired by the loop (`run_once` until every callback ran). `overlap bench
//! timers` (the `event/…` paths) and `overlap bench-peer timers` run it.

use std::cell::Cell;
use std::io;
use std::time::{Duration, Instant};

use overlap::ReactorBackend;
use overlap_event::{Event, EventBase, EventConfig, Flags};

thread_local! {
    /// Timer callbacks run on this thread so far. A static, so that the callbacks capture
    /// nothing: a closure with no state is not allocated, and the base's tables are all the
    /// memory a timer takes (what `bytes_per_timer` measures).
    #[allow(clippy::missing_const_for_thread_local)] // it is const; clippy 1.96 misreads the macro
    static FIRED: Cell<usize> = const { Cell::new(0) };
}

/// A base with timer events, made and not yet pending.
pub(crate) struct Timers {
    base: EventBase,
    events: Vec<Event>,
    /// What the base's tables held before the events were made.
    empty: usize,
}

impl std::fmt::Debug for Timers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Timers").field("base", &self.base).field("events", &self.events.len()).finish()
    }
}

impl Timers {
    /// A base on `backend` (`None`: the default) with `n` timer events (not pending).
    pub(crate) fn new(backend: Option<ReactorBackend>, n: usize) -> io::Result<Timers> {
        let config = match backend {
            Some(b) => EventConfig::new().backend(b),
            None => EventConfig::new(),
        };
        let mut base = EventBase::with_config(&config)?;
        let empty = base.memory();
        let mut events = Vec::with_capacity(n);
        for _ in 0..n {
            events.push(base.new_timer(Flags::NONE, |_, _, _| FIRED.with(|f| f.set(f.get() + 1)))?);
        }
        Ok(Timers { base, events, empty })
    }

    /// Arms the i-th event with the i-th timeout (`base.add`, timed): how long that took.
    pub(crate) fn add(&mut self, timeouts: impl IntoIterator<Item = Duration>) -> io::Result<Duration> {
        let start = Instant::now();
        for (&ev, t) in self.events.iter().zip(timeouts) {
            self.base.add(ev, Some(t))?;
        }
        Ok(start.elapsed())
    }

    /// Cancels the events at the indices of `order`, in that order (`base.del`, timed): how
    /// long that took.
    pub(crate) fn cancel(&mut self, order: impl IntoIterator<Item = usize>) -> io::Result<Duration> {
        let start = Instant::now();
        for i in order {
            let ev = *self.events.get(i).ok_or_else(|| io::Error::other("no timer at that index"))?;
            self.base.del(ev)?;
        }
        Ok(start.elapsed())
    }

    /// Runs the loop until `n` callbacks ran (counting from this call; the timers must be
    /// pending already): how long that took.
    pub(crate) fn fire(&mut self, n: usize) -> io::Result<Duration> {
        FIRED.with(|f| f.set(0));
        let start = Instant::now();
        while FIRED.with(Cell::get) < n {
            if self.base.num_pending() == 0 && self.base.num_active() == 0 {
                return Err(io::Error::other("the loop ran out of timers before they all fired"));
            }
            self.base.run_once()?;
        }
        Ok(start.elapsed())
    }

    /// The heap memory of the base's tables now, less what they held before the events were
    /// made, per timer of `n` (the events and whatever of them is pending now), rounded.
    pub(crate) fn bytes_per_timer(&self, n: usize) -> usize {
        let n = n.max(1);
        (self.base.memory().saturating_sub(self.empty) + n / 2) / n
    }
}
