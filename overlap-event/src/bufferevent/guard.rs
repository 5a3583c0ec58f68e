//! [`BufferGuard`]: a buffered event's input or output, borrowed. When the borrow ends, the
//! buffered event looks at what changed — output to send, input drained below the high
//! watermark — so that whatever was done to the buffer (even replacing it with
//! `std::mem::take`, which drops the hooks the buffer carries) starts the I/O it should.

use std::cell::RefMut;
use std::ops::{Deref, DerefMut};

use overlap_buf::Buffer;

use super::shared::{Bits, Shared};

/// A buffered event's input or output buffer, borrowed (see
/// [`BufferEvent::input`](crate::BufferEvent::input) and
/// [`BufferEvent::output`](crate::BufferEvent::output)). It derefs to the [`Buffer`].
pub struct BufferGuard<'a> {
    buf: RefMut<'a, Buffer>,
    shared: &'a Shared,
    input: bool,
}

impl<'a> BufferGuard<'a> {
    pub(crate) fn new(shared: &'a Shared, input: bool) -> BufferGuard<'a> {
        let buf = if input { shared.input.borrow_mut() } else { shared.output.borrow_mut() };
        BufferGuard { buf, shared, input }
    }
}

impl Deref for BufferGuard<'_> {
    type Target = Buffer;
    fn deref(&self) -> &Buffer {
        &self.buf
    }
}

impl DerefMut for BufferGuard<'_> {
    fn deref_mut(&mut self) -> &mut Buffer {
        &mut self.buf
    }
}

impl std::fmt::Debug for BufferGuard<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.buf.fmt(f)
    }
}

impl Drop for BufferGuard<'_> {
    /// Output waiting: a write run (if writing is enabled and none is queued or watching).
    /// Input below the high watermark while reading is suspended: a read run.
    fn drop(&mut self) {
        let s = self.shared;
        let bits = s.bits();
        if bits.has(Bits::FREED) {
            return;
        }
        if self.input {
            if bits.has(Bits::SUSPENDED) {
                s.queue_read(); // the run checks the watermark itself
            }
        } else if !self.buf.is_empty() && bits.has(Bits::WRITE) && !bits.has(Bits::CONNECTING) {
            s.queue_write();
        }
    }
}
