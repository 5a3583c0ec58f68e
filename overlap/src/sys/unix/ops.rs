//! Ops as system calls: `attempt` runs an op's [`Desc`] as one non-blocking call (the emulated
//! driver); `finish` turns a raw result into the op's outcome (both drivers): it extends the
//! buffer by what the kernel wrote, takes ownership of an accepted socket, reads the peer's
//! address.
#![allow(unsafe_code)]

use std::io::{self, ErrorKind};
use std::os::fd::{FromRawFd, OwnedFd, RawFd};

use overlap_buf::IoBufMut;

use super::fd::cvt;
use crate::op::{Desc, OpCode, Output};
use crate::{error, Interest};

#[cfg(msg_nosignal)]
const SEND_FLAGS: libc::c_int = libc::MSG_NOSIGNAL;
#[cfg(not(msg_nosignal))]
const SEND_FLAGS: libc::c_int = 0;

/// One non-blocking attempt at `op`; `WouldBlock` means "park it and wait for readiness".
pub(crate) fn attempt(op: &mut dyn OpCode) -> io::Result<usize> {
    match syscall(op.describe()) {
        Err(e) if e.kind() == ErrorKind::WouldBlock => Err(e),
        raw => finish(op, raw),
    }
}

/// Turns the kernel's answer for `op` into its outcome (see the module docs).
pub(crate) fn finish(op: &mut dyn OpCode, raw: io::Result<usize>) -> io::Result<usize> {
    let n = match raw {
        Ok(n) => n,
        Err(e) if e.raw_os_error() == Some(libc::ECANCELED) => return Err(error::cancelled()),
        Err(e) => return Err(e),
    };
    let (out, result) = match op.describe() {
        Desc::Recv { buf, .. } if spare(buf) == 0 => (None, 0), // a readiness probe consumed nothing
        Desc::Recv { buf, .. } | Desc::Read { buf, .. } => {
            extend(buf, n);
            (None, n)
        }
        Desc::RecvFrom { buf, addr, .. } => {
            extend(buf, n);
            (Some(Output::Peer(addr.to_socket_addr())), n)
        }
        Desc::Accept { addr, .. } => {
            // SAFETY: a successful accept returned a new descriptor that nothing else owns.
            let fd = unsafe { OwnedFd::from_raw_fd(n as RawFd) };
            (Some(Output::Accepted(fd, addr.to_socket_addr())), 0)
        }
        Desc::PollReady { .. } => (Some(Output::Ready(super::poll::event_flags(n as libc::c_short))), 0),
        _ => (None, n),
    };
    if let Some(out) = out {
        op.set_output(out);
    }
    Ok(result)
}

fn spare(buf: &dyn IoBufMut) -> usize {
    buf.buf_capacity() - buf.buf_len()
}

/// Marks `n` more bytes of `buf` initialised (the kernel wrote them after the old length).
fn extend(buf: &mut dyn IoBufMut, n: usize) {
    let len = buf.buf_len() + n;
    assert!(len <= buf.buf_capacity(), "the kernel reported more bytes than the buffer had room for");
    // SAFETY: the kernel wrote `n` bytes into the spare capacity starting at the old length, and
    // `len` stays within the capacity (checked above).
    unsafe { buf.set_buf_len(len) };
}

/// The spare capacity of `buf`: where a receive writes.
fn spare_ptr(buf: &mut dyn IoBufMut) -> (*mut libc::c_void, usize) {
    let len = buf.buf_len();
    let room = spare(buf);
    // SAFETY: `len <= capacity`, so the pointer stays inside (or one past) the allocation.
    (unsafe { buf.buf_mut_ptr().add(len) }.cast(), room)
}

fn size(ret: isize) -> io::Result<usize> {
    if ret < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(ret as usize)
    }
}

fn syscall(desc: Desc<'_>) -> io::Result<usize> {
    match desc {
        Desc::Nop | Desc::Timeout { .. } => Ok(0),
        Desc::Accept { fd, addr } => {
            addr.reset();
            accept(fd, addr)
        }
        Desc::Connect { fd, addr } => {
            // SAFETY: `addr` holds a valid address of `addr.len` bytes for the call.
            match cvt(unsafe { libc::connect(fd, addr.as_ptr(), addr.len) }) {
                Ok(_) => Ok(0),
                Err(e) => match e.raw_os_error() {
                    Some(libc::EINPROGRESS) | Some(libc::EALREADY) => Err(ErrorKind::WouldBlock.into()),
                    Some(libc::EISCONN) => Ok(0), // an earlier attempt finished connecting
                    _ => Err(e),
                },
            }
        }
        Desc::Recv { fd, buf } => {
            if spare(buf) == 0 {
                let mut byte = 0u8;
                // SAFETY: peeks at most one byte into a live local.
                let ret = unsafe { libc::recv(fd, (&mut byte as *mut u8).cast(), 1, libc::MSG_PEEK) };
                return size(ret).map(|_| 0);
            }
            let (ptr, room) = spare_ptr(buf);
            // SAFETY: `ptr` is writable for `room` bytes (the buffer's spare capacity).
            size(unsafe { libc::recv(fd, ptr, room, 0) })
        }
        Desc::Send { fd, buf } => {
            // SAFETY: the buffer's first `buf_len` bytes are initialised and readable.
            size(unsafe { libc::send(fd, buf.buf_ptr().cast(), buf.buf_len(), SEND_FLAGS) })
        }
        Desc::SendVectored { fd, bufs } => {
            let mut iov: Vec<libc::iovec> = bufs
                .iter()
                .map(|b| libc::iovec { iov_base: b.buf_ptr() as *mut libc::c_void, iov_len: b.buf_len() })
                .collect();
            // SAFETY: msghdr is plain integers and pointers; all-zero is valid (no name, no control).
            let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
            msg.msg_iov = iov.as_mut_ptr();
            msg.msg_iovlen = iov.len() as _;
            // SAFETY: `msg` points at `iov`, whose entries describe initialised, live buffers;
            // sendmsg only reads them.
            size(unsafe { libc::sendmsg(fd, &msg, SEND_FLAGS) })
        }
        Desc::RecvFrom { fd, buf, addr } => {
            addr.reset();
            let (ptr, room) = spare_ptr(buf);
            // SAFETY: `ptr` is writable for `room` bytes; `addr` has room for any address.
            size(unsafe { libc::recvfrom(fd, ptr, room, 0, addr.as_mut_ptr(), &mut addr.len) })
        }
        Desc::SendTo { fd, buf, addr } => {
            // SAFETY: the buffer's bytes are initialised; `addr` holds `addr.len` valid bytes.
            size(unsafe { libc::sendto(fd, buf.buf_ptr().cast(), buf.buf_len(), SEND_FLAGS, addr.as_ptr(), addr.len) })
        }
        Desc::Read { fd, buf, offset } => {
            let (ptr, room) = spare_ptr(buf);
            let at = offset.map(|off| match libc::off_t::try_from(off) {
                // SAFETY: `ptr` is writable for `room` bytes.
                Ok(off) => size(unsafe { libc::pread(fd, ptr, room, off) }),
                Err(_) => Err(io::Error::from_raw_os_error(libc::EINVAL)), // past what off_t holds
            });
            match at {
                // Pipes and sockets have no position: the offset is ignored, as io_uring and
                // IOCP ignore it there.
                Some(Err(e)) if e.raw_os_error() == Some(libc::ESPIPE) => {}
                Some(r) => return r,
                None => {}
            }
            // SAFETY: as above.
            size(unsafe { libc::read(fd, ptr, room) })
        }
        Desc::Write { fd, buf, offset } => {
            let (ptr, len) = (buf.buf_ptr().cast(), buf.buf_len());
            let at = offset.map(|off| match libc::off_t::try_from(off) {
                // SAFETY: the buffer's first `len` bytes are initialised and readable.
                Ok(off) => size(unsafe { libc::pwrite(fd, ptr, len, off) }),
                Err(_) => Err(io::Error::from_raw_os_error(libc::EINVAL)), // past what off_t holds
            });
            match at {
                Some(Err(e)) if e.raw_os_error() == Some(libc::ESPIPE) => {} // no position: ignored
                Some(r) => return r,
                None => {}
            }
            // SAFETY: as above.
            size(unsafe { libc::write(fd, ptr, len) })
        }
        Desc::PollReady { fd, interest } => {
            let mut p = libc::pollfd { fd, events: poll_events(interest), revents: 0 };
            // SAFETY: one live pollfd; a zero timeout never blocks.
            cvt(unsafe { libc::poll(&mut p, 1, 0) })?;
            match p.revents {
                0 => Err(ErrorKind::WouldBlock.into()),
                r => Ok(r as u16 as usize),
            }
        }
    }
}

/// poll(2) events for a readiness wait.
pub(crate) fn poll_events(interest: Interest) -> libc::c_short {
    let mut ev = 0;
    if interest.is_readable() {
        ev |= libc::POLLIN;
    }
    if interest.is_writable() {
        ev |= libc::POLLOUT;
    }
    if interest.is_priority() {
        ev |= libc::POLLPRI;
    }
    ev
}

#[cfg(accept4)]
fn accept(fd: RawFd, addr: &mut crate::sys::SockAddrBuf) -> io::Result<usize> {
    let flags = libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC;
    // SAFETY: `addr` has room for any address and its length says so.
    cvt(unsafe { libc::accept4(fd, addr.as_mut_ptr(), &mut addr.len, flags) }).map(|s| s as usize)
}

#[cfg(not(accept4))]
fn accept(fd: RawFd, addr: &mut crate::sys::SockAddrBuf) -> io::Result<usize> {
    // SAFETY: `addr` has room for any address and its length says so.
    let s = cvt(unsafe { libc::accept(fd, addr.as_mut_ptr(), &mut addr.len) })?;
    // SAFETY: `s` is the descriptor accept just returned; owning it closes it on error.
    let owned = unsafe { OwnedFd::from_raw_fd(s) };
    // SAFETY: plain fcntl calls on a descriptor we own.
    unsafe {
        cvt(libc::fcntl(s, libc::F_SETFD, libc::FD_CLOEXEC))?;
        cvt(libc::fcntl(s, libc::F_SETFL, libc::O_NONBLOCK))?;
    }
    Ok(std::os::fd::IntoRawFd::into_raw_fd(owned) as usize)
}
