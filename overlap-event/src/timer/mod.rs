//! Timers: a hierarchical timing wheel (O(1) add and cancel), filled in by the wheel's own
//! change.
