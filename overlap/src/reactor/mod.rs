//! The readiness model (libevent and epoll style): register sources with a [`Reactor`] under
//! a [`Token`](crate::Token) and an [`Interest`](crate::Interest), `poll` for their readiness,
//! do the I/O yourself.
//!
//! | file | what |
//! |---|---|
//! | `poll.rs` | [`Reactor`] and its builder: the poll loop |
//! | `registry.rs` | [`Registry`]: registers sources, from any thread |
//! | `registrations.rs` | the registration table: which source holds which token |
//! | `waker.rs` | [`Waker`]: wakes a blocked poll from any thread |
//! | `events.rs` | [`ReadyEvents`]: the batch a poll fills |
//! | `source.rs` | [`Source`]: what can be registered |
//! | `backend.rs` | [`ReactorBackend`]: which selector, chosen at run time |
//! | `shared.rs` | what a reactor, its registries and its waker share |
//!
//! The tokens, interests, triggers and events themselves are in `contract/`, the floor the
//! selectors in `sys/` speak.

pub(crate) mod backend;
pub(crate) mod events;
pub(crate) mod poll;
pub(crate) mod registrations;
pub(crate) mod registry;
pub(crate) mod shared;
pub(crate) mod source;
pub(crate) mod waker;

pub use backend::ReactorBackend;
pub use events::ReadyEvents;
pub use poll::{Reactor, ReactorBuilder};
pub use registry::Registry;
pub use source::Source;
#[cfg(unix)]
pub use source::SourceFd;
#[cfg(windows)]
pub use source::SourceSocket;
pub use waker::Waker;
