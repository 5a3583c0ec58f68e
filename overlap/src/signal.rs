//! Signals as readiness events: a [`SignalReceiver`] counts the signals it watches and makes
//! its descriptor readable, so a [`Reactor`](crate::Reactor) waits for signals beside sockets.
//!
//! # Who gets a signal
//!
//! Every receiver that watches it: each counts every delivery and is woken. (libevent gives a
//! signal to the last event base that added it; here several event loops may watch one signal
//! and each sees it.) A signal is caught from the first receiver's [`add`](SignalReceiver::add)
//! to the last one's [`remove`](SignalReceiver::remove) or drop, and then the program's own
//! disposition is back, exactly as it was.
//!
//! # Counts
//!
//! Each time the handler runs counts one. The kernel runs it once for many sends of a standard
//! signal that arrive while it is pending (they coalesce), and once per send of a real-time
//! one (they queue). So a count is at least 1 and at most the number sent, and the last signal
//! is never lost: a send after the receiver's last [`take`](SignalReceiver::take) wakes it.
//!
//! # Platforms
//!
//! | | Unix | Windows |
//! |---|---|---|
//! | signals | any the program may catch, except the synchronous faults (below) | `SIGINT` (2, Ctrl+C) and `SIGBREAK` (21, Ctrl+Break): console control events |
//! | mechanism | `sigaction` (`SA_RESTART`), a self-pipe | `SetConsoleCtrlHandler`, a loopback UDP pair |
//! | the receiver is a | pipe read end (`AsFd`) | socket (`AsSocket`) |
//! | receivers at once | 64 (the handler's table is fixed: a handler cannot allocate) | no limit |
//!
//! Refused with `InvalidInput`: numbers that are not signals here, `SIGKILL` and `SIGSTOP`
//! (never catchable), and `SIGSEGV`, `SIGBUS`, `SIGFPE`, `SIGILL` (a synchronous fault returns
//! to the faulting instruction at once, so an event loop would never run before it faulted
//! again). On Windows other numbers are `Unsupported`. Closing the console, logging off and
//! shutting down are not offered: Windows ends the process as soon as the control routine
//! returns, so no callback could run.
//!
//! On Unix, leave a watched signal's disposition to the receivers: if the program installs its
//! own handler meanwhile, the last receiver to stop leaves that one in place rather than
//! restoring the older one. A child made by `fork` shares the receivers' pipes with its parent;
//! make new receivers there (after `exec`, signals that were caught are back at their defaults).

use std::io;

#[cfg(unix)]
use crate::sys::unix::signal as imp;
#[cfg(windows)]
use crate::sys::windows::signal as imp;

#[cfg(windows)]
pub use crate::sys::windows::signal::{SIGBREAK, SIGINT};

/// Catches signals for one consumer (an event loop): the process-wide handler counts each
/// delivery for every receiver that watches the signal and makes the receiver readable, so a
/// [`Reactor`](crate::Reactor) can wait for it beside sockets. `Send + Sync`.
///
/// Register it for [`Interest::READABLE`](crate::Interest::READABLE) (level-triggered), and on
/// each readable event call [`take`](Self::take). Dropping it stops every signal it watches
/// (as [`remove`](Self::remove) does) and closes its descriptors.
///
/// # Example
///
/// ```
/// # #[cfg(unix)] {
/// use std::time::Duration;
/// use overlap::{Interest, Reactor, ReadyEvents, SignalReceiver, Token, Trigger};
///
/// let signals = SignalReceiver::new()?;
/// signals.add(libc::SIGUSR1)?;
/// let mut reactor = Reactor::new()?;
/// reactor.registry().register(&signals, Token(0), Interest::READABLE, Trigger::Level)?;
///
/// // Nothing has arrived yet: the receiver is not readable.
/// let mut events = ReadyEvents::with_capacity(8);
/// reactor.poll(&mut events, Some(Duration::ZERO))?;
/// assert!(events.iter().all(|e| e.token() != Token(0)));
///
/// // When SIGUSR1 arrives (`kill -USR1 <pid>`), the reactor reports Token(0) readable, and
/// // `take` says how many came: [(SIGUSR1, n)].
/// let mut got = Vec::new();
/// signals.take(&mut got)?;
/// assert!(got.is_empty());
/// # }
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug)]
pub struct SignalReceiver {
    inner: imp::Receiver,
}

impl SignalReceiver {
    /// A receiver that watches nothing yet.
    ///
    /// # Errors
    ///
    /// On Unix, `QuotaExceeded` if 64 receivers are alive already; otherwise what creating its
    /// pipe (Unix) or sockets (Windows) returns.
    pub fn new() -> io::Result<SignalReceiver> {
        Ok(SignalReceiver { inner: imp::Receiver::new()? })
    }

    /// Starts catching `signo` for this receiver; adding a signal it watches already does
    /// nothing (adds are not counted: one [`remove`](Self::remove) stops it).
    ///
    /// The first receiver in the process to watch a signal installs the handler, on Unix with
    /// `sigaction` and `SA_RESTART` (system calls it interrupts are restarted where they can
    /// be), saving the disposition that was there.
    ///
    /// # Errors
    ///
    /// `InvalidInput` for a number that is not a signal here, for `SIGKILL`, `SIGSTOP` and the
    /// synchronous faults (`SIGSEGV`, `SIGBUS`, `SIGFPE`, `SIGILL`); on Windows `Unsupported`
    /// for anything but `SIGINT` and `SIGBREAK`. The message says why.
    pub fn add(&self, signo: i32) -> io::Result<()> {
        self.inner.add(signo)
    }

    /// Stops catching `signo` for this receiver, and forgets its deliveries not yet taken;
    /// removing a signal it does not watch does nothing. When no receiver in the process
    /// watches `signo` any more, the disposition saved by the first add is restored exactly (a
    /// handler of the program's, `SIG_DFL`, `SIG_IGN`, with its flags and mask).
    ///
    /// When it returns, no handler is counting `signo` for this receiver any more.
    ///
    /// # Errors
    ///
    /// As [`add`](Self::add) for numbers it refuses.
    pub fn remove(&self, signo: i32) -> io::Result<()> {
        self.inner.remove(signo)
    }

    /// Drains the receiver (it is not readable afterwards until a signal arrives) and appends
    /// `(signo, count)` for each signal delivered since the last take, in ascending order of
    /// `signo`, `count ≥ 1` (see [Counts](self#counts)). Never blocks.
    ///
    /// A readable event may find nothing to take (a delivery that a previous take already
    /// counted): the list is then left as it was.
    pub fn take(&self, out: &mut Vec<(i32, u32)>) -> io::Result<()> {
        self.inner.take(out)
    }
}

/// The read end of the receiver's pipe (non-blocking, close-on-exec).
#[cfg(unix)]
impl std::os::fd::AsFd for SignalReceiver {
    fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> {
        self.inner.as_fd()
    }
}

#[cfg(unix)]
impl std::os::fd::AsRawFd for SignalReceiver {
    fn as_raw_fd(&self) -> std::os::fd::RawFd {
        std::os::fd::AsRawFd::as_raw_fd(&self.inner.as_fd())
    }
}

/// The receiving socket of the receiver's loopback pair (non-blocking).
#[cfg(windows)]
impl std::os::windows::io::AsSocket for SignalReceiver {
    fn as_socket(&self) -> std::os::windows::io::BorrowedSocket<'_> {
        self.inner.as_socket()
    }
}

#[cfg(windows)]
impl std::os::windows::io::AsRawSocket for SignalReceiver {
    fn as_raw_socket(&self) -> std::os::windows::io::RawSocket {
        std::os::windows::io::AsRawSocket::as_raw_socket(&self.inner.as_socket())
    }
}
