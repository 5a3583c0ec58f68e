//! The kqueue(2) backend (FreeBSD, NetBSD, OpenBSD, DragonFly, Apple systems).
//!
//! Registrations live in the kernel, one knote per (descriptor, filter): readable is
//! `EVFILT_READ`, writable `EVFILT_WRITE`, each carrying the token in `udata`, so one source can
//! give two events with one token. The notifier is an `EVFILT_USER` knote (`EV_CLEAR`: triggers
//! coalesce until one is delivered); it needs NetBSD 10 or OpenBSD 7.8 on those systems.
//!
//! Changes go to the kernel in one `kevent` call with `EV_RECEIPT`, so each comes back with its
//! own errno. Re-adding an existing knote updates only its `udata`, `fflags` and `data`, not its
//! `EV_CLEAR`/`EV_DISPATCH`, so `reregister` deletes both knotes and adds new ones: that applies
//! a new trigger, re-arms a oneshot (`EV_DISPATCH`) knote, and reports a source that is ready
//! now, as `EPOLL_CTL_MOD` does. Priority interest is refused: kqueue has no portable filter for
//! out-of-band data.
//!
//! `EV_ADD` of a knote that exists quietly modifies it, so the selector also keeps the set of
//! descriptors registered with it: `register` of one of them is `AlreadyExists`, as with poll
//! (the registration table asks the backend when a source with an unchanged identity is
//! registered again).
#![allow(unsafe_code)]

use crate::int_map::IntSet;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::ptr;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use super::fd::cvt;
use crate::contract::interest::{Interest, Trigger};
use crate::contract::ready::{flags, ReadyEvent};
use crate::contract::selector;
use crate::contract::token::Token;
use crate::error;

// The field and count types of `struct kevent` and `kevent(2)` differ on NetBSD.
#[cfg(netbsd_kevent)]
type Filter = u32;
#[cfg(netbsd_kevent)]
type Flags = u32;
#[cfg(netbsd_kevent)]
type Count = libc::size_t;
#[cfg(not(netbsd_kevent))]
type Filter = i16;
#[cfg(not(netbsd_kevent))]
type Flags = u16;
#[cfg(not(netbsd_kevent))]
type Count = libc::c_int;

/// The ident of the notifier's `EVFILT_USER` knote (user knotes have an ident space of their
/// own, apart from descriptors).
const NOTIFY_IDENT: usize = 0;
/// The most events one select fetches, whatever the caller's capacity.
const MAX_BATCH: usize = 1 << 16;
/// The longest wait asked of the kernel: macOS fails a timeout above 10^8 s with `EINVAL`.
const MAX_WAIT_SECS: u64 = 100_000_000;

/// A kqueue, whose `EVFILT_USER` knote is the notifier.
#[derive(Debug)]
pub(crate) struct Selector {
    kq: OwnedFd,
    /// The descriptors registered here (see the module docs).
    registered: Mutex<IntSet<RawFd>>,
    /// What kevent fills; locked only by the one thread that polls.
    scratch: Mutex<Scratch>,
}

/// The buffer kevent fills. `libc::kevent` holds `udata` as a raw pointer, which makes it
/// neither `Send` nor `Sync`; ours carry tokens (integers), never dereferenced.
#[derive(Debug, Default)]
struct Scratch(Vec<libc::kevent>);

// SAFETY: the only pointer in a `kevent` is `udata`, which this backend uses as an integer (the
// token); nothing reads through it, so moving the buffer between threads is harmless.
unsafe impl Send for Scratch {}

/// A change record; every field not named (FreeBSD's `ext`, for one) is zero.
fn change(ident: usize, filter: Filter, flags: Flags, fflags: u32, udata: usize) -> libc::kevent {
    // SAFETY: `libc::kevent` holds only integers, arrays of integers and a raw pointer, for all
    // of which all-zero bytes are a valid value (0, and the null pointer).
    let mut k: libc::kevent = unsafe { std::mem::zeroed() };
    k.ident = ident;
    k.filter = filter;
    k.flags = flags;
    k.fflags = fflags;
    k.udata = udata as _; // `*mut c_void`, or `intptr_t` in older NetBSD bindings
    k
}

/// `EV_DELETE` of both filters of `fd`.
fn deletions(fd: RawFd) -> [libc::kevent; 2] {
    [libc::EVFILT_READ, libc::EVFILT_WRITE].map(|filter| change(fd as usize, filter, libc::EV_DELETE, 0, 0))
}

fn event_flags(ev: &libc::kevent) -> u8 {
    let eof = ev.flags & libc::EV_EOF != 0;
    let mut f = match ev.filter {
        libc::EVFILT_READ if eof => flags::READABLE | flags::READ_CLOSED,
        libc::EVFILT_READ => flags::READABLE,
        libc::EVFILT_WRITE if eof => flags::WRITABLE | flags::WRITE_CLOSED,
        libc::EVFILT_WRITE => flags::WRITABLE,
        _ => 0,
    };
    // With EV_EOF a socket's pending error (so_error) is in `fflags`.
    if (eof && ev.fflags != 0) || ev.flags & libc::EV_ERROR != 0 {
        f |= flags::ERROR;
    }
    f
}

fn timespec(t: Duration) -> libc::timespec {
    // kevent takes nanoseconds: nothing to round. A longer wait is cut, and the reactor waits
    // again for the rest.
    libc::timespec { tv_sec: t.as_secs().min(MAX_WAIT_SECS) as libc::time_t, tv_nsec: t.subsec_nanos() as libc::c_long }
}

/// Why kqueue cannot watch for `interest`, if it cannot.
fn refuse(interest: Interest) -> io::Result<()> {
    if interest.is_priority() {
        return Err(error::priority_unsupported("kqueue"));
    }
    if interest.is_read_closed() && !interest.is_readable() {
        // EVFILT_READ fires for data as well as for EV_EOF: there is no close-only filter.
        return Err(error::read_closed_unsupported("kqueue"));
    }
    Ok(())
}

impl Selector {
    fn registered(&self) -> MutexGuard<'_, IntSet<RawFd>> {
        // Every update is a single insert or remove: no half-done state to protect.
        self.registered.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Adds the knotes `interest` asks for; on failure, deletes them again.
    fn add(&self, fd: RawFd, token: Token, interest: Interest, trigger: Trigger) -> io::Result<()> {
        refuse(interest)?;
        let mode = libc::EV_ADD
            | match trigger {
                Trigger::Level => 0,
                Trigger::Edge => libc::EV_CLEAR,
                Trigger::Oneshot => libc::EV_DISPATCH,
            };
        let mut both = [libc::EVFILT_READ, libc::EVFILT_WRITE].map(|f| change(fd as usize, f, mode, 0, token.0));
        let adds = match (interest.is_readable(), interest.is_writable()) {
            (true, true) => &mut both[..],
            (true, false) => &mut both[..1],
            (false, true) => &mut both[1..],
            (false, false) => &mut both[..0],
        };
        self.apply(adds).map(drop).inspect_err(|_| {
            // Leave no half registration behind (the callers deleted both knotes, or had none).
            let _ = self.apply(&mut deletions(fd));
        })
    }

    /// Deletes both knotes of `fd`; `NotFound` if neither was there.
    fn delete(&self, fd: RawFd) -> io::Result<()> {
        match self.apply(&mut deletions(fd))? {
            2 => Err(io::ErrorKind::NotFound.into()),
            _ => Ok(()),
        }
    }

    /// Submits `changes` in one call, each with `EV_RECEIPT` so that each reports its own
    /// errno. Returns how many failed with `ENOENT` (a deletion of a knote that is not there;
    /// additions and triggers never report it); any other failure is returned as an error,
    /// after the kernel has applied the other changes.
    fn apply(&self, changes: &mut [libc::kevent]) -> io::Result<usize> {
        if changes.is_empty() {
            return Ok(0);
        }
        for c in changes.iter_mut() {
            c.flags |= libc::EV_RECEIPT;
        }
        let n = changes.len() as Count;
        let p = changes.as_mut_ptr();
        // With EV_RECEIPT on every change the kernel writes one receipt per change, at most
        // `n`, each after reading its change, and does not wait for events.
        // SAFETY: `p` points to `n` initialised kevents, read as changes, overwritten by receipts.
        let got = cvt(unsafe { libc::kevent(self.kq.as_raw_fd(), p, n, p, n, ptr::null()) })?;
        let mut missing = 0;
        let mut failure = None;
        for r in &changes[..got as usize] {
            let errno = if r.flags & libc::EV_ERROR != 0 { r.data as libc::c_int } else { 0 };
            match errno {
                0 => {}
                libc::ENOENT => missing += 1,
                e => failure = failure.or(Some(e)),
            }
        }
        match failure {
            Some(e) => Err(io::Error::from_raw_os_error(e)),
            None => Ok(missing),
        }
    }
}

impl selector::Selector for Selector {
    fn new() -> io::Result<Selector> {
        // SAFETY: kqueue takes no arguments; a non-negative return is a new descriptor.
        let kq = cvt(unsafe { libc::kqueue() })?;
        // SAFETY: `kq` was just created and is owned by nobody else.
        let kq = unsafe { OwnedFd::from_raw_fd(kq) };
        // SAFETY: a plain fcntl on a descriptor we own; no memory is passed.
        cvt(unsafe { libc::fcntl(kq.as_raw_fd(), libc::F_SETFD, libc::FD_CLOEXEC) })?;
        let sel = Selector { kq, registered: Mutex::default(), scratch: Mutex::default() };
        sel.apply(&mut [change(NOTIFY_IDENT, libc::EVFILT_USER, libc::EV_ADD | libc::EV_CLEAR, 0, 0)])?;
        Ok(sel)
    }

    fn register(&self, fd: RawFd, token: Token, interest: Interest, trigger: Trigger) -> io::Result<()> {
        let mut registered = self.registered();
        if registered.contains(&fd) {
            return Err(io::ErrorKind::AlreadyExists.into());
        }
        self.add(fd, token, interest, trigger)?;
        registered.insert(fd);
        Ok(())
    }

    fn reregister(&self, fd: RawFd, token: Token, interest: Interest, trigger: Trigger) -> io::Result<()> {
        refuse(interest)?; // before the old knotes are deleted
        let mut registered = self.registered();
        self.delete(fd).inspect_err(|e| {
            if e.kind() == io::ErrorKind::NotFound {
                registered.remove(&fd); // the kernel dropped it: the descriptor was closed
            }
        })?;
        self.add(fd, token, interest, trigger)
    }

    fn deregister(&self, fd: RawFd) -> io::Result<()> {
        let mut registered = self.registered();
        registered.remove(&fd);
        self.delete(fd)
    }

    fn select(&self, out: &mut Vec<ReadyEvent>, max: usize, timeout: Option<Duration>) -> io::Result<bool> {
        // One kevent call per select: a second call would see the level-triggered knotes the
        // first one reported again (the kernel re-queues them).
        let room = max.saturating_sub(out.len()).clamp(1, MAX_BATCH);
        let limit = timeout.map(timespec);
        let wait: *const libc::timespec = match &limit {
            Some(t) => t,
            None => ptr::null(),
        };
        let mut guard = self.scratch.lock().unwrap_or_else(|p| p.into_inner());
        let buf = &mut guard.0;
        buf.clear();
        buf.reserve(room);
        // SAFETY: no changes are passed; the spare capacity holds at least `room` kevents, which
        // is all the kernel writes; `wait` is null or points to `limit`, which outlives the call.
        let n = unsafe { libc::kevent(self.kq.as_raw_fd(), ptr::null(), 0, buf.as_mut_ptr(), room as Count, wait) };
        if n < 0 {
            let e = io::Error::last_os_error();
            return match e.kind() {
                io::ErrorKind::Interrupted => Ok(false),
                _ => Err(e),
            };
        }
        // SAFETY: kevent initialised the first `n <= room` entries.
        unsafe { buf.set_len(n as usize) };
        let mut notified = false;
        for ev in buf.iter() {
            if ev.filter == libc::EVFILT_USER {
                notified = true;
            } else {
                out.push(ReadyEvent::new(Token(ev.udata as usize), event_flags(ev)));
            }
        }
        Ok(notified)
    }

    fn notify(&self) -> io::Result<()> {
        self.apply(&mut [change(NOTIFY_IDENT, libc::EVFILT_USER, 0, libc::NOTE_TRIGGER, 0)]).map(drop)
    }
}
