//! Memory: bytes per timer with a million pending, and what comes back after mass removal.

use std::time::{Duration, Instant};

use super::super::{TimerKey, Timers};
use super::{Rng, MS, SEC};

/// Inserts a million timers over ten minutes, returning their keys.
fn million(t: &mut Timers<u64>, o: Instant) -> Vec<TimerKey> {
    let mut rng = Rng(3);
    (0..1_000_000).map(|v| t.insert(o + Duration::from_nanos(rng.below(600_000_000_000)), v)).collect()
}

#[test]
fn at_most_64_bytes_per_timer_with_a_million_pending() {
    let o = Instant::now();
    let mut t = Timers::new(o);
    million(&mut t, o);
    let per = t.memory() as f64 / t.len() as f64;
    eprintln!("{} bytes with {} pending: {per:.2} bytes per timer", t.memory(), t.len());
    assert!(per <= 64.0, "{per} bytes per timer");
    assert!(per <= 33.0, "{per} bytes per timer: more than a node of 32 and a little");
}

#[test]
fn memory_comes_back_after_all_are_removed() {
    let o = Instant::now();
    let mut t = Timers::new(o);
    let keys = million(&mut t, o);
    let peak = t.memory();
    assert!(peak > 32_000_000);
    let mut rng = Rng(11);
    let mut order: Vec<usize> = (0..keys.len()).collect();
    for i in (1..order.len()).rev() {
        order.swap(i, rng.below(i as u64 + 1) as usize);
    }
    for i in order {
        assert!(t.remove(keys[i]).is_some());
    }
    assert!(t.is_empty());
    eprintln!("{peak} bytes with a million pending, {} after removing all", t.memory());
    assert!(t.memory() < 64 * 1024, "{} bytes after removing all", t.memory());
}

#[test]
fn memory_comes_back_after_90_percent_are_removed_by_age() {
    let o = Instant::now();
    // Newest 90 % removed (say, the connections of a burst went away), then oldest 90 %.
    for newest in [true, false] {
        let mut t = Timers::new(o);
        let keys = million(&mut t, o);
        let peak = t.memory();
        let gone = if newest { &keys[100_000..] } else { &keys[..900_000] };
        for &k in gone {
            assert!(t.remove(k).is_some());
        }
        assert_eq!(t.len(), 100_000);
        eprintln!("newest {newest}: {peak} bytes with a million, {} after removing 90 %", t.memory());
        assert!(t.memory() * 8 < peak, "newest {newest}: {} of {peak} bytes left", t.memory());
        assert!(t.memory() < 100_000 * 34, "newest {newest}: {} bytes for 100k timers", t.memory());
        t.check();
    }
}

#[test]
fn scattered_removal_is_given_back_as_survivors_are_rearmed() {
    let o = Instant::now();
    let mut t = Timers::new(o);
    let keys = million(&mut t, o);
    let peak = t.memory();
    // Every tenth timer survives: no chunk empties.
    for (i, &k) in keys.iter().enumerate() {
        if i % 10 != 0 {
            t.remove(k);
        }
    }
    let scattered = t.memory();
    // Each survivor re-armed once (removed and added again) moves to the lowest free node.
    for (i, &k) in keys.iter().enumerate() {
        if i % 10 == 0 {
            let v = t.remove(k).unwrap();
            t.insert(o + SEC, v);
        }
    }
    assert_eq!(t.len(), 100_000);
    eprintln!("{peak} bytes with a million, {scattered} with every tenth left, {} once re-armed", t.memory());
    assert!(t.memory() * 8 < peak, "{} of {peak} bytes left", t.memory());
    t.check();
}

#[test]
fn churn_reuses_freed_nodes() {
    // Ten full chunks; then timers removed and added one for one: no node is left unused.
    let o = Instant::now();
    let mut rng = Rng(5);
    let mut t = Timers::new(o);
    let mut keys: Vec<_> = (0..5120).map(|v| t.insert(o + MS * (v % 5000), v)).collect();
    let memory = t.memory();
    for v in 0..20_000 {
        let k = rng.below(keys.len() as u64) as usize;
        assert!(t.remove(keys[k]).is_some());
        keys[k] = t.insert(o + MS * (v % 7000), v);
        assert!(keys[k].index < 5120, "node {} past the ten chunks", keys[k].index);
    }
    assert_eq!(t.memory(), memory);
    t.check();
}
