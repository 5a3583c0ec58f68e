//! One op in flight on the IOCP driver: an owned, heap-pinned [`OpBox`] holding the
//! `OVERLAPPED` the kernel completes, the op (with its buffer), and what the call needs kept
//! alive (the accepted socket and its address area, the receive flags, an AFD poll request).
//! [`issue`] starts the call; [`finish`] turns the kernel's answer into the op's outcome.
#![allow(unsafe_code)]

use std::io;
use std::mem;
use std::os::windows::io::{AsRawSocket, FromRawSocket};
use std::ptr;

use overlap_buf::{IoBuf, IoBufMut};
use windows_sys::Win32::Foundation::{
    GetLastError, ERROR_BROKEN_PIPE, ERROR_HANDLE_EOF, ERROR_IO_PENDING, ERROR_MORE_DATA, ERROR_OPERATION_ABORTED,
    HANDLE, STATUS_BUFFER_OVERFLOW,
};
use windows_sys::Win32::Networking::WinSock::{
    bind, AcceptEx, GetAcceptExSockaddrs, WSAGetLastError, WSAGetOverlappedResult, WSARecv, WSARecvFrom, WSASend,
    WSASendTo, WSASocketW, AF_INET, INVALID_SOCKET, IPPROTO_TCP, MSG_PEEK, SOCKADDR, SOCKADDR_STORAGE, SOCKET,
    SOCK_STREAM, SOL_SOCKET, SO_UPDATE_ACCEPT_CONTEXT, SO_UPDATE_CONNECT_CONTEXT, WSABUF, WSAEINVAL, WSAEMSGSIZE,
    WSAENOTSOCK, WSA_FLAG_NO_HANDLE_INHERIT, WSA_FLAG_OVERLAPPED, WSA_IO_PENDING,
};
use windows_sys::Win32::Storage::FileSystem::{ReadFile, WriteFile};
use windows_sys::Win32::System::IO::OVERLAPPED;

use super::device::{self, Afd, PollInfo};
use super::net;
use crate::contract::addr::SockAddrBuf;
use crate::contract::completion::Pending;
use crate::contract::desc::{Desc, Output};
use crate::contract::source::{OwnedSocket, RawSource};
use crate::error;

/// The most buffers one `WSASend` of a whole write offers (Linux's `IOV_MAX`, under which
/// Wine runs it).
const MAX_WSABUFS: usize = 1024;

/// Room `AcceptEx` wants per address: the largest address plus 16 bytes.
const ACCEPT_ADDR: u32 = (mem::size_of::<SOCKADDR_STORAGE>() + 16) as u32;

/// One op in flight. `overlapped` comes first: a packet's `OVERLAPPED` pointer is the box's.
#[repr(C)]
pub(super) struct OpBox {
    overlapped: OVERLAPPED,
    pub(super) pending: Pending,
    /// `cancel` asked for it (read and written under the driver's lock).
    pub(super) cancelled: bool,
    /// The handle the I/O runs on (the AFD handle for a poll), for `CancelIoEx`.
    pub(super) on: HANDLE,
    /// A socket op: errors are read with `WSAGetOverlappedResult`.
    socket_op: bool,
    /// A datagram socket: a readiness probe peeks instead of taking (and losing) a datagram.
    datagram: bool,
    /// A file op without an offset runs at this position (the driver keeps one per disk file:
    /// an overlapped handle has none) and advances it by what it moved.
    pub(super) cursor: Option<u64>,
    flags: u32,
    /// The socket an accept takes the connection into (set when it is issued).
    pub(super) accepted: Option<OwnedSocket>,
    accept_addrs: [u8; 2 * ACCEPT_ADDR as usize],
    poll: Option<PollInfo>,
}

// SAFETY: the raw handle and OVERLAPPED fields are plain values; the box moves between threads
// only as a whole, and only one thread touches it at a time (the submitter before the call,
// the thread that dequeued its packet after).
unsafe impl Send for OpBox {}

/// How a call went.
pub(super) enum Issued {
    /// In the kernel: a packet will come.
    Pending,
    /// Finished at once with this many bytes; a packet comes only if the handle does not skip
    /// the port on success.
    Now(usize),
    /// Failed at once: no packet will come.
    Failed(io::Error),
}

impl OpBox {
    /// Boxes `pending` for the call; `on` is the handle its I/O runs on, `datagram` says it is
    /// a datagram socket, `cursor` is the position for a file op without an offset.
    pub(super) fn new(pending: Pending, on: HANDLE, datagram: bool, cursor: Option<u64>) -> Box<OpBox> {
        Box::new(OpBox {
            overlapped: OVERLAPPED::default(),
            pending,
            cancelled: false,
            on,
            socket_op: false,
            datagram,
            cursor,
            flags: 0,
            accepted: None,
            accept_addrs: [0; 2 * ACCEPT_ADDR as usize],
            poll: None,
        })
    }
}

/// The spare capacity of `buf` as a Winsock buffer (at most 4 GiB - 1 per call).
fn spare(buf: &mut dyn IoBufMut) -> WSABUF {
    let len = buf.buf_len();
    let room = (buf.buf_capacity() - len).min(u32::MAX as usize) as u32;
    // SAFETY: `len <= capacity`, so the pointer stays inside (or one past) the allocation.
    WSABUF { len: room, buf: unsafe { buf.buf_mut_ptr().add(len) } }
}

/// The initialised bytes of `buf` as a Winsock buffer.
fn bytes(buf: &dyn IoBuf) -> WSABUF {
    bytes_after(buf, 0)
}

/// The initialised bytes of `buf` after the first `sent` as a Winsock buffer (the rest of a
/// whole write).
fn bytes_after(buf: &dyn IoBuf, sent: usize) -> WSABUF {
    let len = buf.buf_len().saturating_sub(sent);
    let start = buf.buf_ptr().wrapping_add(buf.buf_len() - len); // inside, or one past, the buffer
    WSABUF { len: len.min(u32::MAX as usize) as u32, buf: start.cast_mut() }
}

/// A Winsock call's return: 0 is done now, `SOCKET_ERROR` with `WSA_IO_PENDING` is pending.
fn wsa(ret: i32, n: u32) -> Issued {
    if ret == 0 {
        return Issued::Now(n as usize);
    }
    // SAFETY: reads the thread's last Winsock error.
    match unsafe { WSAGetLastError() } {
        // A datagram larger than the buffer is a *warning* (STATUS_BUFFER_OVERFLOW): the call
        // fails, yet the kernel completes the request and queues a packet (these sockets never
        // skip the port), which `packet_result` reads as the truncated length.
        WSA_IO_PENDING | WSAEMSGSIZE => Issued::Pending,
        code => Issued::Failed(io::Error::from_raw_os_error(code)),
    }
}

/// A `BOOL` call's return (`AcceptEx`, `ConnectEx`, `ReadFile`, `WriteFile`).
fn win(ok: i32, n: u32) -> Issued {
    if ok != 0 {
        return Issued::Now(n as usize);
    }
    // SAFETY: reads the thread's last error.
    match unsafe { GetLastError() } {
        // A message-mode pipe's message larger than the buffer: a warning, a packet follows
        // (pipes never skip the port).
        ERROR_IO_PENDING | ERROR_MORE_DATA => Issued::Pending,
        code => Issued::Failed(io::Error::from_raw_os_error(code as i32)),
    }
}

/// Starts the op's call.
///
/// Takes a raw pointer, not a reference: once the call is in the kernel, the thread that
/// dequeues its packet may free the box before this returns, so nothing here may be borrowed
/// for the whole function (the field borrows below end with the call and are not used after).
///
/// # Safety
///
/// `b` must point to a live box that nothing else touches until the call is made, and that
/// stays allocated until its packet is dequeued (when this returns `Pending`, or `Now` on a
/// handle that does not skip the port on success). `afd` must be open and associated with the
/// port for a `PollReady`.
pub(super) unsafe fn issue(b: *mut OpBox, afd: Option<&Afd>) -> Issued {
    let ctx = b;
    // SAFETY: the caller gives us the box until the call is made.
    let OpBox { overlapped, pending, socket_op, datagram, cursor, flags, accepted, accept_addrs, poll, .. } =
        unsafe { &mut *b };
    let ov: *mut OVERLAPPED = overlapped;
    let mut n = 0u32;
    let sent = pending.sent; // the part of a whole write already sent
    let whole = pending.plan.whole;
    match pending.op.describe() {
        Desc::Nop | Desc::Timeout { .. } => Issued::Now(0),
        Desc::Accept { fd, .. } => {
            *socket_op = true;
            // AcceptEx on a socket that is not listening fails on Windows (WSAEINVAL) but was
            // seen to wait for ever under Wine: refuse it here, the same everywhere.
            match net::is_listening(fd) {
                Ok(true) => {}
                Ok(false) => return Issued::Failed(io::Error::from_raw_os_error(WSAEINVAL)),
                Err(e) => return Issued::Failed(e),
            }
            let family = match net::bound_family(fd) {
                Ok(f) => f.unwrap_or(AF_INET),
                Err(e) => return Issued::Failed(e),
            };
            // SAFETY: creates a socket; no pointers.
            let s = unsafe {
                WSASocketW(
                    family as i32,
                    SOCK_STREAM,
                    IPPROTO_TCP,
                    ptr::null(),
                    0,
                    WSA_FLAG_OVERLAPPED | WSA_FLAG_NO_HANDLE_INHERIT,
                )
            };
            if s == INVALID_SOCKET {
                return Issued::Failed(net::last_error());
            }
            // SAFETY: a new socket that nothing else owns.
            let sock = accepted.insert(unsafe { OwnedSocket::from_raw_socket(s as _) });
            // SAFETY: the address area and OVERLAPPED live in the box until the packet.
            let ok = unsafe {
                AcceptEx(
                    fd as SOCKET,
                    sock.as_raw_socket() as SOCKET,
                    accept_addrs.as_mut_ptr().cast(),
                    0, // accept without waiting for data
                    ACCEPT_ADDR,
                    ACCEPT_ADDR,
                    &mut n,
                    ov,
                )
            };
            win(ok, n)
        }
        Desc::Connect { fd, addr } => {
            *socket_op = true;
            // ConnectEx wants a bound socket: bind to any address of the family, as connect does.
            match net::bound_family(fd) {
                Ok(Some(_)) => {}
                Ok(None) => {
                    let any = match addr.to_socket_addr() {
                        Some(std::net::SocketAddr::V6(_)) => "[::]:0".parse().unwrap(),
                        _ => "0.0.0.0:0".parse().unwrap(),
                    };
                    let any = SockAddrBuf::from_socket_addr(any);
                    // SAFETY: reads `any.len` bytes of a live address.
                    if unsafe { bind(fd as SOCKET, any.as_ptr(), any.len) } != 0 {
                        return Issued::Failed(net::last_error());
                    }
                }
                Err(e) => return Issued::Failed(e),
            }
            let connect_ex = match net::connect_ex(fd) {
                Ok(Some(f)) => f,
                Ok(None) => return Issued::Failed(io::ErrorKind::Unsupported.into()),
                Err(e) => return Issued::Failed(e),
            };
            // SAFETY: the address lives in the op, the OVERLAPPED in the box, until the packet.
            let ok = unsafe { connect_ex(fd as SOCKET, addr.as_ptr(), addr.len, ptr::null(), 0, &mut n, ov) };
            win(ok, n)
        }
        Desc::Recv { fd, buf } => {
            *socket_op = true;
            let wb = spare(buf);
            // A zero-byte receive on a datagram socket would take the datagram (and drop it as
            // too long): a probe peeks there.
            *flags = if wb.len == 0 && *datagram { MSG_PEEK as u32 } else { 0 };
            // SAFETY: the buffer lives in the op and the flags and OVERLAPPED in the box until
            // the packet; the WSABUF array itself is captured by the call. A zero-length buffer
            // is the readiness probe: it completes when data is there, consuming none.
            wsa(unsafe { WSARecv(fd as SOCKET, &wb, 1, &mut n, flags, ov, None) }, n)
        }
        Desc::Send { fd, buf } => {
            *socket_op = true;
            let wb = bytes_after(buf, sent);
            // SAFETY: as for Recv.
            wsa(unsafe { WSASend(fd as SOCKET, &wb, 1, &mut n, 0, ov, None) }, n)
        }
        Desc::SendVectored { fd, bufs } => {
            *socket_op = true;
            // A whole write (a stream's) offers at most MAX_WSABUFS buffers per call (Wine never
            // completes a WSASend of more) and goes on for the rest; a datagram offers them all.
            let most = if whole { MAX_WSABUFS } else { usize::MAX };
            let mut skip = sent;
            let mut wbs: Vec<WSABUF> = Vec::with_capacity(bufs.count().min(most));
            for b in (0..bufs.count()).map(|i| bufs.buf(i)) {
                let wb = bytes_after(b, skip);
                skip = skip.saturating_sub(b.buf_len());
                if wb.len > 0 || !whole {
                    if wbs.len() == most {
                        break;
                    }
                    wbs.push(wb); // (empty ones too for a datagram: its shape stays)
                }
            }
            // SAFETY: as for Recv; the array is captured by the call.
            wsa(unsafe { WSASend(fd as SOCKET, wbs.as_ptr(), wbs.len() as u32, &mut n, 0, ov, None) }, n)
        }
        Desc::RecvFrom { fd, buf, addr } => {
            *socket_op = true;
            let wb = spare(buf);
            addr.reset();
            *flags = 0;
            // SAFETY: the buffer and the address (and its length) live in the op, the flags and
            // OVERLAPPED in the box, until the packet.
            wsa(
                unsafe { WSARecvFrom(fd as SOCKET, &wb, 1, &mut n, flags, addr.as_mut_ptr(), &mut addr.len, ov, None) },
                n,
            )
        }
        Desc::SendTo { fd, buf, addr } => {
            *socket_op = true;
            let wb = bytes(buf);
            // SAFETY: as for Recv; the address lives in the op.
            wsa(unsafe { WSASendTo(fd as SOCKET, &wb, 1, &mut n, 0, addr.as_ptr(), addr.len, ov, None) }, n)
        }
        Desc::Read { fd, buf, offset } => {
            set_offset(overlapped, offset.or(*cursor));
            let wb = spare(buf);
            // SAFETY: the buffer lives in the op, the OVERLAPPED in the box, until the packet.
            win(unsafe { ReadFile(fd as HANDLE, wb.buf, wb.len, &mut n, ov) }, n)
        }
        Desc::Write { fd, buf, offset } => {
            set_offset(overlapped, offset.or(*cursor).map(|at| at + sent as u64));
            let wb = bytes_after(buf, sent);
            // SAFETY: as for Read.
            win(unsafe { WriteFile(fd as HANDLE, wb.buf, wb.len, &mut n, ov) }, n)
        }
        Desc::PollReady { fd, interest } => {
            let Some(afd) = afd else { return Issued::Failed(io::ErrorKind::Unsupported.into()) };
            let base = match net::base_handle(fd) {
                Ok(b) => b,
                Err(e) => return Issued::Failed(e),
            };
            let info = poll.insert(PollInfo::new(base, device::events_for(interest)));
            // SAFETY: the poll info and the OVERLAPPED (whose first two words are the status
            // block) live in the box until the packet, whose context is the box.
            match unsafe { afd.poll(info, ov.cast(), ctx.cast()) } {
                Ok(()) => Issued::Pending,
                Err(e) => Issued::Failed(e),
            }
        }
    }
}

fn set_offset(ov: &mut OVERLAPPED, offset: Option<u64>) {
    let off = offset.unwrap_or(0);
    ov.Anonymous.Anonymous.Offset = off as u32;
    ov.Anonymous.Anonymous.OffsetHigh = (off >> 32) as u32;
}

/// The outcome the kernel wrote into a dequeued packet's `OVERLAPPED`: the byte count, or the
/// error as Winsock (sockets) or Win32 (files, polls) names it.
pub(super) fn packet_result(b: &mut OpBox, bytes: u32) -> io::Result<usize> {
    let status = b.overlapped.Internal as i32;
    // STATUS_BUFFER_OVERFLOW, a warning: the datagram (or pipe message) was longer than the
    // buffer, which holds its first `bytes`: what recv(2) gives on Linux without MSG_TRUNC.
    if status >= 0 || status == STATUS_BUFFER_OVERFLOW {
        return Ok(bytes as usize);
    }
    if b.socket_op {
        let (mut n, mut flags) = (0u32, 0u32);
        let s = b.pending.op.describe().fd().unwrap_or(0);
        // SAFETY: the packet is dequeued, so the OVERLAPPED is final; the call only reads it.
        if unsafe { WSAGetOverlappedResult(s as SOCKET, &b.overlapped, &mut n, 0, &mut flags) } == 0 {
            let e = net::last_error();
            // A socket closed under the op cannot be asked: say what the kernel said instead
            // (ERROR_NETNAME_DELETED, ERROR_OPERATION_ABORTED, …).
            if e.raw_os_error() != Some(WSAENOTSOCK) {
                return Err(e);
            }
        }
    }
    Err(device::status_error(status))
}

/// Turns the call's result into the op's outcome: extends the buffer by what the kernel wrote,
/// hands over an accepted socket, reads the peer's address; a cancelled op's abort becomes the
/// cancelled error, and the end of a file or pipe reads as 0 bytes.
pub(super) fn finish(b: &mut OpBox, raw: io::Result<usize>) -> io::Result<usize> {
    let n = match raw {
        Ok(n) => n,
        Err(e) if b.cancelled && e.raw_os_error() == Some(ERROR_OPERATION_ABORTED as i32) => {
            return Err(error::cancelled())
        }
        // A readiness probe that met a datagram (Windows says it is too long for 0 bytes).
        Err(e) if e.raw_os_error() == Some(WSAEMSGSIZE) && is_probe(&mut b.pending) => 0,
        Err(e) => {
            let eof = [ERROR_HANDLE_EOF, ERROR_BROKEN_PIPE].map(|c| Some(c as i32));
            if matches!(b.pending.op.describe(), Desc::Read { .. }) && eof.contains(&e.raw_os_error()) {
                0
            } else {
                return Err(e);
            }
        }
    };
    let OpBox { pending, accepted, accept_addrs, poll, .. } = b;
    let (out, result) = match pending.op.describe() {
        Desc::Recv { buf, .. } if buf.buf_capacity() == buf.buf_len() => (None, 0), // a probe
        Desc::Recv { buf, .. } | Desc::Read { buf, .. } => {
            extend(buf, n);
            (None, n)
        }
        Desc::RecvFrom { buf, addr, .. } => {
            extend(buf, n);
            (Some(Output::Peer(addr.to_socket_addr())), n)
        }
        Desc::Accept { fd, addr } => {
            let Some(sock) = accepted.take() else { return Err(io::ErrorKind::InvalidData.into()) };
            let listener = fd as SOCKET;
            let s = sock.as_raw_socket() as RawSource;
            // SAFETY: the option reads one SOCKET, a live local.
            unsafe {
                let len = mem::size_of::<SOCKET>() as i32;
                net::set_opt(s, SOL_SOCKET, SO_UPDATE_ACCEPT_CONTEXT, (&listener as *const SOCKET).cast(), len)?
            };
            let (mut local, mut remote): (*mut SOCKADDR, *mut SOCKADDR) = (ptr::null_mut(), ptr::null_mut());
            let (mut llen, mut rlen) = (0i32, 0i32);
            // SAFETY: the area is the one AcceptEx filled; the call returns pointers into it.
            unsafe {
                GetAcceptExSockaddrs(
                    accept_addrs.as_ptr().cast(),
                    0,
                    ACCEPT_ADDR,
                    ACCEPT_ADDR,
                    &mut local,
                    &mut llen,
                    &mut remote,
                    &mut rlen,
                )
            };
            if !remote.is_null() {
                // SAFETY: `remote` points at `rlen` bytes inside `accept_addrs`.
                unsafe { addr.copy_from(remote, rlen) };
            }
            net::set_nonblocking(s)?;
            (Some(Output::Accepted(sock, addr.to_socket_addr())), 0)
        }
        Desc::Connect { fd, .. } => {
            // SAFETY: the option takes no value.
            unsafe { net::set_opt(fd, SOL_SOCKET, SO_UPDATE_CONNECT_CONTEXT, ptr::null(), 0)? };
            (None, 0)
        }
        Desc::PollReady { interest, .. } => {
            let ev = poll.as_ref().map_or(0, |p| p.reported());
            (Some(Output::Ready(device::event_flags(ev, interest))), 0)
        }
        _ => (None, n),
    };
    if let Some(out) = out {
        pending.op.set_output(out);
    }
    Ok(result)
}

/// Whether the op is a zero-length receive (a readiness probe).
fn is_probe(p: &mut Pending) -> bool {
    matches!(p.op.describe(), Desc::Recv { buf, .. } if buf.buf_capacity() == buf.buf_len())
}

/// Marks `n` more bytes of `buf` initialised (the kernel wrote them after the old length).
fn extend(buf: &mut dyn IoBufMut, n: usize) {
    let len = buf.buf_len() + n;
    assert!(len <= buf.buf_capacity(), "the kernel reported more bytes than the buffer had room for");
    // SAFETY: the kernel wrote `n` bytes into the spare capacity starting at the old length, and
    // `len` stays within the capacity (checked above).
    unsafe { buf.set_buf_len(len) };
}
