//! [`Buffer`]: libevent's `evbuffer`, a queue of bytes kept as a chain of blocks.
//!
//! Bytes are added at the end and taken from the front. They live in [`Block`]s: owned
//! allocations (`Vec<u8>`) or references to a caller's memory. Moving data between buffers
//! moves blocks, not bytes; only the block at a boundary is ever split by copying.
//!
//! ```text
//!  Buffer { blocks, len, spare, callbacks, frozen }
//!
//!   front                                                                end
//!   ┌─────────────────┐   ┌───────────────────────┐   ┌──────────────────────┐
//!   │░░░│ live bytes  │──►│ reference (caller's T)│──►│ live bytes │ room    │
//!   └─────────────────┘   └───────────────────────┘   └──────────────────────┘
//!   drain / remove / pop_block / readln                add / commit fill the room,
//!   advance into or pop the first block                then push a new block
//!
//!   spare: at most one emptied allocation (≤ Buffer::SPARE_MAX) kept for the next reserve / block
//! ```
//!
//! Invariants: no block in the chain is empty; `len` is the sum of the blocks' lengths.
//!
//! **Block sizes.** `add` first fills the room of the last block, then puts the rest in a new
//! block of at least [`Buffer::BLOCK_MIN`] bytes (1 KiB), doubling from the last block up to
//! [`Buffer::BLOCK_MAX`] (4 KiB); what is left over from 4 KiB up gets one block of exactly its size.
//! [`Buffer::reserve`] hands out at least 4 KiB (or exactly `n` above that).
//!
//! **Memory.** A block drained empty is popped; its allocation becomes the `spare` if it is at
//! most 4 KiB and larger than the spare held, so a steady add/drain or reserve/commit/drain
//! cycle allocates nothing. Moving data between buffers (`add_buffer`, `remove_buffer`) hands
//! the receiving buffer's spare to the giving one when that has none: in an echo that moves
//! input to output, the allocations drained from the output flow back to the input's reserve.
//! [`Buffer::shrink`] frees the spare and an empty chain's slots. An empty `Buffer::new()`
//! allocates nothing.
//!
//! **Freezing** (libevent's `evbuffer_freeze`): a frozen front refuses drain, remove,
//! remove_buffer, prepend, prepend_buffer, push_front_block, pop_block (`None`) and readln
//! (`None`); a frozen end refuses add, add_vec, add_block, add_reference, add_buffer, reserve
//! and commit; `add_buffer` also needs the source's front unfrozen, `prepend_buffer` the
//! source's front. Refusals are `ErrorKind::PermissionDenied`; what was handed in by value
//! (a `Vec`, a `Block`, a reference) is dropped, a reference released.
//!
//! **Threads.** A `Buffer` is not `Send`: its callbacks may hold `Rc`s, as event-loop
//! callbacks do. A [`Block`] and a [`Space`] are `Send`, so a completion-model op may carry
//! them to whichever thread completes it; that is why a reference's value and release function
//! must be `Send`.
//!
//! **Panics**: none on any input. Sizes that cannot be allocated give `ErrorKind::OutOfMemory`
//! and leave the buffer as it was.

mod add;
mod block;
mod callbacks;
mod chain;
mod error;
mod line;
mod notify;
mod read;
mod remove;
mod reserve;
mod search;
mod space;
mod stdio;

pub use block::Block;
pub use callbacks::{CallbackId, CbInfo};
pub use chain::Buffer;
pub use search::Eol;
pub use space::Space;
