//! `CompletionPort`: the completion model (Windows IOCP semantics) on every backend.

mod completion;
mod handle;
mod queue;

use std::fmt;
use std::io;
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

pub(crate) use completion::Pending;
pub use completion::{Completion, OpId};
pub use handle::{Associate, Handle};
pub(crate) use queue::Queue;

use crate::op::{Nop, Op};
use crate::sync::{current_thread, ThreadId};
use crate::sys::{AnyDriver, Driver};
use crate::{error, ReactorBackend};

/// A completion backend.
///
/// | backend | how |
/// |---|---|
/// | `Iocp` | an I/O completion port, native (Windows) |
/// | `Uring` | io_uring, native (Linux; probed at run time) |
/// | `Emulated(b)` | completions emulated over the readiness backend `b` (epoll, kqueue, poll) |
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum PortBackend {
    /// An I/O completion port (Windows): overlapped `WSARecv`, `AcceptEx`, `ReadFile`, …
    Iocp,
    /// io_uring (Linux).
    Uring,
    /// Emulated over a readiness backend: try the call, park it on `WouldBlock`, retry on
    /// readiness (the seed-2 port of an IOCP server to epoll).
    Emulated(ReactorBackend),
}

impl PortBackend {
    /// Every completion backend overlap knows, in order of preference.
    pub const ALL: [PortBackend; 5] = [
        PortBackend::Iocp,
        PortBackend::Uring,
        PortBackend::Emulated(ReactorBackend::Epoll),
        PortBackend::Emulated(ReactorBackend::Kqueue),
        PortBackend::Emulated(ReactorBackend::Poll),
    ];

    /// The name `overlap backends` and [`FromStr`] use: `iocp`, `uring`, `epoll`, `kqueue`,
    /// `poll`.
    pub fn name(self) -> &'static str {
        match self {
            PortBackend::Iocp => "iocp",
            PortBackend::Uring => "uring",
            PortBackend::Emulated(b) => b.name(),
        }
    }

    /// `Ok` if this backend works here, else an `Unsupported` error that says why.
    pub fn check(self) -> io::Result<()> {
        match self {
            #[cfg(windows)]
            PortBackend::Iocp => Ok(()),
            #[cfg(not(windows))]
            PortBackend::Iocp => Err(error::backend_unavailable_port(self, "IOCP exists only on Windows")),
            #[cfg(uring)]
            PortBackend::Uring => crate::sys::uring::probe(),
            #[cfg(not(uring))]
            PortBackend::Uring => Err(error::backend_unavailable_port(self, "io_uring exists only on Linux")),
            #[cfg(unix)]
            PortBackend::Emulated(b) => b.check(),
            #[cfg(windows)]
            PortBackend::Emulated(_) => Err(error::backend_unavailable_port(self, EMULATION_UNIX)),
        }
    }

    /// The backends that work on this machine, best first.
    pub fn available() -> Vec<PortBackend> {
        PortBackend::ALL.into_iter().filter(|b| b.check().is_ok()).collect()
    }

    fn open(self, queue: Arc<Queue>, concurrency: usize, single_thread: bool) -> io::Result<AnyDriver> {
        let _ = concurrency; // only IOCP takes it (the queue enforces it for every driver)
        let _ = single_thread; // only io_uring takes it (the port enforces it for every driver)
        match self {
            #[cfg(windows)]
            PortBackend::Iocp => Ok(AnyDriver::Iocp(crate::sys::windows::iocp::Driver::new(queue, concurrency)?)),
            #[cfg(not(windows))]
            PortBackend::Iocp => Err(error::backend_unavailable_port(self, "IOCP exists only on Windows")),
            #[cfg(uring)]
            PortBackend::Uring => Ok(AnyDriver::Uring(crate::sys::uring::Driver::new(queue, single_thread)?)),
            #[cfg(not(uring))]
            PortBackend::Uring => Err(error::backend_unavailable_port(self, "io_uring exists only on Linux")),
            #[cfg(unix)]
            PortBackend::Emulated(b) => {
                Ok(AnyDriver::Emulated(crate::sys::emulated::Driver::new(crate::sys::AnySelector::open(b)?, queue)))
            }
            #[cfg(windows)]
            PortBackend::Emulated(_) => Err(error::backend_unavailable_port(self, EMULATION_UNIX)),
        }
    }
}

/// Why the emulation is not built on Windows.
#[cfg(windows)]
const EMULATION_UNIX: &str =
    "the completion emulation runs over the Unix readiness backends; Windows has native IOCP (iocp)";

impl fmt::Display for PortBackend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for PortBackend {
    type Err = io::Error;
    fn from_str(s: &str) -> io::Result<PortBackend> {
        let s = s.trim();
        if s.eq_ignore_ascii_case("iocp") {
            return Ok(PortBackend::Iocp);
        }
        if s.eq_ignore_ascii_case("uring") || s.eq_ignore_ascii_case("io_uring") {
            return Ok(PortBackend::Uring);
        }
        s.parse::<ReactorBackend>().map(PortBackend::Emulated).map_err(|_| error::unknown_port_backend(s))
    }
}

/// An op that could not be submitted, with the op (and its buffer) back.
pub struct SubmitError<O> {
    /// Why.
    pub error: io::Error,
    /// The op, untouched.
    pub op: O,
}

impl<O> fmt::Debug for SubmitError<O> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SubmitError").field("error", &self.error).finish_non_exhaustive()
    }
}

impl<O> fmt::Display for SubmitError<O> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.error, f)
    }
}

impl<O> std::error::Error for SubmitError<O> {}

impl<O> From<SubmitError<O>> for io::Error {
    fn from(e: SubmitError<O>) -> io::Error {
        e.error
    }
}

pub(crate) struct PortShared {
    id: u64,
    backend: PortBackend,
    concurrency: usize,
    queue: Arc<Queue>,
    pub(crate) driver: AnyDriver,
    next_op: AtomicU64,
    /// The only thread that may use a single-thread port.
    owner: Option<ThreadId>,
}

impl Drop for PortShared {
    fn drop(&mut self) {
        // Completions nobody took: drop them (their buffers and accepted sockets with them)
        // before the driver, which may still own ops the kernel is using.
        drop(self.queue.drain());
    }
}

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

/// Chooses how a [`CompletionPort`] is built.
#[derive(Debug, Default, Clone)]
pub struct PortBuilder {
    backend: Option<PortBackend>,
    concurrency: Option<usize>,
    single_thread: bool,
}

impl PortBuilder {
    /// Forces a backend (else the best available: IOCP on Windows; io_uring, then emulation over
    /// the default readiness backend elsewhere).
    pub fn backend(mut self, backend: PortBackend) -> Self {
        self.backend = Some(backend);
        self
    }

    /// At most `n` threads released by `wait` and running at a time (IOCP's
    /// `NumberOfConcurrentThreads`); 0 means the number of CPUs, the default.
    pub fn concurrency(mut self, n: usize) -> Self {
        self.concurrency = Some(n);
        self
    }

    /// Promises that only the thread calling [`build`](PortBuilder::build) uses the port:
    /// associates, submits, flushes, waits, posts and cancels from any other thread fail with
    /// an error of kind `InvalidInput`, on every backend. In return, on io_uring, the kernel
    /// runs completion work only inside that thread's own wait, never interrupting it
    /// (`IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN`, Linux 6.1; older kernels get
    /// an ordinary ring): the setup of the fastest raw io_uring servers, for a thread-per-core
    /// design with one port per thread. Drop the port on that thread too: dropped elsewhere, an
    /// io_uring port cannot cancel the ops still in flight, and leaks them (their buffers)
    /// rather than free memory the kernel may write.
    pub fn single_thread(mut self, yes: bool) -> Self {
        self.single_thread = yes;
        self
    }

    /// Opens the port.
    pub fn build(self) -> io::Result<CompletionPort> {
        static NEXT_PORT: AtomicU64 = AtomicU64::new(1);
        let concurrency = match self.concurrency {
            None | Some(0) => std::thread::available_parallelism().map_or(1, |n| n.get()),
            Some(n) => n,
        };
        let queue = Arc::new(Queue::new(concurrency));
        let single = self.single_thread;
        let (driver, backend) = match self.backend {
            Some(b) => (b.open(queue.clone(), concurrency, single)?, b),
            None => open_best(&queue, concurrency, single)?,
        };
        let shared = PortShared {
            id: NEXT_PORT.fetch_add(1, Ordering::Relaxed),
            backend,
            concurrency,
            queue,
            driver,
            next_op: AtomicU64::new(1),
            owner: single.then(current_thread),
        };
        let shared = Arc::new(shared);
        let weak = Arc::downgrade(&shared);
        shared.queue.set_waker(move || {
            if let Some(port) = weak.upgrade() {
                let _ = port.driver.notify();
            }
        });
        Ok(CompletionPort { shared })
    }
}

fn open_best(queue: &Arc<Queue>, concurrency: usize, single: bool) -> io::Result<(AnyDriver, PortBackend)> {
    let mut last = None;
    for b in PortBackend::ALL {
        match b.open(queue.clone(), concurrency, single) {
            Ok(d) => return Ok((d, b)),
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(|| io::ErrorKind::Unsupported.into()))
}

impl CompletionPort {
    /// Opens a port on the best backend available here.
    pub fn new() -> io::Result<CompletionPort> {
        PortBuilder::default().build()
    }

    /// A builder, to force a backend or set the concurrency limit.
    pub fn builder() -> PortBuilder {
        PortBuilder::default()
    }

    /// The backend this port runs on.
    pub fn backend(&self) -> PortBackend {
        self.shared.backend
    }

    /// The concurrency limit.
    pub fn concurrency(&self) -> usize {
        self.shared.concurrency
    }

    /// Whether the port was built [`single_thread`](PortBuilder::single_thread).
    pub fn is_single_thread(&self) -> bool {
        self.shared.owner.is_some()
    }

    /// Refuses a call from another thread than a single-thread port's own.
    fn check_thread(&self) -> io::Result<()> {
        match self.shared.owner {
            Some(owner) if owner != current_thread() => Err(error::wrong_thread()),
            _ => Ok(()),
        }
    }

    /// Makes `file` (a socket, pipe or file) a handle of this port under the completion `key`,
    /// which every completion of its ops carries. The port puts sockets and pipes in
    /// non-blocking mode. The port owns the descriptor from here on, also when this fails
    /// (`fstat` or `fcntl` refused it), in which case it is closed.
    pub fn associate(&self, file: impl Associate, key: usize) -> io::Result<Handle> {
        let fd = handle::private::Sealed::into_source(file);
        self.check_thread()?;
        #[cfg(unix)]
        let regular_file = crate::sys::is_regular_file(handle::raw_of(&fd))?;
        #[cfg(windows)]
        let regular_file = false;
        self.shared.driver.attach(&fd, regular_file)?;
        let inner =
            handle::HandleInner { fd, key, port: self.shared.id, regular_file, owner: Arc::downgrade(&self.shared) };
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
        self.check_thread()?;
        self.shared.driver.flush();
        Ok(())
    }

    fn submit_inner<O: Op>(&self, mut op: O, user_data: usize, defer: bool) -> Result<OpId, SubmitError<O>> {
        if let Err(error) = self.check_thread() {
            return Err(SubmitError { error, op });
        }
        if op.handle().is_some_and(|h| h.inner.port != self.shared.id) {
            return Err(SubmitError { error: error::foreign_handle(), op });
        }
        let invalid = match op.describe() {
            crate::op::Desc::PollReady { interest, .. } if interest.is_empty() => Some(error::empty_interest()),
            // io_uring's POLL_ADD was not seen to report TCP urgent data (POLLPRI) on Linux
            // 6.18, where epoll reports the same byte: refuse rather than wait for ever.
            crate::op::Desc::PollReady { interest, .. }
                if interest.is_priority() && self.shared.backend == PortBackend::Uring =>
            {
                Some(error::priority_unsupported_port(self.shared.backend))
            }
            crate::op::Desc::Read { offset: Some(off), .. } | crate::op::Desc::Write { offset: Some(off), .. }
                if off > i64::MAX as u64 =>
            {
                Some(error::offset_too_large())
            }
            _ => None,
        };
        if let Some(error) = invalid {
            return Err(SubmitError { error, op });
        }
        let id = self.next_id();
        let key = op.handle().map_or(0, |h| h.key());
        self.shared.driver.submit(Pending { id, key, user_data, op: Box::new(op) }, defer);
        Ok(id)
    }

    /// Queues a completion made by hand (like `PostQueuedCompletionStatus`): it carries `key`,
    /// `user_data` and `Ok(value)`, and its op is [`Nop`].
    ///
    /// An error means the completion *was* queued but a waiter blocked in the kernel could not
    /// be woken (do not post it again).
    pub fn post(&self, key: usize, user_data: usize, value: usize) -> io::Result<OpId> {
        self.check_thread()?;
        let id = self.next_id();
        let c = Pending { id, key, user_data, op: Box::new(Nop) }.complete(Ok(value));
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
        self.check_thread()?;
        let driver = &self.shared.driver;
        self.shared.queue.wait(out, max, timeout, |t| driver.poll(t), || driver.notify(), || driver.flush())
    }

    /// Cancels an op in flight: it completes exactly once, with an error of kind `Interrupted`
    /// ([`Completion::is_cancelled`]), and its buffer — or with its own result, if it finished
    /// first. `NotFound` if it already completed. A regular-file op of the emulation runs on a
    /// thread pool at once and cannot be cancelled there (`NotFound`; it completes normally).
    pub fn cancel(&self, id: OpId) -> io::Result<()> {
        self.check_thread()?;
        self.shared.driver.cancel(id)
    }

    fn next_id(&self) -> OpId {
        OpId(self.shared.next_op.fetch_add(1, Ordering::Relaxed))
    }
}

impl handle::HandleInner {
    /// Tells the port the descriptor is going away.
    pub(crate) fn detach(&self, owner: &Weak<PortShared>) {
        if let Some(port) = owner.upgrade() {
            port.driver.detach(handle::raw_of(&self.fd));
        }
    }
}
