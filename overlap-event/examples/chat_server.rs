//! A line-based chat server: every line a client sends goes to all the other clients, with
//! the sender's address in front. Lines are read with `readln` and a maximum length, so a
//! client that never sends a newline is disconnected, not buffered for ever.
//!
//! ```text
//! cargo run -p overlap-event --example chat_server -- 7777     # then: nc 127.0.0.1 7777 (twice)
//! cargo run -p overlap-event --example chat_server -- --self   # three clients of its own chat, then it ends
//! ```

use std::cell::RefCell;
use std::io::{self, BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpStream};
use std::rc::Rc;
use std::time::Duration;

use overlap_event::{BufferEvent, Eol, EventBase, Flags, Listener, ListenerOptions, What};

/// The longest line a client may send.
const MAX_LINE: usize = 4096;

/// Who is connected.
type Room = Rc<RefCell<Vec<(SocketAddr, BufferEvent)>>>;

fn main() -> io::Result<()> {
    let self_test = std::env::args().nth(1).is_some_and(|a| a == "--self");
    let port = if self_test { 0 } else { std::env::args().nth(1).and_then(|p| p.parse().ok()).unwrap_or(7777) };
    let mut base = EventBase::new()?;
    let room: Room = Rc::default();
    let r = room.clone();
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let listener = Listener::bind(&mut base, addr, ListenerOptions::new(), move |base, _, sock, peer| {
        let Ok(bev) = BufferEvent::socket(base, sock) else { return };
        let room = r.clone();
        bev.on_read(move |base, bev| relay(base, &room, bev, peer));
        let room = r.clone();
        bev.on_event(move |base, bev, what| {
            if what.intersects(What::EOF | What::ERROR) {
                println!("{peer} left");
                room.borrow_mut().retain(|(a, _)| *a != peer);
                let _ = bev.free(base);
            }
        });
        let _ = bev.enable(base, Flags::READ);
        let _ = bev.write(format!("welcome, {peer}\n").as_bytes());
        println!("{peer} joined");
        r.borrow_mut().push((peer, bev));
    })?;
    let bound = listener.local_addr()?;
    println!("chatting on {bound}");
    if self_test {
        let handle = base.handle();
        std::thread::spawn(move || {
            let res = clients(bound);
            if let Err(e) = &res {
                eprintln!("the clients failed: {e}");
                std::process::exit(1);
            }
            let _ = handle.loopbreak();
        });
    }
    base.dispatch()?;
    listener.free(&mut base)?;
    for (_, bev) in room.borrow_mut().drain(..) {
        bev.free(&mut base)?;
    }
    Ok(())
}

/// Sends each whole line of `from` to everyone else; a line too long ends the connection.
fn relay(base: &mut EventBase, room: &Room, from: &BufferEvent, peer: SocketAddr) {
    loop {
        let line = from.input().readln_max(Eol::Any, MAX_LINE);
        match line {
            Ok(Some(line)) => {
                let mut msg = format!("{peer}: ").into_bytes();
                msg.extend_from_slice(&line);
                msg.push(b'\n');
                for (addr, other) in room.borrow().iter() {
                    if *addr != peer {
                        let _ = other.write(&msg);
                    }
                }
            }
            Ok(None) => return,
            Err(e) => {
                println!("{peer}: {e}; disconnecting");
                room.borrow_mut().retain(|(a, _)| *a != peer);
                let _ = from.free(base);
                return;
            }
        }
    }
}

/// Three clients: each says hello once everyone is there, and hears the other two.
fn clients(addr: SocketAddr) -> io::Result<()> {
    let mut conns = Vec::new();
    let mut readers = Vec::new();
    for _ in 0..3 {
        let c = TcpStream::connect(addr)?;
        c.set_read_timeout(Some(Duration::from_secs(20)))?;
        let mut r = BufReader::new(c.try_clone()?);
        // The welcome says the server has this client in its room.
        let mut welcome = String::new();
        r.read_line(&mut welcome)?;
        if !welcome.starts_with("welcome") {
            return Err(io::Error::other(format!("expected a welcome, got {welcome:?}")));
        }
        conns.push(c);
        readers.push(r);
    }
    for (i, c) in conns.iter_mut().enumerate() {
        writeln!(c, "hello from client {i}")?;
    }
    for (i, r) in readers.iter_mut().enumerate() {
        let mut heard = Vec::new();
        while heard.len() < 2 {
            let mut line = String::new();
            if r.read_line(&mut line)? == 0 {
                return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "the server closed"));
            }
            heard.push(line);
        }
        for line in &heard {
            if !line.contains("hello from client") || line.contains(&format!("client {i}\n")) {
                return Err(io::Error::other(format!("client {i} heard {line:?}")));
            }
        }
        println!("client {i} heard: {}", heard.concat().replace('\n', " | "));
    }
    Ok(())
}
