//! `overlap bench-peer dispatch`: the dispatch workload on the event loop as the harness's
//! `BENCH --pipes P --active A --writes W --iters K` (`bench/c/dispatch.h`,
//! `bench/c/bench_libevent.c`): one untimed warm-up iteration, then K timed; the median and
//! least iteration time. Unix only (AF_UNIX socketpairs).

use std::io;

use overlap::ReactorBackend;

/// What a run measured.
#[derive(Debug)]
#[cfg_attr(not(unix), allow(dead_code))] // made on Unix only
pub(super) struct Measured {
    /// Events per iteration (W + A).
    pub(super) events: usize,
    /// The median iteration time, in ns (the upper median for an even K, as `common.h` takes).
    pub(super) median_ns: u64,
    /// The least iteration time, in ns.
    pub(super) min_ns: u64,
}

/// Runs the workload.
#[cfg(unix)]
pub(super) fn run(
    pipes: usize,
    active: usize,
    writes: usize,
    iters: usize,
    backend: Option<ReactorBackend>,
) -> io::Result<Measured> {
    use super::super::chain::{self, Setting};
    use super::super::event_dispatch::EventChain;
    use super::super::sys;

    if active > pipes {
        let msg = format!("--active {active} is more than --pipes {pipes}: at most one chain starts per pipe");
        return Err(io::Error::new(io::ErrorKind::InvalidInput, msg));
    }
    // Both ends of every pipe, the base's own descriptors (poller, waker), stdio and spares.
    let needed = 2 * pipes as u64 + 64;
    let limit = sys::raise_open_files(needed)?;
    if limit < needed {
        let msg = format!(
            "--pipes {pipes} needs about {needed} open files at once; this process may open {limit} (the \
             hard limit, `ulimit -Hn`): raise it or ask for fewer pipes"
        );
        return Err(io::Error::other(msg));
    }
    let (readers, chain) = chain::pipes(Setting { pipes, active, writes })?;
    // No watchdog timer: the libevent peer has none (the harness bounds the whole run).
    let mut ec = EventChain::new(backend, readers, chain, None)?;
    ec.iteration()?; // the warm-up
    let mut times = Vec::with_capacity(iters);
    for _ in 0..iters {
        times.push(ec.iteration()?.as_nanos() as u64);
    }
    times.sort_unstable();
    Ok(Measured { events: ec.events(), median_ns: times[iters / 2], min_ns: times[0] })
}

/// Runs the workload: not here (no AF_UNIX socketpairs).
#[cfg(not(unix))]
pub(super) fn run(
    _pipes: usize,
    _active: usize,
    _writes: usize,
    _iters: usize,
    _backend: Option<ReactorBackend>,
) -> io::Result<Measured> {
    let msg = "bench-peer dispatch runs on AF_UNIX socketpairs: Unix only (the timers workload runs here)";
    Err(io::Error::new(io::ErrorKind::Unsupported, msg))
}
