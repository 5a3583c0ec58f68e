//! The bounds of the command's numeric flags, and their parsers: a value out of bounds is a
//! usage error at parsing (clap's style, exit code 2), never a panic, an abort or a silent
//! change of what was asked. Each bound is stated in the flag's `--help`.

use clap::builder::RangedU64ValueParser;

/// `--secs`: the shortest cell, in seconds (a shorter one measures mostly its own start).
pub const MIN_SECS: f64 = 0.01;
/// `--secs`: the longest cell, in seconds (an hour).
pub const MAX_SECS: f64 = 3600.0;
/// `--rounds`: at most this many rounds.
pub const MAX_ROUNDS: usize = 1000;
/// `--conns`: at most this many echo connections (below the loopback's ephemeral ports, ~28 000;
/// each connection takes two descriptors in the process: client and server end).
pub const MAX_CONNS: usize = 16384;
/// `--size`: the largest echo message, 64 MiB (the load client holds one, the servers echo it
/// in pieces).
pub const MAX_SIZE: usize = 64 << 20;
/// `echo-server --threads`: at most this many worker threads.
pub const MAX_THREADS: usize = 1024;
/// `bench-peer dispatch --pipes` (and `--active`): at most this many socketpairs (a million
/// descriptors, the usual ceiling of `ulimit -Hn`).
pub const MAX_PIPES: usize = 500_000;
/// `bench-peer dispatch --writes`: at most this many bytes passed on per iteration (at about a
/// microsecond each, minutes per iteration).
pub const MAX_WRITES: usize = 100_000_000;
/// `bench-peer dispatch --iters`: at most this many timed iterations.
pub const MAX_ITERS: usize = 10_000;
/// `bench-peer timers --churn`/`--fire`: at most this many timers (about a gigabyte of tables).
pub const MAX_TIMERS: usize = 10_000_000;

/// Parses `--secs`: a finite number of seconds in [`MIN_SECS`]`..=`[`MAX_SECS`].
pub fn secs(s: &str) -> Result<f64, String> {
    let v: f64 = s.trim().parse().map_err(|_| format!("{s:?} is not a number of seconds"))?;
    if v.is_finite() && (MIN_SECS..=MAX_SECS).contains(&v) {
        Ok(v)
    } else {
        Err(format!("{s} is not in {MIN_SECS}..={MAX_SECS} seconds"))
    }
}

/// A parser for a count in `1..=max`.
pub fn count(max: usize) -> RangedU64ValueParser<usize> {
    RangedU64ValueParser::new().range(1..=max as u64)
}

/// A parser for a count in `0..=max`.
pub fn upto(max: usize) -> RangedU64ValueParser<usize> {
    RangedU64ValueParser::new().range(0..=max as u64)
}
