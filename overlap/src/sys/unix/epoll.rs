//! The epoll(7) backend (Linux, Android).
//!
//! Registrations live in the kernel; the selector keeps no per-source state. The notifier is an
//! eventfd registered edge-triggered under a reserved key: a wake is one `write`, never drained
//! (the counter would need 2^64 coalesced wakes to fill, and a full counter still reads as
//! "notified").
#![allow(unsafe_code)]

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::sync::Mutex;
use std::time::Duration;

use super::fd::{cvt, timeout_ms};
use super::notifier::Notifier;
use crate::contract::interest::{Interest, Trigger};
use crate::contract::ready::{flags, ReadyEvent};
use crate::contract::selector;
use crate::contract::token::Token;
use crate::error;

/// The key under which the notifier is registered (`Token(usize::MAX)` is reserved).
const NOTIFY_KEY: u64 = u64::MAX;
/// The most events one select fetches, whatever the caller's capacity.
const MAX_BATCH: usize = 1 << 16;

/// An epoll instance and its wake-up eventfd.
#[derive(Debug)]
pub(crate) struct Selector {
    ep: OwnedFd,
    notifier: Notifier,
    /// What epoll_wait fills; locked only by the one thread that polls.
    scratch: Mutex<Vec<libc::epoll_event>>,
}

fn epoll_events(interest: Interest, trigger: Trigger) -> u32 {
    let mut ev = 0;
    if interest.is_readable() {
        ev |= libc::EPOLLIN | libc::EPOLLRDHUP;
    }
    if interest.is_read_closed() {
        ev |= libc::EPOLLRDHUP; // alone: data arriving does not wake it
    }
    if interest.is_writable() {
        ev |= libc::EPOLLOUT;
    }
    if interest.is_priority() {
        ev |= libc::EPOLLPRI;
    }
    ev |= match trigger {
        Trigger::Level => 0,
        Trigger::Edge => libc::EPOLLET,
        Trigger::Oneshot => libc::EPOLLONESHOT,
    };
    ev as u32
}

fn event_flags(ev: u32) -> u8 {
    let has = |bit: libc::c_int| ev & bit as u32 != 0;
    let mut f = 0;
    if has(libc::EPOLLIN | libc::EPOLLRDHUP) {
        f |= flags::READABLE;
    }
    if has(libc::EPOLLOUT) {
        f |= flags::WRITABLE;
    }
    if has(libc::EPOLLPRI) {
        f |= flags::PRIORITY;
    }
    if has(libc::EPOLLERR) {
        f |= flags::ERROR;
    }
    if has(libc::EPOLLHUP | libc::EPOLLRDHUP) {
        f |= flags::READ_CLOSED;
    }
    if has(libc::EPOLLHUP | libc::EPOLLERR) {
        f |= flags::WRITE_CLOSED;
    }
    f
}

impl Selector {
    fn ctl(&self, op: libc::c_int, fd: RawFd, events: u32, key: u64) -> io::Result<()> {
        let mut ev = libc::epoll_event { events, u64: key };
        // SAFETY: `ev` is a live epoll_event for the duration of the call; the kernel copies it.
        // EPOLL_CTL_DEL ignores it (kernels before 2.6.9 wanted it non-null, which it is).
        cvt(unsafe { libc::epoll_ctl(self.ep.as_raw_fd(), op, fd, &mut ev) }).map(drop)
    }
}

impl selector::Selector for Selector {
    fn new() -> io::Result<Selector> {
        // SAFETY: epoll_create1 takes no pointers; a non-negative return is a new descriptor.
        let ep = cvt(unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) })?;
        // SAFETY: `ep` was just created and is owned by nobody else.
        let ep = unsafe { OwnedFd::from_raw_fd(ep) };
        let sel = Selector { ep, notifier: Notifier::new()?, scratch: Mutex::default() };
        sel.ctl(libc::EPOLL_CTL_ADD, sel.notifier.fd(), (libc::EPOLLIN | libc::EPOLLET) as u32, NOTIFY_KEY)?;
        Ok(sel)
    }

    fn register(&self, fd: RawFd, token: Token, interest: Interest, trigger: Trigger) -> io::Result<()> {
        self.ctl(libc::EPOLL_CTL_ADD, fd, epoll_events(interest, trigger), token.0 as u64).map_err(|e| {
            match e.raw_os_error() {
                Some(libc::EPERM) => error::not_pollable("epoll", fd),
                _ => e,
            }
        })
    }

    fn reregister(&self, fd: RawFd, token: Token, interest: Interest, trigger: Trigger) -> io::Result<()> {
        self.ctl(libc::EPOLL_CTL_MOD, fd, epoll_events(interest, trigger), token.0 as u64)
    }

    fn deregister(&self, fd: RawFd) -> io::Result<()> {
        self.ctl(libc::EPOLL_CTL_DEL, fd, 0, 0)
    }

    fn select(&self, out: &mut Vec<ReadyEvent>, max: usize, timeout: Option<Duration>) -> io::Result<bool> {
        // One epoll_wait per select: a second call in the same select would see the
        // level-triggered sources the first one reported again (the kernel re-queues them).
        let room = max.saturating_sub(out.len()).clamp(1, MAX_BATCH);
        let mut buf = self.scratch.lock().unwrap_or_else(|p| p.into_inner());
        buf.clear();
        buf.reserve(room);
        // SAFETY: the spare capacity holds at least `room` epoll_events, which is all the kernel
        // writes; `buf` stays locked (unmoved) for the call.
        let n = unsafe {
            libc::epoll_wait(self.ep.as_raw_fd(), buf.as_mut_ptr(), room as libc::c_int, timeout_ms(timeout))
        };
        if n < 0 {
            let e = io::Error::last_os_error();
            return match e.kind() {
                io::ErrorKind::Interrupted => Ok(false),
                _ => Err(e),
            };
        }
        // SAFETY: epoll_wait initialised the first `n <= room` entries.
        unsafe { buf.set_len(n as usize) };
        let mut notified = false;
        for ev in buf.iter() {
            let (key, events) = (ev.u64, ev.events);
            if key == NOTIFY_KEY {
                notified = true;
            } else {
                out.push(ReadyEvent::new(Token(key as usize), event_flags(events)));
            }
        }
        Ok(notified)
    }

    fn notify(&self) -> io::Result<()> {
        self.notifier.notify()
    }
}
