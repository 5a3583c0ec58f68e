//! `PortBackend`: which completion driver a port runs on, chosen at run time.

use std::fmt;
use std::io;
use std::str::FromStr;
use std::sync::Arc;

use crate::contract::queue::Queue;
use crate::error;
use crate::reactor::backend::ReactorBackend;
use crate::sys::driver::AnyDriver;

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
            PortBackend::Iocp => Err(error::backend_unavailable_port(self.name(), "IOCP exists only on Windows")),
            #[cfg(uring)]
            PortBackend::Uring => crate::sys::uring::probe(),
            #[cfg(not(uring))]
            PortBackend::Uring => Err(error::backend_unavailable_port(self.name(), "io_uring exists only on Linux")),
            #[cfg(unix)]
            PortBackend::Emulated(b) => b.check(),
            #[cfg(windows)]
            PortBackend::Emulated(_) => Err(error::backend_unavailable_port(self.name(), EMULATION_UNIX)),
        }
    }

    /// The backends that work on this machine, best first.
    pub fn available() -> Vec<PortBackend> {
        PortBackend::ALL.into_iter().filter(|b| b.check().is_ok()).collect()
    }

    /// Opens this backend's driver, pushing into `queue`.
    pub(crate) fn open(self, queue: Arc<Queue>, concurrency: usize, single_thread: bool) -> io::Result<AnyDriver> {
        let _ = concurrency; // only IOCP takes it (the queue enforces it for every driver)
        let _ = single_thread; // only io_uring takes it (the port enforces it for every driver)
        match self {
            #[cfg(windows)]
            PortBackend::Iocp => Ok(AnyDriver::Iocp(crate::sys::windows::iocp::Driver::new(queue, concurrency)?)),
            #[cfg(not(windows))]
            PortBackend::Iocp => Err(error::backend_unavailable_port(self.name(), "IOCP exists only on Windows")),
            #[cfg(uring)]
            PortBackend::Uring => Ok(AnyDriver::Uring(crate::sys::uring::Driver::new(queue, single_thread)?)),
            #[cfg(not(uring))]
            PortBackend::Uring => Err(error::backend_unavailable_port(self.name(), "io_uring exists only on Linux")),
            #[cfg(unix)]
            PortBackend::Emulated(b) => Ok(AnyDriver::Emulated(crate::sys::emulated::Driver::new(b.open()?, queue))),
            #[cfg(windows)]
            PortBackend::Emulated(_) => Err(error::backend_unavailable_port(self.name(), EMULATION_UNIX)),
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
        s.parse::<ReactorBackend>()
            .map(PortBackend::Emulated)
            .map_err(|_| error::unknown_port_backend(s, &PortBackend::ALL.map(PortBackend::name)))
    }
}
