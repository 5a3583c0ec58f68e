//! `Backend`: which kernel mechanism a `Reactor` runs on, chosen at run time.

use std::{fmt, io, str::FromStr};

use crate::error;

/// A readiness backend.
///
/// Several can be compiled into one build (on Linux: epoll and poll) and one is picked per
/// [`Reactor`](crate::Reactor) at run time, by default the best one
/// ([`Backend::default`]), or forced with [`ReactorBuilder::backend`](crate::ReactorBuilder::backend).
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Backend {
    /// epoll(7), Linux and Android: the native readiness mechanism.
    Epoll,
    /// kqueue(2), the BSDs and Apple systems.
    Kqueue,
    /// AFD polling on Windows (`IOCTL_AFD_POLL` on `\\Device\\Afd`, completed through an I/O
    /// completion port): readiness emulated over IOCP, with no limit on the number of sockets.
    /// Sockets only; no edge triggering.
    Afd,
    /// poll(2), every Unix: the portable fallback. No edge triggering.
    Poll,
}

impl Backend {
    /// Every backend overlap knows, available here or not, in order of preference.
    pub const ALL: [Backend; 4] = [Backend::Epoll, Backend::Kqueue, Backend::Afd, Backend::Poll];

    /// The backend's name as `overlap backends` and [`FromStr`] spell it.
    pub const fn name(self) -> &'static str {
        match self {
            Backend::Epoll => "epoll",
            Backend::Kqueue => "kqueue",
            Backend::Afd => "afd",
            Backend::Poll => "poll",
        }
    }

    /// The backends that work on this machine, best first. Each was opened once to be sure
    /// (a sandbox may forbid a syscall the target has).
    pub fn available() -> Vec<Backend> {
        Backend::ALL.into_iter().filter(|b| b.check().is_ok()).collect()
    }

    /// `Ok` if this backend works here, else an `Unsupported` error that says why.
    pub fn check(self) -> io::Result<()> {
        crate::sys::AnySelector::open(self).map(drop)
    }

    /// Why a backend is not compiled for this target (only meaningful when it is not).
    pub(crate) fn not_here_reason(self) -> &'static str {
        match self {
            Backend::Epoll => "epoll exists only on Linux and Android",
            Backend::Kqueue => "kqueue exists only on the BSDs and Apple systems",
            Backend::Afd => "AFD polling exists only on Windows",
            Backend::Poll => "poll(2) is a Unix interface",
        }
    }
}

impl Default for Backend {
    /// The best backend compiled for this target (epoll on Linux, kqueue on BSD/macOS, AFD on
    /// Windows, poll elsewhere). [`Reactor::new`](crate::Reactor::new) falls back along
    /// [`Backend::ALL`] if it cannot be opened.
    fn default() -> Backend {
        Backend::ALL.into_iter().find(|b| b.compiled()).unwrap_or(Backend::Poll)
    }
}

impl Backend {
    /// Whether the backend is built into this target at all.
    pub(crate) const fn compiled(self) -> bool {
        match self {
            Backend::Epoll => cfg!(epoll),
            Backend::Kqueue => cfg!(kqueue),
            Backend::Afd => cfg!(windows),
            Backend::Poll => cfg!(poll_backend),
        }
    }
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Backend {
    type Err = io::Error;
    /// Parses a backend name (`epoll`, `kqueue`, `afd`, `poll`, any case); anything else is an
    /// `InvalidInput` error that lists the known names.
    fn from_str(s: &str) -> io::Result<Backend> {
        Backend::ALL
            .into_iter()
            .find(|b| b.name().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| error::unknown_backend(s))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for b in Backend::ALL {
            assert_eq!(b.name().parse::<Backend>().unwrap(), b);
        }
        assert_eq!("EPOLL".parse::<Backend>().unwrap(), Backend::Epoll);
        let e = "select".parse::<Backend>().unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::InvalidInput);
        assert!(e.to_string().contains("epoll, kqueue, afd, poll"), "{e}");
    }

    #[test]
    fn uncompiled_backends_say_why() {
        for b in Backend::ALL.into_iter().filter(|b| !b.compiled()) {
            let e = b.check().unwrap_err();
            assert_eq!(e.kind(), io::ErrorKind::Unsupported);
            assert!(e.to_string().contains(b.not_here_reason()), "{e}");
        }
        assert!(Backend::default().compiled());
    }
}
