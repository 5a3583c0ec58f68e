//! [`SockAddrBuf`]: room for any socket address and its length, as the kernel reads and writes
//! it (`connect`, `accept`, `recvfrom`; `ConnectEx`, `AcceptEx`, `WSARecvFrom`).
//!
//! Only the storage is declared here, so that op descriptions can carry it; its conversions
//! from and to [`SocketAddr`](std::net::SocketAddr) read and write the OS's `sockaddr`
//! layouts, which takes `unsafe`, and live with the backends (`sys/unix/addr.rs`,
//! `sys/windows/addr.rs`).

/// Room for any socket address, and its length.
#[cfg(unix)]
#[derive(Clone)]
pub struct SockAddrBuf {
    pub(crate) storage: libc::sockaddr_storage,
    pub(crate) len: libc::socklen_t,
}

/// Room for any socket address, and its length.
#[cfg(windows)]
#[derive(Clone)]
pub struct SockAddrBuf {
    pub(crate) storage: windows_sys::Win32::Networking::WinSock::SOCKADDR_STORAGE,
    pub(crate) len: i32,
}

impl std::fmt::Debug for SockAddrBuf {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SockAddrBuf({:?})", self.to_socket_addr())
    }
}
