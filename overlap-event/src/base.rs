//! `EventBase`: the loop's state, how it is built, and what it tells about itself. The event
//! calls are in `events.rs`, the loop in `run.rs`, the cross-thread handle in `handle.rs`.

use std::collections::HashMap;
use std::fmt;
use std::io;
use std::rc::Rc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use overlap::{ReactorBackend, SignalReceiver, Token};

use crate::active::Active;
use crate::config::{features, EventConfig};
use crate::deferred::{Deferred, Later};
use crate::engine::Engine;
use crate::fdmap::FdMap;
use crate::flags::{Features, Flags};
use crate::id::Event;
use crate::method::Method;
use crate::remote::Remote;
use crate::slab::Slab;
use crate::slot::Slot;
use crate::spares::Spares;
use crate::timer::Timers;
use crate::wait::Wait;

/// An event's callback: the base (to add, delete, free and activate events, itself included,
/// and to stop the loop), the event, and what fired.
pub(crate) type Callback = Box<dyn FnMut(&mut EventBase, Event, Flags)>;

/// What another thread asks of the loop (through a [`BaseHandle`](crate::BaseHandle)).
pub(crate) enum Msg {
    /// Run this on the loop.
    Run(Box<dyn FnOnce(&mut EventBase) + Send>),
    /// Activate the event with these flags.
    Activate(Event, Flags),
    /// `loopbreak`.
    Break,
    /// `loopexit`.
    Exit(Option<Duration>),
}

/// The token of the base's waker.
pub(crate) const WAKER: Token = Token(usize::MAX - 1);
/// The token of the base's signal receiver.
pub(crate) const SIGNALS: Token = Token(usize::MAX - 2);

/// Numbers bases, so that an event of one base is refused by another.
static NEXT_BASE: AtomicU32 = AtomicU32::new(1);

/// An event loop, libevent's `event_base`: events on descriptors, timers, signals, in
/// priorities, run by [`dispatch`](EventBase::dispatch) and its variants on one thread.
///
/// A base belongs to one thread: it is neither `Send` nor `Sync`, since its callbacks may
/// hold what is not (`Rc`, `RefCell`), and its calls take `&mut self`, so no lock is taken on
/// the loop's path. Build it on the thread that runs it (one base per thread, as with
/// libevent); other threads reach a running loop through a [`BaseHandle`](crate::BaseHandle),
/// which is `Send + Sync`. Callbacks get `&mut EventBase` and may call anything on it, except
/// starting the loop again from inside it.
///
/// ```compile_fail
/// fn send<T: Send>(_: T) {}
/// send(overlap_event::EventBase::new().unwrap()); // a base stays on its thread
/// ```
pub struct EventBase {
    pub(crate) id: u32,
    /// What the loop waits in: a readiness backend or a completion port.
    pub(crate) wait: Wait,
    pub(crate) features: Features,
    /// What the last wait reported, as (token, flags), kept for the buffer.
    pub(crate) ready: Vec<(Token, Flags)>,
    pub(crate) slots: Slab<Slot<Callback>>,
    pub(crate) fds: FdMap,
    /// The timers, each naming its event by index (the slot keeps the key, which checks it).
    pub(crate) timers: Timers<u32>,
    pub(crate) active: Active,
    /// Events active now (in a queue under their current activation).
    pub(crate) n_active: usize,
    /// Events inserted or timed (what the loop waits for).
    pub(crate) n_pending: usize,
    /// Activations handed out (queue entries name theirs).
    pub(crate) activations: u32,
    /// The priority whose callback runs now.
    pub(crate) running_priority: Option<u8>,
    /// A callback activated an event of a higher priority than its own: its queue stops.
    pub(crate) preempted: bool,
    /// Events per signal number.
    pub(crate) signals: HashMap<i32, Vec<Event>>,
    /// How many times a signal arrived for an active signal event (by event index): its
    /// callback runs that many times.
    pub(crate) signal_calls: HashMap<u32, u32>,
    /// Catches the signals of `signals` (made with the first signal event).
    pub(crate) signal_rx: Option<SignalReceiver>,
    /// The cached time, refreshed once per iteration.
    pub(crate) now: Instant,
    pub(crate) running: bool,
    /// When `loopexit` asked the loop to stop.
    pub(crate) exit_at: Option<Instant>,
    pub(crate) got_exit: bool,
    pub(crate) got_break: bool,
    pub(crate) max_interval: Option<Duration>,
    pub(crate) max_callbacks: Option<usize>,
    pub(crate) limit_after: usize,
    /// What other threads ask; it holds the waker (registered under `WAKER`).
    pub(crate) remote: Arc<Remote<Msg>>,
    /// Messages taken from `remote`, kept for their buffer.
    pub(crate) inbox: Vec<Msg>,
    /// The events a poll's readiness activates, kept for the buffer.
    pub(crate) fired: Vec<(Event, Flags)>,
    /// The events whose timers expired, with their due times, kept for the buffer.
    pub(crate) expired: Vec<(Event, Instant)>,
    /// What code on this thread left without the base at hand (buffer callbacks, dropped
    /// buffered events); taken after every callback and before every wait.
    pub(crate) deferred: Rc<Deferred>,
    /// Taken from `deferred`, kept for the buffer.
    pub(crate) later: Vec<Later>,
    /// Read allocations of idle buffered events, for the busy ones.
    pub(crate) spares: Rc<Spares>,
    /// The engine of socket buffered events made without naming one.
    pub(crate) engine: Engine,
    /// The events whose ops completed in a poll, kept for the buffer.
    pub(crate) routed: Vec<(Event, crate::wait::Ticket)>,
}

impl fmt::Debug for EventBase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EventBase")
            .field("backend", &self.backend())
            .field("events", &self.slots.len())
            .field("running", &self.running)
            .finish_non_exhaustive()
    }
}

impl Drop for EventBase {
    /// Handles refuse what they are asked from now on; what they left is dropped.
    fn drop(&mut self) {
        self.remote.close();
    }
}

impl EventBase {
    /// A base on the best backend available here, with one priority.
    pub fn new() -> io::Result<EventBase> {
        EventBase::with_config(&EventConfig::new())
    }

    /// A base as `config` says. Fails with `Unsupported` (saying why) if no backend available
    /// here satisfies it, and `InvalidInput` for a number out of range.
    pub fn with_config(config: &EventConfig) -> io::Result<EventBase> {
        config.validate()?;
        let method = choose(config)?;
        let engine = match (config.engine, method) {
            (Some(Engine::Completion), Method::Reactor(b)) => {
                return Err(crate::error::completion_needs_port(&b.to_string()))
            }
            (Some(e), _) => e,
            (None, Method::Port(_)) => Engine::Completion,
            (None, Method::Reactor(_)) => Engine::Readiness,
        };
        let wait = Wait::open(method)?;
        let waker = wait.wake(WAKER)?;
        let now = Instant::now();
        Ok(EventBase {
            id: NEXT_BASE.fetch_add(1, Ordering::Relaxed),
            wait,
            features: features(method),
            ready: Vec::with_capacity(1024),
            slots: Slab::new(),
            fds: FdMap::default(),
            timers: Timers::new(now),
            active: Active::new(config.priorities),
            n_active: 0,
            n_pending: 0,
            activations: 0,
            running_priority: None,
            preempted: false,
            signals: HashMap::new(),
            signal_calls: HashMap::new(),
            signal_rx: None,
            now,
            running: false,
            exit_at: None,
            got_exit: false,
            got_break: false,
            max_interval: config.max_interval,
            max_callbacks: config.max_callbacks,
            limit_after: config.limit_after,
            remote: Arc::new(Remote::new(waker)),
            inbox: Vec::new(),
            fired: Vec::new(),
            expired: Vec::new(),
            deferred: Rc::default(),
            later: Vec::new(),
            spares: Rc::default(),
            engine,
            routed: Vec::new(),
        })
    }

    /// What the base waits in (libevent's `event_base_get_method`): a readiness backend, or
    /// a completion port. It compares equal to a [`ReactorBackend`](overlap::ReactorBackend)
    /// when it is that one.
    pub fn backend(&self) -> Method {
        self.wait.method()
    }

    /// The engine of the socket buffered events made on it without naming one
    /// ([`EventConfig::engine`]).
    pub fn engine(&self) -> Engine {
        self.engine
    }

    /// What the backend can do (libevent's `event_base_get_features`).
    pub fn features(&self) -> Features {
        self.features
    }

    /// The number of priorities (0 runs first).
    pub fn priorities(&self) -> usize {
        self.active.priorities()
    }

    /// The time cached at the start of this iteration's callbacks (libevent's
    /// `event_base_gettimeofday_cached`, on the monotonic clock): callbacks that ask for the
    /// time often get it without a system call. Outside the loop, the current time.
    pub fn now(&self) -> Instant {
        if self.running {
            self.now
        } else {
            Instant::now()
        }
    }

    /// Whether the last loop ended by [`loopexit`](EventBase::loopexit).
    pub fn got_exit(&self) -> bool {
        self.got_exit
    }

    /// Whether the last loop ended by [`loopbreak`](EventBase::loopbreak).
    pub fn got_break(&self) -> bool {
        self.got_break
    }

    /// How many events exist (made and not freed).
    pub fn num_events(&self) -> usize {
        self.slots.len()
    }

    /// How many events are pending (added) or active.
    pub fn num_pending(&self) -> usize {
        self.n_pending
    }

    /// How many events are active (queued to run).
    pub fn num_active(&self) -> usize {
        self.n_active
    }

    /// The heap memory the base's own tables hold, in bytes: its events, the descriptor map,
    /// the timers, the run queues and the routes of ops in flight (not what callbacks
    /// capture, nor the kernel's side). It goes down again after mass deletion: the tables
    /// give memory back.
    pub fn memory(&self) -> usize {
        self.slots.memory()
            + self.fds.memory()
            + self.timers.memory()
            + self.active.memory()
            + self.spares.memory()
            + self.wait.ops().1
    }

    /// How many ops the base's buffered events and listeners have on its completion port:
    /// in flight, or completed with their callback still to run (always 0 on a readiness
    /// backend, and on a port once they are all freed).
    pub fn num_ops(&self) -> usize {
        self.wait.ops().0
    }
}

/// The method `config` asks for: a port if it names one; else the readiness backend forced,
/// or the best available one that is not avoided and has the required features.
fn choose(config: &EventConfig) -> io::Result<Method> {
    if let Some(p) = config.port {
        p.check()?;
        let m = Method::Port(p);
        if !features(m).contains(config.require) {
            return Err(crate::error::no_backend(&format!("{m} lacks {:?}", config.require)));
        }
        return Ok(m);
    }
    let fits = |b: ReactorBackend| -> Result<(), String> {
        if config.avoid.contains(&b) {
            return Err(format!("{b} is avoided"));
        }
        if !features(Method::Reactor(b)).contains(config.require) {
            return Err(format!("{b} lacks {:?}", config.require));
        }
        b.check().map_err(|e| e.to_string())
    };
    let candidates = match config.backend {
        Some(b) => vec![b],
        None => ReactorBackend::available(),
    };
    let mut reasons = Vec::new();
    for b in candidates {
        match fits(b) {
            Ok(()) => return Ok(Method::Reactor(b)),
            Err(r) => reasons.push(r),
        }
    }
    if reasons.is_empty() {
        reasons.push("no backend works on this machine".into());
    }
    Err(crate::error::no_backend(&reasons.join("; ")))
}
