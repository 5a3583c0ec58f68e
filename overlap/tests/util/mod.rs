//! Shared helpers for the conformance suites: run every case on every available backend, and
//! the waits and socket plumbing the cases share.
// Each suite uses a different subset; and clippy 1.96 (the Windows job's) asks for a `const`
// initializer that `SINGLE` already has.
#![allow(dead_code, clippy::missing_const_for_thread_local)]

use std::collections::BTreeMap;
use std::io::{self, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use libtest_mimic::{Arguments, Failed, Trial};
use overlap::{Completion, CompletionPort, PortBackend, Reactor, ReactorBackend, ReadyEvent, ReadyEvents, Token};

/// How long a case waits for something that must happen: generous, for a loaded 2-core machine.
pub const PATIENCE: Duration = Duration::from_secs(20);
/// How long a case watches for something that must *not* happen. A late event on a slow
/// machine can only make such a check pass wrongly, never fail wrongly.
pub const QUIET: Duration = Duration::from_millis(150);

/// One conformance case, run once per backend (`B` is `ReactorBackend` or `PortBackend`).
pub struct Case<B> {
    pub name: &'static str,
    pub run: fn(B),
}

/// Declares cases: `cases![a, b, #[cfg(unix)] c]` with `fn a(b: ReactorBackend)` etc.
#[macro_export]
macro_rules! cases {
    ($($(#[$m:meta])* $name:ident),* $(,)?) => {
        // A case behind a `#[cfg]` that is off stays `None`.
        [$({
            #[allow(unused_assignments, unused_mut)]
            let mut case = None;
            $(#[$m])*
            {
                case = Some($crate::util::Case { name: stringify!($name), run: $name });
            }
            case
        }),*]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
    };
}

/// A connected stream pair, blocking like `UnixStream::pair`: a socketpair on Unix, a loopback
/// TCP pair on Windows (which AFD and IOCP handle like any socket).
#[cfg(unix)]
pub type Stream = std::os::unix::net::UnixStream;
/// A connected stream pair, blocking like `UnixStream::pair`: a socketpair on Unix, a loopback
/// TCP pair on Windows (which AFD and IOCP handle like any socket).
#[cfg(windows)]
pub type Stream = TcpStream;

/// A connected pair of [`Stream`]s (blocking).
pub fn stream_pair() -> io::Result<(Stream, Stream)> {
    #[cfg(unix)]
    {
        Stream::pair()
    }
    #[cfg(windows)]
    {
        let l = TcpListener::bind("127.0.0.1:0")?;
        let c = TcpStream::connect(l.local_addr()?)?;
        let (s, _) = l.accept()?;
        c.set_nodelay(true)?;
        s.set_nodelay(true)?;
        Ok((c, s))
    }
}

/// A connected datagram pair: a Unix datagram socketpair, or two loopback UDP sockets
/// connected to each other on Windows.
pub fn datagram_pair() -> io::Result<(Datagram, Datagram)> {
    #[cfg(unix)]
    {
        Datagram::pair()
    }
    #[cfg(windows)]
    {
        let a = Datagram::bind("127.0.0.1:0")?;
        let b = Datagram::bind("127.0.0.1:0")?;
        a.connect(b.local_addr()?)?;
        b.connect(a.local_addr()?)?;
        Ok((a, b))
    }
}

/// What [`datagram_pair`] makes.
#[cfg(unix)]
pub type Datagram = std::os::unix::net::UnixDatagram;
/// What [`datagram_pair`] makes.
#[cfg(windows)]
pub type Datagram = std::net::UdpSocket;

/// The raw descriptor (socket) number of `s`, as error messages print it.
#[cfg(unix)]
pub fn raw_name(s: &impl std::os::fd::AsRawFd) -> String {
    s.as_raw_fd().to_string()
}
/// The raw descriptor (socket) number of `s`, as error messages print it.
#[cfg(windows)]
pub fn raw_name(s: &impl std::os::windows::io::AsRawSocket) -> String {
    s.as_raw_socket().to_string()
}

/// The error a non-blocking `connect` gives while the handshake is under way.
#[cfg(unix)]
pub const IN_PROGRESS: i32 = libc::EINPROGRESS;
/// The error a non-blocking `connect` gives while the handshake is under way (WSAEWOULDBLOCK).
#[cfg(windows)]
pub const IN_PROGRESS: i32 = 10035;

static TALLY: Mutex<BTreeMap<String, (usize, usize)>> = Mutex::new(BTreeMap::new());

fn tally(backend: &str, passed: bool) {
    let mut t = TALLY.lock().unwrap_or_else(|p| p.into_inner());
    let e = t.entry(backend.to_string()).or_default();
    if passed {
        e.0 += 1
    } else {
        e.1 += 1
    }
}

fn run_one(label: String, f: impl FnOnce()) -> Result<(), Failed> {
    let outcome = catch_unwind(AssertUnwindSafe(f));
    tally(&label, outcome.is_ok());
    outcome.map_err(|p| {
        let msg = p
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_else(|| "panic".into());
        Failed::from(format!("[backend {label}] {msg}"))
    })
}

/// Runs `cases` on every backend of `ReactorBackend::available()`, plus `plain` cases once each, then
/// prints how many passed per backend and exits with libtest's status.
pub fn run_suite(suite: &str, cases: Vec<Case<ReactorBackend>>, plain: Vec<(&'static str, fn())>, sequential: bool) {
    run_on(suite, ReactorBackend::available(), cases, plain, sequential, &[false])
}

/// Runs `cases` on every backend of `PortBackend::available()` (see `run_suite`).
pub fn run_port_suite(suite: &str, cases: Vec<Case<PortBackend>>, plain: Vec<(&'static str, fn())>, sequential: bool) {
    run_ports(suite, cases, plain, sequential, &[false])
}

/// Like `run_port_suite`, and every case once more on single-thread ports (counted as
/// `<backend>-single`): for cases that use their port from one thread only.
pub fn run_port_suite_also_single(
    suite: &str,
    cases: Vec<Case<PortBackend>>,
    plain: Vec<(&'static str, fn())>,
    sequential: bool,
) {
    run_ports(suite, cases, plain, sequential, &[false, true])
}

fn run_ports(
    suite: &str,
    cases: Vec<Case<PortBackend>>,
    plain: Vec<(&'static str, fn())>,
    sequential: bool,
    variants: &[bool],
) {
    let backends = PortBackend::available();
    if !backends.contains(&PortBackend::Uring) {
        // Said out loud, never counted: the suite runs on the emulated backends only.
        let why = PortBackend::Uring.check().err().map(|e| e.to_string()).unwrap_or_default();
        println!("{suite}: io_uring skipped, the kernel refused it: {why}");
    }
    run_on(suite, backends, cases, plain, sequential, variants)
}

fn run_on<B: Copy + std::fmt::Display + Send + 'static>(
    suite: &str,
    backends: Vec<B>,
    cases: Vec<Case<B>>,
    plain: Vec<(&'static str, fn())>,
    sequential: bool,
    variants: &[bool],
) {
    let mut args = Arguments::from_args();
    if sequential {
        args.test_threads = Some(1);
    }
    assert!(!backends.is_empty(), "no backend available on this machine");
    let mut trials = Vec::new();
    for &b in &backends {
        for &single in variants {
            let label = if single { format!("{b}-single") } else { b.to_string() };
            for c in &cases {
                let (run, label) = (c.run, label.clone());
                trials.push(Trial::test(format!("{label}::{}", c.name), move || {
                    SINGLE.with(|s| s.set(single));
                    run_one(label, || run(b))
                }));
            }
        }
    }
    for (name, f) in plain {
        trials.push(Trial::test(format!("any::{name}"), move || run_one("any".into(), f)));
    }
    let conclusion = libtest_mimic::run(&args, trials);
    let t = TALLY.lock().unwrap_or_else(|p| p.into_inner());
    let per: Vec<String> = t.iter().map(|(b, (p, f))| format!("{b} {p} passed, {f} failed")).collect();
    println!("{suite} per backend: {}\n", per.join("; "));
    conclusion.exit();
}

/// A reactor on `b`.
pub fn reactor(b: ReactorBackend) -> Reactor {
    let r = Reactor::builder().backend(b).build().unwrap_or_else(|e| panic!("open {b}: {e}"));
    assert_eq!(r.backend(), b);
    r
}

/// Polls until an event satisfying `pred` arrives (returns it) or `PATIENCE` runs out (panics).
pub fn expect(r: &mut Reactor, what: &str, pred: impl Fn(&ReadyEvent) -> bool) -> ReadyEvent {
    let mut events = ReadyEvents::with_capacity(256);
    let deadline = Instant::now() + PATIENCE;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        assert!(!left.is_zero(), "[{}] timed out waiting for {what}", r.backend());
        r.poll(&mut events, Some(left.min(Duration::from_millis(500)))).expect("poll");
        if let Some(e) = events.iter().find(|e| pred(e)) {
            return *e;
        }
    }
}

/// Polls until `token` has an event satisfying `pred`.
pub fn expect_token(r: &mut Reactor, token: Token, what: &str, pred: impl Fn(&ReadyEvent) -> bool) -> ReadyEvent {
    expect(r, &format!("{what} on {token:?}"), |e| e.token() == token && pred(e))
}

/// Polls for `QUIET` and asserts no event for `token` arrives.
pub fn expect_quiet(r: &mut Reactor, token: Token, why: &str) {
    let mut events = ReadyEvents::with_capacity(256);
    let deadline = Instant::now() + QUIET;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return;
        }
        r.poll(&mut events, Some(left)).expect("poll");
        if let Some(e) = events.iter().find(|e| e.token() == token) {
            panic!("[{}] expected no event for {token:?} ({why}), got {e:?}", r.backend());
        }
    }
}

/// One poll of at most `QUIET`; the events it returned.
pub fn poll_once(r: &mut Reactor, timeout: Duration) -> Vec<ReadyEvent> {
    let mut events = ReadyEvents::with_capacity(1024);
    r.poll(&mut events, Some(timeout)).expect("poll");
    events.iter().copied().collect()
}

/// A connected, non-blocking TCP pair on loopback: (client, server side).
pub fn tcp_pair() -> (TcpStream, TcpStream) {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    let c = TcpStream::connect(l.local_addr().unwrap()).expect("connect");
    let (s, _) = l.accept().expect("accept");
    for x in [&c, &s] {
        x.set_nonblocking(true).unwrap();
        x.set_nodelay(true).unwrap();
    }
    (c, s)
}

/// Reads until `WouldBlock` (or end of stream); returns what was read.
pub fn drain(mut s: impl Read) -> Vec<u8> {
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match s.read(&mut buf) {
            Ok(0) => return out,
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return out,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => panic!("read: {e}"),
        }
    }
}

/// Writes all of `data` to a non-blocking stream whose buffer has room for it.
pub fn send(mut s: impl Write, data: &[u8]) {
    s.write_all(data).expect("write");
}

/// Reads exactly `n` bytes from a non-blocking stream, polling `r` while they are not there.
pub fn recv_exact(r: &mut Reactor, mut s: impl Read, n: usize) -> Vec<u8> {
    let mut out = Vec::new();
    let mut buf = vec![0u8; n];
    let deadline = Instant::now() + PATIENCE;
    while out.len() < n {
        match s.read(&mut buf[..n - out.len()]) {
            Ok(0) => panic!("[{}] end of stream after {} of {n} bytes", r.backend(), out.len()),
            Ok(k) => out.extend_from_slice(&buf[..k]),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                assert!(Instant::now() < deadline, "[{}] timed out reading", r.backend());
                let _ = poll_once(r, Duration::from_millis(100));
            }
            Err(e) => panic!("read: {e}"),
        }
    }
    out
}

/// Runs `f` on a thread and fails (instead of hanging) if it does not finish within `PATIENCE`.
pub fn within_patience<T: Send + 'static>(what: &str, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(PATIENCE).unwrap_or_else(|_| panic!("{what} did not finish within {PATIENCE:?}"))
}

/// Windows has no per-process descriptor limit to raise.
#[cfg(windows)]
pub fn raise_fd_limit() -> u64 {
    u64::MAX
}

/// Raises this process's soft descriptor limit to its hard limit (for the cases that open
/// thousands of sockets); returns the new soft limit.
#[cfg(unix)]
#[allow(unsafe_code)]
pub fn raise_fd_limit() -> u64 {
    let mut lim = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit/setrlimit read and write only the local `lim`.
    unsafe {
        assert_eq!(libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim), 0, "getrlimit");
        lim.rlim_cur = lim.rlim_max;
        libc::setrlimit(libc::RLIMIT_NOFILE, &lim);
        libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim);
    }
    #[allow(clippy::unnecessary_cast)] // rlim_t is i64 on FreeBSD
    let cur = lim.rlim_cur as u64;
    cur
}

/// How many handles this process has open (`GetProcessHandleCount`).
#[cfg(windows)]
#[allow(unsafe_code)]
pub fn open_fds() -> usize {
    use windows_sys::Win32::System::Threading::{GetCurrentProcess, GetProcessHandleCount};
    let mut n = 0u32;
    // SAFETY: writes one u32; the pseudo-handle of the current process needs no closing.
    let ok = unsafe { GetProcessHandleCount(GetCurrentProcess(), &mut n) };
    assert_ne!(ok, 0, "GetProcessHandleCount");
    n as usize
}

/// How many descriptors this process has open (`/proc/self/fd`, else `/dev/fd`).
#[cfg(unix)]
pub fn open_fds() -> usize {
    let dir = if std::path::Path::new("/proc/self/fd").exists() { "/proc/self/fd" } else { "/dev/fd" };
    std::fs::read_dir(dir).expect("list open descriptors").count()
}

std::thread_local! {
    /// Whether [`port`] builds single-thread ports: set for the `-single` variants of a suite.
    static SINGLE: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// A completion port on `b` (single-thread in a suite's `-single` variants).
pub fn port(b: PortBackend) -> CompletionPort {
    let single = SINGLE.with(|s| s.get());
    let p =
        CompletionPort::builder().backend(b).single_thread(single).build().unwrap_or_else(|e| panic!("open {b}: {e}"));
    assert_eq!((p.backend(), p.is_single_thread()), (b, single));
    p
}

/// Waits (up to `PATIENCE`) for the next completion.
pub fn next(port: &CompletionPort, what: &str) -> Completion {
    port.wait(Some(PATIENCE))
        .expect("wait")
        .unwrap_or_else(|| panic!("[{}] timed out waiting for {what}", port.backend()))
}

/// Asserts that no completion arrives within `QUIET`.
pub fn port_quiet(port: &CompletionPort, why: &str) {
    if let Some(c) = port.wait(Some(QUIET)).expect("wait") {
        panic!("[{}] expected no completion ({why}), got {c:?}", port.backend());
    }
}

/// Waits until `done()` holds, or panics after three times `PATIENCE`. For counters that worker
/// threads bump after the event a test could observe (a client reads its echo before the
/// server's thread has counted the send's completion).
pub fn until(b: PortBackend, what: &str, done: impl Fn() -> bool) {
    let deadline = Instant::now() + PATIENCE * 3;
    while !done() {
        assert!(Instant::now() < deadline, "[{b}] timed out: {what}");
        std::thread::sleep(Duration::from_millis(5)); // polling a counter, not synchronising
    }
}
