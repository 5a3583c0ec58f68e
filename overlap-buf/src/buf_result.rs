//! The result of an operation that owned a buffer.

use std::io;

/// An operation's result together with the buffer it owned.
///
/// The buffer comes back whatever the outcome: on success, on error and on cancel, so a caller
/// never loses memory it handed to the kernel.
#[must_use = "the buffer and the result are both here; dropping them loses the outcome"]
#[derive(Debug)]
pub struct BufResult<T, B>(pub io::Result<T>, pub B);

impl<T, B> BufResult<T, B> {
    /// Splits into the result and the buffer.
    pub fn unpack(self) -> (io::Result<T>, B) {
        (self.0, self.1)
    }

    /// Maps the success value, keeping the buffer.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> BufResult<U, B> {
        BufResult(self.0.map(f), self.1)
    }

    /// Maps the buffer, keeping the result.
    pub fn map_buf<C>(self, f: impl FnOnce(B) -> C) -> BufResult<T, C> {
        BufResult(self.0, f(self.1))
    }

    /// Whether the operation succeeded.
    pub fn is_ok(&self) -> bool {
        self.0.is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buffer_survives_errors() {
        let r: BufResult<usize, Vec<u8>> = BufResult(Err(io::ErrorKind::Interrupted.into()), vec![1, 2]);
        assert!(!r.is_ok());
        let (res, buf) = r.map(|n| n + 1).unpack();
        assert_eq!(res.unwrap_err().kind(), io::ErrorKind::Interrupted);
        assert_eq!(buf, vec![1, 2]);
    }

    #[test]
    fn map_buf_changes_only_the_buffer() {
        let r = BufResult(Ok(5usize), vec![0u8; 3]).map_buf(|b| b.len());
        assert_eq!(r.0.unwrap(), 5);
        assert_eq!(r.1, 3);
    }
}
