//! The compio peer: the echo server on compio's io_uring runtime.

use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use compio::io::{AsyncRead, AsyncWriteExt};
use compio::BufResult;

use super::super::server::Server;

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
