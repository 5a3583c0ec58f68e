//! Conformance: buffered events over connected sockets (libevent's `bufferevent/*` cases:
//! echo, watermarks, timeouts, EOF, errors, freeing from callbacks), on every available
//! backend.

mod util;

use std::cell::{Cell, RefCell};
use std::io::{ErrorKind, Read, Write};
use std::rc::Rc;
use std::time::Duration;

use overlap_event::{Buffer, BufferEvent, Engine, EventBase, Flags, LoopEnd, Method, What};
use util::*;

/// Deterministic bytes that differ at every offset of a long stream.
fn pattern(len: usize, seed: u32) -> Vec<u8> {
    let mut x = seed.wrapping_mul(2654435761).wrapping_add(1);
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect()
}

/// Two buffered events on the two ends of a connected pair, reading enabled on both.
fn bev_pair(base: &mut EventBase) -> (BufferEvent, BufferEvent) {
    let (a, b) = pair();
    let a = BufferEvent::socket(base, a).unwrap();
    let b = BufferEvent::socket(base, b).unwrap();
    a.enable(base, Flags::READ).unwrap();
    b.enable(base, Flags::READ).unwrap();
    (a, b)
}

/// Makes `server` echo: its input moves to its output (whole blocks, no byte copied).
fn echo_on(server: &BufferEvent) {
    server.on_read(|_, bev| {
        let mut input = std::mem::take(&mut *bev.input());
        bev.write_buffer(&mut input).unwrap();
    });
}

/// Writes `data` to `bev`'s output at once, in pieces of the sizes `next` gives.
fn write_in_pieces(bev: &BufferEvent, data: &[u8], mut next: impl FnMut() -> usize) {
    let mut off = 0;
    while off < data.len() {
        let end = (off + next()).min(data.len());
        bev.write(&data[off..end]).unwrap();
        off = end;
    }
}

/// What `client` reads, drained as it comes; the loop breaks once `want` bytes came.
fn collect(client: &BufferEvent, want: usize) -> Rc<RefCell<Vec<u8>>> {
    let got = Rc::new(RefCell::new(Vec::new()));
    let g = got.clone();
    client.on_read(move |base, bev| {
        let mut input = bev.input();
        g.borrow_mut().extend(input.to_vec());
        let n = input.len();
        input.drain(n).unwrap();
        drop(input);
        if g.borrow().len() >= want {
            base.loopbreak();
        }
    });
    got
}

/// 4 MiB through an echo, written in uneven pieces all at once (pipelined): every byte comes
/// back in order.
fn echo_pipelined(b: Method) {
    let mut base = base(b);
    let (client, server) = bev_pair(&mut base);
    echo_on(&server);
    let data = pattern(4 << 20, 7);
    let mut step = 1;
    write_in_pieces(&client, &data, || {
        let size = step;
        step = step * 3 % 70_001 + 1;
        size
    });
    let got = collect(&client, data.len());
    let end = dispatch(&mut base);
    assert_eq!(end, LoopEnd::Break);
    assert!(*got.borrow() == data, "the echoed stream differs from what was sent");
}

/// An echo under stress: a small high watermark, a server that echoes only part of what it
/// has each time, reading switched off and on by a timer, and a client that writes 2 MiB in
/// uneven pieces: every byte comes back, in order.
fn echo_partial_and_toggled(b: Method) {
    let mut base = base(b);
    let (client, server) = bev_pair(&mut base);
    server.set_read_watermarks(&mut base, 0, Some(700)).unwrap();
    let step = Rc::new(Cell::new(1usize));
    let st = step.clone();
    server.on_read(move |_, bev| {
        let mut input = bev.input();
        st.set(st.get() * 7 % 997 + 1);
        let n = st.get().min(input.len());
        let mut out = bev.output();
        input.remove_buffer(&mut out, n).unwrap();
    });
    // Whatever is left in the input goes out on the next toggle.
    let s2 = server.clone();
    let on = Rc::new(Cell::new(true));
    let toggler = base
        .new_timer(Flags::PERSIST, move |base, _, _| {
            on.set(!on.get());
            if on.get() {
                s2.enable(base, Flags::READ).unwrap();
            } else {
                s2.disable(base, Flags::READ).unwrap();
            }
            let n = s2.input().len();
            let mut out = s2.output();
            s2.input().remove_buffer(&mut out, n).unwrap();
        })
        .unwrap();
    base.add(toggler, Some(Duration::from_millis(1))).unwrap();
    let data = pattern(2 << 20, 11);
    let mut k = 5usize;
    write_in_pieces(&client, &data, || {
        k = k * 31 % 65_521 + 1;
        k
    });
    let got = collect(&client, data.len());
    assert_eq!(dispatch(&mut base), LoopEnd::Break);
    assert!(*got.borrow() == data, "the echoed stream differs from what was sent");
    base.free(toggler).unwrap();
    client.free(&mut base).unwrap();
    server.free(&mut base).unwrap();
}

/// A read callback that writes its reply and then turns writing off holds the reply: nothing
/// leaves until writing is on again (the engines write what a read callback added when it
/// returns, if writing is still on), and then every byte does, in order.
fn reply_held_while_writing_is_off(b: Method) {
    let mut base = base(b);
    let (client, server) = bev_pair(&mut base);
    server.enable(&mut base, Flags::WRITE).unwrap();
    server.on_read(|base, bev| {
        let mut input = std::mem::take(&mut *bev.input());
        bev.write_buffer(&mut input).unwrap();
        bev.disable(base, Flags::WRITE).unwrap();
    });
    let enabled = Rc::new(Cell::new(false));
    let (s2, e2) = (server.clone(), enabled.clone());
    let enabler = base
        .new_timer(Flags::NONE, move |base, _, _| {
            e2.set(true);
            s2.enable(base, Flags::WRITE).unwrap();
        })
        .unwrap();
    base.add(enabler, Some(Duration::from_millis(100))).unwrap();
    let data = pattern(64 << 10, 5);
    client.write(&data).unwrap();
    let early = Rc::new(Cell::new(false));
    let got = Rc::new(RefCell::new(Vec::new()));
    let (g, e3, early2) = (got.clone(), enabled.clone(), early.clone());
    let want = data.len();
    client.on_read(move |base, bev| {
        early2.set(early2.get() || !e3.get());
        let mut input = bev.input();
        g.borrow_mut().extend(input.to_vec());
        let n = input.len();
        input.drain(n).unwrap();
        if g.borrow().len() >= want {
            base.loopbreak();
        }
    });
    assert_eq!(dispatch(&mut base), LoopEnd::Break);
    assert!(!early.get(), "bytes left while writing was off");
    assert!(*got.borrow() == data, "the reply differs from what was sent");
    client.free(&mut base).unwrap();
    server.free(&mut base).unwrap();
}

/// Reading stops at the high watermark and resumes when the input is drained below it; the
/// input never holds more than the mark.
fn read_high_watermark(b: Method) {
    let mut base = base(b);
    let (a, mut peer) = pair();
    let bev = BufferEvent::socket(&mut base, a).unwrap();
    bev.set_read_watermarks(&mut base, 0, Some(1000)).unwrap();
    bev.enable(&mut base, Flags::READ).unwrap();
    let sent = pattern(64 * 1024, 3);
    let writer = std::thread::spawn(move || {
        peer.set_nonblocking(false).unwrap();
        peer.write_all(&sent).unwrap();
        peer
    });
    let (max_seen, got) = (Rc::new(Cell::new(0)), Rc::new(RefCell::new(Vec::new())));
    let (m, g) = (max_seen.clone(), got.clone());
    // The read callback only looks; a timer drains a little at a time.
    bev.on_read(move |_, bev| m.set(m.get().max(bev.input().len())));
    let b2 = bev.clone();
    let drainer = base
        .new_timer(Flags::PERSIST, move |base, ev, _| {
            let mut input = b2.input();
            let mut chunk = vec![0u8; 300];
            let n = input.remove(&mut chunk).unwrap();
            g.borrow_mut().extend_from_slice(&chunk[..n]);
            if g.borrow().len() == 64 * 1024 {
                base.free(ev).unwrap();
                drop(input);
                b2.free(base).unwrap();
            }
        })
        .unwrap();
    base.add(drainer, Some(Duration::from_millis(1))).unwrap();
    dispatch(&mut base);
    writer.join().unwrap();
    assert!(max_seen.get() <= 1000, "the input held {} bytes, over the high watermark", max_seen.get());
    assert!(max_seen.get() > 0);
    assert!(*got.borrow() == pattern(64 * 1024, 3));
}

/// The read callback waits for the low watermark.
fn read_low_watermark(b: Method) {
    let mut base = base(b);
    let (a, mut peer) = pair();
    let bev = BufferEvent::socket(&mut base, a).unwrap();
    bev.set_read_watermarks(&mut base, 10, None).unwrap();
    bev.enable(&mut base, Flags::READ).unwrap();
    peer.write_all(b"12345").unwrap();
    let calls = log::<Vec<u8>>();
    let c = calls.clone();
    bev.on_read(move |base, bev| {
        c.borrow_mut().push(bev.input().to_vec());
        bev.free(base).unwrap();
    });
    // More comes later: the first five bytes alone do not call back.
    base.once(None, Flags::TIMEOUT, Some(Duration::from_millis(20)), move |_, _| peer.write_all(b"67890").unwrap())
        .unwrap();
    dispatch(&mut base);
    assert_eq!(*calls.borrow(), vec![b"1234567890".to_vec()]);
}

/// The write callback runs when the output drained to the write low watermark.
fn write_callback_on_drain(b: Method) {
    let mut base = base(b);
    let (a, mut peer) = pair();
    let bev = BufferEvent::socket(&mut base, a).unwrap();
    let calls = counter();
    let c = calls.clone();
    bev.on_write(move |base, bev| {
        assert!(bev.output().is_empty());
        c.set(c.get() + 1);
        bev.free(base).unwrap();
    });
    bev.write(&pattern(100_000, 1)).unwrap();
    let reader = std::thread::spawn(move || {
        peer.set_nonblocking(false).unwrap();
        let mut all = Vec::new();
        peer.read_to_end(&mut all).unwrap();
        all
    });
    dispatch(&mut base);
    assert_eq!(calls.get(), 1);
    assert!(reader.join().unwrap() == pattern(100_000, 1));
}

/// Nothing comes: the read timeout ends in READING|TIMEOUT, and reading is disabled.
fn read_timeout(b: Method) {
    let mut base = base(b);
    let (a, _peer) = pair();
    let bev = BufferEvent::socket(&mut base, a).unwrap();
    bev.set_timeouts(&mut base, Some(Duration::from_millis(30)), None).unwrap();
    bev.enable(&mut base, Flags::READ).unwrap();
    let seen = log::<What>();
    let s = seen.clone();
    bev.on_event(move |_, _, what| s.borrow_mut().push(what));
    assert_eq!(dispatch(&mut base), LoopEnd::NoEvents);
    assert_eq!(*seen.borrow(), vec![What::READING | What::TIMEOUT]);
    assert!(!bev.enabled().contains(Flags::READ), "a read timeout disables reading");
    bev.free(&mut base).unwrap();
}

/// A buffered event reading from a fresh pair whose peer (returned, to keep it open) has
/// written `data`.
fn reading_with_data(base: &mut EventBase, data: &[u8]) -> (BufferEvent, Stream) {
    let (a, mut peer) = pair();
    let bev = BufferEvent::socket(base, a).unwrap();
    bev.enable(base, Flags::READ).unwrap();
    peer.write_all(data).unwrap();
    (bev, peer)
}

/// Data came, then nothing: a read timeout set from the read callback (while a receive
/// waits for more) ends in one READING|TIMEOUT after the data; a read timeout taken off
/// again before it passes ends in nothing.
fn read_timeout_after_data(b: Method) {
    let mut base = base(b);
    let (bev, _peer) = reading_with_data(&mut base, &pattern(5000, 3));
    let got = Rc::new(RefCell::new(Vec::new()));
    let g = got.clone();
    bev.on_read(move |base, bev| {
        g.borrow_mut().extend(std::mem::take(&mut *bev.input()).to_vec());
        if g.borrow().len() == 5000 {
            bev.set_timeouts(base, Some(Duration::from_millis(30)), None).unwrap();
        }
    });
    let seen = log::<What>();
    let s = seen.clone();
    bev.on_event(move |_, _, what| s.borrow_mut().push(what));
    assert_eq!(dispatch(&mut base), LoopEnd::NoEvents);
    assert!(*got.borrow() == pattern(5000, 3));
    assert_eq!(*seen.borrow(), vec![What::READING | What::TIMEOUT]);
    // Reading again, with a timeout that is taken off before it passes: the loop goes on
    // waiting for the peer (until the loop exit, due after the timeout would have been).
    bev.enable(&mut base, Flags::READ).unwrap();
    bev.set_timeouts(&mut base, Some(Duration::from_millis(100)), None).unwrap();
    bev.set_timeouts(&mut base, None, None).unwrap();
    base.loopexit(Some(Duration::from_millis(300))).unwrap();
    dispatch(&mut base);
    assert_eq!(seen.borrow().len(), 1, "no second timeout: {:?}", seen.borrow());
    bev.free(&mut base).unwrap();
}

/// The socket stays full: the write timeout ends in WRITING|TIMEOUT, the output keeps its
/// bytes.
fn write_timeout(b: Method) {
    let mut base = base(b);
    let (a, _peer) = pair();
    let bev = BufferEvent::socket(&mut base, a).unwrap();
    bev.set_timeouts(&mut base, None, Some(Duration::from_millis(30))).unwrap();
    bev.write(&vec![7u8; 16 << 20]).unwrap();
    let seen = log::<What>();
    let s = seen.clone();
    bev.on_event(move |_, _, what| s.borrow_mut().push(what));
    assert_eq!(dispatch(&mut base), LoopEnd::NoEvents);
    assert_eq!(*seen.borrow(), vec![What::WRITING | What::TIMEOUT]);
    assert!(!bev.output().is_empty(), "what was not sent stays in the output");
    bev.free(&mut base).unwrap();
}

/// Data then EOF: the data is delivered first, then EOF; with a low watermark the data is
/// still in the input when EOF comes.
fn eof_after_data(b: Method) {
    for low in [0usize, 100] {
        let mut base = base(b);
        let (a, mut peer) = pair();
        peer.write_all(b"last words").unwrap();
        drop(peer);
        let bev = BufferEvent::socket(&mut base, a).unwrap();
        bev.set_read_watermarks(&mut base, low, None).unwrap();
        bev.enable(&mut base, Flags::READ).unwrap();
        let seen = log::<String>();
        let s = seen.clone();
        bev.on_read(move |_, bev| {
            let mut buf = [0u8; 64];
            let n = bev.read(&mut buf).unwrap();
            s.borrow_mut().push(format!("read {}", String::from_utf8_lossy(&buf[..n])));
        });
        let s = seen.clone();
        bev.on_event(move |base, bev, what| {
            s.borrow_mut().push(format!("{what:?} with {}", String::from_utf8_lossy(&bev.input().to_vec())));
            bev.free(base).unwrap();
        });
        dispatch(&mut base);
        let want: Vec<String> = if low == 0 {
            vec!["read last words".into(), "READING|EOF with ".into()]
        } else {
            vec!["READING|EOF with last words".into()]
        };
        assert_eq!(*seen.borrow(), want, "low watermark {low}");
    }
}

/// Writing to a peer that closed: ERROR|WRITING, and what was not sent is still in the
/// output.
fn write_after_peer_closed(b: Method) {
    let mut base = base(b);
    let (a, peer) = pair();
    drop(peer);
    let bev = BufferEvent::socket(&mut base, a).unwrap();
    let total = 8 << 20;
    bev.write(&vec![1u8; total]).unwrap();
    let seen = log::<What>();
    let s = seen.clone();
    bev.on_event(move |base, bev, what| {
        s.borrow_mut().push(what);
        let e = bev.error().expect("the error is kept");
        assert!(
            matches!(e.kind(), ErrorKind::BrokenPipe | ErrorKind::ConnectionReset | ErrorKind::ConnectionAborted),
            "{e:?}"
        );
        assert!(!bev.output().is_empty(), "the unsent bytes stay readable");
        bev.disable(base, Flags::WRITE).unwrap();
    });
    dispatch(&mut base);
    assert_eq!(*seen.borrow(), vec![What::WRITING | What::ERROR]);
    let left = bev.output().len();
    assert!(left > 0 && left <= total);
    bev.free(&mut base).unwrap();
}

/// Freed from its own read callback: nothing of it runs after, the loop ends, the peer
/// sees the socket closed.
fn free_in_own_callback(b: Method) {
    let mut base = base(b);
    let (a, mut peer) = pair();
    let bev = BufferEvent::socket(&mut base, a).unwrap();
    bev.enable(&mut base, Flags::READ).unwrap();
    peer.write_all(b"bye").unwrap();
    let calls = counter();
    let c = calls.clone();
    bev.on_read(move |base, bev| {
        c.set(c.get() + 1);
        bev.write(b"answer").unwrap(); // queued, then freed: it must not be sent after free
        bev.free(base).unwrap();
        assert!(bev.is_freed());
        assert_eq!(bev.enable(base, Flags::READ).unwrap_err().kind(), ErrorKind::NotFound);
    });
    let c = calls.clone();
    bev.on_event(move |_, _, _| c.set(c.get() + 100));
    assert_eq!(dispatch(&mut base), LoopEnd::NoEvents);
    assert_eq!(calls.get(), 1);
    peer.set_nonblocking(false).unwrap();
    let mut rest = Vec::new();
    peer.read_to_end(&mut rest).unwrap();
    assert!(rest.is_empty() || rest == b"answer", "{rest:?}");
}

/// No handle kept: the base keeps the buffered event (as libevent does) until it is freed,
/// here by its own callback.
fn lives_without_handle(b: Method) {
    let mut base = base(b);
    let (a, mut peer) = pair();
    let bev = BufferEvent::socket(&mut base, a).unwrap();
    bev.enable(&mut base, Flags::READ).unwrap();
    bev.on_read(|base, bev| {
        let mut input = std::mem::take(&mut *bev.input());
        bev.write_buffer(&mut input).unwrap();
        bev.on_write(|base, bev| bev.free(base).unwrap());
        let _ = base;
    });
    drop(bev);
    peer.write_all(b"anyone?").unwrap();
    assert_eq!(dispatch(&mut base), LoopEnd::NoEvents);
    assert_eq!(base.num_events(), 0);
    peer.set_nonblocking(false).unwrap();
    let mut rest = Vec::new();
    peer.read_to_end(&mut rest).unwrap();
    assert_eq!(rest, b"anyone?", "it echoed, then closed its socket when freed");
}

/// Disabled reading leaves data in the kernel; enabled again, it comes.
fn disable_enable(b: Method) {
    let mut base = base(b);
    let (a, mut peer) = pair();
    let bev = BufferEvent::socket(&mut base, a).unwrap();
    bev.enable(&mut base, Flags::READ).unwrap();
    bev.disable(&mut base, Flags::READ).unwrap();
    peer.write_all(b"waiting").unwrap();
    let got = log::<Vec<u8>>();
    let g = got.clone();
    bev.on_read(move |base, bev| {
        g.borrow_mut().push(bev.input().to_vec());
        bev.free(base).unwrap();
    });
    assert_eq!(base.run_nonblocking().unwrap(), LoopEnd::NoEvents);
    assert!(got.borrow().is_empty());
    bev.enable(&mut base, Flags::READ).unwrap();
    dispatch(&mut base);
    assert_eq!(*got.borrow(), vec![b"waiting".to_vec()]);
}

/// Bad input gets a clear error and changes nothing.
fn bad_input(b: Method) {
    let mut base = base(b);
    let mut other = util::base(b);
    let (a, _peer) = pair();
    let bev = BufferEvent::socket(&mut base, a).unwrap();
    let kind = |r: std::io::Result<()>| r.unwrap_err().kind();
    assert_eq!(kind(bev.set_read_watermarks(&mut base, 0, Some(0))), ErrorKind::InvalidInput);
    assert_eq!(kind(bev.set_read_watermarks(&mut base, 100, Some(50))), ErrorKind::InvalidInput);
    assert_eq!(kind(bev.set_max_io(0, 10)), ErrorKind::InvalidInput);
    assert_eq!(kind(bev.set_max_io(usize::MAX, 10)), ErrorKind::InvalidInput);
    assert_eq!(kind(bev.set_timeouts(&mut base, Some(Duration::MAX), None)), ErrorKind::InvalidInput);
    assert_eq!(kind(bev.enable(&mut other, Flags::READ)), ErrorKind::InvalidInput, "another base's");
    assert_eq!(kind(bev.connect_hostname(&mut base, "", 80)), ErrorKind::InvalidInput);
    assert_eq!(kind(bev.set_priority(&mut base, 5)), ErrorKind::InvalidInput);
    bev.free(&mut base).unwrap();
    assert_eq!(kind(bev.free(&mut base)), ErrorKind::NotFound);
    assert_eq!(kind(bev.write(b"x")), ErrorKind::NotFound);
    assert_eq!(base.num_events(), 0);
}

/// A buffered event on something that is not a socket (a regular file): the base refuses to
/// watch it (epoll) or the receive fails (poll); either way the event callback hears ERROR,
/// nothing hangs.
#[cfg(unix)]
fn not_a_socket(b: Method) {
    let mut base = base(b);
    let path =
        std::env::temp_dir().join(format!("overlap-bev-{}-{}", std::process::id(), b.to_string().replace('/', "-")));
    std::fs::write(&path, b"not a socket").unwrap();
    let file = std::fs::File::open(&path).unwrap();
    std::fs::remove_file(&path).unwrap();
    let bev = BufferEvent::socket(&mut base, std::os::fd::OwnedFd::from(file)).unwrap();
    let seen = log::<What>();
    let s = seen.clone();
    bev.on_event(move |base, bev, what| {
        s.borrow_mut().push(what);
        assert!(bev.error().is_some());
        bev.free(base).unwrap();
    });
    bev.enable(&mut base, Flags::READ).unwrap();
    dispatch(&mut base);
    assert_eq!(*seen.borrow(), vec![What::READING | What::ERROR]);
}

/// A callback that sets another callback keeps its own; one that replaces itself is
/// replaced.
fn callbacks_replaced_inside(b: Method) {
    let mut base = base(b);
    let (a, mut peer) = pair();
    let bev = BufferEvent::socket(&mut base, a).unwrap();
    bev.enable(&mut base, Flags::READ).unwrap();
    let seen = log::<&'static str>();
    let s = seen.clone();
    bev.on_read(move |_, bev| {
        s.borrow_mut().push("first");
        let n = bev.input().len();
        bev.input().drain(n).unwrap();
        let s2 = s.clone();
        bev.on_write(move |_, _| s2.borrow_mut().push("write"));
        if s.borrow().len() == 2 {
            let s3 = s.clone();
            bev.on_read(move |base, bev| {
                s3.borrow_mut().push("second");
                bev.free(base).unwrap();
            });
        }
    });
    peer.write_all(b"1").unwrap();
    base.run_once().unwrap();
    peer.write_all(b"2").unwrap();
    base.run_once().unwrap();
    peer.write_all(b"3").unwrap();
    dispatch(&mut base);
    assert_eq!(*seen.borrow(), vec!["first", "first", "second"]);
}

/// Input moves to another buffer without copying; the output takes a whole buffer.
fn buffers_move(b: Method) {
    let mut base = base(b);
    let (client, server) = bev_pair(&mut base);
    let mut out = Buffer::new();
    out.add(b"moved ").unwrap();
    out.add(b"whole").unwrap();
    client.write_buffer(&mut out).unwrap();
    assert!(out.is_empty());
    let got = Rc::new(RefCell::new(Buffer::new()));
    let g = got.clone();
    server.on_read(move |base, bev| {
        bev.read_buffer(&mut g.borrow_mut()).unwrap();
        if g.borrow().len() == 11 {
            base.loopbreak();
        }
    });
    dispatch(&mut base);
    assert_eq!(got.borrow().to_vec(), b"moved whole");
    client.free(&mut base).unwrap();
    server.free(&mut base).unwrap();
}

/// Replacing the buffers wholesale (`mem::take`, `mem::swap`) drops the hooks they carried;
/// the buffered event still notices what to do when the borrow ends: reading resumes below
/// the high watermark, and what is written afterwards is sent.
fn buffers_replaced(b: Method) {
    let mut base = base(b);
    let (client, server) = bev_pair(&mut base);
    server.set_read_watermarks(&mut base, 0, Some(100)).unwrap();
    let mut fresh = Buffer::new();
    std::mem::swap(&mut *client.output(), &mut fresh);
    let data = pattern(10_000, 5);
    client.write(&data).unwrap();
    let got = Rc::new(RefCell::new(Vec::new()));
    let g = got.clone();
    server.on_read(move |base, bev| {
        let taken = std::mem::take(&mut *bev.input());
        g.borrow_mut().extend(taken.to_vec());
        if g.borrow().len() == 10_000 {
            base.loopbreak();
        }
    });
    assert_eq!(dispatch(&mut base), LoopEnd::Break);
    assert!(*got.borrow() == data);
    client.free(&mut base).unwrap();
    server.free(&mut base).unwrap();
}

/// An idle buffered event (no data buffered, reading enabled) stays under 1 KiB, before
/// and after use, on both engines. The completion engine's receive keeps its room while
/// data flows (up to the read size, at most `set_max_io`'s); once the connection is quiet
/// for its idle period, a zero-length probe takes its place and it is under 1 KiB again,
/// and data sent after that still comes in.
fn idle_memory(b: Method) {
    let mut base = base(b);
    let (client, server) = bev_pair(&mut base);
    base.run_nonblocking().unwrap();
    let fresh = server.memory();
    println!("[{b}] a fresh buffered event holds {fresh} bytes ({} engine)", engine_of(b));
    assert!(fresh <= 1024, "a fresh buffered event holds {fresh} bytes");
    let max_read = 16 << 10;
    if engine_of(b) == Engine::Completion {
        server.set_max_io(max_read, max_read).unwrap();
    }
    // Move some data through first, so that the numbers are after use, not before it (the
    // loop runs until all of it came).
    let got = Rc::new(Cell::new(0usize));
    let g = got.clone();
    server.on_read(move |base, bev| {
        let n = bev.input().len();
        bev.input().drain(n).unwrap();
        g.set(g.get() + n);
        if g.get() == 200_000 {
            base.loopbreak();
        }
    });
    client.write(&pattern(200_000, 9)).unwrap();
    dispatch(&mut base);
    for _ in 0..3 {
        base.run_nonblocking().unwrap();
    }
    let size = server.memory();
    println!("[{b}] a buffered event just used holds {size} bytes ({} engine)", engine_of(b));
    // On the completion engine: the receive's room, and what its lists of completions and
    // sends keep allocated while it is busy.
    let room = if engine_of(b) == Engine::Completion { max_read + 512 } else { 0 };
    assert!(size <= 1024 + room, "a buffered event just used holds {size} bytes");
    // Quiet from now on: the loop runs until the buffered event is under 1 KiB (at once on
    // the readiness engine; after the idle period on the completion engine).
    let watch = server.clone();
    let check = base
        .new_timer(Flags::PERSIST, move |base, _, _| {
            if watch.memory() <= 1024 {
                base.loopbreak();
            }
        })
        .unwrap();
    base.add(check, Some(Duration::from_millis(10))).unwrap();
    dispatch(&mut base);
    base.free(check).unwrap();
    let size = server.memory();
    println!("[{b}] an idle buffered event holds {size} bytes ({} engine)", engine_of(b));
    assert!(size <= 1024, "an idle buffered event holds {size} bytes");
    // The writer, whose peer never spoke, keeps nothing of its sends either.
    let writer = client.memory();
    println!("[{b}] an idle writer holds {writer} bytes ({} engine)", engine_of(b));
    assert!(writer <= 1024, "an idle writer holds {writer} bytes");
    assert_eq!(got.get(), 200_000);
    // The probe (or the readiness watch) still hears the peer, and reads all it sends.
    client.write(&pattern(3000, 4)).unwrap();
    server.on_read(move |base, bev| {
        let n = bev.input().len();
        bev.input().drain(n).unwrap();
        got.set(got.get() + n);
        if got.get() == 203_000 {
            base.loopbreak();
        }
    });
    dispatch(&mut base);
    client.free(&mut base).unwrap();
    server.free(&mut base).unwrap();
}

/// Connections that go quiet for longer than the completion engine's idle period between
/// messages (its receive with room is cancelled and a probe takes its place, then the probe
/// hears the next message) lose nothing: 16 peers each send 4 messages of growing size with
/// a pause of 1.1 to 1.6 s before each but the first, and every byte arrives, in order.
fn quiet_spells_lose_nothing(b: Method) {
    const PEERS: usize = 16;
    let mut base = base(b);
    let total = Rc::new(Cell::new(0usize));
    let mut peers = Vec::new();
    let mut bevs = Vec::new();
    for i in 0..PEERS {
        let (a, peer) = pair();
        let bev = BufferEvent::socket(&mut base, a).unwrap();
        let got = Rc::new(RefCell::new(Vec::new()));
        let (g, t) = (got.clone(), total.clone());
        bev.on_read(move |base, bev| {
            let taken = std::mem::take(&mut *bev.input()).to_vec();
            t.set(t.get() + taken.len());
            g.borrow_mut().extend(taken);
            if t.get() == expected_total(PEERS) {
                base.loopbreak();
            }
        });
        bev.enable(&mut base, Flags::READ).unwrap();
        bevs.push((bev, got));
        peers.push(std::thread::spawn(move || {
            let mut peer = peer;
            let mut sent = Vec::new();
            for k in 0..4 {
                if k > 0 {
                    // The workload, not a synchronisation: a quiet spell past the idle period.
                    std::thread::sleep(Duration::from_millis(1100 + 37 * ((i * 7 + k) % 14) as u64));
                }
                let msg = pattern(100 << (3 * k), (i * 4 + k) as u32);
                peer.write_all(&msg).unwrap();
                sent.extend(msg);
            }
            (peer, sent)
        }));
    }
    dispatch(&mut base);
    for ((bev, got), peer) in bevs.into_iter().zip(peers) {
        let (_peer, sent) = peer.join().unwrap();
        assert!(*got.borrow() == sent, "[{b}] a connection's bytes came whole and in order");
        bev.free(&mut base).unwrap();
    }
}

/// Reading turned off after data came (on the completion engine: a receive with room was in
/// flight, its idle check armed): the loop ends with no events left, as before any data
/// came. (That the idle check goes with the receive, rather than ending the loop up to a
/// second later, shows only in how long this takes: 10 ms against 2 s; it is not asserted.)
fn disable_after_data_leaves_nothing_pending(b: Method) {
    let mut base = base(b);
    let (bev, _peer) = reading_with_data(&mut base, &pattern(5000, 8));
    let got = Rc::new(Cell::new(0usize));
    let g = got.clone();
    bev.on_read(move |base, bev| {
        let n = bev.input().len();
        bev.input().drain(n).unwrap();
        g.set(g.get() + n);
        if g.get() == 5000 {
            bev.disable(base, Flags::READ).unwrap();
        }
    });
    // Runs until the loop has nothing left: the receive's cancellation comes back, and no
    // timer of the buffered event stays pending (the watchdog fails a loop that goes on).
    assert_eq!(dispatch(&mut base), LoopEnd::NoEvents);
    assert_eq!(got.get(), 5000);
    assert_eq!(base.run_nonblocking().unwrap(), LoopEnd::NoEvents, "[{b}] nothing pending");
    bev.free(&mut base).unwrap();
}

/// What `quiet_spells_lose_nothing`'s peers send in all.
fn expected_total(peers: usize) -> usize {
    peers * (0..4).map(|k| 100usize << (3 * k)).sum::<usize>()
}

/// A TCP pair on loopback (socket options act as on a real connection).
fn tcp_pair() -> (std::net::TcpStream, std::net::TcpStream) {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let a = std::net::TcpStream::connect(l.local_addr().unwrap()).unwrap();
    let (b, _) = l.accept().unwrap();
    (a, b)
}

/// Reads what `sock` holds now (it was written before): until it would block or ends.
fn read_what_is_there(sock: &socket2::Socket) -> Vec<u8> {
    sock.set_nonblocking(true).unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match std::io::Read::read(&mut &*sock, &mut buf) {
            Ok(0) => return got,
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(_) => return got,
        }
    }
}

/// Pipelined echo over TCP with 16 KiB socket buffers: the server's output waits on the
/// socket (on the completion engine several sends in flight at once, each taken a part at a
/// time), and 4 MiB written in uneven pieces come back whole and in order. (Smaller buffers
/// make loopback TCP itself crawl: its window closes to a few hundred bytes.)
fn echo_small_socket_buffers(b: Method) {
    let mut base = base(b);
    let (x, y) = tcp_pair();
    let (x, y) = (socket2::Socket::from(x), socket2::Socket::from(y));
    for s in [&x, &y] {
        s.set_send_buffer_size(16 << 10).unwrap();
        s.set_recv_buffer_size(16 << 10).unwrap();
        s.set_tcp_nodelay(true).unwrap(); // tiny windows and Nagle's delayed segments crawl
    }
    let client = BufferEvent::socket(&mut base, x).unwrap();
    let server = BufferEvent::socket(&mut base, y).unwrap();
    for bev in [&client, &server] {
        bev.enable(&mut base, Flags::READ).unwrap();
    }
    echo_on(&server);
    let data = pattern(4 << 20, 13);
    let mut step = 7usize;
    write_in_pieces(&client, &data, || {
        let size = step;
        step = step * 7 % 131_071 + 1;
        size
    });
    let got = collect(&client, data.len());
    dispatch(&mut base);
    let got = got.borrow();
    assert_eq!(got.len(), data.len());
    let first_bad = got.iter().zip(&data).position(|(a, b)| a != b);
    assert!(first_bad.is_none(), "[{b}] the echo differs from byte {first_bad:?} on");
    client.free(&mut base).unwrap();
    server.free(&mut base).unwrap();
}

/// Giving the socket back (`into_socket`) while reading loses nothing: what the buffered
/// event received is in its input, the rest is still in the socket (on the completion engine
/// a receive in flight is cancelled and what it got joins the input).
fn into_socket_loses_nothing_received(b: Method) {
    let mut base = base(b);
    let (a, mut peer) = pair();
    let bev = BufferEvent::socket(&mut base, a).unwrap();
    bev.enable(&mut base, Flags::READ).unwrap();
    bev.on_read(|base, _| base.loopbreak());
    peer.write_all(b"first ").unwrap();
    dispatch(&mut base);
    peer.write_all(b"second").unwrap();
    base.run_nonblocking().unwrap();
    peer.write_all(b" third").unwrap();
    let sock = bev.into_socket(&mut base).unwrap().expect("the socket back");
    let mut got = bev.input().to_vec();
    got.extend(read_what_is_there(&sock));
    assert_eq!(String::from_utf8_lossy(&got), "first second third", "[{b}]");
}

/// Giving the socket back with output waiting on a peer that read part of it and stopped
/// (on the completion engine sends in flight, each taken a part at a time, are cancelled):
/// the output then holds exactly what the socket did not take, so writing it on from there
/// gives the peer the whole stream, each byte once.
fn into_socket_keeps_what_was_not_sent(b: Method) {
    const READ_FIRST: usize = 100 << 10;
    let mut base = base(b);
    let (a, peer) = tcp_pair();
    let a = socket2::Socket::from(a);
    a.set_send_buffer_size(16 << 10).unwrap();
    let bev = BufferEvent::socket(&mut base, a).unwrap();
    let data = pattern(4 << 20, 21);
    bev.write(&data).unwrap();
    let reader = std::thread::spawn(move || {
        peer.set_read_timeout(Some(PATIENCE)).unwrap();
        let mut got = vec![0; READ_FIRST];
        std::io::Read::read_exact(&mut &peer, &mut got).map(|_| (peer, got))
    });
    let watchdog = Watchdog::new(&base);
    while !reader.is_finished() {
        assert!(!watchdog.fired(), "[{b}] the peer did not get {READ_FIRST} bytes");
        base.loopexit(Some(Duration::from_millis(5))).unwrap();
        base.dispatch().unwrap();
    }
    let (peer, mut got) = reader.join().unwrap().unwrap();
    let sock = bev.into_socket(&mut base).unwrap().expect("the socket back");
    let unsent = bev.output().to_vec();
    assert!(unsent.len() < data.len() - READ_FIRST, "[{b}] {} bytes unsent", unsent.len());
    let writer = std::thread::spawn(move || {
        sock.set_nonblocking(false).unwrap();
        std::io::Write::write_all(&mut &sock, &unsent) // then closes
    });
    std::io::Read::read_to_end(&mut &peer, &mut got).unwrap();
    writer.join().unwrap().unwrap();
    assert_eq!(got.len(), data.len(), "[{b}] what went and what the output kept");
    let first_bad = got.iter().zip(&data).position(|(a, b)| a != b);
    assert!(first_bad.is_none(), "[{b}] the stream differs from byte {first_bad:?} on");
}

/// Freed with output waiting on a peer that does not read (sends in flight on the completion
/// engine): the socket closes at once, so the peer reads what arrived and then the end.
fn free_with_output_waiting_closes_the_socket(b: Method) {
    let mut base = base(b);
    let (a, peer) = tcp_pair();
    let bev = BufferEvent::socket(&mut base, a).unwrap();
    bev.write(&pattern(4 << 20, 3)).unwrap();
    base.run_nonblocking().unwrap();
    base.run_nonblocking().unwrap();
    bev.free(&mut base).unwrap();
    peer.set_read_timeout(Some(PATIENCE)).unwrap();
    let mut total = 0usize;
    let mut buf = vec![0u8; 64 << 10];
    let end = loop {
        match std::io::Read::read(&mut &peer, &mut buf) {
            Ok(0) => break Ok(()),
            Ok(n) => total += n,
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => break Err(e),
        }
    };
    match end {
        Ok(()) => {}
        // A close with unsent data may reset the connection: an end all the same.
        Err(e) if e.kind() == ErrorKind::ConnectionReset => {}
        Err(e) => panic!("[{b}] the peer did not see the end after {total} bytes: {e}"),
    }
    assert!(total <= 4 << 20, "[{b}] {total}");
}

/// Both engines on one base: on a port, a readiness buffered event and a completion one
/// echo 1 MiB between them (each says which engine it has); on a readiness backend the
/// completion engine is refused with `Unsupported`.
fn both_engines_on_one_base(b: Method) {
    let mut base = base(b);
    let (x, y) = pair();
    if b.reactor().is_some() {
        let err = BufferEvent::socket_with(&mut base, x, Engine::Completion).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Unsupported, "{err}");
        assert!(err.to_string().contains("completion port"), "{err}");
        let err = BufferEvent::new_with(&mut base, Engine::Completion).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Unsupported, "{err}");
        return;
    }
    let client = BufferEvent::socket_with(&mut base, x, Engine::Readiness).unwrap();
    let server = BufferEvent::socket_with(&mut base, y, Engine::Completion).unwrap();
    assert_eq!((client.engine(), server.engine()), (Engine::Readiness, Engine::Completion));
    for bev in [&client, &server] {
        bev.enable(&mut base, Flags::READ).unwrap();
    }
    echo_on(&server);
    let data = pattern(1 << 20, 5);
    for piece in data.chunks(7_919) {
        client.write(piece).unwrap();
    }
    let got = collect(&client, data.len());
    dispatch(&mut base);
    assert!(*got.borrow() == data, "the echo came back whole and in order");
    client.free(&mut base).unwrap();
    server.free(&mut base).unwrap();
}

fn main() {
    #[allow(unused_mut)]
    let mut all = cases![
        echo_pipelined,
        echo_partial_and_toggled,
        read_high_watermark,
        read_low_watermark,
        write_callback_on_drain,
        read_timeout,
        read_timeout_after_data,
        write_timeout,
        eof_after_data,
        write_after_peer_closed,
        free_in_own_callback,
        lives_without_handle,
        disable_enable,
        bad_input,
        callbacks_replaced_inside,
        buffers_move,
        buffers_replaced,
        idle_memory,
        quiet_spells_lose_nothing,
        disable_after_data_leaves_nothing_pending,
        both_engines_on_one_base,
        echo_small_socket_buffers,
        into_socket_loses_nothing_received,
        into_socket_keeps_what_was_not_sent,
        free_with_output_waiting_closes_the_socket,
        reply_held_while_writing_is_off,
    ];
    #[cfg(unix)]
    all.push(util::Case { name: "not_a_socket", run: not_a_socket });
    run_engine_suite("bev_io", all, false);
}
