//! `PortShared`: what every clone of a port, and its handles, share.

use super::backend::PortBackend;
use crate::contract::queue::Queue;
use crate::sync::ThreadId;
use crate::sys::driver::AnyDriver;
use std::sync::atomic::{AtomicBool, AtomicU64};
use std::sync::Arc;

/// The port behind every [`CompletionPort`](crate::CompletionPort) clone.
pub(crate) struct PortShared {
    /// The port's number, unique in the process (in every `OpId` and `Handle` of the port).
    pub(crate) id: u64,
    pub(crate) backend: PortBackend,
    pub(crate) concurrency: usize,
    pub(crate) queue: Arc<Queue>,
    pub(crate) driver: AnyDriver,
    pub(crate) next_op: AtomicU64,
    /// The only thread that may use a single-thread port.
    pub(crate) owner: Option<ThreadId>,
    /// `close` was called.
    pub(crate) closed: AtomicBool,
}

impl Drop for PortShared {
    fn drop(&mut self) {
        // Completions nobody took: drop them (their buffers and accepted sockets with them)
        // before the driver, which may still own ops the kernel is using.
        drop(self.queue.drain());
    }
}
