//! Which accept errors are whose: the connection's own (skip it, accept the next), or the
//! process's (out of descriptors: back off). The codes are the OS's, read here only.

use std::io;

/// The process or system is out of descriptors (or of buffer memory) for one more socket.
pub(super) fn is_out_of_descriptors(e: &io::Error) -> bool {
    let Some(code) = e.raw_os_error() else { return false };
    #[cfg(unix)]
    {
        [libc::EMFILE, libc::ENFILE, libc::ENOBUFS, libc::ENOMEM].contains(&code)
    }
    #[cfg(windows)]
    {
        const WSAEMFILE: i32 = 10024;
        const WSAENOBUFS: i32 = 10055;
        [WSAEMFILE, WSAENOBUFS].contains(&code)
    }
}

/// A network error that belongs to the connection being accepted (accept(2) on Linux
/// reports them; the next accept may well succeed). On Windows also what a connection reset
/// while it waited to be accepted gives: `ERROR_NETNAME_DELETED` from `AcceptEx`, and under
/// Wine `WSAENOTCONN` from `accept` and from `AcceptEx`'s `SO_UPDATE_ACCEPT_CONTEXT`.
pub(super) fn is_transient(e: &io::Error) -> bool {
    let Some(code) = e.raw_os_error() else { return false };
    #[cfg(unix)]
    {
        [
            libc::EPROTO,
            libc::ENETDOWN,
            libc::ENETUNREACH,
            libc::EHOSTUNREACH,
            libc::EHOSTDOWN,
            libc::ENOPROTOOPT,
            libc::EOPNOTSUPP,
        ]
        .contains(&code)
    }
    #[cfg(windows)]
    {
        const ERROR_NETNAME_DELETED: i32 = 64;
        const ERROR_CONNECTION_ABORTED: i32 = 1236;
        const WSAENETDOWN: i32 = 10050;
        const WSAECONNABORTED: i32 = 10053;
        const WSAECONNRESET: i32 = 10054;
        const WSAENOTCONN: i32 = 10057;
        [ERROR_NETNAME_DELETED, ERROR_CONNECTION_ABORTED, WSAENETDOWN, WSAECONNABORTED, WSAECONNRESET, WSAENOTCONN]
            .contains(&code)
    }
}
