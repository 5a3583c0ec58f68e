//! Buffered events and listeners made and freed by the thousand, in every state (idle,
//! writing with the socket full, connecting, resolving, rate-limited, inside their own
//! callbacks): nothing leaks (events, descriptors, memory), and what was not freed but
//! given back (`into_socket`) still works.

mod util;

use std::io::{Read, Write};
use std::net::SocketAddr;
use std::time::Duration;

use overlap_event::{BufferEvent, Flags, Listener, ListenerOptions, Method, RateLimit};
use util::*;

/// Frees buffered events in every state; the base ends with no event and (on Linux) the
/// process with the descriptors it had.
fn churn_states(b: Method) {
    let mut base = base(b);
    #[cfg(target_os = "linux")]
    let fds_before = open_fds();
    let memory_before = base.memory();
    let slow = RateLimit::new(1, 1, 1, 1, Duration::from_millis(50)).unwrap();
    let refused: SocketAddr = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    for i in 0..600 {
        let (a, mut peer) = pair();
        let bev = BufferEvent::socket(&mut base, a).unwrap();
        bev.enable(&mut base, Flags::READ).unwrap();
        match i % 6 {
            0 => {}                                                  // idle
            1 => bev.write(&vec![1u8; 8 << 20]).unwrap(),            // the socket fills: writable watched
            2 => bev.set_rate_limit(&mut base, Some(slow)).unwrap(), // a refill timer
            3 => {
                bev.set_timeouts(&mut base, Some(Duration::from_secs(60)), Some(Duration::from_secs(60))).unwrap();
            }
            4 => {
                // Freed from its own read callback.
                peer.write_all(b"x").unwrap();
                bev.on_read(|base, bev| bev.free(base).unwrap());
            }
            _ => {
                bev.set_read_watermarks(&mut base, 0, Some(1)).unwrap(); // suspended at once
                peer.write_all(b"xyz").unwrap();
            }
        }
        base.run_nonblocking().unwrap();
        base.run_nonblocking().unwrap();
        if !bev.is_freed() {
            bev.free(&mut base).unwrap();
        }
        drop(peer);
    }
    // Connecting and resolving ones too.
    for i in 0..100 {
        let bev = BufferEvent::new(&mut base).unwrap();
        if i % 2 == 0 {
            bev.connect(&mut base, refused).unwrap();
        } else {
            bev.connect_hostname(&mut base, "localhost", refused.port()).unwrap();
        }
        bev.free(&mut base).unwrap();
    }
    // Listeners, some freed from their own accept callback.
    for i in 0..100 {
        let l = Listener::bind(&mut base, "127.0.0.1:0".parse().unwrap(), ListenerOptions::new(), |base, l, _, _| {
            l.free(base).unwrap();
        })
        .unwrap();
        if i % 2 == 0 {
            let _c = std::net::TcpStream::connect(l.local_addr().unwrap()).unwrap();
            dispatch(&mut base);
            assert!(l.is_freed());
        } else {
            l.free(&mut base).unwrap();
        }
    }
    assert_eq!(base.num_events(), 0, "every event was freed");
    base.run_nonblocking().unwrap();
    // The resolver threads of the freed `connect_hostname`s may still be reading
    // /etc/hosts, and on a port the duplicates its readiness waits hold close when their
    // cancelled waits come back: wait (boundedly) for both.
    #[cfg(target_os = "linux")]
    {
        let deadline = std::time::Instant::now() + PATIENCE;
        while open_fds() != fds_before && std::time::Instant::now() < deadline {
            base.run_nonblocking().unwrap();
            std::thread::sleep(Duration::from_millis(10));
        }
        assert_eq!(open_fds(), fds_before, "every socket was closed");
    }
    assert_eq!(base.num_ops(), 0, "no op of a freed buffered event or listener is left on the port");
    let memory_after = base.memory();
    assert!(
        memory_after <= memory_before + 64 * 1024,
        "the base holds {memory_after} bytes after churn (was {memory_before})"
    );
}

/// `into_socket` frees the buffered event and gives its socket back open and usable.
fn into_socket_keeps_it_open(b: Method) {
    let mut base = base(b);
    let (a, mut peer) = pair();
    let bev = BufferEvent::socket(&mut base, a).unwrap();
    bev.enable(&mut base, Flags::READ).unwrap();
    let sock = bev.into_socket(&mut base).unwrap().expect("it had a socket");
    assert!(bev.is_freed());
    assert_eq!(base.num_events(), 0);
    sock.set_nonblocking(false).unwrap();
    peer.set_nonblocking(false).unwrap();
    peer.write_all(b"still here").unwrap();
    let mut buf = [0u8; 10];
    (&sock).read_exact(&mut buf).unwrap();
    assert_eq!(&buf, b"still here");
}

fn main() {
    // One case at a time: the descriptor count is the process's.
    run_engine_suite("bev_churn", cases![churn_states, into_socket_keeps_it_open], true);
}
