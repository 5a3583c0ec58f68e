//! File-descriptor helpers shared by the Unix backends: identity, errno, timeouts.
#![allow(unsafe_code)]

use std::io;
use std::mem::MaybeUninit;
use std::os::fd::RawFd;
use std::time::Duration;

use crate::contract::source::HandleKind;

/// What a descriptor refers to (`st_dev`, `st_ino`): tells a closed-and-reused descriptor
/// number from the file that was registered under it.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) struct FileId {
    dev: u64,
    ino: u64,
}

/// The identity of the file behind `fd`; `EBADF` if `fd` is not open.
pub(crate) fn file_id(fd: RawFd) -> io::Result<FileId> {
    let mut st = MaybeUninit::<libc::stat>::uninit();
    // SAFETY: `st` is a writable `stat` buffer; fstat reads no memory of ours and fails
    // cleanly (EBADF) for a descriptor that is not open.
    cvt(unsafe { libc::fstat(fd, st.as_mut_ptr()) })?;
    // SAFETY: fstat returned 0, so it filled the whole buffer.
    let st = unsafe { st.assume_init() };
    #[allow(clippy::unnecessary_cast, clippy::useless_conversion)] // widths differ per target
    Ok(FileId { dev: st.st_dev as u64, ino: st.st_ino as u64 })
}

/// What `fd` is, as the drivers care (see [`HandleKind`]): a regular file; a stream socket or
/// a pipe, whose writes must complete whole and whose reads that return less than asked took
/// all that was queued; or anything else (datagram sockets, terminals, devices).
pub(crate) fn handle_kind(source: &impl std::os::fd::AsFd) -> io::Result<HandleKind> {
    let fd = std::os::fd::AsRawFd::as_raw_fd(&source.as_fd());
    let mut st = MaybeUninit::<libc::stat>::uninit();
    // SAFETY: as in `file_id`.
    cvt(unsafe { libc::fstat(fd, st.as_mut_ptr()) })?;
    // SAFETY: fstat returned 0, so it filled the whole buffer.
    let st = unsafe { st.assume_init() };
    Ok(match st.st_mode & libc::S_IFMT {
        libc::S_IFREG => HandleKind::File,
        libc::S_IFIFO => HandleKind::Stream,
        libc::S_IFSOCK if socket_type(fd) == Some(libc::SOCK_STREAM) => HandleKind::Stream,
        _ => HandleKind::Other,
    })
}

/// The `SO_TYPE` of a socket.
fn socket_type(fd: RawFd) -> Option<libc::c_int> {
    let mut ty: libc::c_int = 0;
    let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: `ty` and `len` are live locals of the sizes the call is told.
    let ret = unsafe {
        libc::getsockopt(fd, libc::SOL_SOCKET, libc::SO_TYPE, (&mut ty as *mut libc::c_int).cast(), &mut len)
    };
    (ret == 0).then_some(ty)
}

/// Puts `fd` in non-blocking mode.
pub(crate) fn set_nonblocking(fd: RawFd) -> io::Result<()> {
    // SAFETY: F_GETFL/F_SETFL take and return plain integers.
    let flags = cvt(unsafe { libc::fcntl(fd, libc::F_GETFL) })?;
    if flags & libc::O_NONBLOCK == 0 {
        // SAFETY: as above.
        cvt(unsafe { libc::fcntl(fd, libc::F_SETFL, flags | libc::O_NONBLOCK) })?;
    }
    Ok(())
}

/// Turns a `-1` return into the thread's `errno`.
pub(crate) fn cvt(ret: libc::c_int) -> io::Result<libc::c_int> {
    if ret == -1 {
        Err(io::Error::last_os_error())
    } else {
        Ok(ret)
    }
}

/// A wait in milliseconds for epoll_wait/poll: `-1` for ever, rounded **up** so that a wait
/// never ends before the caller's timeout, clamped to what a C `int` holds (the reactor waits
/// again for what is left).
pub(crate) fn timeout_ms(timeout: Option<Duration>) -> libc::c_int {
    match timeout {
        None => -1,
        Some(t) => {
            let ms = t.as_nanos().div_ceil(1_000_000);
            ms.min(libc::c_int::MAX as u128) as libc::c_int
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeouts_round_up() {
        assert_eq!(timeout_ms(None), -1);
        assert_eq!(timeout_ms(Some(Duration::ZERO)), 0);
        assert_eq!(timeout_ms(Some(Duration::from_nanos(1))), 1);
        assert_eq!(timeout_ms(Some(Duration::from_micros(1500))), 2);
        assert_eq!(timeout_ms(Some(Duration::from_millis(7))), 7);
        assert_eq!(timeout_ms(Some(Duration::MAX)), libc::c_int::MAX);
    }

    #[test]
    fn identity_tells_files_apart() {
        let (a, b) = std::os::unix::net::UnixStream::pair().unwrap();
        use std::os::fd::AsRawFd;
        let ia = file_id(a.as_raw_fd()).unwrap();
        assert_eq!(ia, file_id(a.as_raw_fd()).unwrap());
        assert_ne!(ia, file_id(b.as_raw_fd()).unwrap());
        assert_eq!(file_id(-1).unwrap_err().raw_os_error(), Some(libc::EBADF));
    }

    #[test]
    fn kinds_of_handles() {
        let kind = |fd: &dyn std::os::fd::AsFd| handle_kind(&fd.as_fd()).unwrap();
        let (a, _b) = std::os::unix::net::UnixStream::pair().unwrap();
        assert_eq!(kind(&a), HandleKind::Stream);
        let (r, _w) = std::io::pipe().unwrap();
        assert_eq!(kind(&r), HandleKind::Stream);
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        assert_eq!(kind(&l), HandleKind::Stream);
        let udp = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        assert_eq!(kind(&udp), HandleKind::Other);
        let (d, _e) = std::os::unix::net::UnixDatagram::pair().unwrap();
        assert_eq!(kind(&d), HandleKind::Other);
        let f = std::fs::File::open("Cargo.toml").unwrap();
        assert_eq!(kind(&f), HandleKind::File);
    }
}
