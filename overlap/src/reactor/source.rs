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

    #[cfg(windows)]
    impl<T: std::os::windows::io::AsSocket + ?Sized> Sealed for T {
        fn raw_source(&self) -> crate::contract::source::RawSource {
            use std::os::windows::io::AsRawSocket;
            self.as_socket().as_raw_socket() as crate::contract::source::RawSource
        }
    }
}
