//! `ListenerOptions`: the listening socket's options (libevent's `LEV_OPT_*` and backlog).

use std::io;

use socket2::Socket;

/// How a [`Listener`](crate::Listener) binds and starts.
#[derive(Clone, Debug)]
pub struct ListenerOptions {
    /// The kernel's queue of connections not accepted yet (`None`: the system's maximum,
    /// `SOMAXCONN`).
    pub backlog: Option<u32>,
    /// `SO_REUSEADDR` (on Unix: bind again while old connections linger in TIME_WAIT;
    /// `LEV_OPT_REUSEABLE`). On by default. Ignored on Windows, where it would let another
    /// socket steal the port.
    pub reuse_addr: bool,
    /// `SO_REUSEPORT` where there is one: several sockets share the port, the kernel spreads
    /// connections over them (`LEV_OPT_REUSEABLE_PORT`). Off by default.
    pub reuse_port: bool,
    /// Made disabled: it accepts once enabled (`LEV_OPT_DISABLED`).
    pub disabled: bool,
}

impl Default for ListenerOptions {
    fn default() -> ListenerOptions {
        ListenerOptions { backlog: None, reuse_addr: true, reuse_port: false, disabled: false }
    }
}

impl ListenerOptions {
    /// The defaults: `SO_REUSEADDR`, the system's backlog, enabled.
    pub fn new() -> ListenerOptions {
        ListenerOptions::default()
    }

    /// The backlog `listen` gets.
    pub(crate) fn backlog(&self) -> i32 {
        match self.backlog {
            Some(n) => n.min(i32::MAX as u32) as i32,
            None => i32::MAX, // the kernel caps it at SOMAXCONN
        }
    }

    /// Sets the socket options on `sock` before it binds.
    pub(crate) fn apply(&self, sock: &Socket) -> io::Result<()> {
        if self.reuse_addr && cfg!(unix) {
            sock.set_reuse_address(true)?;
        }
        if self.reuse_port {
            set_reuse_port(sock)?;
        }
        Ok(())
    }
}

#[cfg(unix)]
fn set_reuse_port(sock: &Socket) -> io::Result<()> {
    sock.set_reuse_port(true)
}

#[cfg(not(unix))]
fn set_reuse_port(_: &Socket) -> io::Result<()> {
    Err(crate::error::unsupported("SO_REUSEPORT", "this platform's"))
}
