//! The event loop's own costs, through its public API, on its default backend:
//!
//! - `timer/add_del`: a timer event added with a timeout and deleted again, with 100k other
//!   timers pending (the wheel's insert and remove, and the event's bookkeeping);
//! - `timer/fire`: ns per timer fired: 1024 timers due at once, one `run_once` runs them all;
//! - `event/add_del` (Unix): a read event on a socketpair added and deleted (the reactor's
//!   registration syscalls included, as libevent's `event_add`/`event_del` pay them);
//! - `dispatch/one` (Unix): one loop iteration that finds one ready descriptor and runs its
//!   callback (a level-triggered persistent read event on a socketpair holding a byte);
//! - `dispatch/activate`: one iteration that runs one event activated by hand (no kernel
//!   readiness: the loop's own path and one zero-timeout wait).
//!
//! Prints the base's memory per pending timer and per idle descriptor event.
//!
//! `cargo bench -p overlap-event --bench event_loop -- --warm-up-time 1 --measurement-time 3`

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::Criterion;
use overlap_event::{EventBase, Flags};

/// Timers kept pending beside the measured ones.
const BACKGROUND: usize = 100_000;

/// A base with `n` timers pending, due over a minute from now.
fn base_with_timers(n: usize) -> EventBase {
    let mut base = EventBase::new().expect("a base");
    for i in 0..n {
        let ev = base.new_timer(Flags::NONE, |_, _, _| {}).expect("a timer");
        base.add(ev, Some(Duration::from_secs(1) + Duration::from_micros(600 * i as u64))).expect("add");
    }
    base
}

fn timers(c: &mut Criterion) {
    let mut base = base_with_timers(BACKGROUND);
    let ev = base.new_timer(Flags::NONE, |_, _, _| {}).expect("a timer");
    c.bench_function("timer/add_del", |b| {
        b.iter(|| {
            base.add(ev, Some(Duration::from_secs(30))).expect("add");
            base.del(black_box(ev)).expect("del");
        })
    });

    const BURST: u32 = 1024;
    let mut base = EventBase::new().expect("a base");
    let evs: Vec<_> = (0..BURST).map(|_| base.new_timer(Flags::NONE, |_, _, _| {}).expect("a timer")).collect();
    let mut group = c.benchmark_group("timer");
    group.throughput(criterion::Throughput::Elements(u64::from(BURST)));
    group.bench_function("fire", |b| {
        b.iter_custom(|iters| {
            let mut spent = Duration::ZERO;
            for _ in 0..iters {
                for &ev in &evs {
                    base.add(ev, Some(Duration::ZERO)).expect("add");
                }
                let t = Instant::now();
                base.run_once().expect("run_once");
                spent += t.elapsed();
                assert_eq!(base.num_pending(), 0, "every timer fired in one iteration");
            }
            spent
        })
    });
    group.finish();
}

fn activate(c: &mut Criterion) {
    let mut base = EventBase::new().expect("a base");
    let ev = base.new_timer(Flags::NONE, |_, _, _| {}).expect("an event");
    c.bench_function("dispatch/activate", |b| {
        b.iter(|| {
            base.activate(ev, Flags::TIMEOUT).expect("activate");
            base.run_once().expect("run_once");
        })
    });
}

#[cfg(unix)]
fn descriptors(c: &mut Criterion) {
    use std::io::Write;
    use std::os::fd::AsRawFd;
    use std::os::unix::net::UnixStream;

    let (a, mut peer) = UnixStream::pair().expect("socketpair");
    a.set_nonblocking(true).expect("nonblocking");
    let mut base = EventBase::new().expect("a base");
    let ev = base.new_event(a.as_raw_fd(), Flags::READ, |_, _, _| {}).expect("an event");
    c.bench_function("event/add_del", |b| {
        b.iter(|| {
            base.add(ev, None).expect("add");
            base.del(black_box(ev)).expect("del");
        })
    });
    base.free(ev).expect("free");

    peer.write_all(b"x").expect("write");
    let ran = std::rc::Rc::new(std::cell::Cell::new(0u64));
    let r = ran.clone();
    let ev = base.new_event(a.as_raw_fd(), Flags::READ | Flags::PERSIST, move |_, _, _| r.set(r.get() + 1));
    base.add(ev.expect("an event"), None).expect("add");
    c.bench_function("dispatch/one", |b| b.iter(|| base.run_once().expect("run_once")));
    assert!(ran.get() > 0, "the callback ran");

    // Memory of idle descriptor events: 1000 socketpairs, a read event on each end (one event
    // per descriptor, as a server has).
    let mut base = EventBase::new().expect("a base");
    let empty = base.memory();
    let pairs: Vec<_> = (0..1000).map(|_| UnixStream::pair().expect("socketpair")).collect();
    for (x, y) in &pairs {
        for fd in [x.as_raw_fd(), y.as_raw_fd()] {
            let ev = base.new_event(fd, Flags::READ | Flags::PERSIST, |_, _, _| {}).expect("an event");
            base.add(ev, None).expect("add");
        }
    }
    let per = (base.memory() - empty) as f64 / (2 * pairs.len()) as f64;
    eprintln!("memory per idle descriptor event (2000 added, one per descriptor): {per:.1} bytes");
}

#[cfg(not(unix))]
fn descriptors(_: &mut Criterion) {}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    let empty = EventBase::new().expect("a base").memory();
    let t = Instant::now();
    let base = base_with_timers(1_000_000);
    eprintln!(
        "memory per pending timer (1M added in {:?}): {:.1} bytes",
        t.elapsed(),
        (base.memory() - empty) as f64 / 1e6
    );
    drop(base);
    timers(&mut c);
    activate(&mut c);
    descriptors(&mut c);
    c.final_summary();
}
