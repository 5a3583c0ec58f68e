//! The rate limits' types: a configuration ([`RateLimit`]), a bucket pair, a group
//! ([`RateGroup`]) and what one buffered event holds ([`Limits`]). How they are used is in
//! `ratelim.rs`.

use std::cell::{Cell, RefCell};
use std::io;
use std::rc::Rc;
use std::time::{Duration, Instant};

use crate::base::EventBase;
use crate::id::Event;

/// A token-bucket configuration (libevent's `ev_token_bucket_cfg`): per tick, `read_rate`
/// and `write_rate` bytes may move; a bucket holds at most its burst.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct RateLimit {
    read_rate: u64,
    read_burst: u64,
    write_rate: u64,
    write_burst: u64,
    pub(crate) tick: Duration,
}

impl RateLimit {
    /// The longest tick: 2^32 - 1 milliseconds, about 49.7 days (libevent counts a tick in
    /// 32-bit milliseconds).
    pub const MAX_TICK: Duration = Duration::from_millis(u32::MAX as u64);

    /// Rates in bytes per `tick`, bursts in bytes. A rate of 0, a burst below its rate, or a
    /// zero tick is refused (libevent refuses them too), as is a tick longer than
    /// [`MAX_TICK`](RateLimit::MAX_TICK).
    pub fn new(
        read_rate: u64,
        read_burst: u64,
        write_rate: u64,
        write_burst: u64,
        tick: Duration,
    ) -> io::Result<RateLimit> {
        if read_rate == 0 || write_rate == 0 {
            return Err(crate::error::bad_rate("a rate of 0 would never move a byte"));
        }
        if read_burst < read_rate || write_burst < write_rate {
            return Err(crate::error::bad_rate("a burst below its rate"));
        }
        if tick.is_zero() {
            return Err(crate::error::bad_rate("a tick of zero length"));
        }
        if tick > Self::MAX_TICK {
            return Err(crate::error::bad_rate("a tick longer than 49 days"));
        }
        let max = i64::MAX as u64 / 2;
        if read_burst > max || write_burst > max {
            return Err(crate::error::bad_rate("a burst too large to count"));
        }
        Ok(RateLimit { read_rate, read_burst, write_rate, write_burst, tick })
    }
}

/// One bucket pair (read, write).
#[derive(Debug)]
pub(crate) struct Bucket {
    pub(crate) cfg: RateLimit,
    pub(crate) read: i64,
    pub(crate) write: i64,
    /// The tick the bucket was last filled in, counted from `epoch`.
    pub(crate) tick: u64,
    pub(crate) epoch: Instant,
}

impl Bucket {
    pub(crate) fn new(cfg: RateLimit, now: Instant) -> Bucket {
        Bucket { cfg, read: cfg.read_rate as i64, write: cfg.write_rate as i64, tick: 0, epoch: now }
    }

    /// Adds what the ticks since the last fill brought.
    pub(crate) fn refill(&mut self, now: Instant) {
        let tick = (now.saturating_duration_since(self.epoch).as_nanos() / self.cfg.tick.as_nanos().max(1)) as u64;
        if tick <= self.tick {
            return;
        }
        let n = tick - self.tick;
        self.tick = tick;
        let add =
            |tokens: i64, rate: u64, burst: u64| (tokens as i128 + rate as i128 * n as i128).min(burst as i128) as i64;
        self.read = add(self.read, self.cfg.read_rate, self.cfg.read_burst);
        self.write = add(self.write, self.cfg.write_rate, self.cfg.write_burst);
    }

    /// When the next tick begins.
    pub(crate) fn next_tick(&self, now: Instant) -> Duration {
        // In nanoseconds since `epoch`, where nothing overflows (a u64 count of ticks).
        let next = self.cfg.tick.as_nanos().saturating_mul(u128::from(self.tick) + 1);
        let wait = next.saturating_sub(now.saturating_duration_since(self.epoch).as_nanos());
        Duration::from_nanos(wait.min(u128::from(u64::MAX)) as u64).max(Duration::from_millis(1))
    }

    pub(crate) fn tokens(&self, read: bool) -> i64 {
        if read {
            self.read
        } else {
            self.write
        }
    }

    pub(crate) fn take(&mut self, read: bool, n: usize) {
        let t = if read { &mut self.read } else { &mut self.write };
        *t = t.saturating_sub(n as i64);
    }
}

/// A group of buffered events sharing buckets (libevent's `bufferevent_rate_limit_group`).
/// Cheap to clone; it lives while a member or a handle does.
#[derive(Clone)]
pub struct RateGroup(pub(crate) Rc<Group>);

impl std::fmt::Debug for RateGroup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RateGroup").field("members", &self.0.members.get()).finish_non_exhaustive()
    }
}

pub(crate) struct Group {
    pub(crate) base: u32,
    pub(crate) bucket: RefCell<Bucket>,
    /// How many buffered events are in it.
    pub(crate) members: Cell<usize>,
    pub(crate) min_share: Cell<usize>,
    pub(crate) totals: Cell<(u64, u64)>,
}

impl RateGroup {
    /// A group on `base` with the buckets `cfg` describes.
    pub fn new(base: &mut EventBase, cfg: RateLimit) -> RateGroup {
        RateGroup(Rc::new(Group {
            base: base.id,
            bucket: RefCell::new(Bucket::new(cfg, Instant::now())),
            members: Cell::new(0),
            min_share: Cell::new(64),
            totals: Cell::new((0, 0)),
        }))
    }

    /// The least a member may ask for when the group's tokens are spread thin (64 by
    /// default; libevent's `bufferevent_rate_limit_group_set_min_share`). 0 is refused.
    pub fn set_min_share(&self, bytes: usize) -> io::Result<()> {
        if bytes == 0 {
            return Err(crate::error::bad_rate("a minimum share of 0"));
        }
        self.0.min_share.set(bytes);
        Ok(())
    }

    /// Bytes the members read and wrote while in the group.
    pub fn totals(&self) -> (u64, u64) {
        self.0.totals.get()
    }

    /// How many buffered events are in it (a freed one leaves it).
    pub fn members(&self) -> usize {
        self.0.members.get()
    }
}

/// A buffered event's limits.
#[derive(Default)]
pub(crate) struct Limits {
    pub(crate) own: Option<Bucket>,
    pub(crate) group: Option<RateGroup>,
    /// The timer that ends a wait for tokens.
    pub(crate) timer: Option<Event>,
}
