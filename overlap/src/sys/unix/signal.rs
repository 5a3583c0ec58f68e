//! Signal delivery on Unix: one process-wide handler (`sigaction`) that counts each delivery
//! for every receiver watching the signal and wakes the receiver through its self-pipe.
//!
//! The handler may interrupt any thread at any instruction, so it takes no lock, allocates
//! nothing and cannot panic: it reads a fixed table ([`TABLE`]) of [`SLOTS`] receiver slots
//! made only of atomics. Everything else (claiming a slot, installing and restoring
//! dispositions) happens under the [`STATE`] mutex, which the handler never touches.
//!
//! A slot's `busy` counter is what lets a receiver close its pipe safely: the handler raises it
//! before it looks at the slot and lowers it when done; a receiver that stops watching first
//! makes the slot invisible (clears its mask, and on drop its descriptor), then waits for
//! `busy` to fall to 0, so no handler still holds the descriptor number when it is closed and
//! perhaps reused. All of the handler's accesses to `busy`, the mask and the descriptor are
//! `SeqCst`: either the handler's increment comes first in that order, and the receiver waits
//! for it, or the receiver's clearing comes first, and the handler sees it.
#![allow(unsafe_code)]

use std::io::{self, PipeReader, PipeWriter, Read};
use std::mem::MaybeUninit;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::ptr;
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU32, AtomicU64, AtomicUsize, Ordering::*};
use std::sync::{Mutex, MutexGuard};

use super::fd::{cvt, set_nonblocking};
use crate::error;

/// How many receivers can be alive at once (the handler's table cannot grow).
pub(crate) const SLOTS: usize = 64;
/// One more than the highest signal number the table holds: Linux has 1 to 64, macOS 1 to 31,
/// FreeBSD real-time signals up to 126. Which of these the system has, `sigaction` decides.
const SIGNALS: usize = 128;
const WORDS: usize = SIGNALS / 64;

/// What the handler sees of one receiver.
struct Slot {
    /// The write end of the receiver's pipe; -1 while the slot is free or being released.
    fd: AtomicI32,
    /// The signals the receiver watches, one bit per signal number.
    mask: [AtomicU64; WORDS],
    /// Deliveries per signal since the receiver last took them (saturating).
    counts: [AtomicU32; SIGNALS],
    /// Whether the pipe may hold a byte the receiver has not drained: the handler writes only
    /// when it sets this, so the pipe never fills and `write` never fails.
    pending: AtomicBool,
    /// Handlers between their first and last look at this slot.
    busy: AtomicUsize,
}

impl Slot {
    const fn new() -> Slot {
        Slot {
            fd: AtomicI32::new(-1),
            mask: [const { AtomicU64::new(0) }; WORDS],
            counts: [const { AtomicU32::new(0) }; SIGNALS],
            pending: AtomicBool::new(false),
            busy: AtomicUsize::new(0),
        }
    }

    fn watches(&self, signo: usize) -> bool {
        self.mask[signo / 64].load(SeqCst) & (1 << (signo % 64)) != 0
    }

    /// Waits until no handler is looking at the slot. Handlers never block, so this is short;
    /// one that interrupts this very thread finishes before the wait goes on.
    fn quiesce(&self) {
        while self.busy.load(SeqCst) != 0 {
            std::thread::yield_now();
        }
    }
}

static TABLE: [Slot; SLOTS] = [const { Slot::new() }; SLOTS];

/// What only threads outside the handler touch.
struct State {
    used: [bool; SLOTS],
    /// How many receivers watch each signal.
    watchers: [u32; SIGNALS],
    /// The disposition found when the first watcher of each signal installed the handler.
    saved: [Option<libc::sigaction>; SIGNALS],
}

static STATE: Mutex<State> = Mutex::new(State { used: [false; SLOTS], watchers: [0; SIGNALS], saved: [None; SIGNALS] });

fn state() -> MutexGuard<'static, State> {
    // Nothing panics while holding it; a poisoned lock still holds consistent state.
    STATE.lock().unwrap_or_else(|p| p.into_inner())
}

/// One receiver: a slot of the table and the pipe its handler writes to.
#[derive(Debug)]
pub(crate) struct Receiver {
    slot: usize,
    read: PipeReader,
    /// What the handler writes to; closed after `Drop` has released the slot.
    _write: PipeWriter,
}

impl Receiver {
    pub(crate) fn new() -> io::Result<Receiver> {
        // std makes both ends close-on-exec.
        let (read, write) = std::io::pipe()?;
        set_nonblocking(read.as_raw_fd())?;
        set_nonblocking(write.as_raw_fd())?;
        let mut st = state();
        let slot = st.used.iter().position(|u| !u).ok_or_else(|| error::signal_receivers_full(SLOTS))?;
        st.used[slot] = true;
        // A released slot has a zero mask and zero counts (see `Drop`).
        TABLE[slot].pending.store(false, SeqCst);
        TABLE[slot].fd.store(write.as_raw_fd(), SeqCst);
        Ok(Receiver { slot, read, _write: write })
    }

    pub(crate) fn add(&self, signo: i32) -> io::Result<()> {
        let s = check(signo)?;
        let slot = &TABLE[self.slot];
        let mut st = state();
        if slot.watches(s) {
            return Ok(());
        }
        // Watch first, install second: a signal that arrives in between finds the old
        // disposition, never our handler with nobody to count for.
        slot.mask[s / 64].fetch_or(1 << (s % 64), SeqCst);
        if st.watchers[s] == 0 {
            match install(signo) {
                Ok(old) => st.saved[s] = Some(old),
                Err(e) => {
                    slot.mask[s / 64].fetch_and(!(1 << (s % 64)), SeqCst);
                    return Err(e);
                }
            }
        }
        st.watchers[s] += 1;
        Ok(())
    }

    pub(crate) fn remove(&self, signo: i32) -> io::Result<()> {
        let s = check(signo)?;
        let slot = &TABLE[self.slot];
        let mut st = state();
        if !slot.watches(s) {
            return Ok(());
        }
        // Restore first, stop counting second: a signal that arrives in between is counted
        // and then forgotten, never lost to a handler with nobody to count for.
        let restored = unwatch(&mut st, s);
        slot.mask[s / 64].fetch_and(!(1 << (s % 64)), SeqCst);
        slot.quiesce();
        slot.counts[s].store(0, SeqCst);
        restored
    }

    pub(crate) fn take(&self, out: &mut Vec<(i32, u32)>) -> io::Result<()> {
        let slot = &TABLE[self.slot];
        // Drain, then re-arm, then read the counts: a handler that found `pending` set counted
        // before it looked, so its count is read below; one that finds it clear writes anew.
        self.drain()?;
        slot.pending.store(false, SeqCst);
        for (w, word) in slot.mask.iter().enumerate() {
            let mut bits = word.load(SeqCst);
            while bits != 0 {
                let s = w * 64 + bits.trailing_zeros() as usize;
                bits &= bits - 1;
                let n = slot.counts[s].swap(0, SeqCst);
                if n > 0 {
                    out.push((s as i32, n));
                }
            }
        }
        Ok(())
    }

    fn drain(&self) -> io::Result<()> {
        let mut buf = [0u8; 64];
        loop {
            match (&self.read).read(&mut buf) {
                Ok(n) if n < buf.len() => return Ok(()),
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(()),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }

    pub(crate) fn as_fd(&self) -> BorrowedFd<'_> {
        self.read.as_fd()
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        let slot = &TABLE[self.slot];
        let mut st = state();
        for s in 1..SIGNALS {
            if slot.watches(s) {
                // Nothing to report from a drop; restoring cannot fail for a signal we installed.
                let _ = unwatch(&mut st, s);
            }
        }
        for word in &slot.mask {
            word.store(0, SeqCst);
        }
        slot.fd.store(-1, SeqCst);
        slot.quiesce();
        for count in &slot.counts {
            count.store(0, SeqCst);
        }
        st.used[self.slot] = false;
        // The pipe closes when the fields drop, after this: no handler holds its number now.
    }
}

/// One receiver fewer watches `s`; the last one restores the saved disposition.
fn unwatch(st: &mut State, s: usize) -> io::Result<()> {
    st.watchers[s] -= 1;
    if st.watchers[s] > 0 {
        return Ok(());
    }
    let Some(saved) = st.saved[s].take() else { return Ok(()) };
    // If the program replaced our handler meanwhile, its choice stands.
    if query(s as i32)?.sa_sigaction != handler_address() {
        return Ok(());
    }
    // SAFETY: `saved` is a disposition the kernel gave us for this very signal.
    cvt(unsafe { libc::sigaction(s as i32, &saved, ptr::null_mut()) })?;
    Ok(())
}

/// The table index of a signal number a receiver may watch, or why not.
fn check(signo: i32) -> io::Result<usize> {
    match signo {
        libc::SIGKILL => return Err(error::signal_uncatchable(signo, "SIGKILL")),
        libc::SIGSTOP => return Err(error::signal_uncatchable(signo, "SIGSTOP")),
        libc::SIGSEGV => return Err(error::signal_fault(signo, "SIGSEGV")),
        libc::SIGBUS => return Err(error::signal_fault(signo, "SIGBUS")),
        libc::SIGFPE => return Err(error::signal_fault(signo, "SIGFPE")),
        libc::SIGILL => return Err(error::signal_fault(signo, "SIGILL")),
        _ => {}
    }
    let s = usize::try_from(signo).ok().filter(|&s| (1..SIGNALS).contains(&s));
    let s = s.ok_or_else(|| error::signal_invalid(signo))?;
    // The system's own word on which numbers are signals (and which its C library keeps).
    query(signo).map_err(|e| if e.raw_os_error() == Some(libc::EINVAL) { error::signal_invalid(signo) } else { e })?;
    Ok(s)
}

/// The current disposition of `signo`.
fn query(signo: i32) -> io::Result<libc::sigaction> {
    let mut old = MaybeUninit::<libc::sigaction>::uninit();
    // SAFETY: a null new action only reads the disposition into `old`, a writable local.
    cvt(unsafe { libc::sigaction(signo, ptr::null(), old.as_mut_ptr()) })?;
    // SAFETY: sigaction succeeded, so it filled `old`.
    Ok(unsafe { old.assume_init() })
}

/// Installs the handler for `signo`; returns the disposition it replaced.
fn install(signo: i32) -> io::Result<libc::sigaction> {
    // SAFETY: `sigaction` is a plain C struct for which all-zero bytes are valid (a null
    // `sa_restorer` where there is one).
    let mut new: libc::sigaction = unsafe { std::mem::zeroed() };
    new.sa_sigaction = handler_address();
    new.sa_flags = libc::SA_RESTART;
    // SAFETY: `new.sa_mask` is a live, writable signal set.
    unsafe { libc::sigemptyset(&mut new.sa_mask) };
    let mut old = MaybeUninit::<libc::sigaction>::uninit();
    // SAFETY: `new` is a complete action whose handler is async-signal-safe (see `handler`);
    // `old` is a writable local.
    cvt(unsafe { libc::sigaction(signo, &new, old.as_mut_ptr()) })?;
    // SAFETY: sigaction succeeded, so it filled `old`.
    Ok(unsafe { old.assume_init() })
}

fn handler_address() -> libc::sighandler_t {
    handler as extern "C" fn(libc::c_int) as libc::sighandler_t
}

/// The process-wide handler. Async-signal-safe: atomics, `write(2)` and `errno` only; no lock,
/// no allocation, no panic (indexes are checked with `get`).
extern "C" fn handler(signo: libc::c_int) {
    let errno = errno_location();
    // SAFETY: a non-null `errno_location` is this thread's errno, valid for the thread's life.
    let saved = (!errno.is_null()).then(|| unsafe { *errno });
    let Some(s) = usize::try_from(signo).ok().filter(|&s| s < SIGNALS) else { return };
    let bit = 1u64 << (s % 64);
    for slot in &TABLE {
        if slot.mask[s / 64].load(Relaxed) & bit == 0 {
            continue; // the check that counts is below, inside `busy`
        }
        slot.busy.fetch_add(1, SeqCst);
        let fd: RawFd = slot.fd.load(SeqCst);
        if slot.mask[s / 64].load(SeqCst) & bit != 0 && fd >= 0 {
            let _ = slot.counts[s].fetch_update(SeqCst, SeqCst, |n| n.checked_add(1));
            if !slot.pending.swap(true, SeqCst) {
                let byte = signo as u8;
                // SAFETY: writes one byte from a live local to `fd`, which stays open while
                // `busy` is raised (the owner waits for it before closing); the pipe is
                // non-blocking, so this never waits.
                unsafe { libc::write(fd, ptr::from_ref(&byte).cast(), 1) };
            }
        }
        slot.busy.fetch_sub(1, SeqCst);
    }
    if let Some(saved) = saved {
        // SAFETY: as above.
        unsafe { *errno = saved };
    }
}

/// Where the calling thread's `errno` lives, which a handler must leave as it found it; null
/// on the Unixes this does not know, where errno is left alone: the handler's one call that can
/// fail, `write`, is made only to an empty pipe (see `Slot::pending`), so it does not fail.
fn errno_location() -> *mut libc::c_int {
    #[cfg(any(target_os = "linux", target_os = "dragonfly"))]
    // SAFETY: the C library's pointer to this thread's errno: no preconditions, and
    // async-signal-safe (it is what `errno` expands to in C).
    return unsafe { libc::__errno_location() };
    #[cfg(any(target_os = "android", target_os = "netbsd", target_os = "openbsd"))]
    // SAFETY: as above, under this C library's name.
    return unsafe { libc::__errno() };
    #[cfg(any(target_os = "freebsd", target_vendor = "apple"))]
    // SAFETY: as above, under this C library's name.
    return unsafe { libc::__error() };
    #[allow(unreachable_code)]
    ptr::null_mut()
}
