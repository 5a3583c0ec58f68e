//! Windows backends: [`iocp`] (completion, native: an I/O completion port) and [`afd`]
//! (readiness emulated over IOCP with `IOCTL_AFD_POLL`, the seed-1 idea without its 63-socket
//! limit).
//!
//! | file | what |
//! |---|---|
//! | `cport.rs` | the completion-port kernel object: create, associate, post, batched dequeue |
//! | `device.rs` | `\Device\Afd` handles and the `IOCTL_AFD_POLL` request (both backends) |
//! | `file.rs` | whether a file handle was opened for overlapped I/O |
//! | `net.rs` | socket helpers: base handles, extension functions, Winsock errors |
//! | `addr.rs` | socket addresses as Winsock reads and writes them |
//! | `overlapped.rs` | one in-flight op: its `OVERLAPPED`, issue and finish |
//! | `iocp.rs` | the completion `Driver` |
//! | `afd.rs` | the readiness `Selector` |

mod addr;
pub(crate) mod afd;
mod cport;
mod device;
mod file;
pub(crate) mod iocp;
mod net;
mod overlapped;

use std::io;
use std::os::windows::io::{AsRawHandle, AsRawSocket, OwnedHandle};

pub(crate) use addr::SockAddrBuf;

/// How the registration table and the drivers name a socket or handle: its value.
pub(crate) type RawSource = usize;

/// What an accept hands over.
pub(crate) type OwnedSocket = std::os::windows::io::OwnedSocket;

/// What a [`Handle`](crate::Handle) owns: a socket (Winsock calls) or a handle (`ReadFile`).
#[derive(Debug)]
pub(crate) enum OwnedSource {
    Socket(OwnedSocket),
    Handle(OwnedHandle),
}

impl OwnedSource {
    /// The raw value.
    pub(crate) fn raw(&self) -> RawSource {
        match self {
            OwnedSource::Socket(s) => s.as_raw_socket() as RawSource,
            OwnedSource::Handle(h) => h.as_raw_handle() as RawSource,
        }
    }
}

/// A socket's identity for the registration table. Winsock has no inode, so a socket is named
/// by its type and its local and peer addresses: a closed socket's number reused by a new
/// connection (another ephemeral port) or listener (another port) reads as another socket.
/// Two unbound sockets of one type look alike; the AFD selector also tells a stale
/// registration by its poll having reported the local close (see `afd.rs`).
#[derive(Copy, Clone, Debug)]
pub(crate) struct FileId {
    kind: i32,
    local: Option<std::net::SocketAddr>,
    peer: Option<std::net::SocketAddr>,
}

/// "Could be the same socket": the types match, and each address matches or was not known on
/// one side (a socket registered before it was bound or connected gains addresses later). Not
/// transitive; only ever used to compare a registration with the socket now under its number.
impl PartialEq for FileId {
    fn eq(&self, other: &FileId) -> bool {
        let fits =
            |a: Option<std::net::SocketAddr>, b: Option<std::net::SocketAddr>| a.is_none() || b.is_none() || a == b;
        self.kind == other.kind && fits(self.local, other.local) && fits(self.peer, other.peer)
    }
}

/// The identity of the socket `s`; an error if it is not an open socket (AFD polls sockets
/// only).
pub(crate) fn file_id(s: RawSource) -> io::Result<FileId> {
    let kind = net::socket_type(s)?;
    Ok(FileId { kind, local: net::local_addr(s), peer: net::peer_addr(s) })
}
