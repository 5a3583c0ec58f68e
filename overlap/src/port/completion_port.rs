//! `CompletionPort`: associate handles, submit ops, wait for completions, from any number of
//! threads.

use std::fmt;
use std::io;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use super::backend::PortBackend;
use super::handle::{Associate, Handle, HandleInner};
use super::shared::PortShared;
use super::submit::SubmitError;
use crate::contract::completion::{Completion, OpId, Pending};
use crate::contract::desc::{Desc, Plan};
use crate::contract::driver::Driver;
use crate::contract::source::OwnedSource;
use crate::error;
use crate::op::{Nop, Op};
use crate::sync::current_thread;

/// An I/O completion port, with the semantics of Windows IOCP on every backend.
///
/// Associate handles under completion keys, submit ops that own their buffers, and let any
/// number of threads [`wait`](CompletionPort::wait) on the port: each finished op is delivered
/// to exactly one of them. Cloning the port is cheap (it is shared).
///
/// ```
/// use std::io::Write;
/// use std::time::Duration;
/// use overlap::{op::Recv, CompletionPort};
///
/// let port = CompletionPort::new()?;
/// let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
/// let mut b = std::net::TcpStream::connect(listener.local_addr()?)?;
/// let (a, _) = listener.accept()?;
/// let a = port.associate(a, 7)?;                       // completion key 7
/// port.submit(Recv::new(&a, Vec::with_capacity(64)), 100)?; // user data 100
/// b.write_all(b"hello")?;
/// let c = port.wait(Some(Duration::from_secs(5)))?.expect("a completion");
/// assert_eq!((c.key(), c.user_data()), (7, 100));
/// let (n, recv) = c.into_op::<Recv<Vec<u8>>>().unwrap().unpack();
/// assert_eq!(n?, 5);
/// assert_eq!(recv.into_buf(), b"hello");
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Clone)]
pub struct CompletionPort {
    shared: Arc<PortShared>,
}

impl fmt::Debug for CompletionPort {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CompletionPort").field("backend", &self.shared.backend).finish_non_exhaustive()
    }
}

impl CompletionPort {
    /// The backend this port runs on.
    pub fn backend(&self) -> PortBackend {
        self.shared.backend
    }

    /// The concurrency limit.
    pub fn concurrency(&self) -> usize {
        self.shared.concurrency
    }

    /// Whether the port was built [`single_thread`](crate::PortBuilder::single_thread).
    pub fn is_single_thread(&self) -> bool {
        self.shared.owner.is_some()
    }

    /// Refuses a call from another thread than a single-thread port's own, and any call but a
    /// wait on a closed port (a wait finds out in the queue).
    fn check(&self) -> io::Result<()> {
        match self.shared.owner {
            Some(owner) if owner != current_thread() => Err(error::wrong_thread()),
            _ if self.shared.closed.load(Ordering::Acquire) => Err(error::port_closed()),
            _ => Ok(()),
        }
    }

    /// Closes the port, as `CloseHandle` on an I/O completion port does: every thread blocked
    /// in [`wait`](CompletionPort::wait) or [`wait_many`](CompletionPort::wait_many) returns
    /// at once, and every later call on the port (through any clone) fails, with an error of
    /// kind `BrokenPipe` ("the completion port is closed"). Ops in flight are cancelled, and
    /// completions not yet taken are dropped with their buffers, as are those of ops that
    /// finish later; where the kernel still owns an op's memory (io_uring, IOCP), it is freed
    /// when its cancellation comes back, under the rules of dropping the port (below). Handles
    /// stay valid as descriptors: drop them to close them. Closing twice is not an error.
    ///
    /// Dropping a clone of the port closes nothing: the port lives while any clone does, and
    /// a thread waiting on it holds one. When the last clone is dropped (so no thread can be
    /// waiting), every op in flight is cancelled and freed, or, where the kernel still owns
    /// its memory after 2 s, leaked rather than freed under the kernel.
    pub fn close(&self) -> io::Result<()> {
        if let Some(owner) = self.shared.owner {
            if owner != current_thread() {
                return Err(error::wrong_thread());
            }
        }
        self.shared.closed.store(true, Ordering::Release);
        let leader_in_kernel = self.shared.queue.close();
        self.shared.driver.close();
        if leader_in_kernel {
            let _ = self.shared.driver.notify();
        }
        Ok(())
    }

    /// Whether [`close`](CompletionPort::close) was called (on any clone).
    pub fn is_closed(&self) -> bool {
        self.shared.closed.load(Ordering::Acquire)
    }

    /// Makes `file` (a socket, pipe or file) a handle of this port under the completion `key`,
    /// which every completion of its ops carries. The port puts sockets and pipes in
    /// non-blocking mode. The port owns the descriptor from here on, also when this fails
    /// (`fstat` or `fcntl` refused it), in which case it is closed.
    pub fn associate(&self, file: impl Associate, key: usize) -> io::Result<Handle> {
        self.associate_as(file.into_source(), key, false)
    }

    /// Like [`associate`](CompletionPort::associate), for readiness waits alone: the handle
    /// carries [`PollReady`](crate::op::PollReady) ops and nothing else (any other op on it
    /// fails with `InvalidInput`). On IOCP the socket does not join the port through it (polls
    /// go through the port's own AFD handle), so the same socket can still be associated for
    /// receives and sends through a duplicate: a socket joins one IOCP once only. Elsewhere it
    /// is an ordinary association. The descriptor is made non-blocking, as `associate` does.
    pub fn associate_for_polling(&self, file: impl Associate, key: usize) -> io::Result<Handle> {
        self.associate_as(file.into_source(), key, true)
    }

    /// The handle of `fd` (owned from here on), attached for every op or for polls alone.
    fn associate_as(&self, fd: OwnedSource, key: usize, poll_only: bool) -> io::Result<Handle> {
        self.check()?;
        let kind = crate::sys::handle_kind(&fd)?;
        if poll_only {
            self.shared.driver.attach_for_polling(&fd, kind)?;
        } else {
            self.shared.driver.attach(&fd, kind)?;
        }
        let inner = HandleInner { fd, key, port: self.shared.id, kind, poll_only, owner: Arc::downgrade(&self.shared) };
        Ok(Handle { inner: Arc::new(inner) })
    }

    /// Starts `op`; its completion carries `user_data`. On error the op comes back untouched.
    pub fn submit<O: Op>(&self, op: O, user_data: usize) -> Result<OpId, SubmitError<O>> {
        self.submit_inner(op, user_data, false)
    }

    /// Like [`submit`](CompletionPort::submit), but the op may be held back from the kernel
    /// until the next [`wait`](CompletionPort::wait) or [`wait_many`](CompletionPort::wait_many)
    /// on this port, by any thread, or [`flush`](CompletionPort::flush): a completion handler
    /// that submits the next ops and then waits again enters the kernel once for all of them
    /// (on io_uring, the submissions ride on the wait's own `io_uring_enter`). IOCP and the
    /// emulation start the op at once, as `submit` does.
    ///
    /// An op deferred and never followed by a wait or a flush may not start: use `submit` for
    /// an op that must start while the thread does something else.
    pub fn submit_deferred<O: Op>(&self, op: O, user_data: usize) -> Result<OpId, SubmitError<O>> {
        self.submit_inner(op, user_data, true)
    }

    /// Starts every op deferred by [`submit_deferred`](CompletionPort::submit_deferred) that
    /// has not started yet (no system call if there is none).
    pub fn flush(&self) -> io::Result<()> {
        self.check()?;
        self.shared.driver.flush();
        Ok(())
    }

    fn submit_inner<O: Op>(&self, mut op: O, user_data: usize, defer: bool) -> Result<OpId, SubmitError<O>> {
        if let Err(error) = self.check() {
            return Err(SubmitError { error, op });
        }
        let (key, kind, poll_only) = match op.handle() {
            Some(h) if h.inner.port != self.shared.id => {
                return Err(SubmitError { error: error::foreign_handle(), op })
            }
            Some(h) => (h.key(), Some(h.inner.kind), h.inner.poll_only),
            None => (0, None, false),
        };
        // What the op is, derived once: checked here, routed by the driver.
        let desc = op.describe();
        if poll_only && !matches!(desc, Desc::PollReady { .. }) {
            return Err(SubmitError { error: error::poll_only_handle(), op });
        }
        if let Some(error) = self.refuse(&desc) {
            return Err(SubmitError { error, op });
        }
        let plan = desc.plan(kind);
        let id = self.next_id().on(plan.route);
        self.shared.driver.submit(Pending::new(id, key, user_data, plan, Box::new(op)), defer);
        Ok(id)
    }

    /// Why an op cannot be submitted here, if it cannot.
    fn refuse(&self, desc: &Desc<'_>) -> Option<io::Error> {
        match *desc {
            Desc::PollReady { interest, .. } if interest.is_empty() => Some(error::empty_interest()),
            Desc::PollReady { interest, .. } if interest.is_read_closed() => Some(error::read_closed_op()),
            // io_uring's POLL_ADD was not seen to report TCP urgent data (POLLPRI) on Linux
            // 6.18, where epoll reports the same byte: refuse rather than wait for ever.
            Desc::PollReady { interest, .. } if interest.is_priority() && self.shared.backend == PortBackend::Uring => {
                Some(error::priority_unsupported_port(self.shared.backend.name()))
            }
            Desc::Read { offset: Some(off), .. } | Desc::Write { offset: Some(off), .. } if off > i64::MAX as u64 => {
                Some(error::offset_too_large())
            }
            _ => None,
        }
    }

    /// Queues a completion made by hand (like `PostQueuedCompletionStatus`): it carries `key`,
    /// `user_data` and `Ok(value)`, and its op is [`Nop`].
    ///
    /// An error means the completion *was* queued but a waiter blocked in the kernel could not
    /// be woken (do not post it again).
    pub fn post(&self, key: usize, user_data: usize, value: usize) -> io::Result<OpId> {
        self.check()?;
        let id = self.next_id();
        let c = Pending::new(id, key, user_data, Plan::NOW, Box::new(Nop)).complete(Ok(value));
        if self.shared.queue.push([c]) {
            self.shared.driver.notify()?;
        }
        Ok(id)
    }

    /// Waits for one completion; `None` when `timeout` passed first (never earlier).
    pub fn wait(&self, timeout: Option<Duration>) -> io::Result<Option<Completion>> {
        let mut out = Vec::with_capacity(1);
        self.wait_many(&mut out, 1, timeout)?;
        Ok(out.pop())
    }

    /// Appends up to `max` completions to `out` (like `GetQueuedCompletionStatusEx`): at least
    /// one, unless `timeout` passes first (never earlier), in which case none. Returns how many.
    ///
    /// Any number of threads may wait at once; each completion goes to exactly one.
    pub fn wait_many(&self, out: &mut Vec<Completion>, max: usize, timeout: Option<Duration>) -> io::Result<usize> {
        if max == 0 {
            return Err(error::zero_max());
        }
        self.check()?;
        let driver = &self.shared.driver;
        self.shared.queue.wait(out, max, timeout, |t| driver.poll(t), || driver.notify(), || driver.flush())
    }

    /// Cancels an op in flight: it completes exactly once, with an error of kind `Interrupted`
    /// ([`Completion::is_cancelled`]), and its buffer — or with its own result, if it finished
    /// first. `NotFound` if it already completed; `InvalidInput` for an id another port gave.
    /// A regular-file op of the emulation runs on a thread pool at once and cannot be
    /// cancelled there (`NotFound`; it completes normally).
    ///
    /// A send on a stream that is cancelled after part of it went leaves those bytes sent
    /// ([`Completion::transferred`] says how many: the first ones of its buffer), and the sends
    /// behind it follow them: as with IOCP, cancel a stream's sends to give up on the
    /// connection, not to take back bytes.
    pub fn cancel(&self, id: OpId) -> io::Result<()> {
        self.check()?;
        if id.port() != self.shared.id {
            return Err(error::foreign_op());
        }
        self.shared.driver.cancel(id)
    }

    fn next_id(&self) -> OpId {
        OpId::new(self.shared.id, self.shared.next_op.fetch_add(1, Ordering::Relaxed))
    }

    /// The port behind a new `CompletionPort` (for the builder).
    pub(crate) fn from_shared(shared: Arc<PortShared>) -> CompletionPort {
        CompletionPort { shared }
    }
}
