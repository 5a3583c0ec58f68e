//! `overlap`: the command-line face of the overlap library.
//!
//! - `overlap backends`: every backend of every model, whether it works on this machine and,
//!   if not, why;
//! - `overlap echo-server`: a TCP echo server on either model, for outside load generators;
//! - `overlap bench`: every backend and model measured side by side on this machine.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod backends;
mod bench;
mod echo;

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
        /// Port to listen on (0: any free port).
        #[arg(long, default_value_t = 7000)]
        port: u16,
        /// The model that serves.
        #[arg(long, value_enum, default_value_t = echo::Model::Completion)]
        model: echo::Model,
        /// ReactorBackend: epoll, poll or kqueue (readiness); uring, epoll, poll or kqueue (completion).
        #[arg(long)]
        backend: Option<String>,
        /// Worker threads (default: one per CPU for readiness, two per CPU for completion).
        #[arg(long)]
        threads: Option<usize>,
    },
    /// Measure every backend and model side by side (a table on stdout, progress on stderr).
    Bench {
        /// Which workload.
        #[arg(value_enum, default_value_t = bench::Workload::All)]
        workload: bench::Workload,
        /// One short round, fewer settings (a smoke run).
        #[arg(long)]
        quick: bool,
        /// Seconds per cell (default 0.5; 0.2 with --quick).
        #[arg(long)]
        secs: Option<f64>,
        /// Rounds, run round-robin over the paths (default 3; 1 with --quick).
        #[arg(long)]
        rounds: Option<usize>,
        /// Echo connection counts, e.g. 1,16,256,1024 (default 16,256; 16 with --quick).
        #[arg(long, value_delimiter = ',')]
        conns: Option<Vec<usize>>,
        /// Echo message sizes in bytes, e.g. 64,4096 (default 64).
        #[arg(long, value_delimiter = ',')]
        size: Option<Vec<usize>>,
        /// Only these paths, e.g. raw-epoll,reactor/epoll,port/uring.
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
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Backends => backends::run(&mut std::io::stdout().lock()),
        Command::EchoServer { port, model, backend, threads } => {
            echo::run(&echo::Settings { port, model, backend, threads })
        }
        Command::Bench { workload, quick, secs, rounds, conns, size, backends, json, svg } => {
            bench::run(&bench::Settings { workload, quick, secs, rounds, conns, sizes: size, backends, json, svg })
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("overlap: {e}");
            ExitCode::FAILURE
        }
    }
}
