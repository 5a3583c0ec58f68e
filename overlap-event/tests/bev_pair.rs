//! Conformance: buffered-event pairs and filters (libevent's `bufferevent_pair*`,
//! `bufferevent_filter*`, `bufferevent_filter_data_stuck`), on every available backend.

mod util;

use std::cell::RefCell;
use std::io::ErrorKind;
use std::rc::Rc;

use overlap_event::{Buffer, BufferEvent, FilterResult, Flags, Flush, LoopEnd, Method, What};
use util::*;

fn bytes(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i * 7 % 251) as u8).collect()
}

/// Moves everything (a filter that changes nothing).
fn pass(src: &mut Buffer, dst: &mut Buffer, limit: Option<usize>, _: Flush) -> FilterResult {
    let n = limit.unwrap_or(usize::MAX).min(src.len());
    src.remove_buffer(dst, n).unwrap();
    FilterResult::Ok
}

/// What one end writes, the other reads, both ways.
fn pair_both_ways(b: Method) {
    let mut base = base(b);
    let (x, y) = BufferEvent::pair(&mut base).unwrap();
    x.enable(&mut base, Flags::READ).unwrap();
    y.enable(&mut base, Flags::READ).unwrap();
    assert!(x.partner().is_some() && x.fd().is_none());
    y.on_read(|_, bev| {
        let mut input = std::mem::take(&mut *bev.input());
        input.add(b" back").unwrap();
        bev.write_buffer(&mut input).unwrap();
    });
    let got = log::<Vec<u8>>();
    let g = got.clone();
    x.on_read(move |base, bev| {
        g.borrow_mut().push(bev.input().to_vec());
        bev.free(base).unwrap();
    });
    x.write(b"there and").unwrap();
    assert_eq!(dispatch(&mut base), LoopEnd::NoEvents);
    assert_eq!(*got.borrow(), vec![b"there and back".to_vec()]);
    assert!(y.partner().is_none(), "a freed end is no partner");
    y.free(&mut base).unwrap();
    assert_eq!(base.num_events(), 0);
}

/// The reader's high watermark bounds what moves; draining lets the rest come, in order.
fn pair_high_watermark(b: Method) {
    let mut base = base(b);
    let (x, y) = BufferEvent::pair(&mut base).unwrap();
    y.set_read_watermarks(&mut base, 0, Some(100)).unwrap();
    y.enable(&mut base, Flags::READ).unwrap();
    let data = bytes(10_000);
    x.write(&data).unwrap();
    let got = Rc::new(RefCell::new(Vec::new()));
    let g = got.clone();
    y.on_read(move |base, bev| {
        let mut input = bev.input();
        assert!(input.len() <= 100, "the input holds {} bytes, over its high watermark", input.len());
        let mut chunk = [0u8; 37];
        let n = input.remove(&mut chunk).unwrap();
        g.borrow_mut().extend_from_slice(&chunk[..n]);
        let done = g.borrow().len() == 10_000;
        drop(input);
        if done {
            base.loopbreak();
        }
    });
    // Each read takes only part of what came; the rest must come without new writes.
    let y2 = y.clone();
    let g = got.clone();
    let poke = base
        .new_timer(Flags::PERSIST, move |base, _, _| {
            let mut input = y2.input();
            let mut chunk = [0u8; 50];
            let n = input.remove(&mut chunk).unwrap();
            g.borrow_mut().extend_from_slice(&chunk[..n]);
            if g.borrow().len() == 10_000 {
                base.loopbreak();
            }
        })
        .unwrap();
    base.add(poke, Some(std::time::Duration::from_millis(1))).unwrap();
    assert_eq!(dispatch(&mut base), LoopEnd::Break);
    assert!(*got.borrow() == data);
}

/// Nothing moves until the reader enables reading.
fn pair_needs_read_enabled(b: Method) {
    let mut base = base(b);
    let (x, y) = BufferEvent::pair(&mut base).unwrap();
    x.write(b"held").unwrap();
    assert_eq!(base.run_nonblocking().unwrap(), LoopEnd::NoEvents);
    assert_eq!(x.output().len(), 4);
    y.enable(&mut base, Flags::READ).unwrap();
    base.run_nonblocking().unwrap();
    assert_eq!(y.input().to_vec(), b"held");
    assert!(x.output().is_empty());
    assert_eq!(y.connect(&mut base, "127.0.0.1:1".parse().unwrap()).unwrap_err().kind(), ErrorKind::Unsupported);
    x.free(&mut base).unwrap();
    x.write(b"x").unwrap_err();
    y.write(b"nobody hears").unwrap();
    base.run_nonblocking().unwrap();
    assert_eq!(y.output().len(), 12, "no partner: it stays");
    y.free(&mut base).unwrap();
}

/// `flush(Finished)` tells the other end EOF, after the data.
fn pair_finished_is_eof(b: Method) {
    let mut base = base(b);
    let (x, y) = BufferEvent::pair(&mut base).unwrap();
    y.enable(&mut base, Flags::READ).unwrap();
    let seen = log::<String>();
    let s = seen.clone();
    y.on_read(move |_, bev| s.borrow_mut().push(format!("read {}", bev.input().len())));
    let s = seen.clone();
    y.on_event(move |_, _, what| s.borrow_mut().push(format!("{what:?}")));
    x.write(b"12345").unwrap();
    assert!(x.flush(&mut base, Flags::WRITE, Flush::Finished).unwrap());
    assert_eq!(*seen.borrow(), vec!["read 5".to_string(), "READING|EOF".to_string()]);
    x.free(&mut base).unwrap();
    y.free(&mut base).unwrap();
}

/// What `bev` reads (each read drained whole: "read N") and its event (which ends the loop).
fn reads_then_end(bev: &BufferEvent) -> Log<String> {
    let seen = log::<String>();
    let s = seen.clone();
    bev.on_read(move |_, bev| {
        let mut input = bev.input();
        let n = input.len();
        input.drain(n).unwrap();
        s.borrow_mut().push(format!("read {n}"));
    });
    let s = seen.clone();
    bev.on_event(move |base, _, what| {
        s.borrow_mut().push(format!("{what:?}"));
        base.loopbreak();
    });
    seen
}

/// What `reads_then_end` logs for 100 bytes read ten at a time, then the end of the stream.
fn ten_reads_of_ten_then_eof() -> Vec<String> {
    let mut want = vec!["read 10".to_string(); 10];
    want.push("READING|EOF".to_string());
    want
}

/// `flush(Finished)` with more written than the reader's high watermark lets in, and with
/// the reader's reading disabled: the EOF waits until every byte written before it has come.
fn pair_finished_waits_for_the_data(b: Method) {
    let mut base = base(b);
    let (x, y) = BufferEvent::pair(&mut base).unwrap();
    y.set_read_watermarks(&mut base, 0, Some(10)).unwrap();
    let seen = reads_then_end(&y);
    x.write(&bytes(100)).unwrap();
    x.flush(&mut base, Flags::WRITE, Flush::Finished).unwrap();
    assert!(seen.borrow().is_empty(), "[{b}] reading is disabled: no data, no EOF yet");
    y.enable(&mut base, Flags::READ).unwrap();
    dispatch(&mut base);
    assert_eq!(*seen.borrow(), ten_reads_of_ten_then_eof(), "[{b}]");
    x.free(&mut base).unwrap();
    y.free(&mut base).unwrap();
}

/// An output filter transforms what is written (upper case over a pair).
fn filter_transforms(b: Method) {
    let mut base = base(b);
    let (x, y) = BufferEvent::pair(&mut base).unwrap();
    let upper = |src: &mut Buffer, dst: &mut Buffer, _: Option<usize>, _: Flush| {
        let bytes = src.to_vec();
        src.drain(bytes.len()).unwrap();
        dst.add(&bytes.to_ascii_uppercase()).unwrap();
        FilterResult::Ok
    };
    let f = BufferEvent::filter(&mut base, &x, pass, upper, true).unwrap();
    assert!(f.underlying().is_some());
    y.enable(&mut base, Flags::READ).unwrap();
    f.enable(&mut base, Flags::READ).unwrap();
    let wrote = counter();
    let w = wrote.clone();
    f.on_write(move |_, _| w.set(w.get() + 1));
    y.on_read(|_, bev| {
        let got = bev.input().to_vec();
        bev.input().drain(got.len()).unwrap();
        bev.write(&got).unwrap(); // back through the filter's input side, unchanged
    });
    let got = log::<Vec<u8>>();
    let g = got.clone();
    f.on_read(move |base, bev| {
        g.borrow_mut().push(bev.input().to_vec());
        bev.free(base).unwrap();
    });
    f.write(b"shout this").unwrap();
    dispatch(&mut base);
    assert_eq!(*got.borrow(), vec![b"SHOUT THIS".to_vec()]);
    assert!(wrote.get() >= 1, "the write callback ran once the output went out");
    assert!(x.is_freed(), "free_under freed the pair's end");
    y.free(&mut base).unwrap();
}

/// An input filter that moves whole 7-byte records, under a high watermark of 1000 (not a
/// multiple of 7): it stops 6 bytes short of the watermark with records left below, yet
/// everything arrives, and the filter's input never holds more than twice the watermark.
fn filter_units_larger_than_the_room_left(b: Method) {
    const TOTAL: usize = 7 * 5000;
    let mut base = base(b);
    let (x, y) = BufferEvent::pair(&mut base).unwrap();
    let records = |src: &mut Buffer, dst: &mut Buffer, limit: Option<usize>, _: Flush| {
        let fit = src.len().min(limit.unwrap_or(usize::MAX));
        src.remove_buffer(dst, fit - fit % 7).unwrap();
        FilterResult::Ok
    };
    let f = BufferEvent::filter(&mut base, &y, records, pass, true).unwrap();
    f.set_read_watermarks(&mut base, 0, Some(1000)).unwrap();
    f.enable(&mut base, Flags::READ).unwrap();
    let got = log::<u8>();
    let most = counter();
    let (g, m) = (got.clone(), most.clone());
    f.on_read(move |base, bev| {
        let mut input = bev.input();
        m.set(m.get().max(input.len()));
        g.borrow_mut().extend(input.to_vec());
        let n = input.len();
        input.drain(n).unwrap();
        if g.borrow().len() == TOTAL {
            base.loopbreak();
        }
    });
    let data = bytes(TOTAL);
    x.write(&data).unwrap();
    dispatch(&mut base);
    assert!(*got.borrow() == data, "[{b}] {} of {TOTAL} bytes came", got.borrow().len());
    assert!(most.get() < 2000, "[{b}] the filter's input held {} bytes", most.get());
    f.free(&mut base).unwrap();
    x.free(&mut base).unwrap();
}

/// The end of the stream below a filter whose input is full (high watermark 10) waits for
/// the data: 100 bytes come through ten at a time as they are drained, then the EOF.
fn filter_eof_after_the_data(b: Method) {
    let mut base = base(b);
    let (x, y) = BufferEvent::pair(&mut base).unwrap();
    y.enable(&mut base, Flags::READ).unwrap();
    let f = BufferEvent::filter(&mut base, &y, pass, pass, true).unwrap();
    f.set_read_watermarks(&mut base, 0, Some(10)).unwrap();
    f.enable(&mut base, Flags::READ).unwrap();
    let seen = reads_then_end(&f);
    x.write(&bytes(100)).unwrap();
    x.flush(&mut base, Flags::WRITE, Flush::Finished).unwrap();
    dispatch(&mut base);
    assert_eq!(*seen.borrow(), ten_reads_of_ten_then_eof(), "[{b}]");
    f.free(&mut base).unwrap();
    x.free(&mut base).unwrap();
}

/// An input filter that moves ten bytes per call still delivers everything that came at
/// once (libevent's `bufferevent_filter_data_stuck`).
fn filter_data_stuck(b: Method) {
    let mut base = base(b);
    let (x, y) = BufferEvent::pair(&mut base).unwrap();
    let ten = |src: &mut Buffer, dst: &mut Buffer, limit: Option<usize>, _: Flush| {
        let n = 10.min(src.len()).min(limit.unwrap_or(usize::MAX));
        src.remove_buffer(dst, n).unwrap();
        FilterResult::Ok
    };
    let f = BufferEvent::filter(&mut base, &y, ten, pass, false).unwrap();
    f.enable(&mut base, Flags::READ).unwrap();
    let got = Rc::new(RefCell::new(Vec::new()));
    let g = got.clone();
    f.on_read(move |_, bev| {
        let mut input = bev.input();
        g.borrow_mut().extend(input.to_vec());
        let n = input.len();
        input.drain(n).unwrap();
    });
    let data = bytes(1000);
    x.write(&data).unwrap();
    assert_eq!(dispatch(&mut base), LoopEnd::NoEvents);
    assert!(*got.borrow() == data, "{} of 1000 bytes came through", got.borrow().len());
    f.free(&mut base).unwrap();
    assert!(!y.is_freed(), "without free_under the buffered event below stays");
    x.free(&mut base).unwrap();
    y.free(&mut base).unwrap();
}

/// A filter that holds back incomplete lines gives them up on EOF (flush Finished).
fn filter_holds_back_until_eof(b: Method) {
    let mut base = base(b);
    let (x, y) = BufferEvent::pair(&mut base).unwrap();
    let lines = |src: &mut Buffer, dst: &mut Buffer, _: Option<usize>, mode: Flush| {
        let end = match src.search(b"\n", 0) {
            Some(at) => at + 1,
            None if mode != Flush::Normal => src.len(),
            None => return FilterResult::NeedMore,
        };
        src.remove_buffer(dst, end).unwrap();
        FilterResult::Ok
    };
    let f = BufferEvent::filter(&mut base, &y, lines, pass, true).unwrap();
    f.enable(&mut base, Flags::READ).unwrap();
    let seen = log::<String>();
    let s = seen.clone();
    f.on_read(move |_, bev| {
        let line = bev.input().to_vec();
        bev.input().drain(line.len()).unwrap();
        s.borrow_mut().push(String::from_utf8(line).unwrap());
    });
    let s = seen.clone();
    f.on_event(move |base, bev, what| {
        s.borrow_mut().push(format!("{what:?}"));
        bev.free(base).unwrap();
    });
    x.write(b"one\ntw").unwrap();
    base.run_nonblocking().unwrap();
    assert_eq!(*seen.borrow(), vec!["one\n".to_string()], "the partial line is held back");
    x.write(b"o and a half").unwrap();
    x.flush(&mut base, Flags::WRITE, Flush::Finished).unwrap();
    dispatch(&mut base);
    assert_eq!(*seen.borrow(), vec!["one\n".to_string(), "two and a half".to_string(), "READING|EOF".to_string()]);
    x.free(&mut base).unwrap();
}

/// A filter that finds bad data: ERROR|READING.
fn filter_error(b: Method) {
    let mut base = base(b);
    let (x, y) = BufferEvent::pair(&mut base).unwrap();
    let picky = |src: &mut Buffer, dst: &mut Buffer, _: Option<usize>, _: Flush| {
        if src.search(b"bad", 0).is_some() {
            return FilterResult::Error;
        }
        dst.add_buffer(src).unwrap();
        FilterResult::Ok
    };
    let f = BufferEvent::filter(&mut base, &y, picky, pass, true).unwrap();
    f.enable(&mut base, Flags::READ).unwrap();
    let seen = log::<What>();
    let s = seen.clone();
    f.on_event(move |base, bev, what| {
        s.borrow_mut().push(what);
        bev.free(base).unwrap();
    });
    x.write(b"this is bad").unwrap();
    dispatch(&mut base);
    assert_eq!(*seen.borrow(), vec![What::READING | What::ERROR]);
    x.free(&mut base).unwrap();
}

/// A filter over a socket: an echo through it, and EOF passed on after the data.
fn filter_over_socket(b: Method) {
    use std::io::{Read, Write};
    let mut base = base(b);
    let (a, mut peer) = pair();
    let under = BufferEvent::socket(&mut base, a).unwrap();
    let f = BufferEvent::filter(&mut base, &under, pass, pass, true).unwrap();
    f.enable(&mut base, Flags::READ).unwrap();
    assert_eq!(f.fd(), under.fd());
    f.on_read(|_, bev| {
        let mut input = std::mem::take(&mut *bev.input());
        bev.write_buffer(&mut input).unwrap();
    });
    let seen = log::<What>();
    let s = seen.clone();
    f.on_event(move |base, bev, what| {
        s.borrow_mut().push(what);
        bev.free(base).unwrap();
    });
    peer.write_all(b"through the filter").unwrap();
    let mut buf = [0u8; 18];
    base.run_once().unwrap();
    peer.set_nonblocking(false).unwrap();
    peer.read_exact(&mut buf).unwrap();
    assert_eq!(&buf, b"through the filter");
    drop(peer);
    dispatch(&mut base);
    assert_eq!(*seen.borrow(), vec![What::READING | What::EOF]);
    assert!(under.is_freed());
}

fn main() {
    run_engine_suite(
        "bev_pair",
        cases![
            pair_both_ways,
            pair_high_watermark,
            pair_needs_read_enabled,
            pair_finished_is_eof,
            pair_finished_waits_for_the_data,
            filter_transforms,
            filter_data_stuck,
            filter_units_larger_than_the_room_left,
            filter_eof_after_the_data,
            filter_holds_back_until_eof,
            filter_error,
            filter_over_socket,
        ],
        false,
    );
}
