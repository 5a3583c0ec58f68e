//! What every side of the wake-up ping-pong is to the workload, whoever wrote it.

use std::io;

/// A side of the ping-pong: wake the other side, wait to be woken.
pub(crate) trait Side: Send {
    /// Wakes the other side.
    fn wake_other(&mut self) -> io::Result<()>;
    /// Waits to be woken (at most 100 ms); false on timeout.
    fn wait(&mut self) -> io::Result<bool>;
}
