//! The completion engine: a buffered event's socket driven by ops on the base's completion
//! port — one receive straight into reserved input space, and sends of the output's blocks
//! (several in flight, each whole: a stream send completes whole or fails, so they arrive
//! in order). Its three internal events are timers of the base: the read run (and read
//! timeout), the write run (and write timeout), and the one the base runs when an op
//! completed (`done_ev`, fed through the op's route).
//!
//! ```text
//!   enable(READ) ─► read run ─► Recv(reserved space) ─┐   (a zero-length probe until the
//!        ▲                                             │    peer first speaks, and again
//!        └── next receive ◄── commit, read callback ◄──┘    once it was quiet for IDLE)
//!   output.add(..) ─► write run ─► Send(block) × up to MAX_SENDS ─┐
//!        ▲                                                        │ each whole, in order
//!        └── more output ◄── write callback (output and sends ◄───┘
//!                            at the low watermark)
//!   a send fails: its block and the later ones' go back to the output's front, in order,
//!   when the last is in; then ERROR (the unsent bytes stay readable)
//! ```
//!
//! The output's length does not count bytes in sends in flight; the write callback waits
//! for them (libevent's async engine keeps them in the output, frozen, instead).
//!
//! An idle connection holds no room (the first seed's zero-byte read): a receive with room
//! that got nothing for [`IDLE`] is cancelled and a probe takes its place. The check rides on
//! the read run's timer, armed once per period (not per message) while no read timeout runs:
//!
//! ```text
//!   room receive submitted ─► idle check armed (IDLE) ─► fires: data came meanwhile? ─ yes ─► armed again
//!                                                                                   └─ no ──► cancel ─► probe
//! ```

use std::io::{self, ErrorKind};
use std::rc::Rc;
use std::time::Duration;

use overlap::op::{Recv, Send};
use overlap::{BufResult, Completion, Handle, OpId};
use overlap_buf::{Block, Buffer, Space};
use socket2::Socket;

use super::call::{event_cb, read_cb, write_cb};
use super::ratelim;
use super::shared::{Bits, BufferEvent, Failed, Flying, Ops, Shared};
use super::socket::{fd_of, free_events, shrink_if_empty};
use super::what::What;
use crate::base::EventBase;
use crate::flags::Flags;
use crate::id::Event;

/// Sends in flight per buffered event at most.
pub(crate) const MAX_SENDS: usize = 8;

/// A receive with room that got nothing for this long (found by a check once per period, so
/// after one to two periods of quiet) gives its room back: a zero-length probe replaces it.
pub(crate) const IDLE: Duration = Duration::from_secs(1);

/// Gives `shared` the socket `sock`, its port handle and its three internal events.
pub(crate) fn attach(base: &mut EventBase, shared: &Rc<Shared>, sock: Socket) -> io::Result<()> {
    sock.set_nonblocking(true)?; // for a connect; the port's ops do not care
    let handle = base.wait.associate(fd_of(&sock))?;
    let mut made = Vec::with_capacity(3);
    for run in [Run::Read, Run::Write, Run::Done] {
        let bev = BufferEvent(shared.clone());
        // The completions' event is persistent: running does not end its being pending
        // (`keep`), and it has no timer to re-arm.
        let what = if matches!(run, Run::Done) { Flags::PERSIST } else { Flags::NONE };
        match base.new_timer(what, move |base, _, fired| {
            if !bev.is_freed() {
                match run {
                    Run::Read => on_read_run(base, &bev, fired),
                    Run::Write => on_write_run(base, &bev, fired),
                    Run::Done => on_done(base, &bev),
                }
            }
        }) {
            Ok(ev) => made.push(ev),
            Err(e) => {
                for ev in made {
                    let _ = base.free(ev);
                }
                return Err(e);
            }
        }
    }
    if let Some(p) = shared.st.borrow().priority {
        for &ev in &made {
            let _ = base.set_priority(ev, usize::from(p));
        }
    }
    shared.read_ev.set(Some(made[0]));
    shared.write_ev.set(Some(made[1]));
    shared.st.borrow_mut().ops = Some(Box::new(Ops {
        handle,
        done_ev: made[2],
        recv: None,
        sends: Default::default(),
        next_seq: 0,
        sending: 0,
        failed: None,
        spoke: false,
        idle_watch: false,
        heard: false,
        read_timed: false,
        write_timed: false,
        kept: false,
    }));
    shared.sock.set(Some(Rc::new(sock)));
    Ok(())
}

#[derive(Copy, Clone)]
enum Run {
    Read,
    Write,
    Done,
}

/// Reading is wanted: enabled, not suspended, done, connecting or held.
fn want_read(bits: Bits) -> bool {
    bits.has(Bits::READ)
        && !bits.has(Bits::SUSPENDED)
        && !bits.has(Bits::CONNECTING)
        && !bits.has(Bits::READ_DONE)
        && !bits.has(Bits::READ_HELD)
}

/// Brings the ops in line with what is enabled: a receive while reading is wanted (submitted
/// here; through the read run when it must wait for rate-limit tokens or failed), none
/// otherwise (the one in flight is cancelled; what it got still joins the input); a write run
/// when there is output to send.
pub(crate) fn apply(base: &mut EventBase, s: &Shared) {
    let bits = s.bits();
    if bits.has(Bits::FREED) {
        return;
    }
    let recv = s.st.borrow().ops.as_ref().and_then(|o| o.recv);
    if want_read(bits) {
        if recv.is_none() {
            match receive(base, s) {
                Ok(Receive::Started) => {}
                Ok(Receive::Held) => s.queue_read(), // the read run holds it (it has the handle)
                Err(e) => {
                    // Reported from the read run, as the readiness engine reports a failed watch.
                    s.st.borrow_mut().error = Some(e);
                    s.set(Bits::READ_BROKEN, true);
                    s.queue_read();
                }
            }
        }
    } else {
        if let Some((f, _)) = recv {
            base.wait.cancel(f.id, f.ticket, false);
        }
        time(base, s, true, false);
        unwatch_idle(base, s);
    }
    if !bits.has(Bits::CONNECTING)
        && bits.has(Bits::WRITE)
        && !bits.has(Bits::WRITE_HELD)
        && s.output.try_borrow().map_or(true, |o| !o.is_empty())
    {
        s.queue_write();
    }
    keep(base, s);
}

/// Keeps the loop running while the buffered event waits for a receive, or for sends while
/// writing is enabled (sends left in flight after writing was turned off, by the user or a
/// timeout, complete when the loop runs again; they do not hold it).
fn keep(base: &mut EventBase, s: &Shared) {
    let (ev, want) = {
        let mut st = s.st.borrow_mut();
        let Some(ops) = st.ops.as_mut() else { return };
        let waiting = ops.recv.is_some() || (!ops.sends.is_empty() && s.bits().has(Bits::WRITE));
        let want = waiting && !s.bits().has(Bits::FREED);
        if want == ops.kept {
            return; // no change: the base is not asked
        }
        ops.kept = want;
        (ops.done_ev, want)
    };
    base.keep_pending(ev, want);
}

/// Starts (`on`) or stops the read (or write) timeout; started again, it counts from now.
fn time(base: &mut EventBase, s: &Shared, read: bool, on: bool) {
    let (ev, timeout, timed) = {
        let st = s.st.borrow();
        let Some(ops) = st.ops.as_ref() else { return };
        if read {
            (s.read_ev.get(), st.read_timeout(), ops.read_timed)
        } else {
            (s.write_ev.get(), st.write_timeout(), ops.write_timed)
        }
    };
    let Some(ev) = ev else { return };
    if timeout.is_none() && !timed {
        return; // no timeout, none running: nothing to do (the common case, per message)
    }
    if read {
        // The timer is the read timeout's now (or none): the idle check is off until the
        // next receive arms it.
        if let Some(ops) = s.st.borrow_mut().ops.as_mut() {
            ops.idle_watch = false;
        }
    }
    let now_timed = match timeout {
        Some(t) if on => base.add(ev, Some(t)).is_ok(),
        _ => {
            if timed {
                // Deleting the timer drops a queued run of the same event: queue it again.
                let queued = if read { Bits::READ_QUEUED } else { Bits::WRITE_QUEUED };
                let was = s.bits().has(queued);
                let _ = base.del(ev);
                if was {
                    s.set(queued, false);
                    if read {
                        s.queue_read();
                    } else {
                        s.queue_write();
                    }
                }
            }
            false
        }
    };
    if let Some(ops) = s.st.borrow_mut().ops.as_mut() {
        if read {
            ops.read_timed = now_timed;
        } else {
            ops.write_timed = now_timed;
        }
    }
}

/// The timeouts changed: the running ones start again with the new values.
pub(crate) fn retime(base: &mut EventBase, s: &Shared) {
    let (reading, writing) = {
        let st = s.st.borrow();
        let Some(ops) = st.ops.as_ref() else { return };
        (ops.recv.is_some(), !ops.sends.is_empty())
    };
    time(base, s, true, false);
    time(base, s, false, false);
    time(base, s, true, reading && want_read(s.bits()));
    time(base, s, false, writing);
    watch_idle(base, s); // with no read timeout running, the idle check takes the timer
}

/// The read run: a receive is wanted (or the read timeout passed).
fn on_read_run(base: &mut EventBase, bev: &BufferEvent, fired: Flags) {
    let s = &*bev.0;
    s.set(Bits::READ_QUEUED, false);
    // The run ended the timer (the event is not persistent): an idle check is armed anew.
    let idle_check = s.st.borrow_mut().ops.as_mut().is_some_and(|o| std::mem::take(&mut o.idle_watch) && !o.read_timed);
    if s.bits().has(Bits::READ_BROKEN) {
        s.set(Bits::READ_BROKEN, false);
        return end_read(base, bev, None, What::ERROR); // the error was kept by `apply`
    }
    if fired.contains(Flags::TIMEOUT) {
        if !idle_check {
            return timed_out(base, bev, true);
        }
        // The idle check; a run queued meanwhile (after a rate-limit tick) goes on below.
        check_idle(base, s);
    }
    match receive(base, s) {
        Ok(Receive::Started) => {}
        Ok(Receive::Held) => ratelim::hold(base, bev, true),
        Err(e) => return end_read(base, bev, Some(e), What::ERROR),
    }
    watch_idle(base, s);
    keep(base, s);
}

/// Arms the idle check if a receive with room is in flight and neither it nor a read
/// timeout is running.
fn watch_idle(base: &mut EventBase, s: &Shared) {
    let ev = {
        let mut st = s.st.borrow_mut();
        let Some(ops) = st.ops.as_mut() else { return };
        if ops.idle_watch || ops.read_timed || ops.recv.is_none_or(|(_, room)| room == 0) {
            return;
        }
        ops.idle_watch = true;
        ops.heard = false;
        s.read_ev.get()
    };
    if let Some(ev) = ev {
        if base.add(ev, Some(IDLE)).is_err() {
            if let Some(ops) = s.st.borrow_mut().ops.as_mut() {
                ops.idle_watch = false;
            }
        }
    }
}

/// Takes the idle check off (reading is no longer wanted: its timer must not keep the loop
/// running). Deleting the timer drops a queued read run, which is queued again.
fn unwatch_idle(base: &mut EventBase, s: &Shared) {
    let ev = {
        let mut st = s.st.borrow_mut();
        let Some(ops) = st.ops.as_mut() else { return };
        if !std::mem::take(&mut ops.idle_watch) {
            return;
        }
        s.read_ev.get()
    };
    let Some(ev) = ev else { return };
    let queued = s.bits().has(Bits::READ_QUEUED);
    let _ = base.del(ev);
    if queued {
        s.set(Bits::READ_QUEUED, false);
        s.queue_read();
    }
}

/// The idle check's period passed: if nothing came meanwhile, the receive with room is
/// cancelled (a probe replaces it when its completion is in, and the buffers and the ops'
/// lists free what they keep); otherwise the check is armed again.
fn check_idle(base: &mut EventBase, s: &Shared) {
    let quiet = {
        let mut st = s.st.borrow_mut();
        let Some(ops) = st.ops.as_mut() else { return };
        match ops.recv {
            Some((f, room)) if room > 0 && !ops.heard => {
                ops.spoke = false; // the lists' allocations go when its completion is in
                Some(f)
            }
            _ => None,
        }
    };
    match quiet {
        Some(f) => drop(base.wait.cancel(f.id, f.ticket, false)),
        None => watch_idle(base, s),
    }
}

/// What `receive` did.
enum Receive {
    /// Submitted one, or none was wanted.
    Started,
    /// Out of rate-limit tokens: the caller holds reading until the next tick.
    Held,
}

/// Submits a receive if reading is wanted and none is in flight: as much as the high
/// watermark, the rate limit and the read size allow, into reserved input space.
fn receive(base: &mut EventBase, s: &Shared) -> io::Result<Receive> {
    // Suspended at the high watermark is looked at below: the input may have drained since.
    if !want_read(s.bits().with(Bits::SUSPENDED, false)) || s.st.borrow().ops.as_ref().is_none_or(|o| o.recv.is_some())
    {
        return Ok(Receive::Started);
    }
    let allowed = ratelim::allowance(s, true, base.now());
    if allowed == 0 {
        return Ok(Receive::Held);
    }
    let (room, ask, spoke) = {
        let st = s.st.borrow();
        let len = s.input.borrow().len();
        let room = st.marks.high().map_or(usize::MAX, |h| h.saturating_sub(len));
        (room, st.read_size().min(room).min(allowed), st.ops.as_ref().is_some_and(|o| o.spoke))
    };
    if room == 0 {
        s.set(Bits::SUSPENDED, true);
        return Ok(Receive::Started);
    }
    s.set(Bits::SUSPENDED, false);
    let space = if spoke { reserve(s, ask)? } else { s.input.borrow_mut().reserve(0)? };
    let want = space.capacity();
    let (handle, ev) = target(s)?;
    match base.wait.submit(Recv::with_handle(handle, space), ev) {
        Ok((id, ticket)) => {
            if let Some(ops) = s.st.borrow_mut().ops.as_mut() {
                // The room is counted in `memory`.
                ops.recv = Some((Flying { id, ticket }, u32::try_from(want).unwrap_or(u32::MAX)));
            }
            let timed = s.st.borrow().ops.as_ref().is_some_and(|o| o.read_timed);
            if !timed {
                time(base, s, true, true);
            }
            if spoke {
                watch_idle(base, s);
            }
            Ok(Receive::Started)
        }
        Err(e) => {
            give_back(s, e.op.into_buf());
            Err(e.error)
        }
    }
}

/// The handle an op of `s` works on, and the event its completion runs.
fn target(s: &Shared) -> io::Result<(Handle, Event)> {
    let st = s.st.borrow();
    let ops = st.ops.as_ref().ok_or_else(crate::error::freed)?;
    Ok((ops.handle.clone(), ops.done_ev))
}

/// Input space for a receive of `ask` bytes (the base's pooled allocation when the buffer
/// kept none), held to `ask`.
fn reserve(s: &Shared, ask: usize) -> io::Result<Space> {
    let mut input = s.input.borrow_mut();
    if input.spare_capacity() == 0 {
        if let Some(v) = s.spares.get() {
            input.give_spare(v);
        }
    }
    let mut space = input.reserve(ask.max(1))?;
    space.limit(ask.max(1));
    Ok(space)
}

/// An unused receive space goes back to the input (kept for the next receive).
fn give_back(s: &Shared, space: Space) {
    if let Ok(mut input) = s.input.try_borrow_mut() {
        let _ = input.commit(space);
    }
}

/// The base ran `done_ev`: ops of this buffered event completed. Output the callbacks add
/// meanwhile is sent when they are done (`IN_RUN`), in this run.
fn on_done(base: &mut EventBase, bev: &BufferEvent) {
    if bev.0.in_run(|| take_done(base, bev)) {
        write_now(base, bev);
    }
}

/// Takes the completions that came for the ops in flight: the receive's, then the sends'
/// in the order submitted (new ops submitted meanwhile are looked at too; theirs come later).
fn take_done(base: &mut EventBase, bev: &BufferEvent) {
    let s = &*bev.0;
    let recv = s.st.borrow().ops.as_ref().and_then(|o| o.recv);
    if let Some(c) = recv.and_then(|(f, _)| base.wait.take_done(f.ticket)) {
        received(base, bev, c);
    }
    let mut i = 0;
    loop {
        if bev.is_freed() {
            return; // freed by a callback: the ops went with it
        }
        let Some(ticket) = s.st.borrow().ops.as_ref().and_then(|o| o.sends.get(i)).map(|(f, _)| f.ticket) else {
            break;
        };
        match base.wait.take_done(ticket) {
            Some(c) => sent(base, bev, c), // it leaves the list: the next one is at `i` now
            None => i += 1,
        }
    }
    // The list of sends keeps its allocation for the next ones, unless the buffered event is
    // probing (new, or quiet) with no send in flight: then it keeps nothing (nor do its
    // empty buffers).
    let busy = match s.st.borrow_mut().ops.as_mut() {
        Some(o) if !o.spoke && o.sends.is_empty() => {
            o.sends = Vec::new();
            false
        }
        Some(_) => true,
        None => false,
    };
    if !busy {
        release(s);
    }
    if !bev.is_freed() {
        keep(base, s);
    }
}

/// The receive completed.
fn received(base: &mut EventBase, bev: &BufferEvent, c: Completion) {
    let s = &*bev.0;
    // A probe is a receive without room (not "the peer has not spoken": an idle check turns
    // that off while a receive with room is in flight, and data may still complete it).
    let was_probe = {
        let mut st = s.st.borrow_mut();
        let Some(ops) = st.ops.as_mut() else { return };
        ops.recv.take().is_some_and(|(_, room)| room == 0)
    };
    let Ok(BufResult(res, op)) = c.into_op::<Recv<Space>>() else { return };
    let space = op.into_buf();
    let n = space.len();
    match res {
        Ok(_) if was_probe => {
            // Data (or the end) is there: read it now (the first seed's zero-byte read), and
            // receives carry room from now on.
            if let Some(ops) = s.st.borrow_mut().ops.as_mut() {
                ops.spoke = true;
            }
            give_back(s, space);
            read_now(base, bev);
        }
        Ok(0) => {
            give_back(s, space);
            end_read(base, bev, None, What::EOF);
        }
        Ok(_) => got(base, bev, space, n),
        Err(e) if e.kind() == ErrorKind::Interrupted || e.kind() == ErrorKind::WouldBlock => {
            // Cancelled (reading was turned off, or idle) or interrupted: nothing came; the
            // room goes back to the pool, empty buffers keep nothing, and reading goes on if
            // wanted (with a probe after an idle check).
            give_back(s, space);
            release(s);
            apply(base, s);
        }
        Err(e) => {
            give_back(s, space);
            end_read(base, bev, Some(e), What::ERROR);
        }
    }
}

/// Empty buffers give what they keep to the base's pool and free their chains (a
/// connection that went quiet holds no allocation for its next read).
fn release(s: &Shared) {
    for buf in [&s.input, &s.output] {
        if let Ok(mut b) = buf.try_borrow_mut() {
            if b.is_empty() {
                s.spares.put(b.take_spare());
                b.shrink();
            }
        }
    }
}

/// Reading ended (EOF or an error, kept as the last error if given): the read side is done.
fn end_read(base: &mut EventBase, bev: &BufferEvent, error: Option<io::Error>, what: What) {
    let s = &*bev.0;
    if let Some(e) = error {
        s.st.borrow_mut().error = Some(e);
    }
    s.set(Bits::READ_DONE, true);
    apply(base, s);
    event_cb(base, bev, What::READING | what);
}

/// Writing failed: the error is kept, writing is turned off and reported.
fn end_write(base: &mut EventBase, bev: &BufferEvent, error: Option<io::Error>) {
    let s = &*bev.0;
    s.st.borrow_mut().error = error;
    s.set(Bits::WRITE, false);
    apply(base, s);
    event_cb(base, bev, What::WRITING | What::ERROR);
}

/// The read (or write) timeout passed: that side is turned off and it is reported.
fn timed_out(base: &mut EventBase, bev: &BufferEvent, read: bool) {
    let s = &*bev.0;
    if let Some(ops) = s.st.borrow_mut().ops.as_mut() {
        if read {
            ops.read_timed = false;
        } else {
            ops.write_timed = false;
        }
    }
    let (side, what) = if read { (Bits::READ, What::READING) } else { (Bits::WRITE, What::WRITING) };
    s.set(side, false);
    apply(base, s);
    event_cb(base, bev, what | What::TIMEOUT);
}

/// The probe said data (or the end) is there: one non-blocking read takes it, then the
/// receives go on with room.
fn read_now(base: &mut EventBase, bev: &BufferEvent) {
    let s = &*bev.0;
    if !want_read(s.bits().with(Bits::SUSPENDED, false)) {
        return apply(base, s);
    }
    let ask = {
        let st = s.st.borrow();
        let len = s.input.borrow().len();
        let room = st.marks.high().map_or(usize::MAX, |h| h.saturating_sub(len));
        st.read_size().min(room).min(ratelim::allowance(s, true, base.now()))
    };
    if ask == 0 {
        return apply(base, s); // held or suspended: the read run sees to it
    }
    let Some(sock) = s.socket() else { return };
    let res = reserve(s, ask).and_then(|mut space| {
        let n = overlap::io::recv_into(&*sock, &mut space, ask)?;
        Ok((space, n))
    });
    drop(sock);
    match res {
        Ok((space, 0)) => {
            give_back(s, space);
            end_read(base, bev, None, What::EOF);
        }
        Ok((space, n)) => got(base, bev, space, n),
        Err(e) if e.kind() == ErrorKind::WouldBlock || e.kind() == ErrorKind::Interrupted => apply(base, s),
        Err(e) => end_read(base, bev, Some(e), What::ERROR),
    }
}

/// `n` bytes came in `space`: they join the input, the next receive goes out, and the read
/// callback runs if the input reached the low watermark.
fn got(base: &mut EventBase, bev: &BufferEvent, space: Space, n: usize) {
    let s = &*bev.0;
    let asked = space.capacity();
    let committed = s.input.borrow_mut().commit(space);
    if let Err(e) = committed {
        return end_read(base, bev, Some(e), What::ERROR);
    }
    ratelim::consume(s, true, n);
    let (len, low, high) = {
        let mut st = s.st.borrow_mut();
        if let Some(ops) = st.ops.as_mut() {
            ops.heard = true;
        }
        if n == asked && st.read_size() < st.max_read() {
            let next = (st.read_size() * 2).min(st.max_read());
            st.set_read_size(next);
        } else if n < asked {
            // The socket had no more: the next receive, which waits in flight holding its
            // room, asks for the first size again (an idle connection holds 4 KiB, not 256).
            let first = super::shared::FIRST_READ.min(st.max_read());
            st.set_read_size(first);
        }
        (s.input.borrow().len(), st.marks.read_low, st.marks.high())
    };
    if high.is_some_and(|h| len >= h) {
        s.set(Bits::SUSPENDED, true);
    }
    if want_read(s.bits()) {
        time(base, s, true, true); // something came: the read timeout counts from now
        match receive(base, s) {
            Ok(Receive::Started) => {}
            Ok(Receive::Held) => ratelim::hold(base, bev, true),
            Err(e) => {
                s.st.borrow_mut().error = Some(e);
                s.set(Bits::READ_DONE, true);
            }
        }
    } else {
        time(base, s, true, false);
    }
    if len >= low.max(1) && s.bits().has(Bits::READ) {
        read_cb(base, bev);
    }
    if bev.is_freed() {
        return;
    }
    if s.bits().has(Bits::READ_DONE) && s.st.borrow().error.is_some() && s.bits().has(Bits::READ) {
        apply(base, s);
        event_cb(base, bev, What::READING | What::ERROR);
        return;
    }
    shrink_if_empty(s, true);
}

/// The write run: output to send (or the write timeout passed).
fn on_write_run(base: &mut EventBase, bev: &BufferEvent, fired: Flags) {
    let s = &*bev.0;
    s.set(Bits::WRITE_QUEUED, false);
    if fired.contains(Flags::TIMEOUT) {
        return timed_out(base, bev, false);
    }
    write_now(base, bev);
}

/// Sends what the output holds, if writing is on.
fn write_now(base: &mut EventBase, bev: &BufferEvent) {
    let s = &*bev.0;
    if s.bits().has(Bits::CONNECTING) || !s.bits().has(Bits::WRITE) || s.bits().has(Bits::WRITE_HELD) {
        return;
    }
    if let Err(e) = send_more(base, bev) {
        return end_write(base, bev, Some(e));
    }
    keep(base, s);
}

/// Submits sends of the output's blocks while fewer than `MAX_SENDS` are in flight (and the
/// rate limit and `max_write` allow); `Ok(bytes submitted)`.
fn send_more(base: &mut EventBase, bev: &BufferEvent) -> io::Result<usize> {
    let s = &*bev.0;
    let mut total = 0;
    loop {
        let (full, failing, max) = {
            let st = s.st.borrow();
            let Some(ops) = st.ops.as_ref() else { return Ok(total) };
            (ops.sends.len() >= MAX_SENDS, ops.failed.is_some(), st.max_write())
        };
        if full || failing || s.output.borrow().is_empty() {
            break;
        }
        let allowed = ratelim::allowance(s, false, base.now());
        if allowed == 0 {
            ratelim::hold(base, bev, false);
            break;
        }
        let Some(block) = next_block(&mut s.output.borrow_mut(), max.min(allowed))? else { break };
        let len = block.len();
        let (handle, ev) = target(s)?;
        match base.wait.submit(Send::with_handle(handle, block), ev) {
            Ok((id, ticket)) => {
                ratelim::consume(s, false, len);
                total += len;
                if let Some(ops) = s.st.borrow_mut().ops.as_mut() {
                    let seq = ops.next_seq;
                    ops.next_seq = seq.wrapping_add(1);
                    ops.sends.push((Flying { id, ticket }, seq));
                    ops.sending += len as u32; // at most MAX_SENDS × MAX_IO: 512 MiB
                }
            }
            Err(e) => {
                let _ = s.output.borrow_mut().push_front_block(e.op.into_buf());
                return Err(e.error);
            }
        }
    }
    let timed = s.st.borrow().ops.as_ref().is_some_and(|o| o.write_timed || o.sends.is_empty());
    if !timed {
        time(base, s, false, true);
    }
    Ok(total)
}

/// The output's first block, or its first `max` bytes as a block of their own.
fn next_block(output: &mut Buffer, max: usize) -> io::Result<Option<Block>> {
    let first = output.chunks().next().map_or(0, <[u8]>::len);
    if first == 0 {
        return Ok(None);
    }
    if first <= max {
        return Ok(output.pop_block());
    }
    let mut part = Buffer::new();
    output.remove_buffer(&mut part, max)?;
    Ok(part.pop_block())
}

/// A send completed: whole (the write callback may run, more goes out), or failed (its
/// block waits to go back to the output with the others in flight; the error is reported
/// when the last is in).
fn sent(base: &mut EventBase, bev: &BufferEvent, c: Completion) {
    let s = &*bev.0;
    let id: OpId = c.id();
    let went = c.transferred();
    let Ok(BufResult(res, op)) = c.into_op::<Send<Block>>() else { return };
    let mut block = op.into_buf();
    let len = block.len();
    let done = {
        let mut st = s.st.borrow_mut();
        let Some(ops) = st.ops.as_mut() else { return };
        let Some(i) = ops.sends.iter().position(|(f, _)| f.id == id) else { return };
        let (_, seq) = ops.sends.remove(i);
        ops.sending -= len as u32;
        match res {
            Ok(n) if n == len => {
                // Sent: its allocation serves the next receive.
                if let Ok(mut input) = s.input.try_borrow_mut() {
                    input.recycle(block);
                }
            }
            Ok(n) => {
                // A stream send completes whole; should one not, what it left goes back.
                block.advance(n);
                let failed = ops.failed.get_or_insert_with(|| Failed::new(ErrorKind::WriteZero.into()));
                failed.unsent.push((seq, block));
            }
            Err(e) => {
                // What went before it failed (a stream send may go in several calls) is the
                // peer's: only the rest goes back.
                block.advance(went.min(len));
                ops.failed.get_or_insert_with(|| Failed::new(e)).unsent.push((seq, block));
            }
        }
        ops.sends.is_empty()
    };
    let failed = s.st.borrow().ops.as_ref().is_some_and(|o| o.failed.is_some());
    if failed {
        if done {
            put_back(base, bev);
        }
        return;
    }
    if done {
        time(base, s, false, false);
    } else {
        time(base, s, false, true); // a send went: the write timeout counts from now
    }
    if s.bits().has(Bits::WRITE) && !s.bits().has(Bits::WRITE_HELD) && !s.bits().has(Bits::CONNECTING) {
        if let Err(e) = send_more(base, bev) {
            return end_write(base, bev, Some(e));
        }
    }
    let (left, low) = {
        let st = s.st.borrow();
        (s.output.borrow().len() + st.ops.as_ref().map_or(0, |o| o.sending as usize), st.marks.write_low)
    };
    if len > 0 && left <= low {
        write_cb(base, bev);
    }
    if !bev.is_freed() {
        shrink_if_empty(s, false);
    }
}

/// The last send in flight came back after one failed: every unsent block goes back to the
/// front of the output in the order it was queued, and the error is reported.
fn put_back(base: &mut EventBase, bev: &BufferEvent) {
    let s = &*bev.0;
    let (Failed { unsent, error }, next) = {
        let mut st = s.st.borrow_mut();
        let Some(ops) = st.ops.as_mut() else { return };
        let Some(failed) = ops.failed.take() else { return };
        (*failed, ops.next_seq)
    };
    to_front(s, unsent, next);
    time(base, s, false, false);
    end_write(base, bev, Some(error));
}

/// Puts the unsent blocks of sends back at the front of the output, in the order they were
/// queued (`next`: the sequence number the next send would have had).
fn to_front(s: &Shared, mut unsent: Vec<(u32, Block)>, next: u32) {
    // Latest first (each goes to the front); sequence numbers wrap, so they are ordered by
    // their distance back from the next one (all are within the last MAX_SENDS).
    unsent.sort_by_key(|&(seq, _)| next.wrapping_sub(seq));
    if let Ok(mut output) = s.output.try_borrow_mut() {
        for (_, block) in unsent {
            let _ = output.push_front_block(block);
        }
    }
}

/// Sends what can go now; whether anything was submitted.
pub(crate) fn flush(base: &mut EventBase, bev: &BufferEvent, what: Flags) -> io::Result<bool> {
    let s = &bev.0;
    if !what.contains(Flags::WRITE) || s.output.borrow().is_empty() || s.bits().has(Bits::CONNECTING) {
        return Ok(false);
    }
    let sent = send_more(base, bev)? > 0;
    keep(base, s);
    Ok(sent)
}

/// Frees the internal events and cancels the ops of `s`, waiting for each (their duplicate
/// of the socket closes with them; what a receive got still joins the input); closes the
/// socket unless `s` is being freed (then the caller takes it).
pub(crate) fn detach(base: &mut EventBase, s: &Shared) {
    let ops = s.st.borrow_mut().ops.take();
    free_events(base, s, ops.as_ref().map(|o| o.done_ev));
    if let Some(ops) = ops {
        // What a receive got joins the input, and what the sends did not send goes back to
        // the front of the output, in order: a buffered event given back with `into_socket`
        // loses nothing it read and says exactly what it did not send.
        let mut unsent = ops.failed.map(|f| f.unsent).unwrap_or_default();
        if let Some((f, _)) = ops.recv {
            if let Some(Ok(BufResult(Ok(_), op))) =
                base.wait.cancel(f.id, f.ticket, true).map(|c| c.into_op::<Recv<Space>>())
            {
                give_back(s, op.into_buf());
            }
        }
        for &(f, seq) in &ops.sends {
            let Some(c) = base.wait.cancel(f.id, f.ticket, true) else { continue };
            let went = c.transferred();
            if let Ok(BufResult(_, op)) = c.into_op::<Send<Block>>() {
                let mut block = op.into_buf();
                block.advance(went.min(block.len()));
                unsent.push((seq, block));
            }
        }
        to_front(s, unsent, ops.next_seq);
    }
    if !s.bits().has(Bits::FREED) {
        drop(s.sock.take());
    }
}

/// Heap bytes the engine's ops hold for `s`: its state with what its lists keep allocated,
/// the routes of its ops in flight, and the room of its receive.
pub(crate) fn memory(s: &Shared) -> usize {
    use std::mem::size_of;
    let st = s.st.borrow();
    let Some(o) = st.ops.as_ref() else { return 0 };
    let in_flight = o.sends.len() + usize::from(o.recv.is_some());
    size_of::<Ops>()
        + o.sends.capacity() * size_of::<(Flying, u32)>()
        + o.failed.as_ref().map_or(0, |f| size_of::<Failed>() + f.unsent.capacity() * size_of::<(u32, Block)>())
        + in_flight * crate::wait::ROUTE_BYTES
        + o.recv.map_or(0, |(_, room)| room as usize)
}
