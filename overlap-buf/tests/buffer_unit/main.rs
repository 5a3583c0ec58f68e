//! Unit tests of the buffer, one file per mechanism, and the helpers they share.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use overlap_buf::{Block, Buffer};

mod add;
mod callbacks;
mod freeze;
mod lines;
mod memory;
mod read;
mod references;
mod remove;
mod reserve;
mod search;

/// A buffer with each part in a block of its own (an empty part makes no block).
fn chained(parts: &[&[u8]]) -> Buffer {
    let mut b = Buffer::new();
    for p in parts {
        b.add_block(Block::from(p.to_vec())).unwrap();
    }
    b
}

/// Counts releases: the counter, and a release function that bumps it.
fn counter() -> (Arc<AtomicUsize>, impl Fn() -> usize) {
    let c = Arc::new(AtomicUsize::new(0));
    let read = Arc::clone(&c);
    (c, move || read.load(Ordering::SeqCst))
}

/// A release function for `add_reference_with` that bumps `c`.
fn bump<T>(c: &Arc<AtomicUsize>) -> impl FnOnce(T) + Send + 'static {
    let c = Arc::clone(c);
    move |_| {
        c.fetch_add(1, Ordering::SeqCst);
    }
}

/// Checks the invariants: no empty block, `len` is the sum of the blocks.
fn check(b: &Buffer) {
    assert!(b.chunks().all(|c| !c.is_empty()));
    assert_eq!(b.chunks().map(<[u8]>::len).sum::<usize>(), b.len());
    assert_eq!(b.chunks().count(), b.block_count());
}
