//! Filters (libevent's `bufferevent_filter`): a buffered event over another one, with a
//! transform each way — framing, compression, a line protocol's decoding.
//!
//! ```text
//!   under.input ──input filter──► filter.input ─► the user's read callback
//!   the user writes ─► filter.output ──output filter──► under.output ─► the socket (or pair)
//!   under's events (CONNECTED, EOF, ERROR, TIMEOUT) ─► the filter's event callback
//! ```
//!
//! A filter function moves what it can from its source to its destination and says how it
//! went ([`FilterResult`]). It runs again while it makes progress and its source is not
//! empty (libevent's `bufferevent_filter_data_stuck`: a filter that moves a little at a
//! time is not left holding data until more arrives). The filter's input high watermark
//! bounds what the input filter may produce (`limit`); when it is reached the buffered event
//! below stops reading until the filter's input is drained. A filter that produces whole
//! units (records, blocks) may stop short of the watermark with its source not empty, the
//! room left smaller than a unit: it is run once more with a whole watermark's room, so its
//! input may pass the watermark by less than one watermark, and reading below stops until it
//! is drained (else the data would stay below with nothing to move it on). `flush` passes its
//! mode to the filter functions: with `Flush` or `Finished` they give up what they held back.

use std::io;

use overlap_buf::Buffer;

use super::call::{event_cb, read_cb, write_cb};
use super::filter_fn::{FilterFn, FilterResult};
use super::shared::{Bits, BufferEvent, FilterState, Kind, Shared};
use super::what::{Flush, What};
use crate::base::EventBase;
use crate::flags::Flags;

/// Makes a filter over `under` (whose callbacks it takes over).
pub(crate) fn new(
    base: &mut EventBase,
    under: &BufferEvent,
    input: FilterFn,
    output: FilterFn,
    free_under: bool,
) -> io::Result<BufferEvent> {
    let bev = BufferEvent::new(base)?;
    bev.0.st.borrow_mut().kind = Kind::Filter(Box::new(FilterState {
        under: under.clone(),
        input: Some(input),
        output: Some(output),
        free_under,
    }));
    let me = bev.clone();
    let read_ev = base.new_timer(Flags::NONE, move |base, _, _| {
        if !me.is_freed() {
            me.0.set(Bits::READ_QUEUED, false);
            resume(base, &me);
        }
    })?;
    bev.0.read_ev.set(Some(read_ev));
    let me = bev.clone();
    let write_ev = base.new_timer(Flags::NONE, move |base, _, _| {
        if !me.is_freed() {
            me.0.set(Bits::WRITE_QUEUED, false);
            process_output(base, &me, Flush::Normal, false);
        }
    })?;
    bev.0.write_ev.set(Some(write_ev));
    bev.0.set(Bits::WRITE, true);
    // The buffered event below reports to the filter (weakly: it does not keep it alive).
    let weak = std::rc::Rc::downgrade(&bev.0);
    under.on_read(move |base, _| {
        if let Some(f) = weak.upgrade().filter(|s| !s.bits().has(Bits::FREED)) {
            process_input(base, &BufferEvent(f), Flush::Normal);
        }
    });
    let weak = std::rc::Rc::downgrade(&bev.0);
    under.on_write(move |base, _| {
        if let Some(f) = weak.upgrade().filter(|s| !s.bits().has(Bits::FREED)) {
            process_output(base, &BufferEvent(f), Flush::Normal, true);
        }
    });
    let weak = std::rc::Rc::downgrade(&bev.0);
    under.on_event(move |base, under, what| {
        if let Some(f) = weak.upgrade().filter(|s| !s.bits().has(Bits::FREED)) {
            let f = BufferEvent(f);
            if what.contains(What::EOF) {
                // What was held back comes out first; what the filter's input has no room
                // for yet goes through as it is drained, and the EOF after it.
                f.0.set(Bits::FINISHING, true);
                process_input(base, &f, Flush::Finished);
                if !under.input().is_empty() || !f.0.bits().has(Bits::FINISHING) {
                    return;
                }
                f.0.set(Bits::FINISHING, false);
            }
            event_cb(base, &f, what);
        }
    });
    Ok(bev)
}

/// The buffered event below, if `s` is a filter.
pub(crate) fn under(s: &Shared) -> Option<BufferEvent> {
    match &s.st.borrow().kind {
        Kind::Filter(f) => Some(f.under.clone()),
        _ => None,
    }
}

/// Reading and writing on the filter are reading and writing below it.
pub(crate) fn apply(base: &mut EventBase, bev: &BufferEvent) {
    let s = &bev.0;
    let Some(under) = under(s) else { return };
    if under.is_freed() {
        return;
    }
    let bits = s.bits();
    let want = |on: bool| if on { Flags::READ } else { Flags::NONE };
    let reading = bits.has(Bits::READ) && !bits.has(Bits::SUSPENDED);
    let _ = if reading { under.enable(base, want(true)) } else { under.disable(base, Flags::READ) };
    let _ = if bits.has(Bits::WRITE) { under.enable(base, Flags::WRITE) } else { under.disable(base, Flags::WRITE) };
    if bits.has(Bits::WRITE) && s.output.try_borrow().map_or(true, |o| !o.is_empty()) {
        s.queue_write();
    }
}

/// Takes a filter function out of the state while it runs.
fn take_fn(s: &Shared, input: bool) -> Option<FilterFn> {
    match &mut s.st.borrow_mut().kind {
        Kind::Filter(f) => {
            if input {
                f.input.take()
            } else {
                f.output.take()
            }
        }
        _ => None,
    }
}

fn put_fn(s: &Shared, input: bool, func: FilterFn) {
    if let Kind::Filter(f) = &mut s.st.borrow_mut().kind {
        let slot = if input { &mut f.input } else { &mut f.output };
        if slot.is_none() {
            *slot = Some(func);
        }
    }
}

/// Runs the input filter (under.input → filter.input) while it makes progress; then the
/// filter's read callback, and an EOF from below once everything before it went through.
pub(crate) fn process_input(base: &mut EventBase, bev: &BufferEvent, mode: Flush) {
    let s = &bev.0;
    let Some(under) = under(s) else { return };
    if !s.bits().has(Bits::READ) {
        return;
    }
    let eof = s.bits().has(Bits::FINISHING);
    let mode = if eof { Flush::Finished } else { mode };
    let Some(mut func) = take_fn(s, true) else { return };
    let (low, high) = {
        let st = s.st.borrow();
        (st.marks.read_low, st.marks.high())
    };
    let pumped = pump(&mut func, &under.0.input, &s.input, high, mode);
    put_fn(s, true, func);
    let full = high.is_some_and(|h| s.input.borrow().len() >= h);
    if full != s.bits().has(Bits::SUSPENDED) {
        s.set(Bits::SUSPENDED, full);
        apply(base, bev);
    }
    if pumped.failed {
        event_cb(base, bev, What::READING | What::ERROR);
        return;
    }
    if pumped.produced && s.input.borrow().len() >= low.max(1) {
        read_cb(base, bev);
    }
    if eof && !bev.is_freed() && under.0.input.borrow().is_empty() {
        s.set(Bits::FINISHING, false);
        event_cb(base, bev, What::READING | What::EOF);
    }
}

/// Runs the output filter (filter.output → under.output) while it makes progress. When the
/// buffered event below has sent everything (`under_drained`: its write callback), or a
/// flush pushed, the filter's write callback runs if its output is at its write low mark.
pub(crate) fn process_output(base: &mut EventBase, bev: &BufferEvent, mode: Flush, under_drained: bool) {
    let s = &bev.0;
    let Some(under) = under(s) else { return };
    if !s.bits().has(Bits::WRITE) {
        return;
    }
    let Some(mut func) = take_fn(s, false) else { return };
    let pumped = pump(&mut func, &s.output, &under.0.output, None, mode);
    put_fn(s, false, func);
    if pumped.failed {
        event_cb(base, bev, What::WRITING | What::ERROR);
        return;
    }
    let write_low = s.st.borrow().marks.write_low;
    if (under_drained || mode != Flush::Normal) && s.output.borrow().len() <= write_low {
        write_cb(base, bev);
    }
}

/// What a run of a filter function came to.
struct Pumped {
    /// It said the data is bad.
    failed: bool,
    /// It added something to its destination.
    produced: bool,
}

/// Runs `func` from `src` into `dst` while it makes progress and `src` is not empty, its
/// output bounded by `high` over what `dst` holds (libevent's
/// `bufferevent_filter_data_stuck`: a filter that moves a little at a time is run again).
/// Stopped by the room left (see the module docs), it runs once more with `high` of room.
fn pump(
    func: &mut FilterFn,
    src: &std::cell::RefCell<Buffer>,
    dst: &std::cell::RefCell<Buffer>,
    high: Option<usize>,
    mode: Flush,
) -> Pumped {
    let mut pumped = Pumped { failed: false, produced: false };
    let (mut whole_room, mut probed) = (false, false); // the run once more with `high` of room
    loop {
        let (mut src, mut dst) = (src.borrow_mut(), dst.borrow_mut());
        let limit = match whole_room {
            true => high,
            false => high.map(|h| h.saturating_sub(dst.len())),
        };
        if limit == Some(0) {
            return pumped;
        }
        let (src_before, dst_before) = (src.len(), dst.len());
        let res = func(&mut src, &mut dst, limit, mode);
        pumped.produced |= dst.len() > dst_before;
        if res == FilterResult::Error {
            pumped.failed = true;
            return pumped;
        }
        let progress = src.len() < src_before || dst.len() > dst_before;
        if src.is_empty() || (progress && res == FilterResult::NeedMore) {
            return pumped;
        }
        if !progress {
            // Less room than the watermark may be what stopped it (whatever it said): once
            // more with it all (if it still cannot go on, it needs more source).
            if probed || limit >= high {
                return pumped;
            }
            probed = true;
        }
        whole_room = !progress;
    }
}

/// The filter's input was drained below its high watermark: filter more.
fn resume(base: &mut EventBase, bev: &BufferEvent) {
    process_input(base, bev, Flush::Normal);
}

/// Runs the filters with `mode`, then flushes the buffered event below.
pub(crate) fn flush(base: &mut EventBase, bev: &BufferEvent, what: Flags, mode: Flush) -> io::Result<bool> {
    let Some(under) = under(&bev.0) else { return Ok(false) };
    let before = bev.0.output.borrow().len() + under.0.output.borrow().len();
    if what.contains(Flags::READ) {
        process_input(base, bev, mode);
    }
    if what.contains(Flags::WRITE) {
        process_output(base, bev, mode, false);
    }
    let pushed = under.flush(base, what, mode)?;
    Ok(pushed || bev.0.output.borrow().len() + under.0.output.borrow().len() < before)
}
