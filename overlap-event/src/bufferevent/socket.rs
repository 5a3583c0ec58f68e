//! The readiness engine: a buffered event's socket watched by two events of its base (read
//! and write, persistent), non-blocking reads into reserved input space and gathered writes
//! from the output.
//!
//! Writes go first and watch later: when the output grows, a write run is queued through
//! the base's deferred queue and runs in this iteration; only what the socket would not
//! take makes the write event watch for writable (libevent adds the write event at once,
//! and deletes it when the output empties: two `epoll_ctl` per message an echo server
//! sends).

use std::io::{self, ErrorKind, IoSlice};
use std::rc::Rc;

use socket2::Socket;

use super::call::{event_cb, read_cb, write_cb};
use super::ratelim;
use super::shared::{Bits, BufferEvent, Shared};
use super::what::What;
use crate::base::EventBase;
use crate::flags::Flags;
use crate::id::Fd;

/// iovecs one write gathers (more blocks go in the next call; 16 × 4 KiB blocks and up fill
/// a socket buffer in one call anyway).
const IOVS: usize = 16;

/// The descriptor of `sock`, as events name it.
pub(crate) fn fd_of(sock: &Socket) -> Fd {
    #[cfg(unix)]
    {
        std::os::fd::AsRawFd::as_raw_fd(sock)
    }
    #[cfg(windows)]
    {
        std::os::windows::io::AsRawSocket::as_raw_socket(sock)
    }
}

/// Gives `shared` the socket `sock` (non-blocking from now on) and its two events.
pub(crate) fn attach(base: &mut EventBase, shared: &Rc<Shared>, sock: Socket) -> io::Result<()> {
    sock.set_nonblocking(true)?;
    let fd = fd_of(&sock);
    // The events hold the buffered event: the base keeps it alive until it is freed, as
    // libevent's does, whether or not the user kept a handle.
    let bev = BufferEvent(shared.clone());
    let read_ev = base.new_event(fd, Flags::READ | Flags::PERSIST, move |base, _, fired| {
        if !bev.is_freed() {
            on_read(base, &bev, fired);
        }
    })?;
    let bev = BufferEvent(shared.clone());
    let write_ev = match base.new_event(fd, Flags::WRITE | Flags::PERSIST, move |base, _, fired| {
        if !bev.is_freed() {
            on_write(base, &bev, fired);
        }
    }) {
        Ok(ev) => ev,
        Err(e) => {
            let _ = base.free(read_ev);
            return Err(e);
        }
    };
    if let Some(p) = shared.st.borrow().priority {
        let _ = base.set_priority(read_ev, usize::from(p));
        let _ = base.set_priority(write_ev, usize::from(p));
    }
    shared.read_ev.set(Some(read_ev));
    shared.write_ev.set(Some(write_ev));
    shared.sock.set(Some(Rc::new(sock)));
    Ok(())
}

/// Brings what the base watches in line with what is enabled: reading unless suspended at
/// the high watermark, done, connecting or waiting for rate-limit tokens; writing when there
/// is output (queued, not watched: see [`BufferEvent`]'s docs).
pub(crate) fn apply(base: &mut EventBase, s: &Shared) {
    let bits = s.bits();
    if bits.has(Bits::FREED) {
        return;
    }
    let want_read = bits.has(Bits::READ)
        && !bits.has(Bits::SUSPENDED)
        && !bits.has(Bits::CONNECTING)
        && !bits.has(Bits::READ_DONE)
        && !bits.has(Bits::READ_HELD);
    if want_read && !bits.has(Bits::READ_ARMED) {
        arm(base, s, true);
    } else if !want_read && bits.has(Bits::READ_ARMED) {
        disarm(base, s, true);
    }
    if bits.has(Bits::CONNECTING) {
        return; // the write event waits for the connect
    }
    let held = bits.has(Bits::WRITE_HELD);
    if bits.has(Bits::WRITE) && !held && s.output.try_borrow().map_or(true, |o| !o.is_empty()) {
        s.queue_write();
    } else if bits.has(Bits::WRITE_ARMED) && (held || !bits.has(Bits::WRITE) || s.output.borrow().is_empty()) {
        disarm(base, s, false);
    }
}

/// Adds the read (or write) event with its timeout.
pub(crate) fn arm(base: &mut EventBase, s: &Shared, read: bool) {
    let (ev, timeout, bit) = {
        let st = s.st.borrow();
        if read {
            (s.read_ev.get(), st.read_timeout(), Bits::READ_ARMED)
        } else {
            (s.write_ev.get(), st.write_timeout(), Bits::WRITE_ARMED)
        }
    };
    if let Some(ev) = ev {
        match base.add(ev, timeout) {
            Ok(()) => s.set(bit, true),
            Err(e) => {
                // Not watched, nothing would ever happen: the read run reports it.
                s.st.borrow_mut().error = Some(e);
                s.set(if read { Bits::READ_BROKEN } else { Bits::WRITE_BROKEN }, true);
                s.queue_read();
            }
        }
    }
}

/// The timeouts changed: the armed events are added again with the new ones.
pub(crate) fn retime(base: &mut EventBase, s: &Shared) {
    for (read, bit) in [(true, Bits::READ_ARMED), (false, Bits::WRITE_ARMED)] {
        if s.bits().has(bit) {
            disarm(base, s, read);
            arm(base, s, read);
        }
    }
}

/// Deletes the read (or write) event.
pub(crate) fn disarm(base: &mut EventBase, s: &Shared, read: bool) {
    let (ev, bit) = if read { (s.read_ev.get(), Bits::READ_ARMED) } else { (s.write_ev.get(), Bits::WRITE_ARMED) };
    if let Some(ev) = ev {
        let _ = base.del(ev);
    }
    s.set(bit, false);
}

/// The read event fired (or was queued because the input drained below the high mark).
fn on_read(base: &mut EventBase, bev: &BufferEvent, fired: Flags) {
    let s = &*bev.0;
    s.set(Bits::READ_QUEUED, false);
    for (broken, side, what) in
        [(Bits::READ_BROKEN, Bits::READ, What::READING), (Bits::WRITE_BROKEN, Bits::WRITE, What::WRITING)]
    {
        if s.bits().has(broken) {
            s.set(broken, false);
            s.set(side, false);
            apply(base, s);
            event_cb(base, bev, what | What::ERROR);
            return;
        }
    }
    if fired.contains(Flags::TIMEOUT) {
        s.set(Bits::READ, false);
        apply(base, s);
        event_cb(base, bev, What::READING | What::TIMEOUT);
        return;
    }
    let bits = s.bits();
    if !bits.has(Bits::READ) || bits.has(Bits::READ_DONE) || bits.has(Bits::CONNECTING) || bits.has(Bits::READ_HELD) {
        return;
    }
    let allowed = ratelim::allowance(s, true, base.now());
    if allowed == 0 {
        ratelim::hold(base, bev, true);
        apply(base, s); // stop watching until the next tick
        return;
    }
    if !s.bits().has(Bits::READ_ARMED) {
        apply(base, s); // a run queued while not watching (tokens came back): watch again
    }
    let (room, ask) = {
        let st = s.st.borrow();
        let len = s.input.borrow().len();
        let room = st.marks.high().map_or(usize::MAX, |h| h.saturating_sub(len));
        (room, st.read_size().min(room).min(allowed))
    };
    if room == 0 {
        s.set(Bits::SUSPENDED, true);
        apply(base, s);
        return;
    }
    if bits.has(Bits::SUSPENDED) {
        s.set(Bits::SUSPENDED, false);
        apply(base, s);
    }
    let got = read_once(s, ask);
    match got {
        Ok(0) => {
            s.set(Bits::READ_DONE, true);
            apply(base, s);
            event_cb(base, bev, What::READING | What::EOF);
        }
        Ok(n) => {
            ratelim::consume(s, true, n);
            let (len, low, high) = {
                let mut st = s.st.borrow_mut();
                if n == ask && st.read_size() < st.max_read() {
                    let next = (st.read_size() * 2).min(st.max_read());
                    st.set_read_size(next);
                }
                (s.input.borrow().len(), st.marks.read_low, st.marks.high())
            };
            if high.is_some_and(|h| len >= h) {
                s.set(Bits::SUSPENDED, true);
                apply(base, s);
            }
            // Output the callback adds is written at once (`IN_RUN`), in this run.
            if len >= low.max(1) && s.in_run(|| read_cb(base, bev)) {
                on_write(base, bev, Flags::WRITE);
            }
            shrink_if_empty(s, true);
        }
        Err(e) if e.kind() == ErrorKind::WouldBlock || e.kind() == ErrorKind::Interrupted => {}
        Err(e) => {
            s.st.borrow_mut().error = Some(e);
            s.set(Bits::READ_DONE, true);
            apply(base, s);
            event_cb(base, bev, What::READING | What::ERROR);
        }
    }
}

/// An emptied buffer gives what it keeps for the next read to the base's pool and trims the
/// rest (an idle buffered event holds no block: 4 KiB of spare room per buffer would be most
/// of its memory; one chain slot stays, so a one-block-at-a-time buffer allocates nothing).
pub(crate) fn shrink_if_empty(s: &Shared, input: bool) {
    let buf = if input { &s.input } else { &s.output };
    if let Ok(mut b) = buf.try_borrow_mut() {
        if b.is_empty() {
            s.spares.put(b.take_spare());
            b.trim();
        }
    }
}

/// One receive of at most `ask` bytes into reserved input space.
fn read_once(s: &Shared, ask: usize) -> io::Result<usize> {
    let Some(sock) = s.socket() else { return Err(ErrorKind::NotConnected.into()) };
    let mut input = s.input.borrow_mut();
    if input.spare_capacity() == 0 {
        if let Some(v) = s.spares.get() {
            input.give_spare(v);
        }
    }
    let mut space = input.reserve(ask.max(1))?;
    let n = overlap::io::recv_into(&*sock, &mut space, ask)?;
    if n > 0 {
        input.commit(space)?;
    }
    Ok(n)
}

/// The write event fired (writable, timed out) or a write run was queued.
fn on_write(base: &mut EventBase, bev: &BufferEvent, fired: Flags) {
    let s = &*bev.0;
    s.set(Bits::WRITE_QUEUED, false);
    if fired.contains(Flags::TIMEOUT) {
        s.set(Bits::WRITE, false);
        apply(base, s);
        event_cb(base, bev, What::WRITING | What::TIMEOUT);
        return;
    }
    if s.bits().has(Bits::CONNECTING) {
        return; // the connect event reports the connect (`dial.rs`)
    }
    if !s.bits().has(Bits::WRITE) || s.bits().has(Bits::WRITE_HELD) {
        apply(base, s);
        return;
    }
    let allowed = ratelim::allowance(s, false, base.now());
    if allowed == 0 {
        ratelim::hold(base, bev, false);
        apply(base, s);
        return;
    }
    let sent = write_once(s, allowed);
    match sent {
        Ok(n) => {
            ratelim::consume(s, false, n);
            let (len, low) = (s.output.borrow().len(), s.st.borrow().marks.write_low);
            if len > 0 && !s.bits().has(Bits::WRITE_ARMED) {
                arm(base, s, false); // the socket is full: wait until it takes more
            } else if len == 0 && s.bits().has(Bits::WRITE_ARMED) {
                disarm(base, s, false);
            }
            if n > 0 && len <= low {
                write_cb(base, bev);
            }
            shrink_if_empty(s, false);
        }
        Err(e) => {
            s.st.borrow_mut().error = Some(e);
            s.set(Bits::WRITE, false);
            apply(base, s);
            event_cb(base, bev, What::WRITING | What::ERROR);
        }
    }
}

/// Writes what can go now (every mode alike for a socket); whether anything was sent.
pub(crate) fn flush(base: &mut EventBase, bev: &BufferEvent, what: Flags) -> io::Result<bool> {
    let s = &bev.0;
    if !what.contains(Flags::WRITE) || s.output.borrow().is_empty() || s.bits().has(Bits::CONNECTING) {
        return Ok(false);
    }
    let before = s.output.borrow().len();
    s.set(Bits::WRITE_QUEUED, false);
    on_write(base, bev, Flags::WRITE);
    Ok(s.output.borrow().len() < before)
}

/// Sends what the output holds until the socket is full, drains what went; `Ok(bytes)`.
fn write_once(s: &Shared, allowed: usize) -> io::Result<usize> {
    let Some(sock) = s.socket() else { return Err(ErrorKind::NotConnected.into()) };
    let max = s.st.borrow().max_write().min(allowed);
    let mut total = 0;
    loop {
        let mut output = s.output.borrow_mut();
        if output.is_empty() || total >= max {
            return Ok(total);
        }
        let mut slices = [IoSlice::new(&[]); IOVS];
        let (count, bytes) = output.io_slices(&mut slices, max - total);
        let res = overlap::io::send_vectored(&*sock, &slices[..count]);
        match res {
            Ok(n) => {
                output.drain(n)?;
                total += n;
                if n < bytes {
                    return Ok(total); // the socket took part: it is full
                }
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => return Ok(total),
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
}

/// Frees the read and write events of `s`, those of a connect under way and `extra`; no run
/// of them is queued any more.
pub(crate) fn free_events(base: &mut EventBase, s: &Shared, extra: Option<crate::id::Event>) {
    let [resolve, connect] = s.st.borrow_mut().take_dial_events();
    for ev in [s.read_ev.take(), s.write_ev.take(), extra, resolve, connect].into_iter().flatten() {
        let _ = base.free(ev);
    }
    s.set(Bits::WRITE_QUEUED, false);
    s.set(Bits::READ_QUEUED, false);
}

/// Frees the events of `s`; closes its socket unless `s` is being freed (then the caller
/// takes it).
pub(crate) fn detach(base: &mut EventBase, s: &Shared) {
    free_events(base, s, None);
    s.set(Bits::READ_ARMED, false);
    s.set(Bits::WRITE_ARMED, false);
    if !s.bits().has(Bits::FREED) {
        drop(s.sock.take());
    }
}
