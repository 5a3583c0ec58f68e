//! readln and readln_max for each end-of-line style.

use crate::{chained, check};
use overlap_buf::{Buffer, Eol};

fn line(b: &mut Buffer, eol: Eol) -> Option<String> {
    b.readln(eol).map(|l| String::from_utf8(l).unwrap())
}

#[test]
fn readln_lf() {
    let mut b = chained(&[b"one\ntw", b"o\r\n", b"\n"]);
    assert_eq!(line(&mut b, Eol::Lf).as_deref(), Some("one"));
    assert_eq!(line(&mut b, Eol::Lf).as_deref(), Some("two\r"));
    assert_eq!(line(&mut b, Eol::Lf).as_deref(), Some(""));
    assert_eq!(line(&mut b, Eol::Lf), None);
    assert!(b.is_empty());
}

#[test]
fn readln_crlf() {
    let mut b = chained(&[b"one\r\ntwo\nthree\r", b"\r\nfour\r"]);
    assert_eq!(line(&mut b, Eol::Crlf).as_deref(), Some("one"));
    assert_eq!(line(&mut b, Eol::Crlf).as_deref(), Some("two"));
    assert_eq!(line(&mut b, Eol::Crlf).as_deref(), Some("three\r"));
    assert_eq!(line(&mut b, Eol::Crlf), None, "a CR at the end is incomplete");
    assert_eq!(b.to_vec(), b"four\r");
    b.add(b"\n").unwrap();
    assert_eq!(line(&mut b, Eol::Crlf).as_deref(), Some("four"));
    assert!(b.is_empty());
    check(&b);
}

#[test]
fn readln_crlf_strict() {
    let mut b = chained(&[b"a\nb\r", b"\nc\r\r\n"]);
    assert_eq!(line(&mut b, Eol::CrlfStrict).as_deref(), Some("a\nb"));
    assert_eq!(line(&mut b, Eol::CrlfStrict).as_deref(), Some("c\r"));
    assert_eq!(line(&mut b, Eol::CrlfStrict), None);
    b.add(b"d\n").unwrap();
    assert_eq!(line(&mut b, Eol::CrlfStrict), None);
}

#[test]
fn readln_any() {
    let mut b = chained(&[b"a\r\n\r", b"\nb\rc\n"]);
    assert_eq!(line(&mut b, Eol::Any).as_deref(), Some("a"));
    assert_eq!(b.to_vec(), b"b\rc\n", "the whole run of CR and LF went");
    assert_eq!(line(&mut b, Eol::Any).as_deref(), Some("b"));
    assert_eq!(line(&mut b, Eol::Any).as_deref(), Some("c"));
    assert_eq!(line(&mut b, Eol::Any), None);
    b.add(b"\r\n").unwrap();
    assert_eq!(line(&mut b, Eol::Any).as_deref(), Some(""));
    assert!(b.is_empty());
}

#[test]
fn readln_nul() {
    let mut b = chained(&[b"ab\0", b"\0c"]);
    assert_eq!(line(&mut b, Eol::Nul).as_deref(), Some("ab"));
    assert_eq!(line(&mut b, Eol::Nul).as_deref(), Some(""));
    assert_eq!(line(&mut b, Eol::Nul), None);
    assert_eq!(b.to_vec(), b"c");
}

#[test]
fn readln_max_takes_a_line_within_the_limit() {
    let mut b = chained(&[b"abcd\r", b"\nrest"]);
    assert_eq!(b.readln_max(Eol::Crlf, 4).unwrap().unwrap(), b"abcd");
    assert_eq!(b.to_vec(), b"rest");
    assert_eq!(b.readln_max(Eol::Crlf, 4).unwrap(), None, "4 bytes, no end of line yet");
}

#[test]
fn readln_max_too_long_leaves_the_buffer_intact() {
    for eol in [Eol::Any, Eol::Crlf, Eol::CrlfStrict, Eol::Lf, Eol::Nul] {
        let mut b = chained(&[b"abc", b"defg"]);
        let err = b.readln_max(eol, 6).unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::InvalidData);
        assert_eq!(b.to_vec(), b"abcdefg", "{eol:?}: nothing lost");
        assert_eq!(b.readln_max(eol, 7).unwrap(), None, "{eol:?}");
    }
    let mut b = chained(&[b"abcdefg\nxy\n"]);
    assert!(b.readln_max(Eol::Lf, 6).is_err(), "a line further on does not help");
    assert_eq!(b.readln_max(Eol::Lf, 7).unwrap().unwrap(), b"abcdefg");
}

#[test]
fn readln_max_waits_on_a_cr_right_after_the_limit() {
    let mut b = chained(&[b"abcd\r"]);
    assert_eq!(b.readln_max(Eol::Crlf, 4).unwrap(), None);
    assert_eq!(b.readln_max(Eol::CrlfStrict, 4).unwrap(), None);
    assert_eq!(b.readln_max(Eol::Any, 4).unwrap().unwrap(), b"abcd");
    let mut b = chained(&[b"abcd\r"]);
    assert!(b.readln_max(Eol::Lf, 4).is_err());
    assert!(b.readln_max(Eol::Crlf, 3).is_err());
    b.add(b"\n").unwrap();
    assert_eq!(b.readln_max(Eol::Crlf, 4).unwrap().unwrap(), b"abcd");
}
