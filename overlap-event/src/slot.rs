//! `Slot`: what a base keeps for one event (its target, flags, timeout, state), generic over
//! the callback so that it names nothing of the base.

use std::time::{Duration, Instant};

use crate::flags::Flags;
use crate::id::Fd;
use crate::timer::TimerKey;

/// What an event is about.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) enum Target {
    /// Nothing: a pure timer (or an event only ever activated by hand).
    None,
    /// A descriptor (READ, WRITE, CLOSED).
    Fd(Fd),
    /// A signal number.
    Signal(i32),
}

/// One event. States, as libevent's `EVLIST_*`: *inserted* (watching its descriptor or
/// signal), *timed* (a timer is pending), *active* (queued to run with `active` flags),
/// each independent of the others.
pub(crate) struct Slot<C> {
    pub(crate) target: Target,
    /// What it watches, with PERSIST and ET.
    pub(crate) watch: Flags,
    pub(crate) priority: u16,
    /// Taken out while it runs.
    pub(crate) callback: Option<C>,
    /// Added: watching its descriptor or signal.
    pub(crate) inserted: bool,
    /// Its pending timer.
    pub(crate) timer: Option<TimerKey>,
    /// The timeout it was added with (a persistent event re-arms with it).
    pub(crate) timeout: Option<Duration>,
    /// When its timer was (or is) due: a persistent timer re-arms from it, not from when its
    /// callback ran.
    pub(crate) due: Option<Instant>,
    /// What fired, while it is queued to run (`None`: not active).
    pub(crate) active: Option<Flags>,
    /// The activation it is queued under: older queue entries are stale.
    pub(crate) activation: u32,
    /// Queued for the next iteration rather than this one.
    pub(crate) later: bool,
    /// How many times a signal arrived (the callback runs that many times).
    pub(crate) ncalls: u32,
    /// Freed after its callback runs (`once`).
    pub(crate) once: bool,
}

impl<C> Slot<C> {
    /// A new event, not pending.
    pub(crate) fn new(target: Target, watch: Flags, priority: u16, callback: C) -> Slot<C> {
        Slot {
            target,
            watch,
            priority,
            callback: Some(callback),
            inserted: false,
            timer: None,
            timeout: None,
            due: None,
            active: None,
            activation: 0,
            later: false,
            ncalls: 0,
            once: false,
        }
    }

    /// Whether it counts as an event the loop waits for (inserted or timed).
    pub(crate) fn pending(&self) -> bool {
        self.inserted || self.timer.is_some()
    }
}
