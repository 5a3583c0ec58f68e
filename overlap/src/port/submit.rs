//! `SubmitError`: an op that could not be submitted, handed back.

use std::fmt;
use std::io;

/// An op that could not be submitted, with the op (and its buffer) back.
pub struct SubmitError<O> {
    /// Why.
    pub error: io::Error,
    /// The op, untouched.
    pub op: O,
}

impl<O> fmt::Debug for SubmitError<O> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SubmitError").field("error", &self.error).finish_non_exhaustive()
    }
}

impl<O> fmt::Display for SubmitError<O> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.error, f)
    }
}

impl<O> std::error::Error for SubmitError<O> {}

impl<O> From<SubmitError<O>> for io::Error {
    fn from(e: SubmitError<O>) -> io::Error {
        e.error
    }
}
