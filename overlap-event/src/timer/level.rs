//! The level table: which list of the wheel a deadline belongs in, and when a list comes due.
//!
//! Time here is in *ticks* of 2^20 ns (about 1.05 ms), counted from the wheel's origin: a
//! deadline `d` (nanoseconds) lies in tick `d >> 20`. Level `L` has 64 slots of 64^L ticks;
//! slot `s` of level `L` holds the deadlines whose tick has `s` in bits `6L .. 6L + 6`. A
//! deadline goes to the level of the highest bit in which its tick differs from the wheel's
//! current tick (`now`), so every list of level `L` lies in the same 64^(L+1)-tick block as
//! `now`, after `now`'s own slot of that level (level 0 may also hold `now`'s own tick).
//! Everything past the top level's block waits in the overflow list.

/// Nanoseconds per tick, as a shift: one tick is 2^20 ns = 1.048576 ms.
pub(super) const TICK_SHIFT: u32 = 20;
/// Bits of a tick each level resolves (64 slots per level).
pub(super) const SLOT_BITS: u32 = 6;
/// Slots per level.
pub(super) const SLOTS: usize = 1 << SLOT_BITS;
/// Levels of the wheel.
pub(super) const LEVELS: usize = 6;
/// Bits of a tick the whole wheel resolves: one turn of the top level is 2^36 ticks.
pub(super) const WHEEL_BITS: u32 = SLOT_BITS * LEVELS as u32;
/// The list id of the overflow list (deadlines beyond the top level's block).
pub(super) const OVERFLOW: usize = LEVELS * SLOTS;
/// Number of lists: 64 per level, then the overflow list.
pub(super) const LISTS: usize = OVERFLOW + 1;

/// The list a deadline `d` (ns since origin) belongs in while the wheel's tick is `now`.
///
/// A deadline in `now`'s tick or before it goes to level 0's slot of `now` (the *current*
/// slot), which every poll scans.
#[inline]
pub(super) fn list_for(now: u64, d: u64) -> usize {
    let tick = d >> TICK_SHIFT;
    if tick <= now {
        return (now & (SLOTS as u64 - 1)) as usize;
    }
    let differ = tick ^ now;
    if differ >> WHEEL_BITS != 0 {
        return OVERFLOW;
    }
    // `differ` is not 0 (`tick > now`); the `| 1` only keeps `ilog2` from ever seeing one.
    let level = ((differ | 1).ilog2() / SLOT_BITS) as usize;
    let slot = (tick >> (SLOT_BITS * level as u32)) & (SLOTS as u64 - 1);
    level * SLOTS + slot as usize
}

/// The tick at which list `id` of a level comes due: the start of its slot in `now`'s block.
#[inline]
pub(super) fn list_start(id: usize, now: u64) -> u64 {
    let level = (id / SLOTS).min(LEVELS - 1) as u32;
    let slot = (id % SLOTS) as u64;
    let shift = SLOT_BITS * level;
    let block = now & !((1u64 << (shift + SLOT_BITS)) - 1);
    block | (slot << shift)
}

/// The first tick of the top-level turn (2^36-tick block) holding deadline `d` (ns): when
/// the overflow list must be looked at again for it.
#[inline]
pub(super) fn turn_start(d: u64) -> u64 {
    (d >> TICK_SHIFT) & !((1u64 << WHEEL_BITS) - 1)
}
