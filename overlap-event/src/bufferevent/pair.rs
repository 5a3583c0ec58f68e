//! Pairs (libevent's `bufferevent_pair`): two buffered events in one process, no socket
//! between them. What one writes moves (no byte copied: whole blocks change buffers) into
//! the other's input, in this iteration of the loop.
//!
//! ```text
//!   a.output.add ─► a's write run (deferred) ─► move min(len, b's room) into b.input
//!                                                 ├─ b's read callback (≥ low watermark)
//!                                                 └─ a's write callback (≤ write low mark)
//!   b drains below its high watermark ─► b's read run ─► a's write run again
//! ```
//!
//! Bytes move only while the writer has WRITE enabled and the reader READ. Freeing one end
//! leaves the other with no partner: what it writes stays in its output.
//! `flush(.., Flush::Finished)` tells the other end EOF once everything written before it
//! has moved across (at once, or when the other end's watermark or its reading being
//! disabled let the rest move: the data always comes before the EOF). Timeouts do not apply
//! to pairs.

use std::io;
use std::rc::Rc;

use super::call::{event_cb, read_cb, write_cb};
use super::shared::{Bits, BufferEvent, Kind, Shared};
use super::what::{Flush, What};
use crate::base::EventBase;
use crate::flags::Flags;

/// Two connected ends.
pub(crate) fn new(base: &mut EventBase) -> io::Result<(BufferEvent, BufferEvent)> {
    let a = BufferEvent::new(base)?;
    let b = BufferEvent::new(base)?;
    a.0.st.borrow_mut().kind = Kind::Pair(Rc::downgrade(&b.0));
    b.0.st.borrow_mut().kind = Kind::Pair(Rc::downgrade(&a.0));
    for end in [&a, &b] {
        events(base, end)?;
        end.0.set(Bits::WRITE, true);
    }
    Ok((a, b))
}

/// The two events that run an end's read and write runs (timers that are only ever
/// activated; they hold the end, so the base keeps it until it is freed).
fn events(base: &mut EventBase, end: &BufferEvent) -> io::Result<()> {
    let me = end.clone();
    let read_ev = base.new_timer(Flags::NONE, move |base, _, _| {
        if !me.is_freed() {
            on_read(base, &me);
        }
    })?;
    end.0.read_ev.set(Some(read_ev));
    let me = end.clone();
    let write_ev = base.new_timer(Flags::NONE, move |base, _, _| {
        if !me.is_freed() {
            on_write(base, &me);
        }
    })?;
    end.0.write_ev.set(Some(write_ev));
    Ok(())
}

/// The other end, while both live.
pub(crate) fn partner(s: &Shared) -> Option<BufferEvent> {
    match &s.st.borrow().kind {
        Kind::Pair(w) => w.upgrade().filter(|p| !p.bits().has(Bits::FREED)).map(BufferEvent),
        _ => None,
    }
}

/// Queues what can move now: this end's output out, the other end's output in.
pub(crate) fn apply(_base: &mut EventBase, bev: &BufferEvent) {
    let s = &bev.0;
    if s.bits().has(Bits::FREED) {
        return;
    }
    if s.bits().has(Bits::WRITE) && s.output.try_borrow().map_or(true, |o| !o.is_empty()) {
        s.queue_write();
    }
    if s.bits().has(Bits::READ) {
        if let Some(p) = partner(s) {
            if p.0.output.try_borrow().map_or(true, |o| !o.is_empty()) {
                p.0.queue_write();
            }
        }
    }
}

/// This end's output grew (or was flushed): move it across.
fn on_write(base: &mut EventBase, bev: &BufferEvent) {
    bev.0.set(Bits::WRITE_QUEUED, false);
    if let Some(p) = partner(&bev.0) {
        transfer(base, bev, &p);
    }
}

/// This end's input drained below its high watermark: take more.
fn on_read(base: &mut EventBase, bev: &BufferEvent) {
    bev.0.set(Bits::READ_QUEUED, false);
    if let Some(p) = partner(&bev.0) {
        transfer(base, &p, bev);
    }
}

/// Moves what `src` wrote into `dst`'s input, as far as `dst`'s high watermark allows; runs
/// `dst`'s read callback and `src`'s write callback.
fn transfer(base: &mut EventBase, src: &BufferEvent, dst: &BufferEvent) {
    let (sb, db) = (src.0.bits(), dst.0.bits());
    if !sb.has(Bits::WRITE) || !db.has(Bits::READ) {
        return;
    }
    let (low, high, write_low) = {
        let (ds, ss) = (dst.0.st.borrow(), src.0.st.borrow());
        (ds.marks.read_low, ds.marks.high(), ss.marks.write_low)
    };
    let moved = {
        let mut input = dst.0.input.borrow_mut();
        let room = high.map_or(usize::MAX, |h| h.saturating_sub(input.len()));
        if room == 0 {
            dst.0.set(Bits::SUSPENDED, true);
            drop(input);
            return finished(base, src, dst);
        }
        let moved = src.0.output.borrow_mut().remove_buffer(&mut input, room).unwrap_or(0);
        dst.0.set(Bits::SUSPENDED, high.is_some_and(|h| input.len() >= h));
        moved
    };
    if moved > 0 {
        if dst.0.input.borrow().len() >= low.max(1) {
            read_cb(base, dst);
        }
        if !src.is_freed() && src.0.output.borrow().len() <= write_low {
            write_cb(base, src);
        }
    }
    finished(base, src, dst);
}

/// Tells `dst` EOF if `src` was flushed `Finished` and all its output has moved across.
fn finished(base: &mut EventBase, src: &BufferEvent, dst: &BufferEvent) {
    if src.is_freed() || dst.is_freed() || !src.0.bits().has(Bits::FINISHING) {
        return;
    }
    if src.0.output.try_borrow().is_ok_and(|o| o.is_empty()) {
        src.0.set(Bits::FINISHING, false);
        event_cb(base, dst, What::READING | What::EOF);
    }
}

/// Moves what can go now; `Finished` tells the other end EOF, after what this end wrote
/// (at once if it all moved, else when it has).
pub(crate) fn flush(base: &mut EventBase, bev: &BufferEvent, what: Flags, mode: Flush) -> bool {
    let Some(p) = partner(&bev.0) else { return false };
    let before = bev.0.output.borrow().len();
    if mode == Flush::Finished {
        bev.0.set(Bits::FINISHING, true);
    }
    if what.contains(Flags::WRITE) {
        transfer(base, bev, &p);
    }
    // Not moved by `transfer` (writing or the partner's reading disabled): once it has.
    finished(base, bev, &p);
    bev.0.output.borrow().len() < before
}
