//! How other threads wake a base that waits in a completion port. The port is built for one
//! thread (on io_uring the kernel then runs completion work only inside the base's own wait,
//! never interrupting it: `DEFER_TASKRUN`), so nothing may be posted to it from elsewhere:
//! other threads write a byte to a pipe instead, whose read end has a readiness wait on the
//! port.
//!
//! ```text
//!   other thread: write(tx, 1 byte) ─► rx readable ─► PollReady(rx) completes in the wait
//!   the base: drain rx, submit the PollReady again at the next wait
//! ```

use std::io;

/// The pipe: the read end the port watches, the write end other threads hold.
#[cfg(unix)]
pub(crate) struct WakePipe {
    rx: std::os::unix::net::UnixStream,
    tx: std::sync::Arc<std::os::unix::net::UnixStream>,
}

/// What other threads hold to wake the base.
#[cfg(unix)]
pub(crate) struct PipeWaker(std::sync::Arc<std::os::unix::net::UnixStream>);

#[cfg(unix)]
impl WakePipe {
    /// A non-blocking pair.
    pub(crate) fn new() -> io::Result<WakePipe> {
        let (rx, tx) = std::os::unix::net::UnixStream::pair()?;
        rx.set_nonblocking(true)?;
        tx.set_nonblocking(true)?;
        Ok(WakePipe { rx, tx: std::sync::Arc::new(tx) })
    }

    /// A duplicate of the read end, for the port to own.
    pub(crate) fn reader(&self) -> io::Result<std::os::fd::OwnedFd> {
        std::os::fd::AsFd::as_fd(&self.rx).try_clone_to_owned()
    }

    pub(crate) fn waker(&self) -> PipeWaker {
        PipeWaker(self.tx.clone())
    }

    /// Reads every byte written so far (each wake was one; one run of the loop answers all).
    pub(crate) fn drain(&self) {
        let mut buf = [0u8; 64];
        while matches!(io::Read::read(&mut &self.rx, &mut buf), Ok(n) if n > 0) {}
    }
}

#[cfg(unix)]
impl PipeWaker {
    /// Writes a byte; a full pipe already holds a wake.
    pub(crate) fn wake(&self) -> io::Result<()> {
        match io::Write::write(&mut &*self.0, &[1]) {
            Ok(_) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(()),
            Err(e) => Err(e),
        }
    }
}

/// No base waits in a port on Windows yet (see `PortWait::new`).
#[cfg(windows)]
pub(crate) enum WakePipe {}

/// No base waits in a port on Windows yet.
#[cfg(windows)]
pub(crate) enum PipeWaker {}

#[cfg(windows)]
impl WakePipe {
    pub(crate) fn new() -> io::Result<WakePipe> {
        Err(crate::error::port_wait_unsupported())
    }
    pub(crate) fn reader(&self) -> io::Result<std::os::windows::io::OwnedSocket> {
        match *self {}
    }
    pub(crate) fn waker(&self) -> PipeWaker {
        match *self {}
    }
    pub(crate) fn drain(&self) {
        match *self {}
    }
}

#[cfg(windows)]
impl PipeWaker {
    pub(crate) fn wake(&self) -> io::Result<()> {
        match *self {}
    }
}
