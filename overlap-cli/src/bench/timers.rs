//! The timer workload, on completion ports and on the event loop (the `Reactor` has no timers):
//! arm far timeouts and cancel them, in the order they were armed, then fire zero-length ones
//! (the firing timed from arming them to the last one seen). Ports submit their timeouts
//! deferred, as one batch; the event loop `add`s and `del`s timer events made beforehand
//! (`event_timers.rs`), and says what its tables hold per timer. Nanoseconds per op; there is
//! no raw floor for these.

use std::io;
use std::time::{Duration, Instant};

use overlap::op::Timeout;
use overlap::CompletionPort;

use super::cell::{Cell, FEW_FDS};
use super::event_timers::Timers;
use super::path::Path;
use super::sample::{Figure, Sample};

/// One cell per completion backend and per event-loop backend.
pub(crate) fn cells(paths: &[Path]) -> Vec<Cell> {
    paths
        .iter()
        .filter(|p| matches!(p, Path::Port(_) | Path::Event(_)))
        .map(|&path| {
            let setting = "add/cancel/fire".into();
            Cell { workload: "timers", setting, path, run, conns: 0, size: 0, fds: FEW_FDS }
        })
        .collect()
}

/// Timers per measurement: enough to dwarf the clock reads, few enough for a short cell.
fn count(secs: Duration) -> usize {
    ((secs.as_secs_f64() * 20_000.0) as usize).clamp(1_000, 50_000)
}

fn run(cell: &Cell, secs: Duration) -> io::Result<Sample> {
    let backend = match cell.path {
        Path::Port(backend) => backend,
        Path::Event(backend) => return run_event(backend, count(secs)),
        _ => return Err(io::ErrorKind::Unsupported.into()),
    };
    let port = CompletionPort::builder().backend(backend).single_thread(true).build()?;
    let n = count(secs);
    let mut out = Vec::with_capacity(1024);

    let t = Instant::now();
    // Deferred, as an event loop adds timers between waits (io_uring: one enter for the batch,
    // as the shared bench's raw io_uring timers do).
    let ids = (0..n)
        .map(|i| port.submit_deferred(Timeout::new(Duration::from_secs(3600)), i).map_err(io::Error::from))
        .collect::<io::Result<Vec<_>>>()?;
    port.flush()?;
    let add = t.elapsed();
    let t = Instant::now();
    for id in ids {
        port.cancel(id)?;
    }
    let mut left = n;
    while left > 0 {
        left -= port.wait_many(&mut out, 1024, Some(Duration::from_secs(10)))?;
        if out.iter().any(|c| !c.is_cancelled()) {
            return Err(io::Error::other("a far timeout fired instead of being cancelled"));
        }
        out.clear();
    }
    let cancel = t.elapsed();

    let t = Instant::now();
    for i in 0..n {
        port.submit_deferred(Timeout::new(Duration::ZERO), i).map_err(io::Error::from)?;
    }
    let mut left = n;
    while left > 0 {
        let got = port.wait_many(&mut out, 1024, Some(Duration::from_secs(10)))?;
        if got == 0 {
            return Err(io::Error::other("zero-length timeouts did not fire within 10 s"));
        }
        left -= got;
        out.clear();
    }
    let fire = t.elapsed();

    let per = |d: Duration| d.as_nanos() as f64 / n as f64;
    Ok(Sample {
        figures: vec![
            Figure::lower("add ns", per(add)),
            Figure::lower("cancel ns", per(cancel)),
            Figure::lower("fire ns", per(fire)),
        ],
    })
}

/// The cell on an event base: `n` timer events armed an hour ahead and deleted, then armed with
/// no delay and run by the loop.
fn run_event(backend: overlap::ReactorBackend, n: usize) -> io::Result<Sample> {
    let mut timers = Timers::new(Some(backend), n)?;
    let add = timers.add(std::iter::repeat_n(Duration::from_secs(3600), n))?;
    let bytes = timers.bytes_per_timer(n);
    let cancel = timers.cancel(0..n)?;
    let fire = timers.add(std::iter::repeat_n(Duration::ZERO, n))? + timers.fire(n)?;
    let per = |d: Duration| d.as_nanos() as f64 / n as f64;
    Ok(Sample {
        figures: vec![
            Figure::lower("add ns", per(add)),
            Figure::lower("cancel ns", per(cancel)),
            Figure::lower("fire ns", per(fire)),
            Figure::lower("B/timer", bytes as f64),
        ],
    })
}
