//! The poll(2) backend: the portable fallback, on every Unix.
//!
//! poll(2) keeps no state, so the selector does: a table of registrations under a lock. Each
//! `select` copies the armed ones into a `pollfd` array (slot 0 is the notifier), releases the
//! lock and waits, so other threads may register meanwhile; a change made while a poll is
//! blocked notifies it, and the reactor calls `select` again, which sees the new table.
//!
//! **Taking turns.** When more sources are ready than a select may report, the next select
//! starts reporting after the last one reported (the table keeps its registrations in a stable
//! order), so every ready source is reported within ⌈ready / max⌉ selects, as with epoll's
//! ready list; a select that always scanned from the start would report the same ones for
//! ever.
//!
//! Oneshot is exact: an entry is disarmed when its event is reported and re-armed by
//! `reregister`. Edge triggering is refused (`Unsupported`); see [`Trigger`]. Each entry carries
//! a serial number, so a result collected before a `deregister`/`reregister` is never
//! attributed to what replaced it. A descriptor closed while registered comes back as
//! `POLLNVAL`: reported once as an error, then the entry is disarmed.
#![allow(unsafe_code)]

use crate::int_map::IntMap;
use std::io;
use std::os::fd::RawFd;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use super::fd::timeout_ms;
use super::notifier::Notifier;
use crate::contract::interest::{Interest, Trigger};
use crate::contract::ready::{flags, ReadyEvent};
use crate::contract::selector;
use crate::contract::token::Token;
use crate::error;

#[derive(Debug)]
struct Entry {
    fd: RawFd,
    token: Token,
    events: libc::c_short,
    oneshot: bool,
    armed: bool,
    serial: u64,
}

#[derive(Debug, Default)]
struct State {
    /// The registrations, in the order selects scan them.
    entries: Vec<Entry>,
    /// Where each descriptor's entry is in `entries`.
    at: IntMap<RawFd, usize>,
    /// Whether a `select` is blocked on a snapshot of `entries`.
    polling: bool,
    next_serial: u64,
    /// Where the next select starts reporting (an index into `entries`): see "Taking turns".
    next: usize,
}

impl State {
    fn get_mut(&mut self, fd: RawFd) -> Option<&mut Entry> {
        let i = *self.at.get(&fd)?;
        Some(&mut self.entries[i])
    }

    /// Removes `fd`'s entry; the last entry takes its place.
    fn remove(&mut self, fd: RawFd) -> Option<Entry> {
        let i = self.at.remove(&fd)?;
        let e = self.entries.swap_remove(i);
        if let Some(moved) = self.entries.get(i) {
            self.at.insert(moved.fd, i);
        }
        Some(e)
    }
}

/// The poller's working arrays (one poller at a time).
#[derive(Debug, Default)]
struct Work {
    fds: Vec<libc::pollfd>,
    /// Per `fds[1..]`: the entry's serial number and its index in the table.
    serials: Vec<u64>,
    slots: Vec<usize>,
}

/// The poll(2) selector.
#[derive(Debug)]
pub(crate) struct Selector {
    state: Mutex<State>,
    work: Mutex<Work>,
    notifier: Notifier,
}

#[cfg(pollrdhup)]
const RDHUP: libc::c_short = libc::POLLRDHUP;
#[cfg(not(pollrdhup))]
const RDHUP: libc::c_short = 0;

fn poll_events(interest: Interest) -> libc::c_short {
    let mut ev = 0;
    if interest.is_readable() {
        ev |= libc::POLLIN | RDHUP;
    }
    if interest.is_read_closed() {
        ev |= RDHUP; // alone: data arriving does not wake it (off Linux, refused at registration)
    }
    if interest.is_writable() {
        ev |= libc::POLLOUT;
    }
    if interest.is_priority() {
        ev |= libc::POLLPRI;
    }
    ev
}

pub(crate) fn event_flags(rev: libc::c_short) -> u8 {
    let has = |bit: libc::c_short| rev & bit != 0;
    let mut f = 0;
    if has(libc::POLLIN | RDHUP) {
        f |= flags::READABLE;
    }
    if has(libc::POLLOUT) {
        f |= flags::WRITABLE;
    }
    if has(libc::POLLPRI) {
        f |= flags::PRIORITY;
    }
    if has(libc::POLLERR | libc::POLLNVAL) {
        f |= flags::ERROR;
    }
    if has(libc::POLLHUP | RDHUP) {
        f |= flags::READ_CLOSED;
    }
    if has(libc::POLLHUP | libc::POLLERR) {
        f |= flags::WRITE_CLOSED;
    }
    f
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // Every update is a single insert/remove/assignment: no half-done state to protect.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Selector {
    /// Applies a change to the table and wakes a poller that waits on an old snapshot.
    fn change<R>(&self, f: impl FnOnce(&mut State) -> io::Result<R>) -> io::Result<R> {
        let mut st = lock(&self.state);
        let r = f(&mut st)?;
        if st.polling {
            self.notifier.notify()?;
        }
        Ok(r)
    }
}

impl selector::Selector for Selector {
    fn new() -> io::Result<Selector> {
        Ok(Selector { state: Mutex::default(), work: Mutex::default(), notifier: Notifier::new()? })
    }

    fn register(&self, fd: RawFd, token: Token, interest: Interest, trigger: Trigger) -> io::Result<()> {
        if trigger == Trigger::Edge {
            return Err(error::trigger_unsupported("poll", trigger));
        }
        if interest.is_read_closed() && !interest.is_readable() && RDHUP == 0 {
            return Err(error::read_closed_unsupported("poll"));
        }
        self.change(|st| {
            if st.at.contains_key(&fd) {
                return Err(io::ErrorKind::AlreadyExists.into());
            }
            st.next_serial += 1;
            let e = Entry {
                fd,
                token,
                events: poll_events(interest),
                oneshot: trigger == Trigger::Oneshot,
                armed: true,
                serial: st.next_serial,
            };
            st.at.insert(fd, st.entries.len());
            st.entries.push(e);
            Ok(())
        })
    }

    fn reregister(&self, fd: RawFd, token: Token, interest: Interest, trigger: Trigger) -> io::Result<()> {
        if trigger == Trigger::Edge {
            return Err(error::trigger_unsupported("poll", trigger));
        }
        if interest.is_read_closed() && !interest.is_readable() && RDHUP == 0 {
            return Err(error::read_closed_unsupported("poll"));
        }
        self.change(|st| {
            st.next_serial += 1;
            let serial = st.next_serial;
            let e = st.get_mut(fd).ok_or(io::ErrorKind::NotFound)?;
            *e = Entry {
                fd,
                token,
                events: poll_events(interest),
                oneshot: trigger == Trigger::Oneshot,
                armed: true,
                serial,
            };
            Ok(())
        })
    }

    fn deregister(&self, fd: RawFd) -> io::Result<()> {
        self.change(|st| st.remove(fd).map(drop).ok_or_else(|| io::ErrorKind::NotFound.into()))
    }

    fn select(&self, out: &mut Vec<ReadyEvent>, max: usize, timeout: Option<Duration>) -> io::Result<bool> {
        let mut work = lock(&self.work);
        let work = &mut *work;
        work.fds.clear();
        work.serials.clear();
        work.slots.clear();
        work.fds.push(libc::pollfd { fd: self.notifier.fd(), events: libc::POLLIN, revents: 0 });
        {
            let mut st = lock(&self.state);
            for (i, e) in st.entries.iter().enumerate().filter(|(_, e)| e.armed) {
                work.fds.push(libc::pollfd { fd: e.fd, events: e.events, revents: 0 });
                work.serials.push(e.serial);
                work.slots.push(i);
            }
            st.polling = true;
        }
        let len = work.fds.len() as libc::nfds_t;
        // SAFETY: `work.fds` holds `len` initialised pollfds and stays borrowed (unmoved) for
        // the call; poll writes only their `revents` fields.
        let n = unsafe { libc::poll(work.fds.as_mut_ptr(), len, timeout_ms(timeout)) };
        let err = (n < 0).then(io::Error::last_os_error);
        let mut st = lock(&self.state);
        st.polling = false;
        if let Some(e) = err {
            return match e.kind() {
                io::ErrorKind::Interrupted => Ok(false),
                _ => Err(e),
            };
        }
        let notified = work.fds[0].revents != 0;
        if notified {
            self.notifier.drain();
        }
        // Scan from the first entry at or after `next`, round to where it started.
        let n = work.serials.len();
        let start = work.slots.partition_point(|&i| i < st.next);
        for k in (0..n).map(|k| (start + k) % n) {
            let (p, serial) = (&work.fds[1 + k], work.serials[k]);
            if p.revents == 0 {
                continue;
            }
            if out.len() >= max {
                break;
            }
            let Some(&i) = st.at.get(&p.fd) else { continue };
            let e = &mut st.entries[i];
            if e.serial != serial || !e.armed {
                continue; // changed or deregistered while we waited
            }
            if e.oneshot || p.revents & libc::POLLNVAL != 0 {
                e.armed = false;
            }
            out.push(ReadyEvent::new(e.token, event_flags(p.revents)));
            st.next = i + 1;
        }
        Ok(notified)
    }

    fn notify(&self) -> io::Result<()> {
        self.notifier.notify()
    }
}
