//! Rate limits (libevent's `bufferevent_ratelim`): token buckets per buffered event and per
//! group, for reading and writing, refilled once per tick.
//!
//! ```text
//!   tokens ──read/written bytes──► fewer tokens ──(none left)──► that side waits
//!      ▲                                                             │
//!      └──── every tick: + rate (at most burst) ◄── the refill timer ┘ (armed only while
//!                                                                       something waits)
//! ```
//!
//! A read asks for at most what its buffered event's bucket holds and its share of its
//! group's (the group's tokens over its members, but at least the group's minimum share, so
//! that a big group does not starve everyone into one-byte reads); what was read is taken
//! from both. Buckets refill lazily, from the number of ticks since they were last filled,
//! so an idle limited connection costs no timer.

use std::io;
use std::time::{Duration, Instant};

use super::rate::{Bucket, Limits, RateGroup, RateLimit};
use super::shared::{Bits, BufferEvent, Shared};
use crate::base::EventBase;
use crate::flags::Flags;

/// How many bytes `s` may read (or write) now; `usize::MAX` when unlimited.
pub(crate) fn allowance(s: &Shared, read: bool, now: Instant) -> usize {
    s.with_limits(|lim| lim.as_mut().map_or(usize::MAX, |lim| allowance_of(lim, read, now)))
}

fn allowance_of(lim: &mut Limits, read: bool, now: Instant) -> usize {
    let mut max = i64::MAX;
    if let Some(b) = lim.own.as_mut() {
        b.refill(now);
        max = max.min(b.tokens(read));
    }
    if let Some(g) = &lim.group {
        let mut gb = g.0.bucket.borrow_mut();
        gb.refill(now);
        let tokens = gb.tokens(read);
        let share = if tokens <= 0 {
            0
        } else {
            let n = g.0.members.get().max(1) as i64;
            (tokens / n).max(g.0.min_share.get() as i64)
        };
        max = max.min(share);
    }
    max.max(0) as usize
}

/// `n` bytes were read (or written): take them from the buckets.
pub(crate) fn consume(s: &Shared, read: bool, n: usize) {
    s.with_limits(|lim| {
        let Some(lim) = lim.as_mut() else { return };
        if let Some(b) = lim.own.as_mut() {
            b.take(read, n);
        }
        if let Some(g) = &lim.group {
            g.0.bucket.borrow_mut().take(read, n);
            let (r, w) = g.0.totals.get();
            g.0.totals.set(if read { (r + n as u64, w) } else { (r, w + n as u64) });
        }
    });
}

/// Out of tokens for reading (or writing): hold that side until the next tick (the caller
/// stops watching it).
pub(crate) fn hold(base: &mut EventBase, bev: &BufferEvent, read: bool) {
    let s = &bev.0;
    s.set(if read { Bits::READ_HELD } else { Bits::WRITE_HELD }, true);
    let now = base.now();
    let Some((timer, wait)) = s.with_limits(|lim| {
        let lim = lim.as_mut()?;
        let mut wait = Duration::from_secs(3600);
        if let Some(b) = &lim.own {
            wait = wait.min(b.next_tick(now));
        }
        if let Some(g) = &lim.group {
            wait = wait.min(g.0.bucket.borrow().next_tick(now));
        }
        Some((lim.timer, wait))
    }) else {
        return;
    };
    let timer = match timer {
        Some(t) => t,
        None => {
            let me = bev.clone();
            let Ok(t) = base.new_timer(Flags::NONE, move |_, _, _| {
                if !me.is_freed() {
                    release(&me);
                }
            }) else {
                return;
            };
            s.with_limits(|lim| {
                if let Some(lim) = lim.as_mut() {
                    lim.timer = Some(t);
                }
            });
            t
        }
    };
    if !matches!(base.pending(timer, Flags::TIMEOUT), Ok((f, _)) if f.contains(Flags::TIMEOUT)) {
        let _ = base.add(timer, Some(wait));
    }
}

/// A tick passed: what waited for tokens tries again (its run watches the socket again).
fn release(bev: &BufferEvent) {
    let s = &bev.0;
    let (r, w) = (s.bits().has(Bits::READ_HELD), s.bits().has(Bits::WRITE_HELD));
    s.set(Bits::READ_HELD, false);
    s.set(Bits::WRITE_HELD, false);
    if r {
        s.queue_read();
    }
    if w {
        s.queue_write();
    }
}

/// Sets (or with `None` removes) `bev`'s own limits.
pub(crate) fn set_own(base: &mut EventBase, bev: &BufferEvent, cfg: Option<RateLimit>) {
    let now = Instant::now(); // not the cached time, which may be old: ticks count from now
    bev.0.with_limits(|lim| lim.get_or_insert_with(Default::default).own = cfg.map(|c| Bucket::new(c, now)));
    tidy(base, bev);
}

/// Puts `bev` in `group` (or with `None` takes it out of its group).
pub(crate) fn set_group(base: &mut EventBase, bev: &BufferEvent, group: Option<&RateGroup>) -> io::Result<()> {
    if let Some(g) = group {
        if g.0.base != base.id {
            return Err(crate::error::foreign_event());
        }
    }
    bev.0.with_limits(|lim| {
        let lim = lim.get_or_insert_with(Default::default);
        if let Some(old) = lim.group.take() {
            old.0.members.set(old.0.members.get().saturating_sub(1));
        }
        if let Some(g) = group {
            g.0.members.set(g.0.members.get() + 1);
            lim.group = Some(g.clone());
        }
    });
    tidy(base, bev);
    Ok(())
}

/// Drops the limits' state when nothing limits any more, and lets held sides go.
fn tidy(base: &mut EventBase, bev: &BufferEvent) {
    let timer = bev.0.with_limits(|lim| {
        let empty = lim.as_ref().is_none_or(|l| l.own.is_none() && l.group.is_none());
        if empty {
            lim.take().and_then(|l| l.timer)
        } else {
            None
        }
    });
    if let Some(t) = timer {
        let _ = base.free(t);
    }
    release(bev);
}

/// Forgets `s`'s limits when it is freed (its timer, its place in its group).
pub(crate) fn forget(base: &mut EventBase, s: &Shared) {
    if let Some(lim) = s.limits.take() {
        if let Some(t) = lim.timer {
            let _ = base.free(t);
        }
        if let Some(g) = lim.group {
            g.0.members.set(g.0.members.get().saturating_sub(1));
        }
    }
}
