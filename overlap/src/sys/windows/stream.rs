//! One non-blocking receive into an owned buffer's spare room, and one gathered send, for
//! callers above the drivers that read and write themselves on readiness (the event layer's
//! buffered events over AFD).
#![allow(unsafe_code)]

use std::io::{self, IoSlice};
use std::os::windows::io::{AsRawSocket, AsSocket};

use overlap_buf::IoBufMut;
use windows_sys::Win32::Networking::WinSock::{recv, WSASend, SOCKET, SOCKET_ERROR, WSABUF};

/// Receives at most `max` bytes into the spare capacity of `buf` (after its length) and
/// extends it by what came.
pub(crate) fn recv_into<S: AsSocket + ?Sized, B: IoBufMut + ?Sized>(
    sock: &S,
    buf: &mut B,
    max: usize,
) -> io::Result<usize> {
    let (len, cap) = (buf.buf_len(), buf.buf_capacity());
    let room = (cap - len).min(max).min(i32::MAX as usize);
    // SAFETY: `len <= cap` (the IoBufMut contract), so the pointer stays inside (or one past)
    // the allocation, which is writable for `room` bytes after it; the socket is borrowed.
    let ret = unsafe { recv(sock.as_socket().as_raw_socket() as SOCKET, buf.buf_mut_ptr().add(len), room as i32, 0) };
    if ret == SOCKET_ERROR {
        return Err(super::net::last_error());
    }
    let n = (ret.max(0) as usize).min(room);
    // SAFETY: Winsock wrote `n <= room` bytes right after the old length.
    unsafe { buf.set_buf_len(len + n) };
    Ok(n)
}

/// Sends the bytes of `bufs` in order, as far as the socket takes them.
pub(crate) fn send_vectored<S: AsSocket + ?Sized>(sock: &S, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
    let mut wsa = [WSABUF { len: 0, buf: std::ptr::null_mut() }; 64];
    let count = bufs.len().min(wsa.len());
    for (w, b) in wsa.iter_mut().zip(bufs) {
        *w = WSABUF { len: b.len().min(u32::MAX as usize) as u32, buf: b.as_ptr().cast_mut() };
    }
    let mut sent = 0u32;
    // SAFETY: the first `count` WSABUFs name memory borrowed from `bufs` for the call, which Winsock only
    // reads; no OVERLAPPED, so the call completes (or fails) before it returns.
    let ret = unsafe {
        WSASend(
            sock.as_socket().as_raw_socket() as SOCKET,
            wsa.as_ptr(),
            count as u32,
            &mut sent,
            0,
            std::ptr::null_mut(),
            None,
        )
    };
    if ret == SOCKET_ERROR {
        Err(super::net::last_error())
    } else {
        Ok(sent as usize)
    }
}

/// A new socket handle for the socket `s` refers to (`WSADuplicateSocketW`, as std's
/// `try_clone` does); an error if `s` is not an open socket.
pub(crate) fn dup_raw(s: std::os::windows::io::RawSocket) -> io::Result<std::os::windows::io::OwnedSocket> {
    use windows_sys::Win32::Networking::WinSock::INVALID_SOCKET;
    if s as SOCKET == INVALID_SOCKET {
        return Err(io::Error::from_raw_os_error(windows_sys::Win32::Networking::WinSock::WSAENOTSOCK));
    }
    // SAFETY: the borrow lasts for this call only; duplicating a handle value that is not an
    // open socket fails cleanly (WSAENOTSOCK) instead of touching memory.
    let borrowed = unsafe { std::os::windows::io::BorrowedSocket::borrow_raw(s) };
    borrowed.try_clone_to_owned()
}
