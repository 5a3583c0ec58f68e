//! `Active`: the events queued to run, one FIFO per priority (lower number first), and the
//! events queued for the next iteration.
//!
//! A queue entry carries the activation it was made for; deleting or freeing an event only
//! changes the event, and its stale entry is skipped when it comes up. So an event freed (or
//! deleted) by another callback of the same iteration does not run.

use std::collections::VecDeque;

use crate::id::Event;

/// The run queues.
pub(crate) struct Active {
    queues: Vec<VecDeque<(Event, u32)>>,
    /// Queued for the next iteration.
    later: Vec<Event>,
    /// A queue grew past `TRIM_ABOVE` entries: give the memory back once it is empty.
    grown: bool,
}

/// Queues longer than this are shrunk once they are empty again.
const TRIM_ABOVE: usize = 4096;

impl Active {
    /// `n` empty priority queues.
    pub(crate) fn new(n: usize) -> Active {
        Active { queues: (0..n).map(|_| VecDeque::new()).collect(), later: Vec::new(), grown: false }
    }
    /// Queues `ev` (activation `activation`) at `priority`.
    pub(crate) fn push(&mut self, priority: u8, ev: Event, activation: u32) {
        let q = &mut self.queues[priority as usize];
        q.push_back((ev, activation));
        self.grown |= q.len() > TRIM_ABOVE;
    }
    /// The next entry of `priority`'s queue.
    pub(crate) fn pop(&mut self, priority: usize) -> Option<(Event, u32)> {
        self.queues[priority].pop_front()
    }
    /// Whether `priority`'s queue has entries (perhaps stale).
    pub(crate) fn has(&self, priority: usize) -> bool {
        !self.queues[priority].is_empty()
    }
    /// How many priorities.
    pub(crate) fn priorities(&self) -> usize {
        self.queues.len()
    }
    /// Queues `ev` for the next iteration.
    pub(crate) fn push_later(&mut self, ev: Event) {
        self.later.push(ev);
    }
    /// Takes the events queued for this iteration.
    pub(crate) fn take_later(&mut self) -> Vec<Event> {
        std::mem::take(&mut self.later)
    }
    /// The heap memory it holds, in bytes.
    pub(crate) fn memory(&self) -> usize {
        let entry = std::mem::size_of::<(Event, u32)>();
        self.queues.iter().map(|q| q.capacity() * entry).sum::<usize>()
            + self.queues.capacity() * std::mem::size_of::<VecDeque<(Event, u32)>>()
            + self.later.capacity() * std::mem::size_of::<Event>()
    }
    /// Gives memory back once the queues are empty after a burst (cheap when none grew).
    pub(crate) fn trim(&mut self) {
        if !self.grown {
            return;
        }
        self.grown = false;
        for q in &mut self.queues {
            if q.is_empty() {
                *q = VecDeque::new();
            } else {
                self.grown |= q.capacity() > TRIM_ABOVE;
            }
        }
        if self.later.is_empty() {
            self.later = Vec::new();
        }
    }
}
