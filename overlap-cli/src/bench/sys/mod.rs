//! The few raw system calls of the benchmark: the raw-epoll and raw io_uring floors it measures
//! overlap against, pinning threads to CPUs and the open-files limit. Unsafe code lives only here.

#[cfg(epoll)]
pub(crate) mod bulk_floor;
#[cfg(epoll)]
pub(crate) mod dispatch_floor;
#[cfg(epoll)]
pub(crate) mod raw_epoll;
#[cfg(uring)]
pub(crate) mod raw_uring;
#[cfg(unix)]
mod rlimit;

/// Pins the calling thread to `cpu` (best effort: a no-op where it is not supported or the
/// CPU does not exist).
#[cfg(epoll)]
pub(crate) fn pin_to(cpu: usize) {
    raw_epoll::pin_to(cpu);
}

/// Pins the calling thread to `cpu` (not supported here: a no-op).
#[cfg(not(epoll))]
pub(crate) fn pin_to(_cpu: usize) {}

/// Lets the process open at least `needed` files at once where the hard limit allows (Unix:
/// raises RLIMIT_NOFILE's soft limit); the limit after (`u64::MAX`: none, or none known).
#[cfg(unix)]
pub(crate) fn raise_open_files(needed: u64) -> std::io::Result<u64> {
    rlimit::raise_open_files(needed)
}

/// Lets the process open at least `needed` files at once (no such limit known here).
#[cfg(not(unix))]
pub(crate) fn raise_open_files(_needed: u64) -> std::io::Result<u64> {
    Ok(u64::MAX)
}
