//! `EventConfig`: how an [`EventBase`](crate::EventBase) is built (libevent's
//! `event_config`).

use std::io;
use std::time::Duration;

use overlap::{PortBackend, ReactorBackend};

use crate::engine::Engine;
use crate::method::Method;

use crate::flags::Features;

/// The most priorities a base can have (libevent's `EVENT_MAX_PRIORITIES`).
pub const MAX_PRIORITIES: usize = 256;

/// How an [`EventBase`](crate::EventBase) is built: the backend (chosen, avoided, or by the
/// features it must have), the number of priorities, and how long one priority may run
/// before the loop looks at timers and the kernel again.
#[derive(Clone, Debug)]
pub struct EventConfig {
    pub(crate) backend: Option<ReactorBackend>,
    pub(crate) port: Option<PortBackend>,
    pub(crate) avoid: Vec<ReactorBackend>,
    pub(crate) require: Features,
    pub(crate) priorities: usize,
    pub(crate) max_interval: Option<Duration>,
    pub(crate) max_callbacks: Option<usize>,
    pub(crate) limit_after: usize,
    pub(crate) engine: Option<Engine>,
}

impl Default for EventConfig {
    fn default() -> EventConfig {
        EventConfig {
            backend: None,
            port: None,
            avoid: Vec::new(),
            require: Features::NONE,
            priorities: 1,
            max_interval: None,
            max_callbacks: None,
            limit_after: 0,
            engine: None,
        }
    }
}

impl EventConfig {
    /// The default: the best backend available, one priority, no dispatch limits.
    pub fn new() -> EventConfig {
        EventConfig::default()
    }
    /// Uses `backend` (building fails if it is not available here or lacks a required feature).
    pub fn backend(mut self, backend: ReactorBackend) -> EventConfig {
        self.backend = Some(backend);
        self
    }
    /// Waits in a completion port on `port` instead of a readiness backend: events on
    /// descriptors become readiness ops on the port (level-triggered only: no ET, no CLOSED
    /// alone), and the port's completions arrive in the same wait (libevent's
    /// `event_base_start_iocp`), on every OS (IOCP on Windows).
    pub fn port(mut self, port: PortBackend) -> EventConfig {
        self.port = Some(port);
        self
    }
    /// The engine of the base's socket buffered events (each may pick its own with
    /// [`BufferEvent::socket_with`](crate::BufferEvent::socket_with)). By default completion
    /// on a base that waits in a port, readiness otherwise; completion on a readiness backend
    /// fails to build with `Unsupported`.
    pub fn engine(mut self, engine: Engine) -> EventConfig {
        self.engine = Some(engine);
        self
    }
    /// Waits in `method` (a readiness backend or a completion port).
    pub fn method(self, method: Method) -> EventConfig {
        match method {
            Method::Reactor(b) => self.backend(b),
            Method::Port(p) => self.port(p),
        }
    }
    /// Never uses `backend` (libevent's `event_config_avoid_method`).
    pub fn avoid(mut self, backend: ReactorBackend) -> EventConfig {
        self.avoid.push(backend);
        self
    }
    /// Uses only a backend with these features (libevent's `event_config_require_features`).
    pub fn require(mut self, features: Features) -> EventConfig {
        self.require = self.require | features;
        self
    }
    /// `n` priorities, 0 (runs first) to `n - 1`; events start at `n / 2`, as in libevent
    /// (`event_base_priority_init`). 1 to [`MAX_PRIORITIES`].
    pub fn priorities(mut self, n: usize) -> EventConfig {
        self.priorities = n;
        self
    }
    /// Bounds how long the callbacks of one priority run before the loop checks timers and
    /// the kernel again (libevent's `event_config_set_max_dispatch_interval`): `interval`
    /// (`None`: no bound) and at most `callbacks` callbacks (`None`: no bound), applied to
    /// priorities `limit_after` and lower (numerically higher). A busy priority then cannot
    /// starve timers for ever.
    pub fn max_dispatch(
        mut self,
        interval: Option<Duration>,
        callbacks: Option<usize>,
        limit_after: usize,
    ) -> EventConfig {
        self.max_interval = interval;
        self.max_callbacks = callbacks;
        self.limit_after = limit_after;
        self
    }

    /// Checks the numbers (the backend is checked when the base is built).
    pub(crate) fn validate(&self) -> io::Result<()> {
        if self.priorities == 0 || self.priorities > MAX_PRIORITIES {
            return Err(crate::error::priorities_count(self.priorities, MAX_PRIORITIES));
        }
        Ok(())
    }
}

/// What `backend` can do.
pub(crate) fn features(method: Method) -> Features {
    let backend = match method {
        Method::Reactor(b) => b,
        // Readiness waits are ops: any number at O(1) each, level-triggered only, no CLOSED
        // alone (a readiness op does not wait for the peer's close by itself).
        Method::Port(_) => return Features::O1,
    };
    match backend {
        ReactorBackend::Epoll => Features::EDGE_TRIGGERED | Features::O1 | Features::EARLY_CLOSE,
        ReactorBackend::Kqueue => Features::EDGE_TRIGGERED | Features::O1 | Features::FDS,
        // POLLRDHUP is Linux's.
        ReactorBackend::Poll if cfg!(any(target_os = "linux", target_os = "android")) => {
            Features::FDS | Features::EARLY_CLOSE
        }
        ReactorBackend::Poll => Features::FDS,
        ReactorBackend::Afd => Features::O1 | Features::EARLY_CLOSE,
        _ => Features::NONE,
    }
}
