//! Buffered events against raw events, on a socketpair ping-pong: one side writes 64 bytes,
//! the other echoes them, the first writes again when the echo is back; ns per round trip
//! (two messages, each a read and a write).
//!
//! - `pingpong/events`: two READ|PERSIST events, `read`/`write` on the std streams (the
//!   floor of the loop);
//! - `pingpong/bufferevents`: two buffered events, the echo moving the input to the output.
//!
//! `cargo bench -p overlap-event --bench bufferevent -- --warm-up-time 1 --measurement-time 3`

#[cfg(unix)]
mod unix {
    use std::cell::Cell;
    use std::io::{Read, Write};
    use std::os::fd::AsRawFd;
    use std::os::unix::net::UnixStream;
    use std::rc::Rc;
    use std::time::{Duration, Instant};

    use criterion::Criterion;
    use overlap_event::{BufferEvent, EventBase, Flags};

    const MSG: [u8; 64] = [7; 64];

    /// Runs `rounds` round trips on `base`, whose client writes when `left` is set.
    fn run(base: &mut EventBase, left: &Rc<Cell<u64>>, rounds: u64, kick: &mut dyn FnMut()) -> Duration {
        left.set(rounds);
        let t = Instant::now();
        kick();
        base.dispatch().expect("dispatch");
        t.elapsed()
    }

    pub fn events(c: &mut Criterion) {
        let mut base = EventBase::new().expect("a base");
        let (a, b) = UnixStream::pair().expect("a pair");
        a.set_nonblocking(true).unwrap();
        b.set_nonblocking(true).unwrap();
        let left = Rc::new(Cell::new(0u64));
        let (mut b2, fd_b) = (b.try_clone().unwrap(), b.as_raw_fd());
        let server = base
            .new_event(fd_b, Flags::READ | Flags::PERSIST, move |_, _, _| {
                let mut buf = [0u8; 4096];
                if let Ok(n) = b2.read(&mut buf) {
                    let _ = b2.write_all(&buf[..n]);
                }
            })
            .unwrap();
        base.add(server, None).unwrap();
        let (mut a2, fd_a, l) = (a.try_clone().unwrap(), a.as_raw_fd(), left.clone());
        let client = base
            .new_event(fd_a, Flags::READ | Flags::PERSIST, move |base, ev, _| {
                let mut buf = [0u8; 4096];
                let _ = a2.read(&mut buf);
                l.set(l.get() - 1);
                if l.get() == 0 {
                    let _ = base.del(ev);
                    base.loopbreak();
                } else {
                    let _ = a2.write_all(&MSG);
                }
            })
            .unwrap();
        let mut a3 = a.try_clone().unwrap();
        c.bench_function("pingpong/events", |bench| {
            bench.iter_custom(|iters| {
                base.add(client, None).unwrap();
                run(&mut base, &left, iters, &mut || a3.write_all(&MSG).unwrap())
            })
        });
    }

    pub fn bufferevents(c: &mut Criterion) {
        let mut base = EventBase::new().expect("a base");
        let (a, b) = UnixStream::pair().expect("a pair");
        let client = BufferEvent::socket(&mut base, a).unwrap();
        let server = BufferEvent::socket(&mut base, b).unwrap();
        server.enable(&mut base, Flags::READ).unwrap();
        server.on_read(|_, bev| {
            bev.output().add_buffer(&mut bev.input()).unwrap();
        });
        let left = Rc::new(Cell::new(0u64));
        let l = left.clone();
        client.on_read(move |base, bev| {
            let n = bev.input().len();
            bev.input().drain(n).unwrap();
            l.set(l.get() - 1);
            if l.get() == 0 {
                let _ = bev.disable(base, Flags::READ);
                base.loopbreak();
            } else {
                bev.write(&MSG).unwrap();
            }
        });
        let c2 = client.clone();
        c.bench_function("pingpong/bufferevents", |bench| {
            bench.iter_custom(|iters| {
                c2.enable(&mut base, Flags::READ).unwrap();
                let c3 = c2.clone();
                run(&mut base, &left, iters, &mut || c3.write(&MSG).unwrap())
            })
        });
        println!("an idle buffered event: {} bytes", server.memory());
    }
}

fn main() {
    #[cfg(unix)]
    {
        let mut c = criterion::Criterion::default().configure_from_args();
        unix::events(&mut c);
        unix::bufferevents(&mut c);
        c.final_summary();
    }
}
