//! The end of a [`BufferEvent`]: `free`, `into_socket`, and what it holds meanwhile
//! (`memory`).

use std::io;
use std::rc::Rc;

use socket2::Socket;

use super::engine::detach;
use super::shared::{Bits, BufferEvent, Kind, Shared};
use crate::base::EventBase;
use crate::deferred::Later;
use crate::error::busy;

impl BufferEvent {
    /// Frees it: its events go, its socket is closed, its callbacks are dropped; what was
    /// buffered is dropped with the last handle. Allowed from its own callbacks.
    pub fn free(&self, base: &mut EventBase) -> io::Result<()> {
        self.check(base)?;
        let under = self.underlying();
        let free_under = matches!(&self.0.st.borrow().kind, Kind::Filter(f) if f.free_under);
        let sock = release(base, &self.0);
        drop(sock);
        if let Some(under) = under.filter(|u| !u.is_freed()) {
            if free_under {
                under.free(base)?;
            } else {
                under.clear_callbacks();
            }
        }
        Ok(())
    }

    /// Frees it but gives its socket back open instead of closing it (libevent without
    /// `BEV_OPT_CLOSE_ON_FREE`). What it received stays readable from its input, and its
    /// output holds exactly what the socket did not take: on the completion engine, sends
    /// still in flight are cancelled and what they had not sent goes back to the output's
    /// front, in order. Writing the output on from there continues the stream.
    pub fn into_socket(&self, base: &mut EventBase) -> io::Result<Option<Socket>> {
        self.check(base)?;
        let sock = release(base, &self.0);
        sock.map(|rc| Rc::try_unwrap(rc).map_err(|_| busy())).transpose()
    }

    /// About how many heap bytes it holds: itself, its buffers (with what they cache), its
    /// callbacks, its socket's cell, its timeouts and rate limits, and its events in the base
    /// (their slots and the descriptor's entry); on the completion engine also its ops'
    /// state, their routes and the room of its receive in flight.
    pub fn memory(&self) -> usize {
        let s = &self.0;
        let cbs = s.cbs.borrow();
        let boxed = |b: Option<usize>| b.unwrap_or(0);
        let callbacks = boxed(cbs.read.as_ref().map(|c| std::mem::size_of_val(&**c)))
            + boxed(cbs.write.as_ref().map(|c| std::mem::size_of_val(&**c)))
            + boxed(cbs.event.as_ref().map(|c| std::mem::size_of_val(&**c)));
        let rc_header = 2 * std::mem::size_of::<usize>();
        let timeouts =
            s.st.try_borrow().map_or(0, |st| st.timeouts.as_ref().map_or(0, |t| std::mem::size_of_val(&**t)));
        let limits = s.with_limits(|l| l.as_ref().map_or(0, |l| std::mem::size_of_val(&**l)));
        let sock = s.socket().map_or(0, |_| rc_header + std::mem::size_of::<Socket>());
        let n_events = [s.read_ev.get(), s.write_ev.get()].iter().flatten().count();
        let ported = super::completion::memory(s);
        // Each event: its slot in the base's table and its callback's box (a handle to this).
        let slot = std::mem::size_of::<Option<(u64, crate::slot::Slot<crate::base::Callback>)>>();
        let per_event = slot + std::mem::size_of::<usize>();
        let (events, fd_entry) = if ported > 0 {
            // Three timers (read run, write run, completions), no descriptor entry.
            (3 * per_event, 0)
        } else {
            // The descriptor's entry, with the list its second event needs.
            (n_events * per_event, if n_events > 0 { crate::fdmap::entry_bytes(n_events) } else { 0 })
        };
        rc_header
            + std::mem::size_of::<Shared>()
            + s.input.try_borrow().map_or(0, |b| b.memory())
            + s.output.try_borrow().map_or(0, |b| b.memory())
            + callbacks
            + sock
            + events
            + fd_entry
            + ported
            + timeouts
            + limits
    }
}

/// Marks `s` freed, frees its events and callbacks; returns its socket.
fn release(base: &mut EventBase, s: &Shared) -> Option<Rc<Socket>> {
    s.set(Bits::FREED, true);
    detach(base, s);
    super::ratelim::forget(base, s);
    let taken = std::mem::take(&mut *s.cbs.borrow_mut());
    s.deferred.push(Later::Release(Box::new(taken))); // a callback may be the one running
    s.sock.take()
}
