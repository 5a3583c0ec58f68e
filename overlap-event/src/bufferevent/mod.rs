//! Buffered events: sockets, pairs and filters with input and output [`Buffer`](overlap_buf::Buffer)s;
//! [`BufferEvent`]'s docs draw how the readiness engine runs.

mod api;
mod call;
mod completion;
mod dial;
mod engine;
mod filter;
mod filter_fn;
mod guard;
mod lifetime;
mod pair;
mod rate;
mod ratelim;
mod settings;
mod shared;
mod socket;
mod what;

pub use filter_fn::{FilterFn, FilterResult};
pub use guard::BufferGuard;
pub use rate::{RateGroup, RateLimit};
pub use shared::BufferEvent;
pub(crate) use socket::fd_of;
pub use what::{Flush, What};
