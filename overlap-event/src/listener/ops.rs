//! Accepts on the completion port (a listener on a base whose engine is completion): several
//! `Accept` ops outstanding on a duplicate of the listening socket, each completion handing a
//! connection to `accept.rs` and being replaced while the listener is enabled and not backing
//! off; disabling cancels them (a connection one had already taken is still handed over).

use overlap::op::Accept;
use overlap::Completion;

use super::shared::{AcceptOps, Listener};
use crate::base::EventBase;

/// Accepts outstanding per listener.
pub(super) const OUTSTANDING: usize = 8;

/// Gives `l` its accept ops' state (its socket `fd` on the base's port).
pub(super) fn attach(base: &mut EventBase, l: &Listener, fd: crate::id::Fd) -> std::io::Result<()> {
    let handle = base.wait.associate(fd)?;
    *l.0.ops.borrow_mut() = Some(Box::new(AcceptOps { handle, inflight: Vec::new() }));
    Ok(())
}

/// Whether `l` accepts with ops.
pub(super) fn ported(l: &Listener) -> bool {
    l.0.ops.borrow().is_some()
}

/// Submits accepts until `OUTSTANDING` are in flight; the first error is returned.
pub(super) fn fill(base: &mut EventBase, l: &Listener) -> std::io::Result<()> {
    let Some(ev) = l.0.accept_ev.get() else { return Ok(()) };
    loop {
        let op = {
            let ops = l.0.ops.borrow();
            let Some(ops) = ops.as_ref() else { return Ok(()) };
            if ops.inflight.len() >= OUTSTANDING {
                return Ok(());
            }
            Accept::new(&ops.handle)
        };
        let submitted = base.wait.submit(op, ev).map_err(|e| e.error)?;
        if let Some(ops) = l.0.ops.borrow_mut().as_mut() {
            ops.inflight.push(submitted);
        }
    }
}

/// Cancels the accepts in flight; with `wait`, waits for them and returns them.
pub(super) fn cancel_all(base: &mut EventBase, l: &Listener, wait: bool) -> Vec<Completion> {
    let inflight = l.0.ops.borrow().as_ref().map(|o| o.inflight.clone()).unwrap_or_default();
    let mut got: Vec<Completion> = Vec::new();
    for (id, ticket) in inflight {
        got.extend(base.wait.cancel(id, ticket, wait));
    }
    if wait {
        if let Some(ops) = l.0.ops.borrow_mut().as_mut() {
            ops.inflight.clear();
        }
    }
    got
}

/// The completions that came, in the order their accepts were submitted, each forgotten as
/// in flight.
pub(super) fn take(base: &mut EventBase, l: &Listener) -> Vec<Completion> {
    let mut ops = l.0.ops.borrow_mut();
    let Some(ops) = ops.as_mut() else { return Vec::new() };
    let mut got = Vec::new();
    ops.inflight.retain(|&(_, ticket)| match base.wait.take_done(ticket) {
        Some(c) => {
            got.push(c);
            false
        }
        None => true,
    });
    got
}

/// Keeps the loop running while accepts are in flight and the listener is enabled.
pub(super) fn keep(base: &mut EventBase, l: &Listener) {
    let Some(ev) = l.0.accept_ev.get() else { return };
    let busy = l.0.ops.borrow().as_ref().is_some_and(|o| !o.inflight.is_empty());
    base.keep_pending(ev, busy && l.0.enabled.get() && !l.0.freed.get());
}
