//! Socket helpers for both Windows backends: Winsock errors, socket type, base handles, the
//! extension functions, and the per-socket settings the drivers make.
#![allow(unsafe_code)]

use std::io;
use std::mem;
use std::ptr;
use std::sync::OnceLock;

use windows_sys::core::GUID;
use windows_sys::Win32::Foundation::HANDLE;
use windows_sys::Win32::Networking::WinSock::{
    getpeername, getsockname, getsockopt, ioctlsocket, setsockopt, WSAGetLastError, WSAIoctl, FIONBIO, INVALID_SOCKET,
    LPFN_CONNECTEX, SIO_BASE_HANDLE, SIO_BSP_HANDLE, SIO_BSP_HANDLE_POLL, SIO_BSP_HANDLE_SELECT,
    SIO_GET_EXTENSION_FUNCTION_POINTER, SIO_UDP_CONNRESET, SOCKADDR_STORAGE, SOCKET, SOCKET_ERROR, SOL_SOCKET,
    SO_ACCEPTCONN, SO_PROTOCOL_INFOW, SO_TYPE, WSAEINVAL, WSAID_CONNECTEX, WSAPROTOCOL_INFOW, XP1_IFS_HANDLES,
};

use crate::contract::addr::SockAddrBuf;
use crate::contract::source::RawSource;

/// The calling thread's last Winsock error.
pub(super) fn last_error() -> io::Error {
    // SAFETY: reads a thread-local error code.
    io::Error::from_raw_os_error(unsafe { WSAGetLastError() })
}

/// Turns Winsock's `SOCKET_ERROR` into the thread's last error.
pub(super) fn cvt(ret: i32) -> io::Result<i32> {
    if ret == SOCKET_ERROR {
        Err(last_error())
    } else {
        Ok(ret)
    }
}

/// `getsockopt` for an option whose value is a plain `T`.
fn get_opt<T: Copy + Default>(s: RawSource, level: i32, name: i32) -> io::Result<T> {
    let mut val = T::default();
    let mut len = mem::size_of::<T>() as i32;
    // SAFETY: `val` is writable for `len` bytes; Winsock fails cleanly (WSAENOTSOCK) for a value
    // that is not a socket.
    cvt(unsafe { getsockopt(s as SOCKET, level, name, (&mut val as *mut T).cast(), &mut len) })?;
    Ok(val)
}

/// `SO_TYPE` (`SOCK_STREAM`, `SOCK_DGRAM`, …); fails for what is not an open socket.
pub(super) fn socket_type(s: RawSource) -> io::Result<i32> {
    get_opt::<i32>(s, SOL_SOCKET, SO_TYPE)
}

/// Whether the socket's provider hands out real kernel handles (no layered service provider in
/// the way): only then is `FILE_SKIP_COMPLETION_PORT_ON_SUCCESS` safe.
pub(super) fn is_ifs(s: RawSource) -> bool {
    let mut info: WSAPROTOCOL_INFOW = WSAPROTOCOL_INFOW::default();
    let mut len = mem::size_of::<WSAPROTOCOL_INFOW>() as i32;
    // SAFETY: `info` is writable for `len` bytes.
    let r = unsafe {
        getsockopt(s as SOCKET, SOL_SOCKET, SO_PROTOCOL_INFOW, (&mut info as *mut WSAPROTOCOL_INFOW).cast(), &mut len)
    };
    r == 0 && info.dwServiceFlags1 & XP1_IFS_HANDLES != 0
}

/// Puts the socket in non-blocking mode (for readiness users; overlapped calls ignore it).
pub(super) fn set_nonblocking(s: RawSource) -> io::Result<()> {
    let mut on: u32 = 1;
    // SAFETY: FIONBIO reads one u32.
    cvt(unsafe { ioctlsocket(s as SOCKET, FIONBIO, &mut on) }).map(drop)
}

/// Stops a UDP socket from failing its next receive with `WSAECONNRESET` after an ICMP port
/// unreachable (`SIO_UDP_CONNRESET` off): a datagram socket has no connection to reset.
pub(super) fn udp_connreset_off(s: RawSource) -> io::Result<()> {
    let off: u32 = 0;
    let mut out = 0u32;
    // SAFETY: the control reads one BOOL-sized value and writes nothing.
    cvt(unsafe {
        WSAIoctl(
            s as SOCKET,
            SIO_UDP_CONNRESET,
            (&off as *const u32).cast(),
            4,
            ptr::null_mut(),
            0,
            &mut out,
            ptr::null_mut(),
            None,
        )
    })
    .map(drop)
}

/// The base provider's socket under any layered providers, which AFD needs: `SIO_BASE_HANDLE`,
/// else (a provider that intercepts it) the `SIO_BSP_HANDLE*` controls.
pub(super) fn base_handle(s: RawSource) -> io::Result<HANDLE> {
    let mut first_err = None;
    for ctl in [SIO_BASE_HANDLE, SIO_BSP_HANDLE_POLL, SIO_BSP_HANDLE_SELECT, SIO_BSP_HANDLE] {
        let mut base: SOCKET = INVALID_SOCKET;
        let mut out = 0u32;
        // SAFETY: the control writes one SOCKET into `base`.
        let r = unsafe {
            WSAIoctl(
                s as SOCKET,
                ctl,
                ptr::null(),
                0,
                (&mut base as *mut SOCKET).cast(),
                mem::size_of::<SOCKET>() as u32,
                &mut out,
                ptr::null_mut(),
                None,
            )
        };
        if r == 0 && base != INVALID_SOCKET {
            return Ok(base as HANDLE);
        }
        first_err.get_or_insert_with(last_error);
    }
    Err(first_err.unwrap_or_else(|| io::ErrorKind::Unsupported.into()))
}

/// The socket's local address, if it is bound to an IP address.
pub(super) fn local_addr(s: RawSource) -> Option<std::net::SocketAddr> {
    let mut a = SockAddrBuf::empty();
    // SAFETY: the buffer is writable for `a.len` bytes.
    cvt(unsafe { getsockname(s as SOCKET, a.as_mut_ptr(), &mut a.len) }).ok()?;
    a.to_socket_addr()
}

/// The connected peer's address, if any.
pub(super) fn peer_addr(s: RawSource) -> Option<std::net::SocketAddr> {
    let mut a = SockAddrBuf::empty();
    // SAFETY: as above.
    cvt(unsafe { getpeername(s as SOCKET, a.as_mut_ptr(), &mut a.len) }).ok()?;
    a.to_socket_addr()
}

/// Whether the socket is listening (`SO_ACCEPTCONN`): `AcceptEx` needs a listener.
pub(super) fn is_listening(s: RawSource) -> io::Result<bool> {
    get_opt::<i32>(s, SOL_SOCKET, SO_ACCEPTCONN).map(|v| v != 0)
}

/// The socket's local address family, or `None` if it is not bound yet.
pub(super) fn bound_family(s: RawSource) -> io::Result<Option<u16>> {
    let mut st = SOCKADDR_STORAGE::default();
    let mut len = mem::size_of::<SOCKADDR_STORAGE>() as i32;
    // SAFETY: `st` is writable for `len` bytes.
    match cvt(unsafe { getsockname(s as SOCKET, (&mut st as *mut SOCKADDR_STORAGE).cast(), &mut len) }) {
        Ok(_) => Ok(Some(st.ss_family)),
        Err(e) if e.raw_os_error() == Some(WSAEINVAL) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Sets a socket option from raw bytes.
///
/// # Safety
///
/// `val` must be readable for `len` bytes (or null with `len` 0).
pub(super) unsafe fn set_opt(s: RawSource, level: i32, name: i32, val: *const u8, len: i32) -> io::Result<()> {
    // SAFETY: the caller vouches for `val`.
    cvt(unsafe { setsockopt(s as SOCKET, level, name, val, len) }).map(drop)
}

/// `ConnectEx`, looked up once (every base TCP provider of a process gives the same one).
pub(super) fn connect_ex(s: RawSource) -> io::Result<LPFN_CONNECTEX> {
    static FN: OnceLock<LPFN_CONNECTEX> = OnceLock::new();
    if let Some(&f) = FN.get() {
        return Ok(f);
    }
    let f: LPFN_CONNECTEX = extension(s, WSAID_CONNECTEX)?;
    if f.is_none() {
        return Err(io::Error::new(io::ErrorKind::Unsupported, "the socket's provider has no ConnectEx"));
    }
    Ok(*FN.get_or_init(|| f))
}

/// Looks up a Winsock extension function of the socket's provider (`F` is an `Option<fn>`).
fn extension<F: Copy + Default>(s: RawSource, id: GUID) -> io::Result<F> {
    let mut f = F::default();
    let mut out = 0u32;
    // SAFETY: the control reads one GUID and writes one function pointer into `f`, an
    // `Option<fn>`, whose layout is a nullable pointer.
    cvt(unsafe {
        WSAIoctl(
            s as SOCKET,
            SIO_GET_EXTENSION_FUNCTION_POINTER,
            (&id as *const GUID).cast(),
            mem::size_of::<GUID>() as u32,
            (&mut f as *mut F).cast(),
            mem::size_of::<F>() as u32,
            &mut out,
            ptr::null_mut(),
            None,
        )
    })?;
    Ok(f)
}
