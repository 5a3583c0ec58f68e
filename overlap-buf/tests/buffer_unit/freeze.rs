//! Freezing the front and the end.

use std::io::ErrorKind::PermissionDenied;

use crate::{bump, chained, counter};
use overlap_buf::{Block, Buffer, Eol};

#[test]
fn a_frozen_front_refuses_taking_and_prepending() {
    let mut b = chained(&[b"line\n", b"more"]);
    b.freeze(true);
    assert!(b.is_frozen(true));
    assert!(!b.is_frozen(false));
    assert_eq!(b.drain(1).unwrap_err().kind(), PermissionDenied);
    assert_eq!(b.remove(&mut [0; 2]).unwrap_err().kind(), PermissionDenied);
    assert_eq!(b.remove_buffer(&mut Buffer::new(), 2).unwrap_err().kind(), PermissionDenied);
    assert_eq!(b.prepend(b"x").unwrap_err().kind(), PermissionDenied);
    assert_eq!(b.prepend_buffer(&mut chained(&[b"y"])).unwrap_err().kind(), PermissionDenied);
    assert_eq!(b.push_front_block(Block::from(b"z".to_vec())).unwrap_err().kind(), PermissionDenied);
    assert!(b.pop_block().is_none());
    assert_eq!(b.readln(Eol::Lf), None);
    assert_eq!(b.readln_max(Eol::Lf, 10).unwrap_err().kind(), PermissionDenied);
    // The end is still open, and reading without taking works.
    b.add(b"!").unwrap();
    assert_eq!(b.to_vec(), b"line\nmore!");
    assert_eq!(b.pullup(7).unwrap(), b"line\nmo");
    b.unfreeze(true);
    assert_eq!(b.readln(Eol::Lf).unwrap(), b"line");
}

#[test]
fn a_frozen_end_refuses_adding() {
    let mut b = chained(&[b"data"]);
    b.freeze(false);
    assert!(b.is_frozen(false));
    assert_eq!(b.add(b"x").unwrap_err().kind(), PermissionDenied);
    assert_eq!(b.add(b"").unwrap_err().kind(), PermissionDenied);
    assert_eq!(b.add_vec(vec![1]).unwrap_err().kind(), PermissionDenied);
    assert_eq!(b.add_block(Block::from(vec![1])).unwrap_err().kind(), PermissionDenied);
    assert_eq!(b.add_buffer(&mut chained(&[b"y"])).unwrap_err().kind(), PermissionDenied);
    assert_eq!(b.reserve(10).unwrap_err().kind(), PermissionDenied);
    let (c, released) = counter();
    assert_eq!(b.add_reference_with(&b"r"[..], bump(&c)).unwrap_err().kind(), PermissionDenied);
    assert_eq!(released(), 1, "a refused reference is released at once");
    let mut dst = Buffer::new();
    dst.freeze(false);
    assert_eq!(b.remove_buffer(&mut dst, 1).unwrap_err().kind(), PermissionDenied);
    // The front still gives.
    assert_eq!(b.drain(2).unwrap(), 2);
    b.unfreeze(false);
    b.add(b"!").unwrap();
    assert_eq!(b.to_vec(), b"ta!");
}

#[test]
fn commit_after_the_end_froze_fails() {
    let mut b = Buffer::new();
    let mut s = b.reserve(4).unwrap();
    s.extend_from_slice(b"abcd");
    b.freeze(false);
    assert_eq!(b.commit(s).unwrap_err().kind(), PermissionDenied);
    assert!(b.is_empty());
}

#[test]
fn moves_check_the_other_buffers_front() {
    let mut src = chained(&[b"abc"]);
    src.freeze(true);
    let mut dst = Buffer::new();
    assert_eq!(dst.add_buffer(&mut src).unwrap_err().kind(), PermissionDenied);
    assert_eq!(dst.prepend_buffer(&mut src).unwrap_err().kind(), PermissionDenied);
    assert_eq!(src.len(), 3);
    src.unfreeze(true);
    src.freeze(false); // a frozen end does not stop giving
    dst.add_buffer(&mut src).unwrap();
    assert_eq!(dst.to_vec(), b"abc");
}
