//! The listeners of the echo server on 127.0.0.1, and the check that the port is free.
//!
//! A port held by another server is refused, unless the user asks to share it (`--reuse-port`:
//! SO_REUSEPORT on every listener, and the other server must have asked too). The readiness model
//! binds one listener per thread with SO_REUSEPORT, so that the kernel spreads connections over
//! its threads; a bind with SO_REUSEPORT succeeds beside another process's SO_REUSEPORT
//! listener, so there the port is first probed with a socket that does not share it: if
//! that bind fails, the port is taken. (The probe is closed before the listeners bind: two
//! servers starting at the same instant can both pass it. Binding one exclusive listener instead
//! closes that gap but gives up SO_REUSEPORT's spreading, which is what the per-thread listeners
//! are for.)

use std::io;
use std::net::{SocketAddr, TcpListener};

use socket2::{Domain, Socket, Type};

/// Connections waiting to be accepted, per listener.
const BACKLOG: i32 = 1024;

/// How the listeners treat the port.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Share {
    /// The port is this server's alone: another server on it is an error.
    Exclusive,
    /// `--reuse-port`: shared with other servers that ask the same.
    WithOthers,
}

/// `count` listeners on `addr` (all on the same port: with port 0, the one the kernel picks),
/// non-blocking; one only where there is no SO_REUSEPORT (the caller clones it).
pub fn bind(addr: SocketAddr, count: usize, share: Share) -> io::Result<Vec<TcpListener>> {
    let count = if cfg!(reuseport) { count.max(1) } else { 1 };
    if share == Share::Exclusive && count == 1 {
        // One listener without SO_REUSEPORT: the kernel refuses a port in use, no race.
        return listener(addr, false).map(|l| vec![l]).map_err(|e| explain(e, addr, share));
    }
    if !cfg!(reuseport) {
        return Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "--reuse-port: this OS has no SO_REUSEPORT, listeners cannot share a port",
        ));
    }
    let addr = match share {
        Share::Exclusive => probe(addr)?,
        Share::WithOthers => addr,
    };
    let first = listener(addr, true).map_err(|e| explain(e, addr, share))?;
    let addr = first.local_addr()?; // the port the kernel picked, for the others
    let mut all = vec![first];
    for _ in 1..count {
        all.push(listener(addr, true).map_err(|e| explain(e, addr, share))?);
    }
    Ok(all)
}

/// Binds a socket that does not share the port, and closes it: the address (with the port the
/// kernel picked, for port 0), or the error that says the port is taken.
fn probe(addr: SocketAddr) -> io::Result<SocketAddr> {
    let s = socket(addr, false)?;
    s.bind(&addr.into()).map_err(|e| explain(e, addr, Share::Exclusive))?;
    s.local_addr()?.as_socket().ok_or_else(|| io::Error::other("the probe socket has no IP address"))
}

/// A socket with SO_REUSEADDR (Unix: a restart finds the port free while old connections linger
/// in TIME_WAIT) and, if `reuse_port`, SO_REUSEPORT.
fn socket(addr: SocketAddr, reuse_port: bool) -> io::Result<Socket> {
    let s = Socket::new(Domain::for_address(addr), Type::STREAM, None)?;
    #[cfg(unix)]
    s.set_reuse_address(true)?;
    #[cfg(reuseport)]
    s.set_reuse_port(reuse_port)?;
    #[cfg(not(reuseport))]
    let _ = reuse_port;
    Ok(s)
}

/// A listening, non-blocking socket on `addr`.
fn listener(addr: SocketAddr, reuse_port: bool) -> io::Result<TcpListener> {
    let s = socket(addr, reuse_port)?;
    s.bind(&addr.into())?;
    s.listen(BACKLOG)?;
    s.set_nonblocking(true)?;
    Ok(s.into())
}

/// Whether a socket with SO_REUSEPORT could join whatever holds `addr` (the holder shares it).
fn holder_shares(addr: SocketAddr) -> bool {
    cfg!(reuseport) && socket(addr, true).and_then(|s| s.bind(&addr.into())).is_ok()
}

/// Says which port is in use, and how to share it where that would work.
fn explain(e: io::Error, addr: SocketAddr, share: Share) -> io::Error {
    if e.kind() != io::ErrorKind::AddrInUse {
        return io::Error::new(e.kind(), format!("cannot listen on {addr}: {e}"));
    }
    let (port, ip) = (addr.port(), addr.ip());
    let msg = match share {
        Share::Exclusive if holder_shares(addr) => {
            format!("port {port} on {ip} is in use (pass --reuse-port to share it with the other server)")
        }
        Share::Exclusive => format!("port {port} on {ip} is in use"),
        Share::WithOthers => format!("port {port} on {ip} is in use by a server that does not share it"),
    };
    io::Error::new(io::ErrorKind::AddrInUse, msg)
}
