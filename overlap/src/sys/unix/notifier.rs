//! The poll backend's wake-up descriptor: an eventfd on Linux, a pipe elsewhere.
#![allow(unsafe_code)]

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

use super::fd::cvt;

/// A descriptor that becomes readable when notified, until drained.
#[derive(Debug)]
pub(crate) struct Notifier {
    read: OwnedFd,
    #[cfg(not(eventfd))]
    write: OwnedFd,
}

impl Notifier {
    #[cfg(eventfd)]
    pub(crate) fn new() -> io::Result<Notifier> {
        // SAFETY: eventfd takes no pointers; a non-negative return is a new descriptor we own.
        let fd = cvt(unsafe { libc::eventfd(0, libc::EFD_CLOEXEC | libc::EFD_NONBLOCK) })?;
        // SAFETY: `fd` was just created and is owned by nobody else.
        Ok(Notifier { read: unsafe { OwnedFd::from_raw_fd(fd) } })
    }

    #[cfg(not(eventfd))]
    pub(crate) fn new() -> io::Result<Notifier> {
        let mut fds = [-1; 2];
        // SAFETY: `fds` has room for the two descriptors pipe(2) writes.
        cvt(unsafe { libc::pipe(fds.as_mut_ptr()) })?;
        // SAFETY: both descriptors were just created and are owned by nobody else.
        let (read, write) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
        for fd in [&read, &write] {
            // SAFETY: plain fcntl calls on a descriptor we own; no memory is passed.
            unsafe {
                cvt(libc::fcntl(fd.as_raw_fd(), libc::F_SETFD, libc::FD_CLOEXEC))?;
                cvt(libc::fcntl(fd.as_raw_fd(), libc::F_SETFL, libc::O_NONBLOCK))?;
            }
        }
        Ok(Notifier { read, write })
    }

    /// The descriptor to poll for readability.
    pub(crate) fn fd(&self) -> RawFd {
        self.read.as_raw_fd()
    }

    /// Makes the descriptor readable. A full counter or pipe means it already is.
    pub(crate) fn notify(&self) -> io::Result<()> {
        #[cfg(eventfd)]
        let (fd, byte) = (self.read.as_raw_fd(), 1u64.to_ne_bytes());
        #[cfg(not(eventfd))]
        let (fd, byte) = (self.write.as_raw_fd(), [1u8]);
        // SAFETY: writes `byte.len()` bytes from a live local buffer.
        let n = unsafe { libc::write(fd, byte.as_ptr().cast(), byte.len()) };
        if n < 0 {
            let e = io::Error::last_os_error();
            if e.kind() != io::ErrorKind::WouldBlock {
                return Err(e);
            }
        }
        Ok(())
    }

    /// Makes the descriptor unreadable again.
    pub(crate) fn drain(&self) {
        let mut buf = [0u8; 64];
        loop {
            // SAFETY: reads at most `buf.len()` bytes into a live local buffer.
            let n = unsafe { libc::read(self.read.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) };
            // An eventfd is emptied by one read; a pipe until it would block.
            if n <= 0 || cfg!(eventfd) {
                break;
            }
        }
    }
}
