//! The wheel against a `BTreeMap` model: random inserts, removals and polls over every level;
//! dense deadlines polled in uneven steps; a million timers fired by one poll.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use super::super::level::SLOTS;
use super::super::{TimerKey, Timers, FAR};
use super::{poll, Rng, SEC, YEAR};

/// Compares the wheel with a `BTreeMap` model over random inserts, removals and polls with
/// deadlines from the past to years ahead and time steps from nanoseconds to years.
fn model_run(seed: u64, steps: usize) {
    let o = Instant::now();
    let mut rng = Rng(seed);
    let mut t = Timers::new(o);
    let mut model: BTreeMap<(Instant, u64), TimerKey> = BTreeMap::new();
    let mut pending: HashMap<TimerKey, (Instant, u64)> = HashMap::new();
    let mut keys: Vec<TimerKey> = Vec::new();
    let (mut now, mut seq) = (o, 0u64);
    for step in 0..steps {
        match rng.below(100) {
            0..=54 => {
                let at = match rng.below(20) {
                    0 => now.checked_sub(Duration::from_nanos(rng.bits(45))).unwrap_or(o),
                    1 => now,
                    2 if !model.is_empty() => {
                        // Equal to a pending deadline.
                        let k = keys[rng.below(keys.len() as u64) as usize];
                        pending.get(&k).map_or(now, |&(at, _)| at)
                    }
                    3 => now + YEAR * rng.below(700) as u32,
                    _ => now + Duration::from_nanos(rng.bits(57)),
                };
                seq += 1;
                let key = t.insert(at, seq);
                assert_eq!(t.deadline(key), Some(at));
                model.insert((at, seq), key);
                pending.insert(key, (at, seq));
                keys.push(key);
            }
            55..=79 if !keys.is_empty() => {
                let key = keys.swap_remove(rng.below(keys.len() as u64) as usize);
                let expect = pending.remove(&key);
                if let Some((at, s)) = expect {
                    model.remove(&(at, s));
                }
                assert_eq!(t.remove(key), expect.map(|(_, s)| s), "step {step}");
            }
            _ => {
                let step_ns = match rng.below(10) {
                    0 => rng.bits(62),
                    1 => 0,
                    _ => rng.bits(40),
                };
                now = (now + Duration::from_nanos(step_ns)).max(now);
                let fired = poll(&mut t, now);
                let mut expect = Vec::new();
                while let Some(entry) = model.first_entry() {
                    if entry.key().0 > now {
                        break;
                    }
                    let ((_, s), key) = entry.remove_entry();
                    pending.remove(&key);
                    expect.push((key, s));
                }
                assert_eq!(fired, expect, "step {step}: poll at {:?}", now - o);
                for (key, _) in &fired {
                    assert_eq!(t.deadline(*key), None);
                }
            }
        }
        assert_eq!(t.len(), model.len());
        match model.first_key_value() {
            None => assert_eq!(t.next_expiration(), None),
            Some((&(at, _), &key)) => {
                let e = t.next_expiration().expect("not empty");
                assert!(e <= at, "step {step}: next_expiration {e:?} after the earliest {at:?}");
                if t.place(key).is_some_and(|p| p < SLOTS as u16 || p == FAR) {
                    assert_eq!(e, at, "step {step}: earliest on level 0 (or far) is exact");
                }
            }
        }
        if step % 64 == 0 {
            t.check();
        }
    }
    t.check();
    // Everything left fires, in order, by the end of time (as far as `Instant` goes here).
    let end = o + 2000 * YEAR;
    let expect: Vec<_> = std::mem::take(&mut model).into_iter().map(|((_, s), k)| (k, s)).collect();
    assert_eq!(poll(&mut t, end), expect);
    assert!(t.is_empty());
}

#[test]
fn matches_a_model_across_every_level() {
    for seed in [1, 0xdead_beef, 0x1234_5678_9abc_def1, 42] {
        model_run(seed, 20_000);
    }
}

#[test]
fn every_timer_fires_at_the_first_poll_at_or_after_its_deadline() {
    // Dense deadlines over 10 s, polled in uneven steps: each poll fires exactly those due.
    let o = Instant::now();
    let mut rng = Rng(7);
    let mut t = Timers::new(o);
    let mut deadlines = Vec::new();
    for v in 0..20_000u64 {
        let d = o + Duration::from_nanos(rng.below(10_000_000_000));
        deadlines.push(d);
        t.insert(d, v);
    }
    let mut now = o;
    let mut fired_total = 0;
    while !t.is_empty() {
        let prev = now;
        now += Duration::from_nanos(rng.bits(30));
        let fired = poll(&mut t, now);
        for w in fired.windows(2) {
            assert!(deadlines[w[0].1 as usize] <= deadlines[w[1].1 as usize]);
        }
        for &(_, v) in &fired {
            let d = deadlines[v as usize];
            assert!(d <= now, "early");
            assert!(d > prev, "late: due at a previous poll");
        }
        fired_total += fired.len();
    }
    assert_eq!(fired_total, deadlines.len());
}

#[test]
fn a_million_timers_polled_at_once() {
    let o = Instant::now();
    let mut rng = Rng(99);
    let mut t = Timers::new(o);
    let n = 1_000_000u64;
    for v in 0..n {
        t.insert(o + Duration::from_nanos(rng.below(600_000_000_000)), v);
    }
    let mut count = 0u64;
    t.poll(o + 601 * SEC, |_, _, _| count += 1);
    assert_eq!(count, n);
    assert!(t.is_empty());
    assert!(t.memory() < 64 * 1024, "{} bytes left", t.memory());
    // Order, with a smaller set whose deadlines are known.
    let mut t = Timers::new(o);
    let mut ds = Vec::new();
    let mut last = (Duration::ZERO, 0);
    for v in 0..100_000u64 {
        let d = Duration::from_nanos(rng.below(600_000_000_000));
        ds.push(d);
        t.insert(o + d, v);
    }
    t.poll(o + 601 * SEC, |_, at, v| {
        let d = ds[v as usize];
        assert_eq!(at, o + d, "the deadline handed out is the one given");
        assert!((d, v) > last, "out of order");
        last = (d, v);
    });
    assert!(t.memory() < 64 * 1024, "{} bytes left", t.memory());
}
