//! Shared helpers of the event loop's conformance suites: every case on every available
//! backend, a watchdog that stops a loop that would hang, and socket plumbing.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use libtest_mimic::{Arguments, Failed, Trial};
use overlap_event::{Engine, EventBase, EventConfig, Fd, LoopEnd, Method};

/// How long a case waits for something that must happen: generous, for a loaded machine.
pub const PATIENCE: Duration = Duration::from_secs(20);

/// One case, run once per backend.
pub struct Case {
    pub name: &'static str,
    pub run: fn(Method),
}

/// Declares cases: `cases![a, b]` with `fn a(b: Method)`.
#[macro_export]
macro_rules! cases {
    ($($name:ident),* $(,)?) => {
        vec![$($crate::util::Case { name: stringify!($name), run: $name }),*]
    };
}

static TALLY: Mutex<BTreeMap<String, (usize, usize)>> = Mutex::new(BTreeMap::new());

/// Runs `cases` on every available backend, prints the count per backend, exits with
/// libtest's status.
pub fn run_suite(suite: &str, cases: Vec<Case>) {
    run_suite_with(suite, cases, false)
}

/// Clippy 1.96 (the Windows build's) asks for the `const` block this already has.
#[allow(clippy::missing_const_for_thread_local)]
mod slot {
    std::thread_local! {
        /// The engine `base` and `base_with` give the bases of the case running on this
        /// thread (`None`: the base's default).
        pub static ENGINE: std::cell::Cell<Option<overlap_event::Engine>> = const { std::cell::Cell::new(None) };
    }
}
use slot::ENGINE;

/// Like `run_suite`, one case at a time if `sequential` (signals are process-wide).
pub fn run_suite_with(suite: &str, cases: Vec<Case>, sequential: bool) {
    let setups = Method::available().into_iter().map(|b| (b.to_string(), b, None)).collect();
    run_setups(suite, cases, sequential, setups)
}

/// Runs buffered-event `cases` on every method with each engine it has: a readiness
/// backend with readiness; a completion port with completion (its default, named as the
/// method) and with readiness (named `method/readiness`).
pub fn run_engine_suite(suite: &str, cases: Vec<Case>, sequential: bool) {
    let mut setups = Vec::new();
    for b in Method::available() {
        setups.push((b.to_string(), b, None));
        if b.reactor().is_none() {
            setups.push((format!("{b}/readiness"), b, Some(Engine::Readiness)));
        }
    }
    run_setups(suite, cases, sequential, setups)
}

/// The engine the bases of this case get (its setup's, or the method's default).
pub fn engine_of(b: Method) -> Engine {
    ENGINE.with(|e| e.get()).unwrap_or(if b.reactor().is_some() { Engine::Readiness } else { Engine::Completion })
}

fn run_setups(suite: &str, cases: Vec<Case>, sequential: bool, setups: Vec<(String, Method, Option<Engine>)>) {
    let mut args = Arguments::from_args();
    if sequential {
        args.test_threads = Some(1);
    }
    assert!(!setups.is_empty(), "no backend available on this machine");
    let mut trials = Vec::new();
    for (name, b, engine) in setups {
        for c in &cases {
            let (run, name) = (c.run, name.clone());
            trials.push(Trial::test(format!("{name}::{}", c.name), move || {
                ENGINE.with(|e| e.set(engine));
                let res = catch_unwind(AssertUnwindSafe(|| run(b)));
                ENGINE.with(|e| e.set(None));
                let b = &name;
                let mut t = TALLY.lock().unwrap_or_else(|p| p.into_inner());
                let e = t.entry(b.to_string()).or_default();
                match res {
                    Ok(()) => {
                        e.0 += 1;
                        Ok(())
                    }
                    Err(p) => {
                        e.1 += 1;
                        let msg = p
                            .downcast_ref::<String>()
                            .cloned()
                            .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                            .unwrap_or_default();
                        Err(Failed::from(format!("[{b}] {msg}")))
                    }
                }
            }));
        }
    }
    let conclusion = libtest_mimic::run(&args, trials);
    let t = TALLY.lock().unwrap_or_else(|p| p.into_inner());
    let per: Vec<String> = t.iter().map(|(b, (p, f))| format!("{b} {p} passed, {f} failed")).collect();
    println!("{suite} per backend: {}\n", per.join("; "));
    conclusion.exit();
}

/// A base on `b`.
pub fn base(b: Method) -> EventBase {
    base_with(b, EventConfig::new())
}

/// A base on `b` built from `config`.
pub fn base_with(b: Method, config: EventConfig) -> EventBase {
    let config = match ENGINE.with(|e| e.get()) {
        Some(engine) => config.engine(engine),
        None => config,
    };
    let base = EventBase::with_config(&config.method(b)).unwrap_or_else(|e| panic!("open {b}: {e}"));
    assert_eq!(base.backend(), b);
    assert_eq!(base.engine(), engine_of(b));
    base
}

/// Stops a loop that runs longer than `PATIENCE` (through the base's handle) and says so.
pub struct Watchdog {
    done: Option<mpsc::Sender<()>>,
    fired: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Watchdog {
    pub fn new(base: &EventBase) -> Watchdog {
        let (tx, rx) = mpsc::channel::<()>();
        let fired = Arc::new(AtomicBool::new(false));
        let (h, f) = (base.handle(), fired.clone());
        let thread = std::thread::spawn(move || {
            if let Err(mpsc::RecvTimeoutError::Timeout) = rx.recv_timeout(PATIENCE) {
                f.store(true, Ordering::SeqCst);
                let _ = h.loopbreak();
            }
        });
        Watchdog { done: Some(tx), fired, thread: Some(thread) }
    }
    pub fn fired(&self) -> bool {
        self.fired.load(Ordering::SeqCst)
    }
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        self.done.take();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Runs `base.dispatch()` under a watchdog; panics if it had to stop it.
pub fn dispatch(base: &mut EventBase) -> LoopEnd {
    let dog = Watchdog::new(base);
    let end = base.dispatch().expect("dispatch");
    assert!(!dog.fired(), "[{}] the loop ran for {PATIENCE:?}: something that must happen did not", base.backend());
    end
}

/// A connected stream pair: a socketpair on Unix, a loopback TCP pair on Windows.
#[cfg(unix)]
pub type Stream = std::os::unix::net::UnixStream;
/// A connected stream pair: a socketpair on Unix, a loopback TCP pair on Windows.
#[cfg(windows)]
pub type Stream = std::net::TcpStream;

/// A connected pair, both ends non-blocking.
pub fn pair() -> (Stream, Stream) {
    #[cfg(unix)]
    let (a, b) = Stream::pair().unwrap();
    #[cfg(windows)]
    let (a, b) = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let c = Stream::connect(l.local_addr().unwrap()).unwrap();
        let (s, _) = l.accept().unwrap();
        (c, s)
    };
    a.set_nonblocking(true).unwrap();
    b.set_nonblocking(true).unwrap();
    (a, b)
}

/// The descriptor of `s`, as events name it.
#[cfg(unix)]
pub fn fd(s: &impl std::os::fd::AsRawFd) -> Fd {
    s.as_raw_fd()
}
/// The descriptor of `s`, as events name it.
#[cfg(windows)]
pub fn fd(s: &impl std::os::windows::io::AsRawSocket) -> Fd {
    s.as_raw_socket()
}

/// A shared log the callbacks write to.
pub type Log<T> = std::rc::Rc<std::cell::RefCell<Vec<T>>>;

/// An empty log.
pub fn log<T>() -> Log<T> {
    Default::default()
}

/// How many descriptors this process has open (Linux: the entries of `/proc/self/fd`; the
/// directory handle that lists them is not counted).
#[cfg(target_os = "linux")]
pub fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").expect("/proc/self/fd").count().saturating_sub(1)
}

/// Writes to the non-blocking `s` until the kernel takes no more; returns how many bytes.
pub fn fill(s: &mut Stream) -> usize {
    use std::io::Write;
    let chunk = [0x5au8; 16 * 1024];
    let mut total = 0;
    loop {
        match s.write(&chunk) {
            Ok(n) => total += n,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return total,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => panic!("fill: {e}"),
        }
    }
}

/// Reads from the non-blocking `s` until nothing is left now; returns how many bytes (and
/// whether it saw the end of the stream).
pub fn drain(s: &mut Stream) -> (usize, bool) {
    use std::io::Read;
    let mut buf = [0u8; 16 * 1024];
    let mut total = 0;
    loop {
        match s.read(&mut buf) {
            Ok(0) => return (total, true),
            Ok(n) => total += n,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return (total, false),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => panic!("drain: {e}"),
        }
    }
}

/// A shared counter the callbacks bump.
pub type Counter = std::rc::Rc<std::cell::Cell<usize>>;

/// A counter at zero.
pub fn counter() -> Counter {
    Default::default()
}
