//! A port of libevent's `sample/signal-test.c`: a persistent event on SIGINT (Ctrl-C) that
//! prints each arrival and frees itself at the second, which ends the loop.
//!
//! ```text
//! cargo run -p overlap-event --example signal_test            # press Ctrl-C twice
//! cargo run -p overlap-event --example signal_test -- --self  # Unix: sends itself SIGINT twice
//! ```
//!
//! With `--self` the example sends the signals with the `kill` command, one from a timer
//! callback and one from the signal's own callback, so it ends by itself.

use std::cell::Cell;
use std::io;
use std::rc::Rc;
use std::time::Duration;

use overlap_event::{EventBase, Flags};

/// SIGINT, the same number on every Unix and for Windows' Ctrl-C event.
const SIGINT: i32 = 2;

fn main() -> io::Result<()> {
    let self_test = std::env::args().nth(1).is_some_and(|a| a == "--self");
    let mut base = EventBase::new()?;
    let calls = Rc::new(Cell::new(0u32));
    let c = calls.clone();
    let ev = base.new_signal(SIGINT, Flags::PERSIST, move |base, ev, _| {
        c.set(c.get() + 1);
        println!("signal_cb: got signal {SIGINT} (call {})", c.get());
        if c.get() >= 2 {
            println!("signal_cb: freeing the event; the loop has nothing left and ends");
            let _ = base.free(ev);
        } else if self_test {
            interrupt_self();
        }
    })?;
    base.add(ev, None)?;
    if self_test {
        let t = base.new_timer(Flags::NONE, |_, _, _| interrupt_self())?;
        base.add(t, Some(Duration::from_millis(10)))?;
    } else {
        println!("waiting for SIGINT (Ctrl-C) twice, on {}", base.backend());
    }
    base.dispatch()?;
    println!("done after {} signals", calls.get());
    Ok(())
}

/// Sends this process SIGINT (Unix: `kill -INT <pid>`).
fn interrupt_self() {
    let sent = if cfg!(unix) {
        std::process::Command::new("kill").args(["-INT", &std::process::id().to_string()]).status()
    } else {
        Err(io::Error::new(io::ErrorKind::Unsupported, "--self sends SIGINT with kill(1): Unix only"))
    };
    match sent {
        Ok(s) if s.success() => {}
        Ok(s) => fail(format!("kill -INT failed: {s}")),
        Err(e) => fail(e.to_string()),
    }
}

fn fail(msg: String) -> ! {
    eprintln!("signal_test: {msg}");
    std::process::exit(1)
}
