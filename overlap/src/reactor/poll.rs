//! `Reactor`: the readiness model's poll loop, and its builder.

use std::io;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::backend::ReactorBackend;
use super::events::ReadyEvents;
use super::registrations::Table;
use super::registry::Registry;
use super::shared::Shared;
use crate::contract::ready::{flags, ReadyEvent};
use crate::contract::token::Token;
use crate::error;
use crate::sys::selector::AnySelector;

/// A readiness event loop core: register sources, then `poll` for their readiness.
///
/// ```
/// use std::io::Write;
/// use std::net::{TcpListener, TcpStream};
/// use std::time::Duration;
/// use overlap::{ReadyEvents, Interest, Reactor, Token, Trigger};
///
/// let mut reactor = Reactor::new()?;
/// let listener = TcpListener::bind("127.0.0.1:0")?;
/// let mut b = TcpStream::connect(listener.local_addr()?)?;
/// let (a, _) = listener.accept()?;
/// reactor.registry().register(&a, Token(7), Interest::READABLE, Trigger::Level)?;
/// b.write_all(b"ping")?;
/// let mut events = ReadyEvents::with_capacity(64);
/// reactor.poll(&mut events, Some(Duration::from_secs(5)))?;
/// let ev = events.iter().next().expect("an event");
/// assert_eq!(ev.token(), Token(7));
/// assert!(ev.is_readable());
/// # Ok::<(), std::io::Error>(())
/// ```
///
/// `poll` takes `&mut self`: one thread polls a reactor. Registration goes through
/// [`Registry`], which is `Clone + Send + Sync` and may be used from any thread, also while
/// `poll` is blocked (the new registration is watched by that same poll).
#[derive(Debug)]
pub struct Reactor {
    registry: Registry,
}

/// Chooses how a [`Reactor`] is built.
#[derive(Debug, Default, Clone)]
pub struct ReactorBuilder {
    backend: Option<ReactorBackend>,
}

impl ReactorBuilder {
    /// Forces a backend. An unknown name is caught by [`ReactorBackend::from_str`](std::str::FromStr);
    /// a backend not available here makes [`build`](Self::build) fail with `Unsupported`.
    pub fn backend(mut self, backend: ReactorBackend) -> Self {
        self.backend = Some(backend);
        self
    }

    /// Opens the reactor: the forced backend, or the best available one.
    pub fn build(self) -> io::Result<Reactor> {
        let (selector, backend) = match self.backend {
            Some(b) => (b.open()?, b),
            None => open_best()?,
        };
        let shared = Shared { selector, backend, table: Mutex::new(Table::default()), wake: AtomicUsize::new(0) };
        Ok(Reactor { registry: Registry { shared: Arc::new(shared) } })
    }
}

/// The default backend, else the next in order of preference that opens.
fn open_best() -> io::Result<(AnySelector, ReactorBackend)> {
    let first = ReactorBackend::default();
    let mut err = match first.open() {
        Ok(s) => return Ok((s, first)),
        Err(e) => e,
    };
    for b in ReactorBackend::ALL.into_iter().filter(|b| *b != first && b.compiled()) {
        match b.open() {
            Ok(s) => return Ok((s, b)),
            Err(e) => err = e,
        }
    }
    Err(err)
}

impl Reactor {
    /// Opens a reactor on the best backend available here (see [`ReactorBackend::default`]).
    pub fn new() -> io::Result<Reactor> {
        ReactorBuilder::default().build()
    }

    /// A builder, to force a backend.
    pub fn builder() -> ReactorBuilder {
        ReactorBuilder::default()
    }

    /// The backend this reactor runs on.
    pub fn backend(&self) -> ReactorBackend {
        self.registry.shared.backend
    }

    /// The handle that registers sources; clone it to register from other threads.
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// Waits for readiness and fills `events` with at most `events.capacity()` events.
    ///
    /// - `None` waits until an event or a [`Waker`](crate::Waker) wake;
    /// - `Some(Duration::ZERO)` does not block;
    /// - `Some(t)` returns empty after at least `t` (rounded up to the backend's resolution,
    ///   a millisecond for epoll and poll); it never returns early, also not when a signal
    ///   interrupts the wait (`EINTR` is retried with the time that is left).
    ///
    /// # Errors
    ///
    /// `InvalidInput` for `ReadyEvents::with_capacity(0)`; otherwise what the kernel reports.
    pub fn poll(&mut self, events: &mut ReadyEvents, timeout: Option<Duration>) -> io::Result<()> {
        events.list.clear();
        if events.capacity == 0 {
            return Err(error::zero_capacity());
        }
        let shared = &*self.registry.shared;
        let start = Instant::now();
        // `None` when waiting for ever, also for timeouts too large for an `Instant`.
        let deadline = timeout.and_then(|t| start.checked_add(t));
        loop {
            let pending = shared.wake.load(Ordering::Acquire) != 0;
            let wait = match (pending, deadline) {
                (true, _) => Some(Duration::ZERO),
                (false, None) => None,
                (false, Some(d)) => Some(d.saturating_duration_since(Instant::now())),
            };
            shared.selector.select(&mut events.list, events.capacity, wait)?;
            self.take_wake(events);
            if !events.list.is_empty() || timeout == Some(Duration::ZERO) {
                return Ok(());
            }
            if deadline.is_some_and(|d| Instant::now() >= d) {
                return Ok(());
            }
        }
    }

    /// Reports a pending wake as one event (many wakes coalesce into it).
    fn take_wake(&self, events: &mut ReadyEvents) {
        let wake = &self.registry.shared.wake;
        if events.list.len() >= events.capacity || wake.load(Ordering::Acquire) == 0 {
            return;
        }
        let pending = wake.swap(0, Ordering::AcqRel);
        if pending != 0 {
            events.list.push(ReadyEvent::new(Token(pending - 1), flags::READABLE));
        }
    }
}
