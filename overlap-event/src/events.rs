//! The event calls of [`EventBase`]: make, add, delete, free, activate, ask (libevent's
//! `event_new`, `event_add`, `event_del`, `event_free`, `event_active`, `event_pending`,
//! `event_priority_set`, `event_base_once`, `event_base_loopexit`, `event_base_loopbreak`).

use std::io;
use std::time::{Duration, Instant};

use crate::base::{Callback, EventBase};
use crate::flags::{Features, Flags};
use crate::id::{Event, Fd};
use crate::slab::Slab;
use crate::slot::{Slot, Target};

impl EventBase {
    /// A new event on `fd`, watching `what` (READ, WRITE, CLOSED, with PERSIST and ET; TIMEOUT
    /// is allowed and means nothing more). It is not pending until [`add`](EventBase::add)ed.
    /// `callback` runs on the loop with the base, the event and what fired.
    ///
    /// The descriptor is checked when the event is added: a closed one fails then.
    pub fn new_event<F>(&mut self, fd: Fd, what: Flags, callback: F) -> io::Result<Event>
    where
        F: FnMut(&mut EventBase, Event, Flags) + 'static,
    {
        if what.contains(Flags::SIGNAL) {
            return Err(crate::error::signal_with_io());
        }
        self.make(Target::Fd(fd), what, Box::new(callback))
    }

    /// A new timer: an event on no descriptor, fired by its timeout (give one to
    /// [`add`](EventBase::add)) or by [`activate`](EventBase::activate). `what` may hold
    /// PERSIST (it fires every timeout, re-armed from when it was due, not from when its
    /// callback ran) and TIMEOUT.
    pub fn new_timer<F>(&mut self, what: Flags, callback: F) -> io::Result<Event>
    where
        F: FnMut(&mut EventBase, Event, Flags) + 'static,
    {
        if what.intersects(Flags::IO) {
            return Err(crate::error::io_without_fd());
        }
        if what.contains(Flags::SIGNAL) {
            return Err(crate::error::signal_with_io());
        }
        self.make(Target::None, what, Box::new(callback))
    }

    /// A new signal event: it fires with SIGNAL when `signo` arrives, once per arrival (as
    /// libevent calls it `ncalls` times); `what` may hold PERSIST (keep watching) and TIMEOUT.
    /// Several events may watch one signal, in one base or several: each gets every arrival.
    pub fn new_signal<F>(&mut self, signo: i32, what: Flags, callback: F) -> io::Result<Event>
    where
        F: FnMut(&mut EventBase, Event, Flags) + 'static,
    {
        if what.intersects(Flags::IO) {
            return Err(crate::error::signal_with_io());
        }
        if !(1..=127).contains(&signo) {
            return Err(crate::error::bad_signal(signo)); // the rest is checked when it is added
        }
        self.make(Target::Signal(signo), what | Flags::SIGNAL, Box::new(callback))
    }

    /// Makes the slot of a new event, at the middle priority.
    pub(crate) fn make(&mut self, target: Target, what: Flags, callback: Callback) -> io::Result<Event> {
        let priority = (self.active.priorities() / 2) as u8;
        let slot = Slot::new(target, what, priority, callback);
        let (index, generation) = self.slots.insert(slot).ok_or_else(crate::error::too_many_events)?;
        Ok(Event { base: self.id, index, generation })
    }

    /// The slot of `ev`, or why there is none.
    pub(crate) fn slot(&self, ev: Event) -> io::Result<&Slot<Callback>> {
        if ev.base != self.id {
            return Err(crate::error::foreign_event());
        }
        self.slots.get(ev.index, ev.generation).ok_or_else(crate::error::freed_event)
    }

    /// The slot of `ev`, mutably, or why there is none.
    pub(crate) fn slot_mut(&mut self, ev: Event) -> io::Result<&mut Slot<Callback>> {
        if ev.base != self.id {
            return Err(crate::error::foreign_event());
        }
        self.slots.get_mut(ev.index, ev.generation).ok_or_else(crate::error::freed_event)
    }

    /// Makes `ev` pending: watching its descriptor (or signal), and, with `timeout`, timed
    /// to fire with TIMEOUT after it (re-adding replaces the timeout; `None` keeps a timeout
    /// already pending, as libevent does). Adding a pending event is not an error.
    ///
    /// Fails, changing nothing, for a closed descriptor, a timeout the clock cannot hold, ET
    /// on a backend without edge triggering, or ET mixed with level events on one descriptor.
    pub fn add(&mut self, ev: Event, timeout: Option<Duration>) -> io::Result<()> {
        let slot = self.slot(ev)?;
        let (target, watch, inserted, was_pending) = (slot.target, slot.watch, slot.inserted, slot.pending());
        let deadline = match timeout {
            Some(t) => Some(self.now().checked_add(t).ok_or_else(crate::error::timeout_overflow)?),
            None => None,
        };
        if watch.contains(Flags::CLOSED)
            && !watch.contains(Flags::READ)
            && !self.features.contains(Features::EARLY_CLOSE)
        {
            // Watching the read side for the close would wake the loop for every byte that
            // arrives: refuse, not spin.
            return Err(crate::error::unsupported("CLOSED without READ", &self.backend().to_string()));
        }
        if !inserted {
            match target {
                Target::Fd(fd) if watch.intersects(Flags::IO) => {
                    self.fds.add(&mut self.wait, fd, ev.index, watch, watch_of(&self.slots))?;
                }
                Target::Signal(signo) => self.watch_signal(signo, ev)?,
                _ => {}
            }
        }
        let slot = self.slots.get_mut(ev.index, ev.generation).expect("checked above");
        slot.inserted |=
            !matches!(target, Target::None) && (watch.intersects(Flags::IO) || watch.contains(Flags::SIGNAL));
        if let (Some(deadline), Some(t)) = (deadline, timeout) {
            if let Some(old) = slot.timer.take() {
                self.timers.remove(old);
            }
            self.arm(ev, deadline, t);
        }
        self.count_pending(ev, was_pending);
        Ok(())
    }

    /// Sets the timer of `ev` (which has none now) to `deadline`, for a timeout of `t`.
    pub(crate) fn arm(&mut self, ev: Event, deadline: Instant, t: Duration) {
        let key = self.timers.insert(deadline, ev.index);
        if let Some(slot) = self.slots.get_mut(ev.index, ev.generation) {
            slot.set_timeout(t);
            slot.timer = Some(key);
        }
    }

    /// Makes an internal event with no descriptor pending (`on`) or not without a timer: it
    /// keeps the loop running as a watched descriptor does (what a buffered event on the
    /// completion engine does while it waits for its ops).
    pub(crate) fn keep_pending(&mut self, ev: Event, on: bool) {
        let Some(slot) = self.slots.get_mut(ev.index, ev.generation) else { return };
        if !matches!(slot.target, Target::None) || slot.inserted == on {
            return;
        }
        let was = slot.pending();
        slot.inserted = on;
        self.count_pending(ev, was);
    }

    /// Keeps `n_pending` in step after a change to `ev`, which was pending or not before.
    pub(crate) fn count_pending(&mut self, ev: Event, was: bool) {
        let now = self.slots.get(ev.index, ev.generation).is_some_and(|s| s.pending());
        match (was, now) {
            (false, true) => self.n_pending += 1,
            (true, false) => self.n_pending -= 1,
            _ => {}
        }
    }

    /// Makes `ev` not pending and not active: it stops watching, its timer is cancelled (and
    /// its timeout forgotten: added again without one, it has none), and if it was about to
    /// run (even later in this iteration) it does not. Deleting an event
    /// that is not pending is not an error.
    pub fn del(&mut self, ev: Event) -> io::Result<()> {
        let slot = self.slot(ev)?;
        let (target, inserted, was_pending) = (slot.target, slot.inserted, slot.pending());
        if inserted {
            match target {
                Target::Fd(fd) => {
                    self.fds.remove(&mut self.wait, fd, ev.index, watch_of(&self.slots));
                }
                Target::Signal(signo) => self.unwatch_signal(signo, ev),
                Target::None => {}
            }
        }
        let slot = self.slots.get_mut(ev.index, ev.generation).expect("checked above");
        slot.inserted = false;
        let timer = slot.timer.take();
        slot.clear_timeout();
        let was_active = slot.active.take().is_some();
        slot.later = false;
        if slot.watch.contains(Flags::SIGNAL) {
            self.signal_calls.remove(&ev.index);
        }
        if let Some(key) = timer {
            self.timers.remove(key);
        }
        if was_active {
            self.n_active -= 1;
        }
        self.count_pending(ev, was_pending);
        Ok(())
    }

    /// Deletes `ev` and forgets it: its id fails from now on. Freeing an event from its own
    /// callback is allowed (the callback finishes; the event is gone after it).
    pub fn free(&mut self, ev: Event) -> io::Result<()> {
        self.del(ev)?;
        self.slots.remove(ev.index, ev.generation);
        Ok(())
    }

    /// Makes `ev` active with `what`, as if that had happened (libevent's `event_active`):
    /// its callback runs when the loop next reaches the queue of its priority (in this
    /// iteration, if that queue has not been passed yet). An active event activated again
    /// keeps one run, with the flags joined (and one queued for the next iteration by
    /// [`activate_later`](EventBase::activate_later) runs in this one). A pending event stays
    /// pending. A callback that activates an event of a higher priority than its own ends its
    /// queue's run: the higher one runs next.
    pub fn activate(&mut self, ev: Event, what: Flags) -> io::Result<()> {
        self.slot(ev)?;
        self.activate_n(ev, what, 1);
        Ok(())
    }

    /// Like [`activate`](EventBase::activate), but the callback runs in the next iteration of
    /// the loop, after it has looked at the kernel and the timers again (a callback that
    /// re-activates itself this way cannot starve the others).
    pub fn activate_later(&mut self, ev: Event, what: Flags) -> io::Result<()> {
        let slot = self.slot_mut(ev)?;
        match &mut slot.active {
            Some(flags) => *flags |= what,
            None => {
                slot.active = Some(what);
                slot.later = true;
                self.n_active += 1;
                self.active.push_later(ev);
            }
        }
        Ok(())
    }

    /// Queues a live event `ev` to run with `what` (`ncalls` times for a signal).
    pub(crate) fn activate_n(&mut self, ev: Event, what: Flags, ncalls: u32) {
        let Some(slot) = self.slots.get_mut(ev.index, ev.generation) else { return };
        if slot.watch.contains(Flags::SIGNAL) {
            let calls = self.signal_calls.entry(ev.index).or_default();
            *calls = calls.saturating_add(ncalls);
        }
        let fresh = match &mut slot.active {
            None => {
                slot.active = Some(what);
                self.n_active += 1;
                true
            }
            Some(flags) => {
                *flags |= what;
                // Active for the next iteration: now it runs in this one (as libevent moves it
                // from its active-later list). Its entry in the later list goes stale.
                std::mem::take(&mut slot.later)
            }
        };
        if fresh {
            self.activations = self.activations.wrapping_add(1);
            slot.activation = self.activations;
            let priority = slot.priority;
            self.active.push(priority, ev, self.activations);
            if self.running_priority.is_some_and(|p| priority < p) {
                self.preempted = true;
            }
        }
    }

    /// Which of `what` are pending or active for `ev` (libevent's `event_pending`): READ,
    /// WRITE, CLOSED or SIGNAL while it watches them, TIMEOUT while its timer is pending, and
    /// what it is active with; and, if TIMEOUT is asked for and pending, when it is due.
    pub fn pending(&self, ev: Event, what: Flags) -> io::Result<(Flags, Option<Instant>)> {
        let slot = self.slot(ev)?;
        let mut flags = Flags::NONE;
        if slot.inserted {
            flags |= slot.watch & (Flags::IO | Flags::SIGNAL);
        }
        if slot.timer.is_some() {
            flags |= Flags::TIMEOUT;
        }
        if let Some(active) = slot.active {
            flags |= active & (Flags::IO | Flags::SIGNAL | Flags::TIMEOUT);
        }
        let due = match slot.timer {
            Some(key) if what.contains(Flags::TIMEOUT) => self.timers.deadline(key),
            _ => None,
        };
        Ok((flags & what, due))
    }

    /// Sets the priority of `ev` (0 runs first). Refused for an active event, as libevent does.
    pub fn set_priority(&mut self, ev: Event, priority: usize) -> io::Result<()> {
        let n = self.active.priorities();
        let slot = self.slot_mut(ev)?;
        if priority >= n {
            return Err(crate::error::priority_range(priority, n));
        }
        if slot.active.is_some() {
            return Err(crate::error::priority_while_active());
        }
        slot.priority = priority as u8; // < n <= 256
        Ok(())
    }

    /// The priority of `ev`.
    pub fn priority(&self, ev: Event) -> io::Result<usize> {
        Ok(self.slot(ev)?.priority as usize)
    }

    /// What `ev` watches (with PERSIST and ET).
    pub fn flags(&self, ev: Event) -> io::Result<Flags> {
        Ok(self.slot(ev)?.watch)
    }

    /// Runs `callback` once (libevent's `event_base_once`): when `fd` (if any) is ready for
    /// `what` or `timeout` passes, whichever first; then the event is gone. With neither a
    /// descriptor event nor a timeout it runs in the next loop iteration. PERSIST and SIGNAL
    /// are refused.
    pub fn once<F>(&mut self, fd: Option<Fd>, what: Flags, timeout: Option<Duration>, callback: F) -> io::Result<()>
    where
        F: FnOnce(&mut EventBase, Flags) + 'static,
    {
        if what.intersects(Flags::PERSIST | Flags::SIGNAL) {
            return Err(crate::error::bad_flags(what.bits()));
        }
        let target = match fd {
            Some(fd) => Target::Fd(fd),
            None if what.intersects(Flags::IO) => return Err(crate::error::io_without_fd()),
            None => Target::None,
        };
        let mut callback = Some(callback);
        let ev = self.make(
            target,
            what,
            Box::new(move |base: &mut EventBase, _ev: Event, fired: Flags| {
                if let Some(cb) = callback.take() {
                    cb(base, fired);
                }
            }),
        )?;
        self.slots.get_mut(ev.index, ev.generation).expect("just made").once = true;
        let result = match (what.intersects(Flags::IO), timeout) {
            (false, None) => {
                self.activate_n(ev, Flags::TIMEOUT, 1);
                Ok(())
            }
            _ => self.add(ev, timeout),
        };
        if let Err(e) = result {
            self.free(ev)?;
            return Err(e);
        }
        Ok(())
    }

    /// Stops the loop (libevent's `event_base_loopexit`): after `after`, or with `None` once
    /// the callbacks active now have run. The loop ends at the end of the iteration in which
    /// the time comes, and [`got_exit`](EventBase::got_exit) tells so. Asked while the loop is
    /// not running, it stops the next loop.
    pub fn loopexit(&mut self, after: Option<Duration>) -> io::Result<()> {
        let at = self.now().checked_add(after.unwrap_or(Duration::ZERO)).ok_or_else(crate::error::timeout_overflow)?;
        self.exit_at = Some(self.exit_at.map_or(at, |e| e.min(at)));
        Ok(())
    }

    /// Stops the loop right after the callback running now (libevent's
    /// `event_base_loopbreak`); [`got_break`](EventBase::got_break) tells so. Outside the loop
    /// it does nothing (the next loop starts afresh).
    pub fn loopbreak(&mut self) {
        if self.running {
            self.got_break = true;
        }
    }
}

/// What the event at a table index watches (for the descriptor map, which names events by index).
fn watch_of(slots: &Slab<Slot<Callback>>) -> impl Fn(u32) -> Flags + '_ {
    |i| slots.get_at(i).map_or(Flags::NONE, |(_, s)| s.watch)
}
