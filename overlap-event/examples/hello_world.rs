//! A port of libevent's `sample/hello-world.c`: a listener on port 9995 (or the port given)
//! greets every connection with "Hello, World!", closes it once the greeting is sent, and
//! ends two seconds after SIGINT (Ctrl-C).
//!
//! ```text
//! cargo run -p overlap-event --example hello_world            # then: nc 127.0.0.1 9995
//! cargo run -p overlap-event --example hello_world -- --self  # greets three clients of its own, ends
//! ```

use std::io::{self, Read};
use std::net::TcpStream;
use std::time::Duration;

use overlap_event::{BufferEvent, EventBase, Flags, Listener, ListenerOptions, What};

const MESSAGE: &[u8] = b"Hello, World!\n";
/// SIGINT, the same number on every Unix and for Windows' Ctrl-C event.
const SIGINT: i32 = 2;

fn main() -> io::Result<()> {
    let self_test = std::env::args().nth(1).is_some_and(|a| a == "--self");
    let port = if self_test { 0 } else { std::env::args().nth(1).and_then(|p| p.parse().ok()).unwrap_or(9995) };
    let mut base = EventBase::new()?;
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    let listener = Listener::bind(&mut base, addr, ListenerOptions::new(), |base, _, sock, _| {
        let Ok(bev) = BufferEvent::socket(base, sock) else { return };
        // Sent, then closed: the write callback runs once the output is empty.
        bev.on_write(|base, bev| {
            println!("flushed answer");
            let _ = bev.free(base);
        });
        bev.on_event(|base, bev, what| {
            if what.contains(What::ERROR) {
                eprintln!("got an error on the connection: {:?}", bev.error());
            }
            let _ = bev.free(base);
        });
        let _ = bev.enable(base, Flags::WRITE);
        let _ = bev.disable(base, Flags::READ);
        let _ = bev.write(MESSAGE);
    })?;
    listener.on_error(|base, _, e| {
        eprintln!("accept failed: {e}");
        let _ = base.loopexit(None);
    });
    let bound = listener.local_addr()?;
    println!("listening on {bound}");
    let sig = base.new_signal(SIGINT, Flags::NONE, |base, _, _| {
        println!("caught an interrupt signal; exiting cleanly in two seconds");
        let _ = base.loopexit(Some(Duration::from_secs(2)));
    })?;
    base.add(sig, None)?;
    let clients = self_test.then(|| {
        std::thread::spawn(move || -> io::Result<()> {
            for _ in 0..3 {
                let mut c = TcpStream::connect(bound)?;
                c.set_read_timeout(Some(Duration::from_secs(20)))?;
                let mut got = Vec::new();
                c.read_to_end(&mut got)?;
                if got != MESSAGE {
                    return Err(io::Error::other(format!("expected the greeting, got {got:?}")));
                }
            }
            Ok(())
        })
    });
    // With --self the clients run on their thread; the loop ends when they are done.
    let waiter = clients.map(|clients| {
        let handle = base.handle();
        std::thread::spawn(move || {
            let res = clients.join().unwrap_or_else(|_| Err(io::Error::other("a client panicked")));
            let _ = handle.loopbreak();
            res
        })
    });
    base.dispatch()?;
    listener.free(&mut base)?;
    if let Some(waiter) = waiter {
        waiter.join().unwrap_or_else(|_| Err(io::Error::other("the waiter panicked")))?;
    }
    println!("done");
    Ok(())
}
