//! The echo server on buffered events (`overlap-event`'s `BufferEvent` and `Listener`:
//! libevent's bufferevent and evconnlistener, as `echo_libevent.c` of the shared bench uses
//! them): an event base per thread (`bases.rs`), one thread unless asked for more, each with a
//! `Listener` made from its own listening socket (SO_REUSEPORT per thread where there is one).
//!
//! Per connection (TCP_NODELAY) a `BufferEvent` whose read callback moves its input to its
//! output (whole blocks, no byte copied; sent in the same iteration of the loop); it frees
//! itself at end of stream or on an error (which closes the socket). What one connection holds
//! is bounded, whatever its client does:
//!
//! ```text
//!   input:  reading stops while it holds READ_HIGH (the read high watermark; the callback
//!           empties it, so this is a guard)
//!   output: above OUTPUT_CAP after a read ─► reading disabled
//!           drained to OUTPUT_LOW (the write low watermark) ─► the write callback enables it
//! ```
//!
//! so a client that sends without reading fills the socket buffers and then waits, instead of
//! growing the server.

use std::io;
use std::net::TcpListener;

use overlap_event::Method;
use overlap_event::{BufferEvent, EventBase, EventConfig, Flags, Listener, ListenerOptions, What};
use socket2::Socket;

use super::bases::{out_of_descriptors, Failure};

/// The read high watermark: reading stops while the input holds this much.
pub const READ_HIGH: usize = 1 << 20;
/// Reading is disabled while the output holds more than this.
pub const OUTPUT_CAP: usize = 4 << 20;
/// The write low watermark: the write callback runs (and enables reading again) once a write
/// leaves the output at or below this.
pub const OUTPUT_LOW: usize = 1 << 20;

/// A base on `backend` with a `Listener` on `listener` that serves each connection with a
/// buffered event. An accept error other than running out of descriptors (from which the
/// listener backs off by itself) ends the loop with it.
pub(super) fn build(listener: TcpListener, backend: Method, failed: &Failure) -> io::Result<EventBase> {
    // On a completion port the base's default engine is completion.
    let mut base = EventBase::with_config(&EventConfig::new().method(backend))?;
    let listener = Listener::from_socket(&mut base, listener, ListenerOptions::new(), |base, _, sock, _| {
        // A connection that cannot be set up is closed and the others served.
        let _ = open(base, sock);
    })?;
    let failed = failed.clone();
    listener.on_error(move |base, _, e| {
        if !out_of_descriptors(&e) {
            failed.borrow_mut().get_or_insert(e);
            base.loopbreak();
        }
    });
    Ok(base) // the base holds the listener until it is dropped
}

/// Serves an accepted connection: a buffered event reading and echoing, with its watermarks.
fn open(base: &mut EventBase, sock: Socket) -> io::Result<()> {
    sock.set_tcp_nodelay(true)?;
    let bev = BufferEvent::socket(base, sock)?;
    bev.on_read(echo);
    bev.on_write(resume);
    bev.on_event(|base, bev, what| {
        if what.intersects(What::EOF | What::ERROR) {
            let _ = bev.free(base);
        }
    });
    let set_up = bev
        .set_read_watermarks(base, 0, Some(READ_HIGH))
        .and_then(|()| bev.set_write_watermark(OUTPUT_LOW))
        .and_then(|()| bev.enable(base, Flags::READ));
    if set_up.is_err() {
        let _ = bev.free(base);
    }
    set_up
}

/// The read callback: the input moves to the output (sent in this iteration); reading stops
/// while the output holds more than [`OUTPUT_CAP`].
fn echo(base: &mut EventBase, bev: &BufferEvent) {
    let moved = bev.output().add_buffer(&mut bev.input());
    if moved.is_err() {
        let _ = bev.free(base);
    } else if bev.output().len() > OUTPUT_CAP {
        let _ = bev.disable(base, Flags::READ);
    }
}

/// The write callback (the output drained to [`OUTPUT_LOW`]): reading resumes if it stopped.
fn resume(base: &mut EventBase, bev: &BufferEvent) {
    if !bev.enabled().contains(Flags::READ) && bev.enable(base, Flags::READ).is_err() {
        let _ = bev.free(base);
    }
}
