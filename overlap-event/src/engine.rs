//! `Engine`: what moves a socket buffered event's bytes — non-blocking reads and writes when
//! the base says the socket is ready, or receives and sends the completion port carries out.

use std::fmt;

/// What moves the bytes of a [`BufferEvent`](crate::BufferEvent) on a socket.
///
/// | engine | how | on |
/// |---|---|---|
/// | `Readiness` | the base watches the socket; reads into reserved input space and gathered writes when it is ready | every base (default on a readiness backend) |
/// | `Completion` | a receive straight into reserved input space and sends of the output's blocks (several in flight), carried out by the port | a base waiting in a completion port: io_uring, IOCP, the emulated ports (its default there) |
///
/// Both behave alike (callbacks, watermarks, timeouts, rate limits, connect). Pick one per
/// base with [`EventConfig::engine`](crate::EventConfig::engine) or per buffered event with
/// [`BufferEvent::socket_with`](crate::BufferEvent::socket_with).
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, Hash)]
pub enum Engine {
    /// Non-blocking reads and writes on readiness (libevent's `bufferevent_sock`).
    #[default]
    Readiness,
    /// Owned-buffer receives and sends on the base's completion port (what libevent's
    /// `bufferevent_async` set out to be).
    Completion,
}

impl fmt::Display for Engine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Engine::Readiness => "readiness",
            Engine::Completion => "completion",
        })
    }
}

impl std::str::FromStr for Engine {
    type Err = std::io::Error;

    /// `readiness` or `completion`.
    fn from_str(s: &str) -> std::io::Result<Engine> {
        match s {
            "readiness" => Ok(Engine::Readiness),
            "completion" => Ok(Engine::Completion),
            _ => Err(crate::error::unknown_engine(s)),
        }
    }
}
