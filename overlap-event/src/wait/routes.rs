//! Where the completions of ops submitted through the base go: each op's `user_data` names a
//! [`Route`], the internal event to run and the inbox that holds the completion until it
//! runs (a buffered event's, a listener's). The route is forgotten when its op completes.
//!
//! ```text
//!   submit(op, route) ─► user_data = id ─► routes[id] = route
//!   wait ─► completion(id) ─► routes.remove(id) ─► inbox.push(completion); fired.push(event)
//!   the base activates the fired events; their callbacks take the inbox
//! ```

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use overlap::Completion;

use crate::id::Event;

/// Completions waiting for their event's callback.
pub(crate) type Inbox = Rc<RefCell<Vec<Completion>>>;

/// Where one op's completion goes.
pub(crate) struct Route {
    pub(crate) ev: Event,
    pub(crate) inbox: Inbox,
}

/// The routes of the ops in flight, and the events their completions fired.
#[derive(Default)]
pub(crate) struct Routes {
    map: HashMap<usize, Route>,
    fired: Vec<Event>,
}

impl Routes {
    pub(crate) fn insert(&mut self, id: usize, route: Route) {
        self.map.insert(id, route);
    }

    /// Delivers `c` (whose `user_data` is its route's id); `false` if it has no route.
    pub(crate) fn deliver(&mut self, c: Completion) -> Result<(), Completion> {
        match self.map.remove(&c.user_data()) {
            Some(route) => {
                route.inbox.borrow_mut().push(c);
                self.fired.push(route.ev);
                Ok(())
            }
            None => Err(c),
        }
    }

    /// Forgets the route of `id` (its completion was taken elsewhere).
    pub(crate) fn forget(&mut self, id: usize) {
        self.map.remove(&id);
    }

    /// The events completions fired since the last call.
    pub(crate) fn take_fired(&mut self, out: &mut Vec<Event>) {
        out.append(&mut self.fired);
    }
}
