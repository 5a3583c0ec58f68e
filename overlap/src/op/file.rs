//! File and pipe operations.

use overlap_buf::{IoBuf, IoBufMut};

use super::sealed::{op_any, private::Sealed, Op};
use crate::contract::desc::{Desc, OpCode};
use crate::port::handle::Handle;

/// Reads into the buffer's spare capacity, at an offset (`pread`) or at the current position
/// (`read`, for pipes and other streams).
#[derive(Debug)]
pub struct Read<B> {
    handle: Handle,
    buf: B,
    offset: Option<u64>,
}

impl<B: IoBufMut + std::marker::Send> Read<B> {
    /// A read from `handle` into `buf`, at the current position.
    pub fn new(handle: &Handle, buf: B) -> Read<B> {
        Read { handle: handle.clone(), buf, offset: None }
    }
    /// Like [`new`](Read::new), taking the handle instead of a clone of it (no reference
    /// count to touch: what a completion handler that posts the next op on the same handle
    /// wants, with [`into_parts`](Read::into_parts)).
    pub fn with_handle(handle: Handle, buf: B) -> Read<B> {
        Read { handle, buf, offset: None }
    }
    /// The handle the op works on.
    pub fn handle(&self) -> &Handle {
        &self.handle
    }
    /// Reads at `offset` instead (files; ignored by pipes and sockets, which have no
    /// position). Above `i64::MAX`, `submit` refuses the op with `InvalidInput`. Without it, a
    /// file is read at its position (on IOCP, one the driver keeps per handle).
    pub fn at(mut self, offset: u64) -> Read<B> {
        self.offset = Some(offset);
        self
    }
    /// The buffer, with what was read appended.
    pub fn into_buf(self) -> B {
        self.buf
    }
    /// The handle and the buffer, to post the next op on the same handle with no clone.
    pub fn into_parts(self) -> (Handle, B) {
        (self.handle, self.buf)
    }
}

impl<B: IoBufMut + std::marker::Send> Sealed for Read<B> {
    fn handle(&self) -> Option<&Handle> {
        Some(&self.handle)
    }
}

impl<B: IoBufMut + std::marker::Send> OpCode for Read<B> {
    fn describe(&mut self) -> Desc<'_> {
        Desc::Read { fd: self.handle.raw(), buf: &mut self.buf, offset: self.offset }
    }
    op_any!();
}
impl<B: IoBufMut + std::marker::Send> Op for Read<B> {}

/// Writes the buffer's bytes, at an offset (`pwrite`) or at the current position (`write`).
#[derive(Debug)]
pub struct Write<B> {
    handle: Handle,
    buf: B,
    offset: Option<u64>,
}

impl<B: IoBuf + std::marker::Send> Write<B> {
    /// A write of `buf` to `handle`, at the current position.
    pub fn new(handle: &Handle, buf: B) -> Write<B> {
        Write { handle: handle.clone(), buf, offset: None }
    }
    /// Like [`new`](Write::new), taking the handle instead of a clone of it (no reference
    /// count to touch: what a completion handler that posts the next op on the same handle
    /// wants, with [`into_parts`](Write::into_parts)).
    pub fn with_handle(handle: Handle, buf: B) -> Write<B> {
        Write { handle, buf, offset: None }
    }
    /// The handle the op works on.
    pub fn handle(&self) -> &Handle {
        &self.handle
    }
    /// Writes at `offset` instead (files; ignored by pipes and sockets, which have no
    /// position). Above `i64::MAX`, `submit` refuses the op with `InvalidInput`.
    pub fn at(mut self, offset: u64) -> Write<B> {
        self.offset = Some(offset);
        self
    }
    /// The buffer back.
    pub fn into_buf(self) -> B {
        self.buf
    }
    /// The handle and the buffer, to post the next op on the same handle with no clone.
    pub fn into_parts(self) -> (Handle, B) {
        (self.handle, self.buf)
    }
}

impl<B: IoBuf + std::marker::Send> Sealed for Write<B> {
    fn handle(&self) -> Option<&Handle> {
        Some(&self.handle)
    }
}

impl<B: IoBuf + std::marker::Send> OpCode for Write<B> {
    fn describe(&mut self) -> Desc<'_> {
        Desc::Write { fd: self.handle.raw(), buf: &self.buf, offset: self.offset }
    }
    op_any!();
}
impl<B: IoBuf + std::marker::Send> Op for Write<B> {}
