//! The loop (libevent's `event_base_loop`): one kernel wait per iteration, then the timers,
//! then the callbacks of the first priority that has any.
//!
//! ```text
//!   ┌─► stop? (exit, break) ── messages from other threads ── nothing left? ─► NoEvents
//!   │     │
//!   │   wait: zero if something is active, else until the next timer (or exit time)
//!   │     │
//!   │   readiness ─► activate the descriptors' events;  expired timers ─► activate (TIMEOUT)
//!   │     │
//!   │   run the first non-empty priority queue (lowest number), up to the dispatch limits;
//!   │   callbacks may add, delete, free and activate anything (freed: never runs)
//!   └─────┘
//! ```

use std::io;
use std::time::{Duration, Instant};

use overlap::Token;

use crate::base::{EventBase, Msg, SIGNALS, WAKER};
use crate::deferred::Later;
use crate::fdmap::fd_of;
use crate::flags::Flags;
use crate::id::Event;

/// How a loop runs (libevent's `EVLOOP_*`).
#[derive(Copy, Clone, Debug, PartialEq, Eq, Default)]
pub struct LoopFlags {
    /// Block until something is active, run it, and return (`EVLOOP_ONCE`).
    pub once: bool,
    /// Never block: run what is ready or active now, and return (`EVLOOP_NONBLOCK`): at most
    /// one iteration per priority, so that events ready again at every look (level-triggered,
    /// persistent) cannot keep it from returning. It ends with `NoEvents` if nothing is left.
    pub nonblock: bool,
    /// Keep running with no event pending, until `loopexit` or `loopbreak` (other threads may
    /// add events; `EVLOOP_NO_EXIT_ON_EMPTY`).
    pub no_exit_on_empty: bool,
}

/// How a loop ended.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum LoopEnd {
    /// `once` or `nonblock` did what they do.
    Done,
    /// [`loopexit`](EventBase::loopexit).
    Exit,
    /// [`loopbreak`](EventBase::loopbreak).
    Break,
    /// No event was pending or active (libevent returns 1 for it).
    NoEvents,
}

impl EventBase {
    /// Runs until no event is pending or active, or `loopexit` / `loopbreak`
    /// (libevent's `event_base_dispatch`).
    pub fn dispatch(&mut self) -> io::Result<LoopEnd> {
        self.run(LoopFlags::default())
    }

    /// Waits for events, runs the active ones, and returns (`EVLOOP_ONCE`).
    pub fn run_once(&mut self) -> io::Result<LoopEnd> {
        self.run(LoopFlags { once: true, ..LoopFlags::default() })
    }

    /// Runs what is ready or active now without blocking (`EVLOOP_NONBLOCK`).
    pub fn run_nonblocking(&mut self) -> io::Result<LoopEnd> {
        self.run(LoopFlags { nonblock: true, ..LoopFlags::default() })
    }

    /// Runs the loop as `flags` say (libevent's `event_base_loop`). Fails with `WouldBlock` if
    /// the loop is already running (called from one of its callbacks); a kernel error ends
    /// the loop with it.
    pub fn run(&mut self, flags: LoopFlags) -> io::Result<LoopEnd> {
        if self.running {
            return Err(crate::error::reentrant());
        }
        self.running = true;
        self.got_exit = false;
        self.got_break = false;
        let end = self.iterate(flags);
        self.running = false;
        // Ops the last callbacks submitted start now, not at the next run of the loop (a
        // send held back for the next wait would wait for it).
        let flushed = self.wait.flush();
        end.and_then(|end| flushed.map(|()| end))
    }

    fn iterate(&mut self, flags: LoopFlags) -> io::Result<LoopEnd> {
        // `nonblock` runs iterations while events stay active (one priority each), but no more
        // than there are priorities, plus one: level-triggered events that are ready again at
        // every look cannot keep it from returning.
        let mut nonblock_left = self.active.priorities() + 1;
        loop {
            self.take_remote();
            self.take_deferred();
            if self.got_break {
                return Ok(LoopEnd::Break);
            }
            if self.got_exit {
                return Ok(LoopEnd::Exit);
            }
            let active = self.n_active > 0;
            if !active && self.n_pending == 0 && self.exit_at.is_none() && !flags.no_exit_on_empty {
                return Ok(LoopEnd::NoEvents);
            }
            let timeout = if active || flags.nonblock { Some(Duration::ZERO) } else { self.wait_bound() };
            self.make_later_active();
            let mut ready = std::mem::take(&mut self.ready);
            ready.clear();
            let polled = self.wait.poll(&mut ready, timeout);
            self.now = Instant::now();
            if let Err(e) = polled {
                self.ready = ready;
                return Err(e);
            }
            self.process_ready(&ready);
            self.ready = ready;
            self.process_routed();
            self.take_remote();
            self.process_timers();
            if self.n_active > 0 {
                let ran = self.process_active();
                self.active.trim();
                nonblock_left = nonblock_left.saturating_sub(1);
                let once_done = flags.once && self.n_active == 0 && ran > 0;
                let nonblock_done = flags.nonblock && (self.n_active == 0 || nonblock_left == 0);
                if once_done || nonblock_done {
                    self.check_exit();
                    // As libevent's next pass would: with nothing left, `nonblock` says so.
                    let empty = self.n_active == 0 && self.n_pending == 0 && self.exit_at.is_none();
                    return Ok(match () {
                        _ if self.got_break => LoopEnd::Break,
                        _ if !once_done && empty && !flags.no_exit_on_empty => LoopEnd::NoEvents,
                        _ => LoopEnd::Done,
                    });
                }
            } else if flags.nonblock {
                self.check_exit();
                return Ok(LoopEnd::Done);
            }
            self.check_exit();
        }
    }

    /// How long the kernel wait may last: until the next timer or the exit time.
    fn wait_bound(&self) -> Option<Duration> {
        let next = match (self.timers.next_expiration(), self.exit_at) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        next.map(|at| at.saturating_duration_since(Instant::now()))
    }

    /// Ends the loop after this iteration if the exit time came.
    fn check_exit(&mut self) {
        if self.exit_at.is_some_and(|at| at <= self.now) {
            self.exit_at = None;
            self.got_exit = true;
        }
    }

    /// Runs what other threads left (closures, activations, stops).
    fn take_remote(&mut self) {
        let mut inbox = std::mem::take(&mut self.inbox);
        self.remote.take(&mut inbox);
        if !inbox.is_empty() {
            // What they ask counts from now (the cached time may be from the last run).
            self.now = Instant::now();
        }
        for msg in inbox.drain(..) {
            match msg {
                Msg::Run(f) => f(self),
                Msg::Activate(ev, what) => {
                    if self.slot(ev).is_ok() {
                        self.activate_n(ev, what, 1);
                    }
                }
                Msg::Break => self.got_break = true,
                Msg::Exit(after) => {
                    let _ = self.loopexit(after);
                }
            }
        }
        self.inbox = inbox;
    }

    /// Does what code without the base at hand left for it: activations (which join this
    /// iteration), frees, then the drops that had to wait for those frees.
    pub(crate) fn take_deferred(&mut self) {
        while self.deferred.any() {
            let mut later = std::mem::take(&mut self.later);
            self.deferred.take(&mut later);
            for item in later.drain(..) {
                match item {
                    Later::Activate(ev, what) => {
                        if self.slot(ev).is_ok() {
                            self.activate_n(ev, what, 1);
                        }
                    }
                    Later::Free(ev) => {
                        let _ = self.free(ev);
                    }
                    Later::Release(keep) => drop(keep),
                }
            }
            self.later = later;
        }
    }

    /// Moves what `activate_later` queued into the run queues.
    fn make_later_active(&mut self) {
        for ev in self.active.take_later() {
            let Some(slot) = self.slots.get_mut(ev.index, ev.generation) else { continue };
            if !slot.later {
                continue; // deleted since (and perhaps activated anew)
            }
            slot.later = false;
            self.activations = self.activations.wrapping_add(1);
            slot.activation = self.activations;
            let priority = slot.priority;
            self.active.push(priority, ev, self.activations);
        }
    }

    /// Activates the events of what the kernel reported.
    fn process_ready(&mut self, ready: &[(Token, Flags)]) {
        let mut fired = std::mem::take(&mut self.fired);
        let mut signals = false;
        for &(token, what) in ready {
            if token == WAKER {
                continue; // its messages are taken right after the wait
            }
            if token == SIGNALS {
                signals = true;
                continue;
            }
            let Some(entry) = self.fds.get(fd_of(token)) else { continue };
            for index in entry.events() {
                let Some((generation, slot)) = self.slots.get_at(index) else { continue };
                let res = what & slot.watch & Flags::IO;
                if !res.is_empty() {
                    fired.push((Event { base: self.id, index, generation }, res));
                }
            }
        }
        for (ev, res) in fired.drain(..) {
            self.activate_n(ev, res, 1);
        }
        self.fired = fired;
        if signals {
            self.process_signals();
        }
    }

    /// Activates the events whose ops completed (their callbacks take the completions).
    fn process_routed(&mut self) {
        let mut routed = std::mem::take(&mut self.routed);
        self.wait.take_fired(&mut routed);
        for (ev, ticket) in routed.drain(..) {
            if self.slot(ev).is_ok() {
                self.activate_n(ev, Flags::READ, 1);
            } else {
                self.wait.forget(ticket); // its owner is gone: so is the completion
            }
        }
        self.routed = routed;
    }

    /// Activates the events whose timers expired; a persistent one is timed again first, from
    /// when it was due (from now if that is past already: the loop fell behind, libevent's
    /// `persistent_timeout_jump`), so that it does not drift.
    fn process_timers(&mut self) {
        let mut expired = std::mem::take(&mut self.expired);
        let (slots, base) = (&mut self.slots, self.id);
        self.timers.poll(self.now, |key, due, index| {
            let Some((generation, slot)) = slots.get_at_mut(index) else { return };
            if slot.timer == Some(key) {
                slot.timer = None;
                expired.push((Event { base, index, generation }, due));
            }
        });
        for (ev, due) in expired.drain(..) {
            let Some(slot) = self.slots.get(ev.index, ev.generation) else { continue };
            let again = match slot.timeout() {
                Some(t) if slot.watch.contains(Flags::PERSIST) => match due.checked_add(t) {
                    Some(at) if at > self.now => Some((at, t)),
                    _ => self.now.checked_add(t).map(|at| (at, t)),
                },
                _ => None,
            };
            if let Some((at, t)) = again {
                self.arm(ev, at, t);
            }
            self.activate_n(ev, Flags::TIMEOUT, 1);
            self.count_pending(ev, true); // it was timed
        }
        self.expired = expired;
    }

    /// Runs the first priority queue that has active events; returns how many ran.
    fn process_active(&mut self) -> usize {
        for p in 0..self.active.priorities() {
            if !self.active.has(p) {
                continue;
            }
            let limited = p >= self.limit_after;
            let max = if limited { self.max_callbacks } else { None };
            let end = if limited { self.max_interval.and_then(|d| self.now.checked_add(d)) } else { None };
            let ran = self.run_queue(p, max, end);
            if ran > 0 || self.got_break {
                return ran;
            }
        }
        0
    }

    /// Runs the events of priority `p` in order (also those activated at `p` meanwhile), up
    /// to `max` callbacks or until `end`, or until a callback activates an event of a higher
    /// priority (which then runs first, in the next iteration: libevent's `event_continue`).
    fn run_queue(&mut self, p: usize, max: Option<usize>, end: Option<Instant>) -> usize {
        let mut ran = 0;
        while let Some((ev, activation)) = self.active.pop(p) {
            let Some(slot) = self.slots.get_mut(ev.index, ev.generation) else { continue };
            if slot.activation != activation || slot.later {
                continue; // stale: deleted (and perhaps activated anew) since it was queued
            }
            let Some(res) = slot.active.take() else { continue };
            self.n_active -= 1;
            let (watch, timed) = (slot.watch, slot.timeout().is_some());
            let calls =
                if watch.contains(Flags::SIGNAL) { self.signal_calls.remove(&ev.index).unwrap_or(1).max(1) } else { 1 };
            if watch.contains(Flags::PERSIST) {
                if timed && !res.contains(Flags::TIMEOUT) {
                    self.retime(ev); // a timeout fire was timed again when the timer expired
                }
            } else {
                let _ = self.del(ev);
            }
            ran += 1;
            self.running_priority = Some(p as u8);
            self.call(ev, res, calls);
            self.running_priority = None;
            if self.got_break || self.preempted || max.is_some_and(|m| ran >= m) {
                self.preempted = false;
                break;
            }
            if let Some(end) = end {
                self.now = Instant::now();
                if self.now >= end {
                    break;
                }
            }
        }
        ran
    }

    /// Times a persistent event about to run for something other than its timeout again: its
    /// timeout counts from now (libevent's `event_persist_closure`).
    fn retime(&mut self, ev: Event) {
        let Some(slot) = self.slots.get_mut(ev.index, ev.generation) else { return };
        let Some(t) = slot.timeout() else { return };
        let was_pending = slot.pending();
        if let Some(old) = slot.timer.take() {
            self.timers.remove(old);
        }
        if let Some(at) = self.now.checked_add(t) {
            self.arm(ev, at, t);
        }
        self.count_pending(ev, was_pending);
    }

    /// Runs the callback of `ev` (`calls` times for a signal, stopping at a loopbreak or if the
    /// event is deleted meanwhile); gives it back to the event if the event still exists, and
    /// frees a `once` event.
    fn call(&mut self, ev: Event, res: Flags, calls: u32) {
        let Some(mut cb) = self.slots.get_mut(ev.index, ev.generation).and_then(|s| s.callback.take()) else { return };
        for i in 0..calls {
            if i > 0 && (self.got_break || self.slots.get(ev.index, ev.generation).is_none_or(|s| !s.inserted)) {
                break;
            }
            cb(self, ev, res);
            if self.deferred.any() {
                self.take_deferred();
            }
        }
        if let Some(slot) = self.slots.get_mut(ev.index, ev.generation) {
            if slot.once {
                drop(cb);
                let _ = self.free(ev);
            } else if slot.callback.is_none() {
                slot.callback = Some(cb);
            }
        }
    }
}
