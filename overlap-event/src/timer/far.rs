//! Deadlines outside the wheel's clock: before the origin, or 2^64 ns (about 584 years) or
//! more after it. They cannot be written as a `u64` of nanoseconds since the origin, so they
//! wait in an ordered map keyed by the exact `Instant` (O(log n); such deadlines are rare).
//!
//! Their node is in no wheel list, so it keeps the deadline's distance from the origin in its
//! own fields, which is how `remove` finds the map's key and `deadline` answers exactly: the
//! whole seconds in `Live::deadline`, the nanoseconds in `next`, whose top bit says "before
//! the origin".

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// Set in the stored nanoseconds of a deadline before the origin.
const BEFORE: u32 = 1 << 31;

/// The timers outside the wheel's clock, by (deadline, insertion sequence).
#[derive(Debug, Default)]
pub(super) struct Far {
    /// (deadline, insertion sequence) → node index.
    map: BTreeMap<(Instant, u64), u32>,
}

/// How a node stores `at`'s distance from `origin`: (whole seconds, nanoseconds | `BEFORE`).
pub(super) fn encode(origin: Instant, at: Instant) -> (u64, u32) {
    match at.checked_duration_since(origin) {
        Some(d) => (d.as_secs(), d.subsec_nanos()),
        None => {
            let d = origin.saturating_duration_since(at);
            (d.as_secs(), d.subsec_nanos() | BEFORE)
        }
    }
}

/// The deadline a node stores as `(secs, nanos)` (see [`encode`]).
pub(super) fn decode(origin: Instant, secs: u64, nanos: u32) -> Option<Instant> {
    let d = Duration::from_secs(secs).checked_add(Duration::from_nanos(u64::from(nanos & !BEFORE)))?;
    if nanos & BEFORE != 0 {
        origin.checked_sub(d)
    } else {
        origin.checked_add(d)
    }
}

impl Far {
    /// Adds node `index`, due at `at`, inserted as `seq`.
    pub(super) fn insert(&mut self, at: Instant, seq: u64, index: u32) {
        self.map.insert((at, seq), index);
    }

    /// Takes node `index` out (`at` as [`decode`] gives it, if it could).
    pub(super) fn remove(&mut self, at: Option<Instant>, seq: u64, index: u32) {
        if at.and_then(|at| self.map.remove(&(at, seq))).is_none() {
            // Not reachable: every stored distance decodes to the instant it came from.
            self.map.retain(|_, &mut i| i != index);
        }
    }

    /// The earliest deadline.
    pub(super) fn first(&self) -> Option<Instant> {
        self.map.first_key_value().map(|(&(at, _), _)| at)
    }

    /// Takes the earliest timer if `due` says its deadline is due: (deadline, seq, index).
    pub(super) fn pop_if(&mut self, due: impl Fn(Instant) -> bool) -> Option<(Instant, u64, u32)> {
        let (&(at, _), _) = self.map.first_key_value()?;
        if !due(at) {
            return None;
        }
        self.map.pop_first().map(|((at, seq), index)| (at, seq, index))
    }

    /// An estimate of the heap memory held: B-tree leaves of up to 11 entries, half full.
    pub(super) fn memory(&self) -> usize {
        self.map.len().div_ceil(6) * (16 + 11 * size_of::<((Instant, u64), u32)>())
    }
}
