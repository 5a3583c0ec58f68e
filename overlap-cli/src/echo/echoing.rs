//! Echoing on a non-blocking socket, for the servers that wait for readiness (the readiness
//! model's reactors and the event model's bases): read what is there and write it back; what
//! the socket does not take now waits, in order, until it is writable; reading pauses while
//! [`PENDING_CAP`] bytes wait (a client that sends but never reads cannot grow the server
//! without bound).

use std::io::{self, ErrorKind, Read, Write};
use std::net::TcpStream;

/// Reading stops while this much is waiting to be written back.
pub const PENDING_CAP: usize = 1 << 20;

/// The read buffer of a serving thread (one for all its connections).
pub const BUF: usize = 64 * 1024;

/// A connection being echoed: the socket, and the bytes read but not yet written back.
#[derive(Debug)]
pub struct Echoing {
    /// The accepted socket, non-blocking.
    pub stream: TcpStream,
    /// Bytes read but not yet written back (the socket was full).
    pending: Vec<u8>,
}

impl Echoing {
    /// Echoes on `stream` (non-blocking already).
    pub fn new(stream: TcpStream) -> Echoing {
        Echoing { stream, pending: Vec::new() }
    }

    /// Whether bytes wait to be written back (the socket's writability matters).
    pub fn has_pending(&self) -> bool {
        !self.pending.is_empty()
    }

    /// Whether reading is paused: [`PENDING_CAP`] bytes wait.
    pub fn is_full(&self) -> bool {
        self.pending.len() >= PENDING_CAP
    }

    /// Writes what waits, then reads what is there and writes it back (through `buf`); false
    /// when the connection is over (end of stream or an error).
    pub fn echo(&mut self, buf: &mut [u8]) -> bool {
        if !self.flush() {
            return false;
        }
        while !self.is_full() {
            match (&self.stream).read(buf) {
                Ok(0) => return false,
                Ok(n) => {
                    if self.pending.is_empty() {
                        match write_some(&self.stream, &buf[..n]) {
                            Ok(w) => self.pending.extend_from_slice(&buf[w..n]),
                            Err(_) => return false,
                        }
                    } else {
                        self.pending.extend_from_slice(&buf[..n]);
                    }
                    if n < buf.len() {
                        // A short read emptied the receive queue: whatever arrives next is a new
                        // edge (and a level trigger reports it anyway). Saves the read that would
                        // only say WouldBlock: a third of the system calls of a small echo.
                        return true;
                    }
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => return true,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(_) => return false,
            }
        }
        true // full: writability resumes reading once the output drains
    }

    /// Writes what waits, as much as the socket takes now; false if the connection failed.
    pub fn flush(&mut self) -> bool {
        if self.pending.is_empty() {
            return true;
        }
        match write_some(&self.stream, &self.pending) {
            Ok(n) => {
                self.pending.drain(..n);
                true
            }
            Err(_) => false,
        }
    }
}

/// Writes what the socket takes now; the count written.
fn write_some(mut s: &TcpStream, data: &[u8]) -> io::Result<usize> {
    let mut done = 0;
    while done < data.len() {
        match s.write(&data[done..]) {
            Ok(n) => done += n,
            Err(e) if e.kind() == ErrorKind::WouldBlock => break,
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(done)
}
