//! Accepting: the batch per wake, the errors that are skipped, and the back-off when the
//! process (or system) is out of descriptors (see the state diagram in `mod.rs`).

use std::io::{self, ErrorKind};
use std::net::SocketAddr;
use std::time::Duration;

use super::errors;
use super::ops;
use super::shared::Listener;
use crate::base::EventBase;

/// Connections accepted per wake at most (the rest on the next: level-triggered, so others
/// get their turn).
const ACCEPT_BATCH: usize = 64;
/// The first back-off; each one after it doubles, up to `MAX_BACKOFF`.
const FIRST_BACKOFF: Duration = Duration::from_millis(10);
const MAX_BACKOFF: Duration = Duration::from_secs(1);

/// Watches the socket when enabled and not backing off; otherwise not.
pub(super) fn apply(base: &mut EventBase, l: &Listener) -> io::Result<()> {
    let s = &l.0;
    if ops::ported(l) {
        // Accepts in flight while enabled and not backing off; none otherwise.
        let res = if s.enabled.get() && s.backoff.get().is_none() && !s.freed.get() {
            ops::fill(base, l)
        } else {
            drop(ops::cancel_all(base, l, false));
            Ok(())
        };
        ops::keep(base, l);
        return res;
    }
    let Some(ev) = s.accept_ev.get() else { return Ok(()) };
    if s.enabled.get() && s.backoff.get().is_none() {
        base.add(ev, None)
    } else {
        base.del(ev)
    }
}

/// The socket is readable: accept what is there.
pub(super) fn on_readable(base: &mut EventBase, l: &Listener) {
    for _ in 0..ACCEPT_BATCH {
        if l.0.freed.get() || !l.0.enabled.get() {
            return;
        }
        let Some(sock) = l.0.sock.borrow().clone() else { return };
        let res = sock.accept();
        drop(sock);
        match res {
            Ok((conn, peer)) => {
                let Some(peer) = peer.as_socket() else { continue };
                if conn.set_nonblocking(true).is_err() {
                    continue;
                }
                accepted(base, l, conn, peer);
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => return,
            Err(e) if skippable(&e) => continue,
            Err(e) if out_of_descriptors(&e) => {
                back_off(base, l, e);
                return;
            }
            Err(e) => {
                failed(base, l, e);
                return;
            }
        }
    }
}

/// Accepts on the port completed: each connection goes to the callback (also one taken
/// just before a disable cancelled its accept), errors as `on_readable` treats them; then
/// the accepts are topped up.
pub(super) fn on_completions(base: &mut EventBase, l: &Listener) {
    for c in ops::take(base, l) {
        if l.0.freed.get() {
            return; // freed by a callback: the rest are dropped (their connections closed)
        }
        let Ok(overlap::BufResult(res, mut op)) = c.into_op::<overlap::op::Accept>() else { continue };
        match res {
            Ok(_) => {
                let (Some(conn), Some(peer)) = (op.take_socket(), op.peer_addr()) else { continue };
                let conn = socket2::Socket::from(conn);
                if conn.set_nonblocking(true).is_ok() {
                    accepted(base, l, conn, peer);
                }
            }
            Err(e) if e.kind() == ErrorKind::Interrupted => {} // cancelled (disabled)
            Err(e) if skippable(&e) => {}
            // The other accepts in flight may fail the same way: one back-off for them all.
            Err(e) if out_of_descriptors(&e) => {
                if l.0.backoff.get().is_none() {
                    back_off(base, l, e);
                }
            }
            Err(e) => failed(base, l, e),
        }
    }
    if !l.0.freed.get() {
        if let Err(e) = apply(base, l) {
            failed(base, l, e);
        }
    }
}

/// The back-off timer fired: watch the socket again (the next wake tries to accept).
pub(super) fn backoff_over(base: &mut EventBase, l: &Listener) {
    // Its length is kept: the next one doubles it if the accept fails the same way again; a
    // success forgets it.
    l.0.last_backoff.set(l.0.backoff.take());
    let _ = apply(base, l);
}

/// Out of descriptors: tell the error callback, stop watching, try again later.
fn back_off(base: &mut EventBase, l: &Listener, e: io::Error) {
    let next = match l.0.last_backoff.take() {
        Some(d) => (d * 2).min(MAX_BACKOFF),
        None => FIRST_BACKOFF,
    };
    l.0.backoff.set(Some(next));
    let _ = apply(base, l);
    if let Some(ev) = l.0.backoff_ev.get() {
        let _ = base.add(ev, Some(next));
    }
    failed(base, l, e);
}

fn accepted(base: &mut EventBase, l: &Listener, conn: socket2::Socket, peer: SocketAddr) {
    l.0.last_backoff.set(None);
    let generation = l.0.generation.get()[0];
    let Some(mut cb) = l.0.accept_cb.borrow_mut().take() else { return };
    cb(base, l, conn, peer);
    if l.0.generation.get()[0] == generation && !l.0.freed.get() {
        *l.0.accept_cb.borrow_mut() = Some(cb);
    }
}

fn failed(base: &mut EventBase, l: &Listener, e: io::Error) {
    let generation = l.0.generation.get()[1];
    let Some(mut cb) = l.0.error_cb.borrow_mut().take() else { return };
    cb(base, l, e);
    if l.0.generation.get()[1] == generation && !l.0.freed.get() {
        *l.0.error_cb.borrow_mut() = Some(cb);
    }
}

/// Errors of one connection that the next accept does not share.
fn skippable(e: &io::Error) -> bool {
    matches!(e.kind(), ErrorKind::Interrupted | ErrorKind::ConnectionAborted | ErrorKind::ConnectionReset)
        || errors::is_transient(e)
}

/// The process or system is out of descriptors or memory for one more socket.
fn out_of_descriptors(e: &io::Error) -> bool {
    errors::is_out_of_descriptors(e)
}
