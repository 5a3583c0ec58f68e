//! `Buffer` against a model: random sequences of operations on two buffers and on two
//! `VecDeque<u8>`s, compared after every step (length, bytes, copyout, searches, ends of line),
//! with lines read by the buffer and by a plain model of libevent's end-of-line rules.
//!
//! Contents come from a small alphabet (`a`, `b`, CR, LF, NUL) so that needles and ends of line
//! occur often and straddle block boundaries. Under miri (far slower) the case count, sizes and
//! steps are cut: 8 cases of at most 16 steps on at most 300 bytes each.

use std::collections::VecDeque;
use std::io::ErrorKind;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use overlap_buf::{Buffer, Eol};
use proptest::prelude::*;

const STYLES: [Eol; 5] = [Eol::Any, Eol::Crlf, Eol::CrlfStrict, Eol::Lf, Eol::Nul];
const ALPHABET: [u8; 6] = [b'a', b'b', b'a', b'\r', b'\n', 0];
/// The largest size of data an operation adds or takes.
const MAX_SIZE: usize = if cfg!(miri) { 300 } else { 5000 };
/// The most steps in one case.
const MAX_STEPS: usize = if cfg!(miri) { 16 } else { 64 };

/// Bytes made from a length and a seed (cheap to generate, and shrinks well).
#[derive(Debug, Clone)]
struct Bytes {
    len: usize,
    seed: u64,
}

impl Bytes {
    fn make(&self) -> Vec<u8> {
        let mut x = self.seed | 1;
        (0..self.len)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                ALPHABET[(x % ALPHABET.len() as u64) as usize]
            })
            .collect()
    }
}

#[derive(Debug, Clone)]
enum Op {
    Add(Bytes),
    AddVec(Bytes),
    AddReference(Bytes),
    Prepend(Bytes),
    Drain(usize),
    Remove(usize),
    /// Moves bytes from the main buffer to the other one.
    RemoveBuffer(usize),
    /// Adds to the other buffer (so that the moves below carry something).
    AddOther(Bytes),
    AddBuffer,
    PrependBuffer,
    /// pop_block, a partial send of `advance` bytes, push_front_block (or recycle).
    PopPush {
        advance: usize,
        recycle: bool,
    },
    ReserveCommit {
        n: usize,
        fill: Bytes,
    },
    Pullup(usize),
    Readln(usize),
    ReadlnMax(usize, usize),
}

/// What is looked at after each step.
#[derive(Debug, Clone)]
struct Probe {
    pos: usize,
    span: usize,
    needle: Bytes,
}

fn size() -> impl Strategy<Value = usize> {
    prop_oneof![0..=16usize, 0..=MAX_SIZE]
}

fn bytes() -> impl Strategy<Value = Bytes> {
    (size(), any::<u64>()).prop_map(|(len, seed)| Bytes { len, seed })
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => bytes().prop_map(Op::Add),
        2 => bytes().prop_map(Op::AddVec),
        2 => bytes().prop_map(Op::AddReference),
        1 => bytes().prop_map(Op::Prepend),
        2 => size().prop_map(Op::Drain),
        1 => size().prop_map(Op::Remove),
        1 => size().prop_map(Op::RemoveBuffer),
        1 => bytes().prop_map(Op::AddOther),
        1 => Just(Op::AddBuffer),
        1 => Just(Op::PrependBuffer),
        1 => (size(), any::<bool>()).prop_map(|(advance, recycle)| Op::PopPush { advance, recycle }),
        2 => (size(), bytes()).prop_map(|(n, fill)| Op::ReserveCommit { n, fill }),
        1 => size().prop_map(Op::Pullup),
        2 => (0..STYLES.len()).prop_map(Op::Readln),
        2 => (0..STYLES.len(), size()).prop_map(|(s, max)| Op::ReadlnMax(s, max)),
    ]
}

fn probe() -> impl Strategy<Value = Probe> {
    (size(), size(), (1..=4usize, any::<u64>())).prop_map(|(pos, span, (len, seed))| Probe {
        pos,
        span,
        needle: Bytes { len, seed },
    })
}

// ---- the model: plain scans over a contiguous copy ----

fn model_search(m: &[u8], what: &[u8], start: usize, end: usize) -> Option<usize> {
    let end = end.min(m.len());
    if start > end || end - start < what.len() {
        return None;
    }
    (start..=end - what.len()).find(|&p| &m[p..p + what.len()] == what)
}

fn model_eol(m: &[u8], start: usize, eol: Eol) -> Option<(usize, usize)> {
    let cr_lf = |c: u8| c == b'\r' || c == b'\n';
    (start..m.len()).find_map(|p| match eol {
        Eol::Lf => (m[p] == b'\n').then_some((p, 1)),
        Eol::Nul => (m[p] == 0).then_some((p, 1)),
        Eol::CrlfStrict => (m[p] == b'\r' && m.get(p + 1) == Some(&b'\n')).then_some((p, 2)),
        Eol::Crlf if m[p] == b'\n' => Some((p, 1)),
        Eol::Crlf => (m[p] == b'\r' && m.get(p + 1) == Some(&b'\n')).then_some((p, 2)),
        Eol::Any => cr_lf(m[p]).then(|| (p, m[p..].iter().take_while(|&&c| cr_lf(c)).count())),
    })
}

/// `Some(Some(line))`, `Some(None)` (wait), or `None` (too long).
fn model_readln_max(m: &[u8], eol: Eol, max: usize) -> Option<Option<(usize, usize)>> {
    match model_eol(m, 0, eol) {
        Some((p, l)) if p <= max => Some(Some((p, l))),
        _ if m.len() <= max => Some(None),
        _ if matches!(eol, Eol::Crlf | Eol::CrlfStrict) && m.len() == max + 1 && m[max] == b'\r' => Some(None),
        _ => None,
    }
}

fn take(model: &mut VecDeque<u8>, n: usize) -> Vec<u8> {
    let n = n.min(model.len());
    model.drain(..n).collect()
}

struct World {
    buf: Buffer,
    other: Buffer,
    model: VecDeque<u8>,
    other_model: VecDeque<u8>,
    added_refs: usize,
    released: Arc<AtomicUsize>,
}

impl World {
    fn apply(&mut self, op: &Op) {
        let (buf, model) = (&mut self.buf, &mut self.model);
        match op {
            Op::Add(b) => {
                let d = b.make();
                buf.add(&d).unwrap();
                model.extend(&d);
            }
            Op::AddVec(b) => {
                let d = b.make();
                model.extend(&d);
                buf.add_vec(d).unwrap();
            }
            Op::AddReference(b) => {
                let d = b.make();
                model.extend(&d);
                let r = Arc::clone(&self.released);
                buf.add_reference_with(d, move |_| {
                    r.fetch_add(1, Ordering::SeqCst);
                })
                .unwrap();
                self.added_refs += 1;
            }
            Op::Prepend(b) => {
                let d = b.make();
                buf.prepend(&d).unwrap();
                for &c in d.iter().rev() {
                    model.push_front(c);
                }
            }
            Op::Drain(n) => {
                assert_eq!(buf.drain(*n).unwrap(), (*n).min(model.len()));
                take(model, *n);
            }
            Op::Remove(n) => {
                let mut out = vec![0u8; *n];
                let got = buf.remove(&mut out).unwrap();
                assert_eq!(&out[..got], &take(model, *n)[..]);
            }
            Op::RemoveBuffer(n) => {
                let moved = buf.remove_buffer(&mut self.other, *n).unwrap();
                assert_eq!(moved, (*n).min(model.len()));
                let d = take(model, *n);
                self.other_model.extend(d);
            }
            Op::AddOther(b) => {
                let d = b.make();
                self.other.add(&d).unwrap();
                self.other_model.extend(d);
            }
            Op::AddBuffer => {
                buf.add_buffer(&mut self.other).unwrap();
                model.extend(self.other_model.drain(..));
            }
            Op::PrependBuffer => {
                buf.prepend_buffer(&mut self.other).unwrap();
                for c in self.other_model.drain(..).rev() {
                    model.push_front(c);
                }
            }
            Op::PopPush { advance, recycle } => match buf.pop_block() {
                None => assert!(model.is_empty()),
                Some(mut blk) => {
                    assert!(!blk.is_empty());
                    let front: Vec<u8> = model.iter().take(blk.len()).copied().collect();
                    assert_eq!(blk.as_slice(), &front[..]);
                    if *recycle {
                        take(model, blk.len());
                        buf.recycle(blk);
                    } else {
                        blk.advance(*advance);
                        take(model, (*advance).min(front.len()));
                        buf.push_front_block(blk).unwrap();
                    }
                }
            },
            Op::ReserveCommit { n, fill } => {
                let mut s = buf.reserve(*n).unwrap();
                assert!(s.capacity() >= *n);
                let d = fill.make();
                let w = s.extend_from_slice(&d);
                assert_eq!(w, d.len().min(s.capacity()));
                assert_eq!(buf.commit(s).unwrap(), w);
                model.extend(&d[..w]);
            }
            Op::Pullup(n) => {
                let want: Vec<u8> = model.iter().take(*n).copied().collect();
                assert_eq!(buf.pullup(*n).unwrap(), &want[..]);
            }
            Op::Readln(s) => {
                let m: Vec<u8> = model.iter().copied().collect();
                let want = model_eol(&m, 0, STYLES[*s]).map(|(p, l)| {
                    let line = take(model, p);
                    take(model, l);
                    line
                });
                assert_eq!(buf.readln(STYLES[*s]), want);
            }
            Op::ReadlnMax(s, max) => {
                let m: Vec<u8> = model.iter().copied().collect();
                let got = buf.readln_max(STYLES[*s], *max);
                match model_readln_max(&m, STYLES[*s], *max) {
                    None => assert_eq!(got.unwrap_err().kind(), ErrorKind::InvalidData),
                    Some(None) => assert_eq!(got.unwrap(), None),
                    Some(Some((p, l))) => {
                        let line = take(model, p);
                        take(model, l);
                        assert_eq!(got.unwrap(), Some(line));
                    }
                }
            }
        }
    }

    fn check(&self, probe: &Probe) {
        let m: Vec<u8> = self.model.iter().copied().collect();
        let (buf, len) = (&self.buf, m.len());
        assert_eq!(buf.len(), len);
        assert_eq!(buf.to_vec(), m);
        assert!(buf.chunks().all(|c| !c.is_empty()));
        assert_eq!(buf.chunks().count(), buf.block_count());
        assert_eq!(self.other.to_vec(), self.other_model.iter().copied().collect::<Vec<u8>>());
        // Positions both inside and around the end.
        let pos = if len == 0 { probe.pos % 3 } else { probe.pos % (len + 2) };
        let mut out = vec![0u8; probe.span.min(600)];
        let n = buf.copyout_from(pos, &mut out);
        let want = m.get(pos..).unwrap_or_default();
        assert_eq!(&out[..n], &want[..want.len().min(out.len())]);
        let needle = probe.needle.make();
        let end = pos.saturating_add(probe.span);
        assert_eq!(buf.search(&needle, pos), model_search(&m, &needle, pos, len), "search {needle:?} @{pos}");
        assert_eq!(buf.search_range(&needle, pos, end), model_search(&m, &needle, pos, end));
        for eol in STYLES {
            assert_eq!(buf.search_eol(pos, eol), model_eol(&m, pos, eol), "{eol:?} @{pos}");
        }
    }
}

fn cases() -> u32 {
    if cfg!(miri) {
        8
    } else {
        ProptestConfig::default().cases
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn buffer_matches_the_model(steps in prop::collection::vec((op(), probe()), 1..MAX_STEPS)) {
        let released = Arc::new(AtomicUsize::new(0));
        let mut w = World {
            buf: Buffer::new(),
            other: Buffer::new(),
            model: VecDeque::new(),
            other_model: VecDeque::new(),
            added_refs: 0,
            released: Arc::clone(&released),
        };
        for (op, probe) in &steps {
            w.apply(op);
            w.check(probe);
        }
        let added = w.added_refs;
        drop(w);
        prop_assert_eq!(released.load(Ordering::SeqCst), added, "every reference released exactly once");
    }
}
