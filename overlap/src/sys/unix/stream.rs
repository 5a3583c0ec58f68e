//! One non-blocking receive into an owned buffer's spare room, and one gathered send, for
//! callers above the drivers that read and write themselves on readiness (the event layer's
//! buffered events). A send never raises `SIGPIPE`: a closed peer is an `EPIPE` error.
#![allow(unsafe_code)]

use std::io::{self, IoSlice};
use std::os::fd::{AsFd, AsRawFd};

use overlap_buf::IoBufMut;

#[cfg(msg_nosignal)]
const SEND_FLAGS: libc::c_int = libc::MSG_NOSIGNAL;
#[cfg(not(msg_nosignal))]
const SEND_FLAGS: libc::c_int = 0;

/// Receives at most `max` bytes into the spare capacity of `buf` (after its length) and
/// extends it by what came.
pub(crate) fn recv_into<S: AsFd + ?Sized, B: IoBufMut + ?Sized>(
    sock: &S,
    buf: &mut B,
    max: usize,
) -> io::Result<usize> {
    let (len, cap) = (buf.buf_len(), buf.buf_capacity());
    let room = (cap - len).min(max);
    // SAFETY: `len <= cap` (the IoBufMut contract), so the pointer stays inside (or one past)
    // the allocation, which is writable for `room` bytes after it; the descriptor is borrowed
    // from `sock` for the call.
    let ret = unsafe { libc::recv(sock.as_fd().as_raw_fd(), buf.buf_mut_ptr().add(len).cast(), room, 0) };
    if ret < 0 {
        return Err(io::Error::last_os_error());
    }
    let n = (ret as usize).min(room);
    // SAFETY: the kernel wrote `n <= room` bytes right after the old length.
    unsafe { buf.set_buf_len(len + n) };
    Ok(n)
}

/// Sends the bytes of `bufs` in order, as far as the socket takes them (one buffer: `send`,
/// the kernel's shorter path; more: `sendmsg`).
pub(crate) fn send_vectored<S: AsFd + ?Sized>(sock: &S, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
    if let [one] = bufs {
        // SAFETY: `one` is borrowed for the call and only read.
        let ret = unsafe { libc::send(sock.as_fd().as_raw_fd(), one.as_ptr().cast(), one.len(), SEND_FLAGS) };
        return if ret < 0 { Err(io::Error::last_os_error()) } else { Ok(ret as usize) };
    }
    // SAFETY: an all-zero msghdr is a valid empty message.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = bufs.as_ptr() as *mut libc::iovec; // IoSlice is an iovec on Unix (std's promise)
    msg.msg_iovlen = bufs.len().min(libc::c_int::MAX as usize) as _;
    // SAFETY: `msg` names `bufs.len()` iovecs that live for the call and are only read.
    let ret = unsafe { libc::sendmsg(sock.as_fd().as_raw_fd(), &msg, SEND_FLAGS) };
    if ret < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(ret as usize)
    }
}

/// A new descriptor for what `fd` refers to (close-on-exec); `EBADF` if `fd` is not open.
pub(crate) fn dup_raw(fd: std::os::fd::RawFd) -> io::Result<std::os::fd::OwnedFd> {
    // SAFETY: fcntl(F_DUPFD_CLOEXEC) reads no memory of ours and fails cleanly (EBADF) for a
    // number that is not an open descriptor.
    let new = unsafe { libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, 0) };
    if new < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: fcntl returned a new descriptor that nothing else owns.
    Ok(unsafe { std::os::fd::FromRawFd::from_raw_fd(new) })
}
