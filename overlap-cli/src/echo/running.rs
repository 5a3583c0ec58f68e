//! A started echo server, whichever model serves: its address, how to stop it, its threads.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::thread::JoinHandle;

/// A way to stop a running server from another thread.
pub type Stop = Arc<dyn Fn() + Send + Sync>;

/// A running server.
pub struct Running {
    /// Where it listens.
    pub addr: SocketAddr,
    /// Asks every thread of the server to end (it returns at once; [`Running::join`] waits).
    pub stop: Stop,
    /// The threads that serve.
    pub threads: Vec<JoinHandle<io::Result<()>>>,
}

impl std::fmt::Debug for Running {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Running").field("addr", &self.addr).field("threads", &self.threads.len()).finish()
    }
}

impl Running {
    /// Waits for every thread to end: the first error, if any.
    pub fn join(self) -> io::Result<()> {
        join_all(self.threads)
    }

    /// Stops the server and waits for it.
    pub fn stop_and_join(self) -> io::Result<()> {
        (self.stop)();
        self.join()
    }
}

/// Waits for every thread: the first error, if any (a panic is one).
pub fn join_all(threads: Vec<JoinHandle<io::Result<()>>>) -> io::Result<()> {
    let mut res = Ok(());
    for t in threads {
        let r = t.join().unwrap_or_else(|_| Err(io::Error::other("a server thread panicked")));
        res = res.and(r);
    }
    res
}

/// Spawns a named server thread; an error (not a panic) when the system refuses one.
pub fn spawn(
    name: &str,
    f: impl FnOnce() -> io::Result<()> + Send + 'static,
) -> io::Result<JoinHandle<io::Result<()>>> {
    std::thread::Builder::new()
        .name(name.into())
        .spawn(f)
        .map_err(|e| io::Error::new(e.kind(), format!("could not start a server thread: {e}")))
}
