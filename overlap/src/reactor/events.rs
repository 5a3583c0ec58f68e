//! `ReadyEvents`: the batch `Reactor::poll` fills.

use crate::contract::ready::ReadyEvent;

/// A batch of events filled by [`Reactor::poll`](crate::Reactor::poll).
#[derive(Debug, Clone)]
pub struct ReadyEvents {
    pub(crate) list: Vec<ReadyEvent>,
    pub(crate) capacity: usize,
}

impl ReadyEvents {
    /// A batch that holds at most `capacity` events per poll. A capacity of 0 makes `poll`
    /// return `InvalidInput`.
    pub fn with_capacity(capacity: usize) -> ReadyEvents {
        ReadyEvents { list: Vec::with_capacity(capacity.min(4096)), capacity }
    }
    /// The most events one poll reports.
    pub fn capacity(&self) -> usize {
        self.capacity
    }
    /// Whether the last poll reported nothing.
    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }
    /// How many events the last poll reported.
    pub fn len(&self) -> usize {
        self.list.len()
    }
    /// The events of the last poll.
    pub fn iter(&self) -> std::slice::Iter<'_, ReadyEvent> {
        self.list.iter()
    }
    /// Forgets the events (poll does this itself).
    pub fn clear(&mut self) {
        self.list.clear();
    }
}

impl<'a> IntoIterator for &'a ReadyEvents {
    type Item = &'a ReadyEvent;
    type IntoIter = std::slice::Iter<'a, ReadyEvent>;
    fn into_iter(self) -> Self::IntoIter {
        self.list.iter()
    }
}
