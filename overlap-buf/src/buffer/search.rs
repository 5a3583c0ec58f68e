//! Searching across block boundaries: for a byte string, and for an end of line ([`Eol`]).
//!
//! A position is walked as a cursor `At { idx, off, abs }` (block index, offset in its bytes,
//! absolute position), so a match that starts in one block and ends two blocks later is
//! compared in place, without copying:
//!
//! ```text
//!   blocks:  ┌──────────┐ ┌──┐ ┌─────────┐
//!            │ ......ab │ │cd│ │ef...... │    search(b"abcdef") = 6
//!            └──────────┘ └──┘ └─────────┘
//!   scan for 'a' block by block, then compare "abcdef" from that cursor on
//! ```
//!
//! End-of-line styles are libevent's `EVBUFFER_EOL_*`, exactly:
//!
//! | style | matches | length |
//! |---|---|---|
//! | `Any` | the first CR or LF, and every CR and LF right after it | 1 or more |
//! | `Crlf` | the first LF, or the first CR right before an LF (a lone CR is data) | 1 or 2 |
//! | `CrlfStrict` | the first CR LF pair | 2 |
//! | `Lf` | the first LF | 1 |
//! | `Nul` | the first NUL byte | 1 |

use super::chain::Buffer;

/// An end-of-line style for [`Buffer::readln`] (libevent's `evbuffer_eol_style`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Eol {
    /// Any run of CR and LF characters, of any length (`EVBUFFER_EOL_ANY`).
    Any,
    /// An LF, optionally preceded by a CR (`EVBUFFER_EOL_CRLF`).
    Crlf,
    /// Exactly CR LF (`EVBUFFER_EOL_CRLF_STRICT`).
    CrlfStrict,
    /// A single LF (`EVBUFFER_EOL_LF`).
    Lf,
    /// A single NUL byte (`EVBUFFER_EOL_NUL`).
    Nul,
}

/// A byte's place: block index, offset in the block's bytes, absolute position.
#[derive(Clone, Copy)]
struct At {
    idx: usize,
    off: usize,
    abs: usize,
}

impl Buffer {
    /// The first position at or after `start` where `what` occurs.
    pub fn search(&self, what: &[u8], start: usize) -> Option<usize> {
        self.search_range(what, start, self.len)
    }

    /// The first position at or after `start` where `what` occurs lying entirely in
    /// `[start, end)` (`end` is cut to the length). An empty `what` matches at `start` when
    /// `start <= end`.
    pub fn search_range(&self, what: &[u8], start: usize, end: usize) -> Option<usize> {
        let end = end.min(self.len);
        if start > end || end - start < what.len() {
            return None;
        }
        let Some((&first, rest)) = what.split_first() else { return Some(start) };
        // The last position a match may start at, plus one.
        let last = end - what.len() + 1;
        let mut at = self.at(start)?;
        loop {
            at = self.find_from(at, last, |b| b == first)?;
            if self.matches_after(at, rest) {
                return Some(at.abs);
            }
            at = self.step(at)?;
        }
    }

    /// The first end of line at or after `start`: `(its position, its length)`.
    pub fn search_eol(&self, start: usize, eol: Eol) -> Option<(usize, usize)> {
        self.find_eol(start, usize::MAX, eol)
    }

    /// Like [`search_eol`](Self::search_eol), for an end of line starting at most at `limit`.
    pub(super) fn find_eol(&self, start: usize, limit: usize, eol: Eol) -> Option<(usize, usize)> {
        let end = limit.saturating_add(1).min(self.len);
        match eol {
            Eol::Lf => self.find_byte(start, end, b'\n').map(|p| (p, 1)),
            Eol::Nul => self.find_byte(start, end, 0).map(|p| (p, 1)),
            Eol::CrlfStrict => self.search_range(b"\r\n", start, limit.saturating_add(2)).map(|p| (p, 2)),
            Eol::Any => {
                let at = self.find_from(self.at(start)?, end, is_cr_or_lf)?;
                Some((at.abs, self.run_len(at, is_cr_or_lf)))
            }
            Eol::Crlf => {
                let mut at = self.at(start)?;
                loop {
                    at = self.find_from(at, end, is_cr_or_lf)?;
                    if self.byte(at) == b'\n' {
                        return Some((at.abs, 1));
                    }
                    let next = self.step(at)?;
                    if self.byte(next) == b'\n' {
                        return Some((at.abs, 2));
                    }
                    at = next;
                }
            }
        }
    }

    fn find_byte(&self, start: usize, end: usize, byte: u8) -> Option<usize> {
        self.find_from(self.at(start)?, end, |b| b == byte).map(|at| at.abs)
    }

    /// The cursor of position `pos`, if `pos < len`.
    fn at(&self, pos: usize) -> Option<At> {
        let mut abs = 0;
        for (idx, b) in self.blocks.iter().enumerate() {
            if pos < abs + b.len() {
                return Some(At { idx, off: pos - abs, abs: pos });
            }
            abs += b.len();
        }
        None
    }

    /// The cursor one byte further, if there is a byte there.
    #[inline]
    fn step(&self, at: At) -> Option<At> {
        let len = self.blocks.get(at.idx)?.len();
        if at.off + 1 < len {
            return Some(At { off: at.off + 1, abs: at.abs + 1, ..at });
        }
        (at.idx + 1 < self.blocks.len()).then_some(At { idx: at.idx + 1, off: 0, abs: at.abs + 1 })
    }

    #[inline]
    fn byte(&self, at: At) -> u8 {
        self.blocks.get(at.idx).and_then(|b| b.as_slice().get(at.off)).copied().unwrap_or(0)
    }

    /// The first byte at or after `from` and before position `end` that `pred` accepts.
    fn find_from(&self, from: At, end: usize, pred: impl Fn(u8) -> bool) -> Option<At> {
        let mut abs = from.abs - from.off;
        for (idx, b) in self.blocks.iter().enumerate().skip(from.idx) {
            if abs >= end {
                return None;
            }
            let off0 = if idx == from.idx { from.off } else { 0 };
            let stop = b.len().min(end - abs);
            if off0 < stop {
                if let Some(i) = b.as_slice()[off0..stop].iter().position(|&c| pred(c)) {
                    return Some(At { idx, off: off0 + i, abs: abs + off0 + i });
                }
            }
            abs += b.len();
        }
        None
    }

    /// Whether the bytes right after `at` are `rest` (spanning blocks as needed).
    fn matches_after(&self, at: At, mut rest: &[u8]) -> bool {
        let mut off = at.off + 1;
        for b in self.blocks.iter().skip(at.idx) {
            if rest.is_empty() {
                return true;
            }
            let s = b.as_slice().get(off..).unwrap_or_default();
            off = 0;
            let n = s.len().min(rest.len());
            if s[..n] != rest[..n] {
                return false;
            }
            rest = &rest[n..];
        }
        rest.is_empty()
    }

    /// How many bytes from `at` on `pred` accepts in a row.
    fn run_len(&self, at: At, pred: impl Fn(u8) -> bool) -> usize {
        let mut n = 0;
        let mut off = at.off;
        for b in self.blocks.iter().skip(at.idx) {
            let s = b.as_slice().get(off..).unwrap_or_default();
            off = 0;
            let run = s.iter().take_while(|&&c| pred(c)).count();
            n += run;
            if run < s.len() {
                break;
            }
        }
        n
    }
}

#[inline]
fn is_cr_or_lf(b: u8) -> bool {
    b == b'\r' || b == b'\n'
}
