//! The dispatch workload: libevent's `test/bench.c`, as the C benchmarks in `bench/c`
//! (`dispatch.h`) reimplement it, so that the figures compare with theirs.
//!
//! P non-blocking socketpairs; every read end is watched. An iteration starts A "active" chains
//! by writing one byte into A pipes spread evenly; every time a read end is readable, one byte
//! is read from it and, while the write budget W lasts, one byte is written into the next pipe
//! (index + 1 mod P). The iteration ends when every written byte has been read: A + W events.
//! After one untimed warm-up, iterations repeat for about the cell's time (at least 3); the
//! figure is the median iteration time divided by the events of an iteration, in ns per event,
//! as the C `ns_per_event`.
//!
//! The paths differ only in how they learn that a read end has a byte: the floor waits on a raw
//! level-triggered epoll (`sys/dispatch_floor.rs`), the `Reactor` paths poll level-triggered
//! registrations (one token per pipe), the `CompletionPort` paths keep a 1-byte `Recv`
//! outstanding on every read end, re-submitted on each completion, and the event-loop paths run
//! an `EventBase` with one READ|PERSIST event per read end whose callback reads and passes the
//! byte on (`event_dispatch.rs`, libevent's idiom). The writes are the same plain `send`s on std
//! sockets everywhere (`chain.rs`).
//!
//! Unix only (socketpairs); elsewhere there are no cells.

#[cfg(unix)]
pub(crate) use unix::cells;

/// The dispatch cells: none where there are no socketpairs.
#[cfg(not(unix))]
pub(crate) fn cells(_paths: &[super::path::Path], _quick: bool) -> Vec<super::cell::Cell> {
    Vec::new()
}

#[cfg(unix)]
mod unix {
    use std::io::{self, ErrorKind};
    use std::os::unix::net::UnixStream;
    use std::time::{Duration, Instant};

    use overlap::op::Recv;
    use overlap::{CompletionPort, Handle, Interest, Reactor, ReadyEvents, Token, Trigger};

    use super::super::cell::{Cell, FEW_FDS};
    use super::super::chain::{self, read_byte, Chain, Setting};
    use super::super::event_dispatch::EventChain;
    use super::super::path::Path;
    use super::super::sample::{Figure, Sample};

    /// The settings, smallest first (`--quick` runs only the first).
    const SETTINGS: [Setting; 2] =
        [Setting { pipes: 100, active: 1, writes: 100 }, Setting { pipes: 1000, active: 10, writes: 1000 }];

    /// No event for this long fails the cell (a lost byte would otherwise hang it).
    const STALL: Duration = Duration::from_secs(10);

    /// The dispatch cells: every setting (the first only with `quick`) on every path. A cell's
    /// `conns` is the index of its setting in [`SETTINGS`].
    pub(crate) fn cells(paths: &[Path], quick: bool) -> Vec<Cell> {
        let settings = if quick { &SETTINGS[..1] } else { &SETTINGS[..] };
        let mut cells = Vec::new();
        for (i, s) in settings.iter().enumerate() {
            // The in-process peers (`Path::Peer`) have no dispatch loop (yet).
            let has_loop = |p: &&Path| matches!(p, Path::Floor | Path::Reactor(_) | Path::Event(_) | Path::Port(_));
            for &path in paths.iter().filter(has_loop) {
                let setting = format!("{} pipes, {} active", s.pipes, s.active);
                let fds = 2 * s.pipes + FEW_FDS;
                cells.push(Cell { workload: "dispatch", setting, path, run, conns: i, size: 0, fds });
            }
        }
        cells
    }

    /// Runs one cell: builds the pipes and the path's loop, then measures.
    pub(super) fn run(cell: &Cell, secs: Duration) -> io::Result<Sample> {
        let setting = *SETTINGS.get(cell.conns).ok_or_else(|| io::Error::other("no such dispatch setting"))?;
        let (readers, chain) = chain::pipes(setting)?;
        match cell.path {
            #[cfg(epoll)]
            Path::Floor => {
                use std::os::fd::AsFd;
                let epoll = super::super::sys::dispatch_floor::Epoll::new(readers.iter().map(|r| r.as_fd()))?;
                measure(turns(Floor { epoll, readers }, chain), secs)
            }
            #[cfg(not(epoll))]
            Path::Floor => Err(ErrorKind::Unsupported.into()),
            Path::FloorUring => Err(ErrorKind::Unsupported.into()),
            Path::Reactor(backend) => {
                let reactor = Reactor::builder().backend(backend).build()?;
                for (i, r) in readers.iter().enumerate() {
                    reactor.registry().register(r, Token(i), Interest::READABLE, Trigger::Level)?;
                }
                measure(turns(ReactorLoop { reactor, events: ReadyEvents::with_capacity(1024), readers }, chain), secs)
            }
            Path::Port(backend) => {
                let port = CompletionPort::builder().backend(backend).single_thread(true).build()?;
                let mut handles = Vec::with_capacity(readers.len());
                for (i, r) in readers.into_iter().enumerate() {
                    let h = port.associate(r, i)?;
                    port.submit(Recv::new(&h, Vec::with_capacity(1)), i)?;
                    handles.push(h);
                }
                measure(turns(PortLoop { port, out: Vec::with_capacity(1024), handles }, chain), secs)
            }
            Path::Event(backend) => {
                let mut ec = EventChain::new(Some(backend), readers, chain, Some(STALL))?;
                measure(move || Ok((ec.iteration()?, ec.events())), secs)
            }
            Path::BufferEvent(_) | Path::BufferEventPort(_) => {
                Err(io::Error::new(ErrorKind::Unsupported, "buffered events do not dispatch bytes"))
            }
            Path::Peer(name) => Err(io::Error::new(ErrorKind::Unsupported, format!("no dispatch loop for {name}"))),
        }
    }

    /// How a path waits for read ends with a byte.
    trait Dispatch {
        /// Waits (at most [`STALL`]) and calls `chain.read` for every byte that arrived;
        /// `TimedOut` if none did.
        fn turn(&mut self, chain: &mut Chain) -> io::Result<()>;
    }

    /// The error of a wait that saw nothing for [`STALL`].
    fn stalled() -> io::Error {
        io::Error::new(ErrorKind::TimedOut, format!("no event within {} s: a byte was lost", STALL.as_secs()))
    }

    /// The floor: raw epoll.
    #[cfg(epoll)]
    struct Floor {
        epoll: super::super::sys::dispatch_floor::Epoll,
        readers: Vec<UnixStream>,
    }

    #[cfg(epoll)]
    impl Dispatch for Floor {
        fn turn(&mut self, chain: &mut Chain) -> io::Result<()> {
            let mut any = false;
            for i in self.epoll.wait(STALL.as_millis() as i32)? {
                any = true;
                chain.read(i, read_byte(&self.readers[i])?)?;
            }
            if any {
                Ok(())
            } else {
                Err(stalled())
            }
        }
    }

    /// An overlap `Reactor`, level-triggered, one token per pipe.
    struct ReactorLoop {
        reactor: Reactor,
        events: ReadyEvents,
        readers: Vec<UnixStream>,
    }

    impl Dispatch for ReactorLoop {
        fn turn(&mut self, chain: &mut Chain) -> io::Result<()> {
            self.reactor.poll(&mut self.events, Some(STALL))?;
            if self.events.is_empty() {
                return Err(stalled());
            }
            for ev in &self.events {
                let i = ev.token().0;
                chain.read(i, read_byte(&self.readers[i])?)?;
            }
            Ok(())
        }
    }

    /// An overlap `CompletionPort`: a 1-byte `Recv` outstanding on every read end (key and user
    /// data = the pipe's index), re-submitted as soon as it completes.
    struct PortLoop {
        port: CompletionPort,
        out: Vec<overlap::Completion>,
        /// The read ends, by index (the ops in flight hold clones).
        handles: Vec<Handle>,
    }

    impl Dispatch for PortLoop {
        fn turn(&mut self, chain: &mut Chain) -> io::Result<()> {
            if self.port.wait_many(&mut self.out, 1024, Some(STALL))? == 0 {
                return Err(stalled());
            }
            for c in self.out.drain(..) {
                let i = c.key();
                let Ok(done) = c.into_op::<Recv<Vec<u8>>>() else {
                    return Err(io::Error::other("a completion that is not a Recv"));
                };
                let (n, recv) = done.unpack();
                let n = n?;
                if n == 0 {
                    return Err(io::Error::new(ErrorKind::UnexpectedEof, "a pipe closed"));
                }
                let mut buf = recv.into_buf();
                buf.clear();
                self.port.submit(Recv::new(&self.handles[i], buf), i)?;
                chain.read(i, n)?;
            }
            Ok(())
        }
    }

    /// The iterations of a path that turns its own loop: each starts the chains, then turns until
    /// every byte was read; its time (from after the first writes) and events.
    fn turns(mut path: impl Dispatch, mut chain: Chain) -> impl FnMut() -> io::Result<(Duration, usize)> {
        move || {
            chain.kick()?;
            let t = Instant::now();
            while !chain.done() {
                path.turn(&mut chain)?;
            }
            Ok((t.elapsed(), chain.events()))
        }
    }

    /// One warm-up iteration, then timed ones for about `secs` (at least 3): the median time
    /// per event, and per iteration.
    fn measure(mut iteration: impl FnMut() -> io::Result<(Duration, usize)>, secs: Duration) -> io::Result<Sample> {
        let mut times = Vec::new();
        let mut events = 0;
        let start = Instant::now();
        for it in 0.. {
            if it > 3 && start.elapsed() >= secs {
                break;
            }
            let (took, n) = iteration()?;
            if it > 0 {
                times.push(took.as_nanos() as f64);
            }
            events = n;
        }
        times.sort_by(f64::total_cmp);
        let median = times[times.len() / 2]; // as the C `report_dispatch`
        Ok(Sample {
            figures: vec![Figure::lower("ns/event", median / events as f64), Figure::lower("µs/iter", median / 1e3)],
        })
    }
}
