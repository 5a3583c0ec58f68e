//! The timing wheel with a million timers pending, deadlines spread over five minutes:
//!
//! - `add`: ns per insert (batches of 1024, removed again untimed);
//! - `cancel`: ns per remove of a random pending timer (put back untimed);
//! - `add_cancel`: an insert and its remove (a re-armed timeout: the node stays in cache);
//! - `fire`: ns per timer fired, polling every 10 ms (about 33 timers a poll) or every 1 ms
//!   (about 3); the time includes the cascading that brings timers down the levels. Each
//!   fired timer is added again, untimed, so a million stay pending.
//!
//! Beside `wheel/1M`: `wheel/10k` (ten thousand pending over 3 s, the same density: every
//! node in cache, so what is left is the wheel's own work) and `btree/1M` (a `BTreeMap` keyed
//! by (deadline, sequence), the usual simple alternative, with the caller holding the key).
//! Prints the wheel's heap memory per pending timer.
//!
//! `cargo bench -p overlap-event --bench timers -- --warm-up-time 1 --measurement-time 3`

use std::collections::BTreeMap;
use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::Criterion;

// The wheel is crate-private; the bench compiles its source as a module of its own. (Cargo
// builds benches with `cfg(test)` but without the test harness, so the wheel's unit tests are
// compiled here too, unused.)
#[allow(dead_code, unused_imports)]
#[path = "../src/timer/mod.rs"]
mod timer;

/// Operations per timed batch.
const BATCH: usize = 1024;

/// xorshift64*.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) % n
    }
}

/// What the benchmarks need of a timer structure.
trait Timers {
    type Key: Copy;
    fn new(origin: Instant) -> Self;
    fn insert(&mut self, at: Instant, value: u64) -> Self::Key;
    fn remove(&mut self, key: Self::Key) -> Option<u64>;
    fn poll(&mut self, now: Instant, f: impl FnMut(u64));
}

impl Timers for timer::Timers<u64> {
    type Key = timer::TimerKey;
    fn new(origin: Instant) -> Self {
        timer::Timers::new(origin)
    }
    fn insert(&mut self, at: Instant, value: u64) -> Self::Key {
        self.insert(at, value)
    }
    fn remove(&mut self, key: Self::Key) -> Option<u64> {
        self.remove(key)
    }
    fn poll(&mut self, now: Instant, mut f: impl FnMut(u64)) {
        self.poll(now, |_, _, v| f(v))
    }
}

/// The peer: an ordered map, O(log n) for everything.
struct BTree {
    map: BTreeMap<(Instant, u64), u64>,
    seq: u64,
}

impl Timers for BTree {
    type Key = (Instant, u64);
    fn new(_: Instant) -> Self {
        BTree { map: BTreeMap::new(), seq: 0 }
    }
    fn insert(&mut self, at: Instant, value: u64) -> Self::Key {
        self.seq += 1;
        self.map.insert((at, self.seq), value);
        (at, self.seq)
    }
    fn remove(&mut self, key: Self::Key) -> Option<u64> {
        self.map.remove(&key)
    }
    fn poll(&mut self, now: Instant, mut f: impl FnMut(u64)) {
        while let Some(e) = self.map.first_entry() {
            if e.key().0 > now {
                break;
            }
            f(e.remove());
        }
    }
}

/// One configuration: a structure, how many timers are pending, over what spread.
struct Setup {
    name: &'static str,
    pending: usize,
    spread: Duration,
}

impl Setup {
    /// A deadline up to `spread` after `now`.
    fn deadline(&self, rng: &mut Rng, now: Instant) -> Instant {
        now + Duration::from_nanos(rng.below(self.spread.as_nanos() as u64))
    }

    /// A structure with `pending` timers and their keys.
    fn filled<W: Timers>(&self, origin: Instant, rng: &mut Rng) -> (W, Vec<W::Key>) {
        let mut t = W::new(origin);
        let keys = (0..self.pending as u64).map(|v| t.insert(self.deadline(rng, origin), v)).collect();
        (t, keys)
    }
}

fn add<W: Timers>(c: &mut Criterion, s: &Setup) {
    let origin = Instant::now();
    let mut rng = Rng(1);
    let (mut t, _keys) = s.filled::<W>(origin, &mut rng);
    let mut batch = Vec::with_capacity(BATCH);
    let mut added = Vec::with_capacity(BATCH);
    c.bench_function(&format!("add/{}", s.name), |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            let mut left = iters as usize;
            while left > 0 {
                let n = left.min(BATCH);
                batch.clear();
                batch.extend((0..n).map(|_| s.deadline(&mut rng, origin)));
                let start = Instant::now();
                for &at in &batch {
                    added.push(t.insert(at, 0));
                }
                total += start.elapsed();
                for k in added.drain(..) {
                    t.remove(k);
                }
                left -= n;
            }
            total
        })
    });
}

fn cancel<W: Timers>(c: &mut Criterion, s: &Setup) {
    let origin = Instant::now();
    let mut rng = Rng(2);
    let (mut t, mut keys) = s.filled::<W>(origin, &mut rng);
    let mut picks = Vec::with_capacity(BATCH);
    let mut picked = vec![false; s.pending];
    c.bench_function(&format!("cancel/{}", s.name), |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            let mut left = iters as usize;
            while left > 0 {
                let n = left.min(BATCH).min(s.pending / 2);
                // Random pending timers, each once per batch, in random order.
                picks.clear();
                while picks.len() < n {
                    let p = rng.below(s.pending as u64) as usize;
                    if !std::mem::replace(&mut picked[p], true) {
                        picks.push(p);
                    }
                }
                let start = Instant::now();
                for &p in &picks {
                    black_box(t.remove(keys[p]));
                }
                total += start.elapsed();
                for &p in &picks {
                    keys[p] = t.insert(s.deadline(&mut rng, origin), p as u64);
                    picked[p] = false;
                }
                left -= n;
            }
            total
        })
    });
}

fn add_cancel<W: Timers>(c: &mut Criterion, s: &Setup) {
    let origin = Instant::now();
    let mut rng = Rng(3);
    let (mut t, _keys) = s.filled::<W>(origin, &mut rng);
    let deadlines: Vec<Instant> = (0..4096).map(|_| s.deadline(&mut rng, origin)).collect();
    let mut i = 0;
    c.bench_function(&format!("add_cancel/{}", s.name), |b| {
        b.iter(|| {
            i = (i + 1) % deadlines.len();
            let k = t.insert(deadlines[i], 0);
            black_box(t.remove(k))
        })
    });
}

/// Polls in steps of `step`, timing only the polls; fired timers are added again.
fn fire<W: Timers>(c: &mut Criterion, s: &Setup, step: Duration) {
    let origin = Instant::now();
    let mut rng = Rng(4);
    let (mut t, _keys) = s.filled::<W>(origin, &mut rng);
    let mut now = origin;
    let mut fired = Vec::new();
    c.bench_function(&format!("fire {} ms polls/{}", step.as_millis(), s.name), |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            let mut count = 0u64;
            while count < iters {
                now += step;
                let start = Instant::now();
                t.poll(now, |v| fired.push(v));
                total += start.elapsed();
                count += fired.len() as u64;
                for v in fired.drain(..) {
                    t.insert(s.deadline(&mut rng, now), v);
                }
            }
            // Scaled to `iters` fired timers.
            total.mul_f64(iters as f64 / count as f64)
        })
    });
}

fn all<W: Timers>(c: &mut Criterion, s: &Setup) {
    add::<W>(c, s);
    cancel::<W>(c, s);
    add_cancel::<W>(c, s);
    fire::<W>(c, s, Duration::from_millis(10));
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    let million = Setup { name: "1M", pending: 1_000_000, spread: Duration::from_secs(300) };
    let small = Setup { name: "10k", pending: 10_000, spread: Duration::from_secs(3) };

    let origin = Instant::now();
    let (t, _) = million.filled::<timer::Timers<u64>>(origin, &mut Rng(9));
    eprintln!(
        "wheel memory with {} pending: {} bytes, {:.1} bytes per timer",
        t.len(),
        t.memory(),
        t.memory() as f64 / t.len() as f64
    );
    drop(t);

    all::<timer::Timers<u64>>(&mut c, &Setup { name: "wheel/1M", ..million });
    fire::<timer::Timers<u64>>(&mut c, &Setup { name: "wheel/1M", ..million }, Duration::from_millis(1));
    all::<timer::Timers<u64>>(&mut c, &Setup { name: "wheel/10k", ..small });
    all::<BTree>(&mut c, &Setup { name: "btree/1M", ..million });
    c.final_summary();
}
