//! `overlap bench`: every overlap path measured side by side on this machine, against a
//! raw-epoll floor written in the bench itself, round-robin over several rounds so that drift
//! of the machine cancels; the median and spread of the rounds, as a table on stdout, with
//! progress bars on stderr, and JSON and an SVG chart (in `target/overlap-bench/` unless told
//! where). Built with `--features peers`, tokio, mio and (on Linux) compio are columns too
//! (`peers.rs`).
//!
//! | workload | what | figure |
//! |---|---|---|
//! | `echo` | ping-pong over loopback TCP: one message per connection in flight, the load client on its own thread (and CPU) | messages/s, p50/p99 round trip |
//! | `wakeup` | two threads waking each other in turn (libuv's `async_pummel`, as a ping-pong) | round trips/s |
//! | `timers` | completion-port timeouts: add and cancel far ones, fire near ones | ns per add, cancel, fire |
//! | `accept` | a client connecting and closing in a loop, the server accepting | connections/s |
//! | `dispatch` | libevent's `test/bench.c`: socketpairs in a chain, each readable end writing to the next | ns per event |

mod accept;
mod dispatch;
mod echo;
mod machine;
mod peers;
mod report;
mod sys;
mod timers;
mod wakeup;

use std::fmt;
use std::io;
use std::time::Duration;

use overlap::{PortBackend, ReactorBackend};

pub(crate) use report::Sample;

/// Which workloads to run.
#[derive(Copy, Clone, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Workload {
    /// TCP echo ping-pong.
    Echo,
    /// Cross-thread wake-ups.
    Wakeup,
    /// Completion-port timeouts.
    Timers,
    /// Accepting connections.
    Accept,
    /// libevent's `test/bench.c`: a chain of socketpairs, each event writing to the next.
    Dispatch,
    /// All of them.
    All,
}

/// The settings of one `overlap bench` run.
#[derive(Debug, Clone)]
pub struct Settings {
    /// What to run.
    pub workload: Workload,
    /// One round, short cells, fewer connection counts.
    pub quick: bool,
    /// Seconds per cell (default 0.5; 0.2 with `--quick`).
    pub secs: Option<f64>,
    /// Rounds (default 3; 1 with `--quick`).
    pub rounds: Option<usize>,
    /// Echo connection counts (default 16,256; 16 with `--quick`).
    pub conns: Option<Vec<usize>>,
    /// Echo message sizes (default 64).
    pub sizes: Option<Vec<usize>>,
    /// Only these paths (names as in the table: `raw-epoll`, `reactor/epoll`, `port/uring`, …).
    pub backends: Option<Vec<String>>,
    /// Write every figure as JSON here (default: `target/overlap-bench/bench.json`).
    pub json: Option<std::path::PathBuf>,
    /// Draw the echo figures as an SVG chart here (default: `target/overlap-bench/bench.svg`).
    pub svg: Option<std::path::PathBuf>,
}

/// One thing measured: the floor, or an overlap path.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) enum Path {
    /// The raw epoll/eventfd code in `sys/raw_epoll.rs`.
    Floor,
    /// The raw io_uring echo server in `sys/raw_uring.rs` (echo and accept only).
    FloorUring,
    /// A `Reactor` on a readiness backend.
    Reactor(ReactorBackend),
    /// A `CompletionPort` on a completion backend.
    Port(PortBackend),
    /// Another library, in process (`--features peers`): tokio, mio or compio.
    Peer(&'static str),
}

impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Path::Floor => f.write_str("raw-epoll"),
            Path::FloorUring => f.write_str("raw-uring"),
            Path::Reactor(b) => write!(f, "reactor/{b}"),
            Path::Port(b) => write!(f, "port/{b}"),
            Path::Peer(name) => f.write_str(name),
        }
    }
}

/// Every path that works here, floor first (the floor only where epoll exists).
fn paths(only: Option<&[String]>) -> Vec<Path> {
    let mut all = Vec::new();
    if cfg!(target_os = "linux") {
        all.push(Path::Floor);
    }
    if cfg!(target_os = "linux") && PortBackend::Uring.check().is_ok() {
        all.push(Path::FloorUring);
    }
    all.extend(ReactorBackend::available().into_iter().map(Path::Reactor));
    all.extend(PortBackend::available().into_iter().map(Path::Port));
    all.extend(peers::PEERS.iter().filter(|&&p| peers::works_here(p)).map(|&p| Path::Peer(p)));
    match only {
        Some(names) => {
            all.into_iter().filter(|p| names.iter().any(|n| n.eq_ignore_ascii_case(&p.to_string()))).collect()
        }
        None => all,
    }
}

/// One cell of the run: a workload at one setting, on one path.
#[derive(Clone, Debug)]
pub(crate) struct Cell {
    pub(crate) workload: &'static str,
    /// The setting, as the table shows it (`256 conns × 64 B`).
    pub(crate) setting: String,
    pub(crate) path: Path,
    pub(crate) run: fn(&Cell, Duration) -> io::Result<Sample>,
    pub(crate) conns: usize,
    pub(crate) size: usize,
}

/// Writes `body` to `path`, or, with no path given, to `name` beside cargo's build output
/// (`target/overlap-bench/`, or under `CARGO_TARGET_DIR`), where failing is only a warning.
fn write_out(path: Option<&std::path::Path>, name: &str, body: &str) -> io::Result<()> {
    if let Some(path) = path {
        std::fs::write(path, body)?;
        eprintln!("wrote {}", path.display());
        return Ok(());
    }
    let dir = std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| std::path::PathBuf::from("target"), std::path::PathBuf::from)
        .join("overlap-bench");
    let path = dir.join(name);
    match std::fs::create_dir_all(&dir).and_then(|()| std::fs::write(&path, body)) {
        Ok(()) => eprintln!("wrote {} (--json/--svg FILE to choose)", path.display()),
        Err(e) => eprintln!("overlap: could not write {}: {e}", path.display()),
    }
    Ok(())
}

/// Runs the benchmark and prints the table (progress on stderr).
pub fn run(settings: &Settings) -> io::Result<()> {
    let quick = settings.quick;
    let secs = Duration::from_secs_f64(settings.secs.unwrap_or(if quick { 0.2 } else { 0.5 }).max(0.01));
    let rounds = settings.rounds.unwrap_or(if quick { 1 } else { 3 }).max(1);
    let conns = settings.conns.clone().unwrap_or_else(|| if quick { vec![16] } else { vec![16, 256] });
    let sizes = settings.sizes.clone().unwrap_or_else(|| vec![64]);
    if conns.iter().chain(&sizes).any(|&n| n == 0) {
        return Err(io::Error::new(io::ErrorKind::InvalidInput, "--conns and --size take positive numbers"));
    }
    let paths = paths(settings.backends.as_deref());
    if paths.is_empty() {
        return Err(io::Error::new(io::ErrorKind::InvalidInput, "no path matches --backends (see the table's names)"));
    }
    let want = |w: Workload| settings.workload == w || settings.workload == Workload::All;
    let mut cells = Vec::new();
    if want(Workload::Echo) {
        cells.extend(echo::cells(&paths, &conns, &sizes));
    }
    if want(Workload::Wakeup) {
        cells.extend(wakeup::cells(&paths));
    }
    if want(Workload::Timers) {
        cells.extend(timers::cells(&paths));
    }
    if want(Workload::Accept) {
        cells.extend(accept::cells(&paths));
    }
    if want(Workload::Dispatch) {
        cells.extend(dispatch::cells(&paths, quick));
    }
    let machine = machine::describe();
    println!("machine: {machine}");
    let samples = report::measure(&cells, rounds, secs)?;
    let rows = report::summarize(&cells, &samples);
    report::print_table(&mut io::stdout().lock(), &rows, rounds, secs)?;
    write_out(settings.json.as_deref(), "bench.json", &report::json(&machine, &rows, rounds, secs))?;
    if settings.svg.is_some() || want(Workload::Echo) {
        write_out(settings.svg.as_deref(), "bench.svg", &report::svg(&rows))?;
    }
    let failed = rows.iter().filter(|r| r.stats.is_empty()).count();
    if failed > 0 {
        return Err(io::Error::other(format!("{failed} cell(s) failed in every round (see the table)")));
    }
    Ok(())
}
