//! `overlap bench`: every overlap path measured side by side on this machine, against a
//! raw-epoll floor written in the bench itself, round-robin over several rounds so that drift
//! of the machine cancels; the median and spread of the rounds, as a table on stdout, with
//! progress bars on stderr, and JSON and an SVG chart (in `target/overlap-bench/` unless told
//! where). Built with `--features peers`, tokio, mio and (on Linux) compio are columns too
//! (`peers/`).
//!
//! `overlap bench-peer` (`harness/`) is the event loop as one more peer of the shared harness
//! (`../shared/bench/`): its dispatch and timer workloads by the harness's uniform command
//! lines, one `RESULT` line each, on the same event-loop code as the `event/…` paths here.
//!
//! The paths: `raw-epoll` and `raw-uring` (the floors), `reactor/…` (the `Reactor`), `event/…`
//! (the event loop, raw events), `bufferevent/…` (the event loop's buffered events and
//! listener), `port/…` (the `CompletionPort`), and the peers.
//!
//! Files, lowest first (each imports only from those above it): `sys/` (raw system calls),
//! `sample`, `server`, `side`, `human`; `chain`, `event_dispatch`, `event_timers` (the dispatch
//! chains and the event loop's side of the dispatch and timer workloads); `harness/`; `peers/`;
//! `path`; `cell`; the workloads (`echo`, `wakeup`, `timers`, `accept`, `dispatch`, and `sink`
//! then `bulk`); `measure`, `summary`; `table`, `json`, `chart`, `machine`; and this file, which
//! runs them.
//!
//! | workload | what | figure |
//! |---|---|---|
//! | `echo` | ping-pong over loopback TCP: one message per connection in flight, the load client on its own thread (and CPU) | messages/s, p50/p99 round trip |
//! | `wakeup` | two threads waking each other in turn (libuv's `async_pummel`, as a ping-pong) | round trips/s |
//! | `timers` | completion-port timeouts and event-loop timers: add and cancel far ones, fire near ones | ns per add, cancel, fire (event loop: and bytes per timer) |
//! | `accept` | a client connecting and closing in a loop, the server accepting | connections/s |
//! | `dispatch` | libevent's `test/bench.c`: socketpairs in a chain, each readable end writing to the next | ns per event |
//! | `bulk` | one connection streaming as fast as it can, the server reading (16 KiB or 256 KiB at a time) and discarding | GiB/s |

mod accept;
mod bulk;
mod cell;
#[cfg(unix)]
mod chain;
mod chart;
mod dispatch;
mod echo;
#[cfg(unix)]
mod event_dispatch;
mod event_timers;
pub mod harness;
mod human;
mod json;
mod machine;
mod measure;
mod path;
mod peers;
mod sample;
mod server;
mod side;
mod sink;
mod summary;
mod sys;
mod table;
mod timers;
mod wakeup;

use std::fs::File;
use std::io::{self, Write};
use std::path::PathBuf;
use std::time::Duration;

use crate::limits::{MAX_CONNS, MAX_ROUNDS, MAX_SECS, MAX_SIZE, MIN_SECS};
/// Which workloads to run.
#[derive(Copy, Clone, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Workload {
    /// TCP echo ping-pong.
    Echo,
    /// Cross-thread wake-ups.
    Wakeup,
    /// Completion-port timeouts and event-loop timers.
    Timers,
    /// Accepting connections.
    Accept,
    /// libevent's `test/bench.c`: a chain of socketpairs, each event writing to the next.
    Dispatch,
    /// One connection streaming as fast as it can, the server reading 16 KiB or 256 KiB at a
    /// time and discarding it.
    Bulk,
    /// All of them.
    All,
}

impl Workload {
    /// The name as the command line takes it.
    fn name(self) -> &'static str {
        match self {
            Workload::Echo => "echo",
            Workload::Wakeup => "wakeup",
            Workload::Timers => "timers",
            Workload::Accept => "accept",
            Workload::Dispatch => "dispatch",
            Workload::Bulk => "bulk",
            Workload::All => "all",
        }
    }
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
    pub json: Option<PathBuf>,
    /// Draw the echo figures as an SVG chart here (default: `target/overlap-bench/bench.svg`).
    pub svg: Option<PathBuf>,
}

/// Where a file of the report goes: a file the user named (created before the run, so that a
/// path that cannot be written fails at once, not after the measuring), or beside cargo's build
/// output (`target/overlap-bench/`, or under `CARGO_TARGET_DIR`), where failing is only a
/// warning.
enum Out {
    Named(PathBuf, File),
    Default(&'static str),
}

impl Out {
    fn new(flag: &str, path: Option<&std::path::Path>, name: &'static str) -> io::Result<Out> {
        match path {
            None => Ok(Out::Default(name)),
            Some(path) => match File::create(path) {
                Ok(f) => Ok(Out::Named(path.to_path_buf(), f)),
                Err(e) => Err(io::Error::new(e.kind(), format!("{flag} {}: {e}", path.display()))),
            },
        }
    }

    fn write(self, body: &str) -> io::Result<()> {
        match self {
            Out::Named(path, mut f) => {
                f.write_all(body.as_bytes())
                    .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", path.display())))?;
                eprintln!("wrote {}", path.display());
            }
            Out::Default(name) => {
                let dir = std::env::var_os("CARGO_TARGET_DIR")
                    .map_or_else(|| PathBuf::from("target"), PathBuf::from)
                    .join("overlap-bench");
                let path = dir.join(name);
                match std::fs::create_dir_all(&dir).and_then(|()| std::fs::write(&path, body)) {
                    Ok(()) => eprintln!("wrote {} (--json/--svg FILE to choose)", path.display()),
                    Err(e) => eprintln!("overlap: could not write {}: {e}", path.display()),
                }
            }
        }
        Ok(())
    }
}

/// `what` is a number in `1..=max`, else an `InvalidInput` error naming the flag (the command
/// line's parsers refuse such values already; this guards other callers).
fn check_count(flag: &str, what: usize, max: usize) -> io::Result<usize> {
    if (1..=max).contains(&what) {
        Ok(what)
    } else {
        Err(io::Error::new(io::ErrorKind::InvalidInput, format!("{flag} {what} is not in 1..={max}")))
    }
}

/// The values of a list flag, in the order given, each once.
fn distinct(v: Vec<usize>) -> Vec<usize> {
    let mut out: Vec<usize> = Vec::with_capacity(v.len());
    for x in v {
        if !out.contains(&x) {
            out.push(x);
        }
    }
    out
}

/// Runs the benchmark and prints the table (progress on stderr).
pub fn run(settings: &Settings) -> io::Result<()> {
    let quick = settings.quick;
    let secs = settings.secs.unwrap_or(if quick { 0.2 } else { 0.5 });
    let secs =
        Duration::try_from_secs_f64(secs).ok().filter(|_| (MIN_SECS..=MAX_SECS).contains(&secs)).ok_or_else(|| {
            io::Error::new(io::ErrorKind::InvalidInput, format!("--secs {secs} is not in {MIN_SECS}..={MAX_SECS}"))
        })?;
    let rounds = check_count("--rounds", settings.rounds.unwrap_or(if quick { 1 } else { 3 }), MAX_ROUNDS)?;
    let conns = distinct(settings.conns.clone().unwrap_or_else(|| if quick { vec![16] } else { vec![16, 256] }));
    let sizes = distinct(settings.sizes.clone().unwrap_or_else(|| vec![64]));
    for &n in &conns {
        check_count("--conns", n, MAX_CONNS)?;
    }
    for &n in &sizes {
        check_count("--size", n, MAX_SIZE)?;
    }
    let paths = path::paths(settings.backends.as_deref())?;
    let want = |w: Workload| settings.workload == w || settings.workload == Workload::All;
    // The echo settings and the chart are the echo workload's: asked of another, refuse them
    // rather than ignore them.
    if !want(Workload::Echo) {
        let given = [
            ("--conns", settings.conns.is_some()),
            ("--size", settings.sizes.is_some()),
            ("--svg", settings.svg.is_some()),
        ];
        if let Some((flag, _)) = given.into_iter().find(|&(_, given)| given) {
            let msg = format!("{flag} is for the echo workload (or all); this run is {}", settings.workload.name());
            return Err(io::Error::new(io::ErrorKind::InvalidInput, msg));
        }
    }
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
    if want(Workload::Bulk) {
        cells.extend(bulk::cells(&paths));
    }
    if cells.is_empty() {
        let names: Vec<String> = paths.iter().map(ToString::to_string).collect();
        let msg =
            format!("nothing to run: the {} workload has no cell on {}", settings.workload.name(), names.join(", "));
        return Err(io::Error::new(io::ErrorKind::InvalidInput, msg));
    }
    enough_files(&cells)?;
    // Created now, before the measuring: a file that cannot be written fails at once.
    let json_out = Out::new("--json", settings.json.as_deref(), "bench.json")?;
    let svg_out = match want(Workload::Echo) {
        true => Some(Out::new("--svg", settings.svg.as_deref(), "bench.svg")?),
        false => None,
    };
    let machine = machine::describe();
    println!("machine: {machine}");
    let samples = measure::measure(&cells, rounds, secs)?;
    let rows = summary::summarize(&cells, &samples);
    table::print_table(&mut io::stdout().lock(), &rows, rounds, secs)?;
    json_out.write(&json::json(&machine, &rows, rounds, secs)?)?;
    if let Some(out) = svg_out {
        out.write(&chart::svg(&rows, rounds))?;
    }
    let failed = rows.iter().filter(|r| r.stats.is_empty()).count();
    if failed > 0 {
        return Err(io::Error::other(format!("{failed} cell(s) failed in every round (see the table)")));
    }
    Ok(())
}

/// Makes sure the process may open as many files as the hungriest cell holds at once (raising
/// the soft limit within the hard one), else says which cell and what limit.
fn enough_files(cells: &[cell::Cell]) -> io::Result<()> {
    let Some(hungriest) = cells.iter().max_by_key(|c| c.fds) else { return Ok(()) };
    // The process's own descriptors besides (stdio, the machine line's files, the allocator…).
    let needed = hungriest.fds as u64 + 64;
    let limit = sys::raise_open_files(needed)?;
    if limit < needed {
        let msg = format!(
            "{} {} needs about {needed} open files at once; this process may open {limit} (the hard limit, \
             `ulimit -Hn`): raise it or ask for less",
            hungriest.workload, hungriest.setting
        );
        return Err(io::Error::other(msg));
    }
    Ok(())
}
