//! `Slot`: what a base keeps for one event (its target, flags, timeout, state), generic over
//! the callback so that it names nothing of the base.

use std::time::Duration;

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
///
/// Kept small: 56 bytes on Unix (64 with the slab's generation), so that a pending timer
/// costs 96 bytes with its wheel node. How many times a signal arrived is kept beside, in the
/// base; a timer's due time is the wheel's, handed out when it fires.
pub(crate) struct Slot<C> {
    /// Taken out while it runs.
    pub(crate) callback: Option<C>,
    /// Its pending timer.
    pub(crate) timer: Option<TimerKey>,
    /// The timeout it was added with, in nanoseconds, or `NO_TIMEOUT` (a persistent event
    /// re-arms with it).
    timeout_ns: u64,
    pub(crate) target: Target,
    /// The activation it is queued under: older queue entries are stale.
    pub(crate) activation: u32,
    /// What it watches, with PERSIST and ET.
    pub(crate) watch: Flags,
    /// What fired, while it is queued to run (`None`: not active).
    pub(crate) active: Option<Flags>,
    /// Its priority (there are at most 256).
    pub(crate) priority: u8,
    /// Added: watching its descriptor or signal.
    pub(crate) inserted: bool,
    /// Queued for the next iteration rather than this one.
    pub(crate) later: bool,
    /// Freed after its callback runs (`once`).
    pub(crate) once: bool,
}

/// `timeout_ns` when the event has no timeout.
const NO_TIMEOUT: u64 = u64::MAX;

impl<C> Slot<C> {
    /// A new event, not pending.
    pub(crate) fn new(target: Target, watch: Flags, priority: u8, callback: C) -> Slot<C> {
        Slot {
            callback: Some(callback),
            timer: None,
            timeout_ns: NO_TIMEOUT,
            target,
            activation: 0,
            watch,
            active: None,
            priority,
            inserted: false,
            later: false,
            once: false,
        }
    }

    /// Whether it counts as an event the loop waits for (inserted or timed).
    pub(crate) fn pending(&self) -> bool {
        self.inserted || self.timer.is_some()
    }

    /// The timeout it was last added with.
    pub(crate) fn timeout(&self) -> Option<Duration> {
        (self.timeout_ns != NO_TIMEOUT).then(|| Duration::from_nanos(self.timeout_ns))
    }

    /// Records the timeout it is added with. One of 584 years or more is kept as just under
    /// 584 years: a persistent event re-arms with that (the first deadline is exact).
    pub(crate) fn set_timeout(&mut self, t: Duration) {
        self.timeout_ns = u64::try_from(t.as_nanos()).unwrap_or(u64::MAX).min(NO_TIMEOUT - 1);
    }

    /// Forgets the timeout (the event was deleted: added again without one, it has none).
    pub(crate) fn clear_timeout(&mut self) {
        self.timeout_ns = NO_TIMEOUT;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[cfg(unix)]
    fn an_event_is_64_bytes_in_its_table() {
        type Cb = Box<dyn FnMut(&mut u8, u32)>;
        assert_eq!(std::mem::size_of::<Slot<Cb>>(), 56);
        assert_eq!(std::mem::size_of::<Option<(u64, Slot<Cb>)>>(), 64);
    }

    #[test]
    fn timeouts_are_kept_to_the_nanosecond_and_huge_ones_saturate() {
        let mut s = Slot::new(Target::None, Flags::NONE, 0, ());
        assert_eq!(s.timeout(), None);
        s.set_timeout(Duration::new(5, 7));
        assert_eq!(s.timeout(), Some(Duration::new(5, 7)));
        s.set_timeout(Duration::ZERO);
        assert_eq!(s.timeout(), Some(Duration::ZERO));
        s.set_timeout(Duration::MAX);
        assert_eq!(s.timeout(), Some(Duration::from_nanos(u64::MAX - 1)));
    }
}
