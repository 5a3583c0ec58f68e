//! `OpId`, `Pending` and `Completion`: an op from its submission, through a driver, to the
//! waiter that receives it.

use std::fmt;
use std::io;

use overlap_buf::BufResult;

use super::desc::{Lane, OpCode, Plan, Route};

/// Names one submitted op (or post) of one port, for
/// [`CompletionPort::cancel`](crate::CompletionPort::cancel): another port refuses it.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct OpId {
    /// The port's number (unique in the process).
    port: u64,
    /// The op's number in its port, counting from 1; what the drivers key their tables by.
    seq: u64,
    /// Where the op waits, if in a lane: a cancel looks there, with no table of every op.
    lane: Option<Lane>,
}

impl OpId {
    pub(crate) const fn new(port: u64, seq: u64) -> OpId {
        OpId { port, seq, lane: None }
    }
    /// The id of an op that runs on `route`.
    pub(crate) const fn on(self, route: Route) -> OpId {
        match route {
            Route::Lane(lane) => OpId { lane: Some(lane), ..self },
            _ => self,
        }
    }
    /// The lane the op runs in, if any.
    #[cfg_attr(windows, allow(dead_code))] // the emulation's cancel (io_uring and IOCP key by number)
    pub(crate) const fn lane(self) -> Option<Lane> {
        self.lane
    }
    /// The number of the port that gave the id.
    pub(crate) const fn port(self) -> u64 {
        self.port
    }
    /// The op's number within its port.
    pub(crate) const fn seq(self) -> u64 {
        self.seq
    }
}

/// An op on its way through a driver.
pub(crate) struct Pending {
    pub(crate) id: OpId,
    pub(crate) key: usize,
    pub(crate) user_data: usize,
    /// How the driver runs it (derived once, at submission).
    pub(crate) plan: Plan,
    /// Bytes of a whole write sent so far (the next attempt starts after them). IOCP has no use
    /// for it or for `started`: its writes complete whole, its connects are `ConnectEx`.
    #[cfg_attr(windows, allow(dead_code))]
    pub(crate) sent: usize,
    /// A connect that was started and would have blocked: the next attempt asks how it went.
    #[cfg_attr(windows, allow(dead_code))]
    pub(crate) started: bool,
    pub(crate) op: Box<dyn OpCode>,
}

impl Pending {
    /// An op (or post) with nothing done yet.
    pub(crate) fn new(id: OpId, key: usize, user_data: usize, plan: Plan, op: Box<dyn OpCode>) -> Pending {
        Pending { id, key, user_data, plan, sent: 0, started: false, op }
    }

    /// The op is done: `result` is the byte count (or the driver's error; the bytes a whole
    /// write sent before it, `sent`, go with it).
    pub(crate) fn complete(self, result: io::Result<usize>) -> Completion {
        let sent = self.sent;
        Completion { id: self.id, key: self.key, user_data: self.user_data, result, sent, op: self.op }
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
    /// Bytes a whole write sent before it failed or was cancelled.
    sent: usize,
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
    /// The bytes the op moved, also when it failed (IOCP's `lpNumberOfBytesTransferred`
    /// beside an error): its byte count if it succeeded; for a `Send`, `SendVectored` or
    /// `Write` on a stream that failed or was cancelled after part of it went (the port sends
    /// a stream's bytes whole, in several calls when the kernel takes part of them), that
    /// part, which the peer gets (it is the first bytes of the buffer); 0 for any other
    /// failure.
    pub fn transferred(&self) -> usize {
        match self.result {
            Ok(n) => n,
            Err(_) => self.sent,
        }
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

/// A finished post, for the queue's own tests and loom models (which run below `op/`).
#[cfg(test)]
pub(crate) fn test_completion(seq: u64) -> Completion {
    test_pending(seq).complete(Ok(0))
}

/// A post on its way (user data: its number), for the queue's own tests and loom models.
#[cfg(test)]
pub(crate) fn test_pending(seq: u64) -> Pending {
    struct TestNop;
    impl OpCode for TestNop {
        fn describe(&mut self) -> super::desc::Desc<'_> {
            super::desc::Desc::Nop
        }
        fn into_any(self: Box<Self>) -> Box<dyn std::any::Any + Send> {
            self
        }
        fn op_type(&self) -> std::any::TypeId {
            std::any::TypeId::of::<Self>()
        }
    }
    Pending::new(OpId::new(0, seq), 0, seq as usize, Plan::NOW, Box::new(TestNop))
}
