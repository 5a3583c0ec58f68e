//! Socket addresses as Winsock reads and writes them (`SOCKADDR_STORAGE` + length).
#![allow(unsafe_code)]

use crate::contract::addr::SockAddrBuf;
use std::mem;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};

use windows_sys::Win32::Networking::WinSock::{
    AF_INET, AF_INET6, IN6_ADDR, IN6_ADDR_0, IN_ADDR, IN_ADDR_0, SOCKADDR, SOCKADDR_IN, SOCKADDR_IN6, SOCKADDR_IN6_0,
    SOCKADDR_STORAGE,
};

impl SockAddrBuf {
    /// Empty, with room for any address (what the kernel fills).
    pub(crate) fn empty() -> SockAddrBuf {
        SockAddrBuf { storage: SOCKADDR_STORAGE::default(), len: mem::size_of::<SOCKADDR_STORAGE>() as i32 }
    }

    /// The kernel form of `addr`.
    pub(crate) fn from_socket_addr(addr: SocketAddr) -> SockAddrBuf {
        let mut buf = SockAddrBuf::empty();
        match addr {
            SocketAddr::V4(a) => {
                let sin = SOCKADDR_IN {
                    sin_family: AF_INET,
                    sin_port: a.port().to_be(),
                    sin_addr: IN_ADDR { S_un: IN_ADDR_0 { S_addr: u32::from_ne_bytes(a.ip().octets()) } },
                    sin_zero: [0; 8],
                };
                // SAFETY: SOCKADDR_STORAGE is larger than and aligned for SOCKADDR_IN.
                unsafe { std::ptr::write((&mut buf.storage as *mut SOCKADDR_STORAGE).cast(), sin) };
                buf.len = mem::size_of::<SOCKADDR_IN>() as i32;
            }
            SocketAddr::V6(a) => {
                let sin6 = SOCKADDR_IN6 {
                    sin6_family: AF_INET6,
                    sin6_port: a.port().to_be(),
                    sin6_flowinfo: a.flowinfo(),
                    sin6_addr: IN6_ADDR { u: IN6_ADDR_0 { Byte: a.ip().octets() } },
                    Anonymous: SOCKADDR_IN6_0 { sin6_scope_id: a.scope_id() },
                };
                // SAFETY: SOCKADDR_STORAGE is larger than and aligned for SOCKADDR_IN6.
                unsafe { std::ptr::write((&mut buf.storage as *mut SOCKADDR_STORAGE).cast(), sin6) };
                buf.len = mem::size_of::<SOCKADDR_IN6>() as i32;
            }
        }
        buf
    }

    /// Copies an address the kernel wrote somewhere else (`GetAcceptExSockaddrs`).
    ///
    /// # Safety
    ///
    /// `ptr` must point to `len` readable bytes of a socket address.
    pub(crate) unsafe fn copy_from(&mut self, ptr: *const SOCKADDR, len: i32) {
        let len = (len.max(0) as usize).min(mem::size_of::<SOCKADDR_STORAGE>());
        // SAFETY: the caller vouches for `len` readable bytes at `ptr`; the storage has room for
        // `len` (clamped above) and cannot overlap memory the kernel handed out separately.
        unsafe { std::ptr::copy_nonoverlapping(ptr.cast::<u8>(), self.as_mut_ptr().cast::<u8>(), len) };
        self.len = len as i32;
    }

    /// The address the kernel wrote, if it is IPv4 or IPv6.
    pub(crate) fn to_socket_addr(&self) -> Option<SocketAddr> {
        match self.storage.ss_family {
            AF_INET if self.len as usize >= mem::size_of::<SOCKADDR_IN>() => {
                // SAFETY: the family says the storage holds a SOCKADDR_IN, and it is large
                // enough and aligned for one.
                let sin: SOCKADDR_IN = unsafe { std::ptr::read((&self.storage as *const SOCKADDR_STORAGE).cast()) };
                // SAFETY: every variant of the address union is plain bytes of the same size.
                let ip = Ipv4Addr::from(unsafe { sin.sin_addr.S_un.S_addr }.to_ne_bytes());
                Some(SocketAddr::V4(SocketAddrV4::new(ip, u16::from_be(sin.sin_port))))
            }
            AF_INET6 if self.len as usize >= mem::size_of::<SOCKADDR_IN6>() => {
                // SAFETY: as above, for SOCKADDR_IN6.
                let sin6: SOCKADDR_IN6 = unsafe { std::ptr::read((&self.storage as *const SOCKADDR_STORAGE).cast()) };
                // SAFETY: both unions hold plain integers of the same size in every variant.
                let (bytes, scope) = unsafe { (sin6.sin6_addr.u.Byte, sin6.Anonymous.sin6_scope_id) };
                let port = u16::from_be(sin6.sin6_port);
                Some(SocketAddr::V6(SocketAddrV6::new(Ipv6Addr::from(bytes), port, sin6.sin6_flowinfo, scope)))
            }
            _ => None,
        }
    }

    /// A pointer for calls that read the address.
    pub(crate) fn as_ptr(&self) -> *const SOCKADDR {
        (&self.storage as *const SOCKADDR_STORAGE).cast()
    }

    /// A pointer for calls that write the address.
    pub(crate) fn as_mut_ptr(&mut self) -> *mut SOCKADDR {
        (&mut self.storage as *mut SOCKADDR_STORAGE).cast()
    }

    /// Resets the length to the whole storage, before the kernel writes an address.
    pub(crate) fn reset(&mut self) {
        self.len = mem::size_of::<SOCKADDR_STORAGE>() as i32;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        for a in ["127.0.0.1:80", "[::1]:443", "[fe80::1%2]:9"] {
            let addr: SocketAddr = a.parse().unwrap();
            assert_eq!(SockAddrBuf::from_socket_addr(addr).to_socket_addr(), Some(addr), "{a}");
        }
        assert_eq!(SockAddrBuf::empty().to_socket_addr(), None);
    }
}
