//! The tokio peer: the echo server and the wake-up pair on current-thread runtimes.

use std::io;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::Notify;

use super::super::server::Server;
use super::super::side::Side;

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
        Ok(self
            .rt
            .block_on(async move { tokio::time::timeout(Duration::from_millis(100), mine.notified()).await.is_ok() }))
    }
}

/// Two current-thread runtimes, each waiting on a `Notify` the other side signals.
pub(super) fn wakeup_pair() -> io::Result<(Box<dyn Side>, Box<dyn Side>)> {
    let (na, nb) = (Arc::new(Notify::new()), Arc::new(Notify::new()));
    let a = TokioSide { rt: runtime()?, mine: na.clone(), other: nb.clone() };
    let b = TokioSide { rt: runtime()?, mine: nb, other: na };
    Ok((Box::new(a), Box::new(b)))
}
