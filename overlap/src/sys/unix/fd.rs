//! File-descriptor helpers shared by the Unix backends: identity, errno, timeouts.
#![allow(unsafe_code)]

use std::io;
use std::mem::MaybeUninit;
use std::os::fd::RawFd;
use std::time::Duration;

/// How the registration table names a source on Unix.
pub(crate) type RawSource = RawFd;

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

/// Whether `fd` is a regular file (which epoll cannot watch and which never blocks on
/// readiness: the emulation runs its I/O on a thread pool).
pub(crate) fn is_regular_file(fd: RawFd) -> io::Result<bool> {
    let mut st = MaybeUninit::<libc::stat>::uninit();
    // SAFETY: as in `file_id`.
    cvt(unsafe { libc::fstat(fd, st.as_mut_ptr()) })?;
    // SAFETY: fstat returned 0, so it filled the whole buffer.
    let st = unsafe { st.assume_init() };
    Ok(st.st_mode & libc::S_IFMT == libc::S_IFREG)
}

/// Whether a read of `fd` that returns fewer bytes than asked (but more than none) leaves
/// nothing to read: true of stream sockets and pipes, whose reads take all that is queued up to
/// the buffer's size; false of datagram sockets (one datagram a read) and anything unknown.
pub(crate) fn drains_on_short_read(fd: RawFd) -> bool {
    let mut ty: libc::c_int = 0;
    let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: `ty` and `len` are live locals of the sizes the call is told.
    let ret = unsafe {
        libc::getsockopt(fd, libc::SOL_SOCKET, libc::SO_TYPE, (&mut ty as *mut libc::c_int).cast(), &mut len)
    };
    if ret == 0 {
        return ty == libc::SOCK_STREAM;
    }
    let mut st = MaybeUninit::<libc::stat>::uninit();
    // SAFETY: as in `file_id`.
    if unsafe { libc::fstat(fd, st.as_mut_ptr()) } != 0 {
        return false;
    }
    // SAFETY: fstat returned 0, so it filled the whole buffer.
    let st = unsafe { st.assume_init() };
    st.st_mode & libc::S_IFMT == libc::S_IFIFO
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
    fn short_reads_drain_streams_and_pipes_only() {
        use std::os::fd::AsRawFd;
        let (a, _b) = std::os::unix::net::UnixStream::pair().unwrap();
        assert!(drains_on_short_read(a.as_raw_fd()));
        let (r, _w) = std::io::pipe().unwrap();
        assert!(drains_on_short_read(r.as_raw_fd()));
        let udp = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        assert!(!drains_on_short_read(udp.as_raw_fd()));
        let (d, _e) = std::os::unix::net::UnixDatagram::pair().unwrap();
        assert!(!drains_on_short_read(d.as_raw_fd()));
        assert!(!drains_on_short_read(-1));
    }
}
