//! References: zero copy, and their release exactly once wherever they end.
#![allow(unsafe_code)]

use std::sync::atomic::Ordering;
use std::sync::Arc;

use crate::{bump, check, counter};
use overlap_buf::{Block, Buffer, IoBuf};

static DATA: &[u8] = b"static bytes";

#[test]
fn reference_is_not_copied() {
    let mut b = Buffer::new();
    b.add_reference(DATA).unwrap();
    assert_eq!(b.chunks().next().unwrap().as_ptr(), DATA.as_ptr());
    let v = vec![1u8, 2, 3];
    let p = v.as_ptr();
    b.add_reference(v).unwrap();
    assert_eq!(b.chunks().nth(1).unwrap().as_ptr(), p);
    let arr = [9u8; 32]; // bytes inside the owner box itself
    b.add_reference(arr).unwrap();
    assert_eq!(b.len(), DATA.len() + 3 + 32);
    assert_eq!(b.to_vec()[DATA.len() + 3..], [9u8; 32]);
    check(&b);
}

#[test]
fn released_when_the_last_byte_is_drained() {
    let (c, released) = counter();
    let mut b = Buffer::new();
    b.add(b"head").unwrap();
    b.add_reference_with(b"0123456789".to_vec(), bump(&c)).unwrap();
    b.add(b"tail").unwrap();
    b.drain(4 + 9).unwrap();
    assert_eq!(released(), 0, "one byte is left");
    assert_eq!(b.to_vec(), b"9tail");
    b.drain(1).unwrap();
    assert_eq!(released(), 1);
    drop(b);
    assert_eq!(released(), 1, "exactly once");
}

#[test]
fn released_with_the_buffer() {
    let (c, released) = counter();
    let b = {
        let mut b = Buffer::new();
        b.add_reference_with(Arc::<[u8]>::from(&b"shared"[..]), bump(&c)).unwrap();
        b
    };
    assert_eq!(released(), 0);
    drop(b);
    assert_eq!(released(), 1);
}

#[test]
fn released_when_a_popped_block_is_dropped() {
    let (c, released) = counter();
    let mut b = Buffer::new();
    b.add_reference_with(b"abc".to_vec(), bump(&c)).unwrap();
    let blk = b.pop_block().unwrap();
    assert_eq!(released(), 0);
    let p = blk.buf_ptr();
    let moved = vec![blk]; // moving keeps the address (an op owns it)
    assert_eq!(moved[0].buf_ptr(), p);
    assert_eq!(moved[0].as_slice(), b"abc");
    drop(moved);
    assert_eq!(released(), 1);
}

#[test]
fn a_pushed_back_reference_is_released_once() {
    let (c, released) = counter();
    let mut b = Buffer::new();
    b.add_reference_with(b"abcdef".to_vec(), bump(&c)).unwrap();
    let mut blk = b.pop_block().unwrap();
    blk.advance(2);
    b.push_front_block(blk).unwrap();
    assert_eq!(b.to_vec(), b"cdef");
    let blk = b.pop_block().unwrap();
    b.recycle(blk);
    assert_eq!(released(), 1);
}

#[test]
fn released_once_when_moved_between_buffers_and_split() {
    let (c, released) = counter();
    let mut a = Buffer::new();
    a.add_reference_with(b"0123456789".to_vec(), bump(&c)).unwrap();
    let mut b = Buffer::new();
    a.remove_buffer(&mut b, 4).unwrap(); // the boundary block: 4 bytes copied
    assert_eq!(released(), 0);
    b.add_buffer(&mut a).unwrap(); // the rest of the reference moves
    assert_eq!(b.to_vec(), b"0123456789");
    assert_eq!(b.pullup(10).unwrap(), b"0123456789"); // copied out of it
    assert_eq!(released(), 1, "all its bytes left it");
    drop(b);
    drop(a);
    assert_eq!(released(), 1);
}

#[test]
fn empty_reference_is_released_at_once() {
    let (c, released) = counter();
    let mut b = Buffer::new();
    b.add_reference_with(Vec::<u8>::new(), bump(&c)).unwrap();
    assert_eq!(released(), 1);
    assert_eq!(b.block_count(), 0);
}

#[test]
fn reference_drop_order_follows_the_bytes() {
    let order = Arc::new(std::sync::Mutex::new(Vec::new()));
    let mut b = Buffer::new();
    for i in 0..4 {
        let o = Arc::clone(&order);
        b.add_reference_with(vec![i; 3], move |v: Vec<u8>| o.lock().unwrap().push(v[0])).unwrap();
    }
    b.drain(7).unwrap();
    assert_eq!(*order.lock().unwrap(), vec![0, 1]);
    drop(b);
    assert_eq!(*order.lock().unwrap(), vec![0, 1, 2, 3]);
}

#[test]
fn reference_whose_as_ref_panics_is_released() {
    struct Bad(Arc<std::sync::atomic::AtomicUsize>);
    impl AsRef<[u8]> for Bad {
        fn as_ref(&self) -> &[u8] {
            panic!("as_ref fails")
        }
    }
    impl Drop for Bad {
        fn drop(&mut self) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }
    let (c, dropped) = counter();
    let mut b = Buffer::new();
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| b.add_reference(Bad(Arc::clone(&c)))));
    assert!(r.is_err());
    assert_eq!(dropped(), 1, "freed, not leaked");
    assert!(b.is_empty());
}

#[test]
fn inline_reference_bytes_stay_put_while_the_block_moves() {
    let mut b = Buffer::new();
    b.add_reference([7u8; 16]).unwrap(); // the bytes live inside the owner box
    let blk = b.pop_block().unwrap();
    let (p, n) = (blk.buf_ptr(), blk.buf_len());
    fn carry(b: Block) -> Box<Block> {
        Box::new(b) // what an op does: owns the block, moved by value
    }
    let held = carry(blk);
    // SAFETY: `IoBuf` promises the bytes stay valid at `p` while the block lives, however it
    // moves; this reads them as the kernel would, through the pointer taken before the move.
    let seen = unsafe { std::slice::from_raw_parts(p, n) };
    assert_eq!(seen, &[7u8; 16]);
    assert_eq!(held.as_slice(), &[7u8; 16]);
}

#[test]
fn block_from_reference_debug() {
    let mut b = Buffer::new();
    b.add_reference(DATA).unwrap();
    let blk: Block = b.pop_block().unwrap();
    assert_eq!(format!("{blk:?}"), r#"Block { len: 12, kind: "reference" }"#);
}
