//! Unit tests of the timing wheel: order, removal, keys, every level, far deadlines,
//! `next_expiration`, panics in callbacks; beside this file, `model` (a randomised comparison
//! with a `BTreeMap`, and a million timers fired at once) and `memory`.

mod memory;
mod model;

use std::cell::Cell;
use std::rc::Rc;
use std::time::{Duration, Instant};

use super::bits::BitTree;
use super::level::{list_for, list_start, OVERFLOW, SLOTS, TICK_SHIFT};
use super::slab::Node;
use super::{TimerKey, Timers, FAR};

const MS: Duration = Duration::from_millis(1);
const SEC: Duration = Duration::from_secs(1);
const YEAR: Duration = Duration::from_secs(365 * 86_400);

/// xorshift64*: a small deterministic generator.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    /// Log-uniform: a random number of up to `max_bits` bits.
    fn bits(&mut self, max_bits: u32) -> u64 {
        let bits = self.below(u64::from(max_bits) + 1) as u32;
        if bits == 0 {
            0
        } else {
            self.next() >> (64 - bits)
        }
    }
}

/// Polls at `now` and returns what fired (checking that nothing fired before its deadline).
fn poll<T>(t: &mut Timers<T>, now: Instant) -> Vec<(TimerKey, T)> {
    let mut out = Vec::new();
    let limit = now.max(t.time); // an earlier `now` counts as the wheel's time
    t.poll(now, |k, at, v| {
        assert!(at <= limit, "a timer due at {at:?} fired at {limit:?}");
        out.push((k, v))
    });
    out
}

fn values<T>(fired: Vec<(TimerKey, T)>) -> Vec<T> {
    fired.into_iter().map(|(_, v)| v).collect()
}

#[test]
fn a_node_is_32_bytes_for_an_8_byte_value() {
    assert_eq!(size_of::<Node<u64>>(), 32);
}

#[test]
fn level_table() {
    // Level 0: the current 64-tick block, including the current tick and the past.
    assert_eq!(list_for(0, 0), 0);
    assert_eq!(list_for(10, 3 << TICK_SHIFT), 10);
    assert_eq!(list_for(10, (10 << TICK_SHIFT) + 5), 10);
    assert_eq!(list_for(0, 63 << TICK_SHIFT), 63);
    // Each level starts where the one below ends.
    for level in 1..6u32 {
        let first = 1u64 << (6 * level);
        assert_eq!(list_for(0, first << TICK_SHIFT), level as usize * SLOTS + 1, "level {level}");
        assert_eq!(list_for(0, (first - 1) << TICK_SHIFT), (level as usize - 1) * SLOTS + 63);
    }
    assert_eq!(list_for(0, 1 << (36 + TICK_SHIFT)), OVERFLOW);
    assert_eq!(list_for(0, u64::MAX), OVERFLOW);
    // Relative to the current tick: 70 and 130 differ in bit 7 (level 1, slot 2).
    assert_eq!(list_for(70, 130 << TICK_SHIFT), SLOTS + 2);
    assert_eq!(list_start(SLOTS + 2, 70), 128);
    assert_eq!(list_start(5, 70), 69);
}

#[test]
fn bit_tree_finds_the_least_member() {
    let mut b = BitTree::default();
    assert_eq!(b.first(), None);
    for i in [300_000, 5000, 70, 4096] {
        b.insert(i);
    }
    for expect in [70, 4096, 5000, 300_000] {
        assert_eq!(b.first(), Some(expect));
        b.remove(expect);
    }
    assert_eq!(b.first(), None);
    let big = b.memory();
    b.fit(0);
    assert!(b.memory() < 1024 && b.memory() < big, "{} bytes kept", b.memory());
}

#[test]
fn fires_in_deadline_order() {
    let o = Instant::now();
    let mut t = Timers::new(o);
    for (v, ms) in [(5, 500u64), (1, 10), (4, 300), (2, 20), (3, 200), (6, 70_000)].into_iter() {
        t.insert(o + MS * ms as u32, v);
    }
    assert_eq!(values(poll(&mut t, o + 5 * MS)), Vec::<i32>::new());
    assert_eq!(values(poll(&mut t, o + 250 * MS)), [1, 2, 3]);
    assert_eq!(values(poll(&mut t, o + 100 * SEC)), [4, 5, 6]);
    assert!(t.is_empty());
}

#[test]
fn equal_deadlines_fire_in_insertion_order() {
    let o = Instant::now();
    let mut t = Timers::new(o);
    let at = o + 3 * SEC + Duration::from_nanos(17);
    for v in 0..1000 {
        t.insert(at, v);
    }
    // A different deadline in the same tick, before and after.
    t.insert(at - Duration::from_nanos(1), -1);
    t.insert(at + Duration::from_nanos(1), 1000);
    let fired = values(poll(&mut t, at + SEC));
    assert_eq!(fired, (-1..=1000).collect::<Vec<_>>());
}

#[test]
fn insertion_order_holds_across_the_32_bit_wrap_of_sequence_numbers() {
    let o = Instant::now();
    let mut t = Timers::new(o);
    t.seq = u64::from(u32::MAX) - 3;
    let at = o + SEC;
    let keys: Vec<_> = (0..8).map(|v| t.insert(at, v)).collect();
    let gens: Vec<u32> = keys.iter().map(|k| k.generation.get()).collect();
    assert_eq!(gens, [u32::MAX - 2, u32::MAX - 1, u32::MAX, 1, 2, 3, 4, 5], "low 32 bits of 0 are skipped");
    let far = o + 1000 * YEAR;
    let k = t.insert(far, 8);
    assert_eq!(t.deadline(k), Some(far));
    assert_eq!(t.remove(k), Some(8), "far timers are found by their widened sequence number");
    assert_eq!(values(poll(&mut t, at)), (0..8).collect::<Vec<_>>());
}

#[test]
fn remove_pending_stale_and_fired() {
    let o = Instant::now();
    let mut t = Timers::new(o);
    let a = t.insert(o + 10 * MS, 'a');
    let b = t.insert(o + 20 * MS, 'b');
    let c = t.insert(o + 5 * SEC, 'c');
    assert_eq!(t.len(), 3);
    assert_eq!(t.remove(b), Some('b'));
    assert_eq!(t.remove(b), None, "removed twice");
    assert_eq!(t.deadline(b), None);
    assert_eq!(t.len(), 2);
    assert_eq!(values(poll(&mut t, o + SEC)), ['a']);
    assert_eq!(t.remove(a), None, "already fired");
    assert_eq!(t.deadline(a), None);
    assert_eq!(t.deadline(c), Some(o + 5 * SEC));
    assert_eq!(t.remove(c), Some('c'));
    assert!(t.is_empty());
    assert_eq!(values(poll(&mut t, o + 10 * SEC)), Vec::<char>::new());
    t.check();
}

#[test]
fn a_stale_key_never_removes_a_newer_timer_in_its_node() {
    let o = Instant::now();
    let mut t = Timers::new(o);
    let _keep = t.insert(o + SEC, 0);
    let old = t.insert(o + SEC, 1);
    assert_eq!(t.remove(old), Some(1));
    let new = t.insert(o + 2 * SEC, 2);
    assert_eq!(new.index, old.index, "the freed node is reused");
    assert_ne!(new, old);
    assert_eq!(t.remove(old), None);
    assert_eq!(t.deadline(old), None);
    assert_eq!(t.deadline(new), Some(o + 2 * SEC));
    // Through a fire, too: the key of a fired timer does not name its successor.
    assert_eq!(values(poll(&mut t, o + 3 * SEC)), [0, 2]);
    let newer = t.insert(o + 4 * SEC, 3);
    assert_eq!(t.remove(new), None);
    assert_eq!(t.remove(newer), Some(3));
    // And when the wheel emptied and gave its chunks back.
    assert!(t.is_empty());
    let again = t.insert(o + 5 * SEC, 4);
    assert_eq!(t.remove(newer), None);
    assert_eq!(t.remove(again), Some(4));
}

#[test]
fn past_and_pre_origin_deadlines_fire_at_the_next_poll() {
    let before = Instant::now();
    let o = before + 10 * SEC;
    let mut t = Timers::new(o);
    poll(&mut t, o + SEC);
    let pre = t.insert(before, "before origin");
    t.insert(o + 500 * MS, "past");
    t.insert(o + SEC, "now");
    t.insert(o + SEC + Duration::from_nanos(1), "later");
    assert_eq!(t.deadline(pre), Some(before), "kept exactly");
    assert_eq!(t.next_expiration(), Some(before));
    // A `now` earlier than the wheel's time counts as the wheel's time.
    assert_eq!(values(poll(&mut t, o)), ["before origin", "past", "now"]);
    assert_eq!(t.next_expiration(), Some(o + SEC + Duration::from_nanos(1)));
    assert_eq!(values(poll(&mut t, o + 2 * SEC)), ["later"]);
    t.check();
}

#[test]
fn never_early_never_late_at_every_level() {
    let o = Instant::now();
    let ns = Duration::from_nanos;
    let mut deadlines = vec![ns(1), MS - ns(1), ns(1 << 20), ns((1 << 20) - 1), 67 * MS, 2 * SEC, 300 * SEC];
    deadlines.extend([5 * 3600 * SEC, 14 * 86_400 * SEC, YEAR, 2 * YEAR + ns(3), 3 * YEAR, 50 * YEAR]);
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for (k, &d) in deadlines.iter().enumerate() {
        let mut t = Timers::new(o);
        let key = t.insert(o + d, k);
        // A few polls before it, at random points, then one just before and one at it.
        let mut at = Duration::ZERO;
        for _ in 0..20 {
            at += Duration::from_nanos(rng.below((d - at).as_nanos() as u64 / 4));
            assert!(poll(&mut t, o + at).is_empty(), "{d:?} fired at {at:?}");
            assert!(t.next_expiration().unwrap() <= o + d);
            t.check();
        }
        assert!(poll(&mut t, o + d - ns(1)).is_empty(), "{d:?} fired 1 ns early");
        assert_eq!(t.next_expiration(), Some(o + d), "exact once on level 0");
        assert_eq!(poll(&mut t, o + d), [(key, k)], "{d:?} not fired on time");
    }
}

#[test]
fn a_hundred_year_deadline() {
    let o = Instant::now();
    let mut t = Timers::new(o);
    let at = Instant::now() + 100 * YEAR;
    let key = t.insert(at, ());
    assert_eq!(t.deadline(key), Some(at));
    assert!(t.next_expiration().unwrap() <= at);
    let mut now = o;
    while now + YEAR < at {
        now += YEAR;
        assert!(poll(&mut t, now).is_empty());
        assert!(t.next_expiration().unwrap() <= at);
        t.check();
    }
    assert!(poll(&mut t, at - Duration::from_nanos(1)).is_empty());
    assert_eq!(t.next_expiration(), Some(at));
    assert_eq!(poll(&mut t, at).len(), 1);
}

#[test]
fn deadlines_beyond_584_years_are_kept_exactly_and_fire_last() {
    let o = Instant::now();
    let mut t = Timers::new(o);
    let far = o + 1000 * YEAR + Duration::from_nanos(7);
    let k1 = t.insert(far, "1000 years");
    let k0 = t.insert(far - Duration::from_nanos(1), "1000 years - 1 ns");
    t.insert(o + 500 * YEAR, "500 years");
    assert_eq!(t.place(k1), Some(FAR));
    assert_eq!(t.deadline(k1), Some(far));
    assert_eq!(t.next_expiration(), Some(o + 500 * YEAR));
    assert_eq!(values(poll(&mut t, o + 600 * YEAR)), ["500 years"]);
    assert_eq!(t.next_expiration(), Some(far - Duration::from_nanos(1)));
    assert!(poll(&mut t, far - Duration::from_nanos(2)).is_empty());
    assert_eq!(t.remove(k0), Some("1000 years - 1 ns"));
    assert_eq!(t.remove(k0), None);
    t.insert(o + 2 * SEC, "wheel");
    assert_eq!(values(poll(&mut t, far)), ["wheel", "1000 years"]);
    assert!(t.is_empty());
    assert_eq!(t.next_expiration(), None);
}

#[test]
fn next_expiration_is_exact_until_the_earliest_is_removed() {
    let o = Instant::now();
    let mut t = Timers::new(o);
    assert_eq!(t.next_expiration(), None);
    // Level 2 (4.29 s .. 4.58 min away): exact while its least timer is there.
    let a = t.insert(o + 10 * SEC + Duration::from_nanos(5), 'a');
    let b = t.insert(o + 10 * SEC + 500 * MS, 'b');
    assert_eq!(t.place(a).map(|p| p / 64), Some(2));
    assert_eq!(t.next_expiration(), Some(o + 10 * SEC + Duration::from_nanos(5)));
    t.remove(a);
    let e = t.next_expiration().unwrap();
    assert!(e <= o + 10 * SEC + 500 * MS, "a lower bound");
    // Once time reaches the slot, the timer is cascaded to level 0: exact again.
    poll(&mut t, e);
    assert_eq!(t.next_expiration(), Some(o + 10 * SEC + 500 * MS));
    // Both on level 1 still (tick 9536 and ticks 10012, 10013). Time in their 64-tick block
    // (from tick 9984, 10.469 s) puts them on level 0.
    poll(&mut t, o + 10 * SEC + 470 * MS);
    assert!(t.place(b).is_some_and(|p| p < 64));
    let c = t.insert(o + 10 * SEC + 499 * MS, 'c');
    assert!(t.place(c).is_some_and(|p| p < 64));
    // On level 0, exact even after its least timer is removed.
    assert_eq!(t.next_expiration(), Some(o + 10 * SEC + 499 * MS));
    t.remove(c);
    assert_eq!(t.next_expiration(), Some(o + 10 * SEC + 500 * MS));
    t.remove(b);
    assert_eq!(t.next_expiration(), None);
}

#[test]
fn a_panicking_callback_loses_no_other_timer() {
    let o = Instant::now();
    let mut t = Timers::new(o);
    for v in 0..10 {
        t.insert(o + MS * v, v);
    }
    let mut seen = Vec::new();
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        t.poll(o + SEC, |_, _, v| {
            seen.push(v);
            assert_ne!(v, 3, "boom");
        })
    }));
    assert!(r.is_err());
    assert_eq!(seen, [0, 1, 2, 3]);
    assert_eq!(t.len(), 6);
    t.insert(o, 100);
    assert_eq!(values(poll(&mut t, o + SEC)), [100, 4, 5, 6, 7, 8, 9]);
    assert!(t.is_empty());
}

#[test]
fn values_are_dropped_with_the_wheel() {
    struct Counted(Rc<Cell<usize>>);
    impl Drop for Counted {
        fn drop(&mut self) {
            self.0.set(self.0.get() + 1);
        }
    }
    let o = Instant::now();
    let drops = Rc::new(Cell::new(0));
    let mut t = Timers::new(o);
    for i in 0..2000u32 {
        t.insert(o + MS * i, Counted(drops.clone()));
    }
    t.poll(o + 999 * MS, |_, _, v| drop(v));
    assert_eq!(drops.get(), 1000);
    drop(t);
    assert_eq!(drops.get(), 2000);
}
