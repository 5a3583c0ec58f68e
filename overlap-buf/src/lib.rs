//! Owned I/O buffers for [overlap](https://example.invalid/overlap).
//!
//! A completion-model operation (an overlapped `WSARecv`, an io_uring `recv`) keeps using its
//! buffer after the call that started it has returned, so the operation must **own** the buffer
//! until the kernel is done, and hand it back with the result, on success, error and cancel
//! alike. This crate holds the pieces for that and nothing that talks to the OS, so it runs
//! entirely under miri:
//!
//! - [`IoBuf`]: a buffer whose initialised bytes can be read by the kernel (sends, writes);
//! - [`IoBufMut`]: a buffer whose spare capacity the kernel can fill (receives, reads);
//! - [`BufResult`]: an `io::Result` paired with the buffer that came back;
//! - [`Buffer`]: libevent's `evbuffer`, a queue of bytes in a chain of owned [`Block`]s, with
//!   zero-copy moves, lines ([`Eol`]), searches, callbacks, and [`Space`] reserved for reads.
//!
//! ```
//! use overlap_buf::{BufResult, IoBuf, IoBufMut};
//!
//! let mut buf = Vec::with_capacity(16);
//! buf.extend_from_slice(b"abc");
//! assert_eq!(buf.buf_len(), 3);
//! assert_eq!(buf.buf_capacity(), 16);
//! let res = BufResult(Ok(3usize), buf);
//! let (n, buf) = res.unpack();
//! assert_eq!(n.unwrap(), 3);
//! assert_eq!(buf.as_slice(), b"abc");
//! ```
//!
//! A [`Buffer`] takes bytes at its end and gives them from its front, by line or by count;
//! a read fills reserved [`Space`] that is committed afterwards:
//!
//! ```
//! use overlap_buf::{Buffer, Eol};
//!
//! let mut buf = Buffer::new();
//! buf.add(b"HELO example.org\r\nMAIL FROM:")?;
//! assert_eq!(buf.readln(Eol::Crlf).as_deref(), Some(&b"HELO example.org"[..]));
//! assert_eq!(buf.readln(Eol::Crlf), None); // the second line is not complete yet
//!
//! // A read fills reserved room (a receive op writes through `IoBufMut`), then commits it.
//! let mut space = buf.reserve(64)?;
//! assert!(space.capacity() >= 64);
//! assert_eq!(space.extend_from_slice(b"<a@example.org>\r\n"), 17);
//! assert_eq!(buf.commit(space)?, 17);
//! assert_eq!(buf.readln(Eol::Crlf).as_deref(), Some(&b"MAIL FROM:<a@example.org>"[..]));
//! assert!(buf.is_empty());
//! # Ok::<(), std::io::Error>(())
//! ```
#![deny(unsafe_op_in_unsafe_fn)]

mod buf_result;
mod buffer;
mod io_buf;

pub use buf_result::BufResult;
pub use buffer::{Block, Buffer, CallbackId, CbInfo, Eol, Space};
pub use io_buf::{IoBuf, IoBufMut};
