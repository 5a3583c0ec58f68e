//! The floor between the two models and the backends: the traits a backend implements, and
//! every type that crosses them.
//!
//! | file | what |
//! |---|---|
//! | `selector.rs` | [`Selector`](selector::Selector): what a readiness backend does |
//! | `driver.rs` | [`Driver`](driver::Driver): what a completion backend does |
//! | `token.rs`, `interest.rs`, `ready.rs` | what selectors are asked for and report: `Token`, `Interest`, `Trigger`, `ReadyEvent` |
//! | `source.rs`, `addr.rs` | raw handles and socket addresses, as the kernel names them |
//! | `desc.rs` | what an op asks of the kernel (`Desc`, `OpCode`), and how it runs (`Route`) |
//! | `completion.rs` | an op in flight (`Pending`) and done (`Completion`), and its `OpId` |
//! | `queue.rs` | the completion queue every waiter of a port shares, and who drives the kernel |
//! | `timers.rs` | the timer heap every completion driver keeps its timeouts in |
//! | `lanes.rs` | the ops waiting behind the one in flight, per lane (io_uring, IOCP) |
//!
//! The crate's floors, each importing only from those below it:
//!
//! ```text
//!   reactor/  port/  op/        the two models and the ops (public API)
//!   sys/                        the backends: unsafe leaf files behind Selector and Driver
//!   contract/                   this floor
//!   error.rs  int_map.rs  sync.rs
//! ```
//!
//! A backend never names `reactor/`, `port/` or `op/`: what it needs comes down in these
//! types, and what it produces goes out through them (a driver pushes completions into the
//! queue, as compio's poll driver returns ready-or-pending instead of calling back up).

pub(crate) mod addr;
pub(crate) mod completion;
pub(crate) mod desc;
pub(crate) mod driver;
pub(crate) mod interest;
#[cfg(any(uring, windows))] // the drivers that keep one op of a lane in the kernel
pub(crate) mod lanes;
pub(crate) mod queue;
pub(crate) mod ready;
pub(crate) mod selector;
pub(crate) mod source;
pub(crate) mod timers;
pub(crate) mod token;
