//! `FdMap`: the events on each descriptor, and the one reactor registration that serves them
//! all (libevent's `evmap`): its interest is the union of what they watch, edge-triggered if
//! they are (they must agree), level-triggered otherwise.

use std::collections::HashMap;
use std::io;

use overlap::{Interest, Registry, Token, Trigger};

use crate::flags::Flags;
use crate::id::{Event, Fd};

/// The events of one descriptor.
#[derive(Default)]
pub(crate) struct FdEntry {
    /// Each event with what it watches.
    pub(crate) events: Vec<(Event, Flags)>,
    /// What it is registered for.
    registered: Option<(Interest, Trigger)>,
}

/// Every descriptor with events.
#[derive(Default)]
pub(crate) struct FdMap {
    map: HashMap<Fd, FdEntry>,
}

/// The token a descriptor is registered under (its value).
pub(crate) fn token_of(fd: Fd) -> Token {
    Token(fd as usize)
}

/// The descriptor a token names.
pub(crate) fn fd_of(token: Token) -> Fd {
    token.0 as Fd
}

#[cfg(unix)]
fn source(fd: Fd) -> overlap::SourceFd {
    overlap::SourceFd(fd)
}
#[cfg(windows)]
fn source(fd: Fd) -> overlap::SourceSocket {
    overlap::SourceSocket(fd)
}

/// The registration `events` need, if any.
fn wanted(events: &[(Event, Flags)]) -> Option<(Interest, Trigger)> {
    let all = events.iter().fold(Flags::NONE, |acc, (_, w)| acc | *w);
    let mut interest = None::<Interest>;
    let mut add = |i: Interest| interest = Some(interest.map_or(i, |x| x | i));
    if all.contains(Flags::READ) {
        add(Interest::READABLE); // the close too
    } else if all.contains(Flags::CLOSED) {
        add(Interest::READ_CLOSED); // the close alone (the base checked the backend can)
    }
    if all.contains(Flags::WRITE) {
        add(Interest::WRITABLE);
    }
    let trigger = if all.contains(Flags::ET) { Trigger::Edge } else { Trigger::Level };
    interest.map(|i| (i, trigger))
}

impl FdMap {
    /// The events of `fd`.
    pub(crate) fn get(&self, fd: Fd) -> Option<&FdEntry> {
        self.map.get(&fd)
    }

    /// Adds `ev`, watching `watch`, to `fd`, and registers what the descriptor's events need
    /// now. On error nothing changed.
    pub(crate) fn add(&mut self, registry: &Registry, fd: Fd, ev: Event, watch: Flags) -> io::Result<()> {
        let entry = self.map.entry(fd).or_default();
        if let Some((_, other)) = entry.events.first() {
            if other.contains(Flags::ET) != watch.contains(Flags::ET) {
                return Err(crate::error::et_mix(fd as i64));
            }
        }
        entry.events.push((ev, watch));
        let want = wanted(&entry.events);
        if let Err(e) = apply(registry, fd, entry, want) {
            entry.events.pop();
            if entry.events.is_empty() {
                self.map.remove(&fd);
            }
            return Err(crate::error::closed_fd(fd as i64, &e));
        }
        Ok(())
    }

    /// Takes `ev` off `fd`, and registers what is left (or deregisters). Errors are dropped: the
    /// descriptor may have been closed already, which ended its registration.
    pub(crate) fn remove(&mut self, registry: &Registry, fd: Fd, ev: Event) {
        let Some(entry) = self.map.get_mut(&fd) else { return };
        entry.events.retain(|(e, _)| *e != ev);
        let want = wanted(&entry.events);
        let _ = apply(registry, fd, entry, want);
        if entry.events.is_empty() {
            self.map.remove(&fd);
            if self.map.capacity() > SHRINK_FLOOR && self.map.len() < self.map.capacity() / 4 {
                self.map.shrink_to_fit(); // give the memory back after mass removal
            }
        }
    }

    /// The heap memory it holds, in bytes (about: the map's table and each descriptor's list).
    pub(crate) fn memory(&self) -> usize {
        let table = self.map.capacity() * (std::mem::size_of::<(Fd, FdEntry)>() + 1);
        let lists: usize = self.map.values().map(|e| e.events.capacity() * std::mem::size_of::<(Event, Flags)>()).sum();
        table + lists
    }
}

/// Below this many descriptors' room the map does not bother shrinking.
const SHRINK_FLOOR: usize = 1024;

/// Makes the registration of `fd` what `want` says.
fn apply(registry: &Registry, fd: Fd, entry: &mut FdEntry, want: Option<(Interest, Trigger)>) -> io::Result<()> {
    if entry.registered == want {
        return Ok(());
    }
    let src = source(fd);
    match (entry.registered, want) {
        (None, Some((i, t))) => registry.register(&src, token_of(fd), i, t)?,
        (Some(_), Some((i, t))) => registry.reregister(&src, token_of(fd), i, t)?,
        (Some(_), None) => {
            entry.registered = None;
            registry.deregister(&src)?;
        }
        (None, None) => {}
    }
    entry.registered = want;
    Ok(())
}
