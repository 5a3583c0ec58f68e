//! The floor: the same servers written directly on epoll(7) and eventfd(2), with nothing of
//! overlap in between. Every overlap path is reported as a ratio to these.
#![allow(unsafe_code)]

use std::io::{self, ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::thread::JoinHandle;

/// Turns a `-1` return into the thread's errno.
fn cvt(ret: libc::c_int) -> io::Result<libc::c_int> {
    if ret == -1 {
        Err(io::Error::last_os_error())
    } else {
        Ok(ret)
    }
}

/// An epoll instance (level-triggered readability).
pub(crate) struct Epoll(OwnedFd);

impl Epoll {
    pub(crate) fn new() -> io::Result<Epoll> {
        // SAFETY: creates a descriptor; no pointers.
        let fd = cvt(unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) })?;
        // SAFETY: a new descriptor that nothing else owns.
        Ok(Epoll(unsafe { OwnedFd::from_raw_fd(fd) }))
    }

    /// Watches `fd` for readability under `token`.
    pub(crate) fn add(&self, fd: RawFd, token: u64) -> io::Result<()> {
        let mut ev = libc::epoll_event { events: libc::EPOLLIN as u32, u64: token };
        // SAFETY: `ev` is a live local; the kernel copies it.
        cvt(unsafe { libc::epoll_ctl(self.0.as_raw_fd(), libc::EPOLL_CTL_ADD, fd, &mut ev) }).map(drop)
    }

    /// Watches `fd` for `events` (`EPOLLIN` or `EPOLLOUT`) from now on.
    fn modify(&self, fd: RawFd, events: libc::c_int, token: u64) -> io::Result<()> {
        let mut ev = libc::epoll_event { events: events as u32, u64: token };
        // SAFETY: `ev` is a live local; the kernel copies it.
        cvt(unsafe { libc::epoll_ctl(self.0.as_raw_fd(), libc::EPOLL_CTL_MOD, fd, &mut ev) }).map(drop)
    }

    fn del(&self, fd: RawFd) {
        // SAFETY: no event argument is needed for a delete.
        unsafe { libc::epoll_ctl(self.0.as_raw_fd(), libc::EPOLL_CTL_DEL, fd, std::ptr::null_mut()) };
    }

    /// Waits at most `ms` (-1: for ever) and fills `out`; 0 on timeout or a signal.
    pub(crate) fn wait(&self, out: &mut [libc::epoll_event], ms: i32) -> io::Result<usize> {
        // SAFETY: `out` is writable for its length.
        match cvt(unsafe { libc::epoll_wait(self.0.as_raw_fd(), out.as_mut_ptr(), out.len() as i32, ms) }) {
            Ok(n) => Ok(n as usize),
            Err(e) if e.kind() == ErrorKind::Interrupted => Ok(0),
            Err(e) => Err(e),
        }
    }
}

/// An eventfd: a counter one thread bumps and another waits on.
pub(crate) struct EventFd(OwnedFd);

impl EventFd {
    pub(crate) fn new() -> io::Result<EventFd> {
        // SAFETY: creates a descriptor; no pointers.
        let fd = cvt(unsafe { libc::eventfd(0, libc::EFD_CLOEXEC | libc::EFD_NONBLOCK) })?;
        // SAFETY: a new descriptor that nothing else owns.
        Ok(EventFd(unsafe { OwnedFd::from_raw_fd(fd) }))
    }

    pub(crate) fn signal(&self) {
        let one = 1u64;
        // SAFETY: writes 8 bytes from a live local.
        unsafe { libc::write(self.0.as_raw_fd(), (&one as *const u64).cast(), 8) };
    }

    /// The descriptor, for a reader outside this file.
    pub(crate) fn raw(&self) -> RawFd {
        self.0.as_raw_fd()
    }

    fn clear(&self) {
        let mut n = 0u64;
        // SAFETY: reads 8 bytes into a live local.
        unsafe { libc::read(self.0.as_raw_fd(), (&mut n as *mut u64).cast(), 8) };
    }
}

const LISTENER: u64 = u64::MAX;
const STOP: u64 = u64::MAX - 1;

/// A connection of the floor's echo server.
struct Conn {
    stream: TcpStream,
    /// What the socket did not take yet; while there is some, the connection waits for
    /// `EPOLLOUT` instead of reading (a message larger than the socket buffers goes back in
    /// pieces).
    pending: Vec<u8>,
}

/// Writes what `stream` takes of `data` now: the count written.
fn write_some(mut stream: &TcpStream, data: &[u8]) -> io::Result<usize> {
    let mut done = 0;
    while done < data.len() {
        match stream.write(&data[done..]) {
            Ok(0) => return Err(ErrorKind::WriteZero.into()),
            Ok(n) => done += n,
            Err(e) if e.kind() == ErrorKind::WouldBlock => break,
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(done)
}

/// Serves one event of connection `slot`: echoes what arrived, or writes what was pending; false
/// when the connection is over.
fn serve(ep: &Epoll, slot: usize, c: &mut Conn, buf: &mut [u8]) -> bool {
    let fd = c.stream.as_raw_fd();
    if !c.pending.is_empty() {
        let Ok(n) = write_some(&c.stream, &c.pending) else { return false };
        c.pending.drain(..n);
        // All out: read again.
        return !c.pending.is_empty() || ep.modify(fd, libc::EPOLLIN, slot as u64).is_ok();
    }
    match (&c.stream).read(buf) {
        Ok(0) => false,
        Ok(k) => match write_some(&c.stream, &buf[..k]) {
            Ok(n) if n == k => true,
            Ok(n) => {
                c.pending.extend_from_slice(&buf[n..k]);
                ep.modify(fd, libc::EPOLLOUT, slot as u64).is_ok()
            }
            Err(_) => false,
        },
        Err(e) => matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::Interrupted),
    }
}

/// A single-threaded level-triggered epoll echo server on 127.0.0.1; returns its address, a
/// stop signal and the thread.
pub(crate) fn echo_server() -> io::Result<(SocketAddr, std::sync::Arc<EventFd>, JoinHandle<io::Result<()>>)> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    listener.set_nonblocking(true)?;
    let addr = listener.local_addr()?;
    let stop = std::sync::Arc::new(EventFd::new()?);
    let stop2 = stop.clone();
    let ep = Epoll::new()?;
    ep.add(listener.as_raw_fd(), LISTENER)?;
    ep.add(stop.0.as_raw_fd(), STOP)?;
    let thread = std::thread::spawn(move || {
        let mut conns: Vec<Option<Conn>> = Vec::new();
        let mut events = vec![libc::epoll_event { events: 0, u64: 0 }; 256];
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = ep.wait(&mut events, -1)?;
            for ev in &events[..n] {
                match ev.u64 {
                    STOP => {
                        stop2.clear();
                        return Ok(());
                    }
                    LISTENER => loop {
                        match listener.accept() {
                            Ok((s, _)) => {
                                s.set_nonblocking(true)?;
                                s.set_nodelay(true)?;
                                let slot = conns.iter().position(Option::is_none).unwrap_or(conns.len());
                                ep.add(s.as_raw_fd(), slot as u64)?;
                                let c = Conn { stream: s, pending: Vec::new() };
                                if slot == conns.len() {
                                    conns.push(Some(c));
                                } else {
                                    conns[slot] = Some(c);
                                }
                            }
                            Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                            Err(e) => return Err(e),
                        }
                    },
                    slot => {
                        let slot = slot as usize;
                        let Some(c) = conns[slot].as_mut() else { continue };
                        if !serve(&ep, slot, c, &mut buf) {
                            ep.del(c.stream.as_raw_fd());
                            conns[slot] = None;
                        }
                    }
                }
            }
        }
    });
    Ok((addr, stop, thread))
}

/// Waits on `fd` with its own epoll, as a wake-up receiver does.
pub(crate) struct Waiter {
    ep: Epoll,
    events: Vec<libc::epoll_event>,
}

impl Waiter {
    pub(crate) fn new(fd: &EventFd) -> io::Result<Waiter> {
        let ep = Epoll::new()?;
        ep.add(fd.0.as_raw_fd(), 0)?;
        Ok(Waiter { ep, events: vec![libc::epoll_event { events: 0, u64: 0 }; 4] })
    }

    /// Blocks until the eventfd is signalled (at most `ms`), and resets it; false on timeout.
    pub(crate) fn wait(&mut self, fd: &EventFd, ms: i32) -> io::Result<bool> {
        let n = self.ep.wait(&mut self.events, ms)?;
        if n > 0 {
            fd.clear();
        }
        Ok(n > 0)
    }
}

/// Pins the calling thread to `cpu`, if it exists (best effort).
pub(crate) fn pin_to(cpu: usize) {
    // SAFETY: cpu_set_t is plain bits; all-zero is the empty set.
    let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    if cpu < 8 * std::mem::size_of::<libc::cpu_set_t>() {
        // SAFETY: writes one bit inside the set (`cpu` is within its size, checked above).
        unsafe { libc::CPU_SET(cpu, &mut set) };
        // SAFETY: passes a live set of the size given; 0 is the calling thread.
        unsafe { libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set) };
    }
}
