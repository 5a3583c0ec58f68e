//! `FdMap`: the events on each descriptor, and the one reactor registration that serves them
//! all (libevent's `evmap`): its interest is the union of what they watch, edge-triggered if
//! they are (they must agree), level-triggered otherwise.
//!
//! Kept small, since every idle event on a descriptor has an entry: 16 bytes, naming its
//! events by their index in the base's table (the first inline, others in a boxed list). On
//! Unix the entries are a table indexed by descriptor, as libevent's `evmap_io` (descriptors
//! are small and dense; the table shrinks as the highest ones go); on Windows, where a socket
//! is a handle value, a hash map.

use std::io;

use overlap::{Interest, Token, Trigger};

use crate::flags::Flags;
use crate::id::Fd;
use crate::wait::Wait;

/// The events of one descriptor.
#[derive(Default)]
pub(crate) struct FdEntry {
    /// The first event's index plus one (0: none).
    first: u32,
    /// The others' indices. (Boxed: an entry with one event, the usual case, stays 16 bytes.)
    #[allow(clippy::box_collection)]
    more: Option<Box<Vec<u32>>>,
    /// What it is registered for.
    registered: Option<(Interest, Trigger)>,
}

impl FdEntry {
    /// The indices of its events, in the order they were added.
    pub(crate) fn events(&self) -> impl Iterator<Item = u32> + '_ {
        let first = self.first.checked_sub(1);
        first.into_iter().chain(self.more.iter().flat_map(|m| m.iter().copied()))
    }

    fn is_empty(&self) -> bool {
        self.first == 0
    }

    fn push(&mut self, index: u32) {
        if self.first == 0 {
            self.first = index + 1;
        } else {
            self.more.get_or_insert_with(Box::default).push(index);
        }
    }

    /// Takes `index` out; the next one moves up if it was the first.
    fn remove(&mut self, index: u32) {
        if self.first == index + 1 {
            self.first = match &mut self.more {
                Some(m) if !m.is_empty() => m.remove(0) + 1,
                _ => 0,
            };
        } else if let Some(m) = &mut self.more {
            m.retain(|&i| i != index);
        }
        if self.more.as_ref().is_some_and(|m| m.is_empty()) {
            self.more = None;
        }
    }

    fn heap(&self) -> usize {
        self.more.as_ref().map_or(0, |m| size_of::<Vec<u32>>() + m.capacity() * 4)
    }
}

/// About how many bytes the entry of a descriptor with `events` events takes (the list of
/// the second and later ones is allocated with room for four).
pub(crate) fn entry_bytes(events: usize) -> usize {
    size_of::<FdEntry>() + if events > 1 { size_of::<Vec<u32>>() + 4 * 4 } else { 0 }
}

/// Every descriptor with events.
#[derive(Default)]
pub(crate) struct FdMap {
    table: Table,
}

/// The token a descriptor is registered under (its value).
pub(crate) fn token_of(fd: Fd) -> Token {
    Token(fd as usize)
}

/// The descriptor a token names.
pub(crate) fn fd_of(token: Token) -> Fd {
    token.0 as Fd
}

/// The registration events watching `all` (their union) need, if any.
fn wanted(all: Flags) -> Option<(Interest, Trigger)> {
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
        self.table.get(fd)
    }

    /// Adds event `index`, watching `watch`, to `fd`, and registers what the descriptor's
    /// events need now (`watch_of` tells what the others watch). On error nothing changed.
    pub(crate) fn add(
        &mut self,
        wait: &mut Wait,
        fd: Fd,
        index: u32,
        watch: Flags,
        watch_of: impl Fn(u32) -> Flags,
    ) -> io::Result<()> {
        let Some(entry) = self.table.get_mut(fd).filter(|e| !e.is_empty()) else {
            // A new descriptor: registered before it gets an entry, so that a closed (or
            // absurd) one makes no room in the table.
            let mut entry = FdEntry::default();
            apply(wait, fd, &mut entry, wanted(watch)).map_err(|e| crate::error::closed_fd(fd as i64, &e))?;
            entry.push(index);
            *self.table.get_or_insert(fd) = entry;
            return Ok(());
        };
        let mut all = watch;
        for other in entry.events().map(&watch_of) {
            if other.contains(Flags::ET) != watch.contains(Flags::ET) {
                return Err(crate::error::et_mix(fd as i64));
            }
            all |= other;
        }
        apply(wait, fd, entry, wanted(all)).map_err(|e| crate::error::closed_fd(fd as i64, &e))?;
        entry.push(index);
        Ok(())
    }

    /// Takes event `index` off `fd`, and registers what is left (or deregisters). Errors are
    /// dropped: the descriptor may have been closed already, which ended its registration.
    pub(crate) fn remove(&mut self, wait: &mut Wait, fd: Fd, index: u32, watch_of: impl Fn(u32) -> Flags) {
        let Some(entry) = self.table.get_mut(fd) else { return };
        entry.remove(index);
        let all = entry.events().map(watch_of).fold(Flags::NONE, |a, w| a | w);
        let _ = apply(wait, fd, entry, wanted(all));
        self.table.drop_if_empty(fd);
    }

    /// The heap memory it holds, in bytes.
    pub(crate) fn memory(&self) -> usize {
        self.table.memory()
    }
}

/// Makes the registration of `fd` what `want` says.
fn apply(wait: &mut Wait, fd: Fd, entry: &mut FdEntry, want: Option<(Interest, Trigger)>) -> io::Result<()> {
    if entry.registered == want {
        return Ok(());
    }
    match (entry.registered, want) {
        (None, Some((i, t))) => wait.register(fd, token_of(fd), i, t)?,
        (Some(_), Some((i, t))) => wait.reregister(fd, token_of(fd), i, t)?,
        (Some(_), None) => {
            entry.registered = None;
            wait.deregister(fd)?;
        }
        (None, None) => {}
    }
    entry.registered = want;
    Ok(())
}

/// Below this many entries' room a table does not bother shrinking.
const SHRINK_FLOOR: usize = 1024;

/// The entries by descriptor, as a table indexed by it.
#[cfg(unix)]
#[derive(Default)]
struct Table {
    entries: Vec<FdEntry>,
}

#[cfg(unix)]
impl Table {
    fn get(&self, fd: Fd) -> Option<&FdEntry> {
        self.entries.get(usize::try_from(fd).ok()?).filter(|e| !e.is_empty())
    }

    fn get_mut(&mut self, fd: Fd) -> Option<&mut FdEntry> {
        self.entries.get_mut(usize::try_from(fd).ok()?)
    }

    /// The entry of `fd`, an open descriptor (so not negative, and below the process's limit).
    fn get_or_insert(&mut self, fd: Fd) -> &mut FdEntry {
        let i = fd as usize;
        if i >= self.entries.len() {
            self.entries.resize_with(i + 1, FdEntry::default);
        }
        &mut self.entries[i]
    }

    /// Drops the table's empty tail (after `fd`'s entry emptied), and gives memory back once it
    /// is under a quarter used.
    fn drop_if_empty(&mut self, _fd: Fd) {
        while self.entries.last().is_some_and(|e| e.is_empty() && e.registered.is_none()) {
            self.entries.pop();
        }
        if self.entries.capacity() > SHRINK_FLOOR && self.entries.len() < self.entries.capacity() / 4 {
            self.entries.shrink_to_fit();
        }
    }

    fn memory(&self) -> usize {
        self.entries.capacity() * size_of::<FdEntry>() + self.entries.iter().map(FdEntry::heap).sum::<usize>()
    }
}

/// The entries by socket, in a hash map.
#[cfg(windows)]
#[derive(Default)]
struct Table {
    map: std::collections::HashMap<Fd, FdEntry>,
}

#[cfg(windows)]
impl Table {
    fn get(&self, fd: Fd) -> Option<&FdEntry> {
        self.map.get(&fd)
    }

    fn get_mut(&mut self, fd: Fd) -> Option<&mut FdEntry> {
        self.map.get_mut(&fd)
    }

    fn get_or_insert(&mut self, fd: Fd) -> &mut FdEntry {
        self.map.entry(fd).or_default()
    }

    /// Drops `fd`'s entry if it has no event, and gives memory back after mass removal.
    fn drop_if_empty(&mut self, fd: Fd) {
        if self.map.get(&fd).is_some_and(|e| e.is_empty() && e.registered.is_none()) {
            self.map.remove(&fd);
            if self.map.capacity() > SHRINK_FLOOR && self.map.len() < self.map.capacity() / 4 {
                self.map.shrink_to_fit();
            }
        }
    }

    fn memory(&self) -> usize {
        self.map.capacity() * (size_of::<(Fd, FdEntry)>() + 1) + self.map.values().map(FdEntry::heap).sum::<usize>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_entry_is_16_bytes() {
        assert_eq!(size_of::<FdEntry>(), 16);
    }

    #[test]
    fn events_keep_their_order_through_removals() {
        let mut e = FdEntry::default();
        assert!(e.is_empty());
        for i in [0, 7, 3] {
            e.push(i);
        }
        assert_eq!(e.events().collect::<Vec<_>>(), [0, 7, 3]);
        e.remove(0);
        assert_eq!(e.events().collect::<Vec<_>>(), [7, 3]);
        e.remove(3);
        assert_eq!(e.events().collect::<Vec<_>>(), [7]);
        assert!(e.more.is_none(), "the list is given back");
        e.remove(7);
        assert!(e.is_empty());
        e.remove(7);
        assert!(e.is_empty(), "removing what is not there changes nothing");
    }
}
