//! `Handle`: a file or socket associated with a completion port, and `Associate`: what can be.

use std::fmt;
use std::sync::{Arc, Weak};

use super::shared::PortShared;
use crate::contract::driver::Driver;
use crate::contract::source::{raw_of, HandleKind, OwnedSource, RawSource};

/// A socket, pipe or file that joined a [`CompletionPort`](crate::CompletionPort) under a
/// completion key ([`CompletionPort::associate`](crate::CompletionPort::associate)).
///
/// The handle owns the descriptor; ops hold clones of it, so the descriptor stays open (and
/// its number cannot be reused by another file) while any op on it is in flight. It closes
/// when the last clone and the last op are gone.
#[derive(Clone)]
pub struct Handle {
    pub(crate) inner: Arc<HandleInner>,
}

pub(crate) struct HandleInner {
    pub(crate) fd: OwnedSource,
    pub(crate) key: usize,
    /// The port it belongs to.
    pub(crate) port: u64,
    /// What it is (how its ops run).
    pub(crate) kind: HandleKind,
    /// Associated for readiness waits alone ([`CompletionPort::associate_for_polling`](crate::CompletionPort::associate_for_polling)).
    pub(crate) poll_only: bool,
    /// The port, to tell it when the descriptor closes (weak: ops hold handles, the port holds
    /// ops).
    pub(crate) owner: Weak<PortShared>,
}

impl Drop for HandleInner {
    fn drop(&mut self) {
        if let Some(port) = self.owner.upgrade() {
            port.driver.detach(raw_of(&self.fd));
        }
    }
}

impl Handle {
    /// The completion key it was associated with.
    pub fn key(&self) -> usize {
        self.inner.key
    }

    /// The raw descriptor (socket or handle value on Windows), as the drivers name it.
    pub(crate) fn raw(&self) -> RawSource {
        raw_of(&self.inner.fd)
    }
}

#[cfg(unix)]
impl std::os::fd::AsFd for Handle {
    fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> {
        self.inner.fd.as_fd()
    }
}

#[cfg(unix)]
impl std::os::fd::AsRawFd for Handle {
    fn as_raw_fd(&self) -> std::os::fd::RawFd {
        self.raw()
    }
}

/// The raw socket (meaningful when the handle owns a socket).
#[cfg(windows)]
impl std::os::windows::io::AsRawSocket for Handle {
    fn as_raw_socket(&self) -> std::os::windows::io::RawSocket {
        self.raw() as std::os::windows::io::RawSocket
    }
}

/// The raw handle (a socket's value is a handle too).
#[cfg(windows)]
impl std::os::windows::io::AsRawHandle for Handle {
    fn as_raw_handle(&self) -> std::os::windows::io::RawHandle {
        self.raw() as std::os::windows::io::RawHandle
    }
}

impl fmt::Debug for Handle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Handle").field("fd", &self.raw()).field("key", &self.inner.key).finish()
    }
}

/// What [`CompletionPort::associate`](crate::CompletionPort::associate) takes, and owns from
/// then on: on Unix anything that converts into an `OwnedFd` (sockets, pipes, files); on
/// Windows the standard sockets (`TcpStream`, `TcpListener`, `UdpSocket`, `OwnedSocket`: use
/// `OwnedSocket::from` for a `socket2::Socket`) and handles opened for overlapped I/O (`File`,
/// `OwnedHandle`, pipes; a handle opened for synchronous I/O is refused with `InvalidInput`, as
/// every call on it would block). Sealed.
pub trait Associate: private::Sealed {}

#[allow(private_interfaces)] // sealed: nobody outside can name or call `into_source`
pub(crate) mod private {
    use crate::contract::source::OwnedSource;

    /// Turns the value into what a handle owns.
    pub trait Sealed {
        fn into_source(self) -> OwnedSource;
    }

    #[cfg(unix)]
    impl<T: Into<std::os::fd::OwnedFd>> Sealed for T {
        fn into_source(self) -> OwnedSource {
            self.into()
        }
    }
    #[cfg(unix)]
    impl<T: Into<std::os::fd::OwnedFd>> crate::port::handle::Associate for T {}

    /// Implements `Associate` for Windows types, as a socket or as a handle.
    #[cfg(windows)]
    macro_rules! windows_sources {
        ($variant:ident: $($t:ty),*) => {$(
            impl Sealed for $t {
                fn into_source(self) -> OwnedSource {
                    OwnedSource::$variant(self.into())
                }
            }
            impl crate::port::handle::Associate for $t {}
        )*};
    }
    #[cfg(windows)]
    windows_sources!(Socket: std::net::TcpStream, std::net::TcpListener, std::net::UdpSocket,
        std::os::windows::io::OwnedSocket);
    #[cfg(windows)]
    windows_sources!(Handle: std::fs::File, std::os::windows::io::OwnedHandle, std::io::PipeReader,
        std::io::PipeWriter);
}
