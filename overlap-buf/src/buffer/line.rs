//! Reading lines: [`Buffer::readln`] and its bounded form [`Buffer::readln_max`].
//!
//! ```text
//!   "GET / HTTP/1.1\r\nHost: x\r\n"  ──readln(Crlf)──►  "GET / HTTP/1.1"  (line + CR LF drained)
//!   "abc\r"                          ──readln(Crlf)──►  None               (the LF may follow)
//! ```
//!
//! `readln_max(eol, max)` decides from at most the first `max` bytes plus an end of line:
//!
//! | the buffer holds | result |
//! |---|---|
//! | an end of line starting at position `≤ max` | `Ok(Some(line))`, line and end of line drained |
//! | no end of line within that, and at most `max` bytes (or `max` bytes then a CR that may start a CR LF) | `Ok(None)`: wait for more |
//! | no end of line within that, and more bytes | `Err(InvalidData)`, nothing drained |

use std::io;

use super::chain::Buffer;
use super::error;
use super::search::Eol;

impl Buffer {
    /// Takes the first line, without its end of line (both drained); `None` when there is no
    /// complete line yet, or the front is frozen.
    pub fn readln(&mut self, eol: Eol) -> Option<Vec<u8>> {
        if self.frozen_front {
            return None;
        }
        let (pos, eol_len) = self.search_eol(0, eol)?;
        self.take_line(pos, eol_len).ok()
    }

    /// Takes the first line if it is at most `max` bytes long (see the module docs):
    /// `Err(InvalidData)` when it cannot be (the buffer is left unchanged), `Ok(None)` when no
    /// line is complete yet. `PermissionDenied` when the front is frozen.
    pub fn readln_max(&mut self, eol: Eol, max: usize) -> io::Result<Option<Vec<u8>>> {
        self.check_front()?;
        if let Some((pos, eol_len)) = self.find_eol(0, max, eol) {
            return self.take_line(pos, eol_len).map(Some);
        }
        if self.len <= max || self.eol_may_start_at_end(eol, max) {
            return Ok(None);
        }
        Err(error::line_too_long())
    }

    /// Whether the buffer is `max` bytes followed by a lone CR that a coming LF would make
    /// the end of a line of exactly `max` bytes.
    fn eol_may_start_at_end(&self, eol: Eol, max: usize) -> bool {
        let cr_style = matches!(eol, Eol::Crlf | Eol::CrlfStrict);
        let mut last = [0u8];
        cr_style && self.len == max.saturating_add(1) && self.copyout_from(max, &mut last) == 1 && last[0] == b'\r'
    }

    /// Copies out the `pos` bytes of a line, drains them and the `eol_len` after them.
    fn take_line(&mut self, pos: usize, eol_len: usize) -> io::Result<Vec<u8>> {
        let mut line = Vec::new();
        line.try_reserve_exact(pos).map_err(|_| error::out_of_memory())?;
        for s in self.peek(0, pos) {
            line.extend_from_slice(s);
        }
        self.drain(pos + eol_len)?;
        Ok(line)
    }
}
