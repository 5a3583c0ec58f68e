//! `Token`: the caller's name for a registration.

/// The caller's name for a registered source, returned with each of its events.
///
/// `Token(usize::MAX)` is reserved for the reactor's own use; registering it is an
/// `InvalidInput` error. Within one [`Reactor`](crate::Reactor) a token names one live
/// registration (or the [`Waker`](crate::Waker)) at a time.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Token(pub usize);

impl Token {
    /// The reserved token.
    pub(crate) const RESERVED: Token = Token(usize::MAX);
}

impl From<usize> for Token {
    fn from(n: usize) -> Self {
        Token(n)
    }
}

impl From<Token> for usize {
    fn from(t: Token) -> usize {
        t.0
    }
}
