//! `overlap bench-peer`: the event loop (`overlap-event`) as one more peer of the shared
//! benchmark harness (`../shared/bench/`), by its uniform command lines ("Uniform CLIs" in its
//! README): the dispatch and timer workloads, each run once with the harness's arguments, and
//! exactly one `RESULT` line on stdout with the same fields, meaning and number formats as the
//! C peers' (`bench/c/common.h`). The harness's own code is not used: the workloads are
//! `../chain.rs`, `../event_dispatch.rs` and `../event_timers.rs`, and the pseudo-random
//! sequences are redrawn here (`timers.rs`) as `bench/c/timers.h` draws them.

mod dispatch;
mod timers;

use std::io;

use overlap::ReactorBackend;

use crate::limits::{self, MAX_ITERS, MAX_PIPES, MAX_TIMERS, MAX_WRITES};

/// The `peer=` of the `RESULT` lines (`run.sh` puts its own name for the peer in its place).
const PEER: &str = "overlap-event";

/// How to plug the peer into the harness: `run.sh` runs `PROJECT_BENCH` and `PROJECT_TIMERS`
/// with the uniform arguments alone, so each is a one-line wrapper around a subcommand.
pub const HOW_TO_PLUG_IN: &str = "\
Plugging it into the shared harness (bench/run.sh runs $PROJECT_BENCH and $PROJECT_TIMERS
with the uniform arguments alone, and $PROJECT_ECHO with --port P): one-line wrappers
around a release build, e.g.

  cargo build --release -p overlap-cli
  OVERLAP=$PWD/target/release/overlap
  printf '#!/bin/sh\\nexec %s bench-peer dispatch \"$@\"\\n' \"$OVERLAP\" > /tmp/overlap-dispatch
  printf '#!/bin/sh\\nexec %s bench-peer timers \"$@\"\\n' \"$OVERLAP\" > /tmp/overlap-timers
  printf '#!/bin/sh\\nexec %s echo-server --model event --threads 1 \"$@\"\\n' \"$OVERLAP\" > /tmp/overlap-echo
  chmod +x /tmp/overlap-dispatch /tmp/overlap-timers /tmp/overlap-echo
  PROJECT_NAME=overlap PROJECT_BENCH=/tmp/overlap-dispatch PROJECT_TIMERS=/tmp/overlap-timers \\
    PROJECT_ECHO=/tmp/overlap-echo bench/run.sh

run.sh raises the open-files limit and pins the peer to a CPU itself; the peer raises the
soft open-files limit to what --pipes needs too (within the hard limit).";

/// One workload of the harness, with its uniform arguments.
#[derive(clap::Subcommand, Debug, Clone)]
pub enum Workload {
    /// libevent's `test/bench.c` on the event loop: one `RESULT bench=dispatch` line (Unix only).
    ///
    /// P AF_UNIX socketpairs, one READ|PERSIST event per read end whose callback reads a byte
    /// and writes one into the next pipe while the W writes last; one untimed warm-up
    /// iteration, then K timed. Prints `RESULT bench=dispatch peer= pipes= active= writes=
    /// iters= events= median_us= min_us= ns_per_event=` (events = W + A; ns_per_event = median
    /// iteration time / events).
    Dispatch {
        /// Socketpairs (P), 1 to 500000 (each takes two descriptors).
        #[arg(long, value_name = "P", value_parser = limits::count(MAX_PIPES))]
        pipes: usize,
        /// Chains started per iteration (A), spread evenly over the pipes: 1 to P.
        #[arg(long, value_name = "A", value_parser = limits::count(MAX_PIPES))]
        active: usize,
        /// Bytes passed on per iteration (W), 0 to 100000000.
        #[arg(long, value_name = "W", value_parser = limits::upto(MAX_WRITES))]
        writes: usize,
        /// Timed iterations (K), 1 to 10000.
        #[arg(long, value_name = "K", value_parser = limits::count(MAX_ITERS))]
        iters: usize,
        /// Readiness backend of the event loop: epoll, poll, kqueue or afd (default: the best
        /// one here, `overlap backends`).
        #[arg(long, value_name = "NAME")]
        backend: Option<String>,
    },
    /// Timer churn on the event loop: one `RESULT bench=timers` line.
    ///
    /// N timers due uniformly in [1 s, 61 s) (ms granularity) added, then all cancelled in a
    /// random order, then F timers due in [1, 50] ms added and, after an untimed 60 ms sleep,
    /// the loop run until every callback ran; the sequences are the harness's (xorshift64* from
    /// the seed). Prints `RESULT bench=timers peer= churn= fire= add_ns=
    /// cancel_ns= fire_ns= timer_bytes=` (timer_bytes: the base's heap tables with the N timers
    /// armed, less an empty base's, per timer).
    Timers {
        /// Timers added and cancelled (N), 1 to 10000000.
        #[arg(long, value_name = "N", value_parser = limits::count(MAX_TIMERS))]
        churn: usize,
        /// Timers fired (F), 1 to 10000000.
        #[arg(long, value_name = "F", value_parser = limits::count(MAX_TIMERS))]
        fire: usize,
        /// Seed of the pseudo-random sequences (the harness passes 41 + round).
        #[arg(long, value_name = "S")]
        seed: u64,
        /// Readiness backend of the event loop: epoll, poll, kqueue or afd (default: the best
        /// one here, `overlap backends`).
        #[arg(long, value_name = "NAME")]
        backend: Option<String>,
    },
}

/// Runs the workload and prints its `RESULT` line, in the C peers' formats (`report_dispatch`
/// and `report_timers` of `bench/c/common.h`).
pub fn run(workload: &Workload) -> io::Result<()> {
    let line = match *workload {
        Workload::Dispatch { pipes, active, writes, iters, ref backend } => {
            let m = dispatch::run(pipes, active, writes, iters, backend_named(backend.as_deref())?)?;
            format!(
                "RESULT bench=dispatch peer={PEER} pipes={pipes} active={active} writes={writes} iters={iters} \
                 events={} median_us={:.1} min_us={:.1} ns_per_event={:.1}",
                m.events,
                m.median_ns as f64 / 1e3,
                m.min_ns as f64 / 1e3,
                m.median_ns as f64 / m.events as f64
            )
        }
        Workload::Timers { churn, fire, seed, ref backend } => {
            let m = timers::run(churn, fire, seed, backend_named(backend.as_deref())?)?;
            format!(
                "RESULT bench=timers peer={PEER} churn={churn} fire={fire} add_ns={:.1} cancel_ns={:.1} \
                 fire_ns={:.1} timer_bytes={}",
                m.add_ns, m.cancel_ns, m.fire_ns, m.timer_bytes
            )
        }
    };
    println!("{line}");
    Ok(())
}

/// The readiness backend named `name` (`None`: the event loop picks), if it runs here.
fn backend_named(name: Option<&str>) -> io::Result<Option<ReactorBackend>> {
    let Some(name) = name else { return Ok(None) };
    let context = |e: io::Error| io::Error::new(e.kind(), format!("--backend: {e}"));
    let backend: ReactorBackend = name.parse().map_err(context)?;
    backend.check().map_err(context)?;
    Ok(Some(backend))
}
