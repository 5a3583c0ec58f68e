//! `PortBuilder`: how a [`CompletionPort`] is built.

use std::io;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use super::backend::PortBackend;
use super::completion_port::CompletionPort;
use super::shared::PortShared;
use crate::contract::driver::Driver;
use crate::contract::queue::Queue;
use crate::sync::current_thread;
use crate::sys::driver::AnyDriver;

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
        let queue = Arc::new(Queue::with_threads(concurrency, self.single_thread));
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
            closed: AtomicBool::new(false),
        };
        let shared = Arc::new(shared);
        let weak = Arc::downgrade(&shared);
        shared.queue.set_waker(move || {
            if let Some(port) = weak.upgrade() {
                let _ = port.driver.notify();
            }
        });
        Ok(CompletionPort::from_shared(shared))
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
}
