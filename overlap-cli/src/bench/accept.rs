//! The accept workload: one client thread connecting, sending a byte, reading it back and
//! closing (with a reset, so no TIME_WAIT piles up), in a loop: connections per second. The
//! servers are the echo servers of the `echo` workload, so every path accepts the same way it
//! serves.

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use super::cell::{Cell, FEW_FDS};
use super::path::Path;
use super::sample::{Figure, Sample};
use super::{echo, sys};

/// One cell per path but the event loop's (which join the echo, bulk, dispatch and timers
/// workloads only).
pub(crate) fn cells(paths: &[Path]) -> Vec<Cell> {
    paths
        .iter()
        .filter(|p| !matches!(p, Path::Event(_) | Path::BufferEvent(_) | Path::BufferEventPort(_)))
        .map(|&path| Cell {
            workload: "accept",
            setting: "1 client".into(),
            path,
            run,
            conns: 0,
            size: 0,
            fds: FEW_FDS,
        })
        .collect()
}

fn run(cell: &Cell, secs: Duration) -> io::Result<Sample> {
    let server = echo::start(cell.path)?;
    let addr = server.addr;
    let client = std::thread::spawn(move || -> io::Result<f64> {
        sys::pin_to(1);
        let start = Instant::now();
        let mut n = 0u64;
        let mut byte = [0u8; 1];
        while start.elapsed() < secs {
            let mut s = TcpStream::connect(addr)?;
            s.set_nodelay(true)?;
            s.write_all(b"x")?;
            s.read_exact(&mut byte)?;
            socket2::SockRef::from(&s).set_linger(Some(Duration::ZERO))?;
            n += 1;
        }
        Ok(n as f64 / start.elapsed().as_secs_f64())
    });
    let res = client.join().map_err(|_| io::Error::other("the accept client panicked"))?;
    (server.stop)()?;
    Ok(Sample { figures: vec![Figure::higher("conns/s", res?)] })
}
