//! Where the completions of ops submitted through the base go: each op's `user_data` names a
//! route slot, which holds the internal event to run and, once the op is done, where its
//! completion waits until that event's callback takes it with the op's [`Ticket`] (a
//! buffered event's, a listener's: they know which ops they have in flight). Routes live in
//! a slab (an op in flight costs no hashing, no allocation and 16 bytes): a route's
//! `user_data` is its slot with [`ROUTE_TAG`] set, which no readiness wait's id and no wake
//! has. The completions wait in a second slab, as large as the most that came and were not
//! taken yet (about one wait's worth).
//!
//! ```text
//!   submit(op, ev) ─► user_data = ROUTE_TAG | slot ─► slots[slot] = Waiting(ev)
//!   wait ─► completion ─► done[i] = completion; slots[slot] = Done(i); fired.push((ev, slot))
//!   the base activates the fired events; their callbacks take(ticket) ─► the completion,
//!   and the slot is free again (an event freed meanwhile: the base forgets its slot)
//! ```

use overlap::Completion;

use crate::id::Event;

/// The `user_data` bits that mark a route (the two top bits: `01`; readiness waits are
/// `00`, the wake and the signals `11`).
pub(crate) const ROUTE_TAG: usize = 1 << (usize::BITS - 2);
const TAG_MASK: usize = 0b11 << (usize::BITS - 2);

/// Names the route of one op in flight: what its owner takes its completion with.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) struct Ticket(u32);

/// One route slot.
enum Slot {
    Free,
    /// The op is in flight; its completion will run `Event`.
    Waiting(Event),
    /// The op completed; its event's callback takes the completion (in `done` at this index).
    Done(u32),
}

/// The routes of the ops in flight (and completed, not yet taken), the completions not taken
/// yet, and the events they fired.
#[derive(Default)]
pub(crate) struct Routes {
    slots: Vec<Slot>,
    free: Vec<u32>,
    done: Vec<Option<Completion>>,
    done_free: Vec<u32>,
    fired: Vec<(Event, Ticket)>,
}

impl Routes {
    /// Whether `user_data` names a route.
    pub(crate) fn is_route(user_data: usize) -> bool {
        user_data & TAG_MASK == ROUTE_TAG
    }

    /// Keeps a route to `ev`; returns its ticket and the `user_data` that names it (`None`:
    /// more routes than a ticket counts, which no memory holds).
    pub(crate) fn insert(&mut self, ev: Event) -> Option<(Ticket, usize)> {
        let slot = match self.free.pop() {
            Some(i) => {
                self.slots[i as usize] = Slot::Waiting(ev);
                i
            }
            None => {
                let i = u32::try_from(self.slots.len()).ok()?;
                self.slots.push(Slot::Waiting(ev));
                i
            }
        };
        Some((Ticket(slot), ROUTE_TAG | slot as usize))
    }

    /// Keeps `c` in its route for its event's callback; gives it back if it has none.
    pub(crate) fn deliver(&mut self, c: Completion) -> Result<(), Completion> {
        let Some(ticket) = Self::ticket(c.user_data()) else { return Err(c) };
        let Some(slot) = self.slots.get_mut(ticket.0 as usize) else { return Err(c) };
        let Slot::Waiting(ev) = *slot else { return Err(c) };
        let i = match self.done_free.pop() {
            Some(i) => {
                self.done[i as usize] = Some(c);
                i
            }
            None => {
                // No more than there are slots, whose count fits a ticket.
                self.done.push(Some(c));
                (self.done.len() - 1) as u32
            }
        };
        *slot = Slot::Done(i);
        self.fired.push((ev, ticket));
        Ok(())
    }

    /// The completion of the op `ticket` names, if it is done (its route is forgotten then).
    pub(crate) fn take(&mut self, ticket: Ticket) -> Option<Completion> {
        let slot = self.slots.get_mut(ticket.0 as usize)?;
        let Slot::Done(i) = *slot else { return None };
        *slot = Slot::Free;
        self.free.push(ticket.0);
        let c = self.done.get_mut(i as usize).and_then(Option::take);
        self.done_free.push(i);
        self.trim();
        c
    }

    /// Forgets the route of `ticket`, with its completion if it is done (taken elsewhere, or
    /// its op never submitted, or its event is gone).
    pub(crate) fn forget(&mut self, ticket: Ticket) {
        if let Some(slot) = self.slots.get_mut(ticket.0 as usize) {
            match std::mem::replace(slot, Slot::Free) {
                Slot::Free => return,
                Slot::Waiting(_) => {}
                Slot::Done(i) => {
                    drop(self.done.get_mut(i as usize).and_then(Option::take));
                    self.done_free.push(i);
                }
            }
            self.free.push(ticket.0);
            self.trim();
        }
    }

    /// With no route left (so no completion waiting either), the slabs give their memory
    /// back (after a burst of connections).
    #[inline]
    fn trim(&mut self) {
        if self.free.len() == self.slots.len() {
            self.trim_slow();
        }
    }

    fn trim_slow(&mut self) {
        if self.slots.capacity() > 64 || self.done.capacity() > 64 {
            *self = Routes { fired: std::mem::take(&mut self.fired), ..Routes::default() };
            if self.fired.is_empty() {
                self.fired = Vec::new();
            }
        }
    }

    /// The routes in use: ops in flight, and completions not taken yet.
    pub(crate) fn in_use(&self) -> usize {
        self.slots.len() - self.free.len()
    }

    /// The heap memory the routes hold, in bytes.
    pub(crate) fn memory(&self) -> usize {
        use std::mem::size_of;
        self.slots.capacity() * Self::SLOT_BYTES
            + (self.free.capacity() + self.done_free.capacity()) * size_of::<u32>()
            + self.done.capacity() * size_of::<Option<Completion>>()
            + self.fired.capacity() * size_of::<(Event, Ticket)>()
    }

    /// The ticket `user_data` names, if it names a route.
    pub(crate) fn ticket(user_data: usize) -> Option<Ticket> {
        Self::is_route(user_data).then_some(Ticket((user_data & !TAG_MASK) as u32))
    }

    /// The events completions fired since the last call, with the ticket of each completion.
    pub(crate) fn take_fired(&mut self, out: &mut Vec<(Event, Ticket)>) {
        out.append(&mut self.fired);
    }

    /// Bytes one route takes (its completion, while it waits to be taken, is the base's).
    pub(crate) const SLOT_BYTES: usize = std::mem::size_of::<Slot>();
}

#[cfg(test)]
mod tests {
    use std::num::NonZeroU64;
    use std::time::Duration;

    use overlap::{Completion, CompletionPort};

    use super::{Routes, ROUTE_TAG};
    use crate::id::Event;

    /// A completion carrying `user_data` (a post on a real port).
    fn completion(port: &CompletionPort, user_data: usize) -> Completion {
        port.post(0, user_data, 7).unwrap();
        port.wait(Some(Duration::from_secs(10))).unwrap().expect("the post comes back")
    }

    fn ev(index: u32) -> Event {
        Event { base: 1, index, generation: NonZeroU64::MIN }
    }

    #[test]
    fn a_completion_waits_in_its_route_until_its_owner_takes_it() {
        let port = CompletionPort::new().unwrap();
        let mut routes = Routes::default();
        let (a, data_a) = routes.insert(ev(1)).unwrap();
        let (b, data_b) = routes.insert(ev(2)).unwrap();
        assert!(Routes::is_route(data_a) && Routes::ticket(data_b) == Some(b));
        assert!(routes.take(a).is_none(), "in flight: nothing to take yet");
        routes.deliver(completion(&port, data_b)).unwrap();
        let mut fired = Vec::new();
        routes.take_fired(&mut fired);
        assert_eq!(fired, [(ev(2), b)], "its event fired, naming the ticket");
        assert_eq!(routes.in_use(), 2);
        assert_eq!(routes.take(b).map(|c| c.user_data()), Some(data_b));
        assert!(routes.take(b).is_none(), "taken once");
        assert_eq!(routes.in_use(), 1);
        routes.forget(a);
        routes.forget(a);
        assert_eq!(routes.in_use(), 0, "a forgotten route is free, once");
    }

    #[test]
    fn a_completion_with_no_route_is_given_back() {
        let port = CompletionPort::new().unwrap();
        let mut routes = Routes::default();
        let (t, data) = routes.insert(ev(1)).unwrap();
        routes.forget(t);
        for user_data in [data, 5, ROUTE_TAG | 9999, usize::MAX] {
            let c = completion(&port, user_data);
            assert_eq!(routes.deliver(c).map_err(|c| c.user_data()), Err(user_data), "{user_data:#x}");
        }
        let mut fired = Vec::new();
        routes.take_fired(&mut fired);
        assert!(fired.is_empty() && routes.in_use() == 0);
    }

    #[test]
    fn routes_give_their_memory_back_when_none_is_left() {
        let mut routes = Routes::default();
        let tickets: Vec<_> = (0..1000).map(|i| routes.insert(ev(i)).unwrap().0).collect();
        assert!(routes.memory() >= 1000 * Routes::SLOT_BYTES);
        for t in tickets {
            routes.forget(t);
        }
        assert_eq!(routes.in_use(), 0);
        assert!(routes.memory() < 1000, "{} bytes left", routes.memory());
        // The completions' slab too, once they are taken.
        let port = CompletionPort::new().unwrap();
        let routes_of: Vec<_> = (0..200).map(|i| routes.insert(ev(i)).unwrap()).collect();
        for &(_, data) in &routes_of {
            routes.deliver(completion(&port, data)).unwrap();
        }
        assert!(routes.memory() >= 200 * std::mem::size_of::<Completion>());
        let mut fired = Vec::new();
        routes.take_fired(&mut fired);
        assert_eq!(fired.len(), 200);
        for (i, &(t, data)) in routes_of.iter().enumerate() {
            assert_eq!(routes.take(t).map(|c| c.user_data()), Some(data), "route {i}");
        }
        assert!(routes.memory() < 1000, "{} bytes left after the completions were taken", routes.memory());
    }
}
