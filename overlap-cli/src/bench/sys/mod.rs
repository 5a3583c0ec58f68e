//! The few raw system calls of the benchmark: the raw-epoll and raw io_uring floors it measures
//! overlap against, and pinning threads to CPUs. Unsafe code lives only here.

#[cfg(target_os = "linux")]
pub(crate) mod dispatch_floor;
#[cfg(target_os = "linux")]
pub(crate) mod raw_epoll;
#[cfg(target_os = "linux")]
pub(crate) mod raw_uring;

/// Pins the calling thread to `cpu` (best effort: a no-op where it is not supported or the
/// CPU does not exist).
#[cfg(target_os = "linux")]
pub(crate) fn pin_to(cpu: usize) {
    raw_epoll::pin_to(cpu);
}

/// Pins the calling thread to `cpu` (not supported here: a no-op).
#[cfg(not(target_os = "linux"))]
pub(crate) fn pin_to(_cpu: usize) {}
