//! Non-blocking stream I/O for code that reads and writes on readiness itself (the event
//! layer's buffered events): a receive straight into an owned buffer's spare room, so that
//! room is never zero-filled first, and a gathered send that never raises `SIGPIPE`.
//!
//! Both make one system call on a socket the caller keeps (anything with a descriptor:
//! `TcpStream`, `socket2::Socket`, `OwnedFd`; on Windows a socket). On a non-blocking socket
//! with nothing to do they fail with `WouldBlock`.

use std::io::{self, IoSlice};

use overlap_buf::IoBufMut;

/// A socket these calls accept: `AsFd` on Unix, `AsSocket` on Windows.
#[cfg(unix)]
pub trait AsSocketRef: std::os::fd::AsFd {}
#[cfg(unix)]
impl<T: std::os::fd::AsFd + ?Sized> AsSocketRef for T {}
/// A socket these calls accept: `AsFd` on Unix, `AsSocket` on Windows.
#[cfg(windows)]
pub trait AsSocketRef: std::os::windows::io::AsSocket {}
#[cfg(windows)]
impl<T: std::os::windows::io::AsSocket + ?Sized> AsSocketRef for T {}

/// Receives once, at most `max` bytes, into the spare capacity of `buf` (after its length),
/// and extends `buf` by what came; returns how many bytes that was (0: the peer closed its
/// side, or `buf` had no room, or `max` was 0).
///
/// ```
/// # #[cfg(unix)] {
/// use std::io::Write;
/// use std::os::unix::net::UnixStream;
/// let (mut a, b) = UnixStream::pair()?;
/// a.write_all(b"hello")?;
/// let mut buf = Vec::with_capacity(64); // not zero-filled
/// assert_eq!(overlap::io::recv_into(&b, &mut buf, 3)?, 3);
/// assert_eq!(overlap::io::recv_into(&b, &mut buf, usize::MAX)?, 2);
/// assert_eq!(buf, b"hello");
/// # }
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn recv_into<S: AsSocketRef + ?Sized, B: IoBufMut + ?Sized>(
    sock: &S,
    buf: &mut B,
    max: usize,
) -> io::Result<usize> {
    crate::sys::stream::recv_into(sock, buf, max)
}

/// Sends the bytes of `bufs` in order, as far as the socket takes them, in one call; returns
/// how many it took. A peer that closed gives an error (`BrokenPipe` or `ConnectionReset`),
/// never a signal.
pub fn send_vectored<S: AsSocketRef + ?Sized>(sock: &S, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
    crate::sys::stream::send_vectored(sock, bufs)
}

/// A new descriptor (on Windows a new socket handle) for what the raw `fd` refers to, owned
/// by the caller; an error if `fd` is not open. For handing a descriptor someone else owns
/// to something that must own one (a [`CompletionPort`](crate::CompletionPort) handle), so
/// that closing either leaves the other working.
#[cfg(unix)]
pub fn dup_raw(fd: std::os::fd::RawFd) -> io::Result<std::os::fd::OwnedFd> {
    crate::sys::stream::dup_raw(fd)
}

/// A new descriptor (on Windows a new socket handle) for what the raw `fd` refers to, owned
/// by the caller; an error if `fd` is not open. For handing a descriptor someone else owns
/// to something that must own one (a [`CompletionPort`](crate::CompletionPort) handle), so
/// that closing either leaves the other working.
#[cfg(windows)]
pub fn dup_raw(fd: std::os::windows::io::RawSocket) -> io::Result<std::os::windows::io::OwnedSocket> {
    crate::sys::stream::dup_raw(fd)
}
