//! `Source`: what can be registered with a reactor.

/// Something a [`Reactor`](crate::Reactor) can watch: on Unix anything that lends a file
/// descriptor ([`AsFd`](std::os::fd::AsFd)): sockets, pipes, `UnixStream`s, terminals, eventfds;
/// on Windows anything that lends a socket (`AsSocket`): `TcpStream`, `TcpListener`,
/// `UdpSocket`, a `socket2::Socket` (AFD polls sockets only).
///
/// The registration API takes `&impl Source`, so the descriptor is open for the duration of the
/// call (I/O safety). What happens if a source is closed while still registered is documented
/// on [`Registry`](crate::Registry): never undefined behaviour.
pub trait Source: private::Sealed {}

#[cfg(unix)]
impl<T: std::os::fd::AsFd + ?Sized> Source for T {}
#[cfg(windows)]
impl<T: std::os::windows::io::AsSocket + ?Sized> Source for T {}

/// A raw descriptor as a [`Source`], for code that keeps descriptor numbers rather than owned
/// descriptors (an event loop with libevent's interface, a C caller): registering a number is
/// safe, since a reactor only ever passes it to the kernel. If it is not open, registration
/// fails; if it was closed and its number reused, the reactor watches whatever the number
/// names now (see "Closing a source while it is registered" on
/// [`Registry`](crate::Registry)).
#[cfg(unix)]
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub struct SourceFd(pub std::os::fd::RawFd);
#[cfg(unix)]
impl Source for SourceFd {}

/// A raw socket as a [`Source`], for code that keeps socket values rather than owned sockets
/// (an event loop with libevent's interface, a C caller): registering a value is safe, since a
/// reactor only ever passes it to the kernel. If it is not a socket, registration fails.
#[cfg(windows)]
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub struct SourceSocket(pub std::os::windows::io::RawSocket);
#[cfg(windows)]
impl Source for SourceSocket {}

pub(crate) mod private {
    /// Hands the raw descriptor to the registration code; sealed so the set of sources stays
    /// "whatever lends a descriptor".
    pub trait Sealed {
        fn raw_source(&self) -> crate::contract::source::RawSource;
    }

    #[cfg(unix)]
    impl<T: std::os::fd::AsFd + ?Sized> Sealed for T {
        fn raw_source(&self) -> crate::contract::source::RawSource {
            use std::os::fd::AsRawFd;
            self.as_fd().as_raw_fd()
        }
    }

    #[cfg(unix)]
    impl Sealed for super::SourceFd {
        fn raw_source(&self) -> crate::contract::source::RawSource {
            self.0
        }
    }

    #[cfg(windows)]
    impl Sealed for super::SourceSocket {
        fn raw_source(&self) -> crate::contract::source::RawSource {
            self.0 as crate::contract::source::RawSource
        }
    }

    #[cfg(windows)]
    impl<T: std::os::windows::io::AsSocket + ?Sized> Sealed for T {
        fn raw_source(&self) -> crate::contract::source::RawSource {
            use std::os::windows::io::AsRawSocket;
            self.as_socket().as_raw_socket() as crate::contract::source::RawSource
        }
    }
}
