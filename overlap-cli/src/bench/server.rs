//! What every echo server of the bench is to the workloads, whoever wrote it (the floors, overlap,
//! the peers): an address and a way to stop it.

use std::io;
use std::net::SocketAddr;

/// A running echo server and how to stop it.
pub(crate) struct Server {
    pub(crate) addr: SocketAddr,
    /// Stops the server and waits for its thread.
    pub(crate) stop: Box<dyn FnOnce() -> io::Result<()>>,
}
