//! Socket addresses as the kernel reads and writes them (`sockaddr_storage` + length).
#![allow(unsafe_code)]

use crate::contract::addr::SockAddrBuf;
use std::mem;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};

impl SockAddrBuf {
    /// Empty, with room for any address (what the kernel fills).
    pub(crate) fn empty() -> SockAddrBuf {
        // SAFETY: sockaddr_storage is plain integers; all-zero is a valid (AF_UNSPEC) value.
        let storage = unsafe { mem::zeroed() };
        SockAddrBuf { storage, len: mem::size_of::<libc::sockaddr_storage>() as libc::socklen_t }
    }

    /// The kernel form of `addr`.
    pub(crate) fn from_socket_addr(addr: SocketAddr) -> SockAddrBuf {
        let mut buf = SockAddrBuf::empty();
        match addr {
            SocketAddr::V4(a) => {
                // SAFETY: sockaddr_in is plain integers; all-zero is valid.
                let mut sin: libc::sockaddr_in = unsafe { mem::zeroed() };
                sin.sin_family = libc::AF_INET as libc::sa_family_t;
                sin.sin_port = a.port().to_be();
                sin.sin_addr = libc::in_addr { s_addr: u32::from_ne_bytes(a.ip().octets()) };
                // SAFETY: sockaddr_storage is larger than and aligned for sockaddr_in.
                unsafe { std::ptr::write((&mut buf.storage as *mut libc::sockaddr_storage).cast(), sin) };
                buf.len = mem::size_of::<libc::sockaddr_in>() as libc::socklen_t;
            }
            SocketAddr::V6(a) => {
                // SAFETY: sockaddr_in6 is plain integers; all-zero is valid.
                let mut sin6: libc::sockaddr_in6 = unsafe { mem::zeroed() };
                sin6.sin6_family = libc::AF_INET6 as libc::sa_family_t;
                sin6.sin6_port = a.port().to_be();
                sin6.sin6_addr = libc::in6_addr { s6_addr: a.ip().octets() };
                sin6.sin6_flowinfo = a.flowinfo();
                sin6.sin6_scope_id = a.scope_id();
                // SAFETY: sockaddr_storage is larger than and aligned for sockaddr_in6.
                unsafe { std::ptr::write((&mut buf.storage as *mut libc::sockaddr_storage).cast(), sin6) };
                buf.len = mem::size_of::<libc::sockaddr_in6>() as libc::socklen_t;
            }
        }
        buf
    }

    /// The address the kernel wrote, if it is IPv4 or IPv6.
    pub(crate) fn to_socket_addr(&self) -> Option<SocketAddr> {
        match self.storage.ss_family as libc::c_int {
            libc::AF_INET if self.len as usize >= mem::size_of::<libc::sockaddr_in>() => {
                // SAFETY: the family says the storage holds a sockaddr_in, and it is large
                // enough and aligned for one.
                let sin: libc::sockaddr_in =
                    unsafe { std::ptr::read((&self.storage as *const libc::sockaddr_storage).cast()) };
                let ip = Ipv4Addr::from(sin.sin_addr.s_addr.to_ne_bytes());
                Some(SocketAddr::V4(SocketAddrV4::new(ip, u16::from_be(sin.sin_port))))
            }
            libc::AF_INET6 if self.len as usize >= mem::size_of::<libc::sockaddr_in6>() => {
                // SAFETY: as above, for sockaddr_in6.
                let sin6: libc::sockaddr_in6 =
                    unsafe { std::ptr::read((&self.storage as *const libc::sockaddr_storage).cast()) };
                let ip = Ipv6Addr::from(sin6.sin6_addr.s6_addr);
                let port = u16::from_be(sin6.sin6_port);
                Some(SocketAddr::V6(SocketAddrV6::new(ip, port, sin6.sin6_flowinfo, sin6.sin6_scope_id)))
            }
            _ => None,
        }
    }

    /// A pointer for calls that read the address.
    pub(crate) fn as_ptr(&self) -> *const libc::sockaddr {
        (&self.storage as *const libc::sockaddr_storage).cast()
    }

    /// A pointer for calls that write the address.
    pub(crate) fn as_mut_ptr(&mut self) -> *mut libc::sockaddr {
        (&mut self.storage as *mut libc::sockaddr_storage).cast()
    }

    /// Resets the length to the whole storage, before the kernel writes an address.
    pub(crate) fn reset(&mut self) {
        self.len = mem::size_of::<libc::sockaddr_storage>() as libc::socklen_t;
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
