//! Conformance: rate limits per buffered event and per group (libevent's
//! `bufferevent_ratelim`), measured as bytes over time. Only lower bounds on the time are
//! asserted — a limiter may be slowed by a loaded machine, never hurried — and the upper
//! bound is the suites' generous patience.

mod util;

use std::io::{ErrorKind, Read, Write};
use std::time::{Duration, Instant};

use overlap_event::{BufferEvent, EventBase, Flags, Method, RateGroup, RateLimit};
use util::*;

const TICK: Duration = Duration::from_millis(50);
const RATE: u64 = 32 * 1024;
const TOTAL: usize = 320 * 1024;

/// The least time `bytes` take at `RATE` per `TICK` (the bucket starts with one tick's worth).
fn least(bytes: usize) -> Duration {
    let ticks = (bytes as u64).div_ceil(RATE).saturating_sub(1);
    TICK * ticks as u32
}

fn limit() -> RateLimit {
    RateLimit::new(RATE, RATE, RATE, RATE, TICK).unwrap()
}

/// Reads `TOTAL` bytes through `bev`, counting them; the loop ends when all came.
fn count_reads(base: &mut EventBase, bev: &BufferEvent, want: usize) -> std::rc::Rc<std::cell::Cell<usize>> {
    let got = counter();
    let g = got.clone();
    bev.on_read(move |base, bev| {
        let n = bev.input().len();
        bev.input().drain(n).unwrap();
        g.set(g.get() + n);
        if g.get() >= want {
            bev.free(base).unwrap();
        }
    });
    bev.enable(base, Flags::READ).unwrap();
    got
}

fn read_limit(b: Method) {
    let mut base = base(b);
    let (a, mut peer) = pair();
    let bev = BufferEvent::socket(&mut base, a).unwrap();
    let t0 = Instant::now(); // before the bucket's first tick starts
    bev.set_rate_limit(&mut base, Some(limit())).unwrap();
    let writer = std::thread::spawn(move || {
        peer.set_nonblocking(false).unwrap();
        peer.write_all(&vec![3u8; TOTAL]).unwrap();
        peer
    });
    let got = count_reads(&mut base, &bev, TOTAL);
    dispatch(&mut base);
    let took = t0.elapsed();
    drop(writer.join().unwrap());
    assert_eq!(got.get(), TOTAL);
    assert!(took >= least(TOTAL), "{TOTAL} bytes read in {took:?}: faster than the limit allows ({:?})", least(TOTAL));
}

fn write_limit(b: Method) {
    let mut base = base(b);
    let (a, mut peer) = pair();
    let bev = BufferEvent::socket(&mut base, a).unwrap();
    let t0 = Instant::now();
    bev.set_rate_limit(&mut base, Some(limit())).unwrap();
    bev.write(&vec![5u8; TOTAL]).unwrap();
    bev.on_write(|base, bev| bev.free(base).unwrap());
    let reader = std::thread::spawn(move || {
        peer.set_nonblocking(false).unwrap();
        let mut all = Vec::new();
        peer.read_to_end(&mut all).unwrap();
        all.len()
    });
    dispatch(&mut base);
    let took = t0.elapsed();
    assert_eq!(reader.join().unwrap(), TOTAL);
    assert!(took >= least(TOTAL), "{TOTAL} bytes written in {took:?}: faster than the limit allows");
}

/// Two members of one group share its rate: together they take as long as one would with
/// all the bytes.
fn group_limit(b: Method) {
    let mut base = base(b);
    let t0 = Instant::now();
    let group = RateGroup::new(&mut base, limit());
    let mut writers = Vec::new();
    let mut counts = Vec::new();
    for _ in 0..2 {
        let (a, mut peer) = pair();
        let bev = BufferEvent::socket(&mut base, a).unwrap();
        bev.set_rate_group(&mut base, Some(&group)).unwrap();
        writers.push(std::thread::spawn(move || {
            peer.set_nonblocking(false).unwrap();
            peer.write_all(&vec![1u8; TOTAL / 2]).unwrap();
            peer
        }));
        counts.push(count_reads(&mut base, &bev, TOTAL / 2));
    }
    assert_eq!(group.members(), 2);
    dispatch(&mut base);
    let took = t0.elapsed();
    for w in writers {
        drop(w.join().unwrap());
    }
    assert!(counts.iter().all(|c| c.get() == TOTAL / 2));
    assert_eq!(group.totals().0, TOTAL as u64);
    assert_eq!(group.members(), 0, "freed members leave their group");
    // The group's minimum share lets each member overdraw a little; allow one tick for it.
    assert!(took + TICK >= least(TOTAL), "{TOTAL} bytes through the group in {took:?}: faster than its limit");
}

/// A limit lifted lets the rest go at once; bad configurations are refused.
fn lifted_and_refused(b: Method) {
    let mut base = base(b);
    let kind = |e: std::io::Error| e.kind();
    assert_eq!(kind(RateLimit::new(0, 10, 10, 10, TICK).unwrap_err()), ErrorKind::InvalidInput);
    assert_eq!(kind(RateLimit::new(10, 5, 10, 10, TICK).unwrap_err()), ErrorKind::InvalidInput);
    assert_eq!(kind(RateLimit::new(10, 10, 10, 10, Duration::ZERO).unwrap_err()), ErrorKind::InvalidInput);
    assert_eq!(kind(RateLimit::new(10, u64::MAX, 10, 10, TICK).unwrap_err()), ErrorKind::InvalidInput);
    let too_long = RateLimit::MAX_TICK + Duration::from_millis(1);
    assert_eq!(kind(RateLimit::new(10, 10, 10, 10, too_long).unwrap_err()), ErrorKind::InvalidInput);
    assert_eq!(kind(RateLimit::new(10, 10, 10, 10, Duration::MAX).unwrap_err()), ErrorKind::InvalidInput);
    let (x, y) = BufferEvent::pair(&mut base).unwrap();
    assert_eq!(kind(x.set_rate_limit(&mut base, Some(limit())).unwrap_err()), ErrorKind::Unsupported);
    let mut other = util::base(b);
    let foreign = RateGroup::new(&mut other, limit());
    assert_eq!(foreign.set_min_share(0).unwrap_err().kind(), ErrorKind::InvalidInput);
    let (a, mut peer) = pair();
    let bev = BufferEvent::socket(&mut base, a).unwrap();
    assert_eq!(kind(bev.set_rate_group(&mut base, Some(&foreign)).unwrap_err()), ErrorKind::InvalidInput);
    // One byte per tick: without lifting, 64 KiB would take an hour.
    let slow = RateLimit::new(1, 1, 1, 1, Duration::from_millis(50)).unwrap();
    bev.set_rate_limit(&mut base, Some(slow)).unwrap();
    let writer = std::thread::spawn(move || {
        peer.set_nonblocking(false).unwrap();
        peer.write_all(&vec![9u8; 64 * 1024]).unwrap();
        peer
    });
    let got = count_reads(&mut base, &bev, 64 * 1024);
    let b2 = bev.clone();
    base.once(None, Flags::TIMEOUT, Some(Duration::from_millis(120)), move |base, _| {
        b2.set_rate_limit(base, None).unwrap();
    })
    .unwrap();
    dispatch(&mut base);
    drop(writer.join().unwrap());
    assert_eq!(got.get(), 64 * 1024);
    x.free(&mut base).unwrap();
    y.free(&mut base).unwrap();
}

/// The longest tick, on a buffered event's own limit and on a group's: the first tick's
/// tokens go, the rest waits for the next tick (49 days away), and nothing overflows.
fn longest_tick(b: Method) {
    let mut base = base(b);
    let long = RateLimit::new(10, 10, 10, 10, RateLimit::MAX_TICK).unwrap();
    let group = RateGroup::new(&mut base, long);
    group.set_min_share(1).unwrap(); // else a member may take 64 bytes of the group's 10
    for grouped in [false, true] {
        let (a, mut peer) = pair();
        let bev = BufferEvent::socket(&mut base, a).unwrap();
        match grouped {
            false => bev.set_rate_limit(&mut base, Some(long)).unwrap(),
            true => bev.set_rate_group(&mut base, Some(&group)).unwrap(),
        }
        bev.write(&[7u8; 100]).unwrap();
        let watchdog = Watchdog::new(&base);
        let mut got = 0;
        while got < 10 {
            assert!(!watchdog.fired(), "[{b}] grouped {grouped}: {got} bytes came");
            base.loopexit(Some(Duration::from_millis(5))).unwrap();
            base.dispatch().unwrap();
            got += drain(&mut peer).0;
        }
        base.loopexit(Some(Duration::from_millis(50))).unwrap();
        base.dispatch().unwrap();
        got += drain(&mut peer).0;
        assert_eq!(got, 10, "[{b}] grouped {grouped}: one tick's tokens");
        assert_eq!(bev.output().len(), 90, "[{b}] grouped {grouped}: the rest waits");
        bev.free(&mut base).unwrap();
    }
}

fn main() {
    run_engine_suite(
        "bev_ratelim",
        cases![read_limit, write_limit, group_limit, lifted_and_refused, longest_tick],
        false,
    );
}
