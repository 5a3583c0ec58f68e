//! Memory: what an idle buffer keeps, reuse in steady state, shrink.

use crate::chained;
use overlap_buf::{Buffer, IoBuf};

#[test]
fn the_buffer_is_small_and_an_empty_one_allocates_nothing() {
    assert!(std::mem::size_of::<Buffer>() <= 96, "{}", std::mem::size_of::<Buffer>());
    let b = Buffer::new();
    assert_eq!(b.memory(), 0);
    assert!(format!("{b:?}").starts_with("Buffer { len: 0"));
}

#[test]
fn an_emptied_buffer_keeps_at_most_one_modest_allocation() {
    let mut b = Buffer::new();
    b.add(&[1u8; 100]).unwrap();
    b.add(&vec![2u8; 100_000]).unwrap();
    assert!(b.memory() >= 100_000);
    b.drain(usize::MAX).unwrap();
    let slots = b.memory() - Buffer::BLOCK_MIN;
    assert!(slots <= 8 * std::mem::size_of::<crate::Block>(), "{}", b.memory());
    b.shrink();
    assert_eq!(b.memory(), 0);
}

#[test]
fn shrink_keeps_the_bytes() {
    let mut b = chained(&[b"abc", b"def"]);
    b.shrink();
    assert_eq!(b.to_vec(), b"abcdef");
}

#[test]
fn many_blocks_drained_give_their_slots_back() {
    let mut b = Buffer::new();
    for _ in 0..100 {
        b.add_vec(vec![7u8; 600]).unwrap();
    }
    assert_eq!(b.block_count(), 100);
    b.drain(usize::MAX).unwrap();
    assert!(b.memory() <= Buffer::SPARE_MAX, "{}", b.memory());
}

#[test]
fn add_drain_steady_state_reuses_the_same_allocation() {
    let mut b = Buffer::new();
    b.add(&[0u8; 64]).unwrap();
    let p = b.chunks().next().unwrap().as_ptr();
    b.drain(64).unwrap();
    let idle = b.memory();
    for i in 0..100u8 {
        b.add(&[i; 64]).unwrap();
        assert_eq!(b.chunks().next().unwrap().as_ptr(), p);
        assert_eq!(b.drain(64).unwrap(), 64);
        assert_eq!(b.memory(), idle);
    }
}

#[test]
fn echo_through_add_buffer_hands_allocations_back_to_the_reader() {
    // input: reserve → commit; input → output by add_buffer; output: sent and drained.
    let mut input = Buffer::new();
    let mut output = Buffer::new();
    let mut seen = Vec::new();
    for round in 0..20u8 {
        let mut s = input.reserve(Buffer::SPARE_MAX).unwrap();
        let p = s.buf_ptr();
        if !seen.contains(&p) {
            seen.push(p);
        }
        s.extend_from_slice(&[round; 64]);
        input.commit(s).unwrap();
        output.add_buffer(&mut input).unwrap();
        assert_eq!(output.drain(64).unwrap(), 64);
    }
    assert!(seen.len() <= 2, "{} allocations for 20 rounds", seen.len());
}

#[test]
fn spare_taken_and_given() {
    let mut b = Buffer::new();
    assert_eq!(b.spare_capacity(), 0);
    assert!(b.take_spare().capacity() == 0, "an empty buffer keeps nothing");
    b.give_spare(Vec::with_capacity(Buffer::SPARE_MAX * 2));
    assert_eq!(b.spare_capacity(), 0, "too large to keep");
    let mut v = Vec::with_capacity(2048);
    v.extend_from_slice(b"old bytes");
    b.give_spare(v);
    assert_eq!(b.spare_capacity(), 2048);
    let space = b.reserve(100).unwrap();
    assert_eq!(space.len(), 0, "the spare's old bytes are gone");
    b.commit(space).unwrap();
    b.drain(0).unwrap();
    let v = b.take_spare();
    assert_eq!(b.spare_capacity(), 0);
    drop(v);
}

#[test]
fn trim_keeps_one_slot() {
    let mut b = Buffer::new();
    b.add(&[1u8; 10]).unwrap();
    b.drain(10).unwrap();
    b.trim();
    assert!(b.memory() <= 64, "an idle trimmed buffer keeps one chain slot at most: {}", b.memory());
    b.add(&[2u8; 10]).unwrap();
    b.add_vec(vec![3u8; 5000]).unwrap();
    b.add_vec(vec![4u8; 5000]).unwrap();
    let n = b.len();
    b.drain(n).unwrap();
    b.trim();
    assert_eq!(b.memory(), 0, "a chain that grew is freed when trimmed empty");
    b.shrink();
    assert_eq!(b.memory(), 0);
}
