//! The raw handle types every backend works on: a descriptor on Unix, a socket or handle value
//! on Windows; owned (what a [`Handle`](crate::Handle) keeps open) or raw (how the drivers and
//! selectors name it); and what kind of file it is, found once when it is associated.

/// How the selectors, the drivers and the registration table name a source: a file descriptor.
#[cfg(unix)]
pub(crate) type RawSource = std::os::fd::RawFd;
/// How the selectors, the drivers and the registration table name a source: the socket's or
/// handle's value.
#[cfg(windows)]
pub(crate) type RawSource = usize;

/// What a [`Handle`](crate::Handle) owns: a file descriptor.
#[cfg(unix)]
pub(crate) type OwnedSource = std::os::fd::OwnedFd;
/// What an accept hands over.
#[cfg(unix)]
pub(crate) type OwnedSocket = std::os::fd::OwnedFd;
/// What an accept hands over.
#[cfg(windows)]
pub(crate) type OwnedSocket = std::os::windows::io::OwnedSocket;

/// What a [`Handle`](crate::Handle) owns: a socket (Winsock calls) or a handle (`ReadFile`).
#[cfg(windows)]
#[derive(Debug)]
pub(crate) enum OwnedSource {
    Socket(OwnedSocket),
    Handle(std::os::windows::io::OwnedHandle),
}

/// The raw value of what a handle owns.
pub(crate) fn raw_of(source: &OwnedSource) -> RawSource {
    #[cfg(unix)]
    {
        std::os::fd::AsRawFd::as_raw_fd(source)
    }
    #[cfg(windows)]
    match source {
        OwnedSource::Socket(s) => std::os::windows::io::AsRawSocket::as_raw_socket(s) as RawSource,
        OwnedSource::Handle(h) => std::os::windows::io::AsRawHandle::as_raw_handle(h) as RawSource,
    }
}

/// What a handle is, as far as the drivers care (found once, by `sys::handle_kind`, when it
/// is associated).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) enum HandleKind {
    /// A regular (disk) file: it is never "not ready", ops on it keep no order, and the
    /// emulation runs them on a thread pool.
    File,
    /// A stream socket or a pipe: a write completes whole (or fails), as an overlapped
    /// `WSASend` does; a read that returns less than asked took all that was queued.
    Stream,
    /// Anything else: datagram sockets, terminals, devices.
    Other,
}
