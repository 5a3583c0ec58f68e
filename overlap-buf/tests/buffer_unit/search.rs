//! search, search_range, search_eol.

use crate::chained;
use overlap_buf::{Buffer, Eol};

#[test]
fn search_finds_a_needle_split_over_three_blocks() {
    let b = chained(&[b"xxab", b"c", b"dexx abcdef"]);
    assert_eq!(b.search(b"abcde", 0), Some(2));
    assert_eq!(b.search(b"abcde", 3), Some(10));
    assert_eq!(b.search(b"abcdef", 0), Some(10));
    assert_eq!(b.search(b"abcdef", 11), None);
    assert_eq!(b.search(b"x", 0), Some(0));
    assert_eq!(b.search(b"ab", 100), None);
    assert_eq!(b.search(b"abcdefg", 0), None);
}

#[test]
fn search_with_false_starts_across_blocks() {
    let b = chained(&[b"aa", b"a", b"ab"]);
    assert_eq!(b.search(b"aab", 0), Some(2));
    assert_eq!(b.search(b"aaaab", 0), Some(0));
    assert_eq!(b.search(b"aaaaa", 0), None);
}

#[test]
fn search_range_needs_the_whole_match_inside() {
    let b = chained(&[b"hello ", b"world"]);
    assert_eq!(b.search_range(b"world", 0, 11), Some(6));
    assert_eq!(b.search_range(b"world", 0, 10), None);
    assert_eq!(b.search_range(b"world", 7, 11), None);
    assert_eq!(b.search_range(b"o", 5, 8), Some(7));
    assert_eq!(b.search_range(b"o", 5, 1000), Some(7));
    assert_eq!(b.search_range(b"o", 8, 5), None);
}

#[test]
fn empty_needle_matches_at_start() {
    let b = chained(&[b"ab"]);
    assert_eq!(b.search(b"", 0), Some(0));
    assert_eq!(b.search(b"", 2), Some(2));
    assert_eq!(b.search(b"", 3), None);
    assert_eq!(Buffer::new().search(b"", 0), Some(0));
}

#[test]
fn search_eol_each_style() {
    let b = chained(&[b"a\r", b"\r\n\nb\0"]);
    assert_eq!(b.search_eol(0, Eol::Any), Some((1, 4)));
    assert_eq!(b.search_eol(0, Eol::Crlf), Some((2, 2)));
    assert_eq!(b.search_eol(0, Eol::CrlfStrict), Some((2, 2)));
    assert_eq!(b.search_eol(0, Eol::Lf), Some((3, 1)));
    assert_eq!(b.search_eol(0, Eol::Nul), Some((6, 1)));
    assert_eq!(b.search_eol(4, Eol::Crlf), Some((4, 1)));
    assert_eq!(b.search_eol(4, Eol::Any), Some((4, 1)));
    assert_eq!(b.search_eol(5, Eol::Any), None);
    assert_eq!(b.search_eol(7, Eol::Nul), None);
}

#[test]
fn crlf_skips_lone_crs_and_waits_on_a_trailing_one() {
    let b = chained(&[b"a\rb\r"]);
    assert_eq!(b.search_eol(0, Eol::Crlf), None);
    assert_eq!(b.search_eol(0, Eol::CrlfStrict), None);
    assert_eq!(b.search_eol(0, Eol::Any), Some((1, 1)));
    let b = chained(&[b"a\r", b"\r", b"\n"]);
    assert_eq!(b.search_eol(0, Eol::Crlf), Some((2, 2)));
    assert_eq!(b.search_eol(0, Eol::Any), Some((1, 3)));
}
