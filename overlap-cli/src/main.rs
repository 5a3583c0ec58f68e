//! `overlap`: the command-line face of the overlap library.
//!
//! - `overlap backends`: every backend of every model, whether it works on this machine and,
//!   if not, why;
//! - `overlap echo-server`: a TCP echo server on either model, for outside load generators.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod backends;
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
        /// Backend: epoll, poll or kqueue (readiness); uring, epoll, poll or kqueue (completion).
        #[arg(long)]
        backend: Option<String>,
        /// Worker threads (default: one per CPU for readiness, two per CPU for completion).
        #[arg(long)]
        threads: Option<usize>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Backends => backends::run(&mut std::io::stdout().lock()),
        Command::EchoServer { port, model, backend, threads } => {
            echo::run(&echo::Settings { port, model, backend, threads })
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
