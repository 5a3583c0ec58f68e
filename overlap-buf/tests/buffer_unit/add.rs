//! add, add_vec, add_block, add_buffer, prepend, prepend_buffer, push_front_block, io::Write.

use std::io::Write;

use crate::{chained, check};
use overlap_buf::{Block, Buffer, IoBuf};

#[test]
fn add_small_fills_the_tail_block() {
    let mut b = Buffer::new();
    b.add(b"hello").unwrap();
    b.add(b" ").unwrap();
    b.add(b"world").unwrap();
    assert_eq!(b.block_count(), 1);
    assert_eq!(b.to_vec(), b"hello world");
    assert_eq!(b.len(), 11);
    b.add(b"").unwrap();
    assert_eq!(b.len(), 11);
    check(&b);
}

#[test]
fn add_fills_room_first_then_one_block_for_the_rest() {
    let mut b = Buffer::new();
    b.add(&[1; 10]).unwrap();
    let room = Buffer::BLOCK_MIN - 10;
    let big = vec![2u8; room + 10_000];
    b.add(&big).unwrap();
    assert_eq!(b.block_count(), 2);
    let chunks: Vec<usize> = b.chunks().map(<[u8]>::len).collect();
    assert_eq!(chunks, vec![Buffer::BLOCK_MIN, 10_000]);
    let mut want = vec![1u8; 10];
    want.extend_from_slice(&big);
    assert_eq!(b.to_vec(), want);
    check(&b);
}

#[test]
fn add_moves_bytes_down_when_cheap() {
    let mut b = Buffer::new();
    b.add(&[7; 1000]).unwrap(); // one 1 KiB block
    b.drain(990).unwrap();
    b.add(&[8; 500]).unwrap(); // 10 live bytes moved down, then it fits
    assert_eq!(b.block_count(), 1);
    assert_eq!(&b.to_vec()[..10], &[7; 10]);
    assert_eq!(&b.to_vec()[10..], &[8; 500][..]);
}

#[test]
fn add_vec_adopts_large_and_copies_small() {
    let mut b = Buffer::new();
    let v = vec![5u8; 3000];
    let p = v.as_ptr();
    b.add_vec(v).unwrap();
    assert_eq!(b.block_count(), 1);
    assert_eq!(b.chunks().next().unwrap().as_ptr(), p, "adopted, not copied");
    b.add(&[1; 10]).unwrap(); // a new block (the vec had no room)
    b.add_vec(vec![9u8; 20]).unwrap(); // copied into the tail's room
    assert_eq!(b.block_count(), 2);
    b.add_vec(Vec::new()).unwrap();
    assert_eq!(b.len(), 3030);
    check(&b);
}

#[test]
fn add_block_keeps_its_address_and_skips_empty() {
    let mut b = Buffer::new();
    let blk = Block::from(b"abc".to_vec());
    let p = blk.buf_ptr();
    b.add_block(blk).unwrap();
    b.add_block(Block::from(Vec::new())).unwrap();
    assert_eq!(b.block_count(), 1);
    assert_eq!(b.chunks().next().unwrap().as_ptr(), p);
}

#[test]
fn add_buffer_moves_blocks_without_copying() {
    let mut dst = chained(&[b"ab"]);
    let mut src = chained(&[b"cd", b"ef"]);
    let ptrs: Vec<*const u8> = src.chunks().map(<[u8]>::as_ptr).collect();
    dst.add_buffer(&mut src).unwrap();
    assert_eq!(dst.to_vec(), b"abcdef");
    assert!(src.is_empty());
    assert_eq!(src.block_count(), 0);
    let moved: Vec<*const u8> = dst.chunks().skip(1).map(<[u8]>::as_ptr).collect();
    assert_eq!(moved, ptrs);
    // Into an empty buffer: the chain is swapped.
    let mut empty = Buffer::new();
    empty.add_buffer(&mut dst).unwrap();
    assert_eq!(empty.to_vec(), b"abcdef");
    assert!(dst.is_empty());
    // From an empty buffer: nothing.
    empty.add_buffer(&mut dst).unwrap();
    assert_eq!(empty.len(), 6);
    check(&empty);
    check(&dst);
}

#[test]
fn prepend_uses_drained_room_or_a_new_block() {
    let mut b = Buffer::new();
    b.prepend(b"world").unwrap();
    b.prepend(b"hello ").unwrap();
    assert_eq!(b.to_vec(), b"hello world");
    assert_eq!(b.block_count(), 2);
    let mut c = Buffer::new();
    c.add(b"xxxxtail").unwrap();
    c.drain(4).unwrap();
    c.prepend(b"HEAD").unwrap(); // fits in the drained room
    assert_eq!(c.block_count(), 1);
    assert_eq!(c.to_vec(), b"HEADtail");
    c.prepend(b"").unwrap();
    assert_eq!(c.len(), 8);
    check(&b);
    check(&c);
}

#[test]
fn prepend_buffer_puts_blocks_in_front_in_order() {
    let mut dst = chained(&[b"ef"]);
    let mut src = chained(&[b"ab", b"cd"]);
    dst.prepend_buffer(&mut src).unwrap();
    assert_eq!(dst.to_vec(), b"abcdef");
    assert!(src.is_empty());
    let mut empty = Buffer::new();
    empty.prepend_buffer(&mut dst).unwrap();
    assert_eq!(empty.to_vec(), b"abcdef");
    check(&empty);
}

#[test]
fn pop_and_push_front_block_round_trip() {
    let mut b = chained(&[b"first", b"second"]);
    let mut blk = b.pop_block().unwrap();
    assert_eq!(blk.as_slice(), b"first");
    assert_eq!(b.to_vec(), b"second");
    blk.advance(2); // a partial send took 2 bytes
    assert_eq!(blk.as_slice(), b"rst");
    b.push_front_block(blk).unwrap();
    assert_eq!(b.to_vec(), b"rstsecond");
    let mut gone = b.pop_block().unwrap();
    gone.advance(100);
    assert!(gone.is_empty());
    b.push_front_block(gone).unwrap(); // empty: dropped
    assert_eq!(b.block_count(), 1);
    assert_eq!(b.pop_block().unwrap().len(), 6);
    assert!(b.pop_block().is_none());
    check(&b);
}

#[test]
fn write_trait_adds() {
    let mut b = Buffer::new();
    let n = 12;
    write!(b, "{n}-ab").unwrap();
    b.flush().unwrap();
    assert_eq!(b.to_vec(), b"12-ab");
}

#[test]
fn block_debug_and_iobuf() {
    let blk = Block::from(b"xyz".to_vec());
    assert_eq!(format!("{blk:?}"), r#"Block { len: 3, kind: "owned" }"#);
    assert_eq!(blk.buf_len(), 3);
    assert_eq!(blk.buf_capacity(), 3);
    assert_eq!(IoBuf::as_slice(&blk), b"xyz");
    let moved = Box::new(blk);
    assert_eq!(moved.as_slice(), b"xyz");
    fn is_send<T: Send>() {}
    is_send::<Block>();
    is_send::<overlap_buf::Space>();
}
