//! How other threads wake a base that waits in a completion port.
//!
//! On Unix the port is built for the base's thread alone (on io_uring the kernel then runs
//! completion work only inside the base's own wait, never interrupting it: `DEFER_TASKRUN`),
//! so nothing may be posted to it from elsewhere: other threads write a byte to a pipe
//! instead, whose read end has a readiness wait on the port. On Windows they post a packet to
//! the IOCP (`PostQueuedCompletionStatus`: no cost to the waiter).
//!
//! ```text
//!   Unix:    other thread: write(tx, 1 byte) ─► rx readable ─► PollReady(rx) completes
//!            the base: drain rx, submit the PollReady again before the next wait
//!   Windows: other thread: post(WAKE) ─► the packet ends the wait
//! ```

use std::io;

use overlap::op::PollReady;
use overlap::{CompletionPort, Interest};

/// The `user_data` of a wake.
pub(crate) const WAKE_DATA: usize = usize::MAX;

/// Whether the port can be built for one thread (wakes do not post to it).
pub(crate) const SINGLE_THREAD: bool = cfg!(unix);

/// The base's side of the wake.
pub(crate) struct WakePipe {
    #[cfg(unix)]
    rx: std::os::unix::net::UnixStream,
    #[cfg(unix)]
    tx: std::sync::Arc<std::os::unix::net::UnixStream>,
    #[cfg(unix)]
    handle: overlap::Handle,
    #[cfg(windows)]
    port: CompletionPort,
}

/// What other threads hold to wake the base.
pub(crate) struct PipeWaker {
    #[cfg(unix)]
    tx: std::sync::Arc<std::os::unix::net::UnixStream>,
    #[cfg(windows)]
    port: CompletionPort,
}

impl WakePipe {
    /// The wake of a base waiting in `port`.
    #[cfg(unix)]
    pub(crate) fn new(port: &CompletionPort) -> io::Result<WakePipe> {
        let (rx, tx) = std::os::unix::net::UnixStream::pair()?;
        rx.set_nonblocking(true)?;
        tx.set_nonblocking(true)?;
        let reader = std::os::fd::AsFd::as_fd(&rx).try_clone_to_owned()?;
        let handle = port.associate_for_polling(reader, 0)?;
        Ok(WakePipe { rx, tx: std::sync::Arc::new(tx), handle })
    }

    /// The wake of a base waiting in `port`.
    #[cfg(windows)]
    pub(crate) fn new(port: &CompletionPort) -> io::Result<WakePipe> {
        Ok(WakePipe { port: port.clone() })
    }

    pub(crate) fn waker(&self) -> PipeWaker {
        #[cfg(unix)]
        return PipeWaker { tx: self.tx.clone() };
        #[cfg(windows)]
        return PipeWaker { port: self.port.clone() };
    }

    /// Submits the wait for the next wake (Unix; nothing to do on Windows).
    pub(crate) fn arm(&self, port: &CompletionPort) {
        #[cfg(unix)]
        let _ = port.submit(PollReady::new(&self.handle, Interest::READABLE), WAKE_DATA);
        #[cfg(windows)]
        let _ = (port, PollReady::new, Interest::READABLE);
    }

    /// A wake came: reads every byte written so far (each wake was one; one run of the loop
    /// answers all). Says whether the wait must be submitted again.
    pub(crate) fn woke(&self) -> bool {
        #[cfg(unix)]
        {
            let mut buf = [0u8; 64];
            while matches!(io::Read::read(&mut &self.rx, &mut buf), Ok(n) if n > 0) {}
            true
        }
        #[cfg(windows)]
        false
    }
}

impl PipeWaker {
    /// Wakes the base (a full pipe already holds a wake).
    pub(crate) fn wake(&self) -> io::Result<()> {
        #[cfg(unix)]
        return match io::Write::write(&mut &*self.tx, &[1]) {
            Ok(_) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(()),
            Err(e) => Err(e),
        };
        #[cfg(windows)]
        return self.port.post(0, WAKE_DATA, 0).map(|_| ());
    }
}
