//! The I/O completion port kernel object: create, associate, post, dequeue in batches.
#![allow(unsafe_code)]

use std::io;
use std::os::windows::io::{AsRawHandle, FromRawHandle, OwnedHandle};
use std::ptr;
use std::time::Duration;

use windows_sys::Win32::Foundation::{GetLastError, HANDLE, INVALID_HANDLE_VALUE, WAIT_TIMEOUT};
use windows_sys::Win32::System::IO::{
    CreateIoCompletionPort, GetQueuedCompletionStatusEx, PostQueuedCompletionStatus, OVERLAPPED, OVERLAPPED_ENTRY,
};

/// The completion key of the packets that only wake a waiter.
pub(super) const WAKE_KEY: usize = usize::MAX;

/// A batch of dequeued packets.
#[derive(Default)]
pub(super) struct Entries(pub(super) Vec<OVERLAPPED_ENTRY>);

// SAFETY: plain values the kernel wrote; the pointers in them are only followed by the thread
// that dequeued them.
unsafe impl Send for Entries {}

/// An I/O completion port; closed on drop.
#[derive(Debug)]
pub(super) struct Cport {
    handle: OwnedHandle,
}

impl Cport {
    /// A new port letting at most `concurrency` threads run at once (0: as many as CPUs).
    pub(super) fn new(concurrency: u32) -> io::Result<Cport> {
        // SAFETY: with INVALID_HANDLE_VALUE and no existing port, this only creates a port.
        let h = unsafe { CreateIoCompletionPort(INVALID_HANDLE_VALUE, ptr::null_mut(), 0, concurrency) };
        if h.is_null() {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: a new handle that nothing else owns.
        Ok(Cport { handle: unsafe { OwnedHandle::from_raw_handle(h) } })
    }

    fn raw(&self) -> HANDLE {
        self.handle.as_raw_handle()
    }

    /// Makes the port receive the completions of overlapped I/O on `h`, under `key`.
    pub(super) fn associate(&self, h: HANDLE, key: usize) -> io::Result<()> {
        // SAFETY: `h` and the port are open handles; a handle that cannot be associated (not
        // opened for overlapped I/O, or already on another port) makes this fail cleanly.
        let r = unsafe { CreateIoCompletionPort(h, self.raw(), key, 0) };
        if r.is_null() {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }

    /// Queues a packet carrying `key` and no `OVERLAPPED`.
    pub(super) fn post(&self, key: usize) -> io::Result<()> {
        // SAFETY: a packet with a null OVERLAPPED points at nothing.
        if unsafe { PostQueuedCompletionStatus(self.raw(), 0, key, ptr::null_mut::<OVERLAPPED>()) } == 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }

    /// Dequeues up to `out.len()` packets, waiting at most `timeout` (rounded up to a
    /// millisecond; `None` for ever). Returns how many; 0 when the time passed.
    pub(super) fn get(&self, out: &mut [OVERLAPPED_ENTRY], timeout: Option<Duration>) -> io::Result<usize> {
        let ms = match timeout {
            None => u32::MAX, // INFINITE
            Some(t) => t.as_nanos().div_ceil(1_000_000).min(u32::MAX as u128 - 1) as u32,
        };
        let mut n = 0u32;
        let len = out.len().min(u32::MAX as usize) as u32;
        // SAFETY: `out` is writable for `len` entries; the port is open.
        let ok = unsafe { GetQueuedCompletionStatusEx(self.raw(), out.as_mut_ptr(), len, &mut n, ms, 0) };
        if ok == 0 {
            // SAFETY: reads the thread's last error.
            let code = unsafe { GetLastError() };
            if code == WAIT_TIMEOUT {
                return Ok(0);
            }
            return Err(io::Error::from_raw_os_error(code as i32));
        }
        Ok(n as usize)
    }
}
