//! The chains of the dispatch workload (libevent's `test/bench.c`, as `bench/c/dispatch.h` of
//! the shared harness has it): P non-blocking AF_UNIX socketpairs, the write side (one plain
//! `send` of one byte into the next pipe while the budget lasts) and the counts that tell when an
//! iteration is over. `overlap bench dispatch` (every path) and `overlap bench-peer dispatch`
//! share it: they differ only in how they learn that a read end has a byte.
//!
//! Unix only (socketpairs).

use std::io::{self, ErrorKind, Read, Write};
use std::os::unix::net::UnixStream;

/// One setting of the workload.
#[derive(Copy, Clone, Debug)]
pub(crate) struct Setting {
    /// Socketpairs (P), at least 1.
    pub(crate) pipes: usize,
    /// Chains started per iteration (A), 1 to P.
    pub(crate) active: usize,
    /// Writes per iteration (W).
    pub(crate) writes: usize,
}

/// The socketpairs of `setting`, non-blocking: the read ends (the i-th is pipe i's), and the
/// chain that writes into the write ends.
pub(crate) fn pipes(setting: Setting) -> io::Result<(Vec<UnixStream>, Chain)> {
    if setting.pipes == 0 || setting.active == 0 || setting.active > setting.pipes {
        let Setting { pipes, active, .. } = setting;
        let msg = format!("{active} active chains over {pipes} pipes: there must be 1 to {pipes}");
        return Err(io::Error::new(ErrorKind::InvalidInput, msg));
    }
    let (mut readers, mut writers) = (Vec::with_capacity(setting.pipes), Vec::with_capacity(setting.pipes));
    for _ in 0..setting.pipes {
        let (r, w) = UnixStream::pair()?;
        r.set_nonblocking(true)?;
        w.set_nonblocking(true)?;
        readers.push(r);
        writers.push(w);
    }
    Ok((readers, Chain { setting, writers, writes: 0, fired: 0, count: 0 }))
}

/// The state of the chains: the write ends, the budget left and the bytes written and read in
/// this iteration (`dispatch.h`'s globals).
#[derive(Debug)]
pub(crate) struct Chain {
    setting: Setting,
    writers: Vec<UnixStream>,
    /// Writes left in this iteration's budget.
    writes: usize,
    /// Bytes written in this iteration.
    fired: usize,
    /// Bytes read in this iteration.
    count: usize,
}

impl Chain {
    /// Writes one byte into pipe `i`.
    fn send(&self, i: usize) -> io::Result<()> {
        match (&self.writers[i]).write(b"e")? {
            1 => Ok(()),
            _ => Err(io::Error::new(ErrorKind::WriteZero, "a pipe took no byte")),
        }
    }

    /// Starts an iteration: one byte into each of A pipes spread evenly.
    pub(crate) fn kick(&mut self) -> io::Result<()> {
        let Setting { pipes, active, writes } = self.setting;
        (self.writes, self.fired, self.count) = (writes, 0, 0);
        for i in 0..active {
            self.send(i * (pipes / active))?;
            self.fired += 1;
        }
        Ok(())
    }

    /// `n` bytes were read from pipe `i`: pass one on to the next pipe, while the budget lasts.
    pub(crate) fn read(&mut self, i: usize, n: usize) -> io::Result<()> {
        self.count += n;
        if n > 0 && self.writes > 0 {
            self.send((i + 1) % self.setting.pipes)?;
            self.writes -= 1;
            self.fired += 1;
        }
        Ok(())
    }

    /// Every byte written in this iteration has been read.
    pub(crate) fn done(&self) -> bool {
        self.count == self.fired
    }

    /// The bytes written in this iteration (once it is done: its events, A + W).
    pub(crate) fn events(&self) -> usize {
        self.fired
    }
}

/// Reads one byte from a read end: 1, or 0 if there was none after all.
pub(crate) fn read_byte(r: &UnixStream) -> io::Result<usize> {
    match (&*r).read(&mut [0u8; 1]) {
        Ok(0) => Err(io::Error::new(ErrorKind::UnexpectedEof, "a pipe closed")),
        Ok(n) => Ok(n),
        Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::Interrupted) => Ok(0),
        Err(e) => Err(e),
    }
}
