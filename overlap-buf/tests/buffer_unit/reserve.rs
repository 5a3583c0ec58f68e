//! reserve and commit, and Space as an IoBufMut.
#![allow(unsafe_code)]

use std::io::ErrorKind;

use crate::check;
use overlap_buf::{Buffer, IoBuf, IoBufMut, Space};

/// What a receive does: write at `buf_mut_ptr() + buf_len()`, then `set_buf_len`.
fn recv_into(space: &mut Space, data: &[u8]) -> usize {
    let start = space.buf_len();
    let n = data.len().min(space.buf_capacity() - start);
    // SAFETY: `n` bytes from `start` are inside the capacity the space promises is writable.
    unsafe { std::ptr::copy_nonoverlapping(data.as_ptr(), space.buf_mut_ptr().add(start), n) };
    // SAFETY: the bytes up to `start + n` are written.
    unsafe { space.set_buf_len(start + n) };
    n
}

#[test]
fn reserve_gives_uninitialised_room_at_a_stable_address() {
    let mut b = Buffer::new();
    let mut s = b.reserve(100).unwrap();
    assert_eq!(s.len(), 0);
    assert!(s.is_empty());
    assert!(s.capacity() >= 100);
    assert_eq!(s.spare_capacity_mut().len(), s.capacity());
    let p = s.buf_ptr();
    let moved = Box::new(s);
    assert_eq!(moved.buf_ptr(), p);
    assert_eq!(format!("{:?}", Buffer::new().reserve(0).unwrap()), "Space { len: 0, capacity: 0 }");
}

#[test]
fn space_is_written_through_a_pointer_taken_before_it_moved() {
    let mut b = Buffer::new();
    let mut s = b.reserve(64).unwrap();
    let p = s.buf_mut_ptr();
    let mut held = Box::new(s); // an op owns it while the kernel writes
                                // SAFETY: `IoBufMut` promises the room stays writable at `p` however the space moves.
    unsafe { std::ptr::write_bytes(p, b'k', 5) };
    // SAFETY: five bytes were just written.
    unsafe { held.set_buf_len(5) };
    assert_eq!(b.commit(*held).unwrap(), 5);
    assert_eq!(b.to_vec(), b"kkkkk");
}

#[test]
fn commit_of_a_large_fill_adopts_the_allocation() {
    let mut b = Buffer::new();
    let mut s = b.reserve(8192).unwrap();
    let p = s.buf_ptr();
    assert_eq!(recv_into(&mut s, &[3u8; 5000]), 5000);
    assert_eq!(recv_into(&mut s, &[4u8; 5000]), 3192, "partial: only the room");
    assert_eq!(b.commit(s).unwrap(), 8192);
    assert_eq!(b.block_count(), 1);
    assert_eq!(b.chunks().next().unwrap().as_ptr(), p);
    assert_eq!(b.len(), 8192);
    check(&b);
}

#[test]
fn commit_of_a_small_fill_copies_into_the_tail_and_keeps_the_allocation() {
    let mut b = Buffer::new();
    b.add(b"head:").unwrap();
    let mut s = b.reserve(10).unwrap();
    let p = s.buf_ptr();
    assert_eq!(s.extend_from_slice(b"abc"), 3);
    assert_eq!(s.filled(), b"abc");
    assert_eq!(b.commit(s).unwrap(), 3);
    assert_eq!(b.block_count(), 1);
    assert_eq!(b.to_vec(), b"head:abc");
    let again = b.reserve(10).unwrap();
    assert_eq!(again.buf_ptr(), p, "the same allocation, reused");
}

#[test]
fn commit_of_nothing_adds_nothing() {
    let mut b = Buffer::new();
    let s = b.reserve(10).unwrap();
    let p = s.buf_ptr();
    assert_eq!(b.commit(s).unwrap(), 0);
    assert!(b.is_empty());
    assert_eq!(b.reserve(1).unwrap().buf_ptr(), p);
}

#[test]
fn reserve_zero_is_an_empty_probe() {
    let mut b = Buffer::new();
    let s = b.reserve(0).unwrap();
    assert_eq!(s.capacity(), 0);
    assert_eq!(b.memory(), 0);
    assert_eq!(b.commit(s).unwrap(), 0);
}

#[test]
fn huge_reserve_is_an_error_not_an_abort() {
    let mut b = Buffer::new();
    for n in [usize::MAX, isize::MAX as usize + 1] {
        let err = b.reserve(n).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::OutOfMemory);
    }
    assert!(b.is_empty());
}

#[test]
fn space_extend_stops_at_capacity_and_clears() {
    let mut b = Buffer::new();
    let mut s = b.reserve(1).unwrap();
    let cap = s.capacity();
    let big = vec![1u8; cap + 10];
    assert_eq!(s.extend_from_slice(&big), cap);
    assert_eq!(s.extend_from_slice(b"x"), 0);
    s.clear();
    assert_eq!(s.len(), 0);
    let spare = s.spare_capacity_mut();
    spare[0].write(9);
    // SAFETY: the first byte was just written.
    unsafe { s.set_len(1) };
    assert_eq!(s.filled(), &[9]);
}

#[test]
fn limit_holds_a_receive_to_the_limit_and_never_grows_the_room() {
    let mut b = Buffer::new();
    let mut s = b.reserve(1).unwrap();
    let full = s.capacity();
    assert!(full >= 4096);
    s.limit(10);
    assert_eq!((s.capacity(), s.buf_capacity(), s.spare_capacity_mut().len()), (10, 10, 10));
    assert_eq!(recv_into(&mut s, &[7u8; 64]), 10, "a receive takes no more than the limit");
    s.limit(5); // below what is written: the written bytes stay
    assert_eq!(s.capacity(), 10);
    s.limit(usize::MAX); // never more than the allocation
    assert_eq!(s.capacity(), full);
    assert_eq!(s.extend_from_slice(b"abc"), 3);
    assert_eq!(b.commit(s).unwrap(), 13);
    assert_eq!(b.to_vec(), [[7u8; 10].as_slice(), b"abc"].concat());
    // The allocation kept for the next reserve has its whole room again.
    let again = b.reserve(1).unwrap();
    assert!(again.capacity() >= 4096);
}

#[test]
fn reserve_commit_drain_cycle_reuses_one_allocation() {
    let mut b = Buffer::new();
    let mut first = None;
    for round in 0..10u8 {
        let mut s = b.reserve(Buffer::SPARE_MAX).unwrap();
        first.get_or_insert(s.buf_ptr());
        assert_eq!(Some(s.buf_ptr()), first, "round {round}");
        s.extend_from_slice(&[round; 2000]);
        b.commit(s).unwrap();
        assert_eq!(b.drain(2000).unwrap(), 2000);
    }
}
