//! The wake-up workload: two threads waking each other in turn, as fast as they can (libuv's
//! `async_pummel`, made a ping-pong so that every wake is seen): round trips per second.

use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use overlap::{CompletionPort, Reactor, ReadyEvents, Token, Waker};

use super::cell::{Cell, FEW_FDS};
use super::path::Path;
use super::sample::{Figure, Sample};
use super::side::Side;
use super::{peers, sys};

/// One cell per path.
pub(crate) fn cells(paths: &[Path]) -> Vec<Cell> {
    paths
        .iter()
        .filter(|&&p| p != Path::FloorUring) // an echo server only
        .filter(|&&p| !matches!(p, Path::Event(_) | Path::BufferEvent(_) | Path::BufferEventPort(_))) // no wake-up pair
        .filter(|&&p| !matches!(p, Path::Peer(name) if !peers::has_wakeup(name)))
        .map(|&path| Cell {
            workload: "wakeup",
            setting: "2 threads".into(),
            path,
            run,
            conns: 0,
            size: 0,
            fds: FEW_FDS,
        })
        .collect()
}

fn run(cell: &Cell, secs: Duration) -> io::Result<Sample> {
    let (a, b) = pair(cell.path)?;
    let stop = Arc::new(AtomicBool::new(false));
    let stop2 = stop.clone();
    let echo = std::thread::spawn(move || -> io::Result<()> {
        sys::pin_to(1);
        let mut b = b;
        while !stop2.load(Ordering::Acquire) {
            if b.wait()? {
                b.wake_other()?;
            }
        }
        Ok(())
    });
    let mut a = a;
    let start = Instant::now();
    let mut trips = 0u64;
    let res = (|| {
        while start.elapsed() < secs {
            a.wake_other()?;
            while !a.wait()? {}
            trips += 1;
        }
        Ok::<(), io::Error>(())
    })();
    let elapsed = start.elapsed();
    stop.store(true, Ordering::Release);
    let _ = a.wake_other();
    echo.join().map_err(|_| io::Error::other("the wake-up thread panicked"))??;
    res?;
    Ok(Sample { figures: vec![Figure::higher("trips/s", trips as f64 / elapsed.as_secs_f64())] })
}

fn pair(path: Path) -> io::Result<(Box<dyn Side>, Box<dyn Side>)> {
    match path {
        Path::Peer(name) => peers::wakeup_pair(name),
        #[cfg(epoll)]
        Path::Floor => {
            use sys::raw_epoll::{EventFd, Waiter};
            struct Raw {
                mine: Arc<EventFd>,
                other: Arc<EventFd>,
                waiter: Waiter,
            }
            impl Side for Raw {
                fn wake_other(&mut self) -> io::Result<()> {
                    self.other.signal();
                    Ok(())
                }
                fn wait(&mut self) -> io::Result<bool> {
                    self.waiter.wait(&self.mine, 100)
                }
            }
            let (ea, eb) = (Arc::new(EventFd::new()?), Arc::new(EventFd::new()?));
            let a = Raw { waiter: Waiter::new(&ea)?, mine: ea.clone(), other: eb.clone() };
            let b = Raw { waiter: Waiter::new(&eb)?, mine: eb, other: ea };
            Ok((Box::new(a), Box::new(b)))
        }
        #[cfg(not(epoll))]
        Path::Floor => Err(io::ErrorKind::Unsupported.into()),
        Path::FloorUring | Path::Event(_) | Path::BufferEvent(_) | Path::BufferEventPort(_) => {
            Err(io::ErrorKind::Unsupported.into())
        }
        Path::Reactor(backend) => {
            struct R {
                reactor: Reactor,
                other: Waker,
                events: ReadyEvents,
            }
            impl Side for R {
                fn wake_other(&mut self) -> io::Result<()> {
                    self.other.wake()
                }
                fn wait(&mut self) -> io::Result<bool> {
                    self.reactor.poll(&mut self.events, Some(Duration::from_millis(100)))?;
                    Ok(!self.events.is_empty())
                }
            }
            let open = || Reactor::builder().backend(backend).build();
            let (ra, rb) = (open()?, open()?);
            let (wa, wb) = (Waker::new(ra.registry(), Token(0))?, Waker::new(rb.registry(), Token(0))?);
            let a = R { reactor: ra, other: wb, events: ReadyEvents::with_capacity(8) };
            let b = R { reactor: rb, other: wa, events: ReadyEvents::with_capacity(8) };
            Ok((Box::new(a), Box::new(b)))
        }
        Path::Port(backend) => {
            struct P {
                mine: CompletionPort,
                other: CompletionPort,
            }
            impl Side for P {
                fn wake_other(&mut self) -> io::Result<()> {
                    self.other.post(0, 0, 0).map(drop)
                }
                fn wait(&mut self) -> io::Result<bool> {
                    Ok(self.mine.wait(Some(Duration::from_millis(100)))?.is_some())
                }
            }
            let open = || CompletionPort::builder().backend(backend).concurrency(1).build();
            let (pa, pb) = (open()?, open()?);
            let a = P { mine: pa.clone(), other: pb.clone() };
            let b = P { mine: pb, other: pa };
            Ok((Box::new(a), Box::new(b)))
        }
    }
}
