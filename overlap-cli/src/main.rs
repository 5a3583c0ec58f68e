//! `overlap`: the command-line face of the overlap library.
//!
//! - `overlap backends`: every backend of every model, whether it works on this machine and,
//!   if not, why.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod backends;

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
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Backends => backends::run(&mut std::io::stdout().lock()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("overlap: {e}");
            ExitCode::FAILURE
        }
    }
}
