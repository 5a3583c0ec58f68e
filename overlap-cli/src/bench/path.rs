//! The paths a run measures (the floors, every overlap backend of either model, of the event
//! loop and of its buffered events, the peers), their names, and which of them `--backends`
//! picks.

use std::fmt;
use std::io;

use overlap::{PortBackend, ReactorBackend};

use super::peers;

/// One thing measured: the floor, or an overlap path.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) enum Path {
    /// The raw epoll/eventfd code in `sys/raw_epoll.rs`.
    Floor,
    /// The raw io_uring echo server in `sys/raw_uring.rs` (echo and accept only).
    FloorUring,
    /// A `Reactor` on a readiness backend.
    Reactor(ReactorBackend),
    /// An `EventBase` (`overlap-event`, libevent's model) on a readiness backend: raw events
    /// (echo, bulk, dispatch and timers).
    Event(ReactorBackend),
    /// An `EventBase` with a `Listener` and `BufferEvent`s (`overlap-event`'s buffered layer,
    /// libevent's bufferevents) on a readiness backend (echo and bulk).
    BufferEvent(ReactorBackend),
    /// `BufferEvent`s on the completion engine: a base that waits in a completion port,
    /// receives and sends carried out by it (echo only).
    BufferEventPort(PortBackend),
    /// A `CompletionPort` on a completion backend.
    Port(PortBackend),
    /// Another library, in process (`--features peers`): tokio, mio or compio.
    Peer(&'static str),
}

impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Path::Floor => f.write_str("raw-epoll"),
            Path::FloorUring => f.write_str("raw-uring"),
            Path::Reactor(b) => write!(f, "reactor/{b}"),
            Path::Event(b) => write!(f, "event/{b}"),
            Path::BufferEvent(b) => write!(f, "bufferevent/{b}"),
            Path::BufferEventPort(b) => write!(f, "bufferevent-completion/{b}"),
            Path::Port(b) => write!(f, "port/{b}"),
            Path::Peer(name) => f.write_str(name),
        }
    }
}

/// Every path there is, in table order, each with why it cannot run here (`None`: it can).
fn all() -> Vec<(Path, Option<String>)> {
    let mut all = vec![
        (Path::Floor, (!cfg!(epoll)).then(|| "the raw epoll floor exists only where epoll does".to_string())),
        (
            Path::FloorUring,
            if cfg!(uring) {
                PortBackend::Uring.check().err().map(|e| e.to_string())
            } else {
                Some("the raw io_uring floor exists only on Linux".into())
            },
        ),
    ];
    all.extend(ReactorBackend::ALL.into_iter().map(|b| (Path::Reactor(b), b.check().err().map(|e| e.to_string()))));
    all.extend(ReactorBackend::ALL.into_iter().map(|b| (Path::Event(b), b.check().err().map(|e| e.to_string()))));
    all.extend(ReactorBackend::ALL.into_iter().map(|b| (Path::BufferEvent(b), b.check().err().map(|e| e.to_string()))));
    all.extend(PortBackend::ALL.into_iter().map(|b| (Path::Port(b), b.check().err().map(|e| e.to_string()))));
    let bev_port = |b: PortBackend| (Path::BufferEventPort(b), b.check().err().map(|e| e.to_string()));
    all.extend(PortBackend::ALL.into_iter().map(bev_port));
    all.extend(peers::ALL.iter().map(|&p| (Path::Peer(p), peers::why_not_here(p))));
    all
}

/// The paths to run, in table order: every one that runs here, or, with `only`, those named
/// (case aside). A name that is no path, or a path that does not run here, is an error that
/// says so and lists the paths that run here.
pub(crate) fn paths(only: Option<&[String]>) -> io::Result<Vec<Path>> {
    let all = all();
    let here: Vec<Path> = all.iter().filter(|(_, why)| why.is_none()).map(|&(p, _)| p).collect();
    let Some(names) = only else { return Ok(here) };
    let listed = || here.iter().map(Path::to_string).collect::<Vec<_>>().join(", ");
    for name in names {
        match all.iter().find(|(p, _)| name.eq_ignore_ascii_case(&p.to_string())) {
            None => {
                let msg = format!("--backends: no path is called {name:?}; the paths here are {}", listed());
                return Err(io::Error::new(io::ErrorKind::InvalidInput, msg));
            }
            Some((p, Some(why))) => {
                let msg = format!("--backends: {p} does not run here ({why}); the paths here are {}", listed());
                return Err(io::Error::new(io::ErrorKind::Unsupported, msg));
            }
            Some((_, None)) => {}
        }
    }
    Ok(here.into_iter().filter(|p| names.iter().any(|n| n.eq_ignore_ascii_case(&p.to_string()))).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_path_that_runs_here_is_picked_by_its_name() {
        let here = paths(None).unwrap();
        for p in &here {
            assert_eq!(paths(Some(&[p.to_string().to_uppercase()])).unwrap(), vec![*p]);
        }
    }

    #[test]
    fn an_unknown_name_beside_a_valid_one_is_an_error_listing_the_paths() {
        let here = paths(None).unwrap();
        let e = paths(Some(&[here[0].to_string(), "reactor/epol".into()])).unwrap_err();
        let msg = e.to_string();
        assert!(msg.contains("\"reactor/epol\""), "{msg}");
        assert!(here.iter().all(|p| msg.contains(&p.to_string())), "{msg}");
    }
}
