//! Conformance: every bad input gets a clear `io::Error` of the documented kind, a failed call
//! leaves no trace, and sources closed while registered never cause undefined behaviour.
//! Every case runs on every available backend. Runs sequentially: some cases close
//! descriptors and count on their numbers not being taken by a parallel case.

mod util;

use std::io::{ErrorKind, Write};

use overlap::{Interest, Reactor, ReactorBackend, ReadyEvents, Token, Trigger, Waker};
use util::*;

const R: Interest = Interest::READABLE;
const W: Interest = Interest::WRITABLE;
const LEVEL: Trigger = Trigger::Level;

fn kind_of(res: std::io::Result<()>, want: ErrorKind, what: &str) -> String {
    let e = res.expect_err(what);
    assert_eq!(e.kind(), want, "{what}: {e}");
    e.to_string()
}

fn register_token_twice(b: ReactorBackend) {
    let mut r = reactor(b);
    let (a, _pa) = stream_pair().unwrap();
    let (c, pc) = stream_pair().unwrap();
    r.registry().register(&a, Token(1), W, LEVEL).unwrap();
    let msg = kind_of(r.registry().register(&c, Token(1), R, LEVEL), ErrorKind::AlreadyExists, "same token");
    assert!(msg.contains("Token(1)"), "the error names the token: {msg}");
    // The failed call registered nothing: `c` is unknown, `a` still reports under its token.
    kind_of(r.registry().deregister(&c), ErrorKind::NotFound, "c was never registered");
    (&pc).write_all(b"x").unwrap();
    expect_quiet(&mut r, Token(2), "nothing under other tokens");
    let e = expect_token(&mut r, Token(1), "a, still registered", |e| e.is_writable());
    assert!(!e.is_readable(), "c's data must not show up under a's token: {e:?}");
}

fn register_source_twice(b: ReactorBackend) {
    let mut r = reactor(b);
    let (a, pa) = stream_pair().unwrap();
    r.registry().register(&a, Token(1), R, LEVEL).unwrap();
    kind_of(r.registry().register(&a, Token(1), R, LEVEL), ErrorKind::AlreadyExists, "same source, same token");
    let msg = kind_of(r.registry().register(&a, Token(2), W, LEVEL), ErrorKind::AlreadyExists, "same source");
    assert!(msg.contains(&raw_name(&a)), "the error names the source: {msg}");
    (&pa).write_all(b"x").unwrap();
    let e = expect_token(&mut r, Token(1), "the first registration, unchanged", |e| e.is_readable());
    assert!(!e.is_writable(), "interest unchanged by the failed call: {e:?}");
    expect_quiet(&mut r, Token(2), "the failed registration's token");
}

fn duplicated_descriptors_register_separately(b: ReactorBackend) {
    let mut r = reactor(b);
    let (a, pa) = stream_pair().unwrap();
    let dup = a.try_clone().unwrap();
    r.registry().register(&a, Token(1), R, LEVEL).unwrap();
    r.registry().register(&dup, Token(2), R, LEVEL).unwrap();
    (&pa).write_all(b"x").unwrap();
    expect_token(&mut r, Token(1), "original", |e| e.is_readable());
    expect_token(&mut r, Token(2), "duplicate", |e| e.is_readable());
}

fn deregister_unknown_source(b: ReactorBackend) {
    let r = reactor(b);
    let (a, _p) = stream_pair().unwrap();
    let msg = kind_of(r.registry().deregister(&a), ErrorKind::NotFound, "never registered");
    assert!(msg.contains("not registered"), "{msg}");
    r.registry().register(&a, Token(1), R, LEVEL).unwrap();
    r.registry().deregister(&a).unwrap();
    kind_of(r.registry().deregister(&a), ErrorKind::NotFound, "deregistered twice");
}

fn reregister_unknown_source(b: ReactorBackend) {
    let r = reactor(b);
    let (a, _p) = stream_pair().unwrap();
    kind_of(r.registry().reregister(&a, Token(1), R, LEVEL), ErrorKind::NotFound, "never registered");
}

fn reregister_onto_a_taken_token(b: ReactorBackend) {
    let mut r = reactor(b);
    let (a, _pa) = stream_pair().unwrap();
    let (c, _pc) = stream_pair().unwrap();
    r.registry().register(&a, Token(1), W, LEVEL).unwrap();
    r.registry().register(&c, Token(2), W, LEVEL).unwrap();
    kind_of(r.registry().reregister(&c, Token(1), W, LEVEL), ErrorKind::AlreadyExists, "token 1 is a's");
    expect_token(&mut r, Token(2), "c keeps its token", |e| e.is_writable());
    expect_token(&mut r, Token(1), "a keeps its token", |e| e.is_writable());
}

fn empty_interest(b: ReactorBackend) {
    let r = reactor(b);
    let (a, _p) = stream_pair().unwrap();
    let none = Interest::READABLE & Interest::WRITABLE;
    assert!(none.is_empty());
    let msg = kind_of(r.registry().register(&a, Token(1), none, LEVEL), ErrorKind::InvalidInput, "empty");
    assert!(msg.contains("empty"), "{msg}");
    r.registry().register(&a, Token(1), R, LEVEL).unwrap();
    kind_of(r.registry().reregister(&a, Token(1), none, LEVEL), ErrorKind::InvalidInput, "empty on reregister");
}

fn reserved_token(b: ReactorBackend) {
    let r = reactor(b);
    let (a, _p) = stream_pair().unwrap();
    let max = Token(usize::MAX);
    let msg = kind_of(r.registry().register(&a, max, R, LEVEL), ErrorKind::InvalidInput, "reserved");
    assert!(msg.contains("reserved"), "{msg}");
    kind_of(Waker::new(r.registry(), max).map(drop), ErrorKind::InvalidInput, "reserved for a waker");
    r.registry().register(&a, Token(1), R, LEVEL).unwrap();
    kind_of(r.registry().reregister(&a, max, R, LEVEL), ErrorKind::InvalidInput, "reserved on reregister");
}

fn zero_capacity_events(b: ReactorBackend) {
    let mut r = reactor(b);
    let mut events = ReadyEvents::with_capacity(0);
    let e = r.poll(&mut events, Some(std::time::Duration::ZERO)).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput, "{e}");
}

/// A descriptor number that is not open in this process.
const NOT_OPEN: i32 = 1_000_000;

#[allow(unsafe_code)]
fn closed_descriptor(b: ReactorBackend) {
    let r = reactor(b);
    // SAFETY: deliberately breaks I/O safety's promise (the number is not open) to check that
    // the reactor answers EBADF (WSAENOTSOCK) with an error; nothing reads or writes through it.
    #[cfg(unix)]
    let fd = unsafe { std::os::fd::BorrowedFd::borrow_raw(NOT_OPEN) };
    // SAFETY: as above.
    #[cfg(windows)]
    let fd = unsafe { std::os::windows::io::BorrowedSocket::borrow_raw(NOT_OPEN as u64) };
    let msg = kind_of(r.registry().register(&fd, Token(1), R, LEVEL), ErrorKind::InvalidInput, "closed fd");
    let says = if cfg!(windows) { "not an open socket" } else { "not an open file descriptor" };
    assert!(msg.contains(says), "{msg}");
    kind_of(r.registry().deregister(&fd), ErrorKind::NotFound, "closed fd, never registered");
    kind_of(r.registry().reregister(&fd, Token(1), R, LEVEL), ErrorKind::NotFound, "closed fd, never registered");
}

/// Windows: a `File` is no `Source` at all (AFD polls sockets only), which the compiler checks.
#[cfg(unix)]
fn regular_file(b: ReactorBackend) {
    let mut r = reactor(b);
    let path = std::env::temp_dir().join(format!("overlap-regular-{}-{b}", std::process::id()));
    let f = std::fs::File::create(&path).unwrap();
    let res = r.registry().register(&f, Token(1), R | W, LEVEL);
    std::fs::remove_file(&path).unwrap();
    if b == ReactorBackend::Epoll {
        let msg = kind_of(res, ErrorKind::Unsupported, "epoll refuses regular files");
        assert!(msg.contains("regular files"), "the error says why: {msg}");
        // Nothing was left behind: the same file can go to a backend that takes it.
        kind_of(r.registry().deregister(&f), ErrorKind::NotFound, "not registered after the refusal");
    } else {
        // poll(2) and kqueue accept regular files: they are always ready.
        res.unwrap();
        expect_token(&mut r, Token(1), "an always-ready regular file", |e| e.is_writable());
    }
}

fn failed_register_leaves_token_free(b: ReactorBackend) {
    let mut r = reactor(b);
    let (a, _p) = stream_pair().unwrap();
    // A call each backend refuses after the table's own checks passed.
    let res = match b {
        ReactorBackend::Poll | ReactorBackend::Afd => r.registry().register(&a, Token(1), R, Trigger::Edge),
        ReactorBackend::Kqueue => r.registry().register(&a, Token(1), Interest::PRIORITY, LEVEL),
        _ => refused_file(&r, b),
    };
    kind_of(res, ErrorKind::Unsupported, "a refused registration");
    let (c, _pc) = stream_pair().unwrap();
    r.registry().register(&c, Token(1), W, LEVEL).unwrap();
    expect_token(&mut r, Token(1), "the token was free", |e| e.is_writable());
    r.registry().register(&a, Token(2), W, LEVEL).unwrap();
}

/// Epoll refuses a regular file.
#[cfg(unix)]
fn refused_file(r: &Reactor, b: ReactorBackend) -> std::io::Result<()> {
    let path = std::env::temp_dir().join(format!("overlap-refused-{}-{b}", std::process::id()));
    let f = std::fs::File::create(&path).unwrap();
    std::fs::remove_file(&path).unwrap();
    r.registry().register(&f, Token(1), R, LEVEL)
}
#[cfg(windows)]
fn refused_file(_: &Reactor, b: ReactorBackend) -> std::io::Result<()> {
    unreachable!("{b} is not a Windows backend")
}

fn closed_while_registered(b: ReactorBackend) {
    let mut r = reactor(b);
    let (a, pa) = stream_pair().unwrap();
    r.registry().register(&a, Token(1), R, LEVEL).unwrap();
    drop(a);
    drop(pa);
    if b == ReactorBackend::Poll {
        // poll(2) says POLLNVAL: one error event, then the entry is disarmed.
        expect_token(&mut r, Token(1), "the closed descriptor's error", |e| e.is_error());
    }
    expect_quiet(&mut r, Token(1), "closed descriptors go quiet");
}

fn closed_while_registered_token_is_reusable(b: ReactorBackend) {
    let mut r = reactor(b);
    let (a, pa) = stream_pair().unwrap();
    r.registry().register(&a, Token(1), R, LEVEL).unwrap();
    drop((a, pa));
    // New sockets, probably on the same numbers; the old registration is stale.
    let (c, pc) = stream_pair().unwrap();
    r.registry().register(&c, Token(1), R, LEVEL).unwrap();
    (&pc).write_all(b"new").unwrap();
    expect_token(&mut r, Token(1), "the new source", |e| e.is_readable());
    r.registry().deregister(&c).unwrap();
}

fn closed_while_registered_number_is_reusable(b: ReactorBackend) {
    let r = reactor(b);
    let (a, pa) = stream_pair().unwrap();
    let old = raw_name(&a);
    r.registry().register(&a, Token(1), R, LEVEL).unwrap();
    drop((a, pa));
    let (c, pc) = stream_pair().unwrap();
    let reused = [&c, &pc].into_iter().find(|s| raw_name(*s) == old);
    let Some(reused) = reused else {
        // The kernel hands out the lowest free number; in this sequential suite it is `old`.
        panic!("[{b}] fd {old} was not reused; the case cannot check what it is for");
    };
    kind_of(r.registry().deregister(reused), ErrorKind::NotFound, "the reused number was never registered");
    r.registry().register(reused, Token(2), R, LEVEL).unwrap();
    r.registry().deregister(reused).unwrap();
}

fn unknown_backend_name() {
    let e = "iouring-ish".parse::<ReactorBackend>().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
    assert!(e.to_string().contains("epoll"), "{e}");
}

fn unavailable_backend() {
    let available = ReactorBackend::available();
    for b in ReactorBackend::ALL.into_iter().filter(|b| !available.contains(b)) {
        let e = Reactor::builder().backend(b).build().unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Unsupported, "{b}: {e}");
        assert!(e.to_string().contains(b.name()), "{e}");
    }
    for b in available {
        assert_eq!(Reactor::builder().backend(b).build().unwrap().backend(), b);
    }
}

fn main() {
    let cases = cases![
        register_token_twice,
        register_source_twice,
        duplicated_descriptors_register_separately,
        deregister_unknown_source,
        reregister_unknown_source,
        reregister_onto_a_taken_token,
        empty_interest,
        reserved_token,
        zero_capacity_events,
        closed_descriptor,
        #[cfg(unix)]
        regular_file,
        failed_register_leaves_token_free,
        closed_while_registered,
        closed_while_registered_token_is_reusable,
        closed_while_registered_number_is_reusable,
    ];
    let plain: Vec<(&'static str, fn())> =
        vec![("unknown_backend_name", unknown_backend_name), ("unavailable_backend", unavailable_backend)];
    run_suite("reactor_errors", cases, plain, true);
}
