//! `overlap bench-peer timers`: timer churn on the event loop as the harness's
//! `TIMERS --churn N --fire F --seed S` (`bench/c/timers.h`, `bench/c/timers_libevent.c`), with
//! the harness's pseudo-random sequences: the deadlines of the N churned timers and of the F
//! fired ones, and the order of the cancels.

use std::io;
use std::time::Duration;

use overlap::ReactorBackend;

use super::super::event_timers::Timers;

/// xorshift64*, as `rng_next` of `bench/c/common.h`.
#[derive(Debug)]
struct Rng(u64);

impl Rng {
    /// The next number of the sequence.
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
}

/// A permutation of `0..n` (Fisher-Yates from the back), as `random_perm` of `common.h`.
fn random_perm(n: usize, seed: u64) -> Vec<usize> {
    let mut p: Vec<usize> = (0..n).collect();
    let mut r = Rng(seed);
    for i in (1..n).rev() {
        let j = (r.next() % (i as u64 + 1)) as usize;
        p.swap(i, j);
    }
    p
}

/// The workload's sequences, as `timers_setup` of `timers.h` draws them.
#[derive(Debug)]
struct Sequences {
    /// The churned timers' delays, in ms: 1000 to 60999.
    churn_ms: Vec<u32>,
    /// The fired timers' delays, in ms: 1 to 50.
    fire_ms: Vec<u32>,
    /// The order of the cancels.
    cancel_order: Vec<usize>,
}

impl Sequences {
    fn new(churn: usize, fire: usize, seed: u64) -> Sequences {
        let mut r = Rng(seed.wrapping_mul(2_654_435_761).wrapping_add(1));
        let churn_ms = (0..churn).map(|_| 1000 + (r.next() % 60_000) as u32).collect();
        let fire_ms = (0..fire).map(|_| 1 + (r.next() % 50) as u32).collect();
        Sequences { churn_ms, fire_ms, cancel_order: random_perm(churn, seed.wrapping_add(7)) }
    }
}

/// What a run measured.
#[derive(Debug)]
pub(super) struct Measured {
    /// Nanoseconds per add of a churned timer.
    pub(super) add_ns: f64,
    /// Nanoseconds per cancel.
    pub(super) cancel_ns: f64,
    /// Nanoseconds per fired timer (the loop's work only: they were all due).
    pub(super) fire_ns: f64,
    /// The base's tables with the churned timers armed, less an empty base's, per timer.
    pub(super) timer_bytes: usize,
}

/// Runs the workload.
pub(super) fn run(churn: usize, fire: usize, seed: u64, backend: Option<ReactorBackend>) -> io::Result<Measured> {
    let seq = Sequences::new(churn, fire, seed);
    let ms = |v: &[u32]| v.iter().map(|&ms| Duration::from_millis(ms.into())).collect::<Vec<_>>();
    let (churn_delays, fire_delays) = (ms(&seq.churn_ms), ms(&seq.fire_ms));
    // The events are made first, untimed (libevent's peer assigns its array of events first).
    let mut timers = Timers::new(backend, churn.max(fire))?;
    let add = timers.add(churn_delays)?;
    let timer_bytes = timers.bytes_per_timer(churn);
    let cancel = timers.cancel(seq.cancel_order)?;
    timers.add(fire_delays)?;
    std::thread::sleep(Duration::from_millis(60)); // all due (untimed)
    let fired = timers.fire(fire)?;
    let per = |d: Duration, n: usize| d.as_nanos() as f64 / n as f64;
    Ok(Measured { add_ns: per(add, churn), cancel_ns: per(cancel, churn), fire_ns: per(fired, fire), timer_bytes })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The sequences of `bench/c/timers.h` for `--churn 1000 --fire 1000 --seed 42` (printed by
    /// a C program built on that header): the same numbers, in the same places.
    #[test]
    fn the_sequences_are_the_harness_ones() {
        assert_eq!(Rng(1).next(), 5_180_492_295_206_395_165);
        let seq = Sequences::new(1000, 1000, 42);
        assert_eq!((seq.churn_ms[0], seq.churn_ms[1], seq.churn_ms[999]), (28_347, 54_782, 36_228));
        assert_eq!((seq.fire_ms[0], seq.fire_ms[999]), (40, 7));
        assert_eq!((seq.cancel_order[0], seq.cancel_order[1], seq.cancel_order[999]), (515, 594, 449));
        let mut order = seq.cancel_order.clone();
        order.sort_unstable();
        assert_eq!(order, (0..1000).collect::<Vec<_>>());
    }
}
