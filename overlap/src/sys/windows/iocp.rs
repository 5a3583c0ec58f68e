//! The IOCP driver: a native I/O completion port behind [`CompletionPort`](crate::CompletionPort).
//!
//! Every handle joins the driver's port under one key when it is associated. Stream sockets
//! whose provider is a plain kernel one (no layered service provider) and disk files skip the
//! port when a call succeeds at once (`FILE_SKIP_COMPLETION_PORT_ON_SUCCESS`), so those
//! complete inline; datagram sockets and pipes do not, as their "too long" results are
//! warnings whose packets still come. UDP sockets get `SIO_UDP_CONNRESET` off. An overlapped
//! disk file has no position, so the driver keeps one per handle for ops without an offset:
//! such an op runs at the position when it is submitted, which advances as it completes (give
//! offsets when several are in flight on one file). Polls (`PollReady`) go through a driver
//! owned `\Device\Afd` handle on the same port. Timeouts live in a heap whose earliest deadline
//! bounds the leader's `GetQueuedCompletionStatusEx`; posts and wakes are
//! `PostQueuedCompletionStatus` packets.
//!
//! Each op in flight is one [`OpBox`](super::overlapped::OpBox): its `OVERLAPPED`, the op with
//! its buffer, and what the call needs kept alive. Its life:
//!
//! ```text
//!  submit ──▶ boxed, in `inflight` ──issue──▶ pending ──packet──▶ reaped ──▶ Completion
//!                 │                             │  ▲                 ▲
//!                 │ failed at once, or done at  │  │ cancel: flag +  │ ERROR_OPERATION_ABORTED
//!                 │ once on a skip-on-success   │  │ CancelIoEx      │ + flag = "cancelled";
//!                 ▼ handle (no packet comes)    └──┘                 │ anything else is the op's
//!             Completion                                             │ own result
//! ```
//!
//! The box leaves `inflight` (under the lock) before it is freed, and `cancel` only calls
//! `CancelIoEx` under that lock, so a cancel never touches a freed `OVERLAPPED`. A cancel that
//! arrives between boxing and issuing sets the flag, and the submitter cancels right after
//! issuing. A socket closed under an op reports the kernel's own error (`ERROR_NETNAME_DELETED`
//! or `WSAECONNABORTED`), not "cancelled": only `cancel` cancels. Dropping the port cancels
//! every op and waits (at most 2 s) for the packets; boxes the kernel still holds after that
//! are leaked, never freed under it.
#![allow(unsafe_code)]

use crate::int_map::IntMap;
use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

use windows_sys::Win32::Foundation::HANDLE;
use windows_sys::Win32::Networking::WinSock::{SOCK_DGRAM, SOCK_STREAM, WSAEWOULDBLOCK};
use windows_sys::Win32::Storage::FileSystem::{GetFileType, SetFileCompletionNotificationModes, FILE_TYPE_DISK};
use windows_sys::Win32::System::WindowsProgramming::{
    FILE_SKIP_COMPLETION_PORT_ON_SUCCESS, FILE_SKIP_SET_EVENT_ON_HANDLE,
};
use windows_sys::Win32::System::IO::{CancelIoEx, OVERLAPPED, OVERLAPPED_ENTRY};

use super::cport::{Cport, Entries, WAKE_KEY};
use super::device::Afd;
use super::net;
use super::overlapped::{self, Issued, OpBox};
use crate::contract::completion::{Completion, OpId, Pending};
use crate::contract::desc::{Desc, Lane, Route};
use crate::contract::driver;
use crate::contract::lanes::Lanes;
use crate::contract::queue::Queue;
use crate::contract::source::{raw_of, HandleKind, OwnedSource, RawSource};
use crate::contract::timers::Timers;
use crate::error;

/// The completion key of every op packet.
const OP_KEY: usize = 1;
/// How long dropping the port waits for cancelled ops to come back.
const DRAIN_PATIENCE: Duration = Duration::from_secs(2);

/// A box in the kernel, by address.
#[derive(Copy, Clone)]
struct BoxPtr(*mut OpBox);

// SAFETY: the box is only touched under the driver's lock or by the one thread that owns it.
unsafe impl Send for BoxPtr {}

/// What the driver knows of an associated handle.
#[derive(Copy, Clone, Debug, Default)]
struct Info {
    /// Calls that succeed at once queue no packet.
    skip: bool,
    /// A datagram socket.
    datagram: bool,
    /// A disk file: ops without an offset use and advance `cursor`.
    disk: bool,
    cursor: u64,
}

#[derive(Default)]
struct State {
    /// The port was closed: what is submitted now completes cancelled.
    closed: bool,
    /// By op number.
    inflight: IntMap<u64, BoxPtr>,
    handles: IntMap<RawSource, Info>,
    timers: Timers,
    /// Transfers on streams waiting behind the one in flight in their lane (see `after`).
    lanes: Lanes<Lane>,
    /// The accept whose packet is being turned into its outcome, out of `inflight` (only the
    /// leader reaps), and whether a cancel asked for it meanwhile: if it is issued again
    /// (`accept_again`), it takes that cancel with it.
    reaping: Option<(u64, bool)>,
}

/// The IOCP driver.
pub(crate) struct Driver {
    port: Cport,
    /// A wake packet is queued and not yet dequeued: wakes coalesce into it.
    waking: AtomicBool,
    queue: Arc<Queue>,
    state: Mutex<State>,
    afd: OnceLock<Afd>,
    entries: Mutex<Entries>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Driver {
    pub(crate) fn new(queue: Arc<Queue>, concurrency: usize) -> io::Result<Driver> {
        let port = Cport::new(concurrency.min(u32::MAX as usize) as u32)?;
        Ok(Driver {
            port,
            waking: AtomicBool::new(false),
            queue,
            state: Mutex::new(State::default()),
            afd: OnceLock::new(),
            entries: Mutex::default(),
        })
    }

    /// Queues one wake packet, unless one is queued already.
    fn wake(&self) -> io::Result<()> {
        if self.waking.swap(true, Ordering::AcqRel) {
            return Ok(());
        }
        self.port.post(WAKE_KEY).inspect_err(|_| self.waking.store(false, Ordering::Release))
    }

    fn deliver(&self, done: Vec<Completion>) {
        if !done.is_empty() && self.queue.push(done) {
            let _ = self.wake();
        }
    }

    /// The AFD handle for polls, opened on first use.
    fn afd(&self) -> io::Result<&Afd> {
        if let Some(a) = self.afd.get() {
            return Ok(a);
        }
        let a = Afd::open(&self.port, OP_KEY)?;
        Ok(self.afd.get_or_init(|| a))
    }

    /// Takes a dequeued box back: the box, its op's result, and whether it is an accept (whose
    /// reaping is noted for `accept_again`).
    ///
    /// # Safety
    ///
    /// `ptr` must be a box this driver issued whose packet was just dequeued.
    unsafe fn reap(&self, ptr: *mut OpBox, bytes: u32) -> (Box<OpBox>, io::Result<usize>, bool) {
        // SAFETY: the packet is dequeued: the kernel is done with the box and only this thread
        // holds it; it leaves `inflight` (under the lock) before it is freed.
        let (id, accept) = unsafe { ((*ptr).pending.id.seq(), (*ptr).accepted.is_some()) };
        let mut st = lock(&self.state);
        st.inflight.remove(&id);
        if accept {
            st.reaping = Some((id, false)); // it may go again (`accept_again`)
        }
        drop(st);
        // SAFETY: as above; the box came from `Box::into_raw` in `start`.
        let mut b = unsafe { Box::from_raw(ptr) };
        let raw = overlapped::packet_result(&mut b, bytes);
        if raw.is_err() && b.pending.plan.whole {
            b.pending.sent += bytes as usize; // what a failed or cancelled send moved first
        }
        let res = overlapped::finish(&mut b, raw);
        self.advance(&b, &res);
        (b, res, accept)
    }

    /// Starts `first`, and what must start after it when it finishes at once (the rest of a
    /// whole write, the next write of its handle); completions go to `done`.
    fn start(&self, first: Pending, done: &mut Vec<Completion>) {
        let mut next = Some(first);
        while let Some(p) = next.take() {
            if let Some((b, res)) = self.issue(p) {
                next = self.after(b, res, done);
            }
        }
    }

    /// What follows a finished op: its completion goes to `done`, unless it is a whole write
    /// the kernel took only part of, which goes again for the rest, and is returned. Else the
    /// next transfer waiting in its lane, if any, is returned to start.
    ///
    /// Windows completes an overlapped `WSASend` on a stream whole, and the receives of a
    /// socket in the order they were issued; Wine does neither (a send may complete in part, a
    /// receive may stay pending while later ones take the data). So transfers on streams go
    /// one at a time per lane here too, as on io_uring; accepts, connects and readiness waits
    /// are not held back (several `AcceptEx` stay outstanding).
    fn after(&self, mut b: Box<OpBox>, res: io::Result<usize>, done: &mut Vec<Completion>) -> Option<Pending> {
        let p = &mut b.pending;
        let (true, Route::Lane(lane)) = (p.plan.ordered, p.plan.route) else {
            done.push(b.pending.complete(res));
            return None;
        };
        let mut st = lock(&self.state);
        let res = match res {
            Ok(n) if p.plan.whole && p.sent + n < p.op.describe().write_len().unwrap_or(0) => {
                p.sent += n;
                // A cancel that came while this part went (or the port closing) ends it here,
                // with the part sent counted.
                if b.cancelled || st.closed {
                    Err(error::cancelled())
                } else {
                    st.lanes.again(lane, b.pending);
                    return st.lanes.next(lane);
                }
            }
            Ok(n) if p.plan.whole => Ok(p.sent + n),
            res => res,
        };
        let next = st.lanes.next(lane);
        drop(st);
        done.push(b.pending.complete(res));
        next
    }

    /// Issues an accept again that Wine completed with WSAEWOULDBLOCK: it does so when a plain
    /// `accept` on the same listening socket (another thread's, through a duplicate) took the
    /// connection first, where Windows keeps the `AcceptEx` pending. So an accept completes
    /// with a connection or a real error, never "would block", as on every backend. An accept
    /// cancelled meanwhile completes cancelled instead; any other op (and an accept's other
    /// outcomes) comes back to go on to `after`.
    fn accept_again(
        &self,
        b: Box<OpBox>,
        res: io::Result<usize>,
        accept: bool,
        done: &mut Vec<Completion>,
    ) -> Option<(Box<OpBox>, io::Result<usize>)> {
        if !accept {
            return Some((b, res)); // (only an accept's reaping is noted)
        }
        let beaten = matches!(&res, Err(e) if e.raw_os_error() == Some(WSAEWOULDBLOCK));
        let mut st = lock(&self.state);
        let asked = st.reaping.is_some_and(|(_, asked)| asked);
        if !beaten || b.cancelled || asked {
            st.reaping = None;
            return Some((b, if beaten { Err(error::cancelled()) } else { res }));
        }
        drop(st);
        // `issue` puts it back in `inflight` under the same number (where a cancel finds it)
        // and takes over its `reaping` entry; a cancel between here and there finds that.
        self.start(b.pending, done);
        None
    }

    /// Moves the position of the disk file a positionless op ran on by what it moved.
    fn advance(&self, b: &OpBox, res: &io::Result<usize>) {
        if let (Some(_), Ok(n)) = (b.cursor, res) {
            if let Some(info) = lock(&self.state).handles.get_mut(&(b.on as RawSource)) {
                info.cursor += *n as u64;
            }
        }
    }
}

impl Driver {
    /// Boxes `p` and makes its call: its box and result if it finished at once (no packet will
    /// come), else `None`.
    fn issue(&self, mut p: Pending) -> Option<(Box<OpBox>, io::Result<usize>)> {
        let (on, info, positionless) = match p.op.describe() {
            Desc::Nop | Desc::Timeout { .. } => unreachable!("routed above"),
            Desc::PollReady { .. } => match self.afd() {
                Ok(afd) => (afd.raw_handle(), Info::default(), false),
                Err(e) => return Some((OpBox::new(p, std::ptr::null_mut(), false, None), Err(e))),
            },
            desc => {
                let fd = desc.fd().unwrap_or(0);
                let positionless = matches!(desc, Desc::Read { offset: None, .. } | Desc::Write { offset: None, .. });
                (fd as HANDLE, lock(&self.state).handles.get(&fd).copied().unwrap_or_default(), positionless)
            }
        };
        let skip = info.skip;
        let cursor = (positionless && info.disk).then_some(info.cursor);
        let id = p.id.seq();
        let ptr = Box::into_raw(OpBox::new(p, on, info.datagram, cursor));
        let mut st = lock(&self.state);
        st.inflight.insert(id, BoxPtr(ptr));
        // An accept issued again (`accept_again`) that a cancel asked for meanwhile.
        let asked = match st.reaping {
            Some((seq, asked)) if seq == id => {
                st.reaping = None;
                asked
            }
            _ => false,
        };
        if st.closed || asked {
            // SAFETY: just boxed, and not issued yet: nothing else touches it. Issued, it is
            // cancelled at once below, as an op cancelled before its call is.
            unsafe { (*ptr).cancelled = true };
        }
        drop(st);
        let afd = self.afd.get();
        // SAFETY: the box stays allocated until its packet is dequeued (by `reap`), or is taken
        // back below when no packet will come; nothing else touches it meanwhile but `cancel`,
        // under the lock, through the kernel.
        let issued = unsafe { overlapped::issue(ptr, afd) };
        let now = match issued {
            Issued::Pending => None,
            Issued::Now(_) if !skip => None, // the packet still comes
            Issued::Now(n) => Some(Ok(n)),
            Issued::Failed(e) => Some(Err(e)),
        };
        let mut st = lock(&self.state);
        match now {
            None => {
                // A cancel that came before the call found nothing to cancel: do it now (if the
                // packet was already reaped, the box left `inflight` and is not touched).
                if let Some(&BoxPtr(b)) = st.inflight.get(&id) {
                    // SAFETY: in `inflight`, so not freed; `cancelled` is only used under the lock.
                    if unsafe { (*b).cancelled } {
                        // SAFETY: the OVERLAPPED only names the request.
                        unsafe { CancelIoEx(on, b.cast::<OVERLAPPED>()) };
                    }
                }
            }
            Some(res) => {
                st.inflight.remove(&id);
                drop(st);
                // SAFETY: no packet will come: the box is ours again.
                let mut b = unsafe { Box::from_raw(ptr) };
                let res = overlapped::finish(&mut b, res);
                self.advance(&b, &res);
                return Some((b, res));
            }
        }
        None
    }
}

impl driver::Driver for Driver {
    fn attach(&self, source: &OwnedSource, _kind: HandleKind) -> io::Result<()> {
        let raw = raw_of(source);
        if let OwnedSource::Handle(_) = source {
            // Checked first: a handle associated with a port stays associated until closed.
            if super::file::is_synchronous(raw as HANDLE)? {
                return Err(error::synchronous_handle());
            }
        }
        self.port.associate(raw as HANDLE, OP_KEY)?;
        let mut info = Info::default();
        let safe = match source {
            OwnedSource::Socket(_) => {
                let kind = net::socket_type(raw)?;
                info.datagram = kind == SOCK_DGRAM;
                if info.datagram {
                    net::udp_connreset_off(raw)?;
                }
                kind == SOCK_STREAM && net::is_ifs(raw)
            }
            OwnedSource::Handle(_) => {
                // SAFETY: asks the type of an open handle.
                info.disk = unsafe { GetFileType(raw as HANDLE) } == FILE_TYPE_DISK;
                info.disk
            }
        };
        let modes = (FILE_SKIP_COMPLETION_PORT_ON_SUCCESS | FILE_SKIP_SET_EVENT_ON_HANDLE) as u8;
        // SAFETY: sets a mode flag on an open handle.
        info.skip = safe && unsafe { SetFileCompletionNotificationModes(raw as HANDLE, modes) } != 0;
        lock(&self.state).handles.insert(raw, info);
        Ok(())
    }

    /// Polls go through the driver's AFD handle: the socket stays out of the port (it may
    /// join it through another handle for its own ops). AFD polls sockets alone.
    fn attach_for_polling(&self, source: &OwnedSource, _kind: HandleKind) -> io::Result<()> {
        match source {
            OwnedSource::Socket(_) => net::socket_type(raw_of(source)).map(|_| ()),
            OwnedSource::Handle(_) => Err(io::Error::new(
                io::ErrorKind::Unsupported,
                "IOCP polls sockets alone (through AFD): this handle is not a socket",
            )),
        }
    }

    fn detach(&self, fd: RawSource) {
        // Ops hold their handle, so none is in flight on a handle being dropped.
        let mut st = lock(&self.state);
        st.handles.remove(&fd);
        st.lanes.forget(Lane { fd, read: true });
        st.lanes.forget(Lane { fd, read: false });
    }

    fn submit(&self, mut p: Pending, _defer: bool) {
        match p.plan.route {
            Route::Now => return self.deliver(vec![p.complete(Ok(0))]),
            Route::Timer(after) => {
                let mut st = lock(&self.state);
                if st.closed {
                    drop(st);
                    return self.deliver(vec![p.cancelled()]);
                }
                if st.timers.add(p, after) {
                    drop(st);
                    let _ = self.wake(); // the leader may wait past the new deadline
                }
                return;
            }
            Route::File | Route::Lane(_) => {}
        }
        if let (true, Route::Lane(lane)) = (p.plan.ordered, p.plan.route) {
            // One transfer of a lane in the kernel at a time (see `after`).
            let mut st = lock(&self.state);
            if st.closed {
                drop(st);
                return self.deliver(vec![p.cancelled()]);
            }
            match st.lanes.enter(lane, p) {
                Some(first) => p = first,
                None => return,
            }
        }
        let mut done = Vec::new();
        self.start(p, &mut done);
        self.deliver(done);
    }

    fn cancel(&self, id: OpId) -> io::Result<()> {
        let seq = id.seq();
        let mut st = lock(&self.state);
        if let Some(&BoxPtr(b)) = st.inflight.get(&seq) {
            // SAFETY: in `inflight`, so not freed (reap removes it under this lock first).
            unsafe {
                (*b).cancelled = true;
                CancelIoEx((*b).on, b.cast::<OVERLAPPED>());
            }
            return Ok(()); // it completes through its packet, cancelled or with its own result
        }
        if let Some((reaping, asked)) = &mut st.reaping {
            if *reaping == seq {
                *asked = true; // its packet came: it completes with its result, or is cancelled
                return Ok(()); // if it goes again (`accept_again`)
            }
        }
        let p = st.timers.cancel(seq).or_else(|| st.lanes.cancel(seq)).ok_or_else(error::op_not_found)?;
        drop(st);
        self.deliver(vec![p.cancelled()]);
        Ok(())
    }

    fn poll(&self, timeout: Option<Duration>) -> io::Result<()> {
        let wait = lock(&self.state).timers.bound(timeout);
        let mut guard = lock(&self.entries);
        let entries = &mut guard.0;
        entries.resize(256, OVERLAPPED_ENTRY::default());
        let n = self.port.get(entries, wait)?;
        let mut done = Vec::with_capacity(n);
        for e in &entries[..n] {
            if e.lpCompletionKey == WAKE_KEY {
                self.waking.store(false, Ordering::Release);
                continue;
            }
            if e.lpOverlapped.is_null() {
                continue;
            }
            // SAFETY: an op packet's OVERLAPPED is the first field of a box this driver issued.
            let (b, res, accept) = unsafe { self.reap(e.lpOverlapped.cast(), e.dwNumberOfBytesTransferred) };
            let Some((b, res)) = self.accept_again(b, res, accept, &mut done) else { continue };
            if let Some(next) = self.after(b, res, &mut done) {
                self.start(next, &mut done);
            }
        }
        drop(guard);
        lock(&self.state).timers.expire(|p| done.push(p.complete(Ok(0))));
        self.deliver(done);
        Ok(())
    }

    fn close(&self) {
        let mut st = lock(&self.state);
        st.closed = true;
        let mut timers: Vec<Completion> = st.timers.drain().map(Pending::cancelled).collect();
        timers.extend(st.lanes.drain().into_iter().map(Pending::cancelled));
        for &BoxPtr(b) in st.inflight.values() {
            // SAFETY: in `inflight`, so not freed (reap removes it under this lock first); the
            // OVERLAPPED only names the request. Its packet comes back cancelled and is reaped
            // by whoever still waits, or by `Drop`.
            unsafe {
                (*b).cancelled = true;
                CancelIoEx((*b).on, b.cast::<OVERLAPPED>());
            }
        }
        drop(st);
        self.deliver(timers); // the queue is closed: they are dropped
    }

    fn notify(&self) -> io::Result<()> {
        self.wake()
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let st = self.state.get_mut().unwrap_or_else(|p| p.into_inner());
        st.closed = true; // no whole write goes again
        st.timers = Timers::default();
        drop(st.lanes.drain());
        for &BoxPtr(b) in st.inflight.values() {
            // SAFETY: in `inflight`, so not freed; the OVERLAPPED only names the request.
            unsafe { CancelIoEx((*b).on, b.cast::<OVERLAPPED>()) };
        }
        let deadline = Instant::now() + DRAIN_PATIENCE;
        let mut entries = vec![OVERLAPPED_ENTRY::default(); 256];
        while !lock(&self.state).inflight.is_empty() {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            let Ok(n) = self.port.get(&mut entries, Some(left)) else { break };
            for e in &entries[..n] {
                if e.lpCompletionKey != WAKE_KEY && !e.lpOverlapped.is_null() {
                    // SAFETY: as in `poll`. Nobody waits on the port any more: dropped now.
                    drop(unsafe { self.reap(e.lpOverlapped.cast(), e.dwNumberOfBytesTransferred) });
                }
            }
        }
        // Leaked on purpose: the kernel may still write into these boxes.
        lock(&self.state).inflight.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contract::driver::Driver as _;

    /// The skip-on-success path is really taken for plain sockets (the `windows_iocp` suite
    /// checks that such completions arrive exactly once).
    #[test]
    fn tcp_sockets_skip_the_port_on_success() {
        let driver = Driver::new(Arc::new(Queue::new(1)), 1).unwrap();
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let c = std::net::TcpStream::connect(l.local_addr().unwrap()).unwrap();
        let src = OwnedSource::Socket(c.into());
        driver.attach(&src, HandleKind::Stream).unwrap();
        assert!(lock(&driver.state).handles[&raw_of(&src)].skip);
        driver.detach(raw_of(&src));
        assert!(lock(&driver.state).handles.is_empty());
    }
}
