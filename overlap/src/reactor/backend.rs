//! `ReactorBackend`: which kernel mechanism a `Reactor` runs on, chosen at run time.

use std::{fmt, io, str::FromStr};

use crate::error;
use crate::sys::selector::AnySelector;

/// A readiness backend.
///
/// Several can be compiled into one build (on Linux: epoll and poll) and one is picked per
/// [`Reactor`](crate::Reactor) at run time, by default the best one
/// ([`ReactorBackend::default`]), or forced with [`ReactorBuilder::backend`](crate::ReactorBuilder::backend).
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ReactorBackend {
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

impl ReactorBackend {
    /// Every backend overlap knows, available here or not, in order of preference.
    pub const ALL: [ReactorBackend; 4] =
        [ReactorBackend::Epoll, ReactorBackend::Kqueue, ReactorBackend::Afd, ReactorBackend::Poll];

    /// The backend's name as `overlap backends` and [`FromStr`] spell it.
    pub const fn name(self) -> &'static str {
        match self {
            ReactorBackend::Epoll => "epoll",
            ReactorBackend::Kqueue => "kqueue",
            ReactorBackend::Afd => "afd",
            ReactorBackend::Poll => "poll",
        }
    }

    /// The backends that work on this machine, best first. Each was opened once to be sure
    /// (a sandbox may forbid a syscall the target has).
    pub fn available() -> Vec<ReactorBackend> {
        ReactorBackend::ALL.into_iter().filter(|b| b.check().is_ok()).collect()
    }

    /// `Ok` if this backend works here, else an `Unsupported` error that says why.
    pub fn check(self) -> io::Result<()> {
        self.open().map(drop)
    }

    /// Opens this backend's selector, or says why it cannot be had here.
    pub(crate) fn open(self) -> io::Result<AnySelector> {
        #[allow(unused_imports)] // no selector is compiled for some targets
        use crate::contract::selector::Selector;
        match self {
            #[cfg(epoll)]
            ReactorBackend::Epoll => Ok(AnySelector::Epoll(Selector::new()?)),
            #[cfg(kqueue)]
            ReactorBackend::Kqueue => Ok(AnySelector::Kqueue(Selector::new()?)),
            #[cfg(poll_backend)]
            ReactorBackend::Poll => Ok(AnySelector::Poll(Selector::new()?)),
            #[cfg(windows)]
            ReactorBackend::Afd => Ok(AnySelector::Afd(Selector::new()?)),
            #[allow(unreachable_patterns)]
            other => Err(error::backend_unavailable(other.name(), other.not_here_reason())),
        }
    }

    /// Why a backend is not compiled for this target (only meaningful when it is not).
    pub(crate) fn not_here_reason(self) -> &'static str {
        match self {
            ReactorBackend::Epoll => "epoll exists only on Linux and Android",
            ReactorBackend::Kqueue => "kqueue exists only on the BSDs and Apple systems",
            ReactorBackend::Afd => "AFD polling exists only on Windows",
            ReactorBackend::Poll => "poll(2) is a Unix interface",
        }
    }
}

impl Default for ReactorBackend {
    /// The best backend compiled for this target (epoll on Linux, kqueue on BSD/macOS, AFD on
    /// Windows, poll elsewhere). [`Reactor::new`](crate::Reactor::new) falls back along
    /// [`ReactorBackend::ALL`] if it cannot be opened.
    fn default() -> ReactorBackend {
        ReactorBackend::ALL.into_iter().find(|b| b.compiled()).unwrap_or(ReactorBackend::Poll)
    }
}

impl ReactorBackend {
    /// Whether the backend is built into this target at all.
    pub(crate) const fn compiled(self) -> bool {
        match self {
            ReactorBackend::Epoll => cfg!(epoll),
            ReactorBackend::Kqueue => cfg!(kqueue),
            ReactorBackend::Afd => cfg!(windows),
            ReactorBackend::Poll => cfg!(poll_backend),
        }
    }
}

impl fmt::Display for ReactorBackend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for ReactorBackend {
    type Err = io::Error;
    /// Parses a backend name (`epoll`, `kqueue`, `afd`, `poll`, any case); anything else is an
    /// `InvalidInput` error that lists the known names.
    fn from_str(s: &str) -> io::Result<ReactorBackend> {
        ReactorBackend::ALL
            .into_iter()
            .find(|b| b.name().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| error::unknown_backend(s, &ReactorBackend::ALL.map(ReactorBackend::name)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for b in ReactorBackend::ALL {
            assert_eq!(b.name().parse::<ReactorBackend>().unwrap(), b);
        }
        assert_eq!("EPOLL".parse::<ReactorBackend>().unwrap(), ReactorBackend::Epoll);
        let e = "select".parse::<ReactorBackend>().unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::InvalidInput);
        assert!(e.to_string().contains("epoll, kqueue, afd, poll"), "{e}");
    }

    #[test]
    fn uncompiled_backends_say_why() {
        for b in ReactorBackend::ALL.into_iter().filter(|b| !b.compiled()) {
            let e = b.check().unwrap_err();
            assert_eq!(e.kind(), io::ErrorKind::Unsupported);
            assert!(e.to_string().contains(b.not_here_reason()), "{e}");
        }
        assert!(ReactorBackend::default().compiled());
    }
}
