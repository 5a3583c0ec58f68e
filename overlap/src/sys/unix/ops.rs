//! Ops as system calls: [`attempt`] runs an op as one non-blocking call (the emulated driver,
//! and its thread pool for files); [`finish`] turns a raw result into the op's outcome (the
//! io_uring driver too): it extends the buffer by what the kernel wrote, takes ownership of an
//! accepted socket, reads the peer's address. Each attempt describes the op once.
//!
//! Two ops take more than one call. A whole write (a send on a stream) that the kernel took
//! only part of records the bytes in [`Pending::sent`] and would block: the rest goes when
//! there is room, before anything behind it. A connect that would block records that it
//! started ([`Pending::started`]); the next attempt asks the socket how it went (`SO_ERROR`,
//! then `getpeername`) instead of connecting again, so that a connect on a socket that was
//! already connected fails with `EISCONN`, as io_uring and IOCP report it.
#![allow(unsafe_code)]

use std::io::{self, ErrorKind};
use std::mem::MaybeUninit;
use std::os::fd::{FromRawFd, OwnedFd, RawFd};

use overlap_buf::{IoBuf, IoBufMut};

use super::fd::cvt;
use crate::contract::addr::SockAddrBuf;
use crate::contract::completion::Pending;
use crate::contract::desc::{BufList, Desc, Output};
use crate::contract::interest::Interest;
use crate::error;

#[cfg(msg_nosignal)]
const SEND_FLAGS: libc::c_int = libc::MSG_NOSIGNAL;
#[cfg(not(msg_nosignal))]
const SEND_FLAGS: libc::c_int = 0;

/// iovecs a gathered send builds on the stack; a whole write with more buffers sends these
/// first (and the rest after them), a datagram with more collects them all.
const STACK_IOVS: usize = 64;

/// What one attempt came to.
pub(crate) struct Attempt {
    /// The op's result; `WouldBlock` means "park it and wait for readiness" (also after a whole
    /// write sent part of its bytes: the socket's buffer is full).
    pub(crate) res: io::Result<usize>,
    /// A read that returned fewer bytes than it had room for (but more than none).
    pub(crate) short: bool,
}

/// One non-blocking attempt at `p` (a whole write makes as many calls as it takes until the
/// kernel takes less than it was offered: one call offers at most [`STACK_IOVS`] buffers).
pub(crate) fn attempt(p: &mut Pending) -> Attempt {
    let mut desc = p.op.describe();
    let room = match &desc {
        Desc::Recv { buf, .. } | Desc::Read { buf, .. } => spare(*buf),
        _ => 0,
    };
    let (res, out) = loop {
        let at = Progress { sent: p.sent, started: p.started, whole: p.plan.whole };
        let mut offered = usize::MAX;
        match syscall(&mut desc, at, &mut offered) {
            Err(e) if e.kind() == ErrorKind::WouldBlock => {
                p.started |= matches!(desc, Desc::Connect { .. });
                return Attempt { res: Err(e), short: false };
            }
            Ok(n) if p.plan.whole => {
                p.sent += n;
                if p.sent >= desc.write_len().unwrap_or(0) {
                    return Attempt { res: Ok(p.sent), short: false };
                }
                if n < offered {
                    // The socket's buffer is full: the rest goes when there is room.
                    return Attempt { res: Err(ErrorKind::WouldBlock.into()), short: false };
                }
                // It took all it was offered (a batch of buffers): the next batch now (no
                // readiness edge would come for it).
            }
            raw => {
                let short = matches!(raw, Ok(n) if n > 0 && n < room);
                let (res, out) = finish(desc, raw);
                break ((res, short), out);
            }
        }
    };
    if let Some(out) = out {
        p.op.set_output(out);
    }
    Attempt { res: res.0, short: res.1 }
}

/// The outcome of the op `desc` describes, whose call returned `raw`, and what to hand the op
/// besides the byte count.
pub(crate) fn finish(desc: Desc<'_>, raw: io::Result<usize>) -> (io::Result<usize>, Option<Output>) {
    let n = match raw {
        Ok(n) => n,
        Err(e) if e.raw_os_error() == Some(libc::ECANCELED) => return (Err(error::cancelled()), None),
        Err(e) => return (Err(e), None),
    };
    match desc {
        Desc::Recv { buf, .. } if spare(buf) == 0 => (Ok(0), None), // a readiness probe consumed nothing
        Desc::Recv { buf, .. } | Desc::Read { buf, .. } => {
            extend(buf, n);
            (Ok(n), None)
        }
        Desc::RecvFrom { buf, addr, .. } => {
            extend(buf, n);
            (Ok(n), Some(Output::Peer(addr.to_socket_addr())))
        }
        Desc::Accept { addr, .. } => {
            // SAFETY: a successful accept returned a new descriptor that nothing else owns.
            let fd = unsafe { OwnedFd::from_raw_fd(n as RawFd) };
            (Ok(0), Some(Output::Accepted(fd, addr.to_socket_addr())))
        }
        Desc::PollReady { .. } => (Ok(0), Some(Output::Ready(super::poll::event_flags(n as libc::c_short)))),
        _ => (Ok(n), None),
    }
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

/// The bytes of `buf` after the first `sent`.
fn rest(buf: &dyn IoBuf, sent: usize) -> (*const libc::c_void, usize) {
    let len = buf.buf_len().saturating_sub(sent);
    // `wrapping_add` stays inside (or one past) the buffer: it adds at most `buf_len`.
    (buf.buf_ptr().wrapping_add(buf.buf_len() - len).cast(), len)
}

/// Calls `f` with iovecs over the bytes of `bufs` after the first `sent`: on the stack, at most
/// [`STACK_IOVS`] of them when `part` allows sending only the first ones, else all.
fn with_iovecs<R>(bufs: &dyn BufList, mut sent: usize, part: bool, f: impl FnOnce(&[libc::iovec]) -> R) -> R {
    let mut stack = [libc::iovec { iov_base: std::ptr::null_mut(), iov_len: 0 }; STACK_IOVS];
    let mut heap = Vec::new();
    let mut n = 0;
    for i in 0..bufs.count() {
        let b = bufs.buf(i);
        if sent >= b.buf_len() {
            sent -= b.buf_len(); // sent already (or empty)
            continue;
        }
        let (ptr, len) = rest(b, sent);
        sent = 0;
        let iov = libc::iovec { iov_base: ptr.cast_mut(), iov_len: len };
        if n < STACK_IOVS {
            stack[n] = iov;
        } else if part {
            break; // the rest goes in a later call
        } else {
            if heap.is_empty() {
                heap.extend_from_slice(&stack);
            }
            heap.push(iov);
        }
        n += 1;
    }
    if heap.is_empty() {
        f(&stack[..n])
    } else {
        f(&heap)
    }
}

/// How a connect that would have blocked went: `Ok` once connected, `WouldBlock` while it is
/// under way, else its error.
fn connect_result(fd: RawFd) -> io::Result<usize> {
    let mut err: libc::c_int = 0;
    let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: `err` and `len` are live locals of the sizes the call is told.
    cvt(unsafe {
        libc::getsockopt(fd, libc::SOL_SOCKET, libc::SO_ERROR, (&mut err as *mut libc::c_int).cast(), &mut len)
    })?;
    if err != 0 {
        return Err(io::Error::from_raw_os_error(err));
    }
    let mut addr = MaybeUninit::<libc::sockaddr_storage>::uninit();
    let mut len = std::mem::size_of::<libc::sockaddr_storage>() as libc::socklen_t;
    // SAFETY: `addr` has room for any address and `len` says so.
    match cvt(unsafe { libc::getpeername(fd, addr.as_mut_ptr().cast(), &mut len) }) {
        Ok(_) => Ok(0),
        Err(e) if e.raw_os_error() == Some(libc::ENOTCONN) => Err(ErrorKind::WouldBlock.into()),
        Err(e) => Err(e),
    }
}

/// Where an op stands before an attempt (see the module docs).
#[derive(Copy, Clone)]
struct Progress {
    /// Bytes of a write already sent: this call starts after them.
    sent: usize,
    /// A connect already started: this call asks how it went.
    started: bool,
    /// A whole write: a call may send only part of the bytes left.
    whole: bool,
}

/// One system call for `desc`; a write sets `offered` to the bytes it asked the kernel to take.
fn syscall(desc: &mut Desc<'_>, at: Progress, offered: &mut usize) -> io::Result<usize> {
    let Progress { sent, started, whole } = at;
    match desc {
        Desc::Nop | Desc::Timeout { .. } => Ok(0),
        Desc::Accept { fd, addr } => {
            addr.reset();
            accept(*fd, addr)
        }
        Desc::Connect { fd, .. } if started => connect_result(*fd),
        Desc::Connect { fd, addr } => {
            // SAFETY: `addr` holds a valid address of `addr.len` bytes for the call.
            match cvt(unsafe { libc::connect(*fd, addr.as_ptr(), addr.len) }) {
                Ok(_) => Ok(0),
                Err(e) => match e.raw_os_error() {
                    Some(libc::EINPROGRESS) | Some(libc::EALREADY) => Err(ErrorKind::WouldBlock.into()),
                    _ => Err(e), // EISCONN too: the socket was connected before this op
                },
            }
        }
        Desc::Recv { fd, buf } => {
            let fd = *fd;
            if spare(*buf) == 0 {
                let mut byte = 0u8;
                // SAFETY: peeks at most one byte into a live local.
                let ret = unsafe { libc::recv(fd, (&mut byte as *mut u8).cast(), 1, libc::MSG_PEEK) };
                return size(ret).map(|_| 0);
            }
            let (ptr, room) = spare_ptr(*buf);
            // SAFETY: `ptr` is writable for `room` bytes (the buffer's spare capacity).
            size(unsafe { libc::recv(fd, ptr, room, 0) })
        }
        Desc::Send { fd, buf } => {
            let (ptr, len) = rest(*buf, sent);
            *offered = len;
            // SAFETY: the buffer's bytes after `sent` are initialised and readable.
            size(unsafe { libc::send(*fd, ptr, len, SEND_FLAGS) })
        }
        Desc::SendVectored { fd, bufs } => {
            let fd = *fd;
            with_iovecs(*bufs, sent, whole, |iov| {
                *offered = iov.iter().map(|v| v.iov_len).sum();
                // SAFETY: msghdr is plain integers and pointers; all-zero is valid (no name, no
                // control data).
                let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
                msg.msg_iov = iov.as_ptr().cast_mut();
                msg.msg_iovlen = iov.len() as _;
                // SAFETY: `msg` points at `iov`, whose entries describe initialised, live
                // buffers; sendmsg only reads them.
                size(unsafe { libc::sendmsg(fd, &msg, SEND_FLAGS) })
            })
        }
        Desc::RecvFrom { fd, buf, addr } => {
            addr.reset();
            let (ptr, room) = spare_ptr(*buf);
            // SAFETY: `ptr` is writable for `room` bytes; `addr` has room for any address.
            size(unsafe { libc::recvfrom(*fd, ptr, room, 0, addr.as_mut_ptr(), &mut addr.len) })
        }
        Desc::SendTo { fd, buf, addr } => {
            // SAFETY: the buffer's bytes are initialised; `addr` holds `addr.len` valid bytes.
            size(unsafe { libc::sendto(*fd, buf.buf_ptr().cast(), buf.buf_len(), SEND_FLAGS, addr.as_ptr(), addr.len) })
        }
        Desc::Read { fd, buf, offset } => {
            let fd = *fd;
            let (ptr, room) = spare_ptr(*buf);
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
            let fd = *fd;
            let (ptr, len) = rest(*buf, sent);
            *offered = len;
            let at = offset.map(|off| match libc::off_t::try_from(off.saturating_add(sent as u64)) {
                // SAFETY: the buffer's bytes after `sent` are initialised and readable.
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
            let mut p = libc::pollfd { fd: *fd, events: poll_events(*interest), revents: 0 };
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
fn accept(fd: RawFd, addr: &mut SockAddrBuf) -> io::Result<usize> {
    let flags = libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC;
    // SAFETY: `addr` has room for any address and its length says so.
    cvt(unsafe { libc::accept4(fd, addr.as_mut_ptr(), &mut addr.len, flags) }).map(|s| s as usize)
}

#[cfg(not(accept4))]
fn accept(fd: RawFd, addr: &mut SockAddrBuf) -> io::Result<usize> {
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
