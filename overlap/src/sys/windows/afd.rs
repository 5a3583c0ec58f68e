//! The AFD selector: readiness emulated over an I/O completion port (Windows).
//!
//! Every registered socket has one heap-pinned [`SockState`] holding an `IOCTL_AFD_POLL`
//! request for its base handle (`SIO_BASE_HANDLE`, with the `SIO_BSP_HANDLE*` fallbacks), its
//! status block, token, interest and trigger. Polls go through `\Device\Afd` handles, one per
//! [`GROUP`] sockets, all associated with the selector's own completion port; `select` is one
//! batched `GetQueuedCompletionStatusEx` on that port. There is no limit on the number of
//! sockets or listeners (the 63 of `WSAWaitForMultipleEvents` in seed 1 do not apply).
//!
//! A socket's poll is in one of these states:
//!
//! ```text
//!            register / reregister                 completion with events
//!   idle ───────────────────────────▶ pending ─────────────────────────────▶ reported
//!    ▲                                 │  ▲                                     │
//!    │ oneshot: until reregister       │  │ completion without wanted events,   │ level: re-polled at the
//!    └─────────────────────────────────┼──┘ or cancelled by a reregister        │ start of the next select
//!                                      │                                        ▼
//!                     deregister:      └──▶ cancelled ──(its packet)──▶ freed   pending
//! ```
//!
//! - **Level**: a reported socket is polled again at the start of the *next* `select`, after
//!   the caller had its chance to read, so a drained socket is not reported again.
//! - **Oneshot**: a reported socket stays idle until `reregister`.
//! - **Edge** is refused (`Unsupported`): AFD reports conditions, not transitions.
//! - **reregister** with other events cancels the pending poll; its cancelled packet re-polls
//!   with the new events. The token is read when a packet is processed, so a new token applies
//!   at once.
//! - **deregister** cancels the pending poll and frees the state when its packet arrives: the
//!   kernel writes into it until then. No event for it is reported afterwards.
//! - **A socket closed while registered** makes its poll complete with `LOCAL_CLOSE`; the state
//!   is dropped then. A socket number reused before that packet was dequeued is told apart by
//!   the finished poll's `LOCAL_CLOSE` (its status block is no longer pending).
//! - Dropping the selector cancels every poll and waits (at most 2 s) for the packets; what the
//!   kernel still holds after that is leaked, never freed under it.
#![allow(unsafe_code)]

use crate::int_map::{IntMap, IntSet};
use std::cell::UnsafeCell;
use std::io;
use std::ptr;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use windows_sys::Win32::Foundation::{HANDLE, STATUS_CANCELLED, STATUS_PENDING};
use windows_sys::Win32::System::IO::{IO_STATUS_BLOCK, OVERLAPPED_ENTRY};

use super::cport::{Cport, Entries, WAKE_KEY};
use super::device::{self, Afd, PollInfo, LOCAL_CLOSE};
use super::net;
use crate::contract::interest::{Interest, Trigger};
use crate::contract::ready::{flags, ReadyEvent};
use crate::contract::selector;
use crate::contract::source::RawSource;
use crate::contract::token::Token;
use crate::error;

/// Sockets per AFD handle.
const GROUP: usize = 32;
/// The completion key of poll packets.
const POLL_KEY: usize = 1;
/// How long dropping the selector waits for cancelled polls to come back.
const DRAIN_PATIENCE: Duration = Duration::from_secs(2);

/// What the kernel writes while a poll is pending.
#[repr(C)]
struct Io {
    iosb: IO_STATUS_BLOCK,
    info: PollInfo,
}

/// What the selector keeps of a registration (touched only under its lock).
struct Reg {
    socket: RawSource,
    base: HANDLE,
    group: usize,
    token: Token,
    interest: Interest,
    oneshot: bool,
    /// A poll is in the kernel.
    pending: bool,
    /// The events the pending poll waits for.
    polled: u32,
    /// Oneshot: not reported since the last (re)register.
    armed: bool,
    /// Deregistered (or its socket closed): free it when its packet arrives.
    deleted: bool,
}

/// One registered socket: heap-allocated, never moved, freed only once no poll is pending.
/// The two parts are cells so that no Rust reference ever covers what the kernel writes
/// (`io`) while the selector works on its own part (`reg`).
struct SockState {
    io: UnsafeCell<Io>,
    reg: UnsafeCell<Reg>,
}

/// A state the selector owns through a raw pointer (the kernel holds it too while polling).
#[derive(Copy, Clone, PartialEq, Eq, Hash)]
struct StatePtr(*mut SockState);

// SAFETY: the states are only touched under the selector's lock (and by the kernel).
unsafe impl Send for StatePtr {}

impl StatePtr {
    /// The selector's part.
    ///
    /// # Safety
    ///
    /// The state must be live, the selector's lock held, and no other `reg` borrow alive.
    #[allow(clippy::mut_from_ref)]
    unsafe fn reg<'a>(self) -> &'a mut Reg {
        // SAFETY: the caller vouches for liveness and exclusivity; the cell is ours alone.
        unsafe { &mut *(*self.0).reg.get() }
    }

    /// The kernel's part, as a raw pointer (never a reference).
    ///
    /// # Safety
    ///
    /// The state must be live.
    unsafe fn io(self) -> *mut Io {
        // SAFETY: a shared borrow of the cell only; it permits the kernel's writes.
        unsafe { (*self.0).io.get() }
    }

    /// Frees the state.
    ///
    /// # Safety
    ///
    /// The state must be live, no poll pending, and no table referring to it any more.
    unsafe fn free(self) {
        // SAFETY: it came from `Box::into_raw`, and the caller vouches that nobody holds it.
        drop(unsafe { Box::from_raw(self.0) });
    }
}

struct Group {
    afd: Afd,
    users: usize,
}

#[derive(Default)]
struct Inner {
    groups: Vec<Group>,
    socks: IntMap<RawSource, StatePtr>,
    /// Level-triggered sockets reported by the last select: polled again by the next.
    rearm: Vec<StatePtr>,
    /// Deregistered states whose poll the kernel has not given back yet.
    zombies: IntSet<StatePtr>,
}

/// The AFD selector.
pub(crate) struct Selector {
    port: Cport,
    inner: Mutex<Inner>,
    /// The packet buffer of the (single) selecting thread.
    entries: Mutex<Entries>,
}

impl std::fmt::Debug for Selector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("afd::Selector").field("port", &self.port).finish_non_exhaustive()
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Inner {
    /// A group with room, opening a new AFD handle if every one is full.
    fn group_for(&mut self, port: &Cport) -> io::Result<usize> {
        if let Some(i) = self.groups.iter().position(|g| g.users < GROUP) {
            self.groups[i].users += 1;
            return Ok(i);
        }
        self.groups.push(Group { afd: Afd::open(port, POLL_KEY)?, users: 1 });
        Ok(self.groups.len() - 1)
    }

    /// Starts a poll for what `s` wants now.
    ///
    /// # Safety
    ///
    /// `s` must be a live state of this selector with no poll pending, and the lock held.
    unsafe fn submit(&mut self, s: StatePtr) -> io::Result<()> {
        // SAFETY: the caller vouches for `s` and the lock.
        let reg = unsafe { s.reg() };
        let events = device::events_for(reg.interest);
        // SAFETY: no poll is pending, so the kernel does not touch `io` now.
        let io = unsafe { s.io() };
        // SAFETY: as above: we are the only writer until the poll starts.
        unsafe { ptr::addr_of_mut!((*io).info).write(PollInfo::new(reg.base, events)) };
        // SAFETY: the state stays allocated until its packet is dequeued (it is freed only then,
        // or leaked), and we only read the status block (`is_closed`) meanwhile.
        unsafe {
            let afd = &self.groups[reg.group].afd;
            afd.poll(ptr::addr_of_mut!((*io).info), ptr::addr_of_mut!((*io).iosb), s.0.cast())?
        };
        reg.pending = true;
        reg.polled = events;
        Ok(())
    }

    /// Cancels the pending poll of `s` (its packet still arrives, cancelled or not).
    ///
    /// # Safety
    ///
    /// `s` must be a live state of this selector with a poll pending, and the lock held.
    unsafe fn cancel(&self, s: StatePtr) -> io::Result<()> {
        // SAFETY: the caller vouches for `s` and the lock; the status block only names the
        // request.
        unsafe {
            let group = s.reg().group;
            self.groups[group].afd.cancel(ptr::addr_of_mut!((*s.io()).iosb))
        }
    }

    /// Whether the finished poll of `s` says its socket was closed (a stale registration).
    ///
    /// # Safety
    ///
    /// `s` must be a live state of this selector, and the lock held.
    unsafe fn is_closed(s: StatePtr) -> bool {
        // SAFETY: the kernel writes the status last when it completes the poll; a volatile
        // read sees either STATUS_PENDING or the final status, after which `info` is final.
        unsafe {
            let io = s.io();
            let status = ptr::read_volatile(ptr::addr_of!((*io).iosb.Anonymous.Status));
            if s.reg().pending && status == STATUS_PENDING {
                return false;
            }
            status >= 0 && (*io).info.reported() & LOCAL_CLOSE != 0
        }
    }

    /// Forgets `s`: freed now if the kernel does not hold it, else when its packet arrives.
    ///
    /// # Safety
    ///
    /// `s` must be a live state of this selector, already out of `socks`, and the lock held.
    unsafe fn retire(&mut self, s: StatePtr) {
        // SAFETY: the caller vouches for `s` and the lock.
        let (group, pending) = unsafe {
            let reg = s.reg();
            reg.deleted = true;
            (reg.group, reg.pending)
        };
        self.groups[group].users -= 1;
        self.rearm.retain(|&r| r != s);
        if pending {
            // SAFETY: a poll is pending on a live state.
            let _ = unsafe { self.cancel(s) };
            self.zombies.insert(s);
        } else {
            // SAFETY: not in the kernel, and no table refers to it any more.
            unsafe { s.free() };
        }
    }
}

impl selector::Selector for Selector {
    fn new() -> io::Result<Selector> {
        let port = Cport::new(1)?;
        // Open one AFD handle now, so a machine without AFD fails here, not at registration.
        let mut inner = Inner::default();
        inner.groups.push(Group { afd: Afd::open(&port, POLL_KEY)?, users: 0 });
        Ok(Selector { port, inner: Mutex::new(inner), entries: Mutex::default() })
    }

    fn register(&self, socket: RawSource, token: Token, interest: Interest, trigger: Trigger) -> io::Result<()> {
        if trigger == Trigger::Edge {
            return Err(error::trigger_unsupported("afd", trigger));
        }
        let base = net::base_handle(socket)?;
        let mut inner = lock(&self.inner);
        if let Some(&old) = inner.socks.get(&socket) {
            // SAFETY: `old` is a live state of this selector; we hold the lock.
            if !unsafe { Inner::is_closed(old) } {
                return Err(io::ErrorKind::AlreadyExists.into());
            }
            inner.socks.remove(&socket);
            // SAFETY: live, just taken out of `socks`, lock held.
            unsafe { inner.retire(old) };
        }
        let group = inner.group_for(&self.port)?;
        let state = Box::new(SockState {
            io: UnsafeCell::new(Io { iosb: IO_STATUS_BLOCK::default(), info: PollInfo::new(base, 0) }),
            reg: UnsafeCell::new(Reg {
                socket,
                base,
                group,
                token,
                interest,
                oneshot: trigger == Trigger::Oneshot,
                pending: false,
                polled: 0,
                armed: true,
                deleted: false,
            }),
        });
        let s = StatePtr(Box::into_raw(state));
        // SAFETY: a new live state with no poll pending; lock held.
        if let Err(e) = unsafe { inner.submit(s) } {
            inner.groups[group].users -= 1;
            // SAFETY: the poll did not start, so the kernel never saw the state.
            unsafe { s.free() };
            return Err(e);
        }
        inner.socks.insert(socket, s);
        Ok(())
    }

    fn reregister(&self, socket: RawSource, token: Token, interest: Interest, trigger: Trigger) -> io::Result<()> {
        if trigger == Trigger::Edge {
            return Err(error::trigger_unsupported("afd", trigger));
        }
        let mut inner = lock(&self.inner);
        let s = *inner.socks.get(&socket).ok_or(io::ErrorKind::NotFound)?;
        // SAFETY: a live state; we hold the lock.
        let (pending, polled) = unsafe { (s.reg().pending, s.reg().polled) };
        if pending && polled != device::events_for(interest) {
            // Cancel first, so that a failure changes nothing; the cancelled packet re-polls
            // with what the state says then.
            // SAFETY: a poll is pending on a live state; lock held.
            unsafe { inner.cancel(s) }?;
        }
        // SAFETY: as above.
        unsafe {
            let reg = s.reg();
            reg.token = token;
            reg.interest = interest;
            reg.oneshot = trigger == Trigger::Oneshot;
            reg.armed = true;
        }
        if pending {
            return Ok(());
        }
        inner.rearm.retain(|&r| r != s);
        // SAFETY: live, no poll pending, lock held.
        unsafe { inner.submit(s) }
    }

    fn deregister(&self, socket: RawSource) -> io::Result<()> {
        let mut inner = lock(&self.inner);
        let s = inner.socks.remove(&socket).ok_or(io::ErrorKind::NotFound)?;
        // SAFETY: live, just taken out of `socks`, lock held.
        unsafe { inner.retire(s) };
        Ok(())
    }

    fn select(&self, out: &mut Vec<ReadyEvent>, max: usize, timeout: Option<Duration>) -> io::Result<bool> {
        let mut guard = lock(&self.entries);
        let entries = &mut guard.0;
        {
            let mut inner = lock(&self.inner);
            let inner = &mut *inner;
            for s in std::mem::take(&mut inner.rearm) {
                // SAFETY: states in `rearm` are live (retire takes them out first); lock held.
                let (due, token, socket) = unsafe {
                    let reg = s.reg();
                    (!reg.deleted && !reg.pending && (reg.armed || !reg.oneshot), reg.token, reg.socket)
                };
                // SAFETY: live, no poll pending, lock held.
                if due && unsafe { inner.submit(s) }.is_err() {
                    // The socket cannot be polled any more (closed under us): one error event,
                    // and the registration is dropped, as a closed descriptor leaves epoll.
                    if out.len() < max {
                        out.push(ReadyEvent::new(token, flags::ERROR));
                    }
                    inner.socks.remove(&socket);
                    // SAFETY: live, out of `socks`, no poll pending, lock held.
                    unsafe { inner.retire(s) };
                }
            }
            if !out.is_empty() {
                return Ok(false);
            }
        }
        let want = max.clamp(1, 1024);
        entries.clear();
        entries.resize(want, OVERLAPPED_ENTRY::default());
        let n = self.port.get(entries, timeout)?;
        let mut notified = false;
        let mut inner = lock(&self.inner);
        for e in &entries[..n] {
            if e.lpCompletionKey == WAKE_KEY {
                notified = true;
                continue;
            }
            let s = StatePtr(e.lpOverlapped.cast());
            // SAFETY: a poll packet's context is the state it was started for, which stays
            // allocated until this packet is processed (here, under the lock); the packet is
            // dequeued, so the kernel is done with `io`.
            let (reg, status, reported) = unsafe {
                let io = s.io();
                let reg = s.reg();
                reg.pending = false;
                (reg, (*io).iosb.Anonymous.Status, (*io).info.reported())
            };
            if reg.deleted {
                inner.zombies.remove(&s);
                // SAFETY: the kernel gave the state back and no table refers to it.
                unsafe { s.free() };
                continue;
            }
            let (socket, token, interest) = (reg.socket, reg.token, reg.interest);
            let live = !reg.oneshot || reg.armed;
            if status == STATUS_CANCELLED {
                // Cancelled by a reregister: poll again with what is wanted now.
                // SAFETY: live, no poll pending, lock held.
                if live && unsafe { inner.submit(s) }.is_err() {
                    self.drop_broken(&mut inner, s, socket, token, out, max);
                }
                continue;
            }
            if status < 0 {
                // The poll failed (the socket is gone): one error event, and the registration
                // is dropped.
                self.drop_broken(&mut inner, s, socket, token, out, max);
                continue;
            }
            if reported & LOCAL_CLOSE != 0 {
                // Closed while registered: nothing to report, nothing to poll again.
                if inner.socks.get(&socket) == Some(&s) {
                    inner.socks.remove(&socket);
                }
                // SAFETY: live, out of `socks`, no poll pending, lock held.
                unsafe { inner.retire(s) };
                continue;
            }
            let ev = device::event_flags(reported & device::events_for(interest), interest);
            if ev != 0 && live && out.len() < max {
                out.push(ReadyEvent::new(token, ev));
                if reg.oneshot {
                    reg.armed = false;
                } else {
                    inner.rearm.push(s);
                }
            } else if live {
                // Woke for nothing wanted, or no room left: poll again.
                // SAFETY: live, no poll pending, lock held.
                if unsafe { inner.submit(s) }.is_err() {
                    self.drop_broken(&mut inner, s, socket, token, out, max);
                }
            }
        }
        Ok(notified)
    }

    fn notify(&self) -> io::Result<()> {
        self.port.post(WAKE_KEY)
    }
}

impl Selector {
    /// A registration that can no longer be polled: one error event (room permitting), then
    /// it is dropped, as a closed descriptor leaves epoll.
    fn drop_broken(
        &self,
        inner: &mut Inner,
        s: StatePtr,
        socket: RawSource,
        token: Token,
        out: &mut Vec<ReadyEvent>,
        max: usize,
    ) {
        if out.len() < max {
            out.push(ReadyEvent::new(token, flags::ERROR));
        }
        if inner.socks.get(&socket) == Some(&s) {
            inner.socks.remove(&socket);
        }
        // SAFETY: live, out of `socks`, no poll pending (its packet was just processed or the
        // poll failed to start), lock held.
        unsafe { inner.retire(s) };
    }
}

impl Drop for Selector {
    fn drop(&mut self) {
        let inner = self.inner.get_mut().unwrap_or_else(|p| p.into_inner());
        let live: Vec<StatePtr> = inner.socks.drain().map(|(_, s)| s).collect();
        for s in live {
            // SAFETY: live, and just taken out of `socks`; `&mut self` is the lock.
            unsafe { inner.retire(s) };
        }
        let deadline = Instant::now() + DRAIN_PATIENCE;
        let mut entries = vec![OVERLAPPED_ENTRY::default(); 256];
        while !inner.zombies.is_empty() {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            let Ok(n) = self.port.get(&mut entries, Some(left)) else { break };
            for e in &entries[..n] {
                if e.lpCompletionKey == WAKE_KEY {
                    continue;
                }
                let s = StatePtr(e.lpOverlapped.cast());
                if inner.zombies.remove(&s) {
                    // SAFETY: the kernel gave the state back and no table refers to it.
                    unsafe { s.free() };
                }
            }
        }
        // Whatever is still in the kernel is leaked on purpose: it may still write into it.
        inner.zombies.clear();
    }
}
