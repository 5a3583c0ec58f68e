//! The timer workload, on completion ports (the `Reactor` has no timers; the event loop that
//! will is a later issue): submit far timeouts (deferred, one batch) and cancel them, then fire
//! zero-length ones.
//! Nanoseconds per op; there is no raw floor for these.

use std::io;
use std::time::{Duration, Instant};

use overlap::op::Timeout;
use overlap::CompletionPort;

use super::cell::{Cell, FEW_FDS};
use super::path::Path;
use super::sample::{Figure, Sample};

/// One cell per completion backend.
pub(crate) fn cells(paths: &[Path]) -> Vec<Cell> {
    paths
        .iter()
        .filter(|p| matches!(p, Path::Port(_)))
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
    let Path::Port(backend) = cell.path else { return Err(io::ErrorKind::Unsupported.into()) };
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
