//! How the user's callbacks are run: taken out of the buffered event while they run (so
//! they may replace or clear any callback, free the buffered event, or start its I/O), and
//! put back after unless replaced or freed meanwhile.

use super::shared::BufferEvent;
use super::what::What;
use crate::base::EventBase;

/// Runs the read callback (taken out while it runs; put back unless replaced meanwhile).
pub(crate) fn read_cb(base: &mut EventBase, bev: &BufferEvent) {
    let (cb, generation) = {
        let mut cbs = bev.0.cbs.borrow_mut();
        (cbs.read.take(), cbs.generation[0])
    };
    let Some(mut cb) = cb else { return };
    cb(base, bev);
    let mut cbs = bev.0.cbs.borrow_mut();
    if cbs.generation[0] == generation && !bev.is_freed() {
        cbs.read = Some(cb);
    }
}

/// Runs the write callback.
pub(crate) fn write_cb(base: &mut EventBase, bev: &BufferEvent) {
    let (cb, generation) = {
        let mut cbs = bev.0.cbs.borrow_mut();
        (cbs.write.take(), cbs.generation[1])
    };
    let Some(mut cb) = cb else { return };
    cb(base, bev);
    let mut cbs = bev.0.cbs.borrow_mut();
    if cbs.generation[1] == generation && !bev.is_freed() {
        cbs.write = Some(cb);
    }
}

/// Runs the event callback with `what`.
pub(crate) fn event_cb(base: &mut EventBase, bev: &BufferEvent, what: What) {
    let (cb, generation) = {
        let mut cbs = bev.0.cbs.borrow_mut();
        (cbs.event.take(), cbs.generation[2])
    };
    let Some(mut cb) = cb else { return };
    cb(base, bev, what);
    let mut cbs = bev.0.cbs.borrow_mut();
    if cbs.generation[2] == generation && !bev.is_freed() {
        cbs.event = Some(cb);
    }
}
