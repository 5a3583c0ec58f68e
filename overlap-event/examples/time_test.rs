//! A port of libevent's `sample/time-test.c`: a timer that reports how long each period
//! really took. `-p` makes it persistent (re-armed by the loop from its due time) instead of
//! re-added by its callback.
//!
//! ```text
//! cargo run -p overlap-event --example time_test -- [-p] [ticks (default 5)] [period in ms (default 200)]
//! ```

use std::cell::Cell;
use std::rc::Rc;
use std::time::{Duration, Instant};

use overlap_event::{EventBase, Flags};

fn main() -> std::io::Result<()> {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let persistent = args.first().is_some_and(|a| a == "-p");
    if persistent {
        args.remove(0);
    }
    let ticks: u32 = args.first().map_or(Ok(5), |s| s.parse()).map_err(|e| bad(format!("ticks: {e}")))?;
    let ms: u64 = args.get(1).map_or(Ok(200), |s| s.parse()).map_err(|e| bad(format!("period: {e}")))?;
    let period = Duration::from_millis(ms);

    let mut base = EventBase::new()?;
    let start = Instant::now();
    let last = Rc::new(Cell::new(start));
    let count = Rc::new(Cell::new(0u32));
    let what = if persistent { Flags::PERSIST } else { Flags::NONE };
    let ev = base.new_timer(what, move |base, ev, _| {
        let now = Instant::now();
        println!(
            "timeout_cb called at {:?}: {:.3} seconds elapsed.",
            now,
            now.duration_since(last.get()).as_secs_f64()
        );
        last.set(now);
        count.set(count.get() + 1);
        if count.get() >= ticks {
            let _ = base.free(ev);
        } else if !persistent {
            let _ = base.add(ev, Some(period));
        }
    })?;
    base.add(ev, Some(period))?;
    println!(
        "{} timer on {}, every {ms} ms, {ticks} times",
        if persistent { "persistent" } else { "re-added" },
        base.backend()
    );
    base.dispatch()?;
    Ok(())
}

fn bad(msg: String) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidInput, msg)
}
