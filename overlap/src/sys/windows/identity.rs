//! What a socket or handle is: its identity for the registration table ([`FileId`]), and its
//! kind for the completion drivers ([`handle_kind`]).
#![allow(unsafe_code)]

use std::io;

use windows_sys::Win32::Foundation::HANDLE;
use windows_sys::Win32::Networking::WinSock::SOCK_STREAM;
use windows_sys::Win32::Storage::FileSystem::{GetFileType, FILE_TYPE_DISK, FILE_TYPE_PIPE};

use super::net;
use crate::contract::source::{raw_of, HandleKind, OwnedSource, RawSource};

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

/// What `source` is, as the drivers care: a disk file, a stream socket or pipe, or anything
/// else.
pub(crate) fn handle_kind(source: &OwnedSource) -> io::Result<HandleKind> {
    let raw = raw_of(source);
    Ok(match source {
        OwnedSource::Socket(_) if net::socket_type(raw)? == SOCK_STREAM => HandleKind::Stream,
        OwnedSource::Socket(_) => HandleKind::Other,
        // SAFETY: asks the type of an open handle.
        OwnedSource::Handle(_) => match unsafe { GetFileType(raw as HANDLE) } {
            FILE_TYPE_DISK => HandleKind::File,
            FILE_TYPE_PIPE => HandleKind::Stream,
            _ => HandleKind::Other,
        },
    })
}
