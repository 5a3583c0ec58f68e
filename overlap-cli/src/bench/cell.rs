//! A cell of the run: a workload at one setting, on one path.

use std::io;
use std::time::Duration;

use super::path::Path;
use super::sample::Sample;

/// One cell of the run: a workload at one setting, on one path.
#[derive(Clone, Debug)]
pub(crate) struct Cell {
    pub(crate) workload: &'static str,
    /// The setting, as the table shows it (`256 conns × 64 B`).
    pub(crate) setting: String,
    pub(crate) path: Path,
    /// Runs the cell once for about the given time.
    pub(crate) run: fn(&Cell, Duration) -> io::Result<Sample>,
    pub(crate) conns: usize,
    pub(crate) size: usize,
    /// About how many descriptors a run holds open at once (servers, clients, pipes, pollers).
    pub(crate) fds: usize,
}

/// What a cell with few descriptors holds at most.
pub(crate) const FEW_FDS: usize = 16;
