//! `Deferred`: what code on the loop's thread leaves for the base when it does not have the
//! base at hand — a buffer's callback that must wake its buffered event's writer, a buffered
//! event dropped without being freed. The base takes it after every callback and before
//! every wait (libevent's deferred callbacks), so an activation left here runs in the same
//! iteration, with no system call.
//!
//! ```text
//!   buffer callback ── activate(ev) ─┐
//!   Drop of a handle ── free(ev) ────┼─► queue ─► base, after the callback that left it:
//!                   └── release(x) ──┘            activate, free, then drop x (in that order)
//! ```

use std::any::Any;
use std::cell::{Cell, RefCell};
use std::fmt;

use crate::flags::Flags;
use crate::id::Event;

/// One thing left for the base.
pub(crate) enum Later {
    /// Activate the event with these flags (if it still exists).
    Activate(Event, Flags),
    /// Free the event (if it still exists).
    Free(Event),
    /// Drop this after the frees before it (a socket whose events they were).
    Release(Box<dyn Any>),
}

/// The queue, shared (`Rc`) by the base and whatever may leave something in it.
#[derive(Default)]
pub(crate) struct Deferred {
    queue: RefCell<Vec<Later>>,
    any: Cell<bool>,
}

impl fmt::Debug for Deferred {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Deferred").field("any", &self.any.get()).finish_non_exhaustive()
    }
}

impl Deferred {
    /// Leaves `later` for the base.
    pub(crate) fn push(&self, later: Later) {
        self.queue.borrow_mut().push(later);
        self.any.set(true);
    }

    /// Whether anything was left (one load: the loop asks after every callback).
    pub(crate) fn any(&self) -> bool {
        self.any.get()
    }

    /// Moves what was left into `into` (an empty vector the caller keeps for its buffer).
    pub(crate) fn take(&self, into: &mut Vec<Later>) {
        std::mem::swap(&mut *self.queue.borrow_mut(), into);
        self.any.set(false);
    }
}
