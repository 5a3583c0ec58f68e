//! Signal delivery on Windows: console control events.
//!
//! Windows has no signals to catch; what a console program gets instead are control events,
//! which the system hands to the routines of `SetConsoleCtrlHandler` on a thread it creates.
//! Ctrl+C is [`SIGINT`] and Ctrl+Break is [`SIGBREAK`], numbered as the C runtime numbers them.
//! Closing the console, logging off and shutting down are not offered: the system ends the
//! process as soon as the routine returns, whatever it returns, so an event loop would never
//! run a callback for them; they keep their default processing.
//!
//! [`routine`] counts an event for every receiver that watches its signal and sends a byte on
//! the receiver's socket (the reactor's AFD backend polls sockets only, so the wake-up channel
//! is a connected loopback UDP pair). It runs on an ordinary thread, so a mutex is fine there.
#![allow(unsafe_code)]

use std::io::{self, ErrorKind};
use std::net::{Ipv4Addr, UdpSocket};
use std::os::windows::io::{AsSocket, BorrowedSocket};
use std::sync::atomic::{AtomicU32, AtomicU8, Ordering::SeqCst};
use std::sync::{Arc, Mutex, MutexGuard};

use windows_sys::core::BOOL;
use windows_sys::Win32::Foundation::{FALSE, TRUE};
use windows_sys::Win32::System::Console::{SetConsoleCtrlHandler, CTRL_BREAK_EVENT, CTRL_C_EVENT};

use crate::error;

/// Ctrl+C (`CTRL_C_EVENT`), numbered as the C runtime's `signal.h` numbers it.
pub const SIGINT: i32 = 2;
/// Ctrl+Break (`CTRL_BREAK_EVENT`), numbered as the C runtime's `signal.h` numbers it.
pub const SIGBREAK: i32 = 21;

/// The signals there are, by index: bit `i` of a watch mask, `counts[i]`.
const SIGNALS: [i32; 2] = [SIGINT, SIGBREAK];

/// What the routine sees of one receiver.
#[derive(Debug)]
struct Entry {
    watch: AtomicU8,
    counts: [AtomicU32; 2],
    tx: UdpSocket,
}

/// Every live receiver. The routine locks it, so nothing here may call into the console
/// while holding it (the system may hold its handler list's lock while the routine runs).
static RECEIVERS: Mutex<Vec<Arc<Entry>>> = Mutex::new(Vec::new());
/// Whether [`routine`] is installed; held across `SetConsoleCtrlHandler`, never taken by it.
static INSTALLED: Mutex<bool> = Mutex::new(false);

fn receivers() -> MutexGuard<'static, Vec<Arc<Entry>>> {
    // Nothing panics while holding it; a poisoned lock still holds consistent state.
    RECEIVERS.lock().unwrap_or_else(|p| p.into_inner())
}

/// One receiver: its entry in [`RECEIVERS`] and the socket the routine sends to.
#[derive(Debug)]
pub(crate) struct Receiver {
    rx: UdpSocket,
    entry: Arc<Entry>,
}

impl Receiver {
    pub(crate) fn new() -> io::Result<Receiver> {
        let rx = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0))?;
        let tx = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0))?;
        // Connected both ways: `rx` takes datagrams from `tx` only, not from other programs.
        rx.connect(tx.local_addr()?)?;
        tx.connect(rx.local_addr()?)?;
        rx.set_nonblocking(true)?;
        tx.set_nonblocking(true)?;
        let entry = Arc::new(Entry { watch: AtomicU8::new(0), counts: [AtomicU32::new(0), AtomicU32::new(0)], tx });
        receivers().push(entry.clone());
        Ok(Receiver { rx, entry })
    }

    pub(crate) fn add(&self, signo: i32) -> io::Result<()> {
        let bit = 1 << index(signo)?;
        if self.entry.watch.fetch_or(bit, SeqCst) & bit != 0 {
            return Ok(());
        }
        sync_routine().inspect_err(|_| {
            self.entry.watch.fetch_and(!bit, SeqCst);
        })
    }

    pub(crate) fn remove(&self, signo: i32) -> io::Result<()> {
        let i = index(signo)?;
        {
            // Under the lock: once it is released, the routine counts this signal no more.
            let _all = receivers();
            if self.entry.watch.fetch_and(!(1 << i), SeqCst) & (1 << i) == 0 {
                return Ok(());
            }
            self.entry.counts[i].store(0, SeqCst);
        }
        sync_routine()
    }

    pub(crate) fn take(&self, out: &mut Vec<(i32, u32)>) -> io::Result<()> {
        // Drain first, counts second: the routine counts before it sends.
        let mut buf = [0u8; 16];
        loop {
            match self.rx.recv(&mut buf) {
                Ok(_) => {}
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                // An ICMP report for an earlier datagram (WSAECONNRESET), or a signal.
                Err(e) if matches!(e.kind(), ErrorKind::ConnectionReset | ErrorKind::Interrupted) => {}
                Err(e) => return Err(e),
            }
        }
        for (i, count) in self.entry.counts.iter().enumerate() {
            let n = count.swap(0, SeqCst);
            if n > 0 {
                out.push((SIGNALS[i], n));
            }
        }
        Ok(())
    }

    pub(crate) fn as_socket(&self) -> BorrowedSocket<'_> {
        self.rx.as_socket()
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        receivers().retain(|e| !Arc::ptr_eq(e, &self.entry));
        // Nothing to report from a drop; removing a routine that is installed does not fail.
        let _ = sync_routine();
    }
}

/// The index in [`SIGNALS`] of `signo`, or why it cannot be caught.
fn index(signo: i32) -> io::Result<usize> {
    if signo <= 0 {
        return Err(error::signal_invalid(signo));
    }
    SIGNALS.iter().position(|&s| s == signo).ok_or_else(|| error::signal_unsupported(signo))
}

/// Installs [`routine`] if some receiver watches a signal, removes it if none does. Every
/// change of the watch masks is followed by a call, and the calls are serialised by
/// [`INSTALLED`], so the last one sees the last change.
fn sync_routine() -> io::Result<()> {
    let mut installed = INSTALLED.lock().unwrap_or_else(|p| p.into_inner());
    let wanted = receivers().iter().any(|e| e.watch.load(SeqCst) != 0);
    if wanted != *installed {
        // SAFETY: `routine` is a `'static` function of the signature the call expects, safe
        // to run on any thread at any time (it only locks `RECEIVERS`, which no thread holds
        // while calling into the console).
        let ok = unsafe { SetConsoleCtrlHandler(Some(routine), if wanted { TRUE } else { FALSE }) };
        if ok == 0 {
            return Err(io::Error::last_os_error());
        }
        *installed = wanted;
    }
    Ok(())
}

/// The console control routine: `TRUE` (handled) if some receiver watches the event's signal,
/// else `FALSE`, and the next routine or the default processing (ending the process) has it,
/// as if this one were not there.
pub(crate) extern "system" fn routine(ctrl: u32) -> BOOL {
    let i = match ctrl {
        CTRL_C_EVENT => 0,
        CTRL_BREAK_EVENT => 1,
        _ => return FALSE,
    };
    let mut handled = false;
    for e in receivers().iter().filter(|e| e.watch.load(SeqCst) & (1 << i) != 0) {
        let _ = e.counts[i].fetch_update(SeqCst, SeqCst, |n| n.checked_add(1));
        // A full buffer means the receiver is readable already.
        let _ = e.tx.send(&[SIGNALS[i] as u8]);
        handled = true;
    }
    if handled {
        TRUE
    } else {
        FALSE
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The routine's dispatch, called directly: console events cannot be counted on under Wine.
    #[test]
    fn routine_counts_for_watchers_only() {
        let (a, b) = (Receiver::new().unwrap(), Receiver::new().unwrap());
        a.add(SIGBREAK).unwrap();
        b.add(SIGINT).unwrap();
        assert_eq!(routine(CTRL_BREAK_EVENT), TRUE);
        assert_eq!(routine(CTRL_BREAK_EVENT), TRUE);
        let (mut got_a, mut got_b) = (Vec::new(), Vec::new());
        // The datagram may take a moment on loopback; the counts are there at once.
        a.take(&mut got_a).unwrap();
        b.take(&mut got_b).unwrap();
        assert_eq!(got_a, vec![(SIGBREAK, 2)]);
        assert_eq!(got_b, vec![]);
        b.remove(SIGINT).unwrap();
        assert_eq!(routine(CTRL_C_EVENT), FALSE, "nobody watches SIGINT");
        assert_eq!(routine(2 /* CTRL_CLOSE_EVENT */), FALSE);
        a.remove(SIGBREAK).unwrap();
        assert_eq!(routine(CTRL_BREAK_EVENT), FALSE);
    }
}
