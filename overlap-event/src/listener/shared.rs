//! What one listener is, behind its handles: its socket, its two events (accept, back-off),
//! its state and its callbacks.

use std::cell::{Cell, RefCell};
use std::io;
use std::net::SocketAddr;
use std::rc::Rc;
use std::time::Duration;

use overlap::{Handle, OpId};
use socket2::Socket;

use crate::base::EventBase;
use crate::deferred::{Deferred, Later};
use crate::id::Event;
use crate::wait::Ticket;

/// The accept callback: the base, the listener, the new connection (non-blocking) and its
/// peer's address.
pub(crate) type AcceptCb = Box<dyn FnMut(&mut EventBase, &Listener, Socket, SocketAddr)>;
/// The error callback.
pub(crate) type ErrorCb = Box<dyn FnMut(&mut EventBase, &Listener, io::Error)>;

/// A listening socket on an [`EventBase`] that accepts connections and hands each to its
/// callback. Cheap to clone (`Rc`).
#[derive(Clone)]
pub struct Listener(pub(crate) Rc<Shared>);

impl std::fmt::Debug for Listener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Listener").field("addr", &self.local_addr().ok()).finish_non_exhaustive()
    }
}

pub(crate) struct Shared {
    pub(crate) base: u32,
    pub(crate) sock: RefCell<Option<Rc<Socket>>>,
    pub(crate) accept_ev: Cell<Option<Event>>,
    pub(crate) backoff_ev: Cell<Option<Event>>,
    /// The user enabled it.
    pub(crate) enabled: Cell<bool>,
    /// Backing off (for this long): the accept event waits for the back-off timer.
    pub(crate) backoff: Cell<Option<Duration>>,
    /// How long the last back-off was (forgotten after an accept succeeds).
    pub(crate) last_backoff: Cell<Option<Duration>>,
    pub(crate) freed: Cell<bool>,
    pub(crate) accept_cb: RefCell<Option<AcceptCb>>,
    pub(crate) error_cb: RefCell<Option<ErrorCb>>,
    /// Generations of the accept and error callbacks (a callback replaced while it ran is
    /// not put back).
    pub(crate) generation: Cell<[u64; 2]>,
    pub(crate) deferred: Rc<Deferred>,
    /// Accepts on the completion port, on a base whose engine is completion (`ops.rs`).
    pub(crate) ops: RefCell<Option<Box<AcceptOps>>>,
}

/// A listener's accept ops: the port's handle on a duplicate of its socket, the ops in
/// flight (with the tickets their completions are taken with), in the order submitted.
pub(crate) struct AcceptOps {
    pub(crate) handle: Handle,
    pub(crate) inflight: Vec<(OpId, Ticket)>,
}

impl Drop for Shared {
    /// Dropped without `free`: the base frees its events, then the socket is closed.
    fn drop(&mut self) {
        if self.freed.get() {
            return;
        }
        for ev in [self.accept_ev.take(), self.backoff_ev.take()].into_iter().flatten() {
            self.deferred.push(Later::Free(ev));
        }
        if let Some(sock) = self.sock.get_mut().take() {
            self.deferred.push(Later::Release(Box::new(sock)));
        }
    }
}
