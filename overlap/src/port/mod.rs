//! The completion model (Windows IOCP semantics) on every backend: associate handles with a
//! [`CompletionPort`] under completion keys, submit [ops](crate::op) that own their buffers,
//! and let any number of threads wait for the completions.
//!
//! | file | what |
//! |---|---|
//! | `completion_port.rs` | [`CompletionPort`]: associate, submit, post, wait, cancel, close |
//! | `builder.rs` | [`PortBuilder`]: backend, concurrency limit, single-thread ports |
//! | `handle.rs` | [`Handle`]: a socket, pipe or file of a port; [`Associate`]: what can be one |
//! | `backend.rs` | [`PortBackend`]: which driver, chosen at run time |
//! | `submit.rs` | [`SubmitError`]: an op refused, handed back |
//! | `shared.rs` | what every clone of a port and its handles share |
//!
//! What crosses into the drivers — an op in flight, its completion, the completion queue and
//! its leader/follower rules, the timer heap — is in `contract/`, below the drivers.

pub(crate) mod backend;
pub(crate) mod builder;
pub(crate) mod completion_port;
pub(crate) mod handle;
pub(crate) mod shared;
pub(crate) mod submit;

pub use backend::PortBackend;
pub use builder::PortBuilder;
pub use completion_port::CompletionPort;
pub use handle::{Associate, Handle};
pub use submit::SubmitError;
