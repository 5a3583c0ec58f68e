//! The bulk workload: one connection over loopback TCP, the client (on its own thread, pinned to
//! CPU 1 where there is one) sending as fast as it can, the server reading and discarding
//! (`sink.rs`), with reads of 16 KiB and of 256 KiB (a cell each): GiB/s, counted by the client
//! over the cell's time after a warm-up of a quarter of it (what it sends beyond what the server
//! read is at most the socket buffers, a few MiB of the gigabytes a cell moves).
//!
//! On loopback the stream is bound by the kernel's copies and the sender, so the servers' own
//! costs show better in the second figure, where there is `/proc` (Linux): the CPU time the
//! server's thread spent per MiB over the same window (`server µs/MiB`, from
//! `/proc/self/task/*/schedstat` of every thread but the client's: the starting thread only
//! waits meanwhile).
//!
//! The paths are the raw-epoll floor and the `Reactor`, the event loop and its buffered events on
//! the default readiness backend (with one connection, the backends differ little: the choice
//! of backend is the echo workload's question).

use std::io::{self, ErrorKind, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use overlap::ReactorBackend;

use super::cell::{Cell, FEW_FDS};
use super::human::bytes;
use super::path::Path;
use super::sample::{Figure, Sample};
use super::{sink, sys};

/// The read sizes of the server, a cell each.
pub(crate) const READS: [usize; 2] = [16 << 10, 256 << 10];

/// What the client hands the kernel per write.
const WRITE: usize = 256 << 10;

/// A write that makes no progress for this long fails the cell (a sink that stopped reading
/// would otherwise hang it).
const STALL: Duration = Duration::from_secs(10);

/// Whether `path` has a bulk sink: the raw-epoll floor, the overlap paths on the default
/// readiness backend, and the completion engine's buffered events on the preferred port.
fn has_sink(path: Path) -> bool {
    match path {
        Path::Floor => true,
        Path::Reactor(b) | Path::Event(b) | Path::BufferEvent(b) => b == ReactorBackend::default(),
        Path::BufferEventPort(b) => overlap::PortBackend::available().first() == Some(&b),
        _ => false,
    }
}

/// The bulk cells: every read size on every path with a sink. A cell's `size` is its read size.
pub(crate) fn cells(paths: &[Path]) -> Vec<Cell> {
    let mut cells = Vec::new();
    for read in READS {
        for &path in paths.iter().filter(|&&p| has_sink(p)) {
            let setting = format!("1 conn, {} reads", bytes(read));
            cells.push(Cell { workload: "bulk", setting, path, run, conns: 1, size: read, fds: FEW_FDS });
        }
    }
    cells
}

fn run(cell: &Cell, secs: Duration) -> io::Result<Sample> {
    let server = sink::start(cell.path, cell.size)?;
    let addr = server.addr;
    let client = std::thread::spawn(move || {
        sys::pin_to(1);
        client(addr, secs)
    });
    let res = client.join().map_err(|_| io::Error::other("the bulk client panicked"))?;
    (server.stop)()?;
    let (gib_per_s, server_us_per_mib) = res?;
    let mut figures = vec![Figure::higher("GiB/s", gib_per_s)];
    figures.extend(server_us_per_mib.map(|v| Figure::lower("server µs/MiB", v)));
    Ok(Sample { figures })
}

/// CPU time (ns) that the process's threads other than the calling one have used so far, where
/// `/proc` says (Linux); `None` elsewhere. A thread that ends meanwhile is left out.
fn others_cpu_ns() -> Option<u64> {
    let me = std::fs::read_link("/proc/thread-self").ok()?;
    let me = me.file_name()?.to_owned();
    let mut sum = 0u64;
    for task in std::fs::read_dir("/proc/self/task").ok()? {
        let Ok(task) = task else { continue };
        if task.file_name() == me {
            continue;
        }
        let Ok(stat) = std::fs::read_to_string(task.path().join("schedstat")) else { continue };
        sum += stat.split_whitespace().next()?.parse::<u64>().ok()?;
    }
    Some(sum)
}

/// Sends to `addr` as fast as the server takes it for a quarter of `secs` (warm-up) and then
/// `secs`: the GiB per second sent after the warm-up and, where known, the CPU time the other
/// threads (the server's) spent per MiB meanwhile, in µs.
fn client(addr: SocketAddr, secs: Duration) -> io::Result<(f64, Option<f64>)> {
    let s = TcpStream::connect(addr)?;
    s.set_write_timeout(Some(STALL))?;
    let chunk = vec![0x5a_u8; WRITE];
    let start = Instant::now();
    let (from, end) = (start + secs / 4, start + secs / 4 + secs);
    // When the counting started (the first write done after the warm-up), and bytes since.
    let mut window: Option<(Instant, u64)> = None;
    let mut cpu_from = None;
    loop {
        let n = match (&s).write(&chunk) {
            Ok(n) => n as u64,
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                let msg = format!("the server took no byte for {} s", STALL.as_secs());
                return Err(io::Error::new(ErrorKind::TimedOut, msg));
            }
            Err(e) => return Err(e),
        };
        let now = Instant::now();
        match &mut window {
            None if now >= from => {
                window = Some((now, 0));
                cpu_from = others_cpu_ns();
            }
            None => {}
            Some((t0, sent)) => {
                *sent += n;
                if now >= end && now > *t0 {
                    let mib = *sent as f64 / (1u64 << 20) as f64;
                    let cpu = cpu_from.zip(others_cpu_ns()).map(|(a, b)| b.saturating_sub(a) as f64 / 1e3 / mib);
                    return Ok((mib / 1024.0 / now.duration_since(*t0).as_secs_f64(), cpu));
                }
            }
        }
    }
}
