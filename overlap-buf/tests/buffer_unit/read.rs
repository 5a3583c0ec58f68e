//! copyout, copyout_from, chunks, peek, io_slices, to_vec, pullup.

use std::io::IoSlice;

use crate::{chained, check};
use overlap_buf::Buffer;

#[test]
fn copyout_from_spans_blocks_and_leaves_bytes() {
    let b = chained(&[b"abc", b"de", b"fghij"]);
    let mut out = [0u8; 4];
    assert_eq!(b.copyout(&mut out), 4);
    assert_eq!(&out, b"abcd");
    assert_eq!(b.copyout_from(2, &mut out), 4);
    assert_eq!(&out, b"cdef");
    assert_eq!(b.copyout_from(8, &mut out), 2);
    assert_eq!(&out[..2], b"ij");
    assert_eq!(b.copyout_from(10, &mut out), 0);
    assert_eq!(b.copyout_from(usize::MAX, &mut out), 0);
    assert_eq!(b.len(), 10);
}

#[test]
fn chunks_and_peek() {
    let b = chained(&[b"abc", b"de", b"fghij"]);
    let chunks: Vec<&[u8]> = b.chunks().collect();
    assert_eq!(chunks, vec![&b"abc"[..], b"de", b"fghij"]);
    let p: Vec<&[u8]> = b.peek(2, 5).collect();
    assert_eq!(p, vec![&b"c"[..], b"de", b"fg"]);
    assert_eq!(b.peek(3, 2).collect::<Vec<_>>(), vec![&b"de"[..]]);
    assert_eq!(b.peek(9, 100).collect::<Vec<_>>(), vec![&b"j"[..]]);
    assert_eq!(b.peek(10, 1).count(), 0);
    assert_eq!(b.peek(0, 0).count(), 0);
    assert_eq!(b.peek(usize::MAX, usize::MAX).count(), 0);
    assert_eq!(Buffer::new().chunks().count(), 0);
}

#[test]
fn io_slices_respects_both_limits() {
    let b = chained(&[b"abc", b"de", b"fghij"]);
    let mut iov = [IoSlice::new(&[]); 2];
    assert_eq!(b.io_slices(&mut iov, usize::MAX), (2, 5));
    assert_eq!(&*iov[0], b"abc");
    assert_eq!(&*iov[1], b"de");
    let mut iov = [IoSlice::new(&[]); 8];
    assert_eq!(b.io_slices(&mut iov, 4), (2, 4));
    assert_eq!(&*iov[1], b"d", "the last slice is cut to the byte limit");
    assert_eq!(b.io_slices(&mut iov, 0), (0, 0));
    assert_eq!(b.io_slices(&mut iov, 100), (3, 10));
    assert_eq!(b.io_slices(&mut [], 100), (0, 0));
    assert_eq!(Buffer::new().io_slices(&mut iov, 100), (0, 0));
}

#[test]
fn pullup_within_the_first_block_copies_nothing() {
    let mut b = chained(&[b"abcdef", b"gh"]);
    let p = b.chunks().next().unwrap().as_ptr();
    let got = b.pullup(4).unwrap();
    assert_eq!(got, b"abcd");
    assert_eq!(got.as_ptr(), p);
    assert_eq!(b.block_count(), 2);
}

#[test]
fn pullup_across_blocks_into_a_new_block() {
    let mut b = chained(&[b"ab", b"cd", b"ef", b"gh"]);
    assert_eq!(b.pullup(5).unwrap(), b"abcde");
    assert_eq!(b.to_vec(), b"abcdefgh");
    assert_eq!(b.block_count(), 3);
    assert_eq!(b.chunks().next().unwrap(), b"abcde");
    assert_eq!(b.pullup(usize::MAX).unwrap(), b"abcdefgh");
    assert_eq!(b.block_count(), 1);
    assert_eq!(b.len(), 8);
    check(&b);
}

#[test]
fn pullup_into_the_first_blocks_room() {
    let mut b = Buffer::new();
    b.add(b"abc").unwrap(); // 1 KiB block with room
    b.add_reference(&b"defgh"[..]).unwrap();
    b.add(b"ij").unwrap();
    let p = b.chunks().next().unwrap().as_ptr();
    let got = b.pullup(6).unwrap();
    assert_eq!(got, b"abcdef");
    assert_eq!(got.as_ptr(), p, "copied into the first block's room");
    assert_eq!(b.to_vec(), b"abcdefghij");
    check(&b);
}

#[test]
fn pullup_of_nothing() {
    let mut b = Buffer::new();
    assert_eq!(b.pullup(10).unwrap(), b"");
    b.add(b"x").unwrap();
    assert_eq!(b.pullup(0).unwrap(), b"");
}

#[test]
fn to_vec_of_empty_and_chained() {
    assert!(Buffer::new().to_vec().is_empty());
    assert_eq!(chained(&[b"a", b"", b"b"]).to_vec(), b"ab");
}
