//! The in-process peers of `overlap bench` (`--features peers`): the same echo server and
//! wake-up ping-pong written on tokio and on mio, and the echo server on compio (io_uring, Linux
//! only; it has no cross-thread wake-up to measure), so that they are columns of the same run.
//! Without the feature there are none.

use std::io;

use super::echo::Server;

/// The peers compiled into this build.
pub(crate) const PEERS: &[&str] = if cfg!(all(feature = "peers", target_os = "linux")) {
    &["tokio", "mio", "compio"]
} else if cfg!(feature = "peers") {
    &["tokio", "mio"]
} else {
    &[]
};

/// Whether `peer` can run here: compio needs io_uring (where the kernel refuses it, the machine
/// line says why, as for the raw io_uring floor).
pub(crate) fn works_here(peer: &str) -> bool {
    peer != "compio" || overlap::PortBackend::Uring.check().is_ok()
}

/// Whether `peer` has a wake-up pair (compio has no cross-thread wake-up of its own).
pub(crate) fn has_wakeup(peer: &str) -> bool {
    peer != "compio"
}

/// Starts `peer`'s echo server on 127.0.0.1 (one thread, like the others).
pub(crate) fn echo_server(peer: &str) -> io::Result<Server> {
    match peer {
        #[cfg(feature = "peers")]
        "tokio" => tokio_peer::echo_server(),
        #[cfg(feature = "peers")]
        "mio" => mio_peer::echo_server(),
        #[cfg(all(feature = "peers", target_os = "linux"))]
        "compio" => compio_peer::echo_server(),
        _ => Err(io::Error::new(io::ErrorKind::Unsupported, format!("no peer {peer} in this build"))),
    }
}

/// `peer`'s side pair for the wake-up ping-pong.
pub(crate) fn wakeup_pair(peer: &str) -> io::Result<(Box<dyn super::wakeup::Side>, Box<dyn super::wakeup::Side>)> {
    match peer {
        #[cfg(feature = "peers")]
        "tokio" => tokio_peer::wakeup_pair(),
        #[cfg(feature = "peers")]
        "mio" => mio_peer::wakeup_pair(),
        _ => Err(io::Error::new(io::ErrorKind::Unsupported, format!("no peer {peer} in this build"))),
    }
}

#[cfg(feature = "peers")]
mod tokio_peer {
    use std::io;
    use std::sync::Arc;
    use std::time::Duration;

    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::sync::Notify;

    use super::super::echo::Server;
    use super::super::wakeup::Side;

    fn runtime() -> io::Result<tokio::runtime::Runtime> {
        tokio::runtime::Builder::new_current_thread().enable_io().enable_time().build()
    }

    /// A current-thread runtime accepting and echoing, one task per connection.
    pub(super) fn echo_server() -> io::Result<Server> {
        let std_listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        std_listener.set_nonblocking(true)?;
        let addr = std_listener.local_addr()?;
        let stop = Arc::new(Notify::new());
        let stop2 = stop.clone();
        let rt = runtime()?;
        let thread = std::thread::spawn(move || -> io::Result<()> {
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(std_listener)?;
                loop {
                    tokio::select! {
                        _ = stop2.notified() => return Ok(()),
                        accepted = listener.accept() => {
                            let (mut s, _) = accepted?;
                            s.set_nodelay(true)?;
                            tokio::spawn(async move {
                                let mut buf = vec![0u8; 64 * 1024];
                                loop {
                                    match s.read(&mut buf).await {
                                        Ok(0) | Err(_) => return,
                                        Ok(n) => {
                                            if s.write_all(&buf[..n]).await.is_err() {
                                                return;
                                            }
                                        }
                                    }
                                }
                            });
                        }
                    }
                }
            })
        });
        let stop = Box::new(move || {
            stop.notify_one();
            thread.join().map_err(|_| io::Error::other("the tokio server panicked"))?
        });
        Ok(Server { addr, stop })
    }

    struct TokioSide {
        rt: tokio::runtime::Runtime,
        mine: Arc<Notify>,
        other: Arc<Notify>,
    }

    impl Side for TokioSide {
        fn wake_other(&mut self) -> io::Result<()> {
            self.other.notify_one();
            Ok(())
        }
        fn wait(&mut self) -> io::Result<bool> {
            let mine = self.mine.clone();
            Ok(self.rt.block_on(async move {
                tokio::time::timeout(Duration::from_millis(100), mine.notified()).await.is_ok()
            }))
        }
    }

    /// Two current-thread runtimes, each waiting on a `Notify` the other side signals.
    pub(super) fn wakeup_pair() -> io::Result<(Box<dyn Side>, Box<dyn Side>)> {
        let (na, nb) = (Arc::new(Notify::new()), Arc::new(Notify::new()));
        let a = TokioSide { rt: runtime()?, mine: na.clone(), other: nb.clone() };
        let b = TokioSide { rt: runtime()?, mine: nb, other: na };
        Ok((Box::new(a), Box::new(b)))
    }
}

#[cfg(feature = "peers")]
mod mio_peer {
    use std::io::{self, ErrorKind, Read};
    use std::sync::Arc;
    use std::time::Duration;

    use mio::net::{TcpListener, TcpStream};
    use mio::{Interest, Poll, ReadyEvents, Token, Waker};

    use super::super::echo::Server;
    use super::super::wakeup::Side;

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
            let mut events = ReadyEvents::with_capacity(256);
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
                                        if super::super::echo::send_all(&mut *s, &buf[..n]).is_err() {
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
        events: ReadyEvents,
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
        let a = MioSide { poll: pa, events: ReadyEvents::with_capacity(8), other: wb };
        let b = MioSide { poll: pb, events: ReadyEvents::with_capacity(8), other: wa };
        Ok((Box::new(a), Box::new(b)))
    }
}

#[cfg(all(feature = "peers", target_os = "linux"))]
mod compio_peer {
    use std::io;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;

    use compio::io::{AsyncRead, AsyncWriteExt};
    use compio::BufResult;

    use super::super::echo::Server;

    /// A compio runtime (io_uring) accepting and echoing, one task per connection with an owned
    /// buffer, as the shared bench's `echo_compio.rs` does. compio has no cross-thread wake-up,
    /// so stopping sets a flag and connects once to get the accept loop to look at it.
    pub(super) fn echo_server() -> io::Result<Server> {
        let std_listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        let addr = std_listener.local_addr()?;
        let stopping = Arc::new(AtomicBool::new(false));
        let stopping2 = stopping.clone();
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let thread = std::thread::spawn(move || -> io::Result<()> {
            let rt = match compio::runtime::Runtime::new() {
                Ok(rt) => rt,
                Err(e) => {
                    let _ = ready_tx.send(Err(io::Error::new(io::ErrorKind::Unsupported, format!("compio: {e}"))));
                    return Ok(());
                }
            };
            rt.block_on(async move {
                let listener = compio::net::TcpListener::from_std(std_listener)?;
                let _ = ready_tx.send(Ok(()));
                loop {
                    let (s, _) = listener.accept().await?;
                    if stopping2.load(Ordering::Acquire) {
                        return Ok(());
                    }
                    s.set_nodelay(true)?;
                    compio::runtime::spawn(async move {
                        let mut s = s;
                        let mut buf = Vec::with_capacity(64 * 1024);
                        loop {
                            let BufResult(r, b) = s.read(buf).await;
                            buf = b;
                            match r {
                                Ok(0) | Err(_) => return,
                                Ok(_) => {
                                    let BufResult(w, b) = s.write_all(buf).await;
                                    buf = b;
                                    if w.is_err() {
                                        return;
                                    }
                                }
                            }
                        }
                    })
                    .detach();
                }
            })
        });
        match ready_rx.recv() {
            Ok(res) => res?,
            Err(_) => {
                return Err(thread
                    .join()
                    .map_err(|_| io::Error::other("the compio server panicked"))?
                    .err()
                    .unwrap_or_else(|| io::Error::other("the compio server ended at once")))
            }
        }
        let stop = Box::new(move || {
            stopping.store(true, Ordering::Release);
            if let Err(e) = std::net::TcpStream::connect(addr) {
                if !thread.is_finished() {
                    return Err(e); // the server runs on, detached
                }
            }
            thread.join().map_err(|_| io::Error::other("the compio server panicked"))?
        });
        Ok(Server { addr, stop })
    }
}
