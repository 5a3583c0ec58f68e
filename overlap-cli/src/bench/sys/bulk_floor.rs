//! The floor of the `bulk` workload: a sink written directly on epoll(7) (`raw_epoll::Epoll`,
//! level-triggered) with nothing of overlap in between, as a C program would be. One `recv`
//! into a fixed buffer of the cell's read size per readiness report; what comes is discarded.

use std::io::{self, ErrorKind, Read};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::fd::AsRawFd;
use std::sync::Arc;
use std::thread::JoinHandle;

use super::raw_epoll::{Epoll, EventFd};

const LISTENER: u64 = u64::MAX;
const STOP: u64 = u64::MAX - 1;
const CONN: u64 = 0;

/// A single-threaded sink on 127.0.0.1 reading `read` bytes at a time: its address, the eventfd
/// that stops it, and its thread. It serves one connection at a time (one that comes while
/// another is served is closed at once).
pub(crate) fn sink(read: usize) -> io::Result<(SocketAddr, Arc<EventFd>, JoinHandle<io::Result<()>>)> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    listener.set_nonblocking(true)?;
    let addr = listener.local_addr()?;
    let stop = Arc::new(EventFd::new()?);
    let ep = Epoll::new()?;
    ep.add(listener.as_raw_fd(), LISTENER)?;
    ep.add(stop.raw(), STOP)?;
    let thread = std::thread::spawn(move || {
        let mut conn: Option<TcpStream> = None;
        let mut events = vec![libc::epoll_event { events: 0, u64: 0 }; 8];
        let mut buf = vec![0u8; read.max(1)];
        loop {
            let n = ep.wait(&mut events, -1)?;
            for ev in &events[..n] {
                match ev.u64 {
                    STOP => return Ok(()),
                    LISTENER => match listener.accept() {
                        Ok((s, _)) if conn.is_none() => {
                            s.set_nonblocking(true)?;
                            ep.add(s.as_raw_fd(), CONN)?;
                            conn = Some(s);
                        }
                        Ok(_) => {} // one at a time: this one is closed
                        Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::ConnectionAborted) => {}
                        Err(e) => return Err(e),
                    },
                    _ => {
                        let Some(s) = conn.as_ref() else { continue };
                        match (&*s).read(&mut buf) {
                            Ok(0) => conn = None, // closing it leaves the epoll set
                            Ok(_) => {}
                            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::Interrupted) => {}
                            Err(_) => conn = None,
                        }
                    }
                }
            }
        }
    });
    Ok((addr, stop, thread))
}
