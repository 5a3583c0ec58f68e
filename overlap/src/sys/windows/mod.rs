//! Windows backends: [`iocp`] (completion, native: an I/O completion port) and [`afd`]
//! (readiness emulated over IOCP with `IOCTL_AFD_POLL`, the seed-1 idea without its 63-socket
//! limit).
//!
//! | file | what |
//! |---|---|
//! | `cport.rs` | the completion-port kernel object: create, associate, post, batched dequeue |
//! | `device.rs` | `\Device\Afd` handles and the `IOCTL_AFD_POLL` request (both backends) |
//! | `file.rs` | whether a file handle was opened for overlapped I/O |
//! | `net.rs` | socket helpers: base handles, extension functions, Winsock errors |
//! | `identity.rs` | what a socket or handle is: its identity for the registration table, its kind |
//! | `addr.rs` | socket addresses as Winsock reads and writes them |
//! | `overlapped.rs` | one in-flight op: its `OVERLAPPED`, issue and finish |
//! | `stream.rs` | a non-blocking receive into an owned buffer and a gathered send (buffered events) |
//! | `iocp.rs` | the completion `Driver` |
//! | `afd.rs` | the readiness `Selector` |
//! | `signal.rs` | console control events (Ctrl+C, Ctrl+Break) as signals |

pub(crate) mod addr;
pub(crate) mod afd;
mod cport;
mod device;
mod file;
pub(crate) mod identity;
pub(crate) mod iocp;
mod net;
mod overlapped;
pub(crate) mod signal;
pub(crate) mod stream;
