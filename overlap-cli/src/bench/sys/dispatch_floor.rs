//! The floor of the `dispatch` workload: the pipes' read ends watched by one level-triggered
//! epoll(7) instance (`raw_epoll::Epoll`), as in `bench_epoll.c` of the C benchmarks, with
//! nothing of overlap in between. The workload itself (reads, writes, timing) is in
//! `bench/dispatch.rs`, the same for every path; only the waiting differs.

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd};

/// Events taken per `epoll_wait`, as in the C version.
const BATCH: usize = 1024;

/// An epoll instance watching descriptors for readability, level-triggered, each under its
/// index in the list it was built from.
pub(crate) struct Epoll {
    ep: super::raw_epoll::Epoll,
    events: Vec<libc::epoll_event>,
}

impl Epoll {
    /// Watches every descriptor of `fds` (`EPOLLIN`, level-triggered), the i-th under `i`. The
    /// descriptors must stay open while the instance is in use (a closed one just stops being
    /// reported).
    pub(crate) fn new<'a>(fds: impl IntoIterator<Item = BorrowedFd<'a>>) -> io::Result<Epoll> {
        let ep = super::raw_epoll::Epoll::new()?;
        for (i, watched) in fds.into_iter().enumerate() {
            ep.add(watched.as_raw_fd(), i as u64)?;
        }
        Ok(Epoll { ep, events: vec![libc::epoll_event { events: 0, u64: 0 }; BATCH] })
    }

    /// Waits at most `ms` milliseconds for ready descriptors and returns their indices (none on
    /// timeout or when a signal interrupted the wait).
    pub(crate) fn wait(&mut self, ms: i32) -> io::Result<impl Iterator<Item = usize> + '_> {
        let n = self.ep.wait(&mut self.events, ms)?;
        // `epoll_event` is packed on x86-64: copy the field out rather than borrow it.
        Ok(self.events[..n].iter().map(|ev| {
            let token = ev.u64;
            token as usize
        }))
    }
}
