//! An event base per thread, for the echo servers on the event loop (`event.rs`: raw events;
//! `bufferevent.rs`: buffered events and a listener). Each thread builds its base around its
//! listener (one per thread where SO_REUSEPORT exists; elsewhere a clone of the first), says so
//! (or why not) to the starting thread, and runs the loop until stopped; stopping breaks every
//! base's loop through its handle. A callback that meets an error the server cannot go on from
//! records it in the thread's [`Failure`] and breaks the loop: the thread ends with that error.

use std::cell::RefCell;
use std::io;
use std::net::TcpListener;
use std::rc::Rc;
use std::sync::{mpsc, Arc};

use overlap_event::{BaseHandle, EventBase, Method};

use super::running::{self, Running, Stop};

/// The first error that ends a base's loop from a callback.
pub(super) type Failure = Rc<RefCell<Option<io::Error>>>;

/// Builds a thread's base on a backend, serving a listener; a callback that cannot go on
/// records its error in the [`Failure`] and breaks the loop.
pub(super) type Build = fn(TcpListener, Method, &Failure) -> io::Result<EventBase>;

/// Serves on `listeners` with a base per thread (`threads` of them, named `name`), each made by
/// `build` on its thread. A base that cannot be built is this call's error (the threads started
/// before it are stopped).
pub(super) fn start(
    listeners: Vec<TcpListener>,
    backend: Method,
    threads: usize,
    name: &str,
    build: Build,
) -> io::Result<Running> {
    let first = listeners.first().ok_or_else(|| io::Error::other("no listener"))?;
    let addr = first.local_addr()?;
    let mut bases: Vec<BaseHandle> = Vec::new();
    let mut joins = Vec::new();
    let fail = |bases: &[BaseHandle], joins, e: io::Error| {
        for b in bases {
            let _ = b.loopbreak();
        }
        let _ = running::join_all(joins);
        Err(e)
    };
    let mut each = Vec::with_capacity(threads.max(1));
    for i in 0..threads.max(1) {
        each.push(match listeners.get(i) {
            Some(l) => l.try_clone()?,
            None => first.try_clone()?,
        });
    }
    drop(listeners);
    for listener in each {
        let (ready, started) = mpsc::channel();
        let thread = match running::spawn(name, move || serve(listener, backend, build, ready)) {
            Ok(t) => t,
            Err(e) => return fail(&bases, joins, e),
        };
        joins.push(thread);
        match started.recv() {
            Ok(Ok(handle)) => bases.push(handle),
            Ok(Err(e)) => return fail(&bases, joins, e),
            Err(_) => return fail(&bases, joins, io::Error::other("an event thread ended before it served")),
        }
    }
    let stop: Stop = Arc::new(move || {
        for b in &bases {
            let _ = b.loopbreak();
        }
    });
    Ok(Running { addr, stop, threads: joins })
}

/// A thread's loop: builds the base, says so (or why not) on `ready`, and runs until stopped.
fn serve(
    listener: TcpListener,
    backend: Method,
    build: Build,
    ready: mpsc::Sender<io::Result<BaseHandle>>,
) -> io::Result<()> {
    let failed: Failure = Rc::new(RefCell::new(None));
    let mut base = match build(listener, backend, &failed) {
        Ok(base) => base,
        Err(e) => {
            let _ = ready.send(Err(e));
            return Ok(()); // said to `start`, which fails with it
        }
    };
    let _ = ready.send(Ok(base.handle()));
    drop(ready);
    base.dispatch()?;
    let failed = failed.borrow_mut().take();
    failed.map_or(Ok(()), Err)
}

/// Whether an accept failed for want of descriptors or buffers (a passing state).
pub(super) fn out_of_descriptors(e: &io::Error) -> bool {
    #[cfg(unix)]
    let codes = [libc::EMFILE, libc::ENFILE, libc::ENOBUFS, libc::ENOMEM];
    #[cfg(windows)]
    let codes = [10024, 10055]; // WSAEMFILE, WSAENOBUFS
    e.raw_os_error().is_some_and(|c| codes.contains(&c))
}
