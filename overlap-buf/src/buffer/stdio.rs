//! `std::io::Read` and `std::io::Write` for [`Buffer`]: reading removes from the front,
//! writing adds at the end, so a buffer plugs into `io::copy`, `write!` and the like.
//!
//! ```text
//!   write(&[u8]) ─► add ─► [ blocks ] ─► remove ─► read(&mut [u8])
//! ```
//!
//! A frozen side gives its `PermissionDenied` error; reading an empty buffer gives `Ok(0)`.

use std::io::{self, Read, Write};

use super::chain::Buffer;

impl Read for Buffer {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        self.remove(out)
    }
}

impl Write for Buffer {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.add(data)?;
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}
