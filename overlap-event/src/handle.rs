//! `BaseHandle`: reaches a base from other threads (runs closures on its loop, activates its
//! events, stops it), through the base's reactor waker.

use std::fmt;
use std::io;
use std::sync::Arc;
use std::time::Duration;

use crate::base::{EventBase, Msg};
use crate::flags::Flags;
use crate::id::Event;
use crate::remote::Remote;

/// A `Send + Sync` handle to an [`EventBase`], for other threads (libevent's
/// `evthread_use_pthreads` + `event_active` / `event_base_loopbreak` from another thread).
/// What it asks is done by the loop, in the order asked, at the start of its next iteration
/// (it wakes a loop blocked in the kernel). Clone it freely; it does not keep the base alive:
/// once the base is gone, what is asked is refused (`BrokenPipe`) and dropped.
#[derive(Clone)]
pub struct BaseHandle {
    remote: Arc<Remote<Msg>>,
}

impl fmt::Debug for BaseHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BaseHandle").finish_non_exhaustive()
    }
}

impl EventBase {
    /// A handle for other threads.
    pub fn handle(&self) -> BaseHandle {
        BaseHandle { remote: self.remote.clone() }
    }
}

impl BaseHandle {
    fn send(&self, m: Msg) -> io::Result<()> {
        self.remote.push(m)
    }

    /// Runs `f` on the loop's thread, with the base.
    pub fn run<F: FnOnce(&mut EventBase) + Send + 'static>(&self, f: F) -> io::Result<()> {
        self.send(Msg::Run(Box::new(f)))
    }

    /// Activates `ev` with `what` (an event freed by then is skipped).
    pub fn activate(&self, ev: Event, what: Flags) -> io::Result<()> {
        self.send(Msg::Activate(ev, what))
    }

    /// Stops the loop (as [`EventBase::loopbreak`], at the start of its next iteration).
    pub fn loopbreak(&self) -> io::Result<()> {
        self.send(Msg::Break)
    }

    /// Stops the loop after `after` (as [`EventBase::loopexit`]).
    pub fn loopexit(&self, after: Option<Duration>) -> io::Result<()> {
        self.send(Msg::Exit(after))
    }
}
