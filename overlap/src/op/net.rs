//! Socket operations.

use std::net::{SocketAddr, TcpStream};

use overlap_buf::{IoBuf, IoBufMut};

use super::sealed::{op_any, private::Sealed, Op};
use crate::contract::addr::SockAddrBuf;
use crate::contract::desc::{Desc, OpCode, Output};
use crate::contract::source::OwnedSocket;
use crate::port::handle::Handle;

/// Accepts one connection on a listening socket (`accept4`, io_uring `ACCEPT`, `AcceptEx`).
///
/// The accepted socket is non-blocking and close-on-exec; take it with
/// [`take_socket`](Accept::take_socket) or [`into_tcp_stream`](Accept::into_tcp_stream) and
/// associate it with a port to run ops on it.
///
/// It completes with a connection or an error, never "would block": when another thread's
/// plain `accept` on the same listening socket takes the connection first, the op waits for
/// the next one (under Wine, whose `AcceptEx` then fails with WSAEWOULDBLOCK, the port issues
/// it again).
#[derive(Debug)]
pub struct Accept {
    handle: Handle,
    addr: SockAddrBuf,
    socket: Option<OwnedSocket>,
    peer: Option<SocketAddr>,
}

impl Accept {
    /// An accept on `listener`.
    pub fn new(listener: &Handle) -> Accept {
        Accept { handle: listener.clone(), addr: SockAddrBuf::empty(), socket: None, peer: None }
    }
    /// The handle the op works on.
    pub fn handle(&self) -> &Handle {
        &self.handle
    }
    /// The accepted socket, once (after a successful completion).
    pub fn take_socket(&mut self) -> Option<OwnedSocket> {
        self.socket.take()
    }
    /// The accepted socket as a `TcpStream`.
    pub fn into_tcp_stream(mut self) -> Option<TcpStream> {
        self.take_socket().map(TcpStream::from)
    }
    /// The peer's address, if the kernel reported an IP address.
    pub fn peer_addr(&self) -> Option<SocketAddr> {
        self.peer
    }
}

impl Sealed for Accept {
    fn handle(&self) -> Option<&Handle> {
        Some(&self.handle)
    }
}

impl OpCode for Accept {
    fn describe(&mut self) -> Desc<'_> {
        Desc::Accept { fd: self.handle.raw(), addr: &mut self.addr }
    }
    fn set_output(&mut self, out: Output) {
        if let Output::Accepted(fd, peer) = out {
            self.socket = Some(fd);
            self.peer = peer;
        }
    }
    op_any!();
}
impl Op for Accept {}

/// Connects a socket (`connect`, io_uring `CONNECT`, `ConnectEx`).
#[derive(Debug)]
pub struct Connect {
    handle: Handle,
    addr: SockAddrBuf,
}

impl Connect {
    /// A connect of `socket` to `addr`.
    pub fn new(socket: &Handle, addr: SocketAddr) -> Connect {
        Connect { handle: socket.clone(), addr: SockAddrBuf::from_socket_addr(addr) }
    }
    /// The handle the op works on.
    pub fn handle(&self) -> &Handle {
        &self.handle
    }
}

impl Sealed for Connect {
    fn handle(&self) -> Option<&Handle> {
        Some(&self.handle)
    }
}

impl OpCode for Connect {
    fn describe(&mut self) -> Desc<'_> {
        Desc::Connect { fd: self.handle.raw(), addr: &self.addr }
    }
    op_any!();
}
impl Op for Connect {}

/// Receives into the buffer's spare capacity (after its initialised bytes), then extends it.
///
/// With no spare capacity it is a readiness probe: `Ok(0)` once data or the end of the stream
/// is there, with nothing consumed.
#[derive(Debug)]
pub struct Recv<B> {
    handle: Handle,
    buf: B,
}

impl<B: IoBufMut + std::marker::Send> Recv<B> {
    /// A receive on `socket` into `buf`.
    pub fn new(socket: &Handle, buf: B) -> Recv<B> {
        Recv { handle: socket.clone(), buf }
    }
    /// Like [`new`](Recv::new), taking the handle instead of a clone of it (no reference
    /// count to touch: what a completion handler that posts the next op on the same handle
    /// wants, with [`into_parts`](Recv::into_parts)).
    pub fn with_handle(handle: Handle, buf: B) -> Recv<B> {
        Recv { handle, buf }
    }
    /// The handle the op works on.
    pub fn handle(&self) -> &Handle {
        &self.handle
    }
    /// The buffer, with what was received appended.
    pub fn into_buf(self) -> B {
        self.buf
    }
    /// The handle and the buffer, to post the next op on the same handle with no clone.
    pub fn into_parts(self) -> (Handle, B) {
        (self.handle, self.buf)
    }
}

impl<B: IoBufMut + std::marker::Send> Sealed for Recv<B> {
    fn handle(&self) -> Option<&Handle> {
        Some(&self.handle)
    }
}

impl<B: IoBufMut + std::marker::Send> OpCode for Recv<B> {
    fn describe(&mut self) -> Desc<'_> {
        Desc::Recv { fd: self.handle.raw(), buf: &mut self.buf }
    }
    op_any!();
}
impl<B: IoBufMut + std::marker::Send> Op for Recv<B> {}

/// Sends the buffer's initialised bytes; the completion says how many went.
#[derive(Debug)]
pub struct Send<B> {
    handle: Handle,
    buf: B,
}

impl<B: IoBuf + std::marker::Send> Send<B> {
    /// A send of `buf` on `socket`.
    pub fn new(socket: &Handle, buf: B) -> Send<B> {
        Send { handle: socket.clone(), buf }
    }
    /// Like [`new`](Send::new), taking the handle instead of a clone of it (no reference
    /// count to touch: what a completion handler that posts the next op on the same handle
    /// wants, with [`into_parts`](Send::into_parts)).
    pub fn with_handle(handle: Handle, buf: B) -> Send<B> {
        Send { handle, buf }
    }
    /// The handle the op works on.
    pub fn handle(&self) -> &Handle {
        &self.handle
    }
    /// The buffer back.
    pub fn into_buf(self) -> B {
        self.buf
    }
    /// The handle and the buffer, to post the next op on the same handle with no clone.
    pub fn into_parts(self) -> (Handle, B) {
        (self.handle, self.buf)
    }
}

impl<B: IoBuf + std::marker::Send> Sealed for Send<B> {
    fn handle(&self) -> Option<&Handle> {
        Some(&self.handle)
    }
}

impl<B: IoBuf + std::marker::Send> OpCode for Send<B> {
    fn describe(&mut self) -> Desc<'_> {
        Desc::Send { fd: self.handle.raw(), buf: &self.buf }
    }
    op_any!();
}
impl<B: IoBuf + std::marker::Send> Op for Send<B> {}

/// Sends several buffers in one call (gather); the completion says how many bytes went.
#[derive(Debug)]
pub struct SendVectored<B> {
    handle: Handle,
    bufs: Vec<B>,
}

impl<B: IoBuf + std::marker::Send> SendVectored<B> {
    /// A gathered send of `bufs` on `socket`.
    pub fn new(socket: &Handle, bufs: Vec<B>) -> SendVectored<B> {
        SendVectored { handle: socket.clone(), bufs }
    }
    /// The handle the op works on.
    pub fn handle(&self) -> &Handle {
        &self.handle
    }
    /// The buffers back.
    pub fn into_bufs(self) -> Vec<B> {
        self.bufs
    }
}

impl<B: IoBuf + std::marker::Send> Sealed for SendVectored<B> {
    fn handle(&self) -> Option<&Handle> {
        Some(&self.handle)
    }
}

impl<B: IoBuf + std::marker::Send> OpCode for SendVectored<B> {
    fn describe(&mut self) -> Desc<'_> {
        Desc::SendVectored { fd: self.handle.raw(), bufs: &self.bufs }
    }
    op_any!();
}
impl<B: IoBuf + std::marker::Send> Op for SendVectored<B> {}

/// Receives a datagram into the buffer's spare capacity, and who sent it.
#[derive(Debug)]
pub struct RecvFrom<B> {
    handle: Handle,
    buf: B,
    addr: SockAddrBuf,
    peer: Option<SocketAddr>,
}

impl<B: IoBufMut + std::marker::Send> RecvFrom<B> {
    /// A receive on `socket` into `buf`.
    pub fn new(socket: &Handle, buf: B) -> RecvFrom<B> {
        RecvFrom { handle: socket.clone(), buf, addr: SockAddrBuf::empty(), peer: None }
    }
    /// The handle the op works on.
    pub fn handle(&self) -> &Handle {
        &self.handle
    }
    /// The sender's address (after a successful completion).
    pub fn peer_addr(&self) -> Option<SocketAddr> {
        self.peer
    }
    /// The buffer, with the datagram appended.
    pub fn into_buf(self) -> B {
        self.buf
    }
}

impl<B: IoBufMut + std::marker::Send> Sealed for RecvFrom<B> {
    fn handle(&self) -> Option<&Handle> {
        Some(&self.handle)
    }
}

impl<B: IoBufMut + std::marker::Send> OpCode for RecvFrom<B> {
    fn describe(&mut self) -> Desc<'_> {
        Desc::RecvFrom { fd: self.handle.raw(), buf: &mut self.buf, addr: &mut self.addr }
    }
    fn set_output(&mut self, out: Output) {
        if let Output::Peer(p) = out {
            self.peer = p;
        }
    }
    op_any!();
}
impl<B: IoBufMut + std::marker::Send> Op for RecvFrom<B> {}

/// Sends the buffer as one datagram to an address.
#[derive(Debug)]
pub struct SendTo<B> {
    handle: Handle,
    buf: B,
    addr: SockAddrBuf,
}

impl<B: IoBuf + std::marker::Send> SendTo<B> {
    /// A send of `buf` from `socket` to `addr`.
    pub fn new(socket: &Handle, buf: B, addr: SocketAddr) -> SendTo<B> {
        SendTo { handle: socket.clone(), buf, addr: SockAddrBuf::from_socket_addr(addr) }
    }
    /// The handle the op works on.
    pub fn handle(&self) -> &Handle {
        &self.handle
    }
    /// The buffer back.
    pub fn into_buf(self) -> B {
        self.buf
    }
}

impl<B: IoBuf + std::marker::Send> Sealed for SendTo<B> {
    fn handle(&self) -> Option<&Handle> {
        Some(&self.handle)
    }
}

impl<B: IoBuf + std::marker::Send> OpCode for SendTo<B> {
    fn describe(&mut self) -> Desc<'_> {
        Desc::SendTo { fd: self.handle.raw(), buf: &self.buf, addr: &self.addr }
    }
    op_any!();
}
impl<B: IoBuf + std::marker::Send> Op for SendTo<B> {}
