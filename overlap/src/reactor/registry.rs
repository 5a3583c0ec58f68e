//! `Registry`: registers sources with a reactor, from any thread.

use std::io;
use std::sync::Arc;

use super::backend::ReactorBackend;
use super::shared::Shared;
use super::source::Source;
use crate::contract::interest::{Interest, Trigger};
use crate::contract::token::Token;

/// Registers sources with a [`Reactor`](crate::Reactor); `Clone + Send + Sync`.
///
/// # Errors every call can return
///
/// - `InvalidInput`: an empty interest, the reserved `Token(usize::MAX)`, a closed descriptor;
/// - `AlreadyExists`: `register` of a token or a source that is already registered;
/// - `NotFound`: `reregister`/`deregister` of a source that is not registered;
/// - `Unsupported`: a trigger or interest the backend cannot do (`Edge` on poll), or a source
///   the backend cannot watch (a regular file on epoll).
///
/// # Closing a source while it is registered
///
/// Deregister before closing. If you do not, nothing undefined happens:
/// - epoll and kqueue drop the registration when the last descriptor of the file closes (no
///   more events); with epoll a registration belongs to the open file, so a `dup`licated
///   descriptor keeps it alive, and its events keep coming under the old token;
/// - poll reports one event with `is_error()` (the kernel's `POLLNVAL`) and then stays quiet;
///   if the number is reused before that poll, it watches the new file under the old token;
/// - the token and the descriptor number become free again as soon as a new registration
///   needs them (see the identity check in the registration table's docs).
#[derive(Debug, Clone)]
pub struct Registry {
    pub(crate) shared: Arc<Shared>,
}

impl Registry {
    /// Starts watching `source` for `interest`, reported under `token` per `trigger`.
    pub fn register<S: Source + ?Sized>(
        &self,
        source: &S,
        token: Token,
        interest: Interest,
        trigger: Trigger,
    ) -> io::Result<()> {
        let s = &*self.shared;
        s.table().register(&s.selector, source.raw_source(), token, interest, trigger)
    }

    /// Changes the token, interest or trigger of a registered source, and re-arms a oneshot one.
    pub fn reregister<S: Source + ?Sized>(
        &self,
        source: &S,
        token: Token,
        interest: Interest,
        trigger: Trigger,
    ) -> io::Result<()> {
        let s = &*self.shared;
        s.table().reregister(&s.selector, source.raw_source(), token, interest, trigger)
    }

    /// Stops watching `source`. A poll that starts afterwards reports nothing for it; a poll
    /// already running in another thread may still report an event it had collected.
    pub fn deregister<S: Source + ?Sized>(&self, source: &S) -> io::Result<()> {
        let s = &*self.shared;
        s.table().deregister(&s.selector, source.raw_source())
    }

    /// The backend of the reactor this registry belongs to.
    pub fn backend(&self) -> ReactorBackend {
        self.shared.backend
    }
}
