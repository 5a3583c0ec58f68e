//! The in-process peers of `overlap bench` (`--features peers`): the same echo server and
//! wake-up ping-pong written on tokio and on mio, and the echo server on compio (io_uring, Linux
//! only; it has no cross-thread wake-up to measure), so that they are columns of the same run.
//! Without the feature there are none.

#[cfg(all(feature = "peers", uring))]
mod compio_peer;
#[cfg(feature = "peers")]
mod mio_peer;
#[cfg(feature = "peers")]
mod tokio_peer;

use std::io;

use super::server::Server;
use super::side::Side;

/// Every peer there is, in table order (whether or not this build has it).
pub(crate) const ALL: &[&str] = &["tokio", "mio", "compio"];

/// Why `peer` cannot run here (`None`: it can): not in this build, or compio without io_uring
/// (where the kernel refuses it, the machine line says why, as for the raw io_uring floor).
pub(crate) fn why_not_here(peer: &str) -> Option<String> {
    if !cfg!(feature = "peers") {
        Some(format!("{peer} is a column of builds with --features peers"))
    } else if peer == "compio" && !cfg!(uring) {
        Some("compio runs on io_uring, only on Linux".into())
    } else if peer == "compio" {
        overlap::PortBackend::Uring.check().err().map(|e| e.to_string())
    } else {
        None
    }
}

/// Whether `peer` has a wake-up pair (compio has no cross-thread wake-up of its own).
pub(crate) fn has_wakeup(peer: &str) -> bool {
    peer != "compio"
}

/// Starts `peer`'s echo server on 127.0.0.1 (one thread, like the others).
pub(crate) fn echo_server(peer: &str) -> io::Result<Server> {
    match peer {
        #[cfg(feature = "peers")]
        "tokio" => tokio_peer::echo_server(),
        #[cfg(feature = "peers")]
        "mio" => mio_peer::echo_server(),
        #[cfg(all(feature = "peers", uring))]
        "compio" => compio_peer::echo_server(),
        _ => Err(io::Error::new(io::ErrorKind::Unsupported, format!("no peer {peer} in this build"))),
    }
}

/// `peer`'s side pair for the wake-up ping-pong.
pub(crate) fn wakeup_pair(peer: &str) -> io::Result<(Box<dyn Side>, Box<dyn Side>)> {
    match peer {
        #[cfg(feature = "peers")]
        "tokio" => tokio_peer::wakeup_pair(),
        #[cfg(feature = "peers")]
        "mio" => mio_peer::wakeup_pair(),
        _ => Err(io::Error::new(io::ErrorKind::Unsupported, format!("no peer {peer} in this build"))),
    }
}
