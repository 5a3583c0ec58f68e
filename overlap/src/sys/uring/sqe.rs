//! An op's [`Desc`] as a submission queue entry, and its completion entry back as the op's
//! outcome.
//!
//! Most entries point only into the op (its buffer, its address). The rest — the iovec and
//! `msghdr` of `SENDMSG`/`RECVMSG` — is boxed in a [`Side`] that the driver keeps beside the op
//! until the completion is reaped.
#![allow(unsafe_code)]

use std::io;

use io_uring::types::Fd;
use io_uring::{opcode, squeue};
use overlap_buf::{IoBuf, IoBufMut};

use crate::contract::addr::SockAddrBuf;
use crate::contract::completion::Pending;
use crate::contract::desc::Desc;
use crate::sys::unix::ops;

/// What an entry points at besides the op. The boxes never move their contents, so the
/// pointers the entry holds stay valid while the `Side` lives.
pub(super) enum Side {
    None,
    Msg(Box<Msg>),
}

/// A `msghdr` and the iovec array it points at.
pub(super) struct Msg {
    hdr: libc::msghdr,
    iov: Vec<libc::iovec>,
    /// A `RECVMSG`: the kernel writes the sender's address length back into `hdr`.
    recv: bool,
}

// SAFETY: `Msg` is plain data plus pointers into the op it was built for (its buffers and
// address, which the op — `Send` itself — owns) and into its own iovec array. The driver moves
// a `Msg` between threads only inside the in-flight table, together with that op, and reads it
// only after the kernel is done with it (the op's completion was reaped).
unsafe impl Send for Msg {}

impl Msg {
    /// A boxed header over `iov`, naming `name` (`namelen` bytes; null for none).
    fn boxed(iov: Vec<libc::iovec>, name: *mut libc::sockaddr, namelen: libc::socklen_t, recv: bool) -> Box<Msg> {
        // SAFETY: msghdr is plain integers and pointers (and padding on some libcs); all-zero
        // is a valid value: no name, no iovec, no control data.
        let hdr: libc::msghdr = unsafe { std::mem::zeroed() };
        let mut msg = Box::new(Msg { hdr, iov, recv });
        msg.hdr.msg_name = name.cast();
        msg.hdr.msg_namelen = namelen;
        msg.hdr.msg_iov = msg.iov.as_mut_ptr();
        msg.hdr.msg_iovlen = msg.iov.len() as _;
        msg
    }
}

/// One iovec over `len` bytes at `ptr`.
fn iovec(ptr: *const u8, len: usize) -> libc::iovec {
    libc::iovec { iov_base: ptr as *mut libc::c_void, iov_len: len }
}

/// The spare capacity of `buf` (where a receive writes): its start and length.
fn spare(buf: &mut dyn IoBufMut) -> (*mut u8, usize) {
    let (len, cap) = (buf.buf_len(), buf.buf_capacity());
    // `wrapping_add` stays inside (or one past) the allocation because `len <= cap`.
    (buf.buf_mut_ptr().wrapping_add(len), cap - len)
}

/// A length as an SQE's 32-bit field: a longer buffer is used in part, as a short transfer.
fn len32(len: usize) -> u32 {
    u32::try_from(len).unwrap_or(u32::MAX)
}

/// A send to a closed peer fails with EPIPE instead of raising SIGPIPE.
const SEND_FLAGS: libc::c_int = libc::MSG_NOSIGNAL;

/// The most iovecs one `sendmsg` takes on Linux (`UIO_MAXIOV`).
const IOV_MAX: usize = 1024;

/// `MSG_WAITALL` on a whole write: the kernel (5.18+) goes on after a short send itself; older
/// kernels ignore it, and the driver sends the rest (see `Pending::sent`).
const WHOLE: libc::c_int = libc::MSG_WAITALL;

/// The bytes of `buf` after the first `sent`: their start and length.
fn rest(buf: &dyn IoBuf, sent: usize) -> (*const u8, usize) {
    let len = buf.buf_len().saturating_sub(sent);
    // `wrapping_add` stays inside (or one past) the buffer.
    (buf.buf_ptr().wrapping_add(buf.buf_len() - len), len)
}

/// The entry for `p` (without its user data) and what it points at besides the op; a whole
/// write starts after the bytes it sent already.
///
/// Resets the addresses the kernel fills. The entry's pointers stay valid while the op stays
/// boxed and untouched and the `Side` lives.
pub(super) fn prepare(p: &mut Pending) -> (squeue::Entry, Side) {
    let (sent, flags) = (p.sent, if p.plan.whole { SEND_FLAGS | WHOLE } else { SEND_FLAGS });
    match p.op.describe() {
        Desc::Nop => (opcode::Nop::new().build(), Side::None),
        Desc::Timeout { .. } => {
            debug_assert!(false, "timeouts stay in the driver's heap");
            (opcode::Nop::new().build(), Side::None)
        }
        Desc::Accept { fd, addr } => {
            addr.reset();
            let flags = libc::SOCK_CLOEXEC | libc::SOCK_NONBLOCK;
            let entry = opcode::Accept::new(Fd(fd), addr.as_mut_ptr(), &mut addr.len).flags(flags).build();
            (entry, Side::None)
        }
        Desc::Connect { fd, addr } => (opcode::Connect::new(Fd(fd), addr.as_ptr(), addr.len).build(), Side::None),
        Desc::Recv { fd, buf } => {
            let (ptr, room) = spare(buf);
            if room == 0 {
                // A readiness probe: wait for data (or the end of the stream), consume nothing.
                let entry = opcode::PollAdd::new(Fd(fd), libc::POLLIN as u16 as u32).build();
                return (entry, Side::None);
            }
            (opcode::Recv::new(Fd(fd), ptr, len32(room)).build(), Side::None)
        }
        Desc::Send { fd, buf } => {
            let (ptr, len) = rest(buf, sent);
            (opcode::Send::new(Fd(fd), ptr, len32(len)).flags(flags).build(), Side::None)
        }
        Desc::SendVectored { fd, bufs } => {
            // A whole write offers at most IOV_MAX buffers per entry (the kernel refuses more
            // with EMSGSIZE) and goes again for the rest; a datagram offers them all.
            let most = if p.plan.whole { IOV_MAX } else { usize::MAX };
            let mut skip = sent;
            let mut iov = Vec::with_capacity(bufs.count().min(most));
            for b in (0..bufs.count()).map(|i| bufs.buf(i)) {
                let (ptr, len) = rest(b, skip);
                skip = skip.saturating_sub(b.buf_len());
                if len > 0 {
                    if iov.len() == most {
                        break;
                    }
                    iov.push(iovec(ptr, len));
                }
            }
            send_msg(fd, Msg::boxed(iov, std::ptr::null_mut(), 0, false), flags)
        }
        Desc::RecvFrom { fd, buf, addr } => {
            addr.reset();
            let (ptr, room) = spare(buf);
            let mut msg = Msg::boxed(vec![iovec(ptr, room)], addr.as_mut_ptr(), addr.len, true);
            let entry = opcode::RecvMsg::new(Fd(fd), &mut msg.hdr).build();
            (entry, Side::Msg(msg))
        }
        Desc::SendTo { fd, buf, addr } => {
            let iov = vec![iovec(buf.buf_ptr(), buf.buf_len())];
            send_msg(fd, Msg::boxed(iov, addr.as_ptr().cast_mut(), addr.len, false), SEND_FLAGS)
        }
        Desc::Read { fd, buf, offset } => {
            let (ptr, room) = spare(buf);
            // -1: at (and advancing) the file position, like read(2).
            let entry = opcode::Read::new(Fd(fd), ptr, len32(room)).offset(offset.unwrap_or(u64::MAX)).build();
            (entry, Side::None)
        }
        Desc::Write { fd, buf, offset } => {
            let (ptr, len) = rest(buf, sent);
            // -1: at (and advancing) the file position, like write(2).
            let at = offset.map_or(u64::MAX, |off| off.saturating_add(sent as u64));
            (opcode::Write::new(Fd(fd), ptr, len32(len)).offset(at).build(), Side::None)
        }
        Desc::PollReady { fd, interest } => {
            let events = ops::poll_events(interest) as u16 as u32;
            (opcode::PollAdd::new(Fd(fd), events).build(), Side::None)
        }
    }
}

fn send_msg(fd: libc::c_int, msg: Box<Msg>, flags: libc::c_int) -> (squeue::Entry, Side) {
    let entry = opcode::SendMsg::new(Fd(fd), &msg.hdr).flags(flags as u32).build();
    (entry, Side::Msg(msg))
}

/// The outcome of `p`, whose completion entry carried `res` (bytes, or `-errno`): fills in
/// what the kernel wrote (buffer length, peer address, accepted socket) through
/// [`ops::complete`].
pub(super) fn outcome(p: &mut Pending, side: &Side, res: i32) -> io::Result<usize> {
    let mut desc = p.op.describe();
    let probe = matches!(&desc, Desc::Recv { buf, .. } if buf.buf_capacity() == buf.buf_len());
    if probe && res >= 0 {
        // The poll said "readable": look the way the emulation does (a one-byte peek), so that
        // a reset or an error shows up as that error on every backend.
        return match ops::attempt(p).res {
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(0), // another reader took it
            other => other,
        };
    }
    let raw = if res >= 0 { Ok(res as usize) } else { Err(io::Error::from_raw_os_error(-res)) };
    if let (Side::Msg(msg), Desc::RecvFrom { addr, .. }) = (side, &mut desc) {
        if msg.recv {
            copy_namelen(addr, msg);
        }
    }
    let (res, out) = ops::finish(desc, raw);
    if let Some(out) = out {
        p.op.set_output(out);
    }
    res
}

/// The sender's address length the kernel wrote into the header, into the op's address (which
/// `finish` reads).
fn copy_namelen(addr: &mut SockAddrBuf, msg: &Msg) {
    addr.len = msg.hdr.msg_namelen.min(std::mem::size_of::<libc::sockaddr_storage>() as libc::socklen_t);
}
