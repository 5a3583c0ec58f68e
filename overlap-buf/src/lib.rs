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
//! - [`BufResult`]: an `io::Result` paired with the buffer that came back.
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
#![deny(unsafe_op_in_unsafe_fn)]

mod buf_result;
mod io_buf;

pub use buf_result::BufResult;
pub use io_buf::{IoBuf, IoBufMut};
