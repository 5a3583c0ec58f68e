//! drain, remove, remove_buffer, pop_block, recycle, io::Read.

use std::io::Read;

use crate::{chained, check};
use overlap_buf::Buffer;

#[test]
fn drain_pops_whole_blocks_and_advances_the_last() {
    let mut b = chained(&[b"abc", b"def", b"ghi"]);
    assert_eq!(b.drain(4).unwrap(), 4);
    assert_eq!(b.block_count(), 2);
    assert_eq!(b.to_vec(), b"efghi");
    assert_eq!(b.drain(0).unwrap(), 0);
    assert_eq!(b.drain(100).unwrap(), 5);
    assert!(b.is_empty());
    assert_eq!(b.block_count(), 0);
    assert_eq!(b.drain(1).unwrap(), 0);
    check(&b);
}

#[test]
fn remove_copies_out_and_drains() {
    let mut b = chained(&[b"ab", b"cd", b"ef"]);
    let mut out = [0u8; 3];
    assert_eq!(b.remove(&mut out).unwrap(), 3);
    assert_eq!(&out, b"abc");
    assert_eq!(b.to_vec(), b"def");
    let mut big = [0u8; 10];
    assert_eq!(b.remove(&mut big).unwrap(), 3);
    assert_eq!(&big[..3], b"def");
    assert_eq!(b.remove(&mut big).unwrap(), 0);
}

#[test]
fn read_trait_removes() {
    let mut b = chained(&[b"hello", b" there"]);
    let mut s = String::new();
    b.read_to_string(&mut s).unwrap();
    assert_eq!(s, "hello there");
    assert!(b.is_empty());
}

#[test]
fn remove_buffer_moves_whole_blocks_and_copies_only_the_boundary() {
    let mut src = chained(&[b"abc", b"def", b"ghi"]);
    let ptrs: Vec<*const u8> = src.chunks().map(<[u8]>::as_ptr).collect();
    let mut dst = Buffer::new();
    assert_eq!(src.remove_buffer(&mut dst, 7).unwrap(), 7);
    assert_eq!(dst.to_vec(), b"abcdefg");
    assert_eq!(src.to_vec(), b"hi");
    let moved: Vec<*const u8> = dst.chunks().take(2).map(<[u8]>::as_ptr).collect();
    assert_eq!(moved, ptrs[..2], "whole blocks moved, not copied");
    assert_eq!(src.chunks().next().unwrap().as_ptr(), ptrs[2].wrapping_add(1));
    // More than there is: everything.
    assert_eq!(src.remove_buffer(&mut dst, 100).unwrap(), 2);
    assert_eq!(dst.to_vec(), b"abcdefghi");
    assert_eq!(src.remove_buffer(&mut dst, 100).unwrap(), 0);
    check(&src);
    check(&dst);
}

#[test]
fn remove_buffer_boundary_goes_into_room() {
    let mut src = Buffer::new();
    src.add(b"0123456789").unwrap();
    let mut dst = Buffer::new();
    dst.add(b"xy").unwrap(); // a 1 KiB block with room
    assert_eq!(src.remove_buffer(&mut dst, 4).unwrap(), 4);
    assert_eq!(dst.block_count(), 1);
    assert_eq!(dst.to_vec(), b"xy0123");
    assert_eq!(src.to_vec(), b"456789");
}

#[test]
fn pop_block_on_empty_and_recycle() {
    let mut b = Buffer::new();
    assert!(b.pop_block().is_none());
    b.add(&[1; 100]).unwrap();
    let blk = b.pop_block().unwrap();
    let slots = b.memory();
    assert!(slots < 1024, "the chain gave its block away, only slots are left");
    b.recycle(blk);
    assert_eq!(b.len(), 0);
    assert_eq!(b.memory(), slots + Buffer::BLOCK_MIN, "the allocation is kept for reuse");
    let space = b.reserve(100).unwrap();
    assert_eq!(space.capacity(), Buffer::BLOCK_MIN);
}
