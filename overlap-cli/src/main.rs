//! `overlap`: the command-line face of the overlap library.
//!
//! - `overlap backends`: every backend of every model, whether it works on this machine and,
//!   if not, why;
//! - `overlap echo-server`: a TCP echo server on either model or on the event loop, for outside
//!   load generators;
//! - `overlap bench`: every backend and model measured side by side on this machine;
//! - `overlap bench-peer`: the event loop as a peer of the shared benchmark harness (its uniform
//!   command lines: one `RESULT` line per run).

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod backends;
mod bench;
mod echo;
mod limits;

/// Completion ports and event loops on every OS.
#[derive(Parser, Debug)]
#[command(name = "overlap", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// List every backend of every model, whether it is available here and, if not, why.
    Backends,
    /// A TCP echo server on 127.0.0.1 until SIGINT/SIGTERM (prints `listening on ADDR`).
    EchoServer {
        /// Port to listen on (0: any free port). A port in use is refused, unless both servers
        /// share it with --reuse-port.
        #[arg(long, default_value_t = 7000)]
        port: u16,
        /// The model that serves.
        #[arg(long, visible_alias = "api", value_enum, default_value_t = echo::Model::Completion)]
        model: echo::Model,
        /// Backend: epoll, poll, kqueue or afd (readiness, event, bufferevent); uring, iocp, epoll,
        /// poll or kqueue (completion). Default: the best one available here (`overlap backends`).
        #[arg(long)]
        backend: Option<String>,
        /// Worker threads, 1 to 1024 (default: one per CPU for readiness, two per CPU for
        /// completion, one for event and bufferevent: each thread runs its own event base).
        #[arg(long, value_parser = limits::count(limits::MAX_THREADS))]
        threads: Option<usize>,
        /// Share the port with other servers started with --reuse-port (SO_REUSEPORT: the
        /// kernel spreads the connections over them). Unix only. The readiness model with
        /// several threads (and the event and bufferevent models with several) shares the port
        /// among its own listeners the same way, so a server started with --reuse-port can join
        /// it too.
        #[arg(long)]
        reuse_port: bool,
        /// The bufferevent model's engine: readiness (the default; --backend names a readiness
        /// backend) or completion (the base waits in a completion port; --backend names a
        /// completion backend, uring by default on Linux).
        #[arg(long, value_enum)]
        engine: Option<echo::EngineArg>,
    },
    /// Measure every backend and model side by side (a table on stdout, progress on stderr).
    Bench {
        /// Which workload.
        #[arg(value_enum, default_value_t = bench::Workload::All)]
        workload: bench::Workload,
        /// One short round, fewer settings (a smoke run).
        #[arg(long)]
        quick: bool,
        /// Seconds per cell, 0.01 to 3600 (default 0.5; 0.2 with --quick).
        #[arg(long, value_parser = limits::secs)]
        secs: Option<f64>,
        /// Rounds, run round-robin over the paths, 1 to 1000 (default 3; 1 with --quick).
        #[arg(long, value_parser = limits::count(limits::MAX_ROUNDS))]
        rounds: Option<usize>,
        /// Echo connection counts, each 1 to 16384, e.g. 1,16,256,1024 (default 16,256; 16 with
        /// --quick).
        #[arg(long, value_delimiter = ',', value_parser = limits::count(limits::MAX_CONNS))]
        conns: Option<Vec<usize>>,
        /// Echo message sizes in bytes, each 1 B to 64 MiB (67108864), e.g. 64,4096 (default
        /// 64).
        #[arg(long, value_delimiter = ',', value_parser = limits::count(limits::MAX_SIZE))]
        size: Option<Vec<usize>>,
        /// Only these paths, e.g. raw-epoll,reactor/epoll,port/uring (an unknown name, or one
        /// that does not run here, is an error that lists the paths).
        #[arg(long, value_delimiter = ',')]
        backends: Option<Vec<String>>,
        /// Write every figure as JSON to this file (default: target/overlap-bench/bench.json).
        #[arg(long)]
        json: Option<std::path::PathBuf>,
        /// Draw the echo figures as an SVG chart in this file (default:
        /// target/overlap-bench/bench.svg).
        #[arg(long)]
        svg: Option<std::path::PathBuf>,
    },
    /// The event loop as a peer of the shared benchmark harness (../shared/bench): a workload
    /// by its uniform command line, one `RESULT` line on stdout.
    #[command(after_help = bench::harness::HOW_TO_PLUG_IN)]
    BenchPeer {
        #[command(subcommand)]
        workload: bench::harness::Workload,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Backends => backends::run(&mut std::io::stdout().lock()),
        Command::EchoServer { port, model, backend, threads, reuse_port, engine } => {
            echo::run(&echo::Settings { port, model, backend, threads, reuse_port, engine })
        }
        Command::Bench { workload, quick, secs, rounds, conns, size, backends, json, svg } => {
            bench::run(&bench::Settings { workload, quick, secs, rounds, conns, sizes: size, backends, json, svg })
        }
        Command::BenchPeer { workload } => bench::harness::run(&workload),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("overlap: {e}");
            ExitCode::FAILURE
        }
    }
}
