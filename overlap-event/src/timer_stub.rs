//! TEMPORARY stand-in for the timing wheel (same interface), until it lands.
use std::collections::{BTreeMap, HashMap};
use std::time::Instant;

#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct TimerKey(u64);

pub(crate) struct Timers<T> {
    map: BTreeMap<(Instant, u64), T>,
    keys: HashMap<u64, Instant>,
    seq: u64,
}

impl<T> Timers<T> {
    pub(crate) fn new(_origin: Instant) -> Self {
        Timers { map: BTreeMap::new(), keys: HashMap::new(), seq: 0 }
    }
    pub(crate) fn insert(&mut self, deadline: Instant, value: T) -> TimerKey {
        self.seq += 1;
        self.map.insert((deadline, self.seq), value);
        self.keys.insert(self.seq, deadline);
        TimerKey(self.seq)
    }
    pub(crate) fn remove(&mut self, key: TimerKey) -> Option<T> {
        let d = self.keys.remove(&key.0)?;
        self.map.remove(&(d, key.0))
    }
    pub(crate) fn deadline(&self, key: TimerKey) -> Option<Instant> {
        self.keys.get(&key.0).copied()
    }
    pub(crate) fn next_expiration(&self) -> Option<Instant> {
        self.map.keys().next().map(|k| k.0)
    }
    pub(crate) fn poll(&mut self, now: Instant, mut f: impl FnMut(TimerKey, T)) {
        while let Some(entry) = self.map.first_entry() {
            if entry.key().0 > now {
                break;
            }
            let ((_, s), v) = entry.remove_entry();
            self.keys.remove(&s);
            f(TimerKey(s), v);
        }
    }
    pub(crate) fn len(&self) -> usize {
        self.map.len()
    }
}
