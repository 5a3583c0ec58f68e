//! `Completion` and `OpId`: what a port's waiters receive.

use std::fmt;
use std::io;

use overlap_buf::BufResult;

use crate::op::OpCode;

/// Names one submitted op (or post), for [`CompletionPort::cancel`](crate::CompletionPort::cancel).
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct OpId(pub(crate) u64);

/// An op on its way through a driver.
pub(crate) struct Pending {
    pub(crate) id: OpId,
    pub(crate) key: usize,
    pub(crate) user_data: usize,
    pub(crate) op: Box<dyn OpCode>,
}

impl Pending {
    /// The op is done: `result` is the byte count (or the driver's error).
    pub(crate) fn complete(self, result: io::Result<usize>) -> Completion {
        Completion { id: self.id, key: self.key, user_data: self.user_data, result, op: self.op }
    }

    /// The op was cancelled before it ran.
    pub(crate) fn cancelled(self) -> Completion {
        self.complete(Err(crate::error::cancelled()))
    }
}

/// One finished op, delivered to exactly one waiter of the port.
///
/// It carries the completion key of the op's handle, the `user_data` given at submission (the
/// per-op state of an IOCP program), the result (bytes transferred, or the error) and the op
/// itself with its buffer: take it back with [`into_op`](Completion::into_op), on success,
/// error and cancel alike.
pub struct Completion {
    id: OpId,
    key: usize,
    user_data: usize,
    result: io::Result<usize>,
    op: Box<dyn OpCode>,
}

impl Completion {
    /// The op's id, as `submit` returned it.
    pub fn id(&self) -> OpId {
        self.id
    }
    /// The completion key of the op's handle (the `key` of `post`; 0 for a `Timeout`).
    pub fn key(&self) -> usize {
        self.key
    }
    /// The `user_data` given at submission.
    pub fn user_data(&self) -> usize {
        self.user_data
    }
    /// Bytes transferred, or the op's error.
    pub fn result(&self) -> &io::Result<usize> {
        &self.result
    }
    /// Whether the op ended by [`CompletionPort::cancel`](crate::CompletionPort::cancel)
    /// (its error has kind `Interrupted` and says "cancelled").
    pub fn is_cancelled(&self) -> bool {
        self.result.as_ref().err().is_some_and(crate::error::is_cancelled)
    }
    /// The result and the op (with its buffer), if the op is a `T`; else the completion back.
    pub fn into_op<T: 'static>(self) -> Result<BufResult<usize, T>, Completion> {
        if self.op.op_type() != std::any::TypeId::of::<T>() {
            return Err(self);
        }
        let op = self.op.into_any().downcast::<T>().map_err(|_| ()).expect("type checked above");
        Ok(BufResult(self.result, *op))
    }
}

impl fmt::Debug for Completion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Completion")
            .field("id", &self.id)
            .field("key", &self.key)
            .field("user_data", &self.user_data)
            .field("result", &self.result)
            .finish()
    }
}
