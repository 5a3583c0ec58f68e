//! Waiting in a completion port: readiness emulated over completions (the first seed's
//! design, libevent's `event_base_start_iocp` done whole). Each watched descriptor has one
//! `PollReady` op in flight on a duplicate of it; its completion is the descriptor's
//! readiness, and the op is submitted again, before the next wait, while the descriptor is
//! watched (so readiness is level-triggered; edge triggering is refused). The port is built
//! for the base's thread alone (`wake_pipe.rs` says how other threads wake it); signals are
//! a `PollReady` on the signal receiver.
//!
//! ```text
//!   register(fd) ─► dup(fd) ─► associate_for_polling ─► PollReady(interest) ─┐
//!        ▲                                                  completes: (token, flags)
//!        └── submitted again (same id) at the next poll, after ◄──────────────┘
//!            the callbacks ran, if still watched
//!   reregister: a new id (the old op's late completion is not known: ignored), cancel the old
//!   deregister: forget the id, cancel the op and wait for it (its duplicate closes then)
//! ```

use std::collections::HashMap;
use std::io;
use std::time::Duration;

use overlap::op::{Op, PollReady};
use overlap::{
    Completion, CompletionPort, Handle, Interest, OpId, PortBackend, SignalReceiver, SubmitError, Token, Trigger,
};

use super::ready::flags;
use super::routes::{Routes, Ticket, ROUTE_TAG};
use super::wake_pipe::{PipeWaker, WakePipe, SINGLE_THREAD, WAKE_DATA};
use crate::flags::Flags;
use crate::id::{Event, Fd};

/// The `user_data` of the signal receiver's readiness wait.
const SIGNAL_DATA: usize = usize::MAX - 1;

/// One watched descriptor.
struct Watch {
    id: usize,
    token: Token,
    handle: Handle,
    interest: Interest,
    op: Option<OpId>,
}

/// A completion port and the readiness waits in flight on it.
pub(crate) struct PortWait {
    port: CompletionPort,
    watches: HashMap<Fd, Watch>,
    /// The descriptor each readiness wait's id belongs to.
    ids: HashMap<usize, Fd>,
    next_id: usize,
    signals: Option<(Handle, Token)>,
    done: Vec<Completion>,
    /// Completions taken while waiting for a cancelled wait to come back, for the next poll.
    early: Vec<Completion>,
    /// Descriptors whose wait completed: submitted again at the next poll, after the
    /// callbacks ran (submitted at once, a wait would complete again for data the callbacks
    /// are about to read: stale readiness).
    rearm: Vec<Fd>,
    /// The signal receiver's wait completed: submit it again at the next poll.
    rearm_signals: bool,
    /// Where the completions of the base's other ops (buffered events', listeners') go.
    routes: Routes,
    /// How other threads wake the wait.
    wake: WakePipe,
    rearm_wake: bool,
}

impl PortWait {
    /// A port on `backend`, for one thread's loop (others wake it: `wake_pipe.rs`).
    pub(crate) fn new(backend: PortBackend) -> io::Result<PortWait> {
        let port = CompletionPort::builder().backend(backend).concurrency(1).single_thread(SINGLE_THREAD).build()?;
        let wake = WakePipe::new(&port)?;
        Ok(PortWait {
            port,
            watches: HashMap::new(),
            ids: HashMap::new(),
            next_id: 1,
            signals: None,
            done: Vec::new(),
            early: Vec::new(),
            rearm: Vec::new(),
            rearm_signals: false,
            routes: Routes::default(),
            wake,
            rearm_wake: true,
        })
    }

    pub(crate) fn backend(&self) -> PortBackend {
        self.port.backend()
    }

    /// What other threads wake the wait with.
    pub(crate) fn waker(&self) -> PipeWaker {
        self.wake.waker()
    }

    /// Watches `fd` for `interest`: its wait is submitted with the next poll.
    pub(crate) fn register(&mut self, fd: Fd, token: Token, interest: Interest, trigger: Trigger) -> io::Result<()> {
        if trigger != Trigger::Level {
            return Err(crate::error::unsupported("edge triggering (ET)", "completion port"));
        }
        let handle = self.port.associate_for_polling(overlap::io::dup_raw(fd)?, 0)?;
        let id = self.fresh_id();
        self.ids.insert(id, fd);
        self.watches.insert(fd, Watch { id, token, handle, interest, op: None });
        self.rearm.push(fd);
        Ok(())
    }

    /// Watches `fd` for `interest` from now on: a wait in flight for the old interest is
    /// cancelled (and waited for: its late completion would be stale), the new one goes with
    /// the next poll.
    pub(crate) fn reregister(&mut self, fd: Fd, token: Token, interest: Interest, trigger: Trigger) -> io::Result<()> {
        if trigger != Trigger::Level {
            return Err(crate::error::unsupported("edge triggering (ET)", "completion port"));
        }
        let id = self.fresh_id();
        let Some(w) = self.watches.get_mut(&fd) else { return Err(io::ErrorKind::NotFound.into()) };
        let old = w.op.take();
        self.ids.remove(&w.id);
        (w.id, w.token, w.interest) = (id, token, interest);
        self.ids.insert(id, fd);
        self.rearm.push(fd);
        if let Some(old) = old {
            let _ = self.port.cancel(old);
            drop(self.reap(old));
        }
        Ok(())
    }

    /// Stops watching `fd`: its wait is cancelled and waited for here, so that the duplicate
    /// it holds is closed before this returns (else a socket closed by its owner right after
    /// would stay open, its peer never seeing the end of the stream, until the loop's next
    /// wait).
    pub(crate) fn deregister(&mut self, fd: Fd) -> io::Result<()> {
        let Some(w) = self.watches.remove(&fd) else { return Err(io::ErrorKind::NotFound.into()) };
        self.ids.remove(&w.id);
        drop(w.handle);
        if let Some(op) = w.op {
            // `NotFound`: it completed already and waits in the queue; reaped all the same.
            let _ = self.port.cancel(op);
            drop(self.reap(op)); // its duplicate closes with it
        }
        Ok(())
    }

    /// Waits (at most a second) for `op` to come back and returns it; what else comes
    /// meanwhile is kept for the next poll.
    fn reap(&mut self, op: OpId) -> Option<Completion> {
        if let Some(i) = self.early.iter().position(|c| c.id() == op) {
            let c = self.early.swap_remove(i); // an earlier reap took it already
            self.forget_route(&c);
            return Some(c);
        }
        let deadline = std::time::Instant::now() + Duration::from_secs(1);
        let mut got = Vec::new();
        while std::time::Instant::now() < deadline {
            if self.port.wait_many(&mut got, 64, Some(Duration::from_millis(10))).is_err() {
                return None;
            }
            let mut found = None;
            for c in got.drain(..) {
                if c.id() == op {
                    self.forget_route(&c);
                    found = Some(c);
                } else {
                    self.early.push(c);
                }
            }
            if found.is_some() {
                return found;
            }
        }
        None
    }

    pub(crate) fn watch_signals(&mut self, rx: &SignalReceiver, token: Token) -> io::Result<()> {
        let handle = self.port.associate_for_polling(dup_receiver(rx)?, 0)?;
        self.port.submit(PollReady::new(&handle, Interest::READABLE), SIGNAL_DATA)?;
        self.signals = Some((handle, token));
        Ok(())
    }

    /// Waits at most `timeout`; what became ready goes to `out` as (token, flags), and each
    /// readiness wait that completed is submitted again.
    pub(crate) fn poll(&mut self, out: &mut Vec<(Token, Flags)>, timeout: Option<Duration>) -> io::Result<()> {
        self.submit_again();
        let mut done = std::mem::take(&mut self.done);
        let early = !self.early.is_empty();
        done.append(&mut self.early);
        // What came early is ready now: the wait does not block then.
        let got = self.port.wait_many(&mut done, 1024, if early { Some(Duration::ZERO) } else { timeout });
        for c in done.drain(..) {
            self.completed(c, out);
        }
        self.done = done;
        got.map(|_| ())
    }

    /// One completion: a wake (nothing to do: the loop takes its messages), the signals'
    /// readiness, or a descriptor's.
    fn completed(&mut self, c: Completion, out: &mut Vec<(Token, Flags)>) {
        match c.user_data() {
            WAKE_DATA => self.rearm_wake = self.wake.woke(), // the loop takes the messages after the wait
            SIGNAL_DATA => {
                if let Some((_, token)) = &self.signals {
                    out.push((*token, Flags::READ));
                    self.rearm_signals = true;
                }
            }
            id if Routes::is_route(id) => {
                let _ = self.routes.deliver(c); // an op of the base's (a buffered event's, a listener's)
            }
            id => {
                let Some(&fd) = self.ids.get(&id) else { return }; // a cancelled or replaced wait
                let Ok(overlap::BufResult(res, op)) = c.into_op::<PollReady>() else { return };
                let what = match res {
                    Ok(_) => flags(op.is_readable(), op.is_writable(), false, op.is_error()),
                    Err(_) => Flags::READ | Flags::WRITE | Flags::CLOSED, // whoever watches hears of it
                };
                let Some(w) = self.watches.get_mut(&fd) else { return };
                out.push((w.token, what));
                w.op = None;
                self.rearm.push(fd);
            }
        }
    }

    /// Submits the waits that completed in the last poll again (those still watched and not
    /// submitted anew by a reregister meanwhile).
    fn submit_again(&mut self) {
        for fd in std::mem::take(&mut self.rearm) {
            if let Some(w) = self.watches.get_mut(&fd) {
                if w.op.is_none() {
                    w.op = self.port.submit(PollReady::new(&w.handle, w.interest), w.id).ok();
                }
            }
        }
        if std::mem::take(&mut self.rearm_wake) {
            self.wake.arm(&self.port);
        }
        if std::mem::take(&mut self.rearm_signals) {
            if let Some((handle, _)) = &self.signals {
                let _ = self.port.submit(PollReady::new(handle, Interest::READABLE), SIGNAL_DATA);
            }
        }
    }

    /// A duplicate of `fd` associated with the port, for ops on it.
    pub(crate) fn associate(&mut self, fd: Fd) -> io::Result<Handle> {
        self.port.associate(overlap::io::dup_raw(fd)?, 0)
    }

    /// The route of a completion taken here, not through its route, is forgotten.
    fn forget_route(&mut self, c: &Completion) {
        if let Some(ticket) = Routes::ticket(c.user_data()) {
            self.routes.forget(ticket);
        }
    }

    /// Starts `op` (held back until the next wait, which submits it with its own system
    /// call); its completion fires `ev`, whose callback takes it with the ticket returned.
    pub(crate) fn submit<O: Op>(&mut self, op: O, ev: Event) -> Result<(OpId, Ticket), SubmitError<O>> {
        let Some((ticket, data)) = self.routes.insert(ev) else {
            return Err(SubmitError { error: io::ErrorKind::OutOfMemory.into(), op });
        };
        match self.port.submit_deferred(op, data) {
            Ok(id) => Ok((id, ticket)),
            Err(e) => {
                self.routes.forget(ticket);
                Err(e)
            }
        }
    }

    /// The completion of the op `ticket` names, if it came.
    pub(crate) fn take_done(&mut self, ticket: Ticket) -> Option<Completion> {
        self.routes.take(ticket)
    }

    /// Forgets the route `ticket` names (its event is gone), with its completion if it came.
    pub(crate) fn forget(&mut self, ticket: Ticket) {
        self.routes.forget(ticket);
    }

    /// Cancels `op` (its route: `ticket`): it completes (cancelled, or with its own result if
    /// it finished first) into its route as usual. With `wait`, it is waited for here
    /// instead (or taken from its route, if it came already) and returned, with its buffer
    /// and its duplicate (what freeing a buffered event wants: its socket closes now, not at
    /// the next wait; and what a receive got is not lost).
    pub(crate) fn cancel(&mut self, op: OpId, ticket: Ticket, wait: bool) -> Option<Completion> {
        if let Some(c) = wait.then(|| self.routes.take(ticket)).flatten() {
            return Some(c); // it came already: nothing to cancel or wait for
        }
        let _ = self.port.cancel(op);
        if wait {
            self.reap(op)
        } else {
            None
        }
    }

    /// Starts the ops held back for the next wait (no system call if there is none).
    pub(crate) fn flush(&mut self) -> io::Result<()> {
        self.port.flush()
    }

    /// The ops of the base's in flight (or completed, their completion not taken yet), and
    /// the bytes their routes hold.
    pub(crate) fn ops(&self) -> (usize, usize) {
        (self.routes.in_use(), self.routes.memory())
    }

    /// The events whose ops completed in the last poll.
    pub(crate) fn take_fired(&mut self, out: &mut Vec<(Event, Ticket)>) {
        self.routes.take_fired(out);
    }

    /// An id for a readiness wait: below [`ROUTE_TAG`] (the routes' and the wake's are above).
    fn fresh_id(&mut self) -> usize {
        let id = self.next_id;
        self.next_id = if id >= ROUTE_TAG - 1 { 1 } else { id + 1 };
        id
    }
}

#[cfg(unix)]
fn dup_receiver(rx: &SignalReceiver) -> io::Result<std::os::fd::OwnedFd> {
    std::os::fd::AsFd::as_fd(rx).try_clone_to_owned()
}

#[cfg(windows)]
fn dup_receiver(rx: &SignalReceiver) -> io::Result<std::os::windows::io::OwnedSocket> {
    std::os::windows::io::AsSocket::as_socket(rx).try_clone_to_owned()
}
