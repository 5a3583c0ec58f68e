//! `Listener` (libevent's `evconnlistener`): a listening socket whose connections are
//! accepted on the loop and handed to a callback, one call per connection.
//!
//! ```text
//!   readable ─► accept until it would block (at most ACCEPT_BATCH per wake)
//!                 ├─ a connection: callback(socket, peer), non-blocking
//!                 ├─ aborted / interrupted: next
//!                 ├─ out of descriptors (EMFILE, ENFILE, ENOBUFS, ENOMEM):
//!                 │     error callback once, stop watching, retry after a back-off
//!                 │     (10 ms doubling to 1 s), from scratch after a success
//!                 └─ another error: error callback, keep watching
//! ```
//!
//! On a base whose engine is completion, `OUTSTANDING` accept ops wait on the port instead
//! (`ops.rs`), with the same outcomes.
//!
//! A listener lives until [`free`](Listener::free) (which closes the socket), whether or not
//! a handle to it is kept (its base holds it); there is no limit on how many one base holds.

mod accept;
mod api;
mod errors;
mod ops;
mod options;
mod shared;

pub use options::ListenerOptions;
pub use shared::Listener;
