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

use std::collections::{HashMap, HashSet};
use std::io;
use std::ptr;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use windows_sys::Win32::Foundation::{HANDLE, STATUS_CANCELLED, STATUS_PENDING};
use windows_sys::Win32::System::IO::{IO_STATUS_BLOCK, OVERLAPPED_ENTRY};

use super::cport::{Cport, Entries, WAKE_KEY};
use super::device::{self, Afd, PollInfo, LOCAL_CLOSE};
use super::{net, RawSource};
use crate::{error, Backend, Event, Interest, Token, Trigger};

/// Sockets per AFD handle.
const GROUP: usize = 32;
/// The completion key of poll packets.
const POLL_KEY: usize = 1;
/// How long dropping the selector waits for cancelled polls to come back.
const DRAIN_PATIENCE: Duration = Duration::from_secs(2);

/// One registered socket. The kernel writes `iosb` and `info` while a poll is pending, so the
/// state is heap-allocated, never moved, and only freed once its packet is back.
#[repr(C)]
struct SockState {
    iosb: IO_STATUS_BLOCK,
    info: PollInfo,
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

/// A state the selector owns through a raw pointer (the kernel holds it too while polling).
#[derive(Copy, Clone, PartialEq, Eq, Hash)]
struct StatePtr(*mut SockState);

// SAFETY: the states are only touched under the selector's lock (and by the kernel).
unsafe impl Send for StatePtr {}

struct Group {
    afd: Afd,
    users: usize,
}

#[derive(Default)]
struct Inner {
    groups: Vec<Group>,
    socks: HashMap<RawSource, StatePtr>,
    /// Level-triggered sockets reported by the last select: polled again by the next.
    rearm: Vec<StatePtr>,
    /// Deregistered states whose poll the kernel has not given back yet.
    zombies: HashSet<StatePtr>,
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
    /// `s` must be a live state of this selector with no poll pending.
    unsafe fn submit(&mut self, s: StatePtr) -> io::Result<()> {
        // SAFETY: the caller vouches for `s`; no poll is pending, so the kernel does not touch it.
        let st = unsafe { &mut *s.0 };
        let events = device::events_for(st.interest);
        st.info = PollInfo::new(st.base, events);
        let iosb = ptr::addr_of_mut!(st.iosb);
        let info = ptr::addr_of_mut!(st.info);
        // SAFETY: the state stays allocated and untouched by us (but for the status read in
        // `is_closed`) until its packet is dequeued: it is freed only then, or leaked.
        unsafe { self.groups[st.group].afd.poll(info, iosb, s.0.cast())? };
        st.pending = true;
        st.polled = events;
        Ok(())
    }

    /// Cancels the pending poll of `s` (its packet still arrives, cancelled or not).
    ///
    /// # Safety
    ///
    /// `s` must be a live state of this selector with a poll pending.
    unsafe fn cancel(&self, s: StatePtr) -> io::Result<()> {
        // SAFETY: the caller vouches for `s`; the status block only names the request.
        unsafe {
            let st = &*s.0;
            self.groups[st.group].afd.cancel(ptr::addr_of!((*s.0).iosb).cast_mut())
        }
    }

    /// Whether the finished poll of `s` says its socket was closed (a stale registration).
    ///
    /// # Safety
    ///
    /// `s` must be a live state of this selector.
    unsafe fn is_closed(s: StatePtr) -> bool {
        // SAFETY: the kernel writes the status last when it completes the poll; a volatile
        // read sees either STATUS_PENDING or the final status, after which `info` is final.
        unsafe {
            let status = ptr::read_volatile(ptr::addr_of!((*s.0).iosb.Anonymous.Status));
            if (*s.0).pending && status == STATUS_PENDING {
                return false;
            }
            status >= 0 && (*s.0).info.reported() & LOCAL_CLOSE != 0
        }
    }

    /// Forgets `s`: freed now if the kernel does not hold it, else when its packet arrives.
    ///
    /// # Safety
    ///
    /// `s` must be a live state of this selector, already out of `socks`.
    unsafe fn retire(&mut self, s: StatePtr) {
        // SAFETY: the caller vouches for `s`.
        let st = unsafe { &mut *s.0 };
        self.groups[st.group].users -= 1;
        st.deleted = true;
        if st.pending {
            // SAFETY: a poll is pending on a live state.
            let _ = unsafe { self.cancel(s) };
            self.zombies.insert(s);
        } else {
            self.rearm.retain(|&r| r != s);
            // SAFETY: not in the kernel, and no table refers to it any more.
            drop(unsafe { Box::from_raw(s.0) });
        }
    }
}

impl super::super::Selector for Selector {
    fn new() -> io::Result<Selector> {
        let port = Cport::new(1)?;
        // Open one AFD handle now, so a machine without AFD fails here, not at registration.
        let mut inner = Inner::default();
        inner.groups.push(Group { afd: Afd::open(&port, POLL_KEY)?, users: 0 });
        Ok(Selector { port, inner: Mutex::new(inner), entries: Mutex::default() })
    }

    fn register(&self, socket: RawSource, token: Token, interest: Interest, trigger: Trigger) -> io::Result<()> {
        if trigger == Trigger::Edge {
            return Err(error::trigger_unsupported(Backend::Afd, trigger));
        }
        let base = net::base_handle(socket)?;
        let mut inner = lock(&self.inner);
        if let Some(&old) = inner.socks.get(&socket) {
            // SAFETY: `old` is a live state of this selector.
            if !unsafe { Inner::is_closed(old) } {
                return Err(io::ErrorKind::AlreadyExists.into());
            }
            inner.socks.remove(&socket);
            // SAFETY: live, and just taken out of `socks`.
            unsafe { inner.retire(old) };
        }
        let group = inner.group_for(&self.port)?;
        let state = Box::new(SockState {
            iosb: IO_STATUS_BLOCK::default(),
            info: PollInfo::new(base, 0),
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
        });
        let s = StatePtr(Box::into_raw(state));
        // SAFETY: a new live state with no poll pending.
        if let Err(e) = unsafe { inner.submit(s) } {
            inner.groups[group].users -= 1;
            // SAFETY: the poll did not start, so the kernel never saw the state.
            drop(unsafe { Box::from_raw(s.0) });
            return Err(e);
        }
        inner.socks.insert(socket, s);
        Ok(())
    }

    fn reregister(&self, socket: RawSource, token: Token, interest: Interest, trigger: Trigger) -> io::Result<()> {
        if trigger == Trigger::Edge {
            return Err(error::trigger_unsupported(Backend::Afd, trigger));
        }
        let mut inner = lock(&self.inner);
        let s = *inner.socks.get(&socket).ok_or(io::ErrorKind::NotFound)?;
        // SAFETY: a live state; we hold the lock, and the kernel only writes `iosb`/`info`.
        let (pending, polled) = unsafe {
            let st = &mut *s.0;
            st.token = token;
            st.interest = interest;
            st.oneshot = trigger == Trigger::Oneshot;
            st.armed = true;
            (st.pending, st.polled)
        };
        if pending {
            if polled != device::events_for(interest) {
                // SAFETY: a poll is pending on a live state; its cancelled packet re-polls.
                unsafe { inner.cancel(s) }?;
            }
            Ok(())
        } else {
            inner.rearm.retain(|&r| r != s);
            // SAFETY: live, no poll pending.
            unsafe { inner.submit(s) }
        }
    }

    fn deregister(&self, socket: RawSource) -> io::Result<()> {
        let mut inner = lock(&self.inner);
        let s = inner.socks.remove(&socket).ok_or(io::ErrorKind::NotFound)?;
        // SAFETY: live, and just taken out of `socks`.
        unsafe { inner.retire(s) };
        Ok(())
    }

    fn select(&self, out: &mut Vec<Event>, max: usize, timeout: Option<Duration>) -> io::Result<bool> {
        let mut guard = lock(&self.entries);
        let entries = &mut guard.0;
        {
            let mut inner = lock(&self.inner);
            let inner = &mut *inner;
            for s in std::mem::take(&mut inner.rearm) {
                // SAFETY: states in `rearm` are live (retire takes them out before freeing).
                let (due, token) = unsafe {
                    let st = &*s.0;
                    (!st.deleted && !st.pending && (st.armed || !st.oneshot), st.token)
                };
                // SAFETY: live, no poll pending.
                if due && unsafe { inner.submit(s) }.is_err() {
                    // The socket is gone (closed under us): report it as an error once.
                    out.push(Event::new(token, crate::event::flags::ERROR));
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
            // dequeued, so the kernel is done with the status block and the poll info.
            let (deleted, status, reported, socket, token, interest, oneshot, armed) = unsafe {
                let st = &mut *s.0;
                st.pending = false;
                let status = st.iosb.Anonymous.Status;
                (st.deleted, status, st.info.reported(), st.socket, st.token, st.interest, st.oneshot, st.armed)
            };
            if deleted {
                inner.zombies.remove(&s);
                // SAFETY: the kernel gave the state back and no table refers to it.
                drop(unsafe { Box::from_raw(s.0) });
                continue;
            }
            let reported = if status == STATUS_CANCELLED {
                0
            } else if status < 0 {
                LOCAL_CLOSE // the socket is no longer there to poll
            } else {
                reported
            };
            if reported & LOCAL_CLOSE != 0 {
                // Closed while registered: nothing to report, nothing to poll again.
                if inner.socks.get(&socket) == Some(&s) {
                    inner.socks.remove(&socket);
                }
                // SAFETY: live, out of `socks`, and not pending any more: freed now.
                unsafe { inner.retire(s) };
                continue;
            }
            let flags = device::event_flags(reported & device::events_for(interest));
            let live = !oneshot || armed;
            if flags != 0 && live && out.len() < max {
                out.push(Event::new(token, flags));
                if oneshot {
                    // SAFETY: live, and the kernel does not hold it (no poll pending).
                    unsafe { (*s.0).armed = false };
                } else {
                    inner.rearm.push(s);
                }
            } else if live {
                // Cancelled for a reregister, woke for nothing wanted, or no room: poll again.
                // SAFETY: live, no poll pending.
                if unsafe { inner.submit(s) }.is_err() {
                    out.push(Event::new(token, crate::event::flags::ERROR));
                }
            }
        }
        Ok(notified)
    }

    fn notify(&self) -> io::Result<()> {
        self.port.post(WAKE_KEY)
    }
}

impl Drop for Selector {
    fn drop(&mut self) {
        let inner = self.inner.get_mut().unwrap_or_else(|p| p.into_inner());
        let live: Vec<StatePtr> = inner.socks.drain().map(|(_, s)| s).collect();
        for s in live {
            // SAFETY: live, and just taken out of `socks`.
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
                    drop(unsafe { Box::from_raw(s.0) });
                }
            }
        }
        // Whatever is still in the kernel is leaked on purpose: it may still write into it.
        inner.zombies.clear();
    }
}
