//! Where the completions of ops submitted through the base go: each op's `user_data` names a
//! [`Route`], the internal event to run and the inbox that holds the completion until it
//! runs (a buffered event's, a listener's). The route is forgotten when its op completes.
//! Routes live in a slab (an op in flight costs no hashing): a route's `user_data` is its
//! slot with [`ROUTE_TAG`] set, which no readiness wait's id and no wake has.
//!
//! ```text
//!   submit(op, route) ─► user_data = ROUTE_TAG | slot ─► slots[slot] = route
//!   wait ─► completion ─► slots[slot].take() ─► inbox.push(completion); fired.push(event)
//!   the base activates the fired events; their callbacks take the inbox
//! ```

use std::cell::Cell;
use std::rc::Rc;

use overlap::Completion;

use crate::id::Event;

/// Completions waiting for their event's callback.
pub(crate) type Inbox = Rc<Cell<Vec<Completion>>>;

/// The `user_data` bits that mark a route (the two top bits: `01`; readiness waits are
/// `00`, the wake and the signals `11`).
pub(crate) const ROUTE_TAG: usize = 1 << (usize::BITS - 2);
const TAG_MASK: usize = 0b11 << (usize::BITS - 2);

/// Where one op's completion goes.
pub(crate) struct Route {
    pub(crate) ev: Event,
    pub(crate) inbox: Inbox,
}

/// The routes of the ops in flight, and the events their completions fired.
#[derive(Default)]
pub(crate) struct Routes {
    slots: Vec<Option<Route>>,
    free: Vec<usize>,
    fired: Vec<Event>,
}

impl Routes {
    /// Whether `user_data` names a route.
    pub(crate) fn is_route(user_data: usize) -> bool {
        user_data & TAG_MASK == ROUTE_TAG
    }

    /// Keeps `route`; returns the `user_data` that names it.
    pub(crate) fn insert(&mut self, route: Route) -> usize {
        let slot = match self.free.pop() {
            Some(i) => {
                self.slots[i] = Some(route);
                i
            }
            None => {
                self.slots.push(Some(route));
                self.slots.len() - 1
            }
        };
        ROUTE_TAG | slot
    }

    /// Delivers `c` to its route; gives it back if it has none.
    pub(crate) fn deliver(&mut self, c: Completion) -> Result<(), Completion> {
        match self.take(c.user_data()) {
            Some(route) => {
                let mut waiting = route.inbox.take();
                waiting.push(c);
                route.inbox.set(waiting);
                self.fired.push(route.ev);
                Ok(())
            }
            None => Err(c),
        }
    }

    /// Forgets the route named `user_data` (its completion was taken elsewhere, or its op was
    /// never submitted).
    pub(crate) fn forget(&mut self, user_data: usize) {
        drop(self.take(user_data));
    }

    fn take(&mut self, user_data: usize) -> Option<Route> {
        if !Self::is_route(user_data) {
            return None;
        }
        let slot = user_data & !TAG_MASK;
        let route = self.slots.get_mut(slot)?.take()?;
        self.free.push(slot);
        Some(route)
    }

    /// The events completions fired since the last call.
    pub(crate) fn take_fired(&mut self, out: &mut Vec<Event>) {
        out.append(&mut self.fired);
    }
}
