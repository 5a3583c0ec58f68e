//! The mio peer: the echo server and the wake-up pair on mio's `Poll`.

use std::io::{self, ErrorKind, Read, Write};
use std::sync::Arc;
use std::time::Duration;

use mio::net::{TcpListener, TcpStream};
use mio::{Events, Interest, Poll, Token, Waker};

use super::super::server::Server;
use super::super::side::Side;

const LISTENER: Token = Token(usize::MAX - 1);
const STOP: Token = Token(usize::MAX - 2);

/// A single-threaded edge-triggered mio echo server (mio's registrations are edge-triggered).
pub(super) fn echo_server() -> io::Result<Server> {
    let mut poll = Poll::new()?;
    let mut listener = TcpListener::bind("127.0.0.1:0".parse().expect("an address"))?;
    let addr = listener.local_addr()?;
    poll.registry().register(&mut listener, LISTENER, Interest::READABLE)?;
    let waker = Arc::new(Waker::new(poll.registry(), STOP)?);
    let thread = std::thread::spawn(move || -> io::Result<()> {
        let mut conns: Vec<Option<TcpStream>> = Vec::new();
        let mut events = Events::with_capacity(256);
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            poll.poll(&mut events, None)?;
            for ev in events.iter() {
                match ev.token() {
                    STOP => return Ok(()),
                    LISTENER => loop {
                        match listener.accept() {
                            Ok((mut s, _)) => {
                                s.set_nodelay(true)?;
                                let slot = conns.iter().position(Option::is_none).unwrap_or(conns.len());
                                poll.registry().register(&mut s, Token(slot), Interest::READABLE)?;
                                if slot == conns.len() {
                                    conns.push(Some(s));
                                } else {
                                    conns[slot] = Some(s);
                                }
                            }
                            Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                            Err(e) => return Err(e),
                        }
                    },
                    Token(slot) => {
                        let Some(s) = conns.get_mut(slot).and_then(Option::as_mut) else { continue };
                        let mut done = false;
                        loop {
                            match s.read(&mut buf) {
                                Ok(0) => {
                                    done = true;
                                    break;
                                }
                                Ok(n) => {
                                    if send_all(&mut *s, &buf[..n]).is_err() {
                                        done = true;
                                        break;
                                    }
                                }
                                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                                Err(_) => {
                                    done = true;
                                    break;
                                }
                            }
                        }
                        if done {
                            if let Some(mut s) = conns[slot].take() {
                                let _ = poll.registry().deregister(&mut s);
                            }
                        }
                    }
                }
            }
        }
    });
    let stop = Box::new(move || {
        waker.wake()?;
        thread.join().map_err(|_| io::Error::other("the mio server panicked"))?
    });
    Ok(Server { addr, stop })
}

struct MioSide {
    poll: Poll,
    events: Events,
    other: Arc<Waker>,
}

impl Side for MioSide {
    fn wake_other(&mut self) -> io::Result<()> {
        self.other.wake()
    }
    fn wait(&mut self) -> io::Result<bool> {
        self.poll.poll(&mut self.events, Some(Duration::from_millis(100)))?;
        Ok(!self.events.is_empty())
    }
}

/// Two polls, each woken by the other's `Waker`.
pub(super) fn wakeup_pair() -> io::Result<(Box<dyn Side>, Box<dyn Side>)> {
    let (pa, pb) = (Poll::new()?, Poll::new()?);
    let wa = Arc::new(Waker::new(pa.registry(), Token(0))?);
    let wb = Arc::new(Waker::new(pb.registry(), Token(0))?);
    let a = MioSide { poll: pa, events: Events::with_capacity(8), other: wb };
    let b = MioSide { poll: pb, events: Events::with_capacity(8), other: wa };
    Ok((Box::new(a), Box::new(b)))
}

/// Writes all of `msg` to a non-blocking socket, spinning (with a yield) while the kernel's
/// buffer is full: the server echoes what it just read, and the load client keeps reading.
fn send_all(mut s: impl Write, mut msg: &[u8]) -> io::Result<()> {
    while !msg.is_empty() {
        match s.write(msg) {
            Ok(n) => msg = &msg[n..],
            Err(e) if e.kind() == ErrorKind::WouldBlock => std::thread::yield_now(),
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}
