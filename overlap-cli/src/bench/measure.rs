//! Measuring the cells round-robin, with a progress bar on stderr.

use std::io;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};

use super::cell::Cell;
use super::sample::Sample;
use super::sys;

/// Runs every cell `rounds` times, round-robin (all cells once, then again), so that a drift of
/// the machine touches every path alike. A failed run is kept as its error.
pub(crate) fn measure(cells: &[Cell], rounds: usize, secs: Duration) -> io::Result<Vec<Vec<Result<Sample, String>>>> {
    // The servers run on CPU 0 (threads inherit it from here), the clients pin themselves to 1.
    sys::pin_to(0);
    let bar = ProgressBar::new(cells.len().saturating_mul(rounds) as u64);
    bar.set_style(
        ProgressStyle::with_template("{bar:30} {pos}/{len} cells, {elapsed} {msg}").map_err(io::Error::other)?,
    );
    let mut out: Vec<Vec<Result<Sample, String>>> = vec![Vec::new(); cells.len()];
    for round in 0..rounds {
        for (i, cell) in cells.iter().enumerate() {
            bar.set_message(format!("round {}: {} {} on {}", round + 1, cell.workload, cell.setting, cell.path));
            out[i].push((cell.run)(cell, secs).map_err(|e| e.to_string()));
            bar.inc(1);
        }
    }
    bar.finish_and_clear();
    Ok(out)
}
